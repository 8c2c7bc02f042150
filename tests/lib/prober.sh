# prober.sh -- proberd's configuration and outcomes, for the integration
# tests that run it against the farm or real Postfix
#
# prober_conf FILE STORE SINKPORT SMTPPORT [KEY=VALUE]...: writes a
# configuration: the store in STORE, the sink on 127.0.0.1:SINKPORT for
# probe.test, probes to SMTPPORT, loopback allowed, the secret in $T;
# then each KEY=VALUE as a [prober] line.
# prober_outcomes ADDR LOG: the outcome of each of ADDR's submit passes
# in proberd's LOG, in order, on one line ("deferred listed").
# prober_passes ADDR LOG N TENTHS: waits until LOG has N submit passes of
# ADDR, for at most TENTHS tenths of a second.

prober_conf() {
	_pc_f=$1
	cat > "$_pc_f" <<CONF
[store]
dir = $2
[prober]
probe_domain = probe.test
sink_listen = 127.0.0.1:$3
smtp_port = $4
allow = 127.0.0.0/8
secret_file = $T/secret
CONF
	shift 4
	for _pc_kv in "$@"; do
		printf '%s\n' "$_pc_kv" | sed 's/=/ = /' >> "$_pc_f"
	done
}

prober_outcomes() {
	sed -n "s/^proberd: $1: submit: \([a-z]*\).*/\1/p" "$2" |
	    tr '\n' ' ' | sed 's/ $//'
}

prober_passes() {
	_pp_i=0
	while [ $_pp_i -lt "$4" ] &&
	    [ "$(grep -c "^proberd: $1: submit: " "$2")" -lt "$3" ]; do
		sleep 0.1
		_pp_i=$((_pp_i + 1))
	done
}
