#!/bin/sh
# lifecycle.t -- the life of a listing, end to end, with real mail servers
# on a network of the test's own (three namespaces joined by veths, with
# addresses in 10.99.0.0/16 that exist nowhere else):
#
#   relay  10.99.1.2: an open-relay Postfix on port 25; 10.99.1.3 a clean
#          client on the same network
#   bl     10.99.1.1 and 10.99.2.1, routing between the two: proberd and
#          its sink, dnsblweb, and Knot as a secondary of dnsbld
#   recv   10.99.2.2: a receiving Postfix on port 25 with reject_rbl_client,
#          and dnsbld on port 53, named by the namespace's resolv.conf
#
# An operator submits the relay through the API with a token; proberd
# confirms it through the real relay (the relay's Postfix delivers the
# cookie to the sink); dig shows it listed with its TXT; the receiving
# Postfix rejects the relay's mail with that TXT in its 554 and accepts a
# clean client's.  Then the relay is closed, its owner asks for removal on
# the web API, the retest finds it closed, it is delisted, and the
# receiving Postfix takes its mail again.  Knot follows each step within
# seconds of dnsbld's NOTIFY, by IXFR (the differences from the store's
# journal; Knot's log says so).  Every namespace and every process in them
# is removed at exit, passed, failed or interrupted.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/../lib/secondary.sh"
. "$(dirname "$0")/../lib/postfix.sh"
. "$(dirname "$0")/../lib/prober.sh"

if [ "$(id -u)" != 0 ] || ! command -v postfix >/dev/null ||
    ! command -v knotd >/dev/null || ! command -v swaks >/dev/null ||
    ! ip netns list >/dev/null 2>&1; then
	echo "1..0 # SKIP needs root, ip netns, postfix, knotd and swaks"
	exit 0
fi

DNSBLD=$BIN/dnsbl/dnsbld
PROBERD=$BIN/prober/proberd
DNSBLWEB=$BIN/dnsbl/dnsblweb
S=$T/store
ZONE=bl.test
TOKEN=0123456789abcdef0123456789abcdef
ctl() { "$DNSBLCTL" -d "$S" "$@"; }
tap_cleanup() { pf_stop_all; netns_cleanup; }

NS_RELAY=relaybl$$-relay NS_BL=relaybl$$-bl NS_RECV=relaybl$$-recv
RELAY=10.99.1.2		# the open relay, the address that gets listed
CLEAN=10.99.1.3		# a client of the same network, never listed
BL1=10.99.1.1		# proberd's side: the sink, dnsblweb
BL2=10.99.2.1		# Knot's side
RECV=10.99.2.2		# the receiving Postfix and dnsbld
RNAME=2.1.99.10.$ZONE	# the relay's name in the zone
U=http://$BL1:8080

in_relay() { ip netns exec "$NS_RELAY" "$@"; }
in_bl() { ip netns exec "$NS_BL" "$@"; }
in_recv() { ip netns exec "$NS_RECV" "$@"; }

# --- the network ------------------------------------------------------------
# Root in a container without CAP_SYS_ADMIN cannot make namespaces.
if ! netns_add "$NS_RELAY" 2> "$T/netns.err"; then
	echo "1..0 # SKIP cannot make network namespaces here:" \
	    "$(head -1 "$T/netns.err")"
	exit 0
fi
netns_add "$NS_BL" && netns_add "$NS_RECV" &&
    netns_link "$NS_RELAY" eth0 $RELAY/24 "$NS_BL" eth1 $BL1/24 &&
    ip -n "$NS_RELAY" addr add $CLEAN/24 dev eth0 &&
    netns_link "$NS_RECV" eth0 $RECV/24 "$NS_BL" eth2 $BL2/24 &&
    ip -n "$NS_RELAY" route add default via $BL1 &&
    ip -n "$NS_RECV" route add default via $BL2 &&
    in_bl sysctl -qw net.ipv4.ip_forward=1 &&
    netns_resolver "$NS_RECV" $RECV
ok $? "three namespaces ($NS_RELAY, $NS_BL, $NS_RECV) joined by veths"

# --- 1. the programs, an open relay and a receiving mail server -----------
ctl init >/dev/null
prober_conf "$T/relaybl.conf" "$S" 2525 25 sink_listen=$BL1:2525 \
    allow=10.99.0.0/16 timeout_connect=2 timeout_greeting=5 \
    timeout_command=5 confirm_window=5
printf 'ops %s\n' "$TOKEN" > "$T/tokens"
cat >> "$T/relaybl.conf" <<CONF
[dnsbld]
listen = $RECV:53
zones = $T/zones
txt_template = Listed as an open relay, see $U/lookup?ip=\$
[dns]
allow_transfer = $BL2
notify = $BL2:53
notify_interval = 1
[web]
listen = $BL1:8080
tokens_file = $T/tokens
public_url = $U
CONF
mkdir -p "$T/zones"
cat > "$T/zones/$ZONE.zone" <<EOF
\$ORIGIN $ZONE.
\$TTL 3600
@	IN SOA	ns1.$ZONE. hostmaster.$ZONE. 1 3600 900 604800 300
	IN NS	ns1.$ZONE.
