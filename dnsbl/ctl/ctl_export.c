/*
 * ctl_export.c -- dnsblctl export: mirror files from one store snapshot
 *
 * dnsblctl export -f zone|rbldnsd|rbldnsd6 [-o FILE] ZONE writes the
 * listings of the zone ZONE (a zone file in [dnsbld] zones names it) as a
 * standard master file (the apex records of the zone file, the SOA serial
 * the store's, then every name of zone_walk), or as an rbldnsd ip4trie
 * (rbldnsd) or ip6trie (rbldnsd6) dataset.  Everything is read in one
 * snapshot and streamed: memory does not grow with the store.  With -o
 * the file is written as FILE.tmp.PID and renamed into place, so a reader
 * (rsync, rbldnsd) never sees half a file.
 *
 * Why ip4trie and not ip4set for IPv4: ip4set keeps every range as octet
 * pieces and does not pick the longest of two nested ranges that share a
 * piece (a /9 and a /12 inside it); ip4trie takes CIDR prefixes and answers
 * the longest match, as dnsbld does.  Listings inside an exclusion are
 * left out, since dnsbld lets an exclusion win over a longer listing and
 * rbldnsd would not.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "answer.h"
#include "log.h"
#include "zone.h"
#include "zone_walk.h"
#include "ctl.h"

struct export {
	FILE			*out;
	const struct zone	*z;
	const struct answer_conf *conf;
	struct store_reader	*rd;
	uint32_t		 serial;
	/* rbldnsd: the exclusions covering the scan's position */
	struct addr		 excl[129];
	int			 nexcl;
};

/* The zone named name ("bl.example" or "bl.example.") in zs, or NULL. */
static const struct zone *
find_zone(const struct zoneset *zs, const char *name)
{
	size_t n = strlen(name);

	while (n > 0 && name[n - 1] == '.')
		n--;
	for (int i = 0; i < zs->n; i++) {
		const char *zn = zs->zones[i]->name;
		size_t zl = strlen(zn);
		while (zl > 0 && zn[zl - 1] == '.')
			zl--;
		if (zl == n && strncasecmp(zn, name, n) == 0)
			return zs->zones[i];
	}
	return NULL;
}

/* One record (owner wire name, then its tail) printed by ldns. */
static int
print_wire_rr(FILE *out, const uint8_t *owner, size_t olen,
    const uint8_t *tail, size_t tlen)
{
	uint8_t		 wire[255 + 10 + 65535];
	ldns_rr		*rr = NULL;
	size_t		 pos = 0;

	memcpy(wire, owner, olen);
	memcpy(wire + olen, tail, tlen);
	if (ldns_wire2rr(&rr, wire, olen + tlen, &pos,
	    LDNS_SECTION_ANSWER) != LDNS_STATUS_OK) {
		log_warnx("export: an apex record cannot be printed");
		return -1;
	}
	ldns_rr_print(out, rr);
	ldns_rr_free(rr);
	return 0;
}

static int
print_rrset(FILE *out, const uint8_t *owner, size_t olen,
    const struct zone_rrset *set)
{
	size_t off = 0;

	for (int i = 0; i < set->count; i++) {
		size_t rdlen = set->tails[off + 8] << 8 | set->tails[off + 9];
		if (print_wire_rr(out, owner, olen, set->tails + off,
		    10 + rdlen) == -1)
			return -1;
		off += 10 + rdlen;
	}
	return 0;
}

/* $ORIGIN, $TTL, the SOA with the store's serial, the apex and glue. */
static int
zone_head(struct export *e)
{
	const struct zone	*z = e->z;
	struct zone_rrset	 soa = z->rrsets[ZONE_SOA];
	size_t			 off = z->soa_serial_off;

	for (int i = 0; i < 4; i++)
		soa.tails[off + i] = e->serial >> (24 - 8 * i);
	fprintf(e->out, "; %s from the relaybl store, serial %u\n"
	    "$ORIGIN %s\n$TTL %u\n", z->name, e->serial, z->name, z->soa_ttl);
	if (print_rrset(e->out, z->apex, z->apex_len, &soa) == -1)
		return -1;
	for (int t = ZONE_NS; t < ZONE_NTYPES; t++)
		if (print_rrset(e->out, z->apex, z->apex_len,
		    &z->rrsets[t]) == -1)
			return -1;
	for (int g = 0; g < z->nglue; g++)
		if (print_rrset(e->out, z->glue[g].name, z->glue[g].name_len,
		    &z->glue[g].rrs) == -1)
			return -1;
	return 0;
}

