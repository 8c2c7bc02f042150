/*
 * ctl.h -- what the files of dnsblctl share
 *
 * dnsblctl.c has the list commands and main(); ctl_probe.c the commands
 * that queue work for proberd (submit, delist, queue).
 */
#ifndef RELAYBL_CTL_H
#define RELAYBL_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "probe_policy.h"
#include "store.h"

#define EXIT_NO		1	/* a "no" answer: not listed, nothing to do */
#define EXIT_ERR	2

struct ctl {
	struct config		*cfg;
	const char		*dir;
	uint64_t		 map_size;
	char			 actor[STORE_SOURCE_MAX];
	struct probe_allow	 allow;		/* [prober] allow */
};

/* "2026-11-28T17:00:00Z", or "-" for 0. */
const char	*ctl_fmt_time(int64_t, char *, size_t);
/* "127.0.0.2". */
const char	*ctl_fmt_code(uint32_t, char *, size_t);
/* Strict ADDR|CIDR argument; logs why not.  0 or -1. */
int		 ctl_parse_arg(const char *, struct addr *);
struct store	*ctl_open_store(struct ctl *, int flags);
/*
 * Runs fn in one write transaction: fn returns 0 to commit, 1 to abort
 * (nothing to change), -1 on error.  Returns fn's result or -1.
 */
int		 ctl_with_txn(struct ctl *, int (*)(struct store_txn *,
		    void *), void *);
/* Reads [prober] allow.  0 or -1 (logged). */
int		 ctl_load_prober(struct ctl *);

int	cmd_submit(struct ctl *, int, char **);
int	cmd_delist(struct ctl *, int, char **);
int	cmd_queue(struct ctl *, int, char **);
int	cmd_evidence(struct ctl *, int, char **);

#endif
