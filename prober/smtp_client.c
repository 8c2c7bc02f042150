/*
 * smtp_client.c -- the prober's SMTP client as an explicit state machine
 *
 * Replies are read line by line: "250-" continues, "250 " ends (RFC 5321
 * 4.2), every line of one reply must carry the same code, and a reply of
 * too many or too long lines ends the session as garbage.  A whole reply
 * moves the machine by its code class: 2xx on, 3xx (354) into the message,
 * 4xx "try later", 5xx "refused".  421 at any point ends the session (the
 * server is closing).  A refused or deferred attempt does not end the
 * session: RSET, then the next attempt, so that one refusal does not hide
 * a form that would have been relayed.
 *
 * Every state change goes through smtp_client_state(), which logs
 * "old -> new" (log_debug, proberd -v) and does what entering the new
 * state means: the command of that state, or the close.  The states are
 * ours: no reply can name one, so a state we do not know, or a reply fed
 * to a state that waits for none, is our bug and ends the process
 * (fatalx), never a server's doing to be filed as garbage.
 *
 * STARTTLS: an EHLO reply line "250-STARTTLS" marks it offered.  A reply
 * to STARTTLS other than 220 leaves the session plain (RFC 3207 4.1
 * allows going on); after 220 the machine waits in SMTP_TLS, reading
 * nothing (whatever the server sent after its 220 is the caller's to
 * throw away: RFC 3207 5, plaintext injection), until smtp_session_tls.
 * Over TLS the server's name and offers are learnt afresh from EHLO.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "smtp_client.h"

static const char *strstate[] = {
	"GREETING", "EHLO", "HELO", "STARTTLS", "TLS", "MAIL", "RCPT", "DATA",
	"BODY", "RSET", "QUIT", "DONE"
};
static const char *end_names[] = {
	"none", "ok", "closed", "timeout", "garbage", "dropped", "tls-failed"
};
static const char *starttls_names[] = { "auto", "always", "never" };
static const char *result_names[] = {
	"pending", "accepted", "refused", "tempfail"
};

static void	smtp_client_state(struct smtp_session *, int,
		    struct smtp_action *);
static void	step(struct smtp_session *, int, struct smtp_action *);

const char *
smtp_state_name(int s)
{
	return s >= 0 && s <= SMTP_DONE ? strstate[s] : "?";
}

const char *
smtp_end_name(int e)
{
	return e >= 0 && e <= SMTP_END_TLSFAIL ? end_names[e] : "?";
}

const char *
smtp_result_name(int r)
{
	return r >= 0 && r <= SMTP_R_TEMPFAIL ? result_names[r] : "?";
}

const char *
smtp_starttls_name(int m)
{
	return m >= 0 && m <= SMTP_STARTTLS_NEVER ? starttls_names[m] : "?";
}

#define TRUNCATED	"(transcript truncated)\n"

/*
 * Makes room for n more bytes (and a NUL) in ts, growing it by doubling
 * within max.  Returns 0, or -1 (over max or out of memory).
 */
static int
transcript_room(struct smtp_transcript *ts, size_t n)
{
	size_t	 want = ts->len + n + 1, size;
	char	*p;

	if (want <= ts->size)
		return 0;
	if (want > ts->max)
		return -1;
	/* A kilobyte at a time: most transcripts end well short of max. */
	size = (want + 1023) & ~(size_t)1023;
	if (size > ts->max)
		size = ts->max;
	if ((p = realloc(ts->buf, size)) == NULL)
		return -1;
	ts->buf = p;
	ts->size = size;
	return 0;
}

