/*
 * test_tsig.c -- unit tests of dnsbl/dns/tsig.c and tsig_keys.c
 *
 * Checked against two independent implementations: requests signed by
 * dnspython (known answers below, made by tests/lib/tsig_dnspython.py
 * sign at time 1700000000, and live ones when dnspython is installed) and
 * by ldns (ldns_pkt_tsig_sign, live) must verify, and every tampered copy
 * must not; our signed replies, first and later messages of a stream,
 * must verify with ldns (ldns_pkt_tsig_verify_next) and with dnspython's
 * multi-message context (skipped, said so, when dnspython is missing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "fixture.h"
#include "tap.h"
#include "tsig.h"

#define KAT_TIME	1700000000

static const struct {
	const char	*alg;
	const char	*secret;	/* bytes 0, 1, 2, ... */
	const char	*hex;		/* dnspython, key "xfr.Example." */
} kats[] = {
	{ "hmac-sha256", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	  "509901000001000000000003076578616d706c6503636f6d0000010001056578"
	  "747261c00c000100010000003c0004c000020700002904d00000000000000378"
	  "6672074578616d706c650000fa00ff00000000003d0b686d61632d7368613235"
	  "360000006553f100012c0020ac16a873d7b553ec500e272e72c3f1369a55beea"
	  "5cdb24026f734f2d814a87ab509900000000" },
	{ "hmac-sha384",
	  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v",
	  "7d1b01000001000000000003076578616d706c6503636f6d0000010001056578"
	  "747261c00c000100010000003c0004c000020700002904d00000000000000378"
	  "6672074578616d706c650000fa00ff00000000004d0b686d61632d7368613338"
	  "340000006553f100012c003014d626afd7953f3c2409a4f3a292919208525eaa"
	  "544779a6961e595f23ddc5afe82c6744d0b20fe04ea13375ef7e2e4b7d1b0000"
	  "0000" },
	{ "hmac-sha512", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJC"
	  "UmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==",
	  "812c01000001000000000003076578616d706c6503636f6d0000010001056578"
	  "747261c00c000100010000003c0004c000020700002904d00000000000000378"
	  "6672074578616d706c650000fa00ff00000000005d0b686d61632d7368613531"
	  "320000006553f100012c00409af6ae8d5672ec57a4b292aeea813d9d38e8edd2"
	  "4829b3aaeb4da4a2474eade3589a8ba02979886accbedd26aa035cd59aa335a8"
	  "7c0e442bf6f4ad799b7d441c812c00000000" },
	{ "hmac-sha1", "AAECAwQFBgcICQoLDA0ODxAREhM=",
	  "8cf201000001000000000003076578616d706c6503636f6d0000010001056578"
	  "747261c00c000100010000003c0004c000020700002904d00000000000000378"
	  "6672074578616d706c650000fa00ff00000000002f09686d61632d7368613100"
	  "00006553f100012c001447a3ea7b873f46dd54cb9750329ad05d986383608cf2"
	  "00000000" },
};
#define NKATS	(int)(sizeof(kats) / sizeof(kats[0]))

static struct tsig_keys keys;	/* xfr.example. for each algorithm */

static size_t
unhex(const char *h, uint8_t *out)
{
	size_t n = strlen(h) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			abort();
		out[i] = (uint8_t)v;
	}
	return n;
}

static void
tohex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* A keys set of one key, from one line of the keys file format. */
static void
load_line(struct tsig_keys *k, const char *line)
{
	char err[256];

	if (tsig_keys_parse(line, strlen(line), "test", k, err,
	    sizeof(err)) == -1 || k->n != 1) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
}

/* A query for qname (wire) with id: header and question, ARCOUNT 0. */
static size_t
make_query(uint8_t *m, uint16_t id, const uint8_t *qname, size_t qlen)
{
	memset(m, 0, 12);
	m[0] = id >> 8;
	m[1] = id & 0xff;
	m[5] = 1;
	memcpy(m + 12, qname, qlen);
	memcpy(m + 12 + qlen, "\0\1\0\1", 4);
	return 12 + qlen + 4;
}

/*
 * The i-th message of an answer to the query in q (qlen bytes without
 * its TSIG): the question, then i + 1 A records named by a pointer.
 */
