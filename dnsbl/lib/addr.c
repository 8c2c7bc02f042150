/*
 * addr.c -- IPv4/IPv6 addresses and CIDR prefixes
 *
 * Strict single prefixes go through inet_pton(3), which already refuses
 * whitespace, zone ids and leading zeros in IPv4 octets.  The list-file
 * syntax inherited from rbldnsd (abbreviated IPv4 prefixes and ranges) needs
 * its own small IPv4 parser, which keeps the same rules.  Leading zeros are
 * refused in octets and in prefix lengths alike: "010" is octal to
 * inet_aton(3) and decimal to rbldnsd, and an entry that means different
 * things to different tools is a listing mistake waiting to happen.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

/* One side of an IPv4 range, or an abbreviated prefix, as written. */
struct v4bound {
	uint8_t	octet[4];
	int	n;			/* octets given: 1..4 */
};

static int	 fail(const char **, const char *);
static int	 isdig(char);
static int	 parse_plen(const char *, int, int *, const char **);
static int	 check_host_bits(const struct addr *, const char **);
static int	 parse_v6_entry(const char *, size_t, struct addr *,
		    const char **);
static const char *parse_v4_bound(const char *, struct v4bound *,
		    const char **);
static int	 parse_v4_entry(const char *, struct addr *, int,
		    const char **);
static uint32_t	 v4_value(const struct v4bound *, uint8_t);
static int	 v4_split(uint32_t, uint32_t, struct addr *, int,
		    const char **);

#define V4(plen, a, b, c, d)	{ ADDR_V4, plen, { a, b, c, d } }

/* RFC 6890 and its updates; v4-mapped IPv6 is here too, because a listing
 * of ::ffff:a.b.c.d would never be asked for: queries for IPv4 clients come
 * in IPv4 form. */
static const struct addr special[] = {
	V4(8, 0, 0, 0, 0),
	V4(8, 10, 0, 0, 0),
	V4(10, 100, 64, 0, 0),
	V4(8, 127, 0, 0, 0),
	V4(16, 169, 254, 0, 0),
	V4(12, 172, 16, 0, 0),
	V4(24, 192, 0, 0, 0),
	V4(24, 192, 0, 2, 0),
	V4(24, 192, 88, 99, 0),
	V4(16, 192, 168, 0, 0),
	V4(15, 198, 18, 0, 0),
	V4(24, 198, 51, 100, 0),
	V4(24, 203, 0, 113, 0),
	V4(4, 224, 0, 0, 0),
	V4(4, 240, 0, 0, 0),
	V4(32, 255, 255, 255, 255),
	{ ADDR_V6, 128, { 0 } },
	{ ADDR_V6, 128, { [15] = 1 } },
	{ ADDR_V6, 96, { [10] = 0xff, [11] = 0xff } },
	{ ADDR_V6, 96, { 0x00, 0x64, 0xff, 0x9b } },
	{ ADDR_V6, 64, { 0x01, 0x00 } },
	{ ADDR_V6, 23, { 0x20, 0x01 } },
	{ ADDR_V6, 32, { 0x20, 0x01, 0x0d, 0xb8 } },
	{ ADDR_V6, 16, { 0x20, 0x02 } },
	{ ADDR_V6, 7, { 0xfc } },
	{ ADDR_V6, 10, { 0xfe, 0x80 } },
	{ ADDR_V6, 8, { 0xff } },
};

static int
fail(const char **err, const char *msg)
{
	if (err != NULL)
		*err = msg;
	return -1;
}

static int
isdig(char c)
{
	return c >= '0' && c <= '9';
}

size_t
addr_len(const struct addr *a)
{
	return a->family == ADDR_V6 ? 16 : 4;
}

int
addr_maxplen(const struct addr *a)
{
	return a->family == ADDR_V6 ? 128 : 32;
}

/* The whole of s must be the prefix length. */
static int
parse_plen(const char *s, int max, int *plen, const char **err)
{
	const char	*p;
	int		 v = 0;

	if (*s == '\0')
		return fail(err, "missing prefix length");
	if (s[0] == '0' && isdig(s[1]))
		return fail(err, "leading zero in prefix length");
	/* v stops growing past max, so any number of digits is safe */
	for (p = s; isdig(*p); p++)
		if (v <= max)
			v = v * 10 + (*p - '0');
	if (p == s || *p != '\0')
		return fail(err, "malformed prefix length");
	if (v > max)
		return fail(err, "prefix length out of range");
	*plen = v;
	return 0;
}

static int
check_host_bits(const struct addr *a, const char **err)
{
	struct addr	 m = *a;

	addr_mask(&m);
	if (memcmp(m.bytes, a->bytes, sizeof(m.bytes)) != 0)
		return fail(err, "host bits set beyond the prefix length");
	return 0;
}

