/*
 * web.h -- dnsblweb, the list's face: what its parts share
 *
 *   dnsblweb.c    the process: configuration, store, listeners, signals
 *   web_route.c   every request: the client's address, routes, counters
 *   web_api.c     the JSON API (/v1/...) and /metrics
 *   web_page.c    the HTML pages: lookup, removal and its progress, policy
 *   web_data.c    what both tell: a lookup, a removal request's state
 *   web_util.c    tokens, the removal rate, HTML and JSON text
 *
 * dnsblweb never probes: it queues work for proberd through the queue
 * module (the same rules as dnsblctl) and reads the store.  Everything a
 * request carries is untrusted: addresses are parsed by addr_parse and
 * printed back only HTML-escaped or JSON-encoded; tokens are compared in
 * constant time.
 */
#ifndef RELAYBL_WEB_H
#define RELAYBL_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "http_server.h"
#include "listen.h"
#include "privs.h"
#include "probe_policy.h"
#include "store.h"

struct event_base;
struct evbuffer;

#define WEB_LISTEN_MAX		8
#define WEB_PROXIES_MAX		32
#define WEB_TOKENS_MAX		256
#define WEB_TOKEN_NAME_MAX	64
#define WEB_TOKEN_MAX		128
#define WEB_SUBMIT_MAX		10000	/* addresses in one submission */
#define WEB_RATE_SLOTS		4096	/* client addresses remembered */

struct web_token {
	char	name[WEB_TOKEN_NAME_MAX];
	char	token[WEB_TOKEN_MAX];
};

/* Removal requests per client address per hour: a fixed window each. */
struct web_rate_slot {
	struct addr	client;
	int64_t		window;		/* the hour it counts in */
	int64_t		count;
};

/* Routes, for the request counters. */
enum web_route {
	R_PAGE_HOME, R_PAGE_LOOKUP, R_PAGE_REMOVE, R_PAGE_REMOVAL,
	R_PAGE_POLICY, R_STYLE, R_API_LOOKUP, R_API_REMOVALS, R_API_REMOVAL,
	R_API_SUBMISSIONS, R_API_LISTINGS, R_API_QUEUE, R_API_HISTORY,
	R_API_EVIDENCE, R_METRICS, R_NOT_FOUND, R_MAX
};

/* Outcomes of removal requests, for the counters. */
enum web_removal_result {
	RM_QUEUED, RM_ALREADY, RM_NOT_LISTED, RM_EXCLUDED, RM_REFUSED,
	RM_RATE_LIMITED, RM_MAX
};

#define WEB_STATUS_SLOTS	12	/* 200 201 202 303 400 401 403 404 ... */

struct web_metrics {
	uint64_t	requests[R_MAX][WEB_STATUS_SLOTS];
	uint64_t	removals[RM_MAX];
	uint64_t	probes_seq;	/* audit trail read up to here */
	uint64_t	probes[8];	/* outcomes: see web_api.c */
};

struct web {
	struct event_base	*base;
	struct config		*cfg;
	struct store		*st;
	const char		*storedir;
	uint64_t		 map_size;	/* [store] */
	uint64_t		 journal_size;	/* [dns] */
	const char		*user;
	struct privs		 privs;
	struct http_server	*http;
	struct http_server_conf	 httpconf;
	struct listen_addr	 listen[WEB_LISTEN_MAX];
	int			 nlisten;
	/* [web] */
	char			 tokens_file[512];
	struct web_token	*tokens;
	int			 ntokens;
	const char		*public_url;	/* no trailing '/' */
	const char		*contact;
	struct addr		 proxies[WEB_PROXIES_MAX];
	int			 nproxies;
	int64_t			 removal_rate;	/* per client per hour */
	/* [prober], for the policy the pages state and the queue's rules */
	struct probe_allow	 allow;
	int64_t			 retest_interval, listing_ttl;
	struct web_rate_slot	 rate[WEB_RATE_SLOTS];
	struct web_metrics	 metrics;
};

/* A request as the routes see it. */
struct web_req {
	struct web			*w;
	const struct http_call		*call;
	const struct http_request	*req;
	struct http_response		*res;
	struct addr			 client;	/* after trusted proxies */
	int				 route;		/* enum web_route */
	int64_t				 now;
};

