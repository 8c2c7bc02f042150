/*
 * test_access.c -- unit tests of the access rules (access.c): the file's
 * syntax and its errors, longest-prefix match with nested and adjacent
 * prefixes in both families, and 10,000 random rules checked against a
 * linear scan of every rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "addr.h"
#include "fixture.h"
#include "log.h"
#include "tap.h"

static struct access *
parse(const char *text)
{
	return access_parse(text, strlen(text), "rules");
}

static int
look(const struct access *ac, const char *s)
{
	struct addr a = fixture_addr(s);

	return access_lookup(ac, &a);
}

static void
test_syntax(void)
{
	struct access *ac;

	ac = parse("# a comment\n\n  192.0.2.0/24 refuse # why\n"
	    "2001:db8::/32\tDROP\r\n198.51.100.7 error\n");
	ok(ac != NULL && access_count(ac) == 3, "three rules, comments, "
	    "blank lines, tabs, CRLF, any case");
	is_int(look(ac, "192.0.2.200"), ACCESS_REFUSE, "in a /24: refuse");
	is_int(look(ac, "2001:db8:1::5"), ACCESS_DROP, "in a /32: drop");
	is_int(look(ac, "198.51.100.7"), ACCESS_ERROR, "a host: error");
	is_int(look(ac, "198.51.100.8"), ACCESS_ANSWER, "no rule: answer");
	is_int(look(ac, "::ffff:192.0.2.1"), ACCESS_REFUSE,
	    "IPv4-mapped IPv6: matched as IPv4");
	access_free(ac);
	ok((ac = parse("")) != NULL && access_count(ac) == 0 &&
	    look(ac, "1.2.3.4") == ACCESS_ANSWER, "empty file: no rules");
	access_free(ac);
	is_int(access_lookup(NULL, &(struct addr){ ADDR_V4, 32,
	    { 1, 2, 3, 4 } }), ACCESS_ANSWER, "no rules at all: answer");
	access_free(NULL);

	ok(parse("192.0.2.0/24 answer\n192.0.2.1/24 refuse\n") == NULL,
	    "host bits set: refused");
	ok(parse("192.0.2.0/24 allow\n") == NULL, "unknown action: refused");
	ok(parse("192.0.2.0/24\n") == NULL, "no action: refused");
	ok(parse("192.0.2.0/24 drop now\n") == NULL, "a third word: refused");
	ok(parse("10/8 drop\n") == NULL, "abbreviated prefix: refused");
	ok(parse("1.2.3.0/24 drop\n1.2.3.0/24 answer\n") == NULL,
	    "the same prefix twice: refused");
	ok(access_parse("1.2.3.4 drop\n\0\n", 15, "r") == NULL,
	    "NUL byte: refused");
	ac = access_parse("1.2.3.4 drop", 12, "r");
	ok(ac != NULL && look(ac, "1.2.3.4") == ACCESS_DROP,
	    "no newline at the end: fine");
	access_free(ac);
	ok(access_load("/nonexistent/access") == NULL, "missing file: NULL");
}

static void
test_nesting(void)
{
	struct access *ac = parse(
	    "0.0.0.0/0 refuse\n"
	    "10.0.0.0/8 answer\n"
	    "10.1.0.0/16 drop\n"
	    "10.1.2.0/24 error\n"
	    "10.1.2.3 answer\n"
	    "10.1.3.0/24 error\n"		/* adjacent to 10.1.2.0/24 */
	    "11.0.0.0/8 drop\n"
	    "255.255.255.255 error\n"
	    "::/0 error\n"
	    "2001:db8::/32 answer\n"
	    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff drop\n"
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128 answer\n");

	ok(ac != NULL, "nested rules");
	is_int(look(ac, "9.255.255.255"), ACCESS_REFUSE, "/0 below 10/8");
	is_int(look(ac, "10.0.0.0"), ACCESS_ANSWER, "first of 10/8");
	is_int(look(ac, "10.1.0.0"), ACCESS_DROP, "first of 10.1/16");
	is_int(look(ac, "10.1.2.2"), ACCESS_ERROR, "in 10.1.2/24");
	is_int(look(ac, "10.1.2.3"), ACCESS_ANSWER, "the host inside");
	is_int(look(ac, "10.1.2.4"), ACCESS_ERROR, "after the host");
	is_int(look(ac, "10.1.3.255"), ACCESS_ERROR, "adjacent /24");
	is_int(look(ac, "10.1.4.0"), ACCESS_DROP, "back in the /16");
	is_int(look(ac, "10.2.0.0"), ACCESS_ANSWER, "back in the /8");
	is_int(look(ac, "11.0.0.0"), ACCESS_DROP, "11/8 right after 10/8");
	is_int(look(ac, "12.0.0.0"), ACCESS_REFUSE, "back in /0");
	is_int(look(ac, "255.255.255.254"), ACCESS_REFUSE, "last but one");
	is_int(look(ac, "255.255.255.255"), ACCESS_ERROR, "last address");
	is_int(look(ac, "::1"), ACCESS_ERROR, "IPv6 /0");
	is_int(look(ac, "2001:db8::"), ACCESS_ANSWER, "IPv6 /32");
	is_int(look(ac, "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe"),
	    ACCESS_ANSWER, "IPv6 /32, last but one");
	is_int(look(ac, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
	    ACCESS_DROP, "IPv6 /32, its last address");
	is_int(look(ac, "2001:db9::"), ACCESS_ERROR, "after the /32");
	is_int(look(ac, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	    ACCESS_ANSWER, "the last IPv6 address");
	access_free(ac);
}

/* A random prefix of family fam, host bits cleared. */
static struct addr
random_prefix(int fam)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	a.family = fam;
	/* Few first bytes, so that prefixes nest and collide often. */
	a.bytes[0] = (uint8_t)(10 + rand() % 4);
	for (size_t i = 1; i < (fam == ADDR_V4 ? 4u : 16u); i++)
		a.bytes[i] = (uint8_t)(i < 3 ? rand() % 8 : rand());
	a.plen = (uint8_t)(fam == ADDR_V4 ? 8 + rand() % 25 :
	    8 + rand() % 121);
	addr_mask(&a);
	return a;
}

