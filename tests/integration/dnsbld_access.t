#!/bin/sh
# dnsbld_access.t -- who may ask dnsbld: [dnsbld] access_file, keys_file
# and rrl_rate.  Starts the real dnsbld and asks it with dig from several
# loopback addresses (dig -b 127.0.0.X): answer, refuse, drop and error
# per the access file, over UDP and TCP; key queries answered from a
# refused and an error address, an unknown key given the error answer;
# SIGHUP rereads the files, a bad one keeps the old rules (and is an
# error at start, naming file and line).  Then a second dnsbld with
# rrl_rate: a burst from one /24 gets some responses dropped and some
# truncated (counted by a client of our own), another /24 is untouched,
# and the counts agree with /metrics and SIGUSR1.
. "$(dirname "$0")/../lib/tap.sh"

DNSBLD=$BIN/dnsbl/dnsbld
S=$T/store
KEY=k4d9w2m0c7hq1xz5b8nf3tpv6e
PROM="python3 $ROOT/tests/lib/promtext.py"

cat > "$T/bl.test.zone" <<'EOF'
$ORIGIN bl.test.
$TTL 3600
@ IN SOA ns1.bl.test. hostmaster.bl.test. ( 1 3600 900 604800 600 )
@ IN NS ns1.bl.test.
ns1 IN A 192.0.2.53
EOF
"$DNSBLCTL" -d "$S" init >/dev/null
"$DNSBLCTL" -d "$S" add 1.2.3.4 >/dev/null
cat > "$T/access" <<'EOF'
# who may ask
127.0.0.0/8	answer
127.0.0.2	refuse
127.0.0.3	drop
127.0.0.4/32	error	# a public resolver
127.0.9.0/24	refuse
EOF
cat > "$T/keys" <<EOF
isp-one $KEY
EOF
port=$(freeport)
mport=$(freeport)
cat > "$T/relaybl.conf" <<EOF
[dnsbld]
access_file = $T/access
keys_file = $T/keys
error_text = Not served: see https://bl.test/access
metrics_listen = 127.0.0.1:$mport
EOF
daemon_run main "$DNSBLD" -c "$T/relaybl.conf" -d "$S" -z "$T/bl.test.zone" \
    -l "127.0.0.1:$port"
ok $? "dnsbld with access_file and keys_file starts"
main=$pid
like "$(cat "$T/main.err")" "access: 5 rules, 1 keys, rate limit off" \
    "  and says how many rules and keys"
[ $tap_failed -eq 0 ] || done_testing