int
addr_parse(const char *s, struct addr *a, const char **err)
{
	const char	*slash;
	char		 text[INET6_ADDRSTRLEN];
	size_t		 len;
	int		 plen;

	memset(a, 0, sizeof(*a));
	if (*s == '\0')
		return fail(err, "empty address");
	slash = strchr(s, '/');
	len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (len == 0)
		return fail(err, "missing address");
	if (len >= sizeof(text))
		return fail(err, "not an IPv4 or IPv6 address");
	memcpy(text, s, len);
	text[len] = '\0';
	if (memchr(text, ':', len) != NULL) {
		if (inet_pton(AF_INET6, text, a->bytes) != 1)
			return fail(err, "not an IPv4 or IPv6 address");
		a->family = ADDR_V6;
	} else {
		if (inet_pton(AF_INET, text, a->bytes) != 1)
			return fail(err, "not an IPv4 or IPv6 address");
		a->family = ADDR_V4;
	}
	plen = addr_maxplen(a);
	if (slash != NULL &&
	    parse_plen(slash + 1, addr_maxplen(a), &plen, err) == -1)
		return -1;
	a->plen = (uint8_t)plen;
	return check_host_bits(a, err);
}

/*
 * Without "::", fewer than 8 groups and no dotted quad, the trailing groups
 * were left out (rbldnsd's ip6trie form); everything else is a strict
 * address.
 */
static int
parse_v6_entry(const char *s, size_t len, struct addr *a, const char **err)
{
	char	 text[INET6_ADDRSTRLEN];
	size_t	 i;
	int	 groups = 1, plen;

	for (i = 0; i < len; i++) {
		if (s[i] == '.' || (s[i] == ':' && s[i + 1] == ':'))
			return addr_parse(s, a, err);
		if (s[i] == ':')
			groups++;
	}
	if (groups >= 8)
		return addr_parse(s, a, err);

	memset(a, 0, sizeof(*a));
	if (len + sizeof("::") > sizeof(text))
		return fail(err, "not an IPv4 or IPv6 address");
	memcpy(text, s, len);
	memcpy(text + len, "::", sizeof("::"));
	if (inet_pton(AF_INET6, text, a->bytes) != 1)
		return fail(err, "not an IPv4 or IPv6 address");
	a->family = ADDR_V6;
	plen = 16 * groups;
	if (s[len] == '/' && parse_plen(s + len + 1, 128, &plen, err) == -1)
		return -1;
	a->plen = (uint8_t)plen;
	return check_host_bits(a, err);
}

/* Returns the first character after the octets, or NULL on error. */
static const char *
parse_v4_bound(const char *s, struct v4bound *b, const char **err)
{
	int	 v;

	memset(b, 0, sizeof(*b));
	for (;;) {
		if (b->n == 4) {
			fail(err, "too many octets");
			return NULL;
		}
		if (!isdig(*s)) {
			fail(err, "malformed IPv4 address");
			return NULL;
		}
		if (s[0] == '0' && isdig(s[1])) {
			fail(err, "leading zero in octet");
			return NULL;
		}
		for (v = 0; isdig(*s); s++) {
			v = v * 10 + (*s - '0');
			if (v > 255) {
				fail(err, "octet out of range");
				return NULL;
			}
		}
		b->octet[b->n++] = (uint8_t)v;
		if (*s != '.')
			return s;
		s++;
	}
}

/* The octets not written are filled with fill. */
static uint32_t
v4_value(const struct v4bound *b, uint8_t fill)
{
	uint32_t	 v = 0;
	int		 i;

	for (i = 0; i < 4; i++)
		v = v << 8 | (i < b->n ? b->octet[i] : fill);
	return v;
}

static int
parse_v4_entry(const char *s, struct addr *out, int max, const char **err)
{
	struct v4bound	 lo, hi;
	const char	*p;
	uint32_t	 start, end;
	int		 plen;

	if ((p = parse_v4_bound(s, &lo, err)) == NULL)
		return -1;
	start = v4_value(&lo, 0);
	if (*p == '\0' || *p == '/') {
		plen = 8 * lo.n;
		if (*p == '/' && parse_plen(p + 1, 32, &plen, err) == -1)
			return -1;
		memset(out, 0, sizeof(*out));
		out->family = ADDR_V4;
		out->plen = (uint8_t)plen;
		memcpy(out->bytes, lo.octet, sizeof(lo.octet));
		return check_host_bits(out, err) == -1 ? -1 : 1;
	}
	if (*p != '-')
		return fail(err, "malformed IPv4 address");
	if ((p = parse_v4_bound(p + 1, &hi, err)) == NULL)
		return -1;
	if (*p == '/')
		return fail(err, "a range takes no prefix length");
	if (*p != '\0')
		return fail(err, "malformed IPv4 address");
	if (hi.n == 1 && lo.n > 1) {
		/* "a.b.c.d-e": e replaces the last octet written */
		hi.octet[lo.n - 1] = hi.octet[0];
		memcpy(hi.octet, lo.octet, lo.n - 1);
		hi.n = lo.n;
	}
	end = v4_value(&hi, 255);
	if (end < start)
		return fail(err, "range end is before its start");
	return v4_split(start, end, out, max, err);
}

