/*
 * proberd.c -- the relaybl prober: queue, probes, sink, retests, expiry
 *
 * proberd [-c FILE] [-d DIR] [-u USER] [-v]
 *
 * One event loop.  Every second the scheduler takes due work from the
 * store's probe queue (submissions, retests, removal requests), within the
 * global and per-network concurrency limits and the manners of
 * probe_policy.c, and starts a probe (probe.c).  A probe whose server
 * accepted a test message waits up to confirm_window for the cookie to
 * arrive at the sink (sink.c, in this process).  The outcome -- listed
 * (the cookie came back), clean (every form refused), suspect (accepted,
 * never delivered), inconclusive (tempfail, timeout, garbage) -- goes to
 * the store in one transaction with its evidence and audit entry; a
 * listed address is retested every retest_interval and expires when not
 * reconfirmed within listing_ttl.
 *
 * What a delivery means.  A cookie names its address and its probe (the
 * probe's start time).  It lists only while that probe waits for it:
 * running, or ended -- whatever its outcome, as relays queue -- less than
 * confirm_window ago.  Ended probes are remembered in memory (struct
 * recent) for confirm_window, with whether one of their cookies listed
 * already and which attempts were delivered, so each probe confirms once:
 * another copy from the same relay is noted, while a replay (an attempt
 * delivered before) or a cookie no probe waits for (an older probe, or
 * one from before a restart: the memory is not kept, which errs toward
 * listing nothing) lists nothing and is audited under the address its
 * cookie names.  The delivering address, when not the probed one, is
 * listed as multi-hop egress only within egress_scope of the probed
 * address (/24 and /48 by default: plausibly the relay's own outbound
 * path), not excluded and not special-use; else the evidence says why it
 * was not (a cookie mailed on through some big provider's smarthost).
 *
 * The sink holds at most sink_max_connections, sink_max_per_address from
 * one address; when full, the least recently active connection without
 * a valid recipient makes room, so idle connections cannot keep a
 * relay's delivery out; at most sink_accept_rate connections are taken a
 * second, so clients that reconnect as fast as they are closed cost
 * little.  Each stage has a deadline that a trickle does not extend (the
 * first command, each command, the whole of DATA); out of descriptors,
 * the listener rests a second instead of spinning.
 *
 * When the store refuses a write (full, or failing), every transaction is
 * aborted at once -- none outlives its function, so other writers and
 * SIGTERM never wait for us -- and an outcome that could not be written
 * waits in memory, in order, retried after a backoff (1 s doubling to
 * 5 min).  Meanwhile no new probe starts and the waiting address is not
 * probed again; on SIGTERM what still waits is logged as lost.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "addr.h"
#include "config.h"
#include "log.h"
#include "probe.h"
#include "probe_policy.h"
#include "sink.h"
#include "store.h"

enum outcome { O_LISTED, O_CLEAN, O_SUSPECT, O_INCONCLUSIVE };
static const char *outcome_names[] = { "listed", "clean", "suspect",
    "inconclusive" };

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

/*
 * A probe that ended, remembered for confirm_window: its cookies may still
 * arrive (relays queue), once.
 */
struct recent {
	struct store_probe	 q;
	struct probe_summary	 sum;
	uint32_t		 born;
	int64_t			 ended;
	int			 confirmed;	/* a cookie of it listed */
	uint64_t		 delivered;	/* attempts seen, as bits */
	TAILQ_ENTRY(recent)	 entry;
};
TAILQ_HEAD(recents, recent);

struct result;
TAILQ_HEAD(results, result);

struct sinkconn {
	struct proberd		*d;
	struct bufferevent	*bev;
	struct event		*timer;		/* the stage's deadline */
	struct addr		 peer;
	struct sink_session	*s;
	TAILQ_ENTRY(sinkconn)	 entry;		/* least recently active first */
};
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
	uid_t			 uid;
	gid_t			 gid;
	char			 secret[4200];	/* secret_file */
	const char		*domain;
	const char		*info_url;
	char			 sink_listen[128];
	int64_t			 port, concurrency, per_net;
	int64_t			 t_connect, t_greeting, t_command;
	int64_t			 confirm_window, retest_interval, listing_ttl;
	int64_t			 max_attempts;
	uint64_t		 map_size;
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

static void	finish(struct active *, int, const struct proof *);
static void	kick(struct proberd *);

static void
usage(void)
{
	fprintf(stderr, "usage: proberd [-c FILE] [-d DIR] [-u USER] [-v]\n");
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
	    "sink_timeout_command", "sink_timeout_data", NULL };
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
	    &d->map_size) == -1 ||
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
	    &d->max_attempts) == -1)
		return -1;
	if (load_sink_config(d) == -1)
		return -1;
	d->sinkconf.domain = d->domain;
	d->sinkconf.key = d->key;
	d->sinkconf.keylen = sizeof(d->key);
	/* A cookie is good while a probe or its confirmation may last. */
	d->sinkconf.max_age = d->confirm_window + 3 * (d->t_connect +
	    d->t_greeting + 30 * d->t_command) + 3600;
	if ((secret = config_str(c, "prober", "secret_file", NULL)) != NULL)
		snprintf(d->secret, sizeof(d->secret), "%s", secret);
	else
		snprintf(d->secret, sizeof(d->secret), "%s/prober.secret",
		    d->storedir);
	return 0;
}

/*
 * Whether proberd can become the user it is told to (-u, [prober] user):
 * only root can, and anyone else asking is an error, not ignored.  Root
 * told nothing is warned.  0 or -1 (logged).
 */
static int
check_user(struct proberd *d)
{
	struct passwd *pw;

	if (d->user == NULL) {
		if (geteuid() == 0)
			log_warnx("running as root: give -u USER or [prober] "
			    "user to drop root once the sink is bound");
		return 0;
	}
	if (geteuid() != 0) {
		log_warnx("cannot become user %s (-u, [prober] user): not "
		    "started as root (uid %u); start proberd as root, or "
		    "name no user", d->user, (unsigned)geteuid());
		return -1;
	}
	if ((pw = getpwnam(d->user)) == NULL) {
		log_warnx("cannot become user %s: no such user", d->user);
		return -1;
	}
	d->uid = pw->pw_uid;
	d->gid = pw->pw_gid;
	return 0;
}

