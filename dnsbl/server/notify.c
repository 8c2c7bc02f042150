/*
 * notify.c -- NOTIFY (RFC 1996) to the secondaries when the serial moves
 *
 * On the main thread's event loop: ten times a second the store's serial
 * is read (one read of the meta record: a change is announced within
 * 0.1 s, and IXFR makes what follows take milliseconds); when it differs from the last one announced and notify_interval
 * has passed since the last announcement, every target gets a NOTIFY for
 * every zone (opcode NOTIFY, AA, the apex SOA in the question and the new
 * SOA in the answer section, as RFC 1996 3.7 allows).  A NOTIFY not
 * answered (same id, QR, opcode NOTIFY, from the target) is sent again
 * every NOTIFY_RETRY seconds, NOTIFY_TRIES times in all (RFC 1996 3.6),
 * or until a newer serial replaces it.  Answers come back on the one UDP
 * socket per family the notifier sends from.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "server.h"
#include "xfr.h"

#define NOTIFY_RETRY	2	/* seconds between tries */
#define NOTIFY_POLL_US	100000	/* between reads of the serial */
#define NOTIFY_TRIES	10
#define DONE		(NOTIFY_TRIES + 1)	/* answered, or given up */

struct pending {
	int		 target;
	int		 zone;		/* index in the zone set it was for */
	uint16_t	 id;
	int		 tries;
	int64_t		 next;		/* when to send again */
	uint8_t		 msg[512];
	size_t		 len;
	int		 signed_;	/* with the target's key: ts */
	struct tsig_state ts;
};

struct notifier {
	struct dnsbld		*d;
	struct store_reader	*rd;
	struct event		*tick;
	int			 fd4, fd6;
	struct event		*ev4, *ev6;
	uint32_t		 announced;	/* the serial last sent */
	int64_t			 sent_at;
	struct pending		*p;		/* targets x zones */
	int			 np;
	uint64_t		 sent, acked, given_up;
};

