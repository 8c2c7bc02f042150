/*
 * probe.c -- one relay test of one address, over libevent
 *
 * The sockets and timers around the smtp_client state machine: connect,
 * read lines (a line longer than the reply limit, or a buffer that grows
 * without one, ends the session as garbage), feed them, write what the
 * machine says, close when it says so, then the next session.  Memory is
 * bounded per probe: the session struct, one bufferevent, a transcript
 * capped at PROBE_TRANSCRIPT_MAX.  With a source address of the probed
 * family, each session's socket is bound there (port 0) before it
 * connects; without one the kernel chooses, as for any client.
 *
 * STARTTLS: the socket is ours, not the plain bufferevent's, so that on
 * the machine's SMTP_DO_STARTTLS the plain one is freed (with whatever
 * the server sent after its 220) and an OpenSSL bufferevent takes the
 * same descriptor; its BEV_EVENT_CONNECTED or error ends the handshake.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "log.h"
#include "probe.h"

#define PROBE_TRANSCRIPT_MAX	8192

struct probe {
	struct event_base	*base;
	const struct probe_conf	*conf;
	struct battery_ctx	 battery;
	probe_done_fn		 done;
	void			*arg;
	struct bufferevent	*bev;
	int			 fd;		/* a plain session's; -1 */
	SSL			*ssl;		/* handed to bev with the fd */
	struct event		*timer;		/* the stage's deadline */
	struct smtp_session	 s;
	int			 session;	/* index of the current one */
	int			 starttls;	/* enum smtp_starttls, now */
	struct probe_summary	 sum;
	struct smtp_transcript	 ts;
};

/* Issue 10: at most 16 KB a probe in flight, its connection included. */
_Static_assert(sizeof(struct probe) + PROBE_TRANSCRIPT_MAX <= 9 * 1024,
    "a probe in flight stays within 9 KB before its connection");

static void	start_session(struct probe *);
static void	end_session(struct probe *);

const struct addr *
probe_addr(const struct probe *pr)
{
	return &pr->battery.target;
}

void
probe_write_transcript(const struct probe *pr, FILE *fp)
{
	if (pr->ts.len > 0)
		fwrite(pr->ts.buf, 1, pr->ts.len, fp);
	/* A relay may deliver while the session that relayed goes on. */
	if (pr->s.end == SMTP_END_NONE)
		fprintf(fp, "--- session %d: in progress\n", pr->session + 1);
}

/*
 * Where every probe's commands and messages are put to be sent: copied
 * into the connection's buffer at once (act), so one serves them all.
 */
static char	probe_out[SMTP_OUT_MAX];

/* The words of attempt i of the current session, made when sent. */
static int
build_attempt(void *arg, int i, int part, char *buf, size_t size)
{
	struct probe *pr = arg;

	return battery_build(&pr->battery, pr->session * BATTERY_PER_SESSION +
	    i, part, buf, size);
}

/* Adds the decided attempts of the current session to sum. */
static void
count_attempts(const struct probe *pr, struct probe_summary *sum)
{
	for (int i = 0; i < pr->s.nattempts; i++) {
		const struct smtp_attempt *at = &pr->s.attempts[i];
		int form = pr->session * BATTERY_PER_SESSION + i;
		if (at->result == SMTP_R_PENDING)
			continue;
		sum->attempts++;
		if (at->result == SMTP_R_ACCEPTED) {
			sum->accepted++;
			if (sum->accepted_form < 0)
				sum->accepted_form = form;
		} else if (at->result == SMTP_R_REFUSED)
			sum->refused++;
		else {
			sum->tempfail++;
			if (at->state == SMTP_RCPT)
				sum->tempfail_rcpt++;
		}
	}
}

void
probe_summary(const struct probe *pr, struct probe_summary *out)
{
	*out = pr->sum;
	/* A relay may deliver while the session that relayed goes on. */
	if (pr->s.end == SMTP_END_NONE) {
		count_attempts(pr, out);
		if (pr->s.tls_refused)
			out->tls_refused++;
	}
}

