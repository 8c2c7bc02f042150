/*
 * dnsblctl.c -- the operator's command-line tool on the relaybl store
 *
 * dnsblctl [-c FILE] [-d DIR] command [args]
 *
 * Every command opens the store, does one thing in one transaction and
 * exits: 0 on success (for lookup: listed), 1 for "no" answers (lookup: not
 * listed; del: nothing to delete), 2 on error.  A command that fails changes
 * nothing.  Parsing of list files is in import.c; the store in store.c.
 */
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "import.h"
#include "log.h"
#include "store.h"
#include "ctl.h"



struct command {
	const char	*name;
	int		(*fn)(struct ctl *, int, char **);
	const char	*usage;
};

static int	cmd_init(struct ctl *, int, char **);
static int	cmd_add(struct ctl *, int, char **);
static int	cmd_exclude(struct ctl *, int, char **);
static int	cmd_unexclude(struct ctl *, int, char **);
static int	cmd_del(struct ctl *, int, char **);
static int	cmd_lookup(struct ctl *, int, char **);
static int	cmd_import(struct ctl *, int, char **);
static int	cmd_history(struct ctl *, int, char **);
static int	cmd_stats(struct ctl *, int, char **);
static void	usage(void) __attribute__((noreturn));

static const struct command commands[] = {
	{ "init", cmd_init, "init" },
	{ "add", cmd_add, "add ADDR|CIDR [-r 127.0.0.x] [-t text]" },
	{ "exclude", cmd_exclude, "exclude ADDR|CIDR [-t text]" },
	{ "unexclude", cmd_unexclude, "unexclude ADDR|CIDR" },
	{ "del", cmd_del, "del ADDR|CIDR [-t text]" },
	{ "lookup", cmd_lookup, "lookup ADDR|CIDR" },
	{ "import", cmd_import, "import [--skip-bad] FILE|-" },
	{ "history", cmd_history, "history ADDR|CIDR" },
	{ "stats", cmd_stats, "stats" },
	{ "submit", cmd_submit, "submit ADDR... | -" },
	{ "delist", cmd_delist, "delist ADDR" },
	{ "queue", cmd_queue, "queue" },
	{ "evidence", cmd_evidence, "evidence ADDR | #ID" },
};

