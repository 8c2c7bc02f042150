/*
 * tsig_keys.c -- reading TSIG keys files (the format is in tsig.h)
 *
 * A small lexer turns the text into words, quoted strings and the
 * punctuation of BIND's syntax ('{', '}', ';'), each with its line; the
 * parser then takes, at each point, a BIND "key" block, Knot's YAML
 * ("key:" then "id:", "algorithm:", "secret:" fields) or a one-line key
 * (three words, or one ALGORITHM:NAME:SECRET word).  Runs at start-up and
 * reload only: it allocates, and uses ldns for names.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dns_wire.h"
#include "tsig.h"

#define KEYS_FILE_MAX	(1024 * 1024)
#define TOKEN_MAX	512

struct token {
	char	s[TOKEN_MAX + 1];
	int	line;
	int	quoted;
	int	punct;		/* one of { } ; */
};

struct lexer {
	const char	*p, *end;
	int		 line;
	const char	*what;
	char		*err;
	size_t		 errsize;
	int		 failed;
	int		 pushed;	/* back holds a token given back */
	struct token	 back;
};

/* One key being assembled; "" for what was not seen yet. */
struct pending {
	char	name[TOKEN_MAX + 1];
	char	alg[TOKEN_MAX + 1];
	char	secret[TOKEN_MAX + 1];
	int	line;
};

