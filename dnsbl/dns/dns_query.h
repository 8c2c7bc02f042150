/*
 * dns_query.h -- parsing one DNS query message (RFC 1035, RFC 6891)
 *
 * Turns the bytes of a query into the parts the responder needs: header
 * fields, the question (name as received, case preserved, and lowercased,
 * with the offset of every label), and the EDNS OPT record.  No socket, no
 * allocation; the input is untrusted and every read is bounded by its
 * length.  Compression pointers are refused in the question (no client
 * sends them; refusing them rules out pointer loops).
 */
#ifndef RELAYBL_DNS_QUERY_H
#define RELAYBL_DNS_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "dns_wire.h"

/* Results of dns_query_parse(). */
enum dns_parse {
	DNS_PARSE_OK = 0,
	DNS_PARSE_DROP,		/* no header, or a response: send nothing */
	DNS_PARSE_FORMERR,	/* header usable, the rest is not */
};

struct dns_query {
	uint16_t	id;
	uint8_t		opcode;		/* LDNS_PACKET_QUERY, _NOTIFY, ... */
	uint8_t		rd;		/* recursion desired */
	uint8_t		cd;		/* checking disabled */
	uint16_t	qtype;
	uint16_t	qclass;
	const uint8_t	*qname;		/* in the packet, as received */
	size_t		 qname_len;	/* wire length with the root label */
	uint8_t		 lname[DNS_NAME_MAX];	/* lowercased copy */
	int		 nlabels;	/* not counting the root */
	uint8_t		 label_off[DNS_LABELS_MAX];	/* from qname */
	size_t		 question_end;	/* offset just past the question */
	int		 edns;		/* an OPT record was present */
	uint16_t	 udp_size;	/* its payload size */
	uint8_t		 edns_version;
	uint8_t		 do_bit;
};

/*
 * Parses len bytes at pkt into q, whatever the opcode (QUERY and NOTIFY
 * share the layout; what an opcode means is the caller's to decide).
 * Returns DNS_PARSE_OK, or DNS_PARSE_DROP when nothing should be sent (no
 * header, or a response), or DNS_PARSE_FORMERR with the header fields
 * (q->id, q->opcode, q->rd, q->cd) set so that an error can be sent.
 */
enum dns_parse	dns_query_parse(const uint8_t *pkt, size_t len,
		    struct dns_query *q);

#endif
