#!/bin/sh
# axfr.sh -- `make bench-axfr`: a 1,000,000-listing zone from dnsbld into
# Knot as a secondary (issue 12).
#
# Data: N4 (1,000,000) distinct random single IPv4 addresses spread over
# every public /8 (tests/bench/store_bench gen), plus some ranges (/24s,
# /16s, a-b ranges that split into odd prefixes), exclusions inside them
# and a few listings with their own code and text, imported with one
# `dnsblctl import`.  dnsbld serves bl.bench with [dns] allow_transfer =
# 127.0.0.1 and notify = Knot (notify_interval 1 s); knotd (a temporary
# directory; its journal in db/, where it stores each IXFR) is the
# secondary.
#
# Measured:
#  1. the full transfer: from knotd's start until Knot answers the SOA
#     with dnsbld's serial (kdig every 0.1 s), next to the transfer as
#     Knot logs it (seconds, messages, bytes) and as dnsbld logs it;
#     dnsbld's memory meanwhile: VmRSS sampled every 0.1 s (the peak), and
#     VmHWM before and after (RSS includes the store's pages dnsbld maps:
#     RssAnon and RssFile are shown apart at the end of 2).  Targets:
#     <= 10 s; RSS <= 64 MB (the peak over both transfers).
#  2. NCHANGE (1,000) new listings in one commit (one `dnsblctl import`):
#     from the end of the commit until Knot answers the last of them
#     (kdig every 10 ms), then all of them checked (one `dig -f`).
#     Knot asks for an IXFR after dnsbld's NOTIFY (dnsbld checks the
#     serial once a second, notify_interval 1 s), and dnsbld answers it
#     from the store's journal with the differences.  Target: <= 2 s.
#  3. Knot's answer rate for the transferred zone next to dnsbld's: the
#     same dnsperf query file (half listed, half random) for DURATION s
#     each, ROUNDS times alternately, the server's threads pinned to CPU 1
#     and dnsperf to CPU 0 (as tests/bench/dns.sh); queries per second
#     and per CPU-second of the server, medians, and the ratio.
set -e
cd "$(dirname "$0")/../.."
. tests/lib/secondary.sh
N4=${N4:-1000000}
NCHANGE=${NCHANGE:-1000}
NQ=${NQ:-200000}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
SEED=${SEED:-20261128}
OUTSTANDING=${OUTSTANDING:-200}
DNSBLD=${DNSBLD:-dnsbl/dnsbld}	# another build to compare, e.g. an older one
B=$(mktemp -d /tmp/relaybl-benchaxfr.XXXXXX)
chmod 755 "$B"
dpid="" kpid="" npid="" spid=""
cleanup() {
	for p in $spid $npid $kpid $dpid; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	[ -n "$KEEP" ] && echo "kept $B" || rm -rf "$B"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

freeport() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
kb() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
HZ=$(getconf CLK_TCK)
for c in knotd kdig dig dnsperf taskset; do
	command -v $c >/dev/null || { echo "needs $c (make deps)"; exit 1; }
done

echo "== data: $N4 random IPv4 addresses (seed $SEED), ranges, exclusions"
t0=$(now)
# Distinct addresses: a few more generated, duplicates dropped.
build/rel/tests/bench/store_bench gen $SEED $((N4 + N4 / 500 + 100)) 0 |
    awk 'NR == 1 || !seen[$1]++' | head -n $((N4 + 1)) > "$B/list"
# Ranges and exclusions (10/8 and 100.64/10 are not in the random part;
# the others overlap it), own codes and texts: one import, one commit.
awk -v seed=$SEED 'BEGIN { srand(seed)
	for (i = 0; i < 200; i++)
		printf "10.%d.%d.0/24\n", i, int(rand() * 256)
	for (i = 0; i < 200; i++)
		printf "!10.%d.%d.%d\n", i, int(rand() * 256), int(rand() * 256)
	for (i = 0; i < 50; i++)
		printf "%d.%d.%d.0/24\n", int(rand() * 200) + 11,
		    int(rand() * 256), int(rand() * 256)
	for (i = 0; i < 5; i++)
		printf "100.%d.0.0/16\n!100.%d.%d.0/24\n", 64 + i, 64 + i,
		    int(rand() * 256)
	for (i = 0; i < 20; i++)
		printf "10.%d.1.5-37\n", 210 + i
	for (i = 0; i < 100; i++)
		printf "10.250.%d.%d :127.0.0.3:Egress of an open relay, see " \
		    "https://relaybl.example/lookup?ip=$ (case %d)\n",
		    int(i / 250), i % 250 + 1, i
}' >> "$B/list"
dnsbl/dnsblctl -d "$B/store" init > /dev/null
dnsbl/dnsblctl -d "$B/store" import "$B/list" > /dev/null
dnsbl/dnsblctl -d "$B/store" stats > "$B/stats"
echo "   store: $(awk '$1 == "listings" { print $2 }' "$B/stats") listings, \
$(awk '$1 == "exclusions" { print $2 }' "$B/stats") exclusions, \
$(awk '$1 == "store" && $2 == "used" { print $5, $6 }' "$B/stats" | tr -d "()") used, \
built in $(since $t0) s"
# The changes: NCHANGE addresses not in the store (another seed: gen
# ignores its lowest bit).
build/rel/tests/bench/store_bench gen $((SEED + 1000)) $((NCHANGE * 2)) 0 |
    awk 'NR == FNR { have[$1] = 1; next }
	FNR > 1 && !($1 in have) && !seen[$1]++' "$B/list" - |
    head -n $NCHANGE > "$B/changes"