static void	lex_error(struct lexer *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
lex_error(struct lexer *lx, int line, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (lx->failed++)
		return;
	n = snprintf(lx->err, lx->errsize, "%s:%d: ", lx->what, line);
	if (n < 0 || (size_t)n >= lx->errsize)
		return;
	va_start(ap, fmt);
	vsnprintf(lx->err + n, lx->errsize - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Skips blanks and comments.  0, or -1 for an unterminated comment. */
static int
skip_space(struct lexer *lx)
{
	while (lx->p < lx->end) {
		const char *p = lx->p;
		int two = lx->end - p >= 2;
		if (*p == '\n') {
			lx->line++;
			lx->p++;
		} else if (*p == ' ' || *p == '\t' || *p == '\r')
			lx->p++;
		else if (*p == '#' || (two && p[0] == '/' && p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (two && p[0] == '/' && p[1] == '*') {
			for (lx->p += 2; lx->p < lx->end; lx->p++) {
				if (*lx->p == '\n')
					lx->line++;
				else if (lx->end - lx->p >= 2 &&
				    lx->p[0] == '*' && lx->p[1] == '/')
					break;
			}
			if (lx->p >= lx->end) {
				lex_error(lx, lx->line, "unterminated comment");
				return -1;
			}
			lx->p += 2;
		} else
			break;
	}
	return 0;
}

/* The next token into t: 1, 0 at the end, -1 on an error. */
static int
lex(struct lexer *lx, struct token *t)
{
	size_t n = 0;

	if (lx->pushed) {
		lx->pushed = 0;
		*t = lx->back;
		return 1;
	}
	if (skip_space(lx) == -1)
		return -1;
	if (lx->p >= lx->end)
		return 0;
	memset(t, 0, sizeof(*t));
	t->line = lx->line;
	if (strchr("{};", *lx->p) != NULL && *lx->p != '\0') {
		t->s[0] = *lx->p++;
		t->punct = 1;
		return 1;
	}
	if ((t->quoted = *lx->p == '"'))
		lx->p++;
	while (lx->p < lx->end) {
		char c = *lx->p;
		if (t->quoted ? c == '"' || c == '\n' :
		    strchr(" \t\r\n{};\"", c) != NULL || c == '\0')
			break;
		if (n == TOKEN_MAX) {
			lex_error(lx, t->line, "word too long");
			return -1;
		}
		t->s[n++] = c;
		lx->p++;
	}
	if (n == 0 && !t->quoted) {
		lex_error(lx, t->line, "unexpected character");
		return -1;
	}
	if (t->quoted) {
		if (lx->p >= lx->end || *lx->p != '"') {
			lex_error(lx, t->line, "unterminated string");
			return -1;
		}
		lx->p++;
	}
	return 1;
}

/* Base64 text to at most max bytes.  Returns the length, or -1. */
static int
decode_b64(const char *s, uint8_t *out, size_t max)
{
	uint8_t		 buf[TOKEN_MAX];
	EVP_ENCODE_CTX	*c;
	int		 n1 = 0, n2 = 0, ok;
	size_t		 len = strlen(s);

	if (len == 0 || len > TOKEN_MAX || (c = EVP_ENCODE_CTX_new()) == NULL)
		return -1;
	EVP_DecodeInit(c);
	ok = EVP_DecodeUpdate(c, buf, &n1, (const unsigned char *)s,
	    (int)len) >= 0 && EVP_DecodeFinal(c, buf + n1, &n2) >= 0;
	EVP_ENCODE_CTX_free(c);
	if (!ok || n1 + n2 <= 0 || (size_t)(n1 + n2) > max) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return -1;
	}
	memcpy(out, buf, (size_t)(n1 + n2));
	OPENSSL_cleanse(buf, sizeof(buf));
	return n1 + n2;
}

/* A presentation name to lowercase wire form.  Returns the length or 0. */
static size_t
name_to_wire(const char *name, uint8_t *out)
{
	ldns_rdf	*rdf = NULL;
	size_t		 n = 0;

	if (name[0] == '\0' || ldns_str2rdf_dname(&rdf, name) !=
	    LDNS_STATUS_OK)
		return 0;
	ldns_dname2canonical(rdf);
	if (ldns_rdf_size(rdf) <= TSIG_NAME_MAX) {
		n = ldns_rdf_size(rdf);
		memcpy(out, ldns_rdf_data(rdf), n);
	}
	ldns_rdf_deep_free(rdf);
	return n;
}

static int
alg_from_name(const char *s, enum tsig_alg *alg)
{
	for (int a = TSIG_HMAC_SHA256; a <= TSIG_HMAC_SHA1; a++) {
		const char *n = tsig_alg_name((enum tsig_alg)a);
		if (n != NULL && strcasecmp(s, n) == 0) {
			*alg = (enum tsig_alg)a;
			return 0;
		}
	}
	return -1;
}

/* Checks and appends the key p to out.  0 or -1 (error set). */
static int
add_key(struct lexer *lx, struct tsig_keys *out, const struct pending *p)
{
	struct tsig_key	 k, *nk;
	size_t		 nlen;
	int		 len;

	memset(&k, 0, sizeof(k));
	if (p->name[0] == '\0' || p->alg[0] == '\0' || p->secret[0] == '\0') {
		lex_error(lx, p->line, "key %s without %s", p->name[0] ?
		    p->name : "(no name)", p->name[0] == '\0' ? "a name" :
		    p->alg[0] == '\0' ? "an algorithm" : "a secret");
		return -1;
	}
	if ((k.wname_len = name_to_wire(p->name, k.wname)) == 0) {
		lex_error(lx, p->line, "bad key name %s", p->name);
		return -1;
	}
	if (alg_from_name(p->alg, &k.alg) == -1) {
		lex_error(lx, p->line, "key %s: unknown algorithm %s (not "
		    "hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha1)",
		    p->name, p->alg);
		return -1;
	}
	if ((len = decode_b64(p->secret, k.secret, sizeof(k.secret))) < 0) {
		lex_error(lx, p->line, "key %s: the secret is not base64 of "
		    "1 to %d bytes", p->name, TSIG_SECRET_MAX);
		return -1;
	}
	k.secret_len = (size_t)len;
	if ((nlen = strlen(p->name)) + 2 > sizeof(k.name)) {
		lex_error(lx, p->line, "key name %.40s... too long", p->name);
		OPENSSL_cleanse(&k, sizeof(k));
		return -1;
	}
	memcpy(k.name, p->name, nlen);
	if (k.name[nlen - 1] != '.')
		k.name[nlen++] = '.';
	k.name[nlen] = '\0';
	for (int i = 0; i < out->n; i++)
		if (out->k[i].wname_len == k.wname_len &&
		    memcmp(out->k[i].wname, k.wname, k.wname_len) == 0) {
			lex_error(lx, p->line, "key %s defined twice", p->name);
			OPENSSL_cleanse(&k, sizeof(k));
			return -1;
		}
	if ((nk = realloc(out->k, (size_t)(out->n + 1) * sizeof(*nk))) ==
	    NULL) {
		lex_error(lx, p->line, "out of memory");
		OPENSSL_cleanse(&k, sizeof(k));
		return -1;
	}
	out->k = nk;
	out->k[out->n++] = k;
	OPENSSL_cleanse(&k, sizeof(k));
	return 0;
}

static int
is_word(const struct token *t, const char *w)
{
	return !t->punct && !t->quoted && strcasecmp(t->s, w) == 0;
}

/* Expects punctuation c next.  0 or -1. */
static int
expect(struct lexer *lx, struct token *t, int line, char c)
{
	if (lex(lx, t) != 1 || !t->punct || t->s[0] != c) {
		lex_error(lx, lx->failed ? line : t->line, "expected '%c'", c);
		return -1;
	}
	return 0;
}

/* After "key": NAME { algorithm A; secret "S"; } ; as BIND writes it. */
static int
parse_bind(struct lexer *lx, struct tsig_keys *out, int line)
{
	struct pending	p;
	struct token	t;

	memset(&p, 0, sizeof(p));
	p.line = line;
	if (lex(lx, &t) != 1 || t.punct) {
		lex_error(lx, line, "key: expected a name");
		return -1;
	}
	memcpy(p.name, t.s, sizeof(p.name));
	if (expect(lx, &t, line, '{') == -1)
		return -1;
	for (;;) {
		char *field;
		if (lex(lx, &t) != 1) {
			lex_error(lx, line, "key %s: no closing '}'", p.name);
			return -1;
		}
		if (t.punct && t.s[0] == '}')
			break;
		if (is_word(&t, "algorithm"))
			field = p.alg;
		else if (is_word(&t, "secret"))
			field = p.secret;
		else {
			lex_error(lx, t.line, "key %s: unknown statement %s",
			    p.name, t.s);
			return -1;
		}
		if (lex(lx, &t) != 1 || t.punct) {
			lex_error(lx, line, "key %s: a value expected",
			    p.name);
			return -1;
		}
		memcpy(field, t.s, TOKEN_MAX + 1);
		if (expect(lx, &t, line, ';') == -1)
			return -1;
	}
	if (expect(lx, &t, line, ';') == -1)
		return -1;
	return add_key(lx, out, &p);
}

/* One field of Knot's YAML ("id:" and so on) into p.  0 or -1. */
static int
parse_yaml_field(struct lexer *lx, struct tsig_keys *out, struct pending *p,
    const struct token *f)
{
	struct token	 t;
	char		*field;

	if (is_word(f, "id:")) {
		if (p->name[0] != '\0' && add_key(lx, out, p) == -1)
			return -1;
		memset(p, 0, sizeof(*p));
		p->line = f->line;
		field = p->name;
	} else if (is_word(f, "algorithm:"))
		field = p->alg;
	else if (is_word(f, "secret:"))
		field = p->secret;
	else {
		lex_error(lx, f->line, "unknown field %s", f->s);
		return -1;
	}
	if (p->line == 0)
		p->line = f->line;
	if (lex(lx, &t) != 1 || t.punct || t.line != f->line) {
		lex_error(lx, f->line, "%s without a value", f->s);
		return -1;
	}
	memcpy(field, t.s, TOKEN_MAX + 1);
	return 0;
}

/* NAME ALGORITHM SECRET or ALGORITHM:NAME:SECRET on first's line. */
static int
parse_line(struct lexer *lx, struct tsig_keys *out, const struct token *first)
{
	struct pending	 p;
	struct token	 t;
	char		*f[3], *c1, *c2;
	int		 n = 1, r;

	memset(&p, 0, sizeof(p));
	p.line = first->line;
	f[0] = p.name;
	f[1] = p.alg;
	f[2] = p.secret;
	memcpy(p.name, first->s, sizeof(p.name));
	while ((r = lex(lx, &t)) == 1 && t.line == first->line && !t.punct &&
	    n < 3)
		memcpy(f[n++], t.s, TOKEN_MAX + 1);
	if (r == -1)
		return -1;
	if (r == 1 && t.line == first->line) {
		lex_error(lx, t.line, "expected NAME ALGORITHM SECRET");
		return -1;
	}
	if ((lx->pushed = r == 1))
		lx->back = t;
	if (n == 1 && (c1 = strchr(p.name, ':')) != NULL &&
	    (c2 = strchr(c1 + 1, ':')) != NULL) {
		/* ALGORITHM:NAME:SECRET, split in place in p.name */
		*c1 = *c2 = '\0';
		memmove(p.secret, c2 + 1, strlen(c2 + 1) + 1);
		memmove(p.alg, p.name, strlen(p.name) + 1);
		memmove(p.name, c1 + 1, strlen(c1 + 1) + 1);
	} else if (n != 3) {
		lex_error(lx, first->line, "expected NAME ALGORITHM SECRET");
		return -1;
	}
	return add_key(lx, out, &p);
}

static int
parse_all(struct lexer *lx, struct tsig_keys *out)
{
	struct pending	p;
	struct token	t;	/* one token, given back through lx->pushed */
	int		yaml = 0, r;

	memset(&p, 0, sizeof(p));
	while ((r = lex(lx, &t)) == 1) {
		if (yaml && !t.punct && t.s[0] != '\0' &&
		    t.s[strlen(t.s) - 1] == ':')
			r = parse_yaml_field(lx, out, &p, &t);
		else if (yaml && is_word(&t, "-"))
			continue;
		else if (is_word(&t, "key:"))
			yaml = 1;
		else if (is_word(&t, "key"))
			r = parse_bind(lx, out, t.line);
		else if (t.punct) {
			lex_error(lx, t.line, "unexpected '%s'", t.s);
			return -1;
		} else {
			struct token first = t;
			r = parse_line(lx, out, &first);
		}
		if (r == -1)
			return -1;
	}
	if (r == -1 || (p.line != 0 && add_key(lx, out, &p) == -1))
		return -1;
	return 0;
}

int
tsig_keys_parse(const char *text, size_t len, const char *what,
    struct tsig_keys *out, char *err, size_t errsize)
{
	struct lexer	lx = { .p = text, .end = text + len, .line = 1,
			    .what = what, .err = err, .errsize = errsize };
	int		r;

	out->k = NULL;
	out->n = 0;
	if (errsize > 0)
		err[0] = '\0';
	r = parse_all(&lx, out);
	if (r == -1)
		tsig_keys_free(out);
	return r;
}

int
tsig_keys_load(const char *path, struct tsig_keys *out, char *err,
    size_t errsize)
{
	FILE	*fp;
	char	*buf;
	size_t	 len;
	int	 r;

	out->k = NULL;
	out->n = 0;
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(KEYS_FILE_MAX + 1)) == NULL) {
		snprintf(err, errsize, "%s: out of memory", path);
		fclose(fp);
		return -1;
	}
	len = fread(buf, 1, KEYS_FILE_MAX + 1, fp);
	if (ferror(fp) || len > KEYS_FILE_MAX) {
		snprintf(err, errsize, "%s: %s", path, ferror(fp) ?
		    "read error" : "larger than 1 MB");
		r = -1;
	} else
		r = tsig_keys_parse(buf, len, path, out, err, errsize);
	OPENSSL_cleanse(buf, len < KEYS_FILE_MAX ? len : KEYS_FILE_MAX);
	free(buf);
	fclose(fp);
	return r;
}

void
tsig_keys_free(struct tsig_keys *keys)
{
	if (keys == NULL)
		return;
	if (keys->k != NULL)
		OPENSSL_cleanse(keys->k, (size_t)keys->n * sizeof(*keys->k));
	free(keys->k);
	keys->k = NULL;
	keys->n = 0;
}

const struct tsig_key *
tsig_keys_find(const struct tsig_keys *keys, const char *name)
{
	uint8_t	w[TSIG_NAME_MAX];
	size_t	n;

	if (keys == NULL || (n = name_to_wire(name, w)) == 0)
		return NULL;
	for (int i = 0; i < keys->n; i++)
		if (keys->k[i].wname_len == n &&
		    memcmp(keys->k[i].wname, w, n) == 0)
			return &keys->k[i];
	return NULL;
}
