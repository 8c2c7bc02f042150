#!/bin/sh
# store_failure.t -- a full or failing store: dnsblctl says "store is full",
# exits 2 and changes nothing; proberd stays up, keeps an outcome it could
# not write in memory (never probing that address again meanwhile), writes
# it once the store takes writes again, holds no write lock between tries,
# and stops at once on SIGTERM, naming what it loses.
#
# A really full store (a small map_size) in every build; in the sanitizer
# build, which honours RELAYBL_STORE_FAIL_AFTER/RELAYBL_STORE_FAIL_COUNT,
# also every write point of every dnsblctl command and of a proberd
# recording, failed in turn.
. "$(dirname "$0")/../lib/tap.sh"

PROBERD=$BIN/prober/proberd
# conf FILE DIR MAP_SIZE [EXTRA]: a configuration.
conf() {
	cat > "$1" <<CONF
[store]
dir = $2
map_size = $3
[prober]
probe_domain = probe.test
sink_listen = 127.0.0.1:$sinkport
smtp_port = $farmport
allow = ${4:-127.0.0.0/8, 192.0.2.0/24}
timeout_connect = 2
timeout_greeting = 2
timeout_command = 2
confirm_window = 2
listing_ttl = ${5:-90d}
secret_file = $T/secret
[dns]
; No IXFR journal: "full" here is the listings' and the queue's doing, so
; that a write which fills no more pages than proberd's fails as well
journal_size = 0
CONF
}
# fill CONF: imports ever smaller lists of new addresses until none fits.
fill() {
	n=0
	for size in 4096 1024 256 64 16 4 1 1; do
		while awk -v b=$n -v s=$size 'BEGIN { for (i = b; i < b + s; i++)
		    printf "10.%d.%d.%d\n", i / 65536, (i / 256) % 256, i % 256 }' |
		    "$DNSBLCTL" -c "$1" import - >/dev/null 2>&1; do
			n=$((n + size))
		done
		n=$((n + size))
	done
}
serial() { "$DNSBLCTL" -c "$1" stats | awk '$1 == "serial" { print $2 }'; }
# Whether this build honours the fault injection variables.
faults=0
"$DNSBLCTL" -d "$T/probe" init >/dev/null 2>&1
RELAYBL_STORE_FAIL_AFTER=0 "$DNSBLCTL" -d "$T/probe" add 192.0.2.1 \
    >/dev/null 2>&1 || faults=1

farmport=$(freeport)
sinkport=$(freeport)
daemon_start farm python3 "$ROOT/tests/farm.py" $farmport \
    127.0.0.1:$sinkport \
    127.0.1.1=open 127.0.1.2=closed 127.0.1.3=closed 127.0.1.4=open
daemon_ready $pid farm "farm: ready" 100
ok $? "the farm is up"

# --- dnsblctl on a store that is really full -------------------------------
conf "$T/tiny.conf" "$T/tiny" 16K
run "$DNSBLCTL" -c "$T/tiny.conf" init
is "$rc" 2 "init of a store too small for its tables: exit 2"
like "$out" "store is full \(raise map_size\)" "  says the store is full"

S=$T/full
conf "$T/small.conf" "$S" 128K
conf "$T/big.conf" "$S" 64M
small() { "$DNSBLCTL" -c "$T/small.conf" "$@"; }
small init >/dev/null
fill "$T/small.conf"
s0=$(serial "$T/small.conf")
printf '10.201.0.0/16\n10.202.0.1\n' > "$T/more"
for args in "add 10.200.0.1" "add 2001:db8:ffff::/48 -t new" \
    "import $T/more"; do
	run small $args
	is "$rc" 2 "full store: dnsblctl $args: exit 2"
	like "$out" "store is full \(raise map_size\)" "  says the store is full"
	is "$(printf '%s\n' "$out" | wc -l)" 1 "  in one line"
done
is "$(serial "$T/small.conf")" "$s0" "nothing changed (serial unchanged)"
run "$DNSBLCTL" -c "$T/big.conf" add 10.200.0.1
is "$rc" 0 "with a larger map_size the same add works"

