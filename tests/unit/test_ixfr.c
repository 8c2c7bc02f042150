/*
 * test_ixfr.c -- the journal and the differences IXFR sends
 *
 * The property: for random changes (listings, exclusions, imports,
 * removals, of prefixes that nest and overlap: wildcards, splits, holes,
 * test points), the records of the whole zone at serial s, minus what
 * ixfr_diff() from s says was deleted, plus what it says was added, are
 * exactly the records of the whole zone now; every record deleted was
 * there, every record added was not.  Checked from every older serial
 * after each round of commits.  Then the journal's limits: pruned to
 * its size, emptied by a change larger than it, none at size 0, a serial
 * newer than the store's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "fixture.h"
#include "ixfr.h"
#include "log.h"
#include "store.h"
#include "tap.h"
#include "xfr.h"
#include "zone.h"
#include "zone_walk.h"

static struct store		*st;
static struct store_reader	*rd;
static struct zone		*z;
static struct answer_conf	 conf;

/* A set of records, each "owner bytes + tail bytes" as a string of hex. */
struct set {
	char	**v;
	size_t	  n, cap;
};

static char *
hex(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	char *s = malloc(2 * (al + bl) + 2), *p = s;

	for (size_t i = 0; i < al; i++)
		p += sprintf(p, "%02x", a[i]);
	*p++ = '|';
	for (size_t i = 0; i < bl; i++)
		p += sprintf(p, "%02x", b[i]);
	*p = '\0';
	return s;
}

static void
set_add(struct set *s, char *r)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = r;
}

static int
strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
set_free(struct set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int
has(const struct set *s, const char *r)
{
	return s->n > 0 && bsearch(&r, s->v, s->n, sizeof(*s->v),
	    strp_cmp) != NULL;
}

static int
gather(const struct zone_name *n, void *arg)
{
	uint8_t	a[XFR_A_TAIL], txt[XFR_TXT_TAIL];
	size_t	tl = xfr_name_tails(n, a, txt);

	if (n->listed)
		set_add(arg, hex(n->owner, n->owner_len, a, sizeof(a)));
	set_add(arg, hex(n->owner, n->owner_len, txt, tl));
	return 0;
}

/* The whole zone's records now, sorted; its serial in *serial. */
static void
zone_now(struct set *s, uint32_t *serial)
{
	memset(s, 0, sizeof(*s));
	store_reader_begin(rd);
	*serial = store_zone_serial(rd);
	if (zone_walk(rd, z, &conf, gather, s, NULL) != 0)
		abort();
	store_reader_end(rd);
	if (s->n > 0)
		qsort(s->v, s->n, sizeof(*s->v), strp_cmp);
}

static void
rrs_set(const struct ixfr_rrs *r, struct set *s)
{
	const uint8_t	*o, *t;
	size_t		 ol, tl;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < r->n; i++) {
		ixfr_rr(r, i, &o, &ol, &t, &tl);
		set_add(s, hex(o, ol, t, tl));
	}
	if (s->n > 0)
		qsort(s->v, s->n, sizeof(*s->v), strp_cmp);
}

/* ixfr_diff from serial from; its result, and the sets it gives. */
static int
diff(uint32_t from, struct set *del, struct set *add, struct ixfr_diff *out)
{
	struct ixfr_diff	d;
	int			rc;

	store_reader_begin(rd);
	rc = ixfr_diff(rd, z, &conf, from, &d);
	store_reader_end(rd);
	rrs_set(&d.del, del);
	rrs_set(&d.add, add);
	if (out != NULL)
		*out = d;
	ixfr_diff_free(&d);
	return rc;
}

/*
 * Whether old - del + add == now, del within old, add outside old - del.
 * Says what differs on the first failure.
 */
