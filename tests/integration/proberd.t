#!/bin/sh
# proberd.t -- the prober against a fake SMTP farm on loopback addresses:
# each behaviour gets its outcome (listed only when the cookie came back),
# multi-hop egress is listed too, and the lifecycle submit -> listed ->
# relay fixed -> delist request -> clean retest -> delisted, with dnsbld
# answering at each step.
. "$(dirname "$0")/../lib/tap.sh"

PROBERD=$BIN/prober/proberd
DNSBLD=$BIN/dnsbl/dnsbld
S=$T/store
ctl() { "$DNSBLCTL" -d "$S" "$@"; }

farmport=$(freeport)
sinkport=$(freeport)
dnsport=$(freeport)
export FARMDIR=$T/farm
mkdir -p "$FARMDIR"
# One host per battery form, open for that form alone: 127.0.2.1, ...
python3 "$ROOT/tests/farm.py" -l > "$T/forms"
nforms=$(wc -l < "$T/forms")
awk '{ printf "127.0.2.%d=form:%s\n", NR, $1 }' "$T/forms" > "$T/farm.spec"
daemon_start farm python3 "$ROOT/tests/farm.py" -f "$T/farm.spec" $farmport \
    127.0.0.1:$sinkport \
    127.0.1.1=open 127.0.1.2=closed 127.0.1.3=discard \
    127.0.1.4=multihop,127.0.1.104 127.0.1.5=never 127.0.1.6=garbage \
    127.0.1.7=tempfail 127.0.1.8=helo 127.0.1.9=greet421 \
    127.0.1.10=dropper 127.0.1.11=never 127.0.1.12=auth \
    127.0.1.13=slowgreet 127.0.1.14=datareject 127.0.1.15=endless \
    127.0.1.16=hugeline 127.0.1.17=trickle
daemon_ready $pid farm "farm: ready" 100
ok "$([ "$nforms" -ge 20 ] && grep -q "farm: ready" "$T/farm.out"; echo $?)" \
    "the farm is up, with a host for each of the $nforms battery forms"

cat > "$T/relaybl.conf" <<CONF
[store]
dir = $S
[prober]
probe_domain = probe.test
sink_listen = 127.0.0.1:$sinkport
smtp_port = $farmport
allow = 127.0.0.0/8
concurrency = 20
per_net_concurrency = 20
timeout_connect = 2
timeout_greeting = 2
timeout_command = 2
confirm_window = 3
retest_interval = 30d
listing_ttl = 90d
secret_file = $T/secret
CONF
cat > "$T/bl.test.zone" <<'ZONE'
$ORIGIN bl.test.
@ 60 IN SOA ns1.example. h.example. 1 3600 900 604800 60
@ 60 IN NS ns1.example.
ZONE
ctl init >/dev/null
"$DNSBLCTL" -c "$T/relaybl.conf" submit 127.0.1.1 127.0.1.2 127.0.1.3 \
    127.0.1.4 127.0.1.5 127.0.1.6 127.0.1.7 127.0.1.8 127.0.1.9 \
    127.0.1.10 127.0.1.12 127.0.1.13 127.0.1.14 127.0.1.15 127.0.1.16 \
    127.0.1.17 >/dev/null 2>&1
ok $? "sixteen farm hosts submitted (allow covers loopback)"
cut -d= -f1 "$T/farm.spec" |
    "$DNSBLCTL" -c "$T/relaybl.conf" submit - >/dev/null 2>&1
ok $? "  and the $nforms single-form relays, on stdin"
total=$((16 + nforms))
daemon_start proberd "$PROBERD" -c "$T/relaybl.conf"
ppid=$pid
daemon_start dnsbld "$DNSBLD" -d "$S" -z "$T/bl.test.zone" \
    -l 127.0.0.1:$dnsport

# Wait until every submission has an outcome (or 40 s).
i=0
while [ $i -lt 80 ]; do
	n=$(grep -o '127\.0\.[12]\.[0-9]*: submit: ' "$T/proberd.err" \
	    2>/dev/null | sort -u | wc -l)
	[ "${n:-0}" -ge $total ] && break
	sleep 0.5; i=$((i + 1))
done
is "$(grep -o '127\.0\.[12]\.[0-9]*: submit: ' "$T/proberd.err" | sort -u |
    wc -l)" $total "every host probed"
is "$(grep -c '127.0.1.1: submit: listed' "$T/proberd.err")" 1 \
    "  the open relay once, however many copies it delivered"
outcome() {
	sed -n "s/^proberd: $1: submit: \([a-z]*\).*/\1/p" "$T/proberd.err" |
	    head -1
}
is "$(outcome 127.0.1.1)" listed "open relay: listed (cookie came back)"
is "$(outcome 127.0.1.2)" clean "closed: clean (every form refused)"
is "$(outcome 127.0.1.3)" suspect "accepts and discards: suspect, not listed"
is "$(outcome 127.0.1.4)" listed "multi-hop relay: listed"
is "$(outcome 127.0.1.5)" inconclusive "never speaks: inconclusive"
is "$(outcome 127.0.1.6)" inconclusive "garbage: inconclusive"
is "$(outcome 127.0.1.7)" deferred "tempfail (4xx to every RCPT): deferred, retried after tempfail_retry"
is "$(outcome 127.0.1.8)" clean "EHLO refused, HELO works, closed: clean"
is "$(outcome 127.0.1.9)" inconclusive "421 at greeting: inconclusive"
is "$(outcome 127.0.1.10)" inconclusive "drops after RCPT: inconclusive"
is "$(outcome 127.0.1.12)" clean "auth required (530): clean"
is "$(outcome 127.0.1.13)" listed \
    "slow multi-line greeting: waited for, not spoken over; listed"
