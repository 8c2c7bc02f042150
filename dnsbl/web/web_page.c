/*
 * web_page.c -- the pages the administrator of a listed server sees
 *
 * Plain HTML forms that work without JavaScript, one small stylesheet,
 * readable on a phone.  Everything that came from outside (an address as
 * typed, a transcript, the message as received, a server's banner) goes
 * through web_html: escaped, control characters shown as U+FFFD.  The
 * pages send a Content-Security-Policy that allows nothing but this
 * site's own stylesheet, so even a slip in escaping runs no script.
 *
 *   /             the lookup form, filled in with the visitor's address
 *   /lookup?ip=   listed or not, the code and what it means, why (the form
 *                 that relayed, when, who delivered the cookie, the SMTP
 *                 transcript and the message as received), the dates, a
 *                 pending removal, and the "retest and remove" button
 *   POST /remove  asks for the removal retest (queue rules, hourly rate),
 *                 then 303 to its progress page
 *   /removal/ID   queued, probing, removed or still relaying; refreshes
 *                 itself (meta refresh) until done
 *   /policy       listing criteria, removal, retests, expiry, contact
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "web.h"

static const char style[] =
    "*{box-sizing:border-box}\n"
    "body{font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",sans-serif;"
    "margin:0;color:#1d1d1f;background:#f6f7f9}\n"
    "header{background:#17324d;color:#fff;padding:.8em 1em;"
    "display:flow-root}\n"
    "header a{color:#fff;text-decoration:none;font-weight:600}\n"
    "header nav{float:right}header nav a{font-weight:400;margin-left:1em}\n"
    "main{max-width:52em;margin:0 auto;padding:1em}\n"
    "form{display:flex;flex-wrap:wrap;gap:.5em;margin:1em 0}\n"
    "input[type=text]{flex:1 1 14em;font:inherit;padding:.5em;"
    "border:1px solid #9aa4b1;border-radius:4px}\n"
    "button{font:inherit;padding:.5em 1.2em;border:0;border-radius:4px;"
    "background:#17324d;color:#fff;cursor:pointer}\n"
    "button.remove{background:#b3261e}\n"
    ".verdict{padding:1em;border-radius:6px;margin:1em 0;"
    "font-size:1.15em}\n"
    ".listed{background:#fde8e7;border:1px solid #e0a19c}\n"
    ".clear{background:#e6f4ea;border:1px solid #9fcfaa}\n"
    ".pending{background:#fff6dc;border:1px solid #e5cd7c}\n"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1em}\n"
    "dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}\n"
    "pre{background:#fff;border:1px solid #d5d9df;padding:.8em;"
    "overflow-x:auto;font-size:.85em;white-space:pre-wrap;"
    "overflow-wrap:anywhere}\n"
    "details{margin:.6em 0}summary{cursor:pointer;font-weight:600}\n"
    ".error{color:#b3261e;font-weight:600}\n"
    "footer{max-width:52em;margin:2em auto;padding:0 1em;color:#5b6572;"
    "font-size:.9em}\n"
    "@media(max-width:30em){dl{grid-template-columns:1fr}"
    "dt{margin-top:.5em}}\n";

/* The headers every page sends. */
static void
page_headers(struct web_req *r, int status, int cache)
{
	r->res->status = status;
	r->res->content_type = "text/html; charset=utf-8";
	http_response_header(r->res, "Content-Security-Policy",
	    "default-src 'none'; style-src 'self'; form-action 'self'; "
	    "frame-ancestors 'none'; base-uri 'none'");
	http_response_header(r->res, "X-Content-Type-Options", "nosniff");
	http_response_header(r->res, "Referrer-Policy", "no-referrer");
	if (!cache)
		http_response_header(r->res, "Cache-Control", "no-store");
}

