/*
 * zone_walk.c -- the listing content of a zone as owner names
 *
 * A depth-first walk of the name tree (an IPv4 label is 8 bits, an IPv6
 * label 4) driven by one store scan in preorder: a node is visited only
 * when something inside it, or the rules of zone_walk.h, make its children
 * differ from what the wildcard of the node would say.  Each visit keeps
 * the items that cover ranges of its children on a small stack, so the
 * memory is the depth of the tree times a few items.  The mapping and its
 * limits are documented in zone_walk.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "zone_walk.h"

/* A store item, or a test point (forced: it overrides the store). */
struct witem {
	struct addr	p;
	uint32_t	code;
	uint32_t	record;
	int		excluded;
	int		forced;
	const char	*text;		/* an older record's (overlay), or NULL */
};

/* What the addresses of a subtree answer. */
struct ans {
	int		listed;
	int		excluded;	/* an exclusion covers it: for good */
	int		forced;
	uint32_t	code;
	uint32_t	record;
	const char	*text;		/* the listing's text, when not the
					   record's (an overlay item) */
	struct addr	src;		/* the listing: "$" of a wildcard */
};

struct walk {
	struct store_reader	*rd;
	const struct zone	*z;
	const struct answer_conf *conf;
	int			(*fn)(const struct zone_name *, void *);
	void			*arg;
	struct zone_walk_stats	 st;
	int			 family, bits, maxdepth;
	struct store_scan	*sc;
	struct witem		 peek;
	int			 have_peek, store_peek, scan_done;
	int			 base_done;	/* store and overlay */
	struct witem		 store_item;	/* the scan's next item */
	int			 scan_peek;	/* scan_item is the next */
	struct witem		 scan_item;
	/* zone_walk_node: the node walked, and the overlay. */
	struct addr		 clip;
	int			 clipdepth;	/* 0: the whole zone */
	const struct zone_walk_item *over;
	size_t			 nover, iover;
	struct witem		 forced[256];
	int			 nforced, iforced;
	uint8_t			 labels[32];	/* the path, top first */
	int			 hex_at;	/* this label in hex (or -1) */
	uint32_t		 cached_record;
	char			 cached_text[STORE_TEXT_MAX];
	int			 ret;		/* sticky: -1 or fn's value */
	struct zone_name	 out;
};

static int	visit(struct walk *, int, const struct addr *,
		    const struct ans *, int *);

/* Whether a comes before b in the scan's order (store.h); 0 if equal. */
static int
item_cmp(const struct addr *a, int aex, const struct addr *b, int bex)
{
	int c = memcmp(a->bytes, b->bytes, sizeof(a->bytes));

	if (c != 0)
		return c;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return aex == bex ? 0 : aex ? -1 : 1;
}

/* Whether prefix p is of the family walked and inside or over its clip. */
static int
relevant(const struct walk *w, const struct addr *p)
{
	if (p->family != w->family)
		return 0;
	return w->clipdepth == 0 || addr_contains(&w->clip, p) ||
	    addr_contains(p, &w->clip);
}

/*
 * The next item of the store with the overlay laid over it (an overlay
 * item replaces the store's item of the same prefix, or removes it when
 * not present) into w->store_item: 1, or 0 at the end.
 */
static int
next_base(struct walk *w)
{
	struct store_item	 it;
	const struct zone_walk_item *o;
	int			 rc, cmp;

	for (;;) {
		if (!w->scan_peek && !w->scan_done) {
			if ((rc = store_scan_next(w->sc, &it)) == -1) {
				w->ret = -1;
				return 0;
			}
			if (rc == 0)
				w->scan_done = 1;
			else {
				memset(&w->scan_item, 0, sizeof(w->scan_item));
				w->scan_item.p = it.prefix;
				w->scan_item.code = it.code;
				w->scan_item.record = it.record;
				w->scan_item.excluded = it.excluded;
				w->scan_peek = 1;
			}
		}
		while (w->iover < w->nover && !relevant(w,
		    &w->over[w->iover].prefix))
			w->iover++;
		o = w->iover < w->nover ? &w->over[w->iover] : NULL;
		if (o == NULL && !w->scan_peek)
			return 0;
		cmp = o == NULL ? -1 : !w->scan_peek ? 1 :
		    item_cmp(&w->scan_item.p, w->scan_item.excluded,
		    &o->prefix, o->excluded);
		if (cmp < 0) {
			w->store_item = w->scan_item;
			w->scan_peek = 0;
			return 1;
		}
		if (cmp == 0)
			w->scan_peek = 0;
		w->iover++;
		if (!o->present)
			continue;
		memset(&w->store_item, 0, sizeof(w->store_item));
		w->store_item.p = o->prefix;
		w->store_item.excluded = o->excluded;
		w->store_item.code = o->excluded ? 0 : o->code;
		w->store_item.record = o->record;
		w->store_item.text = o->text;
		return 1;
	}
}

