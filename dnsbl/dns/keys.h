/*
 * keys.h -- query keys: answers for subscribers wherever they ask from
 *
 * dnsbld's [dnsbld] keys_file holds one key a line, "NAME KEY", '#'
 * starting a comment:
 *
 *	example-isp	4kd9w2m0c7hq1xz5b8nf3tpv6e
 *
 * NAME (1-63 of letters, digits, '.', '_', '-') says whose key it is, in
 * logs; KEY is 26 to 63 letters and digits (a random base32 string as
 * Spamhaus's DQS keys are), compared without regard to case as DNS
 * names are.  A query KEY.d.c.b.a.ZONE is answered as d.c.b.a.ZONE would
 * be, whatever the client's access rule (answer.h says the details).
 * Shorter keys, a name or key given twice, anything else on the line are
 * errors at load.  No I/O but reading the file in keys_load().
 */
#ifndef RELAYBL_KEYS_H
#define RELAYBL_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_KEY_MIN	26	/* shorter labels are never keys */
#define KEYS_KEY_MAX	63	/* a DNS label */

struct keyset;

/*
 * Parses text (len bytes), naming errors "name:LINE: why" through
 * log_warnx.  Returns the keys, or NULL.  Free with keys_free().
 */
struct keyset	*keys_parse(const char *text, size_t len, const char *name);

/* Reads and parses the file at path; NULL with the reason logged. */
struct keyset	*keys_load(const char *path);

/* NULL is a no-op. */
void		 keys_free(struct keyset *);

/* Number of keys. */
size_t		 keys_count(const struct keyset *);

/*
 * Whether label (len bytes, already lowercase) has the shape of a key:
 * KEYS_KEY_MIN to KEYS_KEY_MAX bytes.  No address label has.
 */
int		 keys_shaped(const uint8_t *label, size_t len);

/*
 * The index of the key equal to label (len bytes, lowercase), or -1.
 * Every key is compared, in time that depends only on the number of keys,
 * so the time taken tells nothing of how close a guess came.
 */
int		 keys_match(const struct keyset *, const uint8_t *label,
		    size_t len);

/* The name of key i. */
const char	*keys_name(const struct keyset *, int i);

#endif
