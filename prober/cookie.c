/*
 * cookie.c -- the token that proves a relayed test message is ours
 *
 * Layout before encoding: version (1), time (4, big-endian), attempt (2),
 * family (1), address (4 or 16), then the first 10 bytes of
 * HMAC-SHA256(key, everything before).  80 bits of MAC: a forger gets one
 * guess per message it sends us.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cookie.h"

#define VERSION		1
#define MAC_LEN		10
#define RAW_MAX		(1 + 4 + 2 + 1 + 16 + MAC_LEN)

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static size_t
encode(const uint8_t *in, size_t n, char *out)
{
	size_t		o = 0;
	uint32_t	buf = 0;
	int		bits = 0;

	for (size_t i = 0; i < n; i++) {
		buf = buf << 8 | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32[(buf << (5 - bits)) & 31];
	out[o] = '\0';
	return o;
}

static int
b32val(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* Decodes n base32 characters; returns the bytes written or -1. */
static int
decode(const char *in, size_t n, uint8_t *out, size_t max)
{
	uint32_t	buf = 0;
	int		bits = 0;
	size_t		o = 0;

	for (size_t i = 0; i < n; i++) {
		int v = b32val(in[i]);
		if (v < 0)
			return -1;
		buf = buf << 5 | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o == max)
				return -1;
			out[o++] = (buf >> (bits - 8)) & 0xff;
			bits -= 8;
		}
	}
	/* One text per cookie: the padding bits must be zero. */
	if (bits > 0 && (buf & ((1u << bits) - 1)) != 0)
		return -1;
	return (int)o;
}

static size_t
raw_len(int family)
{
	return 1 + 4 + 2 + 1 + (family == ADDR_V4 ? 4 : 16) + MAC_LEN;
}

/* Encoded length of a cookie for the family, with the "rb" prefix. */
static size_t
text_len(int family)
{
	return 2 + (raw_len(family) * 8 + 4) / 5;
}

static void
mac(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t n,
    uint8_t *out)
{
	uint8_t		md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;

	HMAC(EVP_sha256(), key, (int)keylen, msg, n, md, &mdlen);
	memcpy(out, md, MAC_LEN);
}

int
cookie_make(const uint8_t *key, size_t keylen, const struct cookie *c,
    char *out)
{
	uint8_t	raw[RAW_MAX];
	size_t	alen, n = 0;

	if (keylen < COOKIE_KEY_MIN || (c->addr.family != ADDR_V4 &&
	    c->addr.family != ADDR_V6) ||
	    c->addr.plen != addr_maxplen(&c->addr))
		return -1;
	alen = addr_len(&c->addr);
	raw[n++] = VERSION;
	raw[n++] = c->time >> 24;
	raw[n++] = c->time >> 16;
	raw[n++] = c->time >> 8;
	raw[n++] = c->time;
	raw[n++] = c->attempt >> 8;
	raw[n++] = c->attempt & 0xff;
	raw[n++] = c->addr.family;
	memcpy(raw + n, c->addr.bytes, alen);
	n += alen;
	mac(key, keylen, raw, n, raw + n);
	n += MAC_LEN;
	out[0] = 'r';
	out[1] = 'b';
	return (int)(2 + encode(raw, n, out + 2));
}

int
cookie_check(const uint8_t *key, size_t keylen, const char *text, size_t len,
    int64_t now, int64_t max_age, struct cookie *c)
{
	uint8_t	raw[RAW_MAX + 4], want[MAC_LEN];
	int	n;
	size_t	body;

	if (len < 2 || (text[0] != 'r' && text[0] != 'R') ||
	    (text[1] != 'b' && text[1] != 'B') ||
	    (len != text_len(ADDR_V4) && len != text_len(ADDR_V6)))
		return COOKIE_BAD;
	if ((n = decode(text + 2, len - 2, raw, sizeof(raw))) < 0 ||
	    raw[0] != VERSION || (raw[7] != ADDR_V4 && raw[7] != ADDR_V6) ||
	    (size_t)n != raw_len(raw[7]) || len != text_len(raw[7]))
		return COOKIE_BAD;
	body = (size_t)n - MAC_LEN;
	mac(key, keylen, raw, body, want);
	if (CRYPTO_memcmp(want, raw + body, MAC_LEN) != 0)
		return COOKIE_BAD;
	memset(c, 0, sizeof(*c));
	c->time = (uint32_t)raw[1] << 24 | raw[2] << 16 | raw[3] << 8 | raw[4];
	c->attempt = (uint16_t)(raw[5] << 8 | raw[6]);
	c->addr.family = raw[7];
	c->addr.plen = raw[7] == ADDR_V4 ? 32 : 128;
	memcpy(c->addr.bytes, raw + 8, raw[7] == ADDR_V4 ? 4 : 16);
	if ((int64_t)c->time > now + 60)
		return COOKIE_BAD;
	if (now - (int64_t)c->time > max_age)
		return COOKIE_EXPIRED;
	return COOKIE_OK;
}

long
cookie_find(const char *text, size_t textlen, size_t *len)
{
	for (size_t i = 0; i + 2 <= textlen; i++) {
		if ((text[i] != 'r' && text[i] != 'R') ||
		    (text[i + 1] != 'b' && text[i + 1] != 'B'))
			continue;
		if (i > 0 && b32val(text[i - 1]) >= 0)
			continue;	/* inside a longer word */
		size_t n = 2;
		while (i + n < textlen && b32val(text[i + n]) >= 0)
			n++;
		if (n == text_len(ADDR_V4) || n == text_len(ADDR_V6)) {
			*len = n;
			return (long)i;
		}
	}
	return -1;
}
