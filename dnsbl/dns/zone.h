/*
 * zone.h -- the served zones: apex data read from zone files with ldns
 *
 * A zone file (standard syntax) names the zone by its SOA and gives the
 * apex records: SOA, NS and any A, AAAA, TXT, MX; address records of name
 * servers inside the zone are kept as glue.  Everything is rendered to wire
 * format when the file is read, so answering needs no ldns object: an
 * apex RRset is a run of record tails (type, class, TTL, rdata) written
 * after an owner name.
 */
#ifndef RELAYBL_ZONE_H
#define RELAYBL_ZONE_H

#include <stddef.h>
#include <stdint.h>

#define ZONE_RR_BYTES	4096	/* rendered apex records per type */

/* The apex RRsets answered from the file. */
enum zone_rrtype {
	ZONE_SOA, ZONE_NS, ZONE_A, ZONE_AAAA, ZONE_TXT, ZONE_MX, ZONE_NTYPES
};

struct zone_rrset {
	uint16_t	type;
	int		count;
	size_t		len;		/* bytes of tails */
	uint8_t		tails[ZONE_RR_BYTES];	/* type class ttl rdlen rdata */
};

struct zone_glue {
	uint8_t		name[255];	/* lowercase wire name */
	size_t		name_len;
	struct zone_rrset rrs;		/* its A and AAAA tails */
};

struct zone {
	uint8_t		 apex[255];	/* lowercase wire name */
	size_t		 apex_len;
	int		 apex_labels;
	uint32_t	 soa_ttl;
	uint32_t	 neg_ttl;	/* min(SOA TTL, SOA MINIMUM), RFC 2308 */
	size_t		 soa_serial_off;	/* in rrsets[ZONE_SOA].tails */
	struct zone_rrset rrsets[ZONE_NTYPES];
	struct zone_glue *glue;
	int		 nglue;
	char		 name[256];	/* presentation form, for logs */
};

struct zoneset {
	struct zone	**zones;
	int		  n;
};

/*
 * Reads one zone file.  Returns NULL with the reason logged (file, line,
 * what is wrong).  Free with zone_free().
 */
struct zone	*zone_load(const char *path);
void		 zone_free(struct zone *);

/*
 * Reads every file named in paths (n of them), or, when n is 0, every
 * "*.zone" file in directory dir.  Two files for one apex are an error.
 * Returns NULL with the reason logged.  Free with zoneset_free().
 */
struct zoneset	*zoneset_load(char *const *paths, int n, const char *dir);
void		 zoneset_free(struct zoneset *);

/*
 * The zone whose apex is the longest label-aligned suffix of lname (a
 * lowercase wire name of len bytes, nlabels labels starting at the offsets
 * label_off), or NULL.
 */
const struct zone *zoneset_find(const struct zoneset *, const uint8_t *lname,
		    size_t len, int nlabels, const uint8_t *label_off);

#endif
