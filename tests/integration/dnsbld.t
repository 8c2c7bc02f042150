#!/bin/sh
# dnsbld.t -- starts the real dnsbld on free ports over a store made by
# dnsblctl and checks its answers with dig and kdig: listings, test points,
# negative answers, empty non-terminals, apex, EDNS, TCP (pipelining, idle
# timeout, cap), IPv6 listener, live updates, bad packets, signals.
. "$(dirname "$0")/../lib/tap.sh"

DNSBLD=$BIN/dnsbl/dnsbld
S=$T/store
ctl() { "$DNSBLCTL" -d "$S" "$@" >/dev/null 2>&1; }
# start NAME ARGS...: starts dnsbld, waits for "ready"; sets $pid.
start() {
	name=$1; shift
	daemon_run "$name" "$DNSBLD" "$@"
}

cat > "$T/bl.test.zone" <<'EOF'
$ORIGIN bl.test.
$TTL 3600
@ IN SOA ns1.bl.test. hostmaster.bl.test. ( 1 3600 900 604800 600 )
@ IN NS ns1.bl.test.
ns1 IN A 192.0.2.53
@ IN A 192.0.2.80
@ IN TXT "test list"
@ IN MX 10 mail.example.
EOF
cat > "$T/bl2.test.zone" <<'EOF'
$ORIGIN bl2.test.
@ 300 IN SOA ns1.bl2.test. hostmaster.bl2.test. 7 3600 900 604800 60
@ 300 IN NS ns1.bl2.test.
EOF
cat > "$T/relaybl.conf" <<'EOF'
[dnsbld]
ttl = 1800
txt_template = Listed, see https://bl.test/lookup?ip=$
test_codes = 2, 3
tcp_idle_timeout = 2
tcp_max_connections = 8
EOF
"$DNSBLCTL" -d "$S" init >/dev/null
port=$(freeport)
have6=0
ip -6 addr show lo 2>/dev/null | grep -q '::1' && have6=1
listen6=""
[ $have6 = 1 ] && listen6="-l [::1]:$port"
start main -c "$T/relaybl.conf" -d "$S" -z "$T/bl.test.zone" \
    -z "$T/bl2.test.zone" -l "127.0.0.1:$port" $listen6
ok $? "dnsbld starts and says it is ready"
if [ $tap_failed -ne 0 ]; then
	echo "# dnsbld did not become ready; every other test needs it"
	done_testing
fi

