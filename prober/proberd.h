/*
 * proberd.h -- what proberd's files share: struct proberd, a running
 * probe, the proof a delivery carries, and the calls between roles
 *
 * Internal to prober/proberd (never in an archive).  One struct proberd
 * lives in main(); every role reads its configuration from it and keeps
 * its own state in it.  The roles:
 *   proberd.c      main, options, configuration, privileges
 *   scheduler.c    due work within the concurrency limits, running
 *                  probes, expiry of listings
 *   outcome.c      an outcome written to the store in one transaction, or
 *                  kept in memory and retried while the store refuses it
 *   delivery.c     what a delivery to the sink proves: the probes that
 *                  wait for it, confirmation once, multi-hop egress
 *   sink_server.c  the sink's sockets: accept, caps, per-stage deadlines,
 *                  eviction, accept rate
 * Each call below is called from the event loop, never from a thread.
 */
#ifndef RELAYBL_PROBERD_H
#define RELAYBL_PROBERD_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <event2/util.h>

#include "addr.h"
#include "probe.h"
#include "probe_policy.h"
#include "sink.h"
#include "privs.h"
#include "store.h"

struct config;
struct event;
struct event_base;

/*
 * O_DEFERRED: the first pass that was deferred (prober/verdict.h), probed
 * again after tempfail_retry; a second such pass is O_CLEAN.
 */
enum outcome { O_LISTED, O_CLEAN, O_SUSPECT, O_INCONCLUSIVE, O_DEFERRED };

/*
 * The return codes proberd lists with (host order; README, "proberd"):
 * a confirmed relay, and the multi-hop egress that delivered its cookie.
 */
#define PROBERD_CODE_RELAY	STORE_CODE_LISTED	/* 127.0.0.2 */
#define PROBERD_CODE_EGRESS	STORE_CODE_EGRESS	/* 127.0.0.3 */

/* A running probe, or one whose server took a message: it waits. */
struct active {
	struct proberd		*d;
	struct store_probe	 q;
	uint32_t		 born;		/* the time in its cookies */
	struct probe		*pr;
	struct probe_summary	 sum;
	struct event		*timer;		/* deferred end of probing */
	struct event		*confirm;	/* confirmation window */
	int			 confirming;
	TAILQ_ENTRY(active)	 entry;
};
TAILQ_HEAD(actives, active);

struct recent;
TAILQ_HEAD(recents, recent);
struct result;
TAILQ_HEAD(results, result);
struct sinkconn;
TAILQ_HEAD(sinkconns, sinkconn);

struct proberd {
	struct config		*cfg;
	struct store		*st;
	struct store_reader	*rd;
	struct event_base	*base;
	struct actives		 actives;
	int			 nactive;
	struct probe_allow	 allow;
	struct sink_conf	 sinkconf;
	uint8_t			 key[32];
	const char		*storedir;
	const char		*user;		/* -u or [prober] user */
	struct privs		 privs;		/* who it becomes */
	char			 secret[4200];	/* secret_file */
	const char		*domain;
	const char		*info_url;
	char			 sink_listen[128];
	struct addr		 source4, source6;	/* [prober]
					   source_address(6); family 0: none */
	int			 starttls;	/* enum smtp_starttls */
	struct probe_conf	 probeconf;	/* what every probe shares */
	int64_t			 port, concurrency, per_net;
	int64_t			 t_connect, t_greeting, t_command;
	int64_t			 confirm_window, retest_interval, listing_ttl;
	int64_t			 max_attempts;
	int64_t			 tempfail_retry, retry_421;
	uint64_t		 map_size;
	uint64_t		 journal_size;	/* [dns] */
	int			 sinkfd;
	int			 stopping;
	struct event		*sinkev, *tick, *soon, *expiry;
	/* The sink's limits and what waits for its deliveries. */
	int64_t			 egress_scope, egress_scope6;
	int64_t			 sink_max, sink_per_addr;
	int64_t			 t_sink_greeting, t_sink_command, t_sink_data;
	struct sinkconns	 sinkconns;
	int			 nsink;
	struct event		*sinkpause;
	int64_t			 sink_rate, accept_second;
	int			 accepts;
	struct recents		 recents;
	int			 nrecent;
	int64_t			 unsolicited_minute;
	int			 unsolicited_n;
	/* Outcomes the store refused, waiting for a retry. */
	struct results		 pending;	/* outcomes the store refused */
	int			 npending;
	int			 store_failing;	/* no new work until a retry */
	int			 backoff;	/* seconds to the next retry */
	struct event		*retry;
};

