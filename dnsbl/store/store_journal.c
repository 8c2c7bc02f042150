/*
 * store_journal.c -- what each commit changed, per serial, for IXFR
 *
 * Every commit that changes a prefix table writes one entry to the
 * journal table, under its new serial (4 bytes, big-endian, so the
 * entries are in commit order): the prefixes it changed, each with what
 * was there before (present or not, code, record, and the record's text,
 * since the record may be gone by the time a secondary asks).  What is
 * there now is the store itself, so a reader can rebuild any prefix as it
 * was at an older serial from the entries after it (dnsbl/dns/ixfr.c).
 *
 * The key "journal" of the meta table says from which serial on the
 * journal is complete ("from": it holds every change of the commits after
 * it), how many bytes the entries take, and the serial of the last commit
 * that changed a prefix ("last"): the zones' serial, which commits of the
 * probe queue alone do not move.  A new store starts the journal at
 * serial 1; a store written by a relaybl without the journal has no
 * "journal" key, and its first change starts it.  Pruning the oldest
 * entry moves "from" up to that entry's serial; a commit whose entry does
 * not fit, or any change when the size is 0, empties the journal and sets
 * "from" to the new serial.  A commit that changes no prefix writes
 * nothing: its serial needs no entry.
 *
 * Entry: a uint32 count, then per change a struct jent_disk and the
 * text (textlen bytes, no NUL).  A txn keeps its entry in memory while it
 * runs, at most the journal's size: a larger one (an import of a million
 * listings) is not kept at all, only marked as too large.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_int.h"

#define JOURNAL_META_KEY	"journal"

struct journal_meta {
	uint32_t	from;		/* complete for commits after this */
	uint32_t	last;		/* the last commit that changed a prefix:
					   the zones' serial */
	uint64_t	bytes;		/* of the entries */
};

struct jent_disk {
	uint8_t		table;
	uint8_t		plen;
	uint8_t		present;
	uint8_t		textlen;
	uint32_t	code;
	uint32_t	record;
	uint8_t		bytes[16];
};

void
store_set_journal_size(struct store *st, uint64_t bytes)
{
	st->journal_size = bytes;
}

static void
serial_key(uint32_t serial, uint8_t *k)
{
	k[0] = serial >> 24;
	k[1] = (serial >> 16) & 0xff;
	k[2] = (serial >> 8) & 0xff;
	k[3] = serial & 0xff;
}