D="dig @127.0.0.1 -p $port +norec +time=2 +tries=1"
q() { $D "$@" 2>&1; }
st() { q "$@" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'; }
ans() { q +noall +answer "$@" | tr -s "\t " "  "; }
auth() { q +noall +authority "$@" | tr -s "\t " "  "; }
serial() { "$DNSBLCTL" -d "$S" stats | awk '$1 == "serial" { print $2 }'; }

# --- RFC 5782 test points hold with an empty store ---
is "$(ans 2.0.0.127.bl.test A)" "2.0.0.127.bl.test. 1800 IN A 127.0.0.2" \
    "empty store: test point 127.0.0.2 listed"
like "$(ans 2.0.0.127.bl.test TXT)" '^2\.0\.0\.127\.bl\.test\. 1800 IN TXT "' \
    "  with a TXT"
is "$(ans 3.0.0.127.bl.test A | cut -d" " -f5)" 127.0.0.3 \
    "empty store: test point 127.0.0.3 (test_codes)"
is "$(st 1.0.0.127.bl.test A)" NXDOMAIN "empty store: 127.0.0.1 not listed"
is "$(st 0.0.127.bl.test A)" NOERROR "  0.0.127, above the test points: NODATA"

# --- listings ---
ctl add 1.2.3.4 -r 127.0.0.3
is "$(st 4.3.2.1.bl.test A)" NOERROR "listed: NOERROR"
out=$(q 4.3.2.1.bl.test A)
like "$out" "flags: qr aa;" "AA set, RA clear"
out=$(dig @127.0.0.1 -p $port +time=2 +tries=1 4.3.2.1.bl.test A 2>&1)
like "$out" "flags: qr aa rd;" "plain query (RD set): AA, RD copied, RA clear"
like "$out" "status: NOERROR" "  NOERROR"
like "$out" "^4\.3\.2\.1\.bl\.test\.[[:space:]]+1800[[:space:]]+IN[[:space:]]+A[[:space:]]+127\.0\.0\.3$" \
    "  the same answer"
is "$(ans 4.3.2.1.bl.test A)" "4.3.2.1.bl.test. 1800 IN A 127.0.0.3" \
    "A is the listing's code, TTL from the config"
is "$(ans 4.3.2.1.bl.test TXT)" \
    '4.3.2.1.bl.test. 1800 IN TXT "Listed, see https://bl.test/lookup?ip=1.2.3.4"' \
    "TXT from the template with \$ replaced"
ctl add 198.51.100.0/24 -t 'own text for $'
is "$(ans 77.100.51.198.bl.test A)" \
    "77.100.51.198.bl.test. 1800 IN A 127.0.0.2" "inside a listed /24"
is "$(ans 77.100.51.198.bl.test TXT)" \
    '77.100.51.198.bl.test. 1800 IN TXT "own text for 198.51.100.77"' \
    "the listing's own text"
ctl exclude 198.51.100.7
is "$(st 7.100.51.198.bl.test A)" NXDOMAIN "exclusion wins"
is "$(ans 4.3.2.1.BL.TeSt A | cut -d" " -f1)" "4.3.2.1.BL.TeSt." "case preserved"

# --- negative answers ---
is "$(st 5.3.2.1.bl.test A)" NXDOMAIN "unlisted: NXDOMAIN"
is "$(auth 5.3.2.1.bl.test A)" \
    "bl.test. 600 IN SOA ns1.bl.test. hostmaster.bl.test. $(serial) 3600 900 604800 600" \
    "SOA in authority: TTL min(3600, 600), serial = store serial"
is "$(st 4.3.2.1.bl.test AAAA)" NOERROR "listed name, other type: NOERROR"
is "$(ans 4.3.2.1.bl.test AAAA)" "" "  with an empty answer"
like "$(auth 4.3.2.1.bl.test MX)" "SOA" "  and the SOA (NODATA)"
for ent in 3.2.1 2.1 1; do
	is "$(st $ent.bl.test A)" NOERROR "empty non-terminal $ent: NODATA"
	is "$(ans $ent.bl.test A)" "" "  empty answer"
	like "$(auth $ent.bl.test A)" "^bl\.test\. 600 IN SOA ns1\.bl\.test\. " \
	    "  SOA in authority"
done
is "$(st 9.9.9.bl.test A)" NXDOMAIN "nothing under 9.9.9: NXDOMAIN"
is "$(st 5.4.3.2.1.bl.test A)" NXDOMAIN "below a listed name: NXDOMAIN"
is "$(st example.com A)" REFUSED "outside every zone: REFUSED"

# --- test points ---
is "$(ans 2.0.0.127.bl.test A | cut -d" " -f5)" 127.0.0.2 "test point 127.0.0.2"
like "$(ans 2.0.0.127.bl.test TXT)" "TXT" "  with a TXT"
is "$(ans 3.0.0.127.bl.test A | cut -d" " -f5)" 127.0.0.3 "test point per code"
run "$DNSBLCTL" -d "$S" add 127.0.0.1
is "$rc" 2 "dnsblctl refuses to list 127.0.0.1"
is "$(st 1.0.0.127.bl.test A)" NXDOMAIN "127.0.0.1 never listed"
ctl add 127.0.0.3 -r 127.0.0.5
ctl exclude 127.0.0.2
is "$(ans 3.0.0.127.bl.test A | cut -d" " -f5)" 127.0.0.3 \
    "test point 127.0.0.3 whatever the data says (listed as .5)"
is "$(ans 2.0.0.127.bl.test A | cut -d" " -f5)" 127.0.0.2 \
    "test point 127.0.0.2 whatever the data says (excluded)"
ctl del 127.0.0.3
ctl unexclude 127.0.0.2
n6() {	# nibble name of an IPv6 address under bl.test
	python3 -c 'import ipaddress, sys
print(".".join(reversed(ipaddress.ip_address(sys.argv[1]).exploded.replace(":", ""))) + ".bl.test")' "$1"
}
is "$(ans "$(n6 ::ffff:7f00:2)" A | cut -d" " -f5)" 127.0.0.2 "::FFFF:7F00:2 listed"
is "$(st "$(n6 ::ffff:7f00:1)" A)" NXDOMAIN "::FFFF:7F00:1 not listed"
ctl add 2001:db8::/32
is "$(ans "$(n6 2001:db8::1)" A | cut -d" " -f5)" 127.0.0.2 "IPv6 listing"
is "$(st "$(n6 2001:db9::1)" A)" NXDOMAIN "IPv6 outside it"

# --- apex, second zone ---
is "$(ans bl.test A)" "bl.test. 3600 IN A 192.0.2.80" "apex A"
is "$(ans bl.test TXT)" 'bl.test. 3600 IN TXT "test list"' "apex TXT"
is "$(ans bl.test MX)" "bl.test. 3600 IN MX 10 mail.example." "apex MX"
is "$(ans bl.test NS)" "bl.test. 3600 IN NS ns1.bl.test." "apex NS"
like "$(q bl.test NS +noall +additional | tr -s '\t ' '  ')" "ns1.bl.test. 3600 IN A 192.0.2.53" \
    "  with glue"
is "$(ans bl.test SOA | cut -d" " -f7)" "$(serial)" \
    "apex SOA serial follows the store"
is "$(st bl.test AAAA)" NOERROR "apex AAAA: NODATA"
is "$(ans bl.test ANY | wc -l)" 1 "apex ANY: one record (RFC 8482)"
is "$(ans 4.3.2.1.bl.test ANY | wc -l)" 1 "listed ANY: one record"
is "$(ans bl2.test SOA | cut -d" " -f7)" "$(serial)" \
    "second zone served from the same store"
is "$(ans 2.0.0.127.bl2.test A | cut -d" " -f5)" 127.0.0.2 "  test point there"

# --- opcodes and EDNS ---
is "$(st +opcode=2 4.3.2.1.bl.test A)" NOTIMP "opcode STATUS: NOTIMP"
like "$(q +edns=0 4.3.2.1.bl.test A)" "EDNS: version: 0" "OPT echoed"
is "$(st +edns=1 +noednsnegotiation 4.3.2.1.bl.test A)" BADVERS \
    "EDNS version 1: BADVERS"
is "$(ans +ednsopt=65001:abcd 4.3.2.1.bl.test A | cut -d" " -f5)" 127.0.0.3 \
    "unknown EDNS option ignored"
is "$(ans +nsid 4.3.2.1.bl.test A | cut -d" " -f5)" 127.0.0.3 "NSID ignored"
out=$(q +noedns 4.3.2.1.bl.test A)
ok "$(printf '%s\n' "$out" | grep -c 'EDNS:')" "no OPT without EDNS"
ctl add 192.0.2.250 -t "$(head -c 250 /dev/zero | tr '\0' x)"
size=$(q +noedns 250.2.0.192.bl.test TXT | sed -n 's/.*MSG SIZE  rcvd: //p')
ok $([ "${size:-9999}" -le 512 ]; echo $?) "no EDNS: reply within 512 ($size)"

# --- TCP ---
is "$(ans +tcp 4.3.2.1.bl.test A | cut -d" " -f5)" 127.0.0.3 "TCP answer"
is "$(ans +tcp 4.3.2.1.bl.test TXT)" \
    '4.3.2.1.bl.test. 1800 IN TXT "Listed, see https://bl.test/lookup?ip=1.2.3.4"' \
    "  TXT over TCP"
is "$(st +tcp 5.3.2.1.bl.test A)" NXDOMAIN "  NXDOMAIN over TCP"
like "$(q +tcp 4.3.2.1.bl.test A)" "flags: qr aa;" "  AA over TCP"
out=$(kdig @127.0.0.1 -p $port +tcp +keepopen +noall +answer \
    4.3.2.1.bl.test A 2.0.0.127.bl.test A 77.100.51.198.bl.test A 2>&1)
is "$(printf '%s\n' "$out" | grep -c 'IN[[:space:]]*A')" 3 \
    "three queries on one TCP connection (kdig +keepopen)"
cat > "$T/tcp.py" <<'EOF'
import socket, struct, sys, time
port = int(sys.argv[2])
def query(name):
    q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0)
    for l in name.split("."):
        q += bytes([len(l)]) + l.encode()
    return q + b"\0\0\1\0\1"