ns1	IN A	$RECV
EOF

chmod 755 "$T"	# the postfix user must reach its data directories
pf_start "$T/pf-relay" $RELAY 25 $BL1 2525 open "$NS_RELAY"
ok $? "an open-relay Postfix on $RELAY:25, mail for probe.test to the sink"
pf_rbl_zone=$ZONE
pf_start "$T/pf-recv" $RECV 25 $BL1 2525 rbl "$NS_RECV"
ok $? "a receiving Postfix on $RECV:25 with reject_rbl_client $ZONE"

daemon_start dnsbld netns_daemon "$NS_RECV" "$DNSBLD" -c "$T/relaybl.conf"
daemon_ready $pid dnsbld
ok $? "dnsbld is up on $RECV:53 in $NS_RECV"
daemon_start proberd netns_daemon "$NS_BL" "$PROBERD" -c "$T/relaybl.conf"
daemon_start web netns_daemon "$NS_BL" "$DNSBLWEB" -c "$T/relaybl.conf"
daemon_ready $pid web
ok $? "proberd and dnsblweb are up in $NS_BL"

knot_secondary "$T/knot" $BL2@53 $RECV@53 $ZONE
daemon_start knot netns_daemon "$NS_BL" knotd -c "$T/knot/knot.conf"

# ask NS NAME TYPE [@SERVER]: dig's status and the records (no TTL) of
# NAME TYPE, asked from NS (of its resolv.conf's server unless SERVER), on
# one line: "NOERROR 2.1.99.10.bl.test. IN A 127.0.0.2".
ask() {
	ip netns exec "$1" dig $4 +time=2 +tries=1 +noall +comments +answer \
	    "$2" "$3" 2>&1 | awk '
	    /status:/ { s = $6; sub(/,$/, "", s); printf "%s", s }
	    /^[^;]/ && NF >= 5 { $2 = ""; printf " %s", $0 }
	    END { print "" }'
}
# at_dnsbld NAME, at_knot NAME: what a mail server reads of NAME (A, TXT).
at_dnsbld() {
	echo "$(ask "$NS_RECV" "$1" A @$RECV) $(ask "$NS_RECV" "$1" TXT @$RECV)"
}
at_knot() {
	echo "$(ask "$NS_BL" "$1" A @$BL2) $(ask "$NS_BL" "$1" TXT @$BL2)"
}
serial() {
	ip netns exec "$1" dig @"$2" +short $ZONE SOA | awk '{ print $3 }'
}
# knot_follows NAME: TAP lines for Knot answering NAME as dnsbld does (and
# dnsbld answering: two silent servers are not alike) within 5 s; it is
# waited for 10 s.
knot_follows() {
	_t0=$(date +%s.%N)
	_i=0
	until _want=$(at_dnsbld "$1") &&
	    [ "$(at_knot "$1")" = "$_want" ] &&
	    echo "$_want" | grep -Eq '^(NOERROR|NXDOMAIN) .*(NOERROR|NXDOMAIN)'
	do
		[ $_i -lt 100 ] || break
		sleep 0.1
		_i=$((_i + 1))
	done
	is "$(at_knot "$1")" "$(at_dnsbld "$1")" "Knot answers $1 as dnsbld"
	_dt=$(awk -v a="$_t0" -v b="$(date +%s.%N)" \
	    'BEGIN { printf "%.1f", b - a }')
	ok "$(awk -v t="$_dt" 'BEGIN { exit !(t < 5) }'; echo $?)" \
	    "  within 5 s of dnsbld ($_dt s)"
}
# step_mark, since_step: Knot's log from here on.
step_mark() { knot_mark=$(wc -l < "$T/knot.err"); }
since_step() { tail -n +$((knot_mark + 1)) "$T/knot.err"; }
# ixfr_check WHAT: Knot's log since step_mark says it took WHAT by an
# incremental transfer (an IXFR answered as such, not in AXFR form).
ixfr_check() {
	like "$(since_step)" "\\[$ZONE\\.\\] IXFR, incoming, remote $RECV@53" \
	    "  Knot asked dnsbld for an IXFR"
	like "$(since_step)" \
	    "\\[$ZONE\\.\\] IXFR, incoming, remote $RECV@53, finished" \
	    "  and took $1 by IXFR"
	unlike "$(since_step)" "AXFR-style|fallback to AXFR|failed to store" \
	    "  not as a whole zone (no AXFR-style IXFR, no fallback to AXFR)"
}

i=0
while [ $i -lt 100 ] &&
    [ "$(serial "$NS_BL" $BL2)" != "$(serial "$NS_RECV" $RECV)" ]; do
	sleep 0.1; i=$((i + 1))
done
s0=$(serial "$NS_RECV" $RECV)
is "$(serial "$NS_BL" $BL2)" "$s0" "Knot has the zone from dnsbld at serial $s0"
like "$(ask "$NS_RECV" $RNAME A)" '^NXDOMAIN' \
    "  $RNAME: NXDOMAIN, through $NS_RECV's resolv.conf"