# --- dnsblctl: every write point of every writing command, failed in turn ---
# sweep NAME SETUP ARGS...: runs dnsblctl ARGS on a fresh store (prepared
# by the shell function SETUP) with the Nth write failing, N = 0, 1, ...,
# until it succeeds.  Each failing run must exit 2, say the store is full
# in one line, print nothing on stdout and leave the serial as it was.
sweep() {
	name=$1 setup=$2
	shift 2
	n=0 bad=0
	rm -rf "$T/tpl"
	$setup "$T/tpl" >/dev/null 2>&1
	s0=$("$DNSBLCTL" -d "$T/tpl" stats | awk '$1 == "serial" { print $2 }')
	while [ $n -lt 60 ]; do
		rm -rf "$T/sw"
		cp -r "$T/tpl" "$T/sw"
		RELAYBL_STORE_FAIL_AFTER=$n "$DNSBLCTL" -c "$T/sw.conf" \
		    -d "$T/sw" "$@" > "$T/sw.out" 2> "$T/sw.err"
		r=$?
		[ $r -eq 0 ] && break
		s1=$("$DNSBLCTL" -d "$T/sw" stats | awk '$1 == "serial" { print $2 }')
		if [ $r -ne 2 ] || [ -s "$T/sw.out" ] || [ "$s0" != "$s1" ] ||
		    [ "$(wc -l < "$T/sw.err")" -ne 1 ] ||
		    ! grep -q "store is full" "$T/sw.err"; then
			bad=$((bad + 1))
			echo "# $name, write $n: exit $r, serial $s0 -> $s1:"
			sed 's/^/#   /' "$T/sw.out" "$T/sw.err"
		fi
		n=$((n + 1))
	done
	ok "$([ $n -gt 0 ] && [ $bad -eq 0 ] && [ $r -eq 0 ]; echo $?)" \
	    "dnsblctl $name: each of $n write points fails cleanly (exit 2, \"store is full\", nothing changed)"
}
setup_empty() { "$DNSBLCTL" -d "$1" init; }
setup_listed() {
	"$DNSBLCTL" -d "$1" init
	"$DNSBLCTL" -d "$1" add 192.0.2.9
	"$DNSBLCTL" -d "$1" exclude 198.51.100.0/24
}
printf '[prober]\nallow = 192.0.2.0/24\n' > "$T/sw.conf"
printf '192.0.2.1\n192.0.2.0/28 :127.0.0.3:text\n!192.0.2.4\n2001:db8::/32\n' \
    > "$T/list"
if [ $faults -eq 1 ]; then
	sweep add setup_empty add 192.0.2.1 -t text
	sweep "add (replacing)" setup_listed add 192.0.2.9 -r 3
	sweep del setup_listed del 192.0.2.9
	sweep exclude setup_listed exclude 192.0.2.0/24
	sweep unexclude setup_listed unexclude 198.51.100.0/24
	sweep import setup_listed import "$T/list"
	sweep submit setup_listed submit 192.0.2.1 192.0.2.2
	sweep delist setup_listed delist 192.0.2.9
else
	echo "# skipped: this build ignores RELAYBL_STORE_FAIL_AFTER"
fi

# --- proberd on a store that is really full --------------------------------
P=$T/pstore
conf "$T/p-small.conf" "$P" 128K "127.0.0.0/8" 1s
conf "$T/p-big.conf" "$P" 64M
conf "$T/p-narrow.conf" "$P" 128K "127.0.1.0/24" 1s
psmall() { "$DNSBLCTL" -c "$T/p-small.conf" "$@"; }
psmall init >/dev/null
psmall submit 127.0.1.1 >/dev/null 2>&1
daemon_start p0 "$PROBERD" -v -c "$T/p-small.conf"
ppid=$pid
waitfor "$T/p0.err" "127.0.1.1: submit: listed" 100
ok $? "proberd lists an open relay (listing_ttl 1 s, to expire later)"
kill -TERM $ppid
daemon_wait $ppid
psmall submit 127.0.1.2 127.0.0.99 >/dev/null 2>&1
fill "$T/p-small.conf"
run psmall add 10.200.0.1
is "$rc" 2 "the store is full"
sleep 2			# the listing of 127.0.1.1 expires

# Expiry and a refusal on a full store: logged, nothing blocks.
daemon_start p1 "$PROBERD" -v -c "$T/p-narrow.conf"
ppid=$pid
waitfor "$T/p1.err" "not probed .*could not say so" 50
ok $? "a refusal that cannot be written: proberd says so"
like "$(cat "$T/p1.err")" "could not expire 1 listings \(the store is full\)" \
    "an expiry that cannot be written: proberd says so"
