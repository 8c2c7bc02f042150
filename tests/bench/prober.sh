#!/bin/sh
# prober.sh -- `make bench-prober`: proberd against a farm of 2,000 fake
# SMTP hosts, and nmap's smtp-open-relay on the same hosts, in one run.
#
# The farm (tests/farm.py) gives each host its own loopback address in its
# own /24 (127.20.0.1, 127.20.1.1, ...; so per-network limits do not
# serialise the run) and one behaviour, in a fixed mix: a tenth never
# answer, the rest are open relays, multi-hop relays, closed, accept-and-
# discard, tempfail, EHLO-refused, 421 at greeting, garbage, drop after
# RCPT, auth-required, reject at end of DATA, slow multi-line greeting.
#
# proberd runs with every timeout (connect, greeting, command, confirm
# window) at 15 s.  All hosts are submitted at once with `dnsblctl submit
# -`; the first pass ends when every host has its first outcome (retries
# of inconclusive ones come minutes later and are not counted).  Reported:
# wall time of the first pass, probes per second, proberd's peak RSS
# (VmHWM), outcomes per behaviour, false listings (a listed address that
# never delivered a cookie to the sink: must be 0) and missed relays.
#
# Then nmap (Debian's, `--script +smtp-open-relay -p PORT`, connect scan,
# -Pn -n) checks the same hosts: its wall time, and how many of its "open"
# verdicts are false (hosts that never delivered anything to the sink:
# nmap only looks at RCPT replies).
#
# Last, the memory phase (alone: MEMONLY=1, or `make bench-prober-mem`;
# skipped with MEM=0): a fresh proberd with concurrency MEMCONC (1000)
# against MEMHOSTS (1000) hosts of a second farm, one per /24 (127.60.0.1,
# 127.60.1.1, ...), all "slowclosed": closed relays (554 at RCPT) that wait
# MEMDELAY (0.15) s before every reply, so that a probe lasts seconds (its
# whole battery, each session's transcript filled as in real life) and
# every probe is in flight at once.  Sampled every 0.2 s: proberd's RSS
# and VmHWM, and its established connections to the farm's port (`ss`),
# the probes in flight.  Reported: idle RSS (before the submission), peak
# RSS (the final VmHWM), the most probes in flight, per probe (VmHWM at
# the last sample with them all in flight, less the idle RSS, over them:
# the final VmHWM also holds the store's pages that the outcomes, written
# once the probes end, map in; (peak - idle) / in flight is shown too),
# and the target: peak < 64 MB and <= 16 KB a probe.
# The open-file limit is raised to its hard limit for proberd and farm.
# With KEEP=1, mem-KIND/samples keeps every sample: seconds since the
# submission, VmRSS and VmHWM, probes in flight, RssAnon, RssFile (kB).
set -e
cd "$(dirname "$0")/../.."
HOSTS=${HOSTS:-2000}
TIMEOUT=${TIMEOUT:-15}
CONCURRENCY=${CONCURRENCY:-100}
LIMIT=${LIMIT:-300}		# give up waiting for the first pass after this
NMAP=${NMAP:-1}
MEM=${MEM:-1}			# the memory phase after the others
MEMONLY=${MEMONLY:-0}		# only the memory phase
MEMHOSTS=${MEMHOSTS:-1000}
MEMCONC=${MEMCONC:-1000}
MEMDELAY=${MEMDELAY:-0.15}	# slowclosed's wait before each reply, s
MEMLIMIT=${MEMLIMIT:-300}	# give up waiting for the memory phase
MEMTARGET_MB=${MEMTARGET_MB:-64}
MEMTARGET_KB=${MEMTARGET_KB:-16}
B=$(mktemp -d /tmp/relaybl-benchprober.XXXXXX)
chmod 755 "$B"
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
elapsed() { awk -v t0="$1" -v t1="$(now)" 'BEGIN { printf "%d", t1 - t0 }'; }
diff_s() { awk -v t0="$1" -v t1="$2" 'BEGIN { printf "%.2f", t1 - t0 }'; }
vm() { awk -v k="$2:" '$1 == k { print $2 }' /proc/$1/status; }
cpu_ticks() { awk '{ print $14 + $15 }' /proc/$1/stat; }

