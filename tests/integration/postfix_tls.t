#!/bin/sh
# postfix_tls.t -- the prober against real Postfix as it is deployed:
# an open relay that requires STARTTLS (530 before it) is listed over
# TLS; a closed one that offers STARTTLS is clean; Debian's default relay
# policy (defer_unauth_destination, mynetworks the host's own address)
# defers a prober that comes from its own source_address, twice, so
# clean; an open relay behind postscreen (multi-line greeting after a
# 2 s wait, early talkers rejected) is listed.  Needs root (Postfix
# instances) and the postfix package; skipped otherwise.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/postfix.sh"
. "$(dirname "$0")/../lib/prober.sh"

if [ "$(id -u)" != 0 ] || ! command -v postfix >/dev/null ||
    ! command -v openssl >/dev/null; then
	echo "1..0 # SKIP needs root, postfix and openssl"
	exit 0
fi

PROBERD=$BIN/prober/proberd
S=$T/store
ctl() { "$DNSBLCTL" -d "$S" "$@"; }
SRC=127.0.7.99		# the prober's source_address: not 127.0.0.1
tap_cleanup() { pf_stop_all; }

port=$(freeport)
sinkport=$(freeport)
pf_start_all $port $sinkport starttls-open:127.0.7.1 starttls-closed:127.0.7.2 \
    debian:127.0.7.3 postscreen:127.0.7.4
prober_conf "$T/relaybl.conf" "$S" $sinkport $port source_address=$SRC \
    starttls=auto timeout_connect=5 timeout_greeting=10 timeout_command=10 \
    confirm_window=8 tempfail_retry=2
ctl init >/dev/null
"$DNSBLCTL" -c "$T/relaybl.conf" submit 127.0.7.1 127.0.7.2 127.0.7.3 \
    127.0.7.4 >/dev/null 2>&1
ok $? "four Postfix instances submitted"
daemon_start proberd "$PROBERD" -c "$T/relaybl.conf"
E=$T/proberd.err

# Until each has its outcome (debian: two passes), or 60 s.
i=0
while [ $i -lt 120 ]; do
	n=$(grep -o '127\.0\.7\.[124]: submit: ' "$E" | sort -u | wc -l)
	[ "$n" -ge 3 ] && [ "$(grep -c '127.0.7.3: submit: ' "$E")" -ge 2 ] &&
	    break
	sleep 0.5; i=$((i + 1))
done
outcomes() { prober_outcomes "$1" "$E"; }
ev() { ctl evidence "$1" 2>/dev/null; }

is "$(outcomes 127.0.7.1)" listed \
    "Postfix open over TLS only (530 before STARTTLS): listed"
like "$(ev 127.0.7.1)" "upgraded by STARTTLS: TLSv1\.[23] [A-Z0-9_-]+" \
    "  the evidence says upgraded by STARTTLS"
like "$(grep -c 'status=sent' "$T/pf-starttls-open/postfix.log")" "^[1-9]" \
    "  Postfix's log shows the relayed delivery"
like "$(grep 'TLS connection established from' \
    "$T/pf-starttls-open/postfix.log")" "\[$SRC\]" \
    "  and a TLS connection from the prober"

is "$(outcomes 127.0.7.2)" clean "Postfix closed, STARTTLS offered: clean"
run ctl lookup 127.0.7.2
is "$rc" 1 "  not listed"

is "$(outcomes 127.0.7.3)" "deferred clean" \
    "Debian's default (454 Relay access denied): deferred, then clean"
like "$(grep 'Relay access denied' "$T/pf-debian/postfix.log")" \
    "454 4\.7\.1 .*\[$SRC\]|\[$SRC\].*454 4\.7\.1" \
    "  Postfix deferred the prober at $SRC, not trusted as 127.0.0.1 is"
run ctl lookup 127.0.7.3
is "$rc" 1 "  not listed"

is "$(outcomes 127.0.7.4)" listed "Postfix behind postscreen: listed"
P=$T/pf-postscreen/postfix.log
like "$(grep 'postscreen' "$P")" "PASS NEW \[$SRC\]" \
    "  postscreen let the prober through: it waited for the greeting"
is "$(grep -c PREGREET "$P")" 0 "  and never spoke before it"
run ctl lookup 127.0.7.4
like "$out" "listed 127.0.0.2" "  lookup: listed 127.0.0.2"
done_testing
