/*
 * test_answer.c -- unit tests of the responder logic (answer.c, zone.c,
 * dns_query.c) without sockets: queries are built with ldns, answered by
 * answer_query() from a real store in a scratch directory, and the replies
 * parsed back with ldns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "addr.h"
#include "answer.h"
#include "fixture.h"
#include "keys.h"
#include "log.h"
#include "store.h"
#include "tap.h"
#include "zone.h"

static const char		*tmpdir;	/* fixture_dir() */
static struct store		*st;
static struct store_reader	*rd;
static struct zoneset		*zs;
static struct answer_conf	 conf;
static struct answer_counters	 cnt;
static uint8_t			 out_raw[4096];
static const struct answer_client *client;	/* NULL: anyone */

static const char ZONE[] =
    "$ORIGIN bl.test.\n$TTL 3600\n"
    "@ IN SOA ns1.bl.test. hostmaster.bl.test. ( 1 3600 900 604800 600 )\n"
    "@ IN NS ns1.bl.test.\n@ IN NS ns2.example.\n"
    "ns1 IN A 192.0.2.53\n@ IN A 192.0.2.80\n@ IN MX 10 mail.example.\n"
    "@ IN TXT \"test list\"\n";

/* Many apex TXT records, to overflow 512 bytes. */
static const char BIGZONE[] =
    "$ORIGIN big.test.\n$TTL 60\n"
    "@ IN SOA ns1.big.test. h.big.test. ( 1 3600 900 604800 600 )\n"
    "@ IN NS ns1.big.test.\n"
    "@ IN TXT \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1\"\n"
    "@ IN TXT \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2\"\n"
    "@ IN TXT \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3\"\n"
    "@ IN TXT \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa4\"\n"
    "@ IN TXT \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa5\"\n"
    "@ IN TXT \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6\"\n";

static void
list(const char *s, uint32_t last, const char *text)
{
	if (fixture_list(st, s, last, text) == -1)
		abort();
}

static void
exclude(const char *s)
{
	if (fixture_exclude(st, s, "x") == -1)
		abort();
}

/* Sends raw query bytes; returns the parsed reply or NULL (no reply). */
static ldns_pkt *
raw(const uint8_t *q, size_t len, int tcp, size_t *rlen)
{
	static uint8_t	 out[70000];
	ldns_pkt	*p = NULL;
	size_t		 n;

	if (answer_query_client(zs, rd, &conf, client, q, len, out,
	    tcp ? 65535 : 4096, &n, tcp, &cnt) != ANSWER_PROCESSED)
		n = 0;
	if (rlen)
		*rlen = n;
	if (n == 0 || ldns_wire2pkt(&p, out, n) != LDNS_STATUS_OK)
		return NULL;
	return p;
}

/* Asks name/type; edns is the payload size to advertise (0: no OPT). */
static ldns_pkt *
ask_full(const char *name, ldns_rr_type type, int edns, int version,
    size_t *rlen)
{
	ldns_pkt	*q, *r;
	uint8_t		*wire;
	size_t		 len;

	if (ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN,
	    LDNS_RD) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_set_id(q, 4242);
	if (edns) {
		ldns_pkt_set_edns_udp_size(q, edns);
		ldns_pkt_set_edns_version(q, version);
		ldns_pkt_set_edns_do(q, 1);
	}
	if (ldns_pkt2wire(&wire, q, &len) != LDNS_STATUS_OK)
		abort();
	r = raw(wire, len, 0, rlen);
	free(wire);
	ldns_pkt_free(q);
	return r;
}

static ldns_pkt *
ask(const char *name, ldns_rr_type type)
{
	return ask_full(name, type, 1232, 0, NULL);
}

static int
rcode(ldns_pkt *p)
{
	return p ? (int)ldns_pkt_get_rcode(p) : -1;
}

/* The first answer record's rdata as text, or "". */
static const char *
first(ldns_pkt *p, int section)
{
	static char	 buf[512];
	ldns_rr_list	*l;
	char		*s;

	buf[0] = '\0';
	if (p == NULL)
		return buf;
	l = section == 0 ? ldns_pkt_answer(p) : ldns_pkt_authority(p);
	if (ldns_rr_list_rr_count(l) == 0)
		return buf;
	if ((s = ldns_rr2str(ldns_rr_list_rr(l, 0))) != NULL) {
		snprintf(buf, sizeof(buf), "%s", s);
		buf[strcspn(buf, "\n")] = '\0';
		free(s);
	}
	return buf;
}

