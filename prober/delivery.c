/*
 * delivery.c -- what a delivery to proberd's sink proves
 *
 * A cookie names its address and its probe (the probe's start time).  It
 * lists only while that probe waits for it: running, or ended --
 * whatever its outcome, as relays queue -- less than confirm_window ago.
 * Ended probes are remembered in memory (struct recent) for
 * confirm_window, with whether one of their cookies listed already and
 * which attempts were delivered, so each probe confirms once: another
 * copy from the same relay is noted, while a replay (an attempt delivered
 * before) or a cookie no probe waits for (an older probe, or one from
 * before a restart: the memory is not kept, which errs toward listing
 * nothing) lists nothing and is audited under the address its cookie
 * names.  The delivering address, when not the probed one, is listed as
 * multi-hop egress only within egress_scope of the probed address (/24
 * and /48 by default: plausibly the relay's own outbound path), not
 * excluded and not special-use; else the evidence says why it was not (a
 * cookie mailed on through some big provider's smarthost).
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "log.h"
#include "proberd.h"

/*
 * A probe that ended, remembered for confirm_window: its cookies may still
 * arrive (relays queue), once.
 */
struct recent {
	struct store_probe	 q;
	struct probe_summary	 sum;
	uint32_t		 born;
	int64_t			 ended;
	int			 confirmed;	/* a cookie of it listed */
	uint64_t		 delivered;	/* attempts seen, as bits */
	TAILQ_ENTRY(recent)	 entry;
};

#define RECENT_MAX		65536	/* ended probes remembered, at most */
#define UNSOLICITED_PER_MINUTE	60	/* audited; more are only counted */

/* The bit of an attempt in struct recent's delivered. */
static uint64_t
attempt_bit(int attempt)
{
	return 1ULL << (attempt >= 0 && attempt < 63 ? attempt : 63);
}

/* Drops ended probes whose confirm_window has passed. */
static void
forget_old(struct proberd *d, int64_t now)
{
	struct recent	*r;

	while ((r = TAILQ_FIRST(&d->recents)) != NULL &&
	    (r->ended + d->confirm_window < now || d->nrecent > RECENT_MAX)) {
		TAILQ_REMOVE(&d->recents, r, entry);
		d->nrecent--;
		free(r);
	}
}

/*
 * Remembers an ending probe for confirm_window, whatever its outcome:
 * a cookie of it that arrives by then still lists (once).  Out of memory,
 * it is forgotten: its late cookies then list nothing, which errs the
 * safe way.
 */
void
delivery_remember(struct active *ac, int outcome, const struct proof *pf)
{
	struct proberd	*d = ac->d;
	struct recent	*r;
	int64_t		 now = time(NULL);

	forget_old(d, now);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return;
	r->q = ac->q;
	r->sum = ac->sum;
	r->born = ac->born;
	r->ended = now;
	r->confirmed = outcome == O_LISTED;
	if (pf != NULL)
		r->delivered = attempt_bit(pf->form);
	TAILQ_INSERT_TAIL(&d->recents, r, entry);
	d->nrecent++;
}

static struct recent *
find_recent(struct proberd *d, const struct cookie *c, int64_t now)
{
	struct recent	*r;

	forget_old(d, now);
	/*
	 * Newest first: a deferred probe's second pass has its first
	 * pass's cookie time, and its record is the one that counts.
	 */
	TAILQ_FOREACH_REVERSE(r, &d->recents, recents, entry)
		if (r->born == c->time && r->q.addr.family == c->addr.family &&
		    memcmp(r->q.addr.bytes, c->addr.bytes,
		    addr_len(&c->addr)) == 0)
			return r;
	return NULL;
}

/* The running probe whose cookie c is (same address, same start). */
static struct active *
find_waiting(struct proberd *d, const struct cookie *c)
{
	struct active	*ac = scheduler_find_active(d, &c->addr);

	return ac != NULL && ac->born == c->time ? ac : NULL;
}

/*
 * Whether the peer that delivered a cookie of probed is its multi-hop
 * egress, to be listed: plausibly the relay's own outbound path (within
 * egress_scope of it), not excluded, not special-use.  A smarthost
 * elsewhere that a cookie was mailed through is not.
 */
