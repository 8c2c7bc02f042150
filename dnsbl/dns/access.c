/*
 * access.c -- who may ask: access rules by client network
 *
 * Prefixes of one family are either nested or disjoint, so the longest
 * match of every address can be worked out once, at load: the rules,
 * sorted by first address (wider first on a tie), are swept with a stack
 * of the prefixes open at that point, giving the boundaries where the
 * answer changes.  A lookup is then a binary search in those boundaries,
 * with 128-bit keys (an IPv4 address is its 32 bits in the low half).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access.h"
#include "log.h"
#include "textfile.h"

#define LINE_MAX_LEN	512
#define FILE_MAX	(64 << 20)	/* an access file, at most */

struct key {
	uint64_t	hi, lo;
};

struct rule {
	struct key	start, end;	/* first and last address */
	uint8_t		plen;
	uint8_t		action;
	int		line;
};

/* From this address on (to the next boundary), this action. */
struct bound {
	struct key	start;
	uint8_t		action;
};

struct table {
	struct bound	*b;
	size_t		 n;
};

struct access {
	struct table	 v4, v6;
	size_t		 nrules;
};

static const char *const action_names[] = ACCESS_ACTION_NAMES;

static int
key_cmp(const struct key *a, const struct key *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The key of an address: IPv4 in the low 32 bits, IPv6 all 128. */
static struct key
addr_key(const struct addr *a)
{
	struct key k = { 0, 0 };

	if (a->family == ADDR_V4)
		k.lo = (uint64_t)a->bytes[0] << 24 | a->bytes[1] << 16 |
		    a->bytes[2] << 8 | a->bytes[3];
	else {
		k.hi = be64(a->bytes);
		k.lo = be64(a->bytes + 8);
	}
	return k;
}

/* The last address of prefix a: its start with every host bit set. */
static struct key
prefix_end(const struct addr *a, struct key k)
{
	int host = addr_maxplen(a) - a->plen;

	if (host >= 64) {
		k.lo = ~(uint64_t)0;
		k.hi |= host == 128 ? ~(uint64_t)0 :
		    ((uint64_t)1 << (host - 64)) - 1;
	} else if (host > 0)
		k.lo |= ((uint64_t)1 << host) - 1;
	return k;
}

static int
rule_cmp(const void *x, const void *y)
{
	const struct rule *a = x, *b = y;
	int c = key_cmp(&a->start, &b->start);

	if (c != 0)
		return c;
	return (int)a->plen - (int)b->plen;
}

/* Appends a boundary; one at the same address replaces the last. */
static void
emit(struct table *t, struct key start, uint8_t action)
{
	if (t->n > 0 && key_cmp(&t->b[t->n - 1].start, &start) == 0) {
		t->b[t->n - 1].action = action;
		return;
	}
	t->b[t->n].start = start;
	t->b[t->n].action = action;
	t->n++;
}

/* The boundary just past prefix r, unless r ends the address space. */
static void
emit_end(struct table *t, const struct rule *r, uint8_t action)
{
	struct key k = r->end;

	if (++k.lo == 0 && ++k.hi == 0)
		return;
	emit(t, k, action);
}

/*
 * Sorts the n rules of one family and sweeps them into t (at most 2n
 * boundaries).  Returns 0, or -1 when a prefix is given twice.
 */
static int
build(struct table *t, struct rule *r, size_t n, const char *name)
{
	const struct rule	*stack[129];
	int			 depth = 0;

	qsort(r, n, sizeof(*r), rule_cmp);
	for (size_t i = 1; i < n; i++)
		if (rule_cmp(&r[i - 1], &r[i]) == 0) {
			log_warnx("%s:%d: the prefix of line %d again", name,
			    r[i - 1].line > r[i].line ? r[i - 1].line :
			    r[i].line, r[i - 1].line < r[i].line ?
			    r[i - 1].line : r[i].line);
			return -1;
		}
	if ((t->b = calloc(2 * n + 1, sizeof(*t->b))) == NULL) {
		log_warn("access rules");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		while (depth > 0 && key_cmp(&stack[depth - 1]->end,
		    &r[i].start) < 0) {
			const struct rule *p = stack[--depth];
			emit_end(t, p, depth ? stack[depth - 1]->action :
			    ACCESS_ANSWER);
		}
		emit(t, r[i].start, r[i].action);
		stack[depth++] = &r[i];
	}
	while (depth > 0) {
		const struct rule *p = stack[--depth];
		emit_end(t, p, depth ? stack[depth - 1]->action :
		    ACCESS_ANSWER);
	}
	/* Boundaries that change nothing go. */
	size_t m = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint8_t prev = m ? t->b[m - 1].action : ACCESS_ANSWER;
		if (t->b[i].action != prev)
			t->b[m++] = t->b[i];
	}
	t->n = m;
	return 0;
}

