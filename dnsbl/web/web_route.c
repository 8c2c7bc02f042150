/*
 * web_route.c -- every request: who asks, which route, the counters
 *
 * The client is the TCP peer, unless the peer is one of trusted_proxies
 * and sent X-Forwarded-For: then the rightmost address in it that is not
 * a trusted proxy (each proxy appends the address it saw; what comes
 * before the last untrusted one is whatever the client wrote).
 *
 * Routes (method, path); a known path with another method is 405:
 *   GET  /, /lookup?ip=, /removal/ID, /policy, /style.css   the pages
 *   POST /remove (form: ip=)                                 the button
 *   GET  /v1/lookup/ADDR, /v1/removals/ID; POST /v1/removals  public API
 *   POST /v1/submissions, /v1/listings; DELETE /v1/listings/P;
 *   GET  /v1/queue, /v1/history/ADDR, /v1/evidence/ID, /metrics
 *                                       operators (Authorization: Bearer)
 */
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "log.h"
#include "web.h"

static int
trusted(const struct web *w, const struct addr *a)
{
	for (int i = 0; i < w->nproxies; i++)
		if (addr_contains(&w->proxies[i], a))
			return 1;
	return 0;
}

static void
client_of(struct web_req *r)
{
	const char	*xff;
	char		 buf[1024], *p, *tok;
	struct addr	 a;
	const char	*err;

	r->client = r->call->peer;
	if (!trusted(r->w, &r->client) ||
	    (xff = http_header(r->req, "x-forwarded-for")) == NULL ||
	    strlen(xff) >= sizeof(buf))
		return;
	strcpy(buf, xff);
	/* From the right: the first that is not one of ours is the client. */
	for (;;) {
		p = strrchr(buf, ',');
		tok = p ? p + 1 : buf;
		while (*tok == ' ' || *tok == '\t')
			tok++;
		for (char *e = tok + strlen(tok); e > tok && (e[-1] == ' ' ||
		    e[-1] == '\t'); )
			*--e = '\0';
		if (addr_parse(tok, &a, &err) == -1 || a.plen !=
		    addr_maxplen(&a))
			return;		/* garbage: keep what we know */
		r->client = a;
		if (!trusted(r->w, &a) || p == NULL)
			return;
		*p = '\0';
	}
}

/* The slot of a status in the counters. */
static const int statuses[WEB_STATUS_SLOTS] = {
	200, 201, 202, 303, 400, 401, 403, 404, 405, 413, 429, 500
};

int	web_status_slot(int status);
int
web_status_slot(int status)
{
	for (int i = 0; i < WEB_STATUS_SLOTS; i++)
		if (statuses[i] == status)
			return i;
	return status >= 500 ? WEB_STATUS_SLOTS - 1 : 4;	/* 500, 400 */
}

int	web_status_of_slot(int slot);
int
web_status_of_slot(int slot)
{
	return statuses[slot];
}

/* The path after prefix, or NULL when path does not start with it. */
static const char *
after(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(path, prefix, n) == 0 && path[n] != '\0' ? path + n :
	    NULL;
}

/* 401 without a token, 403 with a wrong one; the name when right. */
static const char *
operator(struct web_req *r)
{
	const char *auth = http_header(r->req, "authorization");
	const char *name;

	if (auth == NULL) {
		http_response_header(r->res, "WWW-Authenticate",
		    "Bearer realm=\"relaybl\"");
		web_json_error(r, 401, "an operator token is needed "
		    "(Authorization: Bearer TOKEN)");
		return NULL;
	}
	if ((name = web_token_name(r->w, auth)) == NULL) {
		web_json_error(r, 403, "that token is not valid");
		return NULL;
	}
	return name;
}

static void
not_allowed(struct web_req *r, const char *allow)
{
	http_response_header(r->res, "Allow", "%s", allow);
	if (strncmp(r->req->path, "/v1/", 4) == 0 ||
	    strcmp(r->req->path, "/metrics") == 0)
		web_json_error(r, 405, "%s is not allowed here",
		    http_method_name(r->req->method));
	else
		page_error(r, 405, "That is not something this page does.");
}

static int
is_get(const struct web_req *r)
{
	return r->req->method == HTTP_GET || r->req->method == HTTP_HEAD;
}

