/*
 * smtp_client.h -- the prober's SMTP client as an explicit state machine
 *
 * One session with one server: wait for the greeting (never speak first),
 * EHLO (HELO if EHLO is refused), then for each attempt MAIL, RCPT, DATA,
 * the message, RSET; QUIT at the end.  The machine touches no socket and
 * no clock: the caller feeds it each line the server sends and each
 * timeout, and it answers with what to do next (send these bytes, wait,
 * close).  So it is unit-tested and fuzzed directly, and a hostile server
 * can cost one connection and a timeout, nothing more: replies are capped
 * in line length and line count.  Every state change is logged at debug
 * level ("smtp 0x...: MAIL -> RCPT"); a state the machine does not know is
 * a bug of ours and fatal (fatalx), never a server's doing.
 *
 * STARTTLS (RFC 3207): in auto mode a session says STARTTLS when the
 * EHLO reply offers it, or when MAIL is answered 530 ("Must issue a
 * STARTTLS command first"); on 220 the caller does the handshake
 * (SMTP_DO_STARTTLS), tells the machine how it went, and the session
 * starts again with EHLO, over TLS.  A STARTTLS answered otherwise goes
 * on in plain text, judged as plain (the 530 stands as the refusal).
 *
 * Memory: a session keeps no attempt's words, only their results; the
 * sender, recipient and message are built when sent (struct smtp_source),
 * and the transcript is the caller's, shared by a probe's sessions.
 *
 * Placeholders in an attempt's sender, recipient and body: "{h}" is the
 * first name the server gave itself (greeting, else EHLO reply, else
 * "localhost").
 */
#ifndef RELAYBL_SMTP_CLIENT_H
#define RELAYBL_SMTP_CLIENT_H

#include <stddef.h>

#define SMTP_ATTEMPTS_MAX	8
#define SMTP_LINE_MAX		1000	/* RFC 5321 4.5.3.1.5 reply line */
#define SMTP_REPLY_LINES_MAX	64
#define SMTP_NAME_MAX		256
#define SMTP_ADDR_MAX		512
#define SMTP_BODY_MAX		2048	/* a message as the builder makes it */
#define SMTP_OUT_MAX		(SMTP_BODY_MAX + 512)	/* dot-stuffed, CRLF */

enum smtp_state {
	SMTP_GREETING, SMTP_EHLO, SMTP_HELO, SMTP_STARTTLS, SMTP_TLS,
	SMTP_MAIL, SMTP_RCPT, SMTP_DATA, SMTP_BODY, SMTP_RSET, SMTP_QUIT,
	SMTP_DONE
};

/* What became of one attempt. */
enum smtp_result {
	SMTP_R_PENDING = 0,
	SMTP_R_ACCEPTED,	/* the message was taken at the end of DATA */
	SMTP_R_REFUSED,		/* 5xx at MAIL, RCPT, DATA or end of data */
	SMTP_R_TEMPFAIL,	/* 4xx: try later */
};

/* How the session ended. */
enum smtp_end {
	SMTP_END_NONE = 0,
	SMTP_END_OK,		/* every attempt tried, QUIT */
	SMTP_END_CLOSED,	/* 421, or refused at greeting or HELO */
	SMTP_END_TIMEOUT,	/* the server stopped answering */
	SMTP_END_GARBAGE,	/* not SMTP, or a reply over the limits */
	SMTP_END_DROPPED,	/* connection closed by the server mid-way */
	SMTP_END_TLSFAIL,	/* the TLS handshake after STARTTLS failed */
};

/* When a session says STARTTLS ([prober] starttls). */
enum smtp_starttls {
	SMTP_STARTTLS_AUTO,	/* when advertised, or after 530 to MAIL */
	SMTP_STARTTLS_ALWAYS,	/* after every EHLO or HELO */
	SMTP_STARTTLS_NEVER,
};

/* The parts of an attempt, built when sent (see struct smtp_source). */
enum smtp_part { SMTP_PART_SENDER, SMTP_PART_RECIPIENT, SMTP_PART_BODY };

