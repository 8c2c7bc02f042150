#!/bin/sh
# files.t -- the files, privileges and defaults of the store and proberd:
# store files follow the umask and are never world-readable; proberd -u
# drops root once the sink is bound, is an error when not started as root,
# and warns when root is kept; the cookie secret lives beside the store by
# default (proberd starts from any directory), and an explicit secret_file
# in a missing directory is an error naming it.
. "$(dirname "$0")/../lib/tap.sh"

PROBERD=$BIN/prober/proberd
# The sink's greeting, read as a client would.
greeting() {
	python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
print(s.recv(512).decode(errors="replace").strip())' "$1" 2>&1
}
# conf FILE STORE [EXTRA-LINE]: a proberd configuration.
conf() {
	printf '[store]\ndir = %s\n[prober]\nprobe_domain = probe.test\nsink_listen = 127.0.0.1:%s\n%s\n' \
	    "$2" "$sinkport" "${3:-}" > "$1"
}
sinkport=$(freeport)

# --- store files follow the umask, never world-readable ---
for mask in 022 077 007; do
	S=$T/umask$mask
	(umask $mask && "$DNSBLCTL" -d "$S" init >/dev/null)
	want=$(printf '%o' $(( 0660 & ~0$mask )))
	is "$(stat -c %a "$S/data.mdb") $(stat -c %a "$S/lock.mdb")" \
	    "$want $want" "umask $mask: data.mdb and lock.mdb $want"
	is "$(stat -c %a "$S")" "$(printf '%o' $(( 0770 & ~0$mask )))" \
	    "  the store directory likewise"
	(umask $mask && "$DNSBLCTL" -d "$S" add 192.0.2.1 >/dev/null)
	ok "$([ $(( 0$(stat -c %a "$S/data.mdb") & 7 )) -eq 0 ] &&
	    [ $(( 0$(stat -c %a "$S/lock.mdb") & 7 )) -eq 0 ]; echo $?)" \
	    "  and after a write, nothing for others"
done

# --- the cookie secret beside the store, from any directory ---
S=$T/store
"$DNSBLCTL" -d "$S" init >/dev/null
conf "$T/nosecret.conf" "$S"
daemon_start p1 daemon_in / "$PROBERD" -c "$T/nosecret.conf"
ppid=$pid
waitfor "$T/p1.err" "ready" 100
ok $? "proberd without secret_file starts in / (no state/ there)"
like "$(cat "$T/p1.err")" "created the cookie secret $S/prober.secret" \
    "  creating the secret in the store directory"
is "$(stat -c '%a %s' "$S/prober.secret" 2>&1)" "600 32" \
    "  32 bytes, mode 600"
kill -TERM $ppid
daemon_wait $ppid
is $? 0 "  SIGTERM: exit 0"
sum1=$(cksum < "$S/prober.secret")
daemon_start p2 daemon_in / "$PROBERD" -c "$T/nosecret.conf"
ppid=$pid
waitfor "$T/p2.err" "ready" 100
kill -TERM $ppid
daemon_wait $ppid
is "$(cksum < "$S/prober.secret")" "$sum1" "  and reads it back next time"
ok "$(! grep -q "created" "$T/p2.err"; echo $?)" "  without making another"

conf "$T/missing.conf" "$S" "secret_file = $T/no/such/dir/secret"
run timeout 10 "$PROBERD" -c "$T/missing.conf"
is "$rc" 2 "secret_file in a missing directory: exit 2"
like "$out" "secret_file $T/no/such/dir/secret: no directory $T/no/such/dir" \
    "  naming the directory"

# --- -u: only root can, and does so once the sink is bound ---
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	nobody=$(id -u nobody)
	nogroup=$(id -g nobody)
	# The store and its secret must be nobody's; $T is root's (0700).
	chmod 711 "$T"
	U=$T/ustore
	"$DNSBLCTL" -d "$U" init >/dev/null
	chown -R nobody:"$nogroup" "$U"
	conf "$T/u.conf" "$U"
	daemon_start u "$PROBERD" -c "$T/u.conf" -u nobody
	ppid=$pid
	waitfor "$T/u.err" "ready" 100
	ok $? "proberd -u nobody, started as root, starts"
	is "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' /proc/$ppid/status)" \
	    "$nobody $nobody $nobody $nobody" "  and runs as nobody (every uid)"
	is "$(awk '/^Gid:/ { print $2 }' /proc/$ppid/status)" "$nogroup" \
	    "  in nobody's group"
	like "$(greeting $sinkport)" "^220 " "  its sink, bound as root, answers"
	is "$(stat -c %U "$U/prober.secret")" nobody \
	    "  the secret is made as nobody"
	ok "$(! grep -q "running as root" "$T/u.err"; echo $?)" \
	    "  no warning about root"
	kill -TERM $ppid
	daemon_wait $ppid
	is $? 0 "  SIGTERM: exit 0"

	conf "$T/uc.conf" "$U" "user = nobody"
	daemon_start uc "$PROBERD" -c "$T/uc.conf"
	ppid=$pid
	waitfor "$T/uc.err" "ready" 100
	is "$(awk '/^Uid:/ { print $2 }' /proc/$ppid/status)" "$nobody" \
	    "[prober] user = nobody: runs as nobody too"
	kill -TERM $ppid
	daemon_wait $ppid

	conf "$T/nouser.conf" "$S" "user ="
	daemon_start root "$PROBERD" -c "$T/nouser.conf"
	ppid=$pid
	waitfor "$T/root.err" "ready" 100
	like "$(cat "$T/root.err")" "running as root: give -u USER" \
	    "as root without -u (and \"user =\"): a warning"
	kill -TERM $ppid
	daemon_wait $ppid

	run timeout 10 setpriv --reuid=nobody --regid="$nogroup" \
	    --clear-groups "$PROBERD" -c "$T/u.conf" -u nobody
	is "$rc" 2 "-u nobody started as nobody (not root): exit 2"
	like "$out" "cannot become user nobody .*not started as root" \
	    "  saying why"
	ok "$(! printf '%s\n' "$out" | grep -q ready; echo $?)" \
	    "  before doing anything"
	run timeout 10 "$PROBERD" -c "$T/u.conf" -u no-such-user-here
	is "$rc" 2 "-u with an unknown user: exit 2"
	like "$out" "no-such-user-here: no such user" "  saying so"
else
	run timeout 10 "$PROBERD" -c "$T/nosecret.conf" -u nobody
	is "$rc" 2 "-u started as a user (not root): exit 2"
	like "$out" "cannot become user nobody .*not started as root" \
	    "  saying why"
fi
done_testing