static size_t
make_reply(uint8_t *m, const uint8_t *q, size_t qend, int i)
{
	size_t n = qend;

	memcpy(m, q, qend);
	m[2] |= 0x84;		/* QR, AA */
	m[7] = (uint8_t)(i + 1);
	m[9] = m[11] = 0;
	for (int j = 0; j <= i; j++) {
		memcpy(m + n, "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\xc0\0\2", 15);
		m[n + 15] = (uint8_t)(j + 1);
		n += 16;
	}
	return n;
}

/* The offset of the TSIG record of a message that verifies, for edits. */
static size_t
tsig_at(const uint8_t *m, size_t len, int64_t now)
{
	struct tsig_state	st;
	size_t			off = 0;

	if (tsig_verify_request(&keys, m, len, now, &st, &off) != TSIG_OK)
		abort();
	return off;
}

static void
test_keys_file(void)
{
	struct tsig_keys	 k;
	char			 err[256], path[300];
	const struct tsig_key	*f;
	static const char	 text[] =
	    "# one a line\n"
	    "a.example hmac-sha256 AAECAwQ=   // trailing comment\n"
	    "hmac-SHA512:B.Example.:AAECAwQ=\n"
	    "/* BIND, as tsig-keygen prints it */\n"
	    "key \"c.example\" {\n\talgorithm hmac-sha384;\n"
	    "\tsecret \"AAECAwQFBgc=\";\n};\n"
	    "key:\n  - id: d.example.\n    algorithm: hmac-sha1\n"
	    "    secret: AAEC\n  - id: e.example\n    secret: AAE=\n"
	    "    algorithm: hmac-sha256\n";

	is_int(tsig_keys_parse(text, strlen(text), "t", &k, err, sizeof(err)),
	    0, "keys: five keys in four syntaxes parse (%s)", err);
	is_int(k.n, 5, "keys: five of them");
	f = tsig_keys_find(&k, "A.EXAMPLE.");
	ok(f != NULL && f->alg == TSIG_HMAC_SHA256 && f->secret_len == 5 &&
	    memcmp(f->secret, "\0\1\2\3\4", 5) == 0,
	    "keys: one-line key, found whatever the case");
	ok(f != NULL && strcmp(f->name, "a.example.") == 0 &&
	    f->wname_len == 11 && memcmp(f->wname, "\1a\7example", 11) == 0,
	    "keys: presentation name gets its dot, wire name lowercase");
	f = tsig_keys_find(&k, "b.example");
	ok(f != NULL && f->alg == TSIG_HMAC_SHA512, "keys: ALG:NAME:SECRET");
	f = tsig_keys_find(&k, "c.example");
	ok(f != NULL && f->alg == TSIG_HMAC_SHA384 && f->secret_len == 8,
	    "keys: BIND key block");
	f = tsig_keys_find(&k, "d.example");
	ok(f != NULL && f->alg == TSIG_HMAC_SHA1 && f->secret_len == 3,
	    "keys: Knot YAML entry");
	f = tsig_keys_find(&k, "e.example");
	ok(f != NULL && f->alg == TSIG_HMAC_SHA256 && f->secret_len == 2,
	    "keys: Knot YAML, fields in another order");
	ok(tsig_keys_find(&k, "x.example") == NULL, "keys: unknown name");
	tsig_keys_free(&k);
	ok(k.k == NULL && k.n == 0, "keys: freed and emptied");
	tsig_keys_free(NULL);

	static const struct { const char *text, *want; } bad[] = {
		{ "a hmac-md5 AAEC\n", "t:1: key a: unknown algorithm" },
		{ "\n\na hmac-sha256 !!!!\n", "t:3: key a: the secret is not" },
		{ "a hmac-sha256 AAEC\nA. hmac-sha1 AAEC\n",
		  "t:2: key A. defined twice" },
		{ "a hmac-sha256\n", "t:1: expected NAME ALGORITHM SECRET" },
		{ "a hmac-sha256 AAEC x\n", "t:1: expected NAME ALGORITHM" },
		{ "key \"a\" { algorithm hmac-sha256; };\n",
		  "t:1: key a without a secret" },
		{ "key \"a\" { algorithm hmac-sha256; secret \"AAEC\"; }\n",
		  "t:1: expected ';'" },
		{ "key \"a\" { owner x; };", "t:1: key a: unknown statement" },
		{ "key \"a { };", "t:1: unterminated string" },
		{ "/* a hmac-sha256 AAEC", "t:1: unterminated comment" },
		{ "a..b hmac-sha256 AAEC\n", "t:1: bad key name a..b" },
		{ "key:\n - id: a\n   secret: AAEC\n", "t:2: key a without an "
		  "algorithm" },
		{ "a hmac-sha256 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIS"
		  "IjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk"
		  "9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3"
		  "x9fn+AgYKDhA==\n", "t:1: key a: the secret is not base64" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = tsig_keys_parse(bad[i].text, strlen(bad[i].text), "t",
		    &k, err, sizeof(err));
		ok(r == -1 && k.n == 0 && k.k == NULL &&
		    strncmp(err, bad[i].want, strlen(bad[i].want)) == 0,
		    "keys: refused: %s", bad[i].want);
		if (r != -1 || strncmp(err, bad[i].want, strlen(bad[i].want)))
			printf("#   got %d \"%s\"\n", r, err);
	}
	is_int(tsig_keys_parse("", 0, "t", &k, err, sizeof(err)), 0,
	    "keys: an empty file is no key, no error");
	snprintf(path, sizeof(path), "%s/keys", fixture_dir());
	fixture_write(path, "key \"xfr.example\" {\n"
	    "\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0\";\n};\n");
	ok(tsig_keys_load(path, &k, err, sizeof(err)) == 0 && k.n == 1 &&
	    memcmp(k.k[0].secret, "secret", 6) == 0, "keys: loaded from a "
	    "file");
	tsig_keys_free(&k);
	ok(tsig_keys_load("/nonexistent/keys", &k, err, sizeof(err)) == -1 &&
	    strstr(err, "/nonexistent/keys: No such file") != NULL,
	    "keys: a missing file is an error naming it");
}

/* dnspython's signed requests, at their time, the fudge's edges, after. */
static void
test_kat(int i)
{
	static const size_t	mac_len[] = { 32, 48, 64, 20 };
	uint8_t			m[512];
	struct tsig_state	st;
	size_t			off, len;
	const struct tsig_key	*k = &keys.k[0];

	{
		len = unhex(kats[i].hex, m);
		is_int(tsig_verify_request(&keys, m, len, KAT_TIME, &st, &off),
		    TSIG_OK, "kat %s: dnspython's request verifies",
		    kats[i].alg);
		ok(st.key == k && st.error == 0 && st.mac_len == mac_len[i] &&
		    memcmp(st.mac, m + len - 6 - mac_len[i], mac_len[i]) == 0,
		    "kat %s: state has the key and the request MAC",
		    kats[i].alg);
		is_int(tsig_verify_request(&keys, m, len, KAT_TIME + 300, &st,
		    &off), TSIG_OK, "kat %s: 300 s late is within the fudge",
		    kats[i].alg);
		is_int(tsig_verify_request(&keys, m, len, KAT_TIME - 300, &st,
		    &off), TSIG_OK, "kat %s: 300 s early too", kats[i].alg);
		is_int(tsig_verify_request(&keys, m, len, KAT_TIME + 301, &st,
		    &off), TSIG_BADTIME, "kat %s: 301 s late is BADTIME",
		    kats[i].alg);
		ok(st.key == k && st.error == TSIG_ERR_BADTIME,
		    "kat %s: BADTIME keeps the key to sign the error",
		    kats[i].alg);
		is_int(tsig_verify_request(&keys, m, len, KAT_TIME - 301, &st,
		    &off), TSIG_BADTIME, "kat %s: 301 s early is BADTIME",
		    kats[i].alg);
	}
}

/*
 * Every single bit flipped in dnspython's request: nothing verifies but
 * what RFC 8945 leaves out of the MAC (the header ID, replaced by the
 * Original ID) or compares without case (letters of the key and
 * algorithm names).
 */
static void
test_bit_flips(void)
{
	uint8_t			m[512], c[512];
	struct tsig_state	st;
	size_t			len = unhex(kats[0].hex, m), off, toff;
	int			bad = 0, flips = 0;

	toff = tsig_at(m, len, KAT_TIME);
	for (size_t i = 0; i < len; i++) {
		for (int b = 0; b < 8; b++) {
			memcpy(c, m, len);
			c[i] ^= (uint8_t)(1 << b);
			int r = tsig_verify_request(&keys, c, len, KAT_TIME,
			    &st, &off);
			int ascii = (c[i] | 0x20) >= 'a' && (c[i] | 0x20) <= 'z';
			int names = i >= toff && i < toff + 13 + 10 + 13;
			int exempt = i < 2 || (b == 5 && ascii && names);
			flips++;
			if ((r == TSIG_OK) != exempt) {
				if (bad++ < 5)
					printf("# byte %zu bit %d: %s\n", i, b,
					    tsig_result_name(r));
			}
		}
	}
	is_int(bad, 0, "flips: none of %d single-bit flips verifies but the "
	    "ID and the case of names", flips);
	for (size_t l = 0; l < len; l++)
		if (tsig_verify_request(&keys, m, l, KAT_TIME, &st, &off) ==
		    TSIG_OK)
			bad++;
	is_int(bad, 0, "flips: no prefix of the request verifies");
}

/* Appends the n bytes at p as one more additional record. */
static size_t
add_rr(uint8_t *m, size_t len, const uint8_t *p, size_t n)
{
	memcpy(m + len, p, n);
	m[11]++;
	return len + n;
}

static void
test_structure(void)
{
	uint8_t			m[1024], c[1024], tsig[256];
	struct tsig_state	st;
	struct tsig_keys	other;
	size_t			len = unhex(kats[0].hex, m), off, toff, tl, n;
	static const uint8_t	a_rr[] = "\0\0\1\0\1\0\0\0\0\0\4\1\2\3\4";

	toff = tsig_at(m, len, KAT_TIME);
	tl = len - toff;
	memcpy(tsig, m + toff, tl);

	memcpy(c, m, len);
	n = add_rr(c, len, a_rr, sizeof(a_rr) - 1);
	is_int(tsig_verify_request(&keys, c, n, KAT_TIME, &st, &off),
	    TSIG_FORMERR, "structure: a record after the TSIG is FORMERR");
	memcpy(c, m, len);
	n = add_rr(c, len, tsig, tl);
	is_int(tsig_verify_request(&keys, c, n, KAT_TIME, &st, &off),
	    TSIG_FORMERR, "structure: two TSIGs are FORMERR");
	memcpy(c, m, len);
	c[len] = 0;
	is_int(tsig_verify_request(&keys, c, len + 1, KAT_TIME, &st, &off),
	    TSIG_FORMERR, "structure: a byte after the TSIG is FORMERR");

	/* The TSIG moved to the authority section (NSCOUNT 1, ARCOUNT 0,
	 * after the question, before the OPT and A) */
	size_t qend = 12 + 13 + 4;
	memcpy(c, m, qend);
	memcpy(c + qend, tsig, tl);
	memcpy(c + qend + tl, m + qend, toff - qend);
	c[9] = 1;
	c[11] = 2;
	is_int(tsig_verify_request(&keys, c, len, KAT_TIME, &st, &off),
	    TSIG_FORMERR, "structure: a TSIG in the authority section is "
	    "FORMERR");
	c[7] = 1;
	c[9] = 0;
	is_int(tsig_verify_request(&keys, c, len, KAT_TIME, &st, &off),
	    TSIG_FORMERR, "structure: a TSIG in the answer section too");

	m[11]--;
	is_int(tsig_verify_request(&keys, m, toff, KAT_TIME, &st, &off),
	    TSIG_NONE, "structure: no TSIG is TSIG_NONE");
	m[11]++;

	/* MAC sizes: the MAC size field is at toff + 13 + 10 + 13 + 8. */
	size_t ms = toff + 13 + 10 + 13 + 8;
	struct { int size; enum tsig_result want; const char *what; } t[] = {
		{ 16, TSIG_BADTRUNC, "16 of 32 bytes: BADTRUNC" },
		{ 31, TSIG_BADTRUNC, "31 of 32 bytes: BADTRUNC" },
		{ 15, TSIG_FORMERR, "15 of 32 bytes (under half): FORMERR" },
		{ 0, TSIG_BADSIG, "no MAC: BADSIG" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t cut = 32 - (size_t)t[i].size;
		memcpy(c, m, ms + 2 + (size_t)t[i].size);
		memcpy(c + ms + 2 + t[i].size, m + ms + 2 + 32, 6);
		c[ms + 1] = (uint8_t)t[i].size;
		c[toff + 13 + 9] -= (uint8_t)cut;	/* RDLENGTH */
		is_int(tsig_verify_request(&keys, c, len - cut, KAT_TIME, &st,
		    &off), t[i].want, "structure: MAC of %s", t[i].what);
	}
	memcpy(c, m, len);
	c[ms + 1] = 33;
	is_int(tsig_verify_request(&keys, c, len, KAT_TIME, &st, &off),
	    TSIG_FORMERR, "structure: MAC size past the RDATA is FORMERR");

	/* Keys: a different secret, name or algorithm. */
	load_line(&other, "xfr.example. hmac-sha256 AAECAwQFBgcICQoLDA0ODxAREh"
	    "MUFRYXGBkaGxwdHh4=");
	is_int(tsig_verify_request(&other, m, len, KAT_TIME, &st, &off),
	    TSIG_BADSIG, "keys: another secret is BADSIG");
	ok(st.key == NULL && st.error == TSIG_ERR_BADSIG && st.kname_len == 13,
	    "keys: BADSIG leaves no key to sign with, and the names to echo");
	tsig_keys_free(&other);
	load_line(&other, "xfr2.example. hmac-sha256 AAECAwQFBgcICQoLDA0ODxAREh"
	    "MUFRYXGBkaGxwdHh8=");
	is_int(tsig_verify_request(&other, m, len, KAT_TIME, &st, &off),
	    TSIG_BADKEY, "keys: an unknown name is BADKEY");
	tsig_keys_free(&other);
	load_line(&other, "xfr.example. hmac-sha512 AAECAwQFBgcICQoLDA0ODxAREh"
	    "MUFRYXGBkaGxwdHh8=");
	is_int(tsig_verify_request(&other, m, len, KAT_TIME, &st, &off),
	    TSIG_BADKEY, "keys: the name with another algorithm is BADKEY");
	tsig_keys_free(&other);
	is_int(tsig_verify_request(NULL, m, len, KAT_TIME, &st, &off),
	    TSIG_BADKEY, "keys: no keys at all is BADKEY");
}

/* Our own request, its owner name then compressed to the question's. */
static void
test_compressed_owner(void)
{
	static const uint8_t	qn[] = "\3xfr\7example";
	uint8_t			m[512], c[512];
	struct tsig_state	st, vs;
	size_t			len = make_query(m, 0x1234, qn, sizeof(qn)),
				off;
	int			n;

	n = tsig_sign_request(&keys.k[0], m, len, sizeof(m), KAT_TIME, &st);
	ok(n > 0, "owner: request signed");
	memcpy(c, m, len);
	c[len] = 0xc0;
	c[len + 1] = 12;
	memcpy(c + len + 2, m + len + sizeof(qn), (size_t)n - len -
	    sizeof(qn));
	is_int(tsig_verify_request(&keys, c, (size_t)n - sizeof(qn) + 2,
	    KAT_TIME, &vs, &off), TSIG_OK, "owner: a compressed key name "
	    "verifies (the MAC has it uncompressed)");
	/* A compressed algorithm name is refused (RFC 8945 4.2). */
	c[len + 12] = 0xc0;
	c[len + 13] = 12;
	is_int(tsig_verify_request(&keys, c, (size_t)n - sizeof(qn) + 2,
	    KAT_TIME, &vs, &off), TSIG_FORMERR,
	    "owner: a compressed algorithm name is FORMERR");
	/* A pointer to itself must not loop. */
	c[len] = 0xc0;
	c[len + 1] = (uint8_t)len;
	is_int(tsig_verify_request(&keys, c, (size_t)n - sizeof(qn) + 2,
	    KAT_TIME, &vs, &off), TSIG_FORMERR, "owner: a pointer loop is "
	    "FORMERR");
}

/* ldns's wire of msg signed with key i (request when qmac is NULL). */
static size_t
lsign(int i, const uint8_t *msg, size_t len, uint8_t *out,
    const ldns_rdf *qmac, int next)
{
	ldns_pkt	*p = NULL;
	uint8_t		*w = NULL;
	size_t		 wl = 0;
	char		 alg[32];

	snprintf(alg, sizeof(alg), "%s.", kats[i].alg);
	if (ldns_wire2pkt(&p, msg, len) != LDNS_STATUS_OK ||
	    ldns_pkt_tsig_sign_next(p, "xfr.example.", kats[i].secret, 300,
	    alg, qmac, next) != LDNS_STATUS_OK ||
	    ldns_pkt2wire(&w, p, &wl) != LDNS_STATUS_OK)
		abort();
	memcpy(out, w, wl);
	free(w);
	ldns_pkt_free(p);
	return wl;
}

/* The MAC rdf of the TSIG of msg, for ldns (caller frees). */
static ldns_rdf *
lmac(const uint8_t *msg, size_t len)
{
	ldns_pkt	*p = NULL;
	ldns_rdf	*r;

	if (ldns_wire2pkt(&p, msg, len) != LDNS_STATUS_OK ||
	    ldns_pkt_tsig(p) == NULL)
		abort();
	r = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(p), 3));
	ldns_pkt_free(p);
	return r;
}