static void
route(struct web_req *r)
{
	const char	*path = r->req->path, *rest, *who;
	int		 m = r->req->method;

	if (strcmp(path, "/") == 0) {
		r->route = R_PAGE_HOME;
		is_get(r) ? page_home(r) : not_allowed(r, "GET, HEAD");
	} else if (strcmp(path, "/lookup") == 0) {
		r->route = R_PAGE_LOOKUP;
		is_get(r) ? page_lookup(r) : not_allowed(r, "GET, HEAD");
	} else if (strcmp(path, "/remove") == 0) {
		r->route = R_PAGE_REMOVE;
		m == HTTP_POST ? page_remove(r) : not_allowed(r, "POST");
	} else if ((rest = after(path, "/removal/")) != NULL) {
		r->route = R_PAGE_REMOVAL;
		is_get(r) ? page_removal(r, rest) : not_allowed(r,
		    "GET, HEAD");
	} else if (strcmp(path, "/policy") == 0) {
		r->route = R_PAGE_POLICY;
		is_get(r) ? page_policy(r) : not_allowed(r, "GET, HEAD");
	} else if (strcmp(path, "/style.css") == 0) {
		r->route = R_STYLE;
		is_get(r) ? page_style(r) : not_allowed(r, "GET, HEAD");
	} else if ((rest = after(path, "/v1/lookup/")) != NULL) {
		r->route = R_API_LOOKUP;
		is_get(r) ? api_lookup(r, rest) : not_allowed(r, "GET, HEAD");
	} else if (strcmp(path, "/v1/removals") == 0) {
		r->route = R_API_REMOVALS;
		m == HTTP_POST ? api_removals(r) : not_allowed(r, "POST");
	} else if ((rest = after(path, "/v1/removals/")) != NULL) {
		r->route = R_API_REMOVAL;
		is_get(r) ? api_removal(r, rest) : not_allowed(r,
		    "GET, HEAD");
	} else if (strcmp(path, "/v1/submissions") == 0) {
		r->route = R_API_SUBMISSIONS;
		if (m != HTTP_POST)
			not_allowed(r, "POST");
		else if ((who = operator(r)) != NULL)
			api_submissions(r, who);
	} else if (strcmp(path, "/v1/listings") == 0 ||
	    (rest = after(path, "/v1/listings/")) != NULL) {
		r->route = R_API_LISTINGS;
		rest = strcmp(path, "/v1/listings") == 0 ? NULL :
		    path + strlen("/v1/listings/");
		if ((rest == NULL && m != HTTP_POST) ||
		    (rest != NULL && m != HTTP_DELETE))
			not_allowed(r, rest ? "DELETE" : "POST");
		else if ((who = operator(r)) != NULL)
			api_listings(r, who, rest);
	} else if (strcmp(path, "/v1/queue") == 0) {
		r->route = R_API_QUEUE;
		if (!is_get(r))
			not_allowed(r, "GET, HEAD");
		else if (operator(r) != NULL)
			api_queue(r);
	} else if ((rest = after(path, "/v1/history/")) != NULL) {
		r->route = R_API_HISTORY;
		if (!is_get(r))
			not_allowed(r, "GET, HEAD");
		else if (operator(r) != NULL)
			api_history(r, rest);
	} else if ((rest = after(path, "/v1/evidence/")) != NULL) {
		r->route = R_API_EVIDENCE;
		if (!is_get(r))
			not_allowed(r, "GET, HEAD");
		else if (operator(r) != NULL)
			api_evidence(r, rest);
	} else if (strcmp(path, "/metrics") == 0) {
		r->route = R_METRICS;
		if (!is_get(r))
			not_allowed(r, "GET, HEAD");
		else if (operator(r) != NULL)
			api_metrics(r);
	} else {
		r->route = R_NOT_FOUND;
		if (strncmp(path, "/v1/", 4) == 0)
			web_json_error(r, 404, "no such endpoint");
		else
			page_error(r, 404, "There is no such page here.");
	}
}

void
web_handle(const struct http_call *call, struct http_response *res,
    void *arg)
{
	struct web_req	r;
	char		cbuf[ADDR_STRLEN];

	memset(&r, 0, sizeof(r));
	r.w = arg;
	r.call = call;
	r.req = call->req;
	r.res = res;
	r.now = time(NULL);
	client_of(&r);
	route(&r);
	r.w->metrics.requests[r.route][web_status_slot(res->status)]++;
	log_debug("%s %s %s: %d", addr_format(&r.client, cbuf),
	    http_method_name(r.req->method), r.req->path, res->status);
}
