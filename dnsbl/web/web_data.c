/*
 * web_data.c -- what the pages and the API both tell
 *
 * A lookup: the listing or exclusion that matches, its record, the head
 * of its evidence (proberd writes "form that relayed: NAME", "delivered
 * to the sink by ADDR", "upgraded by STARTTLS: ..." there), and a removal
 * retest waiting in the queue.
 *
 * A removal request has no table of its own: its id is the sequence
 * number of the audit entry that queued it (action QUEUE, reason DELIST),
 * and its state is read from what followed in the address's history: the
 * removal retest's outcome ("delist: clean ..." removed; "delist: listed"
 * still relays; deferred or inconclusive: probed again), or the queue
 * entry while none has come.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "queue.h"
#include "web.h"

static const char *state_names[] = {
	"queued", "probing", "removed", "still listed", "retrying", "gone"
};

const char *
web_removal_state_name(int s)
{
	return s >= 0 && s <= WR_GONE ? state_names[s] : "?";
}

int
web_evidence(struct web *w, uint64_t id, char **text, size_t *len)
{
	struct store_reader	*rd;
	size_t			 size = 64 * 1024;
	char			*buf = NULL;
	int			 r = -1;

	*text = NULL;
	*len = 0;
	if ((rd = store_reader_new(w->st)) == NULL)
		return -1;
	for (int tries = 0; tries < 8; tries++) {
		free(buf);
		if ((buf = malloc(size + 1)) == NULL)
			break;
		r = store_evidence(rd, id, buf, size, len);
		if (r != 1 || *len <= size)
			break;
		size = *len;	/* too small: its length came back */
	}
	store_reader_free(rd);
	if (r == 1 && buf != NULL && *len <= size) {
		buf[*len] = '\0';
		*text = buf;
		return 1;
	}
	free(buf);
	return r == 0 ? 0 : -1;
}

