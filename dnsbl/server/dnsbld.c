/*
 * dnsbld.c -- the relaybl DNS responder
 *
 * dnsbld [-c FILE] [-d DIR] [-z ZONEFILE]... [-l ADDR:PORT]... [-w N]
 *        [-u USER] [-v]
 *
 * Each worker has its own UDP and TCP sockets on every listen address
 * (SO_REUSEPORT lets the kernel spread clients over them) and its own store
 * readers.  UDP queries are read and answered in batches with blocking
 * recvmmsg(MSG_WAITFORONE)/sendmmsg by one thread per UDP socket, one store
 * snapshot per batch; TCP connections (RFC 7766: length-prefixed,
 * pipelined; back-pressure, idle and query deadlines, eviction at a cap
 * per worker, see "TCP" below) go through libevent bufferevents on the
 * worker's event loop thread.  The answers themselves
 * come from answer.c, which touches no socket.
 *
 * The main thread owns the signals: SIGTERM/SIGINT stop the workers and
 * exit 0, SIGHUP rereads the zone files (the new set is swapped in
 * atomically; a failed reload keeps the old one), SIGUSR1 prints counters.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <pthread.h>
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
#include <event2/thread.h>

#include "answer.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "zone.h"

#define BATCH		64
#define PKT_MAX		4096
#define MAX_LISTEN	16
#define MAX_WORKERS	64
#define MAX_ZONEFILES	64

struct listen_addr {
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			text[80];
};

/* Unsent answers above which a connection is not read; resumes below. */
#define TCP_OUT_MAX	16384
#define TCP_OUT_RESUME	4096
#define TCP_IN_MAX	(4 * (PKT_MAX + 2))
#define ACCEPT_BATCH	64
#define TCP_SNDBUF	8192 	/* the kernel's share of unsent answers */
#define TCP_BACKLOG	4096	/* clamped by net.core.somaxconn */
#define TRIM_INTERVAL	5000	/* ms between returns of memory to the OS */

struct tcpconn {
	struct worker		*w;
	struct bufferevent	*bev;
	struct event		*timer;		/* the deadline (lazy) */
	int64_t			 active;	/* ms: last query, or all read */
	int64_t			 query_start;	/* ms: incomplete query began */
	int64_t			 armed;		/* ms: when the timer fires */
	int			 paused;	/* output over TCP_OUT_MAX */
	int			 eof;		/* the client closed its side */
	TAILQ_ENTRY(tcpconn)	 entry;		/* least recently active first */
};
TAILQ_HEAD(tcpconns, tcpconn);

/*
 * One UDP socket of a worker and the thread that serves it: a blocking
 * recvmmsg(MSG_WAITFORONE) returns as soon as one query is there with
 * every other one already queued, so under load one pair of system calls
 * answers a whole batch, and no readiness notification is paid for.
 */
struct udp_server {
	struct worker		*w;
	int			 fd;
	pthread_t		 thread;
	struct store_reader	*rd;
	struct answer_counters	 cnt;
	struct mmsghdr		 inm[BATCH], outm[BATCH];
	struct iovec		 iniov[BATCH], outiov[BATCH];
	struct sockaddr_storage	 peers[BATCH];
	uint8_t			 inbuf[BATCH][PKT_MAX];
	uint8_t			 outbuf[BATCH][PKT_MAX];
};

struct worker_sock {
	struct udp_server	*udp;
	int			 tcp;
	struct event		*tev;
};

struct worker {
	struct dnsbld		*d;
	int			 id;
	pthread_t		 thread;
	struct event_base	*base;
	struct store_reader	*rd;
	struct worker_sock	 socks[MAX_LISTEN];
	int			 nsocks;
	int			 tcp_conns;
	struct tcpconns		 conns;
	struct event		*accept_resume;
	int64_t			 trimmed;	/* ms: last malloc_trim */
	struct answer_counters	 cnt;		/* TCP */
};


