/*
 * fuzz_config.c -- libFuzzer harness for the configuration reader
 *
 * Parses the input as an INI file and asks every typed getter for every
 * key the programs use and a few they do not, in every section: any value
 * must give a number in range or a clean refusal, never a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const sections[] = { "store", "dnsbld", "prober",
	    "", NULL };
	static const char *const keys[] = { "dir", "map_size", "listen",
	    "concurrency", "retest_interval", "x", NULL };
	struct config	*c;
	char		*text;
	int64_t		 n;
	uint64_t	 u;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	log_init("fuzz_config", 0);
	if ((c = config_parse(text, "fuzz")) != NULL) {
		for (int s = 0; sections[s]; s++) {
			for (int k = 0; keys[k]; k++) {
				if (config_int(c, sections[s], keys[k], 5, 0,
				    100, &n) == 0 && (n < 0 || n > 100))
					abort();
				config_duration(c, sections[s], keys[k], 0, &n);
				config_size(c, sections[s], keys[k], 0, &u);
				config_str(c, sections[s], keys[k], NULL);
			}
			config_check_keys(c, sections[s], keys);
		}
		config_free(c);
	}
	free(text);
	return 0;
}
