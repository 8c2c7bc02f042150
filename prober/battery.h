/*
 * battery.h -- the relay-test battery: address forms turned into attempts
 *
 * The forms of shared/reference/relay-tests.md, each an attempt with its
 * own cookie in the recipient and the body.  The battery is spread over
 * sessions of at most BATTERY_PER_SESSION attempts, so that the error
 * limits of real servers (Postfix disconnects after 20 errors, Exim stops
 * accepting RCPT after 10 with fewer than half accepted) cannot hide a
 * form that would have been relayed.  Session k holds forms
 * k * BATTERY_PER_SESSION onwards.  "{h}" is left in place for the SMTP
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

/* How many attempts session k (0-based) has: 0 past the last session. */
int	battery_session_attempts(int k);

/*
 * Writes part (enum smtp_part: sender, recipient, message) of the attempt
 * of form form into buf (size bytes, NUL-terminated; "{h}" left in
 * place).  The cookie's attempt number is the form index.  Returns 0, or
 * -1 (no such form or part, or no cookie could be made).
 */
int	battery_build(const struct battery_ctx *, int form, int part,
	    char *buf, size_t size);

#endif