struct dnsbld {
	struct config		*cfg;
	struct store		*st;
	struct zoneset		*zones;		/* swapped atomically */
	struct zoneset		*retired;	/* freed at the next reload */
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
	int64_t			 tcp_idle;
	int64_t			 tcp_query;
	int64_t			 tcp_max;
	struct worker		*workers[MAX_WORKERS];
	struct event_base	*main_base;
	int			 stopping;	/* read by UDP threads */
};

static void	usage(void) __attribute__((noreturn));
static void	tcp_close(struct tcpconn *);
static void	accept_resume(evutil_socket_t, short, void *);
static int	open_socket(const struct listen_addr *, int);

static void
usage(void)
{
	fprintf(stderr, "usage: dnsbld [-c FILE] [-d DIR] [-z ZONEFILE]... "
	    "[-l ADDR:PORT]... [-w N] [-u USER] [-v]\n");
	exit(2);
}

/* --- Configuration --------------------------------------------------- */

/* "1.2.3.4:53", "[::1]:5353".  Returns 0 or -1. */
static int
parse_listen(const char *s, struct listen_addr *la)
{
	char		 host[64];
	const char	*colon, *h = s;
	size_t		 hlen;
	char		*end;
	long		 port;

	memset(la, 0, sizeof(*la));
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':')
			return -1;
		h = s + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535 || end == colon + 1)
		return -1;
	struct sockaddr_in *sin = (struct sockaddr_in *)&la->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&la->ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		la->len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		la->len = sizeof(*sin6);
	} else
		return -1;
	snprintf(la->text, sizeof(la->text), "%s", s);
	return 0;
}

/* A comma- or space-separated list of listen addresses from the config. */
static int
config_listen(struct dnsbld *d, const char *list)
{
	char	buf[1024], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (d->nlisten == MAX_LISTEN ||
		    parse_listen(tok, &d->listen[d->nlisten]) == -1) {
			log_warnx("%s: [dnsbld] listen: bad address \"%s\"",
			    config_name(d->cfg), tok);
			return -1;
		}
		d->nlisten++;
	}
	return 0;
}

static int
config_codes(struct dnsbld *d, const char *list)
{
	char	 buf[256], *tok, *save;
	uint32_t code;

	memset(d->conf.test_code, 0, sizeof(d->conf.test_code));
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		char *end;
		long x = strtol(tok, &end, 10);
		if (*end == '\0' && x >= 2 && x <= 255)
			code = 0x7f000000u | (uint32_t)x;
		else if (inet_pton(AF_INET, tok, &code) == 1 &&
		    (ntohl(code) & 0xffffff00u) == 0x7f000000u &&
		    (ntohl(code) & 0xff) >= 2)
			code = ntohl(code);
		else {
			log_warnx("%s: [dnsbld] test_codes: bad code \"%s\" "
			    "(want 2-255 or 127.0.0.2-127.0.0.255)",
			    config_name(d->cfg), tok);
			return -1;
		}
		d->conf.test_code[code & 0xff] = 1;
	}
	d->conf.test_code[2] = 1;	/* RFC 5782: always */
	return 0;
}

static int
load_config(struct dnsbld *d)
{
	static const char *const keys[] = { "listen", "zones", "workers",
	    "user", "ttl", "txt_template", "test_codes", "tcp_idle_timeout",
	    "tcp_max_connections", "tcp_query_timeout", "udp_payload",
	    "syslog", NULL };
	struct config	*c = d->cfg;
	int64_t		 n;
	const char	*s;

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
	answer_conf_init(&d->conf);
	if (config_int(c, "dnsbld", "ttl", 1800, 0, 604800, &n) == -1)
		return -1;
	d->conf.ttl = (uint32_t)n;
	s = config_str(c, "dnsbld", "txt_template",
	    "Listed as an open relay, see https://relaybl.example/lookup?ip=$");
	snprintf(d->conf.txt_template, sizeof(d->conf.txt_template), "%s", s);
	if (config_codes(d, config_str(c, "dnsbld", "test_codes", "2, 3")) ==
	    -1)
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
	return 0;
}