static void
test_listed(void)
{
	ldns_pkt *p;

	list("192.0.2.1", 3, "");
	list("198.51.100.0/24", 2, "own text for $ here");
	p = ask("1.2.0.192.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NOERROR, "listed: NOERROR");
	ok(p && ldns_pkt_aa(p) && !ldns_pkt_ra(p) && ldns_pkt_rd(p) &&
	    ldns_pkt_id(p) == 4242, "AA set, RA clear, RD and id copied");
	is_str(first(p, 0), "1.2.0.192.bl.test.\t1800\tIN\tA\t127.0.0.3",
	    "A 127.0.0.3 with the configured TTL");
	ldns_pkt_free(p);
	p = ask("1.2.0.192.bl.test.", LDNS_RR_TYPE_TXT);
	is_str(first(p, 0), "1.2.0.192.bl.test.\t1800\tIN\tTXT\t\"Listed, "
	    "see https://bl.test/?ip=192.0.2.1\"", "TXT from the template");
	ldns_pkt_free(p);
	p = ask("77.100.51.198.bl.test.", LDNS_RR_TYPE_TXT);
	is_str(first(p, 0), "77.100.51.198.bl.test.\t1800\tIN\tTXT\t\"own "
	    "text for 198.51.100.77 here\"", "the listing's own text wins");
	ldns_pkt_free(p);
	p = ask("1.2.0.192.Bl.TeSt.", LDNS_RR_TYPE_A);
	is_str(first(p, 0), "1.2.0.192.Bl.TeSt.\t1800\tIN\tA\t127.0.0.3",
	    "query name case preserved");
	ldns_pkt_free(p);
	p = ask("1.2.0.192.bl.test.", LDNS_RR_TYPE_AAAA);
	ok(rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(p) == 0 &&
	    ldns_pkt_nscount(p) == 1, "other type: NODATA with SOA");
	ldns_pkt_free(p);
	p = ask("1.2.0.192.bl.test.", LDNS_RR_TYPE_ANY);
	ok(rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(p) == 1,
	    "ANY: one record (RFC 8482)");
	ldns_pkt_free(p);
	exclude("198.51.100.77");
	p = ask("77.100.51.198.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NXDOMAIN, "excluded: NXDOMAIN");
	ldns_pkt_free(p);
	p = ask("78.100.51.198.bl.test.", LDNS_RR_TYPE_A);
	is_str(first(p, 0), "78.100.51.198.bl.test.\t1800\tIN\tA\t127.0.0.2",
	    "its neighbour still listed by the /24");
	ldns_pkt_free(p);
}

static void
test_negative(void)
{
	char	 want[256];
	ldns_pkt *p;

	p = ask("2.2.0.192.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NXDOMAIN, "unlisted: NXDOMAIN");
	snprintf(want, sizeof(want), "bl.test.\t600\tIN\tSOA\tns1.bl.test. "
	    "hostmaster.bl.test. %u 3600 900 604800 600", store_serial(rd));
	is_str(first(p, 1), want, "SOA in authority: negative TTL "
	    "min(3600, 600), serial = the store's");
	ldns_pkt_free(p);
	p = ask("2.0.192.bl.test.", LDNS_RR_TYPE_A);
	ok(rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(p) == 0,
	    "empty non-terminal 2.0.192: NODATA");
	ldns_pkt_free(p);
	p = ask("192.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NOERROR, "empty non-terminal 192: NODATA");
	ldns_pkt_free(p);
	p = ask("100.51.198.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NOERROR, "name inside a listed /24: NODATA");
	ldns_pkt_free(p);
	p = ask("3.0.192.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NXDOMAIN, "nothing under 3.0.192");
	ldns_pkt_free(p);
	p = ask("9.1.2.0.192.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NXDOMAIN, "below a listed name");
	ldns_pkt_free(p);
	p = ask("x.y.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NXDOMAIN, "not an address");
	ldns_pkt_free(p);
	p = ask("01.2.0.192.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NXDOMAIN, "leading zero octet");
	ldns_pkt_free(p);
	p = ask("example.com.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_REFUSED, "outside the zones: REFUSED");
	ldns_pkt_free(p);
	p = ask("xbl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_REFUSED, "xbl.test is not in bl.test");
	ldns_pkt_free(p);
	p = ask("bl.test.", LDNS_RR_TYPE_AXFR);
	is_int(rcode(p), LDNS_RCODE_REFUSED, "AXFR over UDP: REFUSED");
	ldns_pkt_free(p);
	/* Over TCP a transfer is the server's to serve: nothing written. */
	for (int k = 0; k < 2; k++) {
		ldns_rr_type t = k ? LDNS_RR_TYPE_IXFR : LDNS_RR_TYPE_AXFR;
		ldns_pkt *q;
		uint8_t *wire, out[512];
		size_t len, n = 99;
		if (ldns_pkt_query_new_frm_str(&q, "bl.test.", t,
		    LDNS_RR_CLASS_IN, 0) != LDNS_STATUS_OK ||
		    ldns_pkt2wire(&wire, q, &len) != LDNS_STATUS_OK)
			abort();
		is_int(answer_query_client(zs, rd, &conf, client, wire, len,
		    out, sizeof(out), &n, 1, &cnt), k ? ANSWER_IN_IXFR :
		    ANSWER_IN_AXFR, "%s over TCP: a transfer follows",
		    k ? "IXFR" : "AXFR");
		is_int((int)n, 0, "  nothing written");
		free(wire);
		ldns_pkt_free(q);
	}
}

static const char *
nibbles(const char *v6)
{
	static char	buf[128];
	struct addr	a;
	const char	*err;
	size_t		n = 0;

	addr_parse(v6, &a, &err);
	for (int i = 31; i >= 0; i--)
		n += snprintf(buf + n, sizeof(buf) - n, "%x.",
		    i % 2 ? a.bytes[i / 2] & 15 : a.bytes[i / 2] >> 4);
	snprintf(buf + n, sizeof(buf) - n, "bl.test.");
	return buf;
}

static void
test_points(void)
{
	ldns_pkt *p;

	p = ask("2.0.0.127.bl.test.", LDNS_RR_TYPE_A);
	is_str(first(p, 0), "2.0.0.127.bl.test.\t1800\tIN\tA\t127.0.0.2",
	    "test point 127.0.0.2 listed");
	ldns_pkt_free(p);
	p = ask("3.0.0.127.bl.test.", LDNS_RR_TYPE_A);
	is_str(first(p, 0), "3.0.0.127.bl.test.\t1800\tIN\tA\t127.0.0.3",
	    "test point per code: 127.0.0.3");
	ldns_pkt_free(p);
	p = ask("4.0.0.127.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NXDOMAIN, "127.0.0.4: code not in use");
	ldns_pkt_free(p);
	p = ask("1.0.0.127.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NXDOMAIN, "127.0.0.1 never listed");
	ldns_pkt_free(p);
	p = ask("0.127.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NOERROR, "0.127: empty non-terminal");
	ldns_pkt_free(p);
	p = ask(nibbles("::ffff:127.0.0.2"), LDNS_RR_TYPE_A);
	ok(strstr(first(p, 0), "127.0.0.2") != NULL, "::FFFF:7F00:2 listed");
	ldns_pkt_free(p);
	p = ask(nibbles("::ffff:127.0.0.1"), LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NXDOMAIN, "::FFFF:7F00:1 not listed");
	ldns_pkt_free(p);
	list("2001:db8::/32", 2, "");
	p = ask(nibbles("2001:db8::1"), LDNS_RR_TYPE_A);
	ok(strstr(first(p, 0), "127.0.0.2") != NULL, "IPv6 in a /32 listed");
	ldns_pkt_free(p);
	p = ask("8.b.d.0.1.0.0.2.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NOERROR, "IPv6 ENT above the /32");
	ldns_pkt_free(p);
	p = ask("2.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NOERROR, "one nibble: ENT across buckets");
	ldns_pkt_free(p);
	p = ask("9.b.d.0.1.0.0.2.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NXDOMAIN, "IPv6 sibling: NXDOMAIN");
	ldns_pkt_free(p);
}

static void
test_apex(void)
{
	ldns_pkt *p;

	p = ask("bl.test.", LDNS_RR_TYPE_SOA);
	ok(strstr(first(p, 0), "SOA\tns1.bl.test.") != NULL &&
	    ldns_pkt_aa(p), "apex SOA");
	ldns_pkt_free(p);
	p = ask("bl.test.", LDNS_RR_TYPE_NS);
	ok(p && ldns_pkt_ancount(p) == 2 && ldns_pkt_arcount(p) == 1,
	    "apex NS, the in-zone glue in additional (ldns keeps OPT apart)");
	ldns_pkt_free(p);
	p = ask("bl.test.", LDNS_RR_TYPE_A);
	is_str(first(p, 0), "bl.test.\t3600\tIN\tA\t192.0.2.80", "apex A");
	ldns_pkt_free(p);
	p = ask("bl.test.", LDNS_RR_TYPE_MX);
	is_str(first(p, 0), "bl.test.\t3600\tIN\tMX\t10 mail.example.",
	    "apex MX");
	ldns_pkt_free(p);
	p = ask("bl.test.", LDNS_RR_TYPE_AAAA);
	ok(rcode(p) == 0 && ldns_pkt_ancount(p) == 0 &&
	    ldns_pkt_nscount(p) == 1, "apex AAAA: NODATA");
	ldns_pkt_free(p);
	p = ask("bl.test.", LDNS_RR_TYPE_ANY);
	ok(rcode(p) == 0 && ldns_pkt_ancount(p) == 1, "apex ANY: one RRset");
	ldns_pkt_free(p);
}

static void
test_edns_and_size(void)
{
	ldns_pkt	*p;
	size_t		 len;

	p = ask_full("1.2.0.192.bl.test.", LDNS_RR_TYPE_A, 1232, 0, NULL);
	ok(p && ldns_pkt_edns(p) && ldns_pkt_edns_do(p) &&
	    ldns_pkt_edns_version(p) == 0, "OPT echoed, version 0, DO copied");
	ldns_pkt_free(p);
	p = ask_full("1.2.0.192.bl.test.", LDNS_RR_TYPE_A, 0, 0, NULL);
	ok(p && !ldns_pkt_edns(p), "no OPT in, no OPT out");
	ldns_pkt_free(p);
	p = ask_full("1.2.0.192.bl.test.", LDNS_RR_TYPE_A, 1232, 1, NULL);
	ok(p && ldns_pkt_edns(p) && ldns_pkt_edns_extended_rcode(p) == 1 &&
	    ldns_pkt_ancount(p) == 0, "EDNS version 1: BADVERS");
	ldns_pkt_free(p);
	p = ask_full("big.test.", LDNS_RR_TYPE_TXT, 0, 0, &len);
	ok(p && ldns_pkt_tc(p) && ldns_pkt_ancount(p) == 0 && len <= 512,
	    "no EDNS, 600 bytes of TXT: TC, empty, %zu <= 512 bytes", len);
	ldns_pkt_free(p);
	p = ask_full("big.test.", LDNS_RR_TYPE_TXT, 300, 0, &len);
	ok(p && ldns_pkt_tc(p) && len <= 512,
	    "EDNS 300 counts as 512: TC (%zu bytes)", len);
	ldns_pkt_free(p);
	p = ask_full("big.test.", LDNS_RR_TYPE_TXT, 4096, 0, &len);
	ok(p && !ldns_pkt_tc(p) && ldns_pkt_ancount(p) == 6 && len <= 1232,
	    "EDNS 4096: all six, within our 1232 (%zu bytes)", len);
	ldns_pkt_free(p);
}

static void
test_bad_packets(void)
{
	/* id 0x0102, RD, QDCOUNT 1, name "a.bl.test" */
	uint8_t		 q[64] = { 1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
	    1, 'a', 2, 'b', 'l', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1 };
	uint8_t		 b[600];
	ldns_pkt	*p;
	size_t		 len;

	p = raw(q, 27, 0, NULL);
	ok(p != NULL, "well-formed raw query answered");
	ldns_pkt_free(p);
	raw(q, 5, 0, &len);
	is_int(len, 0, "5-byte packet: dropped");
	memcpy(b, q, 27);
	b[2] |= 0x80;
	raw(b, 27, 0, &len);
	is_int(len, 0, "a response (QR set): dropped");
	memcpy(b, q, 27);
	b[5] = 2;
	p = raw(b, 27, 0, &len);
	ok(rcode(p) == LDNS_RCODE_FORMERR && len == 12, "QDCOUNT 2: FORMERR");
	ldns_pkt_free(p);
	memcpy(b, q, 12);
	b[12] = 0xc0;
	b[13] = 12;
	b[14] = 0; b[15] = 1; b[16] = 0; b[17] = 1;
	p = raw(b, 18, 0, NULL);
	is_int(rcode(p), LDNS_RCODE_FORMERR, "compression pointer loop: "
	    "FORMERR");
	ldns_pkt_free(p);
	memcpy(b, q, 12);
	b[12] = 40;
	memset(b + 13, 'x', 10);
	p = raw(b, 23, 0, NULL);
	is_int(rcode(p), LDNS_RCODE_FORMERR, "label past the end: FORMERR");
	ldns_pkt_free(p);
	memcpy(b, q, 12);
	for (int i = 0; i < 5; i++) {
		b[12 + i * 64] = 63;
		memset(b + 13 + i * 64, 'y', 63);
	}
	b[12 + 320] = 0;
	memcpy(b + 333, "\0\1\0\1", 4);
	p = raw(b, 337, 0, &len);
	ok(rcode(p) == LDNS_RCODE_FORMERR && len <= 512,
	    "name over 255 bytes: FORMERR");
	ldns_pkt_free(p);
	memcpy(b, q, 27);
	b[2] = (2 << 3) | 1;	/* opcode STATUS */
	p = raw(b, 27, 0, NULL);
	is_int(rcode(p), LDNS_RCODE_NOTIMPL, "opcode STATUS: NOTIMP");
	ldns_pkt_free(p);
	/*
	 * Every header bit set: the reply keeps id, QR and the opcode and
	 * clears AA, TC, RD, RA, Z, AD and CD (defined for QUERY only).
	 */
	memcpy(b, q, 27);
	b[2] = 0x7f;		/* opcode 15, AA, TC, RD */
	b[3] = 0xf0;		/* RA, Z, AD, CD */
	{
		size_t n = 0;
		if (answer_query(zs, rd, &conf, b, 27, out_raw,
		    sizeof(out_raw), &n, 0, &cnt) != ANSWER_PROCESSED)
			n = 0;
		ok(n >= 12 && out_raw[0] == b[0] && out_raw[1] == b[1] &&
		    out_raw[2] == (0x80 | 0x78) && out_raw[3] == 4,
		    "opcode 15 with every flag: QR|opcode, NOTIMP, no other "
		    "bits (got %02x %02x)", out_raw[2], out_raw[3]);
	}
	memcpy(b, q, 27);
	b[26] = 3;		/* class CH */
	p = raw(b, 27, 0, NULL);
	is_int(rcode(p), LDNS_RCODE_REFUSED, "class CH: REFUSED");
	ldns_pkt_free(p);
	/* An OPT with an unknown option: ignored, not echoed. */
	memcpy(b, q, 27);
	b[11] = 1;
	memcpy(b + 27, "\0\0\x29\x04\xd0\0\0\0\0\0\x08\xfd\xe9\0\x04" "abcd", 19);
	p = raw(b, 46, 0, &len);
	ok(rcode(p) == LDNS_RCODE_NXDOMAIN && ldns_pkt_edns(p) &&
	    (ldns_pkt_edns_data(p) == NULL ||
	    ldns_rdf_size(ldns_pkt_edns_data(p)) == 0),
	    "unknown EDNS option ignored, not echoed");
	ldns_pkt_free(p);
	b[11] = 2;
	memcpy(b + 46, b + 27, 19);
	p = raw(b, 65, 0, NULL);
	is_int(rcode(p), LDNS_RCODE_FORMERR, "two OPT records: FORMERR");
	ldns_pkt_free(p);
	b[11] = 1;
	b[27 + 13] = 9;		/* option longer than the rdata */
	p = raw(b, 46, 0, NULL);
	is_int(rcode(p), LDNS_RCODE_FORMERR, "malformed OPT rdata: FORMERR");
	ldns_pkt_free(p);
	p = raw(q, 27, 1, NULL);
	ok(p != NULL && !ldns_pkt_tc(p), "the same query over TCP");
	ldns_pkt_free(p);
}

/*
 * answer_query() routes by opcode before any QUERY logic: what it returns
 * for each kind of message, and that no opcode but QUERY is read further.
 */
static void
test_states(void)
{
	/* id 0x0102, RD, QDCOUNT 1, name "a.bl.test" */
	uint8_t		 q[27] = { 1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
	    1, 'a', 2, 'b', 'l', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1 };
	uint8_t		 b[27];
	size_t		 n = 99;

	ok(answer_query(zs, rd, &conf, q, sizeof(q), out_raw, sizeof(out_raw),
	    &n, 0, &cnt) == ANSWER_PROCESSED && n > 27,
	    "a query: PROCESSED with its length");
	memcpy(b, q, sizeof(b));
	b[2] |= 0x80;
	ok(answer_query(zs, rd, &conf, b, sizeof(b), out_raw, sizeof(out_raw),
	    &n, 0, &cnt) == ANSWER_DISCARDED && n == 0,
	    "a response: DISCARDED, length 0");
	ok(answer_query(zs, rd, &conf, q, sizeof(q), out_raw, 11, &n, 0,
	    &cnt) == ANSWER_DISCARDED && n == 0,
	    "no room for a header: DISCARDED");
	memcpy(b, q, sizeof(b));
	b[2] = (4 << 3) | 1;	/* NOTIFY, RD */
	ok(answer_query(zs, rd, &conf, b, sizeof(b), out_raw, sizeof(out_raw),
	    &n, 0, &cnt) == ANSWER_PROCESSED && n == 12 &&
	    out_raw[2] == (0x80 | (4 << 3)) && out_raw[3] == 4,
	    "NOTIFY: NOTIMP, header only, RD not copied");
	b[5] = 0;		/* and QDCOUNT 0: not read, still NOTIMP */
	ok(answer_query(zs, rd, &conf, b, sizeof(b), out_raw, sizeof(out_raw),
	    &n, 0, &cnt) == ANSWER_PROCESSED && n == 12 && out_raw[3] == 4,
	    "malformed NOTIFY: NOTIMP, not FORMERR");
	memcpy(b, q, sizeof(b));
	b[5] = 0;
	ok(answer_query(zs, rd, &conf, b, sizeof(b), out_raw, sizeof(out_raw),
	    &n, 0, &cnt) == ANSWER_PROCESSED && n == 12 &&
	    out_raw[2] == 0x81 && out_raw[3] == 1,
	    "malformed QUERY: FORMERR, RD copied");
}

#define KEY	"k4d9w2m0c7hq1xz5b8nf3tpv6e"
#define KEY2	"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"

/* The client's rule and the keys: refuse, error, key queries. */
static void
test_clients(void)
{
	static const char keytext[] = "isp-one " KEY "\nisp-two " KEY2 "\n";
	struct keyset		*ks = keys_parse(keytext, strlen(keytext), "k");
	struct answer_client	 cl = { ACCESS_REFUSE, ks };
	struct answer_counters	 before = cnt;
	ldns_pkt		*p;

	ok(ks != NULL && keys_count(ks) == 2, "two keys");
	client = &cl;
	list("192.0.2.99", 2, "");
	p = ask("99.2.0.192.bl.test.", LDNS_RR_TYPE_A);
	ok(rcode(p) == LDNS_RCODE_REFUSED && !ldns_pkt_aa(p) &&
	    ldns_pkt_ancount(p) == 0, "refuse: REFUSED, AA clear, nothing");
	ldns_pkt_free(p);
	p = ask("bl.test.", LDNS_RR_TYPE_SOA);
	is_int(rcode(p), LDNS_RCODE_REFUSED, "refuse: the apex too");
	ldns_pkt_free(p);
	p = ask(KEY ".99.2.0.192.bl.test.", LDNS_RR_TYPE_A);
	is_str(first(p, 0), KEY ".99.2.0.192.bl.test.\t1800\tIN\tA\t"
	    "127.0.0.2", "refuse, with a key: answered as 99.2.0.192");
	ldns_pkt_free(p);
	p = ask("K4D9W2M0C7HQ1XZ5B8NF3TPV6E.2.0.0.127.bl.test.",
	    LDNS_RR_TYPE_A);
	is_str(first(p, 0), "K4D9W2M0C7HQ1XZ5B8NF3TPV6E.2.0.0.127.bl.test."
	    "\t1800\tIN\tA\t127.0.0.2", "  key in capitals, test point");
	ldns_pkt_free(p);
	p = ask(KEY2 ".1.0.0.127.bl.test.", LDNS_RR_TYPE_A);
	ok(rcode(p) == LDNS_RCODE_NXDOMAIN && ldns_pkt_aa(p),
	    "  the other key, 127.0.0.1: NXDOMAIN");
	ldns_pkt_free(p);
	p = ask(KEY ".2.0.192.bl.test.", LDNS_RR_TYPE_A);
	ok(rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(p) == 0,
	    "  key and an empty non-terminal: NODATA");
	ldns_pkt_free(p);
	p = ask(KEY ".bl.test.", LDNS_RR_TYPE_SOA);
	ok(rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(p) == 1,
	    "  key and the apex: the SOA");
	ldns_pkt_free(p);
	p = ask(KEY ".99.2.0.192.bl.test.", LDNS_RR_TYPE_TXT);
	ok(strstr(first(p, 0), "TXT") != NULL, "  TXT with a key");
	ldns_pkt_free(p);
	p = ask("aaaaaaaaaaaaaaaaaaaaaaaaaa.99.2.0.192.bl.test.",
	    LDNS_RR_TYPE_A);
	is_str(first(p, 0), "aaaaaaaaaaaaaaaaaaaaaaaaaa.99.2.0.192.bl.test."
	    "\t600\tIN\tA\t127.255.255.254", "unknown key: the error A");
	ldns_pkt_free(p);
	is_int(cnt.key_queries - before.key_queries, 7, "7 key queries");
	is_int(cnt.key_unknown - before.key_unknown, 1, "  1 unknown");
	is_int(cnt.access_refused - before.access_refused, 2, "2 refused");

	cl.action = ACCESS_ERROR;
	p = ask("99.2.0.192.bl.test.", LDNS_RR_TYPE_A);
	ok(rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_aa(p) &&
	    ldns_pkt_ancount(p) == 1, "error: NOERROR, AA, one record");
	is_str(first(p, 0), "99.2.0.192.bl.test.\t600\tIN\tA\t"
	    "127.255.255.254", "  listed: A 127.255.255.254, negative TTL");
	ldns_pkt_free(p);
	p = ask("1.1.1.1.bl.test.", LDNS_RR_TYPE_A);
	is_str(first(p, 0), "1.1.1.1.bl.test.\t600\tIN\tA\t"
	    "127.255.255.254", "  unlisted: the same");
	ldns_pkt_free(p);
	p = ask("2.0.0.127.bl.test.", LDNS_RR_TYPE_A);
	is_str(first(p, 0), "2.0.0.127.bl.test.\t600\tIN\tA\t"
	    "127.255.255.254", "  the test point: the same");
	ldns_pkt_free(p);
	p = ask("www.bl.test.", LDNS_RR_TYPE_ANY);
	is_str(first(p, 0), "www.bl.test.\t600\tIN\tA\t127.255.255.254",
	    "  any name, ANY: the same");
	ldns_pkt_free(p);
	p = ask("1.1.1.1.bl.test.", LDNS_RR_TYPE_TXT);
	is_str(first(p, 0), "1.1.1.1.bl.test.\t600\tIN\tTXT\t\"Not "
	    "served to this client (a public resolver, or an unknown key): "
	    "query from your own resolver\"", "  TXT: why");
	ldns_pkt_free(p);
	p = ask("1.1.1.1.bl.test.", LDNS_RR_TYPE_AAAA);
	ok(rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(p) == 0 &&
	    ldns_pkt_nscount(p) == 1, "  AAAA: NODATA");
	ldns_pkt_free(p);
	p = ask("bl.test.", LDNS_RR_TYPE_NS);
	ok(rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(p) == 2,
	    "  the apex NS: as usual");
	ldns_pkt_free(p);
	p = ask("example.com.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_REFUSED, "  outside the zones: REFUSED");
	ldns_pkt_free(p);
	p = ask(KEY ".99.2.0.192.bl.test.", LDNS_RR_TYPE_A);
	is_str(first(p, 0), KEY ".99.2.0.192.bl.test.\t1800\tIN\tA\t"
	    "127.0.0.2", "error, with a key: answered");
	ldns_pkt_free(p);

	cl.action = ACCESS_ANSWER;
	cl.keys = NULL;
	p = ask(KEY ".99.2.0.192.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NXDOMAIN, "no keys served: a key label "
	    "is just a name (NXDOMAIN)");
	ldns_pkt_free(p);
	cl.keys = ks;
	p = ask("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.bl.test.",
	    LDNS_RR_TYPE_TXT);
	ok(strstr(first(p, 0), "Not served") != NULL,
	    "answer, unknown key: the error TXT");
	ldns_pkt_free(p);
	p = ask("aaaaaaaaaaaaaaaaaaaaaaaaa.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NXDOMAIN, "25 characters: not a key");
	ldns_pkt_free(p);
	client = NULL;
	keys_free(ks);
}

/* What a slipped response is: header and question, TC, no records. */
static void
test_slip(void)
{
	ldns_pkt	*q, *p = NULL;
	uint8_t		*wire, out[4096];
	size_t		 len, n;

	if (ldns_pkt_query_new_frm_str(&q, "99.2.0.192.bl.test.",
	    LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK ||
	    ldns_pkt2wire(&wire, q, &len) != LDNS_STATUS_OK)
		abort();
	answer_query(zs, rd, &conf, wire, len, out, sizeof(out), &n, 0,
	    &cnt);
	answer_slip(out, &n);
	is_int(n, len, "slipped: as long as the query (no OPT in it)");
	ok(ldns_wire2pkt(&p, out, n) == LDNS_STATUS_OK && ldns_pkt_tc(p) &&
	    ldns_pkt_qdcount(p) == 1 && ldns_pkt_ancount(p) == 0 &&
	    ldns_pkt_nscount(p) == 0 && ldns_pkt_arcount(p) == 0 &&
	    ldns_pkt_qr(p), "  TC, QR, the question, no records");
	ldns_pkt_free(p);
	n = 5;
	answer_slip(out, &n);
	is_int(n, 5, "  shorter than a header: left alone");
	free(wire);
	ldns_pkt_free(q);
}

static void
test_zone_errors(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "$ORIGIN x.test.\n@ 60 IN NS ns.\n", "no SOA" },
		{ "$ORIGIN x.test.\n@ 60 IN SOA a. b. 1 2 3 4 5\n", "no NS" },
		{ "$ORIGIN x.test.\n@ 60 IN SOA a. b. 1 2 3 4 5\n@ 60 NS a.\n"
		    "@ 60 IN A not-an-address\n", "bad rdata" },
		{ "@ 60 IN SOA a. b. 1 2 3\n", "short SOA" },
	};
	char	path[300], *files[1] = { path };

	snprintf(path, sizeof(path), "%s/bad.zone", tmpdir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fixture_write(path, bad[i].text);
		ok(zoneset_load(files, 1, NULL) == NULL, "zone refused: %s",
		    bad[i].why);
	}
	snprintf(path, sizeof(path), "%s/missing.zone", tmpdir);
	ok(zoneset_load(files, 1, NULL) == NULL, "missing zone file refused");
	snprintf(path, sizeof(path), "%s/bl.test.zone", tmpdir);
	char *two[2] = { path, path };
	ok(zoneset_load(two, 2, NULL) == NULL, "one apex twice refused");
}

static void
test_live(void)
{
	ldns_pkt	*p;
	struct store_txn *t;
	struct addr	 a;
	const char	*err;

	p = ask("7.113.0.203.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NXDOMAIN, "before the listing");
	ldns_pkt_free(p);
	list("203.0.113.7", 2, "");
	p = ask("7.113.0.203.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NOERROR, "next query after the commit");
	ldns_pkt_free(p);
	t = store_begin(st, "test");
	addr_parse("203.0.113.7", &a, &err);
	store_unlist(t, &a, NULL);
	store_commit(t);
	p = ask("7.113.0.203.bl.test.", LDNS_RR_TYPE_A);
	is_int(rcode(p), LDNS_RCODE_NXDOMAIN, "next query after removal");
	ldns_pkt_free(p);
}

int
main(void)
{
	char	path[300], *files[2], bigpath[300];

	log_init("test_answer", 0);
	tmpdir = fixture_dir();
	snprintf(path, sizeof(path), "%s/bl.test.zone", tmpdir);
	snprintf(bigpath, sizeof(bigpath), "%s/big.test.zone", tmpdir);
	fixture_write(path, ZONE);
	fixture_write(bigpath, BIGZONE);
	files[0] = path;
	files[1] = bigpath;
	st = fixture_store();
	rd = store_reader_new(st);
	zs = zoneset_load(files, 2, NULL);
	ok(st && rd && zs && zs->n == 2, "store and two zones loaded");
	answer_conf_init(&conf);
	conf.test_code[3] = 1;
	snprintf(conf.txt_template, sizeof(conf.txt_template),
	    "Listed, see https://bl.test/?ip=$");
	test_listed();
	test_negative();
	test_points();
	test_apex();
	test_edns_and_size();
	test_bad_packets();
	test_states();
	test_live();
	test_clients();
	test_slip();
	test_zone_errors();
	zoneset_free(zs);
	store_reader_free(rd);
	store_close(st);
	return tap_done();
}
