/*
 * xfr.c -- zone transfers out, as DNS messages, without sockets
 *
 * Messages are built in one buffer: the header, the question in the
 * first message only (RFC 5936 2.2.1: later ones may leave it empty),
 * then answer records until the next would pass XFR_MSG_MAX; then the
 * message is signed (when the caller signs) and sent, and the next one
 * starts in the same buffer.  Owners are written as their labels below
 * the apex and a pointer to the apex, which each message writes once
 * (the first, in its question).
 */
#include <string.h>

#include "dns_query.h"
#include "ixfr.h"
#include "log.h"
#include "xfr.h"
#include "zone_walk.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static int64_t	ixfr_serial(const uint8_t *, size_t, const struct dns_query *);

int64_t
xfr_ixfr_serial(const uint8_t *pkt, size_t len)
{
	struct dns_query q;

	if (dns_query_parse(pkt, len, &q) != DNS_PARSE_OK)
		return -1;
	return ixfr_serial(pkt, len, &q);
}

static int
wanted(const struct dns_query *q)
{
	return q->opcode == LDNS_PACKET_QUERY &&
	    (q->qtype == LDNS_RR_TYPE_AXFR || q->qtype == LDNS_RR_TYPE_IXFR);
}

const struct zone *
xfr_zone(const struct zoneset *zs, const uint8_t *pkt, size_t len)
{
	struct dns_query	 q;
	const struct zone	*z;

	if (dns_query_parse(pkt, len, &q) != DNS_PARSE_OK || !wanted(&q) ||
	    q.qclass != LDNS_RR_CLASS_IN)
		return NULL;
	z = zoneset_find(zs, q.lname, q.qname_len, q.nlabels, q.label_off);
	return z != NULL && z->apex_labels == q.nlabels ? z : NULL;
}

/* Skips a name at off (pointers allowed); the offset after it, or 0. */
static size_t
skip_name(const uint8_t *pkt, size_t len, size_t off)
{
	for (int n = 0; off < len && n < 128; n++) {
		uint8_t l = pkt[off];
		if (l == 0)
			return off + 1;
		if ((l & DNS_LABEL_PTR) == DNS_LABEL_PTR)
			return off + 2 <= len ? off + 2 : 0;
		if (l & DNS_LABEL_PTR)
			return 0;
		off += 1 + (size_t)l;
	}
	return 0;
}

static int64_t
ixfr_serial(const uint8_t *pkt, size_t len, const struct dns_query *q)
{
	size_t	off = q->question_end;
	int	an, ns;

	if (q->qtype != LDNS_RR_TYPE_IXFR || len < DNS_HEADER_LEN)
		return -1;
	an = pkt[6] << 8 | pkt[7];
	ns = pkt[8] << 8 | pkt[9];
	for (int i = 0; i < an + ns; i++) {
		uint16_t type, rdlen;
		if ((off = skip_name(pkt, len, off)) == 0 || off + 10 > len)
			return -1;
		type = pkt[off] << 8 | pkt[off + 1];
		rdlen = pkt[off + 8] << 8 | pkt[off + 9];
		off += 10;
		if (off + rdlen > len)
			return -1;
		if (i >= an && type == LDNS_RR_TYPE_SOA) {
			size_t r = skip_name(pkt, len, off);
			if (r == 0 || (r = skip_name(pkt, len, r)) == 0 ||
			    r + 4 > off + rdlen)
				return -1;
			return (int64_t)((uint32_t)pkt[r] << 24 |
			    (uint32_t)pkt[r + 1] << 16 |
			    (uint32_t)pkt[r + 2] << 8 | pkt[r + 3]);
		}
		off += rdlen;
	}
	return -1;
}

