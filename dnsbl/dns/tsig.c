/*
 * tsig.c -- TSIG (RFC 8945) on message bytes: finding and checking the
 * TSIG record, computing MACs, appending signed TSIG records
 *
 * A MAC is computed piecewise (prior MAC, header, body, variables, other
 * data) so that nothing is copied: verifying a request hashes a 12-byte
 * copy of its header (Original ID in place of the ID, ARCOUNT less the
 * TSIG) and then the message in place.  Names in the variables are the
 * lowercase wire forms, whatever case or compression the sender used.
 * The key file parser is in tsig_keys.c.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "dns_wire.h"
#include "tsig.h"

/* A parsed TSIG record; pointers are into the message. */
struct tsig_rr {
	size_t		 off;		/* start of the record */
	uint8_t		 kname[TSIG_NAME_MAX];	/* owner, lowercase */
	size_t		 kname_len;
	uint8_t		 aname[TSIG_NAME_MAX];	/* algorithm, lowercase */
	size_t		 aname_len;
	uint64_t	 time;
	uint16_t	 fudge;
	uint16_t	 mac_len;
	const uint8_t	*mac;
	uint16_t	 orig_id;
	uint16_t	 error;
	uint16_t	 other_len;
	const uint8_t	*other;
};

/* What one MAC covers, in order; absent parts have length 0. */
struct mac_input {
	const uint8_t	*prior;		/* the request's or previous MAC */
	size_t		 prior_len;
	int		 has_prior;	/* its length is digested even if 0 */
	const uint8_t	*header;	/* 12 bytes */
	const uint8_t	*body;		/* the message after the header */
	size_t		 body_len;
	const uint8_t	*vars;		/* TSIG variables or timers */
	size_t		 vars_len;
	const uint8_t	*other;
	size_t		 other_len;
};

static const struct {
	enum tsig_alg	 alg;
	const char	*name;
	const char	*wire;	/* the algorithm name (RFC 8945 6) */
	size_t		 wire_len;
	const char	*digest;
	size_t		 mac_len;
} algs[] = {
	{ TSIG_HMAC_SHA256, "hmac-sha256", "\13hmac-sha256", 13, "SHA256", 32 },
	{ TSIG_HMAC_SHA384, "hmac-sha384", "\13hmac-sha384", 13, "SHA384", 48 },
	{ TSIG_HMAC_SHA512, "hmac-sha512", "\13hmac-sha512", 13, "SHA512", 64 },
	{ TSIG_HMAC_SHA1, "hmac-sha1", "\11hmac-sha1", 11, "SHA1", 20 },
};
#define NALGS	(sizeof(algs) / sizeof(algs[0]))

/* Room for the full TSIG variables: two names and 16 bytes of fields. */
#define VARS_MAX	(2 * TSIG_NAME_MAX + 16)

static int
alg_index(enum tsig_alg alg)
{
	for (size_t i = 0; i < NALGS; i++)
		if (algs[i].alg == alg)
			return (int)i;
	return -1;
}

const char *
tsig_alg_name(enum tsig_alg alg)
{
	int i = alg_index(alg);

	return i < 0 ? NULL : algs[i].name;
}

const char *
tsig_result_name(enum tsig_result r)
{
	static const char *const names[] = { "OK", "none", "FORMERR",
	    "BADKEY", "BADSIG", "BADTIME", "BADTRUNC", "SERVFAIL" };

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] :
	    "?";
}

static uint64_t
read48(const uint8_t *p)
{
	return (uint64_t)ldns_read_uint16(p) << 32 | ldns_read_uint32(p + 2);
}

static void
write48(uint8_t *p, uint64_t v)
{
	ldns_write_uint16(p, (uint16_t)(v >> 32));
	ldns_write_uint32(p + 2, (uint32_t)v);
}

/*
 * Reads the name at off into out (lowercase, uncompressed) when out is not
 * NULL; follows compression pointers only when ptr_ok, and only backwards
 * (so they cannot loop).  Returns the offset just past the name where it
 * starts, or 0 when it is malformed.
 */
