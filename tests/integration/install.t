#!/bin/sh
# install.t -- make install and make uninstall, as a package would do them
# (DESTDIR, PREFIX=/usr) and as an operator would (PREFIX=/usr/local):
# where every file goes; an operator's configuration is never overwritten
# (the new one goes beside it as .dist); the installed programs run and
# read the installed configuration; the systemd units pass
# systemd-analyze verify with nothing to say and keep their hardening
# (systemd-analyze security); the users and the state directory that
# sysusers.d and tmpfiles.d make in a scratch root, with each daemon run
# as its unit runs it (its own user, group relaybl, umask 007) on the
# installed configuration; uninstall leaves the configuration.
. "$(dirname "$0")/../lib/tap.sh"

D=$T/dest
version=$(sed -n 's/^VERSION[ 	]*=[ 	]*//p' "$ROOT/Makefile")
PROGS="dnsblctl dnsbld dnsblweb proberd"
UNITS="dnsbld proberd dnsblweb"
# mk TARGET [VAR=VALUE]...: make in the tree, not as part of an outer make.
mk() {
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$ROOT" "$@"
}
# show: the last lines of $out as TAP comments.
show() { printf '%s\n' "$out" | tail -15 | sed 's/^/#   /'; }

# --- PREFIX=/usr, as Debian's packages are laid out ---
run mk install DESTDIR="$D" PREFIX=/usr
is "$rc" 0 "make install DESTDIR=... PREFIX=/usr"
[ "$rc" = 0 ] || show
for p in $PROGS; do
	ok "$([ -x "$D/usr/sbin/$p" ]; echo $?)" "  /usr/sbin/$p"
done
for f in etc/relaybl/relaybl.conf etc/relaybl/zones/bl.relaybl.example.zone \
    usr/lib/sysusers.d/relaybl.conf usr/lib/tmpfiles.d/relaybl.conf; do
	ok "$([ -f "$D/$f" ]; echo $?)" "  /$f"
done
for u in $UNITS; do
	ok "$([ -f "$D/lib/systemd/system/$u.service" ]; echo $?)" \
	    "  /lib/systemd/system/$u.service"
