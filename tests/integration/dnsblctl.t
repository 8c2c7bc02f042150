#!/bin/sh
# dnsblctl.t -- drives dnsblctl as an operator would: every command, its
# exit codes, bad input (which must change nothing), configuration, and
# the store shared between processes (readers during a write, kill -9).
. "$(dirname "$0")/../lib/tap.sh"

S=$T/store
ctl() { "$DNSBLCTL" -d "$S" "$@"; }
serial() { ctl stats | awk '$1 == "serial" { print $2 }'; }

# --- no store yet ---
run ctl lookup 192.0.2.1
is "$rc" 2 "lookup without a store: exit 2"
like "$out" "no store in .*dnsblctl init" "says how to create one"

run ctl init
is "$rc" 0 "init"
run ctl init
is "$rc" 0 "init again keeps the store"
# The umask decides, within 0660: never world-readable.
mode=$(printf '%o' $(( 0660 & ~$(umask) )))
is "$(stat -c %a "$S/data.mdb")" $mode "data.mdb mode 0660 less the umask ($(umask))"
is "$(stat -c %a "$S/lock.mdb")" $mode "lock.mdb mode 0660 less the umask ($(umask))"

# --- add / lookup / del ---
run ctl lookup 192.0.2.1
is "$rc" 1 "unlisted: exit 1"
like "$out" "192.0.2.1: not listed" "says not listed"
run ctl add 192.0.2.1 -r 127.0.0.3 -t "open relay, see https://example.test/"
is "$rc" 0 "add with code and text"
run ctl lookup 192.0.2.1
is "$rc" 0 "listed: exit 0"
like "$out" "listed 127.0.0.3" "code shown"
like "$out" "text +open relay, see https://example.test/" "text shown"
like "$out" "kind +manual" "kind manual"
like "$out" "source +dnsblctl:" "source names the tool and user"
run ctl add 198.51.100.0/24 -r 4
is "$rc" 0 "add a CIDR with a short code"
run ctl lookup 198.51.100.77
is "$rc" 0 "address inside the CIDR listed"
like "$out" "prefix +198.51.100.0/24" "the covering prefix named"
like "$out" "listed 127.0.0.4" "short code 4 is 127.0.0.4"
run ctl add 2001:db8::/32
is "$rc" 0 "add an IPv6 prefix"
run ctl lookup 2001:db8:ffff::1
is "$rc" 0 "IPv6 address inside it listed"
like "$out" "listed 127.0.0.2" "default code 127.0.0.2"

# --- exclude ---
run ctl exclude 198.51.100.64/26 -t "customer asked"
is "$rc" 0 "exclude a /26"
run ctl lookup 198.51.100.77
is "$rc" 1 "excluded address: exit 1"
like "$out" "excluded by 198.51.100.64/26" "names the exclusion"
run ctl lookup 198.51.100.1
is "$rc" 0 "outside the exclusion still listed"
run ctl unexclude 198.51.100.64/26
is "$rc" 0 "unexclude"
run ctl lookup 198.51.100.77
is "$rc" 0 "listed again"

# --- del ---
run ctl del 192.0.2.1 -t "fixed"
is "$rc" 0 "del"
run ctl lookup 192.0.2.1
is "$rc" 1 "gone after del"
run ctl del 192.0.2.1
is "$rc" 1 "del of an unlisted address: exit 1"
run ctl del 198.51.100.77
is "$rc" 1 "del of an address covered by a CIDR: exit 1"
like "$out" "not listed" "says it is not listed as such"

# --- bad input: exit 2, one clear line, nothing changed ---
s0=$(serial)
for args in "add 1.2.3.4/24" "add 300.1.2.3" "add 127.0.0.1" \
    "add 127.0.0.0/8" "add 0.0.0.0/0" "add ::/0" "add 192.0.2.9 -r 1" \
    "add 192.0.2.9 -r 10.0.0.2" "add 192.0.2.9 -k bogus" "lookup x" \
    "del 2001:db8::/129" "exclude 1.2.3"; do
	run ctl $args
	is "$rc" 2 "refused with exit 2: dnsblctl $args"
	is "$(printf '%s\n' "$out" | wc -l)" 1 "  one line: $out"
done
for args in bogus add lookup "add 192.0.2.9 -x"; do
	run ctl $args
	is "$rc" 2 "usage error, exit 2: dnsblctl $args"
	like "$out" "^usage: dnsblctl" "  shows the usage"
done
for args in "queue x" "evidence" "submit" "delist 1.2.3.4 5.6.7.8" \
    "add 192.0.2.9 --skip-bad"; do
	run ctl $args
	is "$rc" 2 "wrong operands or option, exit 2: dnsblctl $args"
	like "$out" "^usage: dnsblctl" "  shows the usage"
