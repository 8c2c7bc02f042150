#!/bin/sh
# transfer.t -- real secondaries follow dnsbld: Knot (knotd) and NSD on
# loopback transfer the zone from dnsbld (AXFR), then answer exactly as
# dnsbld does for listed, unlisted, range, excluded and test-point names;
# after each change they follow within seconds of dnsbld's NOTIFY (NSD's
# signed with TSIG) by IXFR, the differences from the store's journal,
# and still answer the sample exactly as dnsbld: a new listing, a
# removal, a hole cut in a range, a /25 split into names, an import, an
# IPv6 /48 with a hole.  NSD transfers from 127.0.0.3, where
# allow_transfer wants a TSIG key (hmac-sha256): it verifies every message
# of a multi-message transfer.  A peer outside allow_transfer, or unsigned
# where a key is wanted, is refused; a wrong signature gets NOTAUTH.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/secondary.sh"

if ! command -v knotd >/dev/null || ! command -v nsd >/dev/null; then
	echo "1..0 # SKIP needs knotd and nsd (packages knot, nsd)"
	exit 0
fi

DNSBLD=$BIN/dnsbl/dnsbld
S=$T/store
ctl() { "$DNSBLCTL" -d "$S" "$@"; }
dport=$(freeport)
kport=$(freeport)
nport=$(freeport)
mport=$(freeport)

