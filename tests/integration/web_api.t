#!/bin/sh
# web_api.t -- dnsblweb's API and its defences, with curl and raw sockets
# against a running dnsblweb: every endpoint and its error statuses, the
# operator tokens (401, 403, SIGHUP reload), the removal rate (429 with
# Retry-After), X-Forwarded-For believed only from trusted proxies, HTML
# in an address, invalid UTF-8, a body over the limit (413), a head over
# the limit (431), a trickling client (408 at header_timeout), a flood of
# idle connections (evicted at the cap), and bad configurations.
. "$(dirname "$0")/../lib/tap.sh"

DNSBLWEB=$BIN/dnsbl/dnsblweb
S=$T/store
ctl() { "$DNSBLCTL" -d "$S" "$@"; }
port=$(freeport)
U=http://127.0.0.1:$port
TOKEN=0123456789abcdef0123456789abcdef
H="Authorization: Bearer $TOKEN"

ctl init >/dev/null
ctl add 192.0.2.7 -t "listed for the test" >/dev/null
ctl add 192.0.2.8 >/dev/null
ctl add 192.0.2.9 >/dev/null
ctl exclude 203.0.113.0/24 -t "a customer's network" >/dev/null
printf '# operators\nfeeds %s\n' "$TOKEN" > "$T/tokens"
cat > "$T/relaybl.conf" <<CONF
[store]
dir = $S
[prober]
allow = 192.0.2.0/24, 203.0.113.0/24
[web]
listen = 127.0.0.1:$port
tokens_file = $T/tokens
public_url = http://bl.example/
trusted_proxies = 127.0.0.2
removal_rate = 3
max_connections = 8
max_body = 4096
header_timeout = 1
body_timeout = 1
CONF
daemon_start web "$DNSBLWEB" -c "$T/relaybl.conf"
wpid=$pid
daemon_ready $wpid web "ready" 100
ok $? "dnsblweb is up"

# js EXPR: EXPR (Python, d the JSON body of the last req) printed.
js() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$T/b" "$1" 2>&1
}
# why ADDR: why the last submission refused ADDR.
why() { js "[r['why'] for r in d['refused'] if r['address'] == '$1']"; }

# req [CURL ARGS...]: sets $code (the status), $body, $hdrs.
req() {
	rm -f "$T/h" "$T/b"
	code=$(curl -s -o "$T/b" -D "$T/h" -w '%{http_code}' "$@")
	body=$(cat "$T/b" 2>/dev/null)
	hdrs=$(tr -d '\r' < "$T/h" 2>/dev/null)
}

# --- public lookups -------------------------------------------------------
req "$U/v1/lookup/192.0.2.7"
is "$code" 200 "GET /v1/lookup/ADDR: 200"
like "$body" '"listed": true' "  listed"
like "$body" '"code": "127.0.0.2"' "  with its code"
like "$body" '"kind": "manual"' "  its kind"
like "$body" '"reason": "listed for the test"' "  and the operator's reason"
like "$hdrs" '^Content-Type: application/json' "  as JSON"
like "$body" '"page": "http://bl\.example/lookup\?ip=192\.0\.2\.7"' \
    "  with its page under public_url"
req "$U/v1/lookup/192.0.2.100"
like "$body" '"listed": false' "an unlisted address: listed false"
req "$U/v1/lookup/203.0.113.9"
like "$body" '"excluded": true' "an excluded one says so"
req "$U/v1/lookup/not-an-address"
is "$code" 400 "a bad address: 400"
like "$body" '"error": ' "  with {\"error\": ...}"
req "$U/v1/lookup/192.0.2.0/24"
is "$code" 400 "a prefix where one address is wanted: 400"
req -X POST "$U/v1/lookup/192.0.2.7"
is "$code" 405 "POST to a lookup: 405"
like "$hdrs" '^Allow: GET, HEAD' "  with Allow"
req "$U/v1/nothing-here"
is "$code" 404 "an unknown endpoint: 404"
like "$body" '"error"' "  as JSON"
req -X PUT "$U/"
is "$code" 405 "PUT on the page: 405"

