/*
 * test_keys.c -- unit tests of the query keys (keys.c): the file's syntax
 * and its errors, matching without regard to case, and shapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "log.h"
#include "tap.h"

#define K1	"k4d9w2m0c7hq1xz5b8nf3tpv6e"
#define K2	"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq"

static struct keyset *
parse(const char *text)
{
	return keys_parse(text, strlen(text), "keys");
}

static int
match(const struct keyset *ks, const char *label)
{
	return keys_match(ks, (const uint8_t *)label, strlen(label));
}

int
main(void)
{
	struct keyset *ks;

	log_init("test_keys", 0);
	ks = parse("# subscribers\n\nisp-one " K1 "  # since 2026\n"
	    "isp.two\t" K2 "\r\n");
	ok(ks != NULL && keys_count(ks) == 2, "two keys (26 and 63 "
	    "characters), comments, blank lines, CRLF");
	is_int(match(ks, K1), 0, "first key: index 0");
	is_str(keys_name(ks, 0), "isp-one", "  its name");
	is_int(match(ks, K2), 1, "second key: index 1");
	is_int(match(ks, "k4d9w2m0c7hq1xz5b8nf3tpv6f"), -1,
	    "last character wrong: no key");
	is_int(match(ks, "k4d9w2m0c7hq1xz5b8nf3tpv6"), -1,
	    "a prefix of a key: no key");
	is_int(match(ks, K1 "0"), -1, "a key and more: no key");
	is_int(match(ks, ""), -1, "empty: no key");
	is_int(keys_match(NULL, (const uint8_t *)K1, 26), -1,
	    "no keys: no key");
	keys_free(ks);
	ks = parse("upper K4D9W2M0C7HQ1XZ5B8NF3TPV6E\n");
	is_int(match(ks, K1), 0, "a key written in capitals matches "
	    "(lowercase labels)");
	keys_free(ks);
	ok(keys_shaped((const uint8_t *)K1, 26) &&
	    keys_shaped((const uint8_t *)K2, 63) &&
	    !keys_shaped((const uint8_t *)K1, 25) &&
	    !keys_shaped((const uint8_t *)"255", 3),
	    "shapes: 26 to 63 bytes; address labels are not");

	ok(parse("short abcdefghijklmnopqrstuvwxy\n") == NULL,
	    "25 characters: refused");
	ok(parse("long " K2 "r\n") == NULL, "64 characters: refused");
	ok(parse("dash k4d9w2m0c7hq1xz5b8nf3t-v6e\n") == NULL,
	    "not letters and digits: refused");
	ok(parse("a " K1 "\nb " K1 "\n") == NULL, "a key twice: refused");
	ok(parse("a " K1 "\na " K2 "\n") == NULL, "a name twice: refused");
	ok(parse(K1 "\n") == NULL, "a key without a name: refused");
	ok(parse("a b " K1 "\n") == NULL, "three words: refused");
	ok(parse("na/me " K1 "\n") == NULL, "a bad name: refused");
	ok((ks = parse("")) != NULL && keys_count(ks) == 0,
	    "empty file: no keys");
	keys_free(ks);
	keys_free(NULL);
	ok(keys_load("/nonexistent/keys") == NULL, "missing file: NULL");
	return tap_done();
}
