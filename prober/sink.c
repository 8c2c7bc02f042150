/*
 * sink.c -- the prober's own SMTP server, where relayed cookies arrive
 *
 * Commands: EHLO, HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.  RCPT takes
 * "<cookie@domain>" (any case) with a valid cookie and nothing else; a
 * relay may have rewritten the address in many ways, but the forms in the
 * battery all deliver to the plain address in the end.  A transaction is
 * MAIL, RCPT..., DATA; it starts afresh at EHLO/HELO, RSET, every MAIL
 * and after every DATA, so a cookie proves at most one message per
 * transaction and DATA without MAIL and a recipient is 503.  Too many
 * errors or commands, or a line too long, ends the session.  The message
 * buffer exists only from DATA to the next call after its end: an idle
 * session costs a few hundred bytes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sink.h"

#define SINK_MESSAGE_MIN	4096	/* first allocation in DATA */

struct sink_session {
	const struct sink_conf	*conf;
	int			 state;		/* enum sink_state */
	int			 helo;		/* EHLO/HELO seen */
	int			 mail;		/* MAIL seen in this transaction */
	int			 errors;
	int			 commands;
	struct cookie		 rcpt[SINK_RCPT_MAX];
	int			 nrcpt;
	char			*message;	/* in DATA, or the last delivery */
	size_t			 len, cap;
	int			 too_big;
	int			 nomem;
	char			 reply[256];
};

static void
reply(struct sink_session *s, struct sink_action *a, const char *text)
{
	int n = snprintf(s->reply, sizeof(s->reply), "%s\r\n", text);

	a->reply = s->reply;
	a->len = n > 0 && (size_t)n < sizeof(s->reply) ? (size_t)n :
	    sizeof(s->reply) - 1;
}

static void
closing(struct sink_session *s, struct sink_action *a, const char *text)
{
	reply(s, a, text);
	a->close = 1;
	s->state = SINK_CLOSED;
}

static void
fail(struct sink_session *s, struct sink_action *a, const char *text)
{
	if (++s->errors >= SINK_ERRORS_MAX) {
		closing(s, a, "421 4.7.0 too many errors, closing");
		return;
	}
	reply(s, a, text);
}

/* Forgets the transaction: sender, recipients, message. */
static void
reset(struct sink_session *s)
{
	s->mail = 0;
	s->nrcpt = 0;
	free(s->message);
	s->message = NULL;
	s->len = s->cap = 0;
	s->too_big = s->nomem = 0;
}

struct sink_session *
sink_session_new(const struct sink_conf *conf, int64_t now,
    struct sink_action *a)
{
	struct sink_session	*s;
	char			 greeting[200];

	(void)now;
	memset(a, 0, sizeof(*a));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->conf = conf;
	s->state = SINK_START;
	snprintf(greeting, sizeof(greeting), "220 %s relaybl test sink",
	    conf->domain);
	reply(s, a, greeting);
	return s;
}

void
sink_session_free(struct sink_session *s)
{
	if (s == NULL)
		return;
	free(s->message);
	free(s);
}

int
sink_session_state(const struct sink_session *s)
{
	return s->state;
}

int
sink_session_busy(const struct sink_session *s)
{
	return s->state == SINK_DATA || (s->state == SINK_CMD && s->mail &&
	    s->nrcpt > 0);
}

size_t
sink_session_size(const struct sink_session *s)
{
	return sizeof(*s) + s->cap;
}

/* Is line the command cmd (case-insensitive), followed by end or space? */
static int
is_cmd(const char *line, size_t len, const char *cmd)
{
	size_t n = strlen(cmd);

	return len >= n && strncasecmp(line, cmd, n) == 0 &&
	    (len == n || line[n] == ' ' || line[n] == ':');
}

/* RCPT TO:<local@domain>: accepts a valid cookie at our domain. */
static void
rcpt(struct sink_session *s, const char *line, size_t len, int64_t now,
    struct sink_action *a)
{
	const char	*p = line + 8, *end = line + len, *lt, *gt, *at;
	size_t		 dlen = strlen(s->conf->domain);
	struct cookie	 c;

	if (!s->mail) {
		fail(s, a, "503 5.5.1 MAIL first");
		return;
	}
	while (p < end && *p == ' ')
		p++;
	lt = memchr(p, '<', (size_t)(end - p));
	gt = lt ? memchr(lt, '>', (size_t)(end - lt)) : NULL;
	at = lt && gt ? memchr(lt, '@', (size_t)(gt - lt)) : NULL;
	if (at == NULL || (size_t)(gt - at - 1) != dlen ||
	    strncasecmp(at + 1, s->conf->domain, dlen) != 0) {
		fail(s, a, "550 5.1.1 no such user here (this sink takes only "
		    "relay-test cookies)");
		return;
	}
	if (cookie_check(s->conf->key, s->conf->keylen, lt + 1,
	    (size_t)(at - lt - 1), now, s->conf->max_age, &c) != COOKIE_OK) {
		fail(s, a, "550 5.1.1 unknown or expired test cookie");
		return;
	}
	if (s->nrcpt == SINK_RCPT_MAX) {
		fail(s, a, "452 4.5.3 too many recipients");
		return;
	}
	s->rcpt[s->nrcpt++] = c;
	reply(s, a, "250 2.1.5 ok");
}

