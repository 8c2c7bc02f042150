/*
 * test_addr.c -- unit tests for addr.c
 *
 * Every form the header and the rbldnsd manual promise, each error case
 * with its message, the exact range splits, and the edges of every
 * special-use range, one address inside and one outside on each side.
 */
#include <string.h>

#include "addr.h"
#include "tap.h"

static void	 parse_ok(const char *, const char *);
static void	 parse_fail(const char *, const char *);
static void	 entry_ok(const char *, const char *);
static void	 entry_fail(const char *, int, const char *);
static struct addr pfx(const char *);
static const char *esc(const char *);
static void	 test_parse(void);
static void	 test_parse_errors(void);
static void	 test_roundtrip(void);
static void	 test_entry(void);
static void	 test_entry_errors(void);
static void	 test_entry_max(void);
static void	 test_mask(void);
static void	 test_contains(void);
static void	 test_special(void);

/* Test names are one line each: control characters are shown as \ooo. */
static const char *
esc(const char *in)
{
	static char	 buf[256];
	size_t		 n = 0;

	for (; *in != '\0' && n + 5 < sizeof(buf); in++) {
		if ((unsigned char)*in < 0x20)
			n += snprintf(buf + n, sizeof(buf) - n, "\\%03o",
			    (unsigned char)*in);
		else
			buf[n++] = *in;
	}
	buf[n] = '\0';
	return buf;
}

/* addr_parse must succeed and format as want. */
static void
parse_ok(const char *in, const char *want)
{
	struct addr	 a;
	const char	*err = NULL;
	char		 buf[ADDR_STRLEN];

	if (addr_parse(in, &a, &err) == -1) {
		ok(0, "parse \"%s\"", in);
		printf("#   error: %s\n", err);
		return;
	}
	is_str(addr_format(&a, buf), want, "parse \"%s\" = %s", in, want);
}

static void
parse_fail(const char *in, const char *want)
{
	struct addr	 a;
	const char	*err = NULL;
	char		 buf[ADDR_STRLEN];

	if (addr_parse(in, &a, &err) == 0) {
		ok(0, "parse \"%s\" fails", in);
		printf("#   got %s\n", addr_format(&a, buf));
		return;
	}
	is_str(err, want, "parse \"%s\" fails: %s", esc(in), want);
}

/* addr_parse_entry must succeed; want is the prefixes, space-separated. */
static void
entry_ok(const char *in, const char *want)
{
	struct addr	 out[64];
	const char	*err = NULL;
	char		 got[64 * ADDR_STRLEN], buf[ADDR_STRLEN];
	int		 i, n;

	got[0] = '\0';
	if ((n = addr_parse_entry(in, out, 64, &err)) == -1)
		snprintf(got, sizeof(got), "error: %s", err);
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(got, " ");
		strcat(got, addr_format(&out[i], buf));
	}
	is_str(got, want, "entry \"%s\" = %s", in, want);
}

static void
entry_fail(const char *in, int max, const char *want)
{
	struct addr	 out[64];
	const char	*err = NULL;
	int		 n;

	n = addr_parse_entry(in, out, max, &err);
	if (n != -1) {
		ok(0, "entry \"%s\" fails", in);
		printf("#   got %d prefixes\n", n);
		return;
	}
	is_str(err, want, "entry \"%s\" (max %d) fails: %s", esc(in), max,
	    want);
}

/* For tests whose subject is not parsing: in must be valid. */
static struct addr
pfx(const char *in)
{
	struct addr	 a;
	const char	*err;

	if (addr_parse(in, &a, &err) == -1) {
		ok(0, "test input \"%s\" parses", in);
		printf("#   error: %s\n", err);
		memset(&a, 0, sizeof(a));
	}
	return a;
}