/* The next item from the store or the test points, in preorder; 0 at end. */
static int
fill_peek(struct walk *w)
{
	if (w->have_peek)
		return 1;
	if (!w->store_peek && !w->base_done) {
		if (next_base(w))
			w->store_peek = 1;
		else if (w->ret != 0)
			return 0;
		else
			w->base_done = 1;
	}
	if (w->iforced < w->nforced && (!w->store_peek ||
	    memcmp(w->forced[w->iforced].p.bytes, w->store_item.p.bytes,
	    16) < 0 || (memcmp(w->forced[w->iforced].p.bytes,
	    w->store_item.p.bytes, 16) == 0 &&
	    w->store_item.p.plen > w->forced[w->iforced].p.plen))) {
		w->peek = w->forced[w->iforced++];
		w->have_peek = 1;
	} else if (w->store_peek) {
		w->peek = w->store_item;
		w->store_peek = 0;
		w->have_peek = 1;
	}
	return w->have_peek;
}

/* The next item if it lies inside prefix node (with a longer prefix). */
static const struct witem *
peek_inside(struct walk *w, const struct addr *node)
{
	if (w->ret != 0 || !fill_peek(w))
		return NULL;
	if (w->peek.p.plen <= node->plen || !addr_contains(node, &w->peek.p))
		return NULL;
	return &w->peek;
}

static int
child_index(const struct walk *w, const struct addr *a, int depth)
{
	if (w->family == ADDR_V4)
		return a->bytes[depth];
	return depth % 2 ? a->bytes[depth / 2] & 0xf : a->bytes[depth / 2] >> 4;
}

static void
set_child(const struct walk *w, struct addr *a, int depth, int c)
{
	if (w->family == ADDR_V4)
		a->bytes[depth] = c;
	else if (depth % 2)
		a->bytes[depth / 2] = (a->bytes[depth / 2] & 0xf0) | c;
	else
		a->bytes[depth / 2] = (a->bytes[depth / 2] & 0x0f) | c << 4;
	a->plen = (depth + 1) * w->bits;
}

static void
apply(struct ans *a, const struct witem *it)
{
	if (it->forced) {
		memset(a, 0, sizeof(*a));
		a->forced = 1;
		a->listed = it->code != 0;
		a->code = it->code;
		a->src = it->p;
	} else if (a->forced)
		return;
	else if (it->excluded) {
		a->excluded = 1;
		a->listed = 0;
	} else if (!a->excluded) {
		a->listed = 1;
		a->code = it->code;
		a->record = it->record;
		a->text = it->text;
		a->src = it->p;
	}
}

static int
ans_eq(const struct ans *a, const struct ans *b)
{
	if (!a->listed || !b->listed)
		return a->listed == b->listed;
	return a->code == b->code && a->record == b->record &&
	    memcmp(&a->src, &b->src, sizeof(a->src)) == 0;
}

/* The listing's own text, else the template (cached by record). */
static const char *
base_text(struct walk *w, uint32_t record)
{
	struct store_listing l;

	if (record == 0)
		return w->conf->txt_template;
	if (record != w->cached_record) {
		w->cached_text[0] = '\0';
		if (store_record(w->rd, record, &l) == 1)
			memcpy(w->cached_text, l.text, sizeof(w->cached_text));
		w->cached_text[sizeof(w->cached_text) - 1] = '\0';
		w->cached_record = record;
	}
	return w->cached_text[0] != '\0' ? w->cached_text :
	    w->conf->txt_template;
}

/* text with each "$" replaced by dollar, into out, cut as dnsbld cuts. */
static void
expand(char *out, const char *text, const char *dollar)
{
	size_t n = 0, dlen = strlen(dollar);

	for (const char *s = text; *s && n < ZONE_WALK_TXT_MAX - 1 - dlen;
	    s++) {
		if (*s == '$') {
			memcpy(out + n, dollar, dlen);
			n += dlen;
		} else
			out[n++] = *s;
	}
	out[n] = '\0';
}

