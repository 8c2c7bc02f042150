/*
 * ctl_store.c -- dnsblctl commands on the store as a whole
 *
 *   init                create the store (keeps an existing one)
 *   stats               counts, sizes and the serial
 *   history ADDR|CIDR   the audit trail of an address and of every prefix
 *                       containing it, and what the store says now
 */
#include <stdio.h>

#include "ctl.h"

static int	print_audit(const struct store_audit *, void *);
static void	print_size(const char *, uint64_t);

int
cmd_init(struct ctl *c, int argc, char **argv)
{
	struct store *st;

	(void)argc;
	(void)argv;
	if ((st = ctl_open_store(c)) == NULL)
		return EXIT_ERR;
	store_close(st);
	printf("store ready in %s\n", c->dir);
	return 0;
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

int
cmd_history(struct ctl *c, int argc, char **argv)
{
	struct store		*st;
	struct store_reader	*rd = NULL;
	struct store_listing	 l;
	struct store_hit	 hit;
	struct addr		 a;
	char			 buf[ADDR_STRLEN], tbuf[32], cbuf[16];
	int			 n, rc = EXIT_ERR;

	(void)argc;
	if (ctl_parse_arg(argv[0], &a) == -1)
		return EXIT_ERR;
	if ((st = ctl_open_store(c)) == NULL ||
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

int
cmd_stats(struct ctl *c, int argc, char **argv)
{
	struct store		*st;
	struct store_reader	*rd = NULL;
	struct store_stats	 s;
	uint64_t		 total;
	int			 rc = EXIT_ERR;

	(void)argc;
	(void)argv;
	if ((st = ctl_open_store(c)) == NULL ||
	    (rd = store_reader_new(st)) == NULL ||
	    store_stats(rd, &s) == -1)
		goto done;
	total = s.listings[0] + s.listings[1];
	printf("%-16s%u\n", "serial", s.serial);
	printf("%-16s%u (the SOA's: the last change of a listing or an "
	    "exclusion)\n", "zone serial", s.zone_serial);
	if (s.journal)
		printf("%-16s%llu commits, %llu bytes: IXFR from serial %u on\n",
		    "journal", (unsigned long long)s.journal_entries,
		    (unsigned long long)s.journal_bytes, s.journal_from);
	else
		printf("%-16snone yet (begins with the next change)\n",
		    "journal");
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
