/*
 * proberd.c -- the relaybl prober: main, options, configuration
 *
 * proberd [-c FILE] [-d DIR] [-u USER] [-v]
 * proberd -V | --version
 *
 * One event loop.  Every second the scheduler takes due work from the
 * store's probe queue (submissions, retests, removal requests), within the
 * global and per-network concurrency limits and the manners of
 * probe_policy.c, and starts a probe (probe.c).  A probe whose server
 * accepted a test message waits up to confirm_window for the cookie to
 * arrive at the sink (sink.c, in this process).  The outcome -- listed
 * (the cookie came back), clean (every form refused), suspect (accepted,
 * never delivered), deferred (4xx at RCPT: probed once more after
 * tempfail_retry, clean if deferred again), inconclusive (421, timeout,
 * garbage) -- goes to
 * the store in one transaction with its evidence and audit entry; a
 * listed address is retested every retest_interval and expires when not
 * reconfirmed within listing_ttl.
 *
 * One file a role (proberd.h says what each shares): this one reads the
 * configuration, binds the sink as root and becomes -u USER, opens the
 * store and the cookie secret, sets up the events and runs the loop;
 * scheduler.c starts probes and expires listings, outcome.c writes
 * outcomes (or keeps them while the store refuses writes), delivery.c
 * judges what a delivery to the sink proves, sink_server.c is the sink's
 * listener and connections.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "proberd.h"
#include "version.h"

static void
usage(void)
{
	fprintf(stderr, "usage: proberd [-c FILE] [-d DIR] [-u USER] [-v]\n"
	    "       proberd -V | --version\n");
	exit(2);
}

/* --- Configuration --------------------------------------------------- */

/*
 * Reads the cookie secret, or creates it (32 random bytes, mode 0600) the
 * first time.  Its default place is the store directory, which exists
 * and is ours wherever proberd runs from; a secret_file in a directory
 * that does not exist is an error naming that directory.
 */
