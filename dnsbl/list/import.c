/*
 * import.c -- list files in the rbldnsd ip4set/ip6trie syntax
 *
 * Each line becomes zero or more prefixes (a range may need several) that
 * point at a record: the current default (code, text) pair, or the pair the
 * line gives itself.  Equal pairs share one record, found through a small
 * hash table, so a million lines under one default line cost one record.
 * A line is parsed completely before anything is added, so a bad line adds
 * nothing and the caller may skip it and go on.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "import.h"

#define MAX_PREFIXES	64	/* a range needs at most 62 */
#define LINE_MAX_LEN	4096

struct import {
	int				 kind;
	int64_t				 now;
	char				 source[STORE_SOURCE_MAX];
	uint32_t			 def_record;
	int				 have_default;
	struct store_import_entry	*entries;
	size_t				 nentries, capentries;
	struct store_listing		*records;
	size_t				 nrecords, caprecords;
	uint32_t			*hash;	/* record index + 1, 0 = empty */
	size_t				 hashsize;
	size_t				 listed, excluded;
	uint32_t			 lineno;
};

static int	record_for(struct import *, uint32_t, const char *, size_t,
		    uint32_t *);
static int	grow_hash(struct import *);
static uint32_t	hash_pair(uint32_t, const char *, size_t);
static int	parse_value(struct import *, const char *, size_t, uint32_t *,
		    char *);
static int	add_entries(struct import *, const struct addr *, int, int,
		    uint32_t);

struct import *
import_new(int kind, const char *source, int64_t now)
{
	struct import *imp;

	if ((imp = calloc(1, sizeof(*imp))) == NULL)
		return NULL;
	imp->kind = kind;
	imp->now = now;
	snprintf(imp->source, sizeof(imp->source), "%s", source);
	imp->hashsize = 64;
	if ((imp->hash = calloc(imp->hashsize, sizeof(*imp->hash))) == NULL) {
		free(imp);
		return NULL;
	}
	return imp;
}

void
import_free(struct import *imp)
{
	if (imp == NULL)
		return;
	free(imp->entries);
	free(imp->records);
	free(imp->hash);
	free(imp);
}

struct store_import_entry *
import_entries(struct import *imp, size_t *n)
{
	*n = imp->nentries;
	return imp->entries;
}

const struct store_listing *
import_records(struct import *imp, size_t *n)
{
	*n = imp->nrecords;
	return imp->records;
}

size_t
import_listed(const struct import *imp)
{
	return imp->listed;
}

size_t
import_excluded(const struct import *imp)
{
	return imp->excluded;
}

int
import_parse_code(const char *s, uint32_t *code)
{
	struct in_addr	in;
	char		*end;
	unsigned long	 n;

	if (strchr(s, '.') == NULL) {
		if (!isdigit((unsigned char)*s))
			return -1;
		n = strtoul(s, &end, 10);
		if (*end != '\0' || n < 2 || n > 255)
			return -1;
		*code = STORE_CODE_NET | (uint32_t)n;
		return 0;
	}
	if (inet_pton(AF_INET, s, &in) != 1)
		return -1;
	*code = ntohl(in.s_addr);
	/* 127.0.0.0 and 127.0.0.1 mean "nothing" and "not listed". */
	if ((*code >> 24) != 127 || *code <= STORE_CODE_NONE)
		return -1;
	return 0;
}

int
import_listable(const struct addr *p, const char **err)
{
	static const struct addr lo4 = { ADDR_V4, 32, { 127, 0, 0, 1 } };
	static const struct addr lo6 = { ADDR_V6, 128,
	    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1 } };

	if (p->plen == 0) {
		*err = "refusing to list the whole Internet (a /0)";
		return 0;
	}
	if (addr_contains(p, &lo4) || addr_contains(p, &lo6)) {
		*err = "refusing to list 127.0.0.1, the RFC 5782 test point "
		    "that must never be listed";
		return 0;
	}
	return 1;
}

static uint32_t
hash_pair(uint32_t code, const char *text, size_t len)
{
	uint32_t h = 2166136261u ^ code;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)text[i]) * 16777619u;
	return h;
}