[ "$(wc -l < "$B/changes")" = "$NCHANGE" ]
# Queries: every other one a listed address, the rest random.
head -n $((N4 + 1)) "$B/list" |
    awk -v n=$NQ -v seed=$SEED 'BEGIN { srand(seed) }
    NR > 1 { a[NR - 1] = $1 }
    END {
	for (i = 0; i < n; i++) {
		if (i % 2 == 0) {
			split(a[int(rand() * (NR - 1)) + 1], o, ".")
		} else {
			o[1] = int(rand() * 200) + 11; o[2] = int(rand() * 256)
			o[3] = int(rand() * 256); o[4] = int(rand() * 256)
		}
		printf "%d.%d.%d.%d.bl.bench A\n", o[4], o[3], o[2], o[1]
	}
    }' > "$B/queries"

dport=$(freeport)
kport=$(freeport)
nport=$(freeport)
mkdir -p "$B/zones"
cat > "$B/zones/bl.bench.zone" <<'EOF'
$ORIGIN bl.bench.
$TTL 900
@	IN SOA	ns1.bl.bench. hostmaster.bl.bench. 1 3600 900 604800 900
	IN NS	ns1.bl.bench.
ns1	IN A	192.0.2.53
EOF
cat > "$B/relaybl.conf" <<CONF
[store]
dir = $B/store
[dnsbld]
listen = 127.0.0.1:$dport
zones = $B/zones
[dns]
allow_transfer = 127.0.0.1
notify = 127.0.0.1:$kport, 127.0.0.1:$nport
notify_interval = 1
CONF
# Zone kept in memory: no zone file written or read, no changes stored.
knot_secondary "$B/knot" 127.0.0.1@$kport 127.0.0.1@$dport bl.bench \
    "    zonefile-sync: -1
    zonefile-load: none
    journal-content: none"

nsd_secondary "$B/nsd" 127.0.0.1@$nport 127.0.0.1@$dport bl.bench

"$DNSBLD" -c "$B/relaybl.conf" 2> "$B/dnsbld.err" &
dpid=$!
i=0
until grep -q ready "$B/dnsbld.err"; do
	i=$((i + 1))
	[ $i -le 100 ] || { echo "dnsbld did not start:"; cat "$B/dnsbld.err"
	    exit 1; }
	sleep 0.1
done
serial() { kdig @127.0.0.1 -p "$1" +short +time=1 +retry=0 bl.bench SOA \
    2>/dev/null | awk '{ print $3 }'; }
want=$(serial $dport)
hwm0=$(kb $dpid VmHWM)
rss0=$(kb $dpid VmRSS)
# dnsbld's RSS every 0.1 s: "seconds VmRSS-kB".
( t=0; while kill -0 $dpid 2>/dev/null; do
	echo "$t $(kb $dpid VmRSS)"; sleep 0.1; t=$((t + 1)); done
) > "$B/rss" 2>/dev/null &
spid=$!

# until_serial NAME PORT PID LOG TENTHS: waits for a secondary to have
# serial $want, or fails with its log's tail.
until_serial() {
	i=0
	until [ "$(serial $2)" = "$want" ]; do
		i=$((i + 1))
		if [ $i -gt $5 ] || ! kill -0 $3 2>/dev/null; then
			echo "$1 did not get serial $want:"; tail "$4"
			exit 1
		fi
		sleep 0.1
	done
}

