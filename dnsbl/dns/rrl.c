/*
 * rrl.c -- response rate limiting per client network
 *
 * Each bucket counts the responses of the current second to one network
 * (NSD's per-second counting, without its averaging over seconds: a
 * network gets rate responses in any one second, then waits for the
 * next).  The slip count is kept per bucket, so one network's limited
 * responses slip every slip-th whatever the others do.
 */
#include <stdlib.h>
#include <string.h>

#include "rrl.h"

struct bucket {
	uint64_t	net;		/* family and prefix; 0: unused */
	uint32_t	second;
	uint32_t	count;		/* responses in that second */
	uint32_t	limited;	/* over the rate, for slip */
};

struct rrl {
	uint32_t	 rate, slip, mask;
	struct bucket	*b;
};

struct rrl *
rrl_new(uint32_t rate, uint32_t slip, uint32_t size)
{
	struct rrl	*r;
	uint32_t	 n = 64;

	while (n < size && n < (1u << 24))
		n <<= 1;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->b = calloc(n, sizeof(*r->b))) == NULL) {
		free(r);
		return NULL;
	}
	r->rate = rate;
	r->slip = slip;
	r->mask = n - 1;
	return r;
}

void
rrl_free(struct rrl *r)
{
	if (r == NULL)
		return;
	free(r->b);
	free(r);
}

/* The network of a: family in the top byte, the prefix's bytes below. */
static uint64_t
network(const struct addr *a)
{
	uint64_t net = (uint64_t)a->family << 56;

	if (a->family == ADDR_V4)
		return net | (uint64_t)a->bytes[0] << 16 |
		    (uint64_t)a->bytes[1] << 8 | a->bytes[2];
	for (int i = 0; i < RRL_V6_PREFIX / 8; i++)
		net |= (uint64_t)a->bytes[i] << (8 * (RRL_V6_PREFIX / 8 - 1 -
		    i));
	return net;
}

enum rrl_verdict
rrl_check(struct rrl *r, const struct addr *a, uint32_t now)
{
	uint64_t	 net = network(a);
	/* Fibonacci hashing: the high bits of the product are well mixed. */
	uint64_t	 h = (net * 0x9e3779b97f4a7c15ull) >> 32;
	struct bucket	*b = &r->b[h & r->mask];

	if (b->net != net) {
		b->net = net;
		b->second = now;
		b->count = 0;
		b->limited = 0;
	} else if (b->second != now) {
		b->second = now;
		b->count = 0;
	}
	if (b->count < r->rate) {
		b->count++;
		return RRL_SEND;
	}
	if (r->slip > 0 && ++b->limited % r->slip == 0)
		return RRL_SLIP;
	return RRL_DROP;
}