ok "$(kill -0 $ppid; echo $?)" "  and stays up"
run timeout 10 "$DNSBLCTL" -c "$T/p-big.conf" stats
is "$rc" 0 "  holding no transaction: dnsblctl reads"
kill -TERM $ppid
t0=$(date +%s)
daemon_wait $ppid
is $? 0 "SIGTERM: exit 0"
ok "$([ $(( $(date +%s) - t0 )) -le 2 ]; echo $?)" "  at once"
"$DNSBLCTL" -c "$T/p-big.conf" queue > "$T/q" 2>&1
grep -q "127.0.0.99" "$T/q"
ok $? "the refused address is still queued (nothing written)"

# An outcome that cannot be written, then SIGTERM: lost, and said so.
daemon_start p2 "$PROBERD" -v -c "$T/p-small.conf"
ppid=$pid
waitfor "$T/p2.err" "127.0.1.2: submit: clean .*not written \(the store is full\); kept in memory" 100
ok $? "an outcome the store refuses: kept in memory"
kill -TERM $ppid
t0=$(date +%s)
daemon_wait $ppid
is $? 0 "SIGTERM with an outcome unwritten: exit 0"
ok "$([ $(( $(date +%s) - t0 )) -le 2 ]; echo $?)" "  at once"
like "$(cat "$T/p2.err")" "lost: 127.0.1.2: submit: clean" "  naming what is lost"
like "$("$DNSBLCTL" -c "$T/p-big.conf" queue)" "127.0.1.2 +submit" \
    "  which stays queued, to be probed again"

# Outcomes wait in memory, are not probed again, and are written once a
# process with a larger map_size has written to the store.
daemon_start p3 "$PROBERD" -v -c "$T/p-small.conf"
ppid=$pid
waitfor "$T/p3.err" "127.0.1.2: submit: clean .*not written" 100
ok $? "proberd: the outcome is kept in memory again"
sleep 4		# retries after 1 s, 2 s: all fail, the store is still full
is "$(grep -c '127.0.1.2: probing' "$T/p3.err")" 1 \
    "  and the address is probed once, not again while its outcome waits"
like "$(cat "$T/p3.err")" "outcomes wait in memory: the store is full; next try in [0-9]+ s" \
    "  retried with backoff"
t0=$(date +%s)
run timeout 10 "$DNSBLCTL" -c "$T/p-big.conf" add 192.0.2.77
is "$rc" 0 "meanwhile dnsblctl writes (with a larger map_size)"
ok "$([ $(( $(date +%s) - t0 )) -le 2 ]; echo $?)" \
    "  at once: proberd holds no write lock"
waitfor "$T/p3.err" "127.0.1.2: submit: clean .*\(written late\)" 200
ok $? "proberd writes the waiting outcome once the store has room"
like "$("$DNSBLCTL" -c "$T/p-big.conf" history 127.0.1.2)" \
    "probe +127.0.1.2 by proberd: submit: clean" "  into the audit trail"
ok "$(! "$DNSBLCTL" -c "$T/p-big.conf" queue | grep -q 127.0.1.2; echo $?)" \
    "  and off the queue"
"$DNSBLCTL" -c "$T/p-big.conf" submit 127.0.1.3 >/dev/null 2>&1
waitfor "$T/p3.err" "127.0.1.3: submit: clean \(" 100
ok $? "and goes on probing"
kill -TERM $ppid
daemon_wait $ppid
is $? 0 "SIGTERM: exit 0"

