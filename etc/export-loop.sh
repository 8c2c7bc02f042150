#!/bin/sh
# export-loop.sh -- keeps a mirror directory fresh with dnsblctl export
#
#   sh etc/export-loop.sh MIRROR_DIR ZONE...
#
# Every INTERVAL seconds (default 60) writes, for each ZONE, the zone file
# MIRROR_DIR/ZONE.zone and the rbldnsd datasets ZONE.rbldnsd (ip4trie)
# and ZONE.rbldnsd6 (ip6trie), each renamed into place when whole, so
# rsync and rbldnsd never see half a file.  ONCE=1 makes one pass.
# DNSBLCTL, RELAYBL_CONF and STORE name the program, the configuration
# and the store directory.  From cron instead of a loop, one pass a minute:
#   * * * * * cd /srv/relaybl && ONCE=1 sh etc/export-loop.sh /srv/mirror bl.example
set -u
[ $# -ge 2 ] || { echo "usage: $0 MIRROR_DIR ZONE..." >&2; exit 2; }
dir=$1; shift
ctl=${DNSBLCTL:-dnsbl/dnsblctl}
set -- "$@"
mkdir -p "$dir" || exit 2
pass() {
	rc=0
	for z in "$@"; do
		for f in zone rbldnsd rbldnsd6; do
			"$ctl" -c "${RELAYBL_CONF:-etc/relaybl.conf}" \
			    ${STORE:+-d "$STORE"} export -f $f \
			    -o "$dir/$z.$f" "$z" || rc=1
		done
	done
	return $rc
}
while :; do
	pass "$@"; rc=$?
	[ "${ONCE:-0}" = 1 ] && exit $rc
	sleep "${INTERVAL:-60}"
done
