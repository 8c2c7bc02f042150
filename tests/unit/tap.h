/*
 * tap.h -- a minimal Test Anything Protocol producer for unit tests
 *
 * Each unit test program prints "ok N - name" / "not ok N - name" lines and
 * a closing plan, which prove(1) reads.  The exit status is the number of
 * failures (capped), so a failing program also fails without prove.
 */
#ifndef RELAYBL_TAP_H
#define RELAYBL_TAP_H

#include <stdio.h>
#include <stdarg.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (!ok(g_ == w_, __VA_ARGS__))					\
		printf("#   got %lld, want %lld\n", g_, w_);		\
} while (0)
#define is_str(got, want, ...) do {					\
	const char *g_ = (got), *w_ = (want);				\
	if (!ok(tap_streq(g_, w_), __VA_ARGS__))			\
		printf("#   got \"%s\", want \"%s\"\n",			\
		    tap_str(g_), tap_str(w_));				\
} while (0)

/* Out of line, so the compiler does not conclude arguments may be NULL. */
__attribute__((noinline, unused)) static int
tap_streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

__attribute__((noinline, unused)) static const char *
tap_str(const char *s)
{
	return s != NULL ? s : "(null)";
}

__attribute__((format(printf, 4, 5), unused)) static int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	return cond;
}

__attribute__((unused)) static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_failed > 100 ? 100 : tap_failed;
}

#endif
