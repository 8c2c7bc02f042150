/*
 * store_write.c -- changing the store: transactions and single changes
 *
 * Writers accumulate record reference-count changes and counters in the
 * txn and apply them at commit, together with the serial increment, so a
 * commit is one atomic step whatever it changed.
 *
 * LMDB's error codes become a message and an enum store_error here, in
 * store_strerror() and store_translate(), and nowhere else.  Every put and
 * delete of a write txn goes through store_mdb_put()/store_mdb_del(),
 * where a test build can inject failures (fault()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_int.h"

static int	apply_deltas(struct store_txn *);
static int	fault(struct store *);
static int	audit_put(struct store_txn *, int, const struct addr *, int,
	    uint32_t, const char *);

enum store_error
store_translate(int rc)
{
	switch (rc) {
	case 0:
		return STORE_OK;
	case MDB_MAP_FULL:
	case ENOSPC:
		return STORE_EFULL;
	default:
		return STORE_EFAIL;
	}
}

const char *
store_strerror(int rc)
{
	switch (rc) {
	case MDB_MAP_FULL:
		return "store is full (raise map_size)";
	case MDB_TXN_FULL:
		return "transaction too large for the store";
	default:
		return mdb_strerror(rc);
	}
}

enum store_error
store_error(const struct store *st)
{
	return st->error;
}

/* Fails the txn for good with reason e (the first reason stays). */
int
store_failx(struct store_txn *t, enum store_error e)
{
	if (!t->failed) {
		t->failed = 1;
		t->st->error = e;
	}
	return -1;
}

int
store_fail(struct store_txn *t, const char *what, int rc)
{
	log_warnx("store %s: %s: %s", t->st->dir, what, store_strerror(rc));
	return store_failx(t, store_translate(rc));
}

int
store_invalid(struct store_txn *t, const char *what)
{
	log_warnx("store %s: %s: invalid argument", t->st->dir, what);
	return store_failx(t, STORE_EINVAL);
}

/*
 * Test builds only: RELAYBL_STORE_FAIL_AFTER and RELAYBL_STORE_FAIL_COUNT
 * (store.h).  Returns MDB_MAP_FULL for a write that is to fail, else 0.
 */
static int
fault(struct store *st)
{
	if (st->fault_after < 0)
		return 0;
	if (st->fault_after > 0) {
		st->fault_after--;
		return 0;
	}
	if (st->fault_count == 0)
		return 0;
	if (st->fault_count > 0)
		st->fault_count--;
	return MDB_MAP_FULL;
}

void
store_fault_init(struct store *st)
{
	st->fault_after = -1;
#ifdef STORE_FAULTS
	const char *after = getenv("RELAYBL_STORE_FAIL_AFTER");
	const char *count = getenv("RELAYBL_STORE_FAIL_COUNT");

	if (after == NULL || *after == '\0')
		return;
	st->fault_after = strtol(after, NULL, 10);
	st->fault_count = count && *count ? strtol(count, NULL, 10) : -1;
#endif
}

int
store_mdb_put(struct store_txn *t, int db, MDB_val *k, MDB_val *v,
    unsigned int flags)
{
	int rc;

	if ((rc = fault(t->st)) != 0)
		return rc;
	return mdb_put(t->txn, t->st->dbi[db], k, v, flags);
}

int
store_mdb_del(struct store_txn *t, int db, MDB_val *k)
{
	int rc;

	if ((rc = fault(t->st)) != 0)
		return rc;
	return mdb_del(t->txn, t->st->dbi[db], k, NULL);
}

int
store_adopt_mapsize(struct store *st)
{
	MDB_envinfo	info;
	int		rc;

	if (st->rdonly) {
		/*
		 * Called holding the remap lock shared (reader_snapshot):
		 * trade it for the exclusive one, so that no thread reads
		 * while the map moves, then take it shared again.
		 */
		pthread_rwlock_unlock(&st->remap);
		pthread_rwlock_wrlock(&st->remap);
		rc = mdb_env_set_mapsize(st->env, 0);
		pthread_rwlock_unlock(&st->remap);
		pthread_rwlock_rdlock(&st->remap);
		if (rc == 0)
			log_info("store %s: the store grew; mapped its new "
			    "size", st->dir);
		return rc == 0 ? 0 : -1;
	}
	if (st->snapshots > 0)
		return -1;
	if (mdb_env_set_mapsize(st->env, 0) != 0 ||
	    mdb_env_info(st->env, &info) != 0)
		return -1;
	if (info.me_mapsize < st->map_size &&
	    mdb_env_set_mapsize(st->env, st->map_size) != 0)
		return -1;
	return 0;
}

/* Ends t; after "full", maps a larger size that another process set. */
static void
txn_free(struct store_txn *t)
{
	struct store *st = t->st;

	if (t->txn != NULL)
		mdb_txn_abort(t->txn);
	free(t->deltas);
	free(t->jbuf);
	free(t);
	if (st->error == STORE_EFULL)
		store_adopt_mapsize(st);
}

