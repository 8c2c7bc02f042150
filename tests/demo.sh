#!/bin/sh
# demo.sh -- what `make run` shows: a demo store built from the example
# list, a few lookups against it, then dnsbld serving it on
# 127.0.0.1:5353, proberd, and dnsblweb (the lookup page and the API) on
# http://127.0.0.1:8080/ until Ctrl-C.  The store lives in state/ (ignored
# by git) and is rebuilt on every run.
set -e
cd "$(dirname "$0")/.."
CTL="dnsbl/dnsblctl -d state/demo"
rm -rf state/demo
mkdir -p state
echo "== building a demo store in state/demo from tests/demo.list"
$CTL init
$CTL import tests/demo.list
$CTL add 192.0.2.99 -r 127.0.0.2 -t "listed by hand for the demo"
for a in 192.0.2.1 192.0.2.33 198.51.100.77 198.51.100.70 203.0.113.200 \
    2001:db8:1234:5::1 192.0.2.100; do
	echo
	echo "\$ $CTL lookup $a"
	$CTL lookup $a || true
done
echo
echo "\$ $CTL history 192.0.2.99"
$CTL history 192.0.2.99
echo
echo "\$ $CTL stats"
$CTL stats

mkdir -p state
proberd_log=state/proberd.log
prober/proberd -c etc/relaybl.conf -d state/demo 2> "$proberd_log" &
prober=$!
# An operator token for the demo's API, made afresh each run.
token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
echo "demo $token" > state/web.tokens
chmod 600 state/web.tokens
web_log=state/dnsblweb.log
dnsbl/dnsblweb -c etc/relaybl.conf -d state/demo 2> "$web_log" &
web=$!
trap 'kill $prober $web 2>/dev/null; wait $prober $web 2>/dev/null' \
    EXIT INT TERM

cat <<TRY

== dnsblweb is serving the list's page and API on http://127.0.0.1:8080/
   (log: state/dnsblweb.log). Open it in a browser, or:
     curl http://127.0.0.1:8080/v1/lookup/192.0.2.99
     curl -H "Authorization: Bearer $token" http://127.0.0.1:8080/metrics
   The demo's operator token is in state/web.tokens.
TRY
cat <<'TRY'

== dnsbld is starting on 127.0.0.1:5353 (UDP and TCP), zone bl.relaybl.example
   Try, in another terminal:
     dig @127.0.0.1 -p 5353 2.0.0.127.bl.relaybl.example A     # RFC 5782 test point: listed
     dig @127.0.0.1 -p 5353 1.2.0.192.bl.relaybl.example TXT   # a demo listing (192.0.2.1)
     dig @127.0.0.1 -p 5353 100.2.0.192.bl.relaybl.example A   # unlisted: NXDOMAIN
     dig @127.0.0.1 -p 5353 +tcp 99.2.0.192.bl.relaybl.example A
     dnsbl/dnsblctl -d state/demo add 192.0.2.100   # then ask again: listed at once

== proberd is running beside it (log: state/proberd.log), sink on
   127.0.0.1:2525. It probes only what is submitted, and refuses private
   and loopback addresses (etc/relaybl.conf [prober] allow is empty):
     dnsbl/dnsblctl -d state/demo submit ADDRESS     # queue a relay test
     dnsbl/dnsblctl -d state/demo queue              # what is waiting
     dnsbl/dnsblctl -d state/demo history ADDRESS    # every probe and outcome
   Ctrl-C stops all three.
TRY
dnsbl/dnsbld -c etc/relaybl.conf -d state/demo -l 127.0.0.1:5353