static size_t
read_name(const uint8_t *msg, size_t len, size_t off, int ptr_ok,
    uint8_t *out, size_t *outlen)
{
	size_t end = 0, n = 0, lowest = off;

	for (;;) {
		if (off >= len)
			return 0;
		uint8_t l = msg[off];
		if ((l & DNS_LABEL_PTR) == DNS_LABEL_PTR) {
			if (!ptr_ok || off + 2 > len)
				return 0;
			size_t to = ldns_read_uint16(msg + off) & 0x3fff;
			if (end == 0)
				end = off + 2;
			if (to >= lowest)
				return 0;
			lowest = off = to;
			continue;
		}
		if (l & DNS_LABEL_PTR)	/* extended label types */
			return 0;
		if (n + 1 + l > TSIG_NAME_MAX || off + 1 + l > len)
			return 0;
		for (size_t i = 0; out != NULL && i <= l; i++) {
			uint8_t c = msg[off + i];
			out[n + i] = i > 0 && c >= 'A' && c <= 'Z' ? c + 32 : c;
		}
		n += 1 + l;
		off += 1 + l;
		if (l == 0)
			break;
	}
	if (outlen != NULL)
		*outlen = n;
	return end != 0 ? end : off;
}

/*
 * Reads the RDATA of the TSIG record at rd (rdlen bytes) into t.  The
 * algorithm name must not be compressed (RFC 8945 4.2) and the fields
 * must fill the RDATA exactly.  0 or -1.
 */
static int
parse_rdata(const uint8_t *msg, size_t rd, size_t rdlen, struct tsig_rr *t)
{
	size_t end = rd + rdlen, o;

	if ((o = read_name(msg, end, rd, 0, t->aname, &t->aname_len)) == 0 ||
	    end - o < 10)
		return -1;
	t->time = read48(msg + o);
	t->fudge = ldns_read_uint16(msg + o + 6);
	t->mac_len = ldns_read_uint16(msg + o + 8);
	o += 10;
	if (end - o < (size_t)t->mac_len + 6)
		return -1;
	t->mac = msg + o;
	o += t->mac_len;
	t->orig_id = ldns_read_uint16(msg + o);
	t->error = ldns_read_uint16(msg + o + 2);
	t->other_len = ldns_read_uint16(msg + o + 4);
	o += 6;
	if (end - o != t->other_len)
		return -1;
	t->other = msg + o;
	return 0;
}

/*
 * Walks every record of msg.  Returns TSIG_OK with the TSIG record in t
 * when there is exactly one and it is the last record of the additional
 * section and of the message; TSIG_NONE when there is none; TSIG_FORMERR
 * when the message is malformed or a TSIG is anywhere else (RFC 8945 5.1).
 */
static enum tsig_result
find_tsig(const uint8_t *msg, size_t len, struct tsig_rr *t)
{
	size_t		off = DNS_HEADER_LEN;
	unsigned	count[4], found = 0;

	if (len < DNS_HEADER_LEN)
		return TSIG_FORMERR;
	for (int s = 0; s < 4; s++)
		count[s] = ldns_read_uint16(msg + 4 + 2 * s);
	for (unsigned i = 0; i < count[0]; i++) {
		if ((off = read_name(msg, len, off, 1, NULL, NULL)) == 0 ||
		    len - off < 4)
			return TSIG_FORMERR;
		off += 4;
	}
	for (int s = 1; s < 4; s++) {
		for (unsigned i = 0; i < count[s]; i++) {
			size_t rr = off, o;
			if ((o = read_name(msg, len, off, 1, NULL, NULL)) == 0 ||
			    len - o < 10)
				return TSIG_FORMERR;
			size_t rdlen = ldns_read_uint16(msg + o + 8);
			if (len - o - 10 < rdlen)
				return TSIG_FORMERR;
			off = o + 10 + rdlen;
			if (ldns_read_uint16(msg + o) != LDNS_RR_TYPE_TSIG)
				continue;
			if (found++ || s != 3 || i != count[s] - 1)
				return TSIG_FORMERR;
			read_name(msg, len, rr, 1, t->kname, &t->kname_len);
			if (ldns_read_uint16(msg + o + 2) != LDNS_RR_CLASS_ANY ||
			    ldns_read_uint32(msg + o + 4) != 0 ||
			    parse_rdata(msg, o + 10, rdlen, t) == -1)
				return TSIG_FORMERR;
			t->off = rr;
		}
	}
	if (!found)
		return TSIG_NONE;
	/* Bytes after the TSIG would not be covered by its MAC. */
	return off == len ? TSIG_OK : TSIG_FORMERR;
}