/*
 * The deadline of what the probe waits for now: the connection, the
 * greeting, the reply to the last command (all its lines), the TLS
 * handshake.  Set when the wait starts and never moved by what arrives,
 * so a server that trickles a byte a minute holds a probe no longer than
 * one that says nothing.
 */
static void
set_deadline(struct probe *pr, int64_t seconds)
{
	struct timeval tv = { seconds, 0 };

	evtimer_add(pr->timer, &tv);
}

static void	start_tls(struct probe *);

static void
act(struct probe *pr, const struct smtp_action *a)
{
	switch (a->what) {
	case SMTP_DO_SEND:
		bufferevent_write(pr->bev, a->data, a->len);
		set_deadline(pr, pr->conf->timeout_command);
		break;
	case SMTP_DO_CLOSE:
		end_session(pr);
		break;
	case SMTP_DO_STARTTLS:
		start_tls(pr);
		break;
	default:
		break;
	}
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct probe		*pr = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct smtp_action	 a;
	char			*line;
	size_t			 len;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
		smtp_session_line(&pr->s, line, len, &a);
		free(line);
		act(pr, &a);
		if (a.what == SMTP_DO_CLOSE || a.what == SMTP_DO_STARTTLS)
			return;		/* bev is gone */
	}
	if (evbuffer_get_length(in) > SMTP_LINE_MAX) {
		/* A line without end: not SMTP. */
		smtp_session_line(&pr->s, "", 0, &a);
		act(pr, &a);
	}
}