/* Makes room for n more bytes of message; 0, or -1 (too big, no memory). */
static int
grow(struct sink_session *s, size_t n)
{
	size_t	 cap = s->cap ? s->cap : SINK_MESSAGE_MIN;
	char	*p;

	if (s->len + n > SINK_MESSAGE_MAX) {
		s->too_big = 1;
		return -1;
	}
	if (s->len + n <= s->cap)
		return 0;
	while (cap < s->len + n)
		cap *= 2;
	if (cap > SINK_MESSAGE_MAX)
		cap = SINK_MESSAGE_MAX;
	if ((p = realloc(s->message, cap)) == NULL) {
		s->nomem = 1;
		return -1;
	}
	s->message = p;
	s->cap = cap;
	return 0;
}

/* The end of a message: hands it over, and the transaction is over. */
static void
data_end(struct sink_session *s, struct sink_action *a)
{
	s->state = SINK_CMD;
	if (s->too_big)
		reply(s, a, "552 5.3.4 message too big");
	else if (s->nomem)
		reply(s, a, "452 4.3.1 insufficient system storage");
	else {
		a->delivered = 1;
		a->delivery.cookies = s->rcpt;
		a->delivery.ncookies = s->nrcpt;
		a->delivery.message = s->message ? s->message : "";
		a->delivery.len = s->len;
		reply(s, a, "250 2.0.0 received, thank you");
	}
	/* The delivery stays readable until the next call resets. */
	s->mail = 0;
}

static void
data_line(struct sink_session *s, const char *line, size_t len,
    struct sink_action *a)
{
	if (len == 1 && line[0] == '.') {
		data_end(s, a);
		return;
	}
	if (len > 0 && line[0] == '.') {	/* dot-stuffing */
		line++;
		len--;
	}
	if (s->too_big || s->nomem || grow(s, len + 2) == -1)
		return;
	memcpy(s->message + s->len, line, len);
	s->len += len;
	s->message[s->len++] = '\r';
	s->message[s->len++] = '\n';
}

static void
command(struct sink_session *s, const char *line, size_t len, int64_t now,
    struct sink_action *a)
{
	if (is_cmd(line, len, "EHLO") || is_cmd(line, len, "HELO")) {
		s->helo = 1;
		reset(s);
		reply(s, a, "250 ok");
	} else if (is_cmd(line, len, "MAIL")) {
		if (!s->helo)
			fail(s, a, "503 5.5.1 EHLO first");
		else if (len < 10 || strncasecmp(line, "MAIL FROM:", 10) != 0)
			fail(s, a, "501 5.5.4 syntax: MAIL FROM:<address>");
		else {
			reset(s);
			s->mail = 1;
			reply(s, a, "250 2.1.0 ok");
		}
	} else if (is_cmd(line, len, "RCPT")) {
		if (len < 8 || strncasecmp(line, "RCPT TO:", 8) != 0)
			fail(s, a, "501 5.5.4 syntax: RCPT TO:<address>");
		else
			rcpt(s, line, len, now, a);
	} else if (is_cmd(line, len, "DATA")) {
		if (!s->mail)
			fail(s, a, "503 5.5.1 MAIL first");
		else if (s->nrcpt == 0)
			fail(s, a, "503 5.5.1 no valid recipients");
		else {
			s->state = SINK_DATA;
			s->len = 0;
			s->too_big = s->nomem = 0;
			reply(s, a, "354 end with <CRLF>.<CRLF>");
		}
	} else if (is_cmd(line, len, "RSET")) {
		reset(s);
		reply(s, a, "250 2.0.0 ok");
	} else if (is_cmd(line, len, "NOOP")) {
		reply(s, a, "250 2.0.0 ok");
	} else if (is_cmd(line, len, "QUIT")) {
		closing(s, a, "221 2.0.0 bye");
	} else
		fail(s, a, "500 5.5.1 command not recognised");
}

void
sink_session_line(struct sink_session *s, const char *line, size_t len,
    int64_t now, struct sink_action *a)
{
	memset(a, 0, sizeof(*a));
	switch (s->state) {
	case SINK_CLOSED:
		a->close = 1;
		return;
	case SINK_DATA:
		data_line(s, line, len, a);
		return;
	case SINK_START:
		s->state = SINK_CMD;
		break;
	case SINK_CMD:
		/* The last delivery was read by now: the transaction is over. */
		if (!s->mail)
			reset(s);
		break;
	default:
		abort();
	}
	if (++s->commands > SINK_COMMANDS_MAX) {
		closing(s, a, "421 4.7.0 too many commands, closing");
		return;
	}
	if (len > SINK_LINE_MAX) {
		fail(s, a, "500 5.5.2 line too long");
		return;
	}
	command(s, line, len, now, a);
}
