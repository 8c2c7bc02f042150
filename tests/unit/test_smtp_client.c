/*
 * test_smtp_client.c -- unit tests of the prober's SMTP state machine,
 * driven by scripted server replies
 */
#include <stdio.h>
#include <string.h>

#include "smtp_client.h"
#include "tap.h"

static struct smtp_session	s;
static struct smtp_transcript	ts;
static char			sent[8192];
static int			builds;		/* parts built so far */
static int			fail_build = -1;	/* this part fails */

/* Feeds the server's lines ("|" separated); collects what we sent. */
static int
server(const char *lines)
{
	struct smtp_action	act = { SMTP_DO_WAIT, NULL, 0 };
	char			buf[2048];
	const char		*p = lines;

	while (*p) {
		size_t n = strcspn(p, "|");
		memcpy(buf, p, n);
		smtp_session_line(&s, buf, n, &act);
		if (act.what == SMTP_DO_SEND)
			strncat(sent, act.data, act.len);
		else if (act.what == SMTP_DO_CLOSE)
			strcat(sent, "<close>");
		else if (act.what == SMTP_DO_STARTTLS)
			strcat(sent, "<tls>");
		p += n + (p[n] == '|');
	}
	return act.what;
}

/* The attempts' words, made when asked for. */
static int
build(void *arg, int i, int part, char *buf, size_t size)
{
	(void)arg;
	if (builds++ == fail_build)
		return -1;
	switch (part) {
	case SMTP_PART_SENDER:
		snprintf(buf, size, "<x%d@{h}>", i);
		break;
	case SMTP_PART_RECIPIENT:
		snprintf(buf, size, "<c%d@probe.test>", i);
		break;
	default:
		snprintf(buf, size, "Subject: test %d\n\n.hidden dot\n"
		    "cookie c%d\n", i, i);
	}
	return 0;
}

static void
start_tls(int n, int starttls)
{
	static char		out[SMTP_OUT_MAX];
	struct smtp_source	src = { build, NULL, out };

	smtp_transcript_free(&ts);
	ts.max = 16384;
	builds = 0;
	fail_build = -1;
	smtp_session_init(&s, "probe.test", n, &src, starttls, &ts);
	sent[0] = '\0';
}

static void
start(int n)
{
	start_tls(n, SMTP_STARTTLS_NEVER);
}

