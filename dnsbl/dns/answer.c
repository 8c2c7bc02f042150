/*
 * answer.c -- turning one DNS query and the store into one answer
 *
 * A query name under a zone apex is read as a reversed IPv4 address (four
 * decimal labels) or IPv6 address (32 nibble labels).  Fewer labels name a
 * prefix: it exists (NODATA) when something listed lies under it -- an
 * empty non-terminal that QNAME-minimising resolvers walk through -- and is
 * NXDOMAIN otherwise.  The RFC 5782 test points are answered whatever the
 * store says.  Records owned by the query name point back at the question
 * (so the client's letter case comes back), the SOA's owner points at the
 * apex inside the question, and the SOA serial is the zones' serial
 * (store_zone_serial: the last commit that changed a listing).
 *
 * Replies are written through a bounded writer; a reply that does not fit
 * the client's limit is sent again as header, question and OPT with TC set.
 *
 * Who asks is settled in answer_zone(), once the name is known to be in a
 * zone: a key label is taken off by shifting the label offsets (the
 * records still point at the whole question name), then the client's
 * rule picks the refusal, the error answer or the ordinary one.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "dns_query.h"
#include "dns_wire.h"

struct wr {
	uint8_t	*buf;
	size_t	 len, max;
	int	 full;
	int	 count[3];		/* answer, authority, additional */
};

/* What the name under the apex turned out to be. */
struct target {
	int		 kind;		/* K_APEX, K_ADDR, K_ENT, K_NONE */
	struct addr	 a;		/* the address or the prefix */
	int		 also_ent6;	/* a full v4 name that is a v6 ENT */
};
enum { K_APEX, K_ADDR, K_ENT, K_NONE };

static void
put(struct wr *w, const void *p, size_t n)
{
	if (w->full || w->max - w->len < n) {
		w->full = 1;
		return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void
put16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v & 0xff };

	put(w, b, 2);
}

static void
put32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

	put(w, b, 4);
}

static void
patch16(struct wr *w, size_t off, uint16_t v)
{
	w->buf[off] = v >> 8;
	w->buf[off + 1] = v & 0xff;
}

void
answer_conf_init(struct answer_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->ttl = 1800;
	c->test_code[2] = 1;
	c->udp_max = ANSWER_UDP_MAX;
	snprintf(c->error_text, sizeof(c->error_text), "%s",
	    "Not served to this client (a public resolver, or an unknown "
	    "key): query from your own resolver");
}

/*
 * The header of a reply: id, QR and the opcode; RD and CD copied when
 * echo is set (they mean something in QUERY only); one question counted
 * when qdcount is set.
 */
static void
put_header(struct wr *w, const struct dns_query *q, int echo, int rcode,
    int qdcount)
{
	uint8_t h[DNS_HEADER_LEN];

	memset(h, 0, sizeof(h));
	h[0] = q->id >> 8;
	h[1] = q->id & 0xff;
	h[2] = LDNS_QR_MASK | (q->opcode << LDNS_OPCODE_SHIFT);
	if (echo && q->rd)
		h[2] |= LDNS_RD_MASK;
	if (echo && q->cd)
		h[3] |= LDNS_CD_MASK;
	h[3] |= rcode & LDNS_RCODE_MASK;
	h[LDNS_QDCOUNT_OFF + 1] = qdcount ? 1 : 0;
	put(w, h, sizeof(h));
}

/* Header and (when q has one) the question, as received. */
static void
begin(struct wr *w, const struct dns_query *q, const uint8_t *pkt, int rcode,
    int with_question)
{
	put_header(w, q, 1, rcode, with_question);
	if (with_question)
		put(w, pkt + DNS_HEADER_LEN, q->question_end - DNS_HEADER_LEN);
}

static void
set_aa(struct wr *w)
{
	LDNS_AA_SET(w->buf);
}

/* The OPT record of the reply: version 0, our payload size, DO copied. */
static void
put_opt(struct wr *w, const struct dns_query *q,
    const struct answer_conf *conf, int ext_rcode)
{
	if (!q->edns)
		return;
	put(w, "", 1);			/* root owner */
	put16(w, LDNS_RR_TYPE_OPT);
	put16(w, conf->udp_max);
	put(w, (uint8_t[]){ ext_rcode, 0, q->do_bit ? DNS_EDNS_DO : 0, 0 },
	    4);
	put16(w, 0);
	w->count[2]++;
}

