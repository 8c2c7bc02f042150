/*
 * metrics.c -- dnsbld's counters: summed, logged, served to Prometheus
 *
 * Every thread that answers counts into its own struct answer_counters
 * (each UDP thread, each worker's TCP), written by that thread alone, so
 * the hot path pays for no lock and no shared cache line.  The main
 * thread sums them with relaxed loads when asked: SIGUSR1 (and exit) log
 * the sum, and with [dnsbld] metrics_listen, GET /metrics serves it in
 * the Prometheus text exposition format 0.0.4.  The metrics server runs
 * on the main thread's event loop, next to the signals, so the sum, the
 * reload counters and the store reader it reads are all the main
 * thread's and nothing here needs a lock.  A sum may be a few queries
 * stale; every counter in it only grows.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "http_server.h"
#include "log.h"
#include "server.h"

#define METRICS_BACKLOG		64
#define METRICS_CONNECTIONS	32	/* scrapers are few */
#define METRICS_BODY_MAX	4096	/* a POST's body is read, then 405 */
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct metrics {
	struct dnsbld		*d;
	int			 fd;		/* until the server owns it */
	char			 text[LISTEN_TEXT_MAX];
	struct http_server	*srv;
	struct store_reader	*rd;		/* for the serial */
};

/* One exposition being written; failed once any write failed. */
struct expo {
	struct evbuffer	*b;
	int		 failed;
};

static void	expo_printf(struct expo *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

#define LOAD(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)

/* Adds the counters c (written by another thread) into s. */
static void
counters_add(struct answer_counters *s, const struct answer_counters *c)
{
	s->queries += LOAD(c->queries);
	for (int t = 0; t < ANS_T_MAX; t++)
		s->by_type[t] += LOAD(c->by_type[t]);
	for (int r = 0; r < ANS_R_MAX; r++)
		s->by_rcode[r] += LOAD(c->by_rcode[r]);
	s->listed += LOAD(c->listed);
	s->truncated += LOAD(c->truncated);
	for (int k = 0; k < ANS_D_MAX; k++)
		s->dropped[k] += LOAD(c->dropped[k]);
	s->tcp_queries += LOAD(c->tcp_queries);
	s->tcp_connections += LOAD(c->tcp_connections);
	s->tcp_refused += LOAD(c->tcp_refused);
	s->tcp_evicted += LOAD(c->tcp_evicted);
	s->tcp_timeouts += LOAD(c->tcp_timeouts);
	s->access_refused += LOAD(c->access_refused);
	s->error_answers += LOAD(c->error_answers);
	s->key_queries += LOAD(c->key_queries);
	s->key_unknown += LOAD(c->key_unknown);
	s->rrl_slipped += LOAD(c->rrl_slipped);
}

uint64_t
metrics_sum(struct dnsbld *d, struct answer_counters *s)
{
	uint64_t open = 0;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < d->nworkers; i++) {
		struct worker *w = d->workers[i];
		counters_add(s, &w->cnt);
		for (int k = 0; k < w->nsocks; k++)
			counters_add(s, udp_server_counters(w->socks[k].udp));
		open += (uint64_t)LOAD(w->tcp_conns);
	}
	return open;
}

static uint64_t
dropped_total(const struct answer_counters *s)
{
	uint64_t n = 0;

	for (int k = 0; k < ANS_D_MAX; k++)
		n += s->dropped[k];
	return n;
}

void
metrics_log(struct dnsbld *d)
{
	static const char *tnames[] = ANSWER_TYPE_NAMES;
	static const char *rnames[] = ANSWER_RCODE_NAMES;
	struct answer_counters	s;
	char			line[1024];
	size_t			n = 0;
	uint64_t		open = metrics_sum(d, &s);

#define LINE(...) do {							\
	if (n < sizeof(line))						\
		n += snprintf(line + n, sizeof(line) - n, __VA_ARGS__);	\
} while (0)
	LINE("queries %llu (", (unsigned long long)s.queries);
	for (int t = 0; t < ANS_T_MAX; t++)
		LINE("%s%s %llu", t ? ", " : "", tnames[t],
		    (unsigned long long)s.by_type[t]);
	LINE(")");
	for (int r = 0; r < ANS_R_MAX; r++)
		LINE(" %s %llu", rnames[r], (unsigned long long)s.by_rcode[r]);
