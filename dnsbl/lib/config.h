/*
 * config.h -- the relaybl configuration file (etc/relaybl.conf)
 *
 * One INI file read by all three programs: [store] (where the store is and
 * how large it may grow, read by all three), [dnsbld] and [prober].  The file is read whole into
 * a list of section/key/value strings; each program asks for the keys it
 * uses with the typed getters, which fail on a malformed value with a
 * message naming the file, section and key.  Command-line flags override
 * what the file says.
 */
#ifndef RELAYBL_CONFIG_H
#define RELAYBL_CONFIG_H

#include <stdint.h>

/*
 * Read when no -c is given: relative, for make run and the tests in the
 * repository; make install compiles the installed programs with
 * $(SYSCONFDIR)/relaybl/relaybl.conf.
 */
#ifndef CONFIG_DEFAULT_PATH
#define CONFIG_DEFAULT_PATH	"etc/relaybl.conf"
#endif

struct config;

/*
 * Reads path.  When path is NULL the default file is read if it exists, and
 * an empty configuration is returned if it does not.  Returns NULL (reason
 * logged) if the file cannot be read or has a syntax error.  Free with
 * config_free().
 */
struct config	*config_load(const char *path);
void		 config_free(struct config *);

/* Parses INI text (for tests).  Returns NULL with the reason logged. */
struct config	*config_parse(const char *text, const char *name);

/* The value of section.key, or def when absent.  Owned by the config. */
const char	*config_str(const struct config *, const char *section,
		    const char *key, const char *def);

/*
 * The value of section.key as a non-negative decimal number into *out, or
 * def when the key is absent.  config_int takes a plain number within
 * [min, max]; config_duration a number of seconds with an optional suffix
 * s, m, h or d ("90d"); config_size a number of bytes with an optional
 * suffix K, M or G ("4G").  Returns 0, or -1 when the value is malformed
 * (or, for config_int, outside [min, max]); the message names the file,
 * section and key.
 */
int	config_int(const struct config *, const char *section,
	    const char *key, int64_t def, int64_t min, int64_t max,
	    int64_t *out);
int	config_duration(const struct config *, const char *section,
	    const char *key, int64_t def, int64_t *out);
int	config_size(const struct config *, const char *section,
	    const char *key, uint64_t def, uint64_t *out);

/*
 * Warns about keys of section not in the NULL-terminated list known
 * (typos).  Returns the number of unknown keys.
 */
int	config_check_keys(const struct config *, const char *section,
	    const char *const *known);

/* The file name, for messages. */
const char	*config_name(const struct config *);

#endif