echo "== 1. full transfer: Knot starts empty, dnsbld at serial $want"
t0=$(now)
knotd -c "$B/knot/knot.conf" 2> "$B/knot.err" &
kpid=$!
until_serial Knot $kport $kpid "$B/knot.err" 1200
full=$(since $t0)
hwm1=$(kb $dpid VmHWM)
peak=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$B/rss")
echo "   Knot has serial $want ${full} s after its start"
knotlog() {	# knotlog head|tail: Knot's transfer and refresh lines
	echo "   Knot:   transfer $(grep 'incoming.*finished' "$B/knot.err" |
	    $1 -1 | sed 's/.*finished, //'); refresh $(grep 'zone updated' \
	    "$B/knot.err" | $1 -1 | sed 's/.*zone updated, //; s/, expires.*//')"
}
knotlog head
echo "   dnsbld: $(grep 'AXFR of' "$B/dnsbld.err" | tail -1 |
    sed 's/^dnsbld: //')"
echo "   dnsbld VmRSS before $(mb $rss0), peak sampled $(mb $peak);" \
    "VmHWM before $(mb $hwm0), after $(mb $hwm1)"

# NSD as a second secondary, for part 2 only (started now, so that its
# own first transfer does not share the CPUs with Knot's above).
t0=$(now)
nsd -d -c "$B/nsd/nsd.conf" 2> "$B/nsd.err" &
npid=$!
until_serial NSD $nport $npid "$B/nsd/nsd.log" 1800
echo "   NSD (started after) has serial $want $(since $t0) s after its start"

echo "== 2. $NCHANGE new listings in one commit (IXFR from the journal)"
sleep 2		# past a notify_interval since the first transfer
last=$(tail -1 "$B/changes" | awk -F. '{ print $4 "." $3 "." $2 "." $1 }')
tc=$(now)
dnsbl/dnsblctl -d "$B/store" import "$B/changes" > /dev/null
t0=$(now)
imp=$(awk -v a="$tc" -v b="$t0" 'BEGIN { printf "%.2f", b - a }')
want2=$(serial $dport)
i=0 follow="" nfollow=""
while [ -z "$follow" ] || [ -z "$nfollow" ]; do
	[ -n "$follow" ] || [ "$(kdig @127.0.0.1 -p $kport +short +time=1 \
	    +retry=0 $last.bl.bench A 2>/dev/null)" != 127.0.0.2 ] ||
	    follow=$(since $t0)
	[ -n "$nfollow" ] || [ "$(kdig @127.0.0.1 -p $nport +short +time=1 \
	    +retry=0 $last.bl.bench A 2>/dev/null)" != 127.0.0.2 ] ||
	    nfollow=$(since $t0)
	i=$((i + 1))
	if [ $i -gt 3000 ]; then
		echo "Knot ($follow) or NSD ($nfollow) never answered" \
		    "$last.bl.bench:"; tail "$B/knot.err" "$B/nsd/nsd.log"
		exit 1
	fi
	sleep 0.01
done
awk -F. '{ printf "%s.%s.%s.%s.bl.bench A\n", $4, $3, $2, $1 }' \
    "$B/changes" > "$B/changes.q"
nok=$(dig @127.0.0.1 -p $kport +short +time=2 +tries=1 -f "$B/changes.q" |
    grep -c '^127\.0\.0\.2$' || :)
nnok=$(dig @127.0.0.1 -p $nport +short +time=2 +tries=1 -f "$B/changes.q" |
    grep -c '^127\.0\.0\.2$' || :)
echo "   commit ($imp s import) to serial $want2; Knot answers the last" \
    "new listing ${follow} s after it; $nok of $NCHANGE answered"
echo "   NSD answers it ${nfollow} s after it; $nnok of $NCHANGE answered"
knotlog tail
echo "   NSD:    $(grep "received update to serial $want2" "$B/nsd/nsd.log" |
    tail -1 | sed 's/.*received/received/')"
echo "   dnsbld: $(grep "NOTIFY sent" "$B/dnsbld.err" | tail -1 |
    sed 's/^dnsbld: //')"
echo "   dnsbld: $(grep -E 'IXFR.* of .*serial '"$want2" "$B/dnsbld.err" |
    tail -1 | sed 's/^dnsbld: //')"
hwm2=$(kb $dpid VmHWM)
peak2=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$B/rss")
kill $spid 2>/dev/null; wait $spid 2>/dev/null || :; spid=""
echo "   dnsbld VmHWM after both transfers $(mb $hwm2), peak sampled" \
    "$(mb $peak2); now RssAnon $(mb $(kb $dpid RssAnon)), RssFile" \
    "$(mb $(kb $dpid RssFile)) (the store's map); store file" \
    "$(dnsbl/dnsblctl -d "$B/store" stats | awk '$1 == "store" &&
    $2 == "file" { print $5, $6 }' | tr -d '()')"

