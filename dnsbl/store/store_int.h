/*
 * store_int.h -- what the files of the store module share, private to it
 *
 * The on-disk layout of every table lives here, next to the structs and
 * functions that store.c (opening, encodings), store_read.c, store_write.c,
 * store_bulk.c and store_table.c (the prefix tables) pass between them.
 * Nothing outside dnsbl/store/ includes this file: LMDB stays inside the
 * module.
 */
#ifndef RELAYBL_STORE_INT_H
#define RELAYBL_STORE_INT_H

#include <pthread.h>

#include <lmdb.h>

#include "store.h"

enum {
	DB_LIST4, DB_LIST6, DB_EXCL4, DB_EXCL6,	/* the four prefix tables */
	DB_META, DB_RECORDS, DB_EVIDENCE, DB_AUDIT, DB_AUDIT_IDX,
	DB_QUEUE, DB_QUEUE_ADDR,
	DB_JOURNAL,			/* optional: see journal_open() */
	DB_COUNT
};

/*
 * Prefix tables: index 0..3 as above, for (exclusion, family).  Each maps
 * a bucket key (prefix length, first address byte or two) to a blob of
 * sorted fixed-size items; store_table.c has the layout and the reasons.
 */
#define TABLE(excl, fam)	(((excl) ? 2 : 0) + ((fam) == ADDR_V6 ? 1 : 0))
#define TABLE_IS_EXCL(t)	((t) >= 2)
#define TABLE_FAMILY(t)		((t) & 1 ? ADDR_V6 : ADDR_V4)
#define KEY_MAX			3

/* The single value under key "meta": schema, serial, counters. */
struct meta {
	uint32_t	schema;
	uint32_t	serial;
	uint32_t	next_record;
	uint32_t	pad;
	uint64_t	next_audit;
	uint64_t	next_evidence;
	uint64_t	count[4];		/* entries per prefix table */
	uint64_t	by_kind[8];		/* listings per kind */
	uint64_t	records;
	uint64_t	queued;
	uint32_t	plens[4][129];		/* entries per prefix length */
};

/* The code and record of a prefix table item. */
struct entry_val {
	uint32_t	code;
	uint32_t	record;
};

/* Fixed part of a record; "source\0text\0" follows. */
struct record_disk {
	uint32_t	refs;
	uint32_t	code;
	int64_t		first_listed;
	int64_t		last_confirmed;
	int64_t		expires;
	uint64_t	evidence;
	uint8_t		kind;
	uint8_t		pad[7];
};

/* Fixed part of an audit entry; "actor\0text\0" follows. */
struct audit_disk {
	int64_t		time;
	uint32_t	serial;
	uint32_t	code;
	uint8_t		action;
	uint8_t		family;
	uint8_t		plen;
	uint8_t		reason;		/* enum store_reason; 0 in old entries */
	uint8_t		bytes[16];
};

/* Value of a queue entry (key: due, big-endian, then the address key). */
struct queue_disk {
	int64_t		queued;
	uint8_t		reason;
	uint8_t		running;	/* was padding: the layout is unchanged */
	uint16_t	attempts;
	char		actor[STORE_SOURCE_MAX];
	uint8_t		deferred;	/* was padding (always written 0):
					   the layout is unchanged */
	uint8_t		born_after[3];	/* was padding: deferred_born -
					   queued, 24 bits big-endian;
					   0: none */
};
_Static_assert(sizeof(struct queue_disk) == 80,
    "the queue's on-disk layout is 80 bytes");

#define IDX_KEY_LEN	18	/* family, 16 address bytes, prefix length */

struct store {
	MDB_env		*env;
	MDB_dbi		 dbi[DB_COUNT];
	int		 rdonly;
	enum store_error error;		/* of the last failed write */
	uint64_t	 map_size;	/* as configured: never map less */
	int		 snapshots;	/* readers holding one (writers only) */
	/*
	 * Read-only stores are shared by threads (dnsbld): each snapshot
	 * holds this shared, and adopting a map grown by a writer takes it
	 * exclusive, since remapping under a reader would pull its pages.
	 */
	pthread_rwlock_t remap;
	int		 has_journal;	/* DB_JOURNAL is open */
	uint64_t	 journal_size;	/* bytes kept (store_set_journal_size) */
	long		 fault_after;	/* writes before injected failures */
	long		 fault_count;	/* failures to inject; -1: none */
	char		 dir[4096];
};

/* Reference count changes of records, applied at commit. */
struct refdelta {
	uint32_t	id;
	int32_t		delta;
};

struct store_txn {
	struct store	*st;
	MDB_txn		*txn;
	struct meta	 meta;
	int64_t		 now;
	int		 failed;
	char		 actor[STORE_SOURCE_MAX];
	struct refdelta	*deltas;
	size_t		 ndeltas, capdeltas;
	/* The journal entry of this txn (store_journal.c). */
	uint8_t		*jbuf;
	size_t		 jlen, jcap;
	uint32_t	 jcount;
	int		 joverflow;	/* larger than the journal may hold */
};

/* A bucket blob, read in place from the map (valid for the txn). */
struct blob {
	size_t		 count;
	const uint8_t	*index;		/* NULL, or 257 uint32 offsets */
	const uint8_t	*items;
};

