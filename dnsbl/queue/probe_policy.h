/*
 * probe_policy.h -- which addresses may be probed, and when
 *
 * The manners of RFC 6471 section 3.6 and the relay-test reference, as
 * pure functions shared by the queue module (queue.h: every front end, at
 * submission) and proberd (before each probe): special-use addresses (RFC 6890) are refused unless the
 * operator's allow list covers them; an address is probed at most once a
 * day, except that a removal request may retest it once an hour.
 */
#ifndef RELAYBL_PROBE_POLICY_H
#define RELAYBL_PROBE_POLICY_H

#include <stdint.h>

#include "addr.h"
#include "store.h"

#define PROBE_ALLOW_MAX		64
#define PROBE_DAILY		86400	/* seconds between ordinary probes */
#define PROBE_DELIST_GAP	3600	/* between removal retests */

struct probe_allow {
	struct addr	prefix[PROBE_ALLOW_MAX];
	int		n;
};

/*
 * Parses a comma- or space-separated list of CIDRs ([prober] allow).
 * Returns 0, or -1 with *err naming the problem (a static string) and
 * *bad pointing into a static copy of the offending item.
 */
int	probe_allow_parse(const char *list, struct probe_allow *,
	    const char **err, const char **bad);

/*
 * NULL when address a may be probed, or why not: not a single address,
 * or special-use and outside the allow list.
 */
const char *probe_refusal(const struct addr *a, const struct probe_allow *);

/*
 * When a probe for reason may run, given now and the times of the last
 * probe of the address (0: never) and of its last removal retest (0:
 * never): at once, or once the daily (or, for a removal request, hourly)
 * limit has passed.
 */
int64_t	probe_due(int reason, int64_t now, int64_t last_probe,
	    int64_t last_delist);

#endif