#undef LINE
	log_info("%s", line);
	/* hostile.t and dnsbld.t read this line: oversized stays last. */
	log_info("listed %llu, tcp connections %llu (open %llu, refused %llu, "
	    "evicted %llu, timed out %llu), tcp queries %llu, truncated %llu, "
	    "dropped %llu (malformed %llu, no room %llu, send failed %llu, "
	    "bad length %llu, oversized %llu)",
	    (unsigned long long)s.listed,
	    (unsigned long long)s.tcp_connections,
	    (unsigned long long)open,
	    (unsigned long long)s.tcp_refused,
	    (unsigned long long)s.tcp_evicted,
	    (unsigned long long)s.tcp_timeouts,
	    (unsigned long long)s.tcp_queries,
	    (unsigned long long)s.truncated,
	    (unsigned long long)dropped_total(&s),
	    (unsigned long long)s.dropped[ANS_D_MALFORMED],
	    (unsigned long long)s.dropped[ANS_D_NO_ROOM],
	    (unsigned long long)s.dropped[ANS_D_SEND_FAILED],
	    (unsigned long long)s.dropped[ANS_D_BAD_LENGTH],
	    (unsigned long long)s.dropped[ANS_D_OVERSIZED]);
	log_info("access: refused %llu, dropped %llu, error answers %llu; "
	    "key queries %llu (unknown key %llu); rate limited: dropped "
	    "%llu, slipped %llu",
	    (unsigned long long)s.access_refused,
	    (unsigned long long)s.dropped[ANS_D_ACCESS],
	    (unsigned long long)s.error_answers,
	    (unsigned long long)s.key_queries,
	    (unsigned long long)s.key_unknown,
	    (unsigned long long)s.dropped[ANS_D_RATE_LIMITED],
	    (unsigned long long)s.rrl_slipped);
}

/* --- The exposition -------------------------------------------------- */

static void
expo_printf(struct expo *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!e->failed && evbuffer_add_vprintf(e->b, fmt, ap) == -1)
		e->failed = 1;
	va_end(ap);
}

