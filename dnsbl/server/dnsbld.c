/*
 * dnsbld.c -- the relaybl DNS responder
 *
 * dnsbld [-c FILE] [-d DIR] [-z ZONEFILE]... [-l ADDR:PORT]... [-w N]
 *        [-u USER] [-v]
 * dnsbld -V | --version
 *
 * The process: configuration, workers, signals.  Each worker has its own
 * UDP and TCP sockets on every listen address (SO_REUSEPORT lets the
 * kernel spread clients over them) and its own store readers.  UDP
 * queries are read and answered in batches by one thread per UDP socket
 * (udp.c); TCP connections (RFC 7766; back-pressure, idle and query
 * deadlines, eviction at a cap per worker) go through libevent on the
 * worker's event loop thread (tcp.c).  The answers themselves come from
 * answer.c, which touches no socket.  server.h ties the three together.
 *
 * Who may ask: [dnsbld] access_file (access.h) gives each client network
 * an action, keys_file (keys.h) the query keys that are answered from
 * anywhere, and rrl_rate limits UDP responses per client /24 or /56
 * (rrl.h, one table per UDP thread).
 *
 * The main thread owns the signals: SIGTERM/SIGINT stop the workers and
 * exit 0, SIGHUP rereads the zone files, the access file and the keys
 * file (the new sets are swapped in atomically; a reload with any of them
 * bad keeps all the old ones), SIGUSR1 prints counters.
 * With [dnsbld] metrics_listen, the same loop serves the counters over
 * HTTP (metrics.c).
 */
#include <netinet/in.h>
#include <arpa/inet.h>

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "keys.h"
#include "log.h"
#include "privs.h"
#include "server.h"
#include "version.h"

static void	usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: dnsbld [-c FILE] [-d DIR] [-z ZONEFILE]... "
	    "[-l ADDR:PORT]... [-w N] [-u USER] [-v]\n"
	    "       dnsbld -V | --version\n");
	exit(2);
}

/* --- Configuration --------------------------------------------------- */

/* A comma- or space-separated list of listen addresses from the config. */
static int
config_listen(struct dnsbld *d, const char *list)
{
	char		 bad[LISTEN_TEXT_MAX];
	const char	*why;

	if (listen_parse_list(list, d->listen, MAX_LISTEN, &d->nlisten, bad,
	    sizeof(bad), &why) == -1) {
		log_warnx("%s: [dnsbld] listen: bad address \"%s\" (%s)",
		    config_name(d->cfg), bad, why);
		return -1;
	}
	return 0;
}

/* [dnsbld] metrics_listen: one address, or none (no metrics server). */
static int
config_metrics(struct dnsbld *d)
{
	const char *s, *why;

	if ((s = config_str(d->cfg, "dnsbld", "metrics_listen", NULL)) ==
	    NULL)
		return 0;
	if (listen_parse(s, &d->metrics_addr, &why) == -1) {
		log_warnx("%s: [dnsbld] metrics_listen: bad address \"%s\" "
		    "(%s; want 127.0.0.1:9153 or [::1]:9153)",
		    config_name(d->cfg), s, why);
		return -1;
	}
	d->metrics_on = 1;
	return 0;
}

/* [dns]: who may transfer, how many at once, whom to NOTIFY. */
static int
load_dns(struct dnsbld *d)
{
	static const char *const keys[] = { "allow_transfer", "max_transfers",
	    "notify", "notify_interval", "tsig_keys_file",
	    "transfer_timeout", "journal_size", NULL };	/* journal_size: for the writers */
	struct config	*c = d->cfg;
	const char	*kf;
	char		 err[512];

	config_check_keys(c, "dns", keys);
	if ((kf = config_str(c, "dns", "tsig_keys_file", NULL)) != NULL &&
	    kf[0] != '\0' && tsig_keys_load(kf, &d->tsig, err,
	    sizeof(err)) == -1) {
		log_warnx("[dns] tsig_keys_file: %s", err);
		return -1;
	}
	if (transfer_config(d, config_str(c, "dns", "allow_transfer", "")) ==
	    -1 || config_int(c, "dns", "max_transfers", 8, 1, 256,
	    &d->xfr_max) == -1 || config_duration(c, "dns",
	    "transfer_timeout", 30, &d->xfr_timeout) == -1 ||
	    notify_config(d) == -1)
		return -1;
	if (d->xfr_timeout < 1) {
		log_warnx("[dns] transfer_timeout: at least 1 s");
		return -1;
	}
	/* A key named in allow_transfer or notify must be in the file. */
	for (int i = 0; i < d->nacl; i++)
		if (d->acl[i].key[0] && tsig_keys_find(&d->tsig,
		    d->acl[i].key) == NULL) {
			log_warnx("[dns] allow_transfer: no key \"%s\" in "
			    "tsig_keys_file", d->acl[i].key);
			return -1;
		}
	for (int i = 0; i < d->nnotify; i++)
		if (d->notify[i].key[0] && tsig_keys_find(&d->tsig,
		    d->notify[i].key) == NULL) {
			log_warnx("[dns] notify: no key \"%s\" in "
			    "tsig_keys_file", d->notify[i].key);
			return -1;
		}
	return 0;
}

