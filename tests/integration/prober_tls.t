#!/bin/sh
# prober_tls.t -- [prober] starttls against the farm's STARTTLS hosts, and
# the retries a real relay needs: with starttls = auto a relay that wants
# TLS first (530 to MAIL) is tested over TLS and listed, the evidence
# saying so; one that refuses STARTTLS (454) or breaks the handshake is
# judged on the plain session; a plaintext injection after STARTTLS is
# not believed; with starttls = never the 530 is a refusal, clean.  A
# greylist relays on the second pass (tempfail_retry), a host that
# answers 421 once relays on the retry (retry_421).  Every probe leaves
# from source_address.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/prober.sh"

PROBERD=$BIN/prober/proberd
S=$T/store
ctl() { "$DNSBLCTL" -d "$S" "$@"; }
SRC=127.0.6.99		# source_address of the auto run
SRC2=127.0.6.98		# and of the never run

farmport=$(freeport)
sinkport=$(freeport)
daemon_start farm python3 "$ROOT/tests/farm.py" -p $farmport \
    127.0.0.1:$sinkport \
    127.0.6.1=starttls-open 127.0.6.2=starttls-closed \
    127.0.6.3=starttls-refuse 127.0.6.4=starttls-broken \
    127.0.6.5=starttls-inject 127.0.6.6=greylist 127.0.6.7=flaky421
daemon_ready $pid farm "farm: ready" 100
ok $? "the farm is up, with its STARTTLS hosts"
F=$T/farm.err

# conf FILE STARTTLS SOURCE: a proberd configuration.
conf() {
	prober_conf "$1" "$S" $sinkport $farmport timeout_connect=2 \
	    timeout_greeting=3 timeout_command=3 confirm_window=3 \
	    tempfail_retry=2 retry_421=1 starttls=$2 source_address=$3
}



ctl init >/dev/null
conf "$T/auto.conf" auto $SRC
"$DNSBLCTL" -c "$T/auto.conf" submit 127.0.6.1 127.0.6.2 127.0.6.3 \
    127.0.6.4 127.0.6.5 127.0.6.6 127.0.6.7 >/dev/null 2>&1
ok $? "seven farm hosts submitted"
daemon_start proberd "$PROBERD" -c "$T/auto.conf"
ppid=$pid
E=$T/proberd.err

for a in 1 2 3 4 5; do
	prober_passes 127.0.6.$a "$E" 1 150
done
prober_passes 127.0.6.6 "$E" 2 150
prober_passes 127.0.6.7 "$E" 2 150

# ev ADDR: the evidence of ADDR's listing ("" when there is none).
ev() { ctl evidence "$1" 2>/dev/null; }
# tls ADDR: what the farm logged of ADDR's STARTTLS sessions.
tls() { grep "^farm: $1: " "$F"; }

is "$(prober_outcomes 127.0.6.1 "$E")" listed \
    "530 before STARTTLS, open over TLS: listed"
like "$(ev 127.0.6.1)" "upgraded by STARTTLS: TLSv1\.[23] [A-Z0-9_-]+" \
    "  the evidence says the session was upgraded, with TLS 1.2 or 1.3"
like "$(ev 127.0.6.1)" "^\*: STARTTLS: TLSv1\.[23] [A-Z0-9_-]+$" \
    "  and its transcript has the STARTTLS line"
like "$(tls 127.0.6.1)" "TLS TLSv1\.[23] [A-Z0-9_-]+ with $SRC$" \
    "  the farm saw the handshake"
run ctl lookup 127.0.6.1
like "$out" "listed 127.0.0.2" "  lookup: listed 127.0.0.2"

is "$(prober_outcomes 127.0.6.2 "$E")" clean \
    "STARTTLS offered, relays nothing either way: clean"
like "$(tls 127.0.6.2)" "TLS TLSv1\.[23] [A-Z0-9_-]+ with $SRC$" \
    "  tested over TLS (auto: STARTTLS when advertised)"
run ctl lookup 127.0.6.2
is "$rc" 1 "  not listed"

is "$(prober_outcomes 127.0.6.3 "$E")" listed \
    "STARTTLS refused (454), open in the clear: listed"
ok "$(ev 127.0.6.3 | grep -q 'upgraded by STARTTLS'; [ $? = 1 ]; echo $?)" \
    "  the evidence does not say upgraded"
like "$(ev 127.0.6.3)" "form that relayed: " "  (there is evidence)"

is "$(prober_outcomes 127.0.6.4 "$E")" listed \
    "STARTTLS handshake broken, open in the clear: listed on the plain session"
like "$(tls 127.0.6.4)" "sent garbage for TLS to $SRC$" \
    "  the prober did try STARTTLS"
ok "$(ev 127.0.6.4 | grep -q 'upgraded by STARTTLS'; [ $? = 1 ]; echo $?)" \
    "  the evidence does not say upgraded"

is "$(prober_outcomes 127.0.6.5 "$E")" listed \
    "plaintext injected after STARTTLS, open over TLS: listed"
like "$(ev 127.0.6.5)" "upgraded by STARTTLS: TLSv1\.[23] " \
    "  over TLS"
is "$(tls 127.0.6.5 | grep -c 'injection believed')" 0 \
    "  the injected \"250 injected\" was not believed"

is "$(prober_outcomes 127.0.6.6 "$E")" "deferred listed" \
    "greylist: deferred first, listed on the pass after tempfail_retry"
run ctl lookup 127.0.6.6
like "$out" "listed 127.0.0.2" "  listed 127.0.0.2"

is "$(prober_outcomes 127.0.6.7 "$E")" "inconclusive listed" \
    "421 on the first connection: inconclusive, listed after retry_421"
run ctl lookup 127.0.6.7
like "$out" "listed 127.0.0.2" "  listed 127.0.0.2"

peers=$(sed -n 's/^farm: 127\.0\.6\.[0-9]* connection from //p' "$F" |
    sort -u)
is "$peers" $SRC "every probe connection came from source_address $SRC"
daemon_stop $ppid
is $? 0 "SIGTERM: proberd exits 0"

# starttls = never: the 530 is a refusal like any other.
S=$T/store2
ctl init >/dev/null
conf "$T/never.conf" never $SRC2
"$DNSBLCTL" -c "$T/never.conf" submit 127.0.6.1 >/dev/null 2>&1
daemon_start proberd2 "$PROBERD" -c "$T/never.conf"
prober_passes 127.0.6.1 "$T/proberd2.err" 1 100
is "$(prober_outcomes 127.0.6.1 "$T/proberd2.err")" clean \
    "starttls = never: the host that wants TLS first is clean"
n=$(tls 127.0.6.1 | grep -c "TLS.* with $SRC2")
is "$n" 0 "  and no TLS was tried"
run ctl lookup 127.0.6.1
is "$rc" 1 "  not listed"
like "$(grep "connection from $SRC2" "$F")" "127\.0\.6\.1 connection" \
    "  (probed from $SRC2)"
done_testing