/* --- UDP ------------------------------------------------------------- */

static struct zoneset *
current_zones(struct dnsbld *d)
{
	return __atomic_load_n(&d->zones, __ATOMIC_ACQUIRE);
}

/*
 * Reads a batch, answers it from one store snapshot, sends the answers.
 * The socket's receive timeout wakes the thread now and then to see
 * whether dnsbld is stopping.
 */
static void *
udp_serve(void *arg)
{
	struct udp_server	*u = arg;
	struct dnsbld		*d = u->w->d;
	int			 n, m, sent, r;

	while (!__atomic_load_n(&d->stopping, __ATOMIC_RELAXED)) {
		for (int i = 0; i < BATCH; i++) {
			u->inm[i].msg_hdr.msg_namelen = sizeof(u->peers[i]);
			u->inm[i].msg_hdr.msg_flags = 0;
		}
		n = recvmmsg(u->fd, u->inm, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;	/* timeout, signal, or a passing error */
		struct zoneset *zs = current_zones(d);
		store_reader_begin(u->rd);
		for (int i = m = 0; i < n; i++) {
			if (u->inm[i].msg_hdr.msg_flags & MSG_TRUNC) {
				/* Not the whole datagram: not a query. */
				u->cnt.oversized++;
				u->cnt.dropped++;
				continue;
			}
			size_t len;
			if (answer_query(zs, u->rd, &d->conf, u->inbuf[i],
			    u->inm[i].msg_len, u->outbuf[m], PKT_MAX, &len, 0,
			    &u->cnt) != ANSWER_PROCESSED)
				continue;	/* no transfers over UDP */
			u->outiov[m].iov_base = u->outbuf[m];
			u->outiov[m].iov_len = len;
			u->outm[m].msg_hdr.msg_name = &u->peers[i];
			u->outm[m].msg_hdr.msg_namelen =
			    u->inm[i].msg_hdr.msg_namelen;
			m++;
		}
		store_reader_end(u->rd);
		for (sent = 0; sent < m; sent += r) {
			r = sendmmsg(u->fd, u->outm + sent, m - sent, 0);
			if (r <= 0) {
				if (r == -1 && errno == EINTR) {
					r = 0;
					continue;
				}
				u->cnt.dropped += m - sent;
				break;
			}
		}
	}
	return NULL;
}

static struct udp_server *
udp_server_new(struct worker *w, const struct listen_addr *la)
{
	struct udp_server	*u;
	struct timeval		 tv = { 0, 250000 };

	if ((u = calloc(1, sizeof(*u))) == NULL)
		fatal("udp server");
	u->w = w;
	if ((u->fd = open_socket(la, SOCK_DGRAM)) == -1)
		fatal("cannot listen on %s", la->text);
	/* Blocking, with a timeout to notice stopping. */
	if (fcntl(u->fd, F_SETFL, 0) == -1 || setsockopt(u->fd, SOL_SOCKET,
	    SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		fatal("udp socket");
	/*
	 * A large receive buffer absorbs bursts while a batch is answered
	 * (as NSD does); beyond rmem_max only root may ask, so try both.
	 */
	int rcvbuf = 4 << 20;
	if (setsockopt(u->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf)) == -1)
		setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf));
	if ((u->rd = store_reader_new(w->d->st)) == NULL)
		fatalx("udp server: no store reader");
	for (int i = 0; i < BATCH; i++) {
		u->iniov[i].iov_base = u->inbuf[i];
		u->iniov[i].iov_len = PKT_MAX;
		u->inm[i].msg_hdr.msg_iov = &u->iniov[i];
		u->inm[i].msg_hdr.msg_iovlen = 1;
		u->inm[i].msg_hdr.msg_name = &u->peers[i];
		u->outm[i].msg_hdr.msg_iov = &u->outiov[i];
		u->outm[i].msg_hdr.msg_iovlen = 1;
	}
	return u;
}