/* Writes the section counts into the header. */
static void
finish(struct wr *w)
{
	if (w->len < DNS_HEADER_LEN)
		return;
	patch16(w, LDNS_ANCOUNT_OFF, w->count[0]);
	patch16(w, LDNS_NSCOUNT_OFF, w->count[1]);
	patch16(w, LDNS_ARCOUNT_OFF, w->count[2]);
}

/* Offset of the apex inside the question name, for compression. */
static uint16_t
apex_ptr(const struct dns_query *q, const struct zone *z)
{
	int i0 = q->nlabels - z->apex_labels;

	return DNS_PTR(DNS_HEADER_LEN + (i0 == 0 ? 0 : q->label_off[i0]));
}

/* Copies the rendered tails of set after an owner pointer each. */
static void
put_rrset(struct wr *w, uint16_t owner, const struct zone_rrset *set,
    int section)
{
	size_t off = 0;

	for (int i = 0; i < set->count; i++) {
		size_t rdlen = set->tails[off + 8] << 8 | set->tails[off + 9];
		put16(w, owner);
		put(w, set->tails + off, 10 + rdlen);
		off += 10 + rdlen;
		w->count[section]++;
	}
}

/* The SOA with the store's serial; TTL ttl (negative answers: RFC 2308). */
static void
put_soa(struct wr *w, const struct dns_query *q, const struct zone *z,
    uint32_t serial, uint32_t ttl, int section)
{
	const struct zone_rrset	*soa = &z->rrsets[ZONE_SOA];
	size_t			 start;

	put16(w, apex_ptr(q, z));
	start = w->len;
	put(w, soa->tails, soa->len);
	if (w->full)
		return;
	for (int i = 0; i < 4; i++) {
		w->buf[start + 4 + i] = ttl >> (24 - 8 * i);
		w->buf[start + z->soa_serial_off + i] = serial >> (24 - 8 * i);
	}
	w->count[section]++;
}

/* Glue for the NS targets of the apex, in the additional section. */
static void
put_glue(struct wr *w, const struct zone *z)
{
	const struct zone_rrset	*ns = &z->rrsets[ZONE_NS];
	size_t			 off = 0;

	for (int i = 0; i < ns->count; i++) {
		size_t rdlen = ns->tails[off + 8] << 8 | ns->tails[off + 9];
		const uint8_t *target = ns->tails + off + 10;
		for (int g = 0; g < z->nglue; g++) {
			const struct zone_glue *gl = &z->glue[g];
			size_t goff = 0;
			if (gl->name_len != rdlen ||
			    strncasecmp((const char *)gl->name,
			    (const char *)target, rdlen) != 0)
				continue;
			for (int r = 0; r < gl->rrs.count; r++) {
				size_t l = gl->rrs.tails[goff + 8] << 8 |
				    gl->rrs.tails[goff + 9];
				put(w, gl->name, gl->name_len);
				put(w, gl->rrs.tails + goff, 10 + l);
				goff += 10 + l;
				w->count[2]++;
			}
		}
		off += 10 + rdlen;
	}
}

/* One A record for the query name. */
static void
put_a(struct wr *w, uint32_t ttl, uint32_t code)
{
	put16(w, DNS_PTR(DNS_HEADER_LEN));
	put16(w, LDNS_RR_TYPE_A);
	put16(w, LDNS_RR_CLASS_IN);
	put32(w, ttl);
	put16(w, 4);
	put32(w, code);
	w->count[0]++;
}

/*
 * One TXT record for the query name: text with each "$" replaced by the
 * address (as it is when a is NULL), cut into character-strings of at
 * most 255 bytes.
 */
