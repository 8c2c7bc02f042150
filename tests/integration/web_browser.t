#!/bin/sh
# web_browser.t -- dnsblweb end to end in a real headless Chromium
# (Selenium, tests/lib/web_browser.py): an open relay of the farm is
# submitted and listed by proberd; in the browser its administrator finds
# it from the home page's form, sees why (the form that relayed, the SMTP
# transcript with the relay's greeting, the message as it came back),
# fixes the relay, presses "Retest and remove" and watches the progress
# page refresh itself to "Removed"; dnsbld then answers NXDOMAIN and
# dnsblctl says not listed.  Also: an unlisted address, HTML typed as the
# address (escaped, 400, no script), every page at a phone's width.
# Screenshots: $T/shots, copied to build/test-output/web_browser/ (for
# RELAYBL_BIN=build/asan, build/test-output/web_browser/asan/), kept
# whether the test passes or not.
. "$(dirname "$0")/../lib/tap.sh"
. "$ROOT/tests/lib/prober.sh"

# Selenium as Debian packages it, under whichever python3 has it (a
# python3 earlier in PATH, such as pyenv's, may not).
PY=""
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 &&
	    "$p" -c 'import selenium' 2>/dev/null; then
		PY=$p
		break
	fi
done
if [ ! -x /usr/bin/chromedriver ] || [ -z "$PY" ] ||
    { [ ! -x /usr/lib/chromium/chromium ] && [ ! -x /usr/bin/chromium ]; }
then
	echo "1..0 # SKIP needs chromium, chromium-driver and python3-selenium (make deps)"
	exit 0
fi

PROBERD=$BIN/prober/proberd
DNSBLD=$BIN/dnsbl/dnsbld
DNSBLWEB=$BIN/dnsbl/dnsblweb
S=$T/store
ctl() { "$DNSBLCTL" -d "$S" "$@"; }
RELAY=127.0.8.1
UNLISTED=127.0.8.2

case $BIN in
"$ROOT"/.|"$ROOT") OUTDIR=$ROOT/build/test-output/web_browser ;;
*) OUTDIR=$ROOT/build/test-output/web_browser/$(basename "$BIN") ;;
esac
SHOTS=$T/shots
mkdir -p "$SHOTS"

