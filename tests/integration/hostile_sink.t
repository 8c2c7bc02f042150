#!/bin/sh
# hostile_sink.t -- proberd's sink against those who would abuse it: a
# delivery lists only while its probe waits for it, and once (replays and
# unsolicited cookies list nothing and are audited); multi-hop egress is
# listed only within egress_scope of the probed address, not excluded;
# the sink caps connections (in all, per address), times out each stage
# (greeting, command, DATA) however slowly a client trickles, and rests
# its listener when out of descriptors instead of spinning.  The sink
# listens on an IPv4-mapped IPv6 address, so every peer arrives as
# ::ffff:a.b.c.d and must be judged as a.b.c.d.
. "$(dirname "$0")/../lib/tap.sh"

PROBERD=$BIN/prober/proberd
S=$T/store
CLIENT="python3 $ROOT/tests/lib/sink_client.py"
ctl() { "$DNSBLCTL" -d "$S" "$@"; }
# waitcmd SECONDS COMMAND...: until COMMAND succeeds, every 0.2 s.
waitcmd() {
	n=$(($1 * 5)); shift
	while [ $n -gt 0 ] && ! "$@" >/dev/null 2>&1; do
		sleep 0.2; n=$((n - 1))
	done
}
logged() { grep -q "$1" "$T/proberd.err"; }
outcome() {
	sed -n "s/^proberd: $1: submit: \([a-z]*\).*/\1/p" "$T/proberd.err" |
	    head -1
}
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
sub() { "$DNSBLCTL" -c "$T/relaybl.conf" submit "$@" >/dev/null 2>&1; }

farmport=$(freeport)
sinkport=$(freeport)
SINK=127.0.0.1:$sinkport
daemon_start farm python3 "$ROOT/tests/farm.py" $farmport $SINK \
    127.0.3.1=open 127.0.3.2=multihop,127.0.3.102 \
    127.0.3.3=multihop,127.0.4.3 127.0.3.4=multihop,127.0.3.104 \
    127.0.3.5=open 127.0.3.6=open
farm=$pid
# Two hosts that take every message and deliver none, telling the test
# the cookies of the RCPTs they got, as a submitter reading its own logs.
daemon_start catch1 $CLIENT catch 127.0.6.1 $farmport "$T/catch1"
catch1=$pid
daemon_start catch2 $CLIENT catch 127.0.6.2 $farmport "$T/catch2"
daemon_ready $farm farm "farm: ready" 100
daemon_ready $catch1 catch1 ready 50
daemon_ready $pid catch2 ready 50
ok "$(grep -q "farm: ready" "$T/farm.out" && grep -q ready "$T/catch1.out" &&
    grep -q ready "$T/catch2.out"; echo $?)" "the farm and two catchers are up"

conf() {	# conf EXTRA-LINES...
	cat <<CONF
[store]
dir = $S
[prober]
probe_domain = probe.test
sink_listen = [::ffff:127.0.0.1]:$sinkport
smtp_port = $farmport
allow = 127.0.0.0/8
concurrency = 20
per_net_concurrency = 20
timeout_connect = 2
timeout_greeting = 2
timeout_command = 2
confirm_window = 3
secret_file = $T/secret
CONF
	for l in "$@"; do echo "$l"; done
}
conf "sink_timeout_greeting = 2" "sink_timeout_command = 2" \
    "sink_timeout_data = 3" > "$T/relaybl.conf"
ctl init >/dev/null
ctl exclude 127.0.3.104 -t "a shared outbound gateway" >/dev/null
sub 127.0.3.1 127.0.3.2 127.0.3.3 127.0.3.4 127.0.6.1 127.0.6.2
ok $? "four relays and two catchers submitted"
daemon_start proberd "$PROBERD" -c "$T/relaybl.conf" -v
ppid=$pid

# Replays: the operator delists the open relay by hand as soon as it is
# listed; its cookie, mailed again, lists nothing (within the window and,
# further down, after it).
waitcmd 10 logged "127.0.3.1: submit: listed"
cookie=$(sed -n 's/^farm: 127.0.3.1 delivered \([a-z0-9]*\) .*/\1/p' \
    "$T/farm.err" | head -1)
