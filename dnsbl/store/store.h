/*
 * store.h -- the relaybl store: listings, exclusions, records, evidence,
 * probe queue, audit trail and serial, in one LMDB environment
 *
 * This is the only module that knows LMDB: its types and error codes stay
 * in dnsbl/store/ (store_int.h, private to the module, is the only header
 * that names them).  One environment (a directory) is shared by every program:
 * dnsbld opens it read-only and sees each committed change on its next
 * lookup, proberd and dnsblctl write to it.  Readers never block the writer
 * or each other; a write transaction is all-or-nothing, also across kill -9.
 *
 * Listings and exclusions are held in one table per family.  Its key is a
 * bucket: the prefix length and the first address byte (IPv4) or two
 * (IPv6); its value, every prefix of that bucket as a sorted array of
 * fixed-size items (address bytes in network order, so byte order is
 * numeric order, then the return code and the id of a record).  A record
 * (kind, times, source, text, evidence) may be shared by many listings,
 * which is what keeps a bulk import small.  store_table.c has the layout.  A lookup is a longest
 * match over the prefix lengths in use; an exclusion covering the address
 * always wins.
 *
 * Conventions: functions return 0 on success and -1 on failure with the
 * reason logged (log_warnx); "not found" is a result (return value 0 where a
 * found/not-found answer is expected, 1 when found).  Why a write failed is
 * also kept, translated from LMDB's codes here once: store_error() tells a
 * full store (raise map_size) from other failures, so that callers can act
 * on it without seeing an LMDB code.
 */
#ifndef RELAYBL_STORE_H
#define RELAYBL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define STORE_SCHEMA		1

/* Bytes of changes kept for IXFR unless store_set_journal_size() says. */
#define STORE_JOURNAL_SIZE	((uint64_t)16 << 20)

/* store_open flags */
#define STORE_RDONLY		0x01	/* never writes; may lack write perms */
#define STORE_CREATE		0x02	/* create the directory and store */

/* Why an address is listed (or, for exclusions, STORE_KIND_EXCLUSION). */
enum store_kind {
	STORE_KIND_NONE = 0,
	STORE_KIND_RELAY,	/* confirmed open relay (our cookie came back) */
	STORE_KIND_EGRESS,	/* delivered a relayed cookie: multi-hop egress */
	STORE_KIND_MANUAL,	/* listed by an operator */
	STORE_KIND_IMPORT,	/* listed by a bulk import */
	STORE_KIND_EXCLUSION,	/* an exclusion's record */
	STORE_KIND_MAX
};

/*
 * Return codes (RFC 5782: 127.0.0.x, in host order).  127.0.0.1 is never a
 * listing (the test point of "not listed"); 127.0.0.2 is the default.
 */
#define STORE_CODE_NET		0x7f000000u	/* 127.0.0.0: x is added */
#define STORE_CODE_NONE		0x7f000001u	/* 127.0.0.1: not listed */
#define STORE_CODE_LISTED	0x7f000002u	/* 127.0.0.2: an open relay */
#define STORE_CODE_EGRESS	0x7f000003u	/* 127.0.0.3: multi-hop egress */

#define STORE_SOURCE_MAX	64
#define STORE_TEXT_MAX		256

/* The record of a listing (or exclusion), as stored and as returned. */
struct store_listing {
	uint32_t	code;		/* return code: STORE_CODE_* */
	uint8_t		kind;		/* enum store_kind */
	int64_t		first_listed;	/* unix seconds */
	int64_t		last_confirmed;	/* unix seconds, 0 = never */
	int64_t		expires;	/* unix seconds, 0 = never */
	uint64_t	evidence;	/* evidence id, 0 = none */
	char		source[STORE_SOURCE_MAX];	/* who listed it */
	char		text[STORE_TEXT_MAX];		/* why, or TXT template */
};

/* What a lookup found. */
struct store_hit {
	struct addr	prefix;		/* the matching listing or exclusion */
	uint32_t	code;		/* return code (0 for an exclusion) */
	uint32_t	record;		/* record id, for store_record() */
	int		excluded;	/* 1: an exclusion matched */
};

