/*
 * store_bulk.c -- bulk import into the store
 *
 * The entries are split by prefix table, sorted by (length, address, input
 * order) and reduced to the last entry per prefix.  Sorted this way the
 * entries of one bucket (store_table.c) are adjacent, so each bucket the
 * import touches is read once, merged with its new items (a new item
 * replaces an old one with the same prefix) and written once.  All of it
 * happens in the caller's write transaction: readers see the old tables or
 * the new ones, never a mix.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_int.h"

/* One entry on its way into a table. */
struct kv {
	struct addr		prefix;
	struct entry_val	ev;
	uint32_t		order;		/* input position: later wins */
};

/* Counting while merging: the kind of the last record seen is cached. */
struct merge {
	struct store_txn	*t;
	int			 table;
	size_t			 isize, alen;
	uint8_t			*buf;		/* merged items */
	size_t			 cap;		/* bytes of buf */
	uint32_t		 lastrec;
	int			 lastkind;
};

static int	kv_cmp(const void *, const void *);
static int	prepare(struct store_import_entry *, size_t,
		    const struct store_listing *, size_t, struct kv **,
		    size_t *, uint32_t *);
static int	same_bucket(const struct kv *, const struct kv *);
static int	merge_bucket(struct merge *, const struct kv *, size_t);
static int	kind_add(struct merge *, uint32_t, int);

