/*
 * ctl_list.c -- dnsblctl commands on the listings and exclusions
 *
 *   add ADDR|CIDR [-r 127.0.0.x] [-t text] [-k kind]   list by hand
 *   del ADDR|CIDR [-t text]         remove the listing of exactly that prefix
 *   exclude ADDR|CIDR [-t text]     never list, never answer listed
 *   unexclude ADDR|CIDR [-t text]   remove an exclusion
 *   lookup ADDR|CIDR                what the store says about an address
 *   import [--skip-bad] FILE|-      bulk import of an rbldnsd list (import.c)
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "import.h"
#include "log.h"
#include "ctl.h"

struct one_args {
	struct addr	 a;
	const char	*text;
	int		 result;
};

static int	do_add(struct store_txn *, void *);
static int	add_options(struct ctl *, struct store_listing *);
static int	do_exclude(struct store_txn *, void *);
static int	do_unexclude(struct store_txn *, void *);
static int	do_del(struct store_txn *, void *);
static int	one_prefix(struct ctl *, char **,
		    int (*)(struct store_txn *, void *), struct one_args *);
static void	print_record(struct store_reader *, uint32_t);
static int	do_import(struct store_txn *, void *);
static int	read_list(FILE *, const char *, struct import *, int,
		    size_t *);

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

/* Checks -k, -r and -t into l; logs why not.  0 or -1. */
static int
add_options(struct ctl *c, struct store_listing *l)
{
	if (c->opt_k != NULL && ((l->kind = store_kind_parse(c->opt_k)) < 1 ||
	    l->kind >= STORE_KIND_EXCLUSION)) {
		log_warnx("-k: unknown kind \"%s\" (relay, egress, manual, "
		    "import)", c->opt_k);
		return -1;
	}
	if (c->opt_r != NULL && import_parse_code(c->opt_r, &l->code) == -1) {
		log_warnx("-r: bad return code \"%s\" (want "
		    "127.0.0.2-127.255.255.255 or 2-255)", c->opt_r);
		return -1;
	}
	if (c->opt_t != NULL) {
		if (strlen(c->opt_t) >= sizeof(l->text)) {
			log_warnx("-t: text longer than %zu bytes",
			    sizeof(l->text) - 1);
			return -1;
		}
		snprintf(l->text, sizeof(l->text), "%s", c->opt_t);
	}
	return 0;
}

int
cmd_add(struct ctl *c, int argc, char **argv)
{
	struct add_args	 aa;
	const char	*err;
	char		 buf[ADDR_STRLEN], cbuf[16];

	(void)argc;
	memset(&aa, 0, sizeof(aa));
	aa.l.code = STORE_CODE_LISTED;
	aa.l.kind = STORE_KIND_MANUAL;
	snprintf(aa.l.source, sizeof(aa.l.source), "%s", c->actor);
	if (add_options(c, &aa.l) == -1)
		return EXIT_ERR;
	if (ctl_parse_arg(argv[0], &aa.a) == -1)
		return EXIT_ERR;
	if (!import_listable(&aa.a, &err)) {
		log_warnx("%s: %s", argv[0], err);
		return EXIT_ERR;
	}
	if (ctl_with_txn(c, do_add, &aa) == -1)
		return EXIT_ERR;
	printf("%s listed %s\n", addr_format(&aa.a, buf),
	    ctl_fmt_code(aa.l.code, cbuf, sizeof(cbuf)));
	return 0;
}

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
one_prefix(struct ctl *c, char **argv,
    int (*fn)(struct store_txn *, void *), struct one_args *oa)
{
	memset(oa, 0, sizeof(*oa));
	oa->text = c->opt_t;
	if (ctl_parse_arg(argv[0], &oa->a) == -1)
		return EXIT_ERR;
	if (ctl_with_txn(c, fn, oa) == -1)
		return EXIT_ERR;
	return 0;
}

int
cmd_exclude(struct ctl *c, int argc, char **argv)
{
	struct one_args	oa;
	char		buf[ADDR_STRLEN];
	int		rc;

	(void)argc;
	if ((rc = one_prefix(c, argv, do_exclude, &oa)) != 0)
		return rc;
	printf("%s excluded\n", addr_format(&oa.a, buf));
	return 0;
}

int
cmd_unexclude(struct ctl *c, int argc, char **argv)
{
	struct one_args	oa;
	char		buf[ADDR_STRLEN];
	int		rc;

	(void)argc;
	if ((rc = one_prefix(c, argv, do_unexclude, &oa)) != 0)
		return rc;
	printf("%s %s\n", addr_format(&oa.a, buf), oa.result ?
	    "no longer excluded" : "was not excluded");
	return oa.result ? 0 : EXIT_NO;
}

int
cmd_del(struct ctl *c, int argc, char **argv)
{
	struct one_args	oa;
	char		buf[ADDR_STRLEN];
	int		rc;

	(void)argc;
	if ((rc = one_prefix(c, argv, do_del, &oa)) != 0)
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

int
cmd_lookup(struct ctl *c, int argc, char **argv)
{
	struct store		*st;
	struct store_reader	*rd = NULL;
	struct store_hit	 hit;
	struct addr		 a;
	char			 buf[ADDR_STRLEN], pbuf[ADDR_STRLEN], cbuf[16];
	int			 rc = EXIT_ERR;

	(void)argc;
	if (ctl_parse_arg(argv[0], &a) == -1)
		return EXIT_ERR;
	if ((st = ctl_open_store(c)) == NULL ||
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

int
cmd_import(struct ctl *c, int argc, char **argv)
{
	struct import_args	 ia;
	FILE			*fp;
	const char		*name;
	char			 source[STORE_SOURCE_MAX], what[STORE_TEXT_MAX];
	size_t			 bad;
	int			 skip_bad = c->opt_skip_bad, rc;

	(void)argc;
	name = argv[0];
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
