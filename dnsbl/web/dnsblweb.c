/*
 * dnsblweb.c -- the list's face: lookup and removal pages, API, metrics
 *
 * dnsblweb [-c FILE] [-d DIR] [-u USER] [-v]
 * dnsblweb -V | --version
 *
 * The process: the [web] configuration, the store (opened for writing:
 * it queues removal retests and submissions, and operators list and
 * delist through it), the listening sockets, the HTTP server
 * (dnsbl/http), signals.  It holds no prober secret and probes nothing.
 * SIGTERM/SIGINT stop it (exit 0); SIGHUP rereads the tokens file (a bad
 * one keeps the tokens it had).  Bound as root, -u USER (or [web] user)
 * drops to USER before the store is opened.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "version.h"
#include "web.h"

static void	usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: dnsblweb [-c FILE] [-d DIR] [-u USER] [-v]\n"
	    "       dnsblweb -V | --version\n");
	exit(2);
}

/* "A, B C": a list of listen addresses. */
static int
load_listen(struct web *w, const char *list)
{
	char		 bad[LISTEN_TEXT_MAX];
	const char	*why;

	if (listen_parse_list(list, w->listen, WEB_LISTEN_MAX, &w->nlisten,
	    bad, sizeof(bad), &why) == -1) {
		log_warnx("%s: [web] listen: bad address \"%s\" (%s)",
		    config_name(w->cfg), bad, why);
		return -1;
	}
	if (w->nlisten == 0) {
		log_warnx("%s: [web] listen: no address", config_name(w->cfg));
		return -1;
	}
	return 0;
}

static int
load_proxies(struct web *w, const char *list)
{
	char		 buf[2048], *tok, *save;
	const char	*err;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (w->nproxies == WEB_PROXIES_MAX || addr_parse(tok,
		    &w->proxies[w->nproxies], &err) == -1) {
			log_warnx("%s: [web] trusted_proxies: \"%s\": %s",
			    config_name(w->cfg), tok,
			    w->nproxies == WEB_PROXIES_MAX ? "too many" : err);
			return -1;
		}
		w->nproxies++;
	}
	return 0;
}

static int
load_config(struct web *w)
{
	static const char *const keys[] = { "listen", "tokens_file",
	    "public_url", "trusted_proxies", "removal_rate", "contact",
	    "user", "max_connections", "max_body", "header_timeout",
	    "body_timeout", "idle_timeout", "write_timeout", NULL };
	struct config	*c = w->cfg;
	const char	*v, *err, *bad;
	static char	 url[512];

	config_check_keys(c, "web", keys);
	if (w->storedir == NULL)
		w->storedir = config_str(c, "store", "dir", "state/store");
	if (config_size(c, "store", "map_size", (uint64_t)4 << 30,
	    &w->map_size) == -1 || config_size(c, "dns", "journal_size",
	    STORE_JOURNAL_SIZE, &w->journal_size) == -1)
		return -1;
	if (w->user == NULL)
		w->user = config_str(c, "web", "user", NULL);
	if (w->user != NULL && w->user[0] == '\0')
		w->user = NULL;
	if (w->nlisten == 0 && load_listen(w, config_str(c, "web", "listen",
	    "127.0.0.1:8080")) == -1)
		return -1;
	if ((v = config_str(c, "web", "tokens_file", NULL)) != NULL)
		snprintf(w->tokens_file, sizeof(w->tokens_file), "%s", v);
	snprintf(url, sizeof(url), "%s", config_str(c, "web", "public_url",
	    "http://127.0.0.1:8080"));
	while (url[0] && url[strlen(url) - 1] == '/')
		url[strlen(url) - 1] = '\0';
	w->public_url = url;
	w->contact = config_str(c, "web", "contact",
	    "the list's operators, through its web site");
	if (load_proxies(w, config_str(c, "web", "trusted_proxies", "")) == -1)
		return -1;
	/* The queue's rules read [prober] allow, as dnsblctl does. */
	if (probe_allow_parse(config_str(c, "prober", "allow", ""), &w->allow,
	    &err, &bad) == -1) {
		log_warnx("%s: [prober] allow: \"%s\": %s", config_name(c),
		    bad, err);
		return -1;
	}
	http_server_defaults(&w->httpconf);
	if (config_int(c, "web", "removal_rate", 10, 1, 100000,
	    &w->removal_rate) == -1 ||
	    config_int(c, "web", "max_connections", 256, 1, 100000,
	    &w->httpconf.max_connections) == -1 ||
	    config_int(c, "web", "max_body", 1 << 20, 1024, 64 << 20,
	    &w->httpconf.max_body) == -1 ||
	    config_duration(c, "web", "header_timeout", 10,
	    &w->httpconf.header_timeout) == -1 ||
	    config_duration(c, "web", "body_timeout", 30,
	    &w->httpconf.body_timeout) == -1 ||
	    config_duration(c, "web", "idle_timeout", 30,
	    &w->httpconf.idle_timeout) == -1 ||
	    config_duration(c, "web", "write_timeout", 30,
	    &w->httpconf.write_timeout) == -1 ||
	    config_duration(c, "prober", "retest_interval", 30 * 86400,
	    &w->retest_interval) == -1 ||
	    config_duration(c, "prober", "listing_ttl", 90 * 86400,
	    &w->listing_ttl) == -1)
		return -1;
	return 0;
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct web *w = arg;

	(void)sig;
	(void)what;
	event_base_loopbreak(w->base);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct web *w = arg;

	(void)sig;
	(void)what;
	if (web_tokens_load(w) == 0)
		log_info("tokens reloaded: %d", w->ntokens);
	else
		log_warnx("tokens file unchanged in use: %d tokens",
		    w->ntokens);
}