# --- removals --------------------------------------------------------------
req -X POST -H 'Content-Type: application/json' \
    -d '{"address": "192.0.2.7"}' "$U/v1/removals"
is "$code" 202 "POST /v1/removals: 202"
id=$(echo "$body" | sed -n 's/.*"id": \([0-9]*\).*/\1/p')
like "$id" '^[1-9][0-9]*$' "  with an id ($id)"
like "$hdrs" "^Location: /v1/removals/$id" "  and its Location"
like "$(ctl queue)" '192\.0\.2\.7 +delist' "  the removal retest is queued"
like "$(ctl history 192.0.2.7)" 'queue .*by web:127\.0\.0\.1: delist' \
    "  audited as asked from the client's address"
req "$U/v1/removals/$id"
is "$code" 200 "GET /v1/removals/ID: 200"
like "$body" '"state": "queued"' "  queued"
like "$body" '"address": "192.0.2.7"' "  for the address"
req "$U/v1/lookup/192.0.2.7"
like "$body" "\"removal\": \\{" "  the lookup shows the pending removal"
req "$U/v1/removals/999999"
is "$code" 404 "an unknown removal: 404"
req "$U/v1/removals/1x"
is "$code" 404 "  a malformed id: 404"
req -X POST -d '{"address": "192.0.2.100"}' "$U/v1/removals"
is "$code" 404 "removal of an unlisted address: 404"
req -X POST -d '{"address": "192.0.2.9"}' "$U/v1/removals"
is "$code" 202 "a third removal request from the same client: 202"
req -X POST -d '{"address": "192.0.2.9"}' "$U/v1/removals"
is "$code" 429 "the 4th request within the hour (removal_rate 3): 429"
like "$hdrs" '^Retry-After: [0-9]+' "  with Retry-After"
like "$(curl -s -X POST -d '{"address": "192.0.2.8"}' \
    --interface 127.0.0.3 "$U/v1/removals")" '"state": "queued"' \
    "  another client is not limited by it"
req --interface 127.0.0.3 -X POST -d '{"address": ' "$U/v1/removals"
is "$code" 400 "truncated JSON: 400"
like "$body" 'bad JSON' "  says so"
req --interface 127.0.0.3 -X POST -d '["192.0.2.8"]' "$U/v1/removals"
is "$code" 400 "a JSON array, not an object: 400"
req --interface 127.0.0.3 -X POST -d '{"adress": "192.0.2.8"}' \
    "$U/v1/removals"
is "$code" 400 "no \"address\": 400"
printf '{"address": "192.0.2.8\377"}' > "$T/badutf8"
req --interface 127.0.0.3 -X POST --data-binary @"$T/badutf8" \
    "$U/v1/removals"
is "$code" 400 "invalid UTF-8 in the JSON: 400"

# --- the client's address: X-Forwarded-For from trusted proxies only --------
like "$(curl -s -H 'X-Forwarded-For: 198.51.100.9' "$U/")" \
    'value="127\.0\.0\.1"' "X-Forwarded-For from an untrusted peer: ignored"
like "$(curl -s --interface 127.0.0.2 \
    -H 'X-Forwarded-For: 1.2.3.4, 198.51.100.9' "$U/")" \
    'value="198\.51\.100\.9"' \
    "  from a trusted proxy: its rightmost untrusted address"
like "$(curl -s --interface 127.0.0.2 \
    -H 'X-Forwarded-For: <b>x</b>' "$U/")" 'value="127\.0\.0\.2"' \
    "  garbage in it: the proxy's own address"

# --- operators -------------------------------------------------------------
req -X POST -d '{"addresses": ["192.0.2.50"]}' "$U/v1/submissions"
is "$code" 401 "submissions without a token: 401"
like "$hdrs" '^WWW-Authenticate: Bearer' "  with WWW-Authenticate"
req -H "Authorization: Bearer wrong-token-wrong-token" -X POST \
    -d '{"addresses": ["192.0.2.50"]}' "$U/v1/submissions"