static int
parse_action(const char *s)
{
	for (int i = 0; i < ACCESS_MAX; i++)
		if (strcasecmp(s, action_names[i]) == 0)
			return i;
	return -1;
}

/* One line (NUL-terminated, comment cut): a rule into r, or nothing. */
static int
parse_line(char *buf, const char *name, int line, struct rule *r, int *got)
{
	char		*tok[2];
	int		 n, act;
	struct addr	 a;
	const char	*err;

	*got = 0;
	if ((n = textfile_fields(buf, tok, 2)) == 0)
		return 0;
	if (n != 2) {
		log_warnx("%s:%d: want \"CIDR ACTION\"", name, line);
		return -1;
	}
	if (addr_parse(tok[0], &a, &err) == -1) {
		log_warnx("%s:%d: bad prefix \"%s\" (%s)", name, line, tok[0],
		    err);
		return -1;
	}
	if ((act = parse_action(tok[1])) == -1) {
		log_warnx("%s:%d: unknown action \"%s\" (want answer, refuse, "
		    "drop or error)", name, line, tok[1]);
		return -1;
	}
	r->start = addr_key(&a);
	r->end = prefix_end(&a, r->start);
	r->plen = a.plen;
	r->action = (uint8_t)act;
	r->line = line;
	*got = a.family;
	return 0;
}

struct access *
access_parse(const char *text, size_t len, const char *name)
{
	struct access	*ac = NULL;
	struct rule	*r4 = NULL, *r6 = NULL;
	size_t		 n4 = 0, n6 = 0, off = 0;
	size_t		 max = textfile_lines(text, len);
	char		 buf[LINE_MAX_LEN];
	int		 line = 0, fam, rc;

	if ((r4 = calloc(max, sizeof(*r4))) == NULL ||
	    (r6 = calloc(max, sizeof(*r6))) == NULL ||
	    (ac = calloc(1, sizeof(*ac))) == NULL) {
		log_warn("access rules");
		goto err;
	}
	while ((rc = textfile_line(text, len, &off, buf, sizeof(buf), name,
	    &line)) == 1) {
		struct rule rule;
		if (parse_line(buf, name, line, &rule, &fam) == -1)
			goto err;
		if (fam == ADDR_V4)
			r4[n4++] = rule;
		else if (fam == ADDR_V6)
			r6[n6++] = rule;
	}
	if (rc == -1)
		goto err;
	if (build(&ac->v4, r4, n4, name) == -1 ||
	    build(&ac->v6, r6, n6, name) == -1)
		goto err;
	ac->nrules = n4 + n6;
	free(r4);
	free(r6);
	return ac;
err:
	free(r4);
	free(r6);
	access_free(ac);
	return NULL;
}

struct access *
access_load(const char *path)
{
	struct access	*ac;
	char		*text;
	size_t		 len;

	if (textfile_read(path, FILE_MAX, "access file", &text, &len) == -1)
		return NULL;
	ac = access_parse(text, len, path);
	free(text);
	return ac;
}

void
access_free(struct access *ac)
{
	if (ac == NULL)
		return;
	free(ac->v4.b);
	free(ac->v6.b);
	free(ac);
}

size_t
access_count(const struct access *ac)
{
	return ac ? ac->nrules : 0;
}

enum access_action
access_lookup(const struct access *ac, const struct addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const struct table	*t;
	struct addr		 v4;
	struct key		 k;
	size_t			 lo, hi;

	if (ac == NULL)
		return ACCESS_ANSWER;
	if (a->family == ADDR_V6 && memcmp(a->bytes, mapped, 12) == 0) {
		memset(&v4, 0, sizeof(v4));
		v4.family = ADDR_V4;
		memcpy(v4.bytes, a->bytes + 12, 4);
		a = &v4;
	}
	t = a->family == ADDR_V4 ? &ac->v4 : &ac->v6;
	k = addr_key(a);
	/* The last boundary at or below k. */
	lo = 0;
	hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (key_cmp(&t->b[mid].start, &k) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? ACCESS_ANSWER : (enum access_action)t->b[lo - 1].action;
}
