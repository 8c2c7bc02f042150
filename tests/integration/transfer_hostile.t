#!/bin/sh
# transfer_hostile.t -- secondaries that misbehave cost dnsbld a bounded
# amount: a peer that asks for AXFR and never reads holds one transfer
# thread for transfer_timeout, no more; one that reads a byte now and
# then is cut off as well (the bound is per message, not per write); more
# transfers than max_transfers at once are refused; one that asks and
# hangs up at once frees its thread at once; meanwhile honest queries are
# answered and, once the hostile ones are cut off, honest transfers are
# served again.  The zone is large enough (60,000 names, about 6 MB) that
# it cannot all wait in socket buffers.
. "$(dirname "$0")/../lib/tap.sh"

# Debian's python3 has python3-dnspython; one earlier in PATH may not.
PY=""
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import dns.message' 2>/dev/null; then
		PY=$p
		break
	fi
done
if [ -z "$PY" ]; then
	echo "1..0 # SKIP needs python3-dnspython"
	exit 0
fi

DNSBLD=$BIN/dnsbl/dnsbld
S=$T/store
ctl() { "$DNSBLCTL" -d "$S" "$@"; }
dport=$(freeport)

ctl init >/dev/null
python3 -c '
for i in range(60000):
    print("10.%d.%d.%d" % (i // 65536, (i // 256) % 256, i % 256))' \
    > "$T/many.list"
ctl import "$T/many.list" >/dev/null
mkdir -p "$T/zones"
cat > "$T/zones/bl.test.zone" <<'EOF'
$ORIGIN bl.test.
$TTL 3600
@	IN SOA	ns1.bl.test. hostmaster.bl.test. 1 3600 900 604800 300
	IN NS	ns1.bl.test.
EOF
cat > "$T/relaybl.conf" <<CONF
[store]
dir = $S
[dnsbld]
listen = 127.0.0.1:$dport
zones = $T/zones
[dns]
allow_transfer = 127.0.0.1
max_transfers = 2
transfer_timeout = 2
CONF
daemon_start dnsbld "$DNSBLD" -c "$T/relaybl.conf"
daemon_ready $pid dnsbld "ready" 100
ok $? "dnsbld is up (max_transfers 2, transfer_timeout 2 s)"

# hostile MODE SECONDS: asks for AXFR over TCP, then: "sleep" reads
# nothing for SECONDS; "trickle" reads 1 KB every half second for SECONDS
# (the window opens often enough that no write waits transfer_timeout,
# but a 16 KB message takes longer than that); "hangup" closes at once.
# Prints how many bytes it read.
cat > "$T/hostile.py" <<'PY'
import socket, struct, sys, time
import dns.message
mode, secs, port = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
q = dns.message.make_query("bl.test", "AXFR").to_wire()
s.sendall(struct.pack("!H", len(q)) + q)
got = 0
if mode == "hangup":
    s.close()
elif mode == "sleep":
    time.sleep(secs)
else:
    end = time.time() + secs
    s.settimeout(1.5)
    while time.time() < end:
        try:
            b = s.recv(1024)
        except socket.timeout:
            continue
        if not b:
            break
        got += len(b)
        time.sleep(0.5)
print(got)
PY
hostile() { "$PY" "$T/hostile.py" "$1" "$2" "$dport"; }

t0=$(date +%s)
hostile sleep 8 > "$T/h1.out" &
h1=$!
hostile trickle 8 > "$T/h2.out" &
h2=$!
sleep 1
like "$(kdig @127.0.0.1 -p $dport +tcp bl.test AXFR 2>&1)" 'REFUSED' \
    "two hostile transfers running: a third is refused (max_transfers)"
like "$(cat "$T/dnsbld.err")" 'too many transfers at once' "  and logged"
is "$(dig @127.0.0.1 -p $dport +short +time=2 +tries=1 1.0.0.10.bl.test A)" \
    127.0.0.2 "  UDP answers go on meanwhile"
is "$(dig @127.0.0.1 -p $dport +short +tcp +time=2 +tries=1 \
    2.0.0.10.bl.test A)" 127.0.0.2 "  and TCP answers"

# Both are cut off after transfer_timeout (a message not gone in 2 s),
# well before their 8 s are up.
i=0
while [ $i -lt 60 ] && [ "$(grep -c 'not read for transfer_timeout' \
    "$T/dnsbld.err")" -lt 2 ]; do
	sleep 0.1; i=$((i + 1))
done
is "$(grep -c 'AXFR of bl\.test\.* serial [0-9]* to 127\.0\.0\.1: cut short (not read for transfer_timeout)' \
    "$T/dnsbld.err")" 2 "the reader that never reads and the one that trickles are both cut off"
ok "$([ $(( $(date +%s) - t0 )) -le 7 ]; echo $?)" \
    "  within transfer_timeout, not when they gave up"
out=$(kdig @127.0.0.1 -p $dport +tcp bl.test AXFR 2>&1)
like "$out" 'bl\.test\..*SOA' "then an honest transfer is served again"
like "$out" '10\.0\.0\.10\.bl\.test\.' "  whole (the 60,000 names)"
wait $h1 $h2
got=$(cat "$T/h2.out")
ok "$([ "$got" -gt 0 ] && [ "$got" -lt 1000000 ]; echo $?)" \
    "  the trickler had been reading ($got bytes of the 6 MB)"

# One that asks and hangs up: its thread ends at once.
for n in 1 2 3 4 5 6; do hostile hangup 0 >/dev/null; done
sleep 0.5
out=$(kdig @127.0.0.1 -p $dport +tcp bl.test AXFR 2>&1)
like "$out" 'bl\.test\..*SOA' \
    "six that hang up at once hold no thread: the next transfer is served"
ok "$(kill -0 $pid; echo $?)" "dnsbld is up"
done_testing