size_t
xfr_refusal(const uint8_t *pkt, size_t len, int why, uint8_t *out,
    size_t size)
{
	struct dns_query	 q0, *q = &q0;
	size_t			 qlen;
	int			 rcode = why == XFR_NOTAUTH ? LDNS_RCODE_NOTAUTH :
				    why == XFR_SERVFAIL ? LDNS_RCODE_SERVFAIL :
				    LDNS_RCODE_REFUSED;

	if (dns_query_parse(pkt, len, q) == DNS_PARSE_DROP)
		return 0;
	qlen = q->question_end > DNS_HEADER_LEN ? q->question_end -
	    DNS_HEADER_LEN : 0;
	if (size < 2 + DNS_HEADER_LEN + qlen)
		return 0;
	memset(out + 2, 0, DNS_HEADER_LEN);
	put16(out + 2, q->id);
	out[4] = 0x80 | (q->opcode << 3) | (q->rd ? 1 : 0);
	out[5] = rcode & 0x0f;
	if (qlen) {
		put16(out + 2 + 4, 1);
		memcpy(out + 2 + DNS_HEADER_LEN, pkt + DNS_HEADER_LEN, qlen);
	}
	put16(out, (uint16_t)(DNS_HEADER_LEN + qlen));
	return 2 + DNS_HEADER_LEN + qlen;
}

/* Starts a message in x->buf: header, and the question in the first. */
static void
begin(struct xfr *x)
{
	uint8_t *m = x->buf + 2;

	memset(m, 0, DNS_HEADER_LEN);
	put16(m, x->id);
	m[2] = 0x84;		/* QR, opcode QUERY, AA */
	x->len = DNS_HEADER_LEN;
	x->ancount = 0;
	x->apex_off = 0;
	if (x->first && x->qlen > 0) {
		put16(m + 4, 1);
		memcpy(m + x->len, x->question, x->qlen);
		/* The question's name is the apex (checked by the caller). */
		x->apex_off = DNS_HEADER_LEN;
		x->len += x->qlen;
	}
}

/* Signs and sends the message; the next begins. */
static int
flush(struct xfr *x)
{
	uint8_t	*m = x->buf + 2;
	int	 n;

	if (x->failed)
		return -1;
	put16(m + 6, x->ancount);
	n = (int)x->len;
	if (x->io.sign != NULL && (n = x->io.sign(x->io.arg, m, x->len,
	    XFR_MSG_MAX + XFR_TSIG_ROOM, x->first)) < 0) {
		x->failed = 1;
		return -1;
	}
	put16(x->buf, (uint16_t)n);
	if (x->io.send(x->io.arg, x->buf, (size_t)n + 2) == -1) {
		x->failed = 1;
		return -1;
	}
	x->msgs++;
	x->bytes += (size_t)n + 2;
	x->first = 0;
	begin(x);
	return 0;
}

/*
 * Adds one record: owner rel (rel_len bytes of labels below the apex),
 * then tail (type, class, TTL, rdlength, rdata).
 */
static int
add_tail(struct xfr *x, const uint8_t *rel, size_t rel_len,
    const uint8_t *tail, size_t tail_len)
{
	size_t	need, apex = x->z->apex_len;
	uint8_t	*m = x->buf + 2;

	for (int pass = 0; pass < 2; pass++) {
		need = rel_len + (x->apex_off ? 2 : apex) + tail_len;
		if (x->len + need <= XFR_MSG_MAX)
			break;
		if (pass == 1 || x->ancount == 0) {
			/* Not even alone in a message: ours, a bug. */
			x->failed = 1;
			return -1;
		}
		if (flush(x) == -1)
			return -1;
	}
	if (rel_len > 0)
		memcpy(m + x->len, rel, rel_len);
	x->len += rel_len;
	if (x->apex_off) {
		put16(m + x->len, DNS_PTR(x->apex_off));
		x->len += 2;
	} else {
		x->apex_off = x->len;
		memcpy(m + x->len, x->z->apex, apex);
		x->len += apex;
	}
	memcpy(m + x->len, tail, tail_len);
	x->len += tail_len;
	x->ancount++;
	x->rrs++;
	return 0;
}

/* Adds the RRs of a rendered set (tails) at owner rel. */
static int
add_set(struct xfr *x, const uint8_t *rel, size_t rel_len,
    const struct zone_rrset *set)
{
	size_t off = 0;

	for (int i = 0; i < set->count; i++) {
		size_t rdlen = set->tails[off + 8] << 8 | set->tails[off + 9];
		if (add_tail(x, rel, rel_len, set->tails + off, 10 + rdlen) ==
		    -1)
			return -1;
		off += 10 + rdlen;
	}
	return 0;
}