int
notify_config(struct dnsbld *d)
{
	char		 buf[2048], *item, *save;
	const char	*list = config_str(d->cfg, "dns", "notify", "");

	d->nnotify = 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (item = strtok_r(buf, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		struct notify_target	*t;
		char			 where[LISTEN_TEXT_MAX], key[256], x[2];
		const char		*why = "too many";
		int			 n = sscanf(item, "%63s %255s %1s", where,
					    key, x);

		if (n <= 0)
			continue;
		t = &d->notify[d->nnotify];
		memset(t, 0, sizeof(*t));
		if (n > 2 || d->nnotify == NOTIFY_MAX ||
		    listen_parse(where, &t->addr, &why) == -1) {
			log_warnx("%s: [dns] notify: \"%s\": %s",
			    config_name(d->cfg), item, n > 2 ?
			    "want \"ADDR:PORT\" or \"ADDR:PORT KEYNAME\"" : why);
			return -1;
		}
		if (n == 2)
			snprintf(t->key, sizeof(t->key), "%s", key);
		d->nnotify++;
	}
	return config_duration(d->cfg, "dns", "notify_interval", 5,
	    &d->notify_interval);
}

static int64_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void
send_one(struct notifier *n, struct pending *p)
{
	const struct listen_addr *a = &n->d->notify[p->target].addr;
	int fd = a->ss.ss_family == AF_INET ? n->fd4 : n->fd6;

	if (fd != -1)
		(void)sendto(fd, p->msg, p->len, 0,
		    (const struct sockaddr *)&a->ss, a->len);
	p->tries++;
	p->next = now_s() + NOTIFY_RETRY;
	n->sent++;
}

/* Signs p with target t's key (RFC 8945); on failure it is not sent. */
static void
sign(struct notifier *n, struct pending *p, int t)
{
	const struct tsig_key	*key = tsig_keys_find(&n->d->tsig,
				    n->d->notify[t].key);
	int			 len;

	len = key == NULL ? -1 : tsig_sign_request(key, p->msg, p->len,
	    sizeof(p->msg), (int64_t)time(NULL), &p->ts);
	if (len < 0) {
		log_warnx("NOTIFY to %s: cannot sign it", n->d->notify[t].addr.text);
		p->len = 0;
		return;
	}
	p->len = (size_t)len;
	p->signed_ = 1;
}

/* A new serial: a NOTIFY per target and zone, replacing older ones. */
static void
announce(struct notifier *n, uint32_t serial)
{
	const struct zoneset	*zs = dnsbld_zones(n->d);
	int			 k = 0;

	free(n->p);
	n->np = 0;
	if ((n->p = calloc((size_t)(n->d->nnotify * zs->n), sizeof(*n->p))) ==
	    NULL)
		return;
	for (int t = 0; t < n->d->nnotify; t++)
		for (int z = 0; z < zs->n; z++, k++) {
			struct pending *p = &n->p[k];
			p->target = t;
			p->zone = z;
			p->id = (uint16_t)arc4random();
			p->len = xfr_notify(zs->zones[z], serial, p->id,
			    p->msg, sizeof(p->msg));
			if (p->len > 0 && n->d->notify[t].key[0])
				sign(n, p, t);
			if (p->len == 0) {
				p->tries = DONE;	/* nothing to send */
				continue;
			}
			send_one(n, p);
		}
	n->np = k;
	n->announced = serial;
	n->sent_at = now_s();
	log_info("serial %u: NOTIFY sent to %d secondaries", serial,
	    n->d->nnotify);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct notifier	*n = arg;
	uint32_t	 serial = store_zone_serial(n->rd);
	int64_t		 now = now_s();

	(void)fd;
	(void)what;
	if (serial != n->announced &&
	    now - n->sent_at >= n->d->notify_interval)
		announce(n, serial);
	for (int i = 0; i < n->np; i++) {
		struct pending *p = &n->p[i];
		if (p->tries == 0 || p->tries > NOTIFY_TRIES || now < p->next)
			continue;
		if (p->tries < NOTIFY_TRIES) {
			send_one(n, p);
			continue;
		}
		p->tries = DONE;
		n->given_up++;
		log_warnx("NOTIFY to %s not answered after %d tries",
		    n->d->notify[p->target].addr.text, NOTIFY_TRIES);
	}
}

/* An answer: the pending NOTIFY with its id, from its target, is done. */
static void
on_answer(evutil_socket_t fd, short what, void *arg)
{
	struct notifier		*n = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	uint8_t			 m[512];
	ssize_t			 len;
	uint16_t		 id;

	(void)what;
	for (;;) {
		sl = sizeof(ss);
		if ((len = recvfrom(fd, m, sizeof(m), 0, (struct sockaddr *)&ss,
		    &sl)) < 0)
			return;
		if (!xfr_notify_answer(m, (size_t)len, &id))
			continue;
		for (int i = 0; i < n->np; i++) {
			struct pending *p = &n->p[i];
			const struct listen_addr *a =
			    &n->d->notify[p->target].addr;
			if (p->tries == 0 || p->tries == DONE ||
			    p->id != id || sl != a->len ||
			    memcmp(&ss, &a->ss, sl) != 0)
				continue;
			/* A signed NOTIFY wants a signed, verified answer. */
			if (p->signed_ && tsig_verify_response(&p->ts, m,
			    (size_t)len, (int64_t)time(NULL)) != TSIG_OK) {
				log_warnx("NOTIFY answer from %s: TSIG does "
				    "not verify", a->text);
				continue;
			}
			p->tries = DONE;
			n->acked++;
			log_debug("NOTIFY answered by %s", a->text);
		}
	}
}

static int
open_sock(struct notifier *n, struct event_base *base, int family,
    struct event **ev)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	if ((*ev = event_new(base, fd, EV_READ | EV_PERSIST, on_answer, n)) ==
	    NULL || event_add(*ev, NULL) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

struct notifier *
notify_start(struct dnsbld *d, struct event_base *base)
{
	struct notifier	*n;
	struct timeval	 poll = { 0, NOTIFY_POLL_US };

	if (d->nnotify == 0)
		return NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL ||
	    (n->rd = store_reader_new(d->st)) == NULL)
		fatalx("notify: cannot start");
	n->d = d;
	n->fd4 = open_sock(n, base, AF_INET, &n->ev4);
	n->fd6 = open_sock(n, base, AF_INET6, &n->ev6);
	/* At start-up too: a secondary may have missed what came before. */
	n->announced = 0;
	n->sent_at = now_s() - d->notify_interval;
	if ((n->tick = event_new(base, -1, EV_PERSIST, on_tick, n)) == NULL ||
	    event_add(n->tick, &poll) == -1)
		fatalx("notify: cannot start");
	return n;
}

void
notify_counts(const struct notifier *n, uint64_t out[3])
{
	out[0] = n ? n->sent : 0;
	out[1] = n ? n->acked : 0;
	out[2] = n ? n->given_up : 0;
}

void
notify_stop(struct notifier *n)
{
	if (n == NULL)
		return;
	event_free(n->tick);
	if (n->fd4 != -1) {
		event_free(n->ev4);
		close(n->fd4);
	}
	if (n->fd6 != -1) {
		event_free(n->ev6);
		close(n->fd6);
	}
	store_reader_free(n->rd);
	free(n->p);
	free(n);
}
