/*
 * fuzz_answer.c -- libFuzzer harness for the responder: dns_query_parse
 * and answer_query on arbitrary bytes, over UDP and TCP limits
 *
 * A small store (listings, an exclusion, IPv6) and a zone are made in a
 * scratch directory once.  Every input is answered as UDP and as TCP; the
 * checks: no crash, a UDP reply never exceeds 512 bytes unless the query
 * carried EDNS, never exceeds our payload limit, and every reply starts
 * with the query's id and has QR set.  Each input is also answered for
 * a client under each access action, with one query key served (a seed
 * has the key), and every UDP reply is slipped as rate limiting would,
 * under the same checks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "answer.h"
#include "dns_query.h"
#include "keys.h"
#include "log.h"
#include "store.h"
#include "zone.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct store		*st;
static struct store_reader	*rd;
static struct zoneset		*zs;
static struct answer_conf	 conf;
static struct keyset		*keys;

static void
add(struct store_txn *t, const char *s, int excl)
{
	struct addr		 a;
	struct store_listing	 l;
	const char		*err;

	memset(&l, 0, sizeof(l));
	l.code = 0x7f000002u;
	l.kind = STORE_KIND_MANUAL;
	snprintf(l.text, sizeof(l.text), "text for $ and $");
	if (addr_parse(s, &a, &err) == -1)
		abort();
	if (excl ? store_exclude(t, &a, "x") : store_list(t, &a, &l))
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char			 dir[] = "/tmp/fuzz_answer.XXXXXX", path[300];
	char			*files[1];
	struct store_txn	*t;
	FILE			*fp;

	(void)argc;
	(void)argv;
	log_init("fuzz_answer", 0);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/z.zone", dir);
	fp = fopen(path, "w");
	fputs("$ORIGIN bl.test.\n$TTL 60\n@ SOA ns. h. 1 2 3 4 5\n"
	    "@ NS ns1.bl.test.\nns1 A 192.0.2.1\n@ TXT \"t\"\n", fp);
	fclose(fp);
	files[0] = path;
	if ((zs = zoneset_load(files, 1, NULL)) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/store", dir);
	if ((st = store_open(path, STORE_CREATE, 0)) == NULL ||
	    (t = store_begin(st, "fuzz")) == NULL)
		abort();
	add(t, "192.0.2.1", 0);
	add(t, "10.0.0.0/8", 0);
	add(t, "10.1.2.0/24", 1);
	add(t, "2001:db8::/32", 0);
	add(t, "2001:db8::1", 1);
	if (store_commit(t) == -1 || (rd = store_reader_new(st)) == NULL)
		abort();
	answer_conf_init(&conf);
	conf.test_code[3] = 1;
	snprintf(conf.txt_template, sizeof(conf.txt_template), "see $");
	keys = keys_parse("k k4d9w2m0c7hq1xz5b8nf3tpv6e\n", 29, "fuzz");
	if (keys == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 out[65535];
	struct answer_counters	 c;
	struct dns_query	 q;
	size_t			 n;

	memset(&c, 0, sizeof(c));
	for (int run = 0; run < 8; run++) {
		int tcp = run & 1;
		/* Anyone, then answer, refuse and error with the key. */
		struct answer_client cl = { (enum access_action[]){
		    ACCESS_ANSWER, ACCESS_ANSWER, ACCESS_REFUSE,
		    ACCESS_ERROR }[run >> 1], keys };
		switch (answer_query_client(zs, rd, &conf, run < 2 ? NULL :
		    &cl, data, size, out, sizeof(out), &n, tcp, &c)) {
		case ANSWER_PROCESSED:
			break;
		case ANSWER_DISCARDED:
			if (n != 0)
				abort();
			continue;
		default:		/* no transfers yet */
			abort();
		}
		if (n < 12 || size < 2 || memcmp(out, data, 2) != 0 ||
		    !(out[2] & 0x80))
			abort();
		if (!tcp && n > conf.udp_max)
			abort();
		if (!tcp && n > 512 && !(dns_query_parse(data, size, &q) ==
		    DNS_PARSE_OK && q.edns))
			abort();
		if (!tcp) {
			size_t was = n;
			answer_slip(out, &n);
			if (n < 12 || n > was || !(out[2] & 0x02))
				abort();
		}
	}
	return 0;
}
