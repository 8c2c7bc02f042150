/*
 * listen.h -- listen addresses: "ADDR:PORT" parsed strictly, then bound
 *
 * Every program that takes traffic names its sockets the same way: an
 * IPv4 address and a port ("127.0.0.1:5353"), or an IPv6 address in
 * brackets and a port ("[::1]:5353", "[::ffff:127.0.0.1]:25").  Parsing
 * touches no socket; opening makes a non-blocking, close-on-exec socket
 * bound to the address (and listening, for a stream).  Nothing allocates.
 */
#ifndef RELAYBL_LISTEN_H
#define RELAYBL_LISTEN_H

#include <sys/socket.h>

#define LISTEN_TEXT_MAX	64	/* longest "[v6]:port" and the NUL */

struct listen_addr {
	struct sockaddr_storage	ss;
	socklen_t		len;	/* of the sockaddr in ss */
	char			text[LISTEN_TEXT_MAX];	/* as given, for logs */
};

/*
 * Parses s: an IPv4 address, or an IPv6 address in brackets, then ':' and
 * a port of 1 to 65535 in decimal digits only (no sign, no space, nothing
 * after it).  Brackets around IPv4, an IPv6 address without brackets, an
 * empty host or port are refused.  Returns 0 with la filled in, or -1 with
 * *err (when err is not NULL) pointing to a static phrase saying why.
 */
int	listen_parse(const char *s, struct listen_addr *la, const char **err);

/*
 * Parses a list of such addresses separated by commas or blanks (a
 * configuration's "listen") into la[*n], la[*n + 1], ..., at most max in
 * all, counting *n up.  Returns 0, or -1 with the address at fault copied
 * into bad (badsize bytes) and *err saying why (listen_parse's, or "too
 * many addresses").
 */
int	listen_parse_list(const char *list, struct listen_addr *la, int max,
	    int *n, char *bad, size_t badsize, const char **err);

/* Flags of listen_open(). */
#define LISTEN_REUSEPORT 0x01	/* SO_REUSEPORT: one socket per thread */
#define LISTEN_V6ONLY	 0x02	/* IPv6: IPV6_V6ONLY ("[::]" is not v4) */

/*
 * Opens a socket of type (SOCK_DGRAM or SOCK_STREAM) on la: non-blocking,
 * close-on-exec, SO_REUSEADDR, and the options in flags; a stream socket
 * listens with backlog.  Returns the descriptor (the caller closes it),
 * or -1 with errno set and nothing left open.
 */
int	listen_open(const struct listen_addr *la, int type, int flags,
	    int backlog);

#endif
