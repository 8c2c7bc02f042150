/*
 * probe.h -- one relay test of one address, over libevent
 *
 * A probe runs the battery's sessions one after another against the
 * address's SMTP port, each session a TCP connection driven by the
 * smtp_client state machine, with a timeout per stage (connect, greeting,
 * each reply).  It stops early when a session does not end cleanly (421,
 * timeout, garbage, hang-up): the server is then not in a state to judge.
 * Each session's socket is bound first to the source address of the
 * probed family, when one is given (port 0: the kernel picks the port).
 * A session whose STARTTLS handshake fails is run again in plain text,
 * and so are the probe's later sessions: the server is judged on what
 * it does without TLS.  A probe in flight holds its session, one
 * transcript that grows to PROBE_TRANSCRIPT_MAX, and its connection;
 * the attempts' words are made when sent.
 * When done it calls back once; the caller reads the attempts' results and
 * the transcript, then frees the probe.
 */
#ifndef RELAYBL_PROBE_H
#define RELAYBL_PROBE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "addr.h"
#include "battery.h"
#include "smtp_client.h"

struct event_base;
struct probe;
struct ssl_ctx_st;

/* What every probe shares: proberd's, outliving every probe. */
struct probe_conf {
	uint16_t		 port;
	struct addr		 source4;	/* IPv4 probes bind here first; */
	struct addr		 source6;	/* IPv6 ones here (family 0: none) */
	int64_t			 timeout_connect;	/* seconds */
	int64_t			 timeout_greeting;
	int64_t			 timeout_command;	/* and the handshake */
	const char		*domain;	/* the sink's, and our EHLO name */
	const char		*info_url;
	const uint8_t		*key;		/* cookie secret */
	size_t			 keylen;
	int			 starttls;	/* enum smtp_starttls */
	struct ssl_ctx_st	*tls;		/* probe_tls_new(); NULL: never */
};

struct probe_summary {
	int	attempts;	/* attempts made */
	int	accepted;	/* messages taken at end of DATA */
	int	refused;
	int	tempfail;
	int	tempfail_rcpt;	/* of tempfail: 4xx in answer to RCPT */
	int	sessions;	/* sessions started */
	int	complete;	/* every session ended with QUIT */
	int	last_end;	/* enum smtp_end of the last session */
	int	last_code;	/* its last reply code (421: "closing") */
	int	accepted_form;	/* form index of the first accepted, or -1 */
	int	tls;		/* sessions upgraded by STARTTLS */
	int	tls_failed;	/* handshakes that failed (then plain) */
	int	tls_refused;	/* STARTTLS answered other than 220 */
	char	tls_what[96];	/* of the last upgrade: "TLSv1.3 CIPHER" */
};

typedef void	(*probe_done_fn)(struct probe *, void *arg);

/*
 * The TLS context of every probe's STARTTLS: any protocol version and
 * cipher the library has, no certificate check (we probe, we do not
 * send mail), buffers released while idle.  NULL on failure (logged).
 */
struct ssl_ctx_st *probe_tls_new(void);
void		 probe_tls_free(struct ssl_ctx_st *);

/*
 * Starts a probe of addr, its cookies dated now.  Returns NULL when it
 * cannot start (logged).
 */
struct probe	*probe_start(struct event_base *, const struct probe_conf *,
		    const struct addr *addr, int64_t now, probe_done_fn,
		    void *arg);

/* Stops a running probe without calling back, and frees it. */
void		 probe_free(struct probe *);

/*
 * Whether src can be a probe's source: binds a TCP socket of its family
 * to src, port 0, as each session does, and closes it.  Returns 0, or -1
 * with errno set (EADDRNOTAVAIL: src is not an address of this host).
 */
int		 probe_source_check(const struct addr *src);

const struct addr *probe_addr(const struct probe *);
void		 probe_summary(const struct probe *, struct probe_summary *);

/*
 * Writes the transcript of every session so far to fp, the one in
 * progress included.
 */
void		 probe_write_transcript(const struct probe *, FILE *fp);

#endif