static void
put_txt(struct wr *w, uint32_t ttl, const char *text, const struct addr *a)
{
	char	 buf[1024], abuf[INET6_ADDRSTRLEN];
	size_t	 n = 0, alen, rdlen;

	abuf[0] = '\0';
	if (a != NULL)
		inet_ntop(a->family == ADDR_V4 ? AF_INET : AF_INET6, a->bytes,
		    abuf, sizeof(abuf));
	alen = strlen(abuf);
	for (const char *s = text; *s && n < sizeof(buf) - alen; s++) {
		if (*s == '$' && a != NULL) {
			memcpy(buf + n, abuf, alen);
			n += alen;
		} else
			buf[n++] = *s;
	}
	rdlen = n + (n + 254) / 255 + (n == 0);
	put16(w, DNS_PTR(DNS_HEADER_LEN));
	put16(w, LDNS_RR_TYPE_TXT);
	put16(w, LDNS_RR_CLASS_IN);
	put32(w, ttl);
	put16(w, (uint16_t)rdlen);
	if (n == 0)
		put(w, "", 1);
	for (size_t off = 0; off < n; off += 255) {
		uint8_t l = n - off > 255 ? 255 : (uint8_t)(n - off);
		put(w, &l, 1);
		put(w, buf + off, l);
	}
	w->count[0]++;
}

/* A decimal label 0..255 without leading zeros, or -1. */
static int
octet_label(const uint8_t *l)
{
	int v = 0;

	if (l[0] < 1 || l[0] > 3 || (l[0] > 1 && l[1] == '0'))
		return -1;
	for (int i = 1; i <= l[0]; i++) {
		if (l[i] < '0' || l[i] > '9')
			return -1;
		v = v * 10 + l[i] - '0';
	}
	return v > 255 ? -1 : v;
}

/* A one-character hex label, or -1. */
static int
nibble_label(const uint8_t *l)
{
	if (l[0] != 1)
		return -1;
	if (l[1] >= '0' && l[1] <= '9')
		return l[1] - '0';
	if (l[1] >= 'a' && l[1] <= 'f')
		return l[1] - 'a' + 10;
	return -1;
}

/* Reads the rel labels before the apex as reversed IPv4 octets. */
static int
parse_v4(const struct dns_query *q, int rel, struct addr *a)
{
	if (rel > 4)
		return -1;
	memset(a, 0, sizeof(*a));
	a->family = ADDR_V4;
	a->plen = rel * 8;
	for (int j = 0; j < rel; j++) {
		int v = octet_label(q->lname + q->label_off[rel - 1 - j]);
		if (v < 0)
			return -1;
		a->bytes[j] = v;
	}
	return 0;
}

static int
parse_v6(const struct dns_query *q, int rel, struct addr *a)
{
	if (rel > 32)
		return -1;
	memset(a, 0, sizeof(*a));
	a->family = ADDR_V6;
	a->plen = rel * 4;
	for (int j = 0; j < rel; j++) {
		int v = nibble_label(q->lname + q->label_off[rel - 1 - j]);
		if (v < 0)
			return -1;
		a->bytes[j / 2] |= j % 2 ? v : v << 4;
	}
	return 0;
}

/* Whether prefix r holds a test point (so its name always exists). */
static int
holds_test_point(const struct answer_conf *conf, const struct addr *r)
{
	struct addr t = { ADDR_V4, 32, { 127, 0, 0, 0 } };

	if (r->family == ADDR_V6) {
		memset(t.bytes, 0, sizeof(t.bytes));
		t.family = ADDR_V6;
		t.plen = 128;
		t.bytes[10] = t.bytes[11] = 0xff;
		t.bytes[12] = 127;
	}
	for (int x = 2; x < 256; x++) {
		if (!conf->test_code[x])
			continue;
		t.bytes[t.family == ADDR_V4 ? 3 : 15] = x;
		if (addr_contains(r, &t))
			return 1;
	}
	return 0;
}

static int
ent_exists(struct store_reader *rd, const struct answer_conf *conf,
    const struct addr *r)
{
	return holds_test_point(conf, r) || store_lookup_range(rd, r) == 1;
}

/*
 * Looks address a up: the test points first (127.0.0.1 never listed,
 * 127.0.0.x listed with code 127.0.0.x for configured x; also their
 * IPv4-mapped IPv6 forms), then the store.  Returns 1 listed, 0 not, -1.
 */
