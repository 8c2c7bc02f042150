/*
 * test_queue.c -- unit tests of the submission and removal rules
 *
 * Each rule and each result of queue.h, on a scratch store in a temporary
 * directory: refusals, the daily and hourly limits read from the probe
 * reasons in the audit trail (not from its text), a probe already queued,
 * removal of addresses not listed, excluded or listed, and a failing
 * store (in the sanitizer build, which honours the fault variables).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "queue.h"
#include "store.h"
#include "tap.h"

#define T0	1800000000	/* a fixed "now" */

static char	 dir[] = "/tmp/test_queue.XXXXXX";
static struct probe_allow allow;

static struct addr
A(const char *s)
{
	struct addr	a;
	const char	*err;

	if (addr_parse(s, &a, &err) == -1)
		memset(&a, 0, sizeof(a));
	return a;
}

static uint32_t
serial(struct store *st)
{
	struct store_reader	*rd = store_reader_new(st);
	uint32_t		 s = rd ? store_serial(rd) : 0;

	store_reader_free(rd);
	return s;
}

/* What is queued for s: its reason, or 0 when nothing is. */
static int
queued(struct store *st, const char *s, struct store_probe *p)
{
	struct store_reader	*rd = store_reader_new(st);
	struct addr		 a = A(s);
	int			 r;

	r = rd ? store_queue_get(rd, &a, p) : -1;
	store_reader_free(rd);
	return r == 1 ? p->reason : r;
}

/* Writes what proberd writes when a probe of s for reason ends at when. */
static int
probed(struct store *st, const char *s, int reason, int64_t when,
    const char *text)
{
	struct store_txn	*t = store_begin(st, "proberd");
	struct addr		 a = A(s);

	if (t == NULL)
		return -1;
	store_txn_settime(t, when);
	if (reason)
		store_audit_probe(t, STORE_AUDIT_PROBE, &a, reason, 0, text);
	else	/* as written before reasons were kept */
		store_audit_add(t, STORE_AUDIT_PROBE, &a, 0, text);
	return store_commit(t);
}

static int
list(struct store *st, const char *s, int exclude)
{
	struct store_txn	*t = store_begin(st, "test");
	struct store_listing	 l;
	struct addr		 a = A(s);

	memset(&l, 0, sizeof(l));
	l.code = 0x7f000002u;
	l.kind = STORE_KIND_MANUAL;
	if (t == NULL)
		return -1;
	if (exclude)
		store_exclude(t, &a, "test");
	else
		store_list(t, &a, &l);
	return store_commit(t);
}

/* The reason of the last QUEUE audit entry about an address. */
static int
last_queue_reason(const struct store_audit *au, void *arg)
{
	if (au->action == STORE_AUDIT_QUEUE)
		*(int *)arg = au->reason;
	return 0;
}

static int
audited_reason(struct store *st, const char *s)
{
	struct store_reader	*rd = store_reader_new(st);
	struct addr		 a = A(s);
	int			 reason = -1;

	if (rd == NULL || store_history(rd, &a, last_queue_reason,
	    &reason) == -1)
		reason = -2;
	store_reader_free(rd);
	return reason;
}

static void
test_refusal(struct store *st)
{
	struct addr		 a[2] = { A("8.8.8.8"), A("10.0.0.1") };
	struct queue_result	 res[2];
	struct store_probe	 p;
	uint32_t		 s0 = serial(st);

	ok(queue_refusal(&a[0], &allow) == NULL, "public address accepted");
	ok(queue_refusal(&a[1], &allow) != NULL, "private address refused");
	a[1] = A("8.8.4.0/24");
	ok(queue_refusal(&a[1], &allow) != NULL, "a prefix is refused");
	a[1] = A("127.0.0.9");
	ok(queue_refusal(&a[1], &allow) == NULL, "[prober] allow covers it");
	a[1] = A("192.168.1.1");
	is_int(queue_submit(st, &allow, "op", T0, a, 2, res), 1,
	    "submit with one refused address: one refusal");
	is_int(res[1].outcome, QUEUE_REFUSED, "  the refused one says so");
	ok(res[1].why != NULL && strstr(res[1].why, "special-use"),
	    "  and why");
	is_int(serial(st), s0, "  nothing written");
	is_int(queued(st, "8.8.8.8", &p), 0, "  not even the good address");
}

static void
test_submit(struct store *st)
{
	struct addr		 a = A("8.8.8.8");
	struct queue_result	 r;
	struct store_probe	 p;
	uint32_t		 s0 = serial(st);

	is_int(queue_submit(st, &allow, "op", T0, &a, 1, &r), 0, "submit");
	is_int(r.outcome, QUEUE_QUEUED, "  queued");
	is_int(r.probe.due, T0, "  due now (never probed)");
	is_int(r.limited, 0, "  not limited");
	is_int(queued(st, "8.8.8.8", &p), STORE_PROBE_SUBMIT,
	    "  in the store's queue as a submission");
	is_str(p.actor, "op", "  by the actor");
	is_int(audited_reason(st, "8.8.8.8"), STORE_PROBE_SUBMIT,
	    "  audited with its reason as data");
	ok(serial(st) != s0, "  committed");
	s0 = serial(st);
	is_int(queue_submit(st, &allow, "op", T0 + 5, &a, 1, &r), 0,
	    "submit again");
	is_int(r.outcome, QUEUE_ALREADY, "  already queued");
	is_int(r.probe.due, T0, "  reports the queued probe");
	is_int(serial(st), s0, "  nothing written");
}

