/*
 * xfr.h -- zone transfers out (RFC 5936 AXFR; RFC 1995 IXFR answered in
 * full), as DNS messages, without sockets
 *
 * A transfer is a run of messages, each handed whole to the caller's
 * send() (with its two-byte TCP length prefix) as soon as it is full:
 * memory is one message whatever the zone's size.  The first message
 * echoes the question; every message is authoritative, answers the
 * query's id, and starts its names with the apex written once, the other
 * owners compressed against it.  The zone's content is the SOA (serial:
 * the store's), the apex RRsets and glue from the zone file, every name
 * zone_walk() gives (test points, listings as A and TXT, exclusions),
 * then the SOA again.  An IXFR whose serial is the current one (or newer)
 * gets the SOA alone (RFC 1995 section 2: nothing newer); one whose
 * serial the journal still holds gets the differences (ixfr.h), as one
 * condensed sequence: SOA new, SOA old, the records deleted, SOA new, the
 * records added, SOA new; any other IXFR gets the whole zone in AXFR form
 * (section 4: "the entire zone is returned").
 */
#ifndef RELAYBL_XFR_H
#define RELAYBL_XFR_H

#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "store.h"
#include "zone.h"
#include "zone_walk.h"

#define XFR_MSG_MAX	16384	/* bytes of one message, TSIG room aside */
#define XFR_TSIG_ROOM	512

/*
 * Sends one message (len bytes at msg, its TCP length prefix included),
 * or returns -1 to stop the transfer.  sign (may be NULL) is called with
 * the message without its prefix before it is sent, to append a TSIG
 * record: it returns the new length or -1.
 */
struct xfr_io {
	int	(*send)(void *arg, const uint8_t *msg, size_t len);
	int	(*sign)(void *arg, uint8_t *msg, size_t len, size_t size,
		    int first);
	void	*arg;
};

struct xfr {
	struct xfr_io		 io;
	const struct zone	*z;
	uint16_t		 id;
	const uint8_t		*question;	/* the query's, to echo */
	size_t			 qlen;
	int			 first;		/* no message sent yet */
	uint8_t			 buf[2 + XFR_MSG_MAX + XFR_TSIG_ROOM];
	size_t			 len;		/* of the message, after 2 */
	uint16_t		 ancount;
	size_t			 apex_off;	/* the apex in this message */
	int			 failed;
	/* What was sent, for logs. */
	int			 ixfr;		/* asked as IXFR */
	int			 up_to_date;	/* IXFR of the current serial */
	int			 incremental;	/* IXFR answered from the journal */
	uint64_t		 changes, deleted, added;	/* its size */
	uint64_t		 rrs, msgs, bytes;
};

/*
 * The serial an IXFR query names (the SOA in its authority section), or
 * -1 when it names none or is not an IXFR (then it gets the whole zone).
 */
int64_t	xfr_ixfr_serial(const uint8_t *pkt, size_t len);

/*
 * The zone a transfer query asks for (its name must be the apex), or
 * NULL.
 */
const struct zone *xfr_zone(const struct zoneset *, const uint8_t *pkt,
	    size_t len);

/*
 * Runs the whole transfer of zone z for the query pkt (len bytes) from
 * the store snapshot rd holds (the caller's store_reader_begin), its
 * messages through io.  Returns 0 when every message went out, -1 when
 * io stopped it or the store failed (the caller closes the connection).
 */
int	xfr_run(struct xfr *x, const struct xfr_io *io, const struct zone *z,
	    struct store_reader *rd, const struct answer_conf *conf,
	    const uint8_t *pkt, size_t len);

/*
 * The records of one name of the listing content, as tails (type, class,
 * TTL, rdlength, rdata): the A into a (when n->listed), the TXT into txt.
 * Returns the TXT's length.
 */
#define XFR_A_TAIL	(10 + 4)
#define XFR_TXT_TAIL	(10 + 2048)
size_t	xfr_name_tails(const struct zone_name *n, uint8_t *a, uint8_t *txt);

/* Why a transfer is refused: the rcode of xfr_refusal(). */
enum xfr_refusal { XFR_REFUSED, XFR_NOTAUTH, XFR_SERVFAIL };

/*
 * A one-message reply to the query pkt with the rcode of why, into out
 * (TCP length prefix included).  Returns its length, or 0.
 */
size_t	xfr_refusal(const uint8_t *pkt, size_t len, int why, uint8_t *out,
	    size_t size);

/*
 * NOTIFY (RFC 1996): the message for zone z at serial with id, into m
 * (its length, or 0); and whether m (len bytes) answers a NOTIFY (1,
 * with its id in *id).
 */
size_t	xfr_notify(const struct zone *z, uint32_t serial, uint16_t id,
	    uint8_t *m, size_t size);
int	xfr_notify_answer(const uint8_t *m, size_t len, uint16_t *id);

#endif
