/*
 * probe_policy.c -- which addresses may be probed, and when
 */
#include <stdio.h>
#include <string.h>

#include "probe_policy.h"

int
probe_allow_parse(const char *list, struct probe_allow *pa, const char **err,
    const char **bad)
{
	static char	 item[128];
	const char	*s = list, *e;
	size_t		 len;

	memset(pa, 0, sizeof(*pa));
	while (*s) {
		s += strspn(s, ", \t");
		if (*s == '\0')
			break;
		len = strcspn(s, ", \t");
		e = s + len;
		snprintf(item, sizeof(item), "%.*s", (int)len, s);
		*bad = item;
		if (pa->n == PROBE_ALLOW_MAX) {
			*err = "too many prefixes";
			return -1;
		}
		if (addr_parse(item, &pa->prefix[pa->n], err) == -1)
			return -1;
		pa->n++;
		s = e;
	}
	return 0;
}

const char *
probe_refusal(const struct addr *a, const struct probe_allow *pa)
{
	if (a->plen != addr_maxplen(a))
		return "only single addresses are probed, not prefixes";
	if (!addr_is_special(a))
		return NULL;
	for (int i = 0; i < pa->n; i++)
		if (addr_contains(&pa->prefix[i], a))
			return NULL;
	return "special-use address (RFC 6890): not probed unless "
	    "[prober] allow covers it";
}

int64_t
probe_due(int reason, int64_t now, int64_t last_probe, int64_t last_delist)
{
	int64_t due = now;

	if (reason == STORE_PROBE_DELIST) {
		if (last_delist && last_delist + PROBE_DELIST_GAP > due)
			due = last_delist + PROBE_DELIST_GAP;
	} else if (last_probe && last_probe + PROBE_DAILY > due)
		due = last_probe + PROBE_DAILY;
	return due;
}