/* Becomes d->user, once the sink is bound.  0 or -1 (logged). */
static int
drop_privileges(struct proberd *d)
{
	if (d->user == NULL)
		return 0;
	if (setgroups(1, &d->gid) == -1 || setgid(d->gid) == -1 ||
	    setuid(d->uid) == -1) {
		log_warn("cannot become %s", d->user);
		return -1;
	}
	if (setuid(0) != -1) {
		log_warnx("could become root again after becoming %s",
		    d->user);
		return -1;
	}
	return 0;
}

/* --- Recording outcomes ------------------------------------------------ */

/*
 * An outcome as it is to be written: the evidence already rendered (the
 * probe is gone by the time a retry writes it) and the audit text made,
 * so that it can wait in memory while the store refuses writes.
 */
struct result {
	struct addr		 addr;
	struct store_probe	 q;		/* its queue entry, if has_q */
	int			 has_q;
	int			 outcome;
	struct addr		 peer;		/* who delivered, if has_peer */
	int			 has_peer;
	int			 egress;	/* 1: list peer as egress */
	int64_t			 now;		/* when the outcome was known */
	char			*blob;		/* the evidence, or NULL */
	size_t			 blen;
	char			 text[STORE_TEXT_MAX];	/* of the audit entry */
	TAILQ_ENTRY(result)	 entry;
};

static int
list_addr(struct store_txn *t, const struct addr *a, int kind, uint32_t code,
    uint64_t evidence, int64_t now, int64_t ttl, const char *text)
{
	struct store_listing	l, old;
	int			rc;

	memset(&l, 0, sizeof(l));
	l.code = code;
	l.kind = kind;
	l.last_confirmed = now;
	l.expires = now + ttl;
	l.evidence = evidence;
	snprintf(l.source, sizeof(l.source), "proberd");
	snprintf(l.text, sizeof(l.text), "%s", text);
	if ((rc = store_txn_get(t, a, &old)) == -1)
		return -1;
	if (rc == 1)
		l.first_listed = old.first_listed;
	return store_list(t, a, &l);
}

/* The evidence of an outcome: what happened, the transcript, the proof. */
static void
render_evidence(struct result *r, const struct probe_summary *sum,
    const struct probe *pr, const struct proof *pf)
{
	FILE	*fp;
	char	 abuf[ADDR_STRLEN], pbuf[ADDR_STRLEN];
	int	 reason = r->has_q ? r->q.reason : STORE_PROBE_SUBMIT;

	if ((fp = open_memstream(&r->blob, &r->blen)) == NULL)
		return;
	fprintf(fp, "relay test of %s (%s): %s\n", addr_format(&r->addr, abuf),
	    store_reason_name(reason), outcome_names[r->outcome]);
	if (pf)
		fprintf(fp, "form that relayed: %s\n",
		    battery_form_name(pf->form));
	else if (sum && sum->accepted_form >= 0)
		fprintf(fp, "form that was accepted: %s\n",
		    battery_form_name(sum->accepted_form));
	if (r->has_peer)
		fprintf(fp, "delivered to the sink by %s\n",
		    addr_format(&r->peer, pbuf));
	if (pf && pf->not_egress)
		fprintf(fp, "delivered via %s, %s, not listed\n",
		    addr_format(&r->peer, pbuf), pf->not_egress);
	if (pr) {
		fprintf(fp, "\n== SMTP transcript\n");
		probe_write_transcript(pr, fp);
	}
	if (pf)
		fprintf(fp, "\n== message as received\n%.*s",
		    (int)pf->len, pf->message);
	if (fclose(fp) != 0) {
		free(r->blob);
		r->blob = NULL;
	}
}

/*
 * Makes the result of an outcome.  q may be NULL for a delivery that no
 * running probe waited for.  NULL when out of memory (logged).
 */
static struct result *
result_new(const struct store_probe *q, const struct addr *a, int outcome,
    const struct probe_summary *sum, const struct probe *pr,
    const struct proof *pf)
{
	struct result	*r;
	char		 pbuf[ADDR_STRLEN], why[128 + ADDR_STRLEN];
	int		 reason = q ? q->reason : STORE_PROBE_SUBMIT;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_warn("result");
		return NULL;
	}
	r->addr = *a;
	if (q) {
		r->q = *q;
		r->has_q = 1;
	}
	r->outcome = outcome;
	if (pf && pf->peer) {
		r->peer = *pf->peer;
		r->has_peer = 1;
		r->egress = pf->egress;
	}
	r->now = time(NULL);
	render_evidence(r, sum, pr, pf);
	/* Why: the form that relayed, or how an inconclusive probe ended. */
	why[0] = '\0';
	if (pf)
		snprintf(why, sizeof(why), "form %s delivered by %s%s%s%s; ",
		    battery_form_name(pf->form), addr_format(&r->peer, pbuf),
		    pf->not_egress ? " (" : "",
		    pf->not_egress ? pf->not_egress : "",
		    pf->not_egress ? ", not listed)" : "");
	else if (outcome == O_INCONCLUSIVE && sum && sum->last_end !=
	    SMTP_END_OK)
		snprintf(why, sizeof(why), "%s; ", smtp_end_name(sum->last_end));
	snprintf(r->text, sizeof(r->text), "%s: %s (%saccepted %d, refused "
	    "%d, tempfail %d)", store_reason_name(reason),
	    outcome_names[outcome], why, sum ? sum->accepted : 0,
	    sum ? sum->refused : 0, sum ? sum->tempfail : 0);
	return r;
}

static void
result_free(struct result *r)
{
	if (r == NULL)
		return;
	free(r->blob);
	free(r);
}

/* The queue after an outcome: retest, retry with backoff, or done. */
static int
requeue(struct proberd *d, struct store_txn *t, const struct result *r)
{
	struct store_probe	next;

	switch (r->outcome) {
	case O_LISTED:
		memset(&next, 0, sizeof(next));
		next.addr = r->addr;
		next.reason = STORE_PROBE_RETEST;
		next.due = r->now + d->retest_interval;
		return store_queue_put(t, &next);
	case O_INCONCLUSIVE:
		if (r->has_q && r->q.attempts + 1 < d->max_attempts) {
			next = r->q;
			next.running = 0;
			next.attempts++;
			next.due = r->now + 300 * (1LL << next.attempts);
			return store_queue_put(t, &next);
		}
		break;
	default:
		break;
	}
	return store_queue_del(t, &r->addr) == -1 ? -1 : 0;
}