/* Who may ask: the access and keys files, rate limiting, the error TXT. */
static int
config_access(struct dnsbld *d)
{
	struct config	*c = d->cfg;
	int64_t		 n;
	const char	*s;

	d->access_file = config_str(c, "dnsbld", "access_file", NULL);
	d->keys_file = config_str(c, "dnsbld", "keys_file", NULL);
	if ((s = config_str(c, "dnsbld", "error_text", NULL)) != NULL)
		snprintf(d->conf.error_text, sizeof(d->conf.error_text), "%s",
		    s);
	if (config_int(c, "dnsbld", "rrl_rate", 0, 0, 10000000, &n) == -1)
		return -1;
	d->rrl_rate = (uint32_t)n;
	if (config_int(c, "dnsbld", "rrl_slip", 2, 0, 100, &n) == -1)
		return -1;
	d->rrl_slip = (uint32_t)n;
	if (config_int(c, "dnsbld", "rrl_size", 65536, 64, 1 << 24, &n) == -1)
		return -1;
	d->rrl_size = (uint32_t)n;
	return 0;
}

static int
load_config(struct dnsbld *d)
{
	static const char *const keys[] = { "listen", "zones", "workers",
	    "user", "ttl", "txt_template", "test_codes", "tcp_idle_timeout",
	    "tcp_max_connections", "tcp_query_timeout", "udp_payload",
	    "syslog", "metrics_listen", "access_file", "keys_file",
	    "error_text", "rrl_rate", "rrl_slip", "rrl_size", NULL };
	struct config	*c = d->cfg;
	int64_t		 n;

	config_check_keys(c, "dnsbld", keys);
	if (config_int(c, "dnsbld", "syslog", 0, 0, 1, &n) == -1)
		return -1;
	if (n)
		log_init("dnsbld", 1);	/* stderr and syslog (daemon) */
	if (d->storedir == NULL)
		d->storedir = config_str(c, "store", "dir", "state/store");
	if (config_size(c, "store", "map_size", (uint64_t)4 << 30,
	    &d->map_size) == -1)
		return -1;
	if (d->nlisten == 0 && config_listen(d, config_str(c, "dnsbld",
	    "listen", "127.0.0.1:5353")) == -1)
		return -1;
	d->zonedir = config_str(c, "dnsbld", "zones", "zones");
	if (d->nworkers == 0) {
		if (config_int(c, "dnsbld", "workers", 1, 1, MAX_WORKERS,
		    &n) == -1)
			return -1;
		d->nworkers = (int)n;
	}
	if (d->user == NULL)
		d->user = config_str(c, "dnsbld", "user", NULL);
	if (answer_conf_load(c, &d->conf) == -1)
		return -1;
	if (config_int(c, "dnsbld", "udp_payload", ANSWER_UDP_MAX, 512,
	    PKT_MAX, &n) == -1)
		return -1;
	d->conf.udp_max = (uint16_t)n;
	if (config_duration(c, "dnsbld", "tcp_idle_timeout", 10,
	    &d->tcp_idle) == -1 || config_duration(c, "dnsbld",
	    "tcp_query_timeout", 5, &d->tcp_query) == -1 || config_int(c,
	    "dnsbld", "tcp_max_connections", 64, 1, 100000, &d->tcp_max) ==
	    -1)
		return -1;
	if (load_dns(d) == -1 || config_access(d) == -1)
		return -1;
	return config_metrics(d);
}

/*
 * The access rules and keys from their files (NULL for a file not
 * configured).  Returns -1, with nothing loaded, when a file is bad.
 */
static int
load_access(struct dnsbld *d, struct access **ac, struct keyset **ks)
{
	*ac = NULL;
	*ks = NULL;
	if (d->access_file != NULL &&
	    (*ac = access_load(d->access_file)) == NULL)
		return -1;
	if (d->keys_file != NULL && (*ks = keys_load(d->keys_file)) == NULL) {
		access_free(*ac);
		*ac = NULL;
		return -1;
	}
	return 0;
}

/* --- Clients ---------------------------------------------------------- */

