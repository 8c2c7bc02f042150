/*
 * test_store.c -- unit tests of the store: prefixes, exclusions, IPv6,
 * boundaries, bulk import, counters, audit, queue, evidence, snapshots,
 * schema check, and durability across kill -9.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "addr.h"
#include "log.h"
#include "fixture.h"
#include "store.h"
#include "tap.h"

#ifndef __SANITIZE_ADDRESS__
/* Counts allocations, to check that lookups make none. */
extern void	*__libc_malloc(size_t);
extern void	*__libc_calloc(size_t, size_t);
extern void	*__libc_realloc(void *, size_t);
static long	allocs;

void *
malloc(size_t n)
{
	allocs++;
	return __libc_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	allocs++;
	return __libc_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	allocs++;
	return __libc_realloc(p, n);
}
#endif

/* Returns the last octet of the code, 0 when not listed, -1 excluded. */
static int
q(struct store_reader *rd, const char *s, char *prefix)
{
	struct store_hit	hit;
	struct addr		a = fixture_addr(s);
	int			rc = store_lookup(rd, &a, &hit);

	if (prefix)
		addr_format(&hit.prefix, prefix);
	if (rc == 1)
		return hit.code & 0xff;
	return hit.excluded ? -1 : 0;
}

static void
test_prefixes(void)
{
	static const char *const v4[] = { "10.0.0.0/8=2", "10.1.0.0/16=3",
	    "10.1.2.3=4", "192.0.2.0/24=5", "192.0.2.128/25=6",
	    "255.255.255.255=7", "0.0.0.0=8", NULL };
	struct store		*st = fixture_store();
	struct store_reader	*rd;
	char			 p[ADDR_STRLEN];

	ok(st != NULL, "create a store");
	rd = store_reader_new(st);
	is_int(q(rd, "10.1.2.3", NULL), 0, "empty store lists nothing");
	ok(fixture_list_all(st, v4) == 0, "list overlapping IPv4 prefixes");
	is_int(q(rd, "10.1.2.3", p), 4, "/32 beats /16 and /8");
	is_str(p, "10.1.2.3", "hit names the /32");
	is_int(q(rd, "10.1.2.4", p), 3, "/16 beats /8");
	is_str(p, "10.1.0.0/16", "hit names the /16");
	is_int(q(rd, "10.2.0.1", p), 2, "/8 alone");
	is_str(p, "10.0.0.0/8", "hit names the /8");
	is_int(q(rd, "10.0.0.0", NULL), 2, "first address of /8");
	is_int(q(rd, "10.255.255.255", NULL), 2, "last address of /8");
	is_int(q(rd, "9.255.255.255", NULL), 0, "just below /8");
	is_int(q(rd, "11.0.0.0", NULL), 0, "just above /8");
	is_int(q(rd, "192.0.2.127", NULL), 5, "below the /25: the /24");
	is_int(q(rd, "192.0.2.128", NULL), 6, "start of the /25");
	is_int(q(rd, "192.0.2.255", NULL), 6, "end of the /25");
	is_int(q(rd, "255.255.255.255", NULL), 7, "255.255.255.255/32");
	is_int(q(rd, "255.255.255.254", NULL), 0, "its neighbour");
	is_int(q(rd, "0.0.0.0", NULL), 8, "0.0.0.0/32");
	is_int(q(rd, "0.0.0.1", NULL), 0, "0.0.0.1");
	is_int(q(rd, "10.1.0.0/16", p), 3, "lookup of a prefix: itself");
	is_int(q(rd, "10.0.0.0/15", p), 2, "a wider prefix: the /8");
	is_int(q(rd, "2001:db8::1", NULL), 0, "IPv6 unaffected by IPv4");

	/* Exclusions win over any listing, however specific. */
	struct store_txn *t = store_begin(st, "test");
	struct addr x = fixture_addr("10.1.2.0/24");
	struct addr y = fixture_addr("10.1.2.3");
	ok(store_exclude(t, &x, "customer range") == 0, "exclude a /24");
	ok(store_commit(t) == 0, "commit the exclusion");
	is_int(q(rd, "10.1.2.3", p), -1, "exclusion beats a listed /32");
	is_str(p, "10.1.2.0/24", "hit names the exclusion");
	is_int(q(rd, "10.1.3.1", NULL), 3, "outside the exclusion: /16");
	t = store_begin(st, "test");
	is_int(store_unexclude(t, &x, NULL), 1, "unexclude");
	is_int(store_unexclude(t, &x, NULL), 0, "unexclude again: none");
	is_int(store_unlist(t, &y, "gone"), 1, "unlist the /32");
	is_int(store_unlist(t, &y, "gone"), 0, "unlist again: not listed");
	ok(store_commit(t) == 0, "commit");
	is_int(q(rd, "10.1.2.3", NULL), 3, "after unlist: the /16");

	/* The whole address space: the store handles /0 like any prefix. */
	static const char *const all[] = { "0.0.0.0/0=9", NULL };
	ok(fixture_list_all(st, all) == 0, "list 0.0.0.0/0");
	is_int(q(rd, "1.1.1.1", NULL), 9, "/0 covers everything");
	is_int(q(rd, "10.1.2.3", NULL), 3, "longer prefixes still win");
	t = store_begin(st, "test");
	x = fixture_addr("0.0.0.0/0");
	is_int(store_unlist(t, &x, NULL), 1, "unlist /0");
	ok(store_commit(t) == 0, "commit");
	is_int(q(rd, "1.1.1.1", NULL), 0, "gone");

	struct store_stats s;
	ok(store_stats(rd, &s) == 0, "stats");
	is_int(s.listings[0], 6, "six IPv4 listings counted");
	is_int(s.exclusions[0], 0, "no exclusions counted");
	is_int(s.by_kind[STORE_KIND_MANUAL], 6, "six manual listings");
	is_int(s.records, 6, "one record per listing, freed ones gone");
	store_reader_free(rd);
	store_close(st);
}