static int
lverify(int i, const uint8_t *msg, size_t len, const ldns_rdf *mac,
    int next)
{
	ldns_pkt	*p = NULL;
	int		 r;

	if (ldns_wire2pkt(&p, msg, len) != LDNS_STATUS_OK)
		return 0;
	r = ldns_pkt_tsig_verify_next(p, msg, len, "xfr.example.",
	    kats[i].secret, mac, next);
	ldns_pkt_free(p);
	return r;
}

/*
 * ldns signs a request now; we verify it and sign a three-message answer;
 * ldns verifies each message against the previous MAC.  Then the other
 * way: we sign a request, ldns signs a two-message answer, we verify it.
 */
static void
test_ldns(int i)
{
	static const uint8_t	qn[] = "\3xfr\7example";
	uint8_t			q[512], s[512], r[512];
	struct tsig_state	st;
	ldns_rdf		*mac;
	size_t			ql = make_query(q, 0xbeef, qn, sizeof(qn)), sl,
				off;
	int64_t			now = time(NULL);
	int			n, good = 1;

	if (strcmp(kats[i].alg, "hmac-sha384") == 0) {
		/* ldns 1.8.3 knows it as "hmac-shac384." (a typo). */
		printf("ok %d # SKIP ldns has no hmac-sha384\n", ++tap_n);
		return;
	}
	sl = lsign(i, q, ql, s, NULL, 0);
	is_int(tsig_verify_request(&keys, s, sl, now, &st, &off), TSIG_OK,
	    "ldns %s: ldns's signed request verifies", kats[i].alg);
	if (st.key == NULL)
		return;
	mac = lmac(s, sl);
	for (int j = 0; j < 3; j++) {
		size_t rl = make_reply(r, s, ql, j);
		n = tsig_sign_response(&st, r, rl, sizeof(r), now);
		ok(n > 0 && lverify(i, r, (size_t)n, mac, j > 0),
		    "ldns %s: our answer message %d verifies with ldns%s",
		    kats[i].alg, j + 1, j ? " (timers only)" : "");
		ldns_rdf_deep_free(mac);
		mac = lmac(r, n > 0 ? (size_t)n : 0);
	}
	ldns_rdf_deep_free(mac);

	ql = make_query(q, 0xcafe, qn, sizeof(qn));
	n = tsig_sign_request(&keys.k[0], q, ql, sizeof(q), now, &st);
	ok(n > 0 && lverify(i, q, (size_t)n, NULL, 0),
	    "ldns %s: our signed request verifies with ldns", kats[i].alg);
	mac = lmac(q, (size_t)n);
	for (int j = 0; j < 2; j++) {
		size_t rl = make_reply(r, q, ql, j);
		sl = lsign(i, r, rl, s, mac, j > 0);
		ldns_rdf_deep_free(mac);
		mac = lmac(s, sl);
		if (tsig_verify_response(&st, s, sl, now) != TSIG_OK)
			good = 0;
	}
	ldns_rdf_deep_free(mac);
	ok(good && st.nmsg == 2, "ldns %s: ldns's two-message answer verifies "
	    "with us", kats[i].alg);
}

