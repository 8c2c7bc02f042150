/*
 * transfer.c -- zone transfers out of dnsbld: who may, and who sends
 *
 * A TCP query for AXFR or IXFR leaves the worker's event loop: tcp.c
 * hands its descriptor here (with any answers still queued for it) and
 * forgets the connection.  Each transfer runs on its own thread with
 * blocking writes ([dns] transfer_timeout bounds each message: a
 * secondary that stops reading, or reads a byte now and then, is cut off),
 * its own store reader holding one snapshot for the whole transfer, and
 * a copy of its zone (a reload may free the zone set meanwhile); the
 * messages come from xfr.c, one message of memory whatever the zone's
 * size.  At most [dns] max_transfers run at once; more are refused.
 *
 * Who may: [dns] allow_transfer, a comma-separated list of "CIDR" or
 * "CIDR KEYNAME" entries; the longest prefix holding the peer decides.
 * No entry: REFUSED.  An entry with a key requires a request signed with
 * it (TSIG, RFC 8945, hmac-sha256; the keys in [dns] tsig_keys_file):
 * unsigned or wrongly signed gets REFUSED (NOTAUTH with the TSIG error
 * when the signature is bad, RFC 8945 5.2).  The transfer's messages are
 * then signed with that key, every one of them.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "xfr.h"

#define XFR_SNDBUF		(1 << 20)	/* bytes the kernel may queue */

struct job {
	struct dnsbld	*d;
	int		 fd;
	struct addr	 peer;
	uint8_t		 query[PKT_MAX];
	size_t		 qlen;
	int		 signed_;	/* the request was, with ts.key */
	struct tsig_state ts;
	uint8_t		*pending;	/* answers queued before the transfer */
	size_t		 plen;
	int		 stalled;	/* cut off: the peer did not read */
};