static void
udp_server_free(struct udp_server *u)
{
	close(u->fd);
	store_reader_free(u->rd);
	free(u);
}

/* --- TCP ------------------------------------------------------------- */

/*
 * RFC 7766 section 6 against hostile clients.  Every connection has one
 * deadline timer, armed lazily: it fires, recomputes the deadline from the
 * connection's state, and closes or re-arms.  The deadline is the earlier
 * of
 *   - idle: the last whole query, or the last time the client had read
 *     every answer, plus tcp_idle_timeout (shortened under pressure);
 *     queuing an answer never moves it, so a client that does not read
 *     its answers is closed like one that sends nothing;
 *   - query: the first byte of an incomplete query plus
 *     tcp_query_timeout, so a trickling client cannot hold a slot.
 * Back-pressure: above TCP_OUT_MAX bytes of unsent answers the connection
 * is not read (nor its buffered queries answered) until the client has
 * read them down to TCP_OUT_RESUME.  At the cap a new connection evicts
 * the one idle longest (the head of the worker's list, which is kept in
 * order of activity) instead of being refused.
 */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The idle timeout now: the configured one while at most half the slots
 * are taken, then shrinking with the free slots to a tenth at the cap
 * (RFC 7766 6.2.3).
 */
static int64_t
idle_ms(const struct worker *w)
{
	int64_t idle = w->d->tcp_idle * 1000, max = w->d->tcp_max;
	int64_t used = w->tcp_conns, t;

	if (2 * used <= max)
		return idle;
	t = idle * 2 * (max - used) / max;
	return t < idle / 10 ? idle / 10 : t;
}

static int64_t
tcp_deadline(const struct tcpconn *tc)
{
	int64_t dl = tc->active + idle_ms(tc->w);

	if (tc->query_start != 0 &&
	    tc->query_start + tc->w->d->tcp_query * 1000 < dl)
		dl = tc->query_start + tc->w->d->tcp_query * 1000;
	return dl;
}

static void
tcp_arm(struct tcpconn *tc, int64_t at, int64_t now)
{
	int64_t		 ms = at > now ? at - now : 0;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	tc->armed = at;
	evtimer_add(tc->timer, &tv);
}

static void
tcp_close(struct tcpconn *tc)
{
	struct worker *w = tc->w;

	w->tcp_conns--;
	TAILQ_REMOVE(&w->conns, tc, entry);
	event_free(tc->timer);
	bufferevent_free(tc->bev);
	free(tc);
	/*
	 * The buffers of many connections, freed, stay with the allocator;
	 * when the last one goes, give them back (at most every few
	 * seconds), so memory returns to its baseline after a flood.
	 */
	if (w->tcp_conns == 0 && now_ms() - w->trimmed > TRIM_INTERVAL) {
		w->trimmed = now_ms();
		malloc_trim(0);
	}
}

static void
tcp_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tcpconn	*tc = arg;
	int64_t		 now = now_ms(), dl = tcp_deadline(tc);

	(void)fd;
	(void)what;
	if (now >= dl) {
		tc->w->cnt.tcp_timeouts++;
		tcp_close(tc);
		return;
	}
	tcp_arm(tc, dl, now);
}

/* The client is active: it is the last to be evicted. */
static void
tcp_touch(struct tcpconn *tc, int64_t now)
{
	tc->active = now;
	TAILQ_REMOVE(&tc->w->conns, tc, entry);
	TAILQ_INSERT_TAIL(&tc->w->conns, tc, entry);
}

/*
 * Answers the whole queries in the input, in order, until the unsent
 * output is over TCP_OUT_MAX (then stops reading).  Returns -1 when it
 * closed the connection.
 */
