/*
 * queue.h -- the submission and removal rules, shared by every front end
 *
 * dnsblctl (and the HTTP API after it) queue work for proberd only through
 * this module, so that every front end applies the same rules and writes
 * the same entries: special-use addresses are refused unless [prober]
 * allow covers them (probe_policy.h); an address is probed at most once a
 * day, and a removal retest runs at most once an hour, the last times
 * being read from the probe reasons the audit trail keeps as data
 * (store_audit.reason); removal is asked for one address that is listed,
 * not excluded.  A probe already queued as early is left alone, but a
 * removal request overtakes a queued probe of another reason.  As before
 * this module, a submission is not checked against exclusions, nor a
 * removal request against the special-use rule (proberd refuses such a
 * probe when it comes due).
 *
 * The functions apply the rules and do the writes (queue entry, audit) in
 * one transaction; they print nothing.  What became of each address comes
 * back as a struct queue_result that each front end words its own way.
 */
#ifndef RELAYBL_QUEUE_H
#define RELAYBL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "probe_policy.h"
#include "store.h"

enum queue_outcome {
	QUEUE_QUEUED = 1,	/* queued now: probe is the new entry */
	QUEUE_ALREADY,		/* as early a probe was queued: probe is it */
	QUEUE_REFUSED,		/* never probed: why says why */
	QUEUE_NOT_LISTED,	/* removal of an address that is not listed */
	QUEUE_EXCLUDED		/* removal: not listed, excluded_by covers it */
};

struct queue_result {
	enum queue_outcome	 outcome;
	struct store_probe	 probe;		/* QUEUED, ALREADY */
	int			 limited;	/* QUEUED: due later than now,
						   by the daily/hourly limit */
	const char		*why;		/* REFUSED: a static string */
	struct addr		 excluded_by;	/* EXCLUDED */
};

/*
 * NULL when address a may be submitted for probing, or why not (a static
 * string): not a single address, or special-use outside allow.  No I/O:
 * a front end may check its input with it before queue_submit().
 */
const char	*queue_refusal(const struct addr *a,
		    const struct probe_allow *allow);

/*
 * Queues a relay test (STORE_PROBE_SUBMIT) of each of the n addresses
 * a[] in one write transaction of st by actor, at time now; res[i] (n of
 * them, owned by the caller) says what became of a[i].  All or nothing:
 * when any address is refused (res[i].outcome QUEUE_REFUSED) nothing is
 * written, and the others' results are not filled.  Returns the number of
 * addresses refused (0: each res is QUEUED or ALREADY, committed), or -1
 * when the store failed (nothing written; store_error(st) says why).
 */
int	queue_submit(struct store *st, const struct probe_allow *allow,
	    const char *actor, int64_t now, const struct addr *a, size_t n,
	    struct queue_result *res);

/*
 * Queues a relay test of each of the n addresses a[] as a feed does (the
 * HTTP API's operators: spam traps), each on its own: an address that is
 * refused (special-use; excluded; probed within the last day, which
 * queue_submit would queue for tomorrow instead) gets QUEUE_REFUSED and
 * why, the others are queued (or were already) in one transaction.
 * Returns 0, or -1 when the store failed (nothing written).
 */
int	queue_feed(struct store *st, const struct probe_allow *allow,
	    const char *actor, int64_t now, const struct addr *a, size_t n,
	    struct queue_result *res);

/*
 * Queues the removal retest (STORE_PROBE_DELIST) of the listed address a
 * in st by actor at time now.  *res: QUEUED or ALREADY (committed),
 * REFUSED (a prefix: removal is asked for one address), NOT_LISTED or
 * EXCLUDED (nothing written, no write transaction begun).  Returns 0, or
 * -1 when the store failed (nothing written).
 */
int	queue_removal(struct store *st, const char *actor, int64_t now,
	    const struct addr *a, struct queue_result *res);

#endif