void
dnsbld_peer(const struct sockaddr_storage *ss, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;
		a->family = ADDR_V4;
		a->plen = 32;
		memcpy(a->bytes, &sin->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)ss;
		a->family = ADDR_V6;
		a->plen = 128;
		memcpy(a->bytes, &sin6->sin6_addr, 16);
	}
}

enum access_action
dnsbld_client(struct dnsbld *d, const struct addr *peer,
    struct answer_client *cl)
{
	cl->action = access_lookup(dnsbld_access(d), peer);
	cl->keys = dnsbld_keys(d);
	return cl->action;
}

/* --- Workers --------------------------------------------------------- */

static struct worker *
worker_new(struct dnsbld *d, int id)
{
	struct worker *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("worker");
	w->d = d;
	w->id = id;
	if ((w->base = event_base_new()) == NULL ||
	    (w->rd = store_reader_new(d->st)) == NULL)
		fatalx("worker %d: cannot set up", id);
	tcp_worker_init(w);
	for (int i = 0; i < d->nlisten; i++) {
		struct worker_sock *s = &w->socks[w->nsocks++];
		s->udp = udp_server_new(w, &d->listen[i]);
		tcp_listen(w, s, &d->listen[i]);
	}
	return w;
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

/* Starts the worker's event loop and its UDP threads. */
static void
worker_start(struct worker *w)
{
	if (pthread_create(&w->thread, NULL, worker_run, w) != 0)
		fatalx("cannot start worker %d", w->id);
	for (int i = 0; i < w->nsocks; i++)
		udp_server_start(w->socks[i].udp);
}

static void
worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
	for (int i = 0; i < w->nsocks; i++)
		udp_server_join(w->socks[i].udp);
}

static void
worker_free(struct worker *w)
{
	tcp_worker_free(w);
	for (int i = 0; i < w->nsocks; i++)
		udp_server_free(w->socks[i].udp);
	store_reader_free(w->rd);
	event_base_free(w->base);
	free(w);
}

/* --- Signals --------------------------------------------------------- */

/* The zones, access rules and keys again: all of them or none. */
static void
reload_zones(struct dnsbld *d)
{
	struct zoneset	*zs;
	struct access	*ac;
	struct keyset	*ks;

	zs = zoneset_load(d->zonefiles, d->nzonefiles, d->zonedir);
	if (zs == NULL || load_access(d, &ac, &ks) == -1) {
		zoneset_free(zs);
		log_warnx("reload failed: still serving the old zones, "
		    "access rules and keys");
		d->reload_failures++;
		return;
	}
	/*
	 * A worker may still be answering from the old sets; batches last
	 * microseconds and reloads come from people, so the old sets are
	 * freed at the next reload (or at exit), not now.
	 */
	zoneset_free(d->retired);
	d->retired = __atomic_exchange_n(&d->zones, zs, __ATOMIC_ACQ_REL);
	access_free(d->access_retired);
	d->access_retired = __atomic_exchange_n(&d->access, ac,
	    __ATOMIC_ACQ_REL);
	keys_free(d->keys_retired);
	d->keys_retired = __atomic_exchange_n(&d->keys, ks, __ATOMIC_ACQ_REL);
	d->reloads++;
	log_info("reloaded %d zones, %zu access rules, %zu keys", zs->n,
	    access_count(ac), keys_count(ks));
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct dnsbld *d = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		reload_zones(d);
		break;
	case SIGUSR1:
		metrics_log(d);
		break;
	default:
		__atomic_store_n(&d->stopping, 1, __ATOMIC_RELAXED);
		for (int i = 0; i < d->nworkers; i++)
			event_base_loopbreak(d->workers[i]->base);
		event_base_loopbreak(d->main_base);
		break;
	}
}

/* --- Main ------------------------------------------------------------ */

