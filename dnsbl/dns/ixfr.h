/*
 * ixfr.h -- what changed in a zone since an older serial (RFC 1995
 * IXFR), from the store's journal, without sockets
 *
 * The journal (store.h) says which prefixes the commits after the
 * secondary's serial changed, and what each was before.  A change of
 * prefix X can change names under one node of the name tree only: X's own
 * node (its length rounded down to a label boundary) or, when listings or
 * exclusions cover X, the node of the outermost of them (a covering
 * wildcard is repeated down to X, and X's existence decides where;
 * zone_walk.h has the mapping).  Each such node is walked twice with
 * zone_walk_node(): as it was (the journal's items laid over the store)
 * and as it is; the records only in the first were deleted, those only in
 * the second added.  The work is the size of the nodes touched, not of
 * the zone: a change under a /8 listing walks that /8 twice.
 *
 * Limits: the records walked are held in memory (about 60 bytes each) to
 * be compared, so more than IXFR_MAX_RRS of them (a change under a
 * range with a quarter of a million names below it) makes ixfr_diff()
 * give up: the caller sends the whole zone, as RFC 1995 section 4
 * allows, in messages streamed from the store.
 * Changes of the zone's configuration (TTL, TXT template, test points)
 * do not move the store's serial, so they reach a secondary with its
 * next full transfer only.
 */
#ifndef RELAYBL_IXFR_H
#define RELAYBL_IXFR_H

#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "store.h"
#include "zone.h"

#define IXFR_MAX_RRS	250000	/* about 15 MB */

/* Records: owner (wire, apex included) and tail (type to rdata). */
struct ixfr_rrs {
	uint8_t		*buf;		/* olen, owner, tlen (2), tail */
	size_t		 len, cap;
	size_t		*off;		/* of each record in buf */
	size_t		 n, ocap;
};

struct ixfr_diff {
	struct ixfr_rrs	 del, add;
	size_t		 changes;	/* prefixes changed */
	size_t		 walked;	/* records walked */
};

/*
 * The difference between zone z at serial from and the snapshot rd holds
 * (call it between store_reader_begin() and store_reader_end()), into d
 * (free it with ixfr_diff_free() whatever this returns).  Returns 1 when
 * d holds it, 0 when it cannot be had (the journal does not reach back to
 * from, or it is too large: send the whole zone), -1 on failure (logged).
 */
int	ixfr_diff(struct store_reader *rd, const struct zone *z,
	    const struct answer_conf *conf, uint32_t from,
	    struct ixfr_diff *d);
void	ixfr_diff_free(struct ixfr_diff *d);

/* Record i of rrs: its owner and tail, with their lengths. */
void	ixfr_rr(const struct ixfr_rrs *rrs, size_t i, const uint8_t **owner,
	    size_t *olen, const uint8_t **tail, size_t *tlen);

#endif
