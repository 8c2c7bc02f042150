/*
 * web_api.c -- the JSON API and /metrics
 *
 * Bodies are JSON objects (jansson, with a depth limit); an error is
 * {"error": "..."} with the status that says what went wrong: 400 for
 * bad JSON or a bad address, 404 for what does not exist, 413 past the
 * server's body limit, 429 with Retry-After for the removal rate, 507
 * when the store is full, 500 only for our own failures.  Times are ISO
 * 8601 UTC; codes dotted quads ("127.0.0.2").
 *
 * /metrics, Prometheus text format 0.0.4: listings by kind and by family,
 * the queue by reason and state, probe outcomes written since dnsblweb
 * started (read incrementally from the audit trail at each scrape),
 * removal requests by result, HTTP requests by route and status, the
 * store's size and serial.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "import.h"
#include "queue.h"
#include "web.h"

int	web_status_slot(int);
int	web_status_of_slot(int);

static const char *route_names[R_MAX] = {
	"page_home", "page_lookup", "page_remove", "page_removal",
	"page_policy", "style", "api_lookup", "api_removals", "api_removal",
	"api_submissions", "api_listings", "api_queue", "api_history",
	"api_evidence", "metrics", "not_found"
};
static const char *removal_names[RM_MAX] = {
	"queued", "already_queued", "not_listed", "excluded", "refused",
	"rate_limited"
};
/* Probe outcomes as proberd words them in the audit trail. */
static const char *outcome_names[] = {
	"listed", "clean", "suspect", "inconclusive", "deferred", NULL
};

/* One address from a path or a body; NULL with a 400 sent if bad. */
static int
parse_one(struct web_req *r, const char *text, struct addr *a, int prefix)
{
	const char *err;

	if (addr_parse(text, a, &err) == -1) {
		web_json_error(r, 400, "\"%.64s\" is not an address: %s", text,
		    err);
		return -1;
	}
	if (!prefix && a->plen != addr_maxplen(a)) {
		web_json_error(r, 400, "one address, not a prefix");
		return -1;
	}
	return 0;
}