if sys.argv[1] == "pipeline":
    s = socket.create_connection(("127.0.0.1", port))
    msgs = b"".join(struct.pack(">H", len(m)) + m for m in
        [query("4.3.2.1.bl.test"), query("2.0.0.127.bl.test"),
         query("9.9.9.9.bl.test")])
    s.sendall(msgs)          # all at once: pipelined
    got = b""
    s.settimeout(2)
    while True:
        try:
            d = s.recv(4096)
        except socket.timeout:
            break
        if not d:
            break
        got += d
        n, off = 0, 0
        while off + 2 <= len(got):
            off += 2 + struct.unpack(">H", got[off:off + 2])[0]; n += 1
        if n >= 3 and off == len(got):
            break
    print(n)
elif sys.argv[1] == "idle":
    s = socket.create_connection(("127.0.0.1", port))
    t = time.time(); s.settimeout(6)
    try:
        d = s.recv(10)
    except socket.timeout:
        d = b"timeout"
    print("closed" if d == b"" else "open", round(time.time() - t))
elif sys.argv[1] == "oversize":
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"\xff\xff" + b"junk" * 100)
    s.settimeout(3)
    try:
        print("closed" if s.recv(10) == b"" else "answered")
    except (socket.timeout, ConnectionResetError):
        print("closed")