static void
test_ipv6(void)
{
	static const char *const v6[] = { "2001:db8::/32=2",
	    "2001:db8:1::/48=3", "2001:db8:1::1=4", "::/0=5",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff=6", "::=7", NULL };
	struct store		*st = fixture_store();
	struct store_reader	*rd = store_reader_new(st);
	struct store_txn	*t;
	char			 p[ADDR_STRLEN];

	ok(fixture_list_all(st, v6) == 0,
	    "list IPv6 prefixes incl. ::/0 and /128");
	is_int(q(rd, "2001:db8:1::1", p), 4, "/128 wins");
	is_str(p, "2001:db8:1::1", "hit names the /128");
	is_int(q(rd, "2001:db8:1::2", NULL), 3, "/48");
	is_int(q(rd, "2001:db8:2::", NULL), 2, "/32");
	is_int(q(rd, "2001:db9::", p), 5, "outside: ::/0");
	is_str(p, "::/0", "hit names ::/0");
	is_int(q(rd, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL), 6,
	    "all-ones /128");
	is_int(q(rd, "::", NULL), 7, ":: /128");
	is_int(q(rd, "10.0.0.1", NULL), 0, "IPv4 unaffected by ::/0");
	t = store_begin(st, "test");
	struct addr x = fixture_addr("2001:db8:1::/64");
	ok(store_exclude(t, &x, NULL) == 0, "exclude a /64");
	ok(store_commit(t) == 0, "commit");
	is_int(q(rd, "2001:db8:1::1", NULL), -1, "excluded /128");
	is_int(q(rd, "2001:db8:1:1::1", NULL), 3, "next /64 still listed");
	store_reader_free(rd);
	store_close(st);
}

static void
test_snapshots(void)
{
	static const char *const one[] = { "198.51.100.7=2", NULL };
	struct store		*st = fixture_store();
	struct store_reader	*rd = store_reader_new(st);
	struct store_reader	*held = store_reader_new(st);
	struct store_txn	*t;
	uint32_t		 s0 = store_serial(rd);

	ok(s0 > 0, "serial starts above 0");
	ok(store_reader_begin(held) == 0, "hold a snapshot");
	t = store_begin(st, "test");
	struct addr a = fixture_addr("198.51.100.7");
	struct store_listing l = fixture_listing(2, STORE_KIND_MANUAL, "x");
	ok(store_list(t, &a, &l) == 0, "list inside an open write txn");
	is_int(q(rd, "198.51.100.7", NULL), 0, "uncommitted: not visible");
	store_abort(t);
	is_int(store_serial(rd), s0, "abort leaves the serial");
	is_int(q(rd, "198.51.100.7", NULL), 0, "aborted: not visible");
	ok(fixture_list_all(st, one) == 0, "list and commit");
	is_int(q(rd, "198.51.100.7", NULL), 2, "next lookup sees it");
	is_int(store_serial(rd), s0 + 1, "commit bumps the serial");
	is_int(q(held, "198.51.100.7", NULL), 0, "held snapshot: old view");
	store_reader_end(held);
	is_int(q(held, "198.51.100.7", NULL), 2, "released: new view");

#ifndef __SANITIZE_ADDRESS__
	struct addr probe = fixture_addr("198.51.100.7");
	struct addr miss = fixture_addr("198.51.100.8");
	struct store_hit hit;
	long before = allocs;
	for (int i = 0; i < 1000; i++) {
		store_lookup(rd, &probe, &hit);
		store_lookup(rd, &miss, &hit);
	}
	is_int(allocs - before, 0, "2000 lookups allocate nothing");
#endif
	store_reader_free(held);
	store_reader_free(rd);
	store_close(st);
}

static struct store_import_entry
E(const char *s, uint32_t rec, int excl)
{
	struct store_import_entry e;

	memset(&e, 0, sizeof(e));
	e.prefix = fixture_addr(s);
	e.record = rec;
	e.exclude = excl;
	return e;
}

static int
import_n(struct store *st, struct store_import_entry *e, size_t n,
    const struct store_listing *r, size_t nr)
{
	struct store_txn *t = store_begin(st, "test");

	if (store_import(t, e, n, r, nr, "test import") == -1) {
		store_abort(t);
		return -1;
	}
	return store_commit(t);
}

/*
 * A bucket of four IPv4 items, then one of three IPv6 items, in one
 * import: the merge buffer was sized in items of the first table, so the
 * three larger IPv6 items overran it (caught by the sanitizer build).
 */
static void
test_import_mixed(void)
{
	struct store		*st = fixture_store();
	struct store_reader	*rd = store_reader_new(st);
	struct store_listing	 r[1];
	struct store_import_entry e[7];

	r[0] = fixture_listing(2, STORE_KIND_IMPORT, "mixed");
	for (int i = 0; i < 4; i++) {
		char buf[32];
		snprintf(buf, sizeof(buf), "192.0.2.%d", i + 1);
		e[i] = E(buf, 0, 0);
	}
	e[4] = E("2001:db8:1::1", 0, 0);
	e[5] = E("2001:db8:1::2", 0, 0);
	e[6] = E("2001:db8:1::3", 0, 0);
	ok(import_n(st, e, 7, r, 1) == 0 && q(rd, "2001:db8:1::3", NULL) == 2,
	    "an import of four IPv4 items, then three IPv6 items");
	store_reader_free(rd);
	store_close(st);
}

static void
test_import(void)
{
	struct store		*st = fixture_store();
	struct store_reader	*rd = store_reader_new(st);
	struct store_listing	 r[3];
	struct store_stats	 s;
	struct store_import_entry *e;
	size_t			 n = 20000;
	char			 buf[64];

	r[0] = fixture_listing(2, STORE_KIND_IMPORT, "first");
	r[1] = fixture_listing(3, STORE_KIND_IMPORT, "second");
	r[2] = fixture_listing(0, STORE_KIND_EXCLUSION, "");
	r[2].code = 0;
	e = calloc(n, sizeof(*e));
	/* The density measured here is the tables': no journal (IXFR). */
	store_set_journal_size(st, 0);
	/* Shuffled input, a duplicate (later wins), an exclusion, IPv6. */
	for (size_t i = 0; i < n - 3; i++) {
		size_t k = (i * 7919) % (n - 3);
		snprintf(buf, sizeof(buf), "10.%zu.%zu.%zu", k >> 16,
		    (k >> 8) & 255, k & 255);
		e[i] = E(buf, 0, 0);
	}
	e[n - 3] = E("10.0.0.5", 1, 0);
	e[n - 2] = E("10.0.0.6", 2, 1);
	e[n - 1] = E("2001:db8::/64", 1, 0);
	ok(import_n(st, e, n, r, 3) == 0, "bulk import into an empty store");
	is_int(q(rd, "10.0.0.4", NULL), 2, "imported address");
	is_int(q(rd, "10.0.0.5", NULL), 3, "later duplicate wins");
	is_int(q(rd, "10.0.0.6", NULL), -1, "imported exclusion");
	is_int(q(rd, "10.0.78.28", NULL), 2, "last imported address");
	is_int(q(rd, "10.0.78.29", NULL), 0, "one past it: not listed");
	is_int(q(rd, "2001:db8::99", NULL), 3, "imported IPv6 /64");
	ok(store_stats(rd, &s) == 0, "stats");
	is_int(s.listings[0], n - 3, "IPv4 count (duplicate counted once)");
	is_int(s.listings[1], 1, "IPv6 count");
	is_int(s.exclusions[0], 1, "exclusion count");
	is_int(s.by_kind[STORE_KIND_IMPORT], n - 2, "kind count");
	is_int(s.records, 3, "three shared records");
	ok(s.pages_used * s.page_size < s.listings[0] * 16,
	    "appended pages are full: %.1f bytes per IPv4 listing",
	    (double)s.pages_used * s.page_size / s.listings[0]);

	/* A small import into the middle: put one by one. */
	struct store_import_entry few[2] = { E("10.0.0.4", 1, 0),
	    E("10.0.0.1/32", 1, 0) };
	ok(import_n(st, few, 2, r, 3) == 0, "small import into the middle");
	is_int(q(rd, "10.0.0.4", NULL), 3, "replaced by the small import");
	ok(store_stats(rd, &s) == 0, "stats");
	is_int(s.listings[0], n - 3, "replacement does not add");
	is_int(s.records, 4, "a new record for the small import");

	/* A large import overlapping the table: rebuilt, still counted. */
	for (size_t i = 0; i < n / 2 - 2; i++) {
		snprintf(buf, sizeof(buf), "10.0.%zu.%zu", (i * 2) >> 8,
		    (i * 2) & 255);
		e[i] = E(buf, 1, 0);
	}
	ok(import_n(st, e, n / 2 - 2, r, 3) == 0, "large overlapping import");
	is_int(q(rd, "10.0.0.2", NULL), 3, "overlap replaced");
	is_int(q(rd, "10.0.0.3", NULL), 2, "old neighbour kept");
	is_int(q(rd, "10.0.0.6", NULL), -1, "exclusion kept");
	ok(store_stats(rd, &s) == 0, "stats");
	is_int(s.listings[0], n - 3, "count unchanged by overlap");
	is_int(s.by_kind[STORE_KIND_IMPORT], n - 2, "kind count unchanged");
	ok(s.pages_used * s.page_size < s.listings[0] * 16,
	    "rebuilt pages are full: %.1f bytes per IPv4 listing",
	    (double)s.pages_used * s.page_size / s.listings[0]);

	/* A bad record index is refused and changes nothing. */
	struct store_import_entry bad = E("10.9.9.9", 7, 0);
	uint32_t serial = store_serial(rd);
	ok(import_n(st, &bad, 1, r, 3) == -1, "bad record index refused");
	is_int(store_serial(rd), serial, "nothing committed");
	free(e);
	store_reader_free(rd);
	store_close(st);
}

static int
count_audit(const struct store_audit *au, void *arg)
{
	char (*acts)[16] = arg;

	snprintf(acts[au->seq % 8], 16, "%s", store_action_name(au->action));
	return 0;
}

static int
collect_probe(const struct store_probe *p, void *arg)
{
	char	*out = arg, buf[ADDR_STRLEN];

	strcat(out, addr_format(&p->addr, buf));
	strcat(out, " ");
	return 0;
}

static void
test_audit_queue_evidence(void)
{
	struct store		*st = fixture_store();
	struct store_reader	*rd = store_reader_new(st);
	struct store_txn	*t = store_begin(st, "tester");
	struct store_listing	 l = fixture_listing(2, STORE_KIND_RELAY,
				    "relay");
	struct addr		 a = fixture_addr("203.0.113.9");
	struct addr		 net = fixture_addr("203.0.113.0/24");
	char			 acts[8][16], order[256] = "", buf[64];
	size_t			 len;
	uint64_t		 ev;

	memset(acts, 0, sizeof(acts));
	ok(store_evidence_put(t, "transcript", 10, &ev) == 0, "evidence");
	l.evidence = ev;
	ok(store_list(t, &net, &l) == 0, "list a /24");
	ok(store_list(t, &a, &l) == 0, "list a /32");
	ok(store_unlist(t, &a, "clean retest") == 1, "unlist the /32");
	ok(store_audit_add(t, STORE_AUDIT_PROBE, &a, 0, "clean") == 0,
	    "audit a probe");
	ok(store_commit(t) == 0, "commit");
	is_int(store_history(rd, &a, count_audit, acts), 4,
	    "history of the address includes its /24");
	is_str(acts[1], "list", "first: the /24 listed");
	is_str(acts[3], "unlist", "third: the /32 unlisted");
	is_str(acts[4], "probe", "fourth: the probe");
	is_int(store_history(rd, &net, count_audit, acts), 1,
	    "history of the /24 alone");
	ok(store_evidence(rd, ev, buf, sizeof(buf), &len) == 1 && len == 10 &&
	    memcmp(buf, "transcript", 10) == 0, "evidence reads back");
	is_int(store_evidence(rd, ev + 1, buf, sizeof(buf), &len), 0,
	    "no such evidence");

	struct store_probe p;
	memset(&p, 0, sizeof(p));
	t = store_begin(st, "tester");
	p.addr = fixture_addr("198.51.100.2");
	p.due = 300;
	p.reason = STORE_PROBE_SUBMIT;
	ok(store_queue_put(t, &p) == 0, "queue one");
	p.addr = fixture_addr("198.51.100.1");
	p.due = 200;
	ok(store_queue_put(t, &p) == 0, "queue another, due earlier");
	p.due = 100;
	p.reason = STORE_PROBE_DELIST;
	ok(store_queue_put(t, &p) == 0, "requeue it, earlier still");
	ok(store_commit(t) == 0, "commit");
	store_queue_walk(rd, collect_probe, order);
	is_str(order, "198.51.100.1 198.51.100.2 ", "due order, no dup");
	ok(store_queue_get(rd, &p.addr, &p) == 1 && p.due == 100 &&
	    p.reason == STORE_PROBE_DELIST, "requeue replaced the entry");
	/* The deferred pass's cookie time rides in the old padding. */
	t = store_begin(st, "tester");
	p.queued = 1000;
	p.deferred = 1;
	p.deferred_born = 1000 + 900;
	ok(store_queue_put(t, &p) == 0 && store_commit(t) == 0,
	    "requeue deferred, with the first pass's cookie time");
	ok(store_queue_get(rd, &p.addr, &p) == 1 && p.deferred &&
	    p.deferred_born == 1900 && p.queued == 1000,
	    "  reads back: %lld", (long long)p.deferred_born);
	t = store_begin(st, "tester");
	p.deferred_born = 1000 + (1 << 24);
	ok(store_queue_put(t, &p) == 0 && store_commit(t) == 0 &&
	    store_queue_get(rd, &p.addr, &p) == 1 && p.deferred_born == 0,
	    "  one too far from queued is dropped, not wrapped");
	t = store_begin(st, "tester");
	is_int(store_queue_del(t, &p.addr), 1, "dequeue");
	is_int(store_queue_del(t, &p.addr), 0, "dequeue again: none");
	ok(store_commit(t) == 0, "commit");
	struct store_stats s;
	store_stats(rd, &s);
	is_int(s.queued, 1, "one left queued");
	store_reader_free(rd);
	store_close(st);
}

/*
 * A model check: random lists, unlists, exclusions and small imports over
 * a narrow address space (so prefixes nest and buckets fill past their
 * index threshold and empty again), each commit followed by lookups
 * compared with a naive model of longest match with exclusions winning.
 */
#define MODEL_MAX	4096

struct model {
	struct addr	p[MODEL_MAX];
	uint32_t	code[MODEL_MAX];
	int		excl[MODEL_MAX];
	int		n;
};

static uint64_t model_rng = 88172645463325252ULL;

static uint32_t
model_rand(void)
{
	model_rng ^= model_rng << 13;
	model_rng ^= model_rng >> 7;
	model_rng ^= model_rng << 17;
	return (uint32_t)model_rng;
}

static void
model_addr(struct addr *a, int v6)
{
	static const int plens4[] = { 8, 12, 16, 20, 24, 28, 31, 32, 32, 32 };
	static const int plens6[] = { 16, 32, 48, 64, 100, 127, 128, 128 };
	uint32_t r = model_rand();

	memset(a, 0, sizeof(*a));
	if (!v6) {
		a->family = ADDR_V4;
		a->plen = plens4[model_rand() % 10];
		a->bytes[0] = 10 + (r & 1);
		a->bytes[1] = (r >> 1) & 3;
		a->bytes[2] = (r >> 3) & 7;
		a->bytes[3] = (r >> 6) & 63;
	} else {
		a->family = ADDR_V6;
		a->plen = plens6[model_rand() % 8];
		a->bytes[0] = 0x20;
		a->bytes[1] = 0x01;
		a->bytes[2] = (r & 3);
		a->bytes[15] = (r >> 2) & 63;
		a->bytes[7] = (r >> 8) & 1;
	}
	addr_mask(a);
}

static int
model_find(struct model *m, const struct addr *p, int excl)
{
	for (int i = 0; i < m->n; i++)
		if (m->excl[i] == excl && m->p[i].plen == p->plen &&
		    addr_contains(&m->p[i], p))
			return i;
	return -1;
}

static void
model_set(struct model *m, const struct addr *p, uint32_t code, int excl)
{
	int i = model_find(m, p, excl);

	if (i < 0) {
		if (m->n == MODEL_MAX)
			return;
		i = m->n++;
	}
	m->p[i] = *p;
	m->code[i] = code;
	m->excl[i] = excl;
}

static int
model_del(struct model *m, const struct addr *p, int excl)
{
	int i = model_find(m, p, excl);

	if (i < 0)
		return 0;
	m->n--;
	m->p[i] = m->p[m->n];
	m->code[i] = m->code[m->n];
	m->excl[i] = m->excl[m->n];
	return 1;
}

/* The model's answer in the form of q(): code, 0, or -1 excluded. */
static int
model_lookup(struct model *m, const struct addr *a)
{
	int best = -1;

	for (int i = 0; i < m->n; i++) {
		if (!addr_contains(&m->p[i], a))
			continue;
		if (m->excl[i])
			return -1;
		if (best < 0 || m->p[i].plen > m->p[best].plen)
			best = i;
	}
	return best < 0 ? 0 : (int)(m->code[best] & 0xff);
}

static void
test_model(void)
{
	static struct model	 m;
	struct store		*st = fixture_store();
	struct store_reader	*rd = store_reader_new(st);
	struct store_listing	 recs[4];
	struct store_import_entry batch[64];
	int			 mismatches = 0, checks = 0, delmiss = 0;

	for (int r = 0; r < 4; r++)
		recs[r] = fixture_listing(2 + r, STORE_KIND_IMPORT, "model");
	for (int round = 0; round < 300; round++) {
		struct store_txn *t = store_begin(st, "model");
		int v6 = round % 3 == 2, nb = 0;
		for (int op = 0; op < 20; op++) {
			struct addr a;
			uint32_t code = 0x7f000002u + model_rand() % 4;
			int what = model_rand() % 10;
			model_addr(&a, v6);
			if (what < 4) {
				struct store_listing l = fixture_listing(
				    code & 0xff, STORE_KIND_MANUAL, "m");
				store_list(t, &a, &l);
				model_set(&m, &a, code, 0);
			} else if (what < 7) {
				int got = store_unlist(t, &a, NULL);
				if (got != model_del(&m, &a, 0))
					delmiss++;
			} else if (what < 8) {
				store_exclude(t, &a, NULL);
				model_set(&m, &a, 0, 1);
			} else if (what < 9) {
				if (store_unexclude(t, &a, NULL) !=
				    model_del(&m, &a, 1))
					delmiss++;
			} else if (nb < 64) {
				/* Into a batch imported at the end. */
				batch[nb].prefix = a;
				batch[nb].record = code - 0x7f000002u;
				batch[nb].exclude = 0;
				nb++;
			}
		}
		if (nb) {
			store_import(t, batch, nb, recs, 4, "model batch");
			for (int i = 0; i < nb; i++)
				model_set(&m, &batch[i].prefix, 0x7f000002u +
				    batch[i].record, 0);
		}
		if (store_commit(t) == -1) {
			mismatches++;
			break;
		}
		for (int c = 0; c < 50; c++) {
			struct addr a;
			struct store_hit hit;
			int want, got;
			model_addr(&a, model_rand() & 1);
			a.plen = addr_maxplen(&a);
			a.bytes[a.family == ADDR_V4 ? 3 : 15] ^=
			    model_rand() & 1;
			want = model_lookup(&m, &a);
			got = store_lookup(rd, &a, &hit);
			got = got == 1 ? (int)(hit.code & 0xff) :
			    hit.excluded ? -1 : 0;
			checks++;
			if (got != want && mismatches++ < 5) {
				char buf[ADDR_STRLEN];
				printf("# %s: store %d, model %d\n",
				    addr_format(&a, buf), got, want);
			}
		}
	}
	is_int(mismatches, 0, "model check: %d lookups agree", checks);
	is_int(delmiss, 0, "model check: removals agree");
	struct store_stats s;
	store_stats(rd, &s);
	int nl = 0, nx = 0;
	for (int i = 0; i < m.n; i++)
		m.excl[i] ? nx++ : nl++;
	is_int(s.listings[0] + s.listings[1], nl, "model check: listing count");
	is_int(s.exclusions[0] + s.exclusions[1], nx,
	    "model check: exclusion count");
	is_int(s.by_kind[STORE_KIND_MANUAL] + s.by_kind[STORE_KIND_IMPORT], nl,
	    "model check: kind counts");
	store_reader_free(rd);
	store_close(st);
}

/* A walk whose callback reads through the same reader (proberd's expiry
 * does): the nested call must not end the walk's snapshot. */
struct nested {
	struct store_reader	*rd;
	int			 n, bad;
};

static int
nested_cb(const struct addr *a, uint32_t code, uint32_t record, void *arg)
{
	struct nested		*ns = arg;
	struct store_listing	 l;
	struct store_hit	 hit;

	(void)code;
	if (store_record(ns->rd, record, &l) != 1 ||
	    store_lookup(ns->rd, a, &hit) != 1)
		ns->bad++;
	ns->n++;
	return 0;
}

static void
test_nested_reads(void)
{
	static const char *const some[] = { "198.51.100.1=2", "198.51.100.2=3",
	    "2001:db8::1=4", NULL };
	struct store		*st = fixture_store();
	struct nested		 ns = { store_reader_new(st), 0, 0 };

	fixture_list_all(st, some);
	is_int(store_walk(ns.rd, 0, nested_cb, &ns), 0,
	    "walk with lookups inside its callback");
	is_int(ns.n, 3, "  visits every listing");
	is_int(ns.bad, 0, "  and the nested reads work");
	store_reader_begin(ns.rd);
	store_reader_begin(ns.rd);
	store_reader_end(ns.rd);
	ok(store_serial(ns.rd) > 0, "begin twice, end once: still readable");
	store_reader_end(ns.rd);
	store_reader_free(ns.rd);
	store_close(st);
}

static void
test_open_errors(void)
{
	const char	*dir = fixture_newdir();
	struct store	*st;
	char		 path[300];
	FILE		*fp;

	ok(store_open(dir, 0, 0) == NULL, "no store: open fails");
	ok(store_open(dir, STORE_RDONLY, 0) == NULL, "read-only too");
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	fp = fopen(path, "w");
	fputs("this is not an LMDB file, not at all, no", fp);
	fclose(fp);
	ok(store_open(dir, 0, 0) == NULL, "garbage data.mdb refused");
	snprintf(path, sizeof(path), "%s", fixture_newdir());
	st = store_open(path, STORE_CREATE, 0);
	ok(st != NULL, "create");
	store_close(st);
	st = store_open(path, STORE_RDONLY, 0);
	ok(st != NULL, "reopen read-only");
	ok(store_begin(st, "x") == NULL, "no writing through read-only");
	store_close(st);
	st = store_open(path, STORE_CREATE, 0);
	ok(st != NULL, "create over an existing store keeps it");
	store_close(st);

	/* A store written by another schema version is refused. */
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 5, "meta" }, v;
	uint32_t schema = STORE_SCHEMA + 1;
	mdb_env_create(&env);
	mdb_env_set_maxdbs(env, 16);
	ok(mdb_env_open(env, path, 0, 0664) == 0 &&
	    mdb_txn_begin(env, NULL, 0, &txn) == 0 &&
	    mdb_dbi_open(txn, "meta", 0, &dbi) == 0 &&
	    mdb_get(txn, dbi, &k, &v) == 0, "read the meta record directly");
	char *copy = malloc(v.mv_size);
	memcpy(copy, v.mv_data, v.mv_size);
	memcpy(copy, &schema, sizeof(schema));
	v.mv_data = copy;
	ok(mdb_put(txn, dbi, &k, &v, 0) == 0 && mdb_txn_commit(txn) == 0,
	    "write a future schema version");
	mdb_env_close(env);
	free(copy);
	ok(store_open(path, STORE_RDONLY, 0) == NULL,
	    "a store of another schema version is refused");
}

