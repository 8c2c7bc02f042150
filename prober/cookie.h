/*
 * cookie.h -- the token that proves a relayed test message is ours
 *
 * Each relay attempt carries a cookie in its recipient and its body: the
 * tested address, the attempt number and the time, authenticated with
 * HMAC-SHA256 under the prober's secret.  The sink accepts mail only for
 * valid, unexpired cookies and learns from the cookie alone which address
 * and which attempt a delivered message proves.  Cookies are lowercase
 * base32 ("rb" + 36 or 55 characters), so they survive relays that
 * fold the case of local parts and need no quoting in an address.
 */
#ifndef RELAYBL_COOKIE_H
#define RELAYBL_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define COOKIE_MAX	64	/* longest cookie text with its NUL */
#define COOKIE_KEY_MIN	16	/* bytes of secret at the least */

struct cookie {
	struct addr	addr;		/* the tested address (a host) */
	uint32_t	time;		/* unix seconds when it was made */
	uint16_t	attempt;	/* attempt number within the probe */
};

/* Results of cookie_check(). */
#define COOKIE_OK	0
#define COOKIE_BAD	-1	/* not a cookie, or not ours */
#define COOKIE_EXPIRED	-2	/* ours, but older than max_age */

/*
 * Writes the cookie text for c into out (COOKIE_MAX bytes).  Returns its
 * length, or -1 (c->addr not a single address, key too short).
 */
int	cookie_make(const uint8_t *key, size_t keylen, const struct cookie *c,
	    char *out);

/*
 * Checks the cookie text (len bytes, any case).  On COOKIE_OK and
 * COOKIE_EXPIRED fills c.  A cookie from the future (more than a minute
 * ahead of now) is BAD.
 */
int	cookie_check(const uint8_t *key, size_t keylen, const char *text,
	    size_t len, int64_t now, int64_t max_age, struct cookie *c);

/*
 * Finds the first cookie-shaped token ("rb" and base32 characters of a
 * cookie's length) in text.  Returns its offset and sets *len, or -1.
 */
long	cookie_find(const char *text, size_t textlen, size_t *len);

#endif