/* Audit actions. */
enum store_action {
	STORE_AUDIT_LIST = 1,	/* listed or relisted */
	STORE_AUDIT_UNLIST,	/* removed by an operator or a clean retest */
	STORE_AUDIT_EXCLUDE,
	STORE_AUDIT_UNEXCLUDE,
	STORE_AUDIT_IMPORT,	/* a bulk import (no single address) */
	STORE_AUDIT_EXPIRE,	/* listing expired */
	STORE_AUDIT_PROBE,	/* a probe and its outcome */
	STORE_AUDIT_QUEUE,	/* probe queued (submission, retest, delist) */
	STORE_AUDIT_MAX
};

struct store_audit {
	uint64_t	seq;		/* position in the trail, from 1 */
	int64_t		time;		/* unix seconds */
	uint32_t	serial;		/* store serial of the change */
	uint8_t		action;		/* enum store_action */
	uint8_t		reason;		/* enum store_reason of a probe or
					   queue entry; 0: none, or an entry
					   written before reasons were kept */
	struct addr	addr;		/* family 0 when not about one address */
	uint32_t	code;		/* return code where it applies */
	char		actor[STORE_SOURCE_MAX];
	char		text[STORE_TEXT_MAX];
};

/* Probe reasons. */
enum store_reason {
	STORE_PROBE_SUBMIT = 1,		/* an operator submitted the address */
	STORE_PROBE_RETEST,		/* a listed address is due a retest */
	STORE_PROBE_DELIST,		/* the owner asked for removal */
	STORE_PROBE_MAX
};

struct store_probe {
	struct addr	addr;		/* a single address */
	int64_t		due;		/* unix seconds */
	int64_t		queued;		/* unix seconds */
	uint8_t		reason;		/* enum store_reason */
	uint16_t	attempts;	/* inconclusive attempts so far */
	uint8_t		running;	/* 1 while proberd is probing it */
	uint8_t		deferred;	/* 1: a probe of it was deferred (4xx
					   at RCPT): a second such pass is
					   clean (prober/verdict.h) */
	int64_t		deferred_born;	/* the deferred probe's cookie time,
					   reused by the second pass (a
					   greylister keyed on sender and
					   recipient knows them); 0: none.
					   Kept only within 194 days of
					   queued */
	char		actor[STORE_SOURCE_MAX];
};

struct store_stats {
	uint32_t	serial;
	uint32_t	zone_serial;		/* store_zone_serial() */
	uint32_t	journal_from;		/* IXFR from this serial on */
	uint64_t	journal_entries;	/* commits kept */
	uint64_t	journal_bytes;
	int		journal;		/* 0: the store has none yet */
	uint64_t	listings[2];		/* [0] IPv4, [1] IPv6 prefixes */
	uint64_t	exclusions[2];
	uint64_t	by_kind[STORE_KIND_MAX];	/* listings per kind */
	uint64_t	records;
	uint64_t	audit;
	uint64_t	queued;
	uint64_t	page_size;
	uint64_t	pages_used;	/* in use now, excluding free pages */
	uint64_t	pages_free;
	uint64_t	file_bytes;	/* size of data.mdb */
};

/* Why the last write through a store failed: store_error(). */
enum store_error {
	STORE_OK = 0,
	STORE_EFULL,		/* the map is full: raise [store] map_size */
	STORE_EINVAL,		/* a bad argument (a bug of the caller) */
	STORE_EFAIL		/* anything else: I/O, corruption, memory */
};

struct store;
struct store_reader;
struct store_txn;

/*
 * Opens the store in directory dir.  flags: STORE_RDONLY, STORE_CREATE.
 * map_size is the largest the data file may grow to (0: 4 GiB).  A store
 * opened for writing adopts a larger size that another process with a
 * larger map_size recorded in the store (by writing to it), when it finds
 * the store full or grown past its map: raising map_size for one command
 * lets a running proberd go on without a restart.  STORE_CREATE makes
 * the directory (mode 0770) and the files (data.mdb and lock.mdb, 0660)
 * through the umask: never more than the group may read them.  Fails
 * (NULL, reason logged) when the directory holds no store and STORE_CREATE
 * is not given, or the store's schema differs from STORE_SCHEMA.  Stale
 * reader slots left by killed processes are cleared.  Free with
 * store_close().
 */