static void
judge_egress(struct proberd *d, const struct addr *probed, struct proof *pf)
{
	struct addr		x = *probed, y = *pf->peer;
	struct store_hit	hit;
	int			r;

	pf->egress = 0;
	pf->not_egress = NULL;
	if (y.family == x.family && memcmp(y.bytes, x.bytes,
	    addr_len(&x)) == 0)
		return;
	x.plen = y.plen = (uint8_t)(x.family == ADDR_V4 ? d->egress_scope :
	    d->egress_scope6);
	addr_mask(&x);
	addr_mask(&y);
	if (y.family != x.family || memcmp(x.bytes, y.bytes,
	    sizeof(x.bytes)) != 0)
		pf->not_egress = "outside egress_scope";
	else if (probe_refusal(pf->peer, &d->allow) != NULL)
		pf->not_egress = "special-use";
	else if ((r = store_lookup(d->rd, pf->peer, &hit)) == -1)
		pf->not_egress = "exclusions unreadable";
	else if (r == 0 && hit.excluded)
		pf->not_egress = "excluded";
	pf->egress = pf->not_egress == NULL;
}

/*
 * A delivery that lists nothing goes to the audit trail of the address
 * its cookie names, at most UNSOLICITED_PER_MINUTE a minute: a flood of
 * replays must not become a flood of commits.
 */
static void
unsolicited(struct proberd *d, const struct cookie *c,
    const struct addr *peer, const char *what)
{
	struct store_txn	*t;
	char			 abuf[ADDR_STRLEN], pbuf[ADDR_STRLEN];
	char			 text[STORE_TEXT_MAX], when[32];
	int64_t			 now = time(NULL);
	time_t			 made = (time_t)c->time;
	struct tm		 tm;

	if (now / 60 != d->unsolicited_minute) {
		if (d->unsolicited_n > UNSOLICITED_PER_MINUTE)
			log_warnx("sink: %d more deliveries listed nothing, "
			    "not audited", d->unsolicited_n -
			    UNSOLICITED_PER_MINUTE);
		d->unsolicited_minute = now / 60;
		d->unsolicited_n = 0;
	}
	if (++d->unsolicited_n > UNSOLICITED_PER_MINUTE)
		return;
	gmtime_r(&made, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(text, sizeof(text), "delivery by %s not listed: %s (cookie "
	    "of attempt %u, made %s)", addr_format(peer, pbuf), what,
	    (unsigned)c->attempt, when);
	if ((t = store_begin(d->st, "proberd")) == NULL)
		return;
	if (store_audit_add(t, STORE_AUDIT_PROBE, &c->addr, 0, text) == -1) {
		store_abort(t);
		return;
	}
	if (store_commit(t) == 0)
		log_info("%s: %s", addr_format(&c->addr, abuf), text);
}

static int
same_cookie(const struct cookie *a, const struct cookie *b)
{
	return a->time == b->time && a->attempt == b->attempt &&
	    a->addr.family == b->addr.family && memcmp(a->addr.bytes,
	    b->addr.bytes, addr_len(&a->addr)) == 0;
}

/*
 * A message arrived at the sink.  Each cookie lists its address only
 * while its probe waits for it (running, or ended within confirm_window)
 * and only once; a later copy from the same relay is noted, a replay or
 * a cookie no probe waits for is audited, and neither lists anything.
 */
void
delivery_received(struct proberd *d, const struct addr *peer,
    const struct sink_delivery *dl)
{
	int64_t	now = time(NULL);

	for (int i = 0, j; i < dl->ncookies; i++) {
		const struct cookie *c = &dl->cookies[i];
		struct proof pf = { dl->message, dl->len, peer,
		    c->attempt, 0, NULL };
		struct active *ac;
		struct recent *r;
		char abuf[ADDR_STRLEN];

		for (j = 0; j < i && !same_cookie(&dl->cookies[j], c); j++)
			;
		if (j < i)
			continue;	/* the same recipient twice */
		if ((ac = find_waiting(d, c)) != NULL) {
			judge_egress(d, &ac->q.addr, &pf);
			scheduler_finish(ac, O_LISTED, &pf);
		} else if ((r = find_recent(d, c, now)) != NULL &&
		    !r->confirmed) {
			judge_egress(d, &r->q.addr, &pf);
			outcome_record(d, &r->q, &r->q.addr, O_LISTED, &r->sum,
			    NULL, &pf);
			r->confirmed = 1;
			r->delivered |= attempt_bit(c->attempt);
		} else if (r != NULL && !(r->delivered &
		    attempt_bit(c->attempt))) {
			r->delivered |= attempt_bit(c->attempt);
			log_debug("%s: another copy (attempt %u), already "
			    "confirmed", addr_format(&c->addr, abuf),
			    (unsigned)c->attempt);
		} else
			unsolicited(d, c, peer, r != NULL ?
			    "replay of a cookie that already confirmed" :
			    "no probe waits for this cookie");
	}
}
