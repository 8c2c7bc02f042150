/*
 * http_parse.h -- HTTP/1.x requests parsed from bytes, nothing else
 *
 * The request head (request line and header fields, RFC 9112) is parsed
 * from a buffer the caller fills; the parser keeps nothing between calls
 * and touches no socket, so it is unit-tested and fuzzed directly.  It
 * answers "not yet", "here is the head (this many bytes)", or the status
 * a broken or oversized request gets.  Limits: the head within
 * HTTP_HEAD_MAX bytes (431 beyond), HTTP_HEADERS_MAX fields, a target of
 * HTTP_TARGET_MAX bytes (414 beyond).  Bodies are Content-Length only: a
 * Transfer-Encoding is 501, a Content-Length that is not one decimal
 * number (or two that differ) 400.
 */
#ifndef RELAYBL_HTTP_PARSE_H
#define RELAYBL_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX		8192
#define HTTP_HEADERS_MAX	64
#define HTTP_TARGET_MAX		2048

enum http_method {
	HTTP_GET = 1, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_DELETE,
	HTTP_OPTIONS, HTTP_PATCH,
};

struct http_header {
	const char	*name;		/* lower-cased, NUL-terminated */
	const char	*value;		/* trimmed, NUL-terminated */
};

/*
 * A parsed head.  Its pointers point into buf, the caller's copy of the
 * head that http_parse_head rewrote in place (NULs, lower-cased names):
 * valid while that copy is.  The decoded path is the request's own.
 */
struct http_request {
	int			 method;	/* enum http_method */
	char			*target;	/* "/path?query" as sent
						   (absolute-form less its
						   scheme and authority) */
	char			 path[HTTP_TARGET_MAX + 1];
						/* decoded: no %XX, no query */
	char			*query;		/* target after '?', or "" */
	int			 minor;		/* HTTP/1.minor */
	struct http_header	 headers[HTTP_HEADERS_MAX];
	int			 nheaders;
	int64_t			 content_length;	/* -1: none */
	int			 keep_alive;	/* the client wants more */
	int			 expect_continue;
};

/* What http_parse_head found. */
#define HTTP_PARSE_MORE	0	/* no end of head yet: read more */
/* > 0: the head's length (through its empty line); < 0: -status. */

/*
 * Parses the head at the start of buf (len bytes; the caller's writable
 * copy, which is rewritten).  Returns HTTP_PARSE_MORE, the head's length,
 * or minus the status to answer: 400, 414, 431, 501 (Transfer-Encoding,
 * unknown method; methods are case-sensitive, so "get" is one), 505 (not
 * HTTP/1.x).  keep_alive: HTTP/1.1 unless a Connection field says close,
 * HTTP/1.0 only if one says keep-alive; Expect: 100-continue counts in
 * HTTP/1.1 only.
 */
int		 http_parse_head(char *buf, size_t len, struct http_request *);

/* The value of header name (lower case), or NULL. */
const char	*http_header(const struct http_request *, const char *name);

/*
 * Finds name in a query string or form body ("a=1&b=x%20y"): decodes its
 * value ('+' is a space) into out (size bytes).  Returns its length, or
 * -1 when absent, undecodable (a bad escape, a NUL raw or encoded) or too
 * long for out.  The first of repeated names counts.
 */
int		 http_param(const char *query, size_t len, const char *name,
		    char *out, size_t size);

/* Decodes %XX in place; -1 on a bad escape or an encoded NUL. */
int		 http_unescape(char *s);

const char	*http_method_name(int);
const char	*http_status_text(int);

#endif
