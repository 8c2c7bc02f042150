/*
 * store.c -- the relaybl store on LMDB: opening, reading, single changes
 *
 * One environment, eleven named tables (store_int.h has their layouts).
 * Readers keep one read transaction each and reset/renew it around every
 * lookup or batch, so a lookup is a few mdb_get calls on a warm snapshot and
 * allocates nothing.  The prefix lengths in use per table are counted in the
 * meta value; a reader caches the list of them per snapshot (by txn id) and
 * probes only those lengths, longest first.
 *
 * Writers accumulate record reference-count changes and counters in the
 * txn and apply them at commit, together with the serial increment, so a
 * commit is one atomic step whatever it changed.  Bulk import is in
 * store_bulk.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	int		 held;		/* by store_reader_begin */
	size_t		 txnid;		/* snapshot the cache below is for */
	MDB_cursor	*cur[4];	/* per prefix table, renewed lazily */
	int		 cur_ok[4];	/* cur[i] belongs to this snapshot */
	uint32_t	 serial;
	struct plenset	 plens[4];
};

static const struct {
	const char	*name;
	unsigned int	 flags;
} dbdefs[DB_COUNT] = {
	[DB_LIST4] = { "list4", MDB_DUPSORT | MDB_DUPFIXED },
	[DB_LIST6] = { "list6", MDB_DUPSORT | MDB_DUPFIXED },
	[DB_EXCL4] = { "excl4", MDB_DUPSORT | MDB_DUPFIXED },
	[DB_EXCL6] = { "excl6", MDB_DUPSORT | MDB_DUPFIXED },
	[DB_META] = { "meta", 0 },
	[DB_RECORDS] = { "records", MDB_INTEGERKEY },
	[DB_EVIDENCE] = { "evidence", MDB_INTEGERKEY },
	[DB_AUDIT] = { "audit", MDB_INTEGERKEY },
	[DB_AUDIT_IDX] = { "audit_idx", MDB_DUPSORT | MDB_DUPFIXED },
	[DB_QUEUE] = { "queue", 0 },
	[DB_QUEUE_ADDR] = { "queue_addr", 0 },
};

static const char *kind_names[STORE_KIND_MAX] = {
	"none", "relay", "egress", "manual", "import", "exclusion"
};
static const char *action_names[STORE_AUDIT_MAX] = {
	"?", "list", "unlist", "exclude", "unexclude", "import", "expire",
	"probe", "queue"
};
static const char *reason_names[STORE_PROBE_MAX] = {
	"?", "submit", "retest", "delist"
};

static int	open_tables(struct store *, int);
static void	share_files(struct store *);
static int	init_meta(struct store *);
static int	check_meta(struct store *);
static int	reader_snapshot(struct store_reader *);
static void	reader_release(struct store_reader *);
static int	load_meta(MDB_txn *, struct store *, struct meta *);
static int	lookup_table(struct store_reader *, int, const struct addr *,
		    struct store_hit *);
static void	idx_key(const struct addr *, uint8_t *);
static void	be64(uint8_t *, uint64_t);
static uint64_t	get_be64(const uint8_t *);
static int	apply_deltas(struct store_txn *);
static void	decode_record(const MDB_val *, struct store_listing *);
static void	decode_audit(uint64_t, const MDB_val *, struct store_audit *);
static void	decode_queue(const uint8_t *, const MDB_val *,
		    struct store_probe *);
static int	audit_cmp_seq(const void *, const void *);

static const char META_KEY[] = "meta";

const char *
store_kind_name(int k)
{
	return k >= 0 && k < STORE_KIND_MAX ? kind_names[k] : "?";
}

const char *
store_action_name(int a)
{
	return a > 0 && a < STORE_AUDIT_MAX ? action_names[a] : "?";
}

const char *
store_reason_name(int r)
{
	return r > 0 && r < STORE_PROBE_MAX ? reason_names[r] : "?";
}

int
store_kind_parse(const char *s)
{
	for (int k = 1; k < STORE_KIND_MAX; k++)
		if (strcmp(s, kind_names[k]) == 0)
			return k;
	return -1;
}

/* --- Keys ------------------------------------------------------------ */

static void
idx_key(const struct addr *a, uint8_t *key)
{
	memset(key, 0, IDX_KEY_LEN);
	key[0] = a->family;
	memcpy(key + 1, a->bytes, addr_len(a));
	key[17] = a->plen;
}

