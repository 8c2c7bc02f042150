/*
 * import.h -- list files in the rbldnsd ip4set/ip6trie syntax
 *
 * Turns the lines of a list file into prefixes and the records they share,
 * ready for store_import().  Pure logic: the caller reads the lines and
 * reports the messages; nothing here touches a file or the store, so it is
 * unit-tested and fuzzed directly.
 *
 * Syntax (one per line):
 *     # comment, ; comment, blank
 *     :127.0.0.2:TXT template with $     default return code and text
 *     :3:text                            (3 means 127.0.0.3)
 *     1.2.3.4                            address
 *     10.0.0.0/8  10.1  10.1.2.3-10.1.2.9  10.1.2-7   prefixes, ranges
 *     2001:db8::/32  2001:db8:1  ::1     IPv6 prefixes (a line starting
 *                                        "::" is an address, not a default)
 *     1.2.3.4 :127.0.0.3:own text        per-entry code and text
 *     1.2.3.4 own text                   per-entry text, default code
 *     1.2.3.4 # comment                  trailing comment
 *     !10.0.0.5                          exclusion
 *     $TTL 300                           rbldnsd directive: ignored
 */
#ifndef RELAYBL_IMPORT_H
#define RELAYBL_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Results of import_line(). */
#define IMPORT_OK	0	/* entries added (or a default line) */
#define IMPORT_SKIP	1	/* blank or comment */
#define IMPORT_IGNORED	2	/* a directive we do not use; msg says so */
#define IMPORT_ERROR	-1	/* bad line; msg says why; nothing added */

#define IMPORT_MSG_MAX	160

struct import;

/*
 * A new import whose records get kind, source and time now.  The default
 * return code is 127.0.0.2 and the default text empty until a ":" line
 * says otherwise.  Returns NULL when out of memory.
 */
struct import	*import_new(int kind, const char *source, int64_t now);
void		 import_free(struct import *);

/*
 * Parses one line (len bytes, need not be NUL-terminated; a trailing
 * "\n" or "\r\n" is ignored).  Returns one of the results above; for
 * IMPORT_IGNORED and IMPORT_ERROR msg (IMPORT_MSG_MAX bytes) says why.
 * A bad line adds nothing.
 */
int	import_line(struct import *, const char *line, size_t len, char *msg);

/* The entries and records so far, for store_import().  Owned by imp. */
struct store_import_entry	*import_entries(struct import *, size_t *n);
const struct store_listing	*import_records(struct import *, size_t *n);

/* Counts of listing and exclusion entries added so far. */
size_t	import_listed(const struct import *);
size_t	import_excluded(const struct import *);

/*
 * Whether prefix p may be listed: never 127.0.0.1 (the RFC 5782 test point
 * that must not be listed, nor its IPv4-mapped form) and never a /0 (the
 * whole Internet, RFC 6471 section 3.5).  Returns 1, or 0 with *err set.
 */
int	import_listable(const struct addr *p, const char **err);

/*
 * Parses a return code: "127.0.0.3" (anything in 127.0.0.0/8) or "3" (for
 * 127.0.0.3, 1..255).  Returns 0 with *code in host order, or -1.
 */
int	import_parse_code(const char *, uint32_t *code);

#endif
