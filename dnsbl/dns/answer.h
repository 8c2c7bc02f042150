/*
 * answer.h -- turning one DNS query and the store into one answer
 *
 * The responder's logic without its sockets: given the bytes of a query,
 * the served zones and a store reader, write the bytes of the reply and
 * say what the server does next (send it, send nothing, or, once zone
 * transfers are served, go on with the transfer).  The opcode is routed
 * first: QUERY is answered, any other opcode gets NOTIMP.  Queries are
 * answered as RFC 5782 (names, test points), RFC 1034/1035/2308
 * (authoritative answers, NXDOMAIN/NODATA with the SOA, empty
 * non-terminals), RFC 6891 (EDNS, BADVERS, payload size, TC) and RFC 8482
 * (minimal ANY) say.  No heap allocation; every write is bounded by the
 * output size.
 */
#ifndef RELAYBL_ANSWER_H
#define RELAYBL_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "zone.h"

#define ANSWER_UDP_MAX	1232	/* default EDNS payload we offer */

struct answer_conf {
	uint32_t	ttl;		/* TTL of listing A and TXT records */
	char		txt_template[STORE_TEXT_MAX];	/* "$" = address */
	uint8_t		test_code[256];	/* 1: 127.0.0.x is a test point */
	uint16_t	udp_max;	/* largest UDP reply we send */
};

/*
 * Counters of one thread, written by it alone (others read them with
 * relaxed loads).  Every query counts once in by_type, ANS_T_NONE for
 * those without a question to read (dropped, FORMERR, other opcodes), and
 * every reply once in by_rcode.  dropped[] says why a query got nothing
 * back; the servers count the reasons below ANS_D_SERVER themselves.
 */
enum { ANS_T_A, ANS_T_AAAA, ANS_T_TXT, ANS_T_ANY, ANS_T_SOA, ANS_T_NS,
    ANS_T_OTHER, ANS_T_NONE, ANS_T_MAX };
enum { ANS_R_NOERROR, ANS_R_FORMERR, ANS_R_SERVFAIL, ANS_R_NXDOMAIN,
    ANS_R_NOTIMP, ANS_R_REFUSED, ANS_R_BADVERS, ANS_R_MAX };
enum {
	ANS_D_MALFORMED,	/* no header, or a response: not a query */
	ANS_D_NO_ROOM,		/* not even a truncated reply fitted */
	ANS_D_SERVER,		/* the servers' own reasons: */
	ANS_D_OVERSIZED = ANS_D_SERVER,	/* UDP datagram over the buffer */
	ANS_D_SEND_FAILED,	/* UDP: sendmmsg refused the reply */
	ANS_D_BAD_LENGTH,	/* TCP: a length prefix no query has */
	ANS_D_MAX
};

struct answer_counters {
	uint64_t	queries;
	uint64_t	by_type[ANS_T_MAX];
	uint64_t	by_rcode[ANS_R_MAX];
	uint64_t	listed;		/* answers saying "listed" */
	uint64_t	truncated;
	uint64_t	dropped[ANS_D_MAX];	/* not answered at all */
	uint64_t	tcp_queries;
	uint64_t	tcp_connections;
	uint64_t	tcp_refused;	/* no memory or descriptor for it */
	uint64_t	tcp_evicted;	/* idle longest when the cap was hit */
	uint64_t	tcp_timeouts;	/* idle, unread answers, slow query */
};

#define ANSWER_TYPE_NAMES { "A", "AAAA", "TXT", "ANY", "SOA", "NS", \
	"other", "none" }
#define ANSWER_RCODE_NAMES { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", \
	"NOTIMP", "REFUSED", "BADVERS" }
#define ANSWER_DROP_NAMES { "malformed", "no_room", "oversized", \
	"send_failed", "bad_length" }

/* Fills conf with defaults: TTL 1800, test point 127.0.0.2, no template. */
void	answer_conf_init(struct answer_conf *);

/*
 * What answer_query() leaves the server to do, as NSD's enum query_state.
 */
enum answer_state {
	ANSWER_PROCESSED,	/* send the reply: *outlen bytes of out */
	ANSWER_DISCARDED,	/* send nothing (*outlen is 0); over TCP,
				 * close the connection */
	ANSWER_IN_AXFR,		/* reserved: a reply begins an AXFR and more
				 * messages follow (not returned yet) */
	ANSWER_IN_IXFR,		/* reserved: the same for IXFR */
};

/*
 * Answers the query pkt (len bytes) into out (outsize bytes; over TCP the
 * reply may use all of it, over UDP no more than the client allows).
 * Returns ANSWER_PROCESSED with the reply's length in *outlen, or
 * ANSWER_DISCARDED (no header, a response, or no room for any reply).
 * Counts into c.  rd may be in a held snapshot (store_reader_begin) or
 * not.  Allocates nothing.
 */
enum answer_state answer_query(const struct zoneset *,
	    struct store_reader *rd, const struct answer_conf *,
	    const uint8_t *pkt, size_t len, uint8_t *out, size_t outsize,
	    size_t *outlen, int tcp, struct answer_counters *c);

#endif
