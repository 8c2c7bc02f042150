/*
 * fixture.h -- what the unit tests share: a scratch directory, stores in
 * it, and addresses and listings written as strings
 *
 * The scratch directory is made on first use and removed, with everything
 * in it, when the process that made it exits (a forked child that exits
 * leaves it alone).  Set KEEP in the environment to keep it.  The helpers
 * abort on what can only be a mistake in the test itself (an address that
 * does not parse, a directory that cannot be made); what the test checks
 * is returned.
 */
#ifndef RELAYBL_FIXTURE_H
#define RELAYBL_FIXTURE_H

#include <stdint.h>

#include "addr.h"
#include "store.h"

/* The scratch directory, "/tmp/relaybl-unit.XXXXXX": made once, owned. */
const char	*fixture_dir(void);

/*
 * A fresh path in the scratch directory, not yet made: "DIR/s1", "DIR/s2"
 * and so on.  Static: valid until the next call.
 */
const char	*fixture_newdir(void);

/* A store in a fresh directory (store_open with STORE_CREATE), or NULL. */
struct store	*fixture_store(void);

/* Writes text to path (a zone file, a list); aborts if it cannot. */
void		 fixture_write(const char *path, const char *text);

/* Address or prefix s ("192.0.2.1", "2001:db8::/32"); aborts when bad. */
struct addr	 fixture_addr(const char *s);

/* A record: code 127.0.0.last, kind, source "test", text. */
struct store_listing fixture_listing(uint32_t last, int kind,
		    const char *text);

/*
 * In a transaction of their own, as actor "test": lists prefix s with
 * code 127.0.0.last, kind manual, and text; excludes prefix s.  Return
 * what store_commit returns (0 or -1).
 */
int	fixture_list(struct store *, const char *s, uint32_t last,
	    const char *text);
int	fixture_exclude(struct store *, const char *s, const char *why);

/* Lists each "prefix=last" of the NULL-terminated items in one txn. */
int	fixture_list_all(struct store *, const char *const *items);

#endif
