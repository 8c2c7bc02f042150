/*
 * outcome.c -- proberd's outcomes: written to the store, or kept and retried
 *
 * An outcome -- listed (the cookie came back), clean (every form
 * refused, or deferred twice), suspect (accepted, never delivered),
 * deferred (4xx at RCPT: once more after tempfail_retry), inconclusive
 * (421, timeout, garbage) -- goes to the store in one transaction with its
 * evidence (what happened, the transcript, the message as received), the
 * listing changes, the queue's next step (a retest after
 * retest_interval, a retry with backoff, or done) and its audit entry.
 *
 * When the store refuses a write (full, or failing), every transaction is
 * aborted at once -- none outlives its function, so other writers and
 * SIGTERM never wait for us -- and an outcome that could not be written
 * waits in memory, in order, retried after a backoff (1 s doubling to
 * 5 min).  Meanwhile no new probe starts and the waiting address is not
 * probed again; on SIGTERM what still waits is logged as lost.
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

static const char *outcome_names[] = { "listed", "clean", "suspect",
    "inconclusive", "deferred" };

/*
 * An outcome as it is to be written: the evidence already rendered (the
 * probe is gone by the time a retry writes it) and the audit text made,
 * so that it can wait in memory while the store refuses writes.
 */
struct result {
	struct addr		 addr;
	struct store_probe	 q;		/* its queue entry, if has_q */
	int			 has_q;
	int			 outcome;
	int			 busy;		/* inconclusive by a 421 */
	struct addr		 peer;		/* who delivered, if has_peer */
	int			 has_peer;
	int			 egress;	/* 1: list peer as egress */
	int64_t			 now;		/* when the outcome was known */
	char			*blob;		/* the evidence, or NULL */
	size_t			 blen;
	char			 text[STORE_TEXT_MAX];	/* of the audit entry */
	TAILQ_ENTRY(result)	 entry;
};

static int
list_addr(struct store_txn *t, const struct addr *a, int kind, uint32_t code,
    uint64_t evidence, int64_t now, int64_t ttl, const char *text)
{
	struct store_listing	l, old;
	int			rc;

	memset(&l, 0, sizeof(l));
	l.code = code;
	l.kind = kind;
	l.last_confirmed = now;
	l.expires = now + ttl;
	l.evidence = evidence;
	snprintf(l.source, sizeof(l.source), "proberd");
	snprintf(l.text, sizeof(l.text), "%s", text);
	if ((rc = store_txn_get(t, a, &old)) == -1)
		return -1;
	if (rc == 1)
		l.first_listed = old.first_listed;
	return store_list(t, a, &l);
}

/* The evidence of an outcome: what happened, the transcript, the proof. */
static void
render_evidence(struct result *r, const struct probe_summary *sum,
    const struct probe *pr, const struct proof *pf)
{
	FILE	*fp;
	char	 abuf[ADDR_STRLEN], pbuf[ADDR_STRLEN];
	int	 reason = r->has_q ? r->q.reason : STORE_PROBE_SUBMIT;

	if ((fp = open_memstream(&r->blob, &r->blen)) == NULL)
		return;
	fprintf(fp, "relay test of %s (%s): %s\n", addr_format(&r->addr, abuf),
	    store_reason_name(reason), outcome_names[r->outcome]);
	if (pf)
		fprintf(fp, "form that relayed: %s\n",
		    battery_form_name(pf->form));
	else if (sum && sum->accepted_form >= 0)
		fprintf(fp, "form that was accepted: %s\n",
		    battery_form_name(sum->accepted_form));
	if (sum && sum->tls > 0)
		fprintf(fp, "upgraded by STARTTLS: %s (%d of %d sessions)\n",
		    sum->tls_what, sum->tls, sum->sessions);
	if (sum && sum->tls_failed > 0)
		fprintf(fp, "STARTTLS handshake failed: judged on plain "
		    "sessions\n");
	if (sum && sum->tls_refused > 0)
		fprintf(fp, "STARTTLS refused by the server: judged on plain "
		    "sessions\n");
	if (r->has_peer)
		fprintf(fp, "delivered to the sink by %s\n",
		    addr_format(&r->peer, pbuf));
	if (pf && pf->not_egress)
		fprintf(fp, "delivered via %s, %s, not listed\n",
		    addr_format(&r->peer, pbuf), pf->not_egress);
	if (pr) {
		fprintf(fp, "\n== SMTP transcript\n");
		probe_write_transcript(pr, fp);
	}
	if (pf)
		fprintf(fp, "\n== message as received\n%.*s",
		    (int)pf->len, pf->message);
	if (fclose(fp) != 0) {
		free(r->blob);
		r->blob = NULL;
	}
}

/*
 * Makes the result of an outcome.  q may be NULL for a delivery that no
 * running probe waited for.  NULL when out of memory (logged).
 */
