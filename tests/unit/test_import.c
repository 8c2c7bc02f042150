/*
 * test_import.c -- unit tests of the list-file parser (rbldnsd syntax)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "import.h"
#include "tap.h"

static char msg[IMPORT_MSG_MAX];

static int
line(struct import *imp, const char *s)
{
	return import_line(imp, s, strlen(s), msg);
}

/* The n-th entry as "prefix code text" or "!prefix". */
static const char *
entry(struct import *imp, size_t i)
{
	static char			 out[512];
	struct store_import_entry	*e;
	const struct store_listing	*r;
	size_t				 n, nr;
	char				 buf[ADDR_STRLEN];

	e = import_entries(imp, &n);
	r = import_records(imp, &nr);
	if (i >= n)
		return "(none)";
	if (e[i].exclude)
		snprintf(out, sizeof(out), "!%s", addr_format(&e[i].prefix,
		    buf));
	else
		snprintf(out, sizeof(out), "%s %u %s", addr_format(
		    &e[i].prefix, buf), r[e[i].record].code & 0xff,
		    r[e[i].record].text);
	return out;
}

static size_t
count(struct import *imp)
{
	size_t n;

	import_entries(imp, &n);
	return n;
}

static void
test_lines(void)
{
	struct import	*imp = import_new(STORE_KIND_IMPORT, "t", 1000);
	size_t		 nr;

	is_int(line(imp, ""), IMPORT_SKIP, "blank line");
	is_int(line(imp, "   \t\n"), IMPORT_SKIP, "white space");
	is_int(line(imp, "# comment"), IMPORT_SKIP, "# comment");
	is_int(line(imp, "; comment\r\n"), IMPORT_SKIP, "; comment, CRLF");
	is_int(line(imp, "1.2.3.4\n"), IMPORT_OK, "address");
	is_str(entry(imp, 0), "1.2.3.4 2 ", "default code 127.0.0.2, no text");
	is_int(line(imp, ":127.0.0.3:Listed, see http://x/?$"), IMPORT_OK,
	    "default line");
	is_int(line(imp, "10.0.0.0/8"), IMPORT_OK, "CIDR");
	is_str(entry(imp, 1), "10.0.0.0/8 3 Listed, see http://x/?$",
	    "default applies");
	is_int(line(imp, "  10.1 # a comment"), IMPORT_OK,
	    "abbreviated, indented, trailing comment");
	is_str(entry(imp, 2), "10.1.0.0/16 3 Listed, see http://x/?$",
	    "10.1 is a /16 with the default");
	is_int(line(imp, "192.0.2.1 :4:own text"), IMPORT_OK,
	    "per-entry code and text");
	is_str(entry(imp, 3), "192.0.2.1 4 own text", "own code and text");
	is_int(line(imp, "192.0.2.2 just text"), IMPORT_OK, "per-entry text");
	is_str(entry(imp, 4), "192.0.2.2 3 just text", "default code");
	is_int(line(imp, "192.0.2.3 :127.0.0.5"), IMPORT_OK, "code only");
	is_str(entry(imp, 5), "192.0.2.3 5 ", "code, empty text");
	is_int(line(imp, "!10.0.0.1 whatever"), IMPORT_OK, "exclusion");
	is_str(entry(imp, 6), "!10.0.0.1", "exclusion, value ignored");
	is_int(line(imp, "10.0.0.1-6"), IMPORT_OK, "range");
	is_int(count(imp), 7 + 4, "range split into four prefixes");
	is_str(entry(imp, 7), "10.0.0.1 3 Listed, see http://x/?$",
	    "range part 1");
	is_str(entry(imp, 8), "10.0.0.2/31 3 Listed, see http://x/?$",
	    "range part 2");
	is_int(line(imp, "2001:db8::/32"), IMPORT_OK, "IPv6 prefix");
	is_int(line(imp, "2001:21ab:def7:4242 :127.0.1.3: funny"), IMPORT_OK,
	    "abbreviated IPv6 with value");
	is_str(entry(imp, 12), "2001:21ab:def7:4242::/64 3 funny",
	    "IPv6 /64, leading space of the text dropped");
	is_int(line(imp, "$TTL 300"), IMPORT_IGNORED, "directive ignored");
	ok(strstr(msg, "$TTL") != NULL, "message names it: %s", msg);
	is_int(import_listed(imp), 12, "listed count");
	is_int(import_excluded(imp), 1, "excluded count");
	import_records(imp, &nr);
	is_int(nr, 7, "records shared by equal (code, text)");
	is_int(line(imp, "::2"), IMPORT_OK, "a line starting :: is IPv6");
	is_str(entry(imp, 13), "::2 3 Listed, see http://x/?$",
	    "::2 listed with the default, not taken as a default line");
	import_free(imp);
}

