/*
 * test_sink.c -- unit tests of the prober's SMTP sink
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "sink.h"
#include "tap.h"

static const uint8_t	 key[] = "0123456789abcdef0123456789abcdef";
static struct sink_session *s;
static struct sink_action a;
static const int64_t	 now = 1800000000;

static const char *
say(const char *line)
{
	static char out[300];

	sink_session_line(s, line, strlen(line), now, &a);
	snprintf(out, sizeof(out), "%.*s", a.reply ? (int)a.len - 2 : 0,
	    a.reply ? a.reply : "");
	return out;
}

static int
code(const char *line, const char *want)
{
	return strncmp(say(line), want, 3) == 0;
}

/* A fresh session, greeted and past EHLO. */
static void
fresh(const struct sink_conf *conf)
{
	sink_session_free(s);
	s = sink_session_new(conf, now, &a);
	say("EHLO relay.lab.test");
}

/* Transactions start afresh: a cookie proves one message, once. */
static void
transactions(const struct sink_conf *conf, const char *rcptline)
{
	fresh(conf);
	say("MAIL FROM:<>");
	say(rcptline);
	say("DATA");
	say("one");
	say(".");
	ok(a.delivered, "a message delivered");
	ok(code("DATA", "503"), "DATA again after it, without MAIL and RCPT: "
	    "503 (no second delivery of the same cookies)");
	ok(code("MAIL FROM:<>", "250") && code("DATA", "503"),
	    "  MAIL then DATA: 503, recipients do not carry over");
	fresh(conf);
	ok(code("DATA", "503"), "DATA without MAIL and RCPT: 503");
	say("MAIL FROM:<>");
	say(rcptline);
	ok(sink_session_busy(s), "a valid recipient: busy");
	ok(code("RSET", "250") && code("DATA", "503"),
	    "RSET forgets the recipients: DATA 503");
	ok(!sink_session_busy(s), "  and the session is not busy");
	say("MAIL FROM:<>");
	say(rcptline);
	ok(code("MAIL FROM:<x@y>", "250") && code("DATA", "503"),
	    "a new MAIL resets the recipients: DATA 503");
	say(rcptline);
	ok(code("EHLO again", "250") && code("DATA", "503"),
	    "EHLO resets the transaction: DATA 503");
	say("MAIL FROM:<>");
	say(rcptline);
	say("DATA");
	say(".");
	ok(a.delivered && a.delivery.len == 0, "an empty message is delivered");
	ok(!sink_session_busy(s) && code("DATA", "503"),
	    "  and ends the transaction too");
}

/* Memory: small while idle, the message only from DATA to its end. */
static void
memory(const struct sink_conf *conf, const char *rcptline)
{
	char	line[1000];
	size_t	idle;
	int	i;

	fresh(conf);
	idle = sink_session_size(s);
	ok(idle <= 1024, "an idle session holds at most 1 KB (%zu bytes)",
	    idle);
	say("MAIL FROM:<>");
	say(rcptline);
	say("DATA");
	is_int(sink_session_state(s), SINK_DATA, "state: DATA");
	memset(line, 'x', 99);
	line[99] = '\0';
	for (i = 0; i < 200; i++)
		say(line);
	ok(sink_session_size(s) >= idle + 200 * 101 &&
	    sink_session_size(s) <= idle + SINK_MESSAGE_MAX,
	    "the message buffer grows with the message (%zu bytes)",
	    sink_session_size(s));
	say(".");
	ok(a.delivered && a.delivery.len == 200 * 101,
	    "the message is delivered whole");
	say("NOOP");
	is_int(sink_session_size(s), idle, "  and freed after it");
	say("MAIL FROM:<>");
	say(rcptline);
	say("DATA");
	for (i = 0; i < 800; i++)
		say(line);
	ok(sink_session_size(s) <= idle + SINK_MESSAGE_MAX,
	    "a message over the cap does not grow the buffer past it");
	ok(code(".", "552") && !a.delivered, "  and is refused: 552");
	say("QUIT");
	ok(sink_session_size(s) == idle, "QUIT: nothing held");
	sink_session_free(s);
	s = sink_session_new(conf, now, &a);
	for (i = 0; i < SINK_COMMANDS_MAX + 5 && !a.close; i++)
		say("NOOP");
	ok(a.close && strncmp(a.reply, "421", 3) == 0 &&
	    i == SINK_COMMANDS_MAX + 1,
	    "a session of endless NOOPs is closed after %d commands",
	    SINK_COMMANDS_MAX);
}

