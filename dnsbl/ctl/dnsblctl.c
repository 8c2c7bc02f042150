/*
 * dnsblctl.c -- the operator's command-line tool on the relaybl store
 *
 * dnsblctl [-c FILE] [-d DIR] command [options] [args]
 * dnsblctl -V | --version
 *
 * Every command opens the store, does one thing in one transaction and
 * exits: 0 on success (for lookup: listed), 1 for "no" answers (lookup: not
 * listed; del: nothing to delete), 2 on error.  A command that fails changes
 * nothing.  This file has main(), the options and the command table; the
 * commands are in ctl_list.c, ctl_probe.c and ctl_store.c (ctl.h).
 */
#include <sys/types.h>

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "ctl.h"
#include "version.h"

static void	usage(void) __attribute__((noreturn));
static int	load_prober(struct ctl *);
static void	set_actor(struct ctl *);
static void	load_config(struct ctl *, const char *, const char *);
static const struct ctl_command *find_command(const char *);
static void	parse_options(struct ctl *, int, char **);
static int	run_command(struct ctl *, int, char **);

/* Every command, in the order of the usage message. */
static const struct ctl_command commands[] = {
	{ "init", "init", NULL, 0, 0, STORE_CREATE, cmd_init },
	{ "add", "add ADDR|CIDR [-r 127.0.0.x] [-t text] [-k kind]",
	    "k:r:t:", 1, 1, 0, cmd_add },
	{ "exclude", "exclude ADDR|CIDR [-t text]", "t:", 1, 1, 0,
	    cmd_exclude },
	{ "unexclude", "unexclude ADDR|CIDR [-t text]", "t:", 1, 1, 0,
	    cmd_unexclude },
	{ "del", "del ADDR|CIDR [-t text]", "t:", 1, 1, 0, cmd_del },
	{ "lookup", "lookup ADDR|CIDR", NULL, 1, 1, STORE_RDONLY,
	    cmd_lookup },
	{ "import", "import [--skip-bad] FILE|-", "s", 1, 1, 0, cmd_import },
	{ "history", "history ADDR|CIDR", NULL, 1, 1, STORE_RDONLY,
	    cmd_history },
	{ "stats", "stats", NULL, 0, 0, STORE_RDONLY, cmd_stats },
	{ "submit", "submit ADDR... | -", NULL, 1, -1, 0, cmd_submit },
	{ "delist", "delist ADDR", NULL, 1, 1, 0, cmd_delist },
	{ "queue", "queue", NULL, 0, 0, STORE_RDONLY, cmd_queue },
	{ "evidence", "evidence ADDR | #ID", NULL, 1, 1, STORE_RDONLY,
	    cmd_evidence },
	{ "export", "export [-f zone|rbldnsd|rbldnsd6] [-o FILE] ZONE",
	    "f:o:", 1, 1, STORE_RDONLY, cmd_export },
};

static void
usage(void)
{
	fprintf(stderr, "usage: dnsblctl [-h] [-c FILE] [-d DIR] command "
	    "[args]\n       dnsblctl -V | --version\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "    %s\n", commands[i].usage);
	exit(EXIT_ERR);
}

const char *
ctl_fmt_time(int64_t t, char *buf, size_t size)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, size, "-");
	else
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

const char *
ctl_fmt_code(uint32_t code, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", code >> 24, (code >> 16) & 0xff,
	    (code >> 8) & 0xff, code & 0xff);
	return buf;
}

/* Parses a command's ADDR|CIDR argument (strict form) or says why not. */
int
ctl_parse_arg(const char *s, struct addr *a)
{
	const char *err;

	if (addr_parse(s, a, &err) == -1) {
		log_warnx("\"%s\": %s", s, err);
		return -1;
	}
	return 0;
}

struct store *
ctl_open_store(struct ctl *c)
{
	struct store *st = store_open(c->dir, c->cmd->store_flags,
	    c->map_size);

	if (st != NULL)
		store_set_journal_size(st, c->journal_size);
	return st;
}

/*
 * Runs fn(txn, arg) in one write transaction.  fn returns 0 when it changed
 * something (commit), 1 when there was nothing to change (abort: the serial
 * stays), -1 on error (abort).  Returns fn's result, or -1 when the commit
 * fails.
 */
