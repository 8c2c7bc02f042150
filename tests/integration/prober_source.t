#!/bin/sh
# prober_source.t -- [prober] source_address: every probe connects from
# the address given (the farm logs who connected), and the relay is
# listed; a source that is not a local address, or of the wrong family,
# or malformed, stops proberd at start-up (exit 2, naming the key).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/prober.sh"

PROBERD=$BIN/prober/proberd
S=$T/store
ctl() { "$DNSBLCTL" -d "$S" "$@"; }

farmport=$(freeport)
sinkport=$(freeport)
daemon_start farm python3 "$ROOT/tests/farm.py" -p $farmport \
    127.0.0.1:$sinkport 127.0.3.1=open
daemon_ready $pid farm "farm: ready" 100
ok $? "the farm is up, logging the peer of each connection"

# conf FILE KEY=VALUE...: a proberd configuration with these [prober] keys.
conf() {
	_f=$1
	shift
	prober_conf "$_f" "$S" $sinkport $farmport timeout_connect=2 \
	    timeout_greeting=2 timeout_command=2 confirm_window=3 "$@"
}

ctl init >/dev/null
conf "$T/src.conf" source_address=127.0.0.55
"$DNSBLCTL" -c "$T/src.conf" submit 127.0.3.1 >/dev/null 2>&1
ok $? "the open host submitted"
daemon_start proberd "$PROBERD" -c "$T/src.conf"
ppid=$pid
waitfor "$T/proberd.err" '127\.0\.3\.1: submit: ' 150
like "$(grep '127.0.3.1: submit: ' "$T/proberd.err")" "submit: listed" \
    "the open relay is listed"
like "$(cat "$T/proberd.err")" "probes to IPv4 addresses leave from 127.0.0.55" \
    "proberd says where its probes come from"
peers=$(sed -n 's/^farm: 127\.0\.3\.1 connection from //p' "$T/farm.err" |
    sort -u)
is "$peers" 127.0.0.55 "every probe connection came from 127.0.0.55"
run ctl lookup 127.0.3.1
like "$out" "listed 127.0.0.2" "  lookup: listed 127.0.0.2"
daemon_stop $ppid
is $? 0 "SIGTERM: proberd exits 0"

# badsource NAME KEY=VALUE PATTERN DESCRIPTION: proberd exits 2 at once,
# saying PATTERN.
badsource() {
	conf "$T/$1.conf" "$2"
	daemon_start "$1" "$PROBERD" -c "$T/$1.conf"
	daemon_wait $pid
	is $? 2 "$4: exit 2"
	like "$(cat "$T/$1.err")" "$3" "  naming the key and address"
}
badsource nonlocal source_address=192.0.2.77 \
    "source_address = 192\.0\.2\.77: not a local address" \
    "source_address 192.0.2.77, not this host's"
badsource v6in4 source_address=::1 \
    "source_address = ::1: an IPv6 address" \
    "source_address ::1, the wrong family"
badsource v4in6 source_address6=127.0.0.1 \
    "source_address6 = 127\.0\.0\.1: an IPv4 address" \
    "source_address6 127.0.0.1, the wrong family"
badsource malformed source_address=127.0.0.x \
    "source_address = 127\.0\.0\.x: not an IPv4 address" \
    "source_address 127.0.0.x, malformed"
ok "$(grep -l ready "$T/nonlocal.err" "$T/v6in4.err" "$T/v4in6.err" \
    "$T/malformed.err" >/dev/null; [ $? -ne 0 ]; echo $?)" \
    "  none of them got as far as ready"

# An IPv6 source that is local starts (when this host has ::1).
if ip -6 addr show lo 2>/dev/null | grep -q 'inet6 ::1/'; then
	conf "$T/v6.conf" source_address6=::1
	daemon_start v6 "$PROBERD" -c "$T/v6.conf"
	p6=$pid
	daemon_ready $p6 v6
	ok $? "source_address6 = ::1: proberd starts"
	daemon_stop $p6
else
	ok 0 "# SKIP no ::1 on this host"
fi
done_testing