/*
 * Writes a result in one transaction: evidence, listing changes, the
 * queue, the audit.  Any failure aborts the transaction (so no write lock
 * outlives this call).  Returns 0, or -1 with the store unchanged.
 */
static int
result_write(struct proberd *d, const struct result *r)
{
	const struct addr	*a = &r->addr;
	struct store_txn	*t;
	uint64_t		 ev = 0;
	int			 reason = r->has_q ? r->q.reason :
				    STORE_PROBE_SUBMIT;

	if ((t = store_begin(d->st, "proberd")) == NULL)
		return -1;
	store_txn_settime(t, r->now);
	if (r->blob && store_evidence_put(t, r->blob, r->blen, &ev) == -1)
		goto err;
	if (r->outcome == O_LISTED) {
		if (list_addr(t, a, STORE_KIND_RELAY, 0x7f000002u, ev, r->now,
		    d->listing_ttl, "") == -1)
			goto err;
		/* Multi-hop egress: only where judge_egress() says so. */
		if (r->egress && list_addr(t, &r->peer, STORE_KIND_EGRESS,
		    0x7f000003u, ev, r->now, d->listing_ttl, "") == -1)
			goto err;
	}
	if (r->outcome == O_CLEAN && reason != STORE_PROBE_SUBMIT &&
	    store_unlist(t, a, "clean retest: every form refused") == -1)
		goto err;
	/* The reason as data: the removal-retest limit reads it (queue.c). */
	if (requeue(d, t, r) == -1 || store_audit_probe(t, STORE_AUDIT_PROBE,
	    a, reason, r->outcome == O_LISTED ? 0x7f000002u : 0,
	    r->text) == -1)
		goto err;
	/* store_commit ends the txn whatever it returns. */
	return store_commit(t);
err:
	store_abort(t);
	return -1;
}

static struct result *
find_pending(struct proberd *d, const struct addr *a)
{
	struct result *r;

	TAILQ_FOREACH(r, &d->pending, entry)
		if (r->addr.family == a->family &&
		    memcmp(r->addr.bytes, a->bytes, addr_len(a)) == 0)
			return r;
	return NULL;
}

static const char *
store_trouble_name(struct proberd *d)
{
	return store_error(d->st) == STORE_EFULL ? "the store is full" :
	    "the store failed";
}

/*
 * A write failed: no new work starts (its outcome could not be written
 * either) until a retry after a backoff, 1 s doubling to 5 min, finds the
 * store writable again.
 */
static void
store_trouble(struct proberd *d)
{
	struct timeval tv;

	d->backoff = d->backoff ? d->backoff * 2 : 1;
	if (d->backoff > 300)
		d->backoff = 300;
	d->store_failing = 1;
	tv.tv_sec = d->backoff;
	tv.tv_usec = 0;
	if (!d->stopping && !evtimer_pending(d->retry, NULL))
		evtimer_add(d->retry, &tv);
}

/* A write succeeded: the next trouble starts at the shortest backoff. */
static void
store_fine(struct proberd *d)
{
	if (TAILQ_EMPTY(&d->pending))
		d->backoff = 0;
}

/*
 * Writes waiting results in the order they came, up to the first that
 * fails.  Returns 0 when none is left.
 */
static int
write_pending(struct proberd *d)
{
	struct result	*r;
	char		 abuf[ADDR_STRLEN];

	while ((r = TAILQ_FIRST(&d->pending)) != NULL) {
		if (result_write(d, r) == -1)
			return -1;
		TAILQ_REMOVE(&d->pending, r, entry);
		d->npending--;
		log_info("%s: %s (written late)", addr_format(&r->addr, abuf),
		    r->text);
		result_free(r);
	}
	return 0;
}

/* The backoff ended: write what waits, and let the scheduler go on. */
static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct proberd *d = arg;

	(void)fd;
	(void)what;
	if (write_pending(d) == -1) {
		store_trouble(d);
		log_warnx("%d outcomes wait in memory: %s; next try in %d s",
		    d->npending, store_trouble_name(d), d->backoff);
		return;
	}
	d->store_failing = 0;
	store_fine(d);
	kick(d);
}

/*
 * Records an outcome.  q may be NULL for a delivery that no running probe
 * waited for.  When the store refuses the write the result waits in memory
 * (and its address is not probed again) until a retry writes it.
 */
static void
record(struct proberd *d, const struct store_probe *q, const struct addr *a,
    int outcome, const struct probe_summary *sum, const struct probe *pr,
    const struct proof *pf)
{
	struct result	*r, *old;
	char		 abuf[ADDR_STRLEN];

	addr_format(a, abuf);
	/* A later copy of a relayed cookie proves nothing new. */
	if (q == NULL && (old = find_pending(d, a)) != NULL &&
	    old->outcome == O_LISTED)
		return;
	if ((r = result_new(q, a, outcome, sum, pr, pf)) == NULL) {
		log_warnx("%s: outcome lost (out of memory)", abuf);
		return;
	}
	/* Results are written in order: a new one waits behind the others. */
	if (TAILQ_EMPTY(&d->pending) && result_write(d, r) == 0) {
		log_info("%s: %s", abuf, r->text);
		store_fine(d);
		result_free(r);
		return;
	}
	TAILQ_INSERT_TAIL(&d->pending, r, entry);
	d->npending++;
	if (!d->store_failing)
		store_trouble(d);
	log_warnx("%s: %s: not written (%s); kept in memory, %d waiting",
	    abuf, r->text, store_trouble_name(d), d->npending);
}

/* SIGTERM: a last try for waiting results; what still fails is lost. */
static void
drop_pending(struct proberd *d)
{
	struct result	*r;
	char		 abuf[ADDR_STRLEN];

	if (TAILQ_EMPTY(&d->pending) || write_pending(d) == 0)
		return;
	log_warnx("%d outcomes could not be written (%s) and are lost; their "
	    "addresses stay queued and will be probed again", d->npending,
	    store_trouble_name(d));
	while ((r = TAILQ_FIRST(&d->pending)) != NULL) {
		TAILQ_REMOVE(&d->pending, r, entry);
		d->npending--;
		log_warnx("lost: %s: %s", addr_format(&r->addr, abuf),
		    r->text);
		result_free(r);
	}
}

/* --- Probes ------------------------------------------------------------ */

static struct active *
find_active(struct proberd *d, const struct addr *a)
{
	struct active *ac;

	TAILQ_FOREACH(ac, &d->actives, entry)
		if (ac->q.addr.family == a->family &&
		    memcmp(ac->q.addr.bytes, a->bytes, addr_len(a)) == 0)
			return ac;
	return NULL;
}

