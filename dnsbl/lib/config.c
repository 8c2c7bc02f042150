/*
 * config.c -- the relaybl configuration file, read with inih
 *
 * inih does the INI syntax; this file keeps what it reports as a flat list
 * and turns values into numbers, durations and sizes with range checks,
 * so that a typo in the file is an error at start-up, not a surprise later.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "log.h"

struct config_item {
	char	*section;
	char	*key;
	char	*value;
};

struct config {
	char			*name;
	struct config_item	*items;
	size_t			 n, cap;
};

static int	on_item(void *, const char *, const char *, const char *);
static int	parse_number(const struct config *, const char *,
		    const char *, const char *, int, int64_t *);
static struct config *config_new(const char *);

static struct config *
config_new(const char *name)
{
	struct config *c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->name = strdup(name)) == NULL) {
		free(c);
		log_warn("config");
		return NULL;
	}
	return c;
}

/* inih callback: later values of the same key replace earlier ones. */
static int
on_item(void *arg, const char *section, const char *key, const char *value)
{
	struct config		*c = arg;
	struct config_item	*it;

	for (size_t i = 0; i < c->n; i++) {
		it = &c->items[i];
		if (strcmp(it->section, section) == 0 &&
		    strcmp(it->key, key) == 0) {
			char *v = strdup(value);
			if (v == NULL)
				return 0;
			free(it->value);
			it->value = v;
			return 1;
		}
	}
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 32;
		it = reallocarray(c->items, ncap, sizeof(*it));
		if (it == NULL)
			return 0;
		c->items = it;
		c->cap = ncap;
	}
	it = &c->items[c->n];
	it->section = strdup(section);
	it->key = strdup(key);
	it->value = strdup(value);
	if (it->section == NULL || it->key == NULL || it->value == NULL) {
		free(it->section);
		free(it->key);
		free(it->value);
		return 0;
	}
	c->n++;
	return 1;
}

struct config *
config_load(const char *path)
{
	struct config	*c;
	const char	*p = path ? path : CONFIG_DEFAULT_PATH;
	int		 rc;

	if (path == NULL && access(p, F_OK) == -1)
		return config_new("(defaults)");
	if ((c = config_new(p)) == NULL)
		return NULL;
	rc = ini_parse(p, on_item, c);
	if (rc == -1) {
		log_warn("cannot read configuration %s", p);
		goto err;
	}
	if (rc != 0) {
		log_warnx("%s:%d: syntax error", p, rc);
		goto err;
	}
	return c;
err:
	config_free(c);
	return NULL;
}

struct config *
config_parse(const char *text, const char *name)
{
	struct config	*c;
	int		 rc;

	if ((c = config_new(name)) == NULL)
		return NULL;
	if ((rc = ini_parse_string(text, on_item, c)) != 0) {
		log_warnx("%s:%d: syntax error", name, rc);
		config_free(c);
		return NULL;
	}
	return c;
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->items[i].section);
		free(c->items[i].key);
		free(c->items[i].value);
	}
	free(c->items);
	free(c->name);
	free(c);
}

const char *
config_name(const struct config *c)
{
	return c->name;
}

const char *
config_str(const struct config *c, const char *section, const char *key,
    const char *def)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->items[i].section, section) == 0 &&
		    strcmp(c->items[i].key, key) == 0)
			return c->items[i].value;
	return def;
}

/* kind: 0 plain, 1 duration (s m h d), 2 size (K M G). */
static int
parse_number(const struct config *c, const char *section, const char *key,
    const char *v, int kind, int64_t *out)
{
	char		*end;
	long long	 n;
	int64_t		 mul = 1;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || errno == ERANGE || n < 0)
		goto bad;
	if (*end != '\0' && kind == 1) {
		switch (*end++) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: goto bad;
		}
	} else if (*end != '\0' && kind == 2) {
		switch (*end++) {
		case 'k': case 'K': mul = 1LL << 10; break;
		case 'm': case 'M': mul = 1LL << 20; break;
		case 'g': case 'G': mul = 1LL << 30; break;
		default: goto bad;
		}
	}
	if (*end != '\0' || n > INT64_MAX / mul)
		goto bad;
	*out = n * mul;
	return 0;
bad:
	log_warnx("%s: [%s] %s: \"%s\" is not a %s", c->name, section, key, v,
	    kind == 1 ? "duration (e.g. 30, 30s, 5m, 1h, 90d)" :
	    kind == 2 ? "size (e.g. 4096, 64M, 4G)" : "non-negative integer");
	return -1;
}

int
config_int(const struct config *c, const char *section, const char *key,
    int64_t def, int64_t min, int64_t max, int64_t *out)
{
	const char *v = config_str(c, section, key, NULL);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (parse_number(c, section, key, v, 0, out) == -1)
		return -1;
	if (*out < min || *out > max) {
		log_warnx("%s: [%s] %s: %s is outside %lld..%lld", c->name,
		    section, key, v, (long long)min, (long long)max);
		return -1;
	}
	return 0;
}

int
config_duration(const struct config *c, const char *section, const char *key,
    int64_t def, int64_t *out)
{
	const char *v = config_str(c, section, key, NULL);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	return parse_number(c, section, key, v, 1, out);
}

int
config_size(const struct config *c, const char *section, const char *key,
    uint64_t def, uint64_t *out)
{
	const char	*v = config_str(c, section, key, NULL);
	int64_t		 n;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (parse_number(c, section, key, v, 2, &n) == -1)
		return -1;
	*out = (uint64_t)n;
	return 0;
}

int
config_check_keys(const struct config *c, const char *section,
    const char *const *known)
{
	int unknown = 0;

	for (size_t i = 0; i < c->n; i++) {
		const char *const *k;
		if (strcmp(c->items[i].section, section) != 0)
			continue;
		for (k = known; *k != NULL; k++)
			if (strcmp(*k, c->items[i].key) == 0)
				break;
		if (*k == NULL) {
			log_warnx("%s: [%s] unknown key \"%s\"", c->name,
			    section, c->items[i].key);
			unknown++;
		}
	}
	return unknown;
}
