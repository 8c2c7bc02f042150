/*
 * store.c -- the relaybl store on LMDB: opening, names, shared encodings
 *
 * One environment, eleven named tables (store_int.h has their layouts).
 * This file opens and checks the environment and holds the encodings that
 * readers and writers share: keys, records, queue entries.  Reading is
 * in store_read.c, single changes in store_write.c, bulk import in
 * store_bulk.c, and the prefix tables' bucket blobs in store_table.c.
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

static const struct {
	const char	*name;
	unsigned int	 flags;
} dbdefs[DB_COUNT] = {
	[DB_LIST4] = { "list4", 0 },
	[DB_LIST6] = { "list6", 0 },
	[DB_EXCL4] = { "excl4", 0 },
	[DB_EXCL6] = { "excl6", 0 },
	[DB_META] = { "meta", 0 },
	[DB_RECORDS] = { "records", MDB_INTEGERKEY },
	[DB_EVIDENCE] = { "evidence", MDB_INTEGERKEY },
	[DB_AUDIT] = { "audit", MDB_INTEGERKEY },
	[DB_AUDIT_IDX] = { "audit_idx", MDB_DUPSORT | MDB_DUPFIXED },
	[DB_QUEUE] = { "queue", 0 },
	[DB_QUEUE_ADDR] = { "queue_addr", 0 },
	[DB_JOURNAL] = { "journal", 0 },
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
static int	init_meta(struct store *);
static int	check_meta(struct store *);


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

const char *
store_lmdb_version(void)
{
	static char	buf[32];
	int		maj, min, patch;

	/* Numbers only: mdb_version()'s string carries a release date. */
	mdb_version(&maj, &min, &patch);
	snprintf(buf, sizeof(buf), "%d.%d.%d", maj, min, patch);
	return buf;
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

void
store_idx_key(const struct addr *a, uint8_t *key)
{
	memset(key, 0, IDX_KEY_LEN);
	key[0] = a->family;
	memcpy(key + 1, a->bytes, addr_len(a));
	key[17] = a->plen;
}

void
store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

uint64_t
store_get_be64(const uint8_t *p)
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
	st->map_size = map_size ? map_size : (uint64_t)4 << 30;
	st->journal_size = STORE_JOURNAL_SIZE;
	{
		/* Writers first: a remap must not wait for a lull in reads. */
		pthread_rwlockattr_t attr;
		pthread_rwlockattr_init(&attr);
		pthread_rwlockattr_setkind_np(&attr,
		    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&st->remap, &attr);
		pthread_rwlockattr_destroy(&attr);
	}
	store_fault_init(st);
	if (flags & STORE_CREATE) {
		if (mkdir(dir, 0770) == -1 && errno != EEXIST) {
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
	    (rc = mdb_env_set_mapsize(st->env, st->map_size)) != 0) {
		log_warnx("store %s: %s", dir, store_strerror(rc));
		goto err;
	}
	/*
	 * Never world-readable: evidence and who submitted what are in it.
	 * Through the umask, the group may read the data and take reader
	 * slots in lock.mdb, for a dnsbld running as another user (umask
	 * 007 gives that; 022 keeps the group to reading; 077, the owner).
	 */
	if ((rc = mdb_env_open(st->env, dir, envflags, 0660)) != 0) {
		log_warnx("cannot open store %s: %s", dir, store_strerror(rc));
		goto err;
	}
	mdb_reader_check(st->env, &dead);
	if (open_tables(st, flags) == -1)
		goto err;
	return st;
err:
	store_close(st);
	return NULL;
}