static int
tcp_answer(struct tcpconn *tc)
{
	struct worker	*w = tc->w;
	struct evbuffer	*in = bufferevent_get_input(tc->bev);
	struct evbuffer	*out = bufferevent_get_output(tc->bev);
	uint8_t		 lenb[2], q[PKT_MAX], ans[PKT_MAX + 2];
	size_t		 qlen, alen, avail;
	int		 answered = 0, partial = 0;
	int64_t		 now;
	enum answer_state state;

	while (evbuffer_get_length(out) < TCP_OUT_MAX) {
		if ((avail = evbuffer_get_length(in)) < 2) {
			partial = avail > 0;
			break;
		}
		evbuffer_copyout(in, lenb, 2);
		qlen = (size_t)lenb[0] << 8 | lenb[1];
		if (qlen < 12 || qlen > PKT_MAX) {
			/* Not a query we would answer: drop the connection. */
			w->cnt.dropped++;
			tcp_close(tc);
			return -1;
		}
		if (avail < qlen + 2) {
			partial = 1;
			break;
		}
		evbuffer_drain(in, 2);
		evbuffer_remove(in, q, qlen);
		w->cnt.tcp_queries++;
		state = answer_query(current_zones(w->d), w->rd, &w->d->conf,
		    q, qlen, ans + 2, PKT_MAX, &alen, 1, &w->cnt);
		if (state != ANSWER_PROCESSED || (ans[0] = alen >> 8,
		    ans[1] = alen & 0xff, evbuffer_add(out, ans, alen + 2) ==
		    -1)) {
			tcp_close(tc);
			return -1;
		}
		answered = 1;
	}
	now = now_ms();
	if (answered)
		tcp_touch(tc, now);
	if (!partial)
		tc->query_start = 0;
	else if (answered || tc->query_start == 0) {
		/* The first byte of the next query came with this read. */
		tc->query_start = now;
		if (tcp_deadline(tc) < tc->armed)
			tcp_arm(tc, tcp_deadline(tc), now);
	}
	if (evbuffer_get_length(out) >= TCP_OUT_MAX && !tc->paused) {
		tc->paused = 1;
		bufferevent_disable(tc->bev, EV_READ);
	}
	return 0;
}

static void
tcp_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	tcp_answer(arg);
}

/*
 * The client read its answers down to TCP_OUT_RESUME (or to nothing):
 * answer what waits in the input and read again; after EOF, close once
 * everything is out.
 */