static void
active_free(struct active *ac)
{
	kick(ac->d);
	TAILQ_REMOVE(&ac->d->actives, ac, entry);
	ac->d->nactive--;
	probe_free(ac->pr);
	if (ac->timer)
		event_free(ac->timer);
	if (ac->confirm)
		event_free(ac->confirm);
	free(ac);
}

static void	remember(struct active *, int, const struct proof *);

static void
finish(struct active *ac, int outcome, const struct proof *pf)
{
	if (ac->pr != NULL)
		probe_summary(ac->pr, &ac->sum);
	record(ac->d, &ac->q, &ac->q.addr, outcome, &ac->sum,
	    ac->pr, pf);
	remember(ac, outcome, pf);
	active_free(ac);
}

/* The confirmation window passed without the cookie: suspect. */
static void
on_confirm_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg, O_SUSPECT, NULL);
}

/* Runs from the event loop after the probe's last session. */
static void
on_probe_done_later(evutil_socket_t fd, short what, void *arg)
{
	struct active	*ac = arg;
	struct timeval	 tv = { ac->d->confirm_window, 0 };

	(void)fd;
	(void)what;
	probe_summary(ac->pr, &ac->sum);
	if (ac->sum.accepted > 0) {
		ac->confirming = 1;
		if ((ac->confirm = evtimer_new(ac->d->base, on_confirm_timeout,
		    ac)) == NULL) {
			finish(ac, O_SUSPECT, NULL);
			return;
		}
		evtimer_add(ac->confirm, &tv);
		return;
	}
	if (ac->sum.complete && ac->sum.refused == ac->sum.attempts &&
	    ac->sum.attempts == battery_forms())
		finish(ac, O_CLEAN, NULL);
	else
		finish(ac, O_INCONCLUSIVE, NULL);
}

static void
on_probe_done(struct probe *pr, void *arg)
{
	struct active	*ac = arg;
	struct timeval	 tv = { 0, 0 };

	(void)pr;
	/* Possibly called from inside probe_start: defer to the loop. */
	evtimer_add(ac->timer, &tv);
}

static int
same_net(const struct addr *a, const struct addr *b)
{
	struct addr x = *a, y = *b;

	if (a->family != b->family)
		return 0;
	x.plen = y.plen = a->family == ADDR_V4 ? 24 : 64;
	addr_mask(&x);
	addr_mask(&y);
	return memcmp(x.bytes, y.bytes, sizeof(x.bytes)) == 0;
}

/* Whether a's network is at per_net_concurrency with extra more probes. */
static int
net_busy_plus(struct proberd *d, const struct addr *a, int extra)
{
	struct active	*ac;
	int		 n = extra;

	TAILQ_FOREACH(ac, &d->actives, entry)
		if (same_net(&ac->q.addr, a))
			n++;
	return n >= d->per_net;
}

/* Starts a probe of q.  Returns 0, or -1 if it could not start. */
static int
start_probe(struct proberd *d, const struct store_probe *q)
{
	struct active		*ac;
	struct probe_params	 p;
	char			 abuf[ADDR_STRLEN];

	if ((ac = calloc(1, sizeof(*ac))) == NULL)
		return -1;
	ac->d = d;
	ac->q = *q;
	if ((ac->timer = evtimer_new(d->base, on_probe_done_later, ac)) ==
	    NULL) {
		free(ac);
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.addr = q->addr;
	p.port = (uint16_t)d->port;
	p.timeout_connect = d->t_connect;
	p.timeout_greeting = d->t_greeting;
	p.timeout_command = d->t_command;
	snprintf(p.domain, sizeof(p.domain), "%s", d->domain);
	snprintf(p.info_url, sizeof(p.info_url), "%s", d->info_url);
	p.battery.target = q->addr;
	p.battery.now = time(NULL);
	ac->born = (uint32_t)p.battery.now;
	p.battery.key = d->key;
	p.battery.keylen = sizeof(d->key);
	TAILQ_INSERT_TAIL(&d->actives, ac, entry);
	d->nactive++;
	if ((ac->pr = probe_start(d->base, &p, on_probe_done, ac)) == NULL) {
		active_free(ac);
		return -1;
	}
	log_debug("%s: probing (%s, attempt %d)", addr_format(&q->addr,
	    abuf), store_reason_name(q->reason), q->attempts + 1);
	return 0;
}

/*
 * Marks queued work running (or not) in the store, for dnsblctl queue.
 * Returns 0 or -1.
 */
static int
mark_running(struct proberd *d, const struct store_probe *list, int n,
    int running)
{
	struct store_txn	*t;
	struct store_probe	 q;
	int			 rc;

	if (n == 0)
		return 0;
	if ((t = store_begin(d->st, "proberd")) == NULL)
		goto err;
	for (int i = 0; i < n; i++) {
		if ((rc = store_txn_queue_get(t, &list[i].addr, &q)) == -1)
			goto err;
		if (rc == 0 || q.running == running)
			continue;
		q.running = running;
		if (store_queue_put(t, &q) == -1)
			goto err;
	}
	rc = store_commit(t);
	t = NULL;		/* the commit ended it, either way */
	if (rc == 0) {
		store_fine(d);
		return 0;
	}
err:
	store_abort(t);
	log_warnx("could not mark %d probes %s in the queue (%s)", n,
	    running ? "running" : "pending", store_trouble_name(d));
	store_trouble(d);
	return -1;
}

struct due {
	struct proberd		*d;
	int64_t			 now;
	struct store_probe	*list;
	int			 n, max;
};

/*
 * Collects due work that can start now: not already running, its network
 * not at per_net_concurrency (counting what this tick starts too).
 */
static int
collect_due(const struct store_probe *q, void *arg)
{
	struct due	*du = arg;
	int		 net = 0;

	if (q->due > du->now || du->n == du->max)
		return 1;		/* in due order: nothing later is due */
	/* Running, or probed with its outcome waiting to be written. */
	if (find_active(du->d, &q->addr) != NULL ||
	    find_pending(du->d, &q->addr) != NULL)
		return 0;
	for (int i = 0; i < du->n; i++)
		net += same_net(&du->list[i].addr, &q->addr);
	if (net_busy_plus(du->d, &q->addr, net))
		return 0;
	du->list[du->n++] = *q;
	return 0;
}

/* Refuses queued work the policy forbids (the allow list may change). */
static void
refuse(struct proberd *d, const struct store_probe *q, const char *why)
{
	struct store_txn	*t = store_begin(d->st, "proberd");
	char			 buf[ADDR_STRLEN];

	addr_format(&q->addr, buf);
	if (t == NULL || store_queue_del(t, &q->addr) == -1 ||
	    store_audit_add(t, STORE_AUDIT_PROBE, &q->addr, 0, why) == -1) {
		store_abort(t);
		goto err;
	}
	if (store_commit(t) == -1)
		goto err;
	store_fine(d);
	log_warnx("%s: not probed: %s", buf, why);
	return;
err:
	log_warnx("%s: not probed (%s), but could not say so (%s)", buf, why,
	    store_trouble_name(d));
	store_trouble(d);
}

/*
 * The scheduler: every second, and whenever a probe ends, starts as much
 * due work as the concurrency limits allow.
 */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct proberd	*d = arg;
	struct due	 du;
	const char	*why;
	int		 n = 0;

	(void)fd;
	(void)what;
	if (d->stopping || d->store_failing || d->nactive >= d->concurrency)
		return;
	memset(&du, 0, sizeof(du));
	du.d = d;
	du.now = time(NULL);
	du.max = (int)(d->concurrency - d->nactive);
	if ((du.list = calloc((size_t)du.max, sizeof(*du.list))) == NULL)
		return;
	if (store_queue_walk(d->rd, collect_due, &du) == -1)
		du.n = 0;
	for (int i = 0; i < du.n && !d->store_failing; i++) {
		if ((why = probe_refusal(&du.list[i].addr, &d->allow)) !=
		    NULL) {
			refuse(d, &du.list[i], why);
			continue;
		}
		if (start_probe(d, &du.list[i]) == 0)
			du.list[n++] = du.list[i];
	}
	mark_running(d, du.list, n, 1);
	free(du.list);
}

