/*
 * http_server.c -- a small HTTP/1.1 server on libevent bufferevents
 *
 * Why not evhttp: libevent 2.1's evhttp restarts its timeouts at every
 * byte read (a client that trickles its head a byte a minute holds a
 * connection for hours), offers no hook at accept (no connection cap, no
 * eviction) and parses where we cannot fuzz it.  This server is small
 * and does what dnsbld's TCP does: one deadline per connection set by the
 * stage and never moved by a trickle, a cap with eviction of the
 * connection idle longest, EMFILE met by eviction, bounded buffers.
 *
 * A connection is in one of five stages:
 *   IDLE  waiting for the first byte of a request (idle_timeout; the
 *         first request counts from accept, header_timeout);
 *   HEAD  bytes of a head arrived (header_timeout from the first; for
 *         the first request, from accept: the head must be whole by then);
 *   BODY  the head was whole, Content-Length bytes to come (body_timeout);
 *   WRITE a response queued, not yet all taken (write_timeout); nothing
 *         is read meanwhile;
 *   LINGER the last response taken and our side shut: what the client
 *         still sends is read and dropped until its EOF (ERROR_LINGER at
 *         most).  Closing with unread input would send a reset, and a
 *         reset makes the client's TCP drop the response it has not yet
 *         read -- the 400, 413 or 431 telling it why.
 * Heads are parsed from a copy in one buffer shared by every connection
 * (single thread; the handler runs before any other parse); a head that
 * waits for its body is kept as its raw bytes and parsed again when the
 * body is whole.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "http_server.h"
#include "log.h"

#define ACCEPT_BATCH	64
#define ERROR_LINGER	5	/* s: the most an error answer may take */

enum stage { ST_IDLE, ST_HEAD, ST_BODY, ST_WRITE, ST_LINGER };

struct hconn {
	struct http_server	*srv;
	struct bufferevent	*bev;
	struct event		*timer;
	struct addr		 peer;
	int			 stage;		/* enum stage */
	int			 requests;	/* answered on it */
	int			 close;		/* after this response */
	char			*head;		/* raw head waiting for a body */
	size_t			 headlen;
	int64_t			 bodylen;
	TAILQ_ENTRY(hconn)	 entry;		/* least recently active first */
};
TAILQ_HEAD(hconns, hconn);

struct hlistener {
	struct http_server	*srv;
	struct event		*ev;
	int			 fd;
	struct hlistener	*next;
};

struct http_server {
	struct event_base	*base;
	struct http_server_conf	 conf;
	http_handler_fn		 handler;
	void			*arg;
	struct hconns		 conns;
	struct hlistener	*listeners;
	struct event		*resume;	/* accept again after EMFILE */
	struct http_server_stats stats;
};

/* The parse buffer every connection shares (see the top). */
static char	scratch[HTTP_HEAD_MAX + 1];

static void	conn_free(struct hconn *);
static void	conn_input(struct hconn *);

void
http_server_defaults(struct http_server_conf *c)
{
	c->max_connections = 256;
	c->max_body = 1 << 20;
	c->header_timeout = 10;
	c->body_timeout = 30;
	c->idle_timeout = 30;
	c->write_timeout = 30;
}

void
http_response_header(struct http_response *r, const char *name,
    const char *fmt, ...)
{
	char	value[512];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(value) || strpbrk(value, "\r\n"))
		return;		/* never a header split by what we print */
	n = snprintf(r->extra + r->extralen, sizeof(r->extra) - r->extralen,
	    "%s: %s\r\n", name, value);
	if (n > 0 && (size_t)n < sizeof(r->extra) - r->extralen)
		r->extralen += (size_t)n;
	else
		r->extra[r->extralen] = '\0';
}

void
http_server_stats(const struct http_server *s, struct http_server_stats *out)
{
	*out = s->stats;
}

static void
set_deadline(struct hconn *c, int64_t seconds)
{
	struct timeval tv = { seconds, 0 };

	evtimer_add(c->timer, &tv);
}

