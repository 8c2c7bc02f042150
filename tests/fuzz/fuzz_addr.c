/*
 * fuzz_addr.c -- libFuzzer harness for addr_parse and addr_parse_entry
 *
 * Beyond not crashing, every success must be a well-formed prefix that
 * formats and parses back to itself, the list-file parser must agree with
 * the strict one wherever the strict one accepts, and a range must come
 * back as the fewest prefixes covering it exactly: contiguous, ascending,
 * and no two neighbours that could have been one prefix.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

#define MAXIN	256
#define MAXOUT	64

int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	 check_prefix(const struct addr *);
static void	 check_cover(const struct addr *, int);
static uint32_t	 v4_first(const struct addr *);
static uint64_t	 v4_next(const struct addr *);

/* Well-formed, and format -> addr_parse gives the same bytes back. */
static void
check_prefix(const struct addr *a)
{
	struct addr	 m = *a, b;
	char		 buf[ADDR_STRLEN];
	const char	*err;
	size_t		 len;

	if (a->family != ADDR_V4 && a->family != ADDR_V6)
		abort();
	if (a->plen > addr_maxplen(a))
		abort();
	addr_mask(&m);
	if (memcmp(&m, a, sizeof(m)) != 0)
		abort();
	addr_format(a, buf);
	len = strlen(buf);
	if (len == 0 || len >= ADDR_STRLEN)
		abort();
	if (addr_parse(buf, &b, &err) != 0 || memcmp(&b, a, sizeof(b)) != 0)
		abort();
	if (!addr_contains(a, a))
		abort();
	(void)addr_is_special(a);
}

static uint32_t
v4_first(const struct addr *a)
{
	return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
	    (uint32_t)a->bytes[2] << 8 | a->bytes[3];
}

/* One past the last address of a. */
static uint64_t
v4_next(const struct addr *a)
{
	return (uint64_t)v4_first(a) + ((uint64_t)1 << (32 - a->plen));
}

static void
check_cover(const struct addr *out, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		check_prefix(&out[i]);
	if (n == 1)
		return;
	for (i = 0; i < n; i++)
		if (out[i].family != ADDR_V4)
			abort();
	for (i = 1; i < n; i++) {
		/* contiguous, hence ascending and disjoint */
		if (v4_next(&out[i - 1]) != v4_first(&out[i]))
			abort();
		if (addr_contains(&out[i - 1], &out[i]) ||
		    addr_contains(&out[i], &out[i - 1]))
			abort();
		/* two aligned halves of one prefix: not the fewest */
		if (out[i - 1].plen == out[i].plen && out[i].plen > 0 &&
		    v4_first(&out[i - 1]) %
		    ((uint64_t)2 << (32 - out[i].plen)) == 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 in[MAXIN];
	struct addr	 a, out[MAXOUT], again[MAXOUT];
	const char	*err = NULL, *err2 = NULL;
	int		 rc, n, m;

	if (size >= sizeof(in))
		size = sizeof(in) - 1;
	memcpy(in, data, size);
	in[size] = '\0';

	rc = addr_parse(in, &a, &err);
	if (rc == 0)
		check_prefix(&a);
	else if (rc != -1 || err == NULL || *err == '\0')
		abort();

	n = addr_parse_entry(in, out, MAXOUT, &err);
	if (n == -1) {
		if (err == NULL || *err == '\0')
			abort();
		/* what the strict parser takes, the list parser takes */
		if (rc == 0)
			abort();
		return 0;
	}
	if (n < 1 || n > MAXOUT)
		abort();
	if (rc == 0 && (n != 1 || memcmp(&out[0], &a, sizeof(a)) != 0))
		abort();
	check_cover(out, n);

	/* max is honoured exactly: n fit, n - 1 do not */
	m = addr_parse_entry(in, again, n, &err2);
	if (m != n || memcmp(again, out, n * sizeof(out[0])) != 0)
		abort();
	if (addr_parse_entry(in, again, n - 1, &err2) != -1)
		abort();
	return 0;
}