# The memory phase (see the top).
# mem_phase KIND: the memory phase against hosts of farm behaviour KIND
# (slowclosed: plain SMTP, judged against the target; slowtls: the same
# over STARTTLS, reported).
mem_phase() {
	kind=$1
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || :
	nofile=$(ulimit -n)
	if [ "$nofile" != unlimited ] && [ "$nofile" -lt $((MEMCONC + 100)) ]
	then
		echo "warning: open-file limit $nofile < concurrency $MEMCONC + 100"
	fi
	M="$B/mem-$kind"
	mkdir -p "$M"
	chmod 755 "$M"
	mport=$(freeport)
	msink=$(freeport)
	python3 - "$MEMHOSTS" "$kind" > "$M/farm.spec" <<'EOF'
import sys
for i in range(int(sys.argv[1])):
    print("127.%d.%d.1=%s" % (60 + i // 256, i % 256, sys.argv[2]))
EOF
	cut -d= -f1 "$M/farm.spec" > "$M/hosts"
	FARM_SLOW_REPLY=$MEMDELAY python3 tests/farm.py -f "$M/farm.spec" \
	    $mport 127.0.0.1:$msink > "$M/farm.out" 2> "$M/farm.log" &
	mfarm=$!
	pids="$pids $mfarm"
	i=0
	until grep -q "farm: ready" "$M/farm.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 600 ] || { echo "farm did not start" >&2; cat "$M/farm.log" >&2; exit 1; }
		sleep 0.1
	done
	cat > "$M/relaybl.conf" <<CONF
[store]
dir = $M/store
[prober]
probe_domain = probe.test
sink_listen = 127.0.0.1:$msink
smtp_port = $mport
allow = 127.0.0.0/8
concurrency = $MEMCONC
timeout_connect = $TIMEOUT
timeout_greeting = $TIMEOUT
timeout_command = $TIMEOUT
confirm_window = $TIMEOUT
secret_file = $M/secret
CONF
	dnsbl/dnsblctl -d "$M/store" init > /dev/null
	prober/proberd -c "$M/relaybl.conf" 2> "$M/proberd.log" &
	mp=$!
	pids="$pids $mp"
	sleep 1
	idle=$(vm $mp VmRSS)
	echo "== memory: $MEMHOSTS probes in flight ($kind farm, ${MEMDELAY} s a reply, concurrency $MEMCONC)"
	fc0=$(cpu_ticks $mfarm)
	pc0=$(cpu_ticks $mp)
	t0=$(now)
	dnsbl/dnsblctl -c "$M/relaybl.conf" submit - < "$M/hosts" > /dev/null
	# In flight: the farm hosts proberd has an established connection
	# to (a probe may briefly hold two, its last session's QUIT pending).
	# Per probe: VmHWM at the last sample with the most in flight, less
	# the idle RSS (the final VmHWM also holds the store's pages that
	# the outcomes, written after, map in).
	hwm=0 hwmfl=0 anonfl=0 maxfl=0 tmax=0 samples=0
	while :; do
		rss=$(vm $mp VmRSS)
		h=$(vm $mp VmHWM)
		anon=$(vm $mp RssAnon)
		file=$(vm $mp RssFile)
		fl=$(ss -Htn state established "( dport = :$mport )" |
		    awk '{ sub(/:[0-9]+$/, "", $4); print $4 }' | sort -u | wc -l)
		samples=$((samples + 1))
		echo "$(diff_s "$t0" "$(now)") $rss $h $fl $anon $file" >> "$M/samples"
		[ "${h:-0}" -gt "$hwm" ] && hwm=$h
		if [ "$fl" -gt "$maxfl" ]; then
			maxfl=$fl
			tmax=$(diff_s "$t0" "$(now)")
		fi
		if [ "$fl" -eq "$maxfl" ] && [ "$fl" -gt 0 ]; then
			hwmfl=$h
			anonfl=$anon
		fi
		done_n=$(grep -c ': submit: ' "$M/proberd.log" || :)
		[ "$done_n" -ge "$MEMHOSTS" ] && break
		if [ "$(elapsed "$t0")" -gt "$MEMLIMIT" ]; then
			echo "memory phase not done after $MEMLIMIT s ($done_n of $MEMHOSTS)"
			break
		fi
		sleep 0.2
	done
	wall=$(diff_s "$t0" "$(now)")
	h=$(vm $mp VmHWM)
	[ "${h:-0}" -gt "$hwm" ] && hwm=$h
	file=$(vm $mp RssFile)
	fc1=$(cpu_ticks $mfarm)
	pc1=$(cpu_ticks $mp)
	kill -TERM $mp
	wait $mp || :
	kill -TERM $mfarm
	wait $mfarm || :
	python3 - "$M" "$MEMHOSTS" "$wall" "$idle" "$hwm" "$hwmfl" "$maxfl" \
	    "$tmax" "$samples" "$((fc1 - fc0))" "$((pc1 - pc0))" \
	    "$(getconf CLK_TCK)" "$MEMTARGET_MB" "$MEMTARGET_KB" \
	    "$anonfl" "$file" "$kind" <<'EOF'
import re, sys
M = sys.argv[1]
n, wall, idle, hwm, hwmfl, maxfl = (int(sys.argv[2]), float(sys.argv[3]),
    int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]))
tmax, samples, fticks, pticks, hz = (float(sys.argv[8]), int(sys.argv[9]),
    int(sys.argv[10]), int(sys.argv[11]), int(sys.argv[12]))
tmb, tkb = float(sys.argv[13]), float(sys.argv[14])
anonfl, filend = int(sys.argv[15] or 0), int(sys.argv[16] or 0)
kind = sys.argv[17]
out = {}
for line in open(M + "/proberd.log"):
    m = re.match(r"proberd: ([0-9.]+): submit: ([a-z]+)", line)
    if m and m.group(1) not in out:
        out[m.group(1)] = m.group(2)
by = {}
for o in out.values():
    by[o] = by.get(o, 0) + 1
nan = float("nan")
per = (hwmfl - idle) / maxfl if maxfl else nan
print("idle RSS %.1f MB; peak RSS %.1f MB; max in flight %d; "
      "per probe %.1f KB" % (idle / 1024.0, hwm / 1024.0, maxfl, per))
print("  %d in flight from %.1f s after the submission; VmHWM %.1f MB "
      "(RssAnon %.1f MB) when last all in flight; peak (final VmHWM) "
      "holds the store's pages too (RssFile %.1f MB at the end): "
      "(peak - idle) / in flight = %.1f KB" % (maxfl, tmax, hwmfl / 1024.0,
      anonfl / 1024.0, filend / 1024.0,
      (hwm - idle) / maxfl if maxfl else nan))
print("  %d of %d probes done in %.1f s (%s); CPU: farm %.0f%%, proberd "
      "%.0f%%; %d samples" % (len(out), n, wall, ", ".join("%s %d" % kv
      for kv in sorted(by.items())) or "none", 100.0 * fticks / hz / wall,
      100.0 * pticks / hz / wall, samples))
ok = hwm / 1024.0 < tmb and per <= tkb
if kind == "slowclosed":
    print("target: peak < %g MB, <= %g KB per probe: %s" %
          (tmb, tkb, "PASS" if ok else "FAIL"))
else:
    print("(over TLS, not the target: peak %s %g MB, per probe %s %g KB)" %
          ("<" if hwm / 1024.0 < tmb else ">=", tmb,
           "<=" if per <= tkb else ">", tkb))
EOF
}

