#!/bin/sh
# demo.sh -- what `make run` shows: a demo store built from the example
# list, and a few lookups against it.  The store lives in state/ (ignored
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
