/*
 * store_bulk.c -- bulk import into the store
 *
 * A bulk import writes each (table, prefix length) group as one sorted run
 * of duplicates.  LMDB fills a page completely only when items arrive in
 * order with MDB_APPENDDUP (a normal split leaves both halves half full),
 * so: a group whose items all sort after the last item of that length is
 * appended; a small group going into a large one is put item by item (the
 * few half-full pages do not matter); anything else rebuilds the group,
 * merging the old items with the new ones in memory and appending the
 * result in place of the old.  All of it happens in the caller's write
 * transaction, so readers see the old table or the new one, never a mix.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_int.h"

/* One item on its way into a table. */
struct kv {
	uint8_t		plen;
	uint8_t		len;		/* item bytes */
	uint8_t		isnew;		/* from the import, not the table */
	uint8_t		item[ITEM_MAX];
	uint32_t	order;		/* input position: later wins */
};

struct group {
	struct store_txn	*t;
	int			 table;
	MDB_cursor		*c;
	uint8_t			 plen;
	size_t			 alen;	/* address bytes of an item */
};

static int	kv_cmp(const void *, const void *);
static int	write_group(struct group *, struct kv *, size_t);
static int	append_run(struct group *, const struct kv *, size_t, int);
static int	put_each(struct group *, const struct kv *, size_t);
static int	rebuild(struct group *, const struct kv *, size_t, size_t);
static int	kind_add(struct group *, const uint8_t *, int);
static int	account(struct group *, const struct kv *);
static int	prepare(struct store_import_entry *, size_t,
		    const struct store_listing *, size_t, struct kv **,
		    size_t *, uint32_t *);

