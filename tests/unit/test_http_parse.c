/*
 * test_http_parse.c -- unit tests of the HTTP request parser
 */
#include <stdio.h>
#include <string.h>

#include "http_parse.h"
#include "tap.h"

static struct http_request	r;
static char			buf[HTTP_HEAD_MAX + 64];

/* Parses text (a copy); returns what http_parse_head does. */
static int
parse(const char *text)
{
	size_t n = strlen(text);

	memcpy(buf, text, n + 1);
	return http_parse_head(buf, n, &r);
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
	is_str(http_header(&r, "user-agent"), "t", "  header by lower name");
	ok(r.keep_alive && r.content_length == -1, "  keep-alive, no body");
	return tap_done();
}