struct store_txn *
store_begin(struct store *st, const char *actor)
{
	struct store_txn	*t;
	int			 rc;

	if (st->rdonly) {
		log_warnx("store %s: opened read-only", st->dir);
		st->error = STORE_EINVAL;
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		log_warn("store_begin");
		st->error = STORE_EFAIL;
		return NULL;
	}
	t->st = st;
	t->now = time(NULL);
	snprintf(t->actor, sizeof(t->actor), "%s", actor ? actor : "?");
	/* A writer with a larger map_size may have grown the store. */
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &t->txn)) ==
	    MDB_MAP_RESIZED && store_adopt_mapsize(st) == 0)
		rc = mdb_txn_begin(st->env, NULL, 0, &t->txn);
	if (rc != 0) {
		log_warnx("store %s: %s", st->dir, store_strerror(rc));
		st->error = store_translate(rc);
		free(t);
		return NULL;
	}
	if (store_load_meta(t->txn, st, &t->meta) == -1) {
		mdb_txn_abort(t->txn);
		st->error = STORE_EFAIL;
		free(t);
		return NULL;
	}
	st->error = STORE_OK;
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
	if (t != NULL)
		txn_free(t);
}

int
store_commit(struct store_txn *t)
{
	MDB_val	k = { sizeof(STORE_META_KEY), (void *)STORE_META_KEY }, v;
	int	rc;

	if (t->failed || apply_deltas(t) == -1)
		goto err;
	if (++t->meta.serial == 0)
		t->meta.serial = 1;
	if (journal_commit(t) == -1)
		goto err;
	v.mv_size = sizeof(t->meta);
	v.mv_data = &t->meta;
	if ((rc = store_mdb_put(t, DB_META, &k, &v, 0)) != 0 ||
	    (rc = fault(t->st)) != 0) {
		store_fail(t, "commit", rc);
		goto err;
	}
	/* LMDB frees the txn whether or not the commit succeeds. */
	rc = mdb_txn_commit(t->txn);
	t->txn = NULL;
	if (rc != 0) {
		store_fail(t, "commit", rc);
		goto err;
	}
	txn_free(t);
	return 0;
err:
	txn_free(t);
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
			return store_failx(t, STORE_EFAIL);
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
		if ((rc = store_get_record(t->txn, t->st, id, &v)) == -1)
			return store_failx(t, STORE_EFAIL);
		if (rc == 0)
			continue;
		memcpy(&rd, v.mv_data, sizeof(rd));
		sum += rd.refs;
		k.mv_size = sizeof(id);
		k.mv_data = &id;
		if (sum <= 0) {
			if ((rc = store_mdb_del(t, DB_RECORDS, &k)) != 0)
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
		if ((rc = store_mdb_put(t, DB_RECORDS, &k, &nv,
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
	if ((rc = store_mdb_put(t, DB_RECORDS, &k, &v,
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

	if (t->failed)
		return -1;
	if (!valid_prefix(p) || (l->code >> 24) != 127 ||
	    l->kind == STORE_KIND_NONE || l->kind >= STORE_KIND_EXCLUSION)
		return store_invalid(t, "list: prefix, code or kind");
	if (store_record_new(t, l, &id) == -1 ||
	    table_put(t, TABLE(0, p->family), p, l->code, id, l->kind) == -1)
		return -1;
	snprintf(text, sizeof(text), "%s%s%s", store_kind_name(l->kind),
	    l->text[0] ? ": " : "", l->text);
	return store_audit_put(t, STORE_AUDIT_LIST, p, l->code, text);
}

int
store_unlist(struct store_txn *t, const struct addr *p, const char *why)
{
	int rc;

	if (t->failed)
		return -1;
	if (!valid_prefix(p))
		return store_invalid(t, "unlist: prefix");
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

	if (t->failed)
		return -1;
	if (!valid_prefix(p))
		return store_invalid(t, "exclude: prefix");
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

	if (t->failed)
		return -1;
	if (!valid_prefix(p))
		return store_invalid(t, "unexclude: prefix");
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
	MDB_val			 v;
	struct entry_val	 ev;
	int			 rc;

	if (t->failed)
		return -1;
	if ((rc = table_get(t->txn, t->st, TABLE(0, p->family), p, &ev)) != 1)
		return rc == -1 ? store_failx(t, STORE_EFAIL) : 0;
	if ((rc = store_get_record(t->txn, t->st, ev.record, &v)) != 1)
		return rc == -1 ? store_failx(t, STORE_EFAIL) : rc;
	store_decode_record(&v, out);
	out->code = ev.code;
	return 1;
}

int
store_audit_put(struct store_txn *t, int action, const struct addr *a,
    uint32_t code, const char *text)
{
	return audit_put(t, action, a, 0, code, text);
}

/* The reason goes into what was a pad byte: old entries read as 0. */
static int
audit_put(struct store_txn *t, int action, const struct addr *a, int reason,
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
	ad.reason = reason;
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
	if ((rc = store_mdb_put(t, DB_AUDIT, &k, &v,
	    MDB_APPEND)) != 0)
		return store_fail(t, "audit", rc);
	t->meta.next_audit++;
	if (a == NULL || a->family == 0)
		return 0;
	store_idx_key(a, ikey);
	store_be64(iseq, seq);
	k.mv_size = sizeof(ikey);
	k.mv_data = ikey;
	v.mv_size = sizeof(iseq);
	v.mv_data = iseq;
	if ((rc = store_mdb_put(t, DB_AUDIT_IDX, &k, &v, 0)) != 0)
		return store_fail(t, "audit index", rc);
	return 0;
}

int
store_audit_add(struct store_txn *t, int action, const struct addr *a,
    uint32_t code, const char *text)
{
	if (t->failed)
		return -1;
	if (action <= 0 || action >= STORE_AUDIT_MAX)
		return store_invalid(t, "audit: action");
	return store_audit_put(t, action, a, code, text);
}

int
store_audit_probe(struct store_txn *t, int action, const struct addr *a,
    int reason, uint32_t code, const char *text)
{
	if (t->failed)
		return -1;
	if (action != STORE_AUDIT_PROBE && action != STORE_AUDIT_QUEUE)
		return store_invalid(t, "audit: action");
	if (reason <= 0 || reason >= STORE_PROBE_MAX)
		return store_invalid(t, "audit: reason");
	return audit_put(t, action, a, reason, code, text);
}

int
store_evidence_put(struct store_txn *t, const void *blob, size_t len,
    uint64_t *id)
{
	uint64_t	seq = t->meta.next_evidence;
	MDB_val		k = { sizeof(seq), &seq }, v = { len, (void *)blob };
	int		rc;

	if (t->failed)
		return -1;
	if ((rc = store_mdb_put(t, DB_EVIDENCE, &k, &v,
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
	int rc;

	if (t->failed)
		return -1;
	if ((rc = store_queue_lookup(t->txn, t->st, a, out)) == -1)
		return store_failx(t, STORE_EFAIL);
	return rc;
}

int
store_queue_del(struct store_txn *t, const struct addr *a)
{
	uint8_t	key[8 + IDX_KEY_LEN];
	MDB_val	k = { IDX_KEY_LEN, key + 8 }, v;
	int	rc;

	if (t->failed)
		return -1;
	store_idx_key(a, key + 8);
	rc = mdb_get(t->txn, t->st->dbi[DB_QUEUE_ADDR], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || v.mv_size != 8)
		return store_fail(t, "queue", rc ? rc : MDB_CORRUPTED);
	memcpy(key, v.mv_data, 8);
	if ((rc = store_mdb_del(t, DB_QUEUE_ADDR, &k)) != 0)
		return store_fail(t, "queue", rc);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	rc = store_mdb_del(t, DB_QUEUE, &k);
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

	if (t->failed)
		return -1;
	if (!valid_prefix(&p->addr) || p->due < 0)
		return store_invalid(t, "queue: address or due time");
	if (store_queue_del(t, &p->addr) == -1)
		return -1;
	store_be64(key, (uint64_t)p->due);
	store_idx_key(&p->addr, key + 8);
	memset(&qd, 0, sizeof(qd));
	qd.queued = p->queued ? p->queued : t->now;
	qd.reason = p->reason;
	qd.attempts = p->attempts;
	qd.running = p->running != 0;
	qd.deferred = p->deferred != 0;
	if (p->deferred_born > qd.queued &&
	    p->deferred_born - qd.queued < (1 << 24)) {
		uint32_t off = (uint32_t)(p->deferred_born - qd.queued);
		qd.born_after[0] = (uint8_t)(off >> 16);
		qd.born_after[1] = (uint8_t)(off >> 8);
		qd.born_after[2] = (uint8_t)off;
	}
	snprintf(qd.actor, sizeof(qd.actor), "%s", p->actor[0] ? p->actor :
	    t->actor);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	v.mv_size = sizeof(qd);
	v.mv_data = &qd;
	if ((rc = store_mdb_put(t, DB_QUEUE, &k, &v, 0)) != 0)
		return store_fail(t, "queue", rc);
	k.mv_size = IDX_KEY_LEN;
	k.mv_data = key + 8;
	v.mv_size = 8;
	v.mv_data = key;
	if ((rc = store_mdb_put(t, DB_QUEUE_ADDR, &k, &v, 0)) != 0)
		return store_fail(t, "queue", rc);
	t->meta.queued++;
	return 0;
}