done
run ctl -h
like "$out" "add ADDR\|CIDR .*-k kind" "the usage names every option (add -k)"
is "$(serial)" "$s0" "bad commands changed nothing (serial unchanged)"
run ctl add 192.0.2.9 -t "$(head -c 300 /dev/zero | tr '\0' x)"
is "$rc" 2 "over-long text refused"

# --- import ---
cat > "$T/list" <<'LIST'
# a test list in rbldnsd syntax
:127.0.0.2:Listed as an open relay, see https://example.test/?$
203.0.113.1
203.0.113.2 :127.0.0.5:specific
203.0.113.16/28
203.0.113.64-95
!203.0.113.20
2001:db8:1234::/48
$TTL 300
LIST
run ctl import "$T/list"
is "$rc" 0 "import a list"
like "$out" "imported 5 listings, 1 exclusions" \
    "counts: two addresses, a /28, a range that is a /27, a /48"
like "$out" 'directive \$TTL ignored' "directive reported as ignored"
run ctl lookup 203.0.113.2
like "$out" "listed 127.0.0.5" "per-entry code"
run ctl lookup 203.0.113.70
is "$rc" 0 "range entry listed"
like "$out" "text +Listed as an open relay" "default text"
run ctl lookup 203.0.113.20
is "$rc" 1 "imported exclusion"
run ctl lookup 203.0.113.96
is "$rc" 1 "one past the range: not listed"

s0=$(serial)
printf '198.18.0.1\n198.18.0.2\n198.18.0.300\n198.18.0.4\n' > "$T/bad"
run ctl import "$T/bad"
is "$rc" 2 "a list with a bad line: exit 2"
like "$out" "bad:3: .*198.18.0.300" "error names the file, line and entry"
like "$out" "nothing imported" "and says nothing was imported"
run ctl lookup 198.18.0.1
is "$rc" 1 "the good lines were not imported either"
is "$(serial)" "$s0" "serial unchanged"
run ctl import --skip-bad "$T/bad"
is "$rc" 0 "--skip-bad imports the rest"
like "$out" "bad:3: skipped: " "reports the skipped line"
like "$out" "skipped 1 bad lines" "and counts it"
run ctl lookup 198.18.0.4
is "$rc" 0 "line after the bad one imported"
printf '100.64.0.1\n100.64.0.2\n' | ctl import - >/dev/null 2>&1
ok $? "import from stdin"
run ctl lookup 100.64.0.2
is "$rc" 0 "stdin entries listed"
run ctl import "$T/nonexistent"
is "$rc" 2 "missing list file: exit 2"

# --- history and stats ---
run ctl history 192.0.2.1
is "$rc" 0 "history"
like "$out" "list +192.0.2.1 127.0.0.3 by dnsblctl:" "the listing with who"
like "$out" "unlist +192.0.2.1 by dnsblctl:.*fixed" "the removal with why"
like "$out" "now: not listed" "and the current state"
run ctl history 198.51.100.77
like "$out" "exclude +198.51.100.64/26" "history includes covering prefixes"
run ctl history 203.0.113.70
like "$out" "now: listed 127.0.0.2 by 203.0.113.64/27 \(import, import " \
    "an imported address: where it came from"
run ctl stats
is "$rc" 0 "stats"
like "$out" "listings +[0-9]+ \(IPv4 [0-9]+, IPv6 2\)" "IPv6 count"
like "$out" "manual +2" "manual count"
like "$out" "import +10$" "import count: 5 + 3 + 2"
like "$out" "bytes/listing" "size per listing"
like "$out" "zone serial +$(serial) " \
    "zone serial: the last commit changed a listing, so the store's"
like "$out" "journal +[0-9]+ commits, [0-9]+ bytes: IXFR from serial 1 on" \
    "the journal, complete since the store began"

# --- configuration ---
mkdir -p "$T/etc"
printf '[store]\ndir = %s\n' "$S" > "$T/etc/relaybl.conf"
run "$DNSBLCTL" -c "$T/etc/relaybl.conf" lookup 203.0.113.1
is "$rc" 0 "store dir from the config file"
run "$DNSBLCTL" -c "$T/etc/relaybl.conf" -d "$T/other" lookup 203.0.113.1
is "$rc" 2 "-d overrides the config"
printf '[store\ndir = x\n' > "$T/etc/broken.conf"
run "$DNSBLCTL" -c "$T/etc/broken.conf" stats
is "$rc" 2 "config syntax error: exit 2"
like "$out" "broken.conf:1: syntax error" "names file and line"
printf '[store]\nmap_size = lots\n' > "$T/etc/bad.conf"
run "$DNSBLCTL" -c "$T/etc/bad.conf" stats
is "$rc" 2 "bad config value: exit 2"
run "$DNSBLCTL" -c "$T/nope.conf" stats
is "$rc" 2 "missing config file named with -c: exit 2"