void
smtp_transcript_add(struct smtp_transcript *ts, const char *who,
    const char *text, size_t len)
{
	size_t wl;

	if (ts == NULL || ts->truncated)
		return;
	wl = who ? strlen(who) + 2 : 0;
	if (transcript_room(ts, wl + len + 1 + sizeof(TRUNCATED)) == -1) {
		/* The mark fits: room for it is kept back from every line. */
		if (transcript_room(ts, sizeof(TRUNCATED)) == 0) {
			memcpy(ts->buf + ts->len, TRUNCATED,
			    sizeof(TRUNCATED));
			ts->len += sizeof(TRUNCATED) - 1;
		}
		ts->truncated = 1;
		return;
	}
	if (who) {
		memcpy(ts->buf + ts->len, who, wl - 2);
		memcpy(ts->buf + ts->len + wl - 2, ": ", 2);
	}
	memcpy(ts->buf + ts->len + wl, text, len);
	ts->len += wl + len;
	ts->buf[ts->len++] = '\n';
	ts->buf[ts->len] = '\0';
}

void
smtp_transcript_free(struct smtp_transcript *ts)
{
	free(ts->buf);
	ts->buf = NULL;
	ts->len = ts->size = 0;
	ts->truncated = 0;
}

static void
transcript_add(struct smtp_session *s, const char *who, const char *text,
    size_t len)
{
	smtp_transcript_add(s->ts, who, text, len);
}

void
smtp_session_init(struct smtp_session *s, const char *helo, int n,
    const struct smtp_source *src, int starttls, struct smtp_transcript *ts)
{
	memset(s, 0, sizeof(*s));
	s->helo = helo;
	s->src = *src;
	s->starttls = starttls;
	s->ts = ts;
	if (n > SMTP_ATTEMPTS_MAX)
		n = SMTP_ATTEMPTS_MAX;
	if (n < 0)
		n = 0;
	s->nattempts = n;
	/* Where a session starts: not a change, so not through the function. */
	s->state = SMTP_GREETING;
}

/* Every entry point first: a state we never set is memory gone wrong. */
static void
check_state(const struct smtp_session *s)
{
	if (s->state < SMTP_GREETING || s->state > SMTP_DONE)
		fatalx("smtp %p: unknown state %d", (const void *)s, s->state);
}

/* The attempt under way: only MAIL, RCPT, DATA and BODY have one. */
static struct smtp_attempt *
attempt(struct smtp_session *s)
{
	if (s->current < 0 || s->current >= s->nattempts)
		fatalx("smtp %p: %s: no attempt %d of %d", (void *)s,
		    smtp_state_name(s->state), s->current, s->nattempts);
	return &s->attempts[s->current];
}

/* Copies src into dst (size bytes) with "{h}" replaced by the name. */
static size_t
expand(const struct smtp_session *s, const char *src, char *dst, size_t size)
{
	const char	*h = s->server_name[0] ? s->server_name : "localhost";
	size_t		 n = 0, hl = strlen(h);

	for (; *src && n + 1 < size; src++) {
		if (strncmp(src, "{h}", 3) == 0 && n + hl + 1 < size) {
			memcpy(dst + n, h, hl);
			n += hl;
			src += 2;
		} else
			dst[n++] = *src;
	}
	dst[n] = '\0';
	return n;
}

/* Sends one command line built from prefix and an expanded argument. */
static void
send_cmd(struct smtp_session *s, struct smtp_action *act, const char *prefix,
    const char *arg)
{
	int	n;

	n = snprintf(s->src.out, SMTP_OUT_MAX, "%s%.*s\r\n", prefix,
	    SMTP_ADDR_MAX, arg ? arg : "");
	if (n < 0 || (size_t)n >= SMTP_OUT_MAX)
		n = (int)SMTP_OUT_MAX - 1;
	transcript_add(s, "C", s->src.out, (size_t)n - 2);
	act->what = SMTP_DO_SEND;
	act->data = s->src.out;
	act->len = (size_t)n;
}

/*
 * Builds part of the current attempt, {h} expanded, into buf.  Returns 0,
 * or -1 when the source cannot (the session ends: our failure).
 */
static int
build(struct smtp_session *s, int part, char *buf, size_t size)
{
	char raw[SMTP_BODY_MAX];

	raw[0] = '\0';
	if (s->src.build(s->src.arg, s->current, part, raw, sizeof(raw)) ==
	    -1)
		return -1;
	raw[sizeof(raw) - 1] = '\0';
	expand(s, raw, buf, size);
	return 0;
}