/* The handshake after STARTTLS ended, well (ok) or not. */
static void
tls_done(struct probe *pr, int ok)
{
	struct smtp_action	 a;
	SSL			*ssl = bufferevent_openssl_get_ssl(pr->bev);
	char			 why[160];
	unsigned long		 e;

	if (ok && ssl != NULL) {
		snprintf(pr->sum.tls_what, sizeof(pr->sum.tls_what), "%s %s",
		    SSL_get_version(ssl), SSL_get_cipher_name(ssl));
		pr->sum.tls++;
		smtp_session_tls(&pr->s, 1, pr->sum.tls_what, &a);
	} else {
		if ((e = bufferevent_get_openssl_error(pr->bev)) != 0)
			ERR_error_string_n(e, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "connection closed or "
			    "timed out");
		pr->sum.tls_failed++;
		smtp_session_tls(&pr->s, 0, why, &a);
	}
	act(pr, &a);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct probe		*pr = arg;
	struct smtp_action	 a;

	(void)bev;
	if (pr->s.state == SMTP_TLS) {
		tls_done(pr, (what & BEV_EVENT_CONNECTED) != 0);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		set_deadline(pr, pr->conf->timeout_greeting);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		smtp_session_timeout(&pr->s, &a);
	else
		smtp_session_eof(&pr->s, &a);
	act(pr, &a);
}

/*
 * After the server's 220 to STARTTLS: whatever else it sent in plain
 * text is thrown away (RFC 3207 5: an injected reply must not be read as
 * one over TLS), and the connection goes on through OpenSSL.
 */
static void
start_tls(struct probe *pr)
{
	struct evbuffer		*in = bufferevent_get_input(pr->bev);
	struct bufferevent	*bev = NULL;
	struct smtp_action	 a;
	SSL			*ssl;
	char			 note[96];
	size_t			 stale = evbuffer_get_length(in);
	int			 n;

	if (stale > 0) {
		n = snprintf(note, sizeof(note), "%zu bytes sent with the 220 "
		    "to STARTTLS, discarded", stale);
		smtp_transcript_add(&pr->ts, "*", note, (size_t)n);
	}
	bufferevent_free(pr->bev);	/* not the descriptor: still ours */
	pr->bev = NULL;
	if ((ssl = SSL_new(pr->conf->tls)) != NULL)
		bev = bufferevent_openssl_socket_new(pr->base, pr->fd, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		if (ssl != NULL)
			SSL_free(ssl);
		/* A plain bufferevent again, only to end the session. */
		pr->sum.tls_failed++;
		smtp_session_tls(&pr->s, 0, "cannot start TLS here", &a);
		act(pr, &a);
		return;
	}
	pr->fd = -1;			/* bev closes it, and frees ssl */
	pr->bev = bev;
	bufferevent_setcb(bev, on_read, NULL, on_event, pr);
	bufferevent_enable(bev, EV_READ);
	set_deadline(pr, pr->conf->timeout_command);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct probe		*pr = arg;
	struct smtp_action	 a;

	(void)fd;
	(void)what;
	if (pr->s.state == SMTP_TLS) {
		tls_done(pr, 0);
		return;
	}
	smtp_session_timeout(&pr->s, &a);
	act(pr, &a);
}

static void
finish(struct probe *pr)
{
	pr->done(pr, pr->arg);
}

/* Frees the session's connection, whoever holds the descriptor. */
static void
close_connection(struct probe *pr)
{
	if (pr->bev != NULL) {
		bufferevent_free(pr->bev);
		pr->bev = NULL;
	}
	if (pr->fd != -1) {
		close(pr->fd);
		pr->fd = -1;
	}
}

/* Collects the session's results; starts the next one or finishes. */
static void
end_session(struct probe *pr)
{
	char	tail[96];
	int	n;

	close_connection(pr);
	event_del(pr->timer);
	n = snprintf(tail, sizeof(tail), "--- session %d: %s", pr->session + 1,
	    smtp_end_name(pr->s.end));
	smtp_transcript_add(&pr->ts, NULL, tail, (size_t)n);
	if (pr->s.tls_refused)
		pr->sum.tls_refused++;
	if (pr->s.end == SMTP_END_TLSFAIL) {
		/* Judged without TLS: this session again, and the rest. */
		pr->starttls = SMTP_STARTTLS_NEVER;
		start_session(pr);
		return;
	}
	count_attempts(pr, &pr->sum);
	pr->sum.last_end = pr->s.end;
	pr->sum.last_code = pr->s.last_code;
	if (pr->s.end != SMTP_END_OK) {
		pr->sum.complete = 0;
		finish(pr);
		return;
	}
	pr->session++;
	if (pr->session >= battery_sessions()) {
		pr->sum.complete = 1;
		finish(pr);
		return;
	}
	start_session(pr);
}

/* The sockaddr of a at port; returns its length. */
static socklen_t
sockaddr_of(const struct addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == ADDR_V4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		return sizeof(*sin6);
	}
}

/*
 * A non-blocking TCP socket bound to src, port 0.  Returns it, or -1
 * with errno set and nothing left open.
 */
static int
source_socket(const struct addr *src)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sockaddr_of(src, 0, &ss);
	int			fd, saved, on = 1;

	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
#ifdef IP_BIND_ADDRESS_NO_PORT
	/*
	 * The port is chosen at connect, per destination: a thousand probes
	 * from one source do not each hold an ephemeral port of their own.
	 */
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on,
	    sizeof(on));
#else
	(void)on;
#endif
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
probe_source_check(const struct addr *src)
{
	int fd;

	if ((fd = source_socket(src)) == -1)
		return -1;
	close(fd);
	return 0;
}

/* The configured source of the probed family, or NULL: the kernel's. */
static const struct addr *
session_source(const struct probe *pr)
{
	const struct addr *a = &pr->battery.target;
	const struct addr *src = a->family == ADDR_V4 ? &pr->conf->source4 :
	    &pr->conf->source6;

	return src->family == a->family ? src : NULL;
}

