/*
 * version.h -- what relaybl and its libraries are, for --version and logs
 *
 * One line names the program, relaybl's version (VERSION in the Makefile,
 * compiled in as RELAYBL_VERSION) and the versions of the libraries as
 * loaded at run time, not as compiled against: after a library upgrade
 * the line says what the process really runs with.  LMDB's version comes
 * from the store (store_lmdb_version()), the only module that may know
 * LMDB; the caller passes it in.
 */
#ifndef RELAYBL_VERSION_H
#define RELAYBL_VERSION_H

#include <stddef.h>

/*
 * Writes "PROG relaybl 0.9.0 (ldns 1.8.3, LMDB 0.9.24, libevent
 * 2.1.12-stable, OpenSSL 3.0.19)" into buf (size bytes, NUL-terminated,
 * cut if short) and returns buf.  lmdb is LMDB's version number.
 */
const char	*version_line(const char *prog, const char *lmdb, char *buf,
		    size_t size);

/*
 * For --version and -V: prints the line to stdout and exits 0 (2 if
 * stdout cannot be written).
 */
void		 version_exit(const char *prog, const char *lmdb)
		    __attribute__((noreturn));

#endif