/* The message: {h} expanded, CRLF line ends, dot-stuffed, ".". */
static int
send_body(struct smtp_session *s, struct smtp_action *act)
{
	char	 body[SMTP_BODY_MAX];
	size_t	 n = 0, room = SMTP_OUT_MAX - 8;
	int	 bol = 1;

	if (build(s, SMTP_PART_BODY, body, sizeof(body)) == -1)
		return -1;
	for (const char *p = body; *p && n < room; p++) {
		if (bol && *p == '.')
			s->src.out[n++] = '.';
		if (*p == '\n') {
			if (n == 0 || s->src.out[n - 1] != '\r')
				s->src.out[n++] = '\r';
			bol = 1;
		} else
			bol = 0;
		s->src.out[n++] = *p;
	}
	if (!bol) {
		s->src.out[n++] = '\r';
		s->src.out[n++] = '\n';
	}
	memcpy(s->src.out + n, ".\r\n", 3);
	n += 3;
	transcript_add(s, "C", "(message, cookie inside)", 24);
	act->what = SMTP_DO_SEND;
	act->data = s->src.out;
	act->len = n;
	return 0;
}

/* MAIL FROM or RCPT TO with the part the source builds. */
static int
send_path(struct smtp_session *s, struct smtp_action *act, const char *verb,
    int part)
{
	char path[SMTP_ADDR_MAX];

	if (build(s, part, path, sizeof(path)) == -1)
		return -1;
	send_cmd(s, act, verb, path);
	return 0;
}

static void	close_with(struct smtp_session *, int, struct smtp_action *);

/*
 * Changes state: logs it, then does what entering the new state means.
 * The only place s->state changes after smtp_session_init.
 */
static void
smtp_client_state(struct smtp_session *s, int new, struct smtp_action *act)
{
	int	old = s->state, built = 0;

	s->state = new;
	if (old != new)
		log_debug("smtp %p: %s -> %s", (void *)s, smtp_state_name(old),
		    smtp_state_name(new));
	switch (new) {
	case SMTP_EHLO:
		s->tls_offered = 0;
		send_cmd(s, act, "EHLO ", s->helo);
		break;
	case SMTP_HELO:
		s->tls_offered = 0;
		send_cmd(s, act, "HELO ", s->helo);
		break;
	case SMTP_STARTTLS:
		s->tls_tried = 1;
		send_cmd(s, act, "STARTTLS", NULL);
		break;
	case SMTP_TLS:
		act->what = SMTP_DO_STARTTLS;
		act->data = NULL;
		act->len = 0;
		break;
	case SMTP_MAIL:
		attempt(s);
		built = send_path(s, act, "MAIL FROM:", SMTP_PART_SENDER);
		break;
	case SMTP_RCPT:
		built = send_path(s, act, "RCPT TO:", SMTP_PART_RECIPIENT);
		break;
	case SMTP_DATA:
		send_cmd(s, act, "DATA", NULL);
		break;
	case SMTP_BODY:
		built = send_body(s, act);
		break;
	case SMTP_RSET:
		send_cmd(s, act, "RSET", NULL);
		break;
	case SMTP_QUIT:
		send_cmd(s, act, "QUIT", NULL);
		break;
	case SMTP_DONE:
		act->what = SMTP_DO_CLOSE;
		act->data = NULL;
		act->len = 0;
		break;
	default:	/* SMTP_GREETING is where sessions start, not entered */
		fatalx("smtp %p: %s -> %s (%d): no such change", (void *)s,
		    smtp_state_name(old), smtp_state_name(new), new);
	}
	if (built == -1) {
		/* Ours, not the server's: no verdict comes of it. */
		transcript_add(s, "*", "cannot build the attempt", 24);
		close_with(s, SMTP_END_DROPPED, act);
	}
}

static void
close_with(struct smtp_session *s, int end, struct smtp_action *act)
{
	if (s->end == SMTP_END_NONE)
		s->end = end;
	smtp_client_state(s, SMTP_DONE, act);
}

