#!/bin/sh
# version.t -- every program's --version and -V: one line on stdout, exit
# 0, naming relaybl's version (VERSION in the Makefile) and the versions of
# ldns, LMDB, libevent and OpenSSL it runs with; and the daemons' start-up
# line in their log, which says the same.  Run on the plain build and,
# with RELAYBL_BIN=build/asan, on the sanitized one.
. "$(dirname "$0")/../lib/tap.sh"

version=$(sed -n 's/^VERSION[ 	]*=[ 	]*//p' "$ROOT/Makefile")
# The libraries as installed here, which the programs load at run time.
libs="ldns $(pkg-config --modversion ldns), LMDB $(pkg-config --modversion lmdb), libevent $(pkg-config --modversion libevent), OpenSSL $(pkg-config --modversion openssl)"
# A pattern for the whole line of program $1.
line() {
	printf '^%s relaybl %s \\(%s\\)$' "$1" "$version" "$libs" |
	    sed 's/\./\\./g'
}

for p in dnsbl/dnsblctl dnsbl/dnsbld dnsbl/dnsblweb prober/proberd; do
	name=${p#*/}
	"$BIN/$p" --version > "$T/out" 2> "$T/err"
	is "$?" 0 "$name --version: exit 0"
	like "$(cat "$T/out")" "$(line "$name")" \
	    "  prints relaybl $version and the libraries"
	is "$(wc -l < "$T/out")" 1 "  on one line"
	is "$(cat "$T/err")" "" "  nothing on stderr"
	"$BIN/$p" -V > "$T/outV" 2>&1
	is "$?" 0 "$name -V: exit 0"
	ok "$(cmp -s "$T/out" "$T/outV"; echo $?)" "  the same line"
	run "$BIN/$p" -c "$T/no-such.conf" --version
	is "$rc" 0 "$name -c MISSING --version: exit 0, no file read"
done

# The daemons log the same line, "starting ...", first thing (dnsbld once
# its configuration is read: [dnsbld] syslog may send it to syslog too).
# Each is stopped early: no store, or no configuration file.
run "$BIN/dnsbl/dnsbld" -c /dev/null -d "$T/nostore" \
    -z "$ROOT/zones/bl.relaybl.example.zone" -l "127.0.0.1:$(freeport)"
is "$rc" 2 "dnsbld without a store: exit 2"
like "$(printf '%s\n' "$out" | head -1)" \
    "^dnsbld: starting $(line dnsbld | sed 's/^^//')" \
    "  after logging its versions first"
for p in dnsbl/dnsblweb prober/proberd; do
	name=${p#*/}
	run "$BIN/$p" -c "$T/no-such.conf"
	is "$rc" 2 "$name without its configuration: exit 2"
	like "$(printf '%s\n' "$out" | head -1)" \
	    "^$name: starting $(line "$name" | sed 's/^^//')" \
	    "  after logging its versions first"
done
done_testing