/* The SOA at the apex with serial. */
static int
add_soa(struct xfr *x, uint32_t serial)
{
	const struct zone_rrset	*soa = &x->z->rrsets[ZONE_SOA];
	uint8_t			 tail[ZONE_RR_BYTES];

	memcpy(tail, soa->tails, soa->len);
	put32(tail + x->z->soa_serial_off, serial);
	return add_tail(x, NULL, 0, tail, soa->len);
}

static size_t
tail_head(uint8_t *t, uint16_t type, uint32_t ttl, size_t rdlen)
{
	put16(t, type);
	put16(t + 2, LDNS_RR_CLASS_IN);
	put32(t + 4, ttl);
	put16(t + 8, (uint16_t)rdlen);
	return 10;
}

size_t
xfr_name_tails(const struct zone_name *n, uint8_t *a, uint8_t *txt)
{
	size_t tl, len, i;

	if (n->listed) {
		tail_head(a, LDNS_RR_TYPE_A, n->ttl, 4);
		put32(a + 10, n->code);
	}
	/* TXT: the text in character-strings of at most 255 bytes. */
	len = strlen(n->txt);
	if (len > 1800)
		len = 1800;
	tl = 10;
	for (i = 0; i < len || i == 0; i += 255) {
		size_t k = len - i > 255 ? 255 : len - i;
		txt[tl++] = (uint8_t)k;
		memcpy(txt + tl, n->txt + i, k);
		tl += k;
		if (len == 0)
			break;
	}
	tail_head(txt, LDNS_RR_TYPE_TXT, n->ttl, tl - 10);
	return tl;
}

/* One name of the listing content: its A (when listed) and TXT. */
static int
add_name(const struct zone_name *n, void *arg)
{
	struct xfr	*x = arg;
	uint8_t		 a[XFR_A_TAIL], txt[XFR_TXT_TAIL];
	size_t		 rel_len = n->owner_len - x->z->apex_len, tl;

	if (n->owner_len < x->z->apex_len) {
		x->failed = 1;
		return -1;
	}
	tl = xfr_name_tails(n, a, txt);
	if (n->listed && add_tail(x, n->owner, rel_len, a, sizeof(a)) == -1)
		return -1;
	return add_tail(x, n->owner, rel_len, txt, tl);
}

/* s1 >= s2 in serial number arithmetic (RFC 1982). */
static int
serial_ge(uint32_t s1, uint32_t s2)
{
	return s1 == s2 || (int32_t)(s1 - s2) > 0;
}

/* The records of rrs, each at its owner below the apex. */
static int
add_rrs(struct xfr *x, const struct ixfr_rrs *rrs)
{
	const uint8_t	*owner, *tail;
	size_t		 olen, tlen;

	for (size_t i = 0; i < rrs->n; i++) {
		ixfr_rr(rrs, i, &owner, &olen, &tail, &tlen);
		if (olen < x->z->apex_len || add_tail(x, owner,
		    olen - x->z->apex_len, tail, tlen) == -1)
			return -1;
	}
	return 0;
}

/*
 * After the first SOA: the differences from serial from to serial (RFC
 * 1995 section 4, condensed to one: the old SOA, the records deleted, the
 * new SOA, the records added), then the SOA.  1 when sent, 0 when the
 * journal cannot say (the caller sends the whole zone), -1 on failure.
 */
static int
add_ixfr(struct xfr *x, struct store_reader *rd,
    const struct answer_conf *conf, uint32_t from, uint32_t serial)
{
	struct ixfr_diff	d;
	int			rc;

	if ((rc = ixfr_diff(rd, x->z, conf, from, &d)) == 1) {
		x->incremental = 1;
		x->changes = d.changes;
		x->deleted = d.del.n;
		x->added = d.add.n;
		if (add_soa(x, from) == -1 || add_rrs(x, &d.del) == -1 ||
		    add_soa(x, serial) == -1 || add_rrs(x, &d.add) == -1 ||
		    add_soa(x, serial) == -1 || flush(x) == -1)
			rc = -1;
	}
	ixfr_diff_free(&d);
	return rc;
}