done
men=$(cd "$ROOT" && ls man/*.[58] 2>/dev/null)
for m in $men; do
	ok "$([ -f "$D/usr/share/man/man${m##*.}/${m#man/}" ]; echo $?)" \
	    "  /usr/share/man/man${m##*.}/${m#man/}"
done
[ -n "$men" ] || echo "# no man pages in man/ yet: none installed"
ok "$([ ! -e "$D/usr/local" ] && [ ! -e "$D/var" ]; echo $?)" \
    "  nothing in /usr/local, nothing in /var"

conf=$D/etc/relaybl/relaybl.conf
like "$(grep '^dir = ' "$conf")" "^dir = /var/lib/relaybl/store$" \
    "installed relaybl.conf: the store in /var/lib/relaybl"
like "$(grep '^zones = ' "$conf")" "^zones = /etc/relaybl/zones$" \
    "  the zones in /etc/relaybl/zones"
is "$(grep -cE '^;?[a-z_]*(dir|zones|file)[ 	]*=[ 	]*[^/ 	]' "$conf")" 0 \
    "  no path left relative"
ok "$(grep -aq '/etc/relaybl/relaybl\.conf' "$D/usr/sbin/dnsblctl"; echo $?)" \
    "installed programs read /etc/relaybl/relaybl.conf without -c"
# Those of the tree still read etc/relaybl.conf (make run, the tests).
mkdir -p "$T/cwd/etc"
printf '[store]\ndir = %s\n' "$T/cwdstore" > "$T/cwd/etc/relaybl.conf"
run sh -c "cd '$T/cwd' && '$ROOT/dnsbl/dnsblctl' stats"
like "$out" "no store in $T/cwdstore" "  the tree's read etc/relaybl.conf"
run sh -c "cd '$T/cwd' && '$D/usr/sbin/dnsblctl' stats"
ok "$(! printf '%s\n' "$out" | grep -q cwdstore; echo $?)" \
    "  the installed ones do not"

for p in $PROGS; do
	run "$D/usr/sbin/$p" --version
	is "$rc" 0 "installed $p --version: exit 0"
	like "$out" "^$p relaybl $version \(ldns [0-9.]+, LMDB [0-9.]+, libevent [0-9.]+[a-z-]*, (Open|Libre)SSL [0-9][0-9a-z.]*\)$" \
	    "  with its versions"
done

# --- the units: systemd-analyze verify, pointed at the installed programs ---
# verify needs the programs the units run; --root would also need a whole
# systemd tree (sysinit.target, /bin/kill) there, so the units are checked
# on the host's with their paths moved into DESTDIR.  verify says what it
# ignores (an unknown key, a bad value) on stderr and exits 0: nothing at
# all must be said.  The man pages of Documentation= are checked once
# they are installed.
mkdir -p "$T/units"
for u in $UNITS; do
	sed "s|/usr/sbin/|$D/usr/sbin/|g" "$D/lib/systemd/system/$u.service" \
	    > "$T/units/$u.service"
done
manopt=--man=no
if [ -f "$D/usr/share/man/man8/dnsbld.8" ] &&
    [ -f "$D/usr/share/man/man5/relaybl.conf.5" ]; then
	manopt=--man=yes
else
	echo "# man pages not installed yet: Documentation= not checked"
fi
for u in $UNITS; do
	run env MANPATH="$D/usr/share/man" systemd-analyze verify $manopt \
	    "$T/units/$u.service"
	is "$rc" 0 "systemd-analyze verify $u.service: exit 0"
	is "$out" "" "  with nothing to say"
	grep -q '^ExecStart=.*/'"$u"' -c /etc/relaybl/relaybl\.conf$' \
	    "$D/lib/systemd/system/$u.service"
	ok $? "  ExecStart runs /usr/sbin/$u on /etc/relaybl/relaybl.conf"
	# Exposure 0-10 in tenths: 1.8 as written; 2.5 at most.
	run systemd-analyze security --offline=yes --threshold=25 \
	    "$T/units/$u.service"
	is "$rc" 0 "  systemd-analyze security: exposure at most 2.5"
	[ "$rc" = 0 ] || printf '%s\n' "$out" | grep -E '^(✗|→)' | sed 's/^/#   /'
done
# A broken unit is caught: the check can fail.
sed 's/^ProtectSystem=strict/ProtectSystem=stricter/' "$T/units/dnsbld.service" \
    > "$T/units/broken.service"
run systemd-analyze verify --man=no "$T/units/broken.service"
like "$out" "protect system" "verify on a bad value says so (the check can fail)"
ok "$(grep -q '^ExecReload=' "$D/lib/systemd/system/proberd.service"; [ $? = 1 ]; echo $?)" \
    "proberd.service: no reload (proberd handles no SIGHUP)"
for u in dnsbld dnsblweb; do
	ok "$(grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' \
	    "$D/lib/systemd/system/$u.service"; echo $?)" \
	    "$u.service: reload is SIGHUP"
done

# --- a second install keeps the operator's configuration ---
echo "; the operator's own line" >> "$conf"
cp "$conf" "$T/mine.conf"
run mk install DESTDIR="$D" PREFIX=/usr
is "$rc" 0 "make install again"
ok "$(cmp -s "$conf" "$T/mine.conf"; echo $?)" \
    "  relaybl.conf as the operator left it"
ok "$(cmp -s "$conf.dist" "$ROOT/build/inst/relaybl.conf"; echo $?)" \
    "  the new one beside it as relaybl.conf.dist"
like "$out" "kept $conf as it is; the new one is $conf.dist" "  and said so"
ok "$([ ! -e "$D/etc/relaybl/zones/bl.relaybl.example.zone.dist" ]; echo $?)" \
    "  an unchanged zone file: no .dist"

# --- users, state directory, and the daemons as their units run them ---
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	R=$T/root
	mkdir -p "$R/etc"
	run systemd-sysusers --root="$R" "$D/usr/lib/sysusers.d/relaybl.conf"
	is "$rc" 0 "sysusers.d/relaybl.conf: systemd-sysusers makes its users"
	gid=$(awk -F: '$1 == "relaybl" { print $3 }' "$R/etc/group")
	uid() { awk -F: -v u="$1" '$1 == u { print $3 }' "$R/etc/passwd"; }
	for u in relaybl-dns relaybl-prober relaybl-web; do
		is "$(awk -F: -v u=$u '$1 == u { print $4 }' "$R/etc/passwd")" \
		    "$gid" "  $u, in group relaybl"
	done
	run systemd-tmpfiles --root="$R" --create \
	    "$D/usr/lib/tmpfiles.d/relaybl.conf"
	is "$rc" 0 "tmpfiles.d/relaybl.conf: systemd-tmpfiles makes the state directory"
	S=$R/var/lib/relaybl
	is "$(stat -c '%a %u %g' "$S")" "2770 0 $gid" \
	    "  /var/lib/relaybl: 2770 root:relaybl"

	chmod 755 "$T"	# the daemons' users go through it
	dport=$(freeport) wport=$(freeport) sport=$(freeport)
	# The installed configuration, its paths under the scratch trees and
	# its ports free; nothing else changed.
	sed -e "s|= /var/lib/relaybl|= $S|" -e "s|= /etc/relaybl|= $D/etc/relaybl|" \
	    -e "/^\[dnsbld\]/,/^\[/s|^listen = .*|listen = 127.0.0.1:$dport|" \
	    -e "/^\[web\]/,/^\[/s|^listen = .*|listen = 127.0.0.1:$wport|" \
	    -e "s|^sink_listen = .*|sink_listen = 127.0.0.1:$sport|" \
	    -e "s|^allow =\$|allow = 192.0.2.0/24|" "$conf" > "$T/inst.conf"
	C=$T/inst.conf
	# as_unit USER CMD...: CMD as the unit runs it.  daemon_as: the same,
	# for daemon_start (it execs, so that $pid is the daemon's).
	as_unit() {
		_u=$(uid "$1")
		shift
		setpriv --reuid="$_u" --regid="$gid" --clear-groups \
		    sh -c 'umask 007 && exec "$@"' sh "$@"
	}
	daemon_as() {
		_u=$(uid "$1")
		shift
		exec setpriv --reuid="$_u" --regid="$gid" --clear-groups \
		    sh -c 'umask 007 && exec "$@"' sh "$@"
	}

	run as_unit relaybl-prober "$D/usr/sbin/dnsblctl" -c "$C" init
	is "$rc" 0 "proberd.service's ExecStartPre (dnsblctl init) makes the store"
	[ "$rc" = 0 ] || show
	is "$(stat -c '%a %u %g' "$S/store")" \
	    "2770 $(uid relaybl-prober) $gid" "  store/: 2770, relaybl-prober, group relaybl"
	is "$(stat -c '%a %g' "$S/store/data.mdb" "$S/store/lock.mdb" | sort -u)" \
	    "660 $gid" "  data.mdb and lock.mdb: 0660, group relaybl"
	run as_unit relaybl-prober "$D/usr/sbin/dnsblctl" -c "$C" add 192.0.2.7
	is "$rc" 0 "  relaybl-prober writes it"

	daemon_start proberd daemon_as relaybl-prober "$D/usr/sbin/proberd" -c "$C"
	daemon_ready "$pid" proberd
	ok $? "proberd as relaybl-prober, on the installed configuration"
	is "$(stat -c '%a %u' "$S/store/prober.secret" 2>&1)" \
	    "600 $(uid relaybl-prober)" "  its cookie secret: 0600, its own"
	daemon_stop "$pid"
	run as_unit relaybl-web cat "$S/store/prober.secret"
	ok "$([ "$rc" != 0 ]; echo $?)" "  which relaybl-web cannot read"

	run as_unit relaybl-web "$D/usr/sbin/dnsblctl" -c "$C" init
	is "$rc" 0 "dnsblweb.service's ExecStartPre on the existing store"
	daemon_start web daemon_as relaybl-web "$D/usr/sbin/dnsblweb" -c "$C"
	daemon_ready "$pid" web
	ok $? "dnsblweb as relaybl-web"
	code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST \
	    -d '{"address": "192.0.2.7"}' "http://127.0.0.1:$wport/v1/removals")
	is "$code" 202 "  queues a removal request (writes the store)"
	[ "$code" = 202 ] || sed 's/^/#   /' "$T/body" "$T/web.err"

	daemon_start dnsbld daemon_as relaybl-dns "$D/usr/sbin/dnsbld" -c "$C"
	daemon_ready "$pid" dnsbld
	ok $? "dnsbld as relaybl-dns, the zones from the installed zones/"
	is "$(dig +short @127.0.0.1 -p "$dport" 7.2.0.192.bl.relaybl.example A)" \
	    127.0.0.2 "  answers from the store"
	for d in proberd web dnsbld; do
		like "$(head -1 "$T/$d.err")" "starting .* relaybl $version " \
		    "$d: the start-up line first"
		# Up to "ready", nothing but what a good start says.
		is "$(sed '/: ready: /q' "$T/$d.err" | grep -vE \
		    ': (starting|created the cookie secret|ready:) ')" "" \
		    "  nothing else said (no unknown key, no warning)"
	done