/* What a delivery to the sink proves. */
struct proof {
	const char		*message;	/* as received */
	size_t			 len;
	const struct addr	*peer;		/* who delivered it */
	int			 form;		/* the battery form it carries */
	int			 egress;	/* 1: list peer as egress */
	const char		*not_egress;	/* else why not (NULL: peer
						   is the probed address) */
};

/* --- scheduler.c ------------------------------------------------------- */

/* The scheduler's event: starts due work within the limits (every second). */
void	scheduler_tick(evutil_socket_t, short, void *d);

/* Runs the scheduler within 50 ms: a probe ended and freed a slot. */
void	scheduler_kick(struct proberd *);

/* The expiry's event: unlists relay and egress listings past expires. */
void	scheduler_expire(evutil_socket_t, short, void *d);

/* At start: work left running by a proberd that died is pending again. */
void	scheduler_clear_stale(struct proberd *);

/* SIGTERM: every probe in flight stops and stays queued, pending. */
void	scheduler_abandon_all(struct proberd *);

/* The running probe of address a, or NULL. */
struct active *scheduler_find_active(struct proberd *, const struct addr *a);

/*
 * Ends a probe with its outcome (pf: the delivery that proved it, or
 * NULL): records it, remembers it for late cookies, frees ac.
 */
void	scheduler_finish(struct active *ac, int outcome,
	    const struct proof *pf);

/* --- outcome.c --------------------------------------------------------- */

/*
 * Records an outcome.  q may be NULL for a delivery that no running probe
 * waited for; sum, pr and pf may be NULL.  Nothing is kept from the
 * arguments: the evidence is rendered at once.  When the store refuses
 * the write the result waits in memory (and its address is not probed
 * again) until a retry writes it.
 */
void	outcome_record(struct proberd *, const struct store_probe *q,
	    const struct addr *a, int outcome, const struct probe_summary *sum,
	    const struct probe *pr, const struct proof *pf);

/* Whether an outcome of address a waits in memory to be written. */
int	outcome_pending(struct proberd *, const struct addr *a);

/* The retry's event: writes what waits, then lets the scheduler go on. */
void	outcome_retry(evutil_socket_t, short, void *d);

/* SIGTERM: a last try for what waits; what still fails is logged lost. */
void	outcome_drop_pending(struct proberd *);

/*
 * A store write failed: no new work starts until a retry after a backoff
 * (1 s doubling to 5 min) finds the store writable again.
 */
void	outcome_store_failed(struct proberd *);

/* A store write succeeded: the next failure starts at the shortest backoff. */
void	outcome_store_ok(struct proberd *);

/* Why the store refused: "the store is full" or "the store failed". */
const char *outcome_store_error(struct proberd *);

/* --- delivery.c -------------------------------------------------------- */

/*
 * Remembers an ending probe for confirm_window, whatever its outcome, so
 * that a late cookie of it still lists (once).
 */
void	delivery_remember(struct active *, int outcome, const struct proof *);

/*
 * A message arrived at the sink from peer: lists what its cookies prove,
 * audits what they do not.
 */
void	delivery_received(struct proberd *, const struct addr *peer,
	    const struct sink_delivery *);

/* --- sink_server.c ----------------------------------------------------- */

/* Binds d->sink_listen (ADDR:PORT) to d->sinkfd.  0, or -1 (logged). */
int	sink_server_open(struct proberd *);

/* The listener's event: accepts within the caps and the accept rate. */
void	sink_server_accept(evutil_socket_t, short, void *d);

#endif