/* Copies the rest of the line after prefix in head into out. */
static void
head_line(const char *head, const char *prefix, char *out, size_t size)
{
	const char	*p = strstr(head, prefix), *e;

	out[0] = '\0';
	if (p == NULL || (p != head && p[-1] != '\n'))
		return;
	p += strlen(prefix);
	e = strchr(p, '\n');
	snprintf(out, size, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
}

static void
evidence_head(struct web *w, struct web_lookup *l)
{
	char	*text, *end;
	size_t	 len;

	if (l->rec.evidence == 0 ||
	    web_evidence(w, l->rec.evidence, &text, &len) != 1)
		return;
	if ((end = strstr(text, "\n\n")) != NULL)
		end[1] = '\0';
	head_line(text, "relay test of ", l->tested, sizeof(l->tested));
	head_line(text, "form that relayed: ", l->form, sizeof(l->form));
	head_line(text, "delivered to the sink by ", l->delivered_by,
	    sizeof(l->delivered_by));
	head_line(text, "upgraded by STARTTLS: ", l->tls, sizeof(l->tls));
	free(text);
}

/* The newest removal request (queue audit, reason DELIST) in a history. */
static int
last_removal(const struct store_audit *au, void *arg)
{
	uint64_t *id = arg;

	if (au->action == STORE_AUDIT_QUEUE && au->reason ==
	    STORE_PROBE_DELIST)
		*id = au->seq;
	return 0;
}

int
web_lookup(struct web *w, const struct addr *a, struct web_lookup *l)
{
	struct store_reader	*rd;
	struct store_hit	 hit;
	struct store_probe	 q;
	int			 r, rc = -1;

	memset(l, 0, sizeof(*l));
	l->addr = *a;
	if ((rd = store_reader_new(w->st)) == NULL)
		return -1;
	if ((r = store_lookup(rd, a, &hit)) == -1)
		goto done;
	l->listed = r == 1;
	l->excluded = r == 0 && hit.excluded;
	if (l->listed || l->excluded) {
		l->prefix = hit.prefix;
		l->code = hit.code;
		l->has_rec = store_record(rd, hit.record, &l->rec) == 1;
	}
	if ((r = store_queue_get(rd, a, &q)) == -1)
		goto done;
	if (r == 1 && q.reason == STORE_PROBE_DELIST) {
		l->removal_pending = 1;
		l->removal_running = q.running;
		l->removal_due = q.due;
		if (store_history(rd, a, last_removal, &l->removal_id) == -1)
			goto done;
	}
	rc = 0;
done:
	store_reader_free(rd);
	if (rc == 0 && l->has_rec)
		evidence_head(w, l);
	return rc;
}

/* Reads the audit entry seq: 1 found, 0 not, -1 failed. */
struct one_entry {
	uint64_t		seq;
	struct store_audit	au;
	int			found;
};

static int
take_entry(const struct store_audit *au, void *arg)
{
	struct one_entry *e = arg;

	if (au->seq == e->seq) {
		e->au = *au;
		e->found = 1;
	}
	return 1;	/* the first one is the one asked for, or none is */
}

/* The first removal retest outcome after the request. */
struct after {
	uint64_t		 id;
	struct web_removal	*r;
	int			 done;
};

static int
scan_after(const struct store_audit *au, void *arg)
{
	struct after		*a = arg;
	const char		*t = au->text;

	if (a->done || au->seq <= a->id || au->action != STORE_AUDIT_PROBE ||
	    au->reason != STORE_PROBE_DELIST)
		return 0;
	if (strncmp(t, "delist: ", 8) == 0)
		t += 8;
	snprintf(a->r->outcome, sizeof(a->r->outcome), "%s", t);
	if (strncmp(t, "clean", 5) == 0) {
		a->r->state = WR_REMOVED;
		a->r->finished = au->time;
		a->done = 1;
	} else if (strncmp(t, "listed", 6) == 0) {
		a->r->state = WR_STILL_LISTED;
		a->r->finished = au->time;
		a->done = 1;
	} else
		a->r->state = WR_RETRYING;	/* deferred, inconclusive */
	return 0;
}

int
web_removal_get(struct web *w, uint64_t id, struct web_removal *r)
{
	struct store_reader	*rd;
	struct one_entry	 e = { id, { 0 }, 0 };
	struct after		 af = { id, r, 0 };
	struct store_probe	 q;
	struct store_hit	 hit;
	int			 rc = -1, qr;

	memset(r, 0, sizeof(*r));
	if (id == 0 || (rd = store_reader_new(w->st)) == NULL)
		return id == 0 ? 0 : -1;
	if (store_audit_walk(rd, id, take_entry, &e) == -1)
		goto done;
	if (!e.found || e.au.action != STORE_AUDIT_QUEUE ||
	    e.au.reason != STORE_PROBE_DELIST) {
		rc = 0;
		goto done;
	}
	r->id = id;
	r->addr = e.au.addr;
	r->requested = e.au.time;
	r->state = WR_QUEUED;
	if (store_history(rd, &r->addr, scan_after, &af) == -1 ||
	    (qr = store_queue_get(rd, &r->addr, &q)) == -1)
		goto done;
	if (!af.done && qr == 1 && q.reason == STORE_PROBE_DELIST) {
		if (q.running)
			r->state = WR_PROBING;
		r->due = q.due;
	} else if (!af.done && r->state != WR_RETRYING) {
		/* No outcome and nothing queued: removed by other means? */
		int l = store_lookup(rd, &r->addr, &hit);
		if (l == -1)
			goto done;
		r->state = l == 1 ? WR_GONE : WR_REMOVED;
	}
	if (r->state == WR_STILL_LISTED && store_lookup(rd, &r->addr, &hit) ==
	    1) {
		struct store_listing rec;
		if (store_record(rd, hit.record, &rec) == 1)
			r->evidence = rec.evidence;
	}
	rc = 1;
done:
	store_reader_free(rd);
	if (rc == 1 && r->evidence) {
		struct web_lookup l;
		memset(&l, 0, sizeof(l));
		l.rec.evidence = r->evidence;
		l.has_rec = 1;
		evidence_head(w, &l);
		snprintf(r->form, sizeof(r->form), "%s", l.form);
	}
	return rc;
}

int
web_removal_ask(struct web_req *q, const struct addr *a, uint64_t *id,
    int64_t *retry_after, const char **why, int64_t *due)
{
	struct web		*w = q->w;
	struct queue_result	 res;
	struct store_reader	*rd;
	char			 actor[STORE_SOURCE_MAX], cbuf[ADDR_STRLEN];
	int			 outcome;

	*id = 0;
	*retry_after = 0;
	*why = NULL;
	*due = 0;
	if ((*retry_after = web_rate_take(w, &q->client, q->now)) > 0) {
		w->metrics.removals[RM_RATE_LIMITED]++;
		return RM_RATE_LIMITED;
	}
	snprintf(actor, sizeof(actor), "web:%s", addr_format(&q->client,
	    cbuf));
	if (queue_removal(w->st, actor, q->now, a, &res) == -1)
		return -1;
	switch (res.outcome) {
	case QUEUE_QUEUED:
		outcome = RM_QUEUED;
		break;
	case QUEUE_ALREADY:
		outcome = RM_ALREADY;
		break;
	case QUEUE_NOT_LISTED:
		outcome = RM_NOT_LISTED;
		break;
	case QUEUE_EXCLUDED:
		outcome = RM_EXCLUDED;
		break;
	default:
		*why = res.why;
		outcome = RM_REFUSED;
		break;
	}
	w->metrics.removals[outcome]++;
	if (outcome == RM_QUEUED || outcome == RM_ALREADY) {
		*due = res.probe.due;
		if ((rd = store_reader_new(w->st)) == NULL ||
		    store_history(rd, a, last_removal, id) == -1) {
			store_reader_free(rd);
			return -1;
		}
		store_reader_free(rd);
	}
	return outcome;
}