else
	echo "# not root: users and daemons as their units run them not tried"
fi

# --- uninstall: the programs and units go, the configuration stays ---
mkdir -p "$D/var/lib/relaybl/store" && : > "$D/var/lib/relaybl/store/data.mdb"
run mk uninstall DESTDIR="$D" PREFIX=/usr
is "$rc" 0 "make uninstall DESTDIR=... PREFIX=/usr"
[ "$rc" = 0 ] || show
left=""
for f in $(echo $PROGS | sed 's|[^ ]*|usr/sbin/&|g') \
    $(echo $UNITS | sed 's|[^ ]*|lib/systemd/system/&.service|g') \
    usr/lib/sysusers.d/relaybl.conf usr/lib/tmpfiles.d/relaybl.conf \
    etc/relaybl/relaybl.conf.dist $(cd "$ROOT" && ls man/*.[58] 2>/dev/null |
    sed 's|^man/\(.*\)\.\([58]\)$|usr/share/man/man\2/\1.\2|'); do
	[ -e "$D/$f" ] && left="$left $f"
done
is "$left" "" "  the programs, units, sysusers, tmpfiles, man pages, .dist: gone"
ok "$(cmp -s "$conf" "$T/mine.conf"; echo $?)" \
    "  relaybl.conf stays, as the operator left it"
ok "$([ -f "$D/etc/relaybl/zones/bl.relaybl.example.zone" ]; echo $?)" \
    "  the zone files stay"
ok "$([ -f "$D/var/lib/relaybl/store/data.mdb" ]; echo $?)" \
    "  /var/lib/relaybl is not touched"

# --- PREFIX=/usr/local (the default): everything under it ---
L=$T/local
run mk install DESTDIR="$L"
is "$rc" 0 "make install DESTDIR=... (PREFIX /usr/local)"
[ "$rc" = 0 ] || show
for f in usr/local/sbin/dnsbld usr/local/etc/relaybl/relaybl.conf \
    usr/local/lib/systemd/system/dnsbld.service \
    usr/local/lib/sysusers.d/relaybl.conf usr/local/lib/tmpfiles.d/relaybl.conf; do
	ok "$([ -f "$L/$f" ]; echo $?)" "  /$f"
done
like "$(grep '^zones = ' "$L/usr/local/etc/relaybl/relaybl.conf")" \
    "^zones = /usr/local/etc/relaybl/zones$" "  its zones in /usr/local/etc/relaybl"
ok "$(grep -aq '/usr/local/etc/relaybl/relaybl\.conf' "$L/usr/local/sbin/dnsbld"; echo $?)" \
    "  its programs read /usr/local/etc/relaybl/relaybl.conf (linked again)"
like "$(grep '^ExecStart=' "$L/usr/local/lib/systemd/system/dnsbld.service")" \
    "^ExecStart=/usr/local/sbin/dnsbld -c /usr/local/etc/relaybl/relaybl.conf$" \
    "  its units run them from there"
done_testing
