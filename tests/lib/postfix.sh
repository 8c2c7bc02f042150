# postfix.sh -- real Postfix instances on loopback for the prober's tests
#
# pf_start DIR IP PORT SINK_IP SINK_PORT BEHAVIOUR starts a private
# instance (config and queue under DIR, smtpd on IP:PORT, mail for
# probe.test sent to the sink) with one of three relay policies:
#   open     mynetworks = 0.0.0.0/0: relays for anyone
#   closed   relays for nobody: 554 Relay access denied
#   discard  accepts everything and delivers nothing
# pf_stop DIR stops it.  Recipe: shared/reference/postfix-lab.md.

pf_start() {
	dir=$1 ip=$2 port=$3 sinkip=$4 sinkport=$5 behaviour=$6
	mkdir -p "$dir/spool" "$dir/data"
	chown postfix:postfix "$dir/data"
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
inet_interfaces = loopback-only
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
	case $behaviour in
	open)
		echo "mynetworks = 0.0.0.0/0" >> "$dir/main.cf" ;;
	closed)
		echo "mynetworks = 192.0.2.1/32" >> "$dir/main.cf"
		echo "smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination" >> "$dir/main.cf" ;;
	discard)
		echo "mynetworks = 0.0.0.0/0" >> "$dir/main.cf"
		echo "default_transport = discard:" >> "$dir/main.cf"
		echo "relay_transport = discard:" >> "$dir/main.cf" ;;
	esac
	# Debian's master.cf, no chroot, smtpd on our address and port.
	awk -v listen="$ip:$port" '
	    /^smtp[ \t]+inet/ { print listen " inet n - n - - smtpd"; next }
	    /^postlog/ { next }
	    /^[a-z]/ && NF >= 8 { $5 = "n" }
	    { print }
	    END { print "postlog unix-dgram n - n - 1 postlogd" }' \
	    /etc/postfix/master.cf > "$dir/master.cf"
	postfix -c "$dir" check > "$dir/check.log" 2>&1 &&
	    postfix -c "$dir" start > "$dir/start.log" 2>&1
}

pf_stop() {
	postfix -c "$1" stop > /dev/null 2>&1
}