is "$code" 403 "a wrong token: 403"
req -H "$H" -X POST -d '{"addresses": ["192.0.2.50", "10.0.0.1", "junk",
    "192.0.2.0/24", "203.0.113.5", 7, "<script>"]}' "$U/v1/submissions"
is "$code" 202 "submissions with the token: 202"
is "$(js "d['queued']")" "['192.0.2.50']" "  the good address queued"
like "$(why 10.0.0.1)" "special-use" "  a private one refused: special-use"
like "$(why junk)" "not an address" "  junk refused: not an address"
like "$(why 192.0.2.0/24)" "a prefix" "  a prefix refused"
like "$(why 203.0.113.5)" "excluded" "  an excluded one refused"
like "$(js "[r['why'] for r in d['refused'] if r['address'] is None]")" \
    "not a string" "  a number refused (not a string)"
like "$(why '<script>')" "not an address" "  HTML refused (not an address)"
like "$(ctl history 192.0.2.50)" 'by api:feeds: submit' \
    "  the token's name is who, in the audit trail"
python3 -c 'import json; print(json.dumps({"addresses":
    ["192.0.2.1"] * 10001}))' > "$T/big.json"
req -H "$H" -X POST --data-binary @"$T/big.json" "$U/v1/submissions"
is "$code" 413 "10,001 addresses (over max_body here): 413"
python3 -c 'import json; print(json.dumps({"addresses": []}))' \
    > "$T/none.json"
req -H "$H" -X POST --data-binary @"$T/none.json" "$U/v1/submissions"
is "$code" 400 "an empty list: 400"

req -H "$H" -X POST -d '{"address": "198.51.100.0/24", "code": "127.0.0.3",
    "reason": "<b>spam source</b>"}' "$U/v1/listings"
is "$code" 201 "POST /v1/listings: 201"
like "$(ctl lookup 198.51.100.77)" 'listed 127\.0\.0\.3' "  listed"
like "$(ctl lookup 198.51.100.77)" 'source +api:feeds' "  by the token's name"
req -H "$H" -X POST -d '{"address": "198.51.100.0/24", "code": "10.0.0.1"}' \
    "$U/v1/listings"
is "$code" 400 "a code outside 127.0.0.x: 400"
req -H "$H" -X POST -d '{"address": "127.0.0.0/8"}' "$U/v1/listings"
is "$code" 400 "listing the RFC 5782 test point 127.0.0.1: 400"
like "$body" 'test point' "  says why"
like "$(curl -s "http://127.0.0.1:$port/lookup?ip=198.51.100.77")" \
    '&lt;b&gt;spam source&lt;/b&gt;' "  its reason HTML-escaped on the page"
req -H "$H" -X DELETE "$U/v1/listings/198.51.100.0/24"
is "$code" 400 "DELETE without a reason: 400"
req -H "$H" -X DELETE "$U/v1/listings/198.51.100.0/24?reason=fixed"
is "$code" 200 "DELETE /v1/listings/PREFIX?reason=: 200"
run ctl lookup 198.51.100.77
is "$rc" 1 "  no longer listed"
req -H "$H" -X DELETE "$U/v1/listings/198.51.100.0/24?reason=again"
is "$code" 404 "  again: 404"
req -H "$H" "$U/v1/queue"
is "$code" 200 "GET /v1/queue: 200"
like "$body" '"address": "192\.0\.2\.50"' "  lists the queue"
req -H "$H" "$U/v1/history/192.0.2.7"
is "$code" 200 "GET /v1/history/ADDR: 200"
like "$body" '"action": "queue"' "  with the queue entry"
req -H "$H" "$U/v1/evidence/424242"
is "$code" 404 "GET /v1/evidence/ID of none: 404"
req "$U/v1/queue"
is "$code" 401 "the queue without a token: 401"

