#!/bin/sh
# web_removal.t -- a removal request through dnsblweb, run to its end by
# the real proberd against farm relays: a relay that is still open stays
# listed, and its request says so with the form that relayed; a listed
# address whose server now refuses everything is removed; the lookup
# shows the evidence (form, who delivered, transcript), and
# /v1/evidence/ID returns it whole.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/prober.sh"

PROBERD=$BIN/prober/proberd
DNSBLWEB=$BIN/dnsbl/dnsblweb
S=$T/store
ctl() { "$DNSBLCTL" -d "$S" "$@"; }
farmport=$(freeport)
sinkport=$(freeport)
webport=$(freeport)
U=http://127.0.0.1:$webport
TOKEN=0123456789abcdef0123456789abcdef

daemon_start farm python3 "$ROOT/tests/farm.py" $farmport \
    127.0.0.1:$sinkport 127.0.9.1=open 127.0.9.2=closed
daemon_ready $pid farm "farm: ready" 100
ok $? "the farm is up: an open relay and a closed server"

prober_conf "$T/relaybl.conf" "$S" $sinkport $farmport \
    timeout_connect=2 timeout_greeting=2 timeout_command=2 confirm_window=2
printf 'ops %s\n' "$TOKEN" > "$T/tokens"
cat >> "$T/relaybl.conf" <<CONF
[web]
listen = 127.0.0.1:$webport
tokens_file = $T/tokens
CONF
ctl init >/dev/null
# The closed server was listed by hand (say, an old listing).
ctl add 127.0.9.2 -t "an old listing" >/dev/null
"$DNSBLCTL" -c "$T/relaybl.conf" submit 127.0.9.1 >/dev/null 2>&1
daemon_start proberd "$PROBERD" -c "$T/relaybl.conf"
daemon_start web "$DNSBLWEB" -c "$T/relaybl.conf"
daemon_ready $pid web "ready" 100
ok $? "proberd and dnsblweb are up"
waitfor "$T/proberd.err" '127\.0\.9\.1: submit: listed' 100
ok $? "the open relay is listed"

req() { curl -s "$@"; }
js() {
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}

l=$(req "$U/v1/lookup/127.0.9.1")
is "$(js "$l" "d['kind']")" relay "lookup: kind relay"
like "$(js "$l" "d['evidence']['form']")" '^[a-z-]+$' \
    "  the evidence summary names the form that relayed"
is "$(js "$l" "d['evidence']['delivered_by']")" 127.0.9.1 \
    "  and who delivered the cookie"
ev=$(js "$l" "d['evidence']['id']")
e=$(req -H "Authorization: Bearer $TOKEN" "$U/v1/evidence/$ev")
like "$(js "$e" "d['text']")" '== SMTP transcript' \
    "/v1/evidence/ID: the whole evidence, transcript"
like "$(js "$e" "d['text']")" '== message as received' "  and the message"
page=$(req "$U/lookup?ip=127.0.9.1")
like "$page" 'Form that relayed' "the page: the form that relayed"
like "$page" 'S: 220 open\.farm\.test' "  the transcript, escaped text"
like "$page" 'Retest and remove' "  and the button"

# Still open: the removal retest lists it again.
r=$(req -X POST -d '{"address": "127.0.9.1"}' "$U/v1/removals")
id=$(js "$r" "d['id']")
like "$id" '^[0-9]+$' "removal of the open relay asked: id $id"
i=0
while [ $i -lt 100 ]; do
	s=$(js "$(req "$U/v1/removals/$id")" "d['state']")
	[ "$s" = "still listed" ] && break
	sleep 0.2; i=$((i + 1))
done
is "$s" "still listed" "  the retest relayed again: still listed"
st=$(req "$U/v1/removals/$id")
like "$(js "$st" "d['form']")" '^[a-z-]+$' "  with the form that relayed"
like "$(js "$st" "d['result']")" '^listed' "  and the probe's words"
like "$(req "$U/removal/$id")" 'Still listed' \
    "  the progress page says so, and stops refreshing"
ok "$(req "$U/removal/$id" | grep -q 'http-equiv="refresh"'; [ $? = 1 ];
    echo $?)" "  (no refresh once done)"
run ctl lookup 127.0.9.1
is "$rc" 0 "  still listed"

# The closed server: the retest is clean, the listing goes.
r=$(req -X POST -d '{"address": "127.0.9.2"}' "$U/v1/removals")
id2=$(js "$r" "d['id']")
i=0
while [ $i -lt 100 ]; do
	s=$(js "$(req "$U/v1/removals/$id2")" "d['state']")
	[ "$s" = removed ] && break
	sleep 0.2; i=$((i + 1))
done
is "$s" removed "removal of a listed closed server: removed"
run ctl lookup 127.0.9.2
is "$rc" 1 "  no longer listed"
like "$(req "$U/removal/$id2")" 'Removed\.' "  the page says Removed"
m=$(req -H "Authorization: Bearer $TOKEN" "$U/metrics")
like "$m" 'relaybl_probes_total\{outcome="listed"\} [1-9]' \
    "metrics count the probe outcomes since start"
like "$m" 'relaybl_probes_total\{outcome="clean"\} 1' "  the clean one too"
done_testing
