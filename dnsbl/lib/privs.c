/*
 * privs.c -- giving up root for a user, the same way in every daemon
 *
 * The checks come first (privs_check, before the daemon does any work) so
 * that a wrong user is a clear error at start-up, not a failure after the
 * sockets are bound.
 */
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "log.h"
#include "privs.h"

int
privs_check(struct privs *p, const char *user)
{
	struct passwd *pw;

	p->user = user != NULL && user[0] != '\0' ? user : NULL;
	if (p->user == NULL)
		return 0;
	if (geteuid() != 0) {
		log_warnx("cannot become user %s (-u USER, or user in the "
		    "configuration): not started as root (uid %u); start as "
		    "root, or name no user", p->user, (unsigned)geteuid());
		return -1;
	}
	if ((pw = getpwnam(p->user)) == NULL) {
		log_warnx("cannot become user %s: no such user", p->user);
		return -1;
	}
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	return 0;
}

int
privs_drop(const struct privs *p)
{
	if (p->user == NULL)
		return 0;
	if (setgroups(1, &p->gid) == -1 || setgid(p->gid) == -1 ||
	    setuid(p->uid) == -1) {
		log_warn("cannot become %s", p->user);
		return -1;
	}
	if (setuid(0) != -1) {
		log_warnx("could become root again after becoming %s",
		    p->user);
		return -1;
	}
	return 0;
}