static int
grow_hash(struct import *imp)
{
	size_t		 nsize = imp->hashsize * 2;
	uint32_t	*nh;

	if ((nh = calloc(nsize, sizeof(*nh))) == NULL)
		return -1;
	for (size_t r = 0; r < imp->nrecords; r++) {
		const struct store_listing *l = &imp->records[r];
		size_t i = hash_pair(l->code, l->text, strlen(l->text)) &
		    (nsize - 1);
		while (nh[i] != 0)
			i = (i + 1) & (nsize - 1);
		nh[i] = (uint32_t)r + 1;
	}
	free(imp->hash);
	imp->hash = nh;
	imp->hashsize = nsize;
	return 0;
}

/* Finds or makes the record for (code, text). */
static int
record_for(struct import *imp, uint32_t code, const char *text, size_t len,
    uint32_t *idx)
{
	struct store_listing	*l;
	size_t			 i;

	i = hash_pair(code, text, len) & (imp->hashsize - 1);
	for (; imp->hash[i] != 0; i = (i + 1) & (imp->hashsize - 1)) {
		l = &imp->records[imp->hash[i] - 1];
		if (l->code == code && strlen(l->text) == len &&
		    memcmp(l->text, text, len) == 0) {
			*idx = imp->hash[i] - 1;
			return 0;
		}
	}
	if (imp->nrecords == imp->caprecords) {
		size_t ncap = imp->caprecords ? imp->caprecords * 2 : 8;
		l = reallocarray(imp->records, ncap, sizeof(*l));
		if (l == NULL)
			return -1;
		imp->records = l;
		imp->caprecords = ncap;
	}
	l = &imp->records[imp->nrecords];
	memset(l, 0, sizeof(*l));
	l->code = code;
	l->kind = code ? imp->kind : STORE_KIND_EXCLUSION;
	l->first_listed = imp->now;
	memcpy(l->source, imp->source, sizeof(l->source));
	memcpy(l->text, text, len);
	l->text[len] = '\0';
	imp->hash[i] = (uint32_t)imp->nrecords + 1;
	*idx = (uint32_t)imp->nrecords++;
	if (imp->nrecords * 2 > imp->hashsize && grow_hash(imp) == -1)
		return -1;
	return 0;
}

/*
 * Parses a value: ":code:text", ":code", or plain text (default code).
 * Sets *rec to the record index.  Returns 0, or -1 with msg set.
 */
static int
parse_value(struct import *imp, const char *v, size_t len, uint32_t *rec,
    char *msg)
{
	char		 codebuf[32];
	const char	*text = v, *colon;
	size_t		 tlen = len;
	uint32_t	 code = STORE_CODE_LISTED;

	if (imp->have_default)
		code = imp->records[imp->def_record].code;
	if (len > 0 && v[0] == ':') {
		colon = memchr(v + 1, ':', len - 1);
		size_t clen = colon ? (size_t)(colon - v - 1) : len - 1;
		if (clen == 0 && colon == NULL) {
			snprintf(msg, IMPORT_MSG_MAX, "empty return code");
			return -1;
		}
		if (clen >= sizeof(codebuf)) {
			snprintf(msg, IMPORT_MSG_MAX, "bad return code");
			return -1;
		}
		memcpy(codebuf, v + 1, clen);
		codebuf[clen] = '\0';
		/* An empty code (::text) keeps the default code. */
		if (clen > 0 && import_parse_code(codebuf, &code) == -1) {
			snprintf(msg, IMPORT_MSG_MAX, "bad return code \"%s\" "
			    "(want 127.0.0.2-127.255.255.255 or 2-255)",
			    codebuf);
			return -1;
		}
		text = colon ? colon + 1 : v + len;
		tlen = colon ? len - (size_t)(colon + 1 - v) : 0;
	} else if (imp->have_default && len == 0) {
		*rec = imp->def_record;
		return 0;
	}
	while (tlen > 0 && isspace((unsigned char)*text)) {
		text++;
		tlen--;
	}
	if (tlen >= STORE_TEXT_MAX) {
		snprintf(msg, IMPORT_MSG_MAX, "text longer than %d bytes",
		    STORE_TEXT_MAX - 1);
		return -1;
	}
	if (memchr(text, '\0', tlen) != NULL) {
		snprintf(msg, IMPORT_MSG_MAX, "NUL byte in text");
		return -1;
	}
	if (record_for(imp, code, text, tlen, rec) == -1) {
		snprintf(msg, IMPORT_MSG_MAX, "out of memory");
		return -1;
	}
	return 0;
}