static struct result *
result_new(const struct store_probe *q, const struct addr *a, int outcome,
    const struct probe_summary *sum, const struct probe *pr,
    const struct proof *pf)
{
	struct result	*r;
	char		 pbuf[ADDR_STRLEN], why[128 + ADDR_STRLEN];
	int		 reason = q ? q->reason : STORE_PROBE_SUBMIT;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_warn("result");
		return NULL;
	}
	r->addr = *a;
	if (q) {
		r->q = *q;
		r->has_q = 1;
	}
	r->outcome = outcome;
	r->busy = sum && verdict_of(sum, battery_forms()) == VERDICT_BUSY;
	if (pf && pf->peer) {
		r->peer = *pf->peer;
		r->has_peer = 1;
		r->egress = pf->egress;
	}
	r->now = time(NULL);
	render_evidence(r, sum, pr, pf);
	/* Why: the form that relayed, or how an inconclusive probe ended. */
	why[0] = '\0';
	if (pf)
		snprintf(why, sizeof(why), "form %s delivered by %s%s%s%s; ",
		    battery_form_name(pf->form), addr_format(&r->peer, pbuf),
		    pf->not_egress ? " (" : "",
		    pf->not_egress ? pf->not_egress : "",
		    pf->not_egress ? ", not listed)" : "");
	else if (outcome == O_INCONCLUSIVE && sum && sum->last_end !=
	    SMTP_END_OK)
		snprintf(why, sizeof(why), "%s; ", smtp_end_name(sum->last_end));
	else if (outcome == O_CLEAN && q && q->deferred)
		snprintf(why, sizeof(why), "deferred again; ");
	snprintf(r->text, sizeof(r->text), "%s: %s (%saccepted %d, refused "
	    "%d, tempfail %d)", store_reason_name(reason),
	    outcome_names[outcome], why, sum ? sum->accepted : 0,
	    sum ? sum->refused : 0, sum ? sum->tempfail : 0);
	return r;
}

static void
result_free(struct result *r)
{
	if (r == NULL)
		return;
	free(r->blob);
	free(r);
}

/*
 * The queue after an outcome: retest, the second pass of a deferred
 * probe, retry with backoff (a first 421 after retry_421), or done.
 */
static int
requeue(struct proberd *d, struct store_txn *t, const struct result *r)
{
	struct store_probe	next;

	switch (r->outcome) {
	case O_LISTED:
		memset(&next, 0, sizeof(next));
		next.addr = r->addr;
		next.reason = STORE_PROBE_RETEST;
		next.due = r->now + d->retest_interval;
		return store_queue_put(t, &next);
	case O_DEFERRED:
		/* Once more after tempfail_retry: greylisting lets it by. */
		if (r->has_q) {
			next = r->q;
			next.running = 0;
			next.deferred = 1;
			next.due = r->now + d->tempfail_retry;
			return store_queue_put(t, &next);
		}
		break;
	case O_INCONCLUSIVE:
		if (r->has_q && r->q.attempts + 1 < d->max_attempts) {
			next = r->q;
			next.running = 0;
			next.due = r->now + verdict_backoff(next.attempts,
			    r->busy, d->retry_421);
			next.attempts++;
			return store_queue_put(t, &next);
		}
		break;
	default:
		break;
	}
	return store_queue_del(t, &r->addr) == -1 ? -1 : 0;
}

/*
 * Writes a result in one transaction: evidence, listing changes, the
 * queue, the audit.  Any failure aborts the transaction (so no write lock
 * outlives this call).  Returns 0, or -1 with the store unchanged.
 */
static int
result_write(struct proberd *d, const struct result *r)
{
	const struct addr	*a = &r->addr;
	struct store_txn	*t;
	uint64_t		 ev = 0;
	int			 reason = r->has_q ? r->q.reason :
				    STORE_PROBE_SUBMIT;

	if ((t = store_begin(d->st, "proberd")) == NULL)
		return -1;
	store_txn_settime(t, r->now);
	if (r->blob && store_evidence_put(t, r->blob, r->blen, &ev) == -1)
		goto err;
	if (r->outcome == O_LISTED) {
		if (list_addr(t, a, STORE_KIND_RELAY, PROBERD_CODE_RELAY, ev,
		    r->now, d->listing_ttl, "") == -1)
			goto err;
		/* Multi-hop egress: only where judge_egress() says so. */
		if (r->egress && list_addr(t, &r->peer, STORE_KIND_EGRESS,
		    PROBERD_CODE_EGRESS, ev, r->now, d->listing_ttl, "") == -1)
			goto err;
	}
	if (r->outcome == O_CLEAN && reason != STORE_PROBE_SUBMIT &&
	    store_unlist(t, a, "clean retest: every form refused") == -1)
		goto err;
	/* The reason as data: the removal-retest limit reads it (queue.c). */
	if (requeue(d, t, r) == -1 || store_audit_probe(t, STORE_AUDIT_PROBE,
	    a, reason, r->outcome == O_LISTED ? PROBERD_CODE_RELAY : 0,
	    r->text) == -1)
		goto err;
	/* store_commit ends the txn whatever it returns. */
	return store_commit(t);
err:
	store_abort(t);
	return -1;
}

