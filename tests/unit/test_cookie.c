/*
 * test_cookie.c -- unit tests of the relay-test cookie
 */
#include <string.h>

#include "addr.h"
#include "cookie.h"
#include "tap.h"

static const uint8_t key[] = "0123456789abcdef0123456789abcdef";

int
main(void)
{
	struct cookie	c, got;
	char		text[COOKIE_MAX], buf[ADDR_STRLEN], msg[200];
	const char	*err;
	size_t		len;
	int		n;

	memset(&c, 0, sizeof(c));
	addr_parse("192.0.2.25", &c.addr, &err);
	c.time = 1800000000;
	c.attempt = 7;
	n = cookie_make(key, 32, &c, text);
	ok(n == 38 && strlen(text) == 38 && strncmp(text, "rb", 2) == 0,
	    "IPv4 cookie: %s (%d)", text, n);
	is_int(cookie_check(key, 32, text, n, 1800000100, 3600, &got),
	    COOKIE_OK, "checks");
	ok(got.time == c.time && got.attempt == 7 &&
	    strcmp(addr_format(&got.addr, buf), "192.0.2.25") == 0,
	    "carries address, attempt, time");
	for (int i = 0; i < n; i++)
		msg[i] = text[i] >= 'a' && text[i] <= 'z' ? text[i] - 32 :
		    text[i];
	is_int(cookie_check(key, 32, msg, n, 1800000100, 3600, &got),
	    COOKIE_OK, "survives upper-casing by a relay");
	is_int(cookie_check(key, 32, text, n, 1800010000, 3600, &got),
	    COOKIE_EXPIRED, "older than the window: expired");
	is_int(cookie_check(key, 32, text, n, 1700000000, 3600, &got),
	    COOKIE_BAD, "from the future: bad");
	is_int(cookie_check((const uint8_t *)"another key, 16+", 16, text, n,
	    1800000100, 3600, &got), COOKIE_BAD, "another key: bad");
	for (int i = 2; i < n; i++) {
		memcpy(msg, text, n);
		msg[i] = msg[i] == 'a' ? 'b' : 'a';
		if (cookie_check(key, 32, msg, n, 1800000100, 3600, &got) !=
		    COOKIE_BAD) {
			ok(0, "changing character %d is detected", i);
			break;
		}
		if (i == n - 1)
			ok(1, "changing any one character is detected");
	}
	memcpy(msg, text, n);
	{
		/* Toggle the lowest of the 5 bits: only padding there. */
		static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
		int v = (int)(strchr(b32, msg[n - 1]) - b32);
		msg[n - 1] = b32[v ^ 1];
	}
	is_int(cookie_check(key, 32, msg, n, 1800000100, 3600, &got),
	    COOKIE_BAD, "the padding bits of the last character count too");
	is_int(cookie_check(key, 32, text, n - 1, 1800000100, 3600, &got),
	    COOKIE_BAD, "truncated: bad");
	is_int(cookie_check(key, 32, "rb", 2, 0, 1, &got), COOKIE_BAD,
	    "too short: bad");
	addr_parse("2001:db8::25", &c.addr, &err);
	n = cookie_make(key, 32, &c, text);
	ok(n == 57 && n < COOKIE_MAX - 1, "IPv6 cookie fits a local part (%d)",
	    n);
	is_int(cookie_check(key, 32, text, n, 1800000100, 3600, &got),
	    COOKIE_OK, "IPv6 checks");
	ok(strcmp(addr_format(&got.addr, buf), "2001:db8::25") == 0,
	    "IPv6 address back");
	snprintf(msg, sizeof(msg), "To: <%s@probe.test>\r\nbody", text);
	ok(cookie_find(msg, strlen(msg), &len) == 5 && len == (size_t)n,
	    "found in a header line");
	ok(cookie_find("rbxyz and bar", 13, &len) == -1, "not in plain text");
	addr_parse("192.0.2.0/24", &c.addr, &err);
	is_int(cookie_make(key, 32, &c, text), -1, "a prefix: refused");
	addr_parse("192.0.2.1", &c.addr, &err);
	is_int(cookie_make(key, 8, &c, text), -1, "a short key: refused");
	return tap_done();
}