static int
open_tables(struct store *st, int flags)
{
	MDB_txn		*txn;
	unsigned int	 create = st->rdonly ? 0 : MDB_CREATE;
	int		 rc;

	if ((rc = mdb_txn_begin(st->env, NULL, st->rdonly ? MDB_RDONLY : 0,
	    &txn)) != 0) {
		log_warnx("store %s: %s", st->dir, store_strerror(rc));
		return -1;
	}
	for (int i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, dbdefs[i].name, dbdefs[i].flags | create,
		    &st->dbi[i]);
		/*
		 * The journal came later: a store no writer has opened since
		 * has none, and a reader answers IXFR in full (until it is
		 * started again after a writer made it).
		 */
		if (i == DB_JOURNAL) {
			st->has_journal = rc == 0;
			if (rc == MDB_NOTFOUND)
				continue;
		}
		if (rc != 0) {
			log_warnx("store %s: table %s: %s", st->dir,
			    dbdefs[i].name, rc == MDB_NOTFOUND ?
			    "missing (not a relaybl store?)" :
			    store_strerror(rc));
			mdb_txn_abort(txn);
			return -1;
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		log_warnx("store %s: %s", st->dir, store_strerror(rc));
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
	MDB_val		 k = { sizeof(STORE_META_KEY), (void *)STORE_META_KEY }, v;
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
		/* The journal begins with the store: IXFR from serial 1 on. */
		if (rc == 0)
			rc = journal_init(txn, st, m.serial);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		goto err;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto err;
	return 0;
err:
	log_warnx("store %s: cannot initialise: %s", st->dir,
	    store_strerror(rc));
	return -1;
}

static int
check_meta(struct store *st)
{
	MDB_txn		*txn;
	MDB_val		 k = { sizeof(STORE_META_KEY), (void *)STORE_META_KEY }, v;
	uint32_t	 schema;
	int		 rc;

	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0) {
		log_warnx("store %s: %s", st->dir, store_strerror(rc));
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
	pthread_rwlock_destroy(&st->remap);
	free(st);
}

int
store_load_meta(MDB_txn *txn, struct store *st, struct meta *m)
{
	MDB_val	k = { sizeof(STORE_META_KEY), (void *)STORE_META_KEY }, v;
	int	rc;

	if ((rc = mdb_get(txn, st->dbi[DB_META], &k, &v)) != 0 ||
	    v.mv_size != sizeof(*m)) {
		log_warnx("store %s: meta record unreadable: %s", st->dir,
		    rc ? store_strerror(rc) : "wrong size");
		return -1;
	}
	memcpy(m, v.mv_data, sizeof(*m));
	return 0;
}

/* --- Shared encodings ------------------------------------------------ */

void
store_decode_record(const MDB_val *v, struct store_listing *l)
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

int
store_get_record(MDB_txn *txn, struct store *st, uint32_t id, MDB_val *v)
{
	MDB_val	k = { sizeof(id), &id };
	int	rc;

	rc = mdb_get(txn, st->dbi[DB_RECORDS], &k, v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || v->mv_size < sizeof(struct record_disk)) {
		log_warnx("store: record %u: %s", id,
		    rc ? store_strerror(rc) : "truncated");
		return -1;
	}
	return 1;
}

int
store_record_kind(MDB_txn *txn, struct store *st, uint32_t id)
{
	MDB_val			v;
	struct record_disk	rd;
	int			rc;

	if ((rc = store_get_record(txn, st, id, &v)) != 1)
		return rc == 0 ? STORE_KIND_NONE : -1;
	memcpy(&rd, v.mv_data, sizeof(rd));
	return rd.kind;
}

void
store_decode_queue(const uint8_t *addrkey, const MDB_val *v,
    struct store_probe *p)
{
	struct queue_disk	qd;
	uint32_t		off;

	memset(p, 0, sizeof(*p));
	memcpy(&qd, v->mv_data, sizeof(qd));
	p->addr.family = addrkey[0];
	memcpy(p->addr.bytes, addrkey + 1, 16);
	p->addr.plen = addrkey[17];
	p->queued = qd.queued;
	p->reason = qd.reason;
	p->attempts = qd.attempts;
	p->running = qd.running != 0;
	p->deferred = qd.deferred != 0;
	off = (uint32_t)qd.born_after[0] << 16 |
	    (uint32_t)qd.born_after[1] << 8 | qd.born_after[2];
	p->deferred_born = off ? qd.queued + off : 0;
	memcpy(p->actor, qd.actor, sizeof(p->actor));
	p->actor[sizeof(p->actor) - 1] = '\0';
}

int
store_queue_lookup(MDB_txn *txn, struct store *st, const struct addr *a,
    struct store_probe *out)
{
	uint8_t	key[8 + IDX_KEY_LEN];
	MDB_val	k = { IDX_KEY_LEN, key + 8 }, v;
	int	rc;

	store_idx_key(a, key + 8);
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
	store_decode_queue(key + 8, &v, out);
	out->due = (int64_t)store_get_be64(key);
	return 1;
err:
	log_warnx("store queue: %s", rc ? store_strerror(rc) : "bad entry");
	return -1;
}
