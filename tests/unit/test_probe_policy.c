/*
 * test_probe_policy.c -- unit tests of the probing manners
 */
#include <string.h>

#include "addr.h"
#include "fixture.h"
#include "probe_policy.h"
#include "tap.h"

int
main(void)
{
	struct probe_allow	 pa;
	const char		*err = "", *bad = "";
	struct addr		 a;

	ok(probe_allow_parse("", &pa, &err, &bad) == 0 && pa.n == 0,
	    "empty allow list");
	a = fixture_addr("127.0.0.2");
	ok(probe_refusal(&a, &pa) != NULL, "loopback refused by default");
	a = fixture_addr("192.168.1.1");
	ok(probe_refusal(&a, &pa) != NULL, "private refused by default");
	a = fixture_addr("::1");
	ok(probe_refusal(&a, &pa) != NULL, "IPv6 loopback refused");
	a = fixture_addr("8.8.8.8");
	ok(probe_refusal(&a, &pa) == NULL, "public address allowed");
	a = fixture_addr("8.8.8.0/24");
	ok(probe_refusal(&a, &pa) != NULL, "a prefix is refused");
	ok(probe_allow_parse("127.0.0.0/8, ::1/128 10.1.0.0/16", &pa, &err,
	    &bad) == 0 && pa.n == 3, "allow list of three");
	a = fixture_addr("127.0.0.5");
	ok(probe_refusal(&a, &pa) == NULL, "allowed loopback");
	a = fixture_addr("::1");
	ok(probe_refusal(&a, &pa) == NULL, "allowed ::1");
	a = fixture_addr("10.2.0.1");
	ok(probe_refusal(&a, &pa) != NULL, "private outside allow refused");
	int rc = probe_allow_parse("127.0.0.0/8, 10.0.0.1/8", &pa, &err, &bad);
	ok(rc == -1 && strcmp(bad, "10.0.0.1/8") == 0,
	    "bad item named: %s (%s)", bad, err);
	is_int(probe_due(STORE_PROBE_SUBMIT, 1000, 0, 0), 1000,
	    "never probed: now");
	is_int(probe_due(STORE_PROBE_SUBMIT, 100000, 50000, 0), 136400,
	    "probed 14 h ago: a day after that probe");
	is_int(probe_due(STORE_PROBE_RETEST, 200000, 50000, 0), 200000,
	    "probed over a day ago: now");
	is_int(probe_due(STORE_PROBE_DELIST, 100000, 99000, 0), 100000,
	    "removal request ignores the daily limit");
	is_int(probe_due(STORE_PROBE_DELIST, 100000, 99000, 99000), 102600,
	    "but waits an hour after the last removal retest");
	return tap_done();
}
