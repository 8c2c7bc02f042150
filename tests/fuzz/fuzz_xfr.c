/*
 * fuzz_xfr.c -- libFuzzer harness for what a transfer reads of a query
 *
 * The input is a query as a secondary (or anyone) sends it over TCP:
 * the IXFR serial in its authority
 * section (names with compression pointers, record lengths), and the
 * refusal built from it.  Checks: a refusal fits its buffer, carries the
 * query's id and a length prefix that matches; the serial is -1 or 32
 * bits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xfr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	out[2 + 12 + 600];
	int64_t	serial;
	size_t	n;

	serial = xfr_ixfr_serial(data, size);
	if (serial < -1 || serial > 0xffffffffLL)
		abort();
	n = xfr_refusal(data, size, XFR_REFUSED, out, sizeof(out));
	if (n > sizeof(out) || (n > 0 && (n < 14 ||
	    (size_t)(out[0] << 8 | out[1]) != n - 2 || size < 2 ||
	    memcmp(out + 2, data, 2) != 0)))
		abort();
	return 0;
}
