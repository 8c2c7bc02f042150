/*
 * sink.h -- the prober's own SMTP server, where relayed cookies arrive
 *
 * It takes mail only for the probe domain and only for recipients whose
 * local part is a valid, unexpired cookie; everything else is refused, so
 * the sink relays nothing and stores nothing but proofs.  A message that
 * arrives is handed to the caller with the cookies it proves and the
 * message as received; the caller knows which address delivered it, and
 * decides whether any probe waits for those cookies.
 * Like the client, this is logic without sockets: feed it lines, send
 * what it answers.  The session is opaque and small while idle: the
 * message buffer is allocated in DATA, grown as the message grows (to
 * SINK_MESSAGE_MAX at most) and freed after the message.
 */
#ifndef RELAYBL_SINK_H
#define RELAYBL_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "cookie.h"

#define SINK_RCPT_MAX		8
#define SINK_MESSAGE_MAX	65536
#define SINK_LINE_MAX		1000
#define SINK_ERRORS_MAX		10
#define SINK_COMMANDS_MAX	200	/* commands in one session */

struct sink_conf {
	const char	*domain;	/* probe_domain */
	const uint8_t	*key;
	size_t		 keylen;
	int64_t		 max_age;	/* how old a cookie may be, seconds */
};

/*
 * Where a session is, for the caller's timeouts: greeted and waiting for
 * the first command, between commands, inside DATA, or closed.
 */
enum sink_state { SINK_START, SINK_CMD, SINK_DATA, SINK_CLOSED };

struct sink_session;

/* A message that arrived, with what it proves (valid until next call). */
struct sink_delivery {
	const struct cookie	*cookies;
	int			 ncookies;
	const char		*message;
	size_t			 len;
};

/* What the caller does: send reply (if any), and close when asked. */
struct sink_action {
	const char		*reply;		/* NULL: nothing to send */
	size_t			 len;
	int			 close;
	int			 delivered;	/* 1: delivery is filled */
	struct sink_delivery	 delivery;
};

/*
 * Starts a session for a client that just connected: a fills with the
 * greeting to send.  conf must outlive the session.  Returns the session
 * (free it with sink_session_free), or NULL when out of memory.
 */
struct sink_session *sink_session_new(const struct sink_conf *,
	    int64_t now, struct sink_action *);

/* Frees the session and its message buffer; NULL is a no-op. */
void	sink_session_free(struct sink_session *);

/*
 * Feeds one line from the client (without CRLF).  The reply and a
 * delivery in a point into the session and stay valid until the next
 * call on it (which frees the message of a delivery).
 */
void	sink_session_line(struct sink_session *, const char *line, size_t len,
	    int64_t now, struct sink_action *);

/* The session's enum sink_state. */
int	sink_session_state(const struct sink_session *);

/*
 * 1 while a transaction has a valid recipient or is inside DATA: a
 * session that may be about to prove something.  0 for one that has
 * proved nothing yet (the caller may close it first under pressure).
 */
int	sink_session_busy(const struct sink_session *);

/* Bytes of heap the session holds (the session and its message). */
size_t	sink_session_size(const struct sink_session *);

#endif
