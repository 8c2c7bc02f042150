#!/bin/sh
# store.sh -- `make bench`: bulk import and lookup speed, store size.
#
# Imports 1,000,000 random IPv4 and 100,000 random IPv6 addresses with
# dnsblctl (parsing included) into a fresh store, then reports import
# seconds, store bytes per listed address (used pages, not file size), and
# lookups per CPU-second on one core for a 50/50 listed/unlisted mix.
# Runs the import RUNS times (default 3) and reports the median.
set -e
cd "$(dirname "$0")/../.."
N4=${N4:-1000000}
N6=${N6:-100000}
Q=${Q:-4000000}
RUNS=${RUNS:-3}
SEED=${SEED:-20261128}
B=$(mktemp -d /tmp/relaybl-bench.XXXXXX)
trap 'rm -rf "$B"' EXIT

build/rel/tests/bench/store_bench gen $SEED $N4 $N6 > "$B/list"
echo "list: $N4 IPv4 + $N6 IPv6 random addresses, $(wc -c < "$B/list") bytes"
times=""
for r in $(seq 1 $RUNS); do
	rm -rf "$B/store"
	dnsbl/dnsblctl -d "$B/store" init > /dev/null
	t0=$(date +%s.%N)
	dnsbl/dnsblctl -d "$B/store" import "$B/list" > /dev/null
	t1=$(date +%s.%N)
	t=$(echo "$t1 - $t0" | bc)
	echo "import run $r: $t s"
	times="$times $t"
done
med=$(printf '%s\n' $times | sort -n | awk '{ a[NR] = $1 }
    END { print a[int((NR + 1) / 2)] }')
n=$(dnsbl/dnsblctl -d "$B/store" stats | awk '$1 == "listings" { print $2 }')
echo "import: median $med s for $n listings: $(echo "$n / $med" | bc) addresses/s (target >= 1000000)"

dnsbl/dnsblctl -d "$B/store" stats > "$B/stats"
psize=$(awk '$1 == "pages" { print $6 }' "$B/stats")
used=$(awk '$1 == "pages" { print $2 }' "$B/stats")
echo "store: $used pages of $psize bytes in use, $(echo "scale=1; $used * $psize / $n" | bc) bytes per listed address (IPv4 and IPv6 together)"

# IPv4 alone: a store of only the IPv4 part, measured the same way.
head -n $((N4 + 1)) "$B/list" > "$B/list4"
rm -rf "$B/store4"
dnsbl/dnsblctl -d "$B/store4" init > /dev/null
dnsbl/dnsblctl -d "$B/store4" import "$B/list4" > /dev/null
dnsbl/dnsblctl -d "$B/store4" stats > "$B/stats4"
used4=$(awk '$1 == "pages" { print $2 }' "$B/stats4")
n4=$(awk '$1 == "listings" { print $2 }' "$B/stats4")
echo "store (IPv4 only): $used4 pages, $(echo "scale=1; $used4 * $psize / $n4" | bc) bytes per listed IPv4 address (target <= 32; rbldnsd: 16 in memory)"

echo "lookups on one core (taskset -c 0), $Q queries, half listed:"
taskset -c 0 build/rel/tests/bench/store_bench lookup "$B/store" $SEED \
    $N4 $N6 $Q
echo "(target >= 2000000 lookups/s on one core)"