static int
lookup(struct store_reader *rd, const struct answer_conf *conf,
    const struct addr *a, struct store_hit *hit)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const uint8_t *v4 = NULL;

	if (a->family == ADDR_V4)
		v4 = a->bytes;
	else if (memcmp(a->bytes, mapped, 12) == 0)
		v4 = a->bytes + 12;
	if (v4 != NULL && v4[0] == 127 && v4[1] == 0 && v4[2] == 0) {
		memset(hit, 0, sizeof(*hit));
		if (v4[3] == 1)
			return 0;
		if (conf->test_code[v4[3]]) {
			hit->code = STORE_CODE_NET | v4[3];
			hit->prefix = *a;
			return 1;
		}
	}
	return store_lookup(rd, a, hit);
}

/* Classifies the name below the apex. */
static int
classify(const struct dns_query *q, const struct zone *z,
    struct store_reader *rd, const struct answer_conf *conf,
    struct target *t)
{
	int		rel = q->nlabels - z->apex_labels;
	struct addr	v4, v6;
	int		is4, is6;

	memset(t, 0, sizeof(*t));
	if (rel == 0)
		return t->kind = K_APEX;
	is4 = parse_v4(q, rel, &v4) == 0;
	is6 = parse_v6(q, rel, &v6) == 0;
	if (is4 && rel == 4) {
		t->a = v4;
		t->also_ent6 = is6 && ent_exists(rd, conf, &v6);
		return t->kind = K_ADDR;
	}
	if (is6 && rel == 32) {
		t->a = v6;
		return t->kind = K_ADDR;
	}
	if ((is4 && ent_exists(rd, conf, &v4)) ||
	    (is6 && ent_exists(rd, conf, &v6)))
		return t->kind = K_ENT;
	return t->kind = K_NONE;
}

static int
type_index(uint16_t qtype)
{
	switch (qtype) {
	case LDNS_RR_TYPE_A:	return ANS_T_A;
	case LDNS_RR_TYPE_AAAA:	return ANS_T_AAAA;
	case LDNS_RR_TYPE_TXT:	return ANS_T_TXT;
	case LDNS_RR_TYPE_ANY:	return ANS_T_ANY;
	case LDNS_RR_TYPE_SOA:	return ANS_T_SOA;
	case LDNS_RR_TYPE_NS:	return ANS_T_NS;
	default:	return ANS_T_OTHER;
	}
}

/* Answers at the apex from the zone file.  Returns the rcode. */
static int
answer_apex(struct wr *w, const struct dns_query *q, const struct zone *z,
    uint32_t serial)
{
	static const struct { uint16_t type; int set; } map[] = {
		{ LDNS_RR_TYPE_NS, ZONE_NS },
		{ LDNS_RR_TYPE_A, ZONE_A },
		{ LDNS_RR_TYPE_AAAA, ZONE_AAAA },
		{ LDNS_RR_TYPE_TXT, ZONE_TXT },
		{ LDNS_RR_TYPE_MX, ZONE_MX },
	};

	/* ANY: the SOA alone, one RRset (RFC 8482 section 4.1). */
	if (q->qtype == LDNS_RR_TYPE_SOA || q->qtype == LDNS_RR_TYPE_ANY) {
		put_soa(w, q, z, serial, z->soa_ttl, 0);
		return LDNS_RCODE_NOERROR;
	}
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].type != q->qtype ||
		    z->rrsets[map[i].set].count == 0)
			continue;
		put_rrset(w, DNS_PTR(DNS_HEADER_LEN), &z->rrsets[map[i].set],
		    0);
		if (q->qtype == LDNS_RR_TYPE_NS)
			put_glue(w, z);
		return LDNS_RCODE_NOERROR;
	}
	put_soa(w, q, z, serial, z->neg_ttl, 1);	/* NODATA */
	return LDNS_RCODE_NOERROR;
}