static int
kv_cmp(const void *a, const void *b)
{
	const struct kv	*x = a, *y = b;
	int		 c;

	if (x->prefix.plen != y->prefix.plen)
		return x->prefix.plen < y->prefix.plen ? -1 : 1;
	if ((c = memcmp(x->prefix.bytes, y->prefix.bytes,
	    sizeof(x->prefix.bytes))) != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int
same_bucket(const struct kv *a, const struct kv *b)
{
	uint8_t ka[KEY_MAX], kb[KEY_MAX];
	size_t	la = table_key(&a->prefix, ka), lb = table_key(&b->prefix, kb);

	return la == lb && memcmp(ka, kb, la) == 0;
}

/*
 * Splits the entries into the four tables, sorts each, keeps the last entry
 * per prefix and counts record uses.  Record ids are still indexes into
 * recs.
 */
static int
prepare(struct store_import_entry *e, size_t n,
    const struct store_listing *recs, size_t nrecs, struct kv **kv,
    size_t *nkv, uint32_t *uses)
{
	for (size_t i = 0; i < n; i++) {
		int tb = TABLE(e[i].exclude, e[i].prefix.family);
		struct kv *k = &kv[tb][nkv[tb]++];
		if (e[i].record >= nrecs || (!e[i].exclude &&
		    (recs[e[i].record].code >> 24) != 127)) {
			log_warnx("store_import: entry %zu: bad record", i);
			return -1;
		}
		k->prefix = e[i].prefix;
		k->ev.code = e[i].exclude ? 0 : recs[e[i].record].code;
		k->ev.record = e[i].record;
		k->order = (uint32_t)i;
	}
	for (int tb = 0; tb < 4; tb++) {
		size_t out = 0;
		if (nkv[tb] > 1)
			qsort(kv[tb], nkv[tb], sizeof(struct kv), kv_cmp);
		for (size_t i = 0; i < nkv[tb]; i++) {
			struct kv *k = &kv[tb][i];
			if (i + 1 < nkv[tb] && k->prefix.plen ==
			    k[1].prefix.plen && memcmp(k->prefix.bytes,
			    k[1].prefix.bytes, sizeof(k->prefix.bytes)) == 0)
				continue;
			kv[tb][out++] = *k;
			uses[k->ev.record]++;
		}
		nkv[tb] = out;
	}
	return 0;
}

int
store_import(struct store_txn *t, struct store_import_entry *e, size_t n,
    const struct store_listing *recs, size_t nrecs, const char *what)
{
	struct kv	*kv[4] = { NULL, NULL, NULL, NULL };
	size_t		 nkv[4] = { 0, 0, 0, 0 };
	uint32_t	*ids = NULL, *uses = NULL;
	struct merge	 m;
	int		 ret = -1;

	if (t->failed)
		return -1;
	memset(&m, 0, sizeof(m));
	if ((ids = calloc(nrecs + 1, sizeof(*ids))) == NULL ||
	    (uses = calloc(nrecs + 1, sizeof(*uses))) == NULL)
		goto nomem;
	for (int tb = 0; tb < 4; tb++)
		if ((kv[tb] = calloc(n + 1, sizeof(struct kv))) == NULL)
			goto nomem;
	if (prepare(e, n, recs, nrecs, kv, nkv, uses) == -1)
		goto done;
	for (size_t r = 0; r < nrecs; r++) {
		if (uses[r] == 0)
			continue;
		if (store_record_new(t, &recs[r], &ids[r]) == -1 ||
		    store_ref(t, ids[r], (int32_t)uses[r]) == -1)
			goto done;
	}
	m.t = t;
	for (int tb = 0; tb < 4; tb++) {
		size_t i, j;
		m.table = tb;
		m.isize = table_item_size(TABLE_FAMILY(tb));
		m.alen = m.isize - sizeof(struct entry_val);
		for (i = 0; i < nkv[tb]; i++)
			kv[tb][i].ev.record = ids[kv[tb][i].ev.record];
		for (i = 0; i < nkv[tb]; i = j) {
			for (j = i + 1; j < nkv[tb] &&
			    same_bucket(&kv[tb][i], &kv[tb][j]); j++)
				;
			if (merge_bucket(&m, kv[tb] + i, j - i) == -1)
				goto done;
		}
	}
	ret = store_audit_put(t, STORE_AUDIT_IMPORT, NULL, 0, what);
	goto done;
nomem:
	log_warn("store_import");
done:
	for (int tb = 0; tb < 4; tb++)
		free(kv[tb]);
	free(m.buf);
	free(ids);
	free(uses);
	/* Whatever failed (a bad entry, memory) fails the txn too. */
	return ret == -1 ? store_failx(t, STORE_EFAIL) : ret;
}

/* Adds delta to the count of the kind of record (listing tables only). */
static int
kind_add(struct merge *m, uint32_t record, int delta)
{
	if (TABLE_IS_EXCL(m->table))
		return 0;
	if (record != m->lastrec || m->lastrec == 0) {
		m->lastkind = store_record_kind(m->t->txn, m->t->st, record);
		if (m->lastkind < 0)
			return -1;
		m->lastrec = record;
	}
	m->t->meta.by_kind[m->lastkind] += delta;
	return 0;
}

/* Appends one item to the merge buffer. */
static void
put_item(struct merge *m, size_t *n, const uint8_t *addr,
    const struct entry_val *ev)
{
	uint8_t *it = m->buf + (*n)++ * m->isize;

	memcpy(it, addr, m->alen);
	memcpy(it + m->alen, ev, sizeof(*ev));
}

/*
 * Merges the n new entries of one bucket with the bucket's items and
 * writes the result.  New prefixes are counted; a replaced item's record
 * loses its reference.
 */
static int
merge_bucket(struct merge *m, const struct kv *kv, size_t n)
{
	uint8_t			 key[KEY_MAX];
	size_t			 klen = table_key(&kv[0].prefix, key);
	struct blob		 b;
	struct addr		 old;
	struct entry_val	 oldev;
	size_t			 i = 0, j = 0, out = 0;
	int			 cmp;

	if (table_bucket(m->t->txn, m->t->st, m->table, key, klen, &b) == -1)
		return store_failx(m->t, STORE_EFAIL);
	/* In bytes: the tables' items differ in size (IPv4, IPv6). */
	if ((b.count + n) * m->isize > m->cap) {
		uint8_t *p = realloc(m->buf, (b.count + n) * m->isize);
		if (p == NULL) {
			log_warn("store_import");
			return store_failx(m->t, STORE_EFAIL);
		}
		m->buf = p;
		m->cap = (b.count + n) * m->isize;
	}
	/* The old items are read from the map before anything is written. */
	while (i < b.count || j < n) {
		if (i < b.count)
			table_blob_item(&b, i, TABLE_FAMILY(m->table),
			    kv[0].prefix.plen, &old, &oldev);
		cmp = i == b.count ? 1 : j == n ? -1 :
		    memcmp(old.bytes, kv[j].prefix.bytes, m->alen);
		if (cmp < 0) {
			put_item(m, &out, old.bytes, &oldev);
			i++;
			continue;
		}
		if (journal_note(m->t, m->table, &kv[j].prefix, cmp == 0,
		    &oldev) == -1)
			return -1;
		if (cmp == 0) {
			if (kind_add(m, oldev.record, -1) == -1 ||
			    store_ref(m->t, oldev.record, -1) == -1)
				return -1;
			i++;
		} else
			store_count(m->t, m->table, kv[j].prefix.plen, 1);
		if (kind_add(m, kv[j].ev.record, 1) == -1)
			return -1;
		put_item(m, &out, kv[j].prefix.bytes, &kv[j].ev);
		j++;
	}
	return table_write(m->t, m->table, key, klen, m->buf, out, m->isize);
}