static void
test_daily(struct store *st)
{
	struct addr		 a[2] = { A("1.0.0.1"), A("1.0.0.2") };
	struct queue_result	 res[2];

	ok(probed(st, "1.0.0.1", STORE_PROBE_SUBMIT, T0 - 100,
	    "submit: clean") == 0, "1.0.0.1 probed 100 s ago");
	ok(probed(st, "1.0.0.2", 0, T0 - 200, "submit: clean") == 0,
	    "1.0.0.2 probed 200 s ago, before reasons were kept");
	is_int(queue_submit(st, &allow, "op", T0, a, 2, res), 0,
	    "submit both");
	is_int(res[0].outcome, QUEUE_QUEUED, "  queued");
	is_int(res[0].probe.due, T0 - 100 + PROBE_DAILY,
	    "  a day after the last probe");
	is_int(res[0].limited, 1, "  limited");
	is_int(res[1].probe.due, T0 - 200 + PROBE_DAILY,
	    "  an old entry counts for the daily limit too");
	ok(probed(st, "1.0.0.3", STORE_PROBE_SUBMIT, T0 - PROBE_DAILY,
	    "submit: clean") == 0, "1.0.0.3 probed a day ago");
	a[0] = A("1.0.0.3");
	queue_submit(st, &allow, "op", T0, a, 1, res);
	is_int(res[0].probe.due, T0, "  may be probed now");
}

static void
test_removal_refused(struct store *st)
{
	struct addr		 a = A("9.9.9.0/24");
	struct queue_result	 r;
	uint32_t		 s0 = serial(st);

	is_int(queue_removal(st, "op", T0, &a, &r), 0, "removal of a prefix");
	is_int(r.outcome, QUEUE_REFUSED, "  refused");
	a = A("9.9.9.9");
	is_int(queue_removal(st, "op", T0, &a, &r), 0,
	    "removal of an address not listed");
	is_int(r.outcome, QUEUE_NOT_LISTED, "  not listed");
	ok(list(st, "9.9.9.0/24", 0) == 0 && list(st, "9.9.9.8/29", 1) == 0,
	    "9.9.9.0/24 listed, 9.9.9.8/29 excluded");
	s0 = serial(st);
	is_int(queue_removal(st, "op", T0, &a, &r), 0,
	    "removal of an excluded address");
	is_int(r.outcome, QUEUE_EXCLUDED, "  excluded");
	ok(r.excluded_by.plen == 29, "  names the exclusion");
	is_int(serial(st), s0, "  nothing written");
}

static void
test_removal(struct store *st)
{
	struct addr		 a = A("9.9.9.1");
	struct queue_result	 r;
	struct store_probe	 p;

	is_int(queue_removal(st, "op", T0, &a, &r), 0,
	    "removal of a listed address");
	is_int(r.outcome, QUEUE_QUEUED, "  queued");
	is_int(r.probe.reason, STORE_PROBE_DELIST, "  as a removal retest");
	is_int(r.probe.due, T0, "  due now");
	is_int(audited_reason(st, "9.9.9.1"), STORE_PROBE_DELIST,
	    "  audited with its reason");
	queue_removal(st, "op", T0, &a, &r);
	is_int(r.outcome, QUEUE_ALREADY, "asked again: already queued");
	queue_submit(st, &allow, "op", T0, &a, 1, &r);
	is_int(r.outcome, QUEUE_ALREADY,
	    "a submission does not replace a queued removal retest");
	is_int(queued(st, "9.9.9.1", &p), STORE_PROBE_DELIST,
	    "  still a removal retest");
}

