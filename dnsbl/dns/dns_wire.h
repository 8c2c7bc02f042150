/*
 * dns_wire.h -- the DNS wire constants of dnsbl/dns, in one place
 *
 * Types, classes, rcodes, opcodes and header bits come from ldns
 * (LDNS_RR_TYPE_*, LDNS_RR_CLASS_*, LDNS_RCODE_*, LDNS_PACKET_* opcodes,
 * LDNS_*_MASK header bits); what ldns does not name is defined here.
 * Included only by the files of dnsbl/dns: ldns stays inside this folder
 * (answer.h, the folder's face to the server, includes no ldns).
 */
#ifndef RELAYBL_DNS_WIRE_H
#define RELAYBL_DNS_WIRE_H

#include <ldns/ldns.h>

#define DNS_HEADER_LEN		LDNS_HEADER_SIZE	/* 12 */
#define DNS_NAME_MAX		LDNS_MAX_DOMAINLEN	/* 255, wire form */
#define DNS_LABELS_MAX		128	/* 255 bytes hold at most 127 */

/* Name compression (RFC 1035 4.1.4): a label length with both high bits
 * set is a pointer, and DNS_PTR(off) points at offset off. */
#define DNS_LABEL_PTR		0xc0
#define DNS_PTR(off)		(0xc000 | (off))

/* RFC 6891: payloads under 512 mean 512; BADVERS is extended rcode 16,
 * whose upper eight bits (1) go in the OPT record's TTL. */
#define DNS_UDP_MIN		512
#define DNS_EDNS_BADVERS_HI	1
#define DNS_EDNS_DO		0x80	/* in the OPT TTL's third byte */

#endif