struct store	*store_open(const char *dir, int flags, uint64_t map_size);
void		 store_close(struct store *);

/*
 * The journal ([dns] journal_size): every commit of a store opened for
 * writing that changes listings or exclusions records, under its new
 * serial, the prefixes it changed and what they were before, so that
 * dnsbld can answer IXFR with the differences (store_journal_walk).  The
 * oldest entries are pruned so that the entries hold at most bytes; a
 * commit whose entry alone is larger (a big import) empties the journal,
 * and so does every such commit when bytes is 0 (no journal): a
 * secondary older than the journal is then sent the whole zone.  Default
 * STORE_JOURNAL_SIZE.  Every writer of a store should say the same.
 */
void		 store_set_journal_size(struct store *, uint64_t bytes);

/*
 * Why the last store_begin(), change or store_commit() through st failed
 * (the reason was logged then); STORE_OK once a store_begin() succeeds.
 */
enum store_error store_error(const struct store *st);

/* Name of a kind, action, or reason ("relay", "list", "submit"). */
const char	*store_kind_name(int);
const char	*store_action_name(int);
const char	*store_reason_name(int);
/* Kind for a name, or -1. */
int		 store_kind_parse(const char *);

/*
 * The version of the LMDB library loaded ("0.9.24"), for --version and
 * start-up logs (version.h).  A static string: not thread-safe on its
 * first call, so call it from main.
 */
const char	*store_lmdb_version(void);

/* --- Reading --------------------------------------------------------- */

/*
 * A reader owns one read transaction that is reset and renewed, never
 * reallocated: lookups through it allocate nothing.  A reader is used by one
 * thread at a time.  Free with store_reader_free() before store_close().
 */
struct store_reader	*store_reader_new(struct store *);
void			 store_reader_free(struct store_reader *);

/*
 * Holds one snapshot for a batch of calls (e.g. one recvmmsg batch), until
 * store_reader_end().  Without it every call takes the newest snapshot.
 * Never hold a snapshot across event-loop turns: it pins old pages.
 */
int	store_reader_begin(struct store_reader *);
void	store_reader_end(struct store_reader *);

/*
 * Longest-prefix lookup of address (or prefix) a.  Returns 1 when listed
 * (hit filled), 0 when not (hit->excluded tells whether an exclusion
 * matched; hit->prefix is then the exclusion), -1 on error.  No heap
 * allocation.
 */
int	store_lookup(struct store_reader *, const struct addr *a,
	    struct store_hit *hit);

/*
 * Whether anything is listed inside prefix r or over all of it, r not
 * being wholly excluded: whether the DNS name of r exists (an empty
 * non-terminal above listed names).  Returns 1, 0, or -1.
 */
int	store_lookup_range(struct store_reader *, const struct addr *r);

/* Loads record id into out.  Returns 1, 0 if there is no such record, -1. */
int	store_record(struct store_reader *, uint32_t id,
	    struct store_listing *out);

/* The store's serial (incremented by every committed write), or 0 on error. */
uint32_t store_serial(struct store_reader *);

/*
 * The zones' serial: that of the last commit that changed a listing or an
 * exclusion (so the probe queue's commits, which change no answer, do not
 * make secondaries transfer), or the store's serial in a store written by
 * a relaybl without the journal and not changed since.  0 on error.
 */
uint32_t store_zone_serial(struct store_reader *);

/*
 * Calls fn for every listing (excluded == 0) or exclusion (excluded == 1),
 * IPv4 then IPv6, by prefix length and then address.  fn returns 0 to go
 * on, anything else to stop (which store_walk then returns).  Returns 0 or -1 on error.
 */
int	store_walk(struct store_reader *, int excluded,
	    int (*fn)(const struct addr *, uint32_t code, uint32_t record,
	    void *), void *arg);