static int
load_secret(struct proberd *d, const char *path)
{
	char	dir[sizeof(d->secret)];
	int	fd;
	ssize_t	n;

	if ((fd = open(path, O_RDONLY)) == -1 && errno == ENOENT) {
		snprintf(dir, sizeof(dir), "%s", path);
		if (access(dirname(dir), F_OK) == -1) {
			log_warnx("secret_file %s: no directory %s", path, dir);
			return -1;
		}
		/* Created once, readable by the prober only. */
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1 ||
		    (n = getrandom(d->key, sizeof(d->key), 0)) !=
		    (ssize_t)sizeof(d->key) ||
		    write(fd, d->key, sizeof(d->key)) !=
		    (ssize_t)sizeof(d->key)) {
			log_warn("secret_file %s", path);
			if (fd != -1)
				close(fd);
			return -1;
		}
		close(fd);
		log_info("created the cookie secret %s", path);
		return 0;
	}
	if (fd == -1 || (n = read(fd, d->key, sizeof(d->key))) !=
	    (ssize_t)sizeof(d->key)) {
		log_warnx("secret_file %s: cannot read %zu bytes", path,
		    sizeof(d->key));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The sink's limits and the scope of multi-hop egress. */
static int
load_sink_config(struct proberd *d)
{
	struct config	*c = d->cfg;

	if (config_int(c, "prober", "egress_scope", 24, 8, 32,
	    &d->egress_scope) == -1 || config_int(c, "prober",
	    "egress_scope6", 48, 16, 128, &d->egress_scope6) == -1 ||
	    config_int(c, "prober", "sink_max_connections", 256, 1, 100000,
	    &d->sink_max) == -1 || config_int(c, "prober",
	    "sink_max_per_address", 8, 1, 100000, &d->sink_per_addr) == -1 ||
	    config_int(c, "prober", "sink_accept_rate", 256, 1, 1000000,
	    &d->sink_rate) == -1 ||
	    config_duration(c, "prober", "sink_timeout_greeting", 60,
	    &d->t_sink_greeting) == -1 || config_duration(c, "prober",
	    "sink_timeout_command", 120, &d->t_sink_command) == -1 ||
	    config_duration(c, "prober", "sink_timeout_data", 300,
	    &d->t_sink_data) == -1)
		return -1;
	if (d->t_sink_greeting < 1 || d->t_sink_command < 1 ||
	    d->t_sink_data < 1) {
		log_warnx("%s: [prober] sink timeouts must be at least 1 s",
		    config_name(c));
		return -1;
	}
	return 0;
}

/*
 * One source address key: absent or empty is none (family 0); else an
 * address of the key's family (an IPv4-mapped IPv6 address is IPv4's)
 * that a socket can bind to now.  0, or -1 (logged, naming key and value).
 */
static int
load_source(struct proberd *d, const char *key, int family, struct addr *a)
{
	const char	*v = config_str(d->cfg, "prober", key, NULL);
	const char	*why = NULL, *name = config_name(d->cfg);
	uint8_t		 b[16];
	static const uint8_t zero[16], mapped[12] = { [10] = 0xff,
	    [11] = 0xff };

	memset(a, 0, sizeof(*a));
	if (v == NULL || v[0] == '\0')
		return 0;
	if (family == ADDR_V4 && inet_pton(AF_INET, v, b) != 1)
		why = inet_pton(AF_INET6, v, b) == 1 ? "an IPv6 address "
		    "(that is source_address6)" : "not an IPv4 address";
	else if (family == ADDR_V6 && inet_pton(AF_INET6, v, b) != 1)
		why = inet_pton(AF_INET, v, b) == 1 ? "an IPv4 address "
		    "(that is source_address)" : "not an IPv6 address";
	else if (family == ADDR_V6 && memcmp(b, mapped, 12) == 0)
		why = "an IPv4-mapped address (that is source_address)";
	else if (memcmp(b, zero, family == ADDR_V4 ? 4 : 16) == 0)
		why = "the unspecified address (leave it empty for none)";
	if (why != NULL) {
		log_warnx("%s: [prober] %s = %s: %s", name, key, v, why);
		return -1;
	}
	a->family = family;
	a->plen = family == ADDR_V4 ? 32 : 128;
	memcpy(a->bytes, b, family == ADDR_V4 ? 4 : 16);
	/* A source that cannot be bound is an error now, not at each probe. */
	if (probe_source_check(a) == -1) {
		log_warnx("%s: [prober] %s = %s: %s (%s)", name, key, v,
		    errno == EADDRNOTAVAIL ? "not a local address" :
		    "cannot bind", strerror(errno));
		return -1;
	}
	log_info("probes to %s addresses leave from %s",
	    family == ADDR_V4 ? "IPv4" : "IPv6", v);
	return 0;
}

/* [prober] starttls = auto | always | never. */
static int
load_starttls(struct proberd *d)
{
	const char *v = config_str(d->cfg, "prober", "starttls", "auto");

	for (d->starttls = SMTP_STARTTLS_AUTO;
	    d->starttls <= SMTP_STARTTLS_NEVER; d->starttls++)
		if (strcmp(v, smtp_starttls_name(d->starttls)) == 0)
			return 0;
	log_warnx("%s: [prober] starttls: \"%s\": not auto, always or never",
	    config_name(d->cfg), v);
	return -1;
}

/* What every probe shares, from the configuration; 0 or -1 (logged). */
static int
setup_probes(struct proberd *d)
{
	struct probe_conf *pc = &d->probeconf;

	pc->port = (uint16_t)d->port;
	pc->source4 = d->source4;
	pc->source6 = d->source6;
	pc->timeout_connect = d->t_connect;
	pc->timeout_greeting = d->t_greeting;
	pc->timeout_command = d->t_command;
	pc->domain = d->domain;
	pc->info_url = d->info_url;
	pc->key = d->key;
	pc->keylen = sizeof(d->key);
	pc->starttls = d->starttls;
	if (d->starttls != SMTP_STARTTLS_NEVER &&
	    (pc->tls = probe_tls_new()) == NULL)
		return -1;
	return 0;
}

static int
load_config(struct proberd *d)
{
	static const char *const keys[] = { "probe_domain", "sink_listen",
	    "smtp_port", "allow", "concurrency", "per_net_concurrency",
	    "timeout_connect", "timeout_greeting", "timeout_command",
	    "confirm_window", "retest_interval", "listing_ttl", "secret_file",
	    "info_url", "max_attempts", "user", "egress_scope",
	    "egress_scope6", "sink_max_connections", "sink_max_per_address",
	    "sink_accept_rate", "sink_timeout_greeting",
	    "sink_timeout_command", "sink_timeout_data", "source_address",
	    "source_address6", "tempfail_retry", "retry_421", "starttls",
	    NULL };
	struct config	*c = d->cfg;
	const char	*err, *bad, *secret;

	config_check_keys(c, "prober", keys);
	if (d->storedir == NULL)
		d->storedir = config_str(c, "store", "dir", "state/store");
	if (d->user == NULL)
		d->user = config_str(c, "prober", "user", NULL);
	if (d->user != NULL && d->user[0] == '\0')
		d->user = NULL;		/* "user =": stay as started */
	d->domain = config_str(c, "prober", "probe_domain", "probe.invalid");
	d->info_url = config_str(c, "prober", "info_url",
	    "https://relaybl.example/about");
	snprintf(d->sink_listen, sizeof(d->sink_listen), "%s",
	    config_str(c, "prober", "sink_listen", "127.0.0.1:2525"));
	if (probe_allow_parse(config_str(c, "prober", "allow", ""),
	    &d->allow, &err, &bad) == -1) {
		log_warnx("%s: [prober] allow: \"%s\": %s", config_name(c),
		    bad, err);
		return -1;
	}
	if (config_size(c, "store", "map_size", (uint64_t)4 << 30,
	    &d->map_size) == -1 || config_size(c, "dns", "journal_size",
	    STORE_JOURNAL_SIZE, &d->journal_size) == -1 ||
	    config_int(c, "prober", "smtp_port", 25, 1, 65535, &d->port) ==
	    -1 || config_int(c, "prober", "concurrency", 100, 1, 10000,
	    &d->concurrency) == -1 || config_int(c, "prober",
	    "per_net_concurrency", 4, 1, 1000, &d->per_net) == -1 ||
	    config_duration(c, "prober", "timeout_connect", 30,
	    &d->t_connect) == -1 || config_duration(c, "prober",
	    "timeout_greeting", 300, &d->t_greeting) == -1 ||
	    config_duration(c, "prober", "timeout_command", 300,
	    &d->t_command) == -1 || config_duration(c, "prober",
	    "confirm_window", 600, &d->confirm_window) == -1 ||
	    config_duration(c, "prober", "retest_interval", 30 * 86400,
	    &d->retest_interval) == -1 || config_duration(c, "prober",
	    "listing_ttl", 90 * 86400, &d->listing_ttl) == -1 ||
	    config_int(c, "prober", "max_attempts", 5, 1, 100,
	    &d->max_attempts) == -1 ||
	    config_duration(c, "prober", "tempfail_retry", 900,
	    &d->tempfail_retry) == -1 || config_duration(c, "prober",
	    "retry_421", 300, &d->retry_421) == -1)
		return -1;
	if (load_sink_config(d) == -1 ||
	    load_source(d, "source_address", ADDR_V4, &d->source4) == -1 ||
	    load_source(d, "source_address6", ADDR_V6, &d->source6) == -1)
		return -1;
	if (load_starttls(d) == -1)
		return -1;
	d->sinkconf.domain = d->domain;
	d->sinkconf.key = d->key;
	d->sinkconf.keylen = sizeof(d->key);
	/*
	 * A cookie is good while a probe or its confirmation may last (four
	 * sessions of up to 45 commands: one may fail at STARTTLS and be
	 * done again in plain text), the second pass of a deferred probe
	 * included (it reuses the first
	 * pass's cookies: scheduler.c, cookie_time).
	 */
	d->sinkconf.max_age = d->confirm_window + 4 * (d->t_connect +
	    d->t_greeting + 45 * d->t_command) + 3600 + d->tempfail_retry +
	    1800;
	if ((secret = config_str(c, "prober", "secret_file", NULL)) != NULL)
		snprintf(d->secret, sizeof(d->secret), "%s", secret);
	else
		snprintf(d->secret, sizeof(d->secret), "%s/prober.secret",
		    d->storedir);
	return 0;
}

/*
 * Whether proberd can become the user it is told to (-u, [prober] user):
 * only root can (privs.c).  Root told nothing is warned.  0 or -1 (logged).
 */
static int
check_user(struct proberd *d)
{
	if (d->user == NULL && geteuid() == 0)
		log_warnx("running as root: give -u USER or [prober] user to "
		    "drop root once the sink is bound");
	return privs_check(&d->privs, d->user);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct proberd *d = arg;

	(void)what;
	/*
	 * SIGHUP (a log rotation, a reload by habit) must not kill proberd:
	 * it rereads nothing, and says so.
	 */
	if (sig == SIGHUP) {
		log_info("SIGHUP: nothing to reread; restart proberd to take "
		    "a new configuration");
		return;
	}
	/* Probes in flight stay queued: their entries are still there. */
	event_base_loopbreak(d->base);
}

/* Options override the configuration file; returns the file (or NULL). */
static const char *
parse_options(struct proberd *d, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*cfgpath = NULL;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "c:d:u:Vv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'V':
			version_exit("proberd", store_lmdb_version());
		case 'c':
			cfgpath = optarg;
			break;
		case 'd':
			d->storedir = optarg;
			break;
		case 'u':
			d->user = optarg;
			break;
		case 'v':
			log_setverbose(1);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	return cfgpath;
}

/* The loop's events: the sink, the scheduler, expiry, retries, signals. */
static void
setup_events(struct proberd *d, struct event **sig)
{
	struct timeval	second = { 1, 0 }, minute = { 60, 0 };

	d->sinkev = event_new(d->base, d->sinkfd, EV_READ | EV_PERSIST,
	    sink_server_accept, d);
	d->tick = event_new(d->base, -1, EV_PERSIST, scheduler_tick, d);
	d->soon = evtimer_new(d->base, scheduler_tick, d);
	d->expiry = event_new(d->base, -1, EV_PERSIST, scheduler_expire, d);
	d->retry = evtimer_new(d->base, outcome_retry, d);
	sig[0] = evsignal_new(d->base, SIGTERM, on_signal, d);
	sig[1] = evsignal_new(d->base, SIGINT, on_signal, d);
	sig[2] = evsignal_new(d->base, SIGHUP, on_signal, d);
	if (d->sinkev == NULL || d->tick == NULL || d->soon == NULL ||
	    d->expiry == NULL || d->retry == NULL || sig[0] == NULL ||
	    sig[1] == NULL || sig[2] == NULL ||
	    event_add(d->sinkev, NULL) || event_add(d->tick, &second) ||
	    event_add(d->expiry, &minute) || event_add(sig[0], NULL) ||
	    event_add(sig[1], NULL) || event_add(sig[2], NULL))
		fatalx("cannot set up events");
}

int
main(int argc, char **argv)
{
	static struct proberd	 d;
	const char		*cfgpath;
	struct event		*sig[3];
	char			 vbuf[256];

	log_init("proberd", 0);
	signal(SIGPIPE, SIG_IGN);
	cfgpath = parse_options(&d, argc, argv);
	log_info("starting %s", version_line("proberd", store_lmdb_version(),
	    vbuf, sizeof(vbuf)));
	TAILQ_INIT(&d.actives);
	TAILQ_INIT(&d.pending);
	TAILQ_INIT(&d.sinkconns);
	TAILQ_INIT(&d.recents);
	if ((d.cfg = config_load(cfgpath)) == NULL || load_config(&d) == -1 ||
	    check_user(&d) == -1)
		exit(2);
	/* Only the sink's socket is made as root: it may be port 25. */
	if ((d.base = event_base_new()) == NULL || sink_server_open(&d) == -1 ||
	    privs_drop(&d.privs) == -1)
		exit(2);
	if ((d.st = store_open(d.storedir, 0, d.map_size)) != NULL)
		store_set_journal_size(d.st, d.journal_size);
	if (d.st == NULL ||
	    (d.rd = store_reader_new(d.st)) == NULL ||
	    load_secret(&d, d.secret) == -1 || setup_probes(&d) == -1)
		exit(2);
	setup_events(&d, sig);
	log_info("ready: store %s, sink %s for %s, probing port %lld, "
	    "starttls %s", d.storedir, d.sink_listen, d.domain,
	    (long long)d.port, smtp_starttls_name(d.starttls));
	scheduler_clear_stale(&d);
	scheduler_expire(-1, 0, &d);
	event_base_dispatch(d.base);
	log_info("stopping; %d probes in flight stay queued", d.nactive);
	d.stopping = 1;
	scheduler_abandon_all(&d);
	outcome_drop_pending(&d);
	event_free(d.retry);
	event_free(d.sinkev);
	event_free(d.tick);
	event_free(d.soon);
	event_free(d.expiry);
	for (int i = 0; i < 3; i++)
		event_free(sig[i]);
	close(d.sinkfd);
	event_base_free(d.base);
	if (d.probeconf.tls != NULL)
		probe_tls_free(d.probeconf.tls);
	store_reader_free(d.rd);
	store_close(d.st);
	config_free(d.cfg);
	return 0;
}
