/*
 * test_rrl.c -- unit tests of response rate limiting (rrl.c): the rate
 * per second, slip, networks of /24 and /56, a new second, and bucket
 * takeover.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fixture.h"
#include "rrl.h"
#include "tap.h"

/* n responses to s at second now: how many sent, slipped, dropped. */
static void
burst(struct rrl *r, const char *s, uint32_t now, int n, int *got)
{
	struct addr a = fixture_addr(s);

	got[0] = got[1] = got[2] = 0;
	for (int i = 0; i < n; i++)
		got[rrl_check(r, &a, now)]++;
}

int
main(void)
{
	struct rrl	*r = rrl_new(10, 2, 1024);
	int		 got[3];

	ok(r != NULL, "a table");
	burst(r, "192.0.2.1", 100, 30, got);
	ok(got[RRL_SEND] == 10 && got[RRL_SLIP] == 10 && got[RRL_DROP] == 10,
	    "30 in a second at rate 10, slip 2: 10 sent, 10 slipped, 10 "
	    "dropped");
	burst(r, "192.0.2.254", 100, 1, got);
	is_int(got[RRL_SLIP] + got[RRL_DROP], 1, "another host of the /24: "
	    "limited too");
	burst(r, "192.0.3.1", 100, 10, got);
	is_int(got[RRL_SEND], 10, "the next /24: its own allowance");
	burst(r, "192.0.2.1", 101, 12, got);
	ok(got[RRL_SEND] == 10 && got[RRL_SLIP] + got[RRL_DROP] == 2,
	    "the next second: 10 again");
	burst(r, "2001:db8:0:ff::1", 100, 11, got);
	is_int(got[RRL_SEND], 10, "IPv6: 10 sent");
	burst(r, "2001:db8:0:aa::1", 100, 1, got);
	is_int(got[RRL_SEND], 0, "  same /56: limited");
	burst(r, "2001:db8:0:100::1", 100, 1, got);
	is_int(got[RRL_SEND], 1, "  another /56: sent");
	rrl_free(r);

	r = rrl_new(5, 0, 64);
	burst(r, "198.51.100.1", 7, 20, got);
	ok(got[RRL_SEND] == 5 && got[RRL_SLIP] == 0 && got[RRL_DROP] == 15,
	    "slip 0: every limited one dropped");
	rrl_free(r);
	r = rrl_new(5, 1, 64);
	burst(r, "198.51.100.1", 7, 20, got);
	ok(got[RRL_SEND] == 5 && got[RRL_SLIP] == 15,
	    "slip 1: every limited one truncated");
	/* 64 buckets: many networks take buckets over, and may only gain. */
	int sent = 0;
	char buf[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "10.%d.%d.1", i / 256, i % 256);
		burst(r, buf, 8, 5, got);
		sent += got[RRL_SEND];
	}
	is_int(sent, 5000, "1,000 networks over 64 buckets, 5 each: all "
	    "sent (a takeover starts afresh)");
	rrl_free(r);
	rrl_free(NULL);
	return tap_done();
}
