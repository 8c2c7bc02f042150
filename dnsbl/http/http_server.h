/*
 * http_server.h -- a small HTTP/1.1 server on libevent bufferevents
 *
 * Connections, limits and deadlines around http_parse: the caller gives
 * listening sockets and one handler, called with each whole request (head
 * and body) and filling in a response, which the server sends with its
 * length.  One request at a time per connection, kept alive while both
 * sides want.  Against hostile clients, every connection has one deadline
 * that bytes trickling in do not move: the whole head within
 * header_timeout of its first byte, or of accept for a connection's first
 * request (408), the body within body_timeout
 * (408), the response read within write_timeout, idle_timeout between
 * requests; heads over HTTP_HEAD_MAX get 431, bodies over max_body 413
 * (unread); at max_connections a new connection evicts the one idle
 * longest.  A response is written whole before the next request is read,
 * and the next is not parsed while a client leaves its answer unread.
 * Before closing after a response, the server shuts its side and drops
 * what the client still sends until the client closes (5 s at most), so
 * that no reset destroys the answer.  HTTP/1.0 clients that asked for
 * keep-alive are told "Connection: keep-alive".
 */
#ifndef RELAYBL_HTTP_SERVER_H
#define RELAYBL_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "http_parse.h"

struct event_base;
struct evbuffer;
struct http_server;

struct http_server_conf {
	int64_t	max_connections;	/* default 256 */
	int64_t	max_body;		/* bytes, default 1 MB */
	int64_t	header_timeout;		/* seconds, default 10 */
	int64_t	body_timeout;		/* default 30 */
	int64_t	idle_timeout;		/* default 30 */
	int64_t	write_timeout;		/* default 30 */
};

#define HTTP_EXTRA_MAX	1024

/* What the handler answers; the server fills in the rest. */
struct http_response {
	int		 status;
	const char	*content_type;	/* default text/plain; charset=utf-8 */
	char		 extra[HTTP_EXTRA_MAX];	/* more "Name: value\r\n" */
	size_t		 extralen;
	struct evbuffer	*body;		/* the server's; the handler adds */
	int		 close;		/* close the connection after it */
};

/* A request as the handler sees it. */
struct http_call {
	const struct http_request	*req;
	const char			*body;	/* content_length bytes */
	size_t				 bodylen;
	struct addr			 peer;	/* the TCP peer */
};

typedef void	(*http_handler_fn)(const struct http_call *,
		    struct http_response *, void *arg);

/* Fills c with the defaults. */
void		 http_server_defaults(struct http_server_conf *c);

struct http_server *http_server_new(struct event_base *,
		    const struct http_server_conf *, http_handler_fn,
		    void *arg);

/*
 * Serves fd, a listening stream socket (listen_open); 0 or -1.  The server
 * owns fd from then on: http_server_free closes it.
 */
int		 http_server_listen(struct http_server *, int fd);

/* Closes every connection and listener. */
void		 http_server_free(struct http_server *);

/* Adds "name: value\r\n" to r's extra headers (dropped if it would not fit). */
void		 http_response_header(struct http_response *r,
		    const char *name, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

struct http_server_stats {
	uint64_t	connections;	/* accepted */
	uint64_t	open;		/* now */
	uint64_t	evicted;	/* closed at the cap */
	uint64_t	timeouts;	/* closed at a deadline */
	uint64_t	requests;	/* answered by the handler */
	uint64_t	refused;	/* answered 4xx/5xx by the server */
};
void		 http_server_stats(const struct http_server *,
		    struct http_server_stats *);

#endif
