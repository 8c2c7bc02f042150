# postfix.sh -- real Postfix instances for the prober's tests, on loopback
# or in a network namespace
#
# pf_start DIR IP PORT SINK_IP SINK_PORT BEHAVIOUR [NETNS [EXTRA]] starts
# a private instance (config and queue under DIR, smtpd on IP:PORT, mail
# for probe.test sent to the sink) with one of these relay policies:
#   open     mynetworks = 0.0.0.0/0: relays for anyone
#   closed   relays for nobody: 554 Relay access denied
#   discard  accepts everything and delivers nothing
#   starttls-open    open, but only over TLS (smtpd_tls_security_level =
#            encrypt): MAIL in the clear gets "530 5.7.0 Must issue a
#            STARTTLS command first"
#   starttls-closed  closed as above, STARTTLS offered (level may)
#   debian   the relay policy of a fresh `apt install postfix`:
#            permit_mynetworks permit_sasl_authenticated
#            defer_unauth_destination, STARTTLS offered (may), but
#            mynetworks = 127.0.0.1/32, the host's own address: relaying
#            for a client at 127.0.0.1 and "454 4.7.1 <...>: Relay access
#            denied" to one at any other 127.x address
#   postscreen  open, behind postscreen (greet_action enforce, a 2 s
#            greet_wait, no access list): a new client sees "220-" at
#            once and "220 " 2 s later; one that speaks in between gets
#            550 to every RCPT
#   rbl      a mail server that uses the list: mail for its own domain
#            (user@rbl.lab.test) accepted and discarded, unless the client
#            is listed in the zone $pf_rbl_zone (smtpd_client_restrictions
#            = reject_rbl_client: 554 with the listing's TXT at RCPT);
#            relays only for 127.0.0.0/8; one session per smtpd process
# The STARTTLS ones get a self-signed certificate made with openssl in
# DIR.  With NETNS, the instance runs in that network namespace
# (netns.sh): IP must be one of its addresses, inet_interfaces is all (the
# namespace has only the test's interfaces), and names are resolved with
# the namespace's resolv.conf.  EXTRA, when given, is added to main.cf as
# it is (lines of a test's own, such as a README snippet).  pf_stop DIR
# stops it; pf_stop_all, in the script's tap_cleanup, stops every
# instance started.
# pf_set DIR BEHAVIOUR gives a running instance the relay policy of
# another behaviour (open, closed, discard; postconf -e) and reloads it.
# pf_postfix DIR ARGS... runs `postfix -c DIR ARGS` where the instance
# runs.  Recipe: shared/reference/postfix-lab.md.
#
# pf_start_all PORT SINK_PORT BEHAVIOUR:IP... starts one instance for each
# in $T/pf-BEHAVIOUR, side by side (each takes seconds to start), sink on
# 127.0.0.1, with a TAP line each (tap.sh's ok).

pf_start() {
	dir=$1 ip=$2 port=$3 sinkip=$4 sinkport=$5 behaviour=$6 netns=${7:-}
	extra=${8:-}
	pf_instances="$pf_instances $dir"
	mkdir -p "$dir/spool" "$dir/data"
	chown postfix:postfix "$dir/data"
	echo "$netns" > "$dir/netns"
	interfaces=loopback-only
	[ -z "$netns" ] || interfaces=all
	cat > "$dir/main.cf" <<PFEOF
compatibility_level = 3.6
queue_directory = $dir/spool
data_directory = $dir/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = $dir
maillog_file = $dir/postfix.log
myhostname = $behaviour.lab.test
mydestination = \$myhostname, localhost
inet_interfaces = $interfaces
inet_protocols = ipv4
smtp_bind_address = $ip
alias_maps =
alias_database =
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
PFEOF
	# transport_maps would win over the discard transports below.
	[ "$behaviour" = discard ] ||
	    echo "transport_maps = inline:{ probe.test=smtp:[$sinkip]:$sinkport }" \
	    >> "$dir/main.cf"
	pf_policy "$behaviour" >> "$dir/main.cf"
	case $behaviour in
	starttls-open)
		pf_tls "$dir" encrypt || return 1 ;;
	starttls-closed|debian)
		pf_tls "$dir" may || return 1 ;;
	postscreen)
		cat >> "$dir/main.cf" <<PFEOF
postscreen_access_list =
postscreen_greet_action = enforce
postscreen_greet_banner = \$myhostname ESMTP postscreen
postscreen_greet_wait = 2s
PFEOF
		;;
	esac
	[ -z "$extra" ] || printf '%s\n' "$extra" >> "$dir/main.cf"
	# Debian's master.cf, no chroot, smtpd (or postscreen, and the smtpd
	# it passes clients to) on our address and port.
	screen=0
	[ "$behaviour" = postscreen ] && screen=1
	awk -v listen="$ip:$port" -v screen=$screen '
	    /^smtp[ \t]+inet/ && screen {
		print listen " inet n - n - 1 postscreen"
		print "smtpd pass - - n - - smtpd"
		print "dnsblog unix - - n - 0 dnsblog"
		print "tlsproxy unix - - n - 0 tlsproxy"
		next
	    }
	    /^smtp[ \t]+inet/ { print listen " inet n - n - - smtpd"; next }
	    /^postlog/ { next }
	    /^[a-z]/ && NF >= 8 { $5 = "n" }
	    { print }
	    END { print "postlog unix-dgram n - n - 1 postlogd" }' \
	    /etc/postfix/master.cf > "$dir/master.cf"
	pf_postfix "$dir" check > "$dir/check.log" 2>&1 &&
	    pf_postfix "$dir" start > "$dir/start.log" 2>&1
}

