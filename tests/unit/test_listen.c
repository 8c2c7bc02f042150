/*
 * test_listen.c -- unit tests of listen.c: "ADDR:PORT" parsing (good and
 * bad forms) and opening a socket on a parsed address.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "tap.h"

static void
good(const char *s, int family, const char *addr, int port)
{
	struct listen_addr	 la;
	const char		*err = NULL;
	char			 buf[INET6_ADDRSTRLEN] = "";
	int			 got_port = -1;

	if (listen_parse(s, &la, &err) == -1) {
		ok(0, "\"%s\" parsed (%s)", s, err);
		return;
	}
	if (la.ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&la.ss;
		inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
		got_port = ntohs(sin->sin_port);
		ok(la.len == sizeof(*sin), "\"%s\": sockaddr_in length", s);
	} else if (la.ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&la.ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
		got_port = ntohs(sin6->sin6_port);
		ok(la.len == sizeof(*sin6), "\"%s\": sockaddr_in6 length", s);
	}
	ok(la.ss.ss_family == family && strcmp(buf, addr) == 0 &&
	    got_port == port, "\"%s\" is %s port %d (got %s port %d)", s,
	    addr, port, buf, got_port);
	is_str(la.text, s, "\"%s\": text kept for logs", s);
}

static void
bad(const char *s, const char *why)
{
	struct listen_addr	 la;
	const char		*err = NULL;
	int			 r;

	memset(&la, 0xa5, sizeof(la));
	r = listen_parse(s, &la, &err);
	ok(r == -1 && err != NULL &&
	    la.ss.ss_family == 0 && la.text[0] == '\0',
	    "\"%s\" refused, %s (%s)", s, why, err ? err : "no reason");
}

static void
test_parse(void)
{
	good("127.0.0.1:5353", AF_INET, "127.0.0.1", 5353);
	good("0.0.0.0:53", AF_INET, "0.0.0.0", 53);
	good("1.2.3.4:1", AF_INET, "1.2.3.4", 1);
	good("1.2.3.4:65535", AF_INET, "1.2.3.4", 65535);
	good("[::1]:5353", AF_INET6, "::1", 5353);
	good("[::]:53", AF_INET6, "::", 53);
	good("[::ffff:127.0.0.1]:25", AF_INET6, "::ffff:127.0.0.1", 25);
	good("[2001:db8::53]:053", AF_INET6, "2001:db8::53", 53);

	bad("1.2.3.4:0", "port 0");
	bad("1.2.3.4:65536", "port 65536");
	bad("1.2.3.4:99999999999999999999", "a port that overflows");
	bad("1.2.3.4:53x", "junk after the port");
	bad("1.2.3.4:53 ", "a space after the port");
	bad("1.2.3.4: 53", "a space before the port");
	bad("1.2.3.4:+53", "a sign");
	bad("1.2.3.4:-53", "a negative port");
	bad("1.2.3.4:", "empty port");
	bad("1.2.3.4", "no port");
	bad("[::1]", "no port after brackets");
	bad("[::1]53", "no colon after brackets");
	bad("[::1]:", "empty port after brackets");
	bad("[::1]:53x", "junk after the v6 port");
	bad("::1:53", "missing brackets");
	bad("[::1:53", "no closing bracket");
	bad("::1]:53", "no opening bracket");
	bad("[1.2.3.4]:53", "IPv4 in brackets");
	bad("[]:53", "empty host in brackets");
	bad(":53", "empty host");
	bad("", "the empty string");
	bad("localhost:53", "a name, not an address");
	bad("1.2.3:53", "a short IPv4 address");
	bad("256.1.1.1:53", "an octet over 255");
	bad("[fe80::1%lo]:53", "a scope id");
	bad("[::1]:53:53", "two ports");
	bad("[0000:0000:0000:0000:0000:0000:0000:0000:0000:0001]:53",
	    "too long");
}

static void
test_open(void)
{
	struct listen_addr	 la;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&la.ss;
	struct sockaddr_in	 bound;
	socklen_t		 blen = sizeof(bound);
	int			 fd, fd2, on = 0, fl;
	socklen_t		 onlen = sizeof(on);

	if (listen_parse("127.0.0.1:1", &la, NULL) == -1)
		ok(0, "127.0.0.1:1 parsed");
	sin->sin_port = 0;		/* any free port */
	fd = listen_open(&la, SOCK_STREAM, 0, 16);
	ok(fd >= 0, "stream socket on 127.0.0.1");
	fl = fcntl(fd, F_GETFL);
	ok(fl != -1 && (fl & O_NONBLOCK) &&
	    (fcntl(fd, F_GETFD) & FD_CLOEXEC), "non-blocking, close-on-exec");
	ok(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &onlen) == 0 && on,
	    "listening");
	getsockname(fd, (struct sockaddr *)&bound, &blen);
	sin->sin_port = bound.sin_port;
	errno = 0;
	fd2 = listen_open(&la, SOCK_STREAM, 0, 16);
	ok(fd2 == -1 && errno == EADDRINUSE,
	    "the same port again: -1, EADDRINUSE");
	fd2 = listen_open(&la, SOCK_DGRAM, LISTEN_REUSEPORT, 0);
	ok(fd2 >= 0, "a datagram socket on the same port");
	close(fd2);
	close(fd);
	if (listen_parse("[::1]:1", &la, NULL) == 0) {
		((struct sockaddr_in6 *)&la.ss)->sin6_port = 0;
		fd = listen_open(&la, SOCK_DGRAM, LISTEN_V6ONLY |
		    LISTEN_REUSEPORT, 0);
		if (fd == -1 && errno == EADDRNOTAVAIL)
			ok(1, "# skip no IPv6 loopback");
		else
			ok(fd >= 0, "datagram socket on [::1], v6 only");
		if (fd >= 0)
			close(fd);
	}
}

static void
test_list(void)
{
	struct listen_addr	 la[2];
	char			 bad[LISTEN_TEXT_MAX];
	const char		*why;
	int			 n = 0;

	ok(listen_parse_list("127.0.0.1:53, [::1]:53", la, 2, &n, bad,
	    sizeof(bad), &why) == 0 && n == 2 &&
	    strcmp(la[1].text, "[::1]:53") == 0, "a list of two");
	n = 0;
	ok(listen_parse_list("127.0.0.1:53 127.0.0.2:53 127.0.0.3:53", la, 2,
	    &n, bad, sizeof(bad), &why) == -1 && n == 2 &&
	    strcmp(bad, "127.0.0.3:53") == 0 &&
	    strcmp(why, "too many addresses") == 0, "a third is too many");
	n = 0;
	ok(listen_parse_list("127.0.0.1:53,nowhere", la, 2, &n, bad,
	    sizeof(bad), &why) == -1 && strcmp(bad, "nowhere") == 0 &&
	    strcmp(why, "too many addresses") != 0, "a bad one is named");
	n = 0;
	ok(listen_parse_list(" , ", la, 2, &n, bad, sizeof(bad), &why) == 0 &&
	    n == 0, "nothing: none");
}

int
main(void)
{
	test_parse();
	test_list();
	test_open();
	return tap_done();
}
