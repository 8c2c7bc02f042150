/*
 * test_battery.c -- unit tests of the relay-test battery
 */
#include <string.h>

#include "battery.h"
#include "cookie.h"
#include "tap.h"

static const uint8_t key[] = "0123456789abcdef0123456789abcdef";

/* The words of session k's attempts, as they would be sent. */
struct words {
	char	sender[SMTP_ADDR_MAX], recipient[SMTP_ADDR_MAX];
	char	body[SMTP_BODY_MAX];
};

static int
session(const struct battery_ctx *ctx, int k, struct words *w)
{
	int n = battery_session_attempts(k);

	for (int i = 0; i < n; i++) {
		int form = k * BATTERY_PER_SESSION + i;
		if (battery_build(ctx, form, SMTP_PART_SENDER, w[i].sender,
		    sizeof(w[i].sender)) == -1 || battery_build(ctx, form,
		    SMTP_PART_RECIPIENT, w[i].recipient,
		    sizeof(w[i].recipient)) == -1 || battery_build(ctx, form,
		    SMTP_PART_BODY, w[i].body, sizeof(w[i].body)) == -1)
			return -1;
	}
	return n;
}

int
main(void)
{
	struct battery_ctx	 ctx;
	struct words		 a[BATTERY_PER_SESSION];
	struct cookie		 c;
	const char		*err;
	char			 buf[64];
	int			 total = 0, n, k, bad = 0;
	size_t			 len;
	long			 off;

	memset(&ctx, 0, sizeof(ctx));
	ctx.domain = "probe.test";
	addr_parse("192.0.2.7", &ctx.target, &err);
	ctx.now = 1800000000;
	ctx.key = key;
	ctx.keylen = 32;
	ctx.info_url = "https://relaybl.example/about";
	ok(battery_forms() >= 15, "%d forms", battery_forms());
	is_int(battery_sessions(), (battery_forms() + 7) / 8,
	    "sessions of at most 8");
	for (k = 0; (n = session(&ctx, k, a)) > 0; k++) {
		ok(n <= BATTERY_PER_SESSION, "session %d: %d attempts", k, n);
		for (int i = 0; i < n; i++, total++) {
			off = cookie_find(a[i].recipient,
			    strlen(a[i].recipient), &len);
			if (off < 0 || cookie_check(key, 32,
			    a[i].recipient + off, len, ctx.now, 60, &c) !=
			    COOKIE_OK || c.attempt != total ||
			    strstr(a[i].body, a[i].recipient + off) == NULL ||
			    strstr(a[i].recipient, "{u}") ||
			    strstr(a[i].recipient, "{d}") ||
			    strstr(a[i].recipient, "{ip}"))
				bad++;
		}
	}
	is_int(k, battery_sessions(), "every session filled");
	is_int(total, battery_forms(), "every form once");
	is_int(bad, 0, "each recipient carries a valid cookie for its "
	    "attempt, also found in the body; no placeholder left but {h}");
	session(&ctx, 0, a);
	is_str(a[0].sender, "<>", "first form: null sender");
	ok(strncmp(a[1].recipient, "<rb", 3) == 0 &&
	    strstr(a[1].recipient, "@probe.test>") != NULL,
	    "plain recipient: %s", a[1].recipient);
	ok(strstr(a[2].sender, "{h}") != NULL, "{h} left for the session");
	ok(strstr(a[0].body, "open relay") != NULL &&
	    strstr(a[0].body, "https://relaybl.example/about") != NULL,
	    "the body says what this is and where to read about delisting");
	session(&ctx, 1, a);
	ok(strstr(a[2].recipient, "@[192.0.2.7]>") != NULL,
	    "{ip} as an address literal: %s", a[2].recipient);
	addr_parse("2001:db8::7", &ctx.target, &err);
	session(&ctx, 1, a);
	ok(strstr(a[2].recipient, "@[IPv6:2001:db8::7]>") != NULL,
	    "IPv6 literal: %s", a[2].recipient);
	is_int(battery_session_attempts(battery_sessions()), 0,
	    "past the last session: none");
	is_int(battery_session_attempts(-1), 0, "before the first: none");
	is_int(battery_build(&ctx, battery_forms(), SMTP_PART_SENDER, buf,
	    sizeof(buf)), -1, "no such form: -1");
	is_int(battery_build(&ctx, 0, 7, buf, sizeof(buf)), -1,
	    "no such part: -1");
	return tap_done();
}