static void
set_stage(struct hconn *c, int stage)
{
	const struct http_server_conf *cf = &c->srv->conf;

	c->stage = stage;
	switch (stage) {
	case ST_IDLE:
		set_deadline(c, c->requests ? cf->idle_timeout :
		    cf->header_timeout);
		bufferevent_setwatermark(c->bev, EV_READ, 0, HTTP_HEAD_MAX);
		bufferevent_enable(c->bev, EV_READ);
		break;
	case ST_HEAD:
		/*
		 * The first head keeps the deadline set at accept (also
		 * header_timeout): a client silent until just before it,
		 * then trickling, would otherwise hold the connection twice
		 * as long.
		 */
		if (c->requests > 0)
			set_deadline(c, cf->header_timeout);
		break;
	case ST_BODY:
		set_deadline(c, cf->body_timeout);
		bufferevent_setwatermark(c->bev, EV_READ, 0,
		    (size_t)c->bodylen);
		break;
	case ST_WRITE:
		bufferevent_disable(c->bev, EV_READ);
		set_deadline(c, c->close && c->requests == 0 ?
		    (cf->write_timeout < ERROR_LINGER ? cf->write_timeout :
		    ERROR_LINGER) : cf->write_timeout);
		break;
	case ST_LINGER:
		shutdown(bufferevent_getfd(c->bev), SHUT_WR);
		set_deadline(c, cf->write_timeout < ERROR_LINGER ?
		    cf->write_timeout : ERROR_LINGER);
		bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
		bufferevent_enable(c->bev, EV_READ);
		break;
	}
}

/* Queues status line, headers and body; the stage becomes WRITE. */
static void
send_response(struct hconn *c, const struct http_request *req,
    struct http_response *r)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 len = r->body ? evbuffer_get_length(r->body) : 0;
	const char	*conn = "";

	if (req == NULL || !req->keep_alive || r->close)
		c->close = 1;
	/* An HTTP/1.0 client closes unless told the connection persists. */
	if (c->close)
		conn = "Connection: close\r\n";
	else if (req->minor == 0)
		conn = "Connection: keep-alive\r\n";
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "%s"
	    "%.*s\r\n", r->status, http_status_text(r->status),
	    r->content_type ? r->content_type : "text/plain; charset=utf-8",
	    len, conn, (int)r->extralen, r->extra);
	if (r->body && (req == NULL || req->method != HTTP_HEAD))
		evbuffer_add_buffer(out, r->body);
	set_stage(c, ST_WRITE);
}

/* An error the server answers itself, then closes. */
static void
send_error(struct hconn *c, int status, const char *why)
{
	struct http_response r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.content_type = "application/json";
	r.close = 1;
	if ((r.body = evbuffer_new()) != NULL)
		evbuffer_add_printf(r.body, "{\"error\": \"%s\"}\n", why);
	if (status == 405)
		http_response_header(&r, "Allow", "GET, HEAD, POST, DELETE");
	c->srv->stats.refused++;
	/* No head was read whole: no request to answer in kind. */
	send_response(c, NULL, &r);
	if (r.body)
		evbuffer_free(r.body);
}

/* Runs the handler on a whole request and queues what it answers. */
static void
dispatch(struct hconn *c, const struct http_request *req, const char *body,
    size_t bodylen)
{
	struct http_call	call = { req, body, bodylen, c->peer };
	struct http_response	r;

	memset(&r, 0, sizeof(r));
	r.status = 500;
	if ((r.body = evbuffer_new()) == NULL) {
		send_error(c, 503, "out of memory");
		return;
	}
	c->srv->handler(&call, &r, c->srv->arg);
	c->srv->stats.requests++;
	c->requests++;
	/* Active: to the back of the eviction order. */
	TAILQ_REMOVE(&c->srv->conns, c, entry);
	TAILQ_INSERT_TAIL(&c->srv->conns, c, entry);
	send_response(c, req, &r);
	evbuffer_free(r.body);
}

