/*
 * ctl_probe.c -- dnsblctl commands that queue work for proberd
 *
 *   submit ADDR... | -   queue relay tests (addresses on stdin with "-")
 *   delist ADDR          queue the removal retest of a listed address
 *   queue                show the queued probes, pending and running
 *   evidence ADDR | #ID  show what proved a listing (transcript, message)
 *
 * The work goes into the store's probe queue, where proberd picks it up.
 * The manners are checked here already, so that an operator hears at once
 * why an address will not be probed (probe_policy.c): special-use
 * addresses outside [prober] allow are refused, and the due time respects
 * the one-probe-a-day and one-removal-retest-an-hour limits, found from
 * the address's probe history in the audit trail.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "log.h"

struct last_probes {
	int64_t	any;		/* last probe of any reason */
	int64_t	delist;		/* last removal retest */
};

/* Audit entries of probes start with the reason: "delist: clean". */
static int
scan_probes(const struct store_audit *au, void *arg)
{
	struct last_probes *lp = arg;

	if (au->action != STORE_AUDIT_PROBE ||
	    au->addr.plen != addr_maxplen(&au->addr))
		return 0;
	if (au->time > lp->any)
		lp->any = au->time;
	if (strncmp(au->text, "delist", 6) == 0 && au->time > lp->delist)
		lp->delist = au->time;
	return 0;
}

/* What happened to one address: queued now (p), or already queued. */
struct queued {
	struct store_probe	 p;
	int			 already;
};

struct queue_args {
	struct addr	*addrs;
	size_t		 n;
	int		 reason;
	int64_t		 now;
	struct store	*st;
	struct queued	*out;		/* n of them, printed after commit */
	int		 changed;
};

static int
do_queue(struct store_txn *t, void *arg)
{
	struct queue_args	*qa = arg;
	struct store_reader	*rd = store_reader_new(qa->st);
	struct store_probe	 p, old;
	char			 text[64];
	int			 r, rc = -1;

	if (rd == NULL)
		return -1;
	for (size_t i = 0; i < qa->n; i++) {
		struct last_probes lp = { 0, 0 };
		if (store_history(rd, &qa->addrs[i], scan_probes, &lp) == -1)
			goto done;
		memset(&p, 0, sizeof(p));
		p.addr = qa->addrs[i];
		p.reason = qa->reason;
		p.due = probe_due(qa->reason, qa->now, lp.any, lp.delist);
		if ((r = store_txn_queue_get(t, &p.addr, &old)) == -1)
			goto done;
		if (r == 1 && old.due <= p.due && (old.reason == p.reason ||
		    p.reason != STORE_PROBE_DELIST)) {
			qa->out[i].p = old;
			qa->out[i].already = 1;
			continue;
		}
		snprintf(text, sizeof(text), "%s", store_reason_name(p.reason));
		if (store_queue_put(t, &p) == -1 || store_audit_add(t,
		    STORE_AUDIT_QUEUE, &p.addr, 0, text) == -1)
			goto done;
		qa->out[i].p = p;
		qa->changed = 1;
	}
	rc = qa->changed ? 0 : 1;
done:
	store_reader_free(rd);
	return rc;
}

/*
 * Queues qa->addrs in one transaction and says what became of each, once
 * it is committed (so that a failed commit claims nothing).  0 or -1.
 */
static int
queue_all(struct ctl *c, struct queue_args *qa)
{
	const struct store_probe	*p;
	char				 buf[ADDR_STRLEN], tbuf[32];

	if ((qa->out = calloc(qa->n + 1, sizeof(*qa->out))) == NULL)
		fatal("queue");
	if (ctl_with_txn(c, do_queue, qa) == -1) {
		free(qa->out);
		return -1;
	}
	for (size_t i = 0; i < qa->n; i++) {
		p = &qa->out[i].p;
		addr_format(&qa->addrs[i], buf);
		if (qa->out[i].already)
			printf("%s already queued (%s, due %s)\n", buf,
			    store_reason_name(p->reason), ctl_fmt_time(
			    p->due, tbuf, sizeof(tbuf)));
		else
			printf("%s queued (%s), due %s%s\n", buf,
			    store_reason_name(p->reason), ctl_fmt_time(p->due,
			    tbuf, sizeof(tbuf)), p->due > qa->now ?
			    " (probe limits: once a day, removal retests "
			    "once an hour)" : "");
	}
	free(qa->out);
	return 0;
}