/* A session's socket: bound to the source, else the kernel's choice. */
static int
session_socket(const struct probe *pr)
{
	const struct addr *src = session_source(pr);

	if (src != NULL)
		return source_socket(src);
	return socket(pr->battery.target.family == ADDR_V4 ? AF_INET :
	    AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static void
start_session(struct probe *pr)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct smtp_action	 a;
	struct smtp_source	 words = { build_attempt, pr, probe_out };
	const struct addr	*src;
	char			 abuf[ADDR_STRLEN], sbuf[ADDR_STRLEN];
	char			 head[32];
	int			 n;

	smtp_session_init(&pr->s, pr->conf->domain,
	    battery_session_attempts(pr->session), &words, pr->starttls,
	    &pr->ts);
	n = snprintf(head, sizeof(head), "--- session %d", pr->session + 1);
	smtp_transcript_add(&pr->ts, NULL, head, (size_t)n);
	/* Names the session its state changes are logged under. */
	log_debug("%s: session %d is smtp %p", addr_format(&pr->battery.target,
	    abuf), pr->session + 1, (void *)&pr->s);
	pr->sum.sessions++;
	sslen = sockaddr_of(&pr->battery.target, pr->conf->port, &ss);
	/* A source is checked at start-up; one removed since fails here. */
	if ((pr->fd = session_socket(pr)) == -1) {
		if ((src = session_source(pr)) != NULL)
			log_warn("%s: cannot bind the source address %s", abuf,
			    addr_format(src, sbuf));
		else
			log_warn("%s: socket", abuf);
		smtp_session_eof(&pr->s, &a);
		act(pr, &a);
		return;
	}
	/* The descriptor stays ours: STARTTLS hands it on to OpenSSL. */
	if ((pr->bev = bufferevent_socket_new(pr->base, pr->fd, 0)) == NULL) {
		smtp_session_eof(&pr->s, &a);
		act(pr, &a);
		return;
	}
	bufferevent_setcb(pr->bev, on_read, NULL, on_event, pr);
	bufferevent_enable(pr->bev, EV_READ);
	set_deadline(pr, pr->conf->timeout_connect);
	if (bufferevent_socket_connect(pr->bev, (struct sockaddr *)&ss,
	    (int)sslen) == -1) {
		smtp_session_eof(&pr->s, &a);
		act(pr, &a);
	}
}

struct probe *
probe_start(struct event_base *base, const struct probe_conf *conf,
    const struct addr *addr, int64_t now, probe_done_fn done, void *arg)
{
	struct probe *pr;

	if ((pr = calloc(1, sizeof(*pr))) == NULL) {
		log_warn("probe");
		return NULL;
	}
	pr->base = base;
	pr->conf = conf;
	pr->fd = -1;
	pr->battery.domain = conf->domain;
	pr->battery.info_url = conf->info_url;
	pr->battery.key = conf->key;
	pr->battery.keylen = conf->keylen;
	pr->battery.target = *addr;
	pr->battery.now = now;
	pr->starttls = conf->tls != NULL ? conf->starttls :
	    SMTP_STARTTLS_NEVER;
	pr->ts.max = PROBE_TRANSCRIPT_MAX;
	pr->done = done;
	pr->arg = arg;
	pr->sum.accepted_form = -1;
	if ((pr->timer = evtimer_new(base, on_deadline, pr)) == NULL) {
		free(pr);
		return NULL;
	}
	start_session(pr);
	return pr;
}

void
probe_free(struct probe *pr)
{
	if (pr == NULL)
		return;
	close_connection(pr);
	event_free(pr->timer);
	smtp_transcript_free(&pr->ts);
	free(pr);
}

struct ssl_ctx_st *
probe_tls_new(void)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		log_warnx("TLS: %s", ERR_error_string(ERR_get_error(), NULL));
		return NULL;
	}
	/*
	 * Whatever the server speaks, however old: a relay that talks only
	 * TLS 1.0 with a 1024-bit key relays all the same.
	 */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, 0);
	(void)SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
	SSL_CTX_set_options(ctx, SSL_OP_LEGACY_SERVER_CONNECT |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* A thousand probes in flight: no idle 34 KB of buffers each. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
}

void
probe_tls_free(struct ssl_ctx_st *ctx)
{
	SSL_CTX_free(ctx);
}
