/*
 * version.c -- what relaybl and its libraries are, for --version and logs
 *
 * Every program prints the same line for --version and its daemons log it
 * at start-up, so a bug report or a journal says which relaybl and which
 * libraries a process ran with.  The libraries are asked at run time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <ldns/util.h>
#include <openssl/crypto.h>

#include "version.h"

#ifndef RELAYBL_VERSION
#define RELAYBL_VERSION	"unknown"	/* built without the Makefile */
#endif

const char *
version_line(const char *prog, const char *lmdb, char *buf, size_t size)
{
	const char	*ssl = OpenSSL_version(OPENSSL_VERSION);
	const char	*sp;
	int		 ssllen;

	/* "OpenSSL 3.0.19 27 Jan 2026": the name and number, not the date. */
	sp = strchr(ssl, ' ');
	sp = sp != NULL ? strchr(sp + 1, ' ') : NULL;
	ssllen = sp != NULL ? (int)(sp - ssl) : (int)strlen(ssl);
	snprintf(buf, size, "%s relaybl %s (ldns %s, LMDB %s, libevent %s, "
	    "%.*s)", prog, RELAYBL_VERSION, ldns_version(), lmdb,
	    event_get_version(), ssllen, ssl);
	return buf;
}

void
version_exit(const char *prog, const char *lmdb)
{
	char	buf[256];

	printf("%s\n", version_line(prog, lmdb, buf, sizeof(buf)));
	exit(fflush(stdout) == 0 && !ferror(stdout) ? 0 : 2);
}
