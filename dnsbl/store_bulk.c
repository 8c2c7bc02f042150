/*
 * store_bulk.c -- bulk import into the store
 *
 * A bulk import writes each prefix table as one sorted run.  LMDB fills a
 * page completely only when keys arrive in order with MDB_APPEND (a normal
 * split leaves both halves half full), so: an import whose keys all sort
 * after the table's last key is appended; a small import into a large table
 * is put key by key (the few half-full pages do not matter); anything else
 * rebuilds the table, merging the old entries with the new ones in memory
 * and appending the result into the emptied table.  All of it happens in the
 * caller's write transaction, so readers see the old table or the new one.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_int.h"

/* One table entry on its way into a table. */
struct kv {
	uint8_t		key[KEY_MAX];
	uint8_t		klen;
	uint8_t		isnew;		/* from the import, not the table */
	struct entry_val ev;
	uint32_t	order;		/* input position: later wins */
};

static int	kv_cmp(const void *, const void *);
static int	write_table(struct store_txn *, int, struct kv *, size_t);
static int	append_run(struct store_txn *, int, const struct kv *,
		    size_t);
static int	put_each(struct store_txn *, int, const struct kv *, size_t);
static int	rebuild(struct store_txn *, int, const struct kv *, size_t);
static int	replaced(struct store_txn *, int, const struct entry_val *);
static int	kind_add(struct store_txn *, int, uint32_t, int);

static int
kv_cmp(const void *a, const void *b)
{
	const struct kv	*x = a, *y = b;
	int		 c;

	/* Tables hold one key length each, so memcmp orders them. */
	if ((c = memcmp(x->key, y->key, x->klen)) != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
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
	for (size_t i = 0; i < n; i++) {
		int tb = TABLE(e[i].exclude, e[i].prefix.family);
		struct kv *k = &kv[tb][nkv[tb]++];
		if (e[i].record >= nrecs || (!e[i].exclude &&
		    (recs[e[i].record].code >> 24) != 127)) {
			log_warnx("store_import: entry %zu: bad record", i);
			goto done;
		}
		k->klen = store_key(&e[i].prefix, k->key);
		k->isnew = 1;
		k->ev.code = e[i].exclude ? 0 : recs[e[i].record].code;
		k->ev.record = e[i].record;	/* an index until written */
		k->order = (uint32_t)i;
	}
	/* Sort, keep the last entry per key, and count record uses. */
	for (int tb = 0; tb < 4; tb++) {
		size_t out = 0;
		qsort(kv[tb], nkv[tb], sizeof(struct kv), kv_cmp);
		for (size_t i = 0; i < nkv[tb]; i++) {
			if (i + 1 < nkv[tb] && memcmp(kv[tb][i].key,
			    kv[tb][i + 1].key, kv[tb][i].klen) == 0)
				continue;
			kv[tb][out++] = kv[tb][i];
			uses[kv[tb][i].ev.record]++;
		}
		nkv[tb] = out;
	}
	for (size_t r = 0; r < nrecs; r++) {
		struct store_listing l = recs[r];
		if (uses[r] == 0)
			continue;
		if (store_record_new(t, &l, &ids[r]) == -1 ||
		    store_ref(t, ids[r], (int32_t)uses[r]) == -1)
			goto done;
	}
	for (int tb = 0; tb < 4; tb++) {
		for (size_t i = 0; i < nkv[tb]; i++)
			kv[tb][i].ev.record = ids[kv[tb][i].ev.record];
		if (nkv[tb] && write_table(t, tb, kv[tb], nkv[tb]) == -1)
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

static int
write_table(struct store_txn *t, int tb, struct kv *kv, size_t n)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	MDB_stat	 ms;
	int		 rc, empty;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[tb], &c)) != 0)
		return store_fail(t, "import", rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_fail(t, "import", rc);
	empty = rc == MDB_NOTFOUND;
	if (empty || memcmp(kv[0].key, k.mv_data, kv[0].klen) > 0)
		return append_run(t, tb, kv, n);
	if ((rc = mdb_stat(t->txn, t->st->dbi[tb], &ms)) != 0)
		return store_fail(t, "import", rc);
	if (n < ms.ms_entries / 8)
		return put_each(t, tb, kv, n);
	return rebuild(t, tb, kv, n);
}

/* Adds delta to the count of the kind of record (listing tables only). */
static int
kind_add(struct store_txn *t, int tb, uint32_t record, int delta)
{
	int kind;

	if (TABLE_IS_EXCL(tb))
		return 0;
	if ((kind = store_record_kind(t->txn, t->st, record)) < 0)
		return -1;
	t->meta.by_kind[kind] += delta;
	return 0;
}