static const char *
why_of(int status)
{
	switch (status) {
	case 400: return "malformed request";
	case 414: return "request target too long";
	case 431: return "request head too large";
	case 501: return "not implemented (method or transfer coding)";
	case 505: return "HTTP version not supported";
	default:  return "bad request";
	}
}

/* A head is in the input: parse it; dispatch, wait for its body, or refuse. */
static void
read_head(struct hconn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct http_request	 req;
	size_t			 n = evbuffer_get_length(in);
	int			 rc;

	if (n == 0)
		return;
	if (c->stage == ST_IDLE)
		set_stage(c, ST_HEAD);
	if (n > HTTP_HEAD_MAX)
		n = HTTP_HEAD_MAX;
	evbuffer_copyout(in, scratch, n);
	scratch[n] = '\0';
	if ((rc = http_parse_head(scratch, n, &req)) == HTTP_PARSE_MORE)
		return;
	if (rc < 0) {
		send_error(c, -rc, why_of(-rc));
		return;
	}
	if (req.content_length > c->srv->conf.max_body) {
		send_error(c, 413, "request body too large");
		return;
	}
	if (req.content_length <= 0) {
		evbuffer_drain(in, (size_t)rc);
		dispatch(c, &req, "", 0);
		return;
	}
	/* Keep the raw head; parse it again when the body is whole. */
	if ((c->head = malloc((size_t)rc + 1)) == NULL) {
		send_error(c, 503, "out of memory");
		return;
	}
	evbuffer_remove(in, c->head, (size_t)rc);
	c->headlen = (size_t)rc;
	c->bodylen = req.content_length;
	if (req.expect_continue)
		evbuffer_add_printf(bufferevent_get_output(c->bev),
		    "HTTP/1.1 100 Continue\r\n\r\n");
	set_stage(c, ST_BODY);
	conn_input(c);
}

static void
read_body(struct hconn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct http_request	 req;
	char			*body;

	if (evbuffer_get_length(in) < (size_t)c->bodylen)
		return;
	if ((body = malloc((size_t)c->bodylen + 1)) == NULL) {
		send_error(c, 503, "out of memory");
		return;
	}
	evbuffer_remove(in, body, (size_t)c->bodylen);
	body[c->bodylen] = '\0';
	memcpy(scratch, c->head, c->headlen);
	scratch[c->headlen] = '\0';
	free(c->head);
	c->head = NULL;
	if (http_parse_head(scratch, c->headlen, &req) <= 0)
		fatalx("http: a head parsed once does not parse again");
	dispatch(c, &req, body, (size_t)c->bodylen);
	free(body);
}

/* Whatever the input holds now, as the stage says. */
static void
conn_input(struct hconn *c)
{
	switch (c->stage) {
	case ST_IDLE:
	case ST_HEAD:
		read_head(c);
		break;
	case ST_BODY:
		read_body(c);
		break;
	case ST_LINGER:
		evbuffer_drain(bufferevent_get_input(c->bev),
		    evbuffer_get_length(bufferevent_get_input(c->bev)));
		break;
	default:
		break;		/* WRITE: read nothing until it is taken */
	}
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_input(arg);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct hconn *c = arg;

	(void)bev;
	if (c->stage != ST_WRITE)
		return;		/* a 100 Continue went out */
	if (c->close) {
		set_stage(c, ST_LINGER);
		conn_input(c);		/* drop what came meanwhile */
		return;
	}
	set_stage(c, ST_IDLE);
	conn_input(c);		/* a request may be waiting already */
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct hconn *c = arg;

	(void)bev;
	/* A client that closed its side still gets what is queued. */
	if ((what & BEV_EVENT_EOF) && c->stage == ST_WRITE &&
	    !(what & BEV_EVENT_ERROR)) {
		c->close = 1;
		return;
	}
	conn_free(c);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct hconn *c = arg;

	(void)fd;
	(void)what;
	if (c->stage == ST_LINGER) {
		conn_free(c);		/* the client never closed */
		return;
	}
	c->srv->stats.timeouts++;
	if (c->stage == ST_HEAD || c->stage == ST_BODY)
		send_error(c, 408, "request not received in time");
	else
		conn_free(c);
}

