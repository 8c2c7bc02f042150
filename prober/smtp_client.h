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
#define SMTP_BODY_MAX		2048
#define SMTP_TRANSCRIPT_MAX	16384

enum smtp_state {
	SMTP_GREETING, SMTP_EHLO, SMTP_HELO, SMTP_MAIL, SMTP_RCPT,
	SMTP_DATA, SMTP_BODY, SMTP_RSET, SMTP_QUIT, SMTP_DONE
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
};

struct smtp_attempt {
	char	sender[SMTP_ADDR_MAX];		/* "<x@{h}>" */
	char	recipient[SMTP_ADDR_MAX];	/* "<cookie@probe.test>" */
	char	body[SMTP_BODY_MAX];		/* dot-stuffed by the machine */
	int	result;				/* enum smtp_result */
	int	code;				/* reply code that decided it */
	int	state;				/* enum smtp_state whose reply
						   decided it (SMTP_RCPT: the
						   recipient was answered) */
};

/* What the caller does next. */
enum smtp_do { SMTP_DO_WAIT, SMTP_DO_SEND, SMTP_DO_CLOSE };

struct smtp_action {
	int		 what;		/* enum smtp_do */
	const char	*data;		/* for SMTP_DO_SEND: the bytes */
	size_t		 len;
};

struct smtp_session {
	int			state;
	int			end;		/* enum smtp_end */
	char			helo[SMTP_NAME_MAX];	/* our name */
	char			server_name[SMTP_NAME_MAX];	/* {h} */
	struct smtp_attempt	attempts[SMTP_ATTEMPTS_MAX];
	int			nattempts;
	int			current;
	int			reply_code;	/* of the reply being read */
	int			reply_lines;
	int			last_code;	/* of the last whole reply */
	char			out[SMTP_BODY_MAX + 2 * SMTP_ADDR_MAX + 64];
	char			transcript[SMTP_TRANSCRIPT_MAX];
	size_t			transcript_len;
};

/* Starts a session: our EHLO name, and n (<= SMTP_ATTEMPTS_MAX) attempts. */
void	smtp_session_init(struct smtp_session *, const char *helo,
	    const struct smtp_attempt *attempts, int n);

/*
 * Feeds one line from the server (without its CRLF; len bytes, need not
 * be NUL-terminated).  Fills act with what to do next.
 */
void	smtp_session_line(struct smtp_session *, const char *line, size_t len,
	    struct smtp_action *act);

/* The server did not answer in time, or closed the connection. */
void	smtp_session_timeout(struct smtp_session *, struct smtp_action *act);
void	smtp_session_eof(struct smtp_session *, struct smtp_action *act);

/* Names for logs and transcripts. */
const char	*smtp_state_name(int);
const char	*smtp_end_name(int);
const char	*smtp_result_name(int);

#endif
