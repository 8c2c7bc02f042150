/*
 * tcp.c -- dnsbld's TCP: connections on a worker's event loop
 *
 * RFC 7766: queries are length-prefixed and pipelined, answered in order
 * through libevent bufferevents on the worker's event loop thread, with
 * the worker's store reader.  Everything a hostile client could hold --
 * a slot, buffers, the accept queue -- is bounded and reclaimed, as the
 * comment below tells.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "server.h"
#include "xfr.h"

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
	struct addr		 peer;		/* for its access rule */
	TAILQ_ENTRY(tcpconn)	 entry;		/* least recently active first */
};

static void	tcp_close(struct tcpconn *);
static void	accept_resume(evutil_socket_t, short, void *);

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
 * A query for a zone transfer: the connection leaves this loop for
 * transfer.c, with the answers still owed to it, and is forgotten here.
 */
static void
tcp_transfer(struct tcpconn *tc, const uint8_t *q, size_t qlen)
{
	struct evbuffer		*out = bufferevent_get_output(tc->bev);
	size_t			 plen = evbuffer_get_length(out);
	const uint8_t		*pending = plen ? evbuffer_pullup(out, -1) :
				    NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	struct addr		 peer;
	int			 fd = dup(bufferevent_getfd(tc->bev));

	if (fd != -1 && (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    addr_of_sockaddr(&ss, &peer) == -1)) {
		close(fd);
		fd = -1;
	}
	if (fd != -1)
		transfer_start(tc->w->d, fd, &peer, q, qlen, pending, plen);
	tcp_close(tc);
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
			w->cnt.dropped[ANS_D_BAD_LENGTH]++;
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
		/* The rule of now: a reload may have changed it. */
		struct answer_client cl;
		if (dnsbld_client(w->d, &tc->peer, &cl) == ACCESS_DROP) {
			w->cnt.dropped[ANS_D_ACCESS]++;
			tcp_close(tc);
			return -1;
		}
		state = answer_query_client(dnsbld_zones(w->d), w->rd,
		    &w->d->conf, &cl, q, qlen, ans + 2, PKT_MAX, &alen, 1,
		    &w->cnt);
		if (state == ANSWER_IN_AXFR || state == ANSWER_IN_IXFR) {
			tcp_transfer(tc, q, qlen);
			return -1;
		}
		/* Discarded: nothing to say to this client: close. */
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
tcp_conn_new(struct worker *w, int fd, const struct addr *peer)
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
	tc->peer = *peer;
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
	struct worker		*w = arg;
	int			 fd;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct addr		 peer;
	struct answer_client	 cl;

	(void)what;
	/* A few at a time: a full backlog delays honest clients by a SYN
	 * retransmission (a second). */
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		sslen = sizeof(ss);
		if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
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
		dnsbld_peer(&ss, &peer);
		if (dnsbld_client(w->d, &peer, &cl) == ACCESS_DROP) {
			w->cnt.dropped[ANS_D_ACCESS]++;
			close(fd);
			continue;
		}
		tcp_conn_new(w, fd, &peer);
	}
}

void
tcp_worker_init(struct worker *w)
{
	TAILQ_INIT(&w->conns);
	if ((w->accept_resume = evtimer_new(w->base, accept_resume, w)) ==
	    NULL)
		fatalx("worker %d: cannot set up", w->id);
}

void
tcp_listen(struct worker *w, struct worker_sock *s,
    const struct listen_addr *la)
{
	if ((s->tcp = listen_open(la, SOCK_STREAM, DNSBLD_LISTEN_FLAGS,
	    TCP_BACKLOG)) == -1)
		fatal("cannot listen on %s", la->text);
	s->tev = event_new(w->base, s->tcp, EV_READ | EV_PERSIST, tcp_accept,
	    w);
	if (s->tev == NULL || event_add(s->tev, NULL) == -1)
		fatalx("worker %d: cannot add events", w->id);
}

void
tcp_worker_free(struct worker *w)
{
	while (!TAILQ_EMPTY(&w->conns))
		tcp_close(TAILQ_FIRST(&w->conns));
	for (int i = 0; i < w->nsocks; i++) {
		event_free(w->socks[i].tev);
		close(w->socks[i].tcp);
	}
	event_free(w->accept_resume);
}