ctl del 127.0.3.1 -t "manual delist" >/dev/null
run $CLIENT send $SINK 127.0.3.1 "$cookie"
like "$out" "^250" "a replayed cookie is taken (the sink does not tell)"
run ctl lookup 127.0.3.1
is "$rc" 1 "  but lists nothing"
like "$(ctl history 127.0.3.1)" \
    "not listed: replay of a cookie that already confirmed" \
    "  and is in the audit trail as a replay"

# The attack: a cookie read off the submitter's own host, mailed through
# a big provider's smarthost (127.9.9.9) while the probe waits.
waitcmd 10 test -s "$T/catch1"
run $CLIENT send $SINK 127.9.9.9 "$(head -1 "$T/catch1")"
like "$out" "^250" "a cookie mailed through a smarthost is taken"
# A cookie of a probe that ended (suspect) arrives within confirm_window.
waitcmd 15 logged "127.0.6.2: submit: suspect"
run $CLIENT send $SINK 127.0.6.2 "$(head -1 "$T/catch2")"
like "$out" "^250" "a late cookie, after the probe ended, is taken"

for a in 127.0.3.1 127.0.3.2 127.0.3.3 127.0.3.4 127.0.6.1; do
	waitcmd 15 logged "$a: submit: "
done
waitcmd 5 logged "127.0.6.2: submit: listed"
is "$(outcome 127.0.3.1)" listed "open relay: listed (then delisted by hand)"
like "$(grep '127.0.3.1: submit: listed' "$T/proberd.err")" \
    "delivered by 127\.0\.3\.1;" \
    "  delivered by 127.0.3.1, its IPv4 address, not ::ffff:127.0.3.1"
is "$(grep -c '127.0.3.1: submit: listed' "$T/proberd.err")" 1 \
    "  once, however many copies it delivered"
is "$(outcome 127.0.3.2)" listed "multi-hop relay: listed"
like "$(ctl lookup 127.0.3.102)" "listed 127.0.0.3" \
    "  its egress in the same /24 (a mapped peer): listed 127.0.0.3"
is "$(outcome 127.0.3.3)" listed "multi-hop relay, egress in another /24: listed"
run ctl lookup 127.0.4.3
is "$rc" 1 "  its egress outside egress_scope: not listed"
ev=$(ctl lookup 127.0.3.3 | sed -n 's/.*evidence *#\([0-9]*\).*/\1/p')
like "$(ctl evidence "#$ev")" \
    "delivered via 127\.0\.4\.3, outside egress_scope, not listed" \
    "  the evidence says so"
like "$(ctl history 127.0.3.3)" \
    "delivered by 127\.0\.4\.3 \(outside egress_scope, not listed\)" \
    "  and so does the history"
is "$(outcome 127.0.3.4)" listed "multi-hop relay, egress excluded: listed"
run ctl lookup 127.0.3.104
is "$rc" 1 "  its excluded egress: not listed"
ev=$(ctl lookup 127.0.3.4 | sed -n 's/.*evidence *#\([0-9]*\).*/\1/p')
like "$(ctl evidence "#$ev")" "delivered via 127\.0\.3\.104, excluded" \
    "  the evidence says it was excluded"
is "$(outcome 127.0.6.1)" listed \
    "a submitter's host whose cookie came back (via a smarthost): listed"
run ctl lookup 127.9.9.9
is "$rc" 1 "  the smarthost it came through: not listed"
like "$(ctl history 127.0.6.1)" \
    "delivered by 127\.9\.9\.9 \(outside egress_scope, not listed\)" \
    "  and the history names it"
is "$(ctl stats | awk '$1 == "egress" { print $2 }')" 1 \
    "one egress listed in all (127.0.3.102): none for the smarthost, the other /24 or the excluded gateway, in either family"
like "$(grep '127.0.6.2: submit: ' "$T/proberd.err")" "submit: suspect" \
    "the second catcher ended suspect"
like "$(grep '127.0.6.2: submit: ' "$T/proberd.err" | tail -1)" \
    "submit: listed \(form [a-z-]+ delivered by 127\.0\.6\.2" \
    "  then its cookie came within confirm_window: listed"

# confirm_window (3 s) has passed since the open relay's probe ended
# and the first catcher's (both ended before the second catcher's).
sleep 2
run $CLIENT send $SINK 127.0.3.1 "$cookie"
run ctl lookup 127.0.3.1
is "$rc" 1 "replayed after confirm_window: still not listed"
like "$(ctl history 127.0.3.1)" \
    "not listed: no probe waits for this cookie" \
    "  audited as unsolicited"
