/*
 * sink.h -- the prober's own SMTP server, where relayed cookies arrive
 *
 * It takes mail only for the probe domain and only for recipients whose
 * local part is a valid, unexpired cookie; everything else is refused, so
 * the sink relays nothing and stores nothing but proofs.  A message that
 * arrives is handed to the caller with the cookies it proves and the
 * message as received; the caller knows which address delivered it.
 * Like the client, this is logic without sockets: feed it lines, send
 * what it answers.
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

struct sink_conf {
	const char	*domain;	/* probe_domain */
	const uint8_t	*key;
	size_t		 keylen;
	int64_t		 max_age;	/* how old a cookie may be, seconds */
};

enum sink_state { SINK_CMD, SINK_DATA, SINK_CLOSED };

struct sink_session {
	const struct sink_conf	*conf;
	int			 state;
	int			 helo;		/* EHLO/HELO seen */
	int			 mail;		/* MAIL seen */
	int			 errors;
	struct cookie		 rcpt[SINK_RCPT_MAX];
	int			 nrcpt;
	size_t			 len;
	int			 too_big;
	char			 message[SINK_MESSAGE_MAX];
	char			 reply[256];
};

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

/* The greeting to send when a client connects. */
void	sink_session_init(struct sink_session *, const struct sink_conf *,
	    int64_t now, struct sink_action *);

/* Feeds one line from the client (without CRLF). */
void	sink_session_line(struct sink_session *, const char *line, size_t len,
	    int64_t now, struct sink_action *);

#endif
