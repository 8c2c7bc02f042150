/*
 * fuzz_http_parse.c -- libFuzzer harness for the HTTP request parser
 *
 * The input is what a client sends.  Beyond not crashing: the parser
 * returns "more", a head length within the input, or minus one of the
 * statuses it documents; a parsed head is well formed (a known method,
 * HTTP/1.x, a target that starts with '/' or is OPTIONS's "*", lower-case
 * token names, trimmed values without control characters, one decimal
 * Content-Length or none); the bytes after a head do not change it, and
 * the head less its last byte is "more".  http_param decodes within its
 * output and never yields a NUL.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	check_head(const struct http_request *, const char *, size_t);
static void	check_param(const char *, size_t, const char *);

static char	buf[HTTP_HEAD_MAX + 1], again[HTTP_HEAD_MAX + 1];

static int
within(const char *p, const char *b, size_t n)
{
	return p >= b && p <= b + n;
}

static void
check_head(const struct http_request *r, const char *b, size_t n)
{
	if (r->method < HTTP_GET || r->method > HTTP_PATCH ||
	    r->minor < 0 || r->minor > 9 || r->nheaders < 0 ||
	    r->nheaders > HTTP_HEADERS_MAX || r->content_length < -1 ||
	    r->content_length > 999999999999LL)
		abort();
	if (!within(r->target, b, n) || !within(r->query, b, n) ||
	    strlen(r->target) > HTTP_TARGET_MAX ||
	    strlen(r->path) > HTTP_TARGET_MAX)
		abort();
	if (strcmp(r->target, "*") == 0 ? r->method != HTTP_OPTIONS ||
	    strcmp(r->path, "*") != 0 : r->target[0] != '/' ||
	    r->path[0] != '/')
		abort();
	if (strchr(r->target, '#') != NULL)
		abort();
	for (int i = 0; i < r->nheaders; i++) {
		const char *nm = r->headers[i].name, *v = r->headers[i].value;
		size_t vl;
		if (!within(nm, b, n) || !within(v, b, n) || nm[0] == '\0')
			abort();
		for (const char *p = nm; *p; p++)
			if (isupper((unsigned char)*p) || *p == ':' ||
			    (unsigned char)*p <= ' ')
				abort();
		for (const char *p = v; *p; p++)
			if (((unsigned char)*p < ' ' && *p != '\t') ||
			    (unsigned char)*p == 0x7f)
				abort();
		vl = strlen(v);
		if (vl > 0 && (v[0] == ' ' || v[0] == '\t' ||
		    v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			abort();
		if (strcmp(nm, "transfer-encoding") == 0)
			abort();
	}
	if (r->expect_continue && r->minor == 0)
		abort();
}

/* Decodes within out, the length returned is strlen(out). */
static void
check_param(const char *q, size_t len, const char *name)
{
	char	out[64];
	int	rc;

	memset(out, 'x', sizeof(out));
	rc = http_param(q, len, name, out, sizeof(out));
	if (rc < -1 || rc >= (int)sizeof(out))
		abort();
	if (rc >= 0 && strlen(out) != (size_t)rc)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request	r, r2;
	size_t			n = size > HTTP_HEAD_MAX ? HTTP_HEAD_MAX : size;
	int			rc, rc2;

	memcpy(buf, data, n);
	buf[n] = '\0';
	rc = http_parse_head(buf, n, &r);
	if (rc > (int)n)
		abort();
	if (rc < 0 && rc != -400 && rc != -414 && rc != -431 &&
	    rc != -501 && rc != -505)
		abort();
	if (rc > 0) {
		check_head(&r, buf, n);
		check_param(r.query, strlen(r.query), "ip");
		/* What follows the head is not part of it. */
		memcpy(again, data, (size_t)rc);
		if ((rc2 = http_parse_head(again, (size_t)rc, &r2)) != rc)
			abort();
		/* One byte short of its end, a head is not yet a head. */
		memcpy(again, data, (size_t)rc);
		if (http_parse_head(again, (size_t)rc - 1, &r2) != 0)
			abort();
	}
	check_param((const char *)data, size, "a");
	check_param((const char *)data, size, "");
	return 0;
}
