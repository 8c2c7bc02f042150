#!/bin/sh
# export.t -- dnsblctl export: the rbldnsd datasets loaded by rbldnsd and
# the zone file loaded by NSD answer as dnsbld does, address by address:
# single listings, octet and nibble prefixes, split prefixes (/9, /25,
# /50), exclusions inside prefixes, a listing inside an exclusion, own
# codes and texts, test points, and IPv4 prefixes whose names IPv6 names
# pass through (2.0.0.0/24 and 2001:db8::/32).
. "$(dirname "$0")/../lib/tap.sh"

S=$T/store
ctl() { "$DNSBLCTL" -c "$T/relaybl.conf" -d "$S" "$@" >/dev/null 2>&1; }
mkdir -p "$T/zones"
cat > "$T/zones/bl.test.zone" <<'EOF'
$ORIGIN bl.test.
$TTL 3600
@ IN SOA ns1.bl.test. hostmaster.bl.test. ( 1 3600 900 604800 600 )
@ IN NS ns1.bl.test.
ns1 IN A 192.0.2.53
@ IN TXT "test list"
EOF
cat > "$T/relaybl.conf" <<EOF
[dnsbld]
zones = $T/zones
ttl = 1800
txt_template = Listed, see https://bl.test/lookup?ip=\$
test_codes = 2, 3
EOF
ctl init
ok $? "store created"
for p in 192.0.2.1 203.0.113.0/24 10.20.0.0/16 172.0.0.0/9 \
    198.18.0.128/25 2.0.0.0/24 1.2.0.0/16 100.64.1.1 \
    2001:db8::1 2001:db8:1::/48 2001:db8:2::/52 2001:db8:3::/50 \
    2001:dc0::/28 3ff0::/12; do
	ctl add "$p" || echo "# add $p failed"
done
ctl add 198.51.100.7 -r 3 -t 'own text for $'
ctl add 10.20.30.40 -r 3
ctl add 2001:db8:1:7::/64 -r 3 -t 'v6 own'
for p in 203.0.113.7 203.0.113.32/28 172.16.5.0/24 100.64.0.0/16 \
    2001:db8:1:5::/64 2001:db8:2::9; do
	ctl exclude "$p" || echo "# exclude $p failed"
done