int
main(void)
{
	struct sink_conf	conf = { "probe.test", key, 32, 3600 };
	struct cookie		c;
	char			cookie[COOKIE_MAX], line[200], rcptline[200];
	const char		*err;

	memset(&c, 0, sizeof(c));
	addr_parse("192.0.2.9", &c.addr, &err);
	c.time = now - 60;
	c.attempt = 3;
	cookie_make(key, 32, &c, cookie);
	snprintf(rcptline, sizeof(rcptline), "RCPT TO:<%s@probe.test>",
	    cookie);

	s = sink_session_new(&conf, now, &a);
	ok(s && a.reply && strncmp(a.reply, "220 probe.test", 14) == 0,
	    "greeting");
	is_int(sink_session_state(s), SINK_START, "state: greeted");
	ok(strncmp(say("MAIL FROM:<x@y>"), "503", 3) == 0, "MAIL before EHLO");
	is_int(sink_session_state(s), SINK_CMD, "state: between commands");
	is_str(say("EHLO relay.lab.test"), "250 ok", "EHLO");
	ok(strncmp(say("RCPT TO:<a@probe.test>"), "503", 3) == 0,
	    "RCPT before MAIL");
	is_str(say("MAIL FROM:<>"), "250 2.1.0 ok", "MAIL");
	ok(strncmp(say("RCPT TO:<someone@probe.test>"), "550", 3) == 0,
	    "not a cookie: refused");
	snprintf(line, sizeof(line), "RCPT TO:<%s@elsewhere.test>", cookie);
	ok(strncmp(say(line), "550", 3) == 0, "a cookie at another domain: "
	    "refused (the sink relays nothing)");
	ok(strncmp(say("DATA"), "503", 3) == 0, "DATA without recipients");
	for (char *p = cookie; *p; p++)
		*p = *p >= 'a' && *p <= 'z' ? *p - 32 : *p;
	snprintf(line, sizeof(line), "RCPT TO:<%s@PROBE.TEST>", cookie);
	is_str(say(line), "250 2.1.5 ok", "a valid cookie (case folded): ok");
	ok(strncmp(say("DATA"), "354", 3) == 0, "DATA");
	say("Subject: test");
	say("");
	say("..leading dot");
	ok(!a.delivered, "nothing delivered before the end");
	is_str(say("."), "250 2.0.0 received, thank you", "end of data");
	ok(a.delivered && a.delivery.ncookies == 1 &&
	    a.delivery.cookies[0].attempt == 3, "delivery proves attempt 3");
	ok(a.delivery.len == strlen("Subject: test\r\n\r\n.leading dot\r\n") &&
	    memcmp(a.delivery.message, "Subject: test\r\n\r\n.leading dot\r\n",
	    a.delivery.len) == 0, "message as received, dot-unstuffed");

	c.time = now - 7200;
	cookie_make(key, 32, &c, cookie);
	say("MAIL FROM:<>");
	snprintf(line, sizeof(line), "RCPT TO:<%s@probe.test>", cookie);
	ok(strncmp(say(line), "550", 3) == 0, "an expired cookie: refused");
	is_str(say("RSET"), "250 2.0.0 ok", "RSET");
	ok(strncmp(say("VRFY x"), "500", 3) == 0, "unknown command");
	for (int i = 0; i < 20 && !a.close; i++)
		say("BOGUS");
	ok(a.close && strncmp(a.reply, "421", 3) == 0,
	    "too many errors: 421 and close");
	is_int(sink_session_state(s), SINK_CLOSED, "state: closed");
	sink_session_free(s);
	s = sink_session_new(&conf, now, &a);
	is_str(say("QUIT"), "221 2.0.0 bye", "QUIT");
	ok(a.close, "  closes");

	transactions(&conf, rcptline);
	memory(&conf, rcptline);
	sink_session_free(s);
	sink_session_free(NULL);
	return tap_done();
}
