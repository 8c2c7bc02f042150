/*
 * fuzz_keys.c -- libFuzzer harness for the keys file parser
 *
 * Parses the input as a keys file.  When it parses, every label shape
 * cut from the input is matched: a match must name a key whose name can
 * be read, and matching must never crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyset	*ks;
	int		 i;

	log_init("fuzz_keys", 0);
	if ((ks = keys_parse((const char *)data, size, "fuzz")) == NULL)
		return 0;
	for (size_t off = 0; off < size; off += 7) {
		size_t len = size - off < KEYS_KEY_MAX ? size - off :
		    KEYS_KEY_MAX;
		if ((i = keys_match(ks, data + off, len)) >= 0 &&
		    ((size_t)i >= keys_count(ks) ||
		    strlen(keys_name(ks, i)) == 0))
			abort();
	}
	keys_free(ks);
	return 0;
}
