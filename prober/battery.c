/*
 * battery.c -- the relay-test battery: address forms turned into attempts
 *
 * Placeholders: {u} the cookie, {d} the probe (sink) domain, {ip} the
 * tested address as a literal ("1.2.3.4", "IPv6:2001:db8::1"), {h} the
 * server's own name (filled in by the session).  The plain recipient is
 * tried with every sender form (forged local senders catch
 * relay_local_from-style rules); the other recipient forms with a sender
 * in the probe domain.  Nothing is stored: each part is made when it is
 * sent, its cookie with it (one HMAC).
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "battery.h"
#include "cookie.h"

static const struct form {
	const char	*name;
	const char	*sender;
	const char	*recipient;
} forms[] = {
	{ "plain-null-sender",	"<>",			"<{u}@{d}>" },
	{ "plain",		"<x@{d}>",		"<{u}@{d}>" },
	{ "plain-from-h",	"<x@{h}>",		"<{u}@{d}>" },
	{ "plain-from-ip",	"<x@[{ip}]>",		"<{u}@{d}>" },
	{ "plain-from-localhost", "<x@localhost>",	"<{u}@{d}>" },
	{ "plain-from-unqualified", "<x>",		"<{u}@{d}>" },
	{ "plain-from-bang",	"<{d}!x>",		"<{u}@{d}>" },
	{ "no-brackets",	"<x@{d}>",		"{u}@{d}" },
	{ "quoted",		"<x@{d}>",		"<\"{u}@{d}\">" },
	{ "quoted-percent",	"<x@{d}>",		"<\"{u}%{d}\">" },
	{ "percent-hack-ip",	"<x@{h}>",		"<{u}%{d}@[{ip}]>" },
	{ "percent-hack-h",	"<x@{h}>",		"<{u}%{d}@{h}>" },
	{ "double-at-ip",	"<x@{h}>",		"<{u}@{d}@[{ip}]>" },
	{ "double-at-h",	"<x@{h}>",		"<{u}@{d}@{h}>" },
	{ "quoted-at-ip",	"<x@{h}>",		"<\"{u}@{d}\"@[{ip}]>" },
	{ "source-route-ip",	"<x@{d}>",		"<@[{ip}]:{u}@{d}>" },
	{ "source-route-h",	"<x@{d}>",		"<@{h}:{u}@{d}>" },
	{ "bang",		"<x@{d}>",		"<{d}!{u}>" },
	{ "bang-ip",		"<x@{h}>",		"<{d}!{u}@[{ip}]>" },
	{ "bang-h",		"<x@{h}>",		"<{d}!{u}@{h}>" },
	{ "trailing-at",	"<x@{d}>",		"<{u}@{d}@>" },
};
#define NFORMS	((int)(sizeof(forms) / sizeof(forms[0])))

int
battery_forms(void)
{
	return NFORMS;
}

int
battery_sessions(void)
{
	return (NFORMS + BATTERY_PER_SESSION - 1) / BATTERY_PER_SESSION;
}

const char *
battery_form_name(int i)
{
	return i >= 0 && i < NFORMS ? forms[i].name : "?";
}

/* Replaces {u}, {d}, {ip} in src; leaves {h}.  Bounded by size. */
static void
fill(const char *src, const char *u, const char *d, const char *ip,
    char *dst, size_t size)
{
	size_t n = 0;

	while (*src && n + 1 < size) {
		const char *rep = NULL;
		size_t skip = 0;
		if (strncmp(src, "{u}", 3) == 0)
			rep = u, skip = 3;
		else if (strncmp(src, "{d}", 3) == 0)
			rep = d, skip = 3;
		else if (strncmp(src, "{ip}", 4) == 0)
			rep = ip, skip = 4;
		if (rep != NULL) {
			size_t l = strlen(rep);
			if (n + l + 1 >= size)
				break;
			memcpy(dst + n, rep, l);
			n += l;
			src += skip;
		} else
			dst[n++] = *src++;
	}
	dst[n] = '\0';
}

/* The test message: headers, what this is, the cookie, how to delist. */
static void
body(const struct battery_ctx *ctx, const char *cookie, const char *rcpt,
    int form, char *out, size_t size)
{
	char		date[64];
	time_t		t = (time_t)ctx->now;
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(out, size,
	    "From: relaybl relay test <x@%s>\n"
	    "To: %s\n"
	    "Subject: relaybl open relay test %s\n"
	    "Date: %s\n"
	    "Message-ID: <%s@%s>\n"
	    "\n"
	    "This message tests whether the mail server that relayed it is an\n"
	    "open relay. It was sent because the server's address was\n"
	    "submitted to the relaybl list, and it was addressed only to the\n"
	    "list's own test mailbox. If it arrives there, the server relays\n"
	    "mail for anyone and will be listed.\n"
	    "\n"
	    "Test: %s (form %s)\n"
	    "What this is and how to be delisted: %s\n",
	    ctx->domain, rcpt, cookie, date, cookie, ctx->domain, cookie,
	    battery_form_name(form), ctx->info_url ? ctx->info_url :
	    "(see the list's web page)");
}

int
battery_session_attempts(int k)
{
	int left = NFORMS - k * BATTERY_PER_SESSION;

	if (k < 0 || left <= 0)
		return 0;
	return left < BATTERY_PER_SESSION ? left : BATTERY_PER_SESSION;
}

int
battery_build(const struct battery_ctx *ctx, int form, int part, char *buf,
    size_t size)
{
	char		ip[INET6_ADDRSTRLEN + 8], raw[INET6_ADDRSTRLEN];
	char		cookie[COOKIE_MAX], rcpt[SMTP_ADDR_MAX];
	struct cookie	c = { ctx->target, (uint32_t)ctx->now, (uint16_t)form };

	if (form < 0 || form >= NFORMS || size == 0 ||
	    cookie_make(ctx->key, ctx->keylen, &c, cookie) == -1)
		return -1;
	inet_ntop(ctx->target.family == ADDR_V4 ? AF_INET : AF_INET6,
	    ctx->target.bytes, raw, sizeof(raw));
	snprintf(ip, sizeof(ip), "%s%s", ctx->target.family == ADDR_V6 ?
	    "IPv6:" : "", raw);
	switch (part) {
	case SMTP_PART_SENDER:
		fill(forms[form].sender, cookie, ctx->domain, ip, buf, size);
		return 0;
	case SMTP_PART_RECIPIENT:
		fill(forms[form].recipient, cookie, ctx->domain, ip, buf, size);
		return 0;
	case SMTP_PART_BODY:
		fill(forms[form].recipient, cookie, ctx->domain, ip, rcpt,
		    sizeof(rcpt));
		body(ctx, cookie, rcpt, form, buf, size);
		return 0;
	}
	return -1;
}