static int
name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* The key called kname with the algorithm aname, or NULL. */
static const struct tsig_key *
key_match(const struct tsig_keys *keys, const struct tsig_rr *t)
{
	for (int i = 0; keys != NULL && i < keys->n; i++) {
		const struct tsig_key *k = &keys->k[i];
		int a = alg_index(k->alg);
		if (a >= 0 && name_eq(k->wname, k->wname_len, t->kname,
		    t->kname_len) && name_eq((const uint8_t *)algs[a].wire,
		    algs[a].wire_len, t->aname, t->aname_len))
			return k;
	}
	return NULL;
}

/*
 * The TSIG variables (RFC 8945 4.3.3) into buf, or with timers_only just
 * Time Signed and Fudge (4.3.2, later messages).  Returns the length.
 */
static size_t
put_vars(uint8_t *buf, const struct tsig_key *k, uint64_t time,
    uint16_t fudge, uint16_t error, uint16_t other_len, int timers_only)
{
	int	a = alg_index(k->alg);
	size_t	n = 0;

	if (!timers_only) {
		memcpy(buf, k->wname, k->wname_len);
		n = k->wname_len;
		ldns_write_uint16(buf + n, LDNS_RR_CLASS_ANY);
		ldns_write_uint32(buf + n + 2, 0);	/* TTL */
		n += 6;
		memcpy(buf + n, algs[a].wire, algs[a].wire_len);
		n += algs[a].wire_len;
	}
	write48(buf + n, time);
	ldns_write_uint16(buf + n + 6, fudge);
	n += 8;
	if (!timers_only) {
		ldns_write_uint16(buf + n, error);
		ldns_write_uint16(buf + n + 2, other_len);
		n += 4;
	}
	return n;
}

/* HMAC of in under k into out (algs[].mac_len bytes).  0 or -1. */
static int
mac_compute(const struct tsig_key *k, const struct mac_input *in,
    uint8_t *out)
{
	EVP_MAC		*mac;
	EVP_MAC_CTX	*ctx = NULL;
	OSSL_PARAM	 params[2];
	uint8_t		 plen[2];
	size_t		 outl;
	int		 a = alg_index(k->alg), ok = 0;

	if (a < 0 || (mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return -1;
	ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);	/* the context holds its own reference */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)algs[a].digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	ldns_write_uint16(plen, (uint16_t)in->prior_len);
	if (ctx == NULL || !EVP_MAC_init(ctx, k->secret, k->secret_len,
	    params))
		goto out;
	if (in->has_prior && (!EVP_MAC_update(ctx, plen, 2) ||
	    !EVP_MAC_update(ctx, in->prior, in->prior_len)))
		goto out;
	if (!EVP_MAC_update(ctx, in->header, DNS_HEADER_LEN) ||
	    !EVP_MAC_update(ctx, in->body, in->body_len) ||
	    !EVP_MAC_update(ctx, in->vars, in->vars_len) ||
	    !EVP_MAC_update(ctx, in->other, in->other_len) ||
	    !EVP_MAC_final(ctx, out, &outl, TSIG_MAC_MAX) ||
	    outl != algs[a].mac_len)
		goto out;
	ok = 1;
out:
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : -1;
}

/*
 * Checks the MAC of the message whose TSIG is t against k: prior (the
 * request's or previous MAC) when has_prior, timers only when
 * timers_only.  Returns TSIG_OK, TSIG_FORMERR (a MAC size no hash or
 * allowed truncation has), TSIG_BADSIG or TSIG_SERVFAIL.
 */