static void
test_errors(void)
{
	static const struct {
		const char *line, *why;
	} bad[] = {
		{ "1.2.3.256", "octet out of range" },
		{ "1.2.3.4/33", "prefix too long" },
		{ "1.2.3.4/24", "host bits set" },
		{ "1.2.3.9-1.2.3.1", "range backwards" },
		{ "hello", "not an address" },
		{ "1.2.3.4 :1:x", "code 1 refused" },
		{ "1.2.3.4 :128.0.0.2:x", "code outside 127/8" },
		{ "1.2.3.4 :abc:x", "code not a number" },
		{ ":0:x", "default code 0" },
		{ "127.0.0.1", "the test point that must not be listed" },
		{ "127.0.0.0/8", "a range holding 127.0.0.1" },
		{ "::ffff:127.0.0.1", "mapped 127.0.0.1" },
		{ "0.0.0.0/0", "the whole Internet" },
		{ "::/0", "the whole IPv6 Internet" },
		{ "!", "exclusion without address" },
		{ "2001:db8::1-2", "IPv6 range" },
	};
	struct import	*imp = import_new(STORE_KIND_IMPORT, "t", 1000);
	char		 longtext[400];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		is_int(line(imp, bad[i].line), IMPORT_ERROR, "refused: %s (%s)",
		    bad[i].line, bad[i].why);
		ok(msg[0] != '\0', "  with a message: %s", msg);
	}
	memset(longtext, 'x', sizeof(longtext));
	memcpy(longtext, "1.2.3.4 ", 8);
	longtext[sizeof(longtext) - 1] = '\0';
	is_int(line(imp, longtext), IMPORT_ERROR, "text too long");
	is_int(import_line(imp, "1.2.3.4\0x", 9, msg), IMPORT_ERROR,
	    "NUL in the address refused");
	is_int(import_line(imp, "1.2.3.4 a\0b", 11, msg), IMPORT_ERROR,
	    "NUL in the text refused");
	is_int(count(imp), 0, "bad lines added nothing");
	/* Lines need not be NUL-terminated (found by fuzz_import). */
	char raw[4] = { '$', 'T', 'T', 'L' };
	is_int(import_line(imp, raw, sizeof(raw), msg), IMPORT_IGNORED,
	    "unterminated directive line read within its length");
	is_str(msg, "rbldnsd directive $TTL ignored (zone data lives in "
	    "zones/)", "  and named");
	is_int(line(imp, "!127.0.0.1"), IMPORT_OK,
	    "excluding 127.0.0.1 is fine");
	is_int(line(imp, "!0.0.0.0/0"), IMPORT_OK, "excluding /0 is fine");
	import_free(imp);
}

static void
test_codes(void)
{
	uint32_t code;

	ok(import_parse_code("2", &code) == 0 && code == 0x7f000002u, "2");
	ok(import_parse_code("255", &code) == 0 && code == 0x7f0000ffu,
	    "255");
	ok(import_parse_code("127.1.2.3", &code) == 0 && code == 0x7f010203u,
	    "127.1.2.3");
	ok(import_parse_code("256", &code) == -1, "256 refused");
	ok(import_parse_code("1", &code) == -1, "1 refused");
	ok(import_parse_code("127.0.0.1", &code) == -1, "127.0.0.1 refused");
	ok(import_parse_code("10.0.0.2", &code) == -1, "10.0.0.2 refused");
	ok(import_parse_code("", &code) == -1, "empty refused");
	ok(import_parse_code("2x", &code) == -1, "2x refused");
}

int
main(void)
{
	test_lines();
	test_errors();
	test_codes();
	return tap_done();
}