static void
be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* --- Opening --------------------------------------------------------- */

struct store *
store_open(const char *dir, int flags, uint64_t map_size)
{
	struct store	*st;
	char		 path[4200];
	struct stat	 sb;
	unsigned int	 envflags = MDB_NOTLS;
	int		 rc, dead;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		log_warn("store_open");
		return NULL;
	}
	snprintf(st->dir, sizeof(st->dir), "%s", dir);
	st->rdonly = (flags & STORE_RDONLY) != 0;
	if (flags & STORE_CREATE) {
		if (mkdir(dir, 0775) == -1 && errno != EEXIST) {
			log_warn("cannot create store directory %s", dir);
			goto err;
		}
	} else {
		snprintf(path, sizeof(path), "%s/data.mdb", dir);
		if (stat(path, &sb) == -1) {
			log_warnx("no store in %s (create it with "
			    "\"dnsblctl init\")", dir);
			goto err;
		}
	}
	if (st->rdonly)
		envflags |= MDB_RDONLY;
	if ((rc = mdb_env_create(&st->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(st->env, DB_COUNT + 2)) != 0 ||
	    (rc = mdb_env_set_maxreaders(st->env, 1022)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env, map_size ? map_size :
	    (uint64_t)4 << 30)) != 0) {
		log_warnx("store %s: %s", dir, mdb_strerror(rc));
		goto err;
	}
	/* Group-writable so dnsbld (another user) can take reader slots. */
	if ((rc = mdb_env_open(st->env, dir, envflags, 0664)) != 0) {
		log_warnx("cannot open store %s: %s", dir, mdb_strerror(rc));
		goto err;
	}
	mdb_reader_check(st->env, &dead);
	if (!st->rdonly)
		share_files(st);
	if (open_tables(st, flags) == -1)
		goto err;
	return st;
err:
	store_close(st);
	return NULL;
}

/*
 * The umask may have narrowed the mode given to mdb_env_open; other users
 * (dnsbld after -u) need write access to lock.mdb for their reader slots.
 */
static void
share_files(struct store *st)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	char		path[4200];
	struct stat	sb;

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", st->dir, files[i]);
		if (stat(path, &sb) == 0 && sb.st_uid == geteuid() &&
		    (sb.st_mode & 0664) != 0664)
			chmod(path, (sb.st_mode & 07777) | 0664);
	}
}

static int
open_tables(struct store *st, int flags)
{
	MDB_txn		*txn;
	unsigned int	 create = st->rdonly ? 0 : MDB_CREATE;
	int		 rc;

	if ((rc = mdb_txn_begin(st->env, NULL, st->rdonly ? MDB_RDONLY : 0,
	    &txn)) != 0) {
		log_warnx("store %s: %s", st->dir, mdb_strerror(rc));
		return -1;
	}
	for (int i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, dbdefs[i].name, dbdefs[i].flags | create,
		    &st->dbi[i]);
		if (rc != 0) {
			log_warnx("store %s: table %s: %s", st->dir,
			    dbdefs[i].name, rc == MDB_NOTFOUND ?
			    "missing (not a relaybl store?)" :
			    mdb_strerror(rc));
			mdb_txn_abort(txn);
			return -1;
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		log_warnx("store %s: %s", st->dir, mdb_strerror(rc));
		return -1;
	}
	if ((flags & STORE_CREATE) && init_meta(st) == -1)
		return -1;
	return check_meta(st);
}

/* Writes the first meta value unless the store already has one. */
static int
init_meta(struct store *st)
{
	MDB_txn		*txn;
	MDB_val		 k = { sizeof(META_KEY), (void *)META_KEY }, v;
	struct meta	 m;
	int		 rc;

	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		goto err;
	rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		memset(&m, 0, sizeof(m));
		m.schema = STORE_SCHEMA;
		m.serial = 1;
		m.next_record = 1;
		m.next_audit = 1;
		m.next_evidence = 1;
		v.mv_size = sizeof(m);
		v.mv_data = &m;
		rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		goto err;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto err;
	return 0;
err:
	log_warnx("store %s: cannot initialise: %s", st->dir, mdb_strerror(rc));
	return -1;
}

