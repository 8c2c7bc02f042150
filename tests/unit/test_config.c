/*
 * test_config.c -- unit tests of the configuration reader
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "tap.h"

int
main(void)
{
	static const char *const known[] = { "dir", "map_size", NULL };
	struct config	*c;
	int64_t		 n;
	uint64_t	 sz;

	log_init("test_config", 0);
	c = config_parse("; comment\n[store]\ndir = /var/lib/relaybl\n"
	    "map_size = 64M\ntypo = 1\n[prober]\nretest_interval = 7d\n"
	    "concurrency = 200\nbad = 12x\nneg = -3\ntimeout_connect = 15\n"
	    "[store]\ndir = /srv/override\n", "test.conf");
	ok(c != NULL, "parse");
	is_str(config_str(c, "store", "dir", NULL), "/srv/override",
	    "a later value replaces an earlier one");
	is_str(config_str(c, "store", "nothere", "def"), "def", "default");
	ok(config_size(c, "store", "map_size", 0, &sz) == 0 &&
	    sz == 64u << 20, "size with suffix");
	ok(config_duration(c, "prober", "retest_interval", 0, &n) == 0 &&
	    n == 7 * 86400, "duration in days");
	ok(config_duration(c, "prober", "timeout_connect", 0, &n) == 0 &&
	    n == 15, "plain duration is seconds");
	ok(config_duration(c, "prober", "absent", 42, &n) == 0 && n == 42,
	    "absent duration: default");
	ok(config_int(c, "prober", "concurrency", 0, 1, 10000, &n) == 0 &&
	    n == 200, "integer in range");
	ok(config_int(c, "prober", "concurrency", 0, 1, 100, &n) == -1,
	    "integer out of range refused");
	ok(config_int(c, "prober", "bad", 0, 0, 100, &n) == -1,
	    "trailing garbage refused");
	ok(config_duration(c, "prober", "bad", 0, &n) == -1,
	    "bad duration suffix refused");
	ok(config_int(c, "prober", "neg", 0, -10, 100, &n) == -1,
	    "negative refused");
	is_int(config_check_keys(c, "store", known), 1, "one unknown key");
	config_free(c);
	ok(config_parse("[store\nx=1\n", "broken.conf") == NULL,
	    "syntax error refused");
	ok(config_load("/nonexistent/relaybl.conf") == NULL,
	    "missing named file refused");
	c = config_load(NULL);
	ok(c != NULL, "no file, no name: defaults");
	config_free(c);
	return tap_done();
}