static void
test_parse(void)
{
	struct addr	 a;
	const char	*err;

	parse_ok("1.2.3.4", "1.2.3.4");
	parse_ok("1.2.3.4/32", "1.2.3.4");
	parse_ok("1.2.3.0/24", "1.2.3.0/24");
	parse_ok("10.0.0.0/8", "10.0.0.0/8");
	parse_ok("128.0.0.0/1", "128.0.0.0/1");
	parse_ok("0.0.0.0/0", "0.0.0.0/0");
	parse_ok("0.0.0.0", "0.0.0.0");
	parse_ok("255.255.255.255", "255.255.255.255");
	parse_ok("255.255.255.255/32", "255.255.255.255");
	parse_ok("255.255.255.254/31", "255.255.255.254/31");
	parse_ok("2001:db8::1", "2001:db8::1");
	parse_ok("2001:db8::/32", "2001:db8::/32");
	parse_ok("2001:DB8::1", "2001:db8::1");
	parse_ok("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
	parse_ok("::/0", "::/0");
	parse_ok("::", "::");
	parse_ok("::1", "::1");
	parse_ok("::1/128", "::1");
	parse_ok("8000::/1", "8000::/1");
	parse_ok("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	parse_ok("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
	parse_ok("::ffff:1.2.3.4", "::ffff:1.2.3.4");
	parse_ok("::ffff:0.0.0.0/96", "::ffff:0.0.0.0/96");

	is_int(addr_parse("1.2.3.0/24", &a, &err), 0, "parse 1.2.3.0/24");
	is_int(a.family, ADDR_V4, "family is ADDR_V4");
	is_int(a.plen, 24, "plen is 24");
	ok(memcmp(a.bytes, "\1\2\3\0", 4) == 0, "bytes in network order");
	is_int(addr_len(&a), 4, "addr_len v4");
	is_int(addr_maxplen(&a), 32, "addr_maxplen v4");
	is_int(addr_parse("2001:db8::1", &a, &err), 0, "parse 2001:db8::1");
	is_int(a.family, ADDR_V6, "family is ADDR_V6");
	is_int(a.plen, 128, "plen is 128 without /len");
	ok(a.bytes[0] == 0x20 && a.bytes[1] == 0x01 && a.bytes[2] == 0x0d &&
	    a.bytes[3] == 0xb8 && a.bytes[15] == 1, "v6 bytes in order");
	is_int(addr_len(&a), 16, "addr_len v6");
	is_int(addr_maxplen(&a), 128, "addr_maxplen v6");
	is_int(addr_parse("1.2.3.4", &a, NULL), 0, "err may be NULL");
	is_int(addr_parse("x", &a, NULL), -1, "err may be NULL on failure");
}

static void
test_parse_errors(void)
{
	const char	*notaddr = "not an IPv4 or IPv6 address";
	const char	*hostbits = "host bits set beyond the prefix length";
	const char	*range = "prefix length out of range";
	const char	*badlen = "malformed prefix length";

	parse_fail("", "empty address");
	parse_fail("/", "missing address");
	parse_fail("/24", "missing address");
	parse_fail("1.2.3.4/", "missing prefix length");
	parse_fail("2001:db8::/", "missing prefix length");
	parse_fail("1.2.3.4/24", hostbits);
	parse_fail("1.2.3.4/0", hostbits);
	parse_fail("1.2.3.1/31", hostbits);
	parse_fail("2001:db8::/16", hostbits);
	parse_fail("2001:db8::1/127", hostbits);
	parse_fail("::1/0", hostbits);
	parse_fail("1.2.3.0/33", range);
	parse_fail("1.2.3.0/255", range);
	parse_fail("1.2.3.0/99999999999999999999", range);
	parse_fail("2001:db8::/129", range);
	parse_fail("1.2.3.0/024", "leading zero in prefix length");
	parse_fail("0.0.0.0/00", "leading zero in prefix length");
	parse_fail("1.2.3.0/+24", badlen);
	parse_fail("1.2.3.0/-24", badlen);
	parse_fail("::/-0", badlen);
	parse_fail("1.2.3.0/24x", badlen);
	parse_fail("1.2.3.0/2 4", badlen);
	parse_fail("1.2.3.0/ 24", badlen);
	parse_fail("1.2.3.0/24 ", badlen);
	parse_fail("1.2.3.0/24/24", badlen);
	parse_fail("1.2.3.0/0x18", badlen);
	parse_fail(" 1.2.3.4", notaddr);
	parse_fail("1.2.3.4 ", notaddr);
	parse_fail("1.2.3.4\n", notaddr);
	parse_fail("\t1.2.3.4", notaddr);
	parse_fail("1.2.3", notaddr);
	parse_fail("127.0.0", notaddr);
	parse_fail("1.2.3.4.5", notaddr);
	parse_fail("1.2.3.256", notaddr);
	parse_fail("01.2.3.4", notaddr);
	parse_fail("1.2.3.04", notaddr);
	parse_fail("1..2.3", notaddr);
	parse_fail("1.2.3.", notaddr);
	parse_fail(".1.2.3", notaddr);
	parse_fail("1.2.3.4x", notaddr);
	parse_fail("1.2.3.-4", notaddr);
	parse_fail("0x1.2.3.4", notaddr);
	parse_fail("1.2.3.4-5", notaddr);
	parse_fail("abc", notaddr);
	parse_fail("2001:db8::1::2", notaddr);
	parse_fail("2001:db8:1", notaddr);
	parse_fail("2001:db8::1 ", notaddr);
	parse_fail("fe80::1%eth0", notaddr);
	parse_fail("12345::", notaddr);
	parse_fail("1:2:3:4:5:6:7:8:9", notaddr);
	parse_fail("::ffff:1.2.3.04", notaddr);
	parse_fail("2001:db8::1-2001:db8::2", notaddr);
	parse_fail("[2001:db8::1]", notaddr);
	parse_fail("1111:2222:3333:4444:5555:6666:255.255.255.255:1", notaddr);
}

/* format, then parse again: the same struct, byte for byte. */
static void
test_roundtrip(void)
{
	static const char *const in[] = {
		"0.0.0.0/0", "0.0.0.0", "1.2.3.4", "1.2.3.0/24",
		"255.255.255.255", "128.0.0.0/1", "::/0", "::", "::1",
		"2001:db8::/32", "2001:db8::1", "::ffff:1.2.3.4", "::1.2.3.4",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::/10",
		"1:2:3:4:5:6:7:0", "1:0:0:1::/64",
	};
	struct addr	 a, b;
	const char	*err;
	char		 buf[ADDR_STRLEN];
	size_t		 i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		a = pfx(in[i]);
		ok(addr_parse(addr_format(&a, buf), &b, &err) == 0 &&
		    memcmp(&a, &b, sizeof(a)) == 0, "round trip %s", in[i]);
	}
}

static void
test_entry(void)
{
	const char	*net24 = "127.0.0.0/24";
	const char	*net12 = "127.16.0.0/12";

	/* the rbldnsd manual's two lists of equivalent forms */
	entry_ok("127.0.0.0/24", net24);
	entry_ok("127.0.0", net24);
	entry_ok("127/24", net24);
	entry_ok("127-127.0.0", net24);
	entry_ok("127.0.0.0-127.0.0.255", net24);
	entry_ok("127.0.0.0-255", net24);
	entry_ok("127.0.0.1-255", "127.0.0.1 127.0.0.2/31 127.0.0.4/30 "
	    "127.0.0.8/29 127.0.0.16/28 127.0.0.32/27 127.0.0.64/26 "
	    "127.0.0.128/25");
	entry_ok("127.16.0.0-127.31.255.255", net12);
	entry_ok("127.16.0-127.31.255", net12);
	entry_ok("127.16-127.31", net12);
	entry_ok("127.16-31", net12);
	entry_ok("127.16.0.0/12", net12);
	entry_ok("127.16.0/12", net12);
	entry_ok("127.16/12", net12);

	/* abbreviated prefixes: k octets mean /8k */
	entry_ok("127", "127.0.0.0/8");
	entry_ok("10.1", "10.1.0.0/16");
	entry_ok("10.1/16", "10.1.0.0/16");
	entry_ok("10.1.2", "10.1.2.0/24");
	entry_ok("127.0.0/16", "127.0.0.0/16");
	entry_ok("127/8", "127.0.0.0/8");
	entry_ok("127/32", "127.0.0.0");
	entry_ok("0/0", "0.0.0.0/0");
	entry_ok("0", "0.0.0.0/8");
	entry_ok("1.2.3.4", "1.2.3.4");
	entry_ok("1.2.3.4/32", "1.2.3.4");
	entry_ok("1.2.3.0/24", "1.2.3.0/24");
	entry_ok("255.255.255.255", "255.255.255.255");
	entry_ok("0.0.0.0/0", "0.0.0.0/0");

	/* ranges */
	entry_ok("10.0.0.1-10.0.0.6",
	    "10.0.0.1 10.0.0.2/31 10.0.0.4/31 10.0.0.6");
	entry_ok("10.0.0.5-9", "10.0.0.5 10.0.0.6/31 10.0.0.8/31");
	entry_ok("10.0.0.0-10.0.3.255", "10.0.0.0/22");
	entry_ok("10.0.0-10.0.1", "10.0.0.0/23");
	entry_ok("10.0.0.0-10.0.1", "10.0.0.0/23");
	entry_ok("10-20", "10.0.0.0/7 12.0.0.0/6 16.0.0.0/6 20.0.0.0/8");
	entry_ok("0.0.0.0-255.255.255.255", "0.0.0.0/0");
	entry_ok("0-255", "0.0.0.0/0");
	entry_ok("0.0.0.0-0.0.0.0", "0.0.0.0");
	entry_ok("1.2.3.4-1.2.3.4", "1.2.3.4");
	entry_ok("1.2.3.4-4", "1.2.3.4");
	entry_ok("255.255.255.255-255", "255.255.255.255");
	entry_ok("255.255.255.254-255", "255.255.255.254/31");
	entry_ok("255.255.255.0-255.255.255.255", "255.255.255.0/24");
	entry_ok("128.0.0.0-255.255.255.255", "128.0.0.0/1");
	entry_ok("0.0.0.0-127.255.255.255", "0.0.0.0/1");
	entry_ok("0.0.0.1-0.0.0.2", "0.0.0.1 0.0.0.2");
	entry_ok("192.168.1.255-192.168.2.0", "192.168.1.255 192.168.2.0");

	/* IPv6: strict forms, and trailing zero groups left out */
	entry_ok("2001:db8::1", "2001:db8::1");
	entry_ok("2001:db8::/32", "2001:db8::/32");
	entry_ok("::/0", "::/0");
	entry_ok("::", "::");
	entry_ok("::ffff:1.2.3.4", "::ffff:1.2.3.4");
	entry_ok("2001:21ab:c000/36", "2001:21ab:c000::/36");
	entry_ok("2001:21ab:def7:4242", "2001:21ab:def7:4242::/64");
	entry_ok("2001:db8:1", "2001:db8:1::/48");
	entry_ok("2001:db8", "2001:db8::/32");
	entry_ok("2001:db8/32", "2001:db8::/32");
	entry_ok("2001:db8/48", "2001:db8::/48");
	entry_ok("2001:db8/128", "2001:db8::");
	entry_ok("fe80:0/10", "fe80::/10");
	entry_ok("1:2:3:4:5:6:7", "1:2:3:4:5:6:7:0/112");
	entry_ok("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8");
}

static void
test_entry_errors(void)
{
	const char	*badv4 = "malformed IPv4 address";
	const char	*notaddr = "not an IPv4 or IPv6 address";
	const char	*hostbits = "host bits set beyond the prefix length";
	const char	*range = "prefix length out of range";
	const char	*badlen = "malformed prefix length";

	entry_fail("", 64, "empty address");
	entry_fail("/", 64, "missing address");
	entry_fail("/24", 64, "missing address");
	entry_fail("1.2.3.4/", 64, "missing prefix length");
	entry_fail("2001:db8/", 64, "missing prefix length");
	entry_fail("1.2.3.4/24", 64, hostbits);
	entry_fail("127.0.1/16", 64, hostbits);
	entry_fail("10.1/8", 64, hostbits);
	entry_fail("2001:db8:1/32", 64, hostbits);
	entry_fail("2001:db8::1/64", 64, hostbits);
	entry_fail("1.2.3.0/33", 64, range);
	entry_fail("1/33", 64, range);
	entry_fail("2001:db8/129", 64, range);
	entry_fail("1.2.3.0/024", 64, "leading zero in prefix length");
	entry_fail("127/+8", 64, badlen);
	entry_fail("127/-8", 64, badlen);
	entry_fail("1.2.3.0/24 ", 64, badlen);
	entry_fail("1.2.3.0/24-1.2.3.255", 64, badlen);
	entry_fail("1..2", 64, badv4);
	entry_fail("1.2.", 64, badv4);
	entry_fail(".1.2", 64, badv4);
	entry_fail("+1.2.3.4", 64, badv4);
	entry_fail("1.2.-3", 64, badv4);
	entry_fail("a.b.c.d", 64, badv4);
	entry_fail(" 1.2.3.4", 64, badv4);
	entry_fail("1.2.3.4 ", 64, badv4);
	entry_fail("1.2.3.4\n", 64, badv4);
	entry_fail("1.2.3.4 - 1.2.3.5", 64, badv4);
	entry_fail("1.2.3.4x", 64, badv4);
	entry_fail("1-", 64, badv4);
	entry_fail("-1", 64, badv4);
	entry_fail("1.2.3.4-", 64, badv4);
	entry_fail("1-2-3", 64, badv4);
	entry_fail("1.2.3.4-1.2.3.5x", 64, badv4);
	entry_fail("1.2.3.4.5", 64, "too many octets");
	entry_fail("1.2.3.4-1.2.3.4.5", 64, "too many octets");
	entry_fail("256", 64, "octet out of range");
	entry_fail("1.2.3.256", 64, "octet out of range");
	entry_fail("1.2.3.4-256", 64, "octet out of range");
	entry_fail("1.2.3.99999999999", 64, "octet out of range");
	entry_fail("01.2", 64, "leading zero in octet");
	entry_fail("1.2.3.0-09", 64, "leading zero in octet");
	entry_fail("10.0.0.1-10.0.0.0", 64, "range end is before its start");
	entry_fail("127.16-15", 64, "range end is before its start");
	entry_fail("10.0.0.5-4", 64, "range end is before its start");
	entry_fail("1.2.3.0-1.2.3.255/24", 64,
	    "a range takes no prefix length");
	entry_fail("2001:db8::1-2001:db8::2", 64,
	    "IPv6 ranges are not supported");
	entry_fail("2001:db8::1-2", 64, "IPv6 ranges are not supported");
	entry_fail("2001:db8:", 64, notaddr);
	entry_fail(":2001:db8", 64, notaddr);
	entry_fail("2001:db8:::", 64, notaddr);
	entry_fail("2001::db8::1", 64, notaddr);
	entry_fail("12345:1", 64, notaddr);
	entry_fail("2001:db8 ", 64, notaddr);
	entry_fail("1:2:3:4:5:6:7:8:9", 64, notaddr);
	entry_fail("1:2.3.4.5", 64, notaddr);
	entry_fail("fe80::1%1", 64, notaddr);
	entry_fail("1.2.3.4", 0, "no room for a prefix");
	entry_fail("1.2.3.4", -1, "no room for a prefix");
	entry_fail("10.0.0.1-10.0.0.6", 3, "range needs too many prefixes");
	entry_fail("127.0.0.1-255", 7, "range needs too many prefixes");
}

static void
test_entry_max(void)
{
	struct addr	 out[64];
	const char	*err;
	char		 buf[ADDR_STRLEN];

	is_int(addr_parse_entry("10.0.0.1-10.0.0.6", out, 4, &err), 4,
	    "exactly max prefixes fit");
	is_int(addr_parse_entry("0.0.0.1-255.255.255.254", out, 64, &err), 62,
	    "the worst IPv4 range needs 62 prefixes");
	is_str(addr_format(&out[0], buf), "0.0.0.1", "  first 0.0.0.1");
	is_str(addr_format(&out[31], buf), "128.0.0.0/2", "  middle 128/2");
	is_str(addr_format(&out[61], buf), "255.255.255.254",
	    "  last 255.255.255.254");
	entry_fail("0.0.0.1-255.255.255.254", 61,
	    "range needs too many prefixes");
	is_int(addr_parse_entry("1.2.3.4", out, 1, &err), 1,
	    "a single prefix needs max 1");
}

static void
test_mask(void)
{
	struct addr	 a;
	char		 buf[ADDR_STRLEN];

	a = pfx("1.2.3.4");
	a.plen = 24;
	addr_mask(&a);
	is_str(addr_format(&a, buf), "1.2.3.0/24", "mask 1.2.3.4 to /24");
	a = pfx("255.255.255.255");
	a.plen = 31;
	addr_mask(&a);
	is_str(addr_format(&a, buf), "255.255.255.254/31", "mask to /31");
	a = pfx("255.255.255.255");
	a.plen = 1;
	addr_mask(&a);
	is_str(addr_format(&a, buf), "128.0.0.0/1", "mask to /1");
	a = pfx("255.255.255.255");
	a.plen = 0;
	addr_mask(&a);
	is_str(addr_format(&a, buf), "0.0.0.0/0", "mask to /0");
	a = pfx("255.255.255.255");
	addr_mask(&a);
	is_str(addr_format(&a, buf), "255.255.255.255", "/32 unchanged");
	a = pfx("2001:db8::1");
	a.plen = 64;
	addr_mask(&a);
	is_str(addr_format(&a, buf), "2001:db8::/64", "mask v6 to /64");
	a = pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	a.plen = 127;
	addr_mask(&a);
	is_str(addr_format(&a, buf),
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127", "mask v6 to /127");
	a = pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	a.plen = 9;
	addr_mask(&a);
	is_str(addr_format(&a, buf), "ff80::/9", "mask v6 to /9");
	a = pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	addr_mask(&a);
	is_str(addr_format(&a, buf), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "/128 unchanged");
	a = pfx("1.2.3.4");
	a.bytes[4] = 0xff;
	addr_mask(&a);
	is_int(a.bytes[4], 0, "mask clears the unused bytes of v4");
}

static void
test_contains(void)
{
	static const struct {
		const char	*p, *a;
		int		 want;
	} t[] = {
		{ "10.0.0.0/8", "10.1.2.3", 1 },
		{ "10.0.0.0/8", "10.255.255.255", 1 },
		{ "10.0.0.0/8", "10.255.0.0/16", 1 },
		{ "10.0.0.0/8", "10.0.0.0/8", 1 },
		{ "10.0.0.0/8", "11.0.0.0", 0 },
		{ "10.0.0.0/8", "9.255.255.255", 0 },
		{ "10.0.0.0/8", "10.0.0.0/7", 0 },
		{ "10.0.0.0/16", "10.0.0.0/8", 0 },
		{ "10.0.0.0/31", "10.0.0.1", 1 },
		{ "10.0.0.0/31", "10.0.0.2", 0 },
		{ "10.0.0.0/9", "10.127.255.255", 1 },
		{ "10.0.0.0/9", "10.128.0.0", 0 },
		{ "1.2.3.4", "1.2.3.4", 1 },
		{ "1.2.3.4", "1.2.3.5", 0 },
		{ "0.0.0.0/0", "255.255.255.255", 1 },
		{ "0.0.0.0/0", "0.0.0.0/0", 1 },
		{ "0.0.0.0/0", "::", 0 },
		{ "0.0.0.0/0", "::/0", 0 },
		{ "0.0.0.0/0", "::ffff:1.2.3.4", 0 },
		{ "::/0", "0.0.0.0", 0 },
		{ "::/0", "1.2.3.4", 0 },
		{ "::/0", "::ffff:1.2.3.4", 1 },
		{ "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "::ffff:0.0.0.0/96", "1.2.3.4", 0 },
		{ "::", "0.0.0.0", 0 },
		{ "2001:db8::/32", "2001:db8:ffff::/48", 1 },
		{ "2001:db8::/32", "2001:db8::1", 1 },
		{ "2001:db8::/32", "2001:db9::", 0 },
		{ "2001:db8::/32", "2001:db8::/31", 0 },
		{ "2001:db8::/48", "2001:db8::/32", 0 },
		{ "::/127", "::1", 1 },
		{ "::/127", "::2", 0 },
		{ "::1", "::1", 1 },
		{ "::1", "::", 0 },
		{ "fe80::/10", "febf::1", 1 },
		{ "fe80::/10", "fec0::1", 0 },
	};
	struct addr	 p, a;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p = pfx(t[i].p);
		a = pfx(t[i].a);
		is_int(addr_contains(&p, &a), t[i].want, "%s %s %s", t[i].p,
		    t[i].want ? "contains" : "does not contain", t[i].a);
	}
}

static void
test_special(void)
{
	static const struct {
		const char	*a;
		int		 want;
	} t[] = {
		{ "0.0.0.0", 1 }, { "0.255.255.255", 1 }, { "1.0.0.0", 0 },
		{ "1.1.1.1", 0 }, { "8.8.8.8", 0 },
		{ "9.255.255.255", 0 }, { "10.0.0.0", 1 },
		{ "10.255.255.255", 1 }, { "11.0.0.0", 0 },
		{ "100.63.255.255", 0 }, { "100.64.0.0", 1 },
		{ "100.127.255.255", 1 }, { "100.128.0.0", 0 },
		{ "126.255.255.255", 0 }, { "127.0.0.1", 1 },
		{ "127.255.255.255", 1 }, { "128.0.0.0", 0 },
		{ "169.253.255.255", 0 }, { "169.254.0.0", 1 },
		{ "169.254.255.255", 1 }, { "169.255.0.0", 0 },
		{ "172.15.255.255", 0 }, { "172.16.0.0", 1 },
		{ "172.31.255.255", 1 }, { "172.32.0.0", 0 },
		{ "191.255.255.255", 0 }, { "192.0.0.0", 1 },
		{ "192.0.0.255", 1 }, { "192.0.1.0", 0 },
		{ "192.0.1.255", 0 }, { "192.0.2.0", 1 },
		{ "192.0.2.255", 1 }, { "192.0.3.0", 0 },
		{ "192.88.98.255", 0 }, { "192.88.99.0", 1 },
		{ "192.88.99.255", 1 }, { "192.88.100.0", 0 },
		{ "192.167.255.255", 0 }, { "192.168.0.0", 1 },
		{ "192.168.255.255", 1 }, { "192.169.0.0", 0 },
		{ "198.17.255.255", 0 }, { "198.18.0.0", 1 },
		{ "198.19.255.255", 1 }, { "198.20.0.0", 0 },
		{ "198.51.99.255", 0 }, { "198.51.100.0", 1 },
		{ "198.51.100.255", 1 }, { "198.51.101.0", 0 },
		{ "203.0.112.255", 0 }, { "203.0.113.0", 1 },
		{ "203.0.113.255", 1 }, { "203.0.114.0", 0 },
		{ "223.255.255.255", 0 }, { "224.0.0.0", 1 },
		{ "239.255.255.255", 1 }, { "240.0.0.0", 1 },
		{ "255.255.255.254", 1 }, { "255.255.255.255", 1 },
		/* prefixes overlapping a special range either way */
		{ "0.0.0.0/0", 1 }, { "128.0.0.0/1", 1 }, { "64.0.0.0/2", 1 },
		{ "172.0.0.0/8", 1 }, { "172.16.0.0/16", 1 },
		{ "172.32.0.0/11", 0 }, { "192.0.0.0/23", 1 },
		{ "8.0.0.0/8", 0 }, { "11.0.0.0/8", 0 }, { "1.0.0.0/8", 0 },
		{ "::", 1 }, { "::/0", 1 }, { "::1", 1 }, { "::2", 0 },
		{ "::fffe:ffff:ffff", 0 }, { "::ffff:0:0", 1 },
		{ "::ffff:1.2.3.4", 1 }, { "::ffff:8.8.8.8", 1 },
		{ "::ffff:ffff:ffff", 1 }, { "0:0:0:0:1::", 0 },
		{ "64:ff9b::", 1 }, { "64:ff9b::ffff:ffff", 1 },
		{ "64:ff9b::1:0:0", 0 },
		{ "64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "100::", 1 }, { "100::ffff:ffff:ffff:ffff", 1 },
		{ "100:0:0:1::", 0 },
		{ "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "2001::", 1 },
		{ "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "2001:200::", 0 },
		{ "2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "2001:db8::", 1 }, { "2001:db8::1", 1 },
		{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "2001:db9::", 0 }, { "2001:4860:4860::8888", 0 },
		{ "2002::", 1 },
		{ "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "2003::", 0 }, { "2a00:1450::1", 0 },
		{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "fc00::", 1 }, { "fd12:3456::1", 1 },
		{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "fe00::", 0 },
		{ "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "fe80::", 1 }, { "fe80::1", 1 },
		{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "fec0::", 0 },
		{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "ff00::", 1 }, { "ff02::1", 1 },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "2000::/3", 1 }, { "2001:200::/23", 0 }, { "2400::/6", 0 },
		{ "2001:db8:1::/48", 1 }, { "8000::/1", 1 },
	};
	struct addr	 a;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		a = pfx(t[i].a);
		is_int(addr_is_special(&a), t[i].want, "%s is %sspecial",
		    t[i].a, t[i].want ? "" : "not ");
	}
}

int
main(void)
{
	test_parse();
	test_parse_errors();
	test_roundtrip();
	test_entry();
	test_entry_errors();
	test_entry_max();
	test_mask();
	test_contains();
	test_special();
	return tap_done();
}