static enum tsig_result
check_mac(const struct tsig_key *k, const uint8_t *msg, const struct tsig_rr *t,
    const uint8_t *prior, size_t prior_len, int has_prior, int timers_only)
{
	struct mac_input in;
	uint8_t		 hdr[DNS_HEADER_LEN], vars[VARS_MAX], mac[TSIG_MAC_MAX];
	size_t		 full = algs[alg_index(k->alg)].mac_len;

	if (t->mac_len == 0)
		return TSIG_BADSIG;
	/* RFC 8945 5.2.2.1: over the hash, or under max(10, half). */
	if (t->mac_len > full || t->mac_len < 10 || t->mac_len < (full + 1) / 2)
		return TSIG_FORMERR;
	memcpy(hdr, msg, DNS_HEADER_LEN);
	ldns_write_uint16(hdr, t->orig_id);
	ldns_write_uint16(hdr + LDNS_ARCOUNT_OFF,
	    (uint16_t)(ldns_read_uint16(hdr + LDNS_ARCOUNT_OFF) - 1));
	in = (struct mac_input){ .prior = prior, .prior_len = prior_len,
	    .has_prior = has_prior, .header = hdr,
	    .body = msg + DNS_HEADER_LEN, .body_len = t->off - DNS_HEADER_LEN,
	    .vars = vars, .vars_len = put_vars(vars, k, t->time, t->fudge,
	    t->error, t->other_len, timers_only) };
	if (!timers_only) {
		in.other = t->other;
		in.other_len = t->other_len;
	}
	if (mac_compute(k, &in, mac) == -1)
		return TSIG_SERVFAIL;
	return CRYPTO_memcmp(mac, t->mac, t->mac_len) == 0 ? TSIG_OK :
	    TSIG_BADSIG;
}

/* RFC 8945 5.2.3: now within time signed +- fudge. */
static int
time_ok(const struct tsig_rr *t, int64_t now)
{
	int64_t d = now - (int64_t)t->time;

	return d <= t->fudge && -d <= t->fudge;
}

/* After a good MAC: BADTIME, then our refusal of truncated MACs. */
static enum tsig_result
check_time_trunc(const struct tsig_key *k, const struct tsig_rr *t,
    int64_t now)
{
	if (!time_ok(t, now))
		return TSIG_BADTIME;
	if (t->mac_len < algs[alg_index(k->alg)].mac_len)
		return TSIG_BADTRUNC;
	return TSIG_OK;
}

static uint16_t
result_error(enum tsig_result r)
{
	switch (r) {
	case TSIG_BADSIG:
		return TSIG_ERR_BADSIG;
	case TSIG_BADKEY:
		return TSIG_ERR_BADKEY;
	case TSIG_BADTIME:
		return TSIG_ERR_BADTIME;
	case TSIG_BADTRUNC:
		return TSIG_ERR_BADTRUNC;
	default:
		return 0;
	}
}

enum tsig_result
tsig_verify_request(const struct tsig_keys *keys, const uint8_t *msg,
    size_t len, int64_t now, struct tsig_state *st, size_t *tsig_off)
{
	struct tsig_rr		 t;
	const struct tsig_key	*k;
	enum tsig_result	 r;

	memset(st, 0, sizeof(*st));
	if ((r = find_tsig(msg, len, &t)) != TSIG_OK)
		return r;
	*tsig_off = t.off;
	memcpy(st->kname, t.kname, st->kname_len = t.kname_len);
	memcpy(st->aname, t.aname, st->aname_len = t.aname_len);
	st->time_signed = t.time;
	if ((k = key_match(keys, &t)) == NULL)
		r = TSIG_BADKEY;
	else if ((r = check_mac(k, msg, &t, NULL, 0, 0, 0)) == TSIG_OK)
		r = check_time_trunc(k, &t, now);
	if (r == TSIG_OK || r == TSIG_BADTIME || r == TSIG_BADTRUNC) {
		/* The MAC verified: the reply may be signed with the key. */
		st->key = k;
		memcpy(st->mac, t.mac, st->mac_len = t.mac_len);
	}
	st->error = result_error(r);
	return r;
}