# from N ARGS...: dig from 127.0.0.N (N may be a whole address).
from() {
	src=$1; shift
	case $src in *.*) ;; *) src=127.0.0.$src ;; esac
	dig @127.0.0.1 -p $port -b "$src" +norec +time=1 +tries=1 "$@" 2>&1
}
st() { from "$@" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'; }
ans() { from "$@" +short | tr '\n' ' '; }
flags() { from "$@" | sed -n 's/.*flags: \([a-z ]*\);.*/\1/p'; }

is "$(ans 1 4.3.2.1.bl.test A)" "127.0.0.2 " "127.0.0.1 (answer): listed"
is "$(st 5 9.9.9.9.bl.test A)" NXDOMAIN "127.0.0.5 (the /8): NXDOMAIN"
is "$(st 2 4.3.2.1.bl.test A)" REFUSED "127.0.0.2 (refuse): REFUSED"
is "$(flags 2 4.3.2.1.bl.test A)" "qr" "  without AA"
is "$(st 2 +tcp 4.3.2.1.bl.test A)" REFUSED "  over TCP too"
is "$(st 2 bl.test SOA)" REFUSED "  the apex too"
like "$(from 3 4.3.2.1.bl.test A)" "timed out" "127.0.0.3 (drop): no reply"
like "$(from 3 +tcp 4.3.2.1.bl.test A)" \
    "(timed out|connection refused|end of file|reset)" \
    "  over TCP: connection closed, no answer"
is "$(ans 4 4.3.2.1.bl.test A)" "127.255.255.254 " \
    "127.0.0.4 (error): listed address: 127.255.255.254"
is "$(ans 4 9.9.9.9.bl.test A)" "127.255.255.254 " \
    "  unlisted address: the same"
is "$(ans 4 2.0.0.127.bl.test A)" "127.255.255.254 " "  test point: the same"
is "$(ans 4 4.3.2.1.bl.test TXT)" '"Not served: see https://bl.test/access" ' \
    "  TXT: error_text"
is "$(ans 4 +tcp 4.3.2.1.bl.test A)" "127.255.255.254 " "  over TCP too"
is "$(st 4 4.3.2.1.bl.test AAAA)" NOERROR "  AAAA: NODATA"
is "$(ans 4 bl.test NS)" "ns1.bl.test. " "  the apex: answered as usual"
is "$(st 4 example.com A)" REFUSED "  outside the zone: REFUSED"

is "$(ans 2 $KEY.4.3.2.1.bl.test A)" "127.0.0.2 " \
    "refused address with a key: answered"
is "$(ans 4 $KEY.4.3.2.1.bl.test A)" "127.0.0.2 " \
    "error address with a key: answered"
is "$(ans 4 $KEY.2.0.0.127.bl.test A)" "127.0.0.2 " "  test point with a key"
is "$(st 4 $KEY.1.0.0.127.bl.test A)" NXDOMAIN "  127.0.0.1 with a key: NXDOMAIN"
is "$(ans 2 +tcp $KEY.4.3.2.1.bl.test A)" "127.0.0.2 " "  over TCP too"
is "$(ans 1 aaaaaaaaaaaaaaaaaaaaaaaaaa.4.3.2.1.bl.test A)" "127.255.255.254 " \
    "unknown key: the error answer"
like "$(from 3 $KEY.4.3.2.1.bl.test A)" "timed out" \
    "dropped address with a key: still dropped"

# --- SIGHUP: new rules; a bad file keeps them ---
sed 's/^127.0.0.2	refuse/127.0.0.2	answer/' "$T/access" > "$T/access.new"
mv "$T/access.new" "$T/access"
kill -HUP $main
waitfor "$T/main.err" "reloaded 1 zones, 5 access rules, 1 keys" 30
ok $? "SIGHUP: zones, rules and keys reloaded"
is "$(ans 2 4.3.2.1.bl.test A)" "127.0.0.2 " "  127.0.0.2 now answered"
cp "$T/access" "$T/access.good"
printf '127.0.0.2 refuse\n127.0.0.9/8 drop\n' > "$T/access"
kill -HUP $main
waitfor "$T/main.err" "reload failed" 30
ok $? "SIGHUP with a bad access file: reload failed"
like "$(cat "$T/main.err")" "$T/access:2: bad prefix" "  naming file and line"
is "$(ans 2 4.3.2.1.bl.test A)" "127.0.0.2 " "  the old rules kept"
cp "$T/access.good" "$T/access"
printf 'x shortkey\n' > "$T/keys"
kill -HUP $main
waitfor "$T/main.err" "keys:1: bad key" 30
ok $? "SIGHUP with a bad keys file: reload failed, naming the line"
like "$(grep -c 'reload failed' "$T/main.err")" "^2$" "  counted as failed"
is "$(ans 2 +tcp $KEY.4.3.2.1.bl.test A)" "127.0.0.2 " "  the old key kept"
printf 'isp-one %s\n' $KEY > "$T/keys"

curl -s --max-time 5 "http://127.0.0.1:$mport/metrics" > "$T/body"
$PROM < "$T/body" > "$T/samples"
ok $? "metrics: a valid exposition"
m() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }' \
    "$T/samples"; }
# Refused: 4 before the reload (2 UDP, 1 TCP, apex); error answers:
# 6 from .4 below the apex, the unknown key; keys: 7, 1 unknown; drops:
# UDP 2, TCP 1 (at accept).
is "$(m relaybl_dns_access_refused_total)" 4 "  access_refused_total 4"
is "$(m relaybl_dns_error_answers_total)" 7 "  error_answers_total 7"
is "$(m 'relaybl_dns_key_queries_total{result="known"}')" 6 "  key queries known 6"
is "$(m 'relaybl_dns_key_queries_total{result="unknown"}')" 1 "  unknown 1"
is "$(m 'relaybl_dns_dropped_total{reason="access"}')" 3 "  dropped by access 3"
is "$(m relaybl_dns_access_rules)" 5 "  5 rules"
is "$(m relaybl_dns_keys)" 1 "  1 key"
is "$(m 'relaybl_dns_zone_reloads_total{result="failed"}')" 2 "  2 failed reloads"
kill -USR1 $main
waitfor "$T/main.err" "access: refused 4, dropped 3, error answers 7; key queries 7 \(unknown key 1\)" 30
ok $? "SIGUSR1: the access counters"
daemon_stop $main
is $? 0 "SIGTERM: exit 0"

