/*
 * queue.c -- the submission and removal rules, shared by every front end
 *
 * Each request is one write transaction: the history is read through a
 * reader of the same store (the committed snapshot: queueing writes no
 * probe outcome, so nothing it needs is in the transaction), the due time
 * follows probe_due(), and the queue entry and its audit entry are written
 * together.  The limits come from the probe reasons kept as data in the
 * audit trail; the text of an entry is for people.
 */
#include <stdlib.h>
#include <string.h>

#include "queue.h"

/* When an address was last probed, from its audit trail. */
struct last_probes {
	int64_t	any;		/* a probe of any reason */
	int64_t	delist;		/* a removal retest */
};

/* What one request needs inside the transaction. */
struct request {
	struct store_reader	*rd;
	int64_t			 now;
	int			 reason;
	int			 strict;	/* refuse, not defer: limited
						   or excluded (queue_feed) */
};

static int	scan_probes(const struct store_audit *, void *);
static int	queue_one(struct store_txn *, const struct request *,
		    const struct addr *, struct queue_result *);
static int	queue_txn(struct store *, const char *, struct request *,
		    const struct addr *, size_t, struct queue_result *);

const char *
queue_refusal(const struct addr *a, const struct probe_allow *allow)
{
	return probe_refusal(a, allow);
}

/*
 * Every probe outcome of the address counts for the daily limit, also
 * those written before reasons were kept (reason 0), as it always did; a
 * removal retest is one whose reason says so.
 */
static int
scan_probes(const struct store_audit *au, void *arg)
{
	struct last_probes *lp = arg;

	if (au->action != STORE_AUDIT_PROBE ||
	    au->addr.plen != addr_maxplen(&au->addr))
		return 0;
	if (au->time > lp->any)
		lp->any = au->time;
	if (au->reason == STORE_PROBE_DELIST && au->time > lp->delist)
		lp->delist = au->time;
	return 0;
}

/* Queues one address in t.  Returns 1 when it wrote, 0 when not, -1. */
static int
queue_one(struct store_txn *t, const struct request *rq,
    const struct addr *a, struct queue_result *res)
{
	struct last_probes	 lp = { 0, 0 };
	struct store_probe	 p, old;
	int			 r;

	if (store_history(rq->rd, a, scan_probes, &lp) == -1)
		return -1;
	memset(&p, 0, sizeof(p));
	p.addr = *a;
	p.reason = rq->reason;
	p.due = probe_due(rq->reason, rq->now, lp.any, lp.delist);
	if (rq->strict) {
		struct store_hit hit;
		if ((r = store_lookup(rq->rd, a, &hit)) == -1)
			return -1;
		if (r == 0 && hit.excluded) {
			res->outcome = QUEUE_REFUSED;
			res->why = "excluded from the list";
			res->excluded_by = hit.prefix;
			return 0;
		}
		if (p.due > rq->now) {
			res->outcome = QUEUE_REFUSED;
			res->why = "probed within the last day";
			return 0;
		}
	}
	if ((r = store_txn_queue_get(t, a, &old)) == -1)
		return -1;
	/* A removal request overtakes a queued probe of another reason. */
	if (r == 1 && old.due <= p.due && (old.reason == p.reason ||
	    p.reason != STORE_PROBE_DELIST)) {
		res->outcome = QUEUE_ALREADY;
		res->probe = old;
		return 0;
	}
	/*
	 * Overtaking a deferred probe (a retest answered 4xx at RCPT), the
	 * removal retest is that probe's second pass: a second deferral
	 * is clean, with the same cookies (prober/scheduler.c).
	 */
	if (r == 1 && old.deferred) {
		p.deferred = 1;
		p.deferred_born = old.deferred_born;
		p.queued = old.queued;
	}
	if (store_queue_put(t, &p) == -1 || store_audit_probe(t,
	    STORE_AUDIT_QUEUE, a, p.reason, 0,
	    store_reason_name(p.reason)) == -1)
		return -1;
	res->outcome = QUEUE_QUEUED;
	res->probe = p;
	res->limited = p.due > rq->now;
	return 1;
}