run $CLIENT send $SINK 127.0.6.7 "$(tail -1 "$T/catch1")"
run ctl lookup 127.0.6.7
is "$rc" 1 "an unsolicited delivery from a third address: nothing listed"
like "$(ctl history 127.0.6.1)" \
    "delivery by 127\.0\.6\.7 not listed: no probe waits" \
    "  audited under the address its cookie names"

# Stages have deadlines, however slowly a client trickles.
$CLIENT trickle $SINK silent > "$T/tr1" &
t1=$!
$CLIENT trickle $SINK line > "$T/tr2" &
t2=$!
$CLIENT trickle $SINK data "$(tail -1 "$T/catch2")" > "$T/tr3" &
t3=$!
wait $t1 $t2 $t3
like "$(cat "$T/tr1")" "^[0-3]\.[0-9] 421" \
    "silent after the greeting: closed by sink_timeout_greeting (2 s)"
like "$(cat "$T/tr2")" "^[0-3]\.[0-9] 421" \
    "a command trickled a byte at a time: closed by sink_timeout_command"
like "$(cat "$T/tr3")" "^[0-4]\.[0-9] 421" \
    "a message trickled a line at a time: closed by sink_timeout_data (3 s)"
kill -TERM $ppid
daemon_wait $ppid
is $? 0 "proberd stops cleanly"

# Caps, with their defaults (256 connections, 8 per address) and
# timeouts long enough that only the caps close anything.
conf > "$T/caps.conf"
daemon_start proberd2 "$PROBERD" -c "$T/caps.conf"
ppid=$pid
daemon_ready $ppid proberd2 ready 50
run $CLIENT hold $SINK 9 9 127.0.9 0.5
is "$out" "greeted 8 refused 1 closed 0 open 8 silent 0" \
    "9 connections from one address: the 9th refused (421)"
$CLIENT hold $SINK 300 8 127.0.8 6 > "$T/hold" &
hold=$!
sleep 1.5
"$DNSBLCTL" -c "$T/caps.conf" submit 127.0.3.5 >/dev/null 2>&1
i=0
while [ $i -lt 20 ] && ! grep -q '127.0.3.5: submit: ' "$T/proberd2.err"; do
	sleep 0.2; i=$((i + 1))
done
like "$(grep '127.0.3.5: submit: ' "$T/proberd2.err")" "submit: listed" \
    "while 300 idle connections crowd the sink, an open relay is listed"
wait $hold
set -- $(cat "$T/hold")
ok "$([ "$2" -eq 300 ] && [ "$6" -ge 44 ] && [ "$8" -le 256 ]; echo $?)" \
    "  of the 300 ($(cat "$T/hold")), at most 256 held open"
kill -TERM $ppid
daemon_wait $ppid

# Out of descriptors: the listener rests instead of spinning.
daemon_start proberd3 daemon_nofile 48 "$PROBERD" -c "$T/caps.conf"
ppid=$pid
daemon_ready $ppid proberd3 ready 50
$CLIENT hold $SINK 80 8 127.0.10 4 > "$T/hold3" &
hold=$!
sleep 1.5
c0=$(cputicks $ppid)
sleep 2
c1=$(cputicks $ppid)
ok "$([ $((c1 - c0)) -le 40 ]; echo $?)" \
    "EMFILE: proberd rests (CPU $((c1 - c0)) ticks in 2 s, not spinning)"
like "$(cat "$T/proberd3.err")" "not accepting for a second" "  and says so"
wait $hold
like "$(cat "$T/hold3")" "silent [1-9]" "  (some connections were not taken)"
"$DNSBLCTL" -c "$T/caps.conf" submit 127.0.3.6 >/dev/null 2>&1
i=0
while [ $i -lt 40 ] && ! grep -q '127.0.3.6: submit: ' "$T/proberd3.err"; do
	sleep 0.2; i=$((i + 1))
done
like "$(grep '127.0.3.6: submit: ' "$T/proberd3.err")" "submit: listed" \
    "  once they are gone, the sink takes deliveries again: listed"
kill -TERM $ppid
daemon_wait $ppid
is $? 0 "proberd stops cleanly"
done_testing
