/*
 * tsig.h -- TSIG (RFC 8945): verifying and signing DNS messages with
 * shared keys, for zone transfers and NOTIFY
 *
 * Pure logic on message bytes: no socket, no clock of its own (the caller
 * passes the time), no event loop; the MAC is OpenSSL's HMAC (EVP_MAC).
 * Algorithms: hmac-sha256 (the default), hmac-sha384, hmac-sha512 and
 * hmac-sha1; not hmac-md5, not GSS-TSIG.  The key and algorithm names go
 * into the MAC in canonical form (lowercase, uncompressed), so key names
 * match whatever their case on the wire, and the TSIG records we write are
 * never compressed.
 *
 * A server (AXFR/IXFR out):
 *	r = tsig_verify_request(keys, req, len, now, &st, &off);
 *	TSIG_NONE: no TSIG (the caller's policy says whether that is allowed);
 *	TSIG_OK: answer; pass every message of the answer, in order, to
 *	    tsig_sign_response(&st, ...) as the last thing before sending it;
 *	else: build the reply's header and question and pass it to
 *	    tsig_error_response(&st, r, ...): FORMERR gets no TSIG, BADKEY and
 *	    BADSIG an unsigned one, BADTIME and BADTRUNC a signed one, all with
 *	    the TSIG error set, as RFC 8945 5.3.2 says.
 * A client (NOTIFY out):
 *	tsig_sign_request(key, msg, ..., &st), send it, then
 *	tsig_verify_response(&st, reply, ...) on what comes back (every
 *	message of a stream, in order, if one ever follows).
 *
 * Policy, where RFC 8945 leaves a choice: truncated MACs are not accepted
 * (BADTRUNC when the truncation is one RFC 8945 5.2.2.1 allows, FORMERR
 * when it is shorter than max(10, half) or longer than the hash, as BIND);
 * a request's own fudge bounds its time; we sign with fudge 300 and sign
 * every message of a multi-message answer (so "the messages since the
 * last MAC" is always exactly one); a stream we verify must have every
 * message signed.  Time Signed is not checked against a cache of earlier
 * ones (a SHOULD of RFC 8945 5.2.3): a replay within the fudge gets the
 * same answer again.
 *
 * The keys file (tsig_keys_load), one key a line or a block; comments from
 * '#' or "//" to the end of the line and between slash-star and star-slash:
 *
 *	NAME ALGORITHM SECRET		e.g. xfr.example. hmac-sha256 c2Vj...=
 *	ALGORITHM:NAME:SECRET		as for kdig -y and knsupdate
 *	key "NAME" {			BIND named.conf syntax, as printed by
 *		algorithm ALGORITHM;	    tsig-keygen and ddns-confgen
 *		secret "SECRET";	    (other statements in the block are
 *	};				    an error)
 *	key:				Knot's YAML as printed by keymgr -t:
 *	  - id: NAME			    entries of id, algorithm and secret
 *	    algorithm: ALGORITHM	    (in any order) after a "key:" line
 *	    secret: SECRET
 *
 * NAME is a domain name (the trailing dot optional, case ignored);
 * ALGORITHM is hmac-sha256, hmac-sha384, hmac-sha512 or hmac-sha1 (case
 * ignored); SECRET is base64, 1 to TSIG_SECRET_MAX bytes once decoded.  A
 * name may appear once.  dnsbld reads the file named by
 * "[dns] tsig_keys_file".
 */
#ifndef RELAYBL_TSIG_H
#define RELAYBL_TSIG_H

#include <stddef.h>
#include <stdint.h>

#define TSIG_SECRET_MAX	128	/* the largest HMAC block (SHA-512) */
#define TSIG_MAC_MAX	64	/* SHA-512's output */
#define TSIG_FUDGE	300	/* seconds, in what we sign */
#define TSIG_NAME_MAX	255	/* a name in wire form */

enum tsig_alg {
	TSIG_HMAC_SHA256 = 1,
	TSIG_HMAC_SHA384,
	TSIG_HMAC_SHA512,
	TSIG_HMAC_SHA1,
};

/* TSIG error field values (RFC 8945 4.2, IANA "DNS RCODEs"). */
#define TSIG_ERR_BADSIG		16
#define TSIG_ERR_BADKEY		17
#define TSIG_ERR_BADTIME	18
#define TSIG_ERR_BADTRUNC	22
#define TSIG_RCODE_NOTAUTH	9	/* the RCODE of a TSIG error reply */

struct tsig_key {
	char		name[TSIG_NAME_MAX + 1];	/* presentation, as
							 * written, with a
							 * trailing dot */
	uint8_t		wname[TSIG_NAME_MAX];	/* lowercase wire form */
	size_t		wname_len;
	enum tsig_alg	alg;
	uint8_t		secret[TSIG_SECRET_MAX];
	size_t		secret_len;
};

/* The keys of one file: k[0..n-1], owned by the struct (tsig_keys_free). */
struct tsig_keys {
	struct tsig_key	*k;
	int		 n;
};

/* What verifying a message found. */
enum tsig_result {
	TSIG_OK = 0,	/* signed by a known key, MAC and time good */
	TSIG_NONE,	/* no TSIG record at all */
	TSIG_FORMERR,	/* a TSIG not last in the additional section, two
			 * of them, bad TSIG RDATA, a MAC size no hash has:
			 * reply FORMERR, unsigned */
	TSIG_BADKEY,	/* key name unknown, or not with this algorithm */
	TSIG_BADSIG,	/* the MAC does not verify (or is empty) */
	TSIG_BADTIME,	/* MAC good, time outside time signed +- fudge */
	TSIG_BADTRUNC,	/* MAC good but truncated, which we do not accept */
	TSIG_SERVFAIL,	/* the MAC could not be computed (no memory) */
};

