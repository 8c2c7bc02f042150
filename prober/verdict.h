/*
 * verdict.h -- what a probe's summary says, and when to probe again
 *
 * Pure logic (no socket, no clock), unit-tested: proberd's scheduler and
 * outcome writer ask it.  A probe in which no message was accepted is
 * clean (every form refused), deferred (the server greeted and answered
 * every session to its QUIT, and each form was refused or answered 4xx at
 * RCPT, at least one of them 4xx: "try later", as Debian's Postfix
 * defer_unauth_destination and greylisting answer), or inconclusive
 * (anything else: 421, timeout, garbage, a session cut short, 4xx at
 * MAIL or DATA).  A deferred probe is probed once more after
 * tempfail_retry; a second deferred pass counts as clean.
 */
#ifndef RELAYBL_VERDICT_H
#define RELAYBL_VERDICT_H

#include <stdint.h>

#include "probe.h"

enum verdict {
	VERDICT_ACCEPTED,	/* a message was taken: wait for the cookie */
	VERDICT_CLEAN,		/* every form refused */
	VERDICT_DEFERRED,	/* refused or 4xx at RCPT, some 4xx */
	VERDICT_INCONCLUSIVE,	/* timeout, garbage, cut short, ... */
	VERDICT_BUSY,		/* inconclusive: the server said 421 */
};

/* The verdict on a finished probe of a battery of forms forms. */
int	verdict_of(const struct probe_summary *, int forms);

/*
 * Seconds until an inconclusive probe is retried, attempts being the
 * inconclusive attempts before this one: retry_421 for a first 421
 * (busy), else 300 * 2^(attempts + 1).
 */
int64_t	verdict_backoff(int attempts, int busy, int64_t retry_421);

#endif
