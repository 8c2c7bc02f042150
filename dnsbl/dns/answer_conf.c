/*
 * answer_conf.c -- what the answers say, from [dnsbld]: read once for
 * dnsbld and for dnsblctl export, so a mirror says what dnsbld says
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "config.h"
#include "log.h"

/* "2, 3" or "127.0.0.2, 127.0.0.3": the RFC 5782 test points. */
static int
test_codes(const struct config *cfg, struct answer_conf *c, const char *list)
{
	char	 buf[256], *tok, *save;
	uint32_t code;

	memset(c->test_code, 0, sizeof(c->test_code));
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		char *end;
		long x = strtol(tok, &end, 10);
		if (*end == '\0' && x >= 2 && x <= 255)
			code = STORE_CODE_NET | (uint32_t)x;
		else if (inet_pton(AF_INET, tok, &code) == 1 &&
		    (ntohl(code) & 0xffffff00u) == STORE_CODE_NET &&
		    (ntohl(code) & 0xff) >= 2)
			code = ntohl(code);
		else {
			log_warnx("%s: [dnsbld] test_codes: bad code \"%s\" "
			    "(want 2-255 or 127.0.0.2-127.0.0.255)",
			    config_name(cfg), tok);
			return -1;
		}
		c->test_code[code & 0xff] = 1;
	}
	c->test_code[2] = 1;	/* RFC 5782: always */
	return 0;
}

int
answer_conf_load(const struct config *cfg, struct answer_conf *c)
{
	int64_t n;

	answer_conf_init(c);
	if (config_int(cfg, "dnsbld", "ttl", 1800, 0, 604800, &n) == -1)
		return -1;
	c->ttl = (uint32_t)n;
	snprintf(c->txt_template, sizeof(c->txt_template), "%s",
	    config_str(cfg, "dnsbld", "txt_template", "Listed as an open "
	    "relay, see https://relaybl.example/lookup?ip=$"));
	return test_codes(cfg, c, config_str(cfg, "dnsbld", "test_codes",
	    "2, 3"));
}
