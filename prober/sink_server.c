/*
 * sink_server.c -- proberd's sink: its sockets, caps and deadlines
 *
 * The sessions' logic is sink.c (no sockets); this is the listener and
 * the connections around it.  The sink holds at most
 * sink_max_connections, sink_max_per_address from one address; when
 * full, the least recently active connection without a valid recipient
 * makes room, so idle connections cannot keep a relay's delivery out; at
 * most sink_accept_rate connections are taken a second, so clients that
 * reconnect as fast as they are closed cost little.  Each stage has a
 * deadline that a trickle does not extend (the first command, each
 * command, the whole of DATA); out of descriptors, the listener rests a
 * second instead of spinning.  A delivered message goes to delivery.c.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "addr.h"
#include "listen.h"
#include "log.h"
#include "proberd.h"

struct sinkconn {
	struct proberd		*d;
	struct bufferevent	*bev;
	struct event		*timer;		/* the stage's deadline */
	struct addr		 peer;
	struct sink_session	*s;
	TAILQ_ENTRY(sinkconn)	 entry;		/* least recently active first */
};

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
			delivery_received(d, &sc->peer, &a.delivery);
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

void
sink_server_accept(evutil_socket_t lfd, short what, void *arg)
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

int
sink_server_open(struct proberd *d)
{
	struct listen_addr	 la;
	const char		*err;

	if (listen_parse(d->sink_listen, &la, &err) == -1) {
		log_warnx("[prober] sink_listen: bad address \"%s\": %s (want "
		    "ADDR:PORT)", d->sink_listen, err);
		return -1;
	}
	/* Not V6ONLY: "[::ffff:127.0.0.1]" and "[::]" take IPv4 clients. */
	if ((d->sinkfd = listen_open(&la, SOCK_STREAM, 0, 128)) == -1) {
		log_warn("sink_listen %s", d->sink_listen);
		return -1;
	}
	return 0;
}
