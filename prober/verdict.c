/*
 * verdict.c -- what a probe's summary says, and when to probe again
 *
 * "Deferred" is read from the summary alone: every session ended with
 * QUIT (so the server greeted, took EHLO or HELO and answered each
 * command: no 421, timeout, garbage or hang-up), every form was tried,
 * none accepted, and every 4xx came in answer to RCPT.  A 4xx at MAIL or
 * DATA is not a relay policy (a full queue, a local fault): inconclusive.
 */
#include "battery.h"
#include "smtp_client.h"
#include "verdict.h"

int
verdict_of(const struct probe_summary *s, int forms)
{
	if (s->accepted > 0)
		return VERDICT_ACCEPTED;
	if (s->complete && s->attempts == forms) {
		if (s->refused == s->attempts)
			return VERDICT_CLEAN;
		if (s->tempfail_rcpt > 0 && s->tempfail == s->tempfail_rcpt &&
		    s->refused + s->tempfail == s->attempts)
			return VERDICT_DEFERRED;
	}
	if (s->last_end == SMTP_END_CLOSED && s->last_code == 421)
		return VERDICT_BUSY;
	return VERDICT_INCONCLUSIVE;
}

int64_t
verdict_backoff(int attempts, int busy, int64_t retry_421)
{
	if (busy && attempts == 0)
		return retry_421;
	if (attempts > 20)
		attempts = 20;
	return 300 * ((int64_t)1 << (attempts + 1));
}
