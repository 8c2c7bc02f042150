/*
 * server.h -- the parts of dnsbld, shared inside dnsbl/server only
 *
 * dnsbld.c is the process: configuration, workers, signals, main.  udp.c
 * answers UDP: one thread per UDP socket, reading and answering batches.
 * tcp.c answers TCP on a worker's event loop: accepting, RFC 7766
 * pipelining, back-pressure, deadlines, eviction at the cap.  metrics.c
 * sums the counters on the main thread, for SIGUSR1 and for Prometheus
 * (HTTP on the main thread's event loop).  A worker is
 * one event loop thread (its TCP) and one thread per UDP socket, each with
 * its own store reader and counters, so they share nothing but the
 * read-only configuration and the zones, access rules and query keys,
 * which SIGHUP swaps atomically.  Each UDP thread has its own response
 * rate limiting table (rrl.h).  The answers themselves come from
 * answer.h, which touches no socket.
 */
#ifndef RELAYBL_SERVER_H
#define RELAYBL_SERVER_H

#include <sys/queue.h>

#include <sys/socket.h>

#include <pthread.h>
#include <stdint.h>

#include <event2/event.h>

#include "access.h"
#include "addr.h"
#include "answer.h"
#include "config.h"
#include "listen.h"
#include "store.h"
#include "tsig.h"
#include "zone.h"

#define PKT_MAX		4096	/* largest query read, reply written */
#define MAX_LISTEN	16
#define MAX_WORKERS	64
#define MAX_ZONEFILES	64

/* Every socket: one per worker on each address, IPv6 only for [::]. */
#define DNSBLD_LISTEN_FLAGS	(LISTEN_REUSEPORT | LISTEN_V6ONLY)

struct metrics;			/* metrics.c */
struct udp_server;		/* udp.c */
struct tcpconn;			/* tcp.c */
TAILQ_HEAD(tcpconns, tcpconn);

/* One listen address of a worker: its UDP thread and TCP listener. */
struct worker_sock {
	struct udp_server	*udp;
	int			 tcp;
	struct event		*tev;		/* accepts on tcp */
};

struct worker {
	struct dnsbld		*d;
	int			 id;
	pthread_t		 thread;
	struct event_base	*base;
	struct store_reader	*rd;		/* TCP's */
	struct worker_sock	 socks[MAX_LISTEN];
	int			 nsocks;
	int			 tcp_conns;
	struct tcpconns		 conns;		/* least recently active 1st */
	struct event		*accept_resume;
	int64_t			 trimmed;	/* ms: last malloc_trim */
	struct answer_counters	 cnt;		/* TCP */
};

#define XFR_ACL_MAX	64

/* An allow_transfer entry: peers in net, with key (or "": none). */
struct xfr_acl {
	struct addr	net;
	char		key[256];
};

/* A NOTIFY target: where, and the key to sign with ("": none). */
struct notify_target {
	struct listen_addr	addr;
	char			key[256];
};
#define NOTIFY_MAX	16

struct notifier;		/* notify.c */

/* The transfers served whole, by kind: dnsbld.xfr_kind. */
enum { XFR_KIND_AXFR, XFR_KIND_IXFR, XFR_KIND_IXFR_FULL,
    XFR_KIND_IXFR_UP_TO_DATE, XFR_KINDS };
#define XFR_KIND_NAMES	{ "axfr", "ixfr_incremental", "ixfr_full", \
	"ixfr_up_to_date" }

struct dnsbld {
	struct config		*cfg;
	struct store		*st;
	struct zoneset		*zones;		/* swapped atomically */
	struct zoneset		*retired;	/* freed at the next reload */
	struct access		*access;	/* swapped atomically; NULL:
						 * everyone is answered */
	struct access		*access_retired;
	struct keyset		*keys;		/* swapped atomically; NULL:
						 * no key queries */
	struct keyset		*keys_retired;
	const char		*access_file;	/* NULL: none */
	const char		*keys_file;	/* NULL: none */
	uint32_t		 rrl_rate;	/* responses/s; 0: no RRL */
	uint32_t		 rrl_slip;
	uint32_t		 rrl_size;	/* buckets per UDP thread */
	struct answer_conf	 conf;
	struct listen_addr	 listen[MAX_LISTEN];
	int			 nlisten;
	char			*zonefiles[MAX_ZONEFILES];
	int			 nzonefiles;
	const char		*zonedir;
	const char		*storedir;
	const char		*user;
	uint64_t		 map_size;
	int			 nworkers;
	int64_t			 tcp_idle;	/* seconds */
	int64_t			 tcp_query;	/* seconds */
	int64_t			 tcp_max;	/* connections per worker */
	struct worker		*workers[MAX_WORKERS];
	struct event_base	*main_base;	/* signals, metrics */
	int			 stopping;	/* read by UDP threads */
	struct listen_addr	 metrics_addr;
	int			 metrics_on;	/* metrics_addr was given */
	struct metrics		*metrics;
	/* [dns]: zone transfers out (transfer.c), NOTIFY (notify.c) */
	struct xfr_acl		 acl[XFR_ACL_MAX];
	int			 nacl;
	struct tsig_keys	 tsig;		/* [dns] tsig_keys_file */
	int64_t			 xfr_max;	/* transfers at once */
	int64_t			 xfr_timeout;	/* s a message may take */
	int64_t			 xfr_running;	/* atomic */
	uint64_t		 xfr_done, xfr_failed, xfr_refused;	/* atomic */
	uint64_t		 xfr_kind[XFR_KINDS];	/* atomic: done, by kind */
	struct notify_target	 notify[NOTIFY_MAX];
	int			 nnotify;
	int64_t			 notify_interval;	/* seconds */
	struct notifier		*notifier;
	uint64_t		 reloads;	/* main thread only */
	uint64_t		 reload_failures;
};

