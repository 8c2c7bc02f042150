/*
 * zone.c -- the served zones: apex data read from zone files with ldns
 *
 * ldns parses the file; this module keeps only what a DNSBL apex needs,
 * rendered to wire format once, and refuses what it cannot serve (records
 * below the apex other than name server glue, a missing SOA or NS) with a
 * message naming the file.  ldns types stay inside this file.
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "log.h"
#include "zone.h"

static const uint16_t rrtype_of[ZONE_NTYPES] = {
	[ZONE_SOA] = LDNS_RR_TYPE_SOA, [ZONE_NS] = LDNS_RR_TYPE_NS,
	[ZONE_A] = LDNS_RR_TYPE_A, [ZONE_AAAA] = LDNS_RR_TYPE_AAAA,
	[ZONE_TXT] = LDNS_RR_TYPE_TXT, [ZONE_MX] = LDNS_RR_TYPE_MX,
};

/* Lowercase wire form of a dname rdf into buf; returns its length. */
static size_t
wire_name(const ldns_rdf *rdf, uint8_t *buf)
{
	size_t len = ldns_rdf_size(rdf);

	if (len > 255)
		return 0;
	memcpy(buf, ldns_rdf_data(rdf), len);
	for (size_t i = 0; i < len; i++)
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] += 32;
	return len;
}

/* Appends rr's tail (type class ttl rdlen rdata) to set. 0 or -1. */
static int
add_tail(struct zone_rrset *set, const ldns_rr *rr, const char *path)
{
	ldns_buffer	*b = ldns_buffer_new(512);
	size_t		 rdlen;
	uint8_t		*p;
	uint32_t	 ttl = ldns_rr_ttl(rr);

	if (b == NULL || ldns_rr_rdata2buffer_wire(b, rr) != LDNS_STATUS_OK) {
		log_warnx("%s: cannot render a record", path);
		ldns_buffer_free(b);
		return -1;
	}
	rdlen = ldns_buffer_position(b);
	if (set->len + 10 + rdlen > sizeof(set->tails)) {
		log_warnx("%s: too many apex records of one type", path);
		ldns_buffer_free(b);
		return -1;
	}
	p = set->tails + set->len;
	p[0] = ldns_rr_get_type(rr) >> 8;
	p[1] = ldns_rr_get_type(rr) & 0xff;
	p[2] = 0;
	p[3] = 1;				/* IN */
	p[4] = ttl >> 24;
	p[5] = ttl >> 16;
	p[6] = ttl >> 8;
	p[7] = ttl;
	p[8] = rdlen >> 8;
	p[9] = rdlen & 0xff;
	memcpy(p + 10, ldns_buffer_begin(b), rdlen);
	set->len += 10 + rdlen;
	set->count++;
	set->type = ldns_rr_get_type(rr);
	ldns_buffer_free(b);
	return 0;
}

static int
take_soa(struct zone *z, const ldns_rr *soa, const char *path)
{
	char *name;

	z->apex_len = wire_name(ldns_rr_owner(soa), z->apex);
	z->apex_labels = (int)ldns_dname_label_count(ldns_rr_owner(soa));
	z->soa_ttl = ldns_rr_ttl(soa);
	z->neg_ttl = ldns_rdf2native_int32(ldns_rr_rdf(soa, 6));
	if (z->soa_ttl < z->neg_ttl)
		z->neg_ttl = z->soa_ttl;
	/* The serial follows MNAME and RNAME in the rdata. */
	z->soa_serial_off = 10 + ldns_rdf_size(ldns_rr_rdf(soa, 0)) +
	    ldns_rdf_size(ldns_rr_rdf(soa, 1));
	if ((name = ldns_rdf2str(ldns_rr_owner(soa))) != NULL) {
		snprintf(z->name, sizeof(z->name), "%s", name);
		free(name);
	}
	return add_tail(&z->rrsets[ZONE_SOA], soa, path);
}

/* Keeps an address record of an in-zone name server as glue. */
static int
take_glue(struct zone *z, const ldns_rr *rr, const char *path)
{
	uint8_t		 name[255];
	size_t		 len = wire_name(ldns_rr_owner(rr), name);
	struct zone_glue *g;

	for (int i = 0; i < z->nglue; i++)
		if (z->glue[i].name_len == len &&
		    memcmp(z->glue[i].name, name, len) == 0)
			return add_tail(&z->glue[i].rrs, rr, path);
	if ((g = reallocarray(z->glue, z->nglue + 1, sizeof(*g))) == NULL) {
		log_warn("zone");
		return -1;
	}
	z->glue = g;
	g = &z->glue[z->nglue++];
	memset(g, 0, sizeof(*g));
	memcpy(g->name, name, len);
	g->name_len = len;
	return add_tail(&g->rrs, rr, path);
}

static int
take_record(struct zone *z, const ldns_rr *rr, const char *path)
{
	ldns_rr_type	type = ldns_rr_get_type(rr);
	uint8_t		owner[255];
	size_t		len = wire_name(ldns_rr_owner(rr), owner);

	if (len == z->apex_len && memcmp(owner, z->apex, len) == 0) {
		for (int t = 0; t < ZONE_NTYPES; t++)
			if (rrtype_of[t] == type)
				return t == ZONE_SOA ? 0 :
				    add_tail(&z->rrsets[t], rr, path);
		log_warnx("%s: apex record of type %d ignored (served: SOA, "
		    "NS, A, AAAA, TXT, MX)", path, type);
		return 0;
	}
	if (type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_AAAA)
		return take_glue(z, rr, path);
	log_warnx("%s: record below the apex ignored (the store answers "
	    "for names below the apex)", path);
	return 0;
}