static int
check_meta(struct store *st)
{
	MDB_txn		*txn;
	MDB_val		 k = { sizeof(META_KEY), (void *)META_KEY }, v;
	uint32_t	 schema;
	int		 rc;

	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0) {
		log_warnx("store %s: %s", st->dir, mdb_strerror(rc));
		return -1;
	}
	rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
	if (rc != 0 || v.mv_size < sizeof(schema)) {
		mdb_txn_abort(txn);
		log_warnx("store %s: no meta record (not initialised; run "
		    "\"dnsblctl init\")", st->dir);
		return -1;
	}
	memcpy(&schema, v.mv_data, sizeof(schema));
	mdb_txn_abort(txn);
	if (schema != STORE_SCHEMA || v.mv_size != sizeof(struct meta)) {
		log_warnx("store %s: schema version %u, this program reads "
		    "version %u", st->dir, schema, STORE_SCHEMA);
		return -1;
	}
	return 0;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->env != NULL)
		mdb_env_close(st->env);
	free(st);
}

static int
load_meta(MDB_txn *txn, struct store *st, struct meta *m)
{
	MDB_val	k = { sizeof(META_KEY), (void *)META_KEY }, v;
	int	rc;

	if ((rc = mdb_get(txn, st->dbi[DB_META], &k, &v)) != 0 ||
	    v.mv_size != sizeof(*m)) {
		log_warnx("store %s: meta record unreadable: %s", st->dir,
		    rc ? mdb_strerror(rc) : "wrong size");
		return -1;
	}
	memcpy(m, v.mv_data, sizeof(*m));
	return 0;
}

/* --- Reading --------------------------------------------------------- */

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
		log_warnx("store %s: %s", st->dir, mdb_strerror(rc));
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
	for (int t = 0; t < 4; t++)
		if (rd->cur[t] != NULL)
			mdb_cursor_close(rd->cur[t]);
	mdb_txn_abort(rd->txn);
	free(rd);
}

/*
 * Takes the newest snapshot unless one is held, and refreshes the cached
 * prefix lengths when the snapshot is a different one than last time.
 */
