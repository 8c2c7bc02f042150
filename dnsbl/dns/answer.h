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
 *
 * Who asks matters too (answer_query_client): the server passes the
 * client's access rule (access.h) and the query keys (keys.h).  Inside a
 * served zone:
 *   - refuse: REFUSED, AA clear, whatever the name;
 *   - error: the error answer below the apex; the apex itself (SOA, NS,
 *     its A/TXT/MX) is answered as usual, since resolvers need it and it
 *     says nothing about listings;
 *   - a first label of a key's shape (keys.h: 26 to 63 bytes, which no
 *     address label has), when keys are served, makes a key query: a
 *     known key is taken off and the rest answered as for anyone (so
 *     KEY.2.0.0.127.ZONE is listed), whatever the client's rule; an
 *     unknown key gets the error answer.
 * The error answer, for every name below the apex (listed, not, or not an
 * address at all; test points too): A and ANY get A 127.255.255.254, TXT
 * gets conf->error_text, other types NODATA; NOERROR, AA set, TTL the
 * zone's negative TTL.  127.255.255.254 is the code large lists return to
 * clients they do not serve (public resolvers); some MTAs read it as
 * "listed" unless told which codes are (Exim's bare dnslists does: the
 * README's snippets name 127.0.0.2 and .3).  Outside the zones, and for
 * other opcodes, malformed queries and EDNS versions, every client gets
 * what anyone gets.
 */
#ifndef RELAYBL_ANSWER_H
#define RELAYBL_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "keys.h"
#include "store.h"
#include "zone.h"

#define ANSWER_UDP_MAX	1232	/* default EDNS payload we offer */
#define ANSWER_ERROR_CODE 0x7ffffffeu	/* 127.255.255.254 */

struct answer_conf {
	uint32_t	ttl;		/* TTL of listing A and TXT records */
	char		txt_template[STORE_TEXT_MAX];	/* "$" = address */
	uint8_t		test_code[256];	/* 1: 127.0.0.x is a test point */
	uint16_t	udp_max;	/* largest UDP reply we send */
	char		error_text[STORE_TEXT_MAX];	/* TXT of the error
							 * answer */
};

/* Who asks: what answer_query_client() needs of the client. */
struct answer_client {
	enum access_action	 action;	/* its rule: ACCESS_ANSWER,
						 * _REFUSE or _ERROR */
	const struct keyset	*keys;		/* NULL: no key queries */
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
	ANS_D_ACCESS,		/* the client's access rule says drop */
	ANS_D_RATE_LIMITED,	/* UDP: over rrl_rate, not slipped */
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
	uint64_t	access_refused;	/* REFUSED by an access rule */
	uint64_t	error_answers;	/* 127.255.255.254 and its TXT */
	uint64_t	key_queries;	/* first label shaped as a key */
	uint64_t	key_unknown;	/* of which no known key */
	uint64_t	rrl_slipped;	/* over rrl_rate, sent truncated */
};

#define ANSWER_TYPE_NAMES { "A", "AAAA", "TXT", "ANY", "SOA", "NS", \
	"other", "none" }
#define ANSWER_RCODE_NAMES { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", \
	"NOTIMP", "REFUSED", "BADVERS" }
#define ANSWER_DROP_NAMES { "malformed", "no_room", "oversized", \
	"send_failed", "bad_length", "access", "rate_limited" }

/* Fills conf with defaults: TTL 1800, test point 127.0.0.2, no template,
 * an error text saying the client is not served. */
void	answer_conf_init(struct answer_conf *);

/*
 * The defaults, then [dnsbld] ttl, txt_template and test_codes from cfg
 * (answer_conf.c): how dnsbld answers, also what dnsblctl export writes.
 * Returns 0, or -1 with the bad value logged.
 */
struct config;
int	answer_conf_load(const struct config *cfg, struct answer_conf *);

/*
 * What answer_query() leaves the server to do, as NSD's enum query_state.
 */
enum answer_state {
	ANSWER_PROCESSED,	/* send the reply: *outlen bytes of out */
	ANSWER_DISCARDED,	/* send nothing (*outlen is 0); over TCP,
				 * close the connection */
	ANSWER_IN_AXFR,		/* over TCP, AXFR: nothing is written
				 * (*outlen is 0); the server serves the
				 * transfer (xfr.h) */
	ANSWER_IN_IXFR,		/* the same for IXFR */
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

/*
 * The same for the client described by cl (NULL: answered as anyone,
 * no key queries), as the comment at the top says.  cl->action is never
 * ACCESS_DROP: a dropped client's query is not read at all.
 */
enum answer_state answer_query_client(const struct zoneset *,
	    struct store_reader *rd, const struct answer_conf *,
	    const struct answer_client *cl, const uint8_t *pkt, size_t len,
	    uint8_t *out, size_t outsize, size_t *outlen, int tcp,
	    struct answer_counters *c);

/*
 * Cuts a reply made by answer_query (*len bytes at reply) down to its
 * header and question with TC set and no records: what response rate
 * limiting sends when a limited response slips.  In place; *len shrinks.
 */
void	answer_slip(uint8_t *reply, size_t *len);

#endif