req -H "$H" "$U/metrics"
is "$code" 200 "GET /metrics: 200"
like "$hdrs" '^Content-Type: text/plain; version=0\.0\.4' \
    "  Prometheus text format"
like "$body" 'relaybl_listings\{kind="manual"\} 3' "  listings by kind"
like "$body" 'relaybl_queue\{reason="delist",state="waiting"\} 3' \
    "  the queue by reason and state"
like "$body" 'relaybl_removal_requests_total\{result="rate_limited"\} 1' \
    "  removal requests by result"
like "$body" 'relaybl_http_requests_total\{route="api_lookup",status="400"\} 2' \
    "  HTTP requests by route and status"
like "$body" 'relaybl_store_serial [0-9]+' "  the store's serial"
echo "$body" > "$T/metrics"
python3 - "$T/metrics" <<'EOF'
import re, sys
types, bad = {}, []
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ")
        types[name] = kind
    elif line.startswith("#") or not line:
        continue
    else:
        m = re.match(r'^([a-z_]+)(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? '
                     r'[0-9]+$', line)
        if not m or m.group(1) not in types:
            bad.append(line)
sys.exit(1 if bad or not types else 0)
EOF
ok $? "  every sample well-formed and typed"

# Tokens: SIGHUP rereads the file; a bad file keeps the old tokens.
NEW=fedcba9876543210fedcba9876543210
printf 'feeds %s\n' "$NEW" > "$T/tokens"
kill -HUP $wpid
waitfor "$T/web.err" "tokens reloaded" 50
req -H "$H" "$U/v1/queue"
is "$code" 403 "SIGHUP: the old token is gone"
req -H "Authorization: Bearer $NEW" "$U/v1/queue"
is "$code" 200 "  the new one works"
printf 'feeds short\n' > "$T/tokens"
kill -HUP $wpid
waitfor "$T/web.err" "tokens file unchanged" 50
req -H "Authorization: Bearer $NEW" "$U/v1/queue"
is "$code" 200 "a bad tokens file: the tokens in use stay"

# --- the pages --------------------------------------------------------------
req "$U/lookup?ip=%3Cscript%3Ealert(1)%3C/script%3E"
is "$code" 400 "HTML as the address on the page: 400"
like "$body" '&lt;script&gt;alert\(1\)&lt;/script&gt;' "  shown escaped"
ok "$(echo "$body" | grep -q '<script>'; [ $? = 1 ]; echo $?)" \
    "  never as markup"
like "$hdrs" "^Content-Security-Policy: default-src 'none'" \
    "  and the page forbids scripts anyway"
is "$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$U/")" \
    "200 0" "HEAD /: 200, without a body"
req "$U/style.css"
like "$hdrs" '^Content-Type: text/css' "the stylesheet"
req -X POST -d 'ip=192.0.2.9' --interface 127.0.0.4 "$U/remove"
is "$code" 303 "the removal button: 303"
like "$hdrs" '^Location: /removal/[0-9]+' "  to the request's page"
loc=$(echo "$hdrs" | sed -n 's/^Location: //p')
like "$(curl -s "$U$loc")" 'http-equiv="refresh"' \
    "  which refreshes itself while queued"

# --- the server's limits ----------------------------------------------------
head -c 5000 /dev/zero | tr '\0' 'a' > "$T/big.body"
req -X POST --data-binary @"$T/big.body" "$U/v1/removals"
is "$code" 413 "a body over max_body: 413"
req -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' 'b')" "$U/"
is "$code" 431 "a head over 8 KB: 431"
req "$U/%ff"
is "$code" 404 "invalid UTF-8 in a path: not found, no crash"
python3 - "$port" > "$T/raw.out" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    return s
# A trickling client: the head never completes; 408 at header_timeout.
s = conn()
t0 = time.time()
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
got = b""
try:
    while True:
        s.sendall(b"X")
        time.sleep(0.2)
        s.setblocking(False)
        try:
            d = s.recv(4096)
            if not d:
                break
            got += d
        except BlockingIOError:
            pass
        s.setblocking(True)
        if time.time() - t0 > 4:
            break
