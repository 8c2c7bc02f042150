#!/bin/sh
# hostile.sh -- `make bench-hostile`: dnsbld's TCP under hostile clients,
# and what honest UDP and TCP clients see meanwhile.
#
# A store with some listings (HOSTILE_LISTINGS random IPv4 addresses plus
# 192.0.2.0/24) and zone bl.example are served by ONE dnsbld worker (-w 1)
# on a free loopback port, with tcp_max_connections = HOSTILE_MAX_CONN
# (512: 2,000 hostile connections are four times the cap) and
# tcp_idle_timeout = HOSTILE_IDLE_TIMEOUT (10 s, the shipped default).
# tests/bench/hostile_dns.py then runs three phases, one after the other:
#
#   baseline  HOSTILE_BASELINE s of honest traffic only
#   attack    HOSTILE_SECONDS s with HOSTILE_CONNS hostile TCP connections
#             held open (a quarter each: idle, trickling one byte every 2 s,
#             pipelining without ever reading, half-closed without reading),
#             each reconnected when the server closes or refuses it.  A
#             half-closing client sends HOSTILE_HALFCLOSE_QUERIES (40000)
#             TXT queries, ~5 MB of answers: more than the kernel's send
#             buffer takes on loopback (tcp_wmem max, 4 MB), so the server
#             still holds unsent output when the EOF comes; if the server
#             stops taking them for 0.5 s (back-pressure) it shuts down
#             writing with the rest unsent
#   after     HOSTILE_AFTER s of honest traffic only
#
# Honest traffic all along: UDP queries (HOSTILE_UDP_RATE a second) and
# fresh TCP queries (HOSTILE_TCP_RATE a second: connect, one query, read,
# close), listed and unlisted names, A and TXT, each with a 1 s deadline.
# Reported side by side per phase: % answered within 1 s, latency median
# and p99, why the others failed; dnsbld's RSS (baseline median, attack
# peak, end of the after phase), open fds and CPU, the machine's kernel
# TCP buffer memory (/proc/net/sockstat); per hostile kind how
# many were held open, reconnects, connection lifetimes.
#
# Targets, printed PASS/FAIL (exit status 1 if one fails): during the
# attack 100% of UDP and >= 99% of fresh TCP answered within 1 s; RSS never
# above HOSTILE_RSS_MB (64); RSS after the attack within
# HOSTILE_RSS_SLACK_MB (8) of the baseline; dnsbld alive to the end; every
# connection freed after the attack (dnsbld's open fds back to the
# baseline, +4).  dnsbld is killed (SIGKILL, reported) if its RSS passes
# HOSTILE_KILL_RSS_MB (2048), so a server with unbounded buffers cannot
# eat the machine; a dnsbld that dies on its own is reported with its exit
# status and the end of its log.
#
# tcp_max_connections is per worker and may be 1..100000 (dnsbld.c); 512
# with -w 1 keeps the hostile connections well above the cap, which is what
# eviction has to cope with.  The fd limit is raised to 65536, or to the
# hard limit if lower (2,000 client and up to 2,000 server sockets).
#
# Other knobs: HOSTILE_IDLE, HOSTILE_TRICKLE, HOSTILE_PIPELINE,
# HOSTILE_HALFCLOSE (per-kind counts, overriding the even split),
# HOSTILE_EXTRA_CONF (lines added to [dnsbld], e.g. "tcp_query_timeout =
# 5"; an unknown key is only warned about), HOSTILE_ARGS (more options for
# hostile_dns.py, see its --help), HOSTILE_JSON (copy the JSON results
# there), DNSBLD (the binary; default dnsbl/dnsbld), KEEP=1 (keep the
# scratch directory).  Quick run: HOSTILE_SECONDS=20 HOSTILE_BASELINE=5
# HOSTILE_AFTER=10 make bench-hostile.
set -e
cd "$(dirname "$0")/../.."
SECONDS_ATTACK=${HOSTILE_SECONDS:-60}
BASELINE=${HOSTILE_BASELINE:-15}
AFTER=${HOSTILE_AFTER:-20}
CONNS=${HOSTILE_CONNS:-2000}
MAX_CONN=${HOSTILE_MAX_CONN:-512}
IDLE_TIMEOUT=${HOSTILE_IDLE_TIMEOUT:-10}
UDP_RATE=${HOSTILE_UDP_RATE:-20}
TCP_RATE=${HOSTILE_TCP_RATE:-5}
KILL_RSS_MB=${HOSTILE_KILL_RSS_MB:-2048}
RSS_MB=${HOSTILE_RSS_MB:-64}
RSS_SLACK_MB=${HOSTILE_RSS_SLACK_MB:-8}
LISTINGS=${HOSTILE_LISTINGS:-10000}
HALFCLOSE_QUERIES=${HOSTILE_HALFCLOSE_QUERIES:-40000}
SEED=${SEED:-20261129}
DNSBLD=${DNSBLD:-dnsbl/dnsbld}
ZONE=bl.example
B=$(mktemp -d /tmp/relaybl-benchhostile.XXXXXX)
chmod 755 "$B"
server=""
cleanup() {
	if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
		kill "$server" 2>/dev/null
		wait "$server" 2>/dev/null || :
	fi
	[ -n "$KEEP" ] && echo "scratch directory kept: $B" || rm -rf "$B"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 2,000 client sockets and as many server ones: raise the fd limit (to the
# hard limit when 65536 is not allowed).  dnsbld inherits it.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || :
freeport() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The store: random listed addresses (none in 192.0.2.0/24 or 127/8),
# 192.0.2.0/24 listed with its own text.
awk -v n="$LISTINGS" -v seed="$SEED" 'BEGIN { srand(seed)
	for (i = 0; i < n; i++)
		printf "%d.%d.%d.%d\n", int(rand() * 200) + 11,
		    int(rand() * 256), int(rand() * 256), int(rand() * 254) + 1
}' > "$B/list"
dnsbl/dnsblctl -d "$B/store" init > /dev/null
dnsbl/dnsblctl -d "$B/store" import "$B/list" > /dev/null
dnsbl/dnsblctl -d "$B/store" add 192.0.2.0/24 \
    -t 'open relay at $, see https://bl.example/lookup' > /dev/null
LISTED=1.2.0.192.$ZONE		# 192.0.2.1
UNLISTED=1.100.51.198.$ZONE	# 198.51.100.1
cat > "$B/$ZONE.zone" <<EOF
\$ORIGIN $ZONE.
\$TTL 900
@ IN SOA ns1.$ZONE. hostmaster.$ZONE. 1 3600 900 604800 900
@ IN NS ns1.$ZONE.
ns1 IN A 192.0.2.53
EOF
{
	echo "[dnsbld]"
	echo "tcp_max_connections = $MAX_CONN"
	echo "tcp_idle_timeout = $IDLE_TIMEOUT"
	if [ -n "$HOSTILE_EXTRA_CONF" ]; then
		printf '%s\n' "$HOSTILE_EXTRA_CONF"
	fi
} > "$B/relaybl.conf"

port=$(freeport)
"$DNSBLD" -c "$B/relaybl.conf" -d "$B/store" -z "$B/$ZONE.zone" \
    -l 127.0.0.1:$port -w 1 2> "$B/dnsbld.err" &
server=$!
i=0
until grep -q ready "$B/dnsbld.err" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $server 2>/dev/null; then
		echo "dnsbld did not come up:"; cat "$B/dnsbld.err"; exit 2
	fi
	sleep 0.1
done
dig @127.0.0.1 -p $port +time=1 +tries=1 +short $LISTED A | \
    grep -q '^127\.0\.0\.2$' || { echo "$LISTED not listed"; exit 2; }

echo "== dnsbld $(git rev-parse --short HEAD 2>/dev/null || echo '?'):" \
    "-w 1, tcp_max_connections $MAX_CONN, tcp_idle_timeout ${IDLE_TIMEOUT}s," \
    "fd limit $(ulimit -n), port $port"
[ -n "$HOSTILE_EXTRA_CONF" ] && echo "   extra [dnsbld] lines: $HOSTILE_EXTRA_CONF"
echo "== $LISTINGS listings + 192.0.2.0/24; phases: baseline ${BASELINE}s," \
    "attack ${SECONDS_ATTACK}s with $CONNS hostile connections" \
    "(half-closers send $HALFCLOSE_QUERIES queries), after ${AFTER}s"
kinds=""
[ -n "$HOSTILE_IDLE" ] && kinds="$kinds --idle $HOSTILE_IDLE"
[ -n "$HOSTILE_TRICKLE" ] && kinds="$kinds --trickle $HOSTILE_TRICKLE"
[ -n "$HOSTILE_PIPELINE" ] && kinds="$kinds --pipeline $HOSTILE_PIPELINE"
[ -n "$HOSTILE_HALFCLOSE" ] && kinds="$kinds --halfclose $HOSTILE_HALFCLOSE"
rc=0
# shellcheck disable=SC2086
python3 tests/bench/hostile_dns.py 127.0.0.1:$port --zone $ZONE \
    --listed $LISTED --unlisted $UNLISTED \
    --baseline "$BASELINE" --duration "$SECONDS_ATTACK" --after "$AFTER" \
    --hostile "$CONNS" $kinds --halfclose-queries "$HALFCLOSE_QUERIES" \
    --udp-rate "$UDP_RATE" --tcp-rate "$TCP_RATE" \
    --pid $server --kill-rss-mb "$KILL_RSS_MB" --target-rss-mb "$RSS_MB" \
    --target-rss-slack-mb "$RSS_SLACK_MB" --json "$B/results.json" \
    $HOSTILE_ARGS || rc=$?
[ -n "$HOSTILE_JSON" ] && [ -f "$B/results.json" ] && \
    cp "$B/results.json" "$HOSTILE_JSON"

# gone PID: exited (absent, or a zombie not yet waited for)
gone() { [ ! -e /proc/$1 ] || grep -q '^[0-9]* (.*) Z' /proc/$1/stat 2>/dev/null; }
if gone $server; then
	st=0; wait $server || st=$?
	server=""
	echo "!! dnsbld is gone: exit status $st" \
	    "$([ $st -gt 128 ] && echo "(signal $((st - 128)))")"
	echo "   the end of its log:"
	tail -5 "$B/dnsbld.err" | sed 's/^/   /'
	[ $rc -eq 0 ] && rc=1
else
	kill -USR1 $server
	sleep 0.5
	echo "== dnsbld's counters (SIGUSR1):"
	grep -E 'queries|tcp connections' "$B/dnsbld.err" | tail -2 | \
	    sed 's/^/   /'
	kill -TERM $server
	i=0
	while [ $i -lt 50 ] && ! gone $server; do sleep 0.1; i=$((i + 1)); done
	if gone $server; then
		st=0; wait $server || st=$?
		echo "== dnsbld stopped on SIGTERM: exit status $st"
	else
		echo "!! dnsbld did not stop within 5 s of SIGTERM: killed"
		kill -KILL $server 2>/dev/null || :
		wait $server 2>/dev/null || :
		rc=1
	fi
	server=""
fi
exit $rc
