/*
 * test_xfr.c -- unit tests of what a transfer reads of a query, and of
 * the NOTIFY it sends
 */
#include <string.h>

#include "tap.h"
#include "xfr.h"

/* IXFR for bl.test with the client's SOA (serial 7) in the authority. */
static const uint8_t ixfr[] = {
	0x12, 0x34, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	2, 'b', 'l', 4, 't', 'e', 's', 't', 0, 0x00, 0xfb, 0x00, 0x01,
	0xc0, 0x0c, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x1e,
	3, 'n', 's', '1', 0xc0, 0x0c, 1, 'h', 0xc0, 0x0c,
	0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x00, 0x03, 0x84,
	0x00, 0x09, 0x3a, 0x80, 0x00, 0x00, 0x01, 0x2c,
};
static const uint8_t axfr[] = {
	0x12, 0x35, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	2, 'b', 'l', 4, 't', 'e', 's', 't', 0, 0x00, 0xfc, 0x00, 0x01,
};
static const uint8_t a_query[] = {
	0x12, 0x36, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	2, 'b', 'l', 4, 't', 'e', 's', 't', 0, 0x00, 0x01, 0x00, 0x01,
};

int
main(void)
{
	uint8_t	out[600], bad[sizeof(ixfr)];
	size_t	n;

	ok(xfr_ixfr_serial(a_query, sizeof(a_query)) == -1,
	    "an A query: no IXFR serial");
	is_int((int)xfr_ixfr_serial(ixfr, sizeof(ixfr)), 7,
	    "IXFR: the client's serial from the authority SOA");
	is_int((int)xfr_ixfr_serial(axfr, sizeof(axfr)), -1,
	    "AXFR: no serial");
	memcpy(bad, ixfr, sizeof(ixfr));
	bad[36] = 0xff;	/* the SOA's rdlength, past the end */
	is_int((int)xfr_ixfr_serial(bad, sizeof(ixfr)), -1,
	    "an SOA running past the message: no serial");
	is_int((int)xfr_ixfr_serial(ixfr, sizeof(ixfr) - 1), -1,
	    "one byte short: no serial");
	n = xfr_refusal(axfr, sizeof(axfr), XFR_REFUSED, out, sizeof(out));
	ok(n == 2 + sizeof(axfr) && (out[0] << 8 | out[1]) == (int)n - 2,
	    "a refusal: the question echoed, its length prefix");
	ok(out[2] == 0x12 && out[3] == 0x35 && (out[4] & 0x80) &&
	    (out[5] & 0x0f) == 5 && (out[4] & 0x01), "  same id, QR, "
	    "REFUSED, RD kept");
	n = xfr_refusal(axfr, sizeof(axfr), XFR_NOTAUTH, out, sizeof(out));
	is_int(out[5] & 0x0f, 9, "  NOTAUTH");
	is_int((int)xfr_refusal(axfr, sizeof(axfr), XFR_REFUSED, out, 20), 0,
	    "  no room: nothing");
	return tap_done();
}