/* The next attempt, or QUIT when none is left. */
static void
next_attempt(struct smtp_session *s, struct smtp_action *act)
{
	smtp_client_state(s, s->current < s->nattempts ? SMTP_MAIL : SMTP_QUIT,
	    act);
}

/* The current attempt ends with result; RSET before the next one. */
static void
conclude(struct smtp_session *s, int result, int code,
    struct smtp_action *act)
{
	struct smtp_attempt	*at = attempt(s);

	at->result = result;
	at->code = code;
	at->state = s->state;
	s->current++;
	smtp_client_state(s, SMTP_RSET, act);
}

static int
result_of(int code)
{
	return code >= 500 ? SMTP_R_REFUSED : SMTP_R_TEMPFAIL;
}

/* After EHLO or HELO: STARTTLS first, when it is to be said. */
static void
greeted(struct smtp_session *s, struct smtp_action *act)
{
	if (!s->tls && !s->tls_tried && (s->starttls == SMTP_STARTTLS_ALWAYS ||
	    (s->starttls == SMTP_STARTTLS_AUTO && s->tls_offered)))
		smtp_client_state(s, SMTP_STARTTLS, act);
	else
		next_attempt(s, act);
}

static void
step(struct smtp_session *s, int code, struct smtp_action *act)
{
	int ok = code >= 200 && code < 300;

	s->last_code = code;
	if (code == 421) {
		close_with(s, SMTP_END_CLOSED, act);
		return;
	}
	switch (s->state) {
	case SMTP_GREETING:
		if (ok)
			smtp_client_state(s, SMTP_EHLO, act);
		else {
			s->end = SMTP_END_CLOSED;
			smtp_client_state(s, SMTP_QUIT, act);
		}
		break;
	case SMTP_EHLO:
		if (ok)
			greeted(s, act);
		else	/* RFC 5321 3.2: fall back to HELO */
			smtp_client_state(s, SMTP_HELO, act);
		break;
	case SMTP_HELO:
		if (ok)
			greeted(s, act);
		else {
			s->end = SMTP_END_CLOSED;
			smtp_client_state(s, SMTP_QUIT, act);
		}
		break;
	case SMTP_STARTTLS:
		if (code == 220)
			smtp_client_state(s, SMTP_TLS, act);
		else {
			/* Refused: the session goes on, plain. */
			s->tls_refused = 1;
			if (s->tls_for_mail) {
				/* The 530 to MAIL stands: refused. */
				struct smtp_attempt *at = attempt(s);
				conclude(s, SMTP_R_REFUSED, 530, act);
				at->state = SMTP_MAIL;
			} else
				next_attempt(s, act);
		}
		break;
	case SMTP_MAIL:
		if (ok)
			smtp_client_state(s, SMTP_RCPT, act);
		else if (code == 530 && !s->tls && !s->tls_tried &&
		    s->starttls != SMTP_STARTTLS_NEVER) {
			/* "Must issue a STARTTLS command first". */
			s->tls_for_mail = 1;
			smtp_client_state(s, SMTP_STARTTLS, act);
		} else
			conclude(s, result_of(code), code, act);
		break;
	case SMTP_RCPT:
		if (ok)
			smtp_client_state(s, SMTP_DATA, act);
		else
			conclude(s, result_of(code), code, act);
		break;
	case SMTP_DATA:
		if (code >= 300 && code < 400)
			smtp_client_state(s, SMTP_BODY, act);
		else
			conclude(s, ok ? SMTP_R_REFUSED : result_of(code), code,
			    act);
		break;
	case SMTP_BODY:
		conclude(s, ok ? SMTP_R_ACCEPTED : result_of(code), code, act);
		break;
	case SMTP_RSET:
		next_attempt(s, act);
		break;
	case SMTP_QUIT:
		close_with(s, SMTP_END_OK, act);
		break;
	default:	/* SMTP_DONE, SMTP_TLS: ended before step */
		fatalx("smtp %p: a reply in state %s (%d)", (void *)s,
		    smtp_state_name(s->state), s->state);
	}
}