static uint32_t
key_serial(const MDB_val *k)
{
	const uint8_t *p = k->mv_data;

	if (k->mv_size != 4)
		return 0;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* 1 with *jm filled, 0 when the store has no journal meta, -1. */
static int
load_jmeta(MDB_txn *txn, struct store *st, struct journal_meta *jm)
{
	MDB_val	k = { sizeof(JOURNAL_META_KEY), (void *)JOURNAL_META_KEY }, v;
	int	rc;

	if ((rc = mdb_get(txn, st->dbi[DB_META], &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || v.mv_size != sizeof(*jm)) {
		log_warnx("store %s: journal meta unreadable: %s", st->dir,
		    rc ? store_strerror(rc) : "wrong size");
		return -1;
	}
	memcpy(jm, v.mv_data, sizeof(*jm));
	return 1;
}

int
journal_stats(MDB_txn *txn, struct store *st, struct store_stats *s)
{
	struct journal_meta	jm;
	MDB_stat		ms;
	int			rc;

	s->zone_serial = journal_zone_serial(txn, st, s->serial);
	if (!st->has_journal || (rc = load_jmeta(txn, st, &jm)) == 0)
		return 0;
	if (rc == -1)
		return -1;
	s->journal = 1;
	s->journal_from = jm.from;
	s->journal_bytes = jm.bytes;
	if (mdb_stat(txn, st->dbi[DB_JOURNAL], &ms) == 0)
		s->journal_entries = ms.ms_entries;
	return 0;
}

int
journal_init(MDB_txn *txn, struct store *st, uint32_t serial)
{
	MDB_val			 k = { sizeof(JOURNAL_META_KEY),
				    (void *)JOURNAL_META_KEY }, v;
	struct journal_meta	 jm;

	memset(&jm, 0, sizeof(jm));
	jm.from = jm.last = serial;
	v.mv_size = sizeof(jm);
	v.mv_data = &jm;
	return mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
}

uint32_t
journal_zone_serial(MDB_txn *txn, struct store *st, uint32_t serial)
{
	struct journal_meta jm;

	if (!st->has_journal || load_jmeta(txn, st, &jm) != 1 || jm.last == 0)
		return serial;
	return jm.last;
}

int
journal_note(struct store_txn *t, int table, const struct addr *p,
    int present, const struct entry_val *old)
{
	struct jent_disk	 e;
	struct store_listing	 l;
	MDB_val			 v;
	size_t			 need;
	int			 rc;

	if (t->joverflow)
		return 0;
	memset(&e, 0, sizeof(e));
	e.table = (uint8_t)table;
	e.plen = p->plen;
	e.present = present != 0;
	memcpy(e.bytes, p->bytes, sizeof(e.bytes));
	l.text[0] = '\0';
	if (present) {
		e.code = old->code;
		e.record = old->record;
		if ((rc = store_get_record(t->txn, t->st, old->record, &v)) ==
		    -1)
			return store_failx(t, STORE_EFAIL);
		if (rc == 1)
			store_decode_record(&v, &l);
	}
	e.textlen = (uint8_t)strnlen(l.text, 255);
	need = (t->jlen ? t->jlen : sizeof(uint32_t)) + sizeof(e) + e.textlen;
	if (need > t->st->journal_size) {
		/* Not kept: the commit empties the journal instead. */
		t->joverflow = 1;
		free(t->jbuf);
		t->jbuf = NULL;
		t->jlen = t->jcap = 0;
		return 0;
	}
	if (need > t->jcap) {
		size_t ncap = t->jcap ? t->jcap * 2 : 4096;
		uint8_t *nb;
		while (ncap < need)
			ncap *= 2;
		if ((nb = realloc(t->jbuf, ncap)) == NULL) {
			log_warn("store journal");
			return store_failx(t, STORE_EFAIL);
		}
		t->jbuf = nb;
		t->jcap = ncap;
	}
	if (t->jlen == 0)
		t->jlen = sizeof(uint32_t);
	memcpy(t->jbuf + t->jlen, &e, sizeof(e));
	memcpy(t->jbuf + t->jlen + sizeof(e), l.text, e.textlen);
	t->jlen = need;
	t->jcount++;
	return 0;
}

/* Removes every entry; the journal starts again at serial. */
static int
journal_clear(struct store_txn *t, struct journal_meta *jm, uint32_t serial)
{
	int rc;

	/* Dropping nothing would still write: spare a full store that. */
	if (jm->bytes != 0 &&
	    (rc = mdb_drop(t->txn, t->st->dbi[DB_JOURNAL], 0)) != 0)
		return store_fail(t, "journal", rc);
	jm->from = serial;
	jm->bytes = 0;
	return 0;
}

/* Drops the oldest entries until the rest fit in the journal's size. */
static int
journal_prune(struct store_txn *t, struct journal_meta *jm)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	int		 rc;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[DB_JOURNAL], &c)) != 0)
		return store_fail(t, "journal", rc);
	while (jm->bytes > t->st->journal_size) {
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) != 0) {
			jm->bytes = 0;
			break;
		}
		jm->from = key_serial(&k);
		jm->bytes -= v.mv_size < jm->bytes ? v.mv_size : jm->bytes;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_fail(t, "journal", rc);
	return 0;
}