/*
 * Where an attempt's words come from: build() writes part of attempt i
 * into buf (size bytes, NUL-terminated; "{h}" may be left for the
 * machine to fill) and returns 0, or -1 when it cannot (the session then
 * ends as dropped: our failure, never a verdict).  Nothing of an attempt
 * is kept but its result.  out (SMTP_OUT_MAX bytes) is where each command
 * and message is put for SMTP_DO_SEND; it may be shared by every session
 * of a single thread, as a caller that copies what it sends at once
 * (probe.c) does: the bytes hold until the next call into a session.
 */
struct smtp_source {
	int	(*build)(void *arg, int attempt, int part, char *buf,
		    size_t size);
	void	*arg;
	char	*out;
};

/*
 * A transcript: both sides of every session, in one buffer that grows as
 * needed up to max bytes; past that, one "(transcript truncated)" mark.
 */
struct smtp_transcript {
	char	*buf;
	size_t	 len, size, max;
	int	 truncated;
};

struct smtp_attempt {
	int	result;		/* enum smtp_result */
	int	code;		/* reply code that decided it */
	int	state;		/* enum smtp_state whose reply decided it
				   (SMTP_RCPT: the recipient was answered) */
};

/* What the caller does next. */
enum smtp_do {
	SMTP_DO_WAIT,
	SMTP_DO_SEND,
	SMTP_DO_CLOSE,
	SMTP_DO_STARTTLS,	/* discard what the server sent so far, do
				   the TLS handshake, then smtp_session_tls */
};

struct smtp_action {
	int		 what;		/* enum smtp_do */
	const char	*data;		/* for SMTP_DO_SEND: the bytes */
	size_t		 len;
};

struct smtp_session {
	int			state;
	int			end;		/* enum smtp_end */
	const char		*helo;		/* our name (caller's) */
	struct smtp_source	src;
	struct smtp_transcript	*ts;		/* caller's, or NULL */
	int			starttls;	/* enum smtp_starttls */
	int			tls;		/* 1: the session is over TLS */
	int			tls_offered;	/* in the last EHLO reply */
	int			tls_tried;	/* STARTTLS said */
	int			tls_refused;	/* and answered other than 220 */
	int			tls_for_mail;	/* said after 530 to MAIL */
	char			server_name[SMTP_NAME_MAX];	/* {h} */
	struct smtp_attempt	attempts[SMTP_ATTEMPTS_MAX];
	int			nattempts;
	int			current;
	int			reply_code;	/* of the reply being read */
	int			reply_lines;
	int			last_code;	/* of the last whole reply */
};

/*
 * Starts a session: our EHLO name (kept by pointer), n (<=
 * SMTP_ATTEMPTS_MAX) attempts whose words src builds, when to say
 * STARTTLS, and the transcript to append to (NULL: none).
 */
void	smtp_session_init(struct smtp_session *, const char *helo, int n,
	    const struct smtp_source *src, int starttls,
	    struct smtp_transcript *ts);

/*
 * Feeds one line from the server (without its CRLF; len bytes, need not
 * be NUL-terminated).  Fills act with what to do next.
 */
void	smtp_session_line(struct smtp_session *, const char *line, size_t len,
	    struct smtp_action *act);

/* The server did not answer in time, or closed the connection. */
void	smtp_session_timeout(struct smtp_session *, struct smtp_action *act);
void	smtp_session_eof(struct smtp_session *, struct smtp_action *act);

/*
 * After SMTP_DO_STARTTLS: the handshake ended.  ok: the session goes on
 * over TLS (what names the protocol and cipher, for the transcript) and
 * says EHLO again.  Else the session ends (SMTP_END_TLSFAIL; what says
 * why): the caller judges the server on a plain session instead.
 */
void	smtp_session_tls(struct smtp_session *, int ok, const char *what,
	    struct smtp_action *act);

/*
 * Appends "who: text" (len bytes; who NULL: the text alone) and a newline
 * to ts, within its max.
 */
void	smtp_transcript_add(struct smtp_transcript *ts, const char *who,
	    const char *text, size_t len);
void	smtp_transcript_free(struct smtp_transcript *ts);

/* Names for logs and transcripts. */
const char	*smtp_state_name(int);
const char	*smtp_end_name(int);
const char	*smtp_result_name(int);
const char	*smtp_starttls_name(int);

#endif
