/*
 * privs.h -- giving up root for a user, the same way in every daemon
 *
 * A daemon binds its sockets as root, then becomes an unprivileged user
 * (-u USER, or the user key of its section).  Asking for a user when not
 * started as root is an error that says so, never silently ignored: the
 * operator meant the process not to run as whoever started it.
 */
#ifndef RELAYBL_PRIVS_H
#define RELAYBL_PRIVS_H

#include <sys/types.h>

struct privs {
	const char	*user;		/* NULL: stay as started */
	uid_t		 uid;
	gid_t		 gid;
};

/*
 * Checks, before any work, that user (NULL or "": none) can be become:
 * the process runs as root and the user exists.  Fills p for privs_drop().
 * Returns 0, or -1 with the reason logged.
 */
int	privs_check(struct privs *p, const char *user);

/*
 * Becomes p's user (nothing when there is none) and makes sure root
 * cannot be regained.  Returns 0, or -1 with the reason logged.
 */
int	privs_drop(const struct privs *p);

#endif
