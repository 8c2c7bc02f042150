/*
 * test_http_parse.c -- unit tests of the HTTP request parser
 *
 * Request lines (methods, versions, target forms and limits, escapes),
 * header fields (folding, names, values, counts, the head's size, line
 * endings, NULs), Content-Length, Transfer-Encoding, Host, Connection and
 * Expect; that every proper prefix of a valid head is "more"; and
 * http_param, http_unescape and http_header on their own.
 */
#include <stdio.h>
#include <string.h>

#include "http_parse.h"
#include "tap.h"

/* A literal with its NULs: text and length. */
#define LIT(s)	(s), sizeof(s) - 1

static struct http_request	r;
static char			buf[HTTP_HEAD_MAX + 4096];

/* Parses n bytes of text (a copy); returns what http_parse_head does. */
static int
parsen(const char *text, size_t n)
{
	memcpy(buf, text, n);
	buf[n] = '\0';
	return http_parse_head(buf, n, &r);
}

static int
parse(const char *text)
{
	return parsen(text, strlen(text));
}

/* "LINE\r\nHost: h\r\nFIELDS\r\n": a request line with fields. */
static int
req(const char *line, const char *fields)
{
	static char	text[HTTP_HEAD_MAX + 4096];

	snprintf(text, sizeof(text), "%s\r\nHost: h\r\n%s\r\n", line, fields);
	return parse(text);
}

/* Requests refused: a request line, fields after Host, the status. */
static const struct {
	const char	*line;
	const char	*fields;
	int		 status;
	const char	*what;
} refused[] = {
	{ "TRACE / HTTP/1.1", "", 501, "TRACE" },
	{ "CONNECT h:443 HTTP/1.1", "", 501, "CONNECT" },
	{ "BREW / HTTP/1.1", "", 501, "an unknown method" },
	{ "get / HTTP/1.1", "", 501, "a lower-case method (case-sensitive)" },
	{ "G(T / HTTP/1.1", "", 400, "a method not a token" },
	{ " / HTTP/1.1", "", 400, "an empty method" },
	{ "GET / ", "", 400, "an empty version" },
	{ "GET / HTTP/1.1 x", "", 400, "a fourth word" },
	{ "GET  / HTTP/1.1", "", 400, "two spaces" },
	{ "GET / http/1.1", "", 400, "lower-case http" },
	{ "GET / HTTP/1.10", "", 400, "HTTP/1.10" },
	{ "GET / HTTP/1", "", 400, "HTTP/1" },
	{ "GET / HTTP/2.0", "", 505, "HTTP/2.0" },
	{ "GET / HTTP/0.9", "", 505, "HTTP/0.9" },
	{ "GET * HTTP/1.1", "", 400, "GET *" },
	{ "OPTIONS *x HTTP/1.1", "", 400, "OPTIONS *x" },
	{ "GET lookup HTTP/1.1", "", 400, "no leading /" },
	{ "GET /a\001 HTTP/1.1", "", 400, "a control in the target" },
	{ "GET /a\177 HTTP/1.1", "", 400, "DEL in the target" },
	{ "GET /\303\251 HTTP/1.1", "", 400, "raw UTF-8 in the target" },
	{ "GET /a\tb HTTP/1.1", "", 400, "a tab in the target" },
	{ "GET /a b HTTP/1.1", "", 400, "a space in the target" },
	{ "GET /a\rb HTTP/1.1", "", 400, "a CR in the target" },
	{ "GET /a#frag HTTP/1.1", "", 400, "'#' in the path" },
	{ "GET /a?b=1#frag HTTP/1.1", "", 400, "'#' in the query" },
	{ "GET /a% HTTP/1.1", "", 400, "'%' at the end" },
	{ "GET /a%4 HTTP/1.1", "", 400, "'%4' at the end" },
	{ "GET /a%4?x HTTP/1.1", "", 400, "'%4' before '?'" },
	{ "GET /a%zz HTTP/1.1", "", 400, "%zz" },
	{ "GET /a%4g HTTP/1.1", "", 400, "%4g" },
	{ "GET /a%00b HTTP/1.1", "", 400, "%00" },
	{ "GET / HTTP/1.1", "X: a\r\n b\r\n", 400, "obs-fold (space)" },
	{ "GET / HTTP/1.1", "X: a\r\n\tb\r\n", 400, "obs-fold (tab)" },
	{ "GET / HTTP/1.1", "X : a\r\n", 400, "a space before the colon" },
	{ "GET / HTTP/1.1", ": a\r\n", 400, "an empty name" },
	{ "GET / HTTP/1.1", "X(1): a\r\n", 400, "a name not a token" },
	{ "GET / HTTP/1.1", "no colon\r\n", 400, "no colon" },
	{ "GET / HTTP/1.1", "X: a\001b\r\n", 400, "a control in a value" },
	{ "GET / HTTP/1.1", "X: a\177b\r\n", 400, "DEL in a value" },
	{ "GET / HTTP/1.1", "X: a\rb\r\n", 400, "a lone CR in a value" },
	{ "POST / HTTP/1.1", "Content-Length: 1000000000000\r\n",
	    400, "13 digits" },
	{ "POST / HTTP/1.1",
	    "Content-Length: 9999999999999999999999999999\r\n",
	    400, "28 digits: 400, no overflow" },
	{ "POST / HTTP/1.1", "Content-Length: 4x\r\n", 400, "a non-digit" },
	{ "POST / HTTP/1.1", "Content-Length: -1\r\n", 400, "a sign" },
	{ "POST / HTTP/1.1", "Content-Length: +1\r\n", 400, "a plus" },
	{ "POST / HTTP/1.1", "Content-Length:\r\n", 400, "empty" },
	{ "POST / HTTP/1.1", "Content-Length: 1 2\r\n", 400, "two numbers" },
	{ "POST / HTTP/1.1", "Content-Length: 5, 5\r\n", 400, "a list" },
	{ "POST / HTTP/1.1", "Content-Length: 5\r\nContent-Length: 6\r\n",
	    400, "two different" },
	{ "POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n",
	    501, "Transfer-Encoding" },
	{ "POST / HTTP/1.1",
	    "Content-Length: 5\r\ntransfer-encoding: identity\r\n",
	    501, "with a Content-Length, any case" },
	{ "GET / HTTP/1.1", "Host: h2\r\n", 400, "HTTP/1.1 two Host" },
};

