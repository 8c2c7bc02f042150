/*
 * addr.h -- IPv4/IPv6 addresses and CIDR prefixes
 *
 * One representation for every address and prefix relaybl handles: the
 * family, the prefix length and the address bytes in network order, host
 * bits always zero.  Byte order is numeric order, so these bytes are the
 * store's keys as they are.  Parsing accepts what operators write in list
 * files (the rbldnsd ip4set/ip6trie syntax: abbreviated prefixes such as
 * "10.1" or "10.1/16", ranges such as "10.0.0.5-9" or "a-b" which are split
 * into the fewest CIDR prefixes that cover them exactly).  Nothing here
 * allocates or does I/O.
 */
#ifndef RELAYBL_ADDR_H
#define RELAYBL_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define ADDR_V4 4
#define ADDR_V6 6

/* Longest text form of a prefix: IPv6 with "/128" and the NUL. */
#define ADDR_STRLEN 50

struct addr {
	uint8_t	family;		/* ADDR_V4 or ADDR_V6 */
	uint8_t	plen;		/* 0..32 or 0..128 */
	uint8_t	bytes[16];	/* network order; v4 uses the first 4 */
};

/* Number of address bytes for the family: 4 or 16. */
size_t	addr_len(const struct addr *);

/* Maximum prefix length for the family: 32 or 128. */
int	addr_maxplen(const struct addr *);

/*
 * Parses one single address or CIDR prefix in strict form: "1.2.3.4",
 * "1.2.3.0/24", "2001:db8::1", "2001:db8::/32".  A prefix whose host bits are
 * not zero is an error (so a typo cannot list more than meant).  Without a
 * "/len" the prefix is a full-length host.  Returns 0, or -1 with *err set to
 * a static message.
 */
int	addr_parse(const char *, struct addr *, const char **err);

/*
 * Parses one entry of a list file, rbldnsd syntax: everything addr_parse
 * takes, plus abbreviated IPv4 prefixes ("127.0.0" = 127.0.0.0/24,
 * "127/8"), IPv4 ranges ("127.0.0.1-255", "127.16-31",
 * "10.0.0.0-10.0.3.255") and IPv6 prefixes with trailing zero groups left
 * out ("2001:db8:1" = 2001:db8:1::/48).  A range becomes the fewest exact
 * prefixes; up to max of them are written to out.  Returns the number
 * written, or -1 with *err set (also when more than max would be needed).
 */
int	addr_parse_entry(const char *, struct addr *out, int max,
	    const char **err);

/* Formats "1.2.3.4", "1.2.3.0/24", "2001:db8::1", "2001:db8::/32" (no "/len"
 * for a host).  buf must hold ADDR_STRLEN bytes.  Returns buf. */
char	*addr_format(const struct addr *, char *buf);

/* Clears the host bits beyond a->plen. */
void	addr_mask(struct addr *);

/* 1 if prefix p contains the address or prefix a (same family, p->plen <=
 * a->plen, same leading bits), else 0. */
int	addr_contains(const struct addr *p, const struct addr *a);

/*
 * The host address of a socket address (struct sockaddr_in or _in6 at
 * sa; an IPv4-mapped IPv6 address becomes its IPv4 address).  Returns 0,
 * or -1 for another family.
 */
int	addr_of_sockaddr(const void *sa, struct addr *out);

/* 1 for special-use ranges (RFC 6890: loopback, private, link-local,
 * documentation, multicast, unspecified, ...), else 0. */
int	addr_is_special(const struct addr *);

#endif