int
ctl_with_txn(struct ctl *c, int (*fn)(struct store_txn *, void *), void *arg)
{
	struct store		*st;
	struct store_txn	*t;
	int			 rc;

	if ((st = ctl_open_store(c)) == NULL)
		return -1;
	if ((t = store_begin(st, c->actor)) == NULL) {
		store_close(st);
		return -1;
	}
	rc = fn(t, arg);
	if (rc != 0)
		store_abort(t);
	else if (store_commit(t) == -1)
		rc = -1;
	store_close(st);
	return rc;
}

/* --- main ------------------------------------------------------------ */

static int
load_prober(struct ctl *c)
{
	const char *err, *bad;

	if (probe_allow_parse(config_str(c->cfg, "prober", "allow", ""),
	    &c->allow, &err, &bad) == -1) {
		log_warnx("%s: [prober] allow: \"%s\": %s",
		    config_name(c->cfg), bad, err);
		return -1;
	}
	return 0;
}

static void
set_actor(struct ctl *c)
{
	const char	*who = getenv("SUDO_USER");
	struct passwd	*pw;

	if (who == NULL && (pw = getpwuid(getuid())) != NULL)
		who = pw->pw_name;
	snprintf(c->actor, sizeof(c->actor), "dnsblctl:%s", who ? who : "?");
}

static void
load_config(struct ctl *c, const char *path, const char *dir)
{
	static const char *const store_keys[] = { "dir", "map_size", NULL };

	if ((c->cfg = config_load(path)) == NULL)
		exit(EXIT_ERR);
	if (load_prober(c) == -1)
		exit(EXIT_ERR);
	config_check_keys(c->cfg, "store", store_keys);
	c->dir = dir ? dir : config_str(c->cfg, "store", "dir",
	    "state/store");
	if (config_size(c->cfg, "store", "map_size", (uint64_t)4 << 30,
	    &c->map_size) == -1 || config_size(c->cfg, "dns", "journal_size",
	    STORE_JOURNAL_SIZE, &c->journal_size) == -1)
		exit(EXIT_ERR);
}

static const struct ctl_command *
find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * The running command's options, by its letters; only --skip-bad is long.
 * A letter the command does not take is a usage error.
 */
static void
parse_options(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "skip-bad", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	/* 0 makes glibc start afresh after main's own options. */
	optind = 0;
	while ((ch = getopt_long(argc, argv, c->cmd->opts, longopts,
	    NULL)) != -1) {
		if (ch == '?' || ch == ':' || strchr(c->cmd->opts, ch) == NULL)
			usage();
		switch (ch) {
		case 'k':
			c->opt_k = optarg;
			break;
		case 'r':
			c->opt_r = optarg;
			break;
		case 't':
			c->opt_t = optarg;
			break;
		case 'f':
			c->opt_f = optarg;
			break;
		case 'o':
			c->opt_o = optarg;
			break;
		case 's':
			c->opt_skip_bad = 1;
			break;
		default:
			usage();
		}
	}
}

/* argv[0] is the command's name.  Returns its exit status. */
static int
run_command(struct ctl *c, int argc, char **argv)
{
	int first = 1, n;

	if ((c->cmd = find_command(argv[0])) == NULL) {
		log_warnx("unknown command \"%s\"", argv[0]);
		usage();
	}
	if (c->cmd->opts != NULL) {
		parse_options(c, argc, argv);
		first = optind;
	}
	n = argc - first;
	if (n < c->cmd->min_args || (c->cmd->max_args >= 0 &&
	    n > c->cmd->max_args))
		usage();
	return c->cmd->fn(c, n, argv + first);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl	 c;
	const char	*cfgpath = NULL, *dir = NULL;
	int		 ch, rc;

	log_init("dnsblctl", 0);
	memset(&c, 0, sizeof(c));
	while ((ch = getopt_long(argc, argv, "+c:d:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'V':
			version_exit("dnsblctl", store_lmdb_version());
		case 'c':
			cfgpath = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	load_config(&c, cfgpath, dir);
	set_actor(&c);
	rc = run_command(&c, argc, argv);
	config_free(c.cfg);
	return rc;
}