static struct result *
find_pending(struct proberd *d, const struct addr *a)
{
	struct result *r;

	TAILQ_FOREACH(r, &d->pending, entry)
		if (r->addr.family == a->family &&
		    memcmp(r->addr.bytes, a->bytes, addr_len(a)) == 0)
			return r;
	return NULL;
}

int
outcome_pending(struct proberd *d, const struct addr *a)
{
	return find_pending(d, a) != NULL;
}

const char *
outcome_store_error(struct proberd *d)
{
	return store_error(d->st) == STORE_EFULL ? "the store is full" :
	    "the store failed";
}

/*
 * A write failed: no new work starts (its outcome could not be written
 * either) until a retry after a backoff, 1 s doubling to 5 min, finds the
 * store writable again.
 */
void
outcome_store_failed(struct proberd *d)
{
	struct timeval tv;

	d->backoff = d->backoff ? d->backoff * 2 : 1;
	if (d->backoff > 300)
		d->backoff = 300;
	d->store_failing = 1;
	tv.tv_sec = d->backoff;
	tv.tv_usec = 0;
	if (!d->stopping && !evtimer_pending(d->retry, NULL))
		evtimer_add(d->retry, &tv);
}

/* A write succeeded: the next trouble starts at the shortest backoff. */
void
outcome_store_ok(struct proberd *d)
{
	if (TAILQ_EMPTY(&d->pending))
		d->backoff = 0;
}

/*
 * Writes waiting results in the order they came, up to the first that
 * fails.  Returns 0 when none is left.
 */
static int
write_pending(struct proberd *d)
{
	struct result	*r;
	char		 abuf[ADDR_STRLEN];

	while ((r = TAILQ_FIRST(&d->pending)) != NULL) {
		if (result_write(d, r) == -1)
			return -1;
		TAILQ_REMOVE(&d->pending, r, entry);
		d->npending--;
		log_info("%s: %s (written late)", addr_format(&r->addr, abuf),
		    r->text);
		result_free(r);
	}
	return 0;
}

/* The backoff ended: write what waits, and let the scheduler go on. */
void
outcome_retry(evutil_socket_t fd, short what, void *arg)
{
	struct proberd *d = arg;

	(void)fd;
	(void)what;
	if (write_pending(d) == -1) {
		outcome_store_failed(d);
		log_warnx("%d outcomes wait in memory: %s; next try in %d s",
		    d->npending, outcome_store_error(d), d->backoff);
		return;
	}
	d->store_failing = 0;
	outcome_store_ok(d);
	scheduler_kick(d);
}

/*
 * Records an outcome.  q may be NULL for a delivery that no running probe
 * waited for.  When the store refuses the write the result waits in memory
 * (and its address is not probed again) until a retry writes it.
 */
void
outcome_record(struct proberd *d, const struct store_probe *q,
    const struct addr *a, int outcome, const struct probe_summary *sum,
    const struct probe *pr, const struct proof *pf)
{
	struct result	*r, *old;
	char		 abuf[ADDR_STRLEN];

	addr_format(a, abuf);
	/* A later copy of a relayed cookie proves nothing new. */
	if (q == NULL && (old = find_pending(d, a)) != NULL &&
	    old->outcome == O_LISTED)
		return;
	if ((r = result_new(q, a, outcome, sum, pr, pf)) == NULL) {
		log_warnx("%s: outcome lost (out of memory)", abuf);
		return;
	}
	/* Results are written in order: a new one waits behind the others. */
	if (TAILQ_EMPTY(&d->pending) && result_write(d, r) == 0) {
		log_info("%s: %s", abuf, r->text);
		outcome_store_ok(d);
		result_free(r);
		return;
	}
	TAILQ_INSERT_TAIL(&d->pending, r, entry);
	d->npending++;
	if (!d->store_failing)
		outcome_store_failed(d);
	log_warnx("%s: %s: not written (%s); kept in memory, %d waiting",
	    abuf, r->text, outcome_store_error(d), d->npending);
}

/* SIGTERM: a last try for waiting results; what still fails is lost. */
void
outcome_drop_pending(struct proberd *d)
{
	struct result	*r;
	char		 abuf[ADDR_STRLEN];

	if (TAILQ_EMPTY(&d->pending) || write_pending(d) == 0)
		return;
	log_warnx("%d outcomes could not be written (%s) and are lost; their "
	    "addresses stay queued and will be probed again", d->npending,
	    outcome_store_error(d));
	while ((r = TAILQ_FIRST(&d->pending)) != NULL) {
		TAILQ_REMOVE(&d->pending, r, entry);
		d->npending--;
		log_warnx("lost: %s: %s", addr_format(&r->addr, abuf),
		    r->text);
		result_free(r);
	}
}