static int
applies(const struct set *old, const struct set *del, const struct set *add,
    const struct set *now)
{
	struct set	r;
	int		good = 1;

	memset(&r, 0, sizeof(r));
	for (size_t i = 0; i < del->n; i++)
		if (!has(old, del->v[i])) {
			printf("# deleted but not there: %s\n", del->v[i]);
			good = 0;
		}
	for (size_t i = 0; i < old->n; i++)
		if (!has(del, old->v[i]))
			set_add(&r, strdup(old->v[i]));
	if (r.n > 0)
		qsort(r.v, r.n, sizeof(*r.v), strp_cmp);
	for (size_t i = 0; i < add->n; i++) {
		if (has(&r, add->v[i])) {
			printf("# added but there: %s\n", add->v[i]);
			good = 0;
		}
		set_add(&r, strdup(add->v[i]));
	}
	if (r.n > 0)
		qsort(r.v, r.n, sizeof(*r.v), strp_cmp);
	if (r.n != now->n)
		good = 0;
	for (size_t i = 0; i < r.n && i < now->n; i++)
		if (strcmp(r.v[i], now->v[i]) != 0) {
			printf("# first difference: %s vs %s\n", r.v[i], now->v[i]);
			good = 0;
			break;
		}
	if (r.n != now->n)
		printf("# %zu records after applying, %zu now\n", r.n, now->n);
	set_free(&r);
	return good;
}

/* A random prefix from a small space, so that changes meet. */
static struct addr
random_prefix(void)
{
	static const int plen4[] = { 8, 12, 16, 20, 23, 24, 25, 28, 31, 32,
	    32, 32, 32 };
	static const int plen6[] = { 16, 32, 48, 50, 52, 56, 64, 124, 128,
	    128 };
	char	s[128];
	struct addr a;

	switch (rand() % 8) {
	case 0:
		/* The test points' /8 and its neighbourhood. */
		snprintf(s, sizeof(s), "127.0.%d.%d", rand() % 2,
		    rand() % 4);
		break;
	case 1:
		/* All-digit labels: an IPv4 wildcard that reads as IPv6. */
		snprintf(s, sizeof(s), "2.0.%d.%d", rand() % 3,
		    rand() % 4);
		break;
	case 2: case 3:
		snprintf(s, sizeof(s), "2001:db8:%x::%x", rand() % 3,
		    rand() % 3);
		break;
	default:
		snprintf(s, sizeof(s), "10.%d.%d.%d", rand() % 3,
		    rand() % 3, (rand() % 3) * 100);
		break;
	}
	a = fixture_addr(s);
	a.plen = a.family == ADDR_V4 ? plen4[rand() % 13] : plen6[rand() % 10];
	addr_mask(&a);
	return a;
}

static const char *const texts[] = { "", "open relay at $", "spam $",
    "manual" };

/* One commit of 1..6 random changes. */
static void
random_commit(void)
{
	struct store_txn	*t = store_begin(st, "test");
	int			 n = 1 + rand() % 6;

	for (int i = 0; i < n; i++) {
		struct addr	p = random_prefix();
		int		op = rand() % 10;

		if (op < 4) {
			struct store_listing l = fixture_listing(2 + rand() % 2,
			    STORE_KIND_MANUAL, texts[rand() % 4]);
			store_list(t, &p, &l);
		} else if (op < 6)
			store_unlist(t, &p, "test");
		else if (op < 8)
			store_exclude(t, &p, "test");
		else if (op < 9)
			store_unexclude(t, &p, "test");
		else {
			struct store_import_entry e[3];
			struct store_listing r = fixture_listing(2,
			    STORE_KIND_IMPORT, texts[rand() % 4]);
			for (int k = 0; k < 3; k++) {
				memset(&e[k], 0, sizeof(e[k]));
				e[k].prefix = random_prefix();
				e[k].exclude = rand() % 4 == 0;
				e[k].line = k + 1;
			}
			store_import(t, e, 3, &r, 1, "test import");
		}
	}
	if (store_commit(t) != 0)
		abort();
}

#define ROUNDS		150
#define PER_ROUND	4

