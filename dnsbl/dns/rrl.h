/*
 * rrl.h -- response rate limiting per client network (UDP)
 *
 * As NSD and Knot limit responses: every response to a client's /24
 * (IPv4) or /56 (IPv6) counts against that network's allowance of rate
 * responses a second; over it, a response is dropped, except every
 * slip-th one, which is sent truncated (TC, no records) so that a real
 * client behind a spoofed flood retries over TCP and is answered there.
 * slip 0 drops them all, slip 1 truncates them all.  Only UDP is limited:
 * a TCP client cannot forge its address.
 *
 * A table is a fixed number of buckets indexed by a hash of the network;
 * a network that lands on a bucket held by another takes it over and
 * starts afresh (so a collision can only let responses through, never
 * limit an innocent network).  One table per thread that answers UDP:
 * nothing shared, no lock, and nothing allocated per query.  The clock is
 * the caller's (seconds), so the logic is tested without one.
 */
#ifndef RELAYBL_RRL_H
#define RELAYBL_RRL_H

#include <stdint.h>

#include "addr.h"

#define RRL_V4_PREFIX	24
#define RRL_V6_PREFIX	56

enum rrl_verdict {
	RRL_SEND,		/* within the rate */
	RRL_SLIP,		/* over it: send truncated */
	RRL_DROP,		/* over it: send nothing */
};

struct rrl;

/*
 * A table of size buckets (rounded up to a power of two, at least 64)
 * for rate responses a second per network (rate > 0) and the given slip.
 * NULL when out of memory.  Free with rrl_free().
 */
struct rrl	*rrl_new(uint32_t rate, uint32_t slip, uint32_t size);
void		 rrl_free(struct rrl *);		/* NULL: no-op */

/*
 * Counts one response to the client at address a at time now (seconds,
 * any monotonic origin) and says what to do with it.
 */
enum rrl_verdict rrl_check(struct rrl *, const struct addr *a,
		    uint32_t now);

#endif
