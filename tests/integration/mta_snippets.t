#!/bin/sh
# mta_snippets.t -- the README's mail-server snippets, taken from
# README.md as they stand (the fenced block after each "<!-- snippet:
# NAME -->"), the zone bl.example replaced by bl.test, run in the real
# programs against a real dnsbld: Postfix (reject_rbl_client in smtpd,
# and postscreen_dnsbl_sites with a weight), Exim (dnslists, in -bh host
# checking mode), rspamd (an rbl module rule and its scores) and
# SpamAssassin (check_rbl).  A listed relay (127.0.0.2) and a listed
# egress (127.0.0.3) are refused or scored, a clean address is not; a
# delisting is seen (by Postfix's smtpd once its process recycles: it
# caches DNSBL answers per process); while dnsbld gives the error answer
# (127.255.255.254) no snippet takes a listed address for listed.
#
# Postfix and Exim ask the system resolver, so everything runs in a
# network namespace made here (tests/lib/netns.sh), with dnsbld on
# 127.0.0.1:53 in it and /etc/netns/NS/resolv.conf naming it (`ip netns
# exec` mounts it over /etc/resolv.conf); passwd and group are mounted the same way with the
# Debian-exim user that the unpacked Exim binary looks up.  Exim is not
# installed (it conflicts with postfix): `make exim` unpacks it into
# build/exim.  Needs root; a program that is missing skips its checks.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/../lib/postfix.sh"

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null ||
    ! command -v dig >/dev/null; then
	echo "1..0 # SKIP needs root, ip (iproute2) and dig"
	exit 0
fi

DNSBLD=$BIN/dnsbl/dnsbld
S=$T/store
NS=relaybl-mta-$$
NSETC=/etc/netns/$NS
LISTED=192.0.2.25	# an open relay: 127.0.0.2
EGRESS=192.0.2.26	# a multi-hop egress: 127.0.0.3
CLEAN=192.0.2.30	# not listed
LATE=192.0.2.27		# listed; asked only while dnsbld gives the error answer
EXIMROOT=$ROOT/build/exim
RSPAMD_PORT=11333

nsx() { ip netns exec "$NS" "$@"; }

tap_cleanup() {
	pf_stop_all
	netns_cleanup
}

