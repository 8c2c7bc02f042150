/*
 * udp.c -- dnsbld's UDP: one thread per socket, answering in batches
 *
 * A blocking recvmmsg(MSG_WAITFORONE) returns as soon as one query is
 * there with every other one already queued, so under load one pair of
 * system calls answers a whole batch, from one store snapshot, and no
 * readiness notification is paid for.  The socket's receive timeout wakes
 * the thread now and then to see whether dnsbld is stopping.  A datagram
 * longer than the buffer is dropped, not answered from its first part.
 * Before a query is read, its client's access rule may drop it; after it
 * is answered, response rate limiting may drop the reply or send it
 * truncated.  Both cost nothing when not configured.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "rrl.h"
#include "server.h"

#define BATCH		64

struct udp_server {
	struct worker		*w;
	int			 fd;
	pthread_t		 thread;
	struct store_reader	*rd;
	struct answer_counters	 cnt;
	struct rrl		*rrl;		/* NULL: not limited */
	struct mmsghdr		 inm[BATCH], outm[BATCH];
	struct iovec		 iniov[BATCH], outiov[BATCH];
	struct sockaddr_storage	 peers[BATCH];
	uint8_t			 inbuf[BATCH][PKT_MAX];
	uint8_t			 outbuf[BATCH][PKT_MAX];
};

static void	*udp_serve(void *);

static uint32_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}

/*
 * Answers query i of the batch into outbuf[m] for its client.  Returns
 * the reply's length, or 0 for no reply (dropped, discarded, limited).
 */
static size_t
udp_answer(struct udp_server *u, struct zoneset *zs, struct access *ac,
    struct keyset *ks, int i, int m, uint32_t now)
{
	struct dnsbld		*d = u->w->d;
	struct answer_client	 cl = { ACCESS_ANSWER, ks };
	struct addr		 peer;
	size_t			 len;

	if (ac != NULL || u->rrl != NULL)
		dnsbld_peer(&u->peers[i], &peer);
	if (ac != NULL && (cl.action = access_lookup(ac, &peer)) ==
	    ACCESS_DROP) {
		u->cnt.dropped[ANS_D_ACCESS]++;
		return 0;
	}
	if (answer_query_client(zs, u->rd, &d->conf, &cl, u->inbuf[i],
	    u->inm[i].msg_len, u->outbuf[m], PKT_MAX, &len, 0, &u->cnt) !=
	    ANSWER_PROCESSED)
		return 0;	/* discarded; no transfer is ever over UDP */
	if (u->rrl != NULL) {
		switch (rrl_check(u->rrl, &peer, now)) {
		case RRL_SEND:
			break;
		case RRL_SLIP:
			answer_slip(u->outbuf[m], &len);
			u->cnt.rrl_slipped++;
			break;
		default:
			u->cnt.dropped[ANS_D_RATE_LIMITED]++;
			return 0;
		}
	}
	return len;
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
	uint32_t		 now = 0;

	while (!__atomic_load_n(&d->stopping, __ATOMIC_RELAXED)) {
		for (int i = 0; i < BATCH; i++) {
			u->inm[i].msg_hdr.msg_namelen = sizeof(u->peers[i]);
			u->inm[i].msg_hdr.msg_flags = 0;
		}
		n = recvmmsg(u->fd, u->inm, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;	/* timeout, signal, or a passing error */
		struct zoneset *zs = dnsbld_zones(d);
		struct access *ac = dnsbld_access(d);
		struct keyset *ks = dnsbld_keys(d);
		if (u->rrl != NULL)
			now = now_s();
		store_reader_begin(u->rd);
		for (int i = m = 0; i < n; i++) {
			if (u->inm[i].msg_hdr.msg_flags & MSG_TRUNC) {
				/* Not the whole datagram: not a query. */
				u->cnt.dropped[ANS_D_OVERSIZED]++;
				continue;
			}
			size_t len = udp_answer(u, zs, ac, ks, i, m, now);
			if (len == 0)
				continue;
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
				u->cnt.dropped[ANS_D_SEND_FAILED] += m - sent;
				break;
			}
		}
	}
	return NULL;
}

struct udp_server *
udp_server_new(struct worker *w, const struct listen_addr *la)
{
	struct udp_server	*u;
	struct timeval		 tv = { 0, 250000 };

	if ((u = calloc(1, sizeof(*u))) == NULL)
		fatal("udp server");
	u->w = w;
	if ((u->fd = listen_open(la, SOCK_DGRAM, DNSBLD_LISTEN_FLAGS, 0)) ==
	    -1)
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
	if (w->d->rrl_rate > 0 && (u->rrl = rrl_new(w->d->rrl_rate,
	    w->d->rrl_slip, w->d->rrl_size)) == NULL)
		fatal("rate limiting table");
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

void
udp_server_free(struct udp_server *u)
{
	close(u->fd);
	store_reader_free(u->rd);
	rrl_free(u->rrl);
	free(u);
}

void
udp_server_start(struct udp_server *u)
{
	if (pthread_create(&u->thread, NULL, udp_serve, u) != 0)
		fatalx("cannot start worker %d", u->w->id);
}

void
udp_server_join(struct udp_server *u)
{
	pthread_join(u->thread, NULL);
}

const struct answer_counters *
udp_server_counters(const struct udp_server *u)
{
	return &u->cnt;
}