farmport=$(freeport)
sinkport=$(freeport)
if [ "$MEMONLY" = 1 ]; then
	mem_phase slowclosed
	mem_phase slowtls
	exit 0
fi

# The farm: ADDR=BEHAVIOUR[,EGRESS], one host per /24.
python3 - "$HOSTS" > "$B/farm.spec" <<'EOF'
import sys
n = int(sys.argv[1])
# per 20 hosts: 2 never, 4 open, 1 multihop, 3 closed, 2 discard, 1 each
# of the rest
mix = (["never"] * 2 + ["open"] * 4 + ["multihop"] + ["closed"] * 3 +
       ["discard"] * 2 + ["tempfail", "helo", "greet421", "garbage",
       "dropper", "auth", "datareject", "slowgreet"])
assert len(mix) == 20
for i in range(n):
    addr = "127.%d.%d.1" % (20 + i // 256, i % 256)
    b = mix[i % 20]
    if b == "multihop":
        b += ",127.%d.%d.2" % (20 + i // 256, i % 256)
    print("%s=%s" % (addr, b))
EOF
cut -d= -f1 "$B/farm.spec" > "$B/hosts"
python3 tests/farm.py -f "$B/farm.spec" $farmport 127.0.0.1:$sinkport \
    > "$B/farm.out" 2> "$B/farm.log" &
farm=$!
pids="$pids $farm"
i=0
until grep -q "farm: ready" "$B/farm.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 600 ] || { echo "farm did not start" >&2; cat "$B/farm.log" >&2; exit 1; }
	sleep 0.1
done

cat > "$B/relaybl.conf" <<CONF
[store]
dir = $B/store
[prober]
probe_domain = probe.test
sink_listen = 127.0.0.1:$sinkport
smtp_port = $farmport
allow = 127.0.0.0/8
concurrency = $CONCURRENCY
timeout_connect = $TIMEOUT
timeout_greeting = $TIMEOUT
timeout_command = $TIMEOUT
confirm_window = $TIMEOUT
secret_file = $B/secret
CONF
dnsbl/dnsblctl -d "$B/store" init > /dev/null
prober/proberd -c "$B/relaybl.conf" 2> "$B/proberd.log" &
ppid=$!
pids="$pids $ppid"
sleep 0.5

echo "== proberd: $HOSTS farm hosts, timeouts ${TIMEOUT} s, concurrency $CONCURRENCY"
t0=$(now)
dnsbl/dnsblctl -c "$B/relaybl.conf" submit - < "$B/hosts" > /dev/null
hwm=0
while :; do
	done_n=$(grep -c ': submit: ' "$B/proberd.log" || :)
	h=$(awk '/^VmHWM/ { print $2 }' /proc/$ppid/status)
	[ "${h:-0}" -gt "$hwm" ] && hwm=$h
	[ "$done_n" -ge "$HOSTS" ] && break
	if [ "$(elapsed "$t0")" -gt "$LIMIT" ]; then
		echo "first pass not done after $LIMIT s ($done_n of $HOSTS)"
		break
	fi
	sleep 0.2
done
t1=$(now)
wall=$(diff_s "$t0" "$t1")
h=$(awk '/^VmHWM/ { print $2 }' /proc/$ppid/status)
[ "${h:-0}" -gt "$hwm" ] && hwm=$h
kill -TERM $ppid
wait $ppid || :

# Outcomes per behaviour, false listings, missed relays.
python3 - "$B" "$HOSTS" "$wall" "$hwm" <<'EOF'
import re, subprocess, sys
B, n, wall, hwm = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
beh, egress = {}, {}
for line in open(B + "/farm.spec"):
    a, _, b = line.strip().partition("=")
    b, _, e = b.partition(",")
    beh[a] = b
    if e:
        egress[e] = a
out = {}
for line in open(B + "/proberd.log"):
    m = re.match(r"proberd: ([0-9.]+): submit: ([a-z]+)", line)
    if m and m.group(1) not in out:
        out[m.group(1)] = m.group(2)
delivered = set()
for line in open(B + "/farm.log"):
    m = re.match(r"farm: ([0-9.]+) delivered ", line)
    if m:
        delivered.add(m.group(1))
listed = set()
for a in list(beh) + list(egress):
    r = subprocess.run(["dnsbl/dnsblctl", "-d", B + "/store", "lookup", a],
                       capture_output=True, text=True)
    if r.returncode == 0:
        listed.add(a)
relays = {a for a, b in beh.items() if b in ("open", "multihop", "slowgreet")}
# a multi-hop egress delivered for its relay
ok_listed = delivered | {e for e, a in egress.items() if a in delivered}
false = sorted(listed - ok_listed)
missed = sorted(relays - listed)
print("first pass: %d of %d hosts in %.1f s, %.1f probes/s" %
      (len(out), n, wall, len(out) / wall))
print("proberd peak RSS: %.1f MB" % (hwm / 1024.0))
table = {}
for a, b in beh.items():
    table.setdefault(b, {}).setdefault(out.get(a, "none"), 0)
    table[b][out.get(a, "none")] += 1
for b in sorted(table):
    print("  %-11s %s" % (b, ", ".join("%s %d" % kv for kv in
                                        sorted(table[b].items()))))
print("listed: %d (%d relays, %d egress); false listings: %d; "
      "missed relays: %d" % (len(listed), len(listed - set(egress)),
      len(listed & set(egress)), len(false), len(missed)))
for a in false[:10]:
    print("  FALSE LISTING %s (%s)" % (a, beh.get(a, "egress")))
for a in missed[:10]:
    print("  MISSED %s (%s)" % (a, beh[a]))
open(B + "/delivered", "w").write("\n".join(sorted(delivered)) + "\n")
EOF

# The memory phase, once this farm is gone.
last_phase() {
	kill -TERM $farm 2>/dev/null || :
	wait $farm 2>/dev/null || :
	if [ "$MEM" = 1 ]; then
		mem_phase slowclosed
		mem_phase slowtls
	fi
	exit 0
}
[ "$NMAP" = 1 ] || last_phase
echo "== nmap $(nmap --version | sed -n 's/^Nmap version \([^ ]*\).*/\1/p'): --script +smtp-open-relay -p $farmport, same hosts"
t0=$(now)
nmap -n -Pn -sT -p $farmport --script +smtp-open-relay \
    --script-args smtp-open-relay.domain=probe.test \
    -iL "$B/hosts" -oX "$B/nmap.xml" > "$B/nmap.out" 2>&1 || :
t1=$(now)
python3 - "$B" "$(diff_s "$t0" "$t1")" <<'EOF'
import sys, xml.etree.ElementTree as ET
B, wall = sys.argv[1], float(sys.argv[2])
beh = {}
for line in open(B + "/farm.spec"):
    a, _, b = line.strip().partition("=")
    beh[a] = b.partition(",")[0]
delivered = set(open(B + "/delivered").read().split())
opens = set()
root = ET.parse(B + "/nmap.xml").getroot()
for h in root.iter("host"):
    a = h.find("address").get("addr")
    for s in h.iter("script"):
        if s.get("id") == "smtp-open-relay" and \
                "is an open relay" in s.get("output", ""):
            opens.add(a)
false = sorted(opens - delivered)
relays = {a for a, b in beh.items() if b in ("open", "multihop", "slowgreet")}
print("nmap: %d hosts in %.1f s; \"open\" verdicts: %d, false (never "
      "delivered): %d, relays missed: %d" % (len(beh), wall, len(opens),
      len(false), len(relays - opens)))
for what, addrs in (("false \"open\"", false),
                    ("relays missed", relays - opens)):
    by = {}
    for a in addrs:
        by[beh[a]] = by.get(beh[a], 0) + 1
    if by:
        print("  %s by behaviour: %s" % (what, ", ".join(
            "%s %d" % kv for kv in sorted(by.items()))))
EOF
last_phase
