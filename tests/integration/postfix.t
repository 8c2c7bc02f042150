#!/bin/sh
# postfix.t -- the prober against real Postfix instances on loopback: an
# open relay is listed through the real relay path (its smtp client
# delivers the cookie to our sink), a closed one and one that accepts and
# discards are not.  Needs root (Postfix instances) and the postfix
# package; skipped otherwise.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/postfix.sh"

if [ "$(id -u)" != 0 ] || ! command -v postfix >/dev/null; then
	echo "1..0 # SKIP needs root and postfix"
	exit 0
fi

PROBERD=$BIN/prober/proberd
S=$T/store
ctl() { "$DNSBLCTL" -d "$S" "$@"; }
tap_cleanup() { pf_stop_all; }

port=$(freeport)
sinkport=$(freeport)
pf_start_all $port $sinkport open:127.0.2.1 closed:127.0.2.2 discard:127.0.2.3

cat > "$T/relaybl.conf" <<CONF
[store]
dir = $S
[prober]
probe_domain = probe.test
sink_listen = 127.0.0.1:$sinkport
smtp_port = $port
allow = 127.0.0.0/8
timeout_connect = 5
timeout_greeting = 10
timeout_command = 10
confirm_window = 8
secret_file = $T/secret
CONF
ctl init >/dev/null
"$DNSBLCTL" -c "$T/relaybl.conf" submit 127.0.2.1 127.0.2.2 127.0.2.3 \
    >/dev/null 2>&1
ok $? "three Postfix instances submitted"
daemon_start proberd "$PROBERD" -c "$T/relaybl.conf"

i=0
while [ $i -lt 120 ]; do
	n=$(grep -o '127\.0\.2\.[0-9]*: submit: ' "$T/proberd.err" |
	    sort -u | wc -l)
	[ "$n" -ge 3 ] && break
	sleep 0.5; i=$((i + 1))
done
outcome() {
	sed -n "s/^proberd: $1: submit: \([a-z]*\).*/\1/p" "$T/proberd.err" |
	    head -1
}
is "$(outcome 127.0.2.1)" listed "open Postfix relay: listed"
run ctl lookup 127.0.2.1
like "$out" "listed 127.0.0.2" "  in the store as a relay (127.0.0.2)"
like "$(grep '127.0.2.1: submit' "$T/proberd.err")" "delivered by 127.0.2.1" \
    "  the cookie came from the relay's own address"
like "$(grep -c 'status=sent' "$T/pf-open/postfix.log")" "^[1-9]" \
    "  Postfix's log shows the relayed delivery"
is "$(outcome 127.0.2.2)" clean "closed Postfix: clean"
run ctl lookup 127.0.2.2
is "$rc" 1 "  not listed"
like "$(outcome 127.0.2.3)" "suspect" \
    "Postfix that accepts and discards: suspect"
run ctl lookup 127.0.2.3
is "$rc" 1 "  not listed (an accepted RCPT alone never lists)"
done_testing