/* store_table.c: the bucket blobs of the prefix tables */
size_t	table_key(const struct addr *, uint8_t *key);
size_t	table_item_size(int family);
void	table_blob_open(const MDB_val *, struct blob *);
size_t	table_blob_find(const struct blob *, const struct addr *, int *found);
void	table_blob_item(const struct blob *, size_t, int family, uint8_t plen,
	    struct addr *, struct entry_val *);
/*
 * Reading a prefix table returns 1 found, 0 not found, -1 on failure (the
 * LMDB code logged here); no MDB_* value leaves store_table.c.  In a
 * write txn the caller fails the txn with STORE_EFAIL.
 */
int	table_bucket(MDB_txn *, const struct store *, int table,
	    const uint8_t *key, size_t klen, struct blob *);
int	table_get(MDB_txn *, const struct store *, int table,
	    const struct addr *, struct entry_val *);
int	table_write(struct store_txn *, int table, const uint8_t *key,
	    size_t klen, const uint8_t *items, size_t n, size_t isize);
int	table_put(struct store_txn *, int table, const struct addr *,
	    uint32_t code, uint32_t record, int kind);
int	table_del(struct store_txn *, int table, const struct addr *);
int	table_any_within(MDB_txn *, const struct store *, int table,
	    const struct addr *, int plen);

/*
 * store_journal.c: what each commit changed in the prefix tables, kept
 * per serial for IXFR.  journal_note() records the state of prefix p in
 * table before the txn changes it (present: whether it was there, with
 * old's code and record); journal_commit() writes the txn's entry under
 * its new serial and prunes the journal to its size.  Both return 0 or -1
 * (the txn failed).
 */
int	journal_note(struct store_txn *, int table, const struct addr *p,
	    int present, const struct entry_val *old);
int	journal_commit(struct store_txn *);
/* Fills the journal's part of s (in a snapshot).  0 or -1. */
int	journal_stats(MDB_txn *, struct store *, struct store_stats *s);
/* Starts the journal of a new store at serial (an LMDB code). */
int	journal_init(MDB_txn *, struct store *, uint32_t serial);
/* The zones' serial in txn: the last commit that changed a prefix, or
   serial (the store's) in a store whose journal has not begun. */
uint32_t journal_zone_serial(MDB_txn *, struct store *, uint32_t serial);

/* store_read.c: a reader's snapshot, for the other files of the module */
MDB_txn		*store_reader_txn(struct store_reader *);	/* NULL: failed */
void		 store_reader_done(struct store_reader *);	/* after it */
uint32_t	 store_reader_serial(const struct store_reader *);
struct store	*store_reader_store(const struct store_reader *);

/* store.c: encodings shared by readers and writers */
#define STORE_META_KEY	"meta"	/* key of the meta value */
void	store_idx_key(const struct addr *, uint8_t *key);
void	store_be64(uint8_t *, uint64_t);
uint64_t store_get_be64(const uint8_t *);
int	store_load_meta(MDB_txn *, struct store *, struct meta *);
void	store_decode_record(const MDB_val *, struct store_listing *);
int	store_get_record(MDB_txn *, struct store *, uint32_t id, MDB_val *);
void	store_decode_queue(const uint8_t *, const MDB_val *,
	    struct store_probe *);
int	store_queue_lookup(MDB_txn *, struct store *, const struct addr *,
	    struct store_probe *);

/* store_write.c */
int	store_record_new(struct store_txn *, const struct store_listing *,
	    uint32_t *id);
int	store_record_kind(MDB_txn *, struct store *, uint32_t id);
int	store_ref(struct store_txn *, uint32_t id, int32_t delta);
/*
 * LMDB's codes become a message and a store_error here, and nowhere else.
 * store_fail logs "store DIR: WHAT: reason" and fails the txn (sticky);
 * store_invalid does so for a bad argument.  Both return -1.
 */
int	store_fail(struct store_txn *, const char *what, int rc);
int	store_invalid(struct store_txn *, const char *what);
/* Fails the txn with reason e, the reason having been logged.  -1. */
int	store_failx(struct store_txn *, enum store_error e);
const char *store_strerror(int rc);
enum store_error store_translate(int rc);
/*
 * Maps the store anew at the size it records, when another process with a
 * larger map_size wrote to it (never below our own map_size).  Only
 * possible while this process holds no txn and, for a store opened for
 * writing, no snapshot; a read-only store (shared by threads) is called
 * holding its remap lock shared, and waits for the other threads'
 * snapshots to end.  0 when remapped, -1 when not.
 */
int	store_adopt_mapsize(struct store *);
/* Reads the fault injection settings of a test build (store.h). */
void	store_fault_init(struct store *);
/* mdb_put and mdb_del in a write txn, where failures may be injected. */
int	store_mdb_put(struct store_txn *, int db, MDB_val *k, MDB_val *v,
	    unsigned int flags);
int	store_mdb_del(struct store_txn *, int db, MDB_val *k);
int	store_audit_put(struct store_txn *, int action, const struct addr *,
	    uint32_t code, const char *text);
void	store_count(struct store_txn *, int table, int plen, int delta);

#endif
