/*
 * fixture.c -- the unit tests' scratch directory, stores and listings
 *
 * Linked into every unit test by the Makefile, so that no test carries its
 * own copy of a temporary directory, its removal, or the few lines that
 * list an address.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

static char	scratch[] = "/tmp/relaybl-unit.XXXXXX";
static int	made, dirs;
static pid_t	owner;

static int
remove_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	if (remove(path) == -1)
		printf("# could not remove %s\n", path);
	return 0;
}

/* Removes the scratch directory, in the process that made it only. */
static void
cleanup(void)
{
	const char *keep = getenv("KEEP");

	if (!made || getpid() != owner)
		return;
	if (keep != NULL && *keep != '\0') {
		printf("# kept %s\n", scratch);
		return;
	}
	nftw(scratch, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fixture_dir(void)
{
	if (made)
		return scratch;
	if (mkdtemp(scratch) == NULL) {
		perror("fixture: mkdtemp");
		abort();
	}
	made = 1;
	owner = getpid();
	atexit(cleanup);
	return scratch;
}

const char *
fixture_newdir(void)
{
	static char path[sizeof(scratch) + 32];

	snprintf(path, sizeof(path), "%s/s%d", fixture_dir(), ++dirs);
	return path;
}

struct store *
fixture_store(void)
{
	return store_open(fixture_newdir(), STORE_CREATE, 0);
}

void
fixture_write(const char *path, const char *text)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) == EOF) {
		perror(path);
		abort();
	}
}

struct addr
fixture_addr(const char *s)
{
	struct addr	 a;
	const char	*err;

	if (addr_parse(s, &a, &err) == -1) {
		fprintf(stderr, "bad test address %s: %s\n", s, err);
		abort();
	}
	return a;
}

struct store_listing
fixture_listing(uint32_t last, int kind, const char *text)
{
	struct store_listing l;

	memset(&l, 0, sizeof(l));
	l.code = 0x7f000000u | last;
	l.kind = kind;
	snprintf(l.source, sizeof(l.source), "test");
	snprintf(l.text, sizeof(l.text), "%s", text);
	return l;
}

int
fixture_list(struct store *st, const char *s, uint32_t last,
    const char *text)
{
	struct store_txn	*t;
	struct store_listing	 l = fixture_listing(last, STORE_KIND_MANUAL,
				    text);
	struct addr		 a = fixture_addr(s);

	if ((t = store_begin(st, "test")) == NULL)
		return -1;
	if (store_list(t, &a, &l) == -1) {
		store_abort(t);
		return -1;
	}
	return store_commit(t);
}

int
fixture_exclude(struct store *st, const char *s, const char *why)
{
	struct store_txn	*t;
	struct addr		 a = fixture_addr(s);

	if ((t = store_begin(st, "test")) == NULL)
		return -1;
	if (store_exclude(t, &a, why) == -1) {
		store_abort(t);
		return -1;
	}
	return store_commit(t);
}

int
fixture_list_all(struct store *st, const char *const *items)
{
	struct store_txn	*t = store_begin(st, "test");

	if (t == NULL)
		return -1;
	for (; *items; items++) {
		char			 buf[64], *eq;
		struct addr		 a;
		struct store_listing	 l;

		snprintf(buf, sizeof(buf), "%s", *items);
		if ((eq = strchr(buf, '=')) == NULL)
			abort();
		*eq = '\0';
		a = fixture_addr(buf);
		l = fixture_listing(atoi(eq + 1), STORE_KIND_MANUAL, buf);
		if (store_list(t, &a, &l) == -1) {
			store_abort(t);
			return -1;
		}
	}
	return store_commit(t);
}
