/*
 * ixfr.c -- what changed in a zone since an older serial, from the
 * store's journal (the method is in ixfr.h)
 */
#include <stdlib.h>
#include <string.h>

#include "ixfr.h"
#include "log.h"
#include "xfr.h"
#include "zone_walk.h"

/* One change, as the journal gave it; seq keeps the journal's order. */
struct chg {
	struct addr	prefix;
	int		excluded;
	int		present;
	uint32_t	code;
	uint32_t	record;
	size_t		text;		/* offset in the text arena */
	uint64_t	seq;
};

struct collect {
	struct chg	*v;
	size_t		 n, cap;
	char		*text;		/* the changes' texts, NUL-ended */
	size_t		 tlen, tcap;
};

/* A walk's records, and the limit they count against. */
struct gather {
	struct ixfr_rrs	*rrs;
	struct ixfr_diff *d;
	int		 too_many;
};

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t	 ncap = *cap ? *cap : 64;
	void	*np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if ((np = reallocarray(*p, ncap, size)) == NULL) {
		log_warn("ixfr");
		return -1;
	}
	*p = np;
	*cap = ncap;
	return 0;
}

static int
add_change(uint32_t serial, const struct store_change *c, void *arg)
{
	struct collect	*co = arg;
	size_t		 tl = strlen(c->text) + 1;
	struct chg	*ch;

	(void)serial;
	if (grow((void **)&co->v, &co->cap, co->n + 1, sizeof(*co->v)) ==
	    -1 || grow((void **)&co->text, &co->tcap, co->tlen + tl, 1) ==
	    -1)
		return -1;
	ch = &co->v[co->n];
	ch->prefix = c->prefix;
	ch->excluded = c->excluded;
	ch->present = c->present;
	ch->code = c->code;
	ch->record = c->record;
	ch->text = co->tlen;
	ch->seq = co->n++;
	memcpy(co->text + co->tlen, c->text, tl);
	co->tlen += tl;
	return 0;
}

/* The order of a store scan, IPv4 first; 0 for the same item. */
static int
item_cmp(const struct addr *a, int aex, const struct addr *b, int bex)
{
	int c;

	if (a->family != b->family)
		return a->family == ADDR_V4 ? -1 : 1;
	if ((c = memcmp(a->bytes, b->bytes, sizeof(a->bytes))) != 0)
		return c;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return aex == bex ? 0 : aex ? -1 : 1;
}