/* The JSON object of a request body, or NULL with a 400 sent. */
static json_t *
body_object(struct web_req *r)
{
	json_error_t	 e;
	json_t		*j;

	if (r->call->bodylen == 0) {
		web_json_error(r, 400, "a JSON object is needed in the body");
		return NULL;
	}
	j = json_loadb(r->call->body, r->call->bodylen, JSON_REJECT_DUPLICATES,
	    &e);
	if (j == NULL) {
		web_json_error(r, 400, "bad JSON at line %d, column %d: %s",
		    e.line, e.column, e.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		web_json_error(r, 400, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

static json_t *
time_or_null(int64_t t)
{
	char buf[32];

	return t > 0 ? json_string(web_time(t, buf, sizeof(buf))) :
	    json_null();
}

void
api_lookup(struct web_req *r, const char *text)
{
	struct web_lookup	 l;
	struct addr		 a;
	json_t			*j, *ev;
	char			 abuf[ADDR_STRLEN], pbuf[ADDR_STRLEN], c[16];

	if (parse_one(r, text, &a, 0) == -1)
		return;
	if (web_lookup(r->w, &a, &l) == -1) {
		web_json_error(r, 500, "the store could not be read");
		return;
	}
	j = json_pack("{s:s, s:b, s:s++}", "address", addr_format(&a, abuf),
	    "listed", l.listed, "page", r->w->public_url, "/lookup?ip=", abuf);
	if (l.excluded)
		json_object_set_new(j, "excluded", json_true());
	if (l.listed) {
		json_object_set_new(j, "code", json_string(web_code(l.code, c,
		    sizeof(c))));
		json_object_set_new(j, "prefix", json_string(addr_format(
		    &l.prefix, pbuf)));
	}
	if (l.listed && l.has_rec) {
		json_object_set_new(j, "kind", json_string(store_kind_name(
		    l.rec.kind)));
		json_object_set_new(j, "first_listed",
		    time_or_null(l.rec.first_listed));
		json_object_set_new(j, "last_confirmed",
		    time_or_null(l.rec.last_confirmed));
		json_object_set_new(j, "expires", time_or_null(l.rec.expires));
		if (l.rec.kind == STORE_KIND_MANUAL ||
		    l.rec.kind == STORE_KIND_IMPORT)
			json_object_set_new(j, "reason", web_json_text(
			    l.rec.text, strlen(l.rec.text)));
		if (l.rec.evidence) {
			ev = json_pack("{s:I}", "id",
			    (json_int_t)l.rec.evidence);
			if (l.form[0])
				json_object_set_new(ev, "form",
				    json_string(l.form));
			if (l.delivered_by[0])
				json_object_set_new(ev, "delivered_by",
				    json_string(l.delivered_by));
			if (l.tls[0])
				json_object_set_new(ev, "tls",
				    web_json_text(l.tls, strlen(l.tls)));
			json_object_set_new(j, "evidence", ev);
		}
	}
	if (l.removal_pending)
		json_object_set_new(j, "removal", json_pack("{s:I, s:s, s:o}",
		    "id", (json_int_t)l.removal_id, "state",
		    l.removal_running ? "probing" : "queued", "due",
		    time_or_null(l.removal_due)));
	web_json_send(r, 200, j);
}

static json_t *
removal_json(const struct web *w, const struct web_removal *rm)
{
	char	 a[ADDR_STRLEN], page[64];
	json_t	*j;

	snprintf(page, sizeof(page), "/removal/%llu",
	    (unsigned long long)rm->id);
	j = json_pack("{s:I, s:s, s:s, s:o, s:s+}", "id", (json_int_t)rm->id,
	    "address", addr_format(&rm->addr, a), "state",
	    web_removal_state_name(rm->state), "requested",
	    time_or_null(rm->requested), "page", w->public_url, page);
	if (rm->due && (rm->state == WR_QUEUED || rm->state == WR_RETRYING))
		json_object_set_new(j, "due", time_or_null(rm->due));
	if (rm->finished)
		json_object_set_new(j, "finished", time_or_null(rm->finished));
	if (rm->outcome[0])
		json_object_set_new(j, "result", web_json_text(rm->outcome,
		    strlen(rm->outcome)));
	if (rm->form[0])
		json_object_set_new(j, "form", json_string(rm->form));
	if (rm->evidence)
		json_object_set_new(j, "evidence", json_integer(
		    (json_int_t)rm->evidence));
	return j;
}

void
api_removals(struct web_req *r)
{
	json_t		*j = body_object(r), *addr;
	struct addr	 a;
	const char	*why;
	char		 abuf[ADDR_STRLEN], loc[64];
	uint64_t	 id;
	int64_t		 retry, due;
	int		 rc;

	if (j == NULL)
		return;
	if (!json_is_string(addr = json_object_get(j, "address"))) {
		json_decref(j);
		web_json_error(r, 400, "\"address\" (a string) is needed");
		return;
	}
	rc = parse_one(r, json_string_value(addr), &a, 0);
	json_decref(j);
	if (rc == -1)
		return;
	addr_format(&a, abuf);
	switch (web_removal_ask(r, &a, &id, &retry, &why, &due)) {
	case RM_QUEUED:
	case RM_ALREADY:
		snprintf(loc, sizeof(loc), "/v1/removals/%llu",
		    (unsigned long long)id);
		http_response_header(r->res, "Location", "%s", loc);
		snprintf(loc, sizeof(loc), "/removal/%llu",
		    (unsigned long long)id);
		web_json_send(r, 202, json_pack("{s:I, s:s, s:s, s:o, s:s+}",
		    "id", (json_int_t)id, "address", abuf, "state", "queued",
		    "due", time_or_null(due), "page", r->w->public_url, loc));
		break;
	case RM_RATE_LIMITED:
		http_response_header(r->res, "Retry-After", "%lld",
		    (long long)retry);
		web_json_error(r, 429, "at most %lld removal requests an hour "
		    "from one address; try again in %lld s",
		    (long long)r->w->removal_rate, (long long)retry);
		break;
	case RM_NOT_LISTED:
		web_json_error(r, 404, "%s is not listed", abuf);
		break;
	case RM_EXCLUDED:
		web_json_error(r, 404, "%s is not listed (excluded)", abuf);
		break;
	case RM_REFUSED:
		web_json_error(r, 400, "%s", why ? why : "refused");
		break;
	default:
		web_json_error(r, store_error(r->w->st) == STORE_EFULL ? 507 :
		    500, "the request could not be recorded");
		break;
	}
}

/* A decimal id of 1 to 2^63, or 0. */
static uint64_t
parse_id(const char *text)
{
	char			*end;
	unsigned long long	 id;

	if (*text < '1' || *text > '9' || strlen(text) > 19)
		return 0;
	id = strtoull(text, &end, 10);
	return *end == '\0' ? id : 0;
}

void
api_removal(struct web_req *r, const char *text)
{
	struct web_removal	rm;
	uint64_t		id = parse_id(text);
	int			rc;

	if (id == 0 || (rc = web_removal_get(r->w, id, &rm)) == 0) {
		web_json_error(r, 404, "no such removal request");
		return;
	}
	if (rc == -1) {
		web_json_error(r, 500, "the store could not be read");
		return;
	}
	web_json_send(r, 200, removal_json(r->w, &rm));
}

void
api_submissions(struct web_req *r, const char *who)
{
	json_t			*j = body_object(r), *list, *v, *queued,
				*already, *refused;
	struct addr		*a = NULL;
	struct queue_result	*res = NULL;
	const char		*err;
	char			 actor[STORE_SOURCE_MAX], abuf[ADDR_STRLEN];
	size_t			 n, i, ok = 0, *where = NULL;

	if (j == NULL)
		return;
	list = json_object_get(j, "addresses");
	if (!json_is_array(list) || (n = json_array_size(list)) == 0 ||
	    n > WEB_SUBMIT_MAX) {
		json_decref(j);
		web_json_error(r, 400, "\"addresses\": an array of 1 to %d "
		    "addresses is needed", WEB_SUBMIT_MAX);
		return;
	}
	queued = json_array();
	already = json_array();
	refused = json_array();
	if ((a = calloc(n, sizeof(*a))) == NULL ||
	    (res = calloc(n, sizeof(*res))) == NULL ||
	    (where = calloc(n, sizeof(*where))) == NULL)
		goto fail;
	/* Syntax first: what does not parse is refused on its own. */
	json_array_foreach(list, i, v) {
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;
		if (s == NULL || addr_parse(s, &a[ok], &err) == -1 ||
		    a[ok].plen != addr_maxplen(&a[ok])) {
			json_array_append_new(refused, json_pack("{s:o, s:s}",
			    "address", s ? web_json_text(s, strlen(s)) :
			    json_null(), "why", s == NULL ? "not a string" :
			    a[ok].family && a[ok].plen != addr_maxplen(&a[ok]) ?
			    "a prefix: give single addresses" :
			    "not an address"));
			continue;
		}
		where[ok++] = i;
	}
	snprintf(actor, sizeof(actor), "api:%s", who);
	if (ok > 0 && queue_feed(r->w->st, &r->w->allow, actor, r->now, a, ok,
	    res) == -1) {
		json_decref(queued);
		json_decref(already);
		json_decref(refused);
		json_decref(j);
		free(a);
		free(res);
		free(where);
		web_json_error(r, store_error(r->w->st) == STORE_EFULL ? 507 :
		    500, "the store could not record the submission");
		return;
	}
	for (i = 0; i < ok; i++) {
		addr_format(&a[i], abuf);
		if (res[i].outcome == QUEUE_QUEUED)
			json_array_append_new(queued, json_string(abuf));
		else if (res[i].outcome == QUEUE_ALREADY)
			json_array_append_new(already, json_string(abuf));
		else
			json_array_append_new(refused, json_pack("{s:s, s:s}",
			    "address", abuf, "why", res[i].why ? res[i].why :
			    "refused"));
	}
	free(a);
	free(res);
	free(where);
	json_decref(j);
	web_json_send(r, 202, json_pack("{s:o, s:o, s:o}", "queued", queued,
	    "already_queued", already, "refused", refused));
	return;
fail:
	free(a);
	free(res);
	free(where);
	json_decref(queued);
	json_decref(already);
	json_decref(refused);
	json_decref(j);
	web_json_error(r, 500, "out of memory");
}

/* A return code: "127.0.0.2", or 2 for 127.0.0.2. */
static int
parse_code(json_t *v, uint32_t *code)
{
	struct addr	a;
	const char	*err;

	if (v == NULL) {
		*code = STORE_CODE_LISTED;
		return 0;
	}
	if (json_is_integer(v) && json_integer_value(v) >= 2 &&
	    json_integer_value(v) <= 255) {
		*code = STORE_CODE_NET | (uint32_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && addr_parse(json_string_value(v), &a,
	    &err) == 0 && a.family == ADDR_V4 && a.plen == 32 &&
	    a.bytes[0] == 127 && a.bytes[1] == 0 && a.bytes[2] == 0 &&
	    a.bytes[3] >= 2) {
		*code = STORE_CODE_NET | a.bytes[3];
		return 0;
	}
	return -1;
}

static void
listing_add(struct web_req *r, const char *who)
{
	json_t			*j = body_object(r), *v;
	struct store_listing	 l;
	struct store_txn	*t;
	struct addr		 a;
	const char		*err, *reason = "";
	char			 abuf[ADDR_STRLEN], c[16];

	if (j == NULL)
		return;
	if (!json_is_string(v = json_object_get(j, "address")) ||
	    parse_one(r, json_string_value(v), &a, 1) == -1) {
		if (!json_is_string(v))
			web_json_error(r, 400, "\"address\" (an address or "
			    "prefix) is needed");
		json_decref(j);
		return;
	}
	memset(&l, 0, sizeof(l));
	if (parse_code(json_object_get(j, "code"), &l.code) == -1) {
		json_decref(j);
		web_json_error(r, 400, "\"code\": 127.0.0.2 to 127.0.0.255, "
		    "or its last number");
		return;
	}
	if ((v = json_object_get(j, "reason")) != NULL) {
		if (!json_is_string(v) || json_string_length(v) >=
		    sizeof(l.text)) {
			json_decref(j);
			web_json_error(r, 400, "\"reason\": a string of at "
			    "most %zu bytes", sizeof(l.text) - 1);
			return;
		}
		reason = json_string_value(v);
	}
	if (!import_listable(&a, &err)) {
		json_decref(j);
		web_json_error(r, 400, "%s", err);
		return;
	}
	l.kind = STORE_KIND_MANUAL;
	snprintf(l.source, sizeof(l.source), "api:%s", who);
	snprintf(l.text, sizeof(l.text), "%s", reason);
	json_decref(j);
	if ((t = store_begin(r->w->st, l.source)) == NULL ||
	    store_list(t, &a, &l) == -1 || store_commit(t) == -1) {
		web_json_error(r, store_error(r->w->st) == STORE_EFULL ? 507 :
		    500, "the store could not record the listing");
		return;
	}
	web_json_send(r, 201, json_pack("{s:s, s:s, s:s}", "address",
	    addr_format(&a, abuf), "code", web_code(l.code, c, sizeof(c)),
	    "kind", "manual"));
}

static void
listing_delete(struct web_req *r, const char *who, const char *text)
{
	struct store_txn	*t;
	struct addr		 a;
	char			 why[STORE_TEXT_MAX], actor[STORE_SOURCE_MAX];
	char			 abuf[ADDR_STRLEN];
	int			 rc;

	if (parse_one(r, text, &a, 1) == -1)
		return;
	if (http_param(r->req->query, strlen(r->req->query), "reason", why,
	    sizeof(why)) < 0) {
		json_t *j = r->call->bodylen ? body_object(r) : NULL, *v;
		if (r->call->bodylen && j == NULL)
			return;
		v = j ? json_object_get(j, "reason") : NULL;
		snprintf(why, sizeof(why), "%s", json_is_string(v) ?
		    json_string_value(v) : "");
		json_decref(j);
	}
	if (why[0] == '\0') {
		web_json_error(r, 400, "a reason is needed (?reason=... or "
		    "{\"reason\": ...})");
		return;
	}
	snprintf(actor, sizeof(actor), "api:%s", who);
	if ((t = store_begin(r->w->st, actor)) == NULL ||
	    (rc = store_unlist(t, &a, why)) == -1) {
		if (t)
			store_abort(t);
		web_json_error(r, 500, "the store could not be changed");
		return;
	}
	if (rc == 0) {
		store_abort(t);
		web_json_error(r, 404, "%s is not listed as such (see "
		    "/v1/lookup)", addr_format(&a, abuf));
		return;
	}
	if (store_commit(t) == -1) {
		web_json_error(r, store_error(r->w->st) == STORE_EFULL ? 507 :
		    500, "the store could not be changed");
		return;
	}
	web_json_send(r, 200, json_pack("{s:s, s:b}", "address",
	    addr_format(&a, abuf), "removed", 1));
}

void
api_listings(struct web_req *r, const char *who, const char *prefix)
{
	if (prefix == NULL)
		listing_add(r, who);
	else
		listing_delete(r, who, prefix);
}

static int
queue_entry(const struct store_probe *p, void *arg)
{
	json_t	*list = arg;
	char	 a[ADDR_STRLEN];

	json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:o, s:i, "
	    "s:b, s:b, s:o}", "address", addr_format(&p->addr, a), "reason",
	    store_reason_name(p->reason), "due", time_or_null(p->due),
	    "queued", time_or_null(p->queued), "attempts", p->attempts,
	    "running", p->running, "deferred", p->deferred, "by",
	    web_json_text(p->actor, strlen(p->actor))));
	return json_array_size(list) >= 100000;	/* a bounded answer */
}

void
api_queue(struct web_req *r)
{
	struct store_reader	*rd = store_reader_new(r->w->st);
	json_t			*list = json_array();

	if (rd == NULL || store_queue_walk(rd, queue_entry, list) == -1) {
		store_reader_free(rd);
		json_decref(list);
		web_json_error(r, 500, "the store could not be read");
		return;
	}
	store_reader_free(rd);
	web_json_send(r, 200, json_pack("{s:o}", "queue", list));
}

static int
history_entry(const struct store_audit *au, void *arg)
{
	json_t	*list = arg, *e;
	char	 a[ADDR_STRLEN], c[16];

	e = json_pack("{s:I, s:o, s:s, s:o, s:o}", "seq", (json_int_t)au->seq,
	    "time", time_or_null(au->time), "action",
	    store_action_name(au->action), "by", web_json_text(au->actor,
	    strlen(au->actor)), "text", web_json_text(au->text,
	    strlen(au->text)));
	if (au->addr.family)
		json_object_set_new(e, "address", json_string(addr_format(
		    &au->addr, a)));
	if (au->code)
		json_object_set_new(e, "code", json_string(web_code(au->code,
		    c, sizeof(c))));
	if (au->reason)
		json_object_set_new(e, "reason", json_string(
		    store_reason_name(au->reason)));
	json_array_append_new(list, e);
	return 0;
}

void
api_history(struct web_req *r, const char *text)
{
	struct store_reader	*rd;
	struct addr		 a;
	json_t			*list;
	char			 abuf[ADDR_STRLEN];

	if (parse_one(r, text, &a, 1) == -1)
		return;
	list = json_array();
	if ((rd = store_reader_new(r->w->st)) == NULL ||
	    store_history(rd, &a, history_entry, list) == -1) {
		store_reader_free(rd);
		json_decref(list);
		web_json_error(r, 500, "the store could not be read");
		return;
	}
	store_reader_free(rd);
	web_json_send(r, 200, json_pack("{s:s, s:o}", "address",
	    addr_format(&a, abuf), "history", list));
}

void
api_evidence(struct web_req *r, const char *text)
{
	uint64_t	 id = parse_id(text);
	char		*ev;
	size_t		 len;
	int		 rc;

	if (id == 0 || (rc = web_evidence(r->w, id, &ev, &len)) == 0) {
		web_json_error(r, 404, "no such evidence");
		return;
	}
	if (rc == -1) {
		web_json_error(r, 500, "the store could not be read");
		return;
	}
	web_json_send(r, 200, json_pack("{s:I, s:o}", "id", (json_int_t)id,
	    "text", web_json_text(ev, len)));
	free(ev);
}

/* --- /metrics ------------------------------------------------------ */

struct queue_count {
	uint64_t	n[STORE_PROBE_MAX][3];	/* waiting, running, deferred */
};

static int
count_queue(const struct store_probe *p, void *arg)
{
	struct queue_count *q = arg;

	if (p->reason < STORE_PROBE_MAX)
		q->n[p->reason][p->running ? 1 : p->deferred ? 2 : 0]++;
	return 0;
}

static int
count_probe(const struct store_audit *au, void *arg)
{
	struct web	*w = arg;
	const char	*t = au->text, *colon;

	if (au->seq > w->metrics.probes_seq)
		w->metrics.probes_seq = au->seq;
	if (au->action != STORE_AUDIT_PROBE)
		return 0;
	/* "submit: listed (...)": the word after the reason. */
	if ((colon = strchr(t, ':')) != NULL)
		t = colon + 2;
	for (int i = 0; outcome_names[i] && i < 8; i++)
		if (strncmp(t, outcome_names[i], strlen(outcome_names[i])) ==
		    0) {
			w->metrics.probes[i]++;
			break;
		}
	return 0;
}

static void
help(struct evbuffer *b, const char *name, const char *type,
    const char *text)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text,
	    name, type);
}

void
api_metrics(struct web_req *r)
{
	struct web		*w = r->w;
	struct evbuffer		*b = r->res->body;
	struct store_reader	*rd;
	struct store_stats	 s;
	struct queue_count	 q;
	static const char	*fam[2] = { "ipv4", "ipv6" };
	static const char	*qstate[3] = { "waiting", "running",
				    "deferred" };

	memset(&q, 0, sizeof(q));
	if ((rd = store_reader_new(w->st)) == NULL ||
	    store_stats(rd, &s) == -1 ||
	    store_queue_walk(rd, count_queue, &q) == -1 ||
	    store_audit_walk(rd, w->metrics.probes_seq + 1, count_probe,
	    w) == -1) {
		store_reader_free(rd);
		web_json_error(r, 500, "the store could not be read");
		return;
	}
	store_reader_free(rd);
	r->res->status = 200;
	r->res->content_type = "text/plain; version=0.0.4; charset=utf-8";
	help(b, "relaybl_listings", "gauge", "Listings by kind.");
	for (int k = 1; k < STORE_KIND_MAX; k++)
		if (k != STORE_KIND_EXCLUSION)
			evbuffer_add_printf(b, "relaybl_listings{kind=\"%s\"} "
			    "%llu\n", store_kind_name(k),
			    (unsigned long long)s.by_kind[k]);
	help(b, "relaybl_listed_prefixes", "gauge",
	    "Listed prefixes by address family.");
	for (int f = 0; f < 2; f++)
		evbuffer_add_printf(b, "relaybl_listed_prefixes{family=\"%s\"} "
		    "%llu\n", fam[f], (unsigned long long)s.listings[f]);
	help(b, "relaybl_exclusions", "gauge", "Exclusions by address family.");
	for (int f = 0; f < 2; f++)
		evbuffer_add_printf(b, "relaybl_exclusions{family=\"%s\"} "
		    "%llu\n", fam[f], (unsigned long long)s.exclusions[f]);
	help(b, "relaybl_queue", "gauge",
	    "Queued probes by reason and state.");
	for (int k = 1; k < STORE_PROBE_MAX; k++)
		for (int st = 0; st < 3; st++)
			evbuffer_add_printf(b, "relaybl_queue{reason=\"%s\","
			    "state=\"%s\"} %llu\n", store_reason_name(k),
			    qstate[st], (unsigned long long)q.n[k][st]);
	help(b, "relaybl_probes_total", "counter",
	    "Probe outcomes written since dnsblweb started.");
	for (int i = 0; outcome_names[i]; i++)
		evbuffer_add_printf(b, "relaybl_probes_total{outcome=\"%s\"} "
		    "%llu\n", outcome_names[i],
		    (unsigned long long)w->metrics.probes[i]);
	help(b, "relaybl_removal_requests_total", "counter",
	    "Removal requests by result.");
	for (int i = 0; i < RM_MAX; i++)
		evbuffer_add_printf(b, "relaybl_removal_requests_total{"
		    "result=\"%s\"} %llu\n", removal_names[i],
		    (unsigned long long)w->metrics.removals[i]);
	help(b, "relaybl_http_requests_total", "counter",
	    "HTTP requests answered by route and status.");
	for (int i = 0; i < R_MAX; i++)
		for (int k = 0; k < WEB_STATUS_SLOTS; k++)
			if (w->metrics.requests[i][k])
				evbuffer_add_printf(b,
				    "relaybl_http_requests_total{route=\"%s\","
				    "status=\"%d\"} %llu\n", route_names[i],
				    web_status_of_slot(k), (unsigned long long)
				    w->metrics.requests[i][k]);
	help(b, "relaybl_store_bytes", "gauge",
	    "Size of the store's data file.");
	evbuffer_add_printf(b, "relaybl_store_bytes %llu\n",
	    (unsigned long long)s.file_bytes);
	help(b, "relaybl_store_used_bytes", "gauge",
	    "Bytes of the store's pages in use.");
	evbuffer_add_printf(b, "relaybl_store_used_bytes %llu\n",
	    (unsigned long long)(s.pages_used * s.page_size));
	help(b, "relaybl_store_serial", "gauge",
	    "The store's serial (the zone's SOA serial).");
	evbuffer_add_printf(b, "relaybl_store_serial %u\n", s.serial);
	help(b, "relaybl_audit_entries", "gauge",
	    "Entries in the audit trail.");
	evbuffer_add_printf(b, "relaybl_audit_entries %llu\n",
	    (unsigned long long)s.audit);
}