# pf_policy BEHAVIOUR: the main.cf lines of its relay policy.
pf_policy() {
	case $1 in
	open|starttls-open|postscreen)
		echo "mynetworks = 0.0.0.0/0" ;;
	closed|starttls-closed)
		echo "mynetworks = 192.0.2.1/32"
		echo "smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination" ;;
	discard)
		echo "mynetworks = 0.0.0.0/0"
		echo "default_transport = discard:"
		echo "relay_transport = discard:" ;;
	rbl)
		echo "mynetworks = 127.0.0.0/8"
		echo "local_recipient_maps ="
		echo "local_transport = discard:"
		echo "smtpd_client_restrictions = reject_rbl_client $pf_rbl_zone"
		# smtpd keeps DNSBL answers, "not listed" too, for its
		# lifetime, across sessions (smtpd_check.c: "the cache
		# persists across SMTP sessions"; seen: a process that had
		# looked a client up before its listing went on taking its
		# mail after it).  One session a process, so that a listing
		# and a delisting are seen at the very next session.
		echo "max_use = 1" ;;
	debian)
		echo "smtpd_banner = \$myhostname ESMTP \$mail_name (Debian/GNU)"
		echo "biff = no"
		echo "append_dot_mydomain = no"
		echo "smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination"
		echo "mynetworks = 127.0.0.1/32" ;;
	esac
}

pf_postfix() {
	_pf_dir=$1
	shift
	_pf_ns=$(cat "$_pf_dir/netns" 2>/dev/null)
	if [ -n "$_pf_ns" ]; then
		ip netns exec "$_pf_ns" postfix -c "$_pf_dir" "$@"
	else
		postfix -c "$_pf_dir" "$@"
	fi
}

# pf_set DIR BEHAVIOUR: returns once the master has reread its
# configuration (its log says "reload"), at most 10 s.
pf_set() {
	_pf_n=$(grep -c 'postfix/master.*: reload' "$1/postfix.log")
	pf_policy "$2" | while read -r _pf_line; do
		postconf -c "$1" -e "$_pf_line" || exit 1
	done || return 1
	pf_postfix "$1" reload > "$1/reload.log" 2>&1 || return 1
	_pf_i=0
	while [ "$(grep -c 'postfix/master.*: reload' "$1/postfix.log")" -le \
	    "$_pf_n" ]; do
		[ $_pf_i -lt 100 ] || return 1
		sleep 0.1
		_pf_i=$((_pf_i + 1))
	done
}

# pf_tls DIR LEVEL: a self-signed certificate for the instance, and
# smtpd_tls_security_level = LEVEL (may: offered; encrypt: required).
pf_tls() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
	    -subj "/CN=$behaviour.lab.test" -keyout "$1/key.pem" \
	    -out "$1/cert.pem" > "$1/openssl.log" 2>&1 || return 1
	cat >> "$1/main.cf" <<PFEOF
smtpd_tls_cert_file = $1/cert.pem
smtpd_tls_key_file = $1/key.pem
smtpd_tls_security_level = $2
smtpd_tls_loglevel = 1
PFEOF
}

pf_stop() {
	pf_postfix "$1" stop > /dev/null 2>&1
}

pf_instances=""
pf_start_all() {
	_pf_port=$1 _pf_sink=$2
	shift 2
	chmod 755 "$T"	# the postfix user must reach its data directory
	_pf_pids=""
	for _pf_spec in "$@"; do
		_pf_d=$T/pf-${_pf_spec%%:*}
		# (pf_start's own note of it is lost with its subshell)
		pf_instances="$pf_instances $_pf_d"
		(pf_start "$_pf_d" "${_pf_spec#*:}" "$_pf_port" 127.0.0.1 \
		    "$_pf_sink" "${_pf_spec%%:*}"; echo $? > "$_pf_d.rc") &
		_pf_pids="$_pf_pids $!"
	done
	for _pf_p in $_pf_pids; do
		wait "$_pf_p"
	done
	for _pf_spec in "$@"; do
		[ "$(cat "$T/pf-${_pf_spec%%:*}.rc" 2>/dev/null)" = 0 ]
		ok $? "Postfix (${_pf_spec%%:*}) started on ${_pf_spec#*:}:$_pf_port"
	done
}

pf_stop_all() {
	for _pf_d in $pf_instances; do
		pf_stop "$_pf_d"
	done
}
