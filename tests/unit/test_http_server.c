/*
 * test_http_server.c -- unit tests of the HTTP server, driven by client
 * sockets in the same process
 *
 * One event loop, one server on 127.0.0.1 (a port the kernel picks) with
 * small limits (4 connections, 1 s deadlines, 1024-byte bodies), and a
 * handler that echoes the decoded path (or, for POST, the body's length;
 * for /big, 16 MB that a client may leave unread).  Each client is a
 * non-blocking socket; the loop runs in steps of 10 ms while a client
 * waits for what it expects, so deadlines are measured as a client sees
 * them: answered, closed, and when.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "http_server.h"
#include "listen.h"
#include "tap.h"

#define BIG	(16 << 20)

struct client {
	int	fd;
	char	buf[65536];
	size_t	len;
	int	eof;		/* 1: closed by the server; -1: reset */
};

static struct event_base	*base;
static struct http_server	*srv;
static int			 port;

static void
handler(const struct http_call *call, struct http_response *r, void *arg)
{
	(void)arg;
	r->status = 200;
	if (strcmp(call->req->path, "/big") == 0) {
		char *junk = calloc(1, BIG);
		if (junk != NULL)
			evbuffer_add(r->body, junk, BIG);
		free(junk);
	} else if (call->req->method == HTTP_POST)
		evbuffer_add_printf(r->body, "%zu:%s", call->bodylen,
		    call->body);
	else
		evbuffer_add_printf(r->body, "%s", call->req->path);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs the server's loop for ms milliseconds. */
static void
pump(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static struct client *
client_open(void)
{
	struct client		*c = calloc(1, sizeof(*c));
	struct sockaddr_in	 sin = { .sin_family = AF_INET };

	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (c == NULL || (c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("client");
		exit(1);
	}
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	return c;
}

static void
client_close(struct client *c)
{
	close(c->fd);
	free(c);
}

static void
client_send(struct client *c, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
		if (w == -1 && errno != EAGAIN) {
			printf("# send: %s\n", strerror(errno));
			return;
		}
		if (w == -1) {
			pump(10);
			continue;
		}
		s += w;
		n -= (size_t)w;
	}
}

static void
say(struct client *c, const char *s)
{
	client_send(c, s, strlen(s));
}

/* Takes what has arrived; notes the server's close. */
static void
client_read(struct client *c)
{
	ssize_t n;

	while (c->eof == 0 && c->len < sizeof(c->buf) - 1) {
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len,
		    0);
		if (n > 0)
			c->len += (size_t)n;
		else if (n == 0)
			c->eof = 1;
		else if (errno != EAGAIN)
			c->eof = -1;
		else
			break;
	}
	c->buf[c->len] = '\0';
}

/* How many whole responses the client holds (HEAD: no body). */
static int
responses(const struct client *c, int head)
{
	const char	*p = c->buf, *e;
	int		 n = 0;

	while ((e = strstr(p, "\r\n\r\n")) != NULL) {
		const char *cl = strstr(p, "Content-Length: ");
		size_t body = 0;
		if (strncmp(p, "HTTP/1.1 100 ", 13) != 0 && !head &&
		    cl != NULL && cl < e)
			body = strtoul(cl + 16, NULL, 10);
		if ((size_t)(c->buf + c->len - (e + 4)) < body)
			break;
		p = e + 4 + body;
		n++;
	}
	return n;
}

/* Runs the loop until the client holds want responses, or EOF, or ms. */
static void
wait_responses(struct client *c, int want, int head, int ms)
{
	double end = now() + ms / 1000.0;

	while (now() < end) {
		pump(10);
		client_read(c);
		if (responses(c, head) >= want || c->eof)
			return;
	}
}

/* Runs the loop until the server closes the client, or ms; the time. */
static double
wait_eof(struct client *c, int ms)
{
	double start = now(), end = start + ms / 1000.0;

	while (now() < end && c->eof == 0) {
		pump(10);
		client_read(c);
	}
	return now() - start;
}

/*
 * Sends request on c (forgetting what it held) and waits for one answer:
 * whether its status is status and its body starts with body.
 */
static int
exchange(struct client *c, const char *request, int status,
    const char *body)
{
	char	line[32], *b;

	c->len = 0;
	c->buf[0] = '\0';
	say(c, request);
	wait_responses(c, 1, 0, 2000);
	snprintf(line, sizeof(line), "HTTP/1.1 %d ", status);
	b = strstr(c->buf, "\r\n\r\n");
	return strncmp(c->buf, line, strlen(line)) == 0 && b != NULL &&
	    strncmp(b + 4, body, strlen(body)) == 0;
}

/* Runs the loop until the server has no connection open (or 3 s). */
static void
settle(void)
{
	struct http_server_stats	st;
	double				end = now() + 3;

	do {
		pump(10);
		http_server_stats(srv, &st);
	} while (st.open > 0 && now() < end);
}

static void
test_get(void)
{
	struct client *c = client_open();

	say(c, "GET /hello%20there?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
	wait_responses(c, 1, 0, 2000);
	ok(strncmp(c->buf, "HTTP/1.1 200 OK\r\n", 17) == 0, "GET: 200");
	ok(strstr(c->buf, "\r\nContent-Length: 12\r\n") != NULL,
	    "  Content-Length");
	ok(strstr(c->buf, "\r\n\r\n/hello there") != NULL &&
	    strlen(strstr(c->buf, "\r\n\r\n")) == 4 + 12,
	    "  the echoed path, and nothing more");
	ok(strstr(c->buf, "Connection: close") == NULL && c->eof == 0,
	    "  the connection stays open");

	/* Keep-alive: a second request on the same connection. */
	ok(exchange(c, "GET /second HTTP/1.1\r\nHost: h\r\n\r\n",
	    200, "/second"),
	    "keep-alive: a second request answered");
	c->len = 0;
	say(c, "GET /last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
	wait_responses(c, 1, 0, 2000);
	ok(strstr(c->buf, "Connection: close\r\n") != NULL &&
	    strstr(c->buf, "\r\n\r\n/last") != NULL,
	    "Connection: close: answered, says close");
	wait_eof(c, 2000);
	is_int(c->eof, 1, "  and closes");
	client_close(c);
}

static void
test_pipelined(void)
{
	struct client	*c = client_open();
	char		*a, *b;

	say(c, "GET /first HTTP/1.1\r\nHost: h\r\n\r\n"
	    "GET /second HTTP/1.1\r\nHost: h\r\n\r\n");
	wait_responses(c, 2, 0, 2000);
	is_int(responses(c, 0), 2, "pipelined: two responses");
	a = strstr(c->buf, "\r\n\r\n/first");
	b = strstr(c->buf, "\r\n\r\n/second");
	ok(a != NULL && b != NULL && a < b, "  in order");
	ok(c->eof == 0, "  the connection stays open");
	client_close(c);
}

static void
test_head(void)
{
	struct client *c = client_open();

	say(c, "HEAD /abc HTTP/1.1\r\nHost: h\r\n\r\n");
	wait_responses(c, 1, 1, 2000);
	pump(100);
	client_read(c);
	ok(strncmp(c->buf, "HTTP/1.1 200 OK\r\n", 17) == 0, "HEAD: 200");
	ok(strstr(c->buf, "\r\nContent-Length: 4\r\n") != NULL,
	    "  the length the body would have");
	ok(strstr(c->buf, "\r\n\r\n") != NULL &&
	    strlen(strstr(c->buf, "\r\n\r\n")) == 4, "  no body");
	ok(exchange(c, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n",
	    200, "/next"),
	    "  the next request on it answered");
	client_close(c);
}

static void
test_post(void)
{
	struct client	*c = client_open();
	char		 body[4096];
	double		 took;

	ok(exchange(c, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	    "\r\nhello", 200, "5:hello"),
	    "POST: the body reaches the handler");
	client_close(c);

	c = client_open();
	say(c, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 1025\r\n\r\n");
	memset(body, 'x', sizeof(body));
	client_send(c, body, 1025);
	wait_responses(c, 1, 0, 2000);
	ok(strncmp(c->buf, "HTTP/1.1 413 ", 13) == 0,
	    "a body over max_body: 413");
	wait_eof(c, 2000);
	is_int(c->eof, 1, "  and the connection closes");
	client_close(c);

	c = client_open();
	say(c, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2000\r\n"
	    "Expect: 100-continue\r\n\r\n");
	wait_responses(c, 1, 0, 2000);
	ok(strncmp(c->buf, "HTTP/1.1 413 ", 13) == 0,
	    "a body over max_body with Expect: 413, no 100 first");
	client_close(c);

	c = client_open();
	say(c, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n"
	    "okGET /after HTTP/1.1\r\nHost: h\r\n\r\n");
	wait_responses(c, 2, 0, 2000);
	ok(strstr(c->buf, "\r\n\r\n2:ok") != NULL &&
	    strstr(c->buf, "\r\n\r\n/after") != NULL,
	    "a request pipelined after a body: both answered");
	client_close(c);

	c = client_open();
	say(c, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n"
	    "abc");
	took = wait_eof(c, 3000);
	ok(strncmp(c->buf, "HTTP/1.1 408 ", 13) == 0 && c->eof == 1,
	    "a body that stops short: 408 and closed");
	ok(took > 0.9 && took < 1.5, "  after body_timeout (%.2f s)", took);
	client_close(c);

	/* Not all of it read when the server closes: no reset for that. */
	c = client_open();
	say(c, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n"
	    "\r\n");
	for (int i = 0; i < 8; i++)
		client_send(c, body, sizeof(body));
	wait_responses(c, 1, 0, 2000);
	ok(strncmp(c->buf, "HTTP/1.1 413 ", 13) == 0,
	    "413 with more of the body in flight: still read by the client");
	client_close(c);
}

static void
test_too_large(void)
{
	struct client	*c = client_open();
	char		 junk[HTTP_HEAD_MAX + 100];

	say(c, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	memset(junk, 'x', sizeof(junk));
	client_send(c, junk, sizeof(junk));
	wait_responses(c, 1, 0, 2000);
	ok(strncmp(c->buf, "HTTP/1.1 431 ", 13) == 0,
	    "a head over HTTP_HEAD_MAX: 431");
	wait_eof(c, 2000);
	is_int(c->eof, 1, "  and closed");
	client_close(c);
}

static void
test_idle(void)
{
	struct client	*c = client_open();
	double		 took;

	say(c, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	wait_responses(c, 1, 0, 2000);
	took = wait_eof(c, 3000);
	ok(strstr(c->buf, "\r\n\r\n/a") != NULL && c->eof == 1,
	    "a kept-alive connection left idle is closed");
	ok(took > 0.9 && took < 1.5, "  after idle_timeout (%.2f s)", took);
	client_close(c);
}

/* Sends s a byte per 0.3 s until the server closes (or s is sent). */
static void
trickle(struct client *c, const char *s)
{
	for (const char *p = s; *p && c->eof == 0; p++) {
		client_send(c, p, 1);
		for (double t = now() + 0.3; now() < t && c->eof == 0; ) {
			pump(10);
			client_read(c);
		}
	}
}

static void
test_trickle(void)
{
	const char	*req = "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n";
	struct client	*c = client_open(), *quiet = client_open();
	double		 start = now(), took;

	trickle(c, req);
	took = now() - start;
	ok(strncmp(c->buf, "HTTP/1.1 408 ", 13) == 0,
	    "a head trickled a byte per 0.3 s: 408");
	is_int(c->eof, 1, "  and closed");
	ok(took > 0.9 && took < 1.5, "  after header_timeout (%.2f s)", took);

	took = wait_eof(quiet, 3000) + took;
	ok(quiet->eof != 0 && quiet->len == 0,
	    "a connection that sends nothing is closed, unanswered");
	ok(took > 0.9 && took < 1.5, "  after header_timeout (%.2f s)", took);
	client_close(c);
	client_close(quiet);

	/* Silent at first, then trickling: the first head counts from accept. */
	c = client_open();
	start = now();
	pump(600);
	trickle(c, req);
	took = now() - start;
	ok(strncmp(c->buf, "HTTP/1.1 408 ", 13) == 0 && c->eof == 1,
	    "silent for 0.6 s, then trickling: 408 and closed");
	ok(took > 0.9 && took < 1.5, "  header_timeout after connecting, "
	    "not after the first byte (%.2f s)", took);
	client_close(c);
}

static void
test_evict(void)
{
	struct http_server_stats	 st;
	struct client			*c[5];
	uint64_t			 evicted;

	settle();
	http_server_stats(srv, &st);
	evicted = st.evicted;
	for (int i = 0; i < 4; i++) {
		c[i] = client_open();
		pump(20);
	}
	/* The first is active: the second is now the one idle longest. */
	say(c[0], "GET /busy HTTP/1.1\r\nHost: h\r\n\r\n");
	wait_responses(c[0], 1, 0, 500);
	c[4] = client_open();
	pump(50);
	for (int i = 0; i < 4; i++)
		client_read(c[i]);
	http_server_stats(srv, &st);
	is_int(st.evicted - evicted, 1, "a 5th connection evicts one");
	ok(c[1]->eof != 0, "  the one idle longest");
	ok(c[0]->eof == 0 && c[2]->eof == 0 && c[3]->eof == 0,
	    "  not the others (the first was active since)");
	is_int(st.open, 4, "  4 open");
	say(c[4], "GET /fifth HTTP/1.1\r\nHost: h\r\n\r\n");
	wait_responses(c[4], 1, 0, 500);
	ok(strstr(c[4]->buf, "\r\n\r\n/fifth") != NULL,
	    "  the 5th is served");
	for (int i = 0; i < 5; i++)
		client_close(c[i]);
	pump(20);
}

/* CPU seconds this process has used. */
static double
cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/*
 * Limits this process to the descriptors it holds now: the next accept
 * fails with EMFILE.  Returns the old limit, for fd_unlimit.
 */
static struct rlimit
fd_limit(void)
{
	struct rlimit	old, now;
	int		fd = dup(0);

	close(fd);
	getrlimit(RLIMIT_NOFILE, &old);
	now = old;
	now.rlim_cur = (rlim_t)fd;	/* 0 .. fd - 1 are all taken */
	setrlimit(RLIMIT_NOFILE, &now);
	return old;
}

static void
test_emfile(void)
{
	struct http_server_stats	 st;
	struct client			*a, *b;
	struct rlimit			 old;
	uint64_t			 evicted;
	double				 used;

	/* Out of descriptors, none to evict: wait, do not spin. */
	settle();
	a = client_open();
	old = fd_limit();
	used = cpu();
	pump(500);
	used = cpu() - used;
	http_server_stats(srv, &st);
	is_int(st.open, 0, "out of descriptors: nothing accepted");
	ok(used < 0.1, "  nor spun on (%.2f s of CPU in 0.5 s)", used);
	setrlimit(RLIMIT_NOFILE, &old);
	ok(exchange(a, "GET /later HTTP/1.1\r\nHost: h\r\n\r\n", 200,
	    "/later"), "  accepted and served once descriptors are back");

	/* Out of descriptors with one to evict: it makes room. */
	http_server_stats(srv, &st);
	evicted = st.evicted;
	b = client_open();
	old = fd_limit();
	pump(100);
	setrlimit(RLIMIT_NOFILE, &old);
	client_read(a);
	http_server_stats(srv, &st);
	is_int(st.evicted - evicted, 1, "out of descriptors: one evicted");
	ok(a->eof != 0, "  the one idle longest");
	ok(exchange(b, "GET /room HTTP/1.1\r\nHost: h\r\n\r\n", 200,
	    "/room"), "  the new one served");
	client_close(a);
	client_close(b);
}

static void
test_write_timeout(void)
{
	struct http_server_stats	 st;
	struct client			*c;
	uint64_t			 timeouts;
	int				 small = 4096;
	double				 start;

	settle();
	c = client_open();
	setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	http_server_stats(srv, &st);
	timeouts = st.timeouts;
	say(c, "GET /big HTTP/1.1\r\nHost: h\r\n\r\n");
	start = now();
	while (now() < start + 3) {
		pump(10);
		http_server_stats(srv, &st);
		if (st.timeouts > timeouts)
			break;
	}
	is_int(st.timeouts - timeouts, 1,
	    "an answer left unread: closed at a deadline");
	ok(now() - start > 0.9 && now() - start < 1.5,
	    "  after write_timeout (%.2f s)", now() - start);
	is_int(st.open, 0, "  no connection left open");
	client_close(c);
}

static void
test_continue(void)
{
	struct client *c = client_open();

	say(c, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	    "Expect: 100-continue\r\n\r\n");
	wait_responses(c, 1, 0, 500);
	is_str(c->buf, "HTTP/1.1 100 Continue\r\n\r\n",
	    "Expect: 100-continue: 100 before the body");
	ok(exchange(c, "hello",
	    200, "5:hello"),
	    "  then the answer to the body");
	client_close(c);
}

static void
test_malformed(void)
{
	struct client *c = client_open();

	say(c, "GARBAGE\r\n\r\n");
	wait_responses(c, 1, 0, 2000);
	ok(strncmp(c->buf, "HTTP/1.1 400 Bad Request\r\n", 26) == 0,
	    "a malformed request: 400");
	ok(strstr(c->buf, "Connection: close\r\n") != NULL, "  says close");
	wait_eof(c, 2000);
	is_int(c->eof, 1, "  and closes");
	client_close(c);
}

static void
test_http10(void)
{
	struct client *c = client_open();

	say(c, "GET /ten HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	wait_responses(c, 1, 0, 2000);
	ok(strstr(c->buf, "\r\n\r\n/ten") != NULL, "HTTP/1.0 keep-alive");
	ok(strstr(c->buf, "\r\nConnection: keep-alive\r\n") != NULL,
	    "  says keep-alive (a 1.0 client closes otherwise)");
	c->len = 0;
	say(c, "GET /again HTTP/1.0\r\n\r\n");
	wait_responses(c, 1, 0, 2000);
	ok(strstr(c->buf, "\r\n\r\n/again") != NULL &&
	    strstr(c->buf, "Connection: close\r\n") != NULL,
	    "HTTP/1.0 without: close");
	wait_eof(c, 2000);
	is_int(c->eof, 1, "  and closes");
	client_close(c);
}

int
main(void)
{
	struct http_server_conf	 conf;
	struct listen_addr	 la;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	signal(SIGPIPE, SIG_IGN);
	http_server_defaults(&conf);
	conf.max_connections = 4;
	conf.header_timeout = conf.body_timeout = 1;
	conf.idle_timeout = conf.write_timeout = 1;
	conf.max_body = 1024;
	/* listen_parse takes ports 1..65535; 0 asks the kernel for one. */
	if (listen_parse("127.0.0.1:1", &la, NULL) == -1)
		return 1;
	((struct sockaddr_in *)&la.ss)->sin_port = 0;
	if ((base = event_base_new()) == NULL ||
	    (fd = listen_open(&la, SOCK_STREAM, 0, 16)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1 ||
	    (srv = http_server_new(base, &conf, handler, NULL)) == NULL ||
	    http_server_listen(srv, fd) == -1) {
		perror("setup");
		return 1;
	}
	port = ntohs(sin.sin_port);

	test_get();
	test_pipelined();
	test_head();
	test_post();
	test_too_large();
	test_idle();
	test_trickle();
	test_evict();
	test_write_timeout();
	test_emfile();
	test_continue();
	test_malformed();
	test_http10();

	http_server_free(srv);		/* closes fd */
	event_base_free(base);
	return tap_done();
}