/* Parses one address to submit; logs why it cannot be.  0 or -1. */
static int
submittable(struct ctl *c, const char *s, const char *where,
    struct addr *a)
{
	const char *why;

	if (ctl_parse_arg(s, a) == -1)
		return -1;
	if ((why = probe_refusal(a, &c->allow)) != NULL) {
		log_warnx("%s%s: %s", where, s, why);
		return -1;
	}
	return 0;
}

/* Reads addresses, one per line ("#" comments), from stdin. */
static int
read_stdin(struct ctl *c, struct addr **addrs, size_t *n, int *bad)
{
	char	*line = NULL, where[32];
	size_t	 cap = 0, acap = 0;
	ssize_t	 len;
	long	 lineno = 0;

	while ((len = getline(&line, &cap, stdin)) != -1) {
		lineno++;
		char *s = line + strspn(line, " \t");
		s[strcspn(s, " \t\r\n#")] = '\0';
		if (*s == '\0')
			continue;
		if (*n == acap) {
			acap = acap ? acap * 2 : 64;
			struct addr *p = reallocarray(*addrs, acap, sizeof(*p));
			if (p == NULL)
				fatal("submit");
			*addrs = p;
		}
		snprintf(where, sizeof(where), "(stdin):%ld: ", lineno);
		if (submittable(c, s, where, &(*addrs)[*n]) == -1)
			(*bad)++;
		else
			(*n)++;
	}
	free(line);
	return 0;
}

int
cmd_submit(struct ctl *c, int argc, char **argv)
{
	struct queue_args	 qa;
	int			 bad = 0, rc;

	if (argc < 2) {
		log_warnx("usage: dnsblctl submit ADDR... | -");
		return EXIT_ERR;
	}
	memset(&qa, 0, sizeof(qa));
	qa.reason = STORE_PROBE_SUBMIT;
	qa.now = time(NULL);
	if (argc == 2 && strcmp(argv[1], "-") == 0)
		read_stdin(c, &qa.addrs, &qa.n, &bad);
	else {
		if ((qa.addrs = calloc(argc, sizeof(*qa.addrs))) == NULL)
			fatal("submit");
		for (int i = 1; i < argc; i++)
			if (submittable(c, argv[i], "", &qa.addrs[qa.n]) == -1)
				bad++;
			else
				qa.n++;
	}
	if (bad) {
		log_warnx("nothing queued (%d refused)", bad);
		free(qa.addrs);
		return EXIT_ERR;
	}
	/* A read-only handle for the history; with_txn opens the writer. */
	if ((qa.st = ctl_open_store(c, STORE_RDONLY)) == NULL) {
		free(qa.addrs);
		return EXIT_ERR;
	}
	rc = qa.n ? queue_all(c, &qa) : 1;
	store_close(qa.st);
	free(qa.addrs);
	return rc == -1 ? EXIT_ERR : 0;
}

int
cmd_delist(struct ctl *c, int argc, char **argv)
{
	struct queue_args	 qa;
	struct store_reader	*rd;
	struct store_hit	 hit;
	struct addr		 a;
	int			 rc;

	if (argc != 2) {
		log_warnx("usage: dnsblctl delist ADDR");
		return EXIT_ERR;
	}
	if (ctl_parse_arg(argv[1], &a) == -1)
		return EXIT_ERR;
	if (a.plen != addr_maxplen(&a)) {
		log_warnx("%s: removal is asked for one address", argv[1]);
		return EXIT_ERR;
	}
	memset(&qa, 0, sizeof(qa));
	if ((qa.st = ctl_open_store(c, STORE_RDONLY)) == NULL ||
	    (rd = store_reader_new(qa.st)) == NULL) {
		store_close(qa.st);
		return EXIT_ERR;
	}
	rc = store_lookup(rd, &a, &hit);
	store_reader_free(rd);
	if (rc != 1) {
		store_close(qa.st);
		if (rc == 0)
			printf("%s: not listed\n", argv[1]);
		return rc == 0 ? EXIT_NO : EXIT_ERR;
	}
	qa.addrs = &a;
	qa.n = 1;
	qa.reason = STORE_PROBE_DELIST;
	qa.now = time(NULL);
	rc = queue_all(c, &qa);
	store_close(qa.st);
	return rc == -1 ? EXIT_ERR : 0;
}

