/*
 * ctl_probe.c -- dnsblctl commands that queue work for proberd
 *
 *   submit ADDR... | -   queue relay tests (addresses on stdin with "-")
 *   delist ADDR          queue the removal retest of a listed address
 *   queue                show the queued probes, pending and running
 *   evidence ADDR | #ID  show what proved a listing (transcript, message)
 *
 * The rules and the writes are the queue module's (queue.h), shared with
 * every front end; this file reads the operator's input and words the
 * results.  An operator hears at once why an address will not be probed,
 * and when a limit (one probe a day, one removal retest an hour) delays it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "log.h"
#include "queue.h"

struct queue_count {
	int	queued, running;
};

static void	print_result(const struct addr *, const struct queue_result *,
		    int64_t);
static int	submittable(struct ctl *, const char *, const char *,
		    struct addr *);
static int	add_addr(struct addr **, size_t *, size_t *);
static void	read_stdin(struct ctl *, struct addr **, size_t *, int *);
static int	print_probe(const struct store_probe *, void *);

/* What became of one address, worded as dnsblctl always has. */
static void
print_result(const struct addr *a, const struct queue_result *r, int64_t now)
{
	const struct store_probe	*p = &r->probe;
	char				 buf[ADDR_STRLEN], tbuf[32];

	addr_format(a, buf);
	if (r->outcome == QUEUE_ALREADY)
		printf("%s already queued (%s, due %s)\n", buf,
		    store_reason_name(p->reason), ctl_fmt_time(p->due, tbuf,
		    sizeof(tbuf)));
	else if (r->outcome == QUEUE_QUEUED)
		printf("%s queued (%s), due %s%s\n", buf,
		    store_reason_name(p->reason), ctl_fmt_time(p->due, tbuf,
		    sizeof(tbuf)), p->due > now ? " (probe limits: once a "
		    "day, removal retests once an hour)" : "");
}

/* Parses one address to submit; logs why it cannot be.  0 or -1. */
static int
submittable(struct ctl *c, const char *s, const char *where,
    struct addr *a)
{
	const char *why;

	if (ctl_parse_arg(s, a) == -1)
		return -1;
	if ((why = queue_refusal(a, &c->allow)) != NULL) {
		log_warnx("%s%s: %s", where, s, why);
		return -1;
	}
	return 0;
}

/* Makes room for one more address in *addrs.  0, or -1 out of memory. */
static int
add_addr(struct addr **addrs, size_t *n, size_t *cap)
{
	struct addr *p;

	if (*n < *cap)
		return 0;
	if ((p = reallocarray(*addrs, *cap ? *cap * 2 : 64, sizeof(*p))) ==
	    NULL)
		return -1;
	*cap = *cap ? *cap * 2 : 64;
	*addrs = p;
	return 0;
}

/* Reads addresses, one per line ("#" comments), from stdin. */
static void
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
		if (add_addr(addrs, n, &acap) == -1)
			fatal("submit");
		snprintf(where, sizeof(where), "(stdin):%ld: ", lineno);
		if (submittable(c, s, where, &(*addrs)[*n]) == -1)
			(*bad)++;
		else
			(*n)++;
	}
	free(line);
}

int
cmd_submit(struct ctl *c, int argc, char **argv)
{
	struct store		*st;
	struct queue_result	*res = NULL;
	struct addr		*addrs = NULL;
	size_t			 n = 0;
	int64_t			 now = time(NULL);
	int			 bad = 0, rc = EXIT_ERR;

	if (argc == 1 && strcmp(argv[0], "-") == 0)
		read_stdin(c, &addrs, &n, &bad);
	else {
		if ((addrs = calloc(argc, sizeof(*addrs))) == NULL)
			fatal("submit");
		for (int i = 0; i < argc; i++)
			if (submittable(c, argv[i], "", &addrs[n]) == -1)
				bad++;
			else
				n++;
	}
	if (bad) {
		log_warnx("nothing queued (%d refused)", bad);
		free(addrs);
		return EXIT_ERR;
	}
	if ((st = ctl_open_store(c)) == NULL)
		goto done;
	if ((res = calloc(n + 1, sizeof(*res))) == NULL)
		fatal("submit");
	/* Refusals were checked above: any now is the store failing. */
	if (queue_submit(st, &c->allow, c->actor, now, addrs, n, res) != 0)
		goto done;
	for (size_t i = 0; i < n; i++)
		print_result(&addrs[i], &res[i], now);
	rc = 0;
done:
	store_close(st);
	free(res);
	free(addrs);
	return rc;
}

int
cmd_delist(struct ctl *c, int argc, char **argv)
{
	struct store		*st;
	struct queue_result	 res;
	struct addr		 a;
	int64_t			 now = time(NULL);
	int			 rc = EXIT_ERR;

	(void)argc;
	if (ctl_parse_arg(argv[0], &a) == -1)
		return EXIT_ERR;
	if ((st = ctl_open_store(c)) == NULL)
		return EXIT_ERR;
	if (queue_removal(st, c->actor, now, &a, &res) == -1)
		goto done;
	switch (res.outcome) {
	case QUEUE_REFUSED:
		log_warnx("%s: %s", argv[0], res.why);
		break;
	case QUEUE_NOT_LISTED:
	case QUEUE_EXCLUDED:
		printf("%s: not listed\n", argv[0]);
		rc = EXIT_NO;
		break;
	default:
		print_result(&a, &res, now);
		rc = 0;
		break;
	}
done:
	store_close(st);
	return rc;
}

static int
print_probe(const struct store_probe *p, void *arg)
{
	struct queue_count	*n = arg;
	char			 buf[ADDR_STRLEN], t1[32], t2[32];

	n->queued++;
	n->running += p->running;
	printf("%-20s  %-39s  %-6s  %2u  %s  %-16s  %s%s\n",
	    ctl_fmt_time(p->due, t1, sizeof(t1)), addr_format(&p->addr, buf),
	    store_reason_name(p->reason), p->attempts, ctl_fmt_time(p->queued,
	    t2, sizeof(t2)), p->actor, p->running ? "running" : "pending",
	    p->deferred ? ", deferred once" : "");
	return 0;
}

int
cmd_queue(struct ctl *c, int argc, char **argv)
{
	struct store		*st;
	struct store_reader	*rd = NULL;
	struct queue_count	 n = { 0, 0 };
	int			 rc = EXIT_ERR;

	(void)argc;
	(void)argv;
	if ((st = ctl_open_store(c)) == NULL ||
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

	(void)argc;
	if (argv[0][0] == '#') {
		unsigned long long v;
		errno = 0;
		v = strtoull(argv[0] + 1, &end, 10);
		if (argv[0][1] == '\0' || *end != '\0' || errno != 0 ||
		    v == 0) {
			log_warnx("\"%s\": not an evidence number (#N)",
			    argv[0]);
			return EXIT_ERR;
		}
		id = v;
	} else if (ctl_parse_arg(argv[0], &a) == -1)
		return EXIT_ERR;
	if ((st = ctl_open_store(c)) == NULL ||
	    (rd = store_reader_new(st)) == NULL)
		goto done;
	if (id == 0) {
		if ((r = store_lookup(rd, &a, &hit)) == -1 || (r == 1 &&
		    store_record(rd, hit.record, &l) == -1))
			goto done;
		if (r == 0 || l.evidence == 0) {
			printf("%s: %s\n", argv[0], r == 0 ? "not listed" :
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
