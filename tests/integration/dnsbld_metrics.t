#!/bin/sh
# dnsbld_metrics.t -- dnsbld's [dnsbld] metrics_listen: starts the real
# dnsbld with a metrics server on a free port, sends it known queries
# (dig over UDP and TCP, hand-made bad packets, idle TCP connections past
# the cap), scrapes /metrics with curl and checks that every counter moved
# by exactly what was sent, that the body is valid Prometheus text format
# 0.0.4 (tests/lib/promtext.py), the answers to other paths and methods,
# and that a bad metrics_listen stops dnsbld at start-up naming the key.
. "$(dirname "$0")/../lib/tap.sh"

DNSBLD=$BIN/dnsbl/dnsbld
PROM="python3 $ROOT/tests/lib/promtext.py"
S=$T/store
ctl() { "$DNSBLCTL" -d "$S" "$@" >/dev/null 2>&1; }

cat > "$T/bl.test.zone" <<'EOF'
$ORIGIN bl.test.
$TTL 3600
@ IN SOA ns1.bl.test. hostmaster.bl.test. ( 1 3600 900 604800 600 )
@ IN NS ns1.bl.test.
ns1 IN A 192.0.2.53
EOF
port=$(freeport)
mport=$(freeport)
cat > "$T/relaybl.conf" <<EOF
[dnsbld]
tcp_idle_timeout = 2
tcp_max_connections = 4
metrics_listen = 127.0.0.1:$mport
EOF
"$DNSBLCTL" -d "$S" init >/dev/null
ctl add 1.2.3.4 -t "short text"
# 40 addresses of 15 characters: a TXT over 512 bytes.
ctl add 200.200.200.200 -t '$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$'
serial=$("$DNSBLCTL" -d "$S" stats | awk '$1 == "serial" { print $2 }')

daemon_run main "$DNSBLD" -c "$T/relaybl.conf" -d "$S" -z "$T/bl.test.zone" \
    -l "127.0.0.1:$port" -w 1
ok $? "dnsbld with metrics_listen starts and says it is ready"
like "$(cat "$T/main.err")" "metrics on http://127\.0\.0\.1:$mport/metrics" \
    "  and where its metrics are"
[ $tap_failed -eq 0 ] || done_testing

URL=http://127.0.0.1:$mport/metrics
C="curl -s --max-time 5"
# scrape: the body in $T/body, its samples (checked) in $T/samples.
scrape() {
	$C -D "$T/head" -o "$T/body" "$URL" &&
	    $PROM < "$T/body" > "$T/samples" 2> "$T/prom.err"
}
# m 'name{labels}': a sample's value in $T/samples ("absent" if none).
m() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }' \
    "$T/samples"; }

# --- a fresh dnsbld: the format, and every counter at 0 ---
scrape
ok $? "GET /metrics: a valid Prometheus text exposition"
sed 's/^/# /' "$T/prom.err"
like "$(head -1 "$T/head")" "^HTTP/1.1 200" "  200"
like "$(cat "$T/head")" "^Content-Type: text/plain; version=0\.0\.4; charset=utf-8" \
    "  Content-Type text/plain; version=0.0.4; charset=utf-8"
is "$(awk '$2 != 0 { print $1 }' "$T/samples" | tr '\n' ' ')" \
    "relaybl_dns_store_serial relaybl_dns_zone_serial relaybl_dns_zones relaybl_dns_workers " \
    "  fresh: every counter 0 (only the serials, zones and workers are not)"
is "$(m relaybl_dns_store_serial)" "$serial" "  store serial is the store's"
is "$(m relaybl_dns_zone_serial)" "$serial" \
    "  zone serial too (the last commit changed a listing)"
is "$(m relaybl_dns_zones)" 1 "  1 zone"
is "$(m relaybl_dns_workers)" 1 "  1 worker"
for t in A AAAA TXT ANY SOA NS other none; do
	printf '%s\n' "relaybl_dns_queries_total{qtype=\"$t\"}"
done > "$T/want"
is "$(grep '^relaybl_dns_queries_total' "$T/samples" | cut -d' ' -f1)" \
    "$(cat "$T/want")" "  queries_total by qtype: A AAAA TXT ANY SOA NS other none"

# --- known traffic ---
D="dig @127.0.0.1 -p $port +norec +time=2 +tries=1"
st() { $D "$@" 2>&1 | sed -n 's/.*status: \([A-Z]*\).*/\1/p'; }
is "$(st 4.3.2.1.bl.test A)" NOERROR "listed A: NOERROR"
is "$(st 5.5.5.5.bl.test A)" NXDOMAIN "unlisted A: NXDOMAIN"
is "$(st 4.3.2.1.bl.test TXT)" NOERROR "listed TXT: NOERROR"
is "$(st +tcp 4.3.2.1.bl.test A)" NOERROR "listed A over TCP: NOERROR"
is "$(st 4.3.2.1.bl.test AAAA)" NOERROR "listed AAAA: NOERROR (NODATA)"
is "$(st example.com A)" REFUSED "outside the zone: REFUSED"
is "$(st bl.test SOA)" NOERROR "apex SOA: NOERROR"
like "$($D +noedns +ignore 200.200.200.200.bl.test TXT 2>&1)" \
    "flags: qr aa tc;" "a TXT over 512 bytes without EDNS: truncated"