/* A label's text: an octet in decimal, or a nibble in hex.  Its length. */
static size_t
label_text(unsigned v, int hex, char *out)
{
	static const char digits[] = "0123456789abcdef";

	if (hex)
		return out[0] = digits[v & 0x0f], 1;
	if (v >= 100)
		return out[0] = (char)('0' + v / 100),
		    out[1] = (char)('0' + v / 10 % 10),
		    out[2] = (char)('0' + v % 10), 3;
	if (v >= 10)
		return out[0] = (char)('0' + v / 10),
		    out[1] = (char)('0' + v % 10), 2;
	return out[0] = (char)('0' + v), 1;
}

/*
 * Writes the owner: an optional first label (NULL: none), the path's
 * labels to depth, deepest first, then the apex; in wire form and in
 * presentation form.  Byte copies only: a
 * transfer of a million names spent most of its time in snprintf here.
 */
static void
make_owner(struct walk *w, const char *first, int depth)
{
	struct zone_name	*o = &w->out;
	size_t			 n = 0, t = 0, l;
	char			 lab[4];

	if (first != NULL) {
		l = strlen(first);
		o->owner[n++] = (uint8_t)l;
		memcpy(o->owner + n, first, l);
		n += l;
		memcpy(o->text + t, first, l);
		t += l;
		o->text[t++] = '.';
	}
	for (int d = depth - 1; d >= 0; d--) {
		l = label_text(w->labels[d], !(w->family == ADDR_V4 &&
		    d != w->hex_at), lab);
		o->owner[n++] = (uint8_t)l;
		memcpy(o->owner + n, lab, l);
		n += l;
		memcpy(o->text + t, lab, l);
		t += l;
		o->text[t++] = '.';
	}
	memcpy(o->owner + n, w->z->apex, w->z->apex_len);
	o->owner_len = n + w->z->apex_len;
	/* The apex in presentation form (letters, digits, "-", "_"). */
	for (size_t i = 0; i < w->z->apex_len && w->z->apex[i] != 0 &&
	    t + w->z->apex[i] + 2 < sizeof(o->text); i += w->z->apex[i] + 1) {
		memcpy(o->text + t, w->z->apex + i + 1, w->z->apex[i]);
		t += w->z->apex[i];
		o->text[t++] = '.';
	}
	if (t == 0)
		o->text[t++] = '.';
	o->text[t] = '\0';
}

static int
emit(struct walk *w)
{
	int rc;

	w->out.ttl = w->conf->ttl;
	w->st.names++;
	if (w->out.listed)
		w->st.listed++;
	if (w->out.wildcard)
		w->st.wildcards++;
	if (!w->out.listed)
		w->st.markers++;
	if ((rc = w->fn(&w->out, w->arg)) != 0)
		w->ret = rc;
	return w->ret;
}

/* A name with A and TXT: exact (the address) or the wildcard of a node. */
static int
emit_listed(struct walk *w, int depth, const struct ans *a, int wildcard,
    const struct addr *node)
{
	char dollar[ADDR_STRLEN];

	make_owner(w, wildcard ? "*" : NULL, depth);
	w->out.listed = 1;
	w->out.wildcard = wildcard;
	w->out.code = a->code;
	addr_format(wildcard ? &a->src : node, dollar);
	expand(w->out.txt, a->forced ? w->conf->txt_template :
	    a->text == NULL ? base_text(w, a->record) : a->text[0] != '\0' ?
	    a->text : w->conf->txt_template, dollar);
	return emit(w);
}

/* A marker under the path to depth (plus one extra label, or -1). */
static int
emit_marker(struct walk *w, int depth, int extra)
{
	if (extra >= 0) {
		/* The extra label is a hex letter, not an octet. */
		w->labels[depth] = extra;
		w->hex_at = depth++;
	}
	make_owner(w, ZONE_WALK_MARKER, depth);
	w->hex_at = -1;
	w->out.listed = 0;
	w->out.wildcard = 0;
	w->out.code = 0;
	snprintf(w->out.txt, sizeof(w->out.txt),
	    "not listed: stops the wildcard above");
	return emit(w);
}