# --- bad files at start: exit 2, naming file and line ---
printf '127.0.0.1 answer\n127.0.0.0/8 allow\n' > "$T/bad"
for k in access_file keys_file; do
	printf '[dnsbld]\n%s = %s\n' $k "$T/bad" > "$T/bad.conf"
	run "$DNSBLD" -c "$T/bad.conf" -d "$S" -z "$T/bl.test.zone" \
	    -l "127.0.0.1:$(freeport)"
	is $rc 2 "a bad $k: exit 2"
	like "$out" "$T/bad:[12]: " "  naming the file and line"
done
printf '[dnsbld]\naccess_file = %s/none\n' "$T" > "$T/bad.conf"
run "$DNSBLD" -c "$T/bad.conf" -d "$S" -z "$T/bl.test.zone" \
    -l "127.0.0.1:$(freeport)"
is $rc 2 "a missing access_file: exit 2"
like "$out" "access file $T/none: No such file" "  naming it"

# --- response rate limiting ---
port=$(freeport)
mport=$(freeport)
cat > "$T/rrl.conf" <<EOF
[dnsbld]
rrl_rate = 5
rrl_slip = 2
metrics_listen = 127.0.0.1:$mport
EOF
daemon_run rrl "$DNSBLD" -c "$T/rrl.conf" -d "$S" -z "$T/bl.test.zone" \
    -l "127.0.0.1:$port"
ok $? "dnsbld with rrl_rate 5 starts"
rrl=$pid
cat > "$T/burst.py" <<'EOF'
# burst.py SRC PORT N: N queries at once from SRC; counts the replies:
# answered (no TC), truncated (TC, no records), none.
import socket, struct, sys, time
src, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
name = b"\x014\x013\x012\x011\x02bl\x04test\x00"
for i in range(n):
    s.sendto(struct.pack(">HHHHHH", i, 0, 1, 0, 0, 0) + name + b"\0\1\0\1",
             ("127.0.0.1", port))
got = {}
s.settimeout(1.0)
try:
    while len(got) < n:
        r = s.recv(4096)
        qid, fl, qd, an = struct.unpack(">HHHH", r[:8])
        got[qid] = "truncated" if fl & 0x200 and an == 0 else \
            "answered" if an == 1 else "other"
except socket.timeout:
    pass
c = {k: list(got.values()).count(k) for k in ("answered", "truncated", "other")}
print(c["answered"], c["truncated"], n - len(got), c["other"])
EOF
set -- $(python3 "$T/burst.py" 127.0.1.1 $port 40)
echo "# burst of 40 from 127.0.1.1: answered $1, truncated $2, none $3"
ok $([ "$1" -ge 5 ] && [ "$1" -le 10 ]; echo $?) \
    "burst of 40 at rate 5: 5 to 10 answered (one second, or two)"
ok $([ "$2" -ge 14 ] && [ "$3" -ge 14 ]; echo $?) \
    "  the rest about half truncated, half dropped"
is "$(($1 + $2 + $3)):$4" "40:0" "  every query accounted for"
slipped=$2 dropped=$3
is "$(python3 "$T/burst.py" 127.0.2.1 $port 5 | cut -d' ' -f1-3)" "5 0 0" \
    "another /24 meanwhile: all 5 answered"
is "$(dig @127.0.0.1 -p $port +tcp +short 4.3.2.1.bl.test A)" 127.0.0.2 \
    "TCP from the limited /24: answered (never limited)"
curl -s --max-time 5 "http://127.0.0.1:$mport/metrics" > "$T/body"
$PROM < "$T/body" > "$T/samples"
is "$(m 'relaybl_dns_rate_limited_total{action="dropped"}')" $dropped \
    "metrics: rate_limited dropped = the replies missing"
is "$(m 'relaybl_dns_rate_limited_total{action="slipped"}')" $slipped \
    "metrics: rate_limited slipped = the truncated replies"
is "$(m 'relaybl_dns_dropped_total{reason="rate_limited"}')" $dropped \
    "  and in dropped_total{reason=rate_limited}"
kill -USR1 $rrl
waitfor "$T/rrl.err" "rate limited: dropped $dropped, slipped $slipped" 30
ok $? "SIGUSR1: rate limited: dropped $dropped, slipped $slipped"
daemon_stop $rrl
is $? 0 "SIGTERM: exit 0"
done_testing