/*
 * A scan: every listing and exclusion of one family in address order, a
 * prefix before the prefixes inside it (the preorder of the prefix tree:
 * by address bytes, then by length, shorter first; an exclusion before a
 * listing of the same prefix).  It merges one cursor per prefix length in
 * use, so its memory is bounded by the number of lengths, never by the
 * number of listings.  The scan holds the reader's snapshot from
 * store_scan_new() to store_scan_free(): use it inside one
 * store_reader_begin()/end() when other reads must see the same snapshot,
 * and free it before store_reader_end().  store_record() through the same
 * reader may be called meanwhile.
 */
struct store_item {
	struct addr	prefix;
	uint32_t	code;		/* 0 for an exclusion */
	uint32_t	record;
	int		excluded;
};
struct store_scan;

/* NULL on failure (logged).  family: ADDR_V4 or ADDR_V6. */
struct store_scan	*store_scan_new(struct store_reader *, int family);
/*
 * A scan of the items of r's family that lie inside prefix r or cover it,
 * in the same order: what a walk of the names under r needs.
 */
struct store_scan	*store_scan_range(struct store_reader *,
			    const struct addr *r);
/* The next item into out: 1, 0 at the end, -1 on error (logged). */
int			 store_scan_next(struct store_scan *,
			    struct store_item *out);
void			 store_scan_free(struct store_scan *);

/*
 * Calls fn for each audit entry about address a or any prefix containing
 * it, oldest first.  Returns the number of entries, or -1.
 */
int	store_history(struct store_reader *, const struct addr *a,
	    int (*fn)(const struct store_audit *, void *), void *arg);

/* Calls fn for every audit entry from seq first on.  Returns count or -1. */
int	store_audit_walk(struct store_reader *, uint64_t first,
	    int (*fn)(const struct store_audit *, void *), void *arg);

/*
 * Copies the evidence blob id into buf (at most size bytes) and sets *len
 * to its full length.  Returns 1, 0 if absent, -1.
 */
int	store_evidence(struct store_reader *, uint64_t id, void *buf,
	    size_t size, size_t *len);

/* Looks up the queued probe for address a.  Returns 1, 0 if none, -1. */
int	store_queue_get(struct store_reader *, const struct addr *a,
	    struct store_probe *out);

/* Calls fn for every queued probe, earliest due first.  Returns 0 or -1. */
int	store_queue_walk(struct store_reader *,
	    int (*fn)(const struct store_probe *, void *), void *arg);

/* Fills st.  Returns 0 or -1. */
int	store_stats(struct store_reader *, struct store_stats *st);

/*
 * One change of the journal: the listing (excluded 0) or exclusion of
 * prefix as it was before the commit that changed it.  present 0: there
 * was none.  text is the text of its record then (the record itself may be
 * gone since).
 */
struct store_change {
	struct addr	prefix;
	int		excluded;
	int		present;
	uint32_t	code;		/* 0 for an exclusion */
	uint32_t	record;
	char		text[STORE_TEXT_MAX];
};

/*
 * Calls fn for each change made by the commits after serial from up to
 * the snapshot's serial, oldest commit first (serial: the commit's).
 * Returns 1 when the journal holds every commit after from (fn called for
 * each change; none when from is the snapshot's serial), 0 when it does
 * not reach back to from, or from is not a serial it has seen (fn never
 * called), -1 on failure or when fn returned nonzero.
 */
int	store_journal_walk(struct store_reader *, uint32_t from,
	    int (*fn)(uint32_t serial, const struct store_change *, void *),
	    void *arg);

/* --- Writing --------------------------------------------------------- */

/*
 * Begins the (single) write transaction; another writer waits (so a
 * process must end every txn it begins before it begins another, or it
 * waits for itself).  NULL on failure.  actor ("dnsblctl:root",
 * "proberd") goes into every audit entry.  Every change below is invisible
 * to readers until store_commit(), which bumps the serial; store_abort()
 * discards them all.
 *
 * The first change that fails (-1, whatever the reason) fails the txn for
 * good: later changes return -1 at once without logging again, and
 * store_commit() discards everything and returns -1.  So a caller may go
 * on after a failure and learn of it at the commit, but never commits half
 * of what it meant to.
 *
 * store_commit() and store_abort() both end and free the txn, whatever
 * they return: after store_commit() the txn is gone even when it failed
 * (do not store_abort() it).  store_abort(NULL) does nothing.  On a
 * failure, store_error() says why; the reason was logged once.
 *
 * In a build with -DSTORE_FAULTS (the sanitizer build that make test
 * runs), the environment can make writes fail as if the store were full:
 * RELAYBL_STORE_FAIL_AFTER=N lets N writes (puts, deletes, commits) of
 * this process succeed and fails the next RELAYBL_STORE_FAIL_COUNT ones
 * (default: all).  Other builds ignore both.
 */