/*
 * Runs the scheduler soon: a probe ended and freed a slot.  Kicks within
 * 50 ms make one run, so a busy prober walks the queue at most 20 times a
 * second.
 */
static void
kick(struct proberd *d)
{
	struct timeval soon = { 0, 50000 };

	if (!d->stopping && d->soon != NULL && !evtimer_pending(d->soon, NULL))
		evtimer_add(d->soon, &soon);
}

/* --- Expiry ------------------------------------------------------------ */

struct expiry {
	struct proberd	*d;
	int64_t		 now;
	struct addr	 list[256];
	int		 n;
	uint32_t	 lastrec;
	int		 lastexpired;
};

static int
collect_expired(const struct addr *a, uint32_t code, uint32_t record,
    void *arg)
{
	struct expiry		*ex = arg;
	struct store_listing	 l;

	(void)code;
	if (record != ex->lastrec) {
		ex->lastrec = record;
		ex->lastexpired = store_record(ex->d->rd, record, &l) == 1 &&
		    (l.kind == STORE_KIND_RELAY ||
		    l.kind == STORE_KIND_EGRESS) && l.expires != 0 &&
		    l.expires <= ex->now;
	}
	if (ex->lastexpired && ex->n < 256)
		ex->list[ex->n++] = *a;
	return 0;
}

static void
on_expiry(evutil_socket_t fd, short what, void *arg)
{
	struct proberd		*d = arg;
	struct expiry		 ex;
	struct store_txn	*t;
	int			 rc;

	(void)fd;
	(void)what;
	memset(&ex, 0, sizeof(ex));
	ex.d = d;
	ex.now = time(NULL);
	if (store_walk(d->rd, 0, collect_expired, &ex) == -1 || ex.n == 0)
		return;
	if ((t = store_begin(d->st, "proberd")) == NULL)
		goto err;
	for (int i = 0; i < ex.n; i++) {
		if ((rc = store_unlist(t, &ex.list[i], "not reconfirmed within "
		    "listing_ttl")) == -1 || (rc == 1 && store_audit_add(t,
		    STORE_AUDIT_EXPIRE, &ex.list[i], 0, "listing expired") ==
		    -1)) {
			store_abort(t);
			goto err;
		}
	}
	if (store_commit(t) == -1)
		goto err;
	store_fine(d);
	log_info("%d listings expired", ex.n);
	return;
err:
	/* They stay listed until the next try, a minute from now. */
	log_warnx("could not expire %d listings (%s)", ex.n,
	    store_trouble_name(d));
	store_trouble(d);
}

/* --- What waits for a delivery ------------------------------------------ */

#define RECENT_MAX		65536	/* ended probes remembered, at most */
#define UNSOLICITED_PER_MINUTE	60	/* audited; more are only counted */

/* The bit of an attempt in struct recent's delivered. */
static uint64_t
attempt_bit(int attempt)
{
	return 1ULL << (attempt >= 0 && attempt < 63 ? attempt : 63);
}

/* Drops ended probes whose confirm_window has passed. */
static void
forget_old(struct proberd *d, int64_t now)
{
	struct recent	*r;

	while ((r = TAILQ_FIRST(&d->recents)) != NULL &&
	    (r->ended + d->confirm_window < now || d->nrecent > RECENT_MAX)) {
		TAILQ_REMOVE(&d->recents, r, entry);
		d->nrecent--;
		free(r);
	}
}

/*
 * Remembers an ending probe for confirm_window, whatever its outcome:
 * a cookie of it that arrives by then still lists (once).  Out of memory,
 * it is forgotten: its late cookies then list nothing, which errs the
 * safe way.
 */
static void
remember(struct active *ac, int outcome, const struct proof *pf)
{
	struct proberd	*d = ac->d;
	struct recent	*r;
	int64_t		 now = time(NULL);

	forget_old(d, now);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return;
	r->q = ac->q;
	r->sum = ac->sum;
	r->born = ac->born;
	r->ended = now;
	r->confirmed = outcome == O_LISTED;
	if (pf != NULL)
		r->delivered = attempt_bit(pf->form);
	TAILQ_INSERT_TAIL(&d->recents, r, entry);
	d->nrecent++;
}

static struct recent *
find_recent(struct proberd *d, const struct cookie *c, int64_t now)
{
	struct recent	*r;

	forget_old(d, now);
	TAILQ_FOREACH(r, &d->recents, entry)
		if (r->born == c->time && r->q.addr.family == c->addr.family &&
		    memcmp(r->q.addr.bytes, c->addr.bytes,
		    addr_len(&c->addr)) == 0)
			return r;
	return NULL;
}