# At exit (daemon_cleanup has stopped the browser script by then): the
# screenshots are kept, and a browser the script could not quit (killed)
# is found by its profile, which lies in $T, and stopped.
tap_cleanup() {
	for _p in /proc/[0-9]*; do
		# (a process may be gone by now: no error for that)
		tr '\0' ' ' 2>/dev/null < "$_p/cmdline" |
		    grep -qF -- "--user-data-dir=$T/chrome" &&
		    kill -KILL "${_p#/proc/}" 2>/dev/null
	done
	if ls "$SHOTS"/*.png >/dev/null 2>&1; then
		mkdir -p "$OUTDIR" && rm -f "$OUTDIR"/*.png &&
		    cp "$SHOTS"/*.png "$OUTDIR"/ &&
		    echo "# screenshots: $OUTDIR"
	fi
}

farmport=$(freeport)
sinkport=$(freeport)
dnsport=$(freeport)
webport=$(freeport)
export FARMDIR=$T/farm
mkdir -p "$FARMDIR"
daemon_start farm python3 "$ROOT/tests/farm.py" $farmport \
    127.0.0.1:$sinkport $RELAY=open $UNLISTED=closed
daemon_ready $pid farm "farm: ready" 100
ok $? "the farm is up: $RELAY an open relay"

prober_conf "$T/relaybl.conf" "$S" $sinkport $farmport \
    timeout_connect=2 timeout_greeting=2 timeout_command=2 \
    confirm_window=2 retest_interval=30d listing_ttl=90d
cat >> "$T/relaybl.conf" <<CONF
[web]
listen = 127.0.0.1:$webport
public_url = http://127.0.0.1:$webport/
trusted_proxies = 192.0.2.1
removal_rate = 5
contact = abuse@relaybl.test
CONF
cat > "$T/bl.test.zone" <<'ZONE'
$ORIGIN bl.test.
@ 60 IN SOA ns1.example. h.example. 1 3600 900 604800 60
@ 60 IN NS ns1.example.
ZONE
ctl init >/dev/null
run "$DNSBLCTL" -c "$T/relaybl.conf" submit $RELAY
ok $rc "$RELAY submitted"

daemon_start proberd "$PROBERD" -c "$T/relaybl.conf"
daemon_start dnsbld "$DNSBLD" -d "$S" -z "$T/bl.test.zone" \
    -l 127.0.0.1:$dnsport
daemon_ready $pid dnsbld "ready" 100
ok $? "dnsbld is up"
daemon_start dnsblweb "$DNSBLWEB" -c "$T/relaybl.conf"
webpid=$pid
daemon_ready $pid dnsblweb "ready" 100
ok $? "dnsblweb is up on 127.0.0.1:$webport"

waitfor "$T/proberd.err" "proberd: $RELAY: submit: " 300
like "$(grep "proberd: $RELAY: submit: " "$T/proberd.err")" \
    "submit: listed" "proberd lists the open relay"
run ctl lookup $RELAY
like "$out" "listed 127.0.0.2" "  dnsblctl: listed 127.0.0.2"
is "$(dig @127.0.0.1 -p $dnsport +short +tries=1 +time=2 \
    1.8.0.127.bl.test A)" 127.0.0.2 "  dnsbld: 1.8.0.127.bl.test A 127.0.0.2"
# Without all that, the browser has nothing to show.
if [ $tap_failed -gt 0 ]; then
	echo "# the set-up failed: no browser"
	done_testing
fi

# The browser.  Its checks come back as PASS/FAIL lines, one TAP test
# each; it is a daemon only so that it is stopped at exit, come what may.
t0=$(date +%s)
# The whole browser part gets 75 s (timeout passes a SIGTERM on to it).
daemon_start browser timeout -k 10 75 "$PY" "$ROOT/tests/lib/web_browser.py" \
    "http://127.0.0.1:$webport" $RELAY $UNLISTED "$FARMDIR/$RELAY" "$SHOTS"
daemon_wait $pid
brc=$?
while IFS= read -r line; do
	case $line in
	"PASS "*) tap_line 0 "${line#PASS }" ;;
	"FAIL "*) tap_line 1 "${line#FAIL }" ;;
	"#"*) echo "$line" ;;
	*) echo "# $line" ;;
	esac
done < "$T/browser.out"
is "$brc" 0 "the browser script ran to its end ($(($(date +%s) - t0)) s)"
[ "$brc" -eq 0 ] || sed 's/^/# /' "$T/browser.err" | tail -20

like "$(grep "proberd: $RELAY: delist: " "$T/proberd.err")" "delist: clean" \
    "proberd: the removal retest was clean"
run dig @127.0.0.1 -p $dnsport +tries=1 +time=2 1.8.0.127.bl.test A
like "$out" "status: NXDOMAIN" "dnsbld: 1.8.0.127.bl.test is NXDOMAIN now"
is "$(dig @127.0.0.1 -p $dnsport +short +tries=1 +time=2 \
    1.8.0.127.bl.test A)" "" "  no 127.0.0.2"
run ctl lookup $RELAY
is "$rc" 1 "dnsblctl lookup: not listed (exit 1)"
like "$(ctl history $RELAY)" "queue +$RELAY by web:127\.0\.0\.1: delist" \
    "  its history: the removal was asked for by web:127.0.0.1"
# Everything the browser made it do, dnsblweb survived, and it stops
# clean (under RELAYBL_BIN=build/asan: no leak, no error at exit).
daemon_stop $webpid
is $? 0 "dnsblweb: SIGTERM, exit 0"
run grep -E "Sanitizer|runtime error" "$T/dnsblweb.err"
is "$rc" 1 "  with no sanitizer report"
ok "$(ls "$SHOTS"/*.png 2>/dev/null | wc -l | awk '{ exit !($1 >= 8) }';
    echo $?)" "screenshots taken ($(ls "$SHOTS" | wc -l))"
done_testing