/*
 * Reads every record of the file into a list we own.  (Record by record,
 * not ldns_zone_new_frm_fp: that one leaks the records read so far when a
 * later line is bad, and a reload with a typo must not leak.)
 */
static ldns_rr_list *
read_records(const char *path)
{
	FILE		*fp;
	ldns_rr_list	*list;
	ldns_rr		*rr;
	ldns_rdf	*origin = NULL, *prev = NULL;
	uint32_t	 ttl = 3600;
	int		 line = 1;
	ldns_status	 st;

	if ((fp = fopen(path, "r")) == NULL) {
		log_warn("zone file %s", path);
		return NULL;
	}
	if ((list = ldns_rr_list_new()) == NULL)
		goto err;
	while (!feof(fp)) {
		rr = NULL;
		st = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &line);
		if (st == LDNS_STATUS_SYNTAX_EMPTY ||
		    st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN ||
		    st == LDNS_STATUS_SYNTAX_INCLUDE)
			continue;
		if (st != LDNS_STATUS_OK) {
			/* ldns has counted the bad line's newline too. */
			log_warnx("%s:%d: %s", path, line > 1 ? line - 1 : 1,
			    ldns_get_errorstr_by_id(st));
			goto err;
		}
		if (!ldns_rr_list_push_rr(list, rr)) {
			ldns_rr_free(rr);
			goto err;
		}
	}
	fclose(fp);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	return list;
err:
	fclose(fp);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	ldns_rr_list_deep_free(list);
	return NULL;
}

struct zone *
zone_load(const char *path)
{
	ldns_rr_list	*rrs;
	const ldns_rr	*soa = NULL;
	struct zone	*z;
	size_t		 n;

	if ((rrs = read_records(path)) == NULL)
		return NULL;
	if ((z = calloc(1, sizeof(*z))) == NULL) {
		ldns_rr_list_deep_free(rrs);
		log_warn("zone");
		return NULL;
	}
	n = ldns_rr_list_rr_count(rrs);
	for (size_t i = 0; i < n && soa == NULL; i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(rrs, i)) ==
		    LDNS_RR_TYPE_SOA)
			soa = ldns_rr_list_rr(rrs, i);
	if (soa == NULL) {
		log_warnx("%s: no SOA record", path);
		goto err;
	}
	if (take_soa(z, soa, path) == -1)
		goto err;
	for (size_t i = 0; i < n; i++)
		if (take_record(z, ldns_rr_list_rr(rrs, i), path) == -1)
			goto err;
	if (z->rrsets[ZONE_NS].count == 0) {
		log_warnx("%s: no NS record at the apex %s", path, z->name);
		goto err;
	}
	ldns_rr_list_deep_free(rrs);
	return z;
err:
	ldns_rr_list_deep_free(rrs);
	zone_free(z);
	return NULL;
}

void
zone_free(struct zone *z)
{
	if (z == NULL)
		return;
	free(z->glue);
	free(z);
}

static int
zoneset_add(struct zoneset *zs, const char *path)
{
	struct zone	*z, **p;

	if ((z = zone_load(path)) == NULL)
		return -1;
	for (int i = 0; i < zs->n; i++)
		if (zs->zones[i]->apex_len == z->apex_len &&
		    memcmp(zs->zones[i]->apex, z->apex, z->apex_len) == 0) {
			log_warnx("%s: zone %s is already served from another "
			    "file", path, z->name);
			zone_free(z);
			return -1;
		}
	if ((p = reallocarray(zs->zones, zs->n + 1, sizeof(*p))) == NULL) {
		zone_free(z);
		return -1;
	}
	zs->zones = p;
	zs->zones[zs->n++] = z;
	return 0;
}

static int
zoneset_add_dir(struct zoneset *zs, const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[4096];
	size_t		 len;
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL) {
		log_warn("zones directory %s", dir);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".zone") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rc = zoneset_add(zs, path);
	}
	closedir(d);
	if (rc == 0 && zs->n == 0) {
		log_warnx("no *.zone files in %s", dir);
		return -1;
	}
	return rc;
}

struct zoneset *
zoneset_load(char *const *paths, int n, const char *dir)
{
	struct zoneset *zs;

	if ((zs = calloc(1, sizeof(*zs))) == NULL)
		return NULL;
	for (int i = 0; i < n; i++)
		if (zoneset_add(zs, paths[i]) == -1)
			goto err;
	if (n == 0 && zoneset_add_dir(zs, dir) == -1)
		goto err;
	return zs;
err:
	zoneset_free(zs);
	return NULL;
}

void
zoneset_free(struct zoneset *zs)
{
	if (zs == NULL)
		return;
	for (int i = 0; i < zs->n; i++)
		zone_free(zs->zones[i]);
	free(zs->zones);
	free(zs);
}

const struct zone *
zoneset_find(const struct zoneset *zs, const uint8_t *lname, size_t len,
    int nlabels, const uint8_t *label_off)
{
	const struct zone *best = NULL;

	for (int i = 0; i < zs->n; i++) {
		const struct zone *z = zs->zones[i];
		size_t start;
		if (z->apex_labels > nlabels || z->apex_len > len)
			continue;
		/* Label-aligned: the apex starts where a label starts. */
		if (z->apex_labels == 0)
			continue;
		start = z->apex_labels == nlabels ? 0 :
		    label_off[nlabels - z->apex_labels];
		if (start != len - z->apex_len ||
		    memcmp(lname + start, z->apex, z->apex_len) != 0)
			continue;
		if (best == NULL || z->apex_labels > best->apex_labels)
			best = z;
	}
	return best;
}
