/*
 * scheduler.c -- proberd's scheduler: due work, running probes, expiry
 *
 * Every second, and within 50 ms of a probe's end, the scheduler takes
 * due work from the store's probe queue (submissions, retests, removal
 * requests), within the global and per-network (/24, /64) concurrency
 * limits and the manners of probe_policy.c (what it forbids is refused
 * and audited), marks it running in the store, and starts a probe
 * (probe.c).  A probe whose server accepted a test message waits up to
 * confirm_window for the cookie to arrive at the sink (delivery.c); then
 * it ends suspect.  One that took none is judged by verdict.c: clean,
 * deferred (the second deferred pass of an address is clean), or
 * inconclusive.  Its outcome goes to outcome.c.  Nothing starts while
 * the store refuses writes.  Every minute, relay and egress listings not
 * reconfirmed within listing_ttl expire.  Work marked running by a
 * proberd that died is pending again at start; on SIGTERM probes in
 * flight stay queued, pending.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "addr.h"
#include "log.h"
#include "proberd.h"
#include "verdict.h"

/* --- Probes ------------------------------------------------------------ */

struct active *
scheduler_find_active(struct proberd *d, const struct addr *a)
{
	struct active *ac;

	TAILQ_FOREACH(ac, &d->actives, entry)
		if (ac->q.addr.family == a->family &&
		    memcmp(ac->q.addr.bytes, a->bytes, addr_len(a)) == 0)
			return ac;
	return NULL;
}

static void
active_free(struct active *ac)
{
	scheduler_kick(ac->d);
	TAILQ_REMOVE(&ac->d->actives, ac, entry);
	ac->d->nactive--;
	probe_free(ac->pr);
	if (ac->timer)
		event_free(ac->timer);
	if (ac->confirm)
		event_free(ac->confirm);
	free(ac);
}

void
scheduler_finish(struct active *ac, int outcome, const struct proof *pf)
{
	if (ac->pr != NULL)
		probe_summary(ac->pr, &ac->sum);
	/* The second pass says the same words: see cookie_time(). */
	if (outcome == O_DEFERRED)
		ac->q.deferred_born = ac->born;
	outcome_record(ac->d, &ac->q, &ac->q.addr, outcome, &ac->sum,
	    ac->pr, pf);
	delivery_remember(ac, outcome, pf);
	active_free(ac);
}

/* The confirmation window passed without the cookie: suspect. */
static void
on_confirm_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	scheduler_finish(arg, O_SUSPECT, NULL);
}

/* Runs from the event loop after the probe's last session. */
static void
on_probe_done_later(evutil_socket_t fd, short what, void *arg)
{
	struct active	*ac = arg;
	struct timeval	 tv = { ac->d->confirm_window, 0 };

	(void)fd;
	(void)what;
	probe_summary(ac->pr, &ac->sum);
	if (ac->sum.accepted > 0) {
		ac->confirming = 1;
		if ((ac->confirm = evtimer_new(ac->d->base, on_confirm_timeout,
		    ac)) == NULL) {
			scheduler_finish(ac, O_SUSPECT, NULL);
			return;
		}
		evtimer_add(ac->confirm, &tv);
		return;
	}
	switch (verdict_of(&ac->sum, battery_forms())) {
	case VERDICT_CLEAN:
		scheduler_finish(ac, O_CLEAN, NULL);
		break;
	case VERDICT_DEFERRED:
		/* The second deferred pass: as refused as it will get. */
		scheduler_finish(ac, ac->q.deferred ? O_CLEAN : O_DEFERRED,
		    NULL);
		break;
	default:	/* inconclusive, busy (421) */
		scheduler_finish(ac, O_INCONCLUSIVE, NULL);
		break;
	}
}

static void
on_probe_done(struct probe *pr, void *arg)
{
	struct active	*ac = arg;
	struct timeval	 tv = { 0, 0 };

	(void)pr;
	/* Possibly called from inside probe_start: defer to the loop. */
	evtimer_add(ac->timer, &tv);
}

static int
same_net(const struct addr *a, const struct addr *b)
{
	struct addr x = *a, y = *b;

	if (a->family != b->family)
		return 0;
	x.plen = y.plen = a->family == ADDR_V4 ? 24 : 64;
	addr_mask(&x);
	addr_mask(&y);
	return memcmp(x.bytes, y.bytes, sizeof(x.bytes)) == 0;
}

/* Whether a's network is at per_net_concurrency with extra more probes. */
static int
net_busy_plus(struct proberd *d, const struct addr *a, int extra)
{
	struct active	*ac;
	int		 n = extra;

	TAILQ_FOREACH(ac, &d->actives, entry)
		if (same_net(&ac->q.addr, a))
			n++;
	return n >= d->per_net;
}

