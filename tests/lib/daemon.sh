# daemon.sh -- starting the programs under test, and always stopping them
#
# Sourced by tap.sh, so every integration script has it.  daemon_start
# runs a program in the background with its output in $T and records its
# pid; at exit, whether the test passed, failed or was interrupted, every
# recorded pid still running is sent SIGTERM (SIGKILL after 5 s) and
# waited for.  A script that stops a daemon itself does so with
# daemon_stop or daemon_wait, which forget the pid (a pid waited for may
# be reused by another process by the time the script exits).

daemon_pids=""

# daemon_start NAME CMD...: runs CMD in the background, stdout to
# $T/NAME.out and stderr to $T/NAME.err; sets $pid.  CMD may be a shell
# function that ends in exec (daemon_in), so that $pid is the program's.
daemon_start() {
	_daemon_name=$1
	shift
	"$@" > "$T/$_daemon_name.out" 2> "$T/$_daemon_name.err" &
	pid=$!
	daemon_pids="$daemon_pids $pid"
}

# daemon_in DIR CMD...: CMD run from directory DIR (for daemon_start).
daemon_in() {
	cd "$1" || exit 1
	shift
	exec "$@"
}

# daemon_nofile N CMD...: CMD with at most N descriptors (for daemon_start).
daemon_nofile() {
	ulimit -n "$1" || exit 1
	shift
	exec "$@"
}

# daemon_gone PID: the process has exited (absent, or a zombie not yet
# waited for; kill -0 succeeds on a zombie).
daemon_gone() {
	[ ! -e "/proc/$1" ] ||
	    grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

# waitfor FILE PATTERN TENTHS: until FILE has a line matching PATTERN
# (grep -E), for at most TENTHS tenths of a second.  Returns 0 if it has.
waitfor() {
	_daemon_i=0
	while [ $_daemon_i -lt "$3" ] &&
	    ! grep -Eq -- "$2" "$1" 2>/dev/null; do
		sleep 0.1
		_daemon_i=$((_daemon_i + 1))
	done
	grep -Eq -- "$2" "$1" 2>/dev/null
}

# daemon_ready PID NAME [PATTERN [TENTHS]]: waits until $T/NAME.out or
# $T/NAME.err has a line matching PATTERN (grep -E, default "ready"), for
# at most TENTHS tenths of a second (default 100).  Returns 1, showing the
# daemon's stderr as TAP comments, if it does not come or PID exits first.
daemon_ready() {
	_daemon_i=0
	while ! cat "$T/$2.out" "$T/$2.err" 2>/dev/null |
	    grep -Eq -- "${3:-ready}"; do
		_daemon_i=$((_daemon_i + 1))
		if [ $_daemon_i -gt "${4:-100}" ] || daemon_gone "$1"; then
			sed 's/^/# /' "$T/$2.err" 2>/dev/null | tail -20
			return 1
		fi
		sleep 0.1
	done
}

# daemon_run NAME CMD...: daemon_start, then daemon_ready for "ready".
daemon_run() {
	daemon_start "$@"
	daemon_ready "$pid" "$1"
}

# daemon_forget PID: no longer stopped at exit.
daemon_forget() {
	_daemon_left=""
	for _daemon_p in $daemon_pids; do
		[ "$_daemon_p" = "$1" ] || _daemon_left="$_daemon_left $_daemon_p"
	done
	daemon_pids=$_daemon_left
}

# daemon_wait PID: waits for PID and forgets it; returns its exit status.
daemon_wait() {
	wait "$1"
	_daemon_rc=$?
	daemon_forget "$1"
	return $_daemon_rc
}

# daemon_stop PID [SIGNAL]: sends SIGNAL (TERM) and daemon_wait.
daemon_stop() {
	kill -"${2:-TERM}" "$1" 2>/dev/null
	daemon_wait "$1"
}

# daemon_cleanup: SIGTERM to every recorded pid, SIGKILL to those still
# running 5 s later, and a wait for each.  tap.sh runs it at exit.
daemon_cleanup() {
	for _daemon_p in $daemon_pids; do
		kill "$_daemon_p" 2>/dev/null
	done
	for _daemon_p in $daemon_pids; do
		_daemon_i=0
		while [ $_daemon_i -lt 50 ] && ! daemon_gone "$_daemon_p"; do
			sleep 0.1
			_daemon_i=$((_daemon_i + 1))
		done
		daemon_gone "$_daemon_p" || kill -KILL "$_daemon_p" 2>/dev/null
		wait "$_daemon_p" 2>/dev/null
	done
	daemon_pids=""
}
