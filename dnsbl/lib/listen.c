/*
 * listen.c -- listen addresses: "ADDR:PORT" parsed strictly, then bound
 *
 * The host part goes to inet_pton(), which accepts nothing but a whole
 * address; brackets decide the family, so "[1.2.3.4]:53" and "::1:53"
 * (which could be read two ways) are refused rather than guessed at.  The
 * port is read digit by digit: strtol() and atoi() would take " 53",
 * "+53" or "53x".
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"

/* Decimal digits only, 1..65535.  Returns the port or -1. */
static long
parse_port(const char *s)
{
	long port = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		port = port * 10 + (*s - '0');
		if (port > 65535)
			return -1;
	}
	return port == 0 ? -1 : port;
}

/* Splits s into host (copied into host) and port text.  Returns v6 or -1. */
static int
split(const char *s, char *host, size_t hostsize, const char **port,
    const char **err)
{
	const char	*h = s, *end;
	int		 v6 = *s == '[';

	if (v6) {
		h = s + 1;
		if ((end = strchr(h, ']')) == NULL) {
			*err = "no ']' after the IPv6 address";
			return -1;
		}
		if (end[1] != ':') {
			*err = "no ':PORT' after the address";
			return -1;
		}
	} else if ((end = strrchr(s, ':')) == NULL) {
		*err = "no ':PORT' after the address";
		return -1;
	} else if (memchr(s, ':', (size_t)(end - s)) != NULL) {
		*err = "an IPv6 address needs brackets: [ADDR]:PORT";
		return -1;
	}
	if (end == h) {
		*err = "empty address";
		return -1;
	}
	if ((size_t)(end - h) >= hostsize) {
		*err = "address too long";
		return -1;
	}
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	*port = end + (v6 ? 2 : 1);
	return v6;
}

/* Fills la from host text (of the family v6 says) and port. */
static const char *
set_addr(struct listen_addr *la, const char *host, int v6, long port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&la->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&la->ss;

	if (!v6 && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		la->len = sizeof(*sin);
		return NULL;
	}
	if (v6 && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		la->len = sizeof(*sin6);
		return NULL;
	}
	return v6 ? "not an IPv6 address" : "not an IPv4 address";
}

int
listen_parse(const char *s, struct listen_addr *la, const char **err)
{
	char		 host[INET6_ADDRSTRLEN];
	const char	*port_text, *why = NULL;
	long		 port = -1;
	int		 v6 = -1;

	memset(la, 0, sizeof(*la));
	if (strlen(s) >= sizeof(la->text))
		why = "too long";
	else
		v6 = split(s, host, sizeof(host), &port_text, &why);
	if (v6 != -1 && (port = parse_port(port_text)) == -1)
		why = "the port is not 1 to 65535 in digits";
	if (port != -1)
		why = set_addr(la, host, v6, port);
	if (why != NULL) {
		memset(la, 0, sizeof(*la));
		if (err != NULL)
			*err = why;
		return -1;
	}
	snprintf(la->text, sizeof(la->text), "%s", s);
	return 0;
}

int
listen_parse_list(const char *list, struct listen_addr *la, int max, int *n,
    char *bad, size_t badsize, const char **err)
{
	char	buf[1024], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		*err = "too many addresses";
		if (*n == max || listen_parse(tok, &la[*n], err) == -1) {
			snprintf(bad, badsize, "%s", tok);
			return -1;
		}
		(*n)++;
	}
	return 0;
}

int
listen_open(const struct listen_addr *la, int type, int flags, int backlog)
{
	int fd, one = 1;

	if ((fd = socket(la->ss.ss_family, type | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
	    -1 || ((flags & LISTEN_REUSEPORT) && setsockopt(fd, SOL_SOCKET,
	    SO_REUSEPORT, &one, sizeof(one)) == -1) ||
	    ((flags & LISTEN_V6ONLY) && la->ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ==
	    -1) || bind(fd, (const struct sockaddr *)&la->ss, la->len) == -1 ||
	    (type == SOCK_STREAM && listen(fd, backlog) == -1)) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}