/* Parses "CIDR [KEY], ...".  0 or -1 (logged). */
int
transfer_config(struct dnsbld *d, const char *list)
{
	char		 buf[4096], *item, *save;
	const char	*err;

	d->nacl = 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (item = strtok_r(buf, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		struct xfr_acl	*a;
		char		 cidr[64], key[256], extra[2];
		int		 n = sscanf(item, "%63s %255s %1s", cidr, key,
				    extra);

		if (n <= 0)
			continue;
		if (n > 2 || d->nacl == XFR_ACL_MAX) {
			log_warnx("%s: [dns] allow_transfer: \"%s\": want "
			    "\"CIDR\" or \"CIDR KEYNAME\"%s", config_name(d->cfg),
			    item, d->nacl == XFR_ACL_MAX ? " (too many)" : "");
			return -1;
		}
		a = &d->acl[d->nacl];
		memset(a, 0, sizeof(*a));
		if (addr_parse(cidr, &a->net, &err) == -1) {
			log_warnx("%s: [dns] allow_transfer: \"%s\": %s",
			    config_name(d->cfg), cidr, err);
			return -1;
		}
		if (n == 2)
			snprintf(a->key, sizeof(a->key), "%s", key);
		d->nacl++;
	}
	return 0;
}

/* The entry deciding for peer (longest prefix), or NULL. */
static const struct xfr_acl *
acl_find(const struct dnsbld *d, const struct addr *peer)
{
	const struct xfr_acl *best = NULL;

	for (int i = 0; i < d->nacl; i++)
		if (addr_contains(&d->acl[i].net, peer) &&
		    (best == NULL || d->acl[i].net.plen > best->net.plen))
			best = &d->acl[i];
	return best;
}

/*
 * Writes all of msg, blocking.  Each send() waits at most transfer_timeout
 * (SO_SNDTIMEO) and the whole message must go within it too, so that a
 * reader of a byte now and then cannot hold the thread.  0 or -1.
 */
static int
send_all(void *arg, const uint8_t *msg, size_t len)
{
	struct job	*j = arg;
	struct timespec	 t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (len > 0) {
		ssize_t n;
		if (__atomic_load_n(&j->d->stopping, __ATOMIC_RELAXED))
			return -1;	/* dnsbld is stopping: cut it short */
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > j->d->xfr_timeout) {
			j->stalled = 1;
			return -1;
		}
		n = send(j->fd, msg, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			j->stalled = n == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK);
			return -1;
		}
		msg += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Signs a message of the transfer (every one) with the request's key. */
static int
sign(void *arg, uint8_t *msg, size_t len, size_t size, int first)
{
	struct job *j = arg;

	(void)first;
	return tsig_sign_response(&j->ts, msg, len, size, (int64_t)time(NULL));
}

static void
refuse(struct job *j, int rcode, const char *why)
{
	uint8_t	out[2 + 12 + 512 + XFR_TSIG_ROOM];
	size_t	n = xfr_refusal(j->query, j->qlen, rcode, out,
		    sizeof(out) - XFR_TSIG_ROOM);
	char	abuf[ADDR_STRLEN];
	int	m;

	/* A signed request gets a signed answer, refusals too. */
	if (n > 0 && j->signed_) {
		if ((m = sign(j, out + 2, n - 2, sizeof(out) - 2, 1)) < 0)
			n = 0;
		else {
			out[0] = (uint8_t)(m >> 8);
			out[1] = (uint8_t)m;
			n = (size_t)m + 2;
		}
	}
	if (n > 0)
		(void)send_all(j, out, n);
	log_info("transfer to %s refused: %s", addr_format(&j->peer, abuf),
	    why);
	__atomic_add_fetch(&j->d->xfr_refused, 1, __ATOMIC_RELAXED);
}

/* The zone asked for, as a copy the reload cannot free. */
static int
zone_copy(struct dnsbld *d, const struct job *j, struct zone *z,
    struct zone_glue **glue)
{
	const struct zone *found;

	*glue = NULL;
	if ((found = xfr_zone(dnsbld_zones(d), j->query, j->qlen)) == NULL)
		return -1;
	*z = *found;
	if (found->nglue > 0) {
		if ((*glue = calloc((size_t)found->nglue, sizeof(**glue))) ==
		    NULL)
			return -1;
		memcpy(*glue, found->glue, (size_t)found->nglue *
		    sizeof(**glue));
		z->glue = *glue;
	}
	return 0;
}

/*
 * A TSIG on the request: verified (then the request is read without it,
 * and the transfer signed with its key), or answered with the TSIG error
 * (NOTAUTH: RFC 8945 5.2) and -1.  No TSIG: 0, unsigned.
 */
static int
check_tsig(struct job *j)
{
	uint8_t		out[2 + 12 + 512 + XFR_TSIG_ROOM];
	char		abuf[ADDR_STRLEN];
	size_t		off, n;
	int		m, ar;
	enum tsig_result r;

	r = tsig_verify_request(&j->d->tsig, j->query, j->qlen,
	    (int64_t)time(NULL), &j->ts, &off);
	if (r == TSIG_NONE)
		return 0;
	if (r == TSIG_OK) {
		/* The request as it was before it was signed. */
		ar = j->query[10] << 8 | j->query[11];
		j->qlen = off;
		j->query[10] = (uint8_t)((ar - 1) >> 8);
		j->query[11] = (uint8_t)(ar - 1);
		j->signed_ = 1;
		return 0;
	}
	n = xfr_refusal(j->query, j->qlen, XFR_NOTAUTH, out,
	    sizeof(out) - XFR_TSIG_ROOM);
	if (n > 0 && (m = tsig_error_response(&j->ts, r, out + 2, n - 2,
	    sizeof(out) - 2, (int64_t)time(NULL))) > 0) {
		out[0] = (uint8_t)(m >> 8);
		out[1] = (uint8_t)m;
		(void)send_all(j, out, (size_t)m + 2);
	}
	log_info("transfer to %s refused: TSIG %s",
	    addr_format(&j->peer, abuf), tsig_result_name(r));
	__atomic_add_fetch(&j->d->xfr_refused, 1, __ATOMIC_RELAXED);
	return -1;
}

static void
run_job(struct job *j)
{
	struct dnsbld		*d = j->d;
	struct zone		*z;
	struct zone_glue	*glue = NULL;
	struct store_reader	*rd = NULL;
	const struct xfr_acl	*acl;
	struct xfr		*x = NULL;
	struct xfr_io		 io = { send_all, NULL, j };
	struct timespec		 t0, t1;
	char			 abuf[ADDR_STRLEN];
	char			 how[160];
	int			 rc;

	if (j->plen > 0 && send_all(j, j->pending, j->plen) == -1)
		return;
	if (check_tsig(j) == -1)
		return;
	if ((acl = acl_find(d, &j->peer)) == NULL) {
		refuse(j, XFR_REFUSED, "not in allow_transfer");
		return;
	}
	if (acl->key[0] && (!j->signed_ ||
	    tsig_keys_find(&d->tsig, acl->key) != j->ts.key)) {
		refuse(j, XFR_REFUSED, j->signed_ ? "signed with another key" :
		    "unsigned: allow_transfer wants a TSIG key");
		return;
	}
	if (j->signed_)
		io.sign = sign;
	if ((z = malloc(sizeof(*z))) == NULL ||
	    (x = malloc(sizeof(*x))) == NULL) {
		free(z);
		return;
	}
	if (zone_copy(d, j, z, &glue) == -1) {
		refuse(j, XFR_NOTAUTH, "not a zone we serve");
		goto done;
	}
	if ((rd = store_reader_new(d->st)) == NULL ||
	    store_reader_begin(rd) == -1) {
		refuse(j, XFR_SERVFAIL, "the store failed");
		goto done;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = xfr_run(x, &io, z, rd, &d->conf, j->query, j->qlen);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (x->incremental)
		snprintf(how, sizeof(how), "IXFR (incremental: %llu prefixes "
		    "changed, %llu records deleted, %llu added)",
		    (unsigned long long)x->changes,
		    (unsigned long long)x->deleted,
		    (unsigned long long)x->added);
	else
		snprintf(how, sizeof(how), "%s", !x->ixfr ? "AXFR" :
		    x->up_to_date ? "IXFR (up to date)" : "IXFR (in full)");
	log_info("%s of %s serial %u to %s: %s, %llu records in %llu "
	    "messages, %llu bytes, %.2f s", how, z->name, store_zone_serial(rd),
	    addr_format(&j->peer, abuf), rc == 0 ? "done" : j->stalled ?
	    "cut short (not read for transfer_timeout)" : "cut short",
	    (unsigned long long)x->rrs, (unsigned long long)x->msgs,
	    (unsigned long long)x->bytes, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (rc == 0)
		__atomic_add_fetch(&d->xfr_kind[!x->ixfr ? XFR_KIND_AXFR :
		    x->incremental ? XFR_KIND_IXFR : x->up_to_date ?
		    XFR_KIND_IXFR_UP_TO_DATE : XFR_KIND_IXFR_FULL], 1,
		    __ATOMIC_RELAXED);
	__atomic_add_fetch(rc == 0 ? &d->xfr_done : &d->xfr_failed, 1,
	    __ATOMIC_RELAXED);
	store_reader_end(rd);
done:
	store_reader_free(rd);
	free(glue);
	free(z);
	free(x);
}

static void *
job_thread(void *arg)
{
	struct job *j = arg;

	run_job(j);
	close(j->fd);
	__atomic_sub_fetch(&j->d->xfr_running, 1, __ATOMIC_RELAXED);
	free(j->pending);
	free(j);
	return NULL;
}

void
transfer_start(struct dnsbld *d, int fd, const struct addr *peer,
    const uint8_t *query, size_t qlen, const uint8_t *pending, size_t plen)
{
	struct timeval	 tv = { d->xfr_timeout, 0 };
	int		 sndbuf = XFR_SNDBUF;
	struct job	*j;
	pthread_t	 t;
	pthread_attr_t	 attr;
	int		 flags;

	if ((j = calloc(1, sizeof(*j))) == NULL || qlen > sizeof(j->query) ||
	    (plen > 0 && (j->pending = malloc(plen)) == NULL)) {
		free(j);
		close(fd);
		return;
	}
	j->d = d;
	j->fd = fd;
	j->peer = *peer;
	memcpy(j->query, query, qlen);
	j->qlen = qlen;
	if (plen > 0)
		memcpy(j->pending, pending, plen);
	j->plen = plen;
	if ((flags = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	/*
	 * The listener gave every connection an 8 KB send buffer, right for
	 * answers and wrong for a stream of megabytes: blocked on it, a 1M
	 * listing transfer took 8.5 s instead of 4.3 (bench-axfr).  The
	 * kernel caps the size at net.core.wmem_max.
	 */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (__atomic_add_fetch(&d->xfr_running, 1, __ATOMIC_RELAXED) >
	    d->xfr_max) {
		refuse(j, XFR_REFUSED,
		    "too many transfers at once (max_transfers)");
		job_thread(j);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, job_thread, j) != 0) {
		log_warnx("transfer: cannot start a thread");
		job_thread(j);
	}
	pthread_attr_destroy(&attr);
}