static void
parse_args(struct dnsbld *d, int argc, char **argv, const char **cfgpath)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*why;
	char		*end;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "c:d:l:u:Vvw:z:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'V':
			version_exit("dnsbld", store_lmdb_version());
		case 'c':
			*cfgpath = optarg;
			break;
		case 'd':
			d->storedir = optarg;
			break;
		case 'l':
			if (d->nlisten == MAX_LISTEN)
				fatalx("-l: more than %d addresses",
				    MAX_LISTEN);
			if (listen_parse(optarg, &d->listen[d->nlisten],
			    &why) == -1)
				fatalx("-l: bad address \"%s\": %s (want "
				    "1.2.3.4:53 or [::1]:53)", optarg, why);
			d->nlisten++;
			break;
		case 'u':
			d->user = optarg;
			break;
		case 'v':
			log_setverbose(1);
			break;
		case 'w':
			d->nworkers = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || d->nworkers < 1 ||
			    d->nworkers > MAX_WORKERS)
				fatalx("-w: want 1..%d workers", MAX_WORKERS);
			break;
		case 'z':
			if (d->nzonefiles == MAX_ZONEFILES)
				fatalx("-z: too many zone files");
			d->zonefiles[d->nzonefiles++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

static void
announce(struct dnsbld *d)
{
	char			 buf[1024];
	size_t			 n = 0;
	struct store_reader	*rd = store_reader_new(d->st);
	struct zoneset		*zs = dnsbld_zones(d);

	for (int i = 0; i < zs->n && n < sizeof(buf); i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
		    zs->zones[i]->name);
	log_info("ready: %d zones (%s), store %s serial %u, %d workers, "
	    "listening on %s%s", zs->n, buf, d->storedir,
	    rd ? store_serial(rd) : 0, d->nworkers, d->listen[0].text,
	    d->nlisten > 1 ? " and more" : "");
	if (d->access_file != NULL || d->keys_file != NULL ||
	    d->rrl_rate > 0)
		log_info("access: %zu rules, %zu keys, rate limit %s%u/s "
		    "per /24 and /56 (slip %u)", access_count(d->access),
		    keys_count(d->keys), d->rrl_rate ? "" : "off: ",
		    d->rrl_rate, d->rrl_slip);
	store_reader_free(rd);
}

int
main(int argc, char **argv)
{
	static struct dnsbld	 d;
	const char		*cfgpath = NULL;
	struct event		*sigev[4];
	static const int	 sigs[4] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	sigset_t		 all, old;
	struct privs		 privs;
	char			 vbuf[256];

	log_init("dnsbld", 0);
	signal(SIGPIPE, SIG_IGN);
	parse_args(&d, argc, argv, &cfgpath);
	if ((d.cfg = config_load(cfgpath)) == NULL || load_config(&d) == -1)
		exit(2);
	/* After load_config: with [dnsbld] syslog, to syslog as well. */
	log_info("starting %s", version_line("dnsbld", store_lmdb_version(),
	    vbuf, sizeof(vbuf)));
	if (privs_check(&privs, d.user) == -1)
		exit(2);
	if ((d.zones = zoneset_load(d.zonefiles, d.nzonefiles, d.zonedir)) ==
	    NULL || load_access(&d, &d.access, &d.keys) == -1)
		exit(2);
	if ((d.st = store_open(d.storedir, STORE_RDONLY, d.map_size)) == NULL)
		exit(2);
	if (evthread_use_pthreads() == -1)
		fatalx("libevent without thread support");
	/* Workers inherit a mask without our signals: main handles them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < d.nworkers; i++)
		d.workers[i] = worker_new(&d, i);
	if (d.metrics_on)
		d.metrics = metrics_open(&d, &d.metrics_addr);
	if (privs_drop(&privs) == -1)
		exit(2);
	for (int i = 0; i < d.nworkers; i++)
		worker_start(d.workers[i]);
	if ((d.main_base = event_base_new()) == NULL)
		fatalx("event_base_new");
	for (int i = 0; i < 4; i++) {
		sigev[i] = evsignal_new(d.main_base, sigs[i], on_signal, &d);
		if (sigev[i] == NULL || event_add(sigev[i], NULL) == -1)
			fatalx("cannot handle signal %d", sigs[i]);
	}
	if (d.metrics != NULL)
		metrics_start(d.metrics, d.main_base);
	d.notifier = notify_start(&d, d.main_base);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	announce(&d);
	event_base_dispatch(d.main_base);
	for (int i = 0; i < d.nworkers; i++)
		worker_join(d.workers[i]);
	/* Transfers see stopping at their next message: a second at most. */
	for (int i = 0; i < 50 && __atomic_load_n(&d.xfr_running,
	    __ATOMIC_RELAXED) > 0; i++)
		usleep(100000);
	notify_stop(d.notifier);
	log_info("stopping");
	metrics_log(&d);
	metrics_close(d.metrics);
	for (int i = 0; i < 4; i++)
		event_free(sigev[i]);
	for (int i = 0; i < d.nworkers; i++)
		worker_free(d.workers[i]);
	event_base_free(d.main_base);
	zoneset_free(d.zones);
	zoneset_free(d.retired);
	tsig_keys_free(&d.tsig);
	access_free(d.access);
	access_free(d.access_retired);
	keys_free(d.keys);
	keys_free(d.keys_retired);
	store_close(d.st);
	config_free(d.cfg);
	return 0;
}