/* The running probe whose cookie c is (same address, same start). */
static struct active *
find_waiting(struct proberd *d, const struct cookie *c)
{
	struct active	*ac = find_active(d, &c->addr);

	return ac != NULL && ac->born == c->time ? ac : NULL;
}

/*
 * Whether the peer that delivered a cookie of probed is its multi-hop
 * egress, to be listed: plausibly the relay's own outbound path (within
 * egress_scope of it), not excluded, not special-use.  A smarthost
 * elsewhere that a cookie was mailed through is not.
 */
static void
judge_egress(struct proberd *d, const struct addr *probed, struct proof *pf)
{
	struct addr		x = *probed, y = *pf->peer;
	struct store_hit	hit;
	int			r;

	pf->egress = 0;
	pf->not_egress = NULL;
	if (y.family == x.family && memcmp(y.bytes, x.bytes,
	    addr_len(&x)) == 0)
		return;
	x.plen = y.plen = (uint8_t)(x.family == ADDR_V4 ? d->egress_scope :
	    d->egress_scope6);
	addr_mask(&x);
	addr_mask(&y);
	if (y.family != x.family || memcmp(x.bytes, y.bytes,
	    sizeof(x.bytes)) != 0)
		pf->not_egress = "outside egress_scope";
	else if (probe_refusal(pf->peer, &d->allow) != NULL)
		pf->not_egress = "special-use";
	else if ((r = store_lookup(d->rd, pf->peer, &hit)) == -1)
		pf->not_egress = "exclusions unreadable";
	else if (r == 0 && hit.excluded)
		pf->not_egress = "excluded";
	pf->egress = pf->not_egress == NULL;
}

/*
 * A delivery that lists nothing goes to the audit trail of the address
 * its cookie names, at most UNSOLICITED_PER_MINUTE a minute: a flood of
 * replays must not become a flood of commits.
 */
static void
unsolicited(struct proberd *d, const struct cookie *c,
    const struct addr *peer, const char *what)
{
	struct store_txn	*t;
	char			 abuf[ADDR_STRLEN], pbuf[ADDR_STRLEN];
	char			 text[STORE_TEXT_MAX], when[32];
	int64_t			 now = time(NULL);
	time_t			 made = (time_t)c->time;
	struct tm		 tm;

	if (now / 60 != d->unsolicited_minute) {
		if (d->unsolicited_n > UNSOLICITED_PER_MINUTE)
			log_warnx("sink: %d more deliveries listed nothing, "
			    "not audited", d->unsolicited_n -
			    UNSOLICITED_PER_MINUTE);
		d->unsolicited_minute = now / 60;
		d->unsolicited_n = 0;
	}
	if (++d->unsolicited_n > UNSOLICITED_PER_MINUTE)
		return;
	gmtime_r(&made, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(text, sizeof(text), "delivery by %s not listed: %s (cookie "
	    "of attempt %u, made %s)", addr_format(peer, pbuf), what,
	    (unsigned)c->attempt, when);
	if ((t = store_begin(d->st, "proberd")) == NULL)
		return;
	if (store_audit_add(t, STORE_AUDIT_PROBE, &c->addr, 0, text) == -1) {
		store_abort(t);
		return;
	}
	if (store_commit(t) == 0)
		log_info("%s: %s", addr_format(&c->addr, abuf), text);
}

static int
same_cookie(const struct cookie *a, const struct cookie *b)
{
	return a->time == b->time && a->attempt == b->attempt &&
	    a->addr.family == b->addr.family && memcmp(a->addr.bytes,
	    b->addr.bytes, addr_len(&a->addr)) == 0;
}

/*
 * A message arrived at the sink.  Each cookie lists its address only
 * while its probe waits for it (running, or ended within confirm_window)
 * and only once; a later copy from the same relay is noted, a replay or
 * a cookie no probe waits for is audited, and neither lists anything.
 */
static void
sink_delivered(struct proberd *d, const struct sinkconn *sc,
    const struct sink_delivery *dl)
{
	int64_t	now = time(NULL);

	for (int i = 0, j; i < dl->ncookies; i++) {
		const struct cookie *c = &dl->cookies[i];
		struct proof pf = { dl->message, dl->len, &sc->peer,
		    c->attempt, 0, NULL };
		struct active *ac;
		struct recent *r;
		char abuf[ADDR_STRLEN];

		for (j = 0; j < i && !same_cookie(&dl->cookies[j], c); j++)
			;
		if (j < i)
			continue;	/* the same recipient twice */
		if ((ac = find_waiting(d, c)) != NULL) {
			judge_egress(d, &ac->q.addr, &pf);
			finish(ac, O_LISTED, &pf);
		} else if ((r = find_recent(d, c, now)) != NULL &&
		    !r->confirmed) {
			judge_egress(d, &r->q.addr, &pf);
			record(d, &r->q, &r->q.addr, O_LISTED, &r->sum, NULL,
			    &pf);
			r->confirmed = 1;
			r->delivered |= attempt_bit(c->attempt);
		} else if (r != NULL && !(r->delivered &
		    attempt_bit(c->attempt))) {
			r->delivered |= attempt_bit(c->attempt);
			log_debug("%s: another copy (attempt %u), already "
			    "confirmed", addr_format(&c->addr, abuf),
			    (unsigned)c->attempt);
		} else
			unsolicited(d, c, &sc->peer, r != NULL ?
			    "replay of a cookie that already confirmed" :
			    "no probe waits for this cookie");
	}
}

/* --- The sink ---------------------------------------------------------- */

static void
sink_close(struct sinkconn *sc)
{
	struct proberd	*d = sc->d;

	TAILQ_REMOVE(&d->sinkconns, sc, entry);
	d->nsink--;
	event_free(sc->timer);
	bufferevent_free(sc->bev);
	sink_session_free(sc->s);
	free(sc);
}

/* Says a last line if the socket takes it at once, and closes. */
static void
sink_drop(struct sinkconn *sc, const char *line)
{
	(void)send(bufferevent_getfd(sc->bev), line, strlen(line),
	    MSG_DONTWAIT | MSG_NOSIGNAL);
	sink_close(sc);
}

static void
sink_arm(struct sinkconn *sc, int64_t seconds)
{
	struct timeval	tv = { seconds, 0 };

	evtimer_add(sc->timer, &tv);
}

/* A stage took too long: the greeting, a command, or the whole DATA. */
static void
on_sink_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sink_drop(arg, "421 4.4.2 timeout, closing\r\n");
}

