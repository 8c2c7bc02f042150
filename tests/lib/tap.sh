# tap.sh -- TAP helpers for the shell integration tests
#
# Source it, then call ok/is/like (or skip); `done_testing` prints the
# plan and exits with the failure count.  Every test gets a scratch
# directory $T that is removed on exit, even when the test fails or is
# interrupted, after every daemon started with daemon_start (daemon.sh,
# sourced here) is stopped; a script's own tap_cleanup runs in between.

tap_n=0
tap_failed=0
T=$(mktemp -d /tmp/relaybl-test.XXXXXX)
tap_cleanup() { :; }
trap 'daemon_cleanup; tap_cleanup; [ -n "$KEEP" ] || rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

# Where the programs are: the plain build, or RELAYBL_BIN=build/asan.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib/daemon.sh"
BIN=${RELAYBL_BIN:-.}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
DNSBLCTL=$BIN/dnsbl/dnsblctl
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# tap_line PASSED(0 or not) NAME: one test line, counted.
tap_line() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

ok() {	# ok CONDITION-EXIT-STATUS NAME
	tap_line "$1" "$2"
}

is() {	# is GOT WANT NAME
	[ "$1" = "$2" ]
	tap_line $? "$3"
	if [ "$1" != "$2" ]; then
		echo "#   got:  '$1'"
		echo "#   want: '$2'"
	fi
}

like() {	# like TEXT PATTERN(grep -E) NAME
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		tap_line 0 "$3"
	else
		tap_line 1 "$3"
		printf '%s\n' "$1" | sed 's/^/#   got: /' | head -20
		echo "#   want match: $2"
	fi
}

unlike() {	# unlike TEXT PATTERN(grep -E) NAME
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		tap_line 1 "$3"
		printf '%s\n' "$1" | grep -E -- "$2" | sed 's/^/#   got: /' |
		    head -20
		echo "#   want no match: $2"
	else
		tap_line 0 "$3"
	fi
}

skip() {	# skip NAME REASON...: a test not run this time (TAP "# SKIP")
	tap_n=$((tap_n + 1))
	_tap_name=$1
	shift
	echo "ok $tap_n - $_tap_name # SKIP $*"
}

# freeport: a TCP port on 127.0.0.1 that nothing listens on now.
freeport() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run CMD...: sets $out (stdout+stderr) and $rc.
run() {
	out=$("$@" 2>&1)
	rc=$?
}

done_testing() {
	echo "1..$tap_n"
	[ $tap_failed -gt 100 ] && tap_failed=100
	exit $tap_failed
}
