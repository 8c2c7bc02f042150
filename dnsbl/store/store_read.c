/*
 * store_read.c -- reading the store: lookups, walks, history, stats
 *
 * Readers keep one read transaction each and reset/renew it around every
 * lookup or batch, so a lookup is a few mdb_get calls on a warm snapshot and
 * allocates nothing.  The prefix lengths in use per table are counted in the
 * meta value; a reader caches the list of them per snapshot (by txn id) and
 * probes only those lengths, longest first.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_int.h"

struct plenset {
	int		n;
	uint8_t		p[129];		/* descending */
};

struct store_reader {
	struct store	*st;
	MDB_txn		*txn;
	int		 active;	/* renewed, holds a snapshot */
	int		 depth;		/* calls using the snapshot now */
	int		 held;		/* by store_reader_begin */
	size_t		 txnid;		/* snapshot the cache below is for */
	uint32_t	 serial;
	uint32_t	 zone_serial;
	struct plenset	 plens[4];
};

static int	reader_snapshot(struct store_reader *);
static void	reader_release(struct store_reader *);
static int	lookup_table(struct store_reader *, int, const struct addr *,
		    struct store_hit *);
static void	decode_audit(uint64_t, const MDB_val *, struct store_audit *);
static int	audit_cmp_seq(const void *, const void *);

struct store_reader *
store_reader_new(struct store *st)
{
	struct store_reader	*rd;
	int			 rc;

	if ((rd = calloc(1, sizeof(*rd))) == NULL) {
		log_warn("store_reader_new");
		return NULL;
	}
	rd->st = st;
	rd->txnid = (size_t)-1;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &rd->txn)) != 0) {
		log_warnx("store %s: %s", st->dir, store_strerror(rc));
		free(rd);
		return NULL;
	}
	mdb_txn_reset(rd->txn);
	return rd;
}

void
store_reader_free(struct store_reader *rd)
{
	if (rd == NULL)
		return;
	mdb_txn_abort(rd->txn);
	free(rd);
}

/*
 * Takes the newest snapshot unless one is in use, and refreshes the cached
 * prefix lengths when the snapshot is a different one than last time.
 * Calls nest (a walk's callback may look records up through the same
 * reader): the snapshot is released when the outermost call releases it.
 */
static int
reader_snapshot(struct store_reader *rd)
{
	struct meta	m;
	int		rc;

	if (rd->active) {
		rd->depth++;
		return 0;
	}
	if (rd->st->rdonly)
		pthread_rwlock_rdlock(&rd->st->remap);
	/* A writer with a larger map_size may have grown the store. */
	if ((rc = mdb_txn_renew(rd->txn)) == MDB_MAP_RESIZED &&
	    store_adopt_mapsize(rd->st) == 0)
		rc = mdb_txn_renew(rd->txn);
	if (rc != 0) {
		if (rd->st->rdonly)
			pthread_rwlock_unlock(&rd->st->remap);
		log_warnx("store %s: %s", rd->st->dir, store_strerror(rc));
		return -1;
	}
	rd->active = 1;
	rd->depth = 1;
	/* Counted where one thread uses the store: see store_adopt_mapsize. */
	if (!rd->st->rdonly)
		rd->st->snapshots++;
	if (mdb_txn_id(rd->txn) == rd->txnid)
		return 0;
	if (store_load_meta(rd->txn, rd->st, &m) == -1) {
		reader_release(rd);
		return -1;
	}
	for (int t = 0; t < 4; t++) {
		struct plenset *ps = &rd->plens[t];
		ps->n = 0;
		for (int p = (t & 1) ? 128 : 32; p >= 0; p--)
			if (m.plens[t][p] != 0)
				ps->p[ps->n++] = p;
	}
	rd->serial = m.serial;
	rd->zone_serial = journal_zone_serial(rd->txn, rd->st, m.serial);
	rd->txnid = mdb_txn_id(rd->txn);
	return 0;
}