elif sys.argv[1] == "many":
    conns = [socket.create_connection(("127.0.0.1", port)) for i in range(20)]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(1)
    t = time.time()
    u.sendto(query("4.3.2.1.bl.test"), ("127.0.0.1", port))
    try:
        u.recv(512); print("answered", round(time.time() - t, 2))
    except socket.timeout:
        print("no answer")
EOF
is "$(python3 "$T/tcp.py" pipeline $port)" 3 "pipelined queries all answered"
like "$(python3 "$T/tcp.py" idle $port)" "^closed [1-4]$" \
    "idle TCP connection closed after the idle timeout"
is "$(python3 "$T/tcp.py" oversize $port)" closed \
    "oversized length prefix: connection closed"
is "$(ans 4.3.2.1.bl.test A | cut -d" " -f5)" 127.0.0.3 \
    "  and UDP answered right after"
like "$(python3 "$T/tcp.py" many $port)" "^answered" \
    "20 idle TCP connections (cap 8): UDP still answered"

# --- IPv6 listener ---
if [ $have6 = 1 ]; then
	is "$(dig @::1 -p $port +norec +short 4.3.2.1.bl.test A)" 127.0.0.3 \
	    "IPv6 listener (UDP)"
	is "$(dig @::1 -p $port +norec +short +tcp 4.3.2.1.bl.test A)" \
	    127.0.0.3 "IPv6 listener (TCP)"
else
	echo "ok $((tap_n + 1)) # SKIP no ::1"; tap_n=$((tap_n + 1))
fi

# --- live updates: the very next query ---
ctl add 203.0.113.9
is "$(st 9.113.0.203.bl.test A)" NOERROR "added: listed on the next query"
ctl del 203.0.113.9
is "$(st 9.113.0.203.bl.test A)" NXDOMAIN "deleted: gone on the next query"

# --- bad packets over UDP ---
cat > "$T/bad.py" <<'EOF'
import socket, struct, sys
port = int(sys.argv[1])
hdr = lambda qd: struct.pack(">HHHHHH", 0x4242, 0x0100, qd, 0, 0, 0)
name = b"\x01a\x02bl\x04test\x00"
cases = {
    "short": b"\x42\x42\x01\x00\x00",
    "qdcount2": hdr(2) + name + b"\0\1\0\1" + name + b"\0\1\0\1",
    "pointer-loop": hdr(1) + b"\xc0\x0c\0\1\0\1",
    "label-past-end": hdr(1) + b"\x3fabc",
    "long-name": hdr(1) + (b"\x3f" + b"y" * 63) * 5 + b"\0\0\1\0\1",
    "response": struct.pack(">HHHHHH", 1, 0x8100, 1, 0, 0, 0) + name + b"\0\1\0\1",
}
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(0.5)
for k, v in cases.items():
    u.sendto(v, ("127.0.0.1", port))
    try:
        r = u.recv(4096)
        print(k, "rcode", r[3] & 15, "size", len(r))
    except socket.timeout:
        print(k, "dropped")