static int
add_entries(struct import *imp, const struct addr *p, int n, int exclude,
    uint32_t rec)
{
	if (imp->nentries + (size_t)n > imp->capentries) {
		size_t ncap = imp->capentries ? imp->capentries * 2 : 1024;
		struct store_import_entry *e;
		while (ncap < imp->nentries + (size_t)n)
			ncap *= 2;
		e = reallocarray(imp->entries, ncap, sizeof(*e));
		if (e == NULL)
			return -1;
		imp->entries = e;
		imp->capentries = ncap;
	}
	for (int i = 0; i < n; i++) {
		struct store_import_entry *e = &imp->entries[imp->nentries++];
		e->prefix = p[i];
		e->record = rec;
		e->exclude = exclude;
		e->line = imp->lineno;
	}
	if (exclude)
		imp->excluded += n;
	else
		imp->listed += n;
	return 0;
}

int
import_line(struct import *imp, const char *line, size_t len, char *msg)
{
	struct addr	 p[MAX_PREFIXES];
	char		 tok[128];
	const char	*s = line, *end, *err;
	size_t		 tlen;
	uint32_t	 rec;
	int		 n, exclude = 0;

	imp->lineno++;
	msg[0] = '\0';
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	end = line + len;
	if (len > LINE_MAX_LEN) {
		snprintf(msg, IMPORT_MSG_MAX, "line longer than %d bytes",
		    LINE_MAX_LEN);
		return IMPORT_ERROR;
	}
	while (s < end && isspace((unsigned char)*s))
		s++;
	if (s == end || *s == '#' || *s == ';')
		return IMPORT_SKIP;
	if (*s == '$') {
		/* The line need not be NUL-terminated: bound by end. */
		for (tlen = 0; s + tlen < end && tlen < 20 &&
		    !isspace((unsigned char)s[tlen]) && s[tlen] != '\0'; tlen++)
			;
		snprintf(msg, IMPORT_MSG_MAX, "rbldnsd directive %.*s ignored "
		    "(zone data lives in zones/)", (int)tlen, s);
		return IMPORT_IGNORED;
	}
	/* ":code:text" sets the default; "::1" is an IPv6 address. */
	if (*s == ':' && (end - s < 2 || s[1] != ':')) {
		if (parse_value(imp, s, (size_t)(end - s), &rec, msg) == -1)
			return IMPORT_ERROR;
		imp->def_record = rec;
		imp->have_default = 1;
		return IMPORT_OK;
	}
	if (*s == '!') {
		exclude = 1;
		s++;
	}
	for (tlen = 0; s + tlen < end && !isspace((unsigned char)s[tlen]);
	    tlen++)
		;
	if (tlen == 0 || tlen >= sizeof(tok)) {
		snprintf(msg, IMPORT_MSG_MAX, tlen ? "address too long" :
		    "missing address");
		return IMPORT_ERROR;
	}
	memcpy(tok, s, tlen);
	tok[tlen] = '\0';
	if (memchr(tok, '\0', tlen) != NULL ||
	    (n = addr_parse_entry(tok, p, MAX_PREFIXES, &err)) < 0) {
		snprintf(msg, IMPORT_MSG_MAX, "\"%.60s\": %s", tok,
		    memchr(tok, '\0', tlen) ? "NUL byte" : err);
		return IMPORT_ERROR;
	}
	for (s += tlen; s < end && isspace((unsigned char)*s); s++)
		;
	if (s < end && (*s == '#' || *s == ';'))
		s = end;
	if (exclude) {
		/* rbldnsd ignores an exclusion's value; so do we. */
		if (record_for(imp, 0, "", 0, &rec) == -1)
			goto nomem;
	} else {
		for (int i = 0; i < n; i++)
			if (!import_listable(&p[i], &err)) {
				snprintf(msg, IMPORT_MSG_MAX, "\"%.60s\": %s",
				    tok, err);
				return IMPORT_ERROR;
			}
		if (parse_value(imp, s, (size_t)(end - s), &rec, msg) == -1)
			return IMPORT_ERROR;
	}
	if (add_entries(imp, p, n, exclude, rec) == -1)
		goto nomem;
	return IMPORT_OK;
nomem:
	snprintf(msg, IMPORT_MSG_MAX, "out of memory");
	return IMPORT_ERROR;
}