static void
sink_read(struct bufferevent *bev, void *arg)
{
	struct sinkconn		*sc = arg;
	struct proberd		*d = sc->d;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct sink_action	 a;
	char			*line;
	size_t			 len;
	int			 was;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
		was = sink_session_state(sc->s);
		sink_session_line(sc->s, line, len, time(NULL), &a);
		free(line);
		if (a.reply)
			bufferevent_write(bev, a.reply, a.len);
		if (a.delivered)
			sink_delivered(d, sc, &a.delivery);
		if (a.close) {
			bufferevent_disable(bev, EV_READ);
			bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
			return;
		}
		/* Each command has its time; DATA has one for all of it. */
		if (sink_session_state(sc->s) == SINK_CMD)
			sink_arm(sc, d->t_sink_command);
		else if (was != SINK_DATA)
			sink_arm(sc, d->t_sink_data);
		/* The most recently active are the last to go. */
		TAILQ_REMOVE(&d->sinkconns, sc, entry);
		TAILQ_INSERT_TAIL(&d->sinkconns, sc, entry);
	}
	if (evbuffer_get_length(in) > SINK_LINE_MAX * 2)
		sink_close(sc);
}

static void
sink_written(struct bufferevent *bev, void *arg)
{
	struct sinkconn *sc = arg;

	if (sink_session_state(sc->s) == SINK_CLOSED &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		sink_close(sc);
}

static void
sink_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	sink_close(arg);
}

/*
 * The listener rests: a second when out of descriptors, not spinning;
 * to the end of the second after sink_accept_rate connections in it.
 * Meanwhile new connections wait in the kernel's queue (and beyond it
 * their SYNs are retried), which costs the loop nothing.
 */
static void
on_sink_resume(evutil_socket_t fd, short what, void *arg)
{
	struct proberd	*d = arg;

	(void)fd;
	(void)what;
	event_add(d->sinkev, NULL);
}

static void
sink_rest(struct proberd *d, const struct timeval *tv)
{
	if (d->sinkpause == NULL && (d->sinkpause = evtimer_new(d->base,
	    on_sink_resume, d)) == NULL)
		return;
	event_del(d->sinkev);
	evtimer_add(d->sinkpause, tv);
}

static void
sink_pause(struct proberd *d)
{
	struct timeval	second = { 1, 0 };

	log_warn("sink: accept (not accepting for a second)");
	sink_rest(d, &second);
}

/* Counts an accepted connection against sink_accept_rate. */
static void
sink_count_accept(struct proberd *d)
{
	struct timeval	now, rest = { 0, 0 };

	gettimeofday(&now, NULL);
	if (now.tv_sec != d->accept_second) {
		d->accept_second = now.tv_sec;
		d->accepts = 0;
	}
	if (++d->accepts < d->sink_rate)
		return;
	rest.tv_usec = 1000000 - now.tv_usec;
	sink_rest(d, &rest);
}

/* Refuses a connection without keeping it. */
static void
sink_refuse(int fd, const char *line)
{
	(void)send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

/* An IPv4-mapped IPv6 peer (a dual-stack socket) is its IPv4 address. */
static void
sink_peer(const struct sockaddr_storage *ss, struct addr *a)
{
	const struct in6_addr	*in6;

	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		a->family = ADDR_V4;
		a->plen = 32;
		memcpy(a->bytes, &((const struct sockaddr_in *)ss)->sin_addr,
		    4);
		return;
	}
	in6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(in6)) {
		a->family = ADDR_V4;
		a->plen = 32;
		memcpy(a->bytes, in6->s6_addr + 12, 4);
	} else {
		a->family = ADDR_V6;
		a->plen = 128;
		memcpy(a->bytes, in6->s6_addr, 16);
	}
}

/* Whether peer holds sink_max_per_address connections already. */
static int
sink_peer_full(struct proberd *d, const struct addr *peer)
{
	struct sinkconn	*sc;
	int64_t		 n = 0;

	TAILQ_FOREACH(sc, &d->sinkconns, entry)
		if (sc->peer.family == peer->family && memcmp(sc->peer.bytes,
		    peer->bytes, addr_len(peer)) == 0 && ++n >=
		    d->sink_per_addr)
			return 1;
	return 0;
}

/*
 * At sink_max_connections, the least recently active connection that
 * proves nothing yet (no valid recipient, not in DATA) makes room: idle
 * connections cannot keep a relay's delivery out.  Returns 1 if one
 * went, 0 if every one is busy.
 */
static int
sink_evict(struct proberd *d)
{
	struct sinkconn	*sc;

	TAILQ_FOREACH(sc, &d->sinkconns, entry)
		if (!sink_session_busy(sc->s)) {
			sink_drop(sc, "421 4.7.0 too many connections, "
			    "closing\r\n");
			return 1;
		}
	return 0;
}

