# secondary.sh -- configurations for Knot and NSD as secondaries of
# dnsbld, for the tests and benchmarks that have them follow a zone
#
# knot_secondary DIR LISTEN PRIMARY ZONE [TEMPLATE]: DIR/knot.conf, for
#   knotd as a secondary of ZONE listening on LISTEN ("ADDR@PORT"),
#   transferring from PRIMARY ("ADDR@PORT") and taking its NOTIFYs; its
#   database (the journal an IXFR is stored in: without the directory Knot
#   cannot store one and falls back to AXFR) in DIR/db.  TEMPLATE: more
#   lines of its template, each indented by four spaces.
# nsd_secondary DIR LISTEN PRIMARY ZONE [KEY SECRET [FROM]]: DIR/nsd.conf,
#   for `nsd -d` as a secondary of ZONE on LISTEN, transferring from
#   PRIMARY; with KEY (an hmac-sha256 key, SECRET in base64) its requests
#   are signed and NOTIFYs must be, and FROM is the address it asks from.
#   Its log is DIR/nsd.log, its pid file DIR/nsd.pid.

knot_secondary() {
	mkdir -p "$1/db"
	cat > "$1/knot.conf" <<CONF
server:
    rundir: "$1"
    listen: $2
log:
  - target: stderr
    any: info
database:
    storage: "$1/db"
remote:
  - id: primary
    address: $3
acl:
  - id: from_primary
    address: ${3%@*}
    action: notify
template:
  - id: default
    storage: "$1"
${5:-}
zone:
  - domain: $4
    master: primary
    acl: from_primary
CONF
}

nsd_secondary() {
	_nsd_key=${5:-NOKEY}
	mkdir -p "$1"
	{
		cat <<CONF
server:
    ip-address: $2
    zonesdir: "$1"
    pidfile: "$1/nsd.pid"
    database: ""
    xfrdfile: "$1/xfrd.state"
    zonelistfile: "$1/zone.list"
    username: ""
    chroot: ""
    logfile: "$1/nsd.log"
    verbosity: 2
    zonefiles-write: 0
remote-control:
    control-enable: no
CONF
		[ -z "${5:-}" ] || cat <<CONF
key:
    name: $5
    algorithm: hmac-sha256
    secret: "$6"
CONF
		cat <<CONF
zone:
    name: $4
    zonefile: $4.zone
    request-xfr: $3 $_nsd_key
    allow-notify: ${3%@*} $_nsd_key
CONF
		[ -z "${7:-}" ] || echo "    outgoing-interface: $7"
	} > "$1/nsd.conf"
}