struct store_txn	*store_begin(struct store *, const char *actor);
int			 store_commit(struct store_txn *);
void			 store_abort(struct store_txn *);

/* The time used for the txn's records and audit (default: now). */
void	store_txn_settime(struct store_txn *, int64_t now);

/*
 * Lists prefix p with record l (l->code must be in 127.0.0.0/8; first_listed
 * 0 means now), replacing any listing of exactly p.  Audited.
 * Returns 0 or -1 (bad code, LMDB failure).
 */
int	store_list(struct store_txn *, const struct addr *p,
	    const struct store_listing *l);

/* Removes the listing of exactly p.  Returns 1, 0 if not listed, -1. */
int	store_unlist(struct store_txn *, const struct addr *p,
	    const char *why);

/* Adds (or replaces) the exclusion p.  Returns 0 or -1. */
int	store_exclude(struct store_txn *, const struct addr *p,
	    const char *why);

/* Removes the exclusion of exactly p.  Returns 1, 0 if none, -1. */
int	store_unexclude(struct store_txn *, const struct addr *p,
	    const char *why);

/* Reads the listing of exactly p inside the write txn.  Returns 1, 0, -1. */
int	store_txn_get(struct store_txn *, const struct addr *p,
	    struct store_listing *out);

/*
 * One entry of a bulk import: prefix, whether it is an exclusion, and the
 * index of its record in the records array given to store_import.
 */
struct store_import_entry {
	struct addr	prefix;
	uint32_t	record;		/* index into recs[] */
	uint8_t		exclude;
	uint32_t	line;		/* for messages; later entries win */
};

/*
 * Bulk import in this transaction: n entries using nrecs records.  Entries
 * for the same prefix: the later one wins.  The entries are sorted by
 * bucket, and each bucket the import touches is read once, merged with its
 * new items (a new item replaces an old one of the same prefix) and written
 * once.  Sorts e in place.  One audit entry records the
 * import with the text what.  Returns 0 or -1.
 */
int	store_import(struct store_txn *, struct store_import_entry *e,
	    size_t n, const struct store_listing *recs, size_t nrecs,
	    const char *what);

/* Adds an audit entry (for probes and queue events). Returns 0 or -1. */
int	store_audit_add(struct store_txn *, int action, const struct addr *a,
	    uint32_t code, const char *text);

/*
 * Adds an audit entry about a probe of a for reason (enum store_reason):
 * action STORE_AUDIT_PROBE (its outcome) or STORE_AUDIT_QUEUE (it was
 * queued).  The reason is data in the entry (store_audit.reason), so that
 * the probing limits are found without reading the text.  The schema is
 * unchanged: entries written by store_audit_add() read reason 0.
 * Returns 0 or -1 (bad action or reason, LMDB failure).
 */
int	store_audit_probe(struct store_txn *, int action, const struct addr *a,
	    int reason, uint32_t code, const char *text);

/* Stores an evidence blob; *id receives its id.  Returns 0 or -1. */
int	store_evidence_put(struct store_txn *, const void *blob, size_t len,
	    uint64_t *id);

/*
 * Queues (or requeues) a probe of p->addr, replacing any queued probe of the
 * same address.  Returns 0 or -1.
 */
int	store_queue_put(struct store_txn *, const struct store_probe *p);

/* Removes the queued probe of a.  Returns 1, 0 if none, -1. */
int	store_queue_del(struct store_txn *, const struct addr *a);

/* Reads the queued probe of a inside the txn.  Returns 1, 0, -1. */
int	store_txn_queue_get(struct store_txn *, const struct addr *a,
	    struct store_probe *out);

#endif
