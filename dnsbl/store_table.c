/*
 * store_table.c -- the prefix tables of the store: items, seek, put, del
 *
 * A prefix table (listings or exclusions, one per family) keys on the prefix
 * length and keeps one fixed-size duplicate per prefix: the address bytes in
 * network order, then the code and record id.  Since no two items of one
 * length share an address, memcmp order over the whole item is address
 * order, and MDB_GET_BOTH_RANGE with the address followed by zeros lands on
 * the item for that address if there is one.  This is the only file that
 * knows the item layout.
 */
#include <string.h>

#include "log.h"
#include "store_int.h"

size_t
table_item(const struct addr *p, const struct entry_val *ev, uint8_t *item)
{
	size_t len = addr_len(p);

	memcpy(item, p->bytes, len);
	memcpy(item + len, ev, sizeof(*ev));
	return len + sizeof(*ev);
}

void
table_item_decode(uint8_t plen, const MDB_val *v, struct addr *a,
    struct entry_val *ev)
{
	size_t len = v->mv_size - sizeof(*ev);

	memset(a, 0, sizeof(*a));
	a->family = len == 4 ? ADDR_V4 : ADDR_V6;
	a->plen = plen;
	memcpy(a->bytes, v->mv_data, len);
	memcpy(ev, (const uint8_t *)v->mv_data + len, sizeof(*ev));
}

/*
 * Positions cursor c on the item of exactly prefix p and fills ev.
 * Returns 0, MDB_NOTFOUND, or another LMDB error.
 */
int
table_seek(MDB_cursor *c, const struct addr *p, struct entry_val *ev)
{
	uint8_t		item[ITEM_MAX], plen = p->plen;
	size_t		len = addr_len(p);
	MDB_val		k = { 1, &plen }, v;
	int		rc;

	memcpy(item, p->bytes, len);
	memset(item + len, 0, sizeof(*ev));
	v.mv_size = len + sizeof(*ev);
	v.mv_data = item;
	rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE);
	if (rc != 0)
		return rc;
	if (v.mv_size != len + sizeof(*ev) ||
	    memcmp(v.mv_data, p->bytes, len) != 0)
		return MDB_NOTFOUND;
	memcpy(ev, (const uint8_t *)v.mv_data + len, sizeof(*ev));
	return 0;
}

/*
 * Puts one prefix table item, keeping counters and reference counts: the
 * item it replaces gives up its record reference, the new one takes one.
 */
int
table_put(struct store_txn *t, int table, const struct addr *p,
    uint32_t code, uint32_t record, int kind)
{
	MDB_cursor		*c;
	struct entry_val	 ev = { code, record }, old;
	uint8_t			 item[ITEM_MAX], plen = p->plen;
	MDB_val			 k = { 1, &plen }, v;
	int			 rc, oldkind;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[table], &c)) != 0)
		return store_fail(t, "put", rc);
	rc = table_seek(c, p, &old);
	if (rc == 0) {
		oldkind = store_record_kind(t->txn, t->st, old.record);
		if (oldkind == -1 || store_ref(t, old.record, -1) == -1)
			goto fail;
		if (!TABLE_IS_EXCL(table))
			t->meta.by_kind[oldkind]--;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			goto err;
	} else if (rc == MDB_NOTFOUND)
		store_count(t, table, p->plen, 1);
	else
		goto err;
	v.mv_size = table_item(p, &ev, item);
	v.mv_data = item;
	if ((rc = mdb_cursor_put(c, &k, &v, MDB_NODUPDATA)) != 0)
		goto err;
	mdb_cursor_close(c);
	if (!TABLE_IS_EXCL(table))
		t->meta.by_kind[kind]++;
	return store_ref(t, record, 1);
err:
	store_fail(t, "put", rc);
fail:
	mdb_cursor_close(c);
	return -1;
}

/* Deletes the item of exactly p.  Returns 1, 0 if there is none, -1. */
int
table_del(struct store_txn *t, int table, const struct addr *p)
{
	MDB_cursor		*c;
	struct entry_val	 old;
	int			 rc, kind;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[table], &c)) != 0)
		return store_fail(t, "del", rc);
	if ((rc = table_seek(c, p, &old)) == MDB_NOTFOUND) {
		mdb_cursor_close(c);
		return 0;
	}
	if (rc != 0)
		goto err;
	if ((kind = store_record_kind(t->txn, t->st, old.record)) == -1)
		goto fail;
	if ((rc = mdb_cursor_del(c, 0)) != 0)
		goto err;
	mdb_cursor_close(c);
	store_count(t, table, p->plen, -1);
	if (!TABLE_IS_EXCL(table))
		t->meta.by_kind[kind]--;
	if (store_ref(t, old.record, -1) == -1)
		return -1;
	return 1;
err:
	store_fail(t, "del", rc);
fail:
	mdb_cursor_close(c);
	return -1;
}