/* The # HELP and # TYPE lines that begin a family. */
static void
family(struct expo *e, const char *name, const char *type, const char *help)
{
	expo_printf(e, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one sample without labels. */
static void
scalar(struct expo *e, const char *name, const char *type, const char *help,
    uint64_t v)
{
	family(e, name, type, help);
	expo_printf(e, "%s %llu\n", name, (unsigned long long)v);
}

/* A family with one label: n samples, label=names[i] valued v[i]. */
static void
labelled(struct expo *e, const char *name, const char *help,
    const char *label, const char *const *names, const uint64_t *v, int n)
{
	family(e, name, "counter", help);
	for (int i = 0; i < n; i++)
		expo_printf(e, "%s{%s=\"%s\"} %llu\n", name, label, names[i],
		    (unsigned long long)v[i]);
}

static void
expose(struct metrics *m, struct expo *e)
{
	static const char *const tnames[] = ANSWER_TYPE_NAMES;
	static const char *const rnames[] = ANSWER_RCODE_NAMES;
	static const char *const dnames[] = ANSWER_DROP_NAMES;
	static const char *const results[] = { "ok", "failed" };
	static const char *const keyres[] = { "known", "unknown" };
	static const char *const limited[] = { "dropped", "slipped" };
	static const char *const kindnames[] = XFR_KIND_NAMES;
	static const char *const unfinames[] = { "refused", "cut_short" };
	static const char *const notenames[] = { "sent", "answered",
	    "given_up" };
	struct dnsbld		*d = m->d;
	struct answer_counters	 s;
	uint64_t		 open = metrics_sum(d, &s);
	uint64_t		 reloads[2] = { d->reloads, d->reload_failures };
	uint64_t		 keyq[2], rrl[2];
	uint64_t		 kinds[XFR_KINDS], unfinished[2], notes[3];

	labelled(e, "relaybl_dns_queries_total", "DNS queries received over "
	    "UDP and TCP, by question type (none: no question to read).",
	    "qtype", tnames, s.by_type, ANS_T_MAX);
	labelled(e, "relaybl_dns_responses_total", "DNS replies made, by "
	    "response code.", "rcode", rnames, s.by_rcode, ANS_R_MAX);
	scalar(e, "relaybl_dns_listed_answers_total", "counter",
	    "Queries naming a listed address (of any type).", s.listed);
	scalar(e, "relaybl_dns_truncated_total", "counter",
	    "UDP replies sent truncated (TC) for want of room.", s.truncated);
	labelled(e, "relaybl_dns_dropped_total", "Messages given no reply at "
	    "all, by reason.", "reason", dnames, s.dropped, ANS_D_MAX);
	scalar(e, "relaybl_dns_tcp_queries_total", "counter",
	    "DNS queries received over TCP.", s.tcp_queries);
	scalar(e, "relaybl_dns_tcp_connections_total", "counter",
	    "TCP connections accepted.", s.tcp_connections);
	scalar(e, "relaybl_dns_tcp_connections_open", "gauge",
	    "TCP connections open now.", open);
	scalar(e, "relaybl_dns_tcp_refused_total", "counter", "TCP "
	    "connections closed at once for want of memory or descriptors.",
	    s.tcp_refused);
	scalar(e, "relaybl_dns_tcp_evictions_total", "counter", "TCP "
	    "connections closed, idle longest, to make room at the cap.",
	    s.tcp_evicted);
	scalar(e, "relaybl_dns_tcp_timeouts_total", "counter", "TCP "
	    "connections closed at their idle or query deadline.",
	    s.tcp_timeouts);
	scalar(e, "relaybl_dns_access_refused_total", "counter", "Queries "
	    "answered REFUSED because of the client's access rule.",
	    s.access_refused);
	scalar(e, "relaybl_dns_error_answers_total", "counter", "Queries "
	    "given the error answer (127.255.255.254): access rule error, "
	    "or an unknown key.", s.error_answers);
	keyq[0] = s.key_queries - s.key_unknown;
	keyq[1] = s.key_unknown;
	labelled(e, "relaybl_dns_key_queries_total", "Queries whose first "
	    "label has the shape of a key, by whether the key is known.",
	    "result", keyres, keyq, 2);
	rrl[0] = s.dropped[ANS_D_RATE_LIMITED];
	rrl[1] = s.rrl_slipped;
	labelled(e, "relaybl_dns_rate_limited_total", "UDP responses over "
	    "rrl_rate, by what became of them (slipped: sent truncated).",
	    "action", limited, rrl, 2);
	scalar(e, "relaybl_dns_access_rules", "gauge", "Access rules read "
	    "from access_file.", (uint64_t)access_count(dnsbld_access(d)));
	scalar(e, "relaybl_dns_keys", "gauge", "Query keys read from "
	    "keys_file.", (uint64_t)keys_count(dnsbld_keys(d)));
	scalar(e, "relaybl_dns_store_serial", "gauge",
	    "The store's serial (every commit moves it).", store_serial(m->rd));
	scalar(e, "relaybl_dns_zone_serial", "gauge", "The zones' SOA serial: "
	    "the last commit that changed a listing or an exclusion.",
	    store_zone_serial(m->rd));
	scalar(e, "relaybl_dns_zones", "gauge", "Zones served.",
	    (uint64_t)dnsbld_zones(d)->n);
	labelled(e, "relaybl_dns_zone_reloads_total", "Zone rereads on "
	    "SIGHUP, by result (failed: the old zones kept).", "result",
	    results, reloads, 2);
	scalar(e, "relaybl_dns_workers", "gauge", "Worker threads.",
	    (uint64_t)d->nworkers);
	for (int i = 0; i < XFR_KINDS; i++)
		kinds[i] = __atomic_load_n(&d->xfr_kind[i], __ATOMIC_RELAXED);
	labelled(e, "relaybl_dns_transfers_total", "Zone transfers sent "
	    "whole, by kind (ixfr_incremental: the differences from the "
	    "journal; ixfr_full: the whole zone, the journal not reaching "
	    "back).", "kind", kindnames, kinds, XFR_KINDS);
	unfinished[0] = __atomic_load_n(&d->xfr_refused, __ATOMIC_RELAXED);
	unfinished[1] = __atomic_load_n(&d->xfr_failed, __ATOMIC_RELAXED);
	labelled(e, "relaybl_dns_transfers_unfinished_total", "Transfers "
	    "refused (allow_transfer, TSIG, max_transfers) or cut short (the "
	    "peer stopped reading or went away).", "result", unfinames,
	    unfinished, 2);
	scalar(e, "relaybl_dns_transfers_running", "gauge", "Transfers being "
	    "sent now.", (uint64_t)__atomic_load_n(&d->xfr_running,
	    __ATOMIC_RELAXED));
	notify_counts(d->notifier, notes);
	labelled(e, "relaybl_dns_notify_total", "NOTIFY messages sent to "
	    "secondaries, answered, and given up after 10 tries.", "result",
	    notenames, notes, 3);
}

/* --- The HTTP side --------------------------------------------------- */

static void
reply_error(struct http_response *r, int status, const char *why)
{
	r->status = status;
	r->content_type = "application/json";
	evbuffer_drain(r->body, evbuffer_get_length(r->body));
	evbuffer_add_printf(r->body, "{\"error\": \"%s\"}\n", why);
}

static void
metrics_handle(const struct http_call *call, struct http_response *r,
    void *arg)
{
	struct metrics	*m = arg;
	struct expo	 e = { r->body, 0 };

	if (strcmp(call->req->path, "/metrics") != 0) {
		reply_error(r, 404, "not found");
		return;
	}
	if (call->req->method != HTTP_GET && call->req->method != HTTP_HEAD) {
		reply_error(r, 405, "method not allowed");
		http_response_header(r, "Allow", "GET, HEAD");
		return;
	}
	expose(m, &e);
	if (e.failed) {
		reply_error(r, 503, "out of memory");
		return;
	}
	r->status = 200;
	r->content_type = METRICS_CONTENT_TYPE;
}

struct metrics *
metrics_open(struct dnsbld *d, const struct listen_addr *la)
{
	struct metrics	*m;
	int		 fd;

	if ((fd = listen_open(la, SOCK_STREAM, LISTEN_V6ONLY,
	    METRICS_BACKLOG)) == -1)
		fatal("[dnsbld] metrics_listen: cannot listen on %s", la->text);
	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal("metrics");
	m->d = d;
	m->fd = fd;
	snprintf(m->text, sizeof(m->text), "%s", la->text);
	return m;
}

void
metrics_start(struct metrics *m, struct event_base *base)
{
	struct http_server_conf conf;

	http_server_defaults(&conf);
	conf.max_connections = METRICS_CONNECTIONS;
	conf.max_body = METRICS_BODY_MAX;
	if ((m->rd = store_reader_new(m->d->st)) == NULL ||
	    (m->srv = http_server_new(base, &conf, metrics_handle, m)) ==
	    NULL || http_server_listen(m->srv, m->fd) == -1)
		fatalx("metrics: cannot serve on %s", m->text);
	m->fd = -1;		/* the server's now: it closes it */
	log_info("metrics on http://%s/metrics", m->text);
}

void
metrics_close(struct metrics *m)
{
	if (m == NULL)
		return;
	http_server_free(m->srv);
	if (m->fd != -1)
		close(m->fd);
	store_reader_free(m->rd);
	free(m);
}