static void
property(void)
{
	struct set	zones[PER_ROUND + 1], del, add, now;
	uint32_t	serials[PER_ROUND + 1], s;
	int		bad = 0, checks = 0, full = 0;

	for (int round = 0; round < ROUNDS && !bad; round++) {
		int k = 1 + rand() % PER_ROUND;
		zone_now(&zones[0], &serials[0]);
		for (int i = 1; i <= k; i++) {
			random_commit();
			zone_now(&zones[i], &serials[i]);
		}
		for (int i = 0; i < k && !bad; i++) {
			zone_now(&now, &s);
			int rc = diff(serials[i], &del, &add, NULL);
			if (rc != 1) {
				printf("# round %d: ixfr_diff from %u: %d\n", round,
				    serials[i], rc);
				bad = 1;
			} else if (!applies(&zones[i], &del, &add,
			    &zones[k])) {
				printf("# round %d: from serial %u to %u\n", round,
				    serials[i], serials[k]);
				bad = 1;
			}
			if (del.n || add.n)
				full++;
			checks++;
			set_free(&del);
			set_free(&add);
			set_free(&now);
		}
		for (int i = 0; i <= k; i++)
			set_free(&zones[i]);
	}
	ok(!bad, "%d differences from random changes rebuild the zone "
	    "exactly (%d of them not empty)", checks, full);
}