int
main(int argc, char **argv)
{
	static struct web	 w;
	const char		*cfgpath = NULL;
	struct event		*sigs[3];
	struct store_reader	*rd;
	struct store_stats	 s;
	int			 ch, fds[WEB_LISTEN_MAX];
	char			 vbuf[256];
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};

	log_init("dnsblweb", 0);
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "c:d:u:Vv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'V':
			version_exit("dnsblweb", store_lmdb_version());
		case 'c':
			cfgpath = optarg;
			break;
		case 'd':
			w.storedir = optarg;
			break;
		case 'u':
			w.user = optarg;
			break;
		case 'v':
			log_setverbose(1);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_info("starting %s", version_line("dnsblweb",
	    store_lmdb_version(), vbuf, sizeof(vbuf)));
	if ((w.cfg = config_load(cfgpath)) == NULL || load_config(&w) == -1 ||
	    web_tokens_load(&w) == -1 || privs_check(&w.privs, w.user) == -1)
		exit(2);
	for (int i = 0; i < w.nlisten; i++)
		if ((fds[i] = listen_open(&w.listen[i], SOCK_STREAM, 0,
		    1024)) == -1) {
			log_warn("[web] listen %s", w.listen[i].text);
			exit(2);
		}
	/* Only the sockets are made as root: they may be port 80. */
	if (privs_drop(&w.privs) == -1)
		exit(2);
	if ((w.st = store_open(w.storedir, 0, w.map_size)) == NULL)
		exit(2);
	store_set_journal_size(w.st, w.journal_size);
	/* Probe outcomes count from now: the trail so far is history. */
	if ((rd = store_reader_new(w.st)) != NULL && store_stats(rd, &s) == 0)
		w.metrics.probes_seq = s.audit;
	store_reader_free(rd);
	if ((w.base = event_base_new()) == NULL ||
	    (w.http = http_server_new(w.base, &w.httpconf, web_handle,
	    &w)) == NULL)
		fatalx("cannot set up the event loop");
	for (int i = 0; i < w.nlisten; i++)
		if (http_server_listen(w.http, fds[i]) == -1)
			fatalx("cannot listen on %s", w.listen[i].text);
	sigs[0] = evsignal_new(w.base, SIGTERM, on_stop, &w);
	sigs[1] = evsignal_new(w.base, SIGINT, on_stop, &w);
	sigs[2] = evsignal_new(w.base, SIGHUP, on_hup, &w);
	for (int i = 0; i < 3; i++)
		if (sigs[i] == NULL || event_add(sigs[i], NULL) == -1)
			fatalx("cannot set up signals");
	log_info("ready: %s%s, store %s, %d operator tokens, public URL %s",
	    w.listen[0].text, w.nlisten > 1 ? " and more" : "", w.storedir,
	    w.ntokens, w.public_url);
	event_base_dispatch(w.base);
	log_info("stopping");
	http_server_free(w.http);
	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
	event_base_free(w.base);
	store_close(w.st);
	free(w.tokens);
	config_free(w.cfg);
	return 0;
}
