/*
 * test_zone_walk.c -- zone_walk's names: wildcards, splitting, exclusions,
 * repeated wildcards under existing names, IPv4 names IPv6 names pass
 * through, test points, determinism and stopping
 *
 * Each walk is collected as text, one line per name ("NAME A CODE TXT" or
 * "NAME - TXT" for a marker), and looked at line by line.  Whether a real
 * server answers the names as dnsbld does is export.t's job (NSD).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "fixture.h"
#include "log.h"
#include "tap.h"
#include "store.h"
#include "zone.h"
#include "zone_walk.h"

static struct store		*st;
static struct store_reader	*rd;
static struct zone		*z;
static struct answer_conf	 conf;
static char			 buf[1 << 20];
static size_t			 blen;

static int
collect(const struct zone_name *n, void *arg)
{
	(void)arg;
	blen += snprintf(buf + blen, sizeof(buf) - blen, "%s %s %u %s\n",
	    n->text, n->listed ? "A" : "-", n->code & 0xff, n->txt);
	return 0;
}

static int
walk(void)
{
	struct zone_walk_stats s;

	blen = 0;
	buf[0] = '\0';
	store_reader_begin(rd);
	int rc = zone_walk(rd, z, &conf, collect, NULL, &s);
	store_reader_end(rd);
	return rc;
}

/* Whether a line starts with prefix. */
static int
has(const char *prefix)
{
	char pat[512];

	snprintf(pat, sizeof(pat), "\n%s", prefix);
	return strncmp(buf, prefix, strlen(prefix)) == 0 ||
	    strstr(buf, pat) != NULL;
}

static int
count(const char *suffix)
{
	int n = 0;

	for (char *l = buf; *l; l = strchr(l, '\n') + 1) {
		char *sp = strchr(l, ' ');
		if ((size_t)(sp - l) >= strlen(suffix) &&
		    strncmp(sp - strlen(suffix), suffix, strlen(suffix)) == 0)
			n++;
	}
	return n;
}

static int
stop(const struct zone_name *n, void *arg)
{
	(void)n;
	return ++*(int *)arg == 3 ? 7 : 0;
}

int
main(void)
{
	char	 path[1024], *first;
	int	 calls = 0;

	log_init("test_zone_walk", 0);
	snprintf(path, sizeof(path), "%s/bl.test.zone", fixture_dir());
	fixture_write(path, "$ORIGIN bl.test.\n$TTL 3600\n"
	    "@ IN SOA ns1.bl.test. h.bl.test. ( 1 3600 900 604800 600 )\n"
	    "@ IN NS ns1.bl.test.\n");
	st = fixture_store();
	rd = store_reader_new(st);
	z = zone_load(path);
	ok(st && rd && z, "store and zone");
	answer_conf_init(&conf);
	conf.test_code[3] = 1;
	snprintf(conf.txt_template, sizeof(conf.txt_template), "L $");

	ok(walk() == 0, "an empty store walks");
	ok(has("2.0.0.127.bl.test. A 2 L 127.0.0.2\n") &&
	    has("3.0.0.127.bl.test. A 3 ") && !has("1.0.0.127.") &&
	    has("2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.bl.test. A 2 L ::ffff:127.0.0.2\n"),
	    "test points, IPv4 and IPv4-mapped IPv6, never 127.0.0.1");

	fixture_list(st, "192.0.2.0/24", 2, "");
	fixture_list(st, "10.0.0.0/9", 2, "");
	fixture_list(st, "198.18.0.128/25", 2, "");
	fixture_list(st, "203.0.113.9", 3, "own $");
	fixture_list(st, "2001:db8:2::/50", 2, "");
	fixture_list(st, "3ff0::/12", 2, "");
	fixture_list(st, "100.64.1.1", 2, "");
	fixture_exclude(st, "100.64.0.0/16", "x");
	fixture_exclude(st, "192.0.2.7", "x");
	fixture_list(st, "172.16.0.0/16", 2, "");
	fixture_list(st, "172.16.5.6", 3, "");
	fixture_exclude(st, "172.16.9.0/24", "x");
	fixture_list(st, "2.0.0.0/24", 2, "");
	ok(walk() == 0, "a walk");
	ok(has("*.2.0.192.bl.test. A 2 L 192.0.2.0/24\n"),
	    "a /24 is a wildcard, $ the prefix");
	ok(count(".10.bl.test.") == 128 && has("*.0.10.bl.test. A 2 ") &&
	    has("*.127.10.bl.test. A 2 ") && !has("*.128.10.bl.test."),
	    "a /9 is 128 /16 wildcards");
	ok(count(".0.18.198.bl.test.") == 128 &&
	    has("128.0.18.198.bl.test. A 2 L 198.18.0.128\n") &&
	    !has("127.0.18.198."), "a /25 is 128 exact names");
	ok(has("9.113.0.203.bl.test. A 3 own 203.0.113.9\n"),
	    "an address, its code and text");
	ok(has("_stop.7.2.0.192.bl.test. - "),
	    "an exclusion in a wildcard: a marker under its name");
	ok(!has("1.1.64.100."), "a listing inside an exclusion: nothing");
	ok(has("*.16.172.bl.test. A 2 ") && has("*.5.16.172.bl.test. A 2 ") &&
	    has("6.5.16.172.bl.test. A 3 ") &&
	    has("_stop.9.16.172.bl.test. - ") && !has("*.9.16.172."),
	    "a wildcard repeated under the names inside it; an excluded /24");
	ok(has("*.0.0.2.bl.test. A 2 ") && has("0.0.0.2.bl.test. A 2 ") &&
	    has("9.0.0.2.bl.test. A 2 ") && !has("10.0.0.2.bl.test.") &&
	    has("_stop.a.0.0.2.bl.test. - ") && has("_stop.f.0.0.2.bl.test."),
	    "an all-digit IPv4 wildcard: digits given, hex letters stopped");
	ok(count(".2.0.0.0.8.b.d.0.1.0.0.2.bl.test.") == 4 &&
	    has("*.3.2.0.0.0.8.b.d.0.1.0.0.2.bl.test. A 2 L 2001:db8:2::/50"),
	    "an IPv6 /50 is 4 nibble wildcards");
	ok(count(".f.f.3.bl.test.") == 16 && !has("*.f.f.3.bl.test.") &&
	    has("*.0.f.f.3.bl.test. A 2 ") && has("*.f.f.f.3.bl.test. A 2 "),
	    "an IPv6 /12 is 16 wildcards at the 4th label");

	first = strdup(buf);
	walk();
	ok(first && strcmp(first, buf) == 0, "the same snapshot, the same "
	    "names in the same order");
	free(first);
	store_reader_begin(rd);
	ok(zone_walk(rd, z, &conf, stop, &calls, NULL) == 7 && calls == 3,
	    "the callback's value stops the walk");
	store_reader_end(rd);

	zone_free(z);
	store_reader_free(rd);
	store_close(st);
	return tap_done();
}