/* Whether a wildcard may be placed at a node of this depth. */
static int
wildcard_allowed(const struct walk *w, int depth)
{
	if (depth >= w->maxdepth)
		return 0;
	return w->family == ADDR_V4 ? depth >= 1 : depth >= 4;
}

/* An IPv4 node whose labels all read as IPv6 nibbles too. */
static int
all_digits(const struct walk *w, int depth)
{
	if (w->family != ADDR_V4 || depth < 1)
		return 0;
	for (int d = 0; d < depth; d++)
		if (w->labels[d] > 9)
			return 0;
	return 1;
}

/*
 * One child c of node at depth: visit it, give it an exact name or a
 * marker, or leave it to the node's wildcard W.
 */
static int
child(struct walk *w, int depth, const struct addr *node, int c,
    const struct ans *cc, const struct ans *W, int force, int *exists)
{
	struct addr	ch = *node;
	int		cex = 0, deep;

	set_child(w, &ch, depth, c);
	w->labels[depth] = c;
	deep = peek_inside(w, &ch) != NULL;
	if (!deep && !force && ans_eq(cc, W))
		return w->ret;
	if (depth + 1 == w->maxdepth) {
		if (cc->listed) {
			*exists = 1;
			return emit_listed(w, depth + 1, cc, 0, &ch);
		}
		if (W->listed) {
			*exists = 1;
			return emit_marker(w, depth + 1, -1);
		}
		return w->ret;
	}
	if (visit(w, depth + 1, &ch, cc, &cex) != 0)
		return w->ret;
	w->labels[depth] = c;
	if (!cex && W->listed) {
		cex = 1;
		if (depth + 1 >= w->clipdepth)
			emit_marker(w, depth + 1, -1);
	}
	if (cex)
		*exists = 1;
	return w->ret;
}

/*
 * The items covering children: a stack, innermost on top.  They nest, one
 * per length between two labels, an exclusion and a listing each, plus a
 * test point.
 */
#define LSTACK_MAX	(2 * 8 + 2)
struct lstack {
	struct witem	it[LSTACK_MAX];
	int		end[LSTACK_MAX];
	int		n;
};

static int
visit(struct walk *w, int depth, const struct addr *node, const struct ans *C,
    int *exists)
{
	struct lstack		 stack, *ls = &stack;
	struct ans		 W, cc;
	const struct witem	*it;
	int			 nchild = 1 << w->bits, r2, all;
	int			 hi = (depth + 1) * w->bits;
	/* Above the node zone_walk_node walks: only the way down to it. */
	int			 above = depth < w->clipdepth;
	int			 path = above ? child_index(w, &w->clip, depth) :
				    -1;

	memset(&W, 0, sizeof(W));
	if (C->listed && wildcard_allowed(w, depth))
		W = *C;
	if (W.listed) {
		*exists = 1;
		if (!above && emit_listed(w, depth, &W, 1, node) != 0)
			return w->ret;
	}
	r2 = W.listed && all_digits(w, depth);
	all = C->listed && !W.listed;	/* no wildcard here: every child */
	ls->n = 0;
	for (int c = 0; c < nchild && w->ret == 0; c++) {
		int next = nchild;
		while (ls->n > 0 && ls->end[ls->n - 1] < c)
			ls->n--;
		if (all || (r2 && c < 10) || ls->n > 0)
			next = c;
		else if ((it = peek_inside(w, node)) != NULL)
			next = child_index(w, &it->p, depth);
		if (next >= nchild)
			break;
		c = next;
		while ((it = peek_inside(w, node)) != NULL &&
		    child_index(w, &it->p, depth) == c && it->p.plen <= hi) {
			if (ls->n == LSTACK_MAX) {
				log_warnx("zone_walk: too many nested items");
				return w->ret = -1;
			}
			ls->it[ls->n] = *it;
			ls->end[ls->n++] = c + (1 << (hi - it->p.plen)) - 1;
			w->have_peek = 0;
		}
		if (above && c != path) {
			if (c > path)
				break;
			continue;
		}
		cc = *C;
		for (int i = 0; i < ls->n; i++)
			apply(&cc, &ls->it[i]);
		child(w, depth, node, c, &cc, &W, r2 && c < 10, exists);
	}
	for (int h = 10; r2 && !above && h < 16 && w->ret == 0; h++)
		emit_marker(w, depth, h);
	return w->ret;
}