int
journal_commit(struct store_txn *t)
{
	MDB_val			 mk = { sizeof(JOURNAL_META_KEY),
				    (void *)JOURNAL_META_KEY }, k, v;
	struct journal_meta	 jm;
	uint32_t		 serial = t->meta.serial;	/* the new one */
	uint8_t			 key[4];
	int			 rc;

	if (!t->st->has_journal || (t->jcount == 0 && !t->joverflow))
		return 0;
	if ((rc = load_jmeta(t->txn, t->st, &jm)) == -1)
		return store_failx(t, STORE_EFAIL);
	if (rc == 0) {
		/* The first entry: complete from the serial before it. */
		memset(&jm, 0, sizeof(jm));
		jm.from = serial - 1;
	}
	if (t->joverflow || t->st->journal_size == 0 || serial <= jm.from) {
		/* Too large, no journal, or the serial wrapped. */
		if (journal_clear(t, &jm, serial) == -1)
			return -1;
	} else {
		memcpy(t->jbuf, &t->jcount, sizeof(t->jcount));
		serial_key(serial, key);
		k.mv_size = sizeof(key);
		k.mv_data = key;
		v.mv_size = t->jlen;
		v.mv_data = t->jbuf;
		if ((rc = store_mdb_put(t, DB_JOURNAL, &k, &v, MDB_APPEND)) !=
		    0)
			return store_fail(t, "journal", rc);
		jm.bytes += t->jlen;
		if (journal_prune(t, &jm) == -1)
			return -1;
	}
	jm.last = serial;
	v.mv_size = sizeof(jm);
	v.mv_data = &jm;
	if ((rc = store_mdb_put(t, DB_META, &mk, &v, 0)) != 0)
		return store_fail(t, "journal", rc);
	return 0;
}

int
store_journal_walk(struct store_reader *rd, uint32_t from,
    int (*fn)(uint32_t, const struct store_change *, void *), void *arg)
{
	struct store		*st = store_reader_store(rd);
	MDB_txn			*txn;
	MDB_cursor		*c = NULL;
	MDB_val			 k, v;
	struct journal_meta	 jm;
	struct store_change	 ch;
	struct jent_disk	 e;
	uint32_t		 serial, count;
	uint8_t			 key[4];
	int			 rc, ret = 1;

	if ((txn = store_reader_txn(rd)) == NULL)
		return -1;
	serial = store_reader_serial(rd);
	if (!st->has_journal || (rc = load_jmeta(txn, st, &jm)) == 0 ||
	    from < jm.from || from > serial) {
		store_reader_done(rd);
		return 0;
	}
	if (rc == -1 || (rc = mdb_cursor_open(txn, st->dbi[DB_JOURNAL],
	    &c)) != 0) {
		store_reader_done(rd);
		return -1;
	}
	serial_key(from, key);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint32_t s = key_serial(&k);
		size_t off = sizeof(count);
		if (s <= from)
			continue;
		if (v.mv_size < sizeof(count))
			goto corrupt;
		memcpy(&count, v.mv_data, sizeof(count));
		for (uint32_t i = 0; i < count; i++) {
			if (off + sizeof(e) > v.mv_size)
				goto corrupt;
			memcpy(&e, (uint8_t *)v.mv_data + off, sizeof(e));
			off += sizeof(e);
			if (off + e.textlen > v.mv_size || e.table > 3)
				goto corrupt;
			memset(&ch, 0, sizeof(ch));
			ch.prefix.family = TABLE_FAMILY(e.table);
			ch.prefix.plen = e.plen;
			memcpy(ch.prefix.bytes, e.bytes, sizeof(e.bytes));
			ch.excluded = TABLE_IS_EXCL(e.table);
			ch.present = e.present;
			ch.code = e.code;
			ch.record = e.record;
			memcpy(ch.text, (uint8_t *)v.mv_data + off, e.textlen);
			off += e.textlen;
			if (fn(s, &ch, arg) != 0) {
				ret = -1;
				goto done;
			}
		}
	}
	if (rc != MDB_NOTFOUND) {
		log_warnx("store %s: journal: %s", st->dir, store_strerror(rc));
		ret = -1;
	}
	goto done;
corrupt:
	log_warnx("store %s: journal entry %u is damaged", st->dir,
	    key_serial(&k));
	ret = -1;
done:
	mdb_cursor_close(c);
	store_reader_done(rd);
	return ret;
}