/*
 * The time in a probe's cookies: now, or for the second pass of a
 * deferred probe the first pass's, so that both say the same sender and
 * recipient to a greylister that keys on them (postgrey) and the second
 * is let by.  Only while the cookies are young enough for the sink
 * (proberd.c counts tempfail_retry into their max_age).
 */
static int64_t
cookie_time(const struct proberd *d, const struct store_probe *q)
{
	int64_t now = time(NULL);

	if (q->deferred && q->deferred_born > 0 &&
	    q->deferred_born <= now &&
	    now - q->deferred_born < d->tempfail_retry + 1800)
		return q->deferred_born;
	return now;
}

/* Starts a probe of q.  Returns 0, or -1 if it could not start. */
static int
start_probe(struct proberd *d, const struct store_probe *q)
{
	struct active		*ac;
	char			 abuf[ADDR_STRLEN];

	if ((ac = calloc(1, sizeof(*ac))) == NULL)
		return -1;
	ac->d = d;
	ac->q = *q;
	if ((ac->timer = evtimer_new(d->base, on_probe_done_later, ac)) ==
	    NULL) {
		free(ac);
		return -1;
	}
	ac->born = (uint32_t)cookie_time(d, q);
	TAILQ_INSERT_TAIL(&d->actives, ac, entry);
	d->nactive++;
	if ((ac->pr = probe_start(d->base, &d->probeconf, &q->addr, ac->born,
	    on_probe_done, ac)) == NULL) {
		active_free(ac);
		return -1;
	}
	log_debug("%s: probing (%s, attempt %d)", addr_format(&q->addr,
	    abuf), store_reason_name(q->reason), q->attempts + 1);
	return 0;
}

/*
 * Marks queued work running (or not) in the store, for dnsblctl queue.
 * Returns 0 or -1.
 */
static int
mark_running(struct proberd *d, const struct store_probe *list, int n,
    int running)
{
	struct store_txn	*t;
	struct store_probe	 q;
	int			 rc;

	if (n == 0)
		return 0;
	if ((t = store_begin(d->st, "proberd")) == NULL)
		goto err;
	for (int i = 0; i < n; i++) {
		if ((rc = store_txn_queue_get(t, &list[i].addr, &q)) == -1)
			goto err;
		if (rc == 0 || q.running == running)
			continue;
		q.running = running;
		if (store_queue_put(t, &q) == -1)
			goto err;
	}
	rc = store_commit(t);
	t = NULL;		/* the commit ended it, either way */
	if (rc == 0) {
		outcome_store_ok(d);
		return 0;
	}
err:
	store_abort(t);
	log_warnx("could not mark %d probes %s in the queue (%s)", n,
	    running ? "running" : "pending", outcome_store_error(d));
	outcome_store_failed(d);
	return -1;
}

struct due {
	struct proberd		*d;
	int64_t			 now;
	struct store_probe	*list;
	int			 n, max;
};

/*
 * Collects due work that can start now: not already running, its network
 * not at per_net_concurrency (counting what this tick starts too).
 */
static int
collect_due(const struct store_probe *q, void *arg)
{
	struct due	*du = arg;
	int		 net = 0;

	if (q->due > du->now || du->n == du->max)
		return 1;		/* in due order: nothing later is due */
	/* Running, or probed with its outcome waiting to be written. */
	if (scheduler_find_active(du->d, &q->addr) != NULL ||
	    outcome_pending(du->d, &q->addr))
		return 0;
	for (int i = 0; i < du->n; i++)
		net += same_net(&du->list[i].addr, &q->addr);
	if (net_busy_plus(du->d, &q->addr, net))
		return 0;
	du->list[du->n++] = *q;
	return 0;
}

/* Refuses queued work the policy forbids (the allow list may change). */
static void
refuse(struct proberd *d, const struct store_probe *q, const char *why)
{
	struct store_txn	*t = store_begin(d->st, "proberd");
	char			 buf[ADDR_STRLEN];

	addr_format(&q->addr, buf);
	if (t == NULL || store_queue_del(t, &q->addr) == -1 ||
	    store_audit_add(t, STORE_AUDIT_PROBE, &q->addr, 0, why) == -1) {
		store_abort(t);
		goto err;
	}
	if (store_commit(t) == -1)
		goto err;
	outcome_store_ok(d);
	log_warnx("%s: not probed: %s", buf, why);
	return;
err:
	log_warnx("%s: not probed (%s), but could not say so (%s)", buf, why,
	    outcome_store_error(d));
	outcome_store_failed(d);
}

/*
 * The scheduler: every second, and whenever a probe ends, starts as much
 * due work as the concurrency limits allow.
 */
