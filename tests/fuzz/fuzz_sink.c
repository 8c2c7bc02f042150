/*
 * fuzz_sink.c -- libFuzzer harness for the prober's SMTP sink
 *
 * The input is a hostile client's side of a session, split at '\n'.
 * Checks: every reply is a CRLF-terminated line starting with a 3-digit
 * code; a delivery proves only cookies that check; the message stays
 * within SINK_MESSAGE_MAX, and so does the session's memory; after close
 * nothing more is said.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sink.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t key[] = "0123456789abcdef0123456789abcdef";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink_session		*s;
	struct sink_conf		conf = { "probe.test", key, 32, 3600 };
	struct sink_action		a;
	size_t				off = 0;
	int				closed = 0;

	if ((s = sink_session_new(&conf, 1800000000, &a)) == NULL)
		return 0;
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - data - off) : size - off;
		sink_session_line(s, (const char *)data + off, len,
		    1800000000, &a);
		if (closed && a.reply != NULL)
			abort();
		if (a.reply && (a.len < 5 || a.reply[a.len - 1] != '\n' ||
		    a.reply[a.len - 2] != '\r' || a.reply[0] < '2' ||
		    a.reply[0] > '5'))
			abort();
		if (a.delivered && (a.delivery.ncookies < 1 ||
		    a.delivery.len > SINK_MESSAGE_MAX))
			abort();
		if (sink_session_size(s) > SINK_MESSAGE_MAX + 1024)
			abort();
		if (a.close)
			closed = 1;
		off += len + (nl != NULL);
	}
	sink_session_free(s);
	return 0;
}