int
main(void)
{
	struct smtp_action act;

	start(2);
	is_int(server("220 mx1.lab.test ESMTP Postfix"), SMTP_DO_SEND,
	    "greeting answered");
	is_str(sent, "EHLO probe.test\r\n", "EHLO with our name");
	sent[0] = '\0';
	server("250-mx1.lab.test|250-PIPELINING|250 8BITMIME");
	is_str(sent, "MAIL FROM:<x0@mx1.lab.test>\r\n",
	    "multi-line EHLO reply, then MAIL with {h} from the greeting");
	sent[0] = '\0';
	server("250 2.1.0 Ok|250 2.1.5 Ok|354 End data with <CR><LF>.<CR><LF>");
	is_str(sent, "RCPT TO:<c0@probe.test>\r\nDATA\r\nSubject: test 0\r\n"
	    "\r\n..hidden dot\r\ncookie c0\r\n.\r\n",
	    "RCPT, DATA, the message CRLF and dot-stuffed");
	sent[0] = '\0';
	server("250 2.0.0 Ok: queued as ABC|250 2.0.0 Ok");
	is_str(sent, "RSET\r\nMAIL FROM:<x1@mx1.lab.test>\r\n",
	    "RSET, then the next attempt");
	is_int(s.attempts[0].result, SMTP_R_ACCEPTED, "first accepted");
	sent[0] = '\0';
	server("250 Ok|554 5.7.1 Relay access denied|250 Ok");
	is_int(s.attempts[1].result, SMTP_R_REFUSED, "second refused at RCPT");
	is_int(s.attempts[1].code, 554, "  with the code");
	is_str(sent, "RCPT TO:<c1@probe.test>\r\nRSET\r\nQUIT\r\n",
	    "then QUIT: no attempts left");
	sent[0] = '\0';
	is_int(server("221 Bye"), SMTP_DO_CLOSE, "close after QUIT");
	is_int(s.end, SMTP_END_OK, "session ended ok");
	ok(strstr(ts.buf, "S: 554 5.7.1 Relay access denied") != NULL &&
	    strstr(ts.buf, "C: RCPT TO:<c1@probe.test>") != NULL,
	    "transcript records both sides");

	start(1);
	server("220 mx ok|502 5.5.2 Error: command not recognized");
	is_str(sent, "EHLO probe.test\r\nHELO probe.test\r\n",
	    "EHLO refused: HELO");
	server("250 mx");
	ok(strstr(sent, "MAIL FROM:<x0@mx>") != NULL, "HELO accepted: MAIL");

	start(1);
	is_int(server("421 4.3.2 Service shutting down"), SMTP_DO_CLOSE,
	    "421 at the greeting: close");
	is_int(s.end, SMTP_END_CLOSED, "  ended closed");

	is_int(s.last_code, 421, "  the last code says 421");

	start(2);
	server("220 mx|250 mx|451 4.3.0 local error|250 ok|250 ok|"
	    "554 5.7.1 denied|250 ok");
	is_int(s.attempts[0].state, SMTP_MAIL, "4xx at MAIL: decided at MAIL");
	is_int(s.attempts[1].state, SMTP_RCPT, "5xx at RCPT: decided at RCPT");

	start(1);
	server("554 5.7.1 go away|221 bye");
	is_int(s.end, SMTP_END_CLOSED, "554 greeting: QUIT, closed");

	start(2);
	server("220 mx|250 mx|250 ok|450 4.7.1 greylisted, try later|250 ok");
	is_int(s.attempts[0].result, SMTP_R_TEMPFAIL, "4xx at RCPT: tempfail");
	is_int(s.attempts[0].state, SMTP_RCPT, "  decided at RCPT");
	server("250 ok|250 ok|354 go|421 4.4.2 timeout");
	is_int(s.end, SMTP_END_CLOSED, "421 mid-message: closed");
	is_int(s.attempts[1].result, SMTP_R_PENDING, "  attempt left pending");

	start(1);
	server("220 mx|250 mx|250 ok|250 ok|354 go|554 5.7.1 rejected at end");
	is_int(s.attempts[0].result, SMTP_R_REFUSED, "5xx at end of data");

	static const char *const garbage[] = {
		"HTTP/1.1 400 Bad Request", "22", "220x", "999 no",
		"199 informational", "220-a|250 b",
	};
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		start(1);
		is_int(server(garbage[i]), SMTP_DO_CLOSE, "garbage: %s",
		    garbage[i]);
		is_int(s.end, SMTP_END_GARBAGE, "  ended as garbage");
	}
	start(1);
	char longline[1100];
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "220 ", 4);
	smtp_session_line(&s, longline, sizeof(longline), &act);
	ok(act.what == SMTP_DO_CLOSE && s.end == SMTP_END_GARBAGE,
	    "a 1100-byte line: garbage");
	start(1);
	act.what = SMTP_DO_WAIT;
	for (int i = 0; i < 70 && act.what != SMTP_DO_CLOSE; i++)
		smtp_session_line(&s, "220-more", 8, &act);
	ok(act.what == SMTP_DO_CLOSE && s.end == SMTP_END_GARBAGE,
	    "an endless multi-line greeting: garbage");
	start(1);
	server("220 evil<x>@host ESMTP");
	server("250 bad\"name");
	ok(strstr(sent, "MAIL FROM:<x0@localhost>") != NULL,
	    "a server name unfit for an address is not used");
	/* Lines need not be NUL-terminated (found by fuzz_smtp_client). */
	start(1);
	char raw[8] = { '2', '2', '0', ' ', 'm', 'x', '4', '2' };
	smtp_session_line(&s, raw, sizeof(raw), &act);
	is_str(s.server_name, "mx42", "name read within the line's length");
	start(1);
	server("220 mx");
	smtp_session_timeout(&s, &act);
	ok(act.what == SMTP_DO_CLOSE && s.end == SMTP_END_TIMEOUT, "timeout");
	start(1);
	server("220 mx|250 mx");
	smtp_session_eof(&s, &act);
	ok(act.what == SMTP_DO_CLOSE && s.end == SMTP_END_DROPPED,
	    "server hung up mid-session: dropped");

	/* The words are made when sent; a source that fails ends it. */
	start(2);
	server("220 mx|250 mx");
	is_int(builds, 1, "only the first sender built before it is sent");
	fail_build = 1;
	is_int(server("250 ok"), SMTP_DO_CLOSE,
	    "a recipient that cannot be built: close");
	is_int(s.end, SMTP_END_DROPPED, "  as dropped, never a verdict");
	is_int(s.attempts[0].result, SMTP_R_PENDING, "  attempt pending");

	/* The transcript stops at its cap, marked once. */
	start(1);
	smtp_transcript_free(&ts);
	ts.max = 200;
	server("220 mx|250-mx|250-A|250-B|250-C|250-D|250-E|250-F|250-G|"
	    "250-H|250 I|250 ok|554 5.7.1 Relay access denied");
	ok(ts.len < 200 && ts.size <= 200, "transcript within its cap: %zu",
	    ts.len);
	ok(ts.len > 0 && strstr(ts.buf, "(transcript truncated)\n") != NULL,
	    "  and says it was cut");

	/* STARTTLS (RFC 3207). */
	start_tls(1, SMTP_STARTTLS_AUTO);
	server("220 mx ESMTP|250-mx|250-STARTTLS|250 8BITMIME");
	is_str(sent, "EHLO probe.test\r\nSTARTTLS\r\n",
	    "STARTTLS offered: said after EHLO");
	sent[0] = '\0';
	is_int(server("220 2.0.0 Ready to start TLS|250 injected"),
	    SMTP_DO_WAIT, "220: the handshake, and nothing read meanwhile");
	is_str(sent, "<tls>", "  the caller is told to start TLS");
	is_int(s.state, SMTP_TLS, "  waiting for it");
	sent[0] = '\0';
	smtp_session_tls(&s, 1, "TLSv1.3 TLS_AES_256_GCM_SHA384", &act);
	ok(act.what == SMTP_DO_SEND && strncmp(act.data, "EHLO probe.test\r\n",
	    act.len) == 0, "handshake done: EHLO again");
	ok(strstr(ts.buf, "*: STARTTLS: TLSv1.3 TLS_AES_256_GCM_SHA384") !=
	    NULL, "  the transcript names protocol and cipher");
	server("250-tls.mx|250-STARTTLS|250 8BITMIME");
	is_str(sent, "MAIL FROM:<x0@tls.mx>\r\n",
	    "  then the battery, with the name given over TLS; no STARTTLS "
	    "twice");

	start_tls(1, SMTP_STARTTLS_AUTO);
	server("220 mx|250-mx|250 STARTTLS|454 4.7.0 TLS not available");
	is_str(sent, "EHLO probe.test\r\nSTARTTLS\r\nMAIL FROM:<x0@mx>\r\n",
	    "STARTTLS refused: the session goes on, plain");
	is_int(s.tls_refused, 1, "  and the refusal is noted");

	start_tls(1, SMTP_STARTTLS_AUTO);
	server("220 mx|250 mx|530 5.7.0 Must issue a STARTTLS command first");
	is_str(sent, "EHLO probe.test\r\nMAIL FROM:<x0@mx>\r\nSTARTTLS\r\n",
	    "530 to MAIL, not offered: STARTTLS all the same");
	sent[0] = '\0';
	server("220 go ahead");
	smtp_session_tls(&s, 1, "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384", &act);
	server("250 mx");
	is_str(sent, "<tls>MAIL FROM:<x0@mx>\r\n",
	    "  after TLS the same attempt again");
	is_int(s.attempts[0].result, SMTP_R_PENDING, "  not yet decided");

	start_tls(1, SMTP_STARTTLS_AUTO);
	server("220 mx|250 mx|530 5.7.0 Must issue a STARTTLS command first|"
	    "502 5.5.1 no");
	is_int(s.attempts[0].result, SMTP_R_REFUSED,
	    "530, then STARTTLS refused: the 530 stands, refused");
	is_int(s.attempts[0].state, SMTP_MAIL, "  decided at MAIL");
	is_int(s.attempts[0].code, 530, "  by the 530");

	start_tls(1, SMTP_STARTTLS_NEVER);
	server("220 mx|250-mx|250 STARTTLS|530 5.7.0 Must issue a STARTTLS "
	    "command first");
	ok(strstr(sent, "STARTTLS") == NULL && s.attempts[0].result ==
	    SMTP_R_REFUSED, "starttls never: not said, 530 refused");

	start_tls(1, SMTP_STARTTLS_ALWAYS);
	server("220 mx|250 mx");
	is_str(sent, "EHLO probe.test\r\nSTARTTLS\r\n",
	    "starttls always: said though not offered");

	start_tls(1, SMTP_STARTTLS_AUTO);
	server("220 mx|250-mx|250 STARTTLS|220 go");
	smtp_session_tls(&s, 0, "wrong version number", &act);
	ok(act.what == SMTP_DO_CLOSE && s.end == SMTP_END_TLSFAIL,
	    "a failed handshake ends the session as tls-failed");
	ok(strstr(ts.buf, "handshake failed: wrong version number") != NULL,
	    "  and the transcript says why");
	smtp_transcript_free(&ts);
	return tap_done();
}
