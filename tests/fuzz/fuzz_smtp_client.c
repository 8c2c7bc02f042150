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
#include <string.h>

#include "smtp_client.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_session	s;
	struct smtp_attempt		a[3];
	struct smtp_action		act;
	size_t				off = 0;
	int				closed = 0;

	memset(a, 0, sizeof(a));
	for (int i = 0; i < 3; i++) {
		strcpy(a[i].sender, "<x@{h}>");
		strcpy(a[i].recipient, "<cookie@probe.test>");
		strcpy(a[i].body, ".a\n..b\nc {h}\n.");
	}
	smtp_session_init(&s, "probe.test", a, 3);
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - data - off) : size - off;
		smtp_session_line(&s, (const char *)data + off, len, &act);
		if (act.what == SMTP_DO_SEND && (act.len < 2 ||
		    act.len > sizeof(s.out) || act.data[act.len - 1] != '\n' ||
		    act.data[act.len - 2] != '\r' || closed))
			abort();
		if (act.what == SMTP_DO_CLOSE)
			closed = 1;
		if (closed && s.state != SMTP_DONE)
			abort();
		off += len + (nl != NULL);
	}
	if (s.transcript_len >= sizeof(s.transcript) || s.end < 0 ||
	    s.end > SMTP_END_DROPPED)
		abort();
	for (int i = 0; i < s.nattempts; i++)
		if (s.attempts[i].result < 0 ||
		    s.attempts[i].result > SMTP_R_TEMPFAIL)
			abort();
	return 0;
}