static struct sinkconn *
sink_conn_new(struct proberd *d, int fd, const struct addr *peer)
{
	struct sinkconn		*sc;
	struct sink_action	 a;
	struct timeval		 wtv = { d->t_sink_command, 0 };

	if ((sc = calloc(1, sizeof(*sc))) == NULL) {
		close(fd);
		return NULL;
	}
	if ((sc->bev = bufferevent_socket_new(d->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		free(sc);
		return NULL;
	}
	if ((sc->timer = evtimer_new(d->base, on_sink_timeout, sc)) == NULL ||
	    (sc->s = sink_session_new(&d->sinkconf, time(NULL), &a)) ==
	    NULL) {
		if (sc->timer)
			event_free(sc->timer);
		bufferevent_free(sc->bev);
		free(sc);
		return NULL;
	}
	sc->d = d;
	sc->peer = *peer;
	TAILQ_INSERT_TAIL(&d->sinkconns, sc, entry);
	d->nsink++;
	bufferevent_setcb(sc->bev, sink_read, sink_written, sink_event, sc);
	/* Reads are timed per stage by sc->timer; a trickle does not count. */
	bufferevent_set_timeouts(sc->bev, NULL, &wtv);
	bufferevent_enable(sc->bev, EV_READ);
	bufferevent_write(sc->bev, a.reply, a.len);
	sink_arm(sc, d->t_sink_greeting);
	return sc;
}

static void
sink_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct proberd		*d = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct addr		 peer;
	int			 fd;

	(void)what;
	if ((fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			sink_pause(d);
		return;
	}
	sink_count_accept(d);
	sink_peer(&ss, &peer);
	if (sink_peer_full(d, &peer)) {
		sink_refuse(fd, "421 4.7.0 too many connections from your "
		    "address\r\n");
		return;
	}
	if (d->nsink >= d->sink_max && !sink_evict(d)) {
		sink_refuse(fd, "421 4.7.0 too many connections, try later\r\n");
		return;
	}
	sink_conn_new(d, fd, &peer);
}

static int
open_sink(struct proberd *d)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	char			 host[128], *colon;
	socklen_t		 len;
	int			 one = 1;

	TAILQ_INIT(&d->sinkconns);
	TAILQ_INIT(&d->recents);
	snprintf(host, sizeof(host), "%s", d->sink_listen);
	if ((colon = strrchr(host, ':')) == NULL)
		goto bad;
	*colon = '\0';
	memset(&ss, 0, sizeof(ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1)
			goto bad;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)atoi(colon + 1));
		len = sizeof(*sin6);
	} else {
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto bad;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(colon + 1));
		len = sizeof(*sin);
	}
	if ((d->sinkfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 || setsockopt(d->sinkfd, SOL_SOCKET,
	    SO_REUSEADDR, &one, sizeof(one)) == -1 || bind(d->sinkfd,
	    (struct sockaddr *)&ss, len) == -1 || listen(d->sinkfd, 128) == -1) {
		log_warn("sink_listen %s", d->sink_listen);
		return -1;
	}
	return 0;
bad:
	log_warnx("[prober] sink_listen: bad address \"%s\" (want "
	    "ADDR:PORT)", d->sink_listen);
	return -1;
}

/* --- Main -------------------------------------------------------------- */

static int
collect_running(const struct store_probe *q, void *arg)
{
	struct due *du = arg;

	if (q->running && du->n < du->max)
		du->list[du->n++] = *q;
	return 0;
}

/*
 * Work marked running by a proberd that did not stop cleanly is pending
 * again: nothing runs before this one starts.
 */
static void
clear_stale_running(struct proberd *d)
{
	struct due	du;

	memset(&du, 0, sizeof(du));
	du.max = 4096;
	if ((du.list = calloc((size_t)du.max, sizeof(*du.list))) == NULL)
		return;
	/* Batches of max; a batch that cannot be written ends it. */
	do {
		du.n = 0;
		if (store_queue_walk(d->rd, collect_running, &du) == -1 ||
		    mark_running(d, du.list, du.n, 0) == -1)
			break;
	} while (du.n == du.max);
	free(du.list);
}

/* SIGTERM: probes in flight are abandoned and stay queued, pending. */
static void
abandon_all(struct proberd *d)
{
	struct store_probe	*list;
	struct active		*ac;
	int			 n = 0;

	if ((list = calloc((size_t)d->nactive + 1, sizeof(*list))) != NULL) {
		TAILQ_FOREACH(ac, &d->actives, entry)
			list[n++] = ac->q;
		mark_running(d, list, n, 0);
		free(list);
	}
	while (!TAILQ_EMPTY(&d->actives))
		active_free(TAILQ_FIRST(&d->actives));
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct proberd *d = arg;

	(void)sig;
	(void)what;
	/* Probes in flight stay queued: their entries are still there. */
	event_base_loopbreak(d->base);
}

int
main(int argc, char **argv)
{
	static struct proberd	 d;
	const char		*cfgpath = NULL;
	struct event		*sigterm, *sigint;
	struct timeval		 second = { 1, 0 }, minute = { 60, 0 };
	int			 ch;

	log_init("proberd", 0);
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "c:d:u:v")) != -1) {
		switch (ch) {
		case 'c':
			cfgpath = optarg;
			break;
		case 'd':
			d.storedir = optarg;
			break;
		case 'u':
			d.user = optarg;
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
	TAILQ_INIT(&d.actives);
	TAILQ_INIT(&d.pending);
	if ((d.cfg = config_load(cfgpath)) == NULL || load_config(&d) == -1 ||
	    check_user(&d) == -1)
		exit(2);
	/* Only the sink's socket is made as root: it may be port 25. */
	if ((d.base = event_base_new()) == NULL || open_sink(&d) == -1 ||
	    drop_privileges(&d) == -1)
		exit(2);
	if ((d.st = store_open(d.storedir, 0, d.map_size)) == NULL ||
	    (d.rd = store_reader_new(d.st)) == NULL ||
	    load_secret(&d, d.secret) == -1)
		exit(2);
	d.sinkev = event_new(d.base, d.sinkfd, EV_READ | EV_PERSIST,
	    sink_accept, &d);
	d.tick = event_new(d.base, -1, EV_PERSIST, on_tick, &d);
	d.soon = evtimer_new(d.base, on_tick, &d);
	d.expiry = event_new(d.base, -1, EV_PERSIST, on_expiry, &d);
	d.retry = evtimer_new(d.base, on_retry, &d);
	sigterm = evsignal_new(d.base, SIGTERM, on_signal, &d);
	sigint = evsignal_new(d.base, SIGINT, on_signal, &d);
	if (d.sinkev == NULL || d.tick == NULL || d.soon == NULL ||
	    d.expiry == NULL || d.retry == NULL ||
	    sigterm == NULL || sigint == NULL || event_add(d.sinkev, NULL) ||
	    event_add(d.tick, &second) || event_add(d.expiry, &minute) ||
	    event_add(sigterm, NULL) || event_add(sigint, NULL))
		fatalx("cannot set up events");
	log_info("ready: store %s, sink %s for %s, probing port %lld",
	    d.storedir, d.sink_listen, d.domain, (long long)d.port);
	clear_stale_running(&d);
	on_expiry(-1, 0, &d);
	event_base_dispatch(d.base);
	log_info("stopping; %d probes in flight stay queued", d.nactive);
	d.stopping = 1;
	abandon_all(&d);
	drop_pending(&d);
	event_free(d.retry);
	event_free(d.sinkev);
	event_free(d.tick);
	event_free(d.soon);
	event_free(d.expiry);
	event_free(sigterm);
	event_free(sigint);
	close(d.sinkfd);
	event_base_free(d.base);
	store_reader_free(d.rd);
	store_close(d.st);
	config_free(d.cfg);
	return 0;
}