is "$(outcome 127.0.1.14)" clean "rejects at end of DATA: clean"
is "$(outcome 127.0.1.15)" inconclusive "endless multi-line greeting: inconclusive"
is "$(outcome 127.0.1.16)" inconclusive "endless greeting line: inconclusive"
like "$(ctl history 127.0.1.15)" "inconclusive \(garbage;" \
    "  cut off as garbage"
like "$(ctl history 127.0.1.16)" "inconclusive \(garbage;" \
    "  cut off as garbage"
# One byte every 0.25 s without end: the bound is the whole greeting's
# (timeout_greeting, 2 s), not a gap between bytes (about 10 minutes to
# the line limits).
is "$(outcome 127.0.1.17)" inconclusive \
    "a greeting trickled a byte at a time: inconclusive"
like "$(ctl history 127.0.1.17)" "inconclusive \(timeout;" \
    "  timed out at timeout_greeting"
like "$(ctl history 127.0.1.5)" "inconclusive \(timeout;" \
    "history says why a probe was inconclusive (timeout)"
n=0
while read -r form; do
	n=$((n + 1))
	like "$(grep "proberd: 127.0.2.$n: submit: " "$T/proberd.err")" \
	    "submit: listed \(form $form delivered by 127.0.2.$n;" \
	    "open for form $form alone: listed, by that form"
done < "$T/forms"

run ctl lookup 127.0.1.1
like "$out" "listed 127.0.0.2" "open relay listed 127.0.0.2"
like "$out" "kind +relay" "  as a confirmed relay"
like "$out" "evidence +#" "  with evidence"
run ctl lookup 127.0.1.104
like "$out" "listed 127.0.0.3" "multi-hop egress listed 127.0.0.3"
like "$out" "kind +egress" "  as egress"
for a in 127.0.1.2 127.0.1.3 127.0.1.5 127.0.1.6 127.0.1.7; do
	run ctl lookup $a
	is "$rc" 1 "$a not listed"
done
run ctl history 127.0.1.3
like "$out" "probe +127.0.1.3 by proberd: submit: suspect" \
    "history records the suspect"
run ctl queue
like "$out" "127.0.1.1 +retest" "listed relay queued for a retest"
like "$out" "127.0.1.5 +submit +1" "inconclusive requeued with a backoff"
is "$(dig @127.0.0.1 -p $dnsport +short 1.1.0.127.bl.test A)" 127.0.0.2 \
    "dnsbld answers the listing"

# Lifecycle: the relay is fixed, its owner asks for removal.
echo closed > "$FARMDIR/127.0.1.1"
run ctl delist 127.0.1.1
is "$rc" 0 "delist request queued"
i=0
while [ $i -lt 40 ] && ! grep -q '127.0.1.1: delist: ' "$T/proberd.err"; do
	sleep 0.5; i=$((i + 1))
done
like "$(grep '127.0.1.1: delist: ' "$T/proberd.err")" "delist: clean" \
    "removal retest: clean"
run ctl lookup 127.0.1.1
is "$rc" 1 "delisted"
is "$(dig @127.0.0.1 -p $dnsport +short 1.1.0.127.bl.test A)" "" \
    "dnsbld: NXDOMAIN now"
run ctl delist 127.0.1.1
is "$rc" 1 "a second removal request for an unlisted address: exit 1"

run ctl history 127.0.1.1
like "$out" "form [a-z-]+ delivered by 127.0.1.1" \
    "history names the form that relayed and who delivered it"
ev=$(ctl lookup 127.0.1.104 | sed -n 's/.*evidence *#\([0-9]*\).*/\1/p')
run ctl evidence "#$ev"
like "$out" "form that relayed: " "evidence names the form that relayed"
like "$(echo "$out" | sed -n '/== SMTP transcript/,/== message/p' |
    tr '\n' '|')" "^== SMTP transcript\|--- session 1\|S: 220 multihop[^|]*\|C: EHLO .*\|--- session 1: in progress\|" \
    "  has the transcript of the session that relayed, in progress"
like "$out" "== message as received" "  and the message as received"

kill -HUP $ppid
sleep 0.3
ok "$(kill -0 $ppid; echo $?)" "SIGHUP does not stop proberd"
like "$(cat "$T/proberd.err")" "SIGHUP: nothing to reread" "  it says so"
kill -TERM $ppid
daemon_wait $ppid
is $? 0 "SIGTERM: proberd exits 0"
like "$(cat "$T/proberd.err")" "stopping" "  and says so"

# Running work shows in the queue; SIGTERM abandons it, still queued.
sed 's/^timeout_greeting = .*/timeout_greeting = 60/' "$T/relaybl.conf" \
    > "$T/slow.conf"
"$DNSBLCTL" -c "$T/slow.conf" submit 127.0.1.11 >/dev/null 2>&1
daemon_start proberd2 "$PROBERD" -c "$T/slow.conf"
ppid=$pid
i=0
while [ $i -lt 20 ] && ! ctl queue | grep -q '127.0.1.11 .*running'; do
	sleep 0.25; i=$((i + 1))
done
like "$(ctl queue)" "127.0.1.11 +submit .* running" \
    "dnsblctl queue shows the probe running"
like "$(ctl queue)" "[0-9]+ queued, 1 running" "  and counts it"
kill -TERM $ppid
t0=$(date +%s)
daemon_wait $ppid
is $? 0 "SIGTERM mid-probe: exits 0"
ok "$([ $(( $(date +%s) - t0 )) -le 2 ] && echo 0 || echo 1)" \
    "  at once, not after the 60 s greeting timeout"
like "$(cat "$T/proberd2.err")" "1 probes in flight stay queued" \
    "  abandoning the probe in flight"
like "$(ctl queue)" "127.0.1.11 +submit .* pending" "  which is queued, pending"
done_testing