static int
kv_cmp(const void *a, const void *b)
{
	const struct kv	*x = a, *y = b;
	int		 c;

	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	/* Address bytes only: code and record must not order equal keys. */
	if ((c = memcmp(x->item, y->item, x->len - 8)) != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* The record id inside an item (it follows the address and the code). */
static uint32_t
item_record(const uint8_t *item, size_t alen)
{
	struct entry_val ev;

	memcpy(&ev, item + alen, sizeof(ev));
	return ev.record;
}

static void
item_set_record(uint8_t *item, size_t alen, uint32_t record)
{
	struct entry_val ev;

	memcpy(&ev, item + alen, sizeof(ev));
	ev.record = record;
	memcpy(item + alen, &ev, sizeof(ev));
}

/*
 * Splits the entries into the four tables, sorts each by (length, address,
 * input order), keeps the last entry per prefix and counts record uses.
 * Record ids in the items are still indexes into recs.
 */
static int
prepare(struct store_import_entry *e, size_t n,
    const struct store_listing *recs, size_t nrecs, struct kv **kv,
    size_t *nkv, uint32_t *uses)
{
	for (size_t i = 0; i < n; i++) {
		int tb = TABLE(e[i].exclude, e[i].prefix.family);
		struct kv *k = &kv[tb][nkv[tb]++];
		struct entry_val ev;
		if (e[i].record >= nrecs || (!e[i].exclude &&
		    (recs[e[i].record].code >> 24) != 127)) {
			log_warnx("store_import: entry %zu: bad record", i);
			return -1;
		}
		ev.code = e[i].exclude ? 0 : recs[e[i].record].code;
		ev.record = e[i].record;
		k->plen = e[i].prefix.plen;
		k->len = table_item(&e[i].prefix, &ev, k->item);
		k->isnew = 1;
		k->order = (uint32_t)i;
	}
	for (int tb = 0; tb < 4; tb++) {
		size_t out = 0;
		if (nkv[tb] > 1)
			qsort(kv[tb], nkv[tb], sizeof(struct kv), kv_cmp);
		for (size_t i = 0; i < nkv[tb]; i++) {
			struct kv *k = &kv[tb][i];
			if (i + 1 < nkv[tb] && k->plen == k[1].plen &&
			    memcmp(k->item, k[1].item, k->len - 8) == 0)
				continue;
			kv[tb][out++] = *k;
			uses[item_record(k->item, k->len - 8)]++;
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
	int		 ret = -1;

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
	for (int tb = 0; tb < 4; tb++) {
		struct group g = { t, tb, NULL, 0, tb & 1 ? 16 : 4 };
		size_t i, j;
		int rc;
		for (i = 0; i < nkv[tb]; i++)
			item_set_record(kv[tb][i].item, g.alen,
			    ids[item_record(kv[tb][i].item, g.alen)]);
		if (nkv[tb] == 0)
			continue;
		if ((rc = mdb_cursor_open(t->txn, t->st->dbi[tb], &g.c)) != 0) {
			store_fail(t, "import", rc);
			goto done;
		}
		for (i = 0; i < nkv[tb]; i = j) {
			for (j = i; j < nkv[tb] && kv[tb][j].plen ==
			    kv[tb][i].plen; j++)
				;
			g.plen = kv[tb][i].plen;
			if (write_group(&g, kv[tb] + i, j - i) == -1)
				break;
		}
		mdb_cursor_close(g.c);
		if (i < nkv[tb])
			goto done;
	}
	ret = store_audit_put(t, STORE_AUDIT_IMPORT, NULL, 0, what);
	goto done;
nomem:
	log_warn("store_import");
done:
	for (int tb = 0; tb < 4; tb++)
		free(kv[tb]);
	free(ids);
	free(uses);
	return ret;
}

/* Writes the sorted items of one prefix length. */
static int
write_group(struct group *g, struct kv *kv, size_t n)
{
	MDB_val	k = { 1, &g->plen }, v;
	size_t	count;
	int	rc;

	rc = mdb_cursor_get(g->c, &k, &v, MDB_SET_KEY);
	if (rc == MDB_NOTFOUND)
		return append_run(g, kv, n, 1);
	if (rc != 0 || (rc = mdb_cursor_get(g->c, &k, &v,
	    MDB_LAST_DUP)) != 0 || (rc = mdb_cursor_count(g->c, &count)) != 0)
		return store_fail(g->t, "import", rc);
	if (memcmp(kv[0].item, v.mv_data, g->alen) > 0)
		return append_run(g, kv, n, 0);
	if (n < count / 8)
		return put_each(g, kv, n);
	return rebuild(g, kv, n, count);
}

/* Adds delta to the count of the kind of an item's record (listings). */
static int
kind_add(struct group *g, const uint8_t *item, int delta)
{
	int kind;

	if (TABLE_IS_EXCL(g->table))
		return 0;
	kind = store_record_kind(g->t->txn, g->t->st,
	    item_record(item, g->alen));
	if (kind < 0)
		return -1;
	g->t->meta.by_kind[kind] += delta;
	return 0;
}

/* A new item: counted per table, length and kind. */
static int
account(struct group *g, const struct kv *k)
{
	store_count(g->t, g->table, g->plen, 1);
	return kind_add(g, k->item, 1);
}

/*
 * Appends sorted items after the last one of their length (or as the first
 * ones when first is set).  Neighbours usually share a record, so the kind
 * of the last record is remembered while counting.
 */
static int
append_run(struct group *g, const struct kv *kv, size_t n, int first)
{
	MDB_val		k = { 1, &g->plen }, v;
	uint32_t	lastrec = 0, rec;
	int		rc, kind = 0;

	for (size_t i = 0; i < n; i++) {
		v.mv_size = kv[i].len;
		v.mv_data = (void *)kv[i].item;
		rc = mdb_cursor_put(g->c, &k, &v, first && i == 0 ? 0 :
		    MDB_APPENDDUP);
		if (rc != 0)
			return store_fail(g->t, "import", rc);
		if (!kv[i].isnew)
			continue;
		store_count(g->t, g->table, g->plen, 1);
		if (TABLE_IS_EXCL(g->table))
			continue;
		if ((rec = item_record(kv[i].item, g->alen)) != lastrec) {
			kind = store_record_kind(g->t->txn, g->t->st, rec);
			if (kind < 0)
				return -1;
			lastrec = rec;
		}
		g->t->meta.by_kind[kind]++;
	}
	return 0;
}

static int
put_each(struct group *g, const struct kv *kv, size_t n)
{
	MDB_val			k = { 1, &g->plen }, v;
	struct entry_val	old;
	struct addr		a;
	int			rc;

	for (size_t i = 0; i < n; i++) {
		memset(&a, 0, sizeof(a));
		a.family = g->alen == 4 ? ADDR_V4 : ADDR_V6;
		a.plen = g->plen;
		memcpy(a.bytes, kv[i].item, g->alen);
		rc = table_seek(g->c, &a, &old);
		if (rc == 0) {
			/* Replaced: the old item's record loses its use. */
			uint8_t olditem[ITEM_MAX];
			table_item(&a, &old, olditem);
			if (kind_add(g, olditem, -1) == -1 ||
			    store_ref(g->t, old.record, -1) == -1 ||
			    kind_add(g, kv[i].item, 1) == -1)
				return -1;
			if ((rc = mdb_cursor_del(g->c, 0)) != 0)
				return store_fail(g->t, "import", rc);
		} else if (rc == MDB_NOTFOUND) {
			if (account(g, &kv[i]) == -1)
				return -1;
		} else
			return store_fail(g->t, "import", rc);
		v.mv_size = kv[i].len;
		v.mv_data = (void *)kv[i].item;
		if ((rc = mdb_cursor_put(g->c, &k, &v, MDB_NODUPDATA)) != 0)
			return store_fail(g->t, "import", rc);
	}
	return 0;
}

/*
 * Merges the items of this length with the new ones (new wins on equal
 * addresses), deletes them all and appends the merged run.
 */
static int
rebuild(struct group *g, const struct kv *kv, size_t n, size_t count)
{
	MDB_val		 k = { 1, &g->plen }, v;
	struct kv	*all;
	size_t		 na = 0, i = 0;
	int		 rc, ret = -1;

	if ((all = calloc(count + n + 1, sizeof(*all))) == NULL) {
		log_warn("store_import");
		return -1;
	}
	for (rc = mdb_cursor_get(g->c, &k, &v, MDB_FIRST_DUP); rc == 0;
	    rc = mdb_cursor_get(g->c, &k, &v, MDB_NEXT_DUP)) {
		struct kv	old;
		int		cmp = 1;

		memset(&old, 0, sizeof(old));
		old.plen = g->plen;
		old.len = v.mv_size;
		memcpy(old.item, v.mv_data, v.mv_size);
		while (i < n && (cmp = memcmp(kv[i].item, old.item,
		    g->alen)) < 0)
			all[na++] = kv[i++];
		if (i < n && cmp == 0) {
			/* Replaced: counted once, the old record loses. */
			if (kind_add(g, old.item, -1) == -1 ||
			    store_ref(g->t, item_record(old.item, g->alen),
			    -1) == -1 || kind_add(g, kv[i].item, 1) == -1)
				goto done;
			all[na] = kv[i++];
			all[na++].isnew = 0;
		} else
			all[na++] = old;
	}
	if (rc != MDB_NOTFOUND) {
		store_fail(g->t, "import", rc);
		goto done;
	}
	while (i < n)
		all[na++] = kv[i++];
	/* Back on the key, then delete every duplicate of it. */
	if ((rc = mdb_cursor_get(g->c, &k, &v, MDB_SET_KEY)) != 0 ||
	    (rc = mdb_cursor_del(g->c, MDB_NODUPDATA)) != 0) {
		store_fail(g->t, "import", rc);
		goto done;
	}
	ret = append_run(g, all, na, 1);
done:
	free(all);
	return ret;
}
