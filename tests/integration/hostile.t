#!/bin/sh
# hostile.t -- dnsbld against the clients RFC 7766 section 6 warns of, each
# small and fast: one that pipelines and never reads (memory stays bounded,
# the connection is closed), clients that half-close with answers queued
# (every connection is reclaimed), tricklers and idlers at the connection
# cap (fresh clients are still served, tricklers are cut off), idle
# timeouts shortened under pressure, an oversized UDP datagram (not
# answered as if whole), and -u without root (an error).
. "$(dirname "$0")/../lib/tap.sh"

DNSBLD=$BIN/dnsbl/dnsbld
S=$T/store
HOSTILE="python3 $ROOT/tests/lib/dns_attacks.py"
# ASan keeps freed memory in quarantine; RSS would measure that instead.
export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=4"

cat > "$T/bl.test.zone" <<'ZONE'
$ORIGIN bl.test.
$TTL 3600
@ IN SOA ns1.bl.test. hostmaster.bl.test. ( 1 3600 900 604800 600 )
@ IN NS ns1.bl.test.
ZONE
cat > "$T/relaybl.conf" <<'CONF'
[dnsbld]
tcp_idle_timeout = 2
tcp_query_timeout = 2
tcp_max_connections = 8
CONF
"$DNSBLCTL" -d "$S" init >/dev/null
"$DNSBLCTL" -d "$S" add 1.2.3.4 >/dev/null
"$DNSBLCTL" -d "$S" add 192.0.2.250 \
    -t "$(head -c 250 /dev/zero | tr '\0' x)" >/dev/null
port=$(freeport)
daemon_run dnsbld "$DNSBLD" -c "$T/relaybl.conf" -d "$S" \
    -z "$T/bl.test.zone" -l "127.0.0.1:$port"
ok $? "dnsbld starts"
export DNSBLD_PID=$pid

# One client pipelines 250-byte TXT answers for 3 s and never reads.
out=$($HOSTILE pipeline $port 3 8)
grown=$(echo "$out" | sed -n 's/.* grown_kb \([0-9-]*\).*/\1/p')
ok $([ "${grown:-999999}" -lt 16384 ]; echo $?) \
    "pipelining without reading: RSS grew ${grown} KB (< 16 MB)"
like "$out" "closed yes" \
    "  and the connection is closed (answers unread within the idle timeout)"

# Twelve clients (cap 8) queue answers, close their side, never read.
out=$($HOSTILE halfclose $port 12 4)
like "$out" "^fresh answered" "half-closed clients: a fresh TCP query is answered"
like "$out" "leaked 0$" "  and every half-closed connection is reclaimed"

# Eight clients at the cap trickle one byte every 0.5 s.
out=$($HOSTILE trickle $port 8 5)
like "$out" "^fresh answered" "8 tricklers at the cap: a fresh TCP query is answered"
first=$(echo "$out" | sed -n 's/.*first_closed \([0-9.]*\)$/\1/p')
ok $(echo "${first:-99} <= 3.5" | bc | grep -q 1; echo $?) \
    "  a trickler is cut off by tcp_query_timeout (${first:-never} s)"

out=$($HOSTILE busy_at_cap $port 8)
like "$out" "^fresh answered" \
    "8 busy clients at the cap: a fresh TCP query is answered"
like "$out" "evicted 1$" "  by evicting the one idle longest"
first=$($HOSTILE pressure $port 7 | sed -n 's/first_closed //p')
ok $(echo "${first:-99} < 1.5" | bc | grep -q 1; echo $?) \
    "7 of 8 slots taken: idle timeout shortened (first closed after $first s, idle 2 s)"

# UDP: the receive buffer holds 4096 bytes.
is "$($HOSTILE udp_big $port 4000)" answered "UDP query padded to 4000 bytes: answered"
is "$($HOSTILE udp_big $port 5000)" "no answer" \
    "UDP datagram of 5000 bytes (truncated on receipt): not answered"
kill -USR1 $pid
sleep 0.3
like "$(cat "$T/dnsbld.err")" "oversized 1\)" "  and counted as oversized"
like "$(cat "$T/dnsbld.err")" "evicted [1-9]" "  evictions counted"

kill $pid
daemon_wait $pid
ok $? "SIGTERM: exits 0 after all that"

# Out of descriptors (cap above the limit): accept evicts to make room.
cat > "$T/many.conf" <<'CONF'
[dnsbld]
tcp_idle_timeout = 30
tcp_max_connections = 1000
CONF
port=$(freeport)
daemon_run many prlimit --nofile=64 "$DNSBLD" -c "$T/many.conf" -d "$S" \
    -z "$T/bl.test.zone" -l "127.0.0.1:$port"
like "$($HOSTILE idle_many $port 100)" "^fresh answered" \
    "100 idle clients, 64 descriptors: a fresh TCP query is answered"
kill -USR1 $pid
sleep 0.3
like "$(cat "$T/many.err")" "refused [1-9][0-9]*, evicted [1-9]" \
    "  accept hit EMFILE and evicted instead"
kill $pid
daemon_wait $pid
ok $? "  and dnsbld exits 0"

# -u without root.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 755 "$T"
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$DNSBLD" -c "$T/relaybl.conf" -d "$S" -z "$T/bl.test.zone" \
	    -l "127.0.0.1:$(freeport)" -u daemon 2>&1)
	rc=$?
	is $rc 2 "-u when not started as root: exit 2"
	like "$out" "not started as root" "  and says so"
else
	echo "ok $((tap_n + 1)) # SKIP not root"; tap_n=$((tap_n + 1))
	echo "ok $((tap_n + 1)) # SKIP not root"; tap_n=$((tap_n + 1))
fi
done_testing