/* An old entry gave way to a new one: it no longer counts. */
static int
replaced(struct store_txn *t, int tb, const struct entry_val *old)
{
	if (kind_add(t, tb, old->record, -1) == -1)
		return -1;
	return store_ref(t, old->record, -1);
}

/*
 * Appends sorted entries, counting the new ones.  Counting needs each
 * record's kind; neighbours usually share a record, so remember the last.
 */
static int
append_run(struct store_txn *t, int tb, const struct kv *kv, size_t n)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	uint32_t	 lastrec = 0;
	int		 rc, kind = 0;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[tb], &c)) != 0)
		return store_fail(t, "import", rc);
	for (size_t i = 0; i < n; i++) {
		k.mv_size = kv[i].klen;
		k.mv_data = (void *)kv[i].key;
		v.mv_size = sizeof(kv[i].ev);
		v.mv_data = (void *)&kv[i].ev;
		if ((rc = mdb_cursor_put(c, &k, &v, MDB_APPEND)) != 0) {
			mdb_cursor_close(c);
			return store_fail(t, "import", rc);
		}
		if (!kv[i].isnew)
			continue;
		store_count(t, tb, kv[i].key[kv[i].klen - 1], 1);
		if (TABLE_IS_EXCL(tb))
			continue;
		if (kv[i].ev.record != lastrec) {
			kind = store_record_kind(t->txn, t->st,
			    kv[i].ev.record);
			if (kind < 0) {
				mdb_cursor_close(c);
				return -1;
			}
			lastrec = kv[i].ev.record;
		}
		t->meta.by_kind[kind]++;
	}
	mdb_cursor_close(c);
	return 0;
}

static int
put_each(struct store_txn *t, int tb, const struct kv *kv, size_t n)
{
	MDB_val			k, v;
	struct entry_val	old;
	int			rc;

	for (size_t i = 0; i < n; i++) {
		k.mv_size = kv[i].klen;
		k.mv_data = (void *)kv[i].key;
		rc = mdb_get(t->txn, t->st->dbi[tb], &k, &v);
		if (rc == 0) {
			memcpy(&old, v.mv_data, sizeof(old));
			if (replaced(t, tb, &old) == -1)
				return -1;
		} else if (rc == MDB_NOTFOUND)
			store_count(t, tb, kv[i].key[kv[i].klen - 1], 1);
		else
			return store_fail(t, "import", rc);
		if (kind_add(t, tb, kv[i].ev.record, 1) == -1)
			return -1;
		v.mv_size = sizeof(kv[i].ev);
		v.mv_data = (void *)&kv[i].ev;
		if ((rc = mdb_put(t->txn, t->st->dbi[tb], &k, &v, 0)) != 0)
			return store_fail(t, "import", rc);
	}
	return 0;
}

/*
 * Merges the table's entries with the new ones (new wins on equal keys),
 * empties the table and appends the merged run.
 */
static int
rebuild(struct store_txn *t, int tb, const struct kv *kv, size_t n)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	MDB_stat	 ms;
	struct kv	*all;
	size_t		 na = 0, i = 0;
	int		 rc, ret = -1;

	if ((rc = mdb_stat(t->txn, t->st->dbi[tb], &ms)) != 0)
		return store_fail(t, "import", rc);
	if ((all = calloc(ms.ms_entries + n + 1, sizeof(*all))) == NULL) {
		log_warn("store_import");
		return -1;
	}
	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[tb], &c)) != 0) {
		free(all);
		return store_fail(t, "import", rc);
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct kv	 old;
		int		 cmp = 1;

		memset(&old, 0, sizeof(old));
		old.klen = k.mv_size;
		memcpy(old.key, k.mv_data, k.mv_size);
		memcpy(&old.ev, v.mv_data, sizeof(old.ev));
		while (i < n && (cmp = memcmp(kv[i].key, old.key,
		    old.klen)) < 0)
			all[na++] = kv[i++];
		if (i < n && cmp == 0) {
			/* Counted as replaced; the new entry is not new. */
			if (replaced(t, tb, &old.ev) == -1)
				goto done;
			all[na] = kv[i++];
			all[na].isnew = 0;
			if (kind_add(t, tb, all[na].ev.record, 1) == -1)
				goto done;
			na++;
		} else
			all[na++] = old;
	}
	if (rc != MDB_NOTFOUND) {
		store_fail(t, "import", rc);
		goto done;
	}
	while (i < n)
		all[na++] = kv[i++];
	mdb_cursor_close(c);
	c = NULL;
	if ((rc = mdb_drop(t->txn, t->st->dbi[tb], 0)) != 0) {
		store_fail(t, "import", rc);
		goto done;
	}
	ret = append_run(t, tb, all, na);
done:
	if (c != NULL)
		mdb_cursor_close(c);
	free(all);
	return ret;
}