/* One listing of 10.x.y.z for n, and its probe's audit entry. */
static int
list_nth(struct store_txn *t, uint32_t n)
{
	struct addr		a = { ADDR_V4, 32, { 10, n >> 16, n >> 8, n } };
	struct store_listing	l = fixture_listing(2, STORE_KIND_RELAY,
				    "filling up");

	if (store_list(t, &a, &l) == -1)
		return -1;
	return store_audit_add(t, STORE_AUDIT_PROBE, &a, 0x7f000002u,
	    "listed");
}

/*
 * A full store (a small map_size): the change that does not fit fails
 * and store_error() says the store is full; the txn is failed for good
 * (later changes fail at once, the commit discards all of it); the next
 * txn can begin (the failed one holds no lock); with a larger map_size the
 * same change fits.
 */
static void
test_full(void)
{
	char			 dir[256];
	struct store		*st;
	struct store_reader	*rd;
	struct store_txn	*t;
	struct store_probe	 p;
	uint32_t		 n, serial = 0;
	int			 failed_at = 0;

	snprintf(dir, sizeof(dir), "%s", fixture_newdir());
	st = store_open(dir, STORE_CREATE, 128 * 1024);
	rd = store_reader_new(st);
	ok(st != NULL && rd != NULL, "a store of 128 KiB");
	for (n = 1; n < 100000 && failed_at == 0; n++) {
		serial = store_serial(rd);
		if ((t = store_begin(st, "filler")) == NULL)
			break;
		if (list_nth(t, n) == -1)
			failed_at = 1;
		if (store_commit(t) == -1 && failed_at == 0)
			failed_at = 2;
	}
	ok(failed_at != 0, "filled after %u listings (%s)", n - 1,
	    failed_at == 1 ? "a change failed" : "the commit failed");
	is_int(store_error(st), STORE_EFULL, "store_error: full");
	is_int(store_serial(rd), serial, "the failed txn committed nothing");
	n--;
	t = store_begin(st, "after");
	ok(t != NULL, "the next txn begins: no lock held");
	is_int(store_error(st), STORE_OK, "store_error clear after a begin");
	/* Fill it up within this txn, then check the failure is sticky. */
	for (n = n + 1; list_nth(t, n) == 0; n++)
		;
	is_int(store_error(st), STORE_EFULL, "a change that does not fit");
	memset(&p, 0, sizeof(p));
	p.addr = fixture_addr("192.0.2.1");
	p.reason = STORE_PROBE_SUBMIT;
	is_int(store_queue_put(t, &p), -1, "later changes fail at once");
	is_int(store_audit_add(t, STORE_AUDIT_QUEUE, &p.addr, 0, "x"), -1,
	    "  so does an audit entry");
	serial = store_serial(rd);
	is_int(store_commit(t), -1, "the commit refuses a failed txn");
	is_int(store_serial(rd), serial, "  and changes nothing");
	is_int(store_queue_get(rd, &p.addr, &p), 0, "  not even the queue");
	store_abort(NULL);
	ok(1, "store_abort(NULL) is a no-op");
	store_reader_free(rd);
	store_close(st);

	st = store_open(dir, 0, 16 << 20);
	t = store_begin(st, "bigger");
	ok(t != NULL && list_nth(t, n) == 0 && store_commit(t) == 0,
	    "with a larger map_size the change fits");
	store_close(st);
}