# --- probe work: submit, delist, queue ---
run ctl submit 8.8.8.8 2001:4860::8888
is "$rc" 0 "submit two public addresses"
like "$out" "8.8.8.8 queued \(submit\)" "  queued"
s0=$(serial)
for args in "submit 192.168.1.1" "submit 127.0.0.1" "submit ::1" \
    "submit 8.8.4.0/24" "submit nonsense" "submit 8.8.4.4 10.0.0.1"; do
	run ctl $args
	is "$rc" 2 "refused with exit 2: dnsblctl $args"
done
like "$out" "10.0.0.1: special-use address" "  the refusal says why"
is "$(serial)" "$s0" "refused submissions queue nothing (not even 8.8.4.4)"
printf '[store]\ndir = %s\n[prober]\nallow = 127.0.0.0/8, ::1\n' "$S" \
    > "$T/allow.conf"
run "$DNSBLCTL" -c "$T/allow.conf" submit 127.0.0.5 ::1
is "$rc" 0 "[prober] allow lets loopback be submitted"
printf '1.0.0.1\n# comment\n\n1.0.0.2  # trailing\n' | ctl submit - > "$T/out" 2>&1
ok $? "submit from stdin"
is "$(grep -c queued "$T/out")" 2 "  two queued"
run ctl submit 8.8.8.8
like "$out" "already queued" "a second submission does not duplicate"
run ctl delist 9.9.9.9
is "$rc" 1 "delist of an unlisted address: exit 1"
ctl add 9.9.9.9 >/dev/null
run ctl delist 9.9.9.9
is "$rc" 0 "delist of a listed address"
like "$out" "9.9.9.9 queued \(delist\)" "  queues a removal retest"
ctl add 9.9.10.0/24 >/dev/null && ctl exclude 9.9.10.1 >/dev/null
run ctl delist 9.9.10.1
is "$rc" 1 "delist of an excluded address in a listed range: exit 1"
like "$out" "9.9.10.1: not listed" "  not listed"
run ctl delist 9.9.9.9
like "$out" "9.9.9.9 already queued \(delist" "a second removal request: already queued"
run ctl queue
is "$rc" 0 "queue"
like "$out" "9.9.9.9 +delist" "  shows the removal retest"
like "$out" "^7 queued" "  and counts all seven"
run ctl history 9.9.9.9
like "$out" "queue +9.9.9.9 by dnsblctl:.*delist" "history shows the queueing"

# --- many processes: readers during a bulk write; kill -9 mid-import ---
awk 'BEGIN { for (i = 0; i < 400000; i++)
    printf "10.%d.%d.%d\n", i / 65536, (i / 256) % 256, i % 256 }' \
    > "$T/big"
ctl import "$T/big" >/dev/null 2>&1 &
imp=$!
fails=0; n=0
while kill -0 $imp 2>/dev/null && [ $n -lt 200 ]; do
	ctl lookup 203.0.113.1 >/dev/null 2>&1 || fails=$((fails + 1))
	n=$((n + 1))
done
wait $imp
ok $? "bulk import of 400000 while others read"
is "$fails" 0 "every one of $n lookups during the import answered"
run ctl lookup 10.6.26.127
is "$rc" 0 "last address of the big import listed"

B=$T/killed
"$DNSBLCTL" -d "$B" init >/dev/null
"$DNSBLCTL" -d "$B" add 192.0.2.200 >/dev/null
awk 'BEGIN { for (i = 0; i < 400000; i++)
    printf "11.%d.%d.%d\n", i / 65536, (i / 256) % 256, i % 256 }' \
    > "$T/big2"
for delay in 0.05 0.2 0.4; do
	"$DNSBLCTL" -d "$B" import "$T/big2" >/dev/null 2>&1 &
	imp=$!
	sleep $delay
	kill -9 $imp 2>/dev/null
	wait $imp 2>/dev/null
	run "$DNSBLCTL" -d "$B" stats
	is "$rc" 0 "store opens after kill -9 at ${delay}s of an import"
	count=$(printf '%s\n' "$out" | awk '$1 == "listings" { print $2 }')
	case $count in 1|400001) r=0 ;; *) r=1 ;; esac
	ok $r "  all or nothing: $count listings"
	run "$DNSBLCTL" -d "$B" lookup 192.0.2.200
	is "$rc" 0 "  earlier listing intact"
	"$DNSBLCTL" -d "$B" del 11.0.0.1 >/dev/null 2>&1
	run "$DNSBLCTL" -d "$B" add 192.0.2.201
	is "$rc" 0 "  writable again"
	"$DNSBLCTL" -d "$B" del 192.0.2.201 >/dev/null 2>&1
done

done_testing
