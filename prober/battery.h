/*
 * battery.h -- the relay-test battery: address forms turned into attempts
 *
 * The forms of shared/reference/relay-tests.md, each an attempt with its
 * own cookie in the recipient and the body.  The battery is spread over
 * sessions of at most BATTERY_PER_SESSION attempts, so that the error
 * limits of real servers (Postfix disconnects after 20 errors, Exim stops
 * accepting RCPT after 10 with fewer than half accepted) cannot hide a
 * form that would have been relayed.  "{h}" is left in place for the SMTP
 * session to fill with the name the server gives itself.
 */
#ifndef RELAYBL_BATTERY_H
#define RELAYBL_BATTERY_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "smtp_client.h"

#define BATTERY_PER_SESSION	8

struct battery_ctx {
	const char	*domain;	/* the sink's mail domain ({d}) */
	struct addr	 target;	/* the tested address ({ip}) */
	int64_t		 now;
	const uint8_t	*key;		/* cookie secret */
	size_t		 keylen;
	const char	*info_url;	/* what this is, how to delist */
};

/* Number of forms in the battery, and of sessions it takes. */
int	battery_forms(void);
int	battery_sessions(void);

/* A short name of form i ("plain", "percent-hack-ip"), for evidence. */
const char *battery_form_name(int i);

/*
 * Fills out with the attempts of session k (0-based): returns how many
 * (at most BATTERY_PER_SESSION), 0 past the last session, -1 if a cookie
 * cannot be made.  Attempt numbers in the cookies are the form indexes.
 */
int	battery_session(const struct battery_ctx *, int k,
	    struct smtp_attempt *out);

#endif
