/*
 * access.h -- who may ask: access rules by client network
 *
 * dnsbld's [dnsbld] access_file holds one rule a line, "CIDR ACTION",
 * '#' starting a comment, blank lines ignored:
 *
 *	192.0.2.0/24	answer
 *	198.51.100.7	refuse
 *	203.0.113.0/24	drop
 *	8.8.8.0/24	error
 *	2001:db8::/32	answer
 *
 * A client gets the action of the longest prefix that holds its address;
 * a client no rule holds is answered.  An IPv4-mapped IPv6 client
 * (::ffff:a.b.c.d) is matched as the IPv4 address.  The same prefix twice
 * is an error, so is a prefix with host bits set (a typo must not cover
 * more than meant).  The rules are turned at load into a sorted array of
 * disjoint ranges per family, so a lookup is one binary search whatever
 * the number of rules, and allocates nothing.  No I/O but reading the
 * file in access_load().
 */
#ifndef RELAYBL_ACCESS_H
#define RELAYBL_ACCESS_H

#include <stddef.h>

#include "addr.h"

enum access_action {
	ACCESS_ANSWER,		/* served as anyone is */
	ACCESS_REFUSE,		/* REFUSED to every query */
	ACCESS_DROP,		/* no reply (UDP), connection closed (TCP) */
	ACCESS_ERROR,		/* the error answer, 127.255.255.254 */
	ACCESS_MAX
};

#define ACCESS_ACTION_NAMES { "answer", "refuse", "drop", "error" }

struct access;

/*
 * Parses the rules in text (len bytes; NUL bytes are an error), naming
 * errors "name:LINE: why" through log_warnx.  Returns the rules, or NULL.
 * Free with access_free().
 */
struct access	*access_parse(const char *text, size_t len, const char *name);

/* Reads and parses the file at path.  Returns the rules, or NULL (the
 * reason logged). */
struct access	*access_load(const char *path);

/* NULL is a no-op. */
void		 access_free(struct access *);

/* Number of rules read. */
size_t		 access_count(const struct access *);

/*
 * The action for a client at address a (a host address: plen is not
 * read).  A NULL ruleset answers everyone.
 */
enum access_action access_lookup(const struct access *,
		    const struct addr *a);

#endif