static int
chg_cmp(const void *x, const void *y)
{
	const struct chg	*a = x, *b = y;
	int			 c = item_cmp(&a->prefix, a->excluded,
				    &b->prefix, b->excluded);

	if (c != 0)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int
node_cmp(const void *x, const void *y)
{
	return item_cmp(x, 0, y, 0);
}

/* Appends the records of one name to the gather's list. */
static int
gather_name(const struct zone_name *n, void *arg)
{
	struct gather	*g = arg;
	struct ixfr_rrs	*r = g->rrs;
	uint8_t		 a[XFR_A_TAIL], txt[XFR_TXT_TAIL];
	size_t		 tl = xfr_name_tails(n, a, txt);

	for (int i = n->listed ? 0 : 1; i < 2; i++) {
		const uint8_t	*tail = i == 0 ? a : txt;
		size_t		 tlen = i == 0 ? sizeof(a) : tl;
		size_t		 need = 1 + n->owner_len + 2 + tlen;

		if (++g->d->walked > IXFR_MAX_RRS) {
			g->too_many = 1;
			return 1;
		}
		if (grow((void **)&r->buf, &r->cap, r->len + need, 1) == -1 ||
		    grow((void **)&r->off, &r->ocap, r->n + 1,
		    sizeof(*r->off)) == -1)
			return -1;
		r->off[r->n++] = r->len;
		r->buf[r->len++] = (uint8_t)n->owner_len;
		memcpy(r->buf + r->len, n->owner, n->owner_len);
		r->len += n->owner_len;
		r->buf[r->len++] = (uint8_t)(tlen >> 8);
		r->buf[r->len++] = (uint8_t)(tlen & 0xff);
		memcpy(r->buf + r->len, tail, tlen);
		r->len += tlen;
	}
	return 0;
}

/* A record's bytes in buf and their length. */
static const uint8_t *
rr_bytes(const struct ixfr_rrs *r, size_t i, size_t *len)
{
	const uint8_t	*p = r->buf + r->off[i];
	size_t		 ol = p[0];

	*len = 1 + ol + 2 + ((size_t)p[1 + ol] << 8 | p[2 + ol]);
	return p;
}

static int
rr_cmp(const void *x, const void *y, void *arg)
{
	const struct ixfr_rrs	*r = arg;
	const uint8_t		*a, *b;
	size_t			 al, bl;

	a = rr_bytes(r, *(const size_t *)x, &al);
	b = rr_bytes(r, *(const size_t *)y, &bl);
	if (al != bl)
		return al < bl ? -1 : 1;
	return memcmp(a, b, al);
}

/* Sorts r's records (by their index; off[] then lists them in order). */
static int
rr_sort(struct ixfr_rrs *r, size_t **order)
{
	if ((*order = reallocarray(NULL, r->n ? r->n : 1, sizeof(**order))) ==
	    NULL) {
		log_warn("ixfr");
		return -1;
	}
	for (size_t i = 0; i < r->n; i++)
		(*order)[i] = i;
	qsort_r(*order, r->n, sizeof(**order), rr_cmp, r);
	return 0;
}

static int
rr_append(struct ixfr_rrs *to, const struct ixfr_rrs *from, size_t i)
{
	size_t		 len;
	const uint8_t	*p = rr_bytes(from, i, &len);

	if (grow((void **)&to->buf, &to->cap, to->len + len, 1) == -1 ||
	    grow((void **)&to->off, &to->ocap, to->n + 1,
	    sizeof(*to->off)) == -1)
		return -1;
	to->off[to->n++] = to->len;
	memcpy(to->buf + to->len, p, len);
	to->len += len;
	return 0;
}

/* Adds what is only in old to d->del, what is only in new to d->add. */
static int
rr_diff(struct ixfr_diff *d, struct ixfr_rrs *old, struct ixfr_rrs *new)
{
	size_t	*oo = NULL, *no = NULL, i = 0, j = 0;
	int	 ret = -1;

	if (rr_sort(old, &oo) == -1 || rr_sort(new, &no) == -1)
		goto done;
	/* Across the two lists: by the bytes, as rr_cmp orders them. */
	while (i < old->n || j < new->n) {
		const uint8_t	*a = NULL, *b = NULL;
		size_t		 al = 0, bl = 0;
		int		 c;

		if (i < old->n)
			a = rr_bytes(old, oo[i], &al);
		if (j < new->n)
			b = rr_bytes(new, no[j], &bl);
		c = a == NULL ? 1 : b == NULL ? -1 : al != bl ?
		    (al < bl ? -1 : 1) : memcmp(a, b, al);
		if (c < 0) {
			if (rr_append(&d->del, old, oo[i]) == -1)
				goto done;
			i++;
		} else if (c > 0) {
			if (rr_append(&d->add, new, no[j]) == -1)
				goto done;
			j++;
		} else {
			i++;
			j++;
		}
	}
	ret = 0;
done:
	free(oo);
	free(no);
	return ret;
}

/*
 * The node a change of x can touch: x's own, or that of the shortest
 * listing or exclusion over x now (the journal's changes over x have
 * nodes of their own, which hold this one).
 */
static int
change_node(struct store_reader *rd, const struct addr *x, struct addr *node)
{
	struct store_scan	*sc;
	struct store_item	 it;
	int			 rc, plen = x->plen;
	int			 bits = x->family == ADDR_V4 ? 8 : 4;

	if ((sc = store_scan_range(rd, x)) == NULL)
		return -1;
	rc = store_scan_next(sc, &it);
	store_scan_free(sc);
	if (rc == -1)
		return -1;
	if (rc == 1 && it.prefix.plen < plen)
		plen = it.prefix.plen;
	*node = *x;
	node->plen = plen - plen % bits;
	addr_mask(node);
	return 0;
}

static void
rrs_free(struct ixfr_rrs *r)
{
	free(r->buf);
	free(r->off);
	memset(r, 0, sizeof(*r));
}

int
ixfr_diff(struct store_reader *rd, const struct zone *z,
    const struct answer_conf *conf, uint32_t from, struct ixfr_diff *d)
{
	struct collect		 co;
	struct zone_walk_item	*over = NULL;
	struct addr		*nodes = NULL;
	struct ixfr_rrs		 old, new;
	struct gather		 g;
	size_t			 nover = 0, nnodes = 0, kept = 0;
	int			 rc, ret = -1;

	memset(d, 0, sizeof(*d));
	memset(&co, 0, sizeof(co));
	memset(&old, 0, sizeof(old));
	memset(&new, 0, sizeof(new));
	if ((rc = store_journal_walk(rd, from, add_change, &co)) != 1) {
		ret = rc == 0 ? 0 : -1;
		goto done;
	}
	/* The first change of each prefix says what it was at from. */
	if (co.n > 0)
		qsort(co.v, co.n, sizeof(*co.v), chg_cmp);
	if ((over = reallocarray(NULL, co.n ? co.n : 1, sizeof(*over))) ==
	    NULL || (nodes = reallocarray(NULL, co.n ? co.n : 1,
	    sizeof(*nodes))) == NULL) {
		log_warn("ixfr");
		goto done;
	}
	for (size_t i = 0; i < co.n; i++) {
		const struct chg *c = &co.v[i];
		if (nover > 0 && item_cmp(&c->prefix, c->excluded,
		    &over[nover - 1].prefix, over[nover - 1].excluded) == 0)
			continue;
		over[nover].prefix = c->prefix;
		over[nover].excluded = c->excluded;
		over[nover].present = c->present;
		over[nover].code = c->code;
		over[nover].record = c->record;
		over[nover].text = co.text + c->text;
		if (change_node(rd, &c->prefix, &nodes[nnodes]) == -1)
			goto done;
		nover++;
		nnodes++;
	}
	d->changes = nover;
	/* Nodes inside another node are walked with it. */
	if (nnodes > 0)
		qsort(nodes, nnodes, sizeof(*nodes), node_cmp);
	for (size_t i = 0; i < nnodes; i++) {
		if (kept > 0 && nodes[kept - 1].family == nodes[i].family &&
		    addr_contains(&nodes[kept - 1], &nodes[i]))
			continue;
		nodes[kept++] = nodes[i];
	}
	memset(&g, 0, sizeof(g));
	g.d = d;
	for (size_t i = 0; i < kept; i++) {
		old.n = old.len = new.n = new.len = 0;
		g.rrs = &old;
		rc = zone_walk_node(rd, z, conf, &nodes[i], over, nover,
		    gather_name, &g, NULL);
		if (rc == 0) {
			g.rrs = &new;
			rc = zone_walk_node(rd, z, conf, &nodes[i], NULL, 0,
			    gather_name, &g, NULL);
		}
		if (g.too_many) {
			ret = 0;
			goto done;
		}
		if (rc != 0 || rr_diff(d, &old, &new) == -1)
			goto done;
	}
	ret = 1;
done:
	free(co.v);
	free(co.text);
	free(over);
	free(nodes);
	rrs_free(&old);
	rrs_free(&new);
	return ret;
}

void
ixfr_diff_free(struct ixfr_diff *d)
{
	rrs_free(&d->del);
	rrs_free(&d->add);
}

void
ixfr_rr(const struct ixfr_rrs *rrs, size_t i, const uint8_t **owner,
    size_t *olen, const uint8_t **tail, size_t *tlen)
{
	const uint8_t *p = rrs->buf + rrs->off[i];

	*olen = p[0];
	*owner = p + 1;
	*tlen = (size_t)p[1 + p[0]] << 8 | p[2 + p[0]];
	*tail = p + 3 + p[0];
}