static int
reader_snapshot(struct store_reader *rd)
{
	struct meta	m;
	int		rc;

	if (rd->active)
		return 0;
	if ((rc = mdb_txn_renew(rd->txn)) != 0) {
		log_warnx("store %s: %s", rd->st->dir, mdb_strerror(rc));
		return -1;
	}
	rd->active = 1;
	if (mdb_txn_id(rd->txn) == rd->txnid)
		return 0;
	if (load_meta(rd->txn, rd->st, &m) == -1) {
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
	rd->txnid = mdb_txn_id(rd->txn);
	return 0;
}

static void
reader_release(struct store_reader *rd)
{
	if (rd->active && !rd->held) {
		mdb_txn_reset(rd->txn);
		rd->active = 0;
		memset(rd->cur_ok, 0, sizeof(rd->cur_ok));
	}
}

int
store_reader_begin(struct store_reader *rd)
{
	if (reader_snapshot(rd) == -1)
		return -1;
	rd->held = 1;
	return 0;
}

void
store_reader_end(struct store_reader *rd)
{
	rd->held = 0;
	reader_release(rd);
}

/* The reader's cursor on table t, bound to the current snapshot. */
static MDB_cursor *
reader_cursor(struct store_reader *rd, int t)
{
	int rc;

	if (rd->cur_ok[t])
		return rd->cur[t];
	if (rd->cur[t] == NULL)
		rc = mdb_cursor_open(rd->txn, rd->st->dbi[t], &rd->cur[t]);
	else
		rc = mdb_cursor_renew(rd->txn, rd->cur[t]);
	if (rc != 0) {
		log_warnx("store lookup: %s", mdb_strerror(rc));
		return NULL;
	}
	rd->cur_ok[t] = 1;
	return rd->cur[t];
}

static int
lookup_table(struct store_reader *rd, int t, const struct addr *a,
    struct store_hit *hit)
{
	const struct plenset	*ps = &rd->plens[t];
	MDB_cursor		*c;
	struct addr		 p = *a;
	struct entry_val	 ev;
	size_t			 alen = addr_len(a);
	int			 rc;

	if (ps->n == 0)
		return 0;
	if ((c = reader_cursor(rd, t)) == NULL)
		return -1;
	for (int i = 0; i < ps->n; i++) {
		int len = ps->p[i];
		if (len > a->plen)
			continue;
		/* Descending lengths: each mask narrows the last one. */
		for (size_t b = len / 8; b < alen; b++)
			p.bytes[b] &= b == (size_t)len / 8 ?
			    (uint8_t)(0xff00 >> (len % 8)) : 0;
		p.plen = len;
		rc = table_seek(c, &p, &ev);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0) {
			log_warnx("store lookup: %s", mdb_strerror(rc));
			return -1;
		}
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

static void
decode_record(const MDB_val *v, struct store_listing *l)
{
	struct record_disk	 rd;
	const char		*s = (const char *)v->mv_data + sizeof(rd);
	size_t			 left = v->mv_size - sizeof(rd), n;

	memcpy(&rd, v->mv_data, sizeof(rd));
	memset(l, 0, sizeof(*l));
	l->code = rd.code;
	l->kind = rd.kind;
	l->first_listed = rd.first_listed;
	l->last_confirmed = rd.last_confirmed;
	l->expires = rd.expires;
	l->evidence = rd.evidence;
	n = strnlen(s, left);
	snprintf(l->source, sizeof(l->source), "%.*s", (int)n, s);
	if (n < left) {
		s += n + 1;
		left -= n + 1;
		snprintf(l->text, sizeof(l->text), "%.*s",
		    (int)strnlen(s, left), s);
	}
}

static int
get_record(MDB_txn *txn, struct store *st, uint32_t id, MDB_val *v)
{
	MDB_val	k = { sizeof(id), &id };
	int	rc;

	rc = mdb_get(txn, st->dbi[DB_RECORDS], &k, v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || v->mv_size < sizeof(struct record_disk)) {
		log_warnx("store: record %u: %s", id,
		    rc ? mdb_strerror(rc) : "truncated");
		return -1;
	}
	return 1;
}

int
store_record(struct store_reader *rd, uint32_t id, struct store_listing *out)
{
	MDB_val	v;
	int	rc;

	if (reader_snapshot(rd) == -1)
		return -1;
	if ((rc = get_record(rd->txn, rd->st, id, &v)) == 1)
		decode_record(&v, out);
	reader_release(rd);
	return rc;
}

int
store_record_kind(MDB_txn *txn, struct store *st, uint32_t id)
{
	MDB_val			v;
	struct record_disk	rd;
	int			rc;

	if ((rc = get_record(txn, st, id, &v)) != 1)
		return rc == 0 ? STORE_KIND_NONE : -1;
	memcpy(&rd, v.mv_data, sizeof(rd));
	return rd.kind;
}

int
store_walk(struct store_reader *rd, int excluded,
    int (*fn)(const struct addr *, uint32_t, uint32_t, void *), void *arg)
{
	MDB_cursor		*c;
	MDB_val			 k, v;
	struct addr		 a;
	struct entry_val	 ev;
	int			 rc, ret = 0;

	if (reader_snapshot(rd) == -1)
		return -1;
	for (int fam = 0; fam < 2 && ret == 0; fam++) {
		int t = TABLE(excluded, fam ? ADDR_V6 : ADDR_V4);
		if ((rc = mdb_cursor_open(rd->txn, rd->st->dbi[t], &c)) != 0) {
			log_warnx("store walk: %s", mdb_strerror(rc));
			ret = -1;
			break;
		}
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			table_item_decode(*(uint8_t *)k.mv_data, &v, &a, &ev);
			if ((ret = fn(&a, ev.code, ev.record, arg)) != 0)
				break;
		}
		if (rc != 0 && rc != MDB_NOTFOUND) {
			log_warnx("store walk: %s", mdb_strerror(rc));
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

	idx_key(a, key);
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
		(*seqs)[(*n)++] = get_be64(v.mv_data);
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
		memcpy(buf, v.mv_data, v.mv_size < size ? v.mv_size : size);
	}
	reader_release(rd);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		log_warnx("store evidence: %s", mdb_strerror(rc));
		return -1;
	}
	return rc == 0;
}

static void
decode_queue(const uint8_t *addrkey, const MDB_val *v, struct store_probe *p)
{
	struct queue_disk	qd;

	memset(p, 0, sizeof(*p));
	memcpy(&qd, v->mv_data, sizeof(qd));
	p->addr.family = addrkey[0];
	memcpy(p->addr.bytes, addrkey + 1, 16);
	p->addr.plen = addrkey[17];
	p->queued = qd.queued;
	p->reason = qd.reason;
	p->attempts = qd.attempts;
	memcpy(p->actor, qd.actor, sizeof(p->actor));
	p->actor[sizeof(p->actor) - 1] = '\0';
}

static int
queue_get(MDB_txn *txn, struct store *st, const struct addr *a,
    struct store_probe *out)
{
	uint8_t	key[8 + IDX_KEY_LEN];
	MDB_val	k = { IDX_KEY_LEN, key + 8 }, v;
	int	rc;

	idx_key(a, key + 8);
	rc = mdb_get(txn, st->dbi[DB_QUEUE_ADDR], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || v.mv_size != 8)
		goto err;
	memcpy(key, v.mv_data, 8);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	if ((rc = mdb_get(txn, st->dbi[DB_QUEUE], &k, &v)) != 0 ||
	    v.mv_size != sizeof(struct queue_disk))
		goto err;
	decode_queue(key + 8, &v, out);
	out->due = (int64_t)get_be64(key);
	return 1;
err:
	log_warnx("store queue: %s", rc ? mdb_strerror(rc) : "bad entry");
	return -1;
}

int
store_queue_get(struct store_reader *rd, const struct addr *a,
    struct store_probe *out)
{
	int rc;

	if (reader_snapshot(rd) == -1)
		return -1;
	rc = queue_get(rd->txn, rd->st, a, out);
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
		decode_queue((const uint8_t *)k.mv_data + 8, &v, &p);
		p.due = (int64_t)get_be64(k.mv_data);
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
	if (load_meta(rd->txn, rd->st, &m) == -1) {
		reader_release(rd);
		return -1;
	}
	s->serial = m.serial;
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

/* --- Writing --------------------------------------------------------- */

int
store_fail(struct store_txn *t, const char *what, int rc)
{
	log_warnx("store %s: %s: %s", t->st->dir, what,
	    rc == MDB_MAP_FULL ? "store is full (raise map_size)" :
	    mdb_strerror(rc));
	t->failed = 1;
	return -1;
}

struct store_txn *
store_begin(struct store *st, const char *actor)
{
	struct store_txn	*t;
	int			 rc;

	if (st->rdonly) {
		log_warnx("store %s: opened read-only", st->dir);
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		log_warn("store_begin");
		return NULL;
	}
	t->st = st;
	t->now = time(NULL);
	snprintf(t->actor, sizeof(t->actor), "%s", actor ? actor : "?");
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &t->txn)) != 0) {
		log_warnx("store %s: %s", st->dir, mdb_strerror(rc));
		free(t);
		return NULL;
	}
	if (load_meta(t->txn, st, &t->meta) == -1) {
		mdb_txn_abort(t->txn);
		free(t);
		return NULL;
	}
	return t;
}