static void
reader_release(struct store_reader *rd)
{
	if (rd->active && --rd->depth <= 0) {
		mdb_txn_reset(rd->txn);
		rd->active = 0;
		rd->depth = 0;
		if (!rd->st->rdonly)
			rd->st->snapshots--;
		else
			pthread_rwlock_unlock(&rd->st->remap);
	}
}

int
store_reader_begin(struct store_reader *rd)
{
	if (rd->held)
		return 0;
	if (reader_snapshot(rd) == -1)
		return -1;
	rd->held = 1;
	return 0;
}

void
store_reader_end(struct store_reader *rd)
{
	if (!rd->held)
		return;
	rd->held = 0;
	reader_release(rd);
}

static int
lookup_table(struct store_reader *rd, int t, const struct addr *a,
    struct store_hit *hit)
{
	const struct plenset	*ps = &rd->plens[t];
	struct addr		 p = *a;
	struct entry_val	 ev;
	size_t			 alen = addr_len(a);
	int			 rc;

	for (int i = 0; i < ps->n; i++) {
		int len = ps->p[i];
		if (len > a->plen)
			continue;
		/* Descending lengths: each mask narrows the last one. */
		for (size_t b = len / 8; b < alen; b++)
			p.bytes[b] &= b == (size_t)len / 8 ?
			    (uint8_t)(0xff00 >> (len % 8)) : 0;
		p.plen = len;
		if ((rc = table_get(rd->txn, rd->st, t, &p, &ev)) == 0)
			continue;
		if (rc == -1)
			return -1;
		hit->prefix = p;
		hit->code = ev.code;
		hit->record = ev.record;
		return 1;
	}
	return 0;
}

int
store_lookup(struct store_reader *rd, const struct addr *a,
    struct store_hit *hit)
{
	int rc;

	memset(hit, 0, sizeof(*hit));
	if (a->family != ADDR_V4 && a->family != ADDR_V6)
		return 0;
	if (reader_snapshot(rd) == -1)
		return -1;
	rc = lookup_table(rd, TABLE(1, a->family), a, hit);
	if (rc == 1) {
		hit->excluded = 1;
		hit->code = 0;
		rc = 0;
	} else if (rc == 0)
		rc = lookup_table(rd, TABLE(0, a->family), a, hit);
	reader_release(rd);
	return rc;
}

int
store_lookup_range(struct store_reader *rd, const struct addr *r)
{
	struct store_hit	 hit;
	const struct plenset	*ps;
	int			 rc;

	if (r->family != ADDR_V4 && r->family != ADDR_V6)
		return 0;
	if (reader_snapshot(rd) == -1)
		return -1;
	memset(&hit, 0, sizeof(hit));
	/* Wholly excluded, or wholly inside a listing? */
	rc = lookup_table(rd, TABLE(1, r->family), r, &hit);
	if (rc == 0)
		rc = lookup_table(rd, TABLE(0, r->family), r, &hit);
	else if (rc == 1)
		rc = 0;
	else
		goto done;
	if (rc != 0 || hit.excluded)
		goto done;
	ps = &rd->plens[TABLE(0, r->family)];
	for (int i = 0; i < ps->n && rc == 0; i++)
		if (ps->p[i] > r->plen)
			rc = table_any_within(rd->txn, rd->st,
			    TABLE(0, r->family), r, ps->p[i]);
done:
	reader_release(rd);
	return rc;
}

uint32_t
store_serial(struct store_reader *rd)
{
	uint32_t serial;

	if (reader_snapshot(rd) == -1)
		return 0;
	serial = rd->serial;
	reader_release(rd);
	return serial;
}

uint32_t
store_zone_serial(struct store_reader *rd)
{
	uint32_t serial;

	if (reader_snapshot(rd) == -1)
		return 0;
	serial = rd->zone_serial;
	reader_release(rd);
	return serial;
}



