/*
 * web_util.c -- tokens, the removal rate, HTML and JSON text
 *
 * The tokens file: one "NAME TOKEN" pair a line, '#' starts a comment;
 * a token is at least 16 characters (shorter ones are refused at load, so
 * a test value cannot go live by mistake).  Tokens are compared with every
 * byte examined whatever the first difference, against every token.
 *
 * The removal rate: a fixed one-hour window per client address in a table
 * of WEB_RATE_SLOTS; a client not in it takes the slot whose window is
 * oldest, so a flood of addresses costs a fixed table, never memory.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "log.h"
#include "web.h"

int
web_tokens_load(struct web *w)
{
	FILE			*fp;
	char			 line[512];
	struct web_token	*t;
	int			 n = 0, lineno = 0;

	if (w->tokens_file[0] == '\0') {
		free(w->tokens);
		w->tokens = NULL;
		w->ntokens = 0;
		return 0;
	}
	if ((fp = fopen(w->tokens_file, "r")) == NULL) {
		log_warn("%s", w->tokens_file);
		return -1;
	}
	if ((t = calloc(WEB_TOKENS_MAX, sizeof(*t))) == NULL) {
		fclose(fp);
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char name[WEB_TOKEN_NAME_MAX], tok[WEB_TOKEN_MAX], extra[2];
		char *hash = strchr(line, '#');
		int k;

		lineno++;
		if (hash)
			*hash = '\0';
		k = sscanf(line, "%63s %127s %1s", name, tok, extra);
		if (k <= 0)
			continue;
		if (k != 2 || strlen(tok) < 16 || n == WEB_TOKENS_MAX) {
			log_warnx("%s:%d: want \"NAME TOKEN\" (a token of 16 "
			    "to 127 characters; at most %d)", w->tokens_file,
			    lineno, WEB_TOKENS_MAX);
			fclose(fp);
			free(t);
			return -1;
		}
		snprintf(t[n].name, sizeof(t[n].name), "%s", name);
		snprintf(t[n].token, sizeof(t[n].token), "%s", tok);
		n++;
	}
	fclose(fp);
	free(w->tokens);
	w->tokens = t;
	w->ntokens = n;
	return 0;
}

/* Equal in length and bytes, looked at whole whatever differs. */
static int
same_secret(const char *a, const char *b)
{
	size_t		la = strlen(a), lb = strlen(b);
	unsigned char	d = la != lb;

	for (size_t i = 0; i < WEB_TOKEN_MAX; i++)
		d |= (unsigned char)(i < la ? a[i] : 0) ^
		    (unsigned char)(i < lb ? b[i] : 0);
	return d == 0;
}

const char *
web_token_name(const struct web *w, const char *auth)
{
	const char *found = NULL;

	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return NULL;
	auth += 7;
	while (*auth == ' ')
		auth++;
	if (strlen(auth) >= WEB_TOKEN_MAX)
		return NULL;
	/* Every token is looked at: no early exit says which matched. */
	for (int i = 0; i < w->ntokens; i++)
		if (same_secret(auth, w->tokens[i].token))
			found = w->tokens[i].name;
	return found;
}

int64_t
web_rate_take(struct web *w, const struct addr *client, int64_t now)
{
	struct web_rate_slot	*s, *oldest = &w->rate[0];
	struct addr		 key = *client;
	int64_t			 window = now - now % 3600;

	/* An IPv6 client is its /64: one host has the whole of it. */
	if (key.family == ADDR_V6) {
		key.plen = 64;
		addr_mask(&key);
	}
	for (int i = 0; i < WEB_RATE_SLOTS; i++) {
		s = &w->rate[i];
		if (s->client.family == key.family &&
		    memcmp(s->client.bytes, key.bytes, sizeof(key.bytes)) == 0)
			goto found;
		if (s->window < oldest->window)
			oldest = s;
	}
	s = oldest;
	s->client = key;
	s->window = window;
	s->count = 0;
found:
	if (s->window != window) {
		s->window = window;
		s->count = 0;
	}
	if (s->count >= w->removal_rate)
		return window + 3600 - now;
	s->count++;
	return 0;
}

static size_t	utf8_len(const unsigned char *, size_t);

void
web_html_n(struct evbuffer *b, const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		const char *rep = NULL;
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '\r':
			/* A CRLF line end (mail, SMTP) is a line end. */
			if (i + 1 < len && s[i + 1] == '\n')
				rep = "";
			else
				rep = "\xef\xbf\xbd";
			break;
		default:
			/*
			 * Control characters but tab and newline, and bytes
			 * that are not UTF-8: shown as U+FFFD.
			 */
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
				rep = "\xef\xbf\xbd";
			else if (c >= 0x80) {
				size_t l = utf8_len((const unsigned char *)s +
				    i, len - i);
				if (l == 0)
					rep = "\xef\xbf\xbd";
				else
					i += l - 1;
			}
			break;
		}
		if (rep != NULL) {
			evbuffer_add(b, s + start, i - start);
			evbuffer_add(b, rep, strlen(rep));
			start = i + 1;
		}
	}
	evbuffer_add(b, s + start, len - start);
}

void
web_html(struct evbuffer *b, const char *s)
{
	web_html_n(b, s, strlen(s));
}

/* The length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t		 len;
	uint32_t	 cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong, surrogates, beyond U+10FFFF. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp > 0x10ffff)
		return 0;
	return len;
}

void *
web_json_text(const char *text, size_t len)
{
	const unsigned char	*p = (const unsigned char *)text;
	char			*clean;
	size_t			 n = 0;
	json_t			*j;

	/* Each bad byte becomes U+FFFD: three bytes for one. */
	if ((clean = malloc(len * 3 + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < len; ) {
		size_t l = p[i] == 0 ? 0 : utf8_len(p + i, len - i);
		if (l == 0) {
			memcpy(clean + n, "\xef\xbf\xbd", 3);
			n += 3;
			i++;
		} else {
			memcpy(clean + n, p + i, l);
			n += l;
			i += l;
		}
	}
	j = json_stringn(clean, n);
	free(clean);
	return j;
}

void
web_json_send(struct web_req *r, int status, void *json)
{
	char *text = json ? json_dumps(json, JSON_INDENT(1) |
	    JSON_PRESERVE_ORDER) : NULL;

	r->res->status = text ? status : 500;
	r->res->content_type = "application/json";
	if (text) {
		evbuffer_add(r->res->body, text, strlen(text));
		evbuffer_add(r->res->body, "\n", 1);
	} else
		evbuffer_add_printf(r->res->body, "{\"error\": \"out of "
		    "memory\"}\n");
	free(text);
	json_decref(json);
}

void
web_json_error(struct web_req *r, int status, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	web_json_send(r, status, json_pack("{s:o}", "error",
	    web_json_text(msg, strlen(msg))));
}

const char *
web_time(int64_t t, char *buf, size_t size)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, size, "never");
	else
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

const char *
web_code(uint32_t code, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", code >> 24, (code >> 16) & 0xff,
	    (code >> 8) & 0xff, code & 0xff);
	return buf;
}