ctl init >/dev/null
ctl add 192.0.2.7 >/dev/null
ctl add 192.0.2.8 -r 127.0.0.3 -t "egress of a relay" >/dev/null
ctl add 198.51.100.0/24 -t "a whole network" >/dev/null
ctl exclude 198.51.100.9 -t "a customer" >/dev/null
ctl add 10.20.0.0/16 >/dev/null
ctl add 2001:db8::7 >/dev/null
# Enough names that a transfer takes many messages (16 KB each).
python3 -c '
for i in range(3000):
    print("172.%d.%d.%d" % (16 + i // 65536, (i // 256) % 256, i % 256))' \
    > "$T/many.list"
ctl import "$T/many.list" >/dev/null
SECRET=$(head -c 32 /dev/urandom | base64)
echo "xfr-key. hmac-sha256 $SECRET" > "$T/tsig.keys"
mkdir -p "$T/zones"
cat > "$T/zones/bl.test.zone" <<'EOF'
$ORIGIN bl.test.
$TTL 3600
@	IN SOA	ns1.bl.test. hostmaster.bl.test. 1 3600 900 604800 300
	IN NS	ns1.bl.test.
ns1	IN A	192.0.2.53
EOF
cat > "$T/relaybl.conf" <<CONF
[store]
dir = $S
[dnsbld]
listen = 127.0.0.1:$dport
zones = $T/zones
txt_template = Listed, see http://bl.example/lookup?ip=\$
metrics_listen = 127.0.0.1:$mport
[dns]
allow_transfer = 127.0.0.1, 127.0.0.3 xfr-key
tsig_keys_file = $T/tsig.keys
notify = 127.0.0.1:$kport, 127.0.0.1:$nport xfr-key
notify_interval = 1
CONF
daemon_start dnsbld "$DNSBLD" -c "$T/relaybl.conf"
daemon_ready $pid dnsbld "ready" 100
ok $? "dnsbld is up, serving bl.test"

# Knot as a secondary.
knot_secondary "$T/knot" 127.0.0.1@$kport 127.0.0.1@$dport bl.test
daemon_start knot knotd -c "$T/knot/knot.conf"

# NSD as a secondary, signing with the key, from 127.0.0.3.
nsd_secondary "$T/nsd" 127.0.0.1@$nport 127.0.0.1@$dport bl.test xfr-key \
    "$SECRET" 127.0.0.3
daemon_start nsd nsd -d -c "$T/nsd/nsd.conf"

serial() { dig @127.0.0.1 -p "$1" +short bl.test SOA | awk '{ print $3 }'; }
# until_serial PORT SERIAL TENTHS: waits for a secondary to have SERIAL.
until_serial() {
	_i=0
	while [ $_i -lt "$3" ] && [ "$(serial "$1")" != "$2" ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	[ "$(serial "$1")" = "$2" ]
}
want=$(serial $dport)
until_serial $kport "$want" 150
ok $? "Knot has the zone at dnsbld's serial $want"
until_serial $nport "$want" 150
ok $? "NSD has it too, by a TSIG-signed transfer from 127.0.0.3"
like "$(cat "$T/dnsbld.err")" 'of bl\.test\.? serial [0-9]+ to 127\.0\.0\.3: done, [0-9]+ records in ([3-9]|[1-9][0-9]+) messages' \
    "  in many messages, each signed and verified by NSD"

# Every sample name as dnsbld answers it: A everywhere; TXT too, but
# for names inside a range listing, whose TXT a static zone cannot give
# per address ("$" in the template names the prefix there instead).
names="7.2.0.192 8.2.0.192 100.2.0.192 55.100.51.198 9.100.51.198
    1.2.20.10 255.255.20.10 1.1.20.10 2.0.0.127 3.0.0.127 1.0.0.127
    4.0.0.127 7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
ranged="1.2.20.10 255.255.20.10 1.1.20.10"
answers() {
	for n in $names; do
		types="A TXT"
		case " $ranged " in *" $n "*) types=A ;; esac
		for t in $types; do
			echo "$n.bl.test $t"
		done
	done > "$T/q.$1"
	# One dig for the whole sample; "NAME TYPE  IN TYPE RDATA " a line,
	# nothing after "NAME TYPE " where the answer section is empty.
	dig @127.0.0.1 -p "$1" +noall +answer -f "$T/q.$1" > "$T/a.$1"
	awk 'NR == FNR { k = $1 " " $4; $1 = $2 = ""; a[k] = a[k] $0 " "; next }
	    { n = $1; sub(/\.bl\.test$/, "", n)
	      printf "%s %s %s\n", n, $2, a[$1 ". " $2] }' "$T/a.$1" "$T/q.$1"
}
# same_answers NAME1 NAME2: Knot (NAME1) and NSD (NAME2) answer the sample
# as dnsbld does.
same_answers() {
	answers $dport > "$T/ans.dnsbld"
	answers $kport > "$T/ans.knot"
	answers $nport > "$T/ans.nsd"
	run diff "$T/ans.dnsbld" "$T/ans.knot"
	is "$rc" 0 "$1"
	[ "$rc" = 0 ] || echo "$out" | sed 's/^/# /'
	run diff "$T/ans.dnsbld" "$T/ans.nsd"
	is "$rc" 0 "$2"
	[ "$rc" = 0 ] || echo "$out" | sed 's/^/# /'
}
answers $dport > "$T/ans.dnsbld"
# Compared: the records a mail server reads.  (Where dnsbld says
# NXDOMAIN for an exclusion under a range, the zone says NODATA: the name
# exists to stop the wildcard.  Both are "not listed".)
like "$(cat "$T/ans.dnsbld")" '^7\.2\.0\.192 A +IN A 127\.0\.0\.2' \
    "(dnsbld answers the sample: a listing)"
like "$(cat "$T/ans.dnsbld")" '^9\.100\.51\.198 A $' \
    "(an exclusion inside a listed /24: nothing)"
like "$(dig @127.0.0.1 -p $kport +short 1.2.20.10.bl.test TXT)" \
    'ip=10\.20\.0\.0/16' "a range's TXT on the secondary names the range"
same_answers "Knot answers the ${names%% *} ... sample exactly as dnsbld" \
    "NSD answers it exactly as dnsbld"

# A change: the secondaries follow within seconds of the NOTIFY.
ctl add 203.0.113.5 >/dev/null
want=$(serial $dport)
t0=$(date +%s.%N)
until_serial $kport "$want" 100
ok $? "after a change, Knot follows to serial $want"
until_serial $nport "$want" 100
ok $? "  and NSD, told by a NOTIFY signed with the key it wants"
t1=$(date +%s.%N)
ok "$(awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 5) }'; echo $?)" \
    "  within 5 s (NOTIFY, notify_interval 1 s)"
is "$(dig @127.0.0.1 -p $kport +short 5.113.0.203.bl.test A)" 127.0.0.2 \
    "  Knot answers the new listing"
is "$(dig @127.0.0.1 -p $nport +short 5.113.0.203.bl.test A)" 127.0.0.2 \
    "  NSD too"
like "$(cat "$T/dnsbld.err")" 'NOTIFY sent to 2 secondaries' \
    "dnsbld logged its NOTIFY"
like "$(cat "$T/dnsbld.err")" "IXFR \(incremental: 1 prefixes changed, 0 records deleted, 2 added\) of bl\.test\.? serial $want to 127\.0\.0\.1: done" \
    "  by IXFR: the new listing's A and TXT, to Knot"
like "$(cat "$T/dnsbld.err")" "IXFR \(incremental: .*\) of bl\.test\.? serial $want to 127\.0\.0\.3: done" \
    "  and to NSD"
like "$(cat "$T/knot.err")" "IXFR, incoming, remote 127\.0\.0\.1@$dport, finished" \
    "  Knot logged the IXFR"
unlike "$(cat "$T/knot.err")" "fallback to AXFR|failed to store" \
    "  and stored it (no fallback to AXFR)"
like "$(cat "$T/nsd/nsd.log")" "received update to serial $want .* of [0-9]{3} bytes" \
    "  NSD took it in a few hundred bytes (the whole zone is 320 KB)"

# More changes, each followed by IXFR; the sample must still agree.
# follow WHAT: waits for both secondaries to reach dnsbld's serial, then
# compares their answers with dnsbld's.
follow() {
	_want=$(serial $dport)
	until_serial $kport "$_want" 100 && until_serial $nport "$_want" 100
	ok $? "$1: both secondaries at serial $_want"
	like "$(grep "serial $_want to" "$T/dnsbld.err")" \
	    "IXFR \\(incremental.*127\\.0\\.0\\.1: done" "  Knot by IXFR"
	like "$(grep "serial $_want to" "$T/dnsbld.err")" \
	    "IXFR \\(incremental.*127\\.0\\.0\\.3: done" "  NSD by IXFR"
	same_answers "  Knot answers the sample as dnsbld" "  NSD too"
}
names="$names 5.113.0.203 2.20.20.10 3.20.20.10 9.8.20.10 130.2.0.192
    1.2.0.192 7.200.51.198"
ranged="$ranged 2.20.20.10 3.20.20.10 9.8.20.10"
ctl del 203.0.113.5 >/dev/null
follow "a removal"
ctl exclude 10.20.20.0/24 -t "a customer's /24" >/dev/null
ctl add 10.20.20.3 -t "but this one" >/dev/null
follow "a hole cut in a listed /16, and a listing inside it"
is "$(dig @127.0.0.1 -p $kport +short 2.20.20.10.bl.test A)" "" \
    "  Knot: the hole is not listed"
is "$(dig @127.0.0.1 -p $kport +short 3.20.20.10.bl.test A)/$(dig \
    @127.0.0.1 -p $dport +short 3.20.20.10.bl.test A)" "/" \
    "  nor the listing inside it, for Knot as for dnsbld (exclusions win)"
ctl add 192.0.2.128/25 -t "a /25" >/dev/null
follow "a /25 (128 names)"
is "$(dig @127.0.0.1 -p $nport +short 130.2.0.192.bl.test A)" 127.0.0.2 \
    "  NSD: inside the /25, listed"
ctl del 10.20.0.0/16 >/dev/null
ctl unexclude 10.20.20.0/24 >/dev/null
follow "a range removed, its hole with it"
printf '198.51.100.200\n198.51.100.201\n' > "$T/two.list"
ctl import "$T/two.list" >/dev/null
follow "an import"
names="$names 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.0.0.0.8.b.d.0.1.0.0.2
    9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.0.0.0.8.b.d.0.1.0.0.2"
ranged="$ranged 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.0.0.0.8.b.d.0.1.0.0.2
    9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.0.0.0.8.b.d.0.1.0.0.2"
ctl add 2001:db8:5::/48 -t "an IPv6 /48" >/dev/null
ctl exclude 2001:db8:5::9 -t "one host in it" >/dev/null
follow "an IPv6 /48 with a hole"
is "$(dig @127.0.0.1 -p $nport +short 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.0.0.0.8.b.d.0.1.0.0.2.bl.test A)" 127.0.0.2 \
    "  NSD: inside the /48, listed"

# Who may transfer.
like "$(kdig @127.0.0.1 -p $dport -b 127.0.0.2 bl.test AXFR 2>&1)" \
    'REFUSED' "a peer outside allow_transfer: REFUSED"
like "$(kdig @127.0.0.1 -p $dport bl.test AXFR 2>&1)" \
    'bl\.test\..*SOA' "  one inside gets the zone"
like "$(kdig @127.0.0.1 -p $dport other.test AXFR 2>&1)" \
    'NOTAUTH' "a zone not served: NOTAUTH"
like "$(cat "$T/dnsbld.err")" 'transfer to 127\.0\.0\.2 refused: not in allow_transfer' \
    "  logged"
like "$(kdig @127.0.0.1 -p $dport -b 127.0.0.3 bl.test AXFR 2>&1)" \
    'REFUSED' "unsigned from where a key is wanted: REFUSED"
like "$(kdig @127.0.0.1 -p $dport -b 127.0.0.3 \
    -y "hmac-sha256:xfr-key:$SECRET" bl.test AXFR 2>&1)" \
    'bl\.test\..*SOA' "  signed with the key: the zone"
like "$(kdig @127.0.0.1 -p $dport -b 127.0.0.3 \
    -y "hmac-sha256:xfr-key:$(head -c 32 /dev/urandom | base64)" \
    bl.test AXFR 2>&1)" 'NOTAUTH|BADSIG' "  a wrong secret: NOTAUTH (BADSIG)"
like "$(cat "$T/dnsbld.err")" 'refused: TSIG BADSIG' "  logged"

# What the metrics say of all this.
curl -s "http://127.0.0.1:$mport/metrics" > "$T/metrics"
m() { awk -v k="$1" '$1 == k { print $2 }' "$T/metrics"; }
ok "$([ "$(m 'relaybl_dns_transfers_total{kind="ixfr_incremental"}')" -ge 14 ]
    echo $?)" "metrics: the IXFRs from the journal counted (2 secondaries, 7 changes)"
ok "$([ "$(m 'relaybl_dns_transfers_total{kind="axfr"}')" -ge 4 ]; echo $?)" \
    "  the AXFRs"
ok "$([ "$(m 'relaybl_dns_transfers_unfinished_total{result="refused"}')" \
    -ge 4 ]; echo $?)" "  the refusals"
is "$(m relaybl_dns_transfers_running)" 0 "  none running now"
ok "$([ "$(m 'relaybl_dns_notify_total{result="answered"}')" -ge 14 ]
    echo $?)" "  the NOTIFYs answered"
is "$(m 'relaybl_dns_notify_total{result="given_up"}')" 0 "  none given up"
done_testing
