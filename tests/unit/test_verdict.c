/*
 * test_verdict.c -- unit tests of what a probe's summary says (clean,
 * deferred, inconclusive, busy) and of the retry delays
 */
#include <string.h>

#include "smtp_client.h"
#include "tap.h"
#include "verdict.h"

#define FORMS	21

/* A probe that went to the end: every session QUIT, every form tried. */
static struct probe_summary
whole(int refused, int tempfail, int tempfail_rcpt)
{
	struct probe_summary s;

	memset(&s, 0, sizeof(s));
	s.attempts = FORMS;
	s.refused = refused;
	s.tempfail = tempfail;
	s.tempfail_rcpt = tempfail_rcpt;
	s.sessions = 3;
	s.complete = 1;
	s.last_end = SMTP_END_OK;
	s.last_code = 221;
	s.accepted_form = -1;
	return s;
}

int
main(void)
{
	struct probe_summary s;

	s = whole(FORMS, 0, 0);
	is_int(verdict_of(&s, FORMS), VERDICT_CLEAN, "every form refused: clean");
	s = whole(0, FORMS, FORMS);
	is_int(verdict_of(&s, FORMS), VERDICT_DEFERRED,
	    "every form 454 at RCPT (defer_unauth_destination): deferred");
	s = whole(3, FORMS - 3, FORMS - 3);
	is_int(verdict_of(&s, FORMS), VERDICT_DEFERRED,
	    "some 501 (bad syntax), the rest 4xx at RCPT: deferred");
	s = whole(0, FORMS, FORMS - 1);
	is_int(verdict_of(&s, FORMS), VERDICT_INCONCLUSIVE,
	    "one 4xx at MAIL or DATA: inconclusive");
	s = whole(0, FORMS, FORMS);
	s.accepted = 1;
	s.tempfail = s.tempfail_rcpt = FORMS - 1;
	is_int(verdict_of(&s, FORMS), VERDICT_ACCEPTED,
	    "one form accepted: wait for the cookie");
	s = whole(0, 16, 16);
	s.attempts = 16;
	s.complete = 0;
	s.last_end = SMTP_END_TIMEOUT;
	is_int(verdict_of(&s, FORMS), VERDICT_INCONCLUSIVE,
	    "4xx at RCPT, then a timeout: inconclusive");
	s = whole(0, 8, 8);
	s.attempts = 8;
	is_int(verdict_of(&s, FORMS), VERDICT_INCONCLUSIVE,
	    "not every form tried: inconclusive");
	memset(&s, 0, sizeof(s));
	s.sessions = 1;
	s.last_end = SMTP_END_CLOSED;
	s.last_code = 421;
	is_int(verdict_of(&s, FORMS), VERDICT_BUSY, "421 at greeting: busy");
	s = whole(0, 8, 8);
	s.attempts = 8;
	s.complete = 0;
	s.last_end = SMTP_END_CLOSED;
	s.last_code = 421;
	is_int(verdict_of(&s, FORMS), VERDICT_BUSY,
	    "421 mid-battery (too many errors): busy");
	s.last_code = 554;
	is_int(verdict_of(&s, FORMS), VERDICT_INCONCLUSIVE,
	    "closed otherwise (554 at greeting): inconclusive");
	s.last_end = SMTP_END_GARBAGE;
	s.last_code = 0;
	is_int(verdict_of(&s, FORMS), VERDICT_INCONCLUSIVE,
	    "garbage: inconclusive");

	is_int(verdict_backoff(0, 1, 300), 300, "a first 421: retry_421");
	is_int(verdict_backoff(1, 1, 300), 1200,
	    "a 421 after that: the backoff (300 * 2^2)");
	is_int(verdict_backoff(0, 0, 300), 600,
	    "a first timeout: the backoff (300 * 2)");
	is_int(verdict_backoff(3, 0, 300), 4800, "a fourth: 300 * 2^4");
	return tap_done();
}