echo "== 3. answer rate: Knot (transferred zone) vs dnsbld, server on" \
    "CPU 1, dnsperf on CPU 0"
taskset -a -p -c 1 $dpid > /dev/null
taskset -a -p -c 1 $kpid > /dev/null
# Same answers from both: a listed name, an unlisted one.
l=$(head -1 "$B/queries" | cut -d' ' -f1)
for p in $dport $kport; do
	[ "$(dig @127.0.0.1 -p $p +short "$l" A)" = 127.0.0.2 ] || {
		echo "port $p: listed $l not answered as listed"; exit 1; }
	dig @127.0.0.1 -p $p 9.9.9.9.bl.bench A | grep -q NXDOMAIN || {
		echo "port $p: unlisted 9.9.9.9 not NXDOMAIN"; exit 1; }
done
run() {		# run NAME PID PORT
	c0=$(ticks $2)
	taskset -c 0 dnsperf -s 127.0.0.1 -p $3 -d "$B/queries" \
	    -l $DURATION -q $OUTSTANDING > "$B/perf.out" 2>&1
	c1=$(ticks $2)
	completed=$(awk '/Queries completed:/ { print $3 }' "$B/perf.out")
	lost=$(awk '/Queries lost:/ { print $3 }' "$B/perf.out")
	qps=$(awk '/Queries per second:/ { printf "%d", $4 }' "$B/perf.out")
	cpu=$(echo "scale=3; ($c1 - $c0) / $HZ" | bc)
	qpc=$(echo "$completed / $cpu" | bc)
	printf '   %-7s qps %8d  lost %6d  server CPU %6.2f s  queries/CPU-s %8d\n' \
	    "$1" "$qps" "$lost" "$cpu" "$qpc"
	echo "$1 $qps $lost $qpc" >> "$B/results"
}
for r in $(seq 1 $ROUNDS); do
	run dnsbld $dpid $dport
	run knot $kpid $kport
done
median() {	# median NAME FIELD
	awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$B/results" |
	    sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

ok() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "PASS" : "FAIL" }'; }
rssmax=$peak2
[ "$hwm1" -gt "$rssmax" ] && rssmax=$hwm1
echo "== summary ($N4 listings, $(grep -E 'AXFR of' "$B/dnsbld.err" | head -1 |
    sed 's/.*done, \([0-9]*\) records in \([0-9]*\) messages, \([0-9]*\) bytes.*/\1 records, \2 messages, \3 bytes/'))"
printf '%-44s %8s s  %s (target <= 10 s)\n' \
    "full transfer (Knot start to dnsbld's serial)" "$full" "$(ok $full 10)"
printf '%-44s %8s s  %s (target <= 2 s)\n' \
    "$NCHANGE changes answered by Knot after commit" "$follow" \
    "$(ok $follow 2)"
printf '%-44s %8s s  %s (target <= 2 s)\n' \
    "$NCHANGE changes answered by NSD after commit" "$nfollow" \
    "$(ok $nfollow 2)"
echo "  (Knot 3.2 re-adjusts every node of its zone after an incremental" \
    "update, single-threaded: knot/zone/adjust.c" \
    "zone_adjust_incremental_update; its refresh above is that, the IXFR" \
    "itself took $(grep 'IXFR, incoming.*finished' "$B/knot.err" | tail -1 |
    sed 's/.*finished, //; s/ seconds.*//') s)"
printf '%-44s %8s    %s (target <= 64 MB)\n' \
    "dnsbld RSS during the transfers (max)" "$(mb $rssmax)" \
    "$(ok $rssmax 65536)"
printf '%-44s %8d qps  %8d queries/CPU-s\n' "dnsbld (1 worker, CPU 1)" \
    "$(median dnsbld 2)" "$(median dnsbld 4)"
printf '%-44s %8d qps  %8d queries/CPU-s\n' "Knot (transferred zone, CPU 1)" \
    "$(median knot 2)" "$(median knot 4)"
echo "Knot / dnsbld: qps $(echo "scale=2; $(median knot 2) / $(median dnsbld 2)" |
    bc), queries/CPU-s $(echo "scale=2; $(median knot 4) / $(median dnsbld 4)" |
    bc) (medians of $ROUNDS runs of ${DURATION}s)"
verdict=PASS
for v in "$(ok $full 10)" "$(ok $follow 2)" "$(ok $rssmax 65536)"; do
	[ "$v" = PASS ] || verdict=FAIL
done
echo "verdict: $verdict (full transfer <= 10 s, changes <= 2 s, RSS <= 64 MB)"
[ $verdict = PASS ]