X() { "$DNSBLCTL" -c "$T/relaybl.conf" -d "$S" export "$@"; }
run X -f zone -o "$T/bl.zone" bl.test
is "$rc" 0 "export -f zone"
mkdir -p "$T/rbl"
chmod 755 "$T" "$T/rbl"
run X -f rbldnsd -o "$T/rbl/bl4.rbl" bl.test.
is "$rc" 0 "export -f rbldnsd"
run X -f rbldnsd6 -o "$T/rbl/bl6.rbl" bl.test
is "$rc" 0 "export -f rbldnsd6"
ls "$T"/*.tmp.* >/dev/null 2>&1
ok $((! $?)) "no temporary file is left"
run X -f zone nosuch.test
is "$rc" 2 "an unknown zone is an error"
run X -f bind bl.test
is "$rc" 2 "an unknown format is an error"
serial=$("$DNSBLCTL" -d "$S" stats | awk '$1 == "serial" { print $2 }')
like "$(grep SOA "$T/bl.zone")" " $serial 3600 900" "the SOA serial is the store's"
like "$(head -3 "$T/rbl/bl4.rbl")" "^\\\$SOA 3600 ns1.bl.test. hostmaster.bl.test. $serial " \
    "rbldnsd \$SOA with the store's serial"
run X bl.test
like "$out" '^\*\.113\.0\.203\.bl\.test\.	1800	IN	A	127\.0\.0\.2$' \
    "stdout by default; a /24 is a wildcard"

run ldns-read-zone "$T/bl.zone"
is "$rc" 0 "ldns-read-zone accepts the zone file"
run nsd-checkzone bl.test "$T/bl.zone"
is "$rc" 0 "nsd-checkzone accepts the zone file"
[ $rc = 0 ] || echo "$out" | head -5 | sed 's/^/# /'

# The three servers.
pd=$(freeport); pr=$(freeport); pn=$(freeport)
daemon_run dnsbld "$BIN/dnsbl/dnsbld" -c "$T/relaybl.conf" -d "$S" \
    -l "127.0.0.1:$pd"
ok $? "dnsbld ready"
chmod 644 "$T"/rbl/*
asuser=""
[ "$(id -u)" = 0 ] && asuser="-u nobody"
daemon_start rbldnsd rbldnsd -n $asuser -b "127.0.0.1/$pr" -w "$T/rbl" \
    bl.test:ip4trie:bl4.rbl bl.test:ip6trie:bl6.rbl
rpid=$pid
cat > "$T/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1@$pn
	username: ""
	chroot: ""
	zonesdir: "$T"
	database: ""
	zonelistfile: "$T/nsd.zonelist"
	xfrdfile: "$T/nsd.xfrd"
	xfrdir: "$T"
	pidfile: "$T/nsd.pid"
	logfile: "$T/nsd.log"
	verbosity: 1
remote-control:
	control-enable: no
zone:
	name: bl.test
	zonefile: "$T/bl.zone"
EOF
daemon_start nsd nsd -d -c "$T/nsd.conf"
npid=$pid
up() { dig @127.0.0.1 -p "$1" +short +time=1 +tries=1 bl.test SOA |
    grep -q hostmaster; }
i=0
while [ $i -lt 100 ] && ! { up "$pr" && up "$pn"; }; do
	sleep 0.1; i=$((i + 1))
done
up "$pr"; ok $? "rbldnsd loads the rbldnsd export"
[ $? = 0 ] || sed 's/^/# /' "$T/rbldnsd.err" "$T/rbldnsd.out" | tail -5
up "$pn"; ok $? "NSD loads the zone file"
[ $? = 0 ] || sed 's/^/# /' "$T/nsd.log" "$T/nsd.err" | tail -5

# name ADDR: the reversed name of an address, under bl.test.
name() {
	python3 -c 'import ipaddress,sys
a = ipaddress.ip_address(sys.argv[1])
print(a.reverse_pointer.rsplit(".", 2)[0] + ".bl.test")' "$1"
}
D() { dig @127.0.0.1 -p "$1" +short +time=2 +tries=1 "$2" "$3" | sort; }
# Every kind of address: L listed, N not, X excluded, R in a range, T test
# point; "exact" ones are compared for TXT too with NSD (a wildcard's TXT
# says the prefix where dnsbld says the address).
exact="192.0.2.1 192.0.2.2 198.51.100.7 10.20.30.40 203.0.113.7
203.0.113.33 100.64.1.1 100.64.2.2 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4
198.18.0.128 198.18.0.255 198.18.0.127 2001:db8::1 2001:db8::2 ::ffff:7f00:2
::ffff:7f00:1 ::ffff:7f00:3 2001:db8:2::9 2.0.0.1 2.0.1.1 1.2.3.4
1.2.0.0 1.3.0.0 2001:db8:5::1 2001::1 2002::1 2000::1 1200::1 1230::1"
ranges="2.0.0.200 3ff5::1 3fef::1 2001:dc5::1 203.0.113.1 203.0.113.47 203.0.113.48 10.20.1.1 10.21.1.1 172.0.0.1
172.127.255.255 172.128.0.1 172.16.5.9 172.16.6.9 2001:db8:1::1
2001:db8:1:5::1 2001:db8:1:6::1 2001:db8:1:7::1 2001:db8:2::1 2001:db8:2:1000::1
2001:db8:3::1 2001:db8:3:3fff::1 2001:db8:3:4000::1 2001:db8:4:1::1
2001:db8:f::1 2001:db9::1"
# Every name asked once per server and type, in one dig each (-f): the
# answers by name, "TYPE RDATA" joined in order, compared in one awk.
python3 -c 'import ipaddress, sys
for a in sys.argv[1:]:
    print(a, ipaddress.ip_address(a).reverse_pointer.rsplit(".", 2)[0] +
        ".bl.test")' $exact $ranges > "$T/names"
for p in $pd $pr $pn; do
	for t in A TXT; do
		awk -v t=$t '{ print $2, t }' "$T/names" > "$T/q"
		dig @127.0.0.1 -p $p +noall +answer +time=2 +tries=1 -f "$T/q" |
		    awk -v p=$p '{ print p, $0 }'
	done
done > "$T/answers"
awk -v pd=$pd -v pr=$pr -v pn=$pn -v exact=" $(echo $exact) " '
    FILENAME == ARGV[1] {
	k = $1 " " $2 " " $5; $1 = $2 = $3 = $4 = ""; v[k] = v[k] $0; next
    }
    {
	a = $1; q = $2 "."; n++
	da = v[pd " " q " A"]; dt = v[pd " " q " TXT"]
	if (v[pr " " q " A"] != da) bad = bad " " a
	# rbldnsd answers IPv4-mapped names from its IPv4 dataset: "$"
	# there is 127.0.0.2 where dnsbld says ::ffff:127.0.0.2.
	if (a !~ /^::ffff:/ && v[pr " " q " TXT"] != dt) badtxt = badtxt " " a
	if (v[pn " " q " A"] != da) badn = badn " " a
	if (index(exact, " " a " ") && v[pn " " q " TXT"] != dt)
		badntxt = badntxt " " a
    }
    END { print n; print bad; print badtxt; print badn; print badntxt }' \
    "$T/answers" "$T/names" > "$T/compared"
n=$(sed -n 1p "$T/compared")
bad=$(sed -n 2p "$T/compared"); badtxt=$(sed -n 3p "$T/compared")
badn=$(sed -n 4p "$T/compared"); badntxt=$(sed -n 5p "$T/compared")
ok "$([ "$(grep -c . "$T/answers")" -gt 100 ]; echo $?)" \
    "(the servers answered: $(grep -c . "$T/answers") records)"
is "$bad" "" "rbldnsd: A as dnsbld for $n addresses"
is "$badtxt" "" "rbldnsd: TXT as dnsbld"
is "$badn" "" "NSD: A as dnsbld for $n addresses"
is "$badntxt" "" "NSD: TXT of exact names as dnsbld"
is "$(D "$pn" "$(name 203.0.113.1)" TXT)" \
    '"Listed, see https://bl.test/lookup?ip=203.0.113.0/24"' \
    "NSD: a wildcard's TXT names the prefix"
is "$(D "$pd" "$(name 172.16.5.9)" A)" "" "dnsbld: the excluded /24 in the /9"
is "$(D "$pn" "$(name 172.5.1.1)" A)" "127.0.0.2" "NSD: inside the split /9"

# The export loop: one pass into a mirror directory.
run env RELAYBL_CONF="$T/relaybl.conf" DNSBLCTL="$DNSBLCTL" \
    STORE="$S" ONCE=1 sh "$ROOT/etc/export-loop.sh" "$T/mirror" bl.test
is "$rc" 0 "export-loop.sh: one pass"
ls "$T/mirror" | tr '\n' ' ' > "$T/ls"
is "$(cat "$T/ls")" "bl.test.rbldnsd bl.test.rbldnsd6 bl.test.zone " \
    "the mirror holds the three files"
done_testing