static void
test_refused(void)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		is_int(req(refused[i].line, refused[i].fields),
		    -refused[i].status, "%s: %d", refused[i].what,
		    refused[i].status);
}

static void
test_methods(void)
{
	static const struct {
		const char	*name;
		int		 method;
	} m[] = {
		{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD },
		{ "POST", HTTP_POST }, { "PUT", HTTP_PUT },
		{ "DELETE", HTTP_DELETE }, { "OPTIONS", HTTP_OPTIONS },
		{ "PATCH", HTTP_PATCH },
	};
	char line[64];

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		snprintf(line, sizeof(line), "%s / HTTP/1.1", m[i].name);
		ok(req(line, "") > 0 && r.method == m[i].method,
		    "method %s", m[i].name);
		is_str(http_method_name(m[i].method), m[i].name,
		    "  and its name");
	}
	is_str(http_method_name(99), "?", "an unknown method's name");
}

static void
test_versions(void)
{
	is_int(parse("GET /\r\nHost: h\r\n\r\n"), -400, "no version: 400");
	ok(req("GET / HTTP/1.1", "") > 0 && r.minor == 1, "HTTP/1.1");
	ok(parse("GET / HTTP/1.0\r\n\r\n") > 0 && r.minor == 0,
	    "HTTP/1.0 needs no Host");
}