/* An interpreter that has dnspython, or NULL. */
static const char *
dnspython(void)
{
	static const char *const cands[] = { "python3", "/usr/bin/python3" };
	char cmd[128];

	if (access("tests/lib/tsig_dnspython.py", R_OK) != 0)
		return NULL;
	for (size_t i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd), "%s -c 'import dns.tsig' "
		    ">/dev/null 2>&1", cands[i]);
		if (system(cmd) == 0)
			return cands[i];
	}
	return NULL;
}

/* Runs the dnspython helper; its output into out.  Its exit status. */
static int
run_py(const char *py, const char *args, char *out, size_t outsize)
{
	char	 cmd[8192];
	FILE	*fp;
	size_t	 n;

	snprintf(cmd, sizeof(cmd), "%s tests/lib/tsig_dnspython.py %s", py,
	    args);
	if ((fp = popen(cmd, "r")) == NULL)
		return -1;
	n = fread(out, 1, outsize - 1, fp);
	out[n] = '\0';
	return pclose(fp);
}

static void
test_dnspython(int i, const char *py)
{
	static const uint8_t	qn[] = "\3xfr\7example";
	uint8_t			q[512], r[3][512];
	char			args[8192], out[2048], *a;
	struct tsig_state	st;
	size_t			ql, off;
	int			n[3];
	int64_t			now = time(NULL);

	if (py == NULL) {
		printf("ok %d # SKIP dnspython %s: no python3 with dnspython "
		    "(python3-dnspython)\n", ++tap_n, kats[i].alg);
		return;
	}
	snprintf(args, sizeof(args), "sign xfr.EXAMPLE. %s %s", kats[i].alg,
	    kats[i].secret);
	if (run_py(py, args, out, sizeof(out)) != 0)
		abort();
	ql = unhex(out, q);
	is_int(tsig_verify_request(&keys, q, ql, now, &st, &off), TSIG_OK,
	    "dnspython %s: its request signed now verifies", kats[i].alg);
	a = args + snprintf(args, sizeof(args), "verify xfr.example. %s %s ",
	    kats[i].alg, kats[i].secret);
	tohex(q, ql, a);
	for (int j = 0; j < 3; j++) {
		/* The question only, not the request's additional section. */
		size_t rl = make_reply(r[j], q, 12 + 13 + 4, j);
		n[j] = tsig_sign_response(&st, r[j], rl, sizeof(r[j]), now);
		if (n[j] < 0)
			abort();
		strcat(a, " ");
		tohex(r[j], (size_t)n[j], a + strlen(a));
	}
	is_int(run_py(py, args, out, sizeof(out)), 0, "dnspython %s: our "
	    "three-message answer verifies with its multi-message context",
	    kats[i].alg);
	if (strstr(out, "ok 3") == NULL)
		for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
			printf("#   %s\n", l);
	/* The same stream with the second message tampered with. */
	r[1][n[1] - 20] ^= 1;
	a = args + snprintf(args, sizeof(args), "verify xfr.example. %s %s ",
	    kats[i].alg, kats[i].secret);
	tohex(q, ql, a);
	for (int j = 0; j < 3; j++) {
		strcat(a, " ");
		tohex(r[j], (size_t)n[j], a + strlen(a));
	}
	ok(run_py(py, args, out, sizeof(out)) != 0 &&
	    strstr(out, "not ok 2") != NULL, "dnspython %s: a tampered "
	    "second message fails there", kats[i].alg);
	/* Our request, as dnspython reads it. */
	ql = make_query(q, 0x4242, qn, sizeof(qn));
	n[0] = tsig_sign_request(&keys.k[0], q, ql, sizeof(q), now, &st);
	a = args + snprintf(args, sizeof(args), "verify xfr.example. %s %s ",
	    kats[i].alg, kats[i].secret);
	tohex(q, (size_t)n[0], a);
	strcat(a, " ");
	ql = make_reply(r[0], q, ql, 0);
	n[1] = tsig_sign_response(&st, r[0], ql, sizeof(r[0]), now);
	tohex(r[0], n[1] > 0 ? (size_t)n[1] : 0, a + strlen(a));
	is_int(run_py(py, args, out, sizeof(out)), 0, "dnspython %s: our "
	    "signed request verifies with it", kats[i].alg);
}

