/*
 * null_responder.c -- the ceiling for make bench-dns: a UDP "server" that
 * answers every datagram by flipping it into a response (QR set, rcode
 * NXDOMAIN) without reading it, batched with recvmmsg(MSG_WAITFORONE) and
 * sendmmsg like dnsbld.  Its queries per CPU-second are what the kernel's
 * loopback UDP path allows any user-space server on this machine; a DNS
 * server can only come below it.
 *
 *   null_responder PORT
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH	64

int
main(int argc, char **argv)
{
	static struct mmsghdr		m[BATCH];
	static struct iovec		io[BATCH];
	static struct sockaddr_in	peer[BATCH];
	static unsigned char		buf[BATCH][512];
	struct sockaddr_in		sin;
	int				fd, n;

	if (argc != 2) {
		fprintf(stderr, "usage: null_responder PORT\n");
		return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("null_responder");
		return 1;
	}
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			io[i].iov_base = buf[i];
			io[i].iov_len = sizeof(buf[i]);
			m[i].msg_hdr.msg_iov = &io[i];
			m[i].msg_hdr.msg_iovlen = 1;
			m[i].msg_hdr.msg_name = &peer[i];
			m[i].msg_hdr.msg_namelen = sizeof(peer[i]);
		}
		if ((n = recvmmsg(fd, m, BATCH, MSG_WAITFORONE, NULL)) <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			if (m[i].msg_len < 12)
				continue;
			buf[i][2] |= 0x80;
			buf[i][3] = (buf[i][3] & 0xf0) | 3;
			io[i].iov_len = m[i].msg_len;
		}
		sendmmsg(fd, m, n, 0);
	}
}