static void
test_keep_alive(void)
{
	ok(req("GET / HTTP/1.1", "") > 0 && r.keep_alive,
	    "HTTP/1.1: keep-alive by default");
	ok(req("GET / HTTP/1.1", "Connection: close\r\n") > 0 &&
	    !r.keep_alive, "HTTP/1.1 Connection: close");
	ok(req("GET / HTTP/1.1", "Connection: Keep-Alive, CLOSE\r\n") > 0 &&
	    !r.keep_alive, "  close in a list, any case");
	ok(req("GET / HTTP/1.1", "Connection: close\r\n"
	    "Connection: keep-alive\r\n") > 0 && !r.keep_alive,
	    "  close wins over a later keep-alive field");
	ok(req("GET / HTTP/1.1", "Connection: closed\r\n") > 0 &&
	    r.keep_alive, "  \"closed\" is not the token close");
	ok(parse("GET / HTTP/1.0\r\n\r\n") > 0 && !r.keep_alive,
	    "HTTP/1.0: close by default");
	ok(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") > 0 &&
	    r.keep_alive, "HTTP/1.0 Connection: keep-alive");
	ok(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n"
	    "Connection: close\r\n\r\n") > 0 && !r.keep_alive,
	    "HTTP/1.0 keep-alive then close: close");
}

static void
test_targets(void)
{
	char	line[HTTP_TARGET_MAX + 64], *p;

	ok(req("GET http://bl.example/lookup?ip=1 HTTP/1.1", "") > 0,
	    "absolute-form");
	is_str(r.target, "/lookup?ip=1", "  target less scheme, authority");
	is_str(r.path, "/lookup", "  path");
	is_str(r.query, "ip=1", "  query");
	ok(req("GET HTTPS://bl.example/x HTTP/1.1", "") > 0 &&
	    strcmp(r.path, "/x") == 0, "absolute-form https, any case");
	ok(req("GET http://bl.example HTTP/1.1", "") > 0 &&
	    strcmp(r.target, "/") == 0, "absolute-form without a path: /");
	ok(req("GET http://bl.example?a=/b HTTP/1.1", "") > 0,
	    "absolute-form with a query and no path");
	is_str(r.path, "/", "  path /, not a '/' found in the query");
	is_str(r.query, "a=/b", "  query");

	ok(req("OPTIONS * HTTP/1.1", "") > 0 && strcmp(r.target, "*") == 0 &&
	    strcmp(r.path, "*") == 0, "OPTIONS *");

	strcpy(line, "GET /");
	p = line + strlen(line);
	memset(p, 'a', HTTP_TARGET_MAX - 1);
	strcpy(p + HTTP_TARGET_MAX - 1, " HTTP/1.1");
	ok(req(line, "") > 0 && strlen(r.target) == HTTP_TARGET_MAX,
	    "a target of HTTP_TARGET_MAX bytes");
	p[HTTP_TARGET_MAX - 1] = 'a';
	strcpy(p + HTTP_TARGET_MAX, " HTTP/1.1");
	is_int(req(line, ""), -414, "one byte more: 414");

}

static void
test_escapes(void)
{
	ok(req("GET /a%20b%2Fc%7e?x=%41+y HTTP/1.1", "") > 0, "%%XX");
	is_str(r.path, "/a b/c~", "  decoded in the path");
	is_str(r.target, "/a%20b%2Fc%7e?x=%41+y", "  the target as sent");
	is_str(r.query, "x=%41+y", "  the query left to http_param");
	ok(req("GET /a?x=%zz HTTP/1.1", "") > 0,
	    "a bad escape in the query is for http_param to find");
}

