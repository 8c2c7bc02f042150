/*
 * http_parse.c -- HTTP/1.x requests parsed from bytes, nothing else
 *
 * RFC 9112: request-line = method SP request-target SP HTTP-version; then
 * field lines "name: value" up to an empty line.  Lines may end in CRLF
 * or a bare LF (2.2); empty lines before the request line are skipped;
 * a field line that starts with whitespace (obsolete folding), a space
 * before the colon, or a control character in a value is a 400.  Names
 * are lower-cased and values trimmed in the caller's buffer, so lookups
 * are plain strcmp.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_parse.h"

static const struct {
	const char	*name;
	int		 method;
} methods[] = {
	{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST },
	{ "PUT", HTTP_PUT }, { "DELETE", HTTP_DELETE },
	{ "OPTIONS", HTTP_OPTIONS }, { "PATCH", HTTP_PATCH },
};

const char *
http_method_name(int m)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].method == m)
			return methods[i].name;
	return "?";
}

const char *
http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default:  return "Unknown";
	}
}

/* RFC 9110 5.6.2 token characters. */
static int
tchar(int c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
http_unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r == '%') {
			int h = hexval((unsigned char)r[1]), l;
			if (h < 0 || (l = hexval((unsigned char)r[2])) < 0 ||
			    (h == 0 && l == 0))
				return -1;
			*w++ = (char)(h * 16 + l);
			r += 2;
		} else
			*w++ = *r;
	}
	*w = '\0';
	return 0;
}

int
http_param(const char *q, size_t len, const char *name, char *out,
    size_t size)
{
	size_t nl = strlen(name), i = 0;

	if (size == 0)
		return -1;
	while (i < len) {
		size_t end = i;
		while (end < len && q[end] != '&' && q[end] != ';')
			end++;
		if (end - i > nl && q[i + nl] == '=' &&
		    memcmp(q + i, name, nl) == 0) {
			size_t n = 0;
			for (size_t j = i + nl + 1; j < end; j++) {
				int c = (unsigned char)q[j];
				if (c == '+')
					c = ' ';
				else if (c == '%') {
					int h, l;
					if (j + 2 >= end)
						return -1;
					if ((h = hexval((unsigned char)q[j +
					    1])) < 0 || (l = hexval(
					    (unsigned char)q[j + 2])) < 0)
						return -1;
					c = h * 16 + l;
					j += 2;
				}
				/* Raw or encoded, a NUL would cut the value. */
				if (c == 0)
					return -1;
				if (n + 1 >= size)
					return -1;
				out[n++] = (char)c;
			}
			out[n] = '\0';
			return (int)n;
		}
		i = end + 1;
	}
	return -1;
}

const char *
http_header(const struct http_request *r, const char *name)
{
	for (int i = 0; i < r->nheaders; i++)
		if (strcmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* The end of the line at p (its '\n'), within end; NULL if none. */
static char *
line_end(char *p, char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

/*
 * Cuts the line [p, nl): drops a '\r' before nl, NUL-terminates.  -1 when
 * the line holds a NUL (the strings made of it would stop short).
 */
static int
cut_line(char *p, char *nl)
{
	size_t len = (size_t)(nl - p);

	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (memchr(p, '\0', len) != NULL)
		return -1;
	p[len] = '\0';
	*nl = '\0';
	return 0;
}

/* Whether a comma-separated list (Connection) holds token t. */
static int
has_token(const char *list, const char *t)
{
	size_t tl = strlen(t);

	for (const char *p = list; *p; ) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',' && *e != ' ' && *e != '\t')
			e++;
		if ((size_t)(e - p) == tl && strncasecmp(p, t, tl) == 0)
			return 1;
		p = e;
	}
	return 0;
}

/*
 * absolute-form (9112 3.2.2) to origin-form: drops the scheme and the
 * authority, which end at the first '/' or '?' ("http://h?q" is "/?q",
 * not a path found in the query).  The byte before a '?' belongs to the
 * authority, so the '/' is written there; t is within a line.
 */
static char *
origin_form(char *t)
{
	char *a = t + (t[4] == ':' ? 7 : 8);
	char *e = a + strcspn(a, "/?");

	if (*e == '/')
		return e;
	if (*e == '?') {
		e[-1] = '/';
		return e - 1;
	}
	strcpy(t, "/");		/* "http://host": "/" fits */
	return t;
}

static int
parse_request_line(char *line, struct http_request *r)
{
	char	*sp1, *sp2, *t;
	size_t	 i, plen;

	if ((sp1 = strchr(line, ' ')) == NULL ||
	    (sp2 = strchr(sp1 + 1, ' ')) == NULL || strchr(sp2 + 1, ' '))
		return -400;
	*sp1 = *sp2 = '\0';
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(line, methods[i].name) == 0)
			break;
	if (i == sizeof(methods) / sizeof(methods[0])) {
		for (char *p = line; *p; p++)
			if (!tchar((unsigned char)*p))
				return -400;
		return line[0] ? -501 : -400;
	}
	r->method = methods[i].method;
	if (strncmp(sp2 + 1, "HTTP/", 5) != 0 ||
	    !isdigit((unsigned char)sp2[6]) || sp2[7] != '.' ||
	    !isdigit((unsigned char)sp2[8]) || sp2[9] != '\0')
		return -400;
	if (sp2[6] != '1')
		return -505;
	r->minor = sp2[8] - '0';
	t = sp1 + 1;
	if (strlen(t) > HTTP_TARGET_MAX)
		return -414;
	if (strncasecmp(t, "http://", 7) == 0 ||
	    strncasecmp(t, "https://", 8) == 0)
		t = origin_form(t);
	if (t[0] != '/' && !(t[0] == '*' && t[1] == '\0' &&
	    r->method == HTTP_OPTIONS))
		return -400;
	/* A fragment is never sent (9112 3.2): '#' is refused in the query too. */
	for (char *p = t; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    *p == '#')
			return -400;
	r->target = t;
	/*
	 * The target stays as sent (for logs); the path is decoded into the
	 * request's own copy, and the query is the target's tail.
	 */
	plen = strcspn(t, "?");
	memcpy(r->path, t, plen);
	r->path[plen] = '\0';
	r->query = t[plen] == '?' ? t + plen + 1 : t + plen;
	if (http_unescape(r->path) == -1)
		return -400;
	return 0;
}