struct queue_count {
	int	queued, running;
};

static int
print_probe(const struct store_probe *p, void *arg)
{
	struct queue_count	*n = arg;
	char			 buf[ADDR_STRLEN], t1[32], t2[32];

	n->queued++;
	n->running += p->running;
	printf("%-20s  %-39s  %-6s  %2u  %s  %-16s  %s\n", ctl_fmt_time(p->due,
	    t1, sizeof(t1)), addr_format(&p->addr, buf),
	    store_reason_name(p->reason), p->attempts, ctl_fmt_time(p->queued,
	    t2, sizeof(t2)), p->actor, p->running ? "running" : "pending");
	return 0;
}

int
cmd_queue(struct ctl *c, int argc, char **argv)
{
	struct store		*st;
	struct store_reader	*rd = NULL;
	struct queue_count	 n = { 0, 0 };
	int			 rc = EXIT_ERR;

	(void)argv;
	if (argc != 1)
		return EXIT_ERR;
	if ((st = ctl_open_store(c, STORE_RDONLY)) == NULL ||
	    (rd = store_reader_new(st)) == NULL)
		goto done;
	printf("%-20s  %-39s  %-6s  %2s  %-20s  %-16s  %s\n", "due", "address",
	    "reason", "n", "queued", "by", "state");
	if (store_queue_walk(rd, print_probe, &n) == 0) {
		printf("%d queued, %d running\n", n.queued, n.running);
		rc = 0;
	}
done:
	store_reader_free(rd);
	store_close(st);
	return rc;
}

/*
 * Prints the evidence behind ADDR's listing (the transcript of the
 * session that relayed, the form, the message as the sink received it),
 * or evidence #ID.  Exit 1 when there is none.
 */
int
cmd_evidence(struct ctl *c, int argc, char **argv)
{
	struct store		*st;
	struct store_reader	*rd = NULL;
	struct store_hit	 hit;
	struct store_listing	 l;
	struct addr		 a;
	uint64_t		 id = 0;
	char			*buf = NULL, *end;
	size_t			 len = 0;
	int			 r, rc = EXIT_ERR;

	if (argc != 2)
		return EXIT_ERR;
	if (argv[1][0] == '#') {
		unsigned long long v;
		errno = 0;
		v = strtoull(argv[1] + 1, &end, 10);
		if (argv[1][1] == '\0' || *end != '\0' || errno != 0 ||
		    v == 0) {
			log_warnx("\"%s\": not an evidence number (#N)",
			    argv[1]);
			return EXIT_ERR;
		}
		id = v;
	} else if (ctl_parse_arg(argv[1], &a) == -1)
		return EXIT_ERR;
	if ((st = ctl_open_store(c, STORE_RDONLY)) == NULL ||
	    (rd = store_reader_new(st)) == NULL)
		goto done;
	if (id == 0) {
		if ((r = store_lookup(rd, &a, &hit)) == -1 || (r == 1 &&
		    store_record(rd, hit.record, &l) == -1))
			goto done;
		if (r == 0 || l.evidence == 0) {
			printf("%s: %s\n", argv[1], r == 0 ? "not listed" :
			    "listed without evidence");
			rc = EXIT_NO;
			goto done;
		}
		id = l.evidence;
	}
	if ((r = store_evidence(rd, id, NULL, 0, &len)) == 1 &&
	    (buf = malloc(len + 1)) != NULL)
		r = store_evidence(rd, id, buf, len, &len);
	if (r == 0) {
		printf("no evidence #%llu\n", (unsigned long long)id);
		rc = EXIT_NO;
	} else if (r == 1 && buf != NULL) {
		printf("evidence #%llu\n", (unsigned long long)id);
		fwrite(buf, 1, len, stdout);
		if (len > 0 && buf[len - 1] != '\n')
			putchar('\n');
		rc = 0;
	}
done:
	free(buf);
	store_reader_free(rd);
	store_close(st);
	return rc;
}