cat > "$T/raw.py" <<'EOF'
import socket, struct, sys, time
port = int(sys.argv[2])
name = b"\x01a\x02bl\x04test\x00"
def tcp():
    return socket.create_connection(("127.0.0.1", port), timeout=5)
if sys.argv[1] == "udp":
    # 5 bytes (dropped), QDCOUNT 2 (FORMERR), 5000 bytes (oversized).
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(0.5)
    qd2 = struct.pack(">HHHHHH", 7, 0x0100, 2, 0, 0, 0) + \
        (name + b"\0\1\0\1") * 2
    for p in (b"\x42\x42\x01\x00\x00", qd2, b"\0" * 5000):
        u.sendto(p, ("127.0.0.1", port))
        try:
            r = u.recv(4096)
            print("rcode", r[3] & 15)
        except socket.timeout:
            print("none")
elif sys.argv[1] == "badlen":
    s = tcp(); s.sendall(b"\x00\x05hello")
    print("closed" if s.recv(10) == b"" else "answered")
elif sys.argv[1] == "hold":
    # One idle connection held while the caller scrapes (it reads a line).
    s = tcp(); print("open", flush=True); sys.stdin.readline()
elif sys.argv[1] == "flood":
    # 5 idle connections at a cap of 4: one evicted, four timed out.
    cs = [tcp() for i in range(5)]
    for c in cs:
        try:
            c.recv(10)
        except ConnectionResetError:
            pass
    print("all closed")
EOF
raw() { python3 "$T/raw.py" "$1" $port; }
is "$(raw udp | tr '\n' ' ')" "none rcode 1 none " \
    "bad UDP: 5 bytes dropped, QDCOUNT 2 FORMERR, 5000 bytes dropped"
is "$(raw badlen)" closed "TCP length prefix 5: connection closed"
is "$(raw flood)" "all closed" "5 idle TCP connections at a cap of 4: all closed"

# One connection held open while scraping: the gauge says 1.
mkfifo "$T/hold.in"
python3 "$T/raw.py" hold $port < "$T/hold.in" > "$T/hold.out" &
holder=$!
exec 3> "$T/hold.in"
waitfor "$T/hold.out" open 50
sleep 0.2
scrape
is "$(m relaybl_dns_tcp_connections_open)" 1 "one TCP connection held: open gauge 1"
echo >&3
exec 3>&-
wait $holder

kill -HUP $pid
waitfor "$T/main.err" "reloaded 1 zones" 30
ctl add 9.9.9.9
# The connections closed by their clients go in the next turn of the loop.
i=0
while [ $i -lt 30 ]; do
	scrape
	[ "$(m relaybl_dns_tcp_connections_open)" = 0 ] && break
	sleep 0.1; i=$((i + 1))
done
ok $? "after the traffic: still a valid exposition"
sed 's/^/# /' "$T/prom.err"

# What was sent: A 4 (UDP listed, unlisted, TCP listed, outside the zone),
# AAAA 1, TXT 2 (listed, truncated), SOA 1, none 2 (5 bytes, QDCOUNT 2).
cat > "$T/want" <<EOF
relaybl_dns_queries_total{qtype="A"} 4
relaybl_dns_queries_total{qtype="AAAA"} 1
relaybl_dns_queries_total{qtype="TXT"} 2
relaybl_dns_queries_total{qtype="ANY"} 0
relaybl_dns_queries_total{qtype="SOA"} 1
relaybl_dns_queries_total{qtype="NS"} 0
relaybl_dns_queries_total{qtype="other"} 0
relaybl_dns_queries_total{qtype="none"} 2
relaybl_dns_responses_total{rcode="NOERROR"} 6
relaybl_dns_responses_total{rcode="FORMERR"} 1
relaybl_dns_responses_total{rcode="SERVFAIL"} 0
relaybl_dns_responses_total{rcode="NXDOMAIN"} 1
relaybl_dns_responses_total{rcode="NOTIMP"} 0
relaybl_dns_responses_total{rcode="REFUSED"} 1
relaybl_dns_responses_total{rcode="BADVERS"} 0
relaybl_dns_listed_answers_total 5
relaybl_dns_truncated_total 1
relaybl_dns_dropped_total{reason="malformed"} 1
relaybl_dns_dropped_total{reason="no_room"} 0
relaybl_dns_dropped_total{reason="oversized"} 1
relaybl_dns_dropped_total{reason="send_failed"} 0
relaybl_dns_dropped_total{reason="bad_length"} 1
relaybl_dns_dropped_total{reason="access"} 0
relaybl_dns_dropped_total{reason="rate_limited"} 0
relaybl_dns_tcp_queries_total 1
relaybl_dns_tcp_connections_total 8
relaybl_dns_tcp_connections_open 0
relaybl_dns_tcp_refused_total 0
relaybl_dns_tcp_evictions_total 1
relaybl_dns_tcp_timeouts_total 4
relaybl_dns_access_refused_total 0
relaybl_dns_error_answers_total 0
relaybl_dns_key_queries_total{result="known"} 0
relaybl_dns_key_queries_total{result="unknown"} 0
relaybl_dns_rate_limited_total{action="dropped"} 0
relaybl_dns_rate_limited_total{action="slipped"} 0
relaybl_dns_access_rules 0
relaybl_dns_keys 0
relaybl_dns_store_serial $((serial + 1))
relaybl_dns_zone_serial $((serial + 1))
relaybl_dns_zones 1
relaybl_dns_zone_reloads_total{result="ok"} 1
relaybl_dns_zone_reloads_total{result="failed"} 0
relaybl_dns_workers 1
relaybl_dns_transfers_total{kind="axfr"} 0
relaybl_dns_transfers_total{kind="ixfr_incremental"} 0
relaybl_dns_transfers_total{kind="ixfr_full"} 0
relaybl_dns_transfers_total{kind="ixfr_up_to_date"} 0
relaybl_dns_transfers_unfinished_total{result="refused"} 0
relaybl_dns_transfers_unfinished_total{result="cut_short"} 0
relaybl_dns_transfers_running 0
relaybl_dns_notify_total{result="sent"} 0
relaybl_dns_notify_total{result="answered"} 0
relaybl_dns_notify_total{result="given_up"} 0
EOF
while read -r k v; do
	is "$(m "$k")" "$v" "$k"