void
store_txn_settime(struct store_txn *t, int64_t now)
{
	t->now = now;
}

void
store_abort(struct store_txn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	free(t->deltas);
	free(t);
}

int
store_commit(struct store_txn *t)
{
	MDB_val	k = { sizeof(META_KEY), (void *)META_KEY }, v;
	int	rc;

	if (t->failed || apply_deltas(t) == -1)
		goto err;
	if (++t->meta.serial == 0)
		t->meta.serial = 1;
	v.mv_size = sizeof(t->meta);
	v.mv_data = &t->meta;
	if ((rc = mdb_put(t->txn, t->st->dbi[DB_META], &k, &v, 0)) != 0) {
		store_fail(t, "commit", rc);
		goto err;
	}
	rc = mdb_txn_commit(t->txn);
	t->txn = NULL;
	if (rc != 0) {
		log_warnx("store %s: commit: %s", t->st->dir,
		    rc == MDB_MAP_FULL ? "store is full (raise map_size)" :
		    mdb_strerror(rc));
		free(t->deltas);
		free(t);
		return -1;
	}
	free(t->deltas);
	free(t);
	return 0;
err:
	store_abort(t);
	return -1;
}

int
store_ref(struct store_txn *t, uint32_t id, int32_t delta)
{
	if (t->ndeltas == t->capdeltas) {
		size_t ncap = t->capdeltas ? t->capdeltas * 2 : 16;
		struct refdelta *p = reallocarray(t->deltas, ncap,
		    sizeof(*p));
		if (p == NULL) {
			log_warn("store");
			t->failed = 1;
			return -1;
		}
		t->deltas = p;
		t->capdeltas = ncap;
	}
	t->deltas[t->ndeltas].id = id;
	t->deltas[t->ndeltas].delta = delta;
	t->ndeltas++;
	return 0;
}