except OSError:
    pass
print("trickle %s %.1f" % (got.split(b"\r\n")[0].decode(errors="replace"),
                           time.time() - t0))
# A flood of idle connections past max_connections (8): an honest client
# still gets its answer, the idle ones are closed.
idle = [conn() for _ in range(30)]
time.sleep(0.3)
s = conn()
s.sendall(b"GET /v1/lookup/192.0.2.7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
d = b""
while True:
    x = s.recv(4096)
    if not x:
        break
    d += x
print("honest", d.split(b"\r\n")[0].decode())
closed = 0
for c in idle:
    c.setblocking(False)
    try:
        if c.recv(1) == b"":
            closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print("closed %d" % closed)
# Pipelined requests on one connection, answered in order.
s = conn()
s.sendall(b"GET /v1/lookup/192.0.2.7 HTTP/1.1\r\nHost: x\r\n\r\n"
          b"GET /v1/lookup/192.0.2.100 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
d = b""
while True:
    x = s.recv(65536)
    if not x:
        break
    d += x
print("pipelined %d %d" % (d.count(b"HTTP/1.1 200"), d.find(b'"listed": true') < d.find(b'"listed": false')))
EOF
like "$(cat "$T/raw.out")" 'trickle HTTP/1.1 408 Request Timeout [12]\.' \
    "a head trickled a byte at a time: 408 at header_timeout (1 s)"
like "$(cat "$T/raw.out")" 'honest HTTP/1.1 200 OK' \
    "30 idle connections past the cap: an honest request is answered"
like "$(cat "$T/raw.out")" 'closed (2[2-9]|30)' \
    "  the idle ones evicted (at most 8 open)"
like "$(cat "$T/raw.out")" 'pipelined 2 1' \
    "two pipelined requests: both answered, in order"
kill -0 $wpid
ok $? "dnsblweb still running after all of it"

kill -TERM $wpid
daemon_wait $wpid
is $? 0 "SIGTERM: exit 0"

# Past 10,000 addresses, with a body limit that lets them in: 400.
sed "s/^max_body = .*/max_body = 1048576/" "$T/relaybl.conf" > "$T/big.conf"
printf 'feeds %s\n' "$TOKEN" > "$T/tokens"
daemon_start web2 "$DNSBLWEB" -c "$T/big.conf"
daemon_ready $pid web2 "ready" 100
python3 -c 'import json; print(json.dumps({"addresses":
    ["192.0.2.%d" % (i % 250 + 1) for i in range(10001)]}))' > "$T/big.json"
req -H "$H" -X POST --data-binary @"$T/big.json" "$U/v1/submissions"
is "$code" 400 "10,001 addresses in a body within max_body: 400"
like "$body" '1 to 10000 addresses' "  says the limit"
daemon_stop $pid

# --- bad configurations -----------------------------------------------------
sed "s/^listen = .*/listen = 127.0.0.1:99999/" "$T/relaybl.conf" > "$T/bad1"
run "$DNSBLWEB" -c "$T/bad1"
is "$rc" 2 "a bad listen address: exit 2"
like "$out" 'listen' "  naming the key"
printf 'feeds short\n' > "$T/tokens"
run "$DNSBLWEB" -c "$T/relaybl.conf"
is "$rc" 2 "a token under 16 characters: exit 2"
like "$out" 'tokens' "  naming the file"
sed "s/^trusted_proxies = .*/trusted_proxies = 300.1.1.1/" \
    "$T/relaybl.conf" > "$T/bad2"
printf 'feeds %s\n' "$TOKEN" > "$T/tokens"
run "$DNSBLWEB" -c "$T/bad2"
is "$rc" 2 "a bad trusted_proxies: exit 2"
done_testing