int
main(void)
{
	char			 path[1024];
	struct set		 del, add, a, b;
	struct ixfr_diff	 d;
	uint32_t		 s0, s1, s2;
	int			 rc;

	log_init("test_ixfr", 0);
	srand(20261129);
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

	/* A first change: a listing, as one A and one TXT added. */
	zone_now(&a, &s0);
	fixture_list(st, "192.0.2.7", 2, "relay $");
	zone_now(&b, &s1);
	ok(diff(s0, &del, &add, &d) == 1 && del.n == 0 && add.n == 2 &&
	    d.changes == 1, "one listing: 2 records added, none deleted");
	ok(applies(&a, &del, &add, &b), "and they make the zone now");
	set_free(&del);
	set_free(&add);
	ok(diff(s1, &del, &add, NULL) == 1 && del.n == 0 && add.n == 0,
	    "from the current serial: nothing");
	set_free(&del);
	set_free(&add);
	ok(diff(s1 + 5, &del, &add, NULL) == 0,
	    "from a serial the store has not reached: not answerable");
	set_free(&del);
	set_free(&add);
	ok(diff(s0 - 1, &del, &add, NULL) == 0,
	    "from before the journal began: not answerable");
	set_free(&del);
	set_free(&add);
	set_free(&a);
	set_free(&b);

	/* A wildcard's hole: the /24 is listed, one address excluded. */
	zone_now(&a, &s0);
	fixture_list(st, "198.51.100.0/24", 2, "");
	fixture_exclude(st, "198.51.100.9", "owner");
	zone_now(&b, &s1);
	ok(diff(s0, &del, &add, NULL) == 1 && applies(&a, &del, &add, &b),
	    "a /24 and a hole in it");
	set_free(&del);
	set_free(&add);
	set_free(&a);
	set_free(&b);

	property();

	/*
	 * A commit of the queue alone moves the store's serial, not the
	 * zones': no NOTIFY, no transfer.  An IXFR from the store's serial
	 * before it (a serial the zones never had) is still answered.
	 */
	zone_now(&a, &s0);
	store_reader_begin(rd);
	s2 = store_serial(rd);
	store_reader_end(rd);
	{
		struct store_txn *t = store_begin(st, "test");
		store_audit_add(t, STORE_AUDIT_QUEUE, NULL, 0, "nothing");
		store_commit(t);
	}
	zone_now(&b, &s1);
	store_reader_begin(rd);
	ok(s1 == s0 && store_serial(rd) == s2 + 1,
	    "a commit that changes no listing: the zone serial stays");
	store_reader_end(rd);
	ok(diff(s0, &del, &add, NULL) == 1 && del.n == 0 && add.n == 0,
	    "  and the difference from it is empty");
	set_free(&del);
	set_free(&add);
	set_free(&a);
	set_free(&b);

	/* Pruned to its size: the oldest serials go first. */
	store_set_journal_size(st, 600);
	zone_now(&a, &s0);
	for (int i = 0; i < 20; i++) {
		char p[64];
		snprintf(p, sizeof(p), "203.0.113.%d", i);
		fixture_list(st, p, 2, "");
	}
	zone_now(&b, &s2);
	ok(diff(s0, &del, &add, NULL) == 0,
	    "pruned: a serial 20 commits back is not answerable");
	set_free(&del);
	set_free(&add);
	ok(diff(s2 - 5, &del, &add, NULL) == 1 && add.n == 10,
	    "one 5 commits back is (10 records added)");
	set_free(&del);
	set_free(&add);
	set_free(&a);
	set_free(&b);

	/* A change larger than the journal empties it. */
	zone_now(&a, &s0);
	{
		const char *const items[] = { "203.0.113.100=2",
		    "203.0.113.101=2", "203.0.113.102=2", "203.0.113.103=2",
		    "203.0.113.104=2", "203.0.113.105=2", "203.0.113.106=2",
		    "203.0.113.107=2", "203.0.113.108=2", "203.0.113.109=2",
		    "203.0.113.110=2", "203.0.113.111=2", "203.0.113.112=2",
		    "203.0.113.113=2", "203.0.113.114=2", "203.0.113.115=2",
		    "203.0.113.116=2", "203.0.113.117=2", "203.0.113.118=2",
		    "203.0.113.119=2", "203.0.113.120=2", "203.0.113.121=2",
		    NULL };
		fixture_list_all(st, items);
	}
	zone_now(&b, &s1);
	ok(diff(s0, &del, &add, NULL) == 0 &&
	    diff(s1, &del, &add, NULL) == 1,
	    "a change larger than the journal: before it, not answerable; "
	    "after it, yes");
	set_free(&del);
	set_free(&add);
	fixture_list(st, "203.0.113.200", 2, "");
	set_free(&a);
	zone_now(&a, &s2);
	ok(diff(s1, &del, &add, NULL) == 1 && add.n == 2 &&
	    applies(&b, &del, &add, &a), "and the journal goes on after it");
	set_free(&del);
	set_free(&add);
	set_free(&a);
	set_free(&b);

	/* No journal at all. */
	store_set_journal_size(st, 0);
	zone_now(&a, &s0);
	fixture_list(st, "203.0.113.201", 2, "");
	ok(diff(s0, &del, &add, NULL) == 0, "journal_size 0: no journal");
	set_free(&del);
	set_free(&add);
	set_free(&a);

	/*
	 * A change under a range with more names below it than ixfr_diff
	 * compares in memory: not answerable (the whole zone is sent).  (A
	 * /8 the random changes above never touched.)
	 */
	store_set_journal_size(st, STORE_JOURNAL_SIZE);
	{
		size_t			 n = IXFR_MAX_RRS / 2 + 1000;
		struct store_import_entry *e = calloc(n + 1, sizeof(*e));
		struct store_listing	 r = fixture_listing(2,
					    STORE_KIND_IMPORT, "");
		struct store_txn	*t = store_begin(st, "test");

		for (size_t i = 0; i < n; i++) {
			e[i].prefix = fixture_addr("100.0.0.0");
			e[i].prefix.bytes[1] = (uint8_t)(i >> 16);
			e[i].prefix.bytes[2] = (uint8_t)(i >> 8);
			e[i].prefix.bytes[3] = (uint8_t)i;
		}
		e[n].prefix = fixture_addr("100.0.0.0/8");
		store_import(t, e, n + 1, &r, 1, "many under a /8");
		ok(store_commit(t) == 0, "%zu names under a listed /8", n);
		free(e);
	}
	zone_now(&a, &s0);
	fixture_list(st, "100.200.0.1", 3, "");
	rc = diff(s0, &del, &add, &d);
	ok(rc == 0,
	    "a change under it: too many records to compare, not answerable");
	set_free(&del);
	set_free(&add);
	set_free(&a);

	store_reader_free(rd);
	store_close(st);
	zone_free(z);
	return tap_done();
}