/*
 * Queues a[0..n) in one transaction: commits when something changed,
 * aborts when every address was already queued (the serial stays).
 */
static int
queue_txn(struct store *st, const char *actor, struct request *rq,
    const struct addr *a, size_t n, struct queue_result *res)
{
	struct store_txn	*t;
	int			 r, changed = 0, rc = -1;

	if ((rq->rd = store_reader_new(st)) == NULL)
		return -1;
	if ((t = store_begin(st, actor)) == NULL)
		goto done;
	store_txn_settime(t, rq->now);
	for (size_t i = 0; i < n; i++) {
		if ((r = queue_one(t, rq, &a[i], &res[i])) == -1) {
			store_abort(t);
			goto done;
		}
		changed |= r;
	}
	if (!changed)
		store_abort(t);
	else if (store_commit(t) == -1)
		goto done;
	rc = 0;
done:
	store_reader_free(rq->rd);
	return rc;
}

int
queue_submit(struct store *st, const struct probe_allow *allow,
    const char *actor, int64_t now, const struct addr *a, size_t n,
    struct queue_result *res)
{
	struct request	rq = { NULL, now, STORE_PROBE_SUBMIT, 0 };
	int		refused = 0;

	memset(res, 0, n * sizeof(*res));
	for (size_t i = 0; i < n; i++)
		if ((res[i].why = queue_refusal(&a[i], allow)) != NULL) {
			res[i].outcome = QUEUE_REFUSED;
			refused++;
		}
	if (refused || n == 0)
		return refused;
	return queue_txn(st, actor, &rq, a, n, res);
}

int
queue_feed(struct store *st, const struct probe_allow *allow,
    const char *actor, int64_t now, const struct addr *a, size_t n,
    struct queue_result *res)
{
	struct request	rq = { NULL, now, STORE_PROBE_SUBMIT, 1 };
	struct addr	*ok;
	size_t		 nok = 0, *where;
	int		 rc;

	memset(res, 0, n * sizeof(*res));
	if (n == 0)
		return 0;
	if ((ok = calloc(n, sizeof(*ok))) == NULL ||
	    (where = calloc(n, sizeof(*where))) == NULL) {
		free(ok);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((res[i].why = queue_refusal(&a[i], allow)) != NULL)
			res[i].outcome = QUEUE_REFUSED;
		else {
			where[nok] = i;
			ok[nok++] = a[i];
		}
	rc = 0;
	if (nok > 0) {
		struct queue_result *r2 = calloc(nok, sizeof(*r2));
		if (r2 == NULL || queue_txn(st, actor, &rq, ok, nok, r2) == -1)
			rc = -1;
		else
			for (size_t j = 0; j < nok; j++)
				res[where[j]] = r2[j];
		free(r2);
	}
	free(ok);
	free(where);
	return rc;
}

int
queue_removal(struct store *st, const char *actor, int64_t now,
    const struct addr *a, struct queue_result *res)
{
	struct request		 rq = { NULL, now, STORE_PROBE_DELIST, 0 };
	struct store_reader	*rd;
	struct store_hit	 hit;
	int			 r;

	memset(res, 0, sizeof(*res));
	if (a->plen != addr_maxplen(a)) {
		res->outcome = QUEUE_REFUSED;
		res->why = "removal is asked for one address";
		return 0;
	}
	if ((rd = store_reader_new(st)) == NULL)
		return -1;
	r = store_lookup(rd, a, &hit);
	store_reader_free(rd);
	if (r == -1)
		return -1;
	if (r == 0) {
		res->outcome = hit.excluded ? QUEUE_EXCLUDED : QUEUE_NOT_LISTED;
		if (hit.excluded)
			res->excluded_by = hit.prefix;
		return 0;
	}
	return queue_txn(st, actor, &rq, a, 1, res);
}