static int
delta_cmp(const void *a, const void *b)
{
	const struct refdelta *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Applies reference count changes; records nobody uses are removed. */
static int
apply_deltas(struct store_txn *t)
{
	struct record_disk	rd;
	MDB_val			k, v;
	size_t			i, j;
	int64_t			sum;
	int			rc;

	if (t->ndeltas == 0)
		return 0;
	qsort(t->deltas, t->ndeltas, sizeof(*t->deltas), delta_cmp);
	for (i = 0; i < t->ndeltas; i = j) {
		uint32_t id = t->deltas[i].id;
		for (sum = 0, j = i; j < t->ndeltas &&
		    t->deltas[j].id == id; j++)
			sum += t->deltas[j].delta;
		if ((rc = get_record(t->txn, t->st, id, &v)) != 1)
			continue;
		memcpy(&rd, v.mv_data, sizeof(rd));
		sum += rd.refs;
		k.mv_size = sizeof(id);
		k.mv_data = &id;
		if (sum <= 0) {
			if ((rc = mdb_del(t->txn, t->st->dbi[DB_RECORDS], &k,
			    NULL)) != 0)
				return store_fail(t, "record", rc);
			t->meta.records--;
			continue;
		}
		if (sum == rd.refs)
			continue;
		/* Reserve and copy: v points into the map, not ours. */
		MDB_val nv = { v.mv_size, NULL };
		const void *old = v.mv_data;
		char buf[sizeof(rd) + STORE_SOURCE_MAX + STORE_TEXT_MAX];
		memcpy(buf, old, v.mv_size < sizeof(buf) ? v.mv_size :
		    sizeof(buf));
		rd.refs = (uint32_t)sum;
		memcpy(buf, &rd, sizeof(rd));
		nv.mv_data = buf;
		if ((rc = mdb_put(t->txn, t->st->dbi[DB_RECORDS], &k, &nv,
		    0)) != 0)
			return store_fail(t, "record", rc);
	}
	t->ndeltas = 0;
	return 0;
}

int
store_record_new(struct store_txn *t, const struct store_listing *l,
    uint32_t *id)
{
	struct record_disk	rd;
	char			buf[sizeof(rd) + STORE_SOURCE_MAX +
				    STORE_TEXT_MAX];
	size_t			ns = strnlen(l->source, STORE_SOURCE_MAX - 1);
	size_t			nt = strnlen(l->text, STORE_TEXT_MAX - 1);
	MDB_val			k = { sizeof(*id), id }, v;
	int			rc;

	memset(&rd, 0, sizeof(rd));
	rd.code = l->code;
	rd.kind = l->kind;
	rd.first_listed = l->first_listed ? l->first_listed : t->now;
	rd.last_confirmed = l->last_confirmed;
	rd.expires = l->expires;
	rd.evidence = l->evidence;
	memcpy(buf, &rd, sizeof(rd));
	memcpy(buf + sizeof(rd), l->source, ns);
	buf[sizeof(rd) + ns] = '\0';
	memcpy(buf + sizeof(rd) + ns + 1, l->text, nt);
	buf[sizeof(rd) + ns + 1 + nt] = '\0';
	v.mv_size = sizeof(rd) + ns + nt + 2;
	v.mv_data = buf;
	*id = t->meta.next_record++;
	if ((rc = mdb_put(t->txn, t->st->dbi[DB_RECORDS], &k, &v,
	    MDB_APPEND)) != 0)
		return store_fail(t, "record", rc);
	t->meta.records++;
	return 0;
}

void
store_count(struct store_txn *t, int table, int plen, int delta)
{
	t->meta.count[table] += delta;
	t->meta.plens[table][plen] += delta;
}

static int
valid_prefix(const struct addr *p)
{
	struct addr m = *p;

	if ((p->family != ADDR_V4 && p->family != ADDR_V6) ||
	    p->plen > addr_maxplen(p))
		return 0;
	addr_mask(&m);
	return memcmp(&m.bytes, p->bytes, sizeof(m.bytes)) == 0;
}

int
store_list(struct store_txn *t, const struct addr *p,
    const struct store_listing *l)
{
	uint32_t	id;
	char		text[STORE_TEXT_MAX + 16];	/* audit truncates */

	if (!valid_prefix(p) || (l->code >> 24) != 127 ||
	    l->kind == STORE_KIND_NONE || l->kind >= STORE_KIND_EXCLUSION) {
		log_warnx("store_list: invalid prefix, code or kind");
		return -1;
	}
	if (store_record_new(t, l, &id) == -1 ||
	    table_put(t, TABLE(0, p->family), p, l->code, id, l->kind) == -1)
		return -1;
	snprintf(text, sizeof(text), "%s: %s", store_kind_name(l->kind),
	    l->text);
	return store_audit_put(t, STORE_AUDIT_LIST, p, l->code, text);
}

int
store_unlist(struct store_txn *t, const struct addr *p, const char *why)
{
	int rc;

	if (!valid_prefix(p))
		return -1;
	if ((rc = table_del(t, TABLE(0, p->family), p)) != 1)
		return rc;
	if (store_audit_put(t, STORE_AUDIT_UNLIST, p, 0, why) == -1)
		return -1;
	return 1;
}

int
store_exclude(struct store_txn *t, const struct addr *p, const char *why)
{
	struct store_listing	l;
	uint32_t		id;

	if (!valid_prefix(p))
		return -1;
	memset(&l, 0, sizeof(l));
	l.kind = STORE_KIND_EXCLUSION;
	snprintf(l.source, sizeof(l.source), "%s", t->actor);
	snprintf(l.text, sizeof(l.text), "%s", why ? why : "");
	if (store_record_new(t, &l, &id) == -1 ||
	    table_put(t, TABLE(1, p->family), p, 0, id, l.kind) == -1)
		return -1;
	return store_audit_put(t, STORE_AUDIT_EXCLUDE, p, 0, why);
}

int
store_unexclude(struct store_txn *t, const struct addr *p, const char *why)
{
	int rc;

	if (!valid_prefix(p))
		return -1;
	if ((rc = table_del(t, TABLE(1, p->family), p)) != 1)
		return rc;
	if (store_audit_put(t, STORE_AUDIT_UNEXCLUDE, p, 0, why) == -1)
		return -1;
	return 1;
}

int
store_txn_get(struct store_txn *t, const struct addr *p,
    struct store_listing *out)
{
	MDB_cursor		*c;
	MDB_val			 v;
	struct entry_val	 ev;
	int			 rc;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[TABLE(0, p->family)],
	    &c)) != 0)
		return store_fail(t, "get", rc);
	rc = table_seek(c, p, &ev);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail(t, "get", rc);
	if ((rc = get_record(t->txn, t->st, ev.record, &v)) != 1)
		return rc;
	decode_record(&v, out);
	out->code = ev.code;
	return 1;
}