int
store_record(struct store_reader *rd, uint32_t id, struct store_listing *out)
{
	MDB_val	v;
	int	rc;

	if (reader_snapshot(rd) == -1)
		return -1;
	if ((rc = store_get_record(rd->txn, rd->st, id, &v)) == 1)
		store_decode_record(&v, out);
	reader_release(rd);
	return rc;
}


int
store_walk(struct store_reader *rd, int excluded,
    int (*fn)(const struct addr *, uint32_t, uint32_t, void *), void *arg)
{
	MDB_cursor		*c;
	MDB_val			 k, v;
	struct blob		 b;
	struct addr		 a;
	struct entry_val	 ev;
	int			 rc, ret = 0;

	if (reader_snapshot(rd) == -1)
		return -1;
	for (int fam = 0; fam < 2 && ret == 0; fam++) {
		int t = TABLE(excluded, fam ? ADDR_V6 : ADDR_V4);
		if ((rc = mdb_cursor_open(rd->txn, rd->st->dbi[t], &c)) != 0) {
			log_warnx("store walk: %s", store_strerror(rc));
			ret = -1;
			break;
		}
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 &&
		    ret == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			table_blob_open(&v, &b);
			for (size_t i = 0; i < b.count && ret == 0; i++) {
				table_blob_item(&b, i, TABLE_FAMILY(t),
				    *(uint8_t *)k.mv_data, &a, &ev);
				ret = fn(&a, ev.code, ev.record, arg);
			}
		}
		if (rc != 0 && rc != MDB_NOTFOUND) {
			log_warnx("store walk: %s", store_strerror(rc));
			ret = -1;
		}
		mdb_cursor_close(c);
	}
	reader_release(rd);
	return ret;
}

static void
decode_audit(uint64_t seq, const MDB_val *v, struct store_audit *out)
{
	struct audit_disk	 ad;
	const char		*s = (const char *)v->mv_data + sizeof(ad);
	size_t			 left = v->mv_size - sizeof(ad), n;

	memcpy(&ad, v->mv_data, sizeof(ad));
	memset(out, 0, sizeof(*out));
	out->seq = seq;
	out->time = ad.time;
	out->serial = ad.serial;
	out->action = ad.action;
	out->reason = ad.reason;
	out->code = ad.code;
	out->addr.family = ad.family;
	out->addr.plen = ad.plen;
	memcpy(out->addr.bytes, ad.bytes, sizeof(ad.bytes));
	n = strnlen(s, left);
	snprintf(out->actor, sizeof(out->actor), "%.*s", (int)n, s);
	if (n < left) {
		s += n + 1;
		left -= n + 1;
		snprintf(out->text, sizeof(out->text), "%.*s",
		    (int)strnlen(s, left), s);
	}
}

static int
audit_cmp_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Collects the audit seqs indexed under prefix a into *seqs. */
static int
history_collect(struct store_reader *rd, const struct addr *a,
    uint64_t **seqs, size_t *n, size_t *cap)
{
	MDB_cursor	*c;
	uint8_t		 key[IDX_KEY_LEN];
	MDB_val		 k = { IDX_KEY_LEN, key }, v;
	int		 rc;

	store_idx_key(a, key);
	if (mdb_cursor_open(rd->txn, rd->st->dbi[DB_AUDIT_IDX], &c) != 0)
		return -1;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			uint64_t *p = reallocarray(*seqs, ncap, sizeof(*p));
			if (p == NULL) {
				mdb_cursor_close(c);
				return -1;
			}
			*seqs = p;
			*cap = ncap;
		}
		(*seqs)[(*n)++] = store_get_be64(v.mv_data);
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