EOF
out=$(python3 "$T/bad.py" $port)
like "$out" "^short dropped" "5-byte packet dropped"
like "$out" "qdcount2 rcode 1 size 12" "QDCOUNT 2: FORMERR, header only"
like "$out" "pointer-loop rcode 1 size 12" "pointer loop: FORMERR"
like "$out" "label-past-end rcode 1 size 12" "label past the end: FORMERR"
like "$out" "long-name rcode 1 size 12" "name over 255 bytes: FORMERR"
like "$out" "response dropped" "a response is not answered"
ok $(kill -0 $pid; echo $?) "still running after bad packets"
is "$(ans 4.3.2.1.bl.test A | cut -d" " -f5)" 127.0.0.3 "  and still answering"

# --- signals ---
kill -USR1 $pid
sleep 0.3
like "$(cat "$T/main.err")" "queries [0-9]+ .*NOERROR [0-9]+ .*NXDOMAIN [0-9]+" \
    "SIGUSR1: counters by type and rcode"
like "$(cat "$T/main.err")" "listed [0-9]+, tcp connections [0-9]+ .*truncated [0-9]+, dropped [1-9]" \
    "  listed, TCP, truncated, dropped"
sed -i 's/"test list"/"test list 2"/' "$T/bl.test.zone"
kill -HUP $pid
i=0
while [ $i -lt 20 ] && ! ans bl.test TXT | grep -q 'test list 2'; do
	sleep 0.1; i=$((i + 1))
done
like "$(ans bl.test TXT)" '"test list 2"' "SIGHUP rereads the zone files"
echo '@ IN A not-an-address' >> "$T/bl.test.zone"
kill -HUP $pid
sleep 0.3
like "$(ans bl.test TXT)" '"test list 2"' "a bad zone file on reload: old zones kept"
like "$(cat "$T/main.err")" "reload failed" "  and said so"
kill -TERM $pid
i=0
while [ $i -lt 20 ] && ! daemon_gone $pid; do sleep 0.1; i=$((i + 1)); done
daemon_gone $pid
ok $? "SIGTERM: exits within 2 s"
daemon_gone $pid || kill -KILL $pid 2>/dev/null
daemon_wait $pid
is $? 0 "SIGTERM: clean exit 0"

# --- start-up errors, workers ---
run timeout 5 "$DNSBLD" -d "$S" -z /nonexistent.zone -l 127.0.0.1:$port
ok $([ $rc -ne 0 ] && [ $rc -ne 124 ]; echo $?) "missing zone file: exits non-zero"
like "$out" "nonexistent.zone" "  naming the file"
run timeout 5 "$DNSBLD" -d "$T/nostore" -z "$T/bl2.test.zone" -l 127.0.0.1:$port
ok $([ $rc -eq 2 ]; echo $?) "missing store: exit 2"
port2=$(freeport)
start w2 -d "$S" -z "$T/bl2.test.zone" -l "127.0.0.1:$port2" -w 2
ok $? "-w 2 starts"
is "$(dig @127.0.0.1 -p $port2 +short 4.3.2.1.bl2.test A)" 127.0.0.3 \
    "-w 2 answers"
like "$(cat "$T/w2.err")" "2 workers" "  with two workers"

# --- -u: drop privileges after binding ---
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	port3=$(freeport)
	start u -d "$S" -z "$T/bl2.test.zone" -l "127.0.0.1:$port3" -u nobody
	ok $? "-u nobody starts"
	is "$(awk '/^Uid:/ { print $2 }' /proc/$pid/status)" \
	    "$(id -u nobody)" "  runs as nobody"
	is "$(dig @127.0.0.1 -p $port3 +short 4.3.2.1.bl2.test A)" 127.0.0.3 \
	    "  and answers from the store"
	ctl add 203.0.113.10
	is "$(dig @127.0.0.1 -p $port3 +short 10.113.0.203.bl2.test A)" \
	    127.0.0.2 "  and sees new listings"
else
	echo "ok $((tap_n + 1)) # SKIP not root"; tap_n=$((tap_n + 1))
fi

done_testing