/*
 * Appends a TSIG record for key k (or, k NULL, the names in st) to msg
 * and adds one to ARCOUNT.  mac (mac_len bytes) is its MAC.  Returns the
 * new length or -1 when it does not fit.
 */
static int
append_rr(const struct tsig_state *st, const struct tsig_key *k,
    uint8_t *msg, size_t len, size_t size, uint64_t time,
    const uint8_t *mac, size_t mac_len, uint16_t error,
    const uint8_t *other, uint16_t other_len)
{
	const uint8_t	*kn = st->kname, *an = st->aname;
	size_t		 kl = st->kname_len, al = st->aname_len, rdlen, n = len;
	int		 a;

	if (k != NULL) {
		if ((a = alg_index(k->alg)) < 0)
			return -1;
		kn = k->wname;
		kl = k->wname_len;
		an = (const uint8_t *)algs[a].wire;
		al = algs[a].wire_len;
	}
	rdlen = al + 16 + mac_len + other_len;
	if (len < DNS_HEADER_LEN || kl == 0 || len > size ||
	    size - len < kl + 10 + rdlen ||
	    ldns_read_uint16(msg + LDNS_ARCOUNT_OFF) == 0xffff)
		return -1;
	memcpy(msg + n, kn, kl);
	n += kl;
	ldns_write_uint16(msg + n, LDNS_RR_TYPE_TSIG);
	ldns_write_uint16(msg + n + 2, LDNS_RR_CLASS_ANY);
	ldns_write_uint32(msg + n + 4, 0);
	ldns_write_uint16(msg + n + 8, (uint16_t)rdlen);
	n += 10;
	memcpy(msg + n, an, al);
	n += al;
	write48(msg + n, time);
	ldns_write_uint16(msg + n + 6, TSIG_FUDGE);
	ldns_write_uint16(msg + n + 8, (uint16_t)mac_len);
	n += 10;
	if (mac_len > 0)
		memcpy(msg + n, mac, mac_len);
	n += mac_len;
	ldns_write_uint16(msg + n, ldns_read_uint16(msg));	/* Original ID */
	ldns_write_uint16(msg + n + 2, error);
	ldns_write_uint16(msg + n + 4, other_len);
	n += 6;
	if (other_len > 0)
		memcpy(msg + n, other, other_len);
	n += other_len;
	ldns_write_uint16(msg + LDNS_ARCOUNT_OFF,
	    (uint16_t)(ldns_read_uint16(msg + LDNS_ARCOUNT_OFF) + 1));
	return (int)n;
}

/*
 * Signs msg with st->key: the MAC covers st->mac (when has_prior), the
 * message and the variables (or the timers); appends the record; the MAC
 * becomes st->mac.  Returns the new length or -1.
 */
static int
sign(struct tsig_state *st, int has_prior, int timers_only, uint8_t *msg,
    size_t len, size_t size, uint64_t time, uint16_t error,
    const uint8_t *other, uint16_t other_len)
{
	const struct tsig_key *k = st->key;
	struct mac_input in;
	uint8_t		 vars[VARS_MAX], mac[TSIG_MAC_MAX];
	size_t		 mac_len;
	int		 n;

	if (k == NULL || alg_index(k->alg) < 0 || len < DNS_HEADER_LEN)
		return -1;
	mac_len = algs[alg_index(k->alg)].mac_len;
	in = (struct mac_input){ .prior = st->mac, .prior_len = st->mac_len,
	    .has_prior = has_prior, .header = msg,
	    .body = msg + DNS_HEADER_LEN, .body_len = len - DNS_HEADER_LEN,
	    .vars = vars, .vars_len = put_vars(vars, k, time, TSIG_FUDGE,
	    error, other_len, timers_only),
	    .other = other, .other_len = timers_only ? 0 : other_len };
	if (mac_compute(k, &in, mac) == -1 || (n = append_rr(st, k, msg, len,
	    size, time, mac, mac_len, error, other, other_len)) == -1)
		return -1;
	memcpy(st->mac, mac, st->mac_len = mac_len);
	return n;
}