void
scheduler_tick(evutil_socket_t fd, short what, void *arg)
{
	struct proberd	*d = arg;
	struct due	 du;
	const char	*why;
	int		 n = 0;

	(void)fd;
	(void)what;
	if (d->stopping || d->store_failing || d->nactive >= d->concurrency)
		return;
	memset(&du, 0, sizeof(du));
	du.d = d;
	du.now = time(NULL);
	du.max = (int)(d->concurrency - d->nactive);
	if ((du.list = calloc((size_t)du.max, sizeof(*du.list))) == NULL)
		return;
	if (store_queue_walk(d->rd, collect_due, &du) == -1)
		du.n = 0;
	for (int i = 0; i < du.n && !d->store_failing; i++) {
		if ((why = probe_refusal(&du.list[i].addr, &d->allow)) !=
		    NULL) {
			refuse(d, &du.list[i], why);
			continue;
		}
		if (start_probe(d, &du.list[i]) == 0)
			du.list[n++] = du.list[i];
	}
	mark_running(d, du.list, n, 1);
	free(du.list);
}

/*
 * Runs the scheduler soon: a probe ended and freed a slot.  Kicks within
 * 50 ms make one run, so a busy prober walks the queue at most 20 times a
 * second.
 */
void
scheduler_kick(struct proberd *d)
{
	struct timeval soon = { 0, 50000 };

	if (!d->stopping && d->soon != NULL && !evtimer_pending(d->soon, NULL))
		evtimer_add(d->soon, &soon);
}

/* --- Expiry ------------------------------------------------------------ */

struct expiry {
	struct proberd	*d;
	int64_t		 now;
	struct addr	 list[256];
	int		 n;
	uint32_t	 lastrec;
	int		 lastexpired;
};

static int
collect_expired(const struct addr *a, uint32_t code, uint32_t record,
    void *arg)
{
	struct expiry		*ex = arg;
	struct store_listing	 l;

	(void)code;
	if (record != ex->lastrec) {
		ex->lastrec = record;
		ex->lastexpired = store_record(ex->d->rd, record, &l) == 1 &&
		    (l.kind == STORE_KIND_RELAY ||
		    l.kind == STORE_KIND_EGRESS) && l.expires != 0 &&
		    l.expires <= ex->now;
	}
	if (ex->lastexpired && ex->n < 256)
		ex->list[ex->n++] = *a;
	return 0;
}

void
scheduler_expire(evutil_socket_t fd, short what, void *arg)
{
	struct proberd		*d = arg;
	struct expiry		 ex;
	struct store_txn	*t;
	int			 rc;

	(void)fd;
	(void)what;
	memset(&ex, 0, sizeof(ex));
	ex.d = d;
	ex.now = time(NULL);
	if (store_walk(d->rd, 0, collect_expired, &ex) == -1 || ex.n == 0)
		return;
	if ((t = store_begin(d->st, "proberd")) == NULL)
		goto err;
	for (int i = 0; i < ex.n; i++) {
		if ((rc = store_unlist(t, &ex.list[i], "not reconfirmed within "
		    "listing_ttl")) == -1 || (rc == 1 && store_audit_add(t,
		    STORE_AUDIT_EXPIRE, &ex.list[i], 0, "listing expired") ==
		    -1)) {
			store_abort(t);
			goto err;
		}
	}
	if (store_commit(t) == -1)
		goto err;
	outcome_store_ok(d);
	log_info("%d listings expired", ex.n);
	return;
err:
	/* They stay listed until the next try, a minute from now. */
	log_warnx("could not expire %d listings (%s)", ex.n,
	    outcome_store_error(d));
	outcome_store_failed(d);
}

/* --- Start and stop ---------------------------------------------------- */

static int
collect_running(const struct store_probe *q, void *arg)
{
	struct due *du = arg;

	if (q->running && du->n < du->max)
		du->list[du->n++] = *q;
	return 0;
}

/*
 * Work marked running by a proberd that did not stop cleanly is pending
 * again: nothing runs before this one starts.
 */
void
scheduler_clear_stale(struct proberd *d)
{
	struct due	du;

	memset(&du, 0, sizeof(du));
	du.max = 4096;
	if ((du.list = calloc((size_t)du.max, sizeof(*du.list))) == NULL)
		return;
	/* Batches of max; a batch that cannot be written ends it. */
	do {
		du.n = 0;
		if (store_queue_walk(d->rd, collect_running, &du) == -1 ||
		    mark_running(d, du.list, du.n, 0) == -1)
			break;
	} while (du.n == du.max);
	free(du.list);
}

/* SIGTERM: probes in flight are abandoned and stay queued, pending. */
void
scheduler_abandon_all(struct proberd *d)
{
	struct store_probe	*list;
	struct active		*ac;
	int			 n = 0;

	if ((list = calloc((size_t)d->nactive + 1, sizeof(*list))) != NULL) {
		TAILQ_FOREACH(ac, &d->actives, entry)
			list[n++] = ac->q;
		mark_running(d, list, n, 0);
		free(list);
	}
	while (!TAILQ_EMPTY(&d->actives))
		active_free(TAILQ_FIRST(&d->actives));
}