static int
parse_field(char *line, struct http_request *r)
{
	char	*colon, *v, *e;

	if (line[0] == ' ' || line[0] == '\t')
		return -400;		/* obs-fold */
	if ((colon = strchr(line, ':')) == NULL || colon == line)
		return -400;
	for (char *p = line; p < colon; p++) {
		if (!tchar((unsigned char)*p))
			return -400;
		*p = (char)tolower((unsigned char)*p);
	}
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	*e = '\0';
	for (char *p = v; *p; p++)
		if (((unsigned char)*p < ' ' && *p != '\t') ||
		    (unsigned char)*p == 0x7f)
			return -400;
	if (r->nheaders >= HTTP_HEADERS_MAX)
		return -431;
	r->headers[r->nheaders].name = line;
	r->headers[r->nheaders].value = v;
	r->nheaders++;
	return 0;
}

/* Content-Length, Transfer-Encoding, Connection, Expect, Host. */
static int
interpret(struct http_request *r)
{
	int	host = 0, closing = 0, keep = 0;

	r->content_length = -1;
	for (int i = 0; i < r->nheaders; i++) {
		const char *n = r->headers[i].name, *v = r->headers[i].value;
		if (strcmp(n, "content-length") == 0) {
			int64_t cl = 0;
			if (*v == '\0' || strlen(v) > 12)
				return -400;
			for (const char *p = v; *p; p++) {
				if (!isdigit((unsigned char)*p))
					return -400;
				cl = cl * 10 + (*p - '0');
			}
			if (r->content_length >= 0 && r->content_length != cl)
				return -400;
			r->content_length = cl;
		} else if (strcmp(n, "transfer-encoding") == 0)
			return -501;
		else if (strcmp(n, "connection") == 0) {
			closing |= has_token(v, "close");
			keep |= has_token(v, "keep-alive");
		} else if (strcmp(n, "expect") == 0)
			/* 9110 10.1.1: ignored in an HTTP/1.0 request. */
			r->expect_continue = r->minor >= 1 &&
			    strcasecmp(v, "100-continue") == 0;
		else if (strcmp(n, "host") == 0)
			host++;
	}
	/* 9112 3.2: exactly one Host in HTTP/1.1. */
	if (r->minor >= 1 && host != 1)
		return -400;
	/* close wins, whichever Connection field says it. */
	r->keep_alive = !closing && (r->minor >= 1 || keep);
	return 0;
}

int
http_parse_head(char *buf, size_t len, struct http_request *r)
{
	char	*p = buf, *end = buf + (len > HTTP_HEAD_MAX ? HTTP_HEAD_MAX :
		    len), *nl;
	int	 rc, first = 1;

	memset(r, 0, sizeof(*r));
	/*
	 * 9112 2.2: empty lines before the request line are ignored; a CR
	 * is skipped only with its LF ("\rGET" is not a request line).
	 */
	while (p < end && (*p == '\n' ||
	    (*p == '\r' && p + 1 < end && p[1] == '\n')))
		p++;
	for (;;) {
		if ((nl = line_end(p, end)) == NULL)
			return len >= HTTP_HEAD_MAX ? -431 : HTTP_PARSE_MORE;
		/* The empty line: the end of the head. */
		if (!first && (nl == p || (nl == p + 1 && *p == '\r')))
			break;
		if (cut_line(p, nl) == -1)
			return -400;
		rc = first ? parse_request_line(p, r) : parse_field(p, r);
		if (rc < 0)
			return rc;
		first = 0;
		p = nl + 1;
	}
	if ((rc = interpret(r)) < 0)
		return rc;
	return (int)(nl + 1 - buf);
}