/* Answers for a listed address.  Returns the rcode. */
static int
answer_listed(struct wr *w, const struct dns_query *q, const struct zone *z,
    struct store_reader *rd, const struct answer_conf *conf,
    const struct target *t, const struct store_hit *hit, uint32_t serial)
{
	struct store_listing	l;
	const char		*text = conf->txt_template;

	if (q->qtype == LDNS_RR_TYPE_A || q->qtype == LDNS_RR_TYPE_ANY) {
		put_a(w, conf->ttl, hit->code);
		return LDNS_RCODE_NOERROR;
	}
	if (q->qtype != LDNS_RR_TYPE_TXT) {
		put_soa(w, q, z, serial, z->neg_ttl, 1);	/* NODATA */
		return LDNS_RCODE_NOERROR;
	}
	/* The listing's own text when it has one (rbldnsd does the same). */
	if (hit->record != 0 && store_record(rd, hit->record, &l) == 1 &&
	    l.text[0] != '\0')
		text = l.text;
	put_txt(w, conf->ttl, text, &t->a);
	return LDNS_RCODE_NOERROR;
}

/*
 * The error answer below the apex: A 127.255.255.254, the error TXT, or
 * NODATA.  Returns the rcode.
 */
static int
answer_error(struct wr *w, const struct dns_query *q, const struct zone *z,
    const struct answer_conf *conf, uint32_t serial,
    struct answer_counters *c)
{
	c->error_answers++;
	switch (q->qtype) {
	case LDNS_RR_TYPE_A:
	case LDNS_RR_TYPE_ANY:
		put_a(w, z->neg_ttl, ANSWER_ERROR_CODE);
		break;
	case LDNS_RR_TYPE_TXT:
		put_txt(w, z->neg_ttl, conf->error_text, NULL);
		break;
	default:
		put_soa(w, q, z, serial, z->neg_ttl, 1);	/* NODATA */
		break;
	}
	return LDNS_RCODE_NOERROR;
}

/*
 * What the client gets in zone z: its rule, or, for a query with a key
 * label, ACCESS_ANSWER with the key taken off into *keyed (and *qp
 * pointing at it), or ACCESS_ERROR for an unknown key.
 */
static enum access_action
client_action(const struct answer_client *cl, const struct zone *z,
    const struct dns_query **qp, struct dns_query *keyed,
    struct answer_counters *c)
{
	const struct dns_query	*q = *qp;
	const uint8_t		*label = q->lname + q->label_off[0];

	if (cl == NULL)
		return ACCESS_ANSWER;
	if (cl->keys == NULL || q->nlabels <= z->apex_labels ||
	    !keys_shaped(label + 1, label[0]))
		return cl->action;
	c->key_queries++;
	if (keys_match(cl->keys, label + 1, label[0]) < 0) {
		c->key_unknown++;
		return ACCESS_ERROR;
	}
	/* The name without its first label; offsets still into q's name. */
	*keyed = *q;
	keyed->nlabels--;
	memmove(keyed->label_off, keyed->label_off + 1, keyed->nlabels);
	*qp = keyed;
	return ACCESS_ANSWER;
}

/* Everything below the header for a query inside zone z. */
static int
answer_zone(struct wr *w, const struct dns_query *q, const struct zone *z,
    struct store_reader *rd, const struct answer_conf *conf,
    const struct answer_client *cl, struct answer_counters *c)
{
	struct target		t;
	struct store_hit	hit;
	struct dns_query	keyed;
	uint32_t		serial;
	int			rc;

	switch (client_action(cl, z, &q, &keyed, c)) {
	case ACCESS_REFUSE:
		c->access_refused++;
		return LDNS_RCODE_REFUSED;
	case ACCESS_ERROR:
		if (q->nlabels == z->apex_labels)
			break;		/* the apex: answered as usual */
		set_aa(w);
		return answer_error(w, q, z, conf, store_zone_serial(rd), c);
	default:
		break;
	}
	serial = store_zone_serial(rd);
	set_aa(w);
	if (q->qtype == LDNS_RR_TYPE_AXFR || q->qtype == LDNS_RR_TYPE_IXFR)
		return LDNS_RCODE_REFUSED;	/* transfers: over TCP only */
	switch (classify(q, z, rd, conf, &t)) {
	case K_APEX:
		return answer_apex(w, q, z, serial);
	case K_ENT:
		put_soa(w, q, z, serial, z->neg_ttl, 1);
		return LDNS_RCODE_NOERROR;
	case K_ADDR:
		if ((rc = lookup(rd, conf, &t.a, &hit)) == 1) {
			c->listed++;
			return answer_listed(w, q, z, rd, conf, &t, &hit,
			    serial);
		}
		if (rc == -1)
			return -1;
		if (t.also_ent6) {
			put_soa(w, q, z, serial, z->neg_ttl, 1);
			return LDNS_RCODE_NOERROR;
		}
		break;
	default:
		break;
	}
	put_soa(w, q, z, serial, z->neg_ttl, 1);
	return LDNS_RCODE_NXDOMAIN;
}