#ifdef STORE_FAULTS
/*
 * Every write point of a txn that touches each table, failed in turn
 * through RELAYBL_STORE_FAIL_AFTER: each failure is "full", fails the
 * commit and leaves the store as it was; the same txn then succeeds.
 */
static void
test_faults(void)
{
	struct store_listing	 l = fixture_listing(2, STORE_KIND_RELAY, "x");
	struct store_probe	 p;
	struct addr		 a = fixture_addr("192.0.2.7");
	struct addr		 net = fixture_addr("192.0.2.0/24");
	char			 after[16];
	uint64_t		 ev;
	int			 k, bad = 0, committed = 0;

	memset(&p, 0, sizeof(p));
	p.addr = a;
	p.reason = STORE_PROBE_SUBMIT;
	setenv("RELAYBL_STORE_FAIL_COUNT", "1", 1);
	for (k = 0; k < 100 && !committed; k++) {
		snprintf(after, sizeof(after), "%d", k);
		setenv("RELAYBL_STORE_FAIL_AFTER", after, 1);
		struct store *st = fixture_store();
		struct store_reader *rd = store_reader_new(st);
		uint32_t serial = store_serial(rd);
		for (int round = 0; round < 2; round++) {
			struct store_txn *t = store_begin(st, "faults");
			if (t == NULL) {
				bad++;
				break;
			}
			store_evidence_put(t, "e", 1, &ev);
			store_list(t, &net, &l);
			store_list(t, &a, &l);
			store_exclude(t, &net, "x");
			store_unexclude(t, &net, "x");
			store_queue_put(t, &p);
			store_audit_add(t, STORE_AUDIT_PROBE, &a, 0, "x");
			store_unlist(t, &a, "x");
			if (store_commit(t) == 0) {
				committed = round == 0;
				break;
			}
			if (store_error(st) != STORE_EFULL ||
			    store_serial(rd) != serial)
				bad++;
		}
		if (store_serial(rd) != serial + 1)
			bad++;
		store_reader_free(rd);
		store_close(st);
	}
	unsetenv("RELAYBL_STORE_FAIL_AFTER");
	unsetenv("RELAYBL_STORE_FAIL_COUNT");
	ok(k > 15, "%d write points failed in turn", k - 1);
	is_int(bad, 0, "each failed as full, committed nothing, and the "
	    "retry committed");
}
#endif

