#!/bin/sh
# dns.sh -- `make bench-dns`: dnsbld against rbldnsd, side by side.
#
# The same 1,000,000 random listed IPv4 addresses are served by rbldnsd
# (dataset ip4tset, its fastest for single addresses; -a, its lighter reply
# mode) and by dnsbld (from a store imported with dnsblctl), on loopback.
# One dnsperf query file, half listed and half not, is sent to each for the
# same time, alternating rbldnsd / dnsbld / dnsbld -w 2, ROUNDS times.  The
# servers run pinned to CPU 1 and dnsperf to CPU 0 (dnsbld -w 2 may use
# both).  Reported per run: queries per second achieved, lost queries, and
# queries per CPU-second of the server process (utime + stime from
# /proc/PID/stat over the run); then medians and the ratios.  A null
# responder (tests/bench/null_responder.c: flips each datagram into a reply
# without reading it) runs too: its queries per CPU-second are the ceiling
# the kernel's loopback UDP path sets for any server here.
set -e
cd "$(dirname "$0")/../.."
N4=${N4:-1000000}
NQ=${NQ:-200000}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
SEED=${SEED:-20261128}
OUTSTANDING=${OUTSTANDING:-200}
DNSBLD=${DNSBLD:-dnsbl/dnsbld}	# another build to compare, e.g. an older one
B=$(mktemp -d /tmp/relaybl-benchdns.XXXXXX)
chmod 755 "$B"
server=""
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	rm -rf "$B"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

freeport() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

echo "== data: $N4 random IPv4 addresses (seed $SEED)"
build/rel/tests/bench/store_bench gen $SEED $N4 0 > "$B/list"
dnsbl/dnsblctl -d "$B/store" init > /dev/null
dnsbl/dnsblctl -d "$B/store" import "$B/list" > /dev/null
{
	echo '$SOA 900 ns1.bl.bench. hostmaster.bl.bench. 1 3600 900 604800 900'
	echo '$NS 3600 ns1.example.'
	cat "$B/list"
	echo '127.0.0.2'	# rbldnsd has no built-in RFC 5782 test point
} > "$B/rbl.list"
cat > "$B/bl.bench.zone" <<'EOF'
$ORIGIN bl.bench.
$TTL 900
@ IN SOA ns1.bl.bench. hostmaster.bl.bench. 1 3600 900 604800 900
@ IN NS ns1.example.
EOF
# Queries: every other one a listed address, the rest random (unlisted
# but for a chance of 1 in 3000).
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
    }' "$B/list" > "$B/queries"
echo "   $(wc -l < "$B/queries") queries, half listed"

start_rbldnsd() {
	port=$(freeport)
	taskset -c 1 rbldnsd -n -q -a -u nobody -r "$B" -w / \
	    -b 127.0.0.1/$port bl.bench:ip4tset:rbl.list 2> "$B/server.err" &
	server=$!
}
start_dnsbld() {	# start_dnsbld WORKERS
	port=$(freeport)
	if [ "$1" = 1 ]; then
		taskset -c 1 $DNSBLD -d "$B/store" -z "$B/bl.bench.zone" \
		    -l 127.0.0.1:$port 2> "$B/server.err" &
	else
		$DNSBLD -d "$B/store" -z "$B/bl.bench.zone" \
		    -l 127.0.0.1:$port -w "$1" 2> "$B/server.err" &
	fi
	server=$!
}
wait_ready() {
	i=0
	until dig @127.0.0.1 -p $port +time=1 +tries=1 +short \
	    2.0.0.127.bl.bench A 2>/dev/null | grep -q 127.0.0.2; do
		i=$((i + 1))
		if [ $i -gt 120 ]; then
			echo "server did not come up:"; cat "$B/server.err"
			exit 1
		fi
		sleep 0.5
	done
	# Same answers from both: one listed, one not.
	l=$(awk 'NR == 1' "$B/queries" | cut -d' ' -f1)
	dig @127.0.0.1 -p $port +short "$l" A | grep -q '^127\.0\.0\.2$' || {
		echo "listed address $l not answered as listed"; exit 1; }
	dig @127.0.0.1 -p $port 9.9.9.9.bl.bench A | grep -q NXDOMAIN || {
		echo "unlisted address not NXDOMAIN"; exit 1; }
}
# run NAME: one dnsperf run against $server on $port; appends a result line.
run() {
	t0=$(ticks $server)
	taskset -c 0 dnsperf -s 127.0.0.1 -p $port -d "$B/queries" \
	    -l $DURATION -q $OUTSTANDING > "$B/perf.out" 2>&1
	t1=$(ticks $server)
	completed=$(awk '/Queries completed:/ { print $3 }' "$B/perf.out")
	lost=$(awk '/Queries lost:/ { print $3 }' "$B/perf.out")
	qps=$(awk '/Queries per second:/ { printf "%d", $4 }' "$B/perf.out")
	cpu=$(echo "scale=3; ($t1 - $t0) / $HZ" | bc)
	qpc=$(echo "$completed / $cpu" | bc)
	printf '%-12s qps %8d  lost %6d  server CPU %6.2f s  queries/CPU-s %8d\n' \
	    "$1" "$qps" "$lost" "$cpu" "$qpc"
	echo "$1 $qps $lost $qpc" >> "$B/results"
}
start_null() {
	port=$(freeport)
	taskset -c 1 build/rel/tests/bench/null_responder $port &
	server=$!
	sleep 0.3
}
stop() {
	kill $server; wait $server 2>/dev/null || true; server=""
}

echo "== rbldnsd: loading takes a while for 1M entries"
for r in $(seq 1 $ROUNDS); do
	echo "-- round $r"
	start_rbldnsd; wait_ready; run rbldnsd; stop
	start_dnsbld 1; wait_ready; run dnsbld; stop
	start_dnsbld 2; wait_ready; run dnsbld-w2; stop
	start_null; run null; stop
done

median() {	# median NAME FIELD
	awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$B/results" |
	    sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
echo "== medians over $ROUNDS rounds of ${DURATION}s"
for s in rbldnsd dnsbld dnsbld-w2 null; do
	printf '%-12s qps %8d  lost %6d  queries/CPU-s %8d\n' "$s" \
	    "$(median $s 2)" "$(median $s 3)" "$(median $s 4)"
done
rq=$(median rbldnsd 4); dq=$(median dnsbld 4)
echo "dnsbld / rbldnsd queries per CPU-second: $(echo "scale=2; $dq / $rq" | bc) (target >= 1.25)"
echo "null responder / rbldnsd queries per CPU-second: $(echo "scale=2; $(median null 4) / $rq" | bc) (the most any server could reach)"
echo "dnsbld lost queries (all runs): $(awk '$1 ~ /^dnsbld/ { s += $3 } END { print s + 0 }' "$B/results") (target 0)"
echo "dnsbld -w 2 qps / rbldnsd qps: $(echo "scale=2; $(median dnsbld-w2 2) / $(median rbldnsd 2)" | bc) (target >= 1)"