int
tsig_sign_response(struct tsig_state *st, uint8_t *msg, size_t len,
    size_t size, int64_t now)
{
	int n;

	if (st->error != 0)
		return -1;
	n = sign(st, 1, st->nmsg > 0, msg, len, size, (uint64_t)now, 0, NULL,
	    0);
	if (n != -1)
		st->nmsg++;
	return n;
}

int
tsig_error_response(struct tsig_state *st, enum tsig_result r, uint8_t *msg,
    size_t len, size_t size, int64_t now)
{
	uint8_t	other[6];
	int	n;

	if (len < DNS_HEADER_LEN || len > size)
		return -1;
	switch (r) {
	case TSIG_FORMERR:
		LDNS_RCODE_SET(msg, LDNS_RCODE_FORMERR);
		return (int)len;
	case TSIG_BADKEY:
	case TSIG_BADSIG:
		/* Unsigned: the key is unknown or the request not its. */
		LDNS_RCODE_SET(msg, TSIG_RCODE_NOTAUTH);
		n = append_rr(st, NULL, msg, len, size, (uint64_t)now, NULL, 0,
		    result_error(r), NULL, 0);
		break;
	case TSIG_BADTIME:
	case TSIG_BADTRUNC:
		if (st->key == NULL)
			return -1;
		LDNS_RCODE_SET(msg, TSIG_RCODE_NOTAUTH);
		/* BADTIME: the client's own time back, so that it can
		 * verify the reply, and ours in Other Data (as BIND). */
		write48(other, (uint64_t)now);
		n = r == TSIG_BADTIME ? sign(st, 1, 0, msg, len, size,
		    st->time_signed, TSIG_ERR_BADTIME, other, 6) :
		    sign(st, 1, 0, msg, len, size, (uint64_t)now,
		    TSIG_ERR_BADTRUNC, NULL, 0);
		break;
	default:
		return -1;
	}
	if (n == -1)
		LDNS_RCODE_SET(msg, LDNS_RCODE_NOERROR);
	return n;
}

int
tsig_sign_request(const struct tsig_key *key, uint8_t *msg, size_t len,
    size_t size, int64_t now, struct tsig_state *st)
{
	memset(st, 0, sizeof(*st));
	st->key = key;
	st->time_signed = (uint64_t)now;
	return sign(st, 0, 0, msg, len, size, (uint64_t)now, 0, NULL, 0);
}

static enum tsig_result
error_result(uint16_t error)
{
	switch (error) {
	case TSIG_ERR_BADKEY:
		return TSIG_BADKEY;
	case TSIG_ERR_BADTIME:
		return TSIG_BADTIME;
	case TSIG_ERR_BADTRUNC:
		return TSIG_BADTRUNC;
	default:
		return TSIG_BADSIG;
	}
}

enum tsig_result
tsig_verify_response(struct tsig_state *st, const uint8_t *msg, size_t len,
    int64_t now)
{
	const struct tsig_key	*k = st->key;
	struct tsig_rr		 t;
	enum tsig_result	 r;
	int			 a;

	if (k == NULL || (a = alg_index(k->alg)) < 0)
		return TSIG_BADKEY;
	if ((r = find_tsig(msg, len, &t)) != TSIG_OK)
		return r;
	if (!name_eq(t.kname, t.kname_len, k->wname, k->wname_len) ||
	    !name_eq(t.aname, t.aname_len, (const uint8_t *)algs[a].wire,
	    algs[a].wire_len))
		return TSIG_BADKEY;
	st->error = t.error;
	if (t.mac_len == 0 && t.error != 0)
		return error_result(t.error);	/* unsigned, as 5.3.2 says */
	if ((r = check_mac(k, msg, &t, st->mac, st->mac_len, 1,
	    st->nmsg > 0)) != TSIG_OK)
		return r;
	if (t.error != 0)
		return error_result(t.error);
	if ((r = check_time_trunc(k, &t, now)) != TSIG_OK)
		return r;
	memcpy(st->mac, t.mac, st->mac_len = t.mac_len);
	st->nmsg++;
	return TSIG_OK;
}
