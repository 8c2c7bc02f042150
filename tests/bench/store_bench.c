/*
 * store_bench.c -- the store benchmark's generator and lookup driver
 *
 *   store_bench gen SEED N4 N6            list file of random addresses
 *   store_bench lookup DIR SEED N4 N6 Q   Q lookups, half listed, half not
 *
 * The addresses come from a seeded xorshift generator, so the lookup phase
 * regenerates exactly the listed set without reading the file.  Lookups are
 * timed twice: one snapshot per lookup (what dnsblctl does) and one snapshot
 * per batch of 32 (what dnsbld does per recvmmsg batch).
 */
#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "log.h"
#include "store.h"

static uint64_t rng;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A random public-looking address (skips 0/8, 10/8, 127/8, 224/3). */
static void
rand4(struct addr *a)
{
	uint32_t v;

	do
		v = (uint32_t)next();
	while ((v >> 24) == 0 || (v >> 24) == 10 || (v >> 24) == 127 ||
	    (v >> 24) >= 224);
	memset(a, 0, sizeof(*a));
	a->family = ADDR_V4;
	a->plen = 32;
	a->bytes[0] = v >> 24;
	a->bytes[1] = v >> 16;
	a->bytes[2] = v >> 8;
	a->bytes[3] = v;
}

static void
rand6(struct addr *a)
{
	uint64_t hi = next(), lo = next();

	memset(a, 0, sizeof(*a));
	a->family = ADDR_V6;
	a->plen = 128;
	hi = (hi & 0x0fffffffffffffffULL) | 0x2000000000000000ULL;
	for (int i = 0; i < 8; i++) {
		a->bytes[i] = hi >> (56 - 8 * i);
		a->bytes[8 + i] = lo >> (56 - 8 * i);
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int
gen(long n4, long n6)
{
	struct addr	a;
	char		buf[ADDR_STRLEN];

	printf(":127.0.0.2:Listed as an open relay, see "
	    "https://relaybl.example/lookup?ip=$\n");
	for (long i = 0; i < n4; i++) {
		rand4(&a);
		puts(addr_format(&a, buf));
	}
	for (long i = 0; i < n6; i++) {
		rand6(&a);
		puts(addr_format(&a, buf));
	}
	return 0;
}

static int
lookups(const char *dir, long n4, long n6, long q)
{
	struct store		*st;
	struct store_reader	*rd;
	struct store_hit	 hit;
	struct addr		*listed, *qs;
	long			 hits;
	double			 t0, c0, wall, cpus;

	(void)n6;
	if ((st = store_open(dir, STORE_RDONLY, 0)) == NULL ||
	    (rd = store_reader_new(st)) == NULL)
		return 1;
	listed = calloc(n4, sizeof(*listed));
	qs = calloc(q, sizeof(*qs));
	for (long i = 0; i < n4; i++)
		rand4(&listed[i]);
	for (long i = 0; i < q; i++) {
		if (i % 2 == 0)
			qs[i] = listed[next() % n4];
		else
			rand4(&qs[i]);	/* listed with odds 1e6 / 3.2e9 */
	}
	for (int mode = 0; mode < 2; mode++) {
		hits = 0;
		t0 = now();
		c0 = cpu();
		for (long i = 0; i < q; i++) {
			if (mode == 1 && i % 32 == 0)
				store_reader_begin(rd);
			hits += store_lookup(rd, &qs[i], &hit) == 1;
			if (mode == 1 && (i % 32 == 31 || i == q - 1))
				store_reader_end(rd);
		}
		wall = now() - t0;
		cpus = cpu() - c0;
		printf("lookups (%s): %ld in %.3f s wall, %.3f s CPU: "
		    "%.0f lookups/s per CPU-second, %ld listed (%.1f%%)\n",
		    mode ? "one snapshot per 32" : "one snapshot each", q,
		    wall, cpus, q / cpus, hits, 100.0 * hits / q);
	}
	free(listed);
	free(qs);
	store_reader_free(rd);
	store_close(st);
	return 0;
}

int
main(int argc, char **argv)
{
	log_init("store_bench", 0);
	if (argc == 5 && strcmp(argv[1], "gen") == 0) {
		rng = strtoull(argv[2], NULL, 10) | 1;
		return gen(atol(argv[3]), atol(argv[4]));
	}
	if (argc == 7 && strcmp(argv[1], "lookup") == 0) {
		rng = strtoull(argv[3], NULL, 10) | 1;
		return lookups(argv[2], atol(argv[4]), atol(argv[5]),
		    atol(argv[6]));
	}
	fprintf(stderr, "usage: store_bench gen SEED N4 N6\n"
	    "       store_bench lookup DIR SEED N4 N6 QUERIES\n");
	return 2;
}
