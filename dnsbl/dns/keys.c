/*
 * keys.c -- query keys: parsing the keys file, matching a label
 *
 * Every key is kept in a zero-padded buffer of the longest label, so a
 * match compares the same number of bytes against every key, without an
 * early exit: the time of a failed guess does not say how many leading
 * characters were right.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "log.h"
#include "textfile.h"

#define NAME_MAX_LEN	63
#define LINE_MAX_LEN	512
#define FILE_MAX	(16 << 20)

struct key_entry {
	uint8_t		key[KEYS_KEY_MAX + 1];	/* zero-padded */
	uint8_t		len;
	char		name[NAME_MAX_LEN + 1];
	int		line;
};

struct keyset {
	struct key_entry *k;
	size_t		  n;
};

static int
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' &&
		    *s != '-')
			return 0;
	return 1;
}

/* A key: its lowercase form into e, or why not. */
static const char *
parse_key(const char *s, struct key_entry *e)
{
	size_t n = strlen(s);

	if (n < KEYS_KEY_MIN)
		return "shorter than 26 characters";
	if (n > KEYS_KEY_MAX)
		return "longer than 63 characters";
	memset(e->key, 0, sizeof(e->key));
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]))
			return "not only letters and digits";
		e->key[i] = (uint8_t)tolower((unsigned char)s[i]);
	}
	e->len = (uint8_t)n;
	return NULL;
}

/* One line, its comment cut: a key into e (*got set), or nothing. */
static int
parse_line(char *buf, const char *name, int line, struct key_entry *e,
    int *got)
{
	char		*tok[2];
	int		 n;
	const char	*why;

	*got = 0;
	if ((n = textfile_fields(buf, tok, 2)) == 0)
		return 0;
	if (n != 2) {
		log_warnx("%s:%d: want \"NAME KEY\"", name, line);
		return -1;
	}
	if (!valid_name(tok[0])) {
		log_warnx("%s:%d: bad name \"%s\" (1-63 letters, digits, "
		    "'.', '_', '-')", name, line, tok[0]);
		return -1;
	}
	if ((why = parse_key(tok[1], e)) != NULL) {
		/* The key itself is a secret: not in the log. */
		log_warnx("%s:%d: bad key for %s (%s)", name, line, tok[0],
		    why);
		return -1;
	}
	snprintf(e->name, sizeof(e->name), "%s", tok[0]);
	e->line = line;
	*got = 1;
	return 0;
}

/* A name or key given twice. */
static int
duplicates(const struct keyset *ks, const char *name)
{
	for (size_t i = 0; i < ks->n; i++)
		for (size_t j = 0; j < i; j++) {
			const struct key_entry *a = &ks->k[j], *b = &ks->k[i];
			if (strcmp(a->name, b->name) == 0 ||
			    (a->len == b->len &&
			    memcmp(a->key, b->key, a->len) == 0)) {
				log_warnx("%s:%d: the %s of line %d again",
				    name, b->line, strcmp(a->name, b->name) ?
				    "key" : "name", a->line);
				return 1;
			}
		}
	return 0;
}

struct keyset *
keys_parse(const char *text, size_t len, const char *name)
{
	struct keyset	*ks;
	size_t		 max = textfile_lines(text, len), off = 0;
	char		 buf[LINE_MAX_LEN];
	int		 line = 0, got, rc;

	if ((ks = calloc(1, sizeof(*ks))) == NULL ||
	    (ks->k = calloc(max, sizeof(*ks->k))) == NULL) {
		log_warn("keys");
		goto err;
	}
	while ((rc = textfile_line(text, len, &off, buf, sizeof(buf), name,
	    &line)) == 1) {
		if (parse_line(buf, name, line, &ks->k[ks->n], &got) == -1)
			goto err;
		ks->n += got;
	}
	if (rc == -1 || duplicates(ks, name))
		goto err;
	return ks;
err:
	keys_free(ks);
	return NULL;
}

struct keyset *
keys_load(const char *path)
{
	struct keyset	*ks;
	char		*text;
	size_t		 len;

	if (textfile_read(path, FILE_MAX, "keys file", &text, &len) == -1)
		return NULL;
	ks = keys_parse(text, len, path);
	/* The keys are secrets: not left in freed memory. */
	explicit_bzero(text, len);
	free(text);
	return ks;
}

void
keys_free(struct keyset *ks)
{
	if (ks == NULL)
		return;
	/* The keys are secrets: not left in freed memory. */
	if (ks->k != NULL)
		explicit_bzero(ks->k, ks->n * sizeof(*ks->k));
	free(ks->k);
	free(ks);
}

size_t
keys_count(const struct keyset *ks)
{
	return ks ? ks->n : 0;
}

int
keys_shaped(const uint8_t *label, size_t len)
{
	(void)label;
	return len >= KEYS_KEY_MIN && len <= KEYS_KEY_MAX;
}

int
keys_match(const struct keyset *ks, const uint8_t *label, size_t len)
{
	uint8_t	 padded[KEYS_KEY_MAX + 1];
	int	 found = -1;

	if (ks == NULL || len > KEYS_KEY_MAX)
		return -1;
	memset(padded, 0, sizeof(padded));
	memcpy(padded, label, len);
	for (size_t i = 0; i < ks->n; i++) {
		unsigned diff = ks->k[i].len ^ (unsigned)len;
		for (size_t j = 0; j < sizeof(padded); j++)
			diff |= ks->k[i].key[j] ^ padded[j];
		/* No branch on the bytes: a mask picks the index. */
		unsigned eq = ((diff | (0u - diff)) >> (sizeof(unsigned) *
		    8 - 1)) ^ 1u;
		found = (int)((unsigned)found ^ (((unsigned)found ^
		    (unsigned)i) & (0u - eq)));
	}
	return found;
}

const char *
keys_name(const struct keyset *ks, int i)
{
	return ks->k[i].name;
}