int
store_history(struct store_reader *rd, const struct addr *a,
    int (*fn)(const struct store_audit *, void *), void *arg)
{
	struct store_audit	 au;
	struct addr		 p;
	uint64_t		*seqs = NULL;
	size_t			 n = 0, cap = 0;
	MDB_val			 k, v;
	int			 ret = -1;

	if (reader_snapshot(rd) == -1)
		return -1;
	for (int plen = 0; plen <= a->plen; plen++) {
		p = *a;
		p.plen = plen;
		addr_mask(&p);
		if (history_collect(rd, &p, &seqs, &n, &cap) == -1) {
			log_warnx("store history: cannot read the index");
			goto done;
		}
	}
	if (n > 0)
		qsort(seqs, n, sizeof(*seqs), audit_cmp_seq);
	for (size_t i = 0; i < n; i++) {
		k.mv_size = sizeof(uint64_t);
		k.mv_data = &seqs[i];
		if (mdb_get(rd->txn, rd->st->dbi[DB_AUDIT], &k, &v) != 0 ||
		    v.mv_size < sizeof(struct audit_disk))
			continue;
		decode_audit(seqs[i], &v, &au);
		if (fn(&au, arg) != 0)
			break;
	}
	ret = (int)n;
done:
	free(seqs);
	reader_release(rd);
	return ret;
}

int
store_audit_walk(struct store_reader *rd, uint64_t first,
    int (*fn)(const struct store_audit *, void *), void *arg)
{
	MDB_cursor		*c;
	MDB_val			 k = { sizeof(first), &first }, v;
	struct store_audit	 au;
	uint64_t		 seq;
	int			 rc, n = 0;

	if (reader_snapshot(rd) == -1)
		return -1;
	if (mdb_cursor_open(rd->txn, rd->st->dbi[DB_AUDIT], &c) != 0) {
		reader_release(rd);
		return -1;
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (v.mv_size < sizeof(struct audit_disk))
			continue;
		memcpy(&seq, k.mv_data, sizeof(seq));
		decode_audit(seq, &v, &au);
		n++;
		if (fn(&au, arg) != 0)
			break;
	}
	mdb_cursor_close(c);
	reader_release(rd);
	return rc == 0 || rc == MDB_NOTFOUND ? n : -1;
}

int
store_evidence(struct store_reader *rd, uint64_t id, void *buf, size_t size,
    size_t *len)
{
	MDB_val	k = { sizeof(id), &id }, v;
	int	rc;

	if (reader_snapshot(rd) == -1)
		return -1;
	rc = mdb_get(rd->txn, rd->st->dbi[DB_EVIDENCE], &k, &v);
	if (rc == 0) {
		*len = v.mv_size;
		if (size > 0)	/* size 0 asks only for the length */
			memcpy(buf, v.mv_data, v.mv_size < size ? v.mv_size :
			    size);
	}
	reader_release(rd);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		log_warnx("store evidence: %s", store_strerror(rc));
		return -1;
	}
	return rc == 0;
}

int
store_queue_get(struct store_reader *rd, const struct addr *a,
    struct store_probe *out)
{
	int rc;

	if (reader_snapshot(rd) == -1)
		return -1;
	rc = store_queue_lookup(rd->txn, rd->st, a, out);
	reader_release(rd);
	return rc;
}

int
store_queue_walk(struct store_reader *rd,
    int (*fn)(const struct store_probe *, void *), void *arg)
{
	MDB_cursor		*c;
	MDB_val			 k, v;
	struct store_probe	 p;
	int			 rc;

	if (reader_snapshot(rd) == -1)
		return -1;
	if (mdb_cursor_open(rd->txn, rd->st->dbi[DB_QUEUE], &c) != 0) {
		reader_release(rd);
		return -1;
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 + IDX_KEY_LEN ||
		    v.mv_size != sizeof(struct queue_disk))
			continue;
		store_decode_queue((const uint8_t *)k.mv_data + 8, &v, &p);
		p.due = (int64_t)store_get_be64(k.mv_data);
		if (fn(&p, arg) != 0)
			break;
	}
	mdb_cursor_close(c);
	reader_release(rd);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

/* Pages on the free list: the sum of the page-number lists in table 0. */
static uint64_t
free_pages(MDB_txn *txn)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	uint64_t	 n = 0;
	size_t		 cnt;

	if (mdb_cursor_open(txn, 0, &c) != 0)
		return 0;
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		memcpy(&cnt, v.mv_data, sizeof(cnt));
		n += cnt;
	}
	mdb_cursor_close(c);
	return n;
}