static void
tcp_written(struct bufferevent *bev, void *arg)
{
	struct tcpconn	*tc = arg;
	size_t		 left = evbuffer_get_length(bufferevent_get_output(bev));

	if (left == 0)
		tcp_touch(tc, now_ms());
	if (tc->paused) {
		tc->paused = 0;
		if (tcp_answer(tc) == -1)
			return;
		if (!tc->paused && !tc->eof)
			bufferevent_enable(bev, EV_READ);
	}
	if (tc->eof && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		tcp_close(tc);
}

static void
tcp_event(struct bufferevent *bev, short events, void *arg)
{
	struct tcpconn *tc = arg;

	if ((events & BEV_EVENT_EOF) && !(events & BEV_EVENT_ERROR) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		/* Half-closed: send what is queued; the timer still runs. */
		tc->eof = 1;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	tcp_close(tc);		/* EOF with nothing to send, or an error */
}

/* Stops accepting for a moment: out of descriptors and nothing to evict. */
static void
accept_pause(struct worker *w)
{
	struct timeval second = { 1, 0 };

	for (int i = 0; i < w->nsocks; i++)
		event_del(w->socks[i].tev);
	evtimer_add(w->accept_resume, &second);
}

static void
accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	for (int i = 0; i < w->nsocks; i++)
		event_add(w->socks[i].tev, NULL);
}

static void
tcp_evict_oldest(struct worker *w)
{
	w->cnt.tcp_evicted++;
	tcp_close(TAILQ_FIRST(&w->conns));
}

static void
tcp_conn_new(struct worker *w, int fd)
{
	struct tcpconn	*tc;
	int64_t		 now = now_ms();

	if (w->tcp_conns >= w->d->tcp_max)
		tcp_evict_oldest(w);
	if ((tc = calloc(1, sizeof(*tc))) == NULL ||
	    (tc->timer = evtimer_new(w->base, tcp_timer, tc)) == NULL ||
	    (tc->bev = bufferevent_socket_new(w->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		w->cnt.tcp_refused++;
		if (tc != NULL && tc->timer != NULL)
			event_free(tc->timer);
		free(tc);
		close(fd);
		return;
	}
	/*
	 * On loopback the kernel would grow the send buffer to megabytes:
	 * a client that never reads would cost that many answers before
	 * back-pressure begins.
	 */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ TCP_SNDBUF },
	    sizeof(int));
	tc->w = w;
	tc->active = now;
	w->tcp_conns++;
	TAILQ_INSERT_TAIL(&w->conns, tc, entry);
	bufferevent_setcb(tc->bev, tcp_read, tcp_written, tcp_event, tc);
	/* Input: at most a few queries; output: see tcp_answer. */
	bufferevent_setwatermark(tc->bev, EV_READ, 0, TCP_IN_MAX);
	bufferevent_setwatermark(tc->bev, EV_WRITE, TCP_OUT_RESUME, 0);
	bufferevent_enable(tc->bev, EV_READ);
	tcp_arm(tc, tcp_deadline(tc), now);
	/*
	 * A client that waited in the backlog has usually sent its query
	 * already: answered now, before the next accepts, it cannot be
	 * evicted unanswered by a flood of connections behind it.
	 */
	if (evbuffer_read(bufferevent_get_input(tc->bev), fd, TCP_IN_MAX) > 0)
		tcp_answer(tc);
}

static void
tcp_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct worker	*w = arg;
	int		 fd;

	(void)what;
	/* A few at a time: a full backlog delays honest clients by a SYN
	 * retransmission (a second). */
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) == -1) {
			if (errno != EMFILE && errno != ENFILE)
				return;
			/*
			 * Out of descriptors: evict one, whose descriptor
			 * libevent closes when this callback returns, and
			 * accept again on the next turn of the loop.
			 */
			w->cnt.tcp_refused++;
			if (TAILQ_EMPTY(&w->conns))
				accept_pause(w);
			else
				tcp_evict_oldest(w);
			return;
		}
		w->cnt.tcp_connections++;
		tcp_conn_new(w, fd);
	}
}

/* --- Workers --------------------------------------------------------- */