static void
test_random(void)
{
	enum { N = 10000, PROBES = 20000 };
	static struct addr	 rules[N];
	static int		 act[N];
	static char		 text[N * 64];
	size_t			 len = 0;
	int			 n = 0, bad = 0;
	struct access		*ac;

	srand(20261129);
	while (n < N) {
		struct addr a = random_prefix(n % 2 ? ADDR_V6 : ADDR_V4);
		int dup = 0;
		for (int j = 0; j < n && !dup; j++)
			dup = rules[j].family == a.family &&
			    rules[j].plen == a.plen &&
			    memcmp(rules[j].bytes, a.bytes, 16) == 0;
		if (dup)
			continue;
		char buf[ADDR_STRLEN];
		rules[n] = a;
		act[n] = rand() % ACCESS_MAX;
		len += snprintf(text + len, sizeof(text) - len, "%s %s\n",
		    addr_format(&a, buf), (const char *[])
		    ACCESS_ACTION_NAMES[act[n]]);
		n++;
	}
	ac = access_parse(text, len, "random");
	ok(ac != NULL && access_count(ac) == N, "10,000 random rules");
	for (int p = 0; p < PROBES; p++) {
		struct addr x = random_prefix(p % 2 ? ADDR_V6 : ADDR_V4);
		int best = -1, want;
		/* Near a rule's edge half the time. */
		if (p % 4 == 0) {
			x = rules[rand() % N];
			x.bytes[x.family == ADDR_V4 ? 3 : 15] ^= 1;
		}
		x.plen = (uint8_t)addr_maxplen(&x);
		for (int j = 0; j < N; j++)
			if (addr_contains(&rules[j], &x) &&
			    (best == -1 || rules[j].plen > rules[best].plen))
				best = j;
		want = best == -1 ? ACCESS_ANSWER : act[best];
		if ((int)access_lookup(ac, &x) != want)
			bad++;
	}
	is_int(bad, 0, "20,000 lookups agree with a scan of every rule");
	access_free(ac);
}

int
main(void)
{
	log_init("test_access", 0);
	test_syntax();
	test_nesting();
	test_random();
	return tap_done();
}