/*
 * One signed exchange: a request, and the message or messages answering
 * it.  Filled by tsig_verify_request (server) or tsig_sign_request
 * (client), then updated by each message signed or verified.  Plain data,
 * nothing to free; it points at the key, which must outlive it.
 */
struct tsig_state {
	const struct tsig_key *key;	/* NULL when the key is unknown */
	uint16_t	 error;		/* TSIG_ERR_* of the request (server),
					 * or of the last reply (client) */
	uint64_t	 time_signed;	/* the request's */
	uint8_t		 mac[TSIG_MAC_MAX];	/* the last MAC: the
						 * request's, then each
						 * message's */
	size_t		 mac_len;
	unsigned	 nmsg;		/* answer messages signed/verified */
	uint8_t		 kname[TSIG_NAME_MAX];	/* the request's key and */
	size_t		 kname_len;		/* algorithm names, lowercase */
	uint8_t		 aname[TSIG_NAME_MAX];	/* wire: a BADKEY reply */
	size_t		 aname_len;		/* echoes them */
};

/*
 * Reads the keys file at path (format above) into out.  Returns 0, or -1
 * with a message ("path:line: what") in err and out empty.  An empty file
 * is not an error (out->n is 0).  On success out->k is allocated (NULL
 * when n is 0); the caller frees it with tsig_keys_free.
 */
int	tsig_keys_load(const char *path, struct tsig_keys *out, char *err,
	    size_t errsize);

/* The same from len bytes of text (the fuzzer's entry); "what" names it. */
int	tsig_keys_parse(const char *text, size_t len, const char *what,
	    struct tsig_keys *out, char *err, size_t errsize);

/* Frees what tsig_keys_load allocated; keys may be NULL; leaves it empty. */
void	tsig_keys_free(struct tsig_keys *keys);

/* The key called name (presentation, trailing dot optional, any case), or
 * NULL. */
const struct tsig_key *tsig_keys_find(const struct tsig_keys *keys,
	    const char *name);

/* "hmac-sha256" and so on; NULL for no such algorithm. */
const char	*tsig_alg_name(enum tsig_alg);

/* "BADSIG" and so on, for logs. */
const char	*tsig_result_name(enum tsig_result);

/*
 * Verifies the request msg (len bytes) against keys at time now (seconds
 * since the epoch).  Fills *st for what answers the request (whatever the
 * result; st->key is set only once the key is known) and, unless the
 * result is TSIG_NONE or TSIG_FORMERR, sets *tsig_off to the offset of
 * the TSIG record: the request without it is msg[0..*tsig_off) with
 * ARCOUNT one less.  Returns a tsig_result; reads nothing past len.
 */
enum tsig_result tsig_verify_request(const struct tsig_keys *keys,
	    const uint8_t *msg, size_t len, int64_t now, struct tsig_state *st,
	    size_t *tsig_off);

/*
 * Signs one message (len bytes in msg, size bytes of room) of the answer
 * to a request that verified (TSIG_OK): the first covers the request's
 * MAC, the message and all TSIG variables; each later one the previous
 * MAC, the message and the timers (RFC 8945 5.3.1).  The message is
 * complete but for the TSIG: its ID is the request's.  Appends the TSIG
 * record and adds one to ARCOUNT.  Returns the new length, or -1 when it
 * does not fit in size, st has no key, or the MAC could not be computed
 * (msg unchanged).
 */
int	tsig_sign_response(struct tsig_state *st, uint8_t *msg, size_t len,
	    size_t size, int64_t now);

/*
 * Turns the reply in msg (len bytes: header and question as the caller
 * built them, the other counts 0) into the error reply for r, a result
 * of tsig_verify_request other than TSIG_OK, TSIG_NONE and
 * TSIG_SERVFAIL: TSIG_FORMERR sets RCODE FORMERR and adds no TSIG;
 * BADKEY and BADSIG set RCODE NOTAUTH and add an unsigned TSIG (MAC size
 * 0) with that error; BADTIME and BADTRUNC set NOTAUTH and add a signed
 * one, BADTIME with the request's Time Signed and our time in Other Data.
 * Returns the new length, or -1 (no room, r not an error of the request,
 * no MAC).
 */
int	tsig_error_response(struct tsig_state *st, enum tsig_result r,
	    uint8_t *msg, size_t len, size_t size, int64_t now);

/*
 * Signs the request msg (len bytes, size of room) with key at time now:
 * appends the TSIG record (Original ID the message's ID) and adds one to
 * ARCOUNT.  Fills *st for verifying the reply.  Returns the new length
 * or -1 (no room, no MAC; msg unchanged).
 */
int	tsig_sign_request(const struct tsig_key *key, uint8_t *msg,
	    size_t len, size_t size, int64_t now, struct tsig_state *st);

/*
 * Verifies a reply to the request st signed: the first reply against the
 * request's MAC, each later one of a stream against the previous reply's
 * MAC with the timers only.  Returns TSIG_OK; TSIG_NONE when the reply
 * is unsigned; TSIG_FORMERR; TSIG_BADKEY when its key or algorithm is not
 * the request's; TSIG_BADSIG; TSIG_BADTIME; TSIG_BADTRUNC; or, when the
 * reply carries a TSIG error (st->error), that error as a result
 * (BADSIG, BADKEY, BADTIME, BADTRUNC: a signed BADTIME reply is verified
 * first, an unsigned BADKEY or BADSIG cannot be).  Anything but TSIG_OK
 * means the reply is not to be trusted.
 */
enum tsig_result tsig_verify_response(struct tsig_state *st,
	    const uint8_t *msg, size_t len, int64_t now);

#endif