static int
rcode_index(int rcode)
{
	switch (rcode) {
	case LDNS_RCODE_NOERROR:	return ANS_R_NOERROR;
	case LDNS_RCODE_FORMERR:	return ANS_R_FORMERR;
	case LDNS_RCODE_NXDOMAIN:	return ANS_R_NXDOMAIN;
	case LDNS_RCODE_NOTIMPL:	return ANS_R_NOTIMP;
	case LDNS_RCODE_REFUSED:	return ANS_R_REFUSED;
	default:			return ANS_R_SERVFAIL;
	}
}

/* The end of every reply: its length, or nothing when it did not fit. */
static enum answer_state
done(const struct wr *w, size_t *outlen, struct answer_counters *c)
{
	*outlen = w->full ? 0 : w->len;
	if (w->full) {
		c->dropped[ANS_D_NO_ROOM]++;
		return ANSWER_DISCARDED;
	}
	return ANSWER_PROCESSED;
}

/*
 * A header alone: FORMERR for a QUERY we cannot read (RD and CD copied),
 * NOTIMP for an opcode we do not serve (every flag but QR clear).
 */
static enum answer_state
header_reply(const struct dns_query *q, int rcode, uint8_t *out,
    size_t outsize, size_t *outlen, struct answer_counters *c)
{
	struct wr w = { out, 0, outsize, 0, { 0, 0, 0 } };

	put_header(&w, q, rcode != LDNS_RCODE_NOTIMPL, rcode, 0);
	c->by_type[ANS_T_NONE]++;
	c->by_rcode[rcode_index(rcode)]++;
	return done(&w, outlen, c);
}

/* The largest reply the client takes over UDP (RFC 6891 6.2.5). */
static size_t
udp_limit(const struct dns_query *q, const struct answer_conf *conf)
{
	size_t client = DNS_UDP_MIN;

	if (q->edns && q->udp_size > DNS_UDP_MIN)
		client = q->udp_size;	/* below 512 means 512 */
	if (client > conf->udp_max && conf->udp_max >= DNS_UDP_MIN)
		client = conf->udp_max;
	return client;
}

/* The reply did not fit: header, question, OPT, and TC. */
static void
truncate_reply(struct wr *w, const struct dns_query *q, const uint8_t *pkt,
    const struct answer_conf *conf, int rcode, struct answer_counters *c)
{
	w->len = 0;
	w->full = 0;
	memset(w->count, 0, sizeof(w->count));
	begin(w, q, pkt, rcode, 1);
	LDNS_TC_SET(w->buf);
	if (rcode != LDNS_RCODE_REFUSED)
		set_aa(w);
	put_opt(w, q, conf, 0);
	c->truncated++;
}