/* The zones to answer from now (a reload may swap them at any time). */
static inline struct zoneset *
dnsbld_zones(struct dnsbld *d)
{
	return __atomic_load_n(&d->zones, __ATOMIC_ACQUIRE);
}

static inline struct access *
dnsbld_access(struct dnsbld *d)
{
	return __atomic_load_n(&d->access, __ATOMIC_ACQUIRE);
}

static inline struct keyset *
dnsbld_keys(struct dnsbld *d)
{
	return __atomic_load_n(&d->keys, __ATOMIC_ACQUIRE);
}

/*
 * dnsbld.c.  dnsbld_peer() turns a client's socket address into a host
 * address (IPv4-mapped IPv6 stays IPv6: access.h matches it as IPv4).
 * dnsbld_client() fills cl for answer_query_client() with the access
 * rules and keys of now, and returns the client's action (ACCESS_DROP:
 * do not answer; cl is then not to be used).
 */
void		 dnsbld_peer(const struct sockaddr_storage *ss,
		    struct addr *a);
enum access_action dnsbld_client(struct dnsbld *d, const struct addr *peer,
		    struct answer_client *cl);

/*
 * udp.c.  udp_server_new() opens la's UDP socket for worker w, with its
 * own store reader; it is fatal when it cannot (start-up only).
 * udp_server_start() starts its thread, which serves until d->stopping
 * is set (it notices within a quarter of a second); udp_server_join()
 * waits for it.  udp_server_free() closes the socket and frees u.  The
 * counters are written by u's thread only: read them with relaxed loads.
 */
struct udp_server *udp_server_new(struct worker *w,
		    const struct listen_addr *la);
void		 udp_server_start(struct udp_server *u);
void		 udp_server_join(struct udp_server *u);
void		 udp_server_free(struct udp_server *u);
const struct answer_counters *udp_server_counters(const struct udp_server *u);

/*
 * tcp.c, all on the worker's event loop.  tcp_worker_init() prepares w's
 * connection list; tcp_listen() opens la's TCP listener into s and accepts
 * on it (both fatal when they cannot: start-up only).  tcp_worker_free()
 * closes every connection and listener of w, once its loop has stopped.
 */
void		 tcp_worker_init(struct worker *w);
void		 tcp_listen(struct worker *w, struct worker_sock *s,
		    const struct listen_addr *la);
void		 tcp_worker_free(struct worker *w);

/*
 * metrics.c, all on the main thread.  metrics_sum() fills s with the sum
 * of every thread's counters (each a little stale, none ahead of what
 * happened) and returns the TCP connections open now.  metrics_log()
 * logs the sum (SIGUSR1).  metrics_open() opens the listener of la (at
 * start-up, before privileges are dropped; fatal when it cannot) and
 * returns the metrics, which metrics_start() serves on base (GET or
 * HEAD /metrics: the Prometheus text format 0.0.4; other paths 404,
 * other methods 405).  metrics_close() closes everything; NULL is a
 * no-op.
 */
/*
 * transfer.c.  transfer_config() reads [dns] allow_transfer ("CIDR" or
 * "CIDR KEYNAME", comma-separated).  transfer_start(), on a worker's
 * thread, takes over fd (a TCP connection whose query asks for AXFR or
 * IXFR; pending: answers still owed to it) and serves the transfer on a
 * thread of its own, or refuses it; the caller forgets the connection.
 */
int		 transfer_config(struct dnsbld *d, const char *list);
void		 transfer_start(struct dnsbld *d, int fd,
		    const struct addr *peer, const uint8_t *query, size_t qlen,
		    const uint8_t *pending, size_t plen);

/*
 * notify.c, on the main thread.  notify_config() reads [dns] notify
 * ("ADDR:PORT" or "ADDR:PORT KEYNAME", comma-separated) and
 * notify_interval.  notify_start() checks the store's serial every
 * second and, when it moved (at most once per notify_interval), sends
 * each target a NOTIFY (RFC 1996) for every zone, retried until it is
 * answered.  notify_stop() frees it all.
 */
int		 notify_config(struct dnsbld *d);
struct notifier	*notify_start(struct dnsbld *d, struct event_base *base);
void		 notify_stop(struct notifier *);
/* NOTIFY messages sent, answered, given up (all 0 for NULL). */
void		 notify_counts(const struct notifier *, uint64_t out[3]);

uint64_t	 metrics_sum(struct dnsbld *d, struct answer_counters *s);
void		 metrics_log(struct dnsbld *d);
struct metrics	*metrics_open(struct dnsbld *d, const struct listen_addr *la);
void		 metrics_start(struct metrics *m, struct event_base *base);
void		 metrics_close(struct metrics *m);

#endif