int
store_stats(struct store_reader *rd, struct store_stats *s)
{
	struct meta	m;
	MDB_envinfo	ei;
	MDB_stat	ms;
	char		path[4200];
	struct stat	sb;

	memset(s, 0, sizeof(*s));
	if (reader_snapshot(rd) == -1)
		return -1;
	if (store_load_meta(rd->txn, rd->st, &m) == -1) {
		reader_release(rd);
		return -1;
	}
	s->serial = m.serial;
	if (journal_stats(rd->txn, rd->st, s) == -1) {
		reader_release(rd);
		return -1;
	}
	for (int f = 0; f < 2; f++) {
		s->listings[f] = m.count[f];
		s->exclusions[f] = m.count[2 + f];
	}
	for (int k = 0; k < STORE_KIND_MAX; k++)
		s->by_kind[k] = m.by_kind[k];
	s->records = m.records;
	s->audit = m.next_audit - 1;
	s->queued = m.queued;
	mdb_env_info(rd->st->env, &ei);
	mdb_env_stat(rd->st->env, &ms);
	s->page_size = ms.ms_psize;
	s->pages_free = free_pages(rd->txn);
	s->pages_used = ei.me_last_pgno + 1 - s->pages_free;
	reader_release(rd);
	snprintf(path, sizeof(path), "%s/data.mdb", rd->st->dir);
	if (stat(path, &sb) == 0)
		s->file_bytes = (uint64_t)sb.st_size;
	return 0;
}

/*
 * Scans: one stream per (table, prefix length) in use, each a cursor over
 * the buckets of that length (their keys start with the length, so they
 * are adjacent and in address order) and a position in the current blob.
 */
struct scan_stream {
	MDB_cursor	*c;
	struct blob	 b;
	size_t		 i;
	int		 table;
	uint8_t		 plen;
	int		 done;
	int		 limited;	/* only items inside lim */
	struct addr	 lim;
};

struct store_scan {
	struct store_reader	*rd;
	int			 n;
	struct scan_stream	 s[2 * 129];
};

/* Ends a limited stream whose current item lies outside its limit. */
static void
scan_limit(struct scan_stream *s)
{
	struct addr	a;
	struct entry_val ev;

	if (s->done || !s->limited)
		return;
	table_blob_item(&s->b, s->i, TABLE_FAMILY(s->table), s->plen, &a,
	    &ev);
	if (!addr_contains(&s->lim, &a))
		s->done = 1;
}

/*
 * Moves stream s to its next blob (op MDB_SET_RANGE first, then NEXT),
 * at its first item, or (from, for a limited stream's first blob) the
 * first item not before from.
 */
static int
scan_blob(struct scan_stream *s, MDB_cursor_op op, const struct addr *from)
{
	uint8_t	key[KEY_MAX] = { s->plen, 0, 0 };
	MDB_val	k = { 1, key }, v;
	int	rc, found;

	if (from != NULL)
		k.mv_size = table_key(from, key);
	key[0] = s->plen;
	for (;;) {
		if ((rc = mdb_cursor_get(s->c, &k, &v, op)) != 0) {
			s->done = 1;
			if (rc == MDB_NOTFOUND)
				return 0;
			log_warnx("store scan: %s", store_strerror(rc));
			return -1;
		}
		if (k.mv_size < 1 || *(uint8_t *)k.mv_data != s->plen) {
			s->done = 1;
			return 0;
		}
		table_blob_open(&v, &s->b);
		/* Where from would be, when the cursor found its bucket. */
		s->i = 0;
		if (from != NULL && k.mv_size == table_key(from, key) &&
		    memcmp((uint8_t *)k.mv_data + 1, key + 1,
		    k.mv_size - 1) == 0)
			s->i = table_blob_find(&s->b, from, &found);
		from = NULL;
		if (s->i < s->b.count) {
			scan_limit(s);
			return 0;
		}
		op = MDB_NEXT;
	}
}