/*
 * A child commits numbered listings as fast as it can and reports each
 * commit on a pipe; the parent kills it with SIGKILL mid-stream, then
 * reopens the store and checks that every reported commit is there and the
 * counters match the contents.
 */
static void
test_kill9(void)
{
	const char	*dir = fixture_newdir();
	struct store	*st = store_open(dir, STORE_CREATE, 0);
	int		 fds[2];
	pid_t		 pid;
	uint32_t	 n, last = 0;

	store_close(st);
	if (pipe(fds) == -1)
		abort();
	if ((pid = fork()) == 0) {
		close(fds[0]);
		st = store_open(dir, 0, 0);
		for (uint32_t i = 1;; i++) {
			struct store_txn *t = store_begin(st, "child");
			struct store_listing l = fixture_listing(2,
			    STORE_KIND_RELAY, "k");
			for (uint32_t j = 0; j < 50; j++) {
				struct addr a = { ADDR_V4, 32, { 0 } };
				uint32_t v = i * 50 + j;
				a.bytes[0] = 20 + (v >> 24);
				a.bytes[1] = v >> 16;
				a.bytes[2] = v >> 8;
				a.bytes[3] = v;
				store_list(t, &a, &l);
			}
			if (store_commit(t) == 0 &&
			    write(fds[1], &i, sizeof(i)) != sizeof(i))
				_exit(1);
		}
	}
	close(fds[1]);
	while (read(fds[0], &n, sizeof(n)) == sizeof(n)) {
		last = n;
		if (n >= 40)
			break;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	while (read(fds[0], &n, sizeof(n)) == sizeof(n))
		last = n;
	close(fds[0]);
	ok(last >= 40, "child committed %u batches before SIGKILL", last);
	st = store_open(dir, 0, 0);
	ok(st != NULL, "store opens after kill -9");
	struct store_reader *rd = store_reader_new(st);
	struct store_stats s;
	int missing = 0;
	for (uint32_t v = 50; v < (last + 1) * 50; v++) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u", 20 + (v >> 24),
		    (v >> 16) & 255, (v >> 8) & 255, v & 255);
		if (q(rd, buf, NULL) != 2)
			missing++;
	}
	is_int(missing, 0, "every reported commit survived");
	store_stats(rd, &s);
	ok(s.listings[0] >= (uint64_t)last * 50 &&
	    s.listings[0] % 50 == 0, "whole batches only: %llu listings",
	    (unsigned long long)s.listings[0]);
	is_int(s.by_kind[STORE_KIND_RELAY], s.listings[0],
	    "counters match the contents");
	/* The store takes writes again (the dead writer's lock is gone). */
	struct store_txn *t = store_begin(st, "after");
	struct addr a = fixture_addr("192.0.2.1");
	struct store_listing l = fixture_listing(2, STORE_KIND_MANUAL, "after");
	ok(t && store_list(t, &a, &l) == 0 && store_commit(t) == 0,
	    "writable after kill -9");
	store_reader_free(rd);
	store_close(st);
}

int
main(void)
{
	log_init("test_store", 0);
	test_prefixes();
	test_ipv6();
	test_snapshots();
	test_import();
	test_import_mixed();
	test_audit_queue_evidence();
	test_model();
	test_nested_reads();
	test_open_errors();
	test_full();
#ifdef STORE_FAULTS
	test_faults();
#endif
	test_kill9();
	return tap_done();
}
