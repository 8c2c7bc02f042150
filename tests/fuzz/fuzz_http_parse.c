/*
 * fuzz_http_parse.c -- libFuzzer harness for the HTTP request parser
 *
 * The input is what a client sends.  Checks: the parser returns "more",
 * a head length within the input, or minus a 4xx/5xx status; a parsed
 * head's strings lie within the buffer; a form parameter decodes within
 * its output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		buf[HTTP_HEAD_MAX + 1];
	struct http_request	r;
	char			out[64];
	size_t			n = size > HTTP_HEAD_MAX ? HTTP_HEAD_MAX : size;
	int			rc;

	memcpy(buf, data, n);
	buf[n] = '\0';
	rc = http_parse_head(buf, n, &r);
	if (rc > (int)n || (rc < 0 && (rc > -400 || rc < -505)))
		abort();
	if (rc > 0) {
		if (r.path < buf || r.path >= buf + n || r.query < buf ||
		    r.query > buf + n || r.path[0] != '/' ||
		    r.nheaders > HTTP_HEADERS_MAX)
			abort();
		for (int i = 0; i < r.nheaders; i++)
			if (r.headers[i].name < buf ||
			    r.headers[i].value > buf + n)
				abort();
		if (http_param(r.query, strlen(r.query), "ip", out,
		    sizeof(out)) >= (int)sizeof(out))
			abort();
	}
	if (http_param((const char *)data, size, "a", out, sizeof(out)) >=
	    (int)sizeof(out))
		abort();
	return 0;
}
