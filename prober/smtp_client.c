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
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "smtp_client.h"

static const char *strstate[] = {
	"GREETING", "EHLO", "HELO", "MAIL", "RCPT", "DATA", "BODY", "RSET",
	"QUIT", "DONE"
};
static const char *end_names[] = {
	"none", "ok", "closed", "timeout", "garbage", "dropped"
};
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
	return e >= 0 && e <= SMTP_END_DROPPED ? end_names[e] : "?";
}

const char *
smtp_result_name(int r)
{
	return r >= 0 && r <= SMTP_R_TEMPFAIL ? result_names[r] : "?";
}

/* Appends "who: text" to the transcript while there is room. */
static void
transcript_add(struct smtp_session *s, const char *who, const char *text,
    size_t len)
{
	size_t room = sizeof(s->transcript) - s->transcript_len;

	if (room <= 5)
		return;
	int n = snprintf(s->transcript + s->transcript_len, room, "%s: %.*s\n",
	    who, (int)(len > room ? room : len), text);
	if (n > 0)
		s->transcript_len += (size_t)n < room ? (size_t)n : room - 1;
}

void
smtp_session_init(struct smtp_session *s, const char *helo,
    const struct smtp_attempt *attempts, int n)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->helo, sizeof(s->helo), "%s", helo);
	if (n > SMTP_ATTEMPTS_MAX)
		n = SMTP_ATTEMPTS_MAX;
	for (int i = 0; i < n; i++) {
		s->attempts[i] = attempts[i];
		s->attempts[i].result = SMTP_R_PENDING;
		s->attempts[i].code = 0;
		s->attempts[i].state = SMTP_GREETING;
	}
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
	char	buf[SMTP_ADDR_MAX];
	int	n;

	expand(s, arg ? arg : "", buf, sizeof(buf));
	n = snprintf(s->out, sizeof(s->out), "%s%s\r\n", prefix, buf);
	if (n < 0 || (size_t)n >= sizeof(s->out))
		n = (int)sizeof(s->out) - 1;
	transcript_add(s, "C", s->out, (size_t)n - 2);
	act->what = SMTP_DO_SEND;
	act->data = s->out;
	act->len = (size_t)n;
}

/* The message: {h} expanded, CRLF line ends, dot-stuffed, ".". */
static void
send_body(struct smtp_session *s, struct smtp_action *act)
{
	char	 body[SMTP_BODY_MAX];
	size_t	 n = 0, room = sizeof(s->out) - 8;
	int	 bol = 1;

	expand(s, attempt(s)->body, body, sizeof(body));
	for (const char *p = body; *p && n < room; p++) {
		if (bol && *p == '.')
			s->out[n++] = '.';
		if (*p == '\n') {
			if (n == 0 || s->out[n - 1] != '\r')
				s->out[n++] = '\r';
			bol = 1;
		} else
			bol = 0;
		s->out[n++] = *p;
	}
	if (!bol) {
		s->out[n++] = '\r';
		s->out[n++] = '\n';
	}
	memcpy(s->out + n, ".\r\n", 3);
	n += 3;
	transcript_add(s, "C", "(message, cookie inside)", 24);
	act->what = SMTP_DO_SEND;
	act->data = s->out;
	act->len = n;
}

/*
 * Changes state: logs it, then does what entering the new state means.
 * The only place s->state changes after smtp_session_init.
 */
static void
smtp_client_state(struct smtp_session *s, int new, struct smtp_action *act)
{
	int	old = s->state;

	s->state = new;
	if (old != new)
		log_debug("smtp %p: %s -> %s", (void *)s, smtp_state_name(old),
		    smtp_state_name(new));
	switch (new) {
	case SMTP_EHLO:
		send_cmd(s, act, "EHLO ", s->helo);
		break;
	case SMTP_HELO:
		send_cmd(s, act, "HELO ", s->helo);
		break;
	case SMTP_MAIL:
		send_cmd(s, act, "MAIL FROM:", attempt(s)->sender);
		break;
	case SMTP_RCPT:
		send_cmd(s, act, "RCPT TO:", attempt(s)->recipient);
		break;
	case SMTP_DATA:
		send_cmd(s, act, "DATA", NULL);
		break;
	case SMTP_BODY:
		send_body(s, act);
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
			next_attempt(s, act);
		else	/* RFC 5321 3.2: fall back to HELO */
			smtp_client_state(s, SMTP_HELO, act);
		break;
	case SMTP_HELO:
		if (ok)
			next_attempt(s, act);
		else {
			s->end = SMTP_END_CLOSED;
			smtp_client_state(s, SMTP_QUIT, act);
		}
		break;
	case SMTP_MAIL:
		if (ok)
			smtp_client_state(s, SMTP_RCPT, act);
		else
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
	default:	/* SMTP_DONE: smtp_session_line ends it before step */
		fatalx("smtp %p: a reply in state %s (%d)", (void *)s,
		    smtp_state_name(s->state), s->state);
	}
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
smtp_session_eof(struct smtp_session *s, struct smtp_action *act)
{
	check_state(s);
	transcript_add(s, "*", "connection closed by the server", 31);
	close_with(s, s->state == SMTP_QUIT ? SMTP_END_OK : SMTP_END_DROPPED,
	    act);
}
