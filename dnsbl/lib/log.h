/*
 * log.h -- diagnostics for every relaybl program
 *
 * Messages go to stderr prefixed with the program name (and, for daemons that
 * ask for it, to syslog).  The _warn variants append strerror(errno); the
 * _warnx variants do not.  fatal/fatalx log and exit(2).
 */
#ifndef RELAYBL_LOG_H
#define RELAYBL_LOG_H

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Sets the name messages are prefixed with, and whether to use syslog. */
void	log_init(const char *progname, int use_syslog);

/* 1 to print log_debug messages, 0 (the default) to drop them. */
void	log_setverbose(int);

void	log_warn(const char *, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *, ...) LOG_PRINTF(1, 2);
void	log_info(const char *, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *, ...) LOG_PRINTF(1, 2);
void	fatal(const char *, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void	fatalx(const char *, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

#endif