int
store_audit_put(struct store_txn *t, int action, const struct addr *a,
    uint32_t code, const char *text)
{
	struct audit_disk	ad;
	char			buf[sizeof(ad) + STORE_SOURCE_MAX +
				    STORE_TEXT_MAX];
	size_t			na = strnlen(t->actor, STORE_SOURCE_MAX - 1);
	size_t			nt = text ? strnlen(text, STORE_TEXT_MAX - 1) : 0;
	uint64_t		seq = t->meta.next_audit;
	uint8_t			ikey[IDX_KEY_LEN], iseq[8];
	MDB_val			k = { sizeof(seq), &seq }, v;
	int			rc;

	memset(&ad, 0, sizeof(ad));
	ad.time = t->now;
	ad.serial = t->meta.serial + 1;
	ad.code = code;
	ad.action = action;
	if (a != NULL) {
		ad.family = a->family;
		ad.plen = a->plen;
		memcpy(ad.bytes, a->bytes, sizeof(ad.bytes));
	}
	memcpy(buf, &ad, sizeof(ad));
	memcpy(buf + sizeof(ad), t->actor, na);
	buf[sizeof(ad) + na] = '\0';
	if (nt)
		memcpy(buf + sizeof(ad) + na + 1, text, nt);
	buf[sizeof(ad) + na + 1 + nt] = '\0';
	v.mv_size = sizeof(ad) + na + nt + 2;
	v.mv_data = buf;
	if ((rc = mdb_put(t->txn, t->st->dbi[DB_AUDIT], &k, &v,
	    MDB_APPEND)) != 0)
		return store_fail(t, "audit", rc);
	t->meta.next_audit++;
	if (a == NULL || a->family == 0)
		return 0;
	idx_key(a, ikey);
	be64(iseq, seq);
	k.mv_size = sizeof(ikey);
	k.mv_data = ikey;
	v.mv_size = sizeof(iseq);
	v.mv_data = iseq;
	if ((rc = mdb_put(t->txn, t->st->dbi[DB_AUDIT_IDX], &k, &v, 0)) != 0)
		return store_fail(t, "audit index", rc);
	return 0;
}