int
xfr_run(struct xfr *x, const struct xfr_io *io, const struct zone *z,
    struct store_reader *rd, const struct answer_conf *conf,
    const uint8_t *pkt, size_t len)
{
	struct dns_query	 q0, *q = &q0;
	uint32_t		 serial = store_zone_serial(rd);
	int64_t			 asked;

	memset(x, 0, sizeof(*x));
	if (dns_query_parse(pkt, len, q) != DNS_PARSE_OK || !wanted(q))
		return -1;
	asked = ixfr_serial(pkt, len, q);
	x->ixfr = q->qtype == LDNS_RR_TYPE_IXFR;
	x->io = *io;
	x->z = z;
	x->id = q->id;
	x->question = pkt + DNS_HEADER_LEN;
	x->qlen = q->question_end - DNS_HEADER_LEN;
	x->first = 1;
	begin(x);
	if (add_soa(x, serial) == -1)
		return -1;
	/*
	 * IXFR from the current serial, or a newer one (RFC 1995 section
	 * 2): the SOA alone says "up to date".  From an older one in the
	 * journal: the differences.
	 */
	if (asked >= 0 && serial_ge((uint32_t)asked, serial)) {
		x->up_to_date = 1;
		return flush(x);
	}
	if (asked >= 0) {
		int rc = add_ixfr(x, rd, conf, (uint32_t)asked, serial);
		if (rc != 0)
			return rc == 1 ? 0 : -1;
	}
	if (add_set(x, NULL, 0, &z->rrsets[ZONE_NS]) == -1 ||
	    add_set(x, NULL, 0, &z->rrsets[ZONE_A]) == -1 ||
	    add_set(x, NULL, 0, &z->rrsets[ZONE_AAAA]) == -1 ||
	    add_set(x, NULL, 0, &z->rrsets[ZONE_TXT]) == -1 ||
	    add_set(x, NULL, 0, &z->rrsets[ZONE_MX]) == -1)
		return -1;
	for (int i = 0; i < z->nglue; i++) {
		const struct zone_glue *g = &z->glue[i];
		if (g->name_len <= z->apex_len)
			continue;
		if (add_set(x, g->name, g->name_len - z->apex_len,
		    &g->rrs) == -1)
			return -1;
	}
	if (zone_walk(rd, z, conf, add_name, x, NULL) != 0 || x->failed)
		return -1;
	if (add_soa(x, serial) == -1)
		return -1;
	return flush(x);
}

size_t
xfr_notify(const struct zone *z, uint32_t serial, uint16_t id, uint8_t *m,
    size_t size)
{
	const struct zone_rrset	*soa = &z->rrsets[ZONE_SOA];
	size_t			 len = DNS_HEADER_LEN;

	if (size < DNS_HEADER_LEN + z->apex_len + 4 + 2 + soa->len)
		return 0;
	memset(m, 0, DNS_HEADER_LEN);
	put16(m, id);
	m[2] = (LDNS_PACKET_NOTIFY << 3) | 0x04;	/* opcode, AA */
	put16(m + 4, 1);
	put16(m + 6, 1);
	memcpy(m + len, z->apex, z->apex_len);
	len += z->apex_len;
	put16(m + len, LDNS_RR_TYPE_SOA);
	put16(m + len + 2, LDNS_RR_CLASS_IN);
	len += 4;
	put16(m + len, DNS_PTR(DNS_HEADER_LEN));
	len += 2;
	memcpy(m + len, soa->tails, soa->len);
	put32(m + len + z->soa_serial_off, serial);
	return len + soa->len;
}

int
xfr_notify_answer(const uint8_t *m, size_t len, uint16_t *id)
{
	if (len < DNS_HEADER_LEN || !(m[2] & 0x80) ||
	    ((m[2] >> 3) & 0x0f) != LDNS_PACKET_NOTIFY)
		return 0;
	*id = (uint16_t)(m[0] << 8 | m[1]);
	return 1;
}