static int
open_socket(const struct listen_addr *la, int type)
{
	int fd, one = 1;

	if ((fd = socket(la->ss.ss_family, type | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ==
	    -1 || (la->ss.ss_family == AF_INET6 && setsockopt(fd,
	    IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, (const struct sockaddr *)&la->ss, la->len) == -1 ||
	    (type == SOCK_STREAM && listen(fd, TCP_BACKLOG) == -1)) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static struct worker *
worker_new(struct dnsbld *d, int id)
{
	struct worker *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("worker");
	w->d = d;
	w->id = id;
	TAILQ_INIT(&w->conns);
	if ((w->base = event_base_new()) == NULL ||
	    (w->rd = store_reader_new(d->st)) == NULL ||
	    (w->accept_resume = evtimer_new(w->base, accept_resume, w)) ==
	    NULL)
		fatalx("worker %d: cannot set up", id);
	for (int i = 0; i < d->nlisten; i++) {
		struct worker_sock *s = &w->socks[w->nsocks++];
		s->udp = udp_server_new(w, &d->listen[i]);
		if ((s->tcp = open_socket(&d->listen[i], SOCK_STREAM)) == -1)
			fatal("cannot listen on %s", d->listen[i].text);
		s->tev = event_new(w->base, s->tcp, EV_READ | EV_PERSIST,
		    tcp_accept, w);
		if (s->tev == NULL || event_add(s->tev, NULL) == -1)
			fatalx("worker %d: cannot add events", id);
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
		if (pthread_create(&w->socks[i].udp->thread, NULL, udp_serve,
		    w->socks[i].udp) != 0)
			fatalx("cannot start worker %d", w->id);
}

static void
worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
	for (int i = 0; i < w->nsocks; i++)
		pthread_join(w->socks[i].udp->thread, NULL);
}

static void
worker_free(struct worker *w)
{
	while (!TAILQ_EMPTY(&w->conns))
		tcp_close(TAILQ_FIRST(&w->conns));
	for (int i = 0; i < w->nsocks; i++) {
		event_free(w->socks[i].tev);
		udp_server_free(w->socks[i].udp);
		close(w->socks[i].tcp);
	}
	event_free(w->accept_resume);
	store_reader_free(w->rd);
	event_base_free(w->base);
	free(w);
}

/* --- Signals --------------------------------------------------------- */

#define LOAD(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)

static void
print_counters(struct dnsbld *d)
{
	static const char *tnames[] = ANSWER_TYPE_NAMES;
	static const char *rnames[] = ANSWER_RCODE_NAMES;
	struct answer_counters	s;
	char			line[1024];
	size_t			n = 0;

	memset(&s, 0, sizeof(s));
	/* Workers write their own counters; a slightly stale sum is fine. */
	for (int i = 0; i < d->nworkers; i++) {
		struct worker *w = d->workers[i];
		for (int k = -1; k < w->nsocks; k++) {
		struct answer_counters *c = k < 0 ? &w->cnt :
		    &w->socks[k].udp->cnt;
		s.queries += LOAD(c->queries);
		for (int t = 0; t < ANS_T_MAX; t++)
			s.by_type[t] += LOAD(c->by_type[t]);
		for (int r = 0; r < ANS_R_MAX; r++)
			s.by_rcode[r] += LOAD(c->by_rcode[r]);
		s.listed += LOAD(c->listed);
		s.truncated += LOAD(c->truncated);
		s.dropped += LOAD(c->dropped);
		s.tcp_queries += LOAD(c->tcp_queries);
		s.tcp_connections += LOAD(c->tcp_connections);
		s.tcp_refused += LOAD(c->tcp_refused);
		s.tcp_evicted += LOAD(c->tcp_evicted);
		s.tcp_timeouts += LOAD(c->tcp_timeouts);
		s.oversized += LOAD(c->oversized);
		}
	}
	n += snprintf(line + n, sizeof(line) - n, "queries %llu (",
	    (unsigned long long)s.queries);
	for (int t = 0; t < ANS_T_MAX; t++)
		n += snprintf(line + n, sizeof(line) - n, "%s%s %llu",
		    t ? ", " : "", tnames[t],
		    (unsigned long long)s.by_type[t]);
	n += snprintf(line + n, sizeof(line) - n, ")");
	for (int r = 0; r < ANS_R_MAX; r++)
		n += snprintf(line + n, sizeof(line) - n, " %s %llu",
		    rnames[r], (unsigned long long)s.by_rcode[r]);
	log_info("%s", line);
	log_info("listed %llu, tcp connections %llu (refused %llu, evicted "
	    "%llu, timed out %llu), tcp queries %llu, truncated %llu, "
	    "dropped %llu (oversized %llu)",
	    (unsigned long long)s.listed,
	    (unsigned long long)s.tcp_connections,
	    (unsigned long long)s.tcp_refused,
	    (unsigned long long)s.tcp_evicted,
	    (unsigned long long)s.tcp_timeouts,
	    (unsigned long long)s.tcp_queries,
	    (unsigned long long)s.truncated, (unsigned long long)s.dropped,
	    (unsigned long long)s.oversized);
}

static void
reload_zones(struct dnsbld *d)
{
	struct zoneset *zs, *old;

	if ((zs = zoneset_load(d->zonefiles, d->nzonefiles, d->zonedir)) ==
	    NULL) {
		log_warnx("reload failed: still serving the old zones");
		return;
	}
	old = __atomic_exchange_n(&d->zones, zs, __ATOMIC_ACQ_REL);
	/*
	 * A worker may still be answering from the old set; batches last
	 * microseconds and reloads come from people, so the old set is
	 * freed at the next reload (or at exit), not now.
	 */
	zoneset_free(d->retired);
	d->retired = old;
	log_info("reloaded %d zones", zs->n);
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
		print_counters(d);
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

/*
 * -u USER needs root to change to USER; started as USER already it has
 * nothing to do.  Anything else is an error, checked before any work.
 */
static void
check_user(const char *user)
{
	struct passwd *pw;

	if (user == NULL)
		return;
	if ((pw = getpwnam(user)) == NULL)
		fatalx("no such user \"%s\"", user);
	if (geteuid() != 0 && geteuid() != pw->pw_uid)
		fatalx("-u %s: not started as root, cannot become %s", user,
		    user);
}

static void
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user == NULL || geteuid() != 0)
		return;
	if ((pw = getpwnam(user)) == NULL)
		fatalx("no such user \"%s\"", user);
	if (setgroups(1, &pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1)
		fatal("cannot become %s", user);
}

static void
parse_args(struct dnsbld *d, int argc, char **argv, const char **cfgpath)
{
	char	*end;
	int	 ch;

	while ((ch = getopt(argc, argv, "c:d:l:u:vw:z:")) != -1) {
		switch (ch) {
		case 'c':
			*cfgpath = optarg;
			break;
		case 'd':
			d->storedir = optarg;
			break;
		case 'l':
			if (d->nlisten == MAX_LISTEN ||
			    parse_listen(optarg, &d->listen[d->nlisten]) == -1)
				fatalx("-l: bad address \"%s\" (want "
				    "1.2.3.4:53 or [::1]:53)", optarg);
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
	struct zoneset		*zs = current_zones(d);

	for (int i = 0; i < zs->n && n < sizeof(buf); i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
		    zs->zones[i]->name);
	log_info("ready: %d zones (%s), store %s serial %u, %d workers, "
	    "listening on %s%s", zs->n, buf, d->storedir,
	    rd ? store_serial(rd) : 0, d->nworkers, d->listen[0].text,
	    d->nlisten > 1 ? " and more" : "");
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

	log_init("dnsbld", 0);
	signal(SIGPIPE, SIG_IGN);
	parse_args(&d, argc, argv, &cfgpath);
	if ((d.cfg = config_load(cfgpath)) == NULL || load_config(&d) == -1)
		exit(2);
	check_user(d.user);
	if ((d.zones = zoneset_load(d.zonefiles, d.nzonefiles, d.zonedir)) ==
	    NULL)
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
	drop_privileges(d.user);
	for (int i = 0; i < d.nworkers; i++)
		worker_start(d.workers[i]);
	if ((d.main_base = event_base_new()) == NULL)
		fatalx("event_base_new");
	for (int i = 0; i < 4; i++) {
		sigev[i] = evsignal_new(d.main_base, sigs[i], on_signal, &d);
		if (sigev[i] == NULL || event_add(sigev[i], NULL) == -1)
			fatalx("cannot handle signal %d", sigs[i]);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	announce(&d);
	event_base_dispatch(d.main_base);
	for (int i = 0; i < d.nworkers; i++)
		worker_join(d.workers[i]);
	log_info("stopping");
	print_counters(&d);
	for (int i = 0; i < 4; i++)
		event_free(sigev[i]);
	for (int i = 0; i < d.nworkers; i++)
		worker_free(d.workers[i]);
	event_base_free(d.main_base);
	zoneset_free(d.zones);
	zoneset_free(d.retired);
	store_close(d.st);
	config_free(d.cfg);
	return 0;
}