/* A scan of family, or of the items inside or over r (r not NULL). */
static struct store_scan *
scan_new(struct store_reader *rd, int family, const struct addr *r)
{
	struct store_scan	*sc;
	int			 rc;

	if ((sc = calloc(1, sizeof(*sc))) == NULL) {
		log_warn("store_scan_new");
		return NULL;
	}
	sc->rd = rd;
	if (reader_snapshot(rd) == -1) {
		free(sc);
		return NULL;
	}
	for (int excl = 0; excl < 2; excl++) {
		int t = TABLE(excl, family);
		const struct plenset *ps = &rd->plens[t];
		for (int j = 0; j < ps->n; j++) {
			struct scan_stream *s = &sc->s[sc->n];
			s->table = t;
			s->plen = ps->p[j];
			if ((rc = mdb_cursor_open(rd->txn, rd->st->dbi[t],
			    &s->c)) != 0) {
				log_warnx("store scan: %s", store_strerror(rc));
				goto fail;
			}
			sc->n++;
			if (r != NULL) {
				/* Inside r, or the one item covering it. */
				s->limited = 1;
				s->lim = *r;
				if (s->plen < r->plen) {
					s->lim.plen = s->plen;
					addr_mask(&s->lim);
				}
			}
			if (scan_blob(s, MDB_SET_RANGE, r != NULL ? &s->lim :
			    NULL) == -1)
				goto fail;
		}
	}
	return sc;
fail:
	store_scan_free(sc);
	return NULL;
}

struct store_scan *
store_scan_new(struct store_reader *rd, int family)
{
	return scan_new(rd, family, NULL);
}

struct store_scan *
store_scan_range(struct store_reader *rd, const struct addr *r)
{
	return scan_new(rd, r->family, r);
}

MDB_txn *
store_reader_txn(struct store_reader *rd)
{
	return reader_snapshot(rd) == -1 ? NULL : rd->txn;
}

void
store_reader_done(struct store_reader *rd)
{
	reader_release(rd);
}

uint32_t
store_reader_serial(const struct store_reader *rd)
{
	return rd->serial;
}

struct store *
store_reader_store(const struct store_reader *rd)
{
	return rd->st;
}

/* Whether stream a's current item comes before b's. */
static int
scan_before(const struct scan_stream *a, const struct scan_stream *b,
    size_t alen)
{
	size_t	isize = alen + sizeof(struct entry_val);
	int	c = memcmp(a->b.items + a->i * isize, b->b.items + b->i * isize,
		    alen);

	if (c != 0)
		return c < 0;
	if (a->plen != b->plen)
		return a->plen < b->plen;
	return TABLE_IS_EXCL(a->table) && !TABLE_IS_EXCL(b->table);
}

int
store_scan_next(struct store_scan *sc, struct store_item *out)
{
	struct scan_stream	*best = NULL;
	struct entry_val	 ev;

	for (int j = 0; j < sc->n; j++) {
		struct scan_stream *s = &sc->s[j];
		if (s->done)
			continue;
		if (best == NULL || scan_before(s, best,
		    TABLE_FAMILY(s->table) == ADDR_V4 ? 4 : 16))
			best = s;
	}
	if (best == NULL)
		return 0;
	memset(out, 0, sizeof(*out));
	table_blob_item(&best->b, best->i, TABLE_FAMILY(best->table),
	    best->plen, &out->prefix, &ev);
	out->excluded = TABLE_IS_EXCL(best->table);
	out->code = out->excluded ? 0 : ev.code;
	out->record = ev.record;
	if (++best->i >= best->b.count) {
		if (scan_blob(best, MDB_NEXT, NULL) == -1)
			return -1;
	} else
		scan_limit(best);
	return 1;
}

void
store_scan_free(struct store_scan *sc)
{
	if (sc == NULL)
		return;
	for (int j = 0; j < sc->n; j++)
		mdb_cursor_close(sc->s[j].c);
	reader_release(sc->rd);
	free(sc);
}
