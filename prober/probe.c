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
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "probe.h"

#define PROBE_TRANSCRIPT_MAX	(4 * SMTP_TRANSCRIPT_MAX)

struct probe {
	struct event_base	*base;
	struct probe_params	 p;
	probe_done_fn		 done;
	void			*arg;
	struct bufferevent	*bev;
	struct event		*timer;		/* connect timeout */
	struct smtp_session	 s;
	int			 session;	/* index of the current one */
	struct probe_summary	 sum;
	struct smtp_attempt	 att[BATTERY_PER_SESSION];
	int			 natt;
	char			 transcript[PROBE_TRANSCRIPT_MAX];
	size_t			 tlen;
};

static void	start_session(struct probe *);
static void	end_session(struct probe *);

const struct addr *
probe_addr(const struct probe *pr)
{
	return &pr->p.addr;
}

void
probe_write_transcript(const struct probe *pr, FILE *fp)
{
	fwrite(pr->transcript, 1, pr->tlen, fp);
	/* A relay may deliver while the session that relayed goes on. */
	if (pr->s.end == SMTP_END_NONE && pr->s.transcript_len > 0) {
		fprintf(fp, "--- session %d: in progress\n", pr->session + 1);
		fwrite(pr->s.transcript, 1, pr->s.transcript_len, fp);
	}
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
	if (pr->s.end == SMTP_END_NONE)
		count_attempts(pr, out);
}

static void
append_transcript(struct probe *pr, const char *text, size_t len)
{
	size_t room = sizeof(pr->transcript) - pr->tlen - 1;

	if (len > room)
		len = room;
	memcpy(pr->transcript + pr->tlen, text, len);
	pr->tlen += len;
	pr->transcript[pr->tlen] = '\0';
}

static void
set_timeout(struct probe *pr, int64_t seconds)
{
	struct timeval tv = { seconds, 0 };

	bufferevent_set_timeouts(pr->bev, &tv, &tv);
}

static void
act(struct probe *pr, const struct smtp_action *a)
{
	switch (a->what) {
	case SMTP_DO_SEND:
		bufferevent_write(pr->bev, a->data, a->len);
		set_timeout(pr, pr->p.timeout_command);
		break;
	case SMTP_DO_CLOSE:
		end_session(pr);
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
		if (a.what == SMTP_DO_CLOSE)
			return;		/* pr->bev is gone */
	}
	if (evbuffer_get_length(in) > SMTP_LINE_MAX) {
		/* A line without end: not SMTP. */
		smtp_session_line(&pr->s, "", 0, &a);
		act(pr, &a);
	}
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct probe		*pr = arg;
	struct smtp_action	 a;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		event_del(pr->timer);
		set_timeout(pr, pr->p.timeout_greeting);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		smtp_session_timeout(&pr->s, &a);
	else
		smtp_session_eof(&pr->s, &a);
	act(pr, &a);
}

static void
on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct probe		*pr = arg;
	struct smtp_action	 a;

	(void)fd;
	(void)what;
	smtp_session_timeout(&pr->s, &a);
	act(pr, &a);
}

static void
finish(struct probe *pr)
{
	pr->done(pr, pr->arg);
}

/* Collects the session's results; starts the next one or finishes. */
static void
end_session(struct probe *pr)
{
	char head[128];

	if (pr->bev != NULL) {
		bufferevent_free(pr->bev);
		pr->bev = NULL;
	}
	event_del(pr->timer);
	count_attempts(pr, &pr->sum);
	pr->sum.last_end = pr->s.end;
	pr->sum.last_code = pr->s.last_code;
	snprintf(head, sizeof(head), "--- session %d: %s\n", pr->session + 1,
	    smtp_end_name(pr->s.end));
	append_transcript(pr, head, strlen(head));
	append_transcript(pr, pr->s.transcript, pr->s.transcript_len);
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
	const struct addr *src = pr->p.addr.family == ADDR_V4 ?
	    &pr->p.source4 : &pr->p.source6;

	return src->family == pr->p.addr.family ? src : NULL;
}

static void
start_session(struct probe *pr)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct timeval		 tv = { pr->p.timeout_connect, 0 };
	struct smtp_action	 a;
	const struct addr	*src;
	char			 abuf[ADDR_STRLEN], sbuf[ADDR_STRLEN];
	int			 fd = -1;

	pr->natt = battery_session(&pr->p.battery, pr->session, pr->att);
	smtp_session_init(&pr->s, pr->p.battery.domain, pr->att,
	    pr->natt > 0 ? pr->natt : 0);
	/* Names the session its state changes are logged under. */
	log_debug("%s: session %d is smtp %p", addr_format(&pr->p.addr, abuf),
	    pr->session + 1, (void *)&pr->s);
	pr->sum.sessions++;
	sslen = sockaddr_of(&pr->p.addr, pr->p.port, &ss);
	/* Checked at start-up; an address removed since fails the session. */
	if ((src = session_source(pr)) != NULL &&
	    (fd = source_socket(src)) == -1) {
		log_warn("%s: cannot bind the source address %s", abuf,
		    addr_format(src, sbuf));
		smtp_session_eof(&pr->s, &a);
		act(pr, &a);
		return;
	}
	pr->bev = bufferevent_socket_new(pr->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (pr->bev == NULL) {
		if (fd != -1)
			close(fd);
		smtp_session_eof(&pr->s, &a);
		act(pr, &a);
		return;
	}
	bufferevent_setcb(pr->bev, on_read, NULL, on_event, pr);
	bufferevent_enable(pr->bev, EV_READ);
	evtimer_add(pr->timer, &tv);
	if (bufferevent_socket_connect(pr->bev, (struct sockaddr *)&ss,
	    (int)sslen) == -1) {
		smtp_session_eof(&pr->s, &a);
		act(pr, &a);
	}
}

struct probe *
probe_start(struct event_base *base, const struct probe_params *params,
    probe_done_fn done, void *arg)
{
	struct probe *pr;

	if ((pr = calloc(1, sizeof(*pr))) == NULL) {
		log_warn("probe");
		return NULL;
	}
	pr->base = base;
	pr->p = *params;
	pr->p.battery.domain = pr->p.domain;
	pr->p.battery.info_url = pr->p.info_url;
	pr->done = done;
	pr->arg = arg;
	pr->sum.accepted_form = -1;
	if ((pr->timer = evtimer_new(base, on_connect_timeout, pr)) == NULL) {
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
	if (pr->bev != NULL)
		bufferevent_free(pr->bev);
	event_free(pr->timer);
	free(pr);
}
