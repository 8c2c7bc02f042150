/*
 * fuzz_smtp_client.c -- libFuzzer harness for the prober's SMTP client
 *
 * The input is a hostile server's output, split into lines at '\n'.
 * Checks: every action is WAIT, SEND with a CRLF-terminated command that
 * fits the output buffer, or CLOSE; after CLOSE the session stays done;
 * the transcript stays within its buffer; the session ends with a known
 * end and every attempt has a known result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "smtp_client.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
build(void *arg, int i, int part, char *buf, size_t size)
{
	(void)arg;
	(void)i;
	snprintf(buf, size, "%s", part == SMTP_PART_SENDER ? "<x@{h}>" :
	    part == SMTP_PART_RECIPIENT ? "<cookie@probe.test>" :
	    ".a\n..b\nc {h}\n.");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_session	s;
	struct smtp_transcript		ts = { NULL, 0, 0, 4096, 0 };
	static char			out[SMTP_OUT_MAX];
	struct smtp_source		src = { build, NULL, out };
	struct smtp_action		act;
	size_t				off = 0;
	int				closed = 0;

	/* The first byte picks the STARTTLS mode. */
	smtp_session_init(&s, "probe.test", 3, &src, size ? data[0] % 3 : 0,
	    &ts);
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - data - off) : size - off;
		smtp_session_line(&s, (const char *)data + off, len, &act);
		if (act.what == SMTP_DO_STARTTLS) {
			if (closed)
				abort();
			/* A 220 of odd length stands for a failed handshake. */
			smtp_session_tls(&s, !(len & 1),
			    "TLSv1.3 X", &act);
		}
		if (act.what == SMTP_DO_SEND && (act.len < 2 ||
		    act.len > SMTP_OUT_MAX || act.data[act.len - 1] != '\n' ||
		    act.data[act.len - 2] != '\r' || closed))
			abort();
		if (act.what == SMTP_DO_CLOSE)
			closed = 1;
		if (closed && s.state != SMTP_DONE)
			abort();
		off += len + (nl != NULL);
	}
	if (ts.len > ts.max || (ts.buf && ts.buf[ts.len] != '\0') ||
	    s.end < 0 || s.end > SMTP_END_TLSFAIL)
		abort();
	smtp_transcript_free(&ts);
	for (int i = 0; i < s.nattempts; i++)
		if (s.attempts[i].result < 0 ||
		    s.attempts[i].result > SMTP_R_TEMPFAIL)
			abort();
	return 0;
}
