/*
 * store_table.c -- the prefix tables of the store: bucket blobs of items
 *
 * A prefix table (listings or exclusions, one per family) maps a bucket key
 * -- the prefix length and the first address byte (IPv4) or two (IPv6) --
 * to one value, a blob holding every prefix of that length in that bucket
 * as a sorted array of fixed-size items: the address bytes in network order,
 * then the code and the record id.  A blob with more than BLOB_INDEX_MIN
 * items starts with an index of 257 offsets by the next address byte.
 *
 * Why blobs and not one LMDB key per prefix: a B-tree lookup of one key
 * among a million touches a dozen cache lines spread over a leaf page (the
 * node pointers, then each probed node), and on this kind of machine that is
 * about a microsecond of memory latency.  With blobs the B-tree holds a few
 * hundred keys (always in cache), the index is one cache line, and the
 * binary search runs over the dozen items sharing the next address byte,
 * a few adjacent lines.  Blobs also need no per-item node header: 12 bytes
 * per IPv4 prefix.  The price is that a write rewrites its whole bucket
 * (about 50 KB per million IPv4 listings), which is cheap next to the
 * lookups a DNSBL serves.
 *
 * This is the only file that knows the blob layout.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_int.h"

#define BLOB_INDEX_MIN	32
#define BLOB_INDEXED	0x1

struct blob_hdr {
	uint32_t	count;
	uint32_t	flags;
};

#define INDEX_SIZE	(257 * sizeof(uint32_t))

static size_t
key_bytes(int family)
{
	return family == ADDR_V4 ? 1 : 2;
}

size_t
table_key(const struct addr *p, uint8_t *key)
{
	size_t kb = key_bytes(p->family);

	key[0] = p->plen;
	memcpy(key + 1, p->bytes, kb);
	return kb + 1;
}

size_t
table_item_size(int family)
{
	return (family == ADDR_V4 ? 4 : 16) + sizeof(struct entry_val);
}

void
table_blob_open(const MDB_val *v, struct blob *b)
{
	struct blob_hdr h;

	memset(b, 0, sizeof(*b));
	if (v == NULL || v->mv_size < sizeof(h))
		return;
	memcpy(&h, v->mv_data, sizeof(h));
	b->count = h.count;
	b->items = (const uint8_t *)v->mv_data + sizeof(h);
	if (h.flags & BLOB_INDEXED) {
		b->index = b->items;
		b->items += INDEX_SIZE;
	}
}

/*
 * Position of the first item whose address is not below addr (alen
 * bytes), within items [lo, hi).
 */