/* A TXT rdata in master-file syntax: strings of 255, escaped. */
static void
print_txt(FILE *out, const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		fputs("\"\"", out);
	for (size_t off = 0; off < n; off += 255) {
		fputs(off > 0 ? " \"" : "\"", out);
		for (size_t i = off; i < n && i < off + 255; i++) {
			unsigned char ch = s[i];
			if (ch == '"' || ch == '\\')
				fprintf(out, "\\%c", ch);
			else if (ch < 0x20 || ch >= 0x7f)
				fprintf(out, "\\%03u", ch);
			else
				fputc(ch, out);
		}
		fputc('"', out);
	}
}

static int
zone_name_out(const struct zone_name *n, void *arg)
{
	struct export	*e = arg;
	char		 code[INET_ADDRSTRLEN];
	struct in_addr	 in = { htonl(n->code) };

	if (n->listed) {
		inet_ntop(AF_INET, &in, code, sizeof(code));
		fprintf(e->out, "%s\t%u\tIN\tA\t%s\n", n->text, n->ttl, code);
	}
	fprintf(e->out, "%s\t%u\tIN\tTXT\t", n->text, n->ttl);
	print_txt(e->out, n->txt);
	fputc('\n', e->out);
	return ferror(e->out) ? -1 : 0;
}

static int
export_zone(struct export *e)
{
	struct zone_walk_stats st;

	if (zone_head(e) == -1)
		return -1;
	if (zone_walk(e->rd, e->z, e->conf, zone_name_out, e, &st) != 0)
		return -1;
	fprintf(e->out, "; %llu names: %llu listed (%llu wildcards), "
	    "%llu markers; %llu store items skipped\n",
	    (unsigned long long)st.names, (unsigned long long)st.listed,
	    (unsigned long long)st.wildcards, (unsigned long long)st.markers,
	    (unsigned long long)st.skipped);
	return 0;
}

/* rbldnsd's $SOA and $NS lines, from the zone file and the store. */
static void
rbldnsd_head(struct export *e)
{
	const struct zone_rrset	*set = &e->z->rrsets[ZONE_SOA];
	ldns_rr			*rr = NULL;
	uint8_t			 wire[255 + 10 + ZONE_RR_BYTES];
	size_t			 pos = 0, off = 0;

	memcpy(wire, e->z->apex, e->z->apex_len);
	memcpy(wire + e->z->apex_len, set->tails, set->len);
	if (ldns_wire2rr(&rr, wire, e->z->apex_len + set->len, &pos,
	    LDNS_SECTION_ANSWER) == LDNS_STATUS_OK) {
		char *mname = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		char *rname = ldns_rdf2str(ldns_rr_rdf(rr, 1));
		fprintf(e->out, "$SOA %u %s %s %u %u %u %u %u\n",
		    e->z->soa_ttl, mname, rname, e->serial,
		    ldns_rdf2native_int32(ldns_rr_rdf(rr, 3)),
		    ldns_rdf2native_int32(ldns_rr_rdf(rr, 4)),
		    ldns_rdf2native_int32(ldns_rr_rdf(rr, 5)),
		    ldns_rdf2native_int32(ldns_rr_rdf(rr, 6)));
		free(mname);
		free(rname);
		ldns_rr_free(rr);
	}
	set = &e->z->rrsets[ZONE_NS];
	fprintf(e->out, "$NS %u", e->conf->ttl);
	for (int i = 0; i < set->count; i++) {
		size_t rdlen = set->tails[off + 8] << 8 | set->tails[off + 9];
		ldns_rdf *d = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME,
		    rdlen, set->tails + off + 10);
		char *s = d ? ldns_rdf2str(d) : NULL;
		if (s != NULL)
			fprintf(e->out, " %s", s);
		free(s);
		ldns_rdf_deep_free(d);
		off += 10 + rdlen;
	}
	fprintf(e->out, "\n$TTL %u\n:127.0.0.2:%s\n", e->conf->ttl,
	    e->conf->txt_template);
}

/* The test points of one family: they override the store (dnsbld). */
static void
rbldnsd_test_points(struct export *e, int family)
{
	const char	*pre = family == ADDR_V4 ? "" : "::ffff:";
	char		 a[32];

	fprintf(e->out, "!%s127.0.0.1\n", pre);
	for (int x = 2; x < 256; x++) {
		if (!e->conf->test_code[x])
			continue;
		/* "$" spelled as dnsbld spells it (rbldnsd: ::ffff:7f00:2). */
		snprintf(a, sizeof(a), "%s127.0.0.%d", pre, x);
		fprintf(e->out, "%s :127.0.0.%d:", a, x);
		for (const char *t = e->conf->txt_template; *t; t++)
			if (*t == '$')
				fputs(a, e->out);
			else
				fputc(*t, e->out);
		fputc('\n', e->out);
	}
}