static void
begin(struct web_req *r, int status, const char *title, int refresh)
{
	struct evbuffer *b = r->res->body;

	page_headers(r, status, 0);
	evbuffer_add_printf(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n");
	if (refresh)
		evbuffer_add_printf(b, "<meta http-equiv=\"refresh\" "
		    "content=\"%d\">\n", refresh);
	evbuffer_add_printf(b, "<title>");
	web_html(b, title);
	evbuffer_add_printf(b, " - relaybl</title>\n<link rel=\"stylesheet\" "
	    "href=\"/style.css\">\n</head>\n<body>\n<header><a href=\"/\">"
	    "relaybl</a> open relay blocklist<nav><a href=\"/\">Lookup</a>"
	    "<a href=\"/policy\">Policy</a></nav></header>\n<main>\n<h1>");
	web_html(b, title);
	evbuffer_add_printf(b, "</h1>\n");
}

static void
end(struct web_req *r)
{
	struct evbuffer *b = r->res->body;

	evbuffer_add_printf(b, "</main>\n<footer>relaybl lists mail servers "
	    "that relay mail for anyone, and only those: each listing is a "
	    "test message of ours that came back through the server. "
	    "Contact: ");
	web_html(b, r->w->contact);
	evbuffer_add_printf(b, ".</footer>\n</body>\n</html>\n");
}

static void
lookup_form(struct web_req *r, const char *value)
{
	struct evbuffer *b = r->res->body;

	evbuffer_add_printf(b, "<form method=\"get\" action=\"/lookup\">"
	    "<label for=\"ip\" hidden>Address</label>"
	    "<input type=\"text\" id=\"ip\" name=\"ip\" value=\"");
	web_html(b, value);
	evbuffer_add_printf(b, "\" autocomplete=\"off\" spellcheck=\"false\" "
	    "required><button type=\"submit\">Look up</button></form>\n");
}

void
page_error(struct web_req *r, int status, const char *text)
{
	char title[64];

	snprintf(title, sizeof(title), "%d %s", status,
	    http_status_text(status));
	begin(r, status, title, 0);
	evbuffer_add_printf(r->res->body, "<p class=\"error\">");
	web_html(r->res->body, text);
	evbuffer_add_printf(r->res->body, "</p>\n");
	lookup_form(r, "");
	end(r);
}

void
page_style(struct web_req *r)
{
	r->res->status = 200;
	r->res->content_type = "text/css; charset=utf-8";
	http_response_header(r->res, "Cache-Control", "max-age=3600");
	http_response_header(r->res, "X-Content-Type-Options", "nosniff");
	evbuffer_add(r->res->body, style, sizeof(style) - 1);
}

void
page_home(struct web_req *r)
{
	char	 ip[ADDR_STRLEN];
	int	 n;

	n = http_param(r->req->query, strlen(r->req->query), "ip", ip,
	    sizeof(ip));
	if (n >= 0) {
		page_lookup(r);
		return;
	}
	begin(r, 200, "Is a mail server listed?", 0);
	evbuffer_add_printf(r->res->body, "<p>relaybl lists mail servers "
	    "that are open relays: they pass on mail from anyone to anyone, "
	    "which spammers use. Enter the address of a mail server to see "
	    "whether it is listed, why, and how to be removed. The form is "
	    "filled in with the address you are visiting from.</p>\n");
	lookup_form(r, addr_format(&r->client, ip));
	end(r);
}

/* What a listing's return code means, for its kind. */
static const char *
code_meaning(uint32_t code, int kind)
{
	if (kind == STORE_KIND_MANUAL || kind == STORE_KIND_IMPORT)
		return "listed by the list's operators";
	switch (code) {
	case STORE_CODE_LISTED:
		return "an open relay: our test message came back through it";
	case STORE_CODE_EGRESS:
		return "the outgoing address of an open relay: it delivered "
		    "our test message that another address of the same "
		    "network relayed";
	default:
		return "listed by the list's operators";
	}
}

static void
row(struct evbuffer *b, const char *name, const char *value)
{
	evbuffer_add_printf(b, "<dt>%s</dt><dd>", name);
	web_html(b, value);
	evbuffer_add_printf(b, "</dd>\n");
}

/* The transcript and the message as received, from the evidence. */
static void
evidence_details(struct web_req *r, uint64_t id)
{
	struct evbuffer	*b = r->res->body;
	char		*text, *tr, *msg;
	size_t		 len;

	if (web_evidence(r->w, id, &text, &len) != 1)
		return;
	tr = strstr(text, "== SMTP transcript\n");
	msg = strstr(text, "== message as received\n");
	if (tr != NULL) {
		char *e = msg != NULL && msg > tr ? msg : text + len;
		tr += strlen("== SMTP transcript\n");
		evbuffer_add_printf(b, "<details open><summary>The SMTP "
		    "conversation with your server</summary>\n<pre>");
		web_html_n(b, tr, (size_t)(e - tr));
		evbuffer_add_printf(b, "</pre></details>\n");
	}
	if (msg != NULL) {
		msg += strlen("== message as received\n");
		evbuffer_add_printf(b, "<details><summary>Our test message as "
		    "it came back to us</summary>\n<pre>");
		web_html_n(b, msg, (size_t)(text + len - msg));
		evbuffer_add_printf(b, "</pre></details>\n");
	}
	if (tr == NULL && msg == NULL) {
		evbuffer_add_printf(b, "<details><summary>Evidence</summary>"
		    "\n<pre>");
		web_html_n(b, text, len);
		evbuffer_add_printf(b, "</pre></details>\n");
	}
	free(text);
}

static void
lookup_result(struct web_req *r, const struct web_lookup *l)
{
	struct evbuffer	*b = r->res->body;
	char		 a[ADDR_STRLEN], p[ADDR_STRLEN], c[16], t[32];

	addr_format(&l->addr, a);
	if (!l->listed) {
		evbuffer_add_printf(b, "<div class=\"verdict clear\">");
		web_html(b, a);
		evbuffer_add_printf(b, " is <strong>not listed</strong>%s"
		    "</div>\n", l->excluded ? " (the list's operators have "
		    "excluded it from listing)" : "");
		evbuffer_add_printf(b, "<p>Mail servers that check relaybl "
		    "accept mail from it as far as this list is concerned. "
		    "If a server refused your mail naming relaybl, the "
		    "listing may have been removed since: listings are "
		    "checked on every query.</p>\n");
		return;
	}
	evbuffer_add_printf(b, "<div class=\"verdict listed\">");
	web_html(b, a);
	evbuffer_add_printf(b, " is <strong>listed</strong> (%s: %s)</div>\n",
	    web_code(l->code, c, sizeof(c)), code_meaning(l->code,
	    l->has_rec ? l->rec.kind : 0));
	evbuffer_add_printf(b, "<h2>Why</h2>\n<dl>\n");
	if (l->prefix.plen != addr_maxplen(&l->prefix))
		row(b, "Listed prefix", addr_format(&l->prefix, p));
	if (l->has_rec) {
		row(b, "Kind", store_kind_name(l->rec.kind));
		if (l->form[0])
			row(b, "Form that relayed", l->form);
		if (l->delivered_by[0])
			row(b, "Delivered to us by", l->delivered_by);
		if (l->tls[0])
			row(b, "Over TLS", l->tls);
		row(b, "First listed", web_time(l->rec.first_listed, t,
		    sizeof(t)));
		row(b, "Last confirmed", web_time(l->rec.last_confirmed, t,
		    sizeof(t)));
		row(b, "Expires", l->rec.expires ? web_time(l->rec.expires, t,
		    sizeof(t)) : "never (until a clean retest)");
		if (l->rec.kind == STORE_KIND_MANUAL ||
		    l->rec.kind == STORE_KIND_IMPORT) {
			row(b, "Listed by", l->rec.source);
			if (l->rec.text[0])
				row(b, "Reason", l->rec.text);
		}
	}
	evbuffer_add_printf(b, "</dl>\n");
	if (l->has_rec && l->rec.kind != STORE_KIND_MANUAL &&
	    l->rec.kind != STORE_KIND_IMPORT)
		evbuffer_add_printf(b, "<p>A listing is retested every %lld "
		    "days and expires after %lld days unless a retest "
		    "confirms it. <a href=\"/policy\">The listing policy"
		    "</a>.</p>\n", (long long)(r->w->retest_interval / 86400),
		    (long long)(r->w->listing_ttl / 86400));
	if (l->has_rec && l->rec.evidence)
		evidence_details(r, l->rec.evidence);
	if (l->removal_pending) {
		evbuffer_add_printf(b, "<div class=\"verdict pending\">A "
		    "removal retest is %s. <a href=\"/removal/%llu\">Follow "
		    "it</a>.</div>\n", l->removal_running ? "running now" :
		    "queued", (unsigned long long)l->removal_id);
		return;
	}
	evbuffer_add_printf(b, "<h2>Removal</h2>\n<p>Close the relay first: "
	    "your server must refuse mail for domains it does not serve "
	    "from clients it does not know (Postfix: "
	    "<code>smtpd_relay_restrictions = permit_mynetworks, "
	    "permit_sasl_authenticated, reject_unauth_destination</code> and "
	    "a <code>mynetworks</code> of your own networks only; Exim: "
	    "<code>relay_from_hosts</code>). Then ask for a retest: we send "
	    "our test messages again and remove the listing at once if none "
	    "comes back. A retest can run once an hour.</p>\n"
	    "<form method=\"post\" action=\"/remove\">"
	    "<input type=\"hidden\" name=\"ip\" value=\"");
	web_html(b, a);
	evbuffer_add_printf(b, "\"><button class=\"remove\" type=\"submit\">"
	    "Retest and remove</button></form>\n");
}

void
page_lookup(struct web_req *r)
{
	struct web_lookup	 l;
	struct addr		 a;
	const char		*err;
	char			 ip[128], title[160];

	if (http_param(r->req->query, strlen(r->req->query), "ip", ip,
	    sizeof(ip)) < 0 || ip[0] == '\0') {
		begin(r, 400, "Look up an address", 0);
		evbuffer_add_printf(r->res->body, "<p class=\"error\">Give "
		    "one IPv4 or IPv6 address.</p>\n");
		lookup_form(r, "");
		end(r);
		return;
	}
	/* Spaces a paste carries around an address are not an error. */
	char *s = ip, *e;
	while (*s == ' ')
		s++;
	for (e = s + strlen(s); e > s && e[-1] == ' '; )
		*--e = '\0';
	if (addr_parse(s, &a, &err) == -1 || a.plen != addr_maxplen(&a)) {
		begin(r, 400, "Not an address", 0);
		evbuffer_add_printf(r->res->body, "<p class=\"error\">\"");
		web_html(r->res->body, s);
		evbuffer_add_printf(r->res->body, "\" is not one IPv4 or IPv6 "
		    "address%s.</p>\n", a.family && a.plen != addr_maxplen(&a) ?
		    " (a prefix: give one address)" : "");
		lookup_form(r, s);
		end(r);
		return;
	}
	if (web_lookup(r->w, &a, &l) == -1) {
		page_error(r, 500, "The list could not be read just now; "
		    "please try again in a minute.");
		return;
	}
	addr_format(&a, ip);
	snprintf(title, sizeof(title), "%s", ip);
	begin(r, 200, title, 0);
	lookup_form(r, ip);
	lookup_result(r, &l);
	end(r);
}

void
page_remove(struct web_req *r)
{
	struct addr	 a;
	const char	*err, *why;
	char		 ip[128], loc[64];
	uint64_t	 id;
	int64_t		 retry, due;
	int		 rc;

	if (http_param(r->call->body, r->call->bodylen, "ip", ip,
	    sizeof(ip)) < 0 || addr_parse(ip, &a, &err) == -1 ||
	    a.plen != addr_maxplen(&a)) {
		page_error(r, 400, "The removal form needs one IPv4 or IPv6 "
		    "address.");
		return;
	}
	rc = web_removal_ask(r, &a, &id, &retry, &why, &due);
	switch (rc) {
	case RM_QUEUED:
	case RM_ALREADY:
		snprintf(loc, sizeof(loc), "/removal/%llu",
		    (unsigned long long)id);
		r->res->status = 303;
		http_response_header(r->res, "Location", "%s", loc);
		evbuffer_add_printf(r->res->body, "See %s\n", loc);
		break;
	case RM_RATE_LIMITED:
		http_response_header(r->res, "Retry-After", "%lld",
		    (long long)retry);
		begin(r, 429, "Too many removal requests", 0);
		evbuffer_add_printf(r->res->body, "<p class=\"error\">%lld "
		    "removal requests an hour can come from one address; "
		    "please try again in %lld minutes.</p>\n",
		    (long long)r->w->removal_rate, (long long)(retry + 59) /
		    60);
		end(r);
		break;
	case RM_NOT_LISTED:
	case RM_EXCLUDED:
		begin(r, 404, "Nothing to remove", 0);
		evbuffer_add_printf(r->res->body, "<p>");
		web_html(r->res->body, addr_format(&a, ip));
		evbuffer_add_printf(r->res->body, " is not listed, so there "
		    "is nothing to remove.</p>\n");
		lookup_form(r, ip);
		end(r);
		break;
	case RM_REFUSED:
		page_error(r, 400, why ? why : "That removal cannot be asked "
		    "for.");
		break;
	default:
		page_error(r, 500, "The request could not be recorded just "
		    "now; please try again in a minute.");
		break;
	}
}

void
page_removal(struct web_req *r, const char *idtext)
{
	struct web_removal	 rm;
	struct evbuffer		*b = r->res->body;
	char			*end_;
	char			 a[ADDR_STRLEN], t[32], title[96];
	unsigned long long	 id = strtoull(idtext, &end_, 10);
	int			 done, rc;

	if (*idtext < '1' || *idtext > '9' || *end_ != '\0' ||
	    (rc = web_removal_get(r->w, id, &rm)) == 0) {
		page_error(r, 404, "There is no such removal request.");
		return;
	}
	if (rc == -1) {
		page_error(r, 500, "The list could not be read just now; "
		    "please try again in a minute.");
		return;
	}
	addr_format(&rm.addr, a);
	done = rm.state == WR_REMOVED || rm.state == WR_STILL_LISTED ||
	    rm.state == WR_GONE;
	snprintf(title, sizeof(title), "Removal of %s", a);
	begin(r, 200, title, done ? 0 : 5);
	evbuffer_add_printf(b, "<dl>\n");
	row(b, "Request", idtext);
	row(b, "Asked", web_time(rm.requested, t, sizeof(t)));
	row(b, "State", web_removal_state_name(rm.state));
	evbuffer_add_printf(b, "</dl>\n");
	switch (rm.state) {
	case WR_QUEUED:
		evbuffer_add_printf(b, "<div class=\"verdict pending\">The "
		    "retest is queued, due %s%s. This page refreshes itself."
		    "</div>\n", web_time(rm.due, t, sizeof(t)), rm.due >
		    r->now + 60 ? " (a retest of one address runs at most "
		    "once an hour; the last one ran less than an hour ago)" :
		    "");
		break;
	case WR_PROBING:
		evbuffer_add_printf(b, "<div class=\"verdict pending\">We are "
		    "testing your server now: this takes a minute or two. "
		    "This page refreshes itself.</div>\n");
		break;
	case WR_RETRYING:
		evbuffer_add_printf(b, "<div class=\"verdict pending\">The "
		    "last try could not finish (");
		web_html(b, rm.outcome);
		evbuffer_add_printf(b, "); we try again%s%s. This page "
		    "refreshes itself.</div>\n", rm.due ? " at " : "",
		    rm.due ? web_time(rm.due, t, sizeof(t)) : "");
		break;
	case WR_REMOVED:
		evbuffer_add_printf(b, "<div class=\"verdict clear\">"
		    "<strong>Removed.</strong> Your server refused to relay "
		    "our test messages, and ");
		web_html(b, a);
		evbuffer_add_printf(b, " is no longer listed (since %s). Mail "
		    "servers that check relaybl see it at their next query."
		    "</div>\n", web_time(rm.finished, t, sizeof(t)));
		break;
	case WR_STILL_LISTED:
		evbuffer_add_printf(b, "<div class=\"verdict listed\">"
		    "<strong>Still listed.</strong> Your server relayed our "
		    "test message again");
		if (rm.form[0]) {
			evbuffer_add_printf(b, " (form ");
			web_html(b, rm.form);
			evbuffer_add_printf(b, ")");
		}
		evbuffer_add_printf(b, ". It is an open relay: restrict "
		    "relaying to your own users and networks, then ask "
		    "again.</div>\n");
		if (rm.evidence)
			evidence_details(r, rm.evidence);
		break;
	default:
		evbuffer_add_printf(b, "<div class=\"verdict listed\">The "
		    "request was withdrawn before a retest, and the address "
		    "is still listed.</div>\n");
		break;
	}
	evbuffer_add_printf(b, "<p><a href=\"/lookup?ip=");
	web_html(b, a);
	evbuffer_add_printf(b, "\">Look up ");
	web_html(b, a);
	evbuffer_add_printf(b, "</a></p>\n");
	end(r);
}

void
page_policy(struct web_req *r)
{
	struct evbuffer *b = r->res->body;

	begin(r, 200, "Listing policy", 0);
	evbuffer_add_printf(b,
	    "<h2>What is listed</h2>\n<p>Only mail servers that relay mail "
	    "for anyone. We test an address when it is submitted (by the "
	    "list's operators and the spam traps that feed them): our "
	    "prober connects to its SMTP port from an address of ours, "
	    "offers test messages addressed to our own mailbox through many "
	    "address forms, and lists the address only when one of those "
	    "messages arrives back at our mailbox through it. A server that "
	    "accepts a message and does not deliver it, refuses, or defers "
	    "is not listed. The return code 127.0.0.2 is an open relay; "
	    "127.0.0.3 the outgoing address that delivered a message "
	    "another address of the same network relayed.</p>\n"
	    "<h2>Removal</h2>\n<p>Ask on the lookup page (\"Retest and "
	    "remove\") or through the API. We test the server again at "
	    "once (a retest of one address can run once an hour) and remove "
	    "the listing when the test is clean. No fee, no form to fill "
	    "in: the test decides.</p>\n"
	    "<h2>Retests and expiry</h2>\n<p>Listed addresses are retested "
	    "every %lld days; a listing not reconfirmed expires after %lld "
	    "days.</p>\n<h2>Contact</h2>\n<p>",
	    (long long)(r->w->retest_interval / 86400),
	    (long long)(r->w->listing_ttl / 86400));
	web_html(b, r->w->contact);
	evbuffer_add_printf(b, "</p>\n");
	end(r);
}
