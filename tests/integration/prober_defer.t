#!/bin/sh
# prober_defer.t -- temporary refusals (issue 10): a server that answers
# 4xx to every relay RCPT (Debian's Postfix, defer_unauth_destination) is
# probed once more after tempfail_retry and is clean when deferred again;
# a greylisting server relays on that second pass and is listed; a
# removal retest deferred twice delists; a 421 is retried after retry_421
# first, then with the backoff.
. "$(dirname "$0")/../lib/tap.sh"

PROBERD=$BIN/prober/proberd
S=$T/store
ctl() { "$DNSBLCTL" -d "$S" "$@"; }

farmport=$(freeport)
sinkport=$(freeport)
daemon_start farm python3 "$ROOT/tests/farm.py" $farmport \
    127.0.0.1:$sinkport \
    127.0.3.1=defer 127.0.3.2=greylist 127.0.3.3=greet421 127.0.3.4=defer \
    127.0.3.5=greylist3
daemon_ready $pid farm "farm: ready" 100
ok $? "the farm is up"

cat > "$T/relaybl.conf" <<CONF
[store]
dir = $S
[prober]
probe_domain = probe.test
sink_listen = 127.0.0.1:$sinkport
smtp_port = $farmport
allow = 127.0.0.0/8
timeout_connect = 2
timeout_greeting = 2
timeout_command = 2
confirm_window = 3
tempfail_retry = 2
retry_421 = 1
secret_file = $T/secret
CONF
ctl init >/dev/null
ctl add 127.0.3.4 -t "listed by hand" >/dev/null
"$DNSBLCTL" -c "$T/relaybl.conf" submit 127.0.3.1 127.0.3.2 127.0.3.3 \
    127.0.3.5 >/dev/null 2>&1
ok $? "four farm hosts submitted"
ctl delist 127.0.3.4 >/dev/null
ok $? "a removal request for a listed host that defers"
daemon_start proberd "$PROBERD" -c "$T/relaybl.conf"
E=$T/proberd.err

waitfor "$E" '127\.0\.3\.1: submit: deferred' 100
like "$(grep '127.0.3.1: submit: ' "$E" | head -1)" \
    "submit: deferred \(accepted 0, refused 0, tempfail 21\)" \
    "always 454: the first pass is deferred"
like "$(ctl queue)" "127\.0\.3\.1 +submit +0 .*deferred once" \
    "  queued again, marked deferred once, attempts not counted"
waitfor "$E" '127\.0\.3\.1: submit: clean' 100
like "$(grep '127.0.3.1: submit: ' "$E" | sed -n 2p)" \
    "submit: clean \(deferred again; accepted 0, refused 0, tempfail 21\)" \
    "  the second pass is clean"
is "$(grep -c '127.0.3.1: submit: ' "$E")" 2 "  two passes, no more"
run ctl lookup 127.0.3.1
is "$rc" 1 "  not listed"
n=$(ctl queue | grep -c '127\.0\.3\.1 ')
is "$n" 0 "  and no longer queued"
like "$(ctl history 127.0.3.1)" "submit: deferred .*
.*submit: clean" "  history: deferred, then clean"

waitfor "$E" '127\.0\.3\.2: submit: listed' 100
like "$(grep '127.0.3.2: submit: ' "$E" | head -1)" \
    "submit: deferred \(accepted 0, refused 0, tempfail 21\)" \
    "greylisting: the first pass is deferred"
like "$(grep '127.0.3.2: submit: ' "$E" | sed -n 2p)" "submit: listed" \
    "  the second pass relays: listed"
run ctl lookup 127.0.3.2
like "$out" "listed 127.0.0.2" "  listed 127.0.0.2"
like "$(ctl queue)" "127\.0\.3\.2 +retest +0 " \
    "  queued for a retest, not marked deferred"

# postgrey: greylisted by client, sender and recipient.  The second pass
# says the first pass's senders and recipients (the same cookies), so it
# is let by; new cookies would have been greylisted again: clean.
waitfor "$E" '127\.0\.3\.5: submit: (listed|clean)' 100
is "$(sed -n 's/^proberd: 127\.0\.3\.5: submit: \([a-z]*\).*/\1/p' "$E" |
    tr '\n' ' ')" "deferred listed " \
    "greylisting by triplet (postgrey): deferred, then listed"
like "$(ctl history 127.0.3.5)" "submit: listed" "  history: listed"

waitfor "$E" '127\.0\.3\.4: delist: clean' 100
like "$(grep '127.0.3.4: delist: ' "$E" | head -1)" "delist: deferred" \
    "removal retest of a host that defers: deferred first"
like "$(grep '127.0.3.4: delist: ' "$E" | sed -n 2p)" \
    "delist: clean \(deferred again;" "  then clean"
run ctl lookup 127.0.3.4
is "$rc" 1 "  and delisted"

# 421 at greeting: retried after retry_421 (1 s), then with the backoff.
waitfor "$E" '127\.0\.3\.3: submit: .*(.*)' 100
i=0
while [ $i -lt 60 ] && [ "$(grep -c '127.0.3.3: submit: ' "$E")" -lt 2 ]; do
	sleep 0.1; i=$((i + 1))
done
like "$(grep '127.0.3.3: submit: ' "$E" | head -1)" \
    "submit: inconclusive \(closed; accepted 0" \
    "421 at greeting: inconclusive, as before"
is "$(grep -c '127.0.3.3: submit: ' "$E")" 2 \
    "  retried within seconds (retry_421 = 1), not after 600 s"
run ctl queue
like "$out" "127\.0\.3\.3 +submit +2 " "  two attempts counted"
due=$(echo "$out" | awk '$2 == "127.0.3.3" { print $1 }')
left=$(( $(date -d "$due" +%s) - $(date +%s) ))
ok "$([ "$left" -gt 1000 ] && [ "$left" -le 1200 ] && echo 0 || echo 1)" \
    "  the next after the backoff, 1200 s (300 * 2^2): $left s"
sleep 1.5
is "$(grep -c '127.0.3.3: submit: ' "$E")" 2 "  and not a third time soon"
done_testing