# --- proberd: every write point of a listing, failed in turn ---------------
if [ $faults -eq 1 ]; then
	conf "$T/f.conf" "$T/f" 0
	sed -i '/^map_size/d' "$T/f.conf"
	n=0 bad=0 clean=0
	while [ $n -lt 40 ]; do
		rm -rf "$T/f"
		"$DNSBLCTL" -c "$T/f.conf" init >/dev/null
		"$DNSBLCTL" -c "$T/f.conf" submit 127.0.1.4 >/dev/null 2>&1
		daemon_start f$n env RELAYBL_STORE_FAIL_AFTER=$n \
		    RELAYBL_STORE_FAIL_COUNT=1 "$PROBERD" -v -c "$T/f.conf"
		ppid=$pid
		waitfor "$T/f$n.err" "127.0.1.4: submit: listed .*(written late|tempfail [0-9]+\)$)" 100
		found=$?
		sleep 0.3
		audits=$("$DNSBLCTL" -c "$T/f.conf" history 127.0.1.4 |
		    grep -Ec 'probe +127.0.1.4')
		probes=$(grep -c '127.0.1.4: probing' "$T/f$n.err")
		alive=$(kill -0 $ppid 2>/dev/null; echo $?)
		kill -TERM $ppid
		daemon_wait $ppid
		r=$?
		"$DNSBLCTL" -c "$T/f.conf" lookup 127.0.1.4 >/dev/null 2>&1
		listed=$?
		if [ $found -ne 0 ] || [ "$probes" -ne 1 ] || [ $alive -ne 0 ] ||
		    [ $r -ne 0 ] || [ "$audits" -ne 1 ] || [ $listed -ne 0 ]; then
			bad=$((bad + 1))
			echo "# write $n failed: found $found, $probes probes, alive $alive, exit $r, $audits audits, lookup $listed"
			sed 's/^/#   /' "$T/f$n.err" | tail -8
		fi
		if ! grep -q "store is full" "$T/f$n.err"; then
			clean=1
			break
		fi
		n=$((n + 1))
	done
	ok "$([ $clean -eq 1 ] && [ $n -gt 10 ]; echo $?)" \
	    "proberd: $n write points of probing and listing failed in turn"
	is "$bad" 0 "  each time: one probe, the outcome written once (late), proberd up, SIGTERM exit 0"
else
	echo "# skipped: this build ignores RELAYBL_STORE_FAIL_AFTER"
fi

# dnsbld (read-only, threaded) maps the store at its own map_size; when a
# writer with a larger one grows the store past it, dnsbld maps the new
# size and goes on answering (it answered SERVFAIL until restarted).
printf '[store]\ndir = %s\nmap_size = 256K\n[dnsbld]\nworkers = 2\n' \
    "$T/grow" > "$T/grow-small.conf"
printf '[store]\ndir = %s\nmap_size = 64M\n' "$T/grow" > "$T/grow-big.conf"
cat > "$T/bl.test.zone" <<'ZONE'
$ORIGIN bl.test.
$TTL 3600
@ IN SOA ns1.bl.test. hostmaster.bl.test. ( 1 3600 900 604800 600 )
@ IN NS ns1.bl.test.
ZONE
"$DNSBLCTL" -c "$T/grow-small.conf" init >/dev/null
"$DNSBLCTL" -c "$T/grow-small.conf" add 192.0.2.7 >/dev/null
dport=$(freeport)
daemon_start grow-dnsbld "$BIN/dnsbl/dnsbld" -c "$T/grow-small.conf" \
    -z "$T/bl.test.zone" -l "127.0.0.1:$dport"
daemon_ready $pid grow-dnsbld ready 50
dq() { dig @127.0.0.1 -p $dport +norec +time=2 +tries=1 "$@" 2>&1; }
is "$(dq +short 7.2.0.192.bl.test A)" 127.0.0.2 "dnsbld on a 256K map: listed"
awk 'BEGIN { for (i = 0; i < 40000; i++)
    printf "10.%d.%d.%d\n", i / 65536, (i / 256) % 256, i % 256 }' |
    "$DNSBLCTL" -c "$T/grow-big.conf" import - >/dev/null
size=$(stat -c %s "$T/grow/data.mdb")
ok "$([ "$size" -gt 262144 ]; echo $?)" \
    "  a writer with map_size 64M grew the store past it ($size bytes)"
is "$(dq +short 7.2.0.192.bl.test A)" 127.0.0.2 \
    "  dnsbld still answers: listed (not SERVFAIL)"
is "$(dq +short 39.156.0.10.bl.test A)" 127.0.0.2 \
    "  and sees what was added past its old map"
is "$(dq +tcp +short 39.156.0.10.bl.test A)" 127.0.0.2 "  over TCP too"
like "$(cat "$T/grow-dnsbld.err")" "mapped its new size" "  and says so"
done_testing