static void
usage(void)
{
	fprintf(stderr, "usage: dnsblctl [-c FILE] [-d DIR] command [args]\n"
	    "commands:\n");
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
ctl_open_store(struct ctl *c, int flags)
{
	return store_open(c->dir, flags, c->map_size);
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

	if ((st = ctl_open_store(c, 0)) == NULL)
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

static int
cmd_init(struct ctl *c, int argc, char **argv)
{
	struct store *st;

	(void)argv;
	if (argc != 1)
		usage();
	if ((st = ctl_open_store(c, STORE_CREATE)) == NULL)
		return EXIT_ERR;
	store_close(st);
	printf("store ready in %s\n", c->dir);
	return 0;
}

struct add_args {
	struct addr		a;
	struct store_listing	l;
};

static int
do_add(struct store_txn *t, void *arg)
{
	struct add_args		*aa = arg;
	struct store_listing	 old;
	int			 rc;

	if ((rc = store_txn_get(t, &aa->a, &old)) == -1)
		return -1;
	if (rc == 1)
		aa->l.first_listed = old.first_listed;
	return store_list(t, &aa->a, &aa->l);
}

static int
cmd_add(struct ctl *c, int argc, char **argv)
{
	struct add_args	 aa;
	const char	*err;
	char		 buf[ADDR_STRLEN], cbuf[16];
	int		 ch;

	memset(&aa, 0, sizeof(aa));
	aa.l.code = 0x7f000002u;
	aa.l.kind = STORE_KIND_MANUAL;
	snprintf(aa.l.source, sizeof(aa.l.source), "%s", c->actor);
	while ((ch = getopt(argc, argv, "k:r:t:")) != -1) {
		switch (ch) {
		case 'k':
			if ((aa.l.kind = store_kind_parse(optarg)) < 1 ||
			    aa.l.kind >= STORE_KIND_EXCLUSION) {
				log_warnx("-k: unknown kind \"%s\" (relay, "
				    "egress, manual, import)", optarg);
				return EXIT_ERR;
			}
			break;
		case 'r':
			if (import_parse_code(optarg, &aa.l.code) == -1) {
				log_warnx("-r: bad return code \"%s\" (want "
				    "127.0.0.2-127.255.255.255 or 2-255)",
				    optarg);
				return EXIT_ERR;
			}
			break;
		case 't':
			if (strlen(optarg) >= sizeof(aa.l.text)) {
				log_warnx("-t: text longer than %zu bytes",
				    sizeof(aa.l.text) - 1);
				return EXIT_ERR;
			}
			snprintf(aa.l.text, sizeof(aa.l.text), "%s", optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (ctl_parse_arg(argv[optind], &aa.a) == -1)
		return EXIT_ERR;
	if (!import_listable(&aa.a, &err)) {
		log_warnx("%s: %s", argv[optind], err);
		return EXIT_ERR;
	}
	if (ctl_with_txn(c, do_add, &aa) == -1)
		return EXIT_ERR;
	printf("%s listed %s\n", addr_format(&aa.a, buf),
	    ctl_fmt_code(aa.l.code, cbuf, sizeof(cbuf)));
	return 0;
}

struct one_args {
	struct addr	 a;
	const char	*text;
	int		 result;
};

static int
do_exclude(struct store_txn *t, void *arg)
{
	struct one_args *oa = arg;

	return store_exclude(t, &oa->a, oa->text);
}

static int
do_unexclude(struct store_txn *t, void *arg)
{
	struct one_args *oa = arg;

	if ((oa->result = store_unexclude(t, &oa->a, oa->text)) == -1)
		return -1;
	return oa->result ? 0 : 1;
}

static int
do_del(struct store_txn *t, void *arg)
{
	struct one_args *oa = arg;

	if ((oa->result = store_unlist(t, &oa->a, oa->text)) == -1)
		return -1;
	return oa->result ? 0 : 1;
}

/* exclude, unexclude, del: one prefix, optional -t text. */
static int
one_prefix(struct ctl *c, int argc, char **argv,
    int (*fn)(struct store_txn *, void *), struct one_args *oa)
{
	int ch;

	memset(oa, 0, sizeof(*oa));
	while ((ch = getopt(argc, argv, "t:")) != -1) {
		switch (ch) {
		case 't':
			oa->text = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (ctl_parse_arg(argv[optind], &oa->a) == -1)
		return EXIT_ERR;
	if (ctl_with_txn(c, fn, oa) == -1)
		return EXIT_ERR;
	return 0;
}

static int
cmd_exclude(struct ctl *c, int argc, char **argv)
{
	struct one_args	oa;
	char		buf[ADDR_STRLEN];
	int		rc;

	if ((rc = one_prefix(c, argc, argv, do_exclude, &oa)) != 0)
		return rc;
	printf("%s excluded\n", addr_format(&oa.a, buf));
	return 0;
}

static int
cmd_unexclude(struct ctl *c, int argc, char **argv)
{
	struct one_args	oa;
	char		buf[ADDR_STRLEN];
	int		rc;

	if ((rc = one_prefix(c, argc, argv, do_unexclude, &oa)) != 0)
		return rc;
	printf("%s %s\n", addr_format(&oa.a, buf), oa.result ?
	    "no longer excluded" : "was not excluded");
	return oa.result ? 0 : EXIT_NO;
}

static int
cmd_del(struct ctl *c, int argc, char **argv)
{
	struct one_args	oa;
	char		buf[ADDR_STRLEN];
	int		rc;

	if ((rc = one_prefix(c, argc, argv, do_del, &oa)) != 0)
		return rc;
	printf("%s %s\n", addr_format(&oa.a, buf), oa.result ?
	    "removed" : "was not listed (as such: see lookup)");
	return oa.result ? 0 : EXIT_NO;
}

static void
print_record(struct store_reader *rd, uint32_t id)
{
	struct store_listing	l;
	char			tbuf[32];

	if (store_record(rd, id, &l) != 1)
		return;
	printf("  kind        %s\n", store_kind_name(l.kind));
	printf("  listed      %s\n", ctl_fmt_time(l.first_listed, tbuf,
	    sizeof(tbuf)));
	if (l.kind != STORE_KIND_EXCLUSION) {
		printf("  confirmed   %s\n", ctl_fmt_time(l.last_confirmed, tbuf,
		    sizeof(tbuf)));
		printf("  expires     %s\n", l.expires ? ctl_fmt_time(l.expires,
		    tbuf, sizeof(tbuf)) : "never");
	}
	printf("  source      %s\n", l.source);
	if (l.text[0])
		printf("  text        %s\n", l.text);
	if (l.evidence)
		printf("  evidence    #%llu\n", (unsigned long long)l.evidence);
}

static int
cmd_lookup(struct ctl *c, int argc, char **argv)
{
	struct store		*st;
	struct store_reader	*rd = NULL;
	struct store_hit	 hit;
	struct addr		 a;
	char			 buf[ADDR_STRLEN], pbuf[ADDR_STRLEN], cbuf[16];
	int			 rc = EXIT_ERR;

	if (argc != 2)
		usage();
	if (ctl_parse_arg(argv[1], &a) == -1)
		return EXIT_ERR;
	if ((st = ctl_open_store(c, STORE_RDONLY)) == NULL ||
	    (rd = store_reader_new(st)) == NULL)
		goto done;
	switch (store_lookup(rd, &a, &hit)) {
	case 1:
		printf("%s: listed %s\n", addr_format(&a, buf),
		    ctl_fmt_code(hit.code, cbuf, sizeof(cbuf)));
		printf("  prefix      %s\n", addr_format(&hit.prefix, pbuf));
		print_record(rd, hit.record);
		rc = 0;
		break;
	case 0:
		if (hit.excluded) {
			printf("%s: not listed (excluded by %s)\n",
			    addr_format(&a, buf), addr_format(&hit.prefix,
			    pbuf));
			print_record(rd, hit.record);
		} else
			printf("%s: not listed\n", addr_format(&a, buf));
		rc = EXIT_NO;
		break;
	default:
		break;
	}
done:
	store_reader_free(rd);
	store_close(st);
	return rc;
}

static int
print_audit(const struct store_audit *au, void *arg)
{
	char	tbuf[32], abuf[ADDR_STRLEN], cbuf[16];

	(void)arg;
	printf("%s  #%llu serial %u  %-9s %s%s%s by %s%s%s\n",
	    ctl_fmt_time(au->time, tbuf, sizeof(tbuf)),
	    (unsigned long long)au->seq, au->serial,
	    store_action_name(au->action),
	    au->addr.family ? addr_format(&au->addr, abuf) : "-",
	    au->code ? " " : "", au->code ? ctl_fmt_code(au->code, cbuf,
	    sizeof(cbuf)) : "", au->actor, au->text[0] ? ": " : "", au->text);
	return 0;
}

static int
cmd_history(struct ctl *c, int argc, char **argv)
{
	struct store		*st;
	struct store_reader	*rd = NULL;
	struct store_listing	 l;
	struct store_hit	 hit;
	struct addr		 a;
	char			 buf[ADDR_STRLEN], tbuf[32], cbuf[16];
	int			 n, rc = EXIT_ERR;

	if (argc != 2)
		usage();
	if (ctl_parse_arg(argv[1], &a) == -1)
		return EXIT_ERR;
	if ((st = ctl_open_store(c, STORE_RDONLY)) == NULL ||
	    (rd = store_reader_new(st)) == NULL)
		goto done;
	if ((n = store_history(rd, &a, print_audit, NULL)) == -1)
		goto done;
	/* Imports are audited as a whole; say where a listing came from. */
	if ((rc = store_lookup(rd, &a, &hit)) == 1 &&
	    store_record(rd, hit.record, &l) == 1) {
		printf("now: listed %s by %s (%s, %s since %s)\n",
		    ctl_fmt_code(hit.code, cbuf, sizeof(cbuf)),
		    addr_format(&hit.prefix, buf), store_kind_name(l.kind),
		    l.source, ctl_fmt_time(l.first_listed, tbuf, sizeof(tbuf)));
	} else if (rc == 0)
		printf("now: not listed%s%s%s\n", hit.excluded ?
		    " (excluded by " : "", hit.excluded ?
		    addr_format(&hit.prefix, buf) : "", hit.excluded ? ")" :
		    "");
	rc = rc == -1 ? EXIT_ERR : 0;
done:
	store_reader_free(rd);
	store_close(st);
	return rc;
}

static void
print_size(const char *label, uint64_t bytes)
{
	printf("%-16s%llu bytes (%.1f MiB)\n", label,
	    (unsigned long long)bytes, bytes / 1048576.0);
}

static int
cmd_stats(struct ctl *c, int argc, char **argv)
{
	struct store		*st;
	struct store_reader	*rd = NULL;
	struct store_stats	 s;
	uint64_t		 total;
	int			 rc = EXIT_ERR;

	(void)argv;
	if (argc != 1)
		usage();
	if ((st = ctl_open_store(c, STORE_RDONLY)) == NULL ||
	    (rd = store_reader_new(st)) == NULL ||
	    store_stats(rd, &s) == -1)
		goto done;
	total = s.listings[0] + s.listings[1];
	printf("%-16s%u\n", "serial", s.serial);
	printf("%-16s%llu (IPv4 %llu, IPv6 %llu)\n", "listings",
	    (unsigned long long)total, (unsigned long long)s.listings[0],
	    (unsigned long long)s.listings[1]);
	printf("%-16s%llu (IPv4 %llu, IPv6 %llu)\n", "exclusions",
	    (unsigned long long)(s.exclusions[0] + s.exclusions[1]),
	    (unsigned long long)s.exclusions[0],
	    (unsigned long long)s.exclusions[1]);
	for (int k = STORE_KIND_RELAY; k < STORE_KIND_EXCLUSION; k++)
		printf("  %-14s%llu\n", store_kind_name(k),
		    (unsigned long long)s.by_kind[k]);
	printf("%-16s%llu\n", "records", (unsigned long long)s.records);
	printf("%-16s%llu\n", "audit entries", (unsigned long long)s.audit);
	printf("%-16s%llu\n", "queued probes", (unsigned long long)s.queued);
	print_size("store used", s.pages_used * s.page_size);
	print_size("store file", s.file_bytes);
	printf("%-16s%llu used, %llu free, %llu bytes each\n", "pages",
	    (unsigned long long)s.pages_used,
	    (unsigned long long)s.pages_free,
	    (unsigned long long)s.page_size);
	if (total)
		printf("%-16s%.1f (store used / listings)\n",
		    "bytes/listing", (double)(s.pages_used * s.page_size) /
		    total);
	rc = 0;
done:
	store_reader_free(rd);
	store_close(st);
	return rc;
}

/* --- import ---------------------------------------------------------- */

struct import_args {
	struct import	*imp;
	const char	*what;
};

static int
do_import(struct store_txn *t, void *arg)
{
	struct import_args		*ia = arg;
	struct store_import_entry	*e;
	const struct store_listing	*r;
	size_t				 n, nr;

	e = import_entries(ia->imp, &n);
	r = import_records(ia->imp, &nr);
	return store_import(t, e, n, r, nr, ia->what);
}

/*
 * Reads every line first: with one bad line nothing is imported unless
 * skip_bad, in which case each bad line is reported and left out.
 */
static int
read_list(FILE *fp, const char *name, struct import *imp, int skip_bad,
    size_t *bad)
{
	char		*line = NULL, msg[IMPORT_MSG_MAX];
	size_t		 cap = 0;
	ssize_t		 len;
	unsigned long	 lineno = 0;
	int		 rc = 0;

	*bad = 0;
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		switch (import_line(imp, line, (size_t)len, msg)) {
		case IMPORT_IGNORED:
			log_warnx("%s:%lu: warning: %s", name, lineno, msg);
			break;
		case IMPORT_ERROR:
			(*bad)++;
			log_warnx("%s:%lu: %s%s", name, lineno,
			    skip_bad ? "skipped: " : "", msg);
			if (!skip_bad)
				rc = -1;
			break;
		default:
			break;
		}
		if (rc == -1)
			break;
	}
	if (ferror(fp)) {
		log_warn("%s: read error", name);
		rc = -1;
	}
	free(line);
	return rc;
}

static int
cmd_import(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "skip-bad", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct import_args	 ia;
	FILE			*fp;
	const char		*name;
	char			 source[STORE_SOURCE_MAX], what[STORE_TEXT_MAX];
	size_t			 bad;
	int			 ch, skip_bad = 0, rc;

	while ((ch = getopt_long(argc, argv, "s", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			skip_bad = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	name = argv[optind];
	if (strcmp(name, "-") == 0) {
		fp = stdin;
		name = "(stdin)";
	} else if ((fp = fopen(name, "r")) == NULL) {
		log_warn("%s", name);
		return EXIT_ERR;
	}
	snprintf(source, sizeof(source), "import %.20s by %.30s", name, c->actor);
	if ((ia.imp = import_new(STORE_KIND_IMPORT, source, time(NULL))) ==
	    NULL)
		fatal("import");
	rc = read_list(fp, name, ia.imp, skip_bad, &bad);
	if (fp != stdin)
		fclose(fp);
	if (rc == -1) {
		log_warnx("nothing imported");
		import_free(ia.imp);
		return EXIT_ERR;
	}
	snprintf(what, sizeof(what), "%zu listings, %zu exclusions from %s",
	    import_listed(ia.imp), import_excluded(ia.imp), name);
	ia.what = what;
	if (import_listed(ia.imp) + import_excluded(ia.imp) > 0 &&
	    ctl_with_txn(c, do_import, &ia) == -1) {
		import_free(ia.imp);
		return EXIT_ERR;
	}
	printf("imported %s%s", what, bad ? "" : "\n");
	if (bad)
		printf("; skipped %zu bad lines\n", bad);
	import_free(ia.imp);
	return 0;
}

/* --- main ------------------------------------------------------------ */

int
ctl_load_prober(struct ctl *c)
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
	if (ctl_load_prober(c) == -1)
		exit(EXIT_ERR);
	config_check_keys(c->cfg, "store", store_keys);
	c->dir = dir ? dir : config_str(c->cfg, "store", "dir",
	    "state/store");
	if (config_size(c->cfg, "store", "map_size", (uint64_t)4 << 30,
	    &c->map_size) == -1)
		exit(EXIT_ERR);
}

int
main(int argc, char **argv)
{
	struct ctl	 c;
	const char	*cfgpath = NULL, *dir = NULL;
	int		 ch, rc;

	log_init("dnsblctl", 0);
	memset(&c, 0, sizeof(c));
	while ((ch = getopt(argc, argv, "+c:d:h")) != -1) {
		switch (ch) {
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
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		/* The command's own options; 0 makes glibc start afresh. */
		optind = 0;
		rc = commands[i].fn(&c, argc, argv);
		config_free(c.cfg);
		return rc;
	}
	log_warnx("unknown command \"%s\"", argv[0]);
	usage();
}
