/*
 * test_sink.c -- unit tests of the prober's SMTP sink
 */
#include <stdio.h>
#include <string.h>

#include "cookie.h"
#include "sink.h"
#include "tap.h"

static const uint8_t	 key[] = "0123456789abcdef0123456789abcdef";
static struct sink_session s;
static struct sink_action a;
static const int64_t	 now = 1800000000;

static const char *
say(const char *line)
{
	static char out[300];

	sink_session_line(&s, line, strlen(line), now, &a);
	snprintf(out, sizeof(out), "%.*s", a.reply ? (int)a.len - 2 : 0,
	    a.reply ? a.reply : "");
	return out;
}

int
main(void)
{
	struct sink_conf	conf = { "probe.test", key, 32, 3600 };
	struct cookie		c;
	char			cookie[COOKIE_MAX], line[200];
	const char		*err;

	memset(&c, 0, sizeof(c));
	addr_parse("192.0.2.9", &c.addr, &err);
	c.time = now - 60;
	c.attempt = 3;
	cookie_make(key, 32, &c, cookie);

	sink_session_init(&s, &conf, now, &a);
	ok(a.reply && strncmp(a.reply, "220 probe.test", 14) == 0, "greeting");
	ok(strncmp(say("MAIL FROM:<x@y>"), "503", 3) == 0, "MAIL before EHLO");
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
	sink_session_init(&s, &conf, now, &a);
	is_str(say("QUIT"), "221 2.0.0 bye", "QUIT");
	ok(a.close, "  closes");
	return tap_done();
}
