/*
 * fuzz_tsig.c -- libFuzzer harness for TSIG: the keys file parser, the
 * request verifier, and the reply verifier of a client
 *
 * The first byte chooses: 'K' parses the rest as a keys file; anything
 * else is a message, verified as a request against two keys (then, when
 * it verified, answered: signed, or turned into the error reply) and as
 * a reply to a request we signed.  The checks: no crash, no read past
 * the input, results in range, every length returned within its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tsig.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NOW	1700000000

static struct tsig_keys	keys;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char text[] =
	    "xfr.example hmac-sha256 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
	    "hmac-sha1:old.example:AAECAwQFBgcICQoLDA0ODxAREhM=\n";
	char err[256];

	(void)argc;
	(void)argv;
	if (tsig_keys_parse(text, strlen(text), "fuzz", &keys, err,
	    sizeof(err)) == -1 || keys.n != 2)
		abort();
	return 0;
}

static void
fuzz_keys(const uint8_t *data, size_t size)
{
	struct tsig_keys	k;
	char			err[256];

	if (tsig_keys_parse((const char *)data, size, "fuzz", &k, err,
	    sizeof(err)) == 0) {
		for (int i = 0; i < k.n; i++)
			if (k.k[i].secret_len == 0 || k.k[i].secret_len >
			    TSIG_SECRET_MAX || k.k[i].wname_len == 0 ||
			    tsig_alg_name(k.k[i].alg) == NULL ||
			    tsig_keys_find(&k, k.k[i].name) != &k.k[i])
				abort();
	} else if (k.n != 0 || k.k != NULL || err[0] == '\0')
		abort();
	tsig_keys_free(&k);
}

static void
fuzz_request(const uint8_t *data, size_t size)
{
	static uint8_t		 out[4096];
	struct tsig_state	 st;
	size_t			 off = 0, n;
	enum tsig_result	 r;
	int			 len;

	r = tsig_verify_request(&keys, data, size, NOW, &st, &off);
	if (r > TSIG_SERVFAIL || (r != TSIG_NONE && r != TSIG_FORMERR &&
	    off >= size))
		abort();
	if (r == TSIG_NONE || r == TSIG_SERVFAIL || size < 12)
		return;
	/* A reply: the request's header and its first bytes. */
	n = size < 64 ? size : 64;
	memcpy(out, data, n);
	memset(out + 4, 0, 8);
	if (r == TSIG_OK)
		len = tsig_sign_response(&st, out, n, sizeof(out), NOW);
	else
		len = tsig_error_response(&st, r, out, n, sizeof(out), NOW);
	if (len > (int)sizeof(out) || (len != -1 && (size_t)len < n))
		abort();
}

static void
fuzz_reply(const uint8_t *data, size_t size)
{
	static const uint8_t	 q[] = "\0\1\0\0\0\1\0\0\0\0\0\0"
	    "\3xfr\7example\0\0\1\0\1";
	uint8_t			 m[512];
	struct tsig_state	 st;

	memcpy(m, q, sizeof(q) - 1);
	if (tsig_sign_request(&keys.k[0], m, sizeof(q) - 1, sizeof(m), NOW,
	    &st) == -1)
		abort();
	if (tsig_verify_response(&st, data, size, NOW) > TSIG_SERVFAIL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == 'K') {
		fuzz_keys(data + 1, size - 1);
		return 0;
	}
	fuzz_request(data, size);
	fuzz_reply(data, size);
	return 0;
}
