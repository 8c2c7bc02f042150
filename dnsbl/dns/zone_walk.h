/*
 * zone_walk.h -- the listing content of a zone as owner names, for zone
 * transfers (AXFR) and zone-file exports
 *
 * zone_walk() reads every listing and exclusion of one store snapshot in
 * address order (store_scan) and calls back once per owner name that a
 * standard authoritative server needs to answer every address exactly as
 * dnsbld does, with memory bounded by the depth of the name tree (never by
 * the number of listings).  The apex records (SOA, NS, ...) are not part of
 * it: the caller writes them from struct zone.  The order is deterministic
 * (IPv4 then IPv6, depth first by address) but not canonical DNS order.
 *
 * The mapping (RFC 4592 wildcards; dnsbld's longest match, an exclusion
 * always winning, test points whatever the store says):
 *   - a single address is an exact name: A (its code) and TXT;
 *   - a prefix on a label boundary (IPv4 /8, /16, /24; IPv6 a multiple of
 *     4) is a wildcard "*.c.b.a" with A and TXT; other prefixes are split
 *     into the boundary pieces below them (an IPv4 /9 is 128 /16
 *     wildcards, a /25 128 exact names; an IPv6 /50 is 4 /52 wildcards);
 *   - IPv6 wildcards are never placed above the 4th label (a prefix
 *     shorter than /16 becomes /16 pieces: an IPv6 /12 is 16 wildcards, a
 *     /4 4096), so that no IPv6 wildcard covers an IPv4 name;
 *   - where a name exists under a wildcard's node (a more specific
 *     listing or exclusion, an empty non-terminal on the way to it), the
 *     covering listing's wildcard is repeated at every node on the way,
 *     since a wildcard does not reach below an existing name;
 *   - a name that must not be covered by the wildcard above it (an
 *     excluded address or prefix, a listing's hole) is made to exist with
 *     no record of its own: a marker name "_stop.NAME" with a TXT below
 *     it, so NAME is an empty non-terminal (A and TXT: NODATA, where
 *     dnsbld says NXDOMAIN -- both "not listed") and, for a prefix, the
 *     addresses under it are NXDOMAIN exactly as dnsbld answers;
 *   - an IPv4 wildcard whose labels are all single digits (e.g. 2.0.0.0/24,
 *     "*.0.0.2") would also cover IPv6 names (2001::/16 reads "1.0.0.2"):
 *     its single-digit children are given explicitly (wildcards, or exact
 *     names at the 4th label) and its hex children a-f get markers; a /8
 *     of that kind costs about 1,800 names;
 *   - the RFC 5782 test points (127.0.0.x for every test code, 127.0.0.1
 *     never listed, and ::FFFF:127.0.0.x alike) override the store.
 * TXT: the listing's own text, else the conf's template; "$" is replaced
 * by the address for an exact name and by the listing's prefix
 * ("192.0.2.0/24") for a wildcard (a zone cannot repeat the queried
 * address, so there the TXT differs from dnsbld's).  Names that are not a
 * whole address (fewer or more labels) under a wildcard are answered by
 * the wildcard, where dnsbld answers NODATA or NXDOMAIN.  A /0 is skipped
 * (counted).
 */
#ifndef RELAYBL_ZONE_WALK_H
#define RELAYBL_ZONE_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "store.h"
#include "zone.h"

#define ZONE_WALK_TXT_MAX	1024	/* TXT text after "$" replacement */
#define ZONE_WALK_NAME_MAX	1025	/* presentation name and NUL */
#define ZONE_WALK_MARKER	"_stop"	/* label of a marker name */

/* One owner name and its records. */
struct zone_name {
	uint8_t		owner[255];	/* wire, lowercase, apex appended */
	size_t		owner_len;
	char		text[ZONE_WALK_NAME_MAX];	/* "4.3.2.1.bl.example." */
	int		listed;		/* 1: A code and TXT txt;
					   0: a marker, TXT txt alone */
	int		wildcard;	/* the owner's first label is "*" */
	uint32_t	code;		/* A rdata, host order (listed only) */
	char		txt[ZONE_WALK_TXT_MAX];		/* unquoted, may be "" */
	uint32_t	ttl;		/* of both records: conf->ttl */
};

struct zone_walk_stats {
	uint64_t	names;		/* callbacks */
	uint64_t	listed;		/* names with an A */
	uint64_t	wildcards;	/* of them, wildcards */
	uint64_t	markers;
	uint64_t	skipped;	/* store items not exported (a /0) */
};

/*
 * Calls fn once per owner name of the listing content of zone z, from the
 * snapshot rd holds (call it between store_reader_begin() and
 * store_reader_end(), and read the serial there too, so that the SOA and
 * the content agree).  fn's zone_name is valid during the call only; fn
 * returns 0 to go on, anything else to stop, which zone_walk returns.
 * st (may be NULL) receives the counts.  Returns 0, fn's value, or -1 on a
 * store failure (logged).  Allocates a few KB, whatever the store's size.
 */
int	zone_walk(struct store_reader *rd, const struct zone *z,
	    const struct answer_conf *conf,
	    int (*fn)(const struct zone_name *, void *), void *arg,
	    struct zone_walk_stats *st);

/*
 * A prefix as it was at an older serial, laid over the store by
 * zone_walk_node(): it replaces what the store has of the same prefix
 * (listing or exclusion), or removes it (present 0).
 */
struct zone_walk_item {
	struct addr	 prefix;
	int		 excluded;
	int		 present;
	uint32_t	 code;
	uint32_t	 record;	/* its record's id then */
	const char	*text;		/* its record's text then ("": none) */
};

/*
 * zone_walk() of the names at and below one node of the name tree (a
 * prefix on a label boundary: IPv4 a multiple of 8 bits, IPv6 of 4; /0
 * is a whole family), exactly as zone_walk() gives them, with the items
 * over[] (nover, sorted as a store scan is; those of another family or
 * neither inside nor over node are ignored) laid over the store.  Those
 * names depend only on the items inside the node and over it, which is
 * what a scan of the node reads (store_scan_range): IXFR walks the nodes
 * a change touched, at the old serial (with the journal's items) and now,
 * and sends the difference (ixfr.c).  Returns as zone_walk().
 */
int	zone_walk_node(struct store_reader *rd, const struct zone *z,
	    const struct answer_conf *conf, const struct addr *node,
	    const struct zone_walk_item *over, size_t nover,
	    int (*fn)(const struct zone_name *, void *), void *arg,
	    struct zone_walk_stats *st);

#endif