/* Error replies: BADKEY unsigned, BADTIME signed with our time. */
static void
test_errors(void)
{
	static const uint8_t	qn[] = "\3xfr\7example";
	uint8_t			q[512], r[512];
	struct tsig_state	cst, sst;
	struct tsig_keys	none = { NULL, 0 };
	size_t			ql = make_query(q, 7, qn, sizeof(qn)), rl, off;
	int			n, qn_len;

	qn_len = tsig_sign_request(&keys.k[0], q, ql, sizeof(q), KAT_TIME,
	    &cst);
	ok(qn_len > 0, "errors: request signed");

	is_int(tsig_verify_request(&none, q, (size_t)qn_len, KAT_TIME, &sst,
	    &off), TSIG_BADKEY, "errors: unknown key");
	rl = make_reply(r, q, ql, -1);
	n = tsig_error_response(&sst, TSIG_BADKEY, r, rl, sizeof(r),
	    KAT_TIME);
	ok(n > 0 && (r[3] & 0xf) == TSIG_RCODE_NOTAUTH && r[11] == 1,
	    "errors: BADKEY reply is NOTAUTH with a TSIG");
	ok(n > 0 && r[n - 4] == 0 && r[n - 3] == TSIG_ERR_BADKEY &&
	    r[n - 8] == 0 && r[n - 7] == 0, "errors: unsigned, error BADKEY");
	is_int(tsig_verify_response(&cst, r, (size_t)n, KAT_TIME), TSIG_BADKEY,
	    "errors: the client sees BADKEY");
	is_int(tsig_sign_response(&sst, r, rl, sizeof(r), KAT_TIME), -1,
	    "errors: no signed answer after BADKEY");

	ql = make_query(q, 7, qn, sizeof(qn));
	qn_len = tsig_sign_request(&keys.k[0], q, ql, sizeof(q), KAT_TIME,
	    &cst);
	is_int(tsig_verify_request(&keys, q, (size_t)qn_len, KAT_TIME + 1000,
	    &sst, &off), TSIG_BADTIME, "errors: request 1000 s old");
	rl = make_reply(r, q, ql, -1);
	n = tsig_error_response(&sst, TSIG_BADTIME, r, rl, sizeof(r),
	    KAT_TIME + 1000);
	ok(n > 0 && (r[3] & 0xf) == TSIG_RCODE_NOTAUTH && r[n - 9] ==
	    TSIG_ERR_BADTIME && r[n - 7] == 6, "errors: BADTIME reply is "
	    "NOTAUTH with 6 bytes of other data");
	is_int(tsig_verify_response(&cst, r, (size_t)n, KAT_TIME),
	    TSIG_BADTIME, "errors: the client verifies the BADTIME reply");
	uint8_t *od = r + n - 6;
	uint64_t t = (uint64_t)od[0] << 40 | (uint64_t)od[1] << 32 |
	    (uint64_t)od[2] << 24 | (uint64_t)od[3] << 16 |
	    (uint64_t)od[4] << 8 | od[5];
	is_int(t, KAT_TIME + 1000, "errors: other data is the server's time");
	ldns_rdf *mac = lmac(q, (size_t)qn_len);
	ok(lverify(0, r, (size_t)n, mac, 0), "errors: ldns verifies the "
	    "BADTIME reply's MAC");
	ldns_rdf_deep_free(mac);
	r[n - 20] ^= 1;
	ql = make_query(q, 7, qn, sizeof(qn));
	qn_len = tsig_sign_request(&keys.k[0], q, ql, sizeof(q), KAT_TIME,
	    &cst);
	is_int(tsig_verify_response(&cst, r, (size_t)n, KAT_TIME),
	    TSIG_BADSIG, "errors: a tampered BADTIME reply is BADSIG");

	is_int(tsig_error_response(&sst, TSIG_FORMERR, r, rl, sizeof(r), 0),
	    (int)rl, "errors: FORMERR adds nothing");
	is_int(r[3] & 0xf, 1, "errors: and sets FORMERR");
	is_int(tsig_error_response(&sst, TSIG_OK, r, rl, sizeof(r), 0), -1,
	    "errors: TSIG_OK is not an error");
}