static void
test_fields(void)
{
	char	text[HTTP_HEAD_MAX + 4096], *p;
	int	n;

	ok(req("GET / HTTP/1.1", "X-Foo:  a value \t\r\nEmpty:\r\n") > 0,
	    "fields");
	is_str(http_header(&r, "x-foo"), "a value", "  lower-cased, trimmed");
	is_str(http_header(&r, "empty"), "", "  an empty value");
	is_str(http_header(&r, "host"), "h", "  host");
	ok(http_header(&r, "X-Foo") == NULL && http_header(&r, "no") == NULL,
	    "  absent or not lower case: NULL");
	ok(req("GET / HTTP/1.1", "X: a\tb\r\n") > 0 &&
	    strcmp(http_header(&r, "x"), "a\tb") == 0, "a tab in a value");

	/* Host and 63 more: HTTP_HEADERS_MAX; one more is 431. */
	p = text;
	for (int i = 0; i < HTTP_HEADERS_MAX - 1; i++)
		p += sprintf(p, "X-%d: v\r\n", i);
	ok(req("GET / HTTP/1.1", text) > 0 && r.nheaders == HTTP_HEADERS_MAX,
	    "%d fields", HTTP_HEADERS_MAX);
	strcpy(p, "X-last: v\r\n");
	is_int(req("GET / HTTP/1.1", text), -431, "%d fields: 431",
	    HTTP_HEADERS_MAX + 1);

	/* A head of exactly HTTP_HEAD_MAX bytes, then one more. */
	n = sprintf(text, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	memset(text + n, 'v', HTTP_HEAD_MAX - n - 4);
	strcpy(text + HTTP_HEAD_MAX - 4, "\r\n\r\n");
	is_int(parse(text), HTTP_HEAD_MAX, "a head of HTTP_HEAD_MAX bytes");
	is_int(parsen(text, HTTP_HEAD_MAX - 1), 0, "  less a byte: more");
	memset(text + n, 'v', HTTP_HEAD_MAX - n - 3);
	strcpy(text + HTTP_HEAD_MAX - 3, "\r\n\r\n");
	is_int(parse(text), -431, "one byte more: 431");
	is_int(parsen(text, HTTP_HEAD_MAX), -431,
	    "  HTTP_HEAD_MAX bytes without an end: 431");
	is_int(parsen(text, HTTP_HEAD_MAX - 1), 0,
	    "  a byte fewer: more");
	memset(text, '\n', HTTP_HEAD_MAX);
	is_int(parsen(text, HTTP_HEAD_MAX), -431,
	    "HTTP_HEAD_MAX empty lines: 431");
}

static void
test_lines(void)
{
	const char *lf = "GET /x HTTP/1.1\nHost: h\nX: y\n\n";
	const char *mixed = "GET /x HTTP/1.1\r\nHost: h\nX: y\r\n\n";

	is_int(parse(lf), (int)strlen(lf), "bare LF line endings");
	is_str(http_header(&r, "x"), "y", "  a field");
	is_int(parse(mixed), (int)strlen(mixed), "CRLF and LF mixed");
	is_int(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 2 * 2 + 16 +
	    9 + 2, "leading empty lines skipped, counted in the length");
	is_int(parse("\n\nGET / HTTP/1.1\nHost: h\n\n"), 2 + 15 + 8 + 1,
	    "  bare LF empty lines too");
	is_int(parse("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n"), -400,
	    "a lone CR before the request line: 400");
	is_int(parse("\r\n"), 0, "only an empty line: more");
	is_int(parse(""), 0, "nothing: more");
	is_int(parsen(LIT("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n")), -400,
	    "a NUL in the request line: 400");
	is_int(parsen(LIT("GET / HTTP/1.1\r\nHost: h\0x\r\n\r\n")), -400,
	    "a NUL in a value: 400");
	is_int(parsen(LIT("GET / HTTP/1.1\r\nHo\0st: h\r\n\r\n")), -400,
	    "a NUL in a name: 400");
	is_int(parsen(LIT("\0GET / HTTP/1.1\r\nHost: h\r\n\r\n")), -400,
	    "a NUL before the request line: 400");
	is_int(parsen(LIT("GET / HTTP/1.1\r\nHost: h\r\n\r\n\0\0")), 27,
	    "NULs after the head are not the head's");
	is_int(parsen(LIT("GET / HTTP/1.1\r\nHost: h\r\n\r\0\n")), -400,
	    "\"\\r\\0\\n\" is not an empty line: 400");
}

static void
test_content_length(void)
{
	ok(req("POST / HTTP/1.1", "Content-Length: 42\r\n") > 0 &&
	    r.content_length == 42, "Content-Length: 42");
	ok(req("POST / HTTP/1.1", "Content-Length: 0\r\n") > 0 &&
	    r.content_length == 0, "Content-Length: 0");
	ok(req("GET / HTTP/1.1", "") > 0 && r.content_length == -1,
	    "none: -1");
	ok(req("POST / HTTP/1.1", "Content-Length: 999999999999\r\n") > 0 &&
	    r.content_length == 999999999999LL, "12 digits");
	ok(req("POST / HTTP/1.1", "Content-Length: 5\r\nContent-Length: 5\r\n")
	    > 0 && r.content_length == 5, "two equal: that length");
}

static void
test_host_expect(void)
{
	is_int(parse("GET / HTTP/1.1\r\n\r\n"), -400, "HTTP/1.1 no Host: 400");
	ok(req("GET / HTTP/1.1", "") > 0, "HTTP/1.1 one Host");
	ok(parse("GET / HTTP/1.1\r\nHOST: h\r\n\r\n") > 0 &&
	    strcmp(http_header(&r, "host"), "h") == 0, "  any case");
	ok(req("POST / HTTP/1.1", "Expect: 100-continue\r\n") > 0 &&
	    r.expect_continue, "Expect: 100-continue");
	ok(req("POST / HTTP/1.1", "Expect: 100-Continue\r\n") > 0 &&
	    r.expect_continue, "  any case");
	ok(req("POST / HTTP/1.1", "Expect: 200-ok\r\n") > 0 &&
	    !r.expect_continue, "another expectation: no");
	ok(req("POST / HTTP/1.1", "") > 0 && !r.expect_continue, "none: no");
	ok(parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n") > 0 &&
	    !r.expect_continue, "HTTP/1.0: ignored (RFC 9110 10.1.1)");
}

/* Every proper prefix of a valid request's head is "more". */
static void
test_prefixes(void)
{
	static const char *const reqs[] = {
		"GET /lookup?ip=192.0.2.1 HTTP/1.1\r\nHost: bl.example\r\n"
		    "User-Agent: t\r\n\r\n",
		"GET / HTTP/1.1\nHost: h\n\n",
		"\r\n\nPOST /v1/x HTTP/1.1\r\nHost: h\r\n"
		    "Content-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
		"OPTIONS * HTTP/1.0\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		const char *q = reqs[i];
		int head = parse(q), bad = -1;
		ok(head > 0, "request %zu parses", i);
		for (int k = 0; k < head && bad == -1; k++)
			if (parsen(q, (size_t)k) != HTTP_PARSE_MORE)
				bad = k;
		if (!ok(bad == -1, "  each of its %d prefixes: more", head))
			printf("#   the prefix of %d bytes: %d\n", bad,
			    parsen(q, (size_t)bad));
		is_int(parsen(q, strlen(q)), head,
		    "  with its body: the head");
	}
}

static void
test_param(void)
{
	const char	*q = "ip=192.0.2.1&name=a+b%20c%41;x=1&ab=2&a=3&e=&n";
	char		 out[16], small[4];

	is_int(http_param(q, strlen(q), "ip", out, sizeof(out)), 9, "param");
	is_str(out, "192.0.2.1", "  its value");
	is_int(http_param(q, strlen(q), "name", out, sizeof(out)), 6,
	    "'+' and %%XX decoded");
	is_str(out, "a b cA", "  its value");
	ok(http_param(q, strlen(q), "x", out, sizeof(out)) == 1 &&
	    strcmp(out, "1") == 0, "';' separates");
	ok(http_param(q, strlen(q), "a", out, sizeof(out)) == 1 &&
	    strcmp(out, "3") == 0, "a name that a longer one starts with");
	ok(http_param(q, strlen(q), "ab", out, sizeof(out)) == 1 &&
	    strcmp(out, "2") == 0, "  and the longer one");
	is_int(http_param(q, strlen(q), "i", out, sizeof(out)), -1,
	    "a prefix of a name is not the name");
	is_int(http_param(q, strlen(q), "zz", out, sizeof(out)), -1, "absent");
	ok(http_param(q, strlen(q), "e", out, sizeof(out)) == 0 &&
	    out[0] == '\0', "an empty value");
	is_int(http_param(q, strlen(q), "n", out, sizeof(out)), -1,
	    "a name without '=': absent");
	ok(http_param("a=1&a=2", 7, "a", out, sizeof(out)) == 1 &&
	    strcmp(out, "1") == 0, "repeated: the first");
	ok(http_param("a=123", 4, "a", out, sizeof(out)) == 2 &&
	    strcmp(out, "12") == 0, "len bounds the input");
	is_int(http_param("a=1%4", 5, "a", out, sizeof(out)), -1,
	    "an escape cut at the very end");
	is_int(http_param("a=1%", 4, "a", out, sizeof(out)), -1,
	    "'%%' at the very end");
	is_int(http_param("a=1%41", 5, "a", out, sizeof(out)), -1,
	    "  as len cuts it");
	is_int(http_param("a=1%4&b=2", 9, "a", out, sizeof(out)), -1,
	    "an escape cut by '&'");
	is_int(http_param("a=%zz", 5, "a", out, sizeof(out)), -1, "%%zz");
	is_int(http_param("a=x%00", 6, "a", out, sizeof(out)), -1, "%%00");
	is_int(http_param(LIT("a=x\0y"), "a", out, sizeof(out)), -1,
	    "a raw NUL (a form body)");
	ok(http_param("a=abc", 5, "a", small, sizeof(small)) == 3 &&
	    strcmp(small, "abc") == 0, "a value that just fits");
	is_int(http_param("a=abcd", 6, "a", small, sizeof(small)), -1,
	    "a value longer than the output");
	small[0] = 'z';
	ok(http_param("a=", 2, "a", small, 0) == -1 && small[0] == 'z',
	    "an output of 0 bytes: -1, nothing written");
	is_int(http_param("", 0, "a", out, sizeof(out)), -1, "empty input");
}

static void
test_unescape(void)
{
	char s[32];

	strcpy(s, "a%2fb%41+");
	ok(http_unescape(s) == 0 && strcmp(s, "a/bA+") == 0,
	    "unescape: %%XX, '+' kept");
	strcpy(s, "a%4");
	is_int(http_unescape(s), -1, "  '%%4' at the end");
	strcpy(s, "a%");
	is_int(http_unescape(s), -1, "  '%%' at the end");
	strcpy(s, "%00");
	is_int(http_unescape(s), -1, "  %%00");
	is_str(http_status_text(431), "Request Header Fields Too Large",
	    "status text");
	is_str(http_status_text(299), "Unknown", "  an unknown status");
}

int
main(void)
{
	const char *get = "GET /lookup?ip=192.0.2.1 HTTP/1.1\r\n"
	    "Host: bl.example\r\nUser-Agent: t\r\n\r\n";

	is_int(parse(get), (int)strlen(get), "a GET: the head's length");
	is_int(r.method, HTTP_GET, "  method");
	is_str(r.path, "/lookup", "  path");
	is_str(r.query, "ip=192.0.2.1", "  query");
	is_str(r.target, "/lookup?ip=192.0.2.1", "  target");
	is_str(http_header(&r, "user-agent"), "t", "  header by lower name");
	ok(r.keep_alive && r.content_length == -1, "  keep-alive, no body");
	test_refused();
	test_methods();
	test_versions();
	test_keep_alive();
	test_targets();
	test_escapes();
	test_fields();
	test_lines();
	test_content_length();
	test_host_expect();
	test_prefixes();
	test_param();
	test_unescape();
	return tap_done();
}