/* The RFC 5782 test points of one family, in address order. */
static void
add_test_points(struct walk *w)
{
	for (int x = 1; x < 256; x++) {
		struct witem *t;
		if (x != 1 && !w->conf->test_code[x])
			continue;
		t = &w->forced[w->nforced];
		memset(t, 0, sizeof(*t));
		t->forced = 1;
		t->code = x == 1 ? 0 : STORE_CODE_NET | x;
		t->p.family = w->family;
		if (w->family == ADDR_V4) {
			t->p.plen = 32;
			memcpy(t->p.bytes, (uint8_t[]){ 127, 0, 0, x }, 4);
		} else {
			t->p.plen = 128;
			t->p.bytes[10] = t->p.bytes[11] = 0xff;
			memcpy(t->p.bytes + 12, (uint8_t[]){ 127, 0, 0, x }, 4);
		}
		if (relevant(w, &t->p))
			w->nforced++;
	}
}

static int
walk_family(struct walk *w, int family)
{
	struct addr	root;
	struct ans	none;
	int		ex = 0;

	w->family = family;
	w->bits = family == ADDR_V4 ? 8 : 4;
	w->maxdepth = family == ADDR_V4 ? 4 : 32;
	w->have_peek = w->store_peek = w->scan_done = w->base_done = 0;
	w->scan_peek = 0;
	w->nforced = w->iforced = 0;
	add_test_points(w);
	w->iover = 0;
	if ((w->sc = w->clipdepth ? store_scan_range(w->rd, &w->clip) :
	    store_scan_new(w->rd, family)) == NULL)
		return w->ret = -1;
	memset(&root, 0, sizeof(root));
	root.family = family;
	memset(&none, 0, sizeof(none));
	/* A /0 has no name to hang a wildcard on. */
	while (w->ret == 0 && fill_peek(w) && w->peek.p.plen == 0) {
		log_warnx("zone_walk: %s/0 not exported",
		    family == ADDR_V4 ? "0.0.0.0" : "::");
		w->st.skipped++;
		w->have_peek = 0;
	}
	if (w->ret == 0)
		visit(w, 0, &root, &none, &ex);
	store_scan_free(w->sc);
	w->sc = NULL;
	return w->ret;
}

static struct walk *
walk_new(struct store_reader *rd, const struct zone *z,
    const struct answer_conf *conf,
    int (*fn)(const struct zone_name *, void *), void *arg)
{
	struct walk *w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_warn("zone_walk");
		return NULL;
	}
	w->rd = rd;
	w->z = z;
	w->conf = conf;
	w->fn = fn;
	w->arg = arg;
	w->hex_at = -1;
	return w;
}

static int
walk_end(struct walk *w, struct zone_walk_stats *st)
{
	int ret = w->ret;

	if (st != NULL)
		*st = w->st;
	free(w);
	return ret;
}

int
zone_walk(struct store_reader *rd, const struct zone *z,
    const struct answer_conf *conf,
    int (*fn)(const struct zone_name *, void *), void *arg,
    struct zone_walk_stats *st)
{
	struct walk *w;

	if ((w = walk_new(rd, z, conf, fn, arg)) == NULL)
		return -1;
	if (walk_family(w, ADDR_V4) == 0)
		walk_family(w, ADDR_V6);
	return walk_end(w, st);
}

int
zone_walk_node(struct store_reader *rd, const struct zone *z,
    const struct answer_conf *conf, const struct addr *node,
    const struct zone_walk_item *over, size_t nover,
    int (*fn)(const struct zone_name *, void *), void *arg,
    struct zone_walk_stats *st)
{
	struct walk	*w;
	int		 bits = node->family == ADDR_V4 ? 8 : 4;

	if ((node->family != ADDR_V4 && node->family != ADDR_V6) ||
	    node->plen % bits != 0 || node->plen > addr_maxplen(node)) {
		log_warnx("zone_walk_node: not a node of the name tree");
		return -1;
	}
	if ((w = walk_new(rd, z, conf, fn, arg)) == NULL)
		return -1;
	w->clip = *node;
	addr_mask(&w->clip);
	w->clipdepth = node->plen / bits;
	w->over = over;
	w->nover = nover;
	walk_family(w, node->family);
	return walk_end(w, st);
}