/* --- web_route.c --- */
void	web_handle(const struct http_call *, struct http_response *, void *);

/* --- web_util.c --- */
int	web_tokens_load(struct web *);		/* 0 or -1 (logged) */
/* The name of the token in "Authorization: Bearer T", or NULL. */
const char *web_token_name(const struct web *, const char *authorization);
/* 0: one more removal request of client allowed; else seconds to wait. */
int64_t	web_rate_take(struct web *, const struct addr *client, int64_t now);
void	web_html(struct evbuffer *, const char *text);	/* escaped */
void	web_html_n(struct evbuffer *, const char *text, size_t len);
/* text as a JSON string: invalid UTF-8 becomes U+FFFD. */
struct json_t;
void	*web_json_text(const char *text, size_t len);	/* a json_t * */
void	web_json_send(struct web_req *, int status, void *json);
void	web_json_error(struct web_req *, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
const char *web_time(int64_t t, char *buf, size_t size);	/* ISO 8601 */
const char *web_code(uint32_t code, char *buf, size_t size);	/* 127.0.0.2 */

/* --- web_data.c --- */

/* A lookup of one address: what the page and the API show. */
struct web_lookup {
	struct addr		addr;
	int			listed;		/* 1 listed, 0 not */
	int			excluded;	/* not listed: an exclusion */
	struct addr		prefix;		/* the listing or exclusion */
	uint32_t		code;
	struct store_listing	rec;
	int			has_rec;
	/* From the evidence's head, when there is one. */
	char			form[64];	/* the form that relayed */
	char			delivered_by[ADDR_STRLEN];
	char			tls[128];	/* "TLSv1.3 ..." or "" */
	char			tested[128];	/* its first line */
	/* A removal request in the queue, if any. */
	int			removal_pending;
	uint64_t		removal_id;
	int			removal_running;
	int64_t			removal_due;
};

/* 0 with *l filled, or -1 when the store failed. */
int	web_lookup(struct web *, const struct addr *, struct web_lookup *l);

/* What became of a removal request (its id is the queue audit entry). */
enum web_removal_state {
	WR_QUEUED, WR_PROBING, WR_REMOVED, WR_STILL_LISTED, WR_RETRYING,
	WR_GONE
};
struct web_removal {
	uint64_t	id;
	struct addr	addr;
	int64_t		requested;
	int		state;		/* enum web_removal_state */
	int64_t		due;		/* QUEUED, RETRYING: next probe */
	int64_t		finished;	/* REMOVED, STILL_LISTED */
	char		outcome[STORE_TEXT_MAX];	/* the probe's words */
	uint64_t	evidence;	/* STILL_LISTED: why */
	char		form[64];
};
const char *web_removal_state_name(int);
/* 1 found, 0 no such request, -1 the store failed. */
int	web_removal_get(struct web *, uint64_t id, struct web_removal *r);
/*
 * Asks for a removal retest of addr from client: the queue's rules and the
 * client's hourly rate.  Returns enum web_removal_result; *id the request
 * (QUEUED, ALREADY), *retry_after (RATE_LIMITED), *why (REFUSED), *due.
 * -1 when the store failed.
 */
int	web_removal_ask(struct web_req *, const struct addr *addr,
	    uint64_t *id, int64_t *retry_after, const char **why,
	    int64_t *due);

/* The head of evidence id (its lines before the first empty one). */
int	web_evidence(struct web *, uint64_t id, char **text, size_t *len);

/* --- web_page.c --- */
void	page_home(struct web_req *);
void	page_lookup(struct web_req *);
void	page_remove(struct web_req *);
void	page_removal(struct web_req *, const char *id);
void	page_policy(struct web_req *);
void	page_style(struct web_req *);
void	page_error(struct web_req *, int status, const char *text);

/* --- web_api.c --- */
void	api_lookup(struct web_req *, const char *addr);
void	api_removals(struct web_req *);
void	api_removal(struct web_req *, const char *id);
void	api_submissions(struct web_req *, const char *who);
void	api_listings(struct web_req *, const char *who, const char *prefix);
void	api_queue(struct web_req *);
void	api_history(struct web_req *, const char *addr);
void	api_evidence(struct web_req *, const char *id);
void	api_metrics(struct web_req *);

#endif