static size_t
lower_bound(const uint8_t *items, size_t isize, size_t alen, size_t lo,
    size_t hi, const uint8_t *addr)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(items + mid * isize, addr, alen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t
table_blob_find(const struct blob *b, const struct addr *p, int *found)
{
	size_t		alen = addr_len(p), isize = alen + sizeof(struct entry_val);
	size_t		lo = 0, hi = b->count, pos;
	uint32_t	ix[2];

	if (b->index != NULL) {
		/* The byte after the bucket key picks a range of items. */
		uint8_t next = p->bytes[key_bytes(p->family)];
		memcpy(ix, b->index + next * sizeof(uint32_t), sizeof(ix));
		lo = ix[0];
		hi = ix[1] <= b->count ? ix[1] : b->count;
	}
	pos = lower_bound(b->items, isize, alen, lo, hi, p->bytes);
	*found = pos < b->count &&
	    memcmp(b->items + pos * isize, p->bytes, alen) == 0;
	return pos;
}

void
table_blob_item(const struct blob *b, size_t i, int family, uint8_t plen,
    struct addr *a, struct entry_val *ev)
{
	size_t		 alen = family == ADDR_V4 ? 4 : 16;
	const uint8_t	*it = b->items + i * (alen + sizeof(*ev));

	memset(a, 0, sizeof(*a));
	a->family = family;
	a->plen = plen;
	memcpy(a->bytes, it, alen);
	memcpy(ev, it + alen, sizeof(*ev));
}

/* Logs a failed LMDB call on a prefix table; its code goes no further. */
static int
table_error(const struct store *st, const char *what, int rc)
{
	log_warnx("store %s: %s: %s", st->dir, what, store_strerror(rc));
	return -1;
}

/*
 * Reads the bucket blob of key in place: LMDB's codes end here.  1 found,
 * 0 absent (b empty), -1 on failure (logged).
 */
static inline int
bucket_read(MDB_txn *txn, const struct store *st, int table,
    const uint8_t *key, size_t klen, struct blob *b)
{
	MDB_val	k = { klen, (void *)key }, v;
	int	rc;

	if ((rc = mdb_get(txn, st->dbi[table], &k, &v)) == 0) {
		table_blob_open(&v, b);
		return 1;
	}
	table_blob_open(NULL, b);
	return rc == MDB_NOTFOUND ? 0 : table_error(st, "read", rc);
}

int
table_bucket(MDB_txn *txn, const struct store *st, int table,
    const uint8_t *key, size_t klen, struct blob *b)
{
	return bucket_read(txn, st, table, key, klen, b);
}

int
table_get(MDB_txn *txn, const struct store *st, int table,
    const struct addr *p, struct entry_val *ev)
{
	uint8_t		key[KEY_MAX];
	struct blob	b;
	size_t		pos;
	int		rc, found;

	if ((rc = bucket_read(txn, st, table, key, table_key(p, key),
	    &b)) != 1)
		return rc;
	pos = table_blob_find(&b, p, &found);
	if (!found)
		return 0;
	memcpy(ev, b.items + pos * (addr_len(p) + sizeof(*ev)) + addr_len(p),
	    sizeof(*ev));
	return 1;
}

/*
 * Writes the n sorted items (isize bytes each) as the blob of key, or
 * deletes the key when n is 0.  The items must not point into the map.
 */
int
table_write(struct store_txn *t, int table, const uint8_t *key, size_t klen,
    const uint8_t *items, size_t n, size_t isize)
{
	struct blob_hdr	 h = { (uint32_t)n, 0 };
	MDB_val		 k = { klen, (void *)key }, v;
	uint32_t	 index[257];
	size_t		 kb = klen - 1;
	uint8_t		*out;
	int		 rc;

	if (n == 0) {
		rc = store_mdb_del(t, table, &k);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return store_fail(t, "delete", rc);
		return 0;
	}
	if (n > BLOB_INDEX_MIN)
		h.flags |= BLOB_INDEXED;
	v.mv_size = sizeof(h) + (h.flags ? INDEX_SIZE : 0) + n * isize;
	if ((rc = store_mdb_put(t, table, &k, &v,
	    MDB_RESERVE)) != 0)
		return store_fail(t, "write", rc);
	out = v.mv_data;
	memcpy(out, &h, sizeof(h));
	out += sizeof(h);
	if (h.flags & BLOB_INDEXED) {
		/* index[b]: first item whose byte after the key is >= b. */
		size_t i = 0;
		for (int byte = 0; byte <= 256; byte++) {
			while (i < n && items[i * isize + kb] < byte)
				i++;
			index[byte] = (uint32_t)i;
		}
		index[256] = (uint32_t)n;
		memcpy(out, index, sizeof(index));
		out += sizeof(index);
	}
	memcpy(out, items, n * isize);
	return 0;
}

/*
 * Copies the items of p's bucket into a new buffer with room for one more
 * (*buf, freed by the caller), and finds p's position among them.
 */
static int
load_bucket(struct store_txn *t, int table, const struct addr *p,
    uint8_t **buf, size_t *n, size_t *pos, int *found)
{
	uint8_t		key[KEY_MAX];
	struct blob	b;
	size_t		isize = table_item_size(p->family);

	if (bucket_read(t->txn, t->st, table, key, table_key(p, key),
	    &b) == -1)
		return store_failx(t, STORE_EFAIL);
	*pos = table_blob_find(&b, p, found);
	*n = b.count;
	if ((*buf = malloc((b.count + 1) * isize)) == NULL) {
		log_warn("store");
		return store_failx(t, STORE_EFAIL);
	}
	if (b.count)
		memcpy(*buf, b.items, b.count * isize);
	return 0;
}

/*
 * Puts one prefix, keeping counters and reference counts: the item it
 * replaces gives up its record reference, the new one takes one.
 */
int
table_put(struct store_txn *t, int table, const struct addr *p,
    uint32_t code, uint32_t record, int kind)
{
	struct entry_val	 ev = { code, record }, old;
	uint8_t			*buf, key[KEY_MAX];
	size_t			 isize = table_item_size(p->family), alen;
	size_t			 n, pos;
	int			 found, oldkind, rc;

	if (load_bucket(t, table, p, &buf, &n, &pos, &found) == -1)
		return -1;
	alen = isize - sizeof(ev);
	if (found)
		memcpy(&old, buf + pos * isize + alen, sizeof(old));
	if (journal_note(t, table, p, found, &old) == -1) {
		free(buf);
		return -1;
	}
	if (found) {
		oldkind = store_record_kind(t->txn, t->st, old.record);
		if (oldkind == -1 || store_ref(t, old.record, -1) == -1)
			goto fail;
		if (!TABLE_IS_EXCL(table))
			t->meta.by_kind[oldkind]--;
	} else {
		memmove(buf + (pos + 1) * isize, buf + pos * isize,
		    (n - pos) * isize);
		n++;
		store_count(t, table, p->plen, 1);
	}
	memcpy(buf + pos * isize, p->bytes, alen);
	memcpy(buf + pos * isize + alen, &ev, sizeof(ev));
	rc = table_write(t, table, key, table_key(p, key), buf, n, isize);
	free(buf);
	if (rc == -1)
		return -1;
	if (!TABLE_IS_EXCL(table))
		t->meta.by_kind[kind]++;
	return store_ref(t, record, 1);
fail:
	free(buf);
	return store_failx(t, STORE_EFAIL);
}

/* Deletes the item of exactly p.  Returns 1, 0 if there is none, -1. */
int
table_del(struct store_txn *t, int table, const struct addr *p)
{
	struct entry_val	 old;
	uint8_t			*buf, key[KEY_MAX];
	size_t			 isize = table_item_size(p->family);
	size_t			 n, pos;
	int			 found, kind, rc;

	if (load_bucket(t, table, p, &buf, &n, &pos, &found) == -1)
		return -1;
	if (!found) {
		free(buf);
		return 0;
	}
	memcpy(&old, buf + pos * isize + isize - sizeof(old), sizeof(old));
	if (journal_note(t, table, p, 1, &old) == -1) {
		free(buf);
		return -1;
	}
	if ((kind = store_record_kind(t->txn, t->st, old.record)) == -1) {
		free(buf);
		return store_failx(t, STORE_EFAIL);
	}
	memmove(buf + pos * isize, buf + (pos + 1) * isize,
	    (n - pos - 1) * isize);
	rc = table_write(t, table, key, table_key(p, key), buf, n - 1, isize);
	free(buf);
	if (rc == -1)
		return -1;
	store_count(t, table, p->plen, -1);
	if (!TABLE_IS_EXCL(table))
		t->meta.by_kind[kind]--;
	if (store_ref(t, old.record, -1) == -1)
		return -1;
	return 1;
}

/* Whether r's own bucket holds a prefix p (of length p->plen) inside r. */
static int
any_in_bucket(MDB_txn *txn, const struct store *st, int table,
    const struct addr *r, struct addr *p)
{
	uint8_t			key[KEY_MAX];
	struct blob		b;
	struct entry_val	ev;
	size_t			pos;
	int			rc, found;

	if ((rc = bucket_read(txn, st, table, key, table_key(p, key),
	    &b)) != 1)
		return rc;
	if ((pos = table_blob_find(&b, p, &found)) >= b.count)
		return 0;
	table_blob_item(&b, pos, r->family, p->plen, p, &ev);
	return addr_contains(r, p);
}

/* Whether a bucket key of p's length lies in r (r spans several). */
static int
any_bucket_within(MDB_txn *txn, const struct store *st, int table,
    const struct addr *r, struct addr *p)
{
	uint8_t		 key[KEY_MAX];
	size_t		 kb = key_bytes(r->family);
	MDB_cursor	*c;
	MDB_val		 k = { table_key(p, key), key }, v;
	int		 rc, found = 0, plen = p->plen;

	if ((rc = mdb_cursor_open(txn, st->dbi[table], &c)) != 0)
		return table_error(st, "cursor", rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size == kb + 1 &&
	    ((const uint8_t *)k.mv_data)[0] == plen) {
		memset(p, 0, sizeof(*p));
		p->family = r->family;
		p->plen = r->plen;
		memcpy(p->bytes, (const uint8_t *)k.mv_data + 1, kb);
		addr_mask(p);
		found = memcmp(p->bytes, r->bytes, sizeof(p->bytes)) == 0;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return table_error(st, "cursor", rc);
	return found;
}

/*
 * Whether the table holds any prefix of length plen inside r (plen >
 * r->plen).  Returns 1, 0, or -1 (logged).  Uses a cursor (which
 * allocates) only when r is wider than one bucket.
 */
int
table_any_within(MDB_txn *txn, const struct store *st, int table,
    const struct addr *r, int plen)
{
	struct addr p = *r;

	p.plen = plen;
	if ((size_t)r->plen >= key_bytes(r->family) * 8)
		return any_in_bucket(txn, st, table, r, &p);
	return any_bucket_within(txn, st, table, r, &p);
}