static void
conn_free(struct hconn *c)
{
	TAILQ_REMOVE(&c->srv->conns, c, entry);
	c->srv->stats.open--;
	bufferevent_free(c->bev);
	event_free(c->timer);
	free(c->head);
	free(c);
}

/* Closes the connection idle longest; 0, or -1 when there is none. */
static int
evict_one(struct http_server *s)
{
	struct hconn *c = TAILQ_FIRST(&s->conns);

	if (c == NULL)
		return -1;
	s->stats.evicted++;
	conn_free(c);
	return 0;
}

static void
conn_new(struct http_server *s, int fd, const struct sockaddr_storage *ss)
{
	struct hconn *c;

	if ((uint64_t)s->conf.max_connections <= s->stats.open)
		evict_one(s);
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->bev = bufferevent_socket_new(s->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(c);
		close(fd);
		return;
	}
	if ((c->timer = evtimer_new(s->base, on_deadline, c)) == NULL) {
		bufferevent_free(c->bev);
		free(c);
		return;
	}
	c->srv = s;
	(void)addr_of_sockaddr(ss, &c->peer);
	TAILQ_INSERT_TAIL(&s->conns, c, entry);
	s->stats.open++;
	s->stats.connections++;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	set_stage(c, ST_IDLE);
}

static void
accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *s = arg;

	(void)fd;
	(void)what;
	for (struct hlistener *l = s->listeners; l; l = l->next)
		event_add(l->ev, NULL);
}

/*
 * Out of descriptors.  Linux fails accept with EMFILE before it looks at
 * the queue, so only the first accept on a readable listener says that a
 * client waits (waiting); later in a batch the queue may be empty, and
 * evicting then would close a connection for no one (the listener stays
 * readable if someone does wait: we are called again).  Room is made by
 * evicting the connection idle longest, then accepting on the next turn
 * of the loop, when the freed descriptor is closed.  With nothing to
 * evict, accepting stops for a second: the listener stays readable, and
 * retrying at once would spin.
 */
static void
accept_full(struct http_server *s, int waiting)
{
	struct timeval second = { 1, 0 };

	if (!waiting)
		return;
	for (struct hlistener *l = s->listeners; l; l = l->next)
		event_del(l->ev);
	if (evict_one(s) == 0)
		event_active(s->resume, EV_TIMEOUT, 0);
	else
		evtimer_add(s->resume, &second);
}

static void
on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct hlistener	*l = arg;
	struct http_server	*s = l->srv;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd;

	(void)what;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		len = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				accept_full(s, i == 0);
			return;
		}
		conn_new(s, fd, &ss);
	}
}

struct http_server *
http_server_new(struct event_base *base, const struct http_server_conf *conf,
    http_handler_fn handler, void *arg)
{
	struct http_server *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->base = base;
	s->conf = *conf;
	s->handler = handler;
	s->arg = arg;
	TAILQ_INIT(&s->conns);
	if ((s->resume = evtimer_new(base, accept_resume, s)) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

int
http_server_listen(struct http_server *s, int fd)
{
	struct hlistener *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -1;
	l->srv = s;
	l->fd = fd;
	if ((l->ev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_accept,
	    l)) == NULL || event_add(l->ev, NULL) == -1) {
		if (l->ev)
			event_free(l->ev);
		free(l);
		return -1;
	}
	l->next = s->listeners;
	s->listeners = l;
	return 0;
}

void
http_server_free(struct http_server *s)
{
	struct hlistener *l, *next;

	if (s == NULL)
		return;
	while (!TAILQ_EMPTY(&s->conns))
		conn_free(TAILQ_FIRST(&s->conns));
	for (l = s->listeners; l; l = next) {
		next = l->next;
		event_free(l->ev);
		close(l->fd);
		free(l);
	}
	event_free(s->resume);
	free(s);
}