static void
test_room(void)
{
	static const uint8_t	qn[] = "\3xfr\7example";
	uint8_t			q[512], c[512];
	struct tsig_state	st;
	size_t			ql = make_query(q, 7, qn, sizeof(qn));

	memcpy(c, q, ql);
	is_int(tsig_sign_request(&keys.k[0], q, ql, ql + 60, KAT_TIME, &st),
	    -1, "room: no room for the TSIG is -1");
	ok(memcmp(c, q, ql) == 0, "room: and the message is unchanged");
	is_int(tsig_sign_request(&keys.k[0], q, ql, ql + 13 + 10 + 13 + 16 +
	    32, KAT_TIME, &st), (int)ql + 84, "room: exactly enough is enough");
}

int
main(void)
{
	const char *py = dnspython();

	test_keys_file();
	/* One key set per algorithm: the vectors share the key name. */
	for (int i = 0; i < NKATS; i++) {
		char line[256];
		snprintf(line, sizeof(line), "xfr.example %s %s", kats[i].alg,
		    kats[i].secret);
		load_line(&keys, line);
		test_kat(i);
		if (i == 0) {
			test_bit_flips();
			test_structure();
			test_compressed_owner();
			test_errors();
			test_room();
		}
		test_ldns(i);
		test_dnspython(i, py);
		tsig_keys_free(&keys);
	}
	return tap_done();
}