done < "$T/want"
is "$(cut -d' ' -f1 "$T/samples" | sort | tr '\n' ' ')" \
    "$(cut -d' ' -f1 "$T/want" | sort | tr '\n' ' ')" \
    "  and no other sample"

# --- HEAD, other paths, other methods ---
out=$($C -I "$URL")
like "$out" "^HTTP/1.1 200" "HEAD /metrics: 200"
like "$out" "Content-Length: [1-9]" "  with the body's length"
is "$($C --head "$URL" -o /dev/null -w '%{size_download}')" 0 "  and no body"
out=$($C -i "http://127.0.0.1:$mport/other")
like "$out" "^HTTP/1.1 404" "GET /other: 404"
like "$out" "^Content-Type: application/json" "  as JSON"
like "$out" '^\{"error": "not found"\}$' '  {"error": "not found"}'
out=$($C -i -X POST -d x=1 "$URL")
like "$out" "^HTTP/1.1 405" "POST /metrics: 405"
like "$out" "^Allow: GET, HEAD" "  Allow: GET, HEAD"
like "$out" '^\{"error": "method not allowed"\}$' "  as JSON"
like "$($C -i "$URL?x=1")" "^HTTP/1.1 200" "GET /metrics?x=1: 200 (a query is ignored)"

kill -USR1 $pid
waitfor "$T/main.err" "tcp connections 8 \(open 0" 30
like "$(cat "$T/main.err")" "queries 10 \(A 4, AAAA 1, TXT 2, ANY 0, SOA 1, NS 0, other 0, none 2\)" \
    "SIGUSR1 logs the same sums"
kill $pid
daemon_wait $pid
is $? 0 "SIGTERM: exits 0, metrics server and all"

# --- start-up errors ---
for bad in "localhost:9153" "127.0.0.1" "127.0.0.1:0" "::1:9153"; do
	printf '[dnsbld]\nmetrics_listen = %s\n' "$bad" > "$T/bad.conf"
	run timeout 5 "$DNSBLD" -c "$T/bad.conf" -d "$S" -z "$T/bl.test.zone" \
	    -l "127.0.0.1:$port"
	is $rc 2 "metrics_listen = $bad: exit 2"
	like "$out" "\[dnsbld\] metrics_listen: bad address \"$bad\"" \
	    "  naming the key and the value"
done
# A port taken: the bind fails at start-up, also exit 2.
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
print("bound", flush=True); time.sleep(10)' $mport > "$T/taken.out" &
taker=$!
waitfor "$T/taken.out" bound 50
printf '[dnsbld]\nmetrics_listen = 127.0.0.1:%s\n' $mport > "$T/taken.conf"
run timeout 5 "$DNSBLD" -c "$T/taken.conf" -d "$S" -z "$T/bl.test.zone" \
    -l "127.0.0.1:$port"
is $rc 2 "metrics_listen on a port in use: exit 2"
like "$out" "metrics_listen: cannot listen on 127\.0\.0\.1:$mport" "  saying so"
kill $taker 2>/dev/null
wait $taker 2>/dev/null

# No metrics_listen: no metrics server.
printf '[dnsbld]\n' > "$T/none.conf"
daemon_run plain "$DNSBLD" -c "$T/none.conf" -d "$S" -z "$T/bl.test.zone" \
    -l "127.0.0.1:$port"
ok $? "without metrics_listen: starts"
$C -o /dev/null "$URL"
is $? 7 "  and nothing listens for metrics (curl: connection refused)"
daemon_stop $pid

done_testing