is "$(at_knot $RNAME)" "$(at_dnsbld $RNAME)" "  Knot says the same"

# mail_from ADDR: mail from that address in the relay's network to a user
# of the receiving Postfix; sets $out (swaks's transcript) and $rc.
mail_from() {
	run in_relay swaks --server $RECV:25 --local-interface "$1" \
	    --helo client.lab.test --from "owner@relay.lab.test" \
	    --to user@rbl.lab.test --timeout 10
}
mail_from $RELAY
like "$out" '^<-  250 .*queued' \
    "before any listing, the receiver takes mail from $RELAY"

# --- 2. submitted with a token, confirmed through the real relay ----------
step_mark
r=$(in_bl curl -s -H "Authorization: Bearer $TOKEN" -X POST \
    -d "{\"addresses\": [\"$RELAY\"]}" "$U/v1/submissions")
is "$(echo "$r" | python3 -c 'import json, sys
print(" ".join(json.load(sys.stdin)["queued"]))' 2>&1)" $RELAY \
    "the operator submits $RELAY on the API: queued"
like "$(ctl history $RELAY)" 'by api:ops: submit' \
    "  audited as the token's operator"
waitfor "$T/proberd.err" "^proberd: $RELAY: submit: " 300
like "$(grep "^proberd: $RELAY: submit: " "$T/proberd.err")" \
    "submit: listed.*delivered by $RELAY" \
    "proberd lists it: the cookie came back from the relay itself"
like "$(grep 'status=sent' "$T/pf-relay/postfix.log")" \
    "relay=$BL1\\[$BL1\\]:2525" "  the relay's Postfix delivered it to the sink"
is "$(in_recv dig +short $RNAME A)" 127.0.0.2 \
    "dig (the receiver's resolver): $RNAME A 127.0.0.2"
txt=$(in_recv dig +short $RNAME TXT | sed 's/^"//; s/"$//')
like "$txt" "$RELAY" "  and its TXT: $txt"
knot_follows $RNAME
ixfr_check "the listing"

# --- 3. the receiving Postfix uses the list ---------------------------------
# ere TEXT: TEXT as a grep -E pattern that matches only itself.
ere() { printf '%s' "$1" | sed 's/[][\.*^$?+(){}|]/\\&/g'; }
mail_from $RELAY
like "$out" "^<\\*\\* 554 .*blocked using $ZONE; $(ere "$txt")\$" \
    "mail from $RELAY: 554 with the TXT (swaks: $(echo "$out" |
    grep -m1 '^<\*\* 5' | cut -c1-40)...)"
ok "$([ "$rc" != 0 ]; echo $?)" "  swaks says it failed"
mail_from $CLEAN
like "$out" '^<-  250 .*queued' "mail from the clean $CLEAN: 250, queued"
is "$rc" 0 "  swaks says it succeeded"
like "$(cat "$T/pf-recv/postfix.log")" \
    "reject: RCPT from [^ ]*\\[$RELAY\\]: 554 .*blocked using $ZONE" \
    "  the receiver's log has the rejection"

# --- 4. closed, removal asked, retested, delisted -------------------------
pf_set "$T/pf-relay" closed
ok $? "the relay is reconfigured closed (postfix reload)"
i=0
while :; do
	run in_bl swaks --server $RELAY:25 --from probe@lab.test \
	    --to someone@probe.test --timeout 5 --quit-after RCPT
	echo "$out" | grep -q '^<\*\* 554 .*Relay access denied' && break
	[ $i -lt 50 ] || break
	sleep 0.1; i=$((i + 1))
done
like "$out" '^<\*\* 554 .*Relay access denied' \
    "  it refuses to relay now (swaks)"
step_mark
r=$(in_relay curl -s -X POST -d "{\"address\": \"$RELAY\"}" \
    "$U/v1/removals")
id=$(echo "$r" | sed -n 's/.*"id": \([0-9]*\).*/\1/p')
like "$id" '^[1-9][0-9]*$' "its owner asks for removal on the web API: id $id"
i=0
while [ -n "$id" ] && [ $i -lt 300 ]; do
	st=$(in_bl curl -s "$U/v1/removals/$id" |
	    sed -n 's/.*"state": "\([^"]*\)".*/\1/p')
	[ "$st" = removed ] && break
	sleep 0.1; i=$((i + 1))
done
is "$st" removed "  the retest finds it closed: removed"
like "$(grep "^proberd: $RELAY: delist: " "$T/proberd.err")" 'delist: clean' \
    "  proberd: delist: clean"
like "$(ctl history $RELAY)" "by web:$RELAY: delist" \
    "  audited as asked from the relay's address"
like "$(ask "$NS_RECV" $RNAME A)" '^NXDOMAIN' "dig: $RNAME NXDOMAIN again"
knot_follows $RNAME
ixfr_check "the delisting"
mail_from $RELAY
like "$out" '^<-  250 .*queued' "the receiver takes mail from $RELAY again"
is "$rc" 0 "  swaks says it succeeded"
done_testing
