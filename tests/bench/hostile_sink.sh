#!/bin/sh
# hostile_sink.sh -- `make bench-hostile-sink`: proberd's cost while its
# sink is flooded with idle and trickling connections.
#
# proberd (the release build, or RELAYBL_BIN) runs with the sink's default
# limits and timeouts (256 connections, 8 per address, 60 s to the first
# command), against a farm of two open relays on loopback.  Two periods of
# SECONDS each (default 30), side by side:
#   baseline  no flood; an open relay is submitted two seconds in;
#   flood     tests/lib/sink_client.py keeps CONNS (default 2000)
#             connections at the sink from 250 loopback addresses (8
#             each), half idle, half trickling a byte every 2 s of a line
#             that never ends; a connection the sink closes is reopened a
#             second later.  The flood starts 3 s before the period; the
#             other open relay is submitted two seconds in.
# Reported for each: proberd's CPU (utime + stime from /proc/PID/stat over
# the period, as a share of one core), VmRSS at the end and VmHWM, its
# open descriptors, and the relay's outcome (it must be listed).  The
# verdict: flood CPU below 5 %, VmHWM at most 64 MB, the relay listed.
set -e
cd "$(dirname "$0")/../.."
CONNS=${CONNS:-2000}
PERIOD=${SECONDS_PER_PERIOD:-30}
BIN=${RELAYBL_BIN:-.}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
# Room for the flood (its client raises its own limit) and proberd.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
B=$(mktemp -d /tmp/relaybl-benchsink.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || :; done
	for p in $pids; do wait "$p" 2>/dev/null || :; done
	[ -n "$KEEP" ] || rm -rf "$B"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

freeport() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
now() { date +%s.%N; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
farmport=$(freeport)
sinkport=$(freeport)
SINK=127.0.0.1:$sinkport
HZ=$(getconf CLK_TCK)

python3 tests/farm.py $farmport $SINK 127.40.0.1=open 127.40.1.1=open \
    > "$B/farm.out" 2> "$B/farm.log" &
pids="$pids $!"
i=0
until grep -q "farm: ready" "$B/farm.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "farm did not start" >&2; exit 1; }
	sleep 0.1
done
cat > "$B/relaybl.conf" <<CONF
[store]
dir = $B/store
map_size = 64M
[prober]
probe_domain = probe.test
sink_listen = $SINK
smtp_port = $farmport
allow = 127.0.0.0/8
timeout_connect = 10
timeout_greeting = 10
timeout_command = 10
confirm_window = 20
secret_file = $B/secret
CONF
"$BIN/dnsbl/dnsblctl" -c "$B/relaybl.conf" init >/dev/null
"$BIN/prober/proberd" -c "$B/relaybl.conf" 2> "$B/proberd.err" &
ppid=$!
pids="$pids $ppid"
i=0
until grep -q "ready" "$B/proberd.err" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "proberd did not start" >&2; exit 1; }
	sleep 0.1
done

# period NAME ADDR: measures one period, submitting ADDR 2 s in.
period() {
	t0=$(now)
	c0=$(ticks $ppid)
	sleep 2
	"$BIN/dnsbl/dnsblctl" -c "$B/relaybl.conf" submit "$2" >/dev/null
	sleep $((PERIOD / 2 - 2))
	fds=$(ls /proc/$ppid/fd | wc -l)
	sleep $((PERIOD - PERIOD / 2))
	c1=$(ticks $ppid)
	t1=$(now)
	eval "cpu_$1=\$(awk -v c=$((c1 - c0)) -v hz=$HZ -v t0=$t0 -v t1=$t1 \
	    'BEGIN { printf \"%.2f\", 100 * c / hz / (t1 - t0) }')"
	eval "rss_$1=\$(kb $ppid VmRSS)"
	eval "hwm_$1=\$(kb $ppid VmHWM)"
	eval "fds_$1=$fds"
	eval "out_$1=\$(sed -n \"s/^proberd: $2: submit: \\([a-z]*\\).*/\\1/p\" \
	    \"$B/proberd.err\" | head -1)"
}

echo "proberd sink under a flood: $CONNS connections, ${PERIOD} s periods"
period baseline 127.40.0.1
python3 tests/lib/sink_client.py flood $SINK $CONNS 127.41.0 \
    $((PERIOD + 4)) > "$B/flood.out" 2>&1 &
flood=$!
pids="$pids $flood"
sleep 3
period flood 127.40.1.1
wait $flood || :

mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
printf '%-28s %14s %14s\n' "" baseline flood
printf '%-28s %13s%% %13s%%\n' "proberd CPU (one core)" "$cpu_baseline" \
    "$cpu_flood"
printf '%-28s %14s %14s\n' "VmRSS at the end" "$(mb $rss_baseline)" \
    "$(mb $rss_flood)"
printf '%-28s %14s %14s\n' "VmHWM" "$(mb $hwm_baseline)" "$(mb $hwm_flood)"
printf '%-28s %14s %14s\n' "open descriptors (mid-way)" "$fds_baseline" \
    "$fds_flood"
printf '%-28s %14s %14s\n' "open relay submitted" "${out_baseline:-none}" \
    "${out_flood:-none}"
echo "flood client: $(cat "$B/flood.out")"
verdict=PASS
awk -v c="$cpu_flood" 'BEGIN { exit !(c < 5) }' || verdict=FAIL
[ "$hwm_flood" -le 65536 ] || verdict=FAIL
[ "$out_baseline" = listed ] && [ "$out_flood" = listed ] || verdict=FAIL
echo "verdict: $verdict (flood CPU < 5 %, VmHWM <= 64 MB, relay listed)"
[ $verdict = PASS ]