# snippet NAME: the README's block, zone and all as written.
snippet() {
	awk -v name="$1" '
	    $0 == "<!-- snippet: " name " -->" { want = 1; next }
	    want && /^```/ { if (inside) exit; inside = 1; next }
	    inside { print }' "$ROOT/README.md"
}
# test_snippet NAME [PATTERN]: the block, with the test's zone, in
# $T/snippet-NAME; a TAP line says whether README.md has it, and has
# PATTERN (grep -E; default: the zone bl.example) in it.
test_snippet() {
	_s=$(snippet "$1")
	printf '%s\n' "$_s" | grep -Eq "${2:-bl\.example}"
	ok $? "README has the $1 snippet, with ${2:-its zone bl.example}"
	printf '%s\n' "$_s" | sed 's/bl\.example/bl.test/g' > "$T/snippet-$1"
}

# --- The namespace, dnsbld in it, a store with the test's listings ---
if ! netns_add "$NS" 2>/dev/null; then
	echo "1..0 # SKIP cannot create a network namespace"
	exit 0
fi
netns_resolver "$NS" 127.0.0.1
cp /etc/passwd "$NSETC/passwd"
cp /etc/group "$NSETC/group"
getent passwd Debian-exim >/dev/null || echo \
    "Debian-exim:x:65534:65534:exim for mta_snippets.t:/nonexistent:/usr/sbin/nologin" \
    >> "$NSETC/passwd"
getent group Debian-exim >/dev/null || echo "Debian-exim:x:65534:" \
    >> "$NSETC/group"
rc=0
for a in $LISTED $EGRESS $CLEAN $LATE; do
	nsx ip addr add "$a/32" dev lo || rc=1
done
ok $rc "namespace $NS: loopback up, the clients' addresses on it"

"$DNSBLCTL" -d "$S" init >/dev/null &&
    "$DNSBLCTL" -d "$S" add $LISTED >/dev/null &&
    "$DNSBLCTL" -d "$S" add $EGRESS -r 3 >/dev/null &&
    "$DNSBLCTL" -d "$S" add $LATE >/dev/null
ok $? "store: $LISTED (127.0.0.2), $EGRESS (127.0.0.3), $LATE listed"
cat > "$T/bl.test.zone" <<'EOF'
$ORIGIN bl.test.
$TTL 3600
@ IN SOA ns1.bl.test. hostmaster.bl.test. ( 1 3600 900 604800 60 )
@ IN NS ns1.bl.test.
ns1 IN A 192.0.2.53
EOF
echo "# every client is answered" > "$T/access"
cat > "$T/relaybl.conf" <<EOF
[dnsbld]
ttl = 1
txt_template = Listed as an open relay, see https://bl.test/lookup?ip=\$
test_codes = 2, 3
access_file = $T/access
EOF
daemon_run dnsbld netns_daemon "$NS" "$DNSBLD" -c "$T/relaybl.conf" -d "$S" \
    -z "$T/bl.test.zone" -l 127.0.0.1:53
ok $? "dnsbld answers on 127.0.0.1:53 in the namespace"
if [ $tap_failed -ne 0 ]; then
	echo "# no dnsbld or no namespace; every other test needs them"
	done_testing
fi
dnsbld=$pid
is "$(nsx dig +short +time=2 +tries=1 25.2.0.192.bl.test A)" 127.0.0.2 \
    "  through the namespace's resolv.conf: $LISTED listed"

# --- Start what takes seconds: rspamd, two Postfix instances ---
have_rspamd=0
if command -v rspamd >/dev/null && command -v rspamc >/dev/null; then
	have_rspamd=1
	test_snippet rspamd-rbl
	test_snippet rspamd-scores RELAYBL_RELAY
	mkdir -p "$T/rspamd"
	# The effective TLD list only for URLs rspamd will not see: the
	# full one takes 20 s to compile.
	printf 'test\nexample\n' > "$T/rspamd/tld.dat"
	cat > "$T/rspamd/rspamd.conf" <<EOF
options {
  pidfile = "$T/rspamd/rspamd.pid";
  tempdir = "$T/rspamd";
  url_tld = "$T/rspamd/tld.dat";
  dns { nameserver = ["127.0.0.1:53"]; timeout = 2s; retransmits = 1; }
}
logging { type = "console"; level = "info"; }
worker "normal" { bind_socket = "127.0.0.1:$RSPAMD_PORT"; count = 1; }
modules { path = "/usr/share/rspamd/plugins/rbl.lua"; }
rbl { .include "$T/snippet-rspamd-rbl" }
group "rbl" { .include "$T/snippet-rspamd-scores" }
EOF
	daemon_start rspamd netns_daemon "$NS" rspamd -f -i -c "$T/rspamd/rspamd.conf" \
	    --var "DBDIR=$T/rspamd" --var "RUNDIR=$T/rspamd"
	rspamd=$pid
fi

have_postfix=0
if command -v postfix >/dev/null && command -v swaks >/dev/null; then
	have_postfix=1
	test_snippet postfix-smtpd
	test_snippet postfix-postscreen
	chmod 755 "$T"	# the postfix user must reach its data directory
	pf_instances="$T/pf-smtpd $T/pf-screen"
	# One smtpd process (default_process_limit), so that the session
	# after a delisting meets the process that cached the listing.
	(pf_start "$T/pf-smtpd" 127.0.0.1 2525 127.0.0.1 9 closed "$NS" \
	    "$(cat "$T/snippet-postfix-smtpd")
default_process_limit = 1"; echo $? > "$T/pf-smtpd.rc") &
	pf1=$!
	(pf_start "$T/pf-screen" 127.0.0.1 2526 127.0.0.1 9 postscreen "$NS" \
	    "$(cat "$T/snippet-postfix-postscreen")"
	    echo $? > "$T/pf-screen.rc") &
	pf2=$!
fi

# --- Exim: dnslists, sessions in host checking mode (-bh) ---
if [ ! -x "$EXIMROOT/usr/sbin/exim4" ]; then
	make -s -C "$ROOT" exim > "$T/exim-fetch.log" 2>&1
fi
if [ -x "$EXIMROOT/usr/sbin/exim4" ]; then
	have_exim=1
	test_snippet exim
	mkdir -p "$T/exim/spool"
	exim_conf() {	# exim_conf SNIPPET-FILE: the whole configuration
		cat <<EOF
spool_directory = $T/exim/spool
log_file_path = $T/exim/%slog
primary_hostname = mx.lab.test
domainlist local_domains = lab.test
acl_smtp_rcpt = acl_check_rcpt

begin acl

acl_check_rcpt:
$(cat "$1")
  accept  domains = +local_domains
  deny    message = relay not permitted
EOF
	}
	exim_conf "$T/snippet-exim" > "$T/exim/exim.conf"
	# The same without its code list, to show why the snippet has one.
	sed 's/=127\.0\.0\.2,127\.0\.0\.3//' "$T/snippet-exim" > "$T/exim-bare"
	exim_conf "$T/exim-bare" > "$T/exim/bare.conf"
	printf 'HELO client.example\r\nMAIL FROM:<a@client.example>\r\nRCPT TO:<postmaster@lab.test>\r\nQUIT\r\n' \
	    > "$T/exim/session"
	# exim_bh IP [CONF]: a test session from IP; sets $out (replies,
	# the log lines on stderr too).
	exim_bh() {
		out=$(nsx env LD_LIBRARY_PATH="$(echo "$EXIMROOT"/usr/lib/*-linux-gnu)" \
		    "$EXIMROOT/usr/sbin/exim4" -C "$T/exim/${2:-exim}.conf" \
		    -bh "$1" < "$T/exim/session" 2>&1)
	}
	exim_bh $LISTED
	like "$out" "^550-$LISTED is listed in bl\.test: Listed as an open relay" \
	    "Exim: listed relay $LISTED refused at RCPT (550)"
	like "$out" "LOG: .* rejected RCPT <postmaster@lab\.test>: $LISTED is listed in bl\.test: Listed as an open relay, see https://bl\.test/lookup\?ip=$LISTED\$" \
	    "  with the listing's TXT in the reply"
	exim_bh $EGRESS
	like "$out" "^550-$EGRESS is listed in bl\.test" \
	    "Exim: listed egress $EGRESS (127.0.0.3) refused"
	exim_bh $CLEAN
	like "$out" "^250 Accepted" "Exim: clean $CLEAN accepted"
	exim_bh 127.0.0.2
	like "$out" "^550-127\.0\.0\.2 is listed in bl\.test" \
	    "Exim: the test point 127.0.0.2 refused (the README's wiring check)"
	exim_bh 127.0.0.1
	like "$out" "^250 Accepted" "Exim: the test point 127.0.0.1 accepted"
else
	have_exim=0
	skip "Exim checks" "no build/exim (make exim: $(tail -1 "$T/exim-fetch.log"))"
fi

# --- SpamAssassin: check_rbl on the relay that brought the message in ---
have_sa=0
if command -v spamassassin >/dev/null; then
	have_sa=1
	test_snippet spamassassin
	mkdir -p "$T/sa/rules" "$T/sa/site"
	cat > "$T/sa/rules/init.pre" <<'EOF'
loadplugin Mail::SpamAssassin::Plugin::Check
loadplugin Mail::SpamAssassin::Plugin::DNSEval
EOF
	# Our own relays are 198.51.100.0/24: the MX that took the message
	# from the outside relay, then the filter host.  The lab's settings
	# are the (only) rules file; the snippet is local.cf, as README says.
	cat > "$T/sa/rules/10_lab.cf" <<'EOF'
dns_available yes
dns_server 127.0.0.1
trusted_networks 198.51.100.0/24
internal_networks 198.51.100.0/24
util_rb_tld test example
required_score 5
report_safe 0
add_header all Status _YESNO_, score=_SCORE_ required=_REQD_ tests=_TESTS_
EOF
	cp "$T/snippet-spamassassin" "$T/sa/site/local.cf"
	# sa IP [SITE]: a message relayed by IP to our MX, checked with the
	# local.cf of $T/sa/SITE (default: site); sets $out (X-Spam-Status).
	sa() {
		printf '%s\n' \
		    "Received: from mx.lab.test (mx.lab.test [198.51.100.10])" \
		    "	by filter.lab.test (Postfix) with ESMTP id 9F00D1" \
		    "	for <root@lab.test>; Sun, 29 Nov 2026 12:00:01 +0000" \
		    "Received: from client.example (client.example [$1])" \
		    "	by mx.lab.test (Postfix) with ESMTP id 4AB12C0FFEE" \
		    "	for <root@lab.test>; Sun, 29 Nov 2026 12:00:00 +0000" \
		    "From: a@client.example" "To: root@lab.test" \
		    "Subject: test" "Message-ID: <$1@client.example>" \
		    "Date: Sun, 29 Nov 2026 12:00:00 +0000" "" "hello" \
		    > "$T/sa/msg"
		out=$(nsx env HOME="$T/sa" spamassassin -x \
		    --configpath="$T/sa/rules" \
		    --siteconfigpath="$T/sa/${2:-site}" \
		    < "$T/sa/msg" 2>&1 | grep '^X-Spam-Status:')
	}
	# The rule without its third argument, to show why it has one.
	mkdir -p "$T/sa/bare"
	sed "s/, '[^']*')\$/)/" "$T/snippet-spamassassin" > "$T/sa/bare/local.cf"
	sa $LISTED
	like "$out" "score=3\.0 .*tests=RCVD_IN_RELAYBL" \
	    "SpamAssassin: relayed by listed $LISTED: RCVD_IN_RELAYBL, 3 points"
	sa $EGRESS
	like "$out" "tests=RCVD_IN_RELAYBL" \
	    "SpamAssassin: relayed by listed egress $EGRESS: RCVD_IN_RELAYBL"
	sa $CLEAN
	like "$out" "score=0\.0 .*tests=none" \
	    "SpamAssassin: relayed by clean $CLEAN: no hit"
else
	skip "SpamAssassin checks" "spamassassin not installed"
fi

# --- rspamd: the rbl rule on the client address the MTA hands it ---
printf '%s\r\n' "From: a@client.example" "To: root@lab.test" \
    "Subject: test" "Message-ID: <1@client.example>" \
    "Date: Sun, 29 Nov 2026 12:00:00 +0000" "" "hello" > "$T/msg.eml"
# rspamc_as IP: sets $out (the symbols found).
rspamc_as() {
	out=$(nsx rspamc -h "127.0.0.1:$RSPAMD_PORT" -t 10 -i "$1" \
	    -F a@client.example -r root@lab.test symbols "$T/msg.eml" 2>&1)
}
if [ $have_rspamd = 1 ]; then
	daemon_ready $rspamd rspamd "starting normal process" 300
	ok $? "rspamd up with the README's rbl rule and scores"
	# The worker may take a moment to accept after it says so.
	i=0
	until rspamc_as $CLEAN; printf '%s\n' "$out" | grep -q '^Score:' ||
	    [ $i -ge 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	rspamc_as $LISTED
	like "$out" "^Symbol: RELAYBL_RELAY \(6\.00\)\[$LISTED:from\]" \
	    "rspamd: listed $LISTED: RELAYBL_RELAY, 6 points"
	rspamc_as $EGRESS
	like "$out" "^Symbol: RELAYBL_EGRESS \(4\.00\)\[$EGRESS:from\]" \
	    "rspamd: listed egress $EGRESS: RELAYBL_EGRESS, 4 points"
	rspamc_as $CLEAN
	like "$out" "^Score: 0\.00" "rspamd: clean $CLEAN: score 0"
	printf '%s\n' "$out" | grep -q RELAYBL
	ok $((! $?)) "  and no RELAYBL symbol"
else
	skip "rspamd checks" "rspamd not installed"
fi

# --- Postfix: reject_rbl_client, and postscreen with a weight ---
# swaks_to IP PORT: an SMTP session from IP, as far as RCPT.
swaks_to() {
	nsx swaks --server "127.0.0.1:$2" --local-interface "$1" \
	    --ehlo client.example --from a@client.example --to root@localhost \
	    --quit-after RCPT --timeout 20 2>&1
}
# swaks_as IP PORT: swaks_to; sets $out.
swaks_as() { out=$(swaks_to "$@"); }
# swaks_bg IP PORT NAME: swaks_to with its output in $T/NAME (run it in
# the background: postscreen makes every client wait 2 s).
swaks_bg() { swaks_to "$1" "$2" > "$T/$3"; }
if [ $have_postfix = 1 ]; then
	wait $pf1 $pf2
	is "$(cat "$T/pf-smtpd.rc")" 0 \
	    "Postfix (smtpd with reject_rbl_client) started in the namespace"
	is "$(cat "$T/pf-screen.rc")" 0 \
	    "Postfix (postscreen with postscreen_dnsbl_sites) started"
	# postscreen's sessions side by side, while smtpd's run one by one.
	swaks_bg $LISTED 2526 ps-listed & p1=$!
	swaks_bg $EGRESS 2526 ps-egress & p2=$!
	swaks_bg $CLEAN 2526 ps-clean & p3=$!
	swaks_as $LISTED 2525
	cached=$(date +%s)
	like "$out" "<\*\* +554 5\.7\.1 Service unavailable; Client host \[$LISTED\] blocked using bl\.test; Listed as an open relay, see https://bl\.test/lookup\?ip=$LISTED" \
	    "Postfix smtpd: listed $LISTED refused at RCPT, the TXT in the 554"
	swaks_as $EGRESS 2525
	like "$out" "<\*\* +554 5\.7\.1 .*\[$EGRESS\] blocked using bl\.test" \
	    "Postfix smtpd: listed egress $EGRESS refused"
	swaks_as $CLEAN 2525
	like "$out" "<- +250 2\.1\.5 Ok" "Postfix smtpd: clean $CLEAN accepted"
	wait $p1 $p2 $p3
	like "$(cat "$T/ps-listed")" "<\*\* +550 5\.7\.1 Service unavailable; client \[$LISTED\] blocked using bl\.test" \
	    "postscreen: listed $LISTED refused (550 at RCPT)"
	like "$(cat "$T/pf-screen/postfix.log")" "DNSBL rank 3 for \[$LISTED\]" \
	    "  its score is the snippet's weight, 3"
	like "$(cat "$T/ps-egress")" "<\*\* +550 5\.7\.1 .*client \[$EGRESS\] blocked using bl\.test" \
	    "postscreen: listed egress $EGRESS refused"
	like "$(cat "$T/ps-clean")" "<- +250 2\.1\.5 Ok" \
	    "postscreen: clean $CLEAN passed to smtpd, accepted"
	like "$(cat "$T/pf-screen/postfix.log")" "PASS NEW \[$CLEAN\]" \
	    "  postscreen logged PASS NEW"
else
	skip "Postfix checks" "needs postfix and swaks"
fi

# --- A delisting: dnsbld at once, Postfix's smtpd once it recycles ---
"$DNSBLCTL" -d "$S" del $LISTED >/dev/null
is "$(nsx dig +short +time=2 +tries=1 25.2.0.192.bl.test A)" "" \
    "delisted $LISTED: dnsbld answers NXDOMAIN at once"
if [ $have_exim = 1 ]; then
	exim_bh $LISTED
	like "$out" "^250 Accepted" "Exim (a process per session) accepts it"
fi
if [ $have_postfix = 1 ]; then
	# The listing's TTL (1 s here) long past.
	while [ $(($(date +%s) - cached)) -lt 3 ]; do
		sleep 0.2
	done
	swaks_as $LISTED 2525
	like "$out" "<\*\* +554 5\.7\.1 .*\[$LISTED\] blocked using bl\.test" \
	    "Postfix smtpd still refuses it: its process cached the answer, TTL or not"
	pf_postfix "$T/pf-smtpd" reload > /dev/null 2>&1
	# A new smtpd: the old one finishes with the reload.
	i=0
	while swaks_as $LISTED 2525; ! printf '%s\n' "$out" |
	    grep -q '250 2\.1\.5 Ok' && [ $i -lt 20 ]; do
		sleep 0.5; i=$((i + 1))
	done
	like "$out" "<- +250 2\.1\.5 Ok" \
	    "  after postfix reload (a new smtpd process) it is accepted"
fi

# --- The error answer: a listed address is not taken for listed ---
echo "127.0.0.0/8 error" > "$T/access"
kill -HUP $dnsbld
i=0
until [ "$(nsx dig +short +time=2 +tries=1 27.2.0.192.bl.test A)" = \
    127.255.255.254 ] || [ $i -ge 50 ]; do
	sleep 0.1; i=$((i + 1))
done
is "$(nsx dig +short +time=2 +tries=1 27.2.0.192.bl.test A)" \
    127.255.255.254 "access rule error: listed $LATE answered 127.255.255.254"
if [ $have_postfix = 1 ]; then
	swaks_bg $LATE 2526 ps-late & p1=$!
	swaks_as $LATE 2525
	like "$out" "<- +250 2\.1\.5 Ok" \
	    "  Postfix smtpd (reject_rbl_client) accepts $LATE"
	wait $p1
	like "$(cat "$T/ps-late")" "<- +250 2\.1\.5 Ok" \
	    "  postscreen passes $LATE"
fi
if [ $have_exim = 1 ]; then
	exim_bh $LATE
	like "$out" "^250 Accepted" "  Exim (dnslists with its codes) accepts $LATE"
	exim_bh $LATE bare
	like "$out" "^550-$LATE is listed in bl\.test: Not served to this client" \
	    "  Exim with a bare dnslists = bl.test would refuse it"
fi
if [ $have_sa = 1 ]; then
	sa $LATE
	like "$out" "tests=none" "  SpamAssassin (check_rbl with its subtest): no hit"
	sa $LATE bare
	like "$out" "tests=RCVD_IN_RELAYBL" \
	    "  SpamAssassin with check_rbl('relaybl', 'bl.test.') would hit"
fi
if [ $have_rspamd = 1 ]; then
	rspamc_as $LATE
	like "$out" "^Symbol: RELAYBL_BLOCKED \(0\.00\)\[$LATE:from\]" \
	    "  rspamd: RELAYBL_BLOCKED (0 points) says the resolver is refused"
	printf '%s\n' "$out" | grep -Eq 'RELAYBL_(RELAY|EGRESS)|Symbol: RELAYBL '
	ok $((! $?)) "  and no listing symbol"
fi
done_testing