/* A parsed QUERY: the zone's answer, or REFUSED, BADVERS, SERVFAIL. */
static enum answer_state
answer_opcode_query(const struct zoneset *zs, struct store_reader *rd,
    const struct answer_conf *conf, const struct answer_client *cl,
    const struct dns_query *q, const uint8_t *pkt, struct wr *w, int tcp,
    size_t *outlen, struct answer_counters *c)
{
	const struct zone	*z;
	size_t			 limit;
	int			 rcode;

	c->by_type[type_index(q->qtype)]++;
	/* Over TCP a transfer follows: the server hands it to xfr.c. */
	if (tcp && (q->qtype == LDNS_RR_TYPE_AXFR ||
	    q->qtype == LDNS_RR_TYPE_IXFR))
		return q->qtype == LDNS_RR_TYPE_AXFR ? ANSWER_IN_AXFR :
		    ANSWER_IN_IXFR;
	if (!tcp && (limit = udp_limit(q, conf)) < w->max)
		w->max = limit;
	if (q->edns && q->edns_version > 0) {
		begin(w, q, pkt, LDNS_RCODE_NOERROR, 1);
		put_opt(w, q, conf, DNS_EDNS_BADVERS_HI);
		finish(w);
		c->by_rcode[ANS_R_BADVERS]++;
		return done(w, outlen, c);
	}
	begin(w, q, pkt, LDNS_RCODE_NOERROR, 1);
	if (q->qclass != LDNS_RR_CLASS_IN)
		rcode = LDNS_RCODE_REFUSED;
	else if ((z = zoneset_find(zs, q->lname, q->qname_len, q->nlabels,
	    q->label_off)) == NULL)
		rcode = LDNS_RCODE_REFUSED;
	else if ((rcode = answer_zone(w, q, z, rd, conf, cl, c)) == -1)
		rcode = LDNS_RCODE_SERVFAIL;	/* the store failed */
	put_opt(w, q, conf, 0);
	if (w->full)
		truncate_reply(w, q, pkt, conf, rcode, c);
	if (!w->full)
		LDNS_RCODE_SET(w->buf, rcode & LDNS_RCODE_MASK);
	finish(w);
	c->by_rcode[rcode_index(rcode)]++;
	return done(w, outlen, c);
}

/*
 * Routes by opcode before anything else (as NSD's query_process): QUERY
 * is answered; every other opcode, well formed or not, gets NOTIMP.  A
 * NOTIFY handler, and transfers that return ANSWER_IN_AXFR/IXFR, go here.
 */
enum answer_state
answer_query(const struct zoneset *zs, struct store_reader *rd,
    const struct answer_conf *conf, const uint8_t *pkt, size_t len,
    uint8_t *out, size_t outsize, size_t *outlen, int tcp,
    struct answer_counters *c)
{
	return answer_query_client(zs, rd, conf, NULL, pkt, len, out, outsize,
	    outlen, tcp, c);
}

enum answer_state
answer_query_client(const struct zoneset *zs, struct store_reader *rd,
    const struct answer_conf *conf, const struct answer_client *cl,
    const uint8_t *pkt, size_t len, uint8_t *out, size_t outsize,
    size_t *outlen, int tcp, struct answer_counters *c)
{
	struct dns_query	 q;
	struct wr		 w = { out, 0, outsize, 0, { 0, 0, 0 } };
	enum dns_parse		 parsed;

	*outlen = 0;
	c->queries++;
	if ((parsed = dns_query_parse(pkt, len, &q)) == DNS_PARSE_DROP) {
		c->by_type[ANS_T_NONE]++;
		c->dropped[ANS_D_MALFORMED]++;
		return ANSWER_DISCARDED;
	}
	switch (q.opcode) {
	case LDNS_PACKET_QUERY:
		if (parsed == DNS_PARSE_FORMERR)
			return header_reply(&q, LDNS_RCODE_FORMERR, out,
			    outsize, outlen, c);
		return answer_opcode_query(zs, rd, conf, cl, &q, pkt, &w,
		    tcp, outlen, c);
	default:
		return header_reply(&q, LDNS_RCODE_NOTIMPL, out, outsize,
		    outlen, c);
	}
}

void
answer_slip(uint8_t *reply, size_t *len)
{
	size_t end = DNS_HEADER_LEN;

	if (*len < DNS_HEADER_LEN)
		return;
	if (reply[LDNS_QDCOUNT_OFF] != 0 || reply[LDNS_QDCOUNT_OFF + 1] != 0) {
		/* Our own question, copied from the query: no pointers. */
		while (end < *len && reply[end] != 0 &&
		    (reply[end] & DNS_LABEL_PTR) == 0)
			end += 1 + reply[end];
		end += 1 + 4;		/* the root label, type, class */
		if (end > *len)
			end = DNS_HEADER_LEN;	/* cannot be: header alone */
	}
	memset(reply + LDNS_ANCOUNT_OFF, 0, 6);
	if (end == DNS_HEADER_LEN)
		memset(reply + LDNS_QDCOUNT_OFF, 0, 2);
	LDNS_TC_SET(reply);
	*len = end;
}