static int
rbldnsd_item(struct export *e, const struct store_item *it)
{
	struct store_listing	 l;
	char			 abuf[ADDR_STRLEN], cbuf[INET_ADDRSTRLEN];
	struct in_addr		 in = { htonl(it->code) };
	int			 covered = 0;

	while (e->nexcl > 0 && !addr_contains(&e->excl[e->nexcl - 1],
	    &it->prefix))
		e->nexcl--;
	covered = e->nexcl > 0;
	addr_format(&it->prefix, abuf);
	if (it->excluded) {
		if (!covered)
			fprintf(e->out, "!%s\n", abuf);
		if (e->nexcl < 129)
			e->excl[e->nexcl++] = it->prefix;
		return 0;
	}
	if (covered)		/* dnsbld: the exclusion wins */
		return 0;
	l.text[0] = '\0';
	if (it->record != 0 && store_record(e->rd, it->record, &l) == -1)
		return -1;
	if (it->code == STORE_CODE_LISTED && l.text[0] == '\0') {
		fprintf(e->out, "%s\n", abuf);
		return 0;
	}
	inet_ntop(AF_INET, &in, cbuf, sizeof(cbuf));
	/* A line break would end the entry. */
	for (char *p = l.text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(e->out, "%s :%s:%s\n", abuf, cbuf,
	    l.text[0] ? l.text : e->conf->txt_template);
	return 0;
}

static int
export_rbldnsd(struct export *e, int family)
{
	struct store_scan	*sc;
	struct store_item	 it;
	int			 rc;

	rbldnsd_head(e);
	rbldnsd_test_points(e, family);
	if ((sc = store_scan_new(e->rd, family)) == NULL)
		return -1;
	while ((rc = store_scan_next(sc, &it)) == 1)
		if ((rc = rbldnsd_item(e, &it)) == -1 || ferror(e->out))
			break;
	store_scan_free(sc);
	return rc == 0 && !ferror(e->out) ? 0 : -1;
}

static int
export_to(struct export *e, const char *fmt)
{
	int rc;

	if (store_reader_begin(e->rd) == -1)
		return -1;
	e->serial = store_zone_serial(e->rd);
	if (strcmp(fmt, "zone") == 0)
		rc = export_zone(e);
	else
		rc = export_rbldnsd(e, strcmp(fmt, "rbldnsd") == 0 ?
		    ADDR_V4 : ADDR_V6);
	store_reader_end(e->rd);
	if (fflush(e->out) != 0 || ferror(e->out)) {
		log_warn("export: write");
		rc = -1;
	}
	return rc;
}

int
cmd_export(struct ctl *c, int argc, char **argv)
{
	struct answer_conf	 conf;
	struct export		 e;
	struct zoneset		*zs = NULL;
	struct store		*st = NULL;
	char			 tmp[4096];
	const char		*fmt = c->opt_f ? c->opt_f : "zone";
	int			 rc = EXIT_ERR;

	(void)argc;
	memset(&e, 0, sizeof(e));
	if (strcmp(fmt, "zone") != 0 && strcmp(fmt, "rbldnsd") != 0 &&
	    strcmp(fmt, "rbldnsd6") != 0) {
		log_warnx("export: -f %s: want zone, rbldnsd or rbldnsd6", fmt);
		return EXIT_ERR;
	}
	if (answer_conf_load(c->cfg, &conf) == -1 || (zs = zoneset_load(NULL, 0,
	    config_str(c->cfg, "dnsbld", "zones", "zones"))) == NULL)
		return EXIT_ERR;
	if ((e.z = find_zone(zs, argv[0])) == NULL) {
		log_warnx("export: no zone %s in the zone files", argv[0]);
		goto done;
	}
	e.conf = &conf;
	if ((st = ctl_open_store(c)) == NULL ||
	    (e.rd = store_reader_new(st)) == NULL)
		goto done;
	e.out = stdout;
	if (c->opt_o != NULL) {
		snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", c->opt_o,
		    (long)getpid());
		if ((e.out = fopen(tmp, "w")) == NULL) {
			log_warn("export: %s", tmp);
			goto done;
		}
	}
	if (export_to(&e, fmt) == 0)
		rc = 0;
	if (c->opt_o != NULL) {
		if (fclose(e.out) != 0) {
			log_warn("export: %s", tmp);
			rc = EXIT_ERR;
		}
		if (rc == 0 && rename(tmp, c->opt_o) == -1) {
			log_warn("export: rename to %s", c->opt_o);
			rc = EXIT_ERR;
		}
		if (rc != 0)
			unlink(tmp);
	}
done:
	store_reader_free(e.rd);
	store_close(st);
	zoneset_free(zs);
	return rc;
}
