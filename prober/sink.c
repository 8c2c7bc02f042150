/*
 * sink.c -- the prober's own SMTP server, where relayed cookies arrive
 *
 * Commands: EHLO, HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.  RCPT takes
 * "<cookie@domain>" (any case) with a valid cookie and nothing else; a
 * relay may have rewritten the address in many ways, but the forms in the
 * battery all deliver to the plain address in the end.  Too many errors,
 * or a line too long, ends the session.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sink.h"

static void
reply(struct sink_session *s, struct sink_action *a, const char *text)
{
	int n = snprintf(s->reply, sizeof(s->reply), "%s\r\n", text);

	a->reply = s->reply;
	a->len = n > 0 && (size_t)n < sizeof(s->reply) ? (size_t)n :
	    sizeof(s->reply) - 1;
}

static void
fail(struct sink_session *s, struct sink_action *a, const char *text)
{
	if (++s->errors >= SINK_ERRORS_MAX) {
		reply(s, a, "421 4.7.0 too many errors, closing");
		a->close = 1;
		s->state = SINK_CLOSED;
		return;
	}
	reply(s, a, text);
}

void
sink_session_init(struct sink_session *s, const struct sink_conf *conf,
    int64_t now, struct sink_action *a)
{
	char greeting[200];

	(void)now;
	memset(s, 0, sizeof(*s));
	memset(a, 0, sizeof(*a));
	s->conf = conf;
	s->state = SINK_CMD;
	snprintf(greeting, sizeof(greeting), "220 %s relaybl test sink",
	    conf->domain);
	reply(s, a, greeting);
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

static void
data_line(struct sink_session *s, const char *line, size_t len,
    struct sink_action *a)
{
	if (len == 1 && line[0] == '.') {
		s->state = SINK_CMD;
		if (s->too_big) {
			reply(s, a, "552 5.3.4 message too big");
		} else {
			a->delivered = 1;
			a->delivery.cookies = s->rcpt;
			a->delivery.ncookies = s->nrcpt;
			a->delivery.message = s->message;
			a->delivery.len = s->len;
			reply(s, a, "250 2.0.0 received, thank you");
		}
		s->mail = 0;
		return;
	}
	if (len > 0 && line[0] == '.') {	/* dot-stuffing */
		line++;
		len--;
	}
	if (s->len + len + 2 > sizeof(s->message)) {
		s->too_big = 1;
		return;
	}
	memcpy(s->message + s->len, line, len);
	s->len += len;
	s->message[s->len++] = '\r';
	s->message[s->len++] = '\n';
}

void
sink_session_line(struct sink_session *s, const char *line, size_t len,
    int64_t now, struct sink_action *a)
{
	memset(a, 0, sizeof(*a));
	if (s->state == SINK_CLOSED) {
		a->close = 1;
		return;
	}
	if (s->state == SINK_DATA) {
		data_line(s, line, len, a);
		return;
	}
	if (len > SINK_LINE_MAX) {
		fail(s, a, "500 5.5.2 line too long");
		return;
	}
	if (is_cmd(line, len, "EHLO") || is_cmd(line, len, "HELO")) {
		s->helo = 1;
		s->mail = 0;
		s->nrcpt = 0;
		reply(s, a, "250 ok");
	} else if (is_cmd(line, len, "MAIL")) {
		if (!s->helo)
			fail(s, a, "503 5.5.1 EHLO first");
		else if (len < 10 || strncasecmp(line, "MAIL FROM:", 10) != 0)
			fail(s, a, "501 5.5.4 syntax: MAIL FROM:<address>");
		else {
			s->mail = 1;
			s->nrcpt = 0;
			reply(s, a, "250 2.1.0 ok");
		}
	} else if (is_cmd(line, len, "RCPT")) {
		if (len < 8 || strncasecmp(line, "RCPT TO:", 8) != 0)
			fail(s, a, "501 5.5.4 syntax: RCPT TO:<address>");
		else
			rcpt(s, line, len, now, a);
	} else if (is_cmd(line, len, "DATA")) {
		if (s->nrcpt == 0)
			fail(s, a, "503 5.5.1 no valid recipients");
		else {
			s->state = SINK_DATA;
			s->len = 0;
			s->too_big = 0;
			reply(s, a, "354 end with <CRLF>.<CRLF>");
		}
	} else if (is_cmd(line, len, "RSET")) {
		s->mail = 0;
		s->nrcpt = 0;
		reply(s, a, "250 2.0.0 ok");
	} else if (is_cmd(line, len, "NOOP")) {
		reply(s, a, "250 2.0.0 ok");
	} else if (is_cmd(line, len, "QUIT")) {
		reply(s, a, "221 2.0.0 bye");
		a->close = 1;
		s->state = SINK_CLOSED;
	} else
		fail(s, a, "500 5.5.1 command not recognised");
}