int
store_audit_add(struct store_txn *t, int action, const struct addr *a,
    uint32_t code, const char *text)
{
	if (action <= 0 || action >= STORE_AUDIT_MAX)
		return -1;
	return store_audit_put(t, action, a, code, text);
}

int
store_evidence_put(struct store_txn *t, const void *blob, size_t len,
    uint64_t *id)
{
	uint64_t	seq = t->meta.next_evidence;
	MDB_val		k = { sizeof(seq), &seq }, v = { len, (void *)blob };
	int		rc;

	if ((rc = mdb_put(t->txn, t->st->dbi[DB_EVIDENCE], &k, &v,
	    MDB_APPEND)) != 0)
		return store_fail(t, "evidence", rc);
	t->meta.next_evidence++;
	*id = seq;
	return 0;
}

int
store_txn_queue_get(struct store_txn *t, const struct addr *a,
    struct store_probe *out)
{
	return queue_get(t->txn, t->st, a, out);
}

int
store_queue_del(struct store_txn *t, const struct addr *a)
{
	uint8_t	key[8 + IDX_KEY_LEN];
	MDB_val	k = { IDX_KEY_LEN, key + 8 }, v;
	int	rc;

	idx_key(a, key + 8);
	rc = mdb_get(t->txn, t->st->dbi[DB_QUEUE_ADDR], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || v.mv_size != 8)
		return store_fail(t, "queue", rc ? rc : MDB_CORRUPTED);
	memcpy(key, v.mv_data, 8);
	if ((rc = mdb_del(t->txn, t->st->dbi[DB_QUEUE_ADDR], &k, NULL)) != 0)
		return store_fail(t, "queue", rc);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	rc = mdb_del(t->txn, t->st->dbi[DB_QUEUE], &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_fail(t, "queue", rc);
	t->meta.queued--;
	return 1;
}

int
store_queue_put(struct store_txn *t, const struct store_probe *p)
{
	uint8_t			key[8 + IDX_KEY_LEN];
	struct queue_disk	qd;
	MDB_val			k, v;
	int			rc;

	if (!valid_prefix(&p->addr) || p->due < 0)
		return -1;
	if (store_queue_del(t, &p->addr) == -1)
		return -1;
	be64(key, (uint64_t)p->due);
	idx_key(&p->addr, key + 8);
	memset(&qd, 0, sizeof(qd));
	qd.queued = p->queued ? p->queued : t->now;
	qd.reason = p->reason;
	qd.attempts = p->attempts;
	snprintf(qd.actor, sizeof(qd.actor), "%s", p->actor[0] ? p->actor :
	    t->actor);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	v.mv_size = sizeof(qd);
	v.mv_data = &qd;
	if ((rc = mdb_put(t->txn, t->st->dbi[DB_QUEUE], &k, &v, 0)) != 0)
		return store_fail(t, "queue", rc);
	k.mv_size = IDX_KEY_LEN;
	k.mv_data = key + 8;
	v.mv_size = 8;
	v.mv_data = key;
	if ((rc = mdb_put(t->txn, t->st->dbi[DB_QUEUE_ADDR], &k, &v, 0)) != 0)
		return store_fail(t, "queue", rc);
	t->meta.queued++;
	return 0;
}
