/*
 * dns_query.c -- parsing one DNS query message
 *
 * Header, exactly one question, then the answer and authority sections are
 * skipped (a query should have none, but their presence is not an error)
 * and the additional section is searched for the OPT record.  Anything
 * that runs past the end, a name over 255 bytes, a compression pointer in
 * the question, a second OPT or an OPT not owned by the root is FORMERR.
 */
#include <string.h>

#include "dns_query.h"

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Parses the question name at off into q.  Returns the offset past it. */
static size_t
parse_qname(const uint8_t *pkt, size_t len, size_t off, struct dns_query *q)
{
	size_t start = off;

	q->nlabels = 0;
	for (;;) {
		if (off >= len)
			return 0;
		uint8_t l = pkt[off];
		if (l == 0)
			break;
		if (l & DNS_LABEL_PTR)	/* pointer or extended label type */
			return 0;
		if (off + 1 + l >= len || off - start + 1 + l + 1 >
		    DNS_NAME_MAX || q->nlabels == DNS_LABELS_MAX)
			return 0;
		q->label_off[q->nlabels++] = (uint8_t)(off - start);
		off += 1 + l;
	}
	q->qname = pkt + start;
	q->qname_len = off + 1 - start;
	for (size_t i = 0; i < q->qname_len; i++) {
		uint8_t c = q->qname[i];
		q->lname[i] = c >= 'A' && c <= 'Z' ? c + 32 : c;
	}
	return off + 1;
}

/* Skips a name anywhere in the message (pointers allowed, not followed). */
static size_t
skip_name(const uint8_t *pkt, size_t len, size_t off)
{
	size_t total = 0;

	for (;;) {
		if (off >= len)
			return 0;
		uint8_t l = pkt[off];
		if (l == 0)
			return off + 1;
		if ((l & DNS_LABEL_PTR) == DNS_LABEL_PTR)
			return off + 2 <= len ? off + 2 : 0;
		if (l & DNS_LABEL_PTR)	/* extended label type */
			return 0;
		total += l + 1;
		if (total > DNS_NAME_MAX)
			return 0;
		off += 1 + l;
	}
}

/* Checks the option list of an OPT record: whole options, nothing over. */
static int
options_ok(const uint8_t *p, size_t rdlen)
{
	size_t off = 0;

	while (off < rdlen) {
		if (rdlen - off < 4)
			return 0;
		size_t olen = get16(p + off + 2);
		if (rdlen - off - 4 < olen)
			return 0;
		off += 4 + olen;
	}
	return 1;
}

/* Walks count records from *off; records the OPT in q.  0 or -1. */
static int
parse_records(const uint8_t *pkt, size_t len, size_t *off, int count,
    int additional, struct dns_query *q)
{
	for (int i = 0; i < count; i++) {
		size_t name = *off, o = skip_name(pkt, len, *off);
		if (o == 0 || len - o < 10)
			return -1;
		uint16_t type = get16(pkt + o), rdlen = get16(pkt + o + 8);
		if (len - o - 10 < rdlen)
			return -1;
		if (additional && type == LDNS_RR_TYPE_OPT) {
			if (q->edns || pkt[name] != 0 ||
			    !options_ok(pkt + o + 10, rdlen))
				return -1;
			q->edns = 1;
			q->udp_size = get16(pkt + o + 2);
			q->edns_version = pkt[o + 5];
			q->do_bit = (pkt[o + 6] & DNS_EDNS_DO) != 0;
		}
		*off = o + 10 + rdlen;
	}
	return 0;
}

enum dns_parse
dns_query_parse(const uint8_t *pkt, size_t len, struct dns_query *q)
{
	size_t off;

	memset(q, 0, sizeof(*q));
	if (len < DNS_HEADER_LEN || LDNS_QR_WIRE(pkt))
		return DNS_PARSE_DROP;	/* no header, or a response */
	q->id = get16(pkt);
	q->opcode = LDNS_OPCODE_WIRE(pkt);
	q->rd = LDNS_RD_WIRE(pkt) != 0;
	q->cd = LDNS_CD_WIRE(pkt) != 0;
	if (get16(pkt + LDNS_QDCOUNT_OFF) != 1)
		return DNS_PARSE_FORMERR;
	if ((off = parse_qname(pkt, len, DNS_HEADER_LEN, q)) == 0 ||
	    len - off < 4)
		return DNS_PARSE_FORMERR;
	q->qtype = get16(pkt + off);
	q->qclass = get16(pkt + off + 2);
	q->question_end = off + 4;
	off = q->question_end;
	if (parse_records(pkt, len, &off, get16(pkt + LDNS_ANCOUNT_OFF), 0,
	    q) == -1 || parse_records(pkt, len, &off, get16(pkt +
	    LDNS_NSCOUNT_OFF), 0, q) == -1 || parse_records(pkt, len, &off,
	    get16(pkt + LDNS_ARCOUNT_OFF), 1, q) == -1)
		return DNS_PARSE_FORMERR;
	return DNS_PARSE_OK;
}
