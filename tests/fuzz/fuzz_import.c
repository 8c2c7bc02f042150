/*
 * fuzz_import.c -- libFuzzer harness for the list-file parser
 *
 * Feeds the input line by line (split at '\n', so NUL bytes and CRs reach
 * the parser) to import_line, then checks what the import holds: every
 * entry points at a record, listing records carry a code in 127/8 other
 * than 127.0.0.0/1 and a NUL-terminated text, no listing covers 127.0.0.1
 * or is a /0, prefixes are well-formed, and the counts add up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "import.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(struct import *imp)
{
	struct store_import_entry	*e;
	const struct store_listing	*r;
	const char			*err;
	size_t				 n, nr, listed = 0, excluded = 0;

	e = import_entries(imp, &n);
	r = import_records(imp, &nr);
	for (size_t i = 0; i < n; i++) {
		struct addr m = e[i].prefix;
		if (e[i].record >= nr)
			abort();
		if (m.plen > addr_maxplen(&m))
			abort();
		addr_mask(&m);
		if (memcmp(&m, &e[i].prefix, sizeof(m)) != 0)
			abort();
		if (e[i].exclude) {
			excluded++;
			continue;
		}
		listed++;
		if (!import_listable(&e[i].prefix, &err))
			abort();
		if ((r[e[i].record].code >> 24) != 127 ||
		    r[e[i].record].code <= 0x7f000001u)
			abort();
		if (memchr(r[e[i].record].text, '\0',
		    sizeof(r[e[i].record].text)) == NULL)
			abort();
	}
	if (listed != import_listed(imp) || excluded != import_excluded(imp))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import	*imp = import_new(STORE_KIND_IMPORT, "fuzz", 1);
	char		 msg[IMPORT_MSG_MAX];
	size_t		 start = 0;

	if (imp == NULL)
		return 0;
	while (start < size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (data + start)) + 1 :
		    size - start;
		int rc = import_line(imp, (const char *)data + start, len, msg);
		if (rc < IMPORT_ERROR || rc > IMPORT_IGNORED)
			abort();
		if ((rc == IMPORT_ERROR || rc == IMPORT_IGNORED) &&
		    (msg[0] == '\0' || memchr(msg, '\0', sizeof(msg)) == NULL))
			abort();
		start += len;
	}
	check(imp);
	import_free(imp);
	return 0;
}