/*
 * Each step takes the largest aligned block that starts at start and does
 * not pass end, which gives the fewest prefixes, in ascending order.  The
 * arithmetic is 64-bit so that a range ending at 255.255.255.255 ends.
 */
static int
v4_split(uint32_t lo, uint32_t hi, struct addr *out, int max,
    const char **err)
{
	uint64_t	 start = lo, end = hi, size;
	int		 n = 0, plen;

	while (start <= end) {
		for (plen = 32; plen > 0; plen--) {
			size = (uint64_t)1 << (33 - plen);
			if (start % size != 0 || start + size - 1 > end)
				break;
		}
		if (n == max)
			return fail(err, "range needs too many prefixes");
		memset(&out[n], 0, sizeof(out[n]));
		out[n].family = ADDR_V4;
		out[n].plen = (uint8_t)plen;
		out[n].bytes[0] = (uint8_t)(start >> 24);
		out[n].bytes[1] = (uint8_t)(start >> 16);
		out[n].bytes[2] = (uint8_t)(start >> 8);
		out[n].bytes[3] = (uint8_t)start;
		n++;
		start += (uint64_t)1 << (32 - plen);
	}
	return n;
}

int
addr_parse_entry(const char *s, struct addr *out, int max, const char **err)
{
	const char	*slash;
	size_t		 len;

	if (max < 1)
		return fail(err, "no room for a prefix");
	if (*s == '\0')
		return fail(err, "empty address");
	if (*s == '/')
		return fail(err, "missing address");
	slash = strchr(s, '/');
	len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (memchr(s, ':', len) == NULL)
		return parse_v4_entry(s, out, max, err);
	if (memchr(s, '-', len) != NULL)
		return fail(err, "IPv6 ranges are not supported");
	return parse_v6_entry(s, len, out, err) == -1 ? -1 : 1;
}

char *
addr_format(const struct addr *a, char *buf)
{
	size_t	 len;

	if (a->family == ADDR_V6) {
		if (inet_ntop(AF_INET6, a->bytes, buf, ADDR_STRLEN) == NULL)
			buf[0] = '\0';
	} else
		snprintf(buf, ADDR_STRLEN, "%u.%u.%u.%u", a->bytes[0],
		    a->bytes[1], a->bytes[2], a->bytes[3]);
	if (a->plen < addr_maxplen(a)) {
		len = strlen(buf);
		snprintf(buf + len, ADDR_STRLEN - len, "/%u", a->plen);
	}
	return buf;
}

/*
 * The unused bytes of an IPv4 address are cleared too, so that two equal
 * prefixes are equal with memcmp.
 */
void
addr_mask(struct addr *a)
{
	int	 i, bits = a->plen;

	if (bits > addr_maxplen(a))
		bits = addr_maxplen(a);
	for (i = 0; i < (int)sizeof(a->bytes); i++) {
		if (bits >= 8) {
			bits -= 8;
			continue;
		}
		a->bytes[i] &= (uint8_t)(0xff00 >> bits);
		bits = 0;
	}
}

int
addr_contains(const struct addr *p, const struct addr *a)
{
	int	 full, rem;

	if (p->family != a->family || p->plen > a->plen ||
	    p->plen > addr_maxplen(p))
		return 0;
	full = p->plen / 8;
	rem = p->plen % 8;
	if (memcmp(p->bytes, a->bytes, full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	return ((p->bytes[full] ^ a->bytes[full]) & (0xff00 >> rem)) == 0;
}

/* Overlap either way: a listing that covers a special range is as suspect
 * as one inside it. */
int
addr_is_special(const struct addr *a)
{
	size_t	 i;

	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (addr_contains(&special[i], a) ||
		    addr_contains(a, &special[i]))
			return 1;
	return 0;
}

int
addr_of_sockaddr(const void *sa, struct addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const struct sockaddr_in	*sin = sa;
	const struct sockaddr_in6	*sin6 = sa;

	memset(a, 0, sizeof(*a));
	if (sin->sin_family == AF_INET) {
		a->family = ADDR_V4;
		a->plen = 32;
		memcpy(a->bytes, &sin->sin_addr, 4);
	} else if (sin6->sin6_family == AF_INET6) {
		const uint8_t *b = (const uint8_t *)&sin6->sin6_addr;
		if (memcmp(b, mapped, 12) == 0) {
			a->family = ADDR_V4;
			a->plen = 32;
			memcpy(a->bytes, b + 12, 4);
		} else {
			a->family = ADDR_V6;
			a->plen = 128;
			memcpy(a->bytes, b, 16);
		}
	} else
		return -1;
	return 0;
}
