/*
 * ctl.h -- what the files of dnsblctl share
 *
 * dnsblctl.c has main(), option parsing and the command table; the
 * commands are grouped by concern: ctl_list.c the listings (add, del,
 * exclude, unexclude, lookup, import), ctl_probe.c the work queued for
 * proberd (submit, delist, queue, evidence), ctl_store.c the store as a
 * whole (init, stats, history).  A command gets its operands (options
 * already parsed into struct ctl by the table's option letters) and
 * returns the exit status.
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

struct ctl;

/* One command: dnsblctl NAME [options] operands. */
struct ctl_command {
	const char	*name;
	const char	*usage;		/* the line in the usage message */
	const char	*opts;		/* getopt letters, NULL: no options */
	int		 min_args;	/* operands, after the options */
	int		 max_args;	/* -1: no limit */
	int		 store_flags;	/* how it opens the store: STORE_RDONLY,
					   0 (it writes), STORE_CREATE */
	int		(*fn)(struct ctl *, int argc, char **argv);
};

struct ctl {
	struct config			*cfg;
	const char			*dir;
	uint64_t			 map_size;
	uint64_t			 journal_size;	/* [dns] */
	char				 actor[STORE_SOURCE_MAX];
	struct probe_allow		 allow;		/* [prober] allow */
	const struct ctl_command	*cmd;		/* the one running */
	/* The command's options, as given (checked by the command). */
	const char			*opt_k;		/* -k kind */
	const char			*opt_r;		/* -r code */
	const char			*opt_t;		/* -t text */
	const char			*opt_f;		/* -f format */
	const char			*opt_o;		/* -o file */
	int				 opt_skip_bad;	/* --skip-bad */
};

/* "2026-11-28T17:00:00Z", or "-" for 0. */
const char	*ctl_fmt_time(int64_t, char *, size_t);
/* "127.0.0.2". */
const char	*ctl_fmt_code(uint32_t, char *, size_t);
/* Strict ADDR|CIDR argument; logs why not.  0 or -1. */
int		 ctl_parse_arg(const char *, struct addr *);
/* Opens the store as the running command's store_flags say; NULL. */
struct store	*ctl_open_store(struct ctl *);
/*
 * Runs fn in one write transaction: fn returns 0 to commit, 1 to abort
 * (nothing to change), -1 on error.  Returns fn's result or -1.
 */
int		 ctl_with_txn(struct ctl *, int (*)(struct store_txn *,
		    void *), void *);

/* ctl_list.c */
int	cmd_add(struct ctl *, int, char **);
int	cmd_del(struct ctl *, int, char **);
int	cmd_exclude(struct ctl *, int, char **);
int	cmd_unexclude(struct ctl *, int, char **);
int	cmd_lookup(struct ctl *, int, char **);
int	cmd_import(struct ctl *, int, char **);
/* ctl_probe.c */
int	cmd_submit(struct ctl *, int, char **);
int	cmd_delist(struct ctl *, int, char **);
int	cmd_queue(struct ctl *, int, char **);
int	cmd_evidence(struct ctl *, int, char **);
/* ctl_export.c */
int	cmd_export(struct ctl *, int, char **);
/* ctl_store.c */
int	cmd_init(struct ctl *, int, char **);
int	cmd_stats(struct ctl *, int, char **);
int	cmd_history(struct ctl *, int, char **);

#endif