static void
test_hourly(struct store *st)
{
	struct addr		 a = A("9.9.9.2");
	struct queue_result	 r;

	ok(probed(st, "9.9.9.2", STORE_PROBE_DELIST, T0 - 60,
	    "clean") == 0, "9.9.9.2: removal retest a minute ago");
	queue_removal(st, "op", T0, &a, &r);
	is_int(r.probe.due, T0 - 60 + PROBE_DELIST_GAP,
	    "  the next one an hour after it");
	is_int(r.limited, 1, "  limited");
	a = A("9.9.9.3");
	ok(probed(st, "9.9.9.3", STORE_PROBE_RETEST, T0 - 60,
	    "delist: worded like a removal retest") == 0,
	    "9.9.9.3: a retest a minute ago, its text starting \"delist\"");
	queue_removal(st, "op", T0, &a, &r);
	is_int(r.probe.due, T0, "  the reason counts, not the text: due now");
	a = A("9.9.9.4");
	ok(probed(st, "9.9.9.4", STORE_PROBE_SUBMIT, T0 - 60, "x") == 0 &&
	    queue_submit(st, &allow, "op", T0, &a, 1, &r) == 0 &&
	    r.probe.due > T0, "9.9.9.4: submission queued for tomorrow");
	queue_removal(st, "op", T0, &a, &r);
	is_int(r.outcome, QUEUE_QUEUED, "  a removal request overtakes it");
	is_int(r.probe.due, T0, "  due now");

	/* Overtaking a deferred retest: its second pass, not a first. */
	struct store_probe	 p;
	struct store_txn	*t = store_begin(st, "proberd");
	memset(&p, 0, sizeof(p));
	p.addr = a = A("9.9.9.5");
	p.reason = STORE_PROBE_RETEST;
	p.due = T0 + 900;
	p.queued = T0 - 1000;
	p.deferred = 1;
	p.deferred_born = T0 - 60;
	ok(t != NULL && store_queue_put(t, &p) == 0 && store_commit(t) == 0,
	    "9.9.9.5: a retest deferred a minute ago, its second pass due");
	queue_removal(st, "op", T0, &a, &r);
	is_int(r.outcome, QUEUE_QUEUED, "  a removal request overtakes it");
	is_int(queued(st, "9.9.9.5", &p), STORE_PROBE_DELIST,
	    "  as a removal retest");
	ok(p.deferred == 1 && p.deferred_born == T0 - 60 && p.due == T0,
	    "  due now, as the deferred probe's second pass, same cookies");
}

/* The API's feed: each address on its own, refusals instead of delays. */
static void
test_feed(struct store *st)
{
	struct addr		 a[5] = { A("7.7.7.1"), A("10.0.0.1"),
				    A("7.7.7.2"), A("7.7.7.3"), A("7.7.7.4") };
	struct queue_result	 r[5];
	struct store_probe	 p;

	ok(list(st, "7.7.7.2/32", 1) == 0, "7.7.7.2 excluded");
	ok(probed(st, "7.7.7.3", STORE_PROBE_SUBMIT, T0 - 3600, "clean") == 0,
	    "7.7.7.3 probed an hour ago");
	is_int(queue_feed(st, &allow, "feed", T0, a, 5, r), 0, "a feed of five");
	is_int(r[0].outcome, QUEUE_QUEUED, "  a fresh address: queued");
	ok(r[1].outcome == QUEUE_REFUSED && strstr(r[1].why, "special-use"),
	    "  a private one: refused, special-use");
	ok(r[2].outcome == QUEUE_REFUSED && strstr(r[2].why, "excluded"),
	    "  an excluded one: refused");
	ok(r[3].outcome == QUEUE_REFUSED && strstr(r[3].why, "last day"),
	    "  one probed within the day: refused, not queued for tomorrow");
	is_int(r[4].outcome, QUEUE_QUEUED, "  the next one still queued");
	ok(queued(st, "7.7.7.1", &p) == STORE_PROBE_SUBMIT && p.due == T0 &&
	    queued(st, "7.7.7.4", &p) == STORE_PROBE_SUBMIT &&
	    queued(st, "7.7.7.3", &p) == 0 && queued(st, "7.7.7.2", &p) == 0,
	    "  only those two in the queue, due now");
	queue_feed(st, &allow, "feed", T0, a, 1, r);
	is_int(r[0].outcome, QUEUE_ALREADY, "fed again: already queued");
}

#ifdef STORE_FAULTS
static struct store *
test_failure(struct store *st)
{
	struct addr		 a = A("8.8.4.4");
	struct queue_result	 r;
	struct store_probe	 p;

	store_close(st);
	setenv("RELAYBL_STORE_FAIL_AFTER", "0", 1);
	st = store_open(dir, 0, 0);
	is_int(queue_submit(st, &allow, "op", T0, &a, 1, &r), -1,
	    "a failing store: submit fails");
	is_int(store_error(st), STORE_EFULL, "  store_error says why");
	a = A("9.9.9.1");
	queue_removal(st, "op", T0, &a, &r);
	store_close(st);
	unsetenv("RELAYBL_STORE_FAIL_AFTER");
	st = store_open(dir, 0, 0);
	is_int(queued(st, "8.8.4.4", &p), 0, "  nothing written");
	return st;
}
#endif

int
main(void)
{
	struct store	*st;
	const char	*err, *bad;
	char		 path[64];

	if (mkdtemp(dir) == NULL || probe_allow_parse("127.0.0.0/8", &allow,
	    &err, &bad) == -1 || (st = store_open(dir, STORE_CREATE, 0)) ==
	    NULL) {
		printf("Bail out! no scratch store\n");
		return 1;
	}
	test_refusal(st);
	test_submit(st);
	test_daily(st);
	test_removal_refused(st);
	test_removal(st);
	test_hourly(st);
	test_feed(st);
#ifdef STORE_FAULTS
	st = test_failure(st);
#endif
	store_close(st);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