/* Whether an EHLO reply line (code and separator included) offers TLS. */
static int
offers_starttls(const char *line, size_t len)
{
	size_t n;

	if (len < 4 + 8 || strncasecmp(line + 4, "STARTTLS", 8) != 0)
		return 0;
	for (n = 12; n < len; n++)
		if (line[n] != ' ' && line[n] != '\t')
			return 0;
	return 1;
}

void
smtp_session_line(struct smtp_session *s, const char *line, size_t len,
    struct smtp_action *act)
{
	int code;

	check_state(s);
	act->what = SMTP_DO_WAIT;
	act->data = NULL;
	act->len = 0;
	if (s->state == SMTP_DONE) {
		close_with(s, SMTP_END_GARBAGE, act);
		return;
	}
	if (s->state == SMTP_TLS)
		return;		/* sent before TLS: the caller discards it */
	transcript_add(s, "S", line, len > 200 ? 200 : len);
	if (len > SMTP_LINE_MAX || len < 3 ||
	    ++s->reply_lines > SMTP_REPLY_LINES_MAX) {
		close_with(s, SMTP_END_GARBAGE, act);
		return;
	}
	for (int i = 0; i < 3; i++)
		if (line[i] < '0' || line[i] > '9') {
			close_with(s, SMTP_END_GARBAGE, act);
			return;
		}
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (code < 200 || code > 599 || (len > 3 && line[3] != ' ' &&
	    line[3] != '-') || (s->reply_code && code != s->reply_code)) {
		close_with(s, SMTP_END_GARBAGE, act);
		return;
	}
	s->reply_code = code;
	/* The first name the server gives itself: "220 mx.example ESMTP". */
	if ((s->state == SMTP_GREETING || s->state == SMTP_EHLO) &&
	    s->server_name[0] == '\0' && code / 100 == 2 && len > 4) {
		/* The line need not be NUL-terminated: bound by len. */
		size_t n = 0;
		while (4 + n < len && line[4 + n] != ' ' &&
		    line[4 + n] != '\t' && line[4 + n] != '\0')
			n++;
		if (n > 0 && n < sizeof(s->server_name)) {
			memcpy(s->server_name, line + 4, n);
			s->server_name[n] = '\0';
			/* Only a plain host name may go into an address. */
			if (strspn(s->server_name, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:") != n)
				s->server_name[0] = '\0';
		}
	}
	if (s->state == SMTP_EHLO && code == 250 && offers_starttls(line, len))
		s->tls_offered = 1;
	if (len > 3 && line[3] == '-')
		return;			/* more lines of this reply */
	s->reply_code = 0;
	s->reply_lines = 0;
	step(s, code, act);
}

void
smtp_session_timeout(struct smtp_session *s, struct smtp_action *act)
{
	check_state(s);
	transcript_add(s, "*", "timeout", 7);
	close_with(s, SMTP_END_TIMEOUT, act);
}

void
smtp_session_tls(struct smtp_session *s, int ok, const char *what,
    struct smtp_action *act)
{
	char	line[160];
	int	n;

	check_state(s);
	if (s->state != SMTP_TLS)
		fatalx("smtp %p: TLS handshake in state %s", (void *)s,
		    smtp_state_name(s->state));
	n = snprintf(line, sizeof(line), "STARTTLS: %s%s", ok ? "" :
	    "handshake failed: ", what ? what : "");
	transcript_add(s, "*", line, n > 0 && (size_t)n < sizeof(line) ?
	    (size_t)n : sizeof(line) - 1);
	if (!ok) {
		close_with(s, SMTP_END_TLSFAIL, act);
		return;
	}
	/* RFC 3207 4.2: forget what the server said before TLS. */
	s->tls = 1;
	s->server_name[0] = '\0';
	s->reply_code = 0;
	s->reply_lines = 0;
	smtp_client_state(s, SMTP_EHLO, act);
}

void
smtp_session_eof(struct smtp_session *s, struct smtp_action *act)
{
	check_state(s);
	transcript_add(s, "*", "connection closed by the server", 31);
	close_with(s, s->state == SMTP_QUIT ? SMTP_END_OK : SMTP_END_DROPPED,
	    act);
}
