#!/usr/bin/env python3
"""farm.py -- a fake SMTP farm for the prober's tests and benches.

One process, one thread (asyncio), standard library only.  Every host is
one loopback address with a listening socket of its own, all on the same
port, and one behaviour each.  Thousands of hosts and hundreds of
concurrent connections are fine (the open-file limit is raised to its
hard limit at start).

Usage:
  farm.py [-p] [-f FILE]... [--tls-cert FILE --tls-key FILE] PORT
          SINK_HOST:SINK_PORT [ADDR=BEHAVIOUR[,EGRESS]]...
  farm.py -l

  PORT      the port every host listens on
  SINK      where relayed messages go (the prober's sink); an IPv6 sink
            is written [::1]:PORT or ::1:PORT
  ADDR      a loopback address, 127.0.0.0/8 or ::1 (nothing else is ever
            bound)
  EGRESS    for multihop: the loopback address deliveries leave from
  -f FILE   more ADDR=BEHAVIOUR[,EGRESS] specs, one a line; blank lines
            and lines starting with '#' are ignored; may be repeated and
            combined with specs on the command line
  -p        logs every connection a host accepts, with the address it
            came from, on stderr (see below)
  -l        lists the battery's form names (parsed from prober/battery.c),
            one a line, on stdout (the count on stderr), and exits
  --tls-cert FILE, --tls-key FILE
            the certificate (PEM, chain first) and key the starttls-*
            hosts present; without them the farm makes a self-signed
            pair with the openssl command into a temporary directory,
            removed at exit (only when a host, or FARMDIR, may need it)

Environment:
  PROBE_DOMAIN  the sink's mail domain (default probe.test): a relayed
                message goes to COOKIE@PROBE_DOMAIN
  FARMDIR       a file FARMDIR/ADDR holding a behaviour name overrides
                that host's behaviour while it exists; it is read at each
                new connection (tests "fix" a relay so)
  FARM_SLOW_REPLY  seconds slowclosed and slowtls wait before each reply
                   (0.15)

Once every listener is up the farm prints "farm: ready, N hosts" on
stdout.  It exits 0 on SIGTERM or SIGINT, 2 on a bad command line or spec.

Each host calls itself NAME.farm.test, NAME being its behaviour with every
character outside [a-z0-9-] replaced by '-' (form:plain -> form-plain),
in its greeting "220 NAME.farm.test ESMTP fake" and its EHLO reply.

Behaviours:
  open        accepts everything; for every accepted recipient carrying a
              cookie (rb + 36 or 55 base32 letters) the message is
              delivered to COOKIE@PROBE_DOMAIN at the sink, from the
              host's own address, after the 250 that ends DATA
  multihop    like open, but delivers from the EGRESS address
  closed      554 to every RCPT
  slowclosed  like closed, but waits SLOW_REPLY seconds (environment
              FARM_SLOW_REPLY, default 0.15) before every reply, greeting
              included: a probe stays in flight for seconds (memory bench)
  discard     accepts everything, delivers nothing
  tempfail    450 to every RCPT
  defer       "454 4.7.1 Relay access denied" to every RCPT (Debian's
              Postfix, defer_unauth_destination)
  greylist    "450 4.7.1 Greylisted" to every RCPT from a client address
              first seen by this host less than GREYLIST_DELAY (1.5 s)
              ago, then like open (a postscreen-style greylist by client)
  greylist3   "450 4.7.1 Greylisted" to every RCPT whose client address,
              sender and recipient together were first seen by this host
              less than GREYLIST_DELAY ago, then like open (postgrey: a
              client that comes back with new recipients is new again)
  trickle     a greeting that trickles: "220-" lines one byte every
              TRICKLE_STEP (0.25 s), without end, until the client hangs
              up (a client that waits for the whole line waits forever)
  helo        502 to EHLO (HELO works), then like closed
  greet421    421 at the greeting, then closes
  never       accepts the connection and never speaks; holds it until the
              client closes it or 300 s pass
  garbage     answers with an HTTP response and closes
  endless     a greeting that never ends: "220-" lines without end
  hugeline    a greeting line that never ends: "220 xxxx..." without CRLF
              (both until the client hangs up, at most 64 MB)
  dropper     closes the connection at RCPT
  auth        advertises AUTH PLAIN LOGIN; 530 to MAIL and RCPT, 503 to
              DATA, 535 to AUTH; delivers nothing
  slowgreet   a multi-line greeting sent slowly (five lines 0.4 s apart,
              1.6 s in all); a client that speaks before the last line
              gets "554 5.5.0 you spoke before my greeting" and is
              dropped (a postscreen-style pregreet test); otherwise open
  datareject  accepts MAIL and RCPT, 354 to DATA, then 554 at the end of
              the message; delivers nothing
  flaky421    the first connection to the host (whoever makes it) gets
              "421 4.3.2 busy, try later" at the greeting; every later
              one, an open relay
  starttls-open    advertises STARTTLS; in the clear MAIL gets "530 5.7.0
              Must issue a STARTTLS command first"; over TLS (after a new
              EHLO) an open relay (Postfix's smtpd_tls_security_level =
              encrypt on an open relay)
  starttls-closed  advertises STARTTLS, TLS works; 554 to every RCPT, in
              the clear and over TLS
  slowtls     like starttls-closed, but waits SLOW_REPLY before every reply
              (the memory of probes in flight over TLS: bench-prober)
  starttls-refuse  advertises STARTTLS, answers it "454 4.7.0 TLS not
              available due to local problem"; an open relay in the clear
  starttls-broken  advertises STARTTLS, answers it "220 2.0.0 Ready to
              start TLS", reads the client's hello, sends bytes that are
              not TLS and closes; an open relay in a session that never
              says STARTTLS
  starttls-inject  advertises STARTTLS, answers it "220 2.0.0 Ready to
              start TLS\r\n250 injected" in one write (a plaintext
              injection, CVE-2011-0411), then does TLS; an open relay over
              TLS.  A client that believes the injected line (it sends
              MAIL before EHLO over TLS, or its first command over TLS
              without waiting for the reply) is logged (see below)
  form:NAME   open only for the battery form NAME (farm.py -l lists them):
              RCPT gets 250 only when the transaction's sender matches the
              form's sender template and the recipient its recipient
              template (the whole argument, up to the first space, case
              insensitive; {u} a cookie, {d} PROBE_DOMAIN, {ip} the
              host's address literal, {h} the host's own name), else
              "554 5.7.1 Relay access denied"; delivers like open

Every host knows EHLO, HELO, MAIL, RCPT, DATA, RSET, NOOP and QUIT (500 to
anything else), answers 503 to RCPT before MAIL and to DATA without a
recipient, hangs up after 60 s of silence or 20 bad commands, caps a line
at 2000 bytes (500, line too long) and a message at 1 MB (552).

The starttls-* hosts know STARTTLS too and keep RFC 3207's rules: 501 to
STARTTLS with an argument; whatever the client sent in the clear after
STARTTLS is dropped; over TLS the session starts afresh (MAIL before a new
EHLO or HELO gets "503 5.5.1 send EHLO first"), STARTTLS is no longer
advertised and a second STARTTLS gets 503.  TLS 1.2 and 1.3 are offered,
with OpenSSL's default ciphers; nothing asks for a client certificate.

Each delivery attempt logs one line on stderr:
  farm: ADDR delivered COOKIE from SRC
  farm: delivery to COOKIE@DOMAIN failed: ERROR
With -p, each connection accepted logs one line on stderr too:
  farm: ADDR connection from PEER
Each STARTTLS that a starttls-* host goes through with logs one of:
  farm: ADDR: TLS VERSION CIPHER with PEER        (e.g. TLSv1.3)
  farm: ADDR: TLS handshake failed with PEER: ERROR
  farm: ADDR: sent garbage for TLS to PEER        (starttls-broken)
and starttls-inject, when the client believed the injected line:
  farm: ADDR: injection believed
"""
import asyncio
import getopt
import ipaddress
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile

COOKIE = re.compile(r"(?i)\b(rb[a-z2-7]{36}|rb[a-z2-7]{55})\b")
LINE_MAX = 2000                 # bytes of one line, with its end
MSG_MAX = 1 << 20               # bytes of one message
IDLE = 60                       # seconds of client silence before hanging up
NEVER_HOLD = 300                # seconds "never" keeps a connection
ERRORS_MAX = 20                 # bad commands before hanging up
# seconds between slowgreet's lines: 1.6 s in all, within the tests'
# timeout_greeting (2 s), which bounds the whole greeting
SLOW_STEP = 0.4
DELIVER_TIMEOUT = 10            # seconds per step of a delivery
BACKLOG = 1024
GREYLIST_DELAY = 1.5            # seconds greylist defers a new client
TRICKLE_STEP = 0.25             # seconds between trickle's bytes
INJECT_WAIT = 0.3               # seconds starttls-inject waits, before its
                                # first reply over TLS, for a client that
                                # does not wait for it
TLS_GARBAGE = b"\x00\xffthis is not TLS\r\n" * 4
# slowclosed, slowtls
SLOW_REPLY = float(os.environ.get("FARM_SLOW_REPLY", "0.15"))

PLAIN = ("open", "multihop", "closed", "discard", "tempfail", "helo",
         "greet421", "never", "garbage", "dropper", "auth", "slowgreet",
         "datareject", "endless", "hugeline", "defer", "greylist",
         "flaky421", "greylist3", "trickle", "slowclosed")
STARTTLS = ("starttls-open", "starttls-closed", "slowtls", "starttls-refuse",
            "starttls-broken", "starttls-inject")
RELAYS = ("open", "multihop", "slowgreet", "greylist", "greylist3",
          "flaky421",
          "starttls-open", "starttls-refuse", "starttls-broken",
          "starttls-inject")                            # and form:NAME

BATTERY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "prober", "battery.c")


class SpecError(Exception):
    pass


def log(text):
    print(text, file=sys.stderr, flush=True)


# --- The battery's forms -------------------------------------------------

_forms = None


def forms():
    """{name: (sender template, recipient template)} from battery.c."""
    global _forms
    if _forms is None:
        try:
            with open(BATTERY, encoding="utf-8") as f:
                src = f.read()
        except OSError as e:
            raise SpecError("cannot read the forms table: %s" % e)
        m = re.search(r"\bforms\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\}\s*;", src,
                      re.S)
        if not m:
            raise SpecError("no forms table in %s" % BATTERY)
        s = r'"((?:[^"\\\n]|\\.)*)"'
        entry = re.compile(r"\{\s*%s\s*,\s*%s\s*,\s*%s\s*\}" % (s, s, s))
        unq = lambda t: re.sub(r"\\(.)", r"\1", t)
        table = {}
        for e in entry.finditer(m.group(1)):
            table[unq(e.group(1))] = (unq(e.group(2)), unq(e.group(3)))
        if not table:
            raise SpecError("no forms parsed from %s" % BATTERY)
        _forms = table
    return _forms


def template_re(template, domain, ipliteral, hostname):
    """A battery template as a whole-match, case-insensitive regex."""
    subs = {"{u}": "(rb[a-z2-7]+)", "{d}": re.escape(domain),
            "{ip}": re.escape(ipliteral), "{h}": re.escape(hostname)}
    parts = re.split(r"(\{u\}|\{d\}|\{ip\}|\{h\})", template)
    return re.compile("".join(subs.get(p, re.escape(p)) for p in parts),
                      re.I)


# --- Hosts ---------------------------------------------------------------

def host_name(behaviour):
    return re.sub(r"[^a-z0-9-]", "-", behaviour) + ".farm.test"


def check_behaviour(b):
    if b in PLAIN or b in STARTTLS:
        return
    if b.startswith("form:"):
        if b[5:] not in forms():
            raise SpecError("unknown form %r (farm.py -l lists them)" % b[5:])
        return
    raise SpecError("unknown behaviour %r" % b)


def loopback(text, what):
    t = text.strip()
    if t.startswith("[") and t.endswith("]"):
        t = t[1:-1]
    try:
        a = ipaddress.ip_address(t)
    except ValueError:
        raise SpecError("%s %r is not an IP address" % (what, text))
    if not a.is_loopback:
        raise SpecError("%s %s is not a loopback address" % (what, a))
    return a


class Host:
    def __init__(self, addr, behaviour, egress):
        self.ip = addr
        self.addr = str(addr)
        self.family = socket.AF_INET6 if addr.version == 6 else \
            socket.AF_INET
        self.literal = ("IPv6:" + addr.compressed) if addr.version == 6 \
            else self.addr
        self.behaviour = behaviour
        self.egress = str(egress) if egress is not None else self.addr
        self.form_res = {}
        self.seen = {}          # greylist: client address -> first seen
        self.busy_once = False  # flaky421: the first connection came

    def current(self):
        """The behaviour for a new connection: FARMDIR's override or ours."""
        if FARMDIR is None:
            return self.behaviour
        try:
            with open(os.path.join(FARMDIR, self.addr)) as f:
                b = f.read().strip()
        except OSError:
            return self.behaviour
        try:
            check_behaviour(b)
        except SpecError as e:
            log("farm: %s: override ignored: %s" % (self.addr, e))
            return self.behaviour
        return b

    def form(self, behaviour):
        """(sender regex, recipient regex) of a form:NAME behaviour."""
        r = self.form_res.get(behaviour)
        if r is None:
            snd, rcpt = forms()[behaviour[5:]]
            h = host_name(behaviour)
            r = (template_re(snd, DOMAIN, self.literal, h),
                 template_re(rcpt, DOMAIN, self.literal, h))
            self.form_res[behaviour] = r
        return r


def parse_spec(spec, where):
    if "=" not in spec:
        raise SpecError("%s: %r is not ADDR=BEHAVIOUR[,EGRESS]" %
                        (where, spec))
    a, rest = spec.split("=", 1)
    behaviour, _, egress = rest.strip().partition(",")
    try:
        addr = loopback(a, "address")
        check_behaviour(behaviour)
        eg = loopback(egress, "egress") if egress.strip() else None
    except SpecError as e:
        raise SpecError("%s: %s" % (where, e))
    if eg is not None and eg.version != addr.version:
        raise SpecError("%s: egress %s is not of the family of %s" %
                        (where, eg, addr))
    return Host(addr, behaviour, eg)


# --- Reading lines -------------------------------------------------------

class Lines:
    """Lines off a StreamReader, each capped at LINE_MAX bytes: a longer
    one is skipped up to its end and comes back as None."""

    def __init__(self, reader):
        self.r = reader
        self.buf = bytearray()
        self.pos = 0
        self.eof = False

    def drop(self):
        """Forgets what was read and not yet taken as lines."""
        del self.buf[:]
        self.pos = 0

    async def more(self):
        """Whether there is input not yet taken (waits for some)."""
        while len(self.buf) == self.pos and not self.eof:
            data = await self.r.read(65536)
            if not data:
                self.eof = True
            self.buf += data
        return len(self.buf) > self.pos

    async def readline(self):
        """One line without its end, or None if it was too long; EOFError
        at the end of the input (an unterminated last line is dropped)."""
        toolong = False
        while True:
            i = self.buf.find(b"\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i + 1])
                self.pos = i + 1
                if self.pos > 65536 or self.pos * 2 > len(self.buf):
                    del self.buf[:self.pos]
                    self.pos = 0
                if toolong or len(line) > LINE_MAX:
                    return None
                return line.rstrip(b"\r\n")
            if len(self.buf) - self.pos > LINE_MAX:
                toolong = True
                del self.buf[:]
                self.pos = 0
            if self.eof:
                raise EOFError
            data = await self.r.read(65536)
            if not data:
                self.eof = True
            self.buf += data


# --- A session -----------------------------------------------------------

class Session:
    def __init__(self, host, reader, writer):
        self.host = host
        self.reader = reader
        self.writer = writer
        self.lines = Lines(reader)
        self.b = host.current()
        self.name = host_name(self.b)
        self.errors = 0
        peer = writer.get_extra_info("peername")
        self.client = peer[0] if peer else "?"
        self.tls = False        # the session is over TLS now
        self.greeted = False    # EHLO or HELO since the session (re)started
        self.first_tls = False  # the next command is the first over TLS

    async def say(self, *lines):
        if self.b in ("slowclosed", "slowtls"):
            await asyncio.sleep(SLOW_REPLY)
        self.writer.write("".join(l + "\r\n" for l in lines).encode())
        async with asyncio.timeout(IDLE):
            await self.writer.drain()

    async def readline(self):
        async with asyncio.timeout(IDLE):
            return await self.lines.readline()

    async def run(self):
        b = self.b
        if b == "never":
            async with asyncio.timeout(NEVER_HOLD):
                while await self.reader.read(65536):
                    pass
            return
        if b == "garbage":
            self.writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/html"
                              b"\r\n\r\n<html>hello</html>\r\n")
            await self.writer.drain()
            return
        if b == "greet421":
            await self.say("421 4.3.2 %s too busy" % self.name)
            return
        if b == "flaky421" and not self.host.busy_once:
            self.host.busy_once = True
            await self.say("421 4.3.2 busy, try later")
            return
        if b in ("endless", "hugeline"):
            chunk = (b"220-%s endless\r\n" % self.name.encode()) * 64 \
                if b == "endless" else b"220 " + b"x" * 4092
            if b == "hugeline":
                self.writer.write(chunk)
                chunk = b"x" * 4096
            try:
                async with asyncio.timeout(NEVER_HOLD):
                    for _ in range((64 << 20) // len(chunk)):
                        self.writer.write(chunk)
                        await self.writer.drain()
            except (OSError, TimeoutError):
                pass
            return
        if b == "trickle":
            while True:
                for c in b"220-trickling, one byte at a time\r\n":
                    self.writer.write(bytes([c]))
                    async with asyncio.timeout(IDLE):
                        await self.writer.drain()
                    await asyncio.sleep(TRICKLE_STEP)
        if b == "slowgreet":
            if not await self.slow_greeting():
                return
        else:
            await self.say("220 %s ESMTP fake" % self.name)
        await self.commands()

    async def slow_greeting(self):
        """Sends the greeting slowly; False if the client spoke first."""
        first = [("220-%s ESMTP fake" % self.name),
                 "220-this server greets slowly",
                 "220-and expects clients to wait",
                 "220-for the last line"]
        peek = asyncio.ensure_future(self.reader.read(LINE_MAX))
        try:
            for l in first:
                await self.say(l)
                await asyncio.wait({peek}, timeout=SLOW_STEP)
                if peek.done():
                    break
        finally:
            if not peek.done():
                peek.cancel()
            await asyncio.wait({peek})
        # A read cancelled before data came has taken nothing.
        if not peek.cancelled():
            if peek.exception() is None and peek.result():
                await self.say("554 5.5.0 you spoke before my greeting")
            return False
        await self.say("220 %s ESMTP fake" % self.name)
        return True

    def ehlo_lines(self):
        ls = ["250-" + self.name]
        if self.b == "auth":
            ls.append("250-AUTH PLAIN LOGIN")
        if self.b in STARTTLS and not self.tls:
            ls.append("250-STARTTLS")
        ls += ["250-SIZE %d" % MSG_MAX, "250 8BITMIME"]
        return ls

    async def commands(self):
        b = self.b
        sender = None                   # no transaction until MAIL
        rcpts = []
        while True:
            if self.errors >= ERRORS_MAX:
                await self.say("421 4.7.0 %s too many errors" % self.name)
                return
            try:
                line = await self.readline()
            except TimeoutError:
                await self.say("421 4.4.2 %s timeout" % self.name)
                return
            if line is None:
                self.errors += 1
                await self.say("500 5.5.2 line too long")
                continue
            cmd = line.decode("latin-1")
            verb = cmd.split(" ", 1)[0].upper()
            if self.first_tls:
                self.first_tls = False
                if b == "starttls-inject" and (verb in ("MAIL", "RCPT",
                                                        "DATA")
                                               or await self.hurried()):
                    log("farm: %s: injection believed" % self.host.addr)
            if verb == "EHLO":
                if b == "helo":
                    self.errors += 1
                    await self.say("502 5.5.2 EHLO not here")
                else:
                    sender, rcpts = None, []
                    self.greeted = True
                    await self.say(*self.ehlo_lines())
            elif verb == "HELO":
                sender, rcpts = None, []
                self.greeted = True
                await self.say("250 " + self.name)
            elif verb == "STARTTLS" and b in STARTTLS:
                if self.tls:
                    self.errors += 1
                    await self.say("503 5.5.1 TLS already active")
                elif cmd.strip().upper() != "STARTTLS":
                    self.errors += 1
                    await self.say("501 5.5.4 syntax: STARTTLS")
                elif b == "starttls-refuse":
                    await self.say("454 4.7.0 TLS not available due to "
                                   "local problem")
                elif not await self.starttls():
                    return
                else:
                    sender, rcpts = None, []
            elif verb == "MAIL":
                arg = argument(cmd, "MAIL FROM:")
                if arg is None:
                    self.errors += 1
                    await self.say("501 5.5.4 syntax: MAIL FROM:<address>")
                elif b == "auth":
                    await self.say("530 5.7.0 Authentication required")
                elif self.tls and not self.greeted:
                    self.errors += 1
                    await self.say("503 5.5.1 send EHLO first")
                elif b == "starttls-open" and not self.tls:
                    await self.say("530 5.7.0 Must issue a STARTTLS command "
                                   "first")
                else:
                    sender, rcpts = arg, []
                    await self.say("250 2.1.0 ok")
            elif verb == "RCPT":
                arg = argument(cmd, "RCPT TO:")
                if b == "auth":
                    await self.say("530 5.7.0 Authentication required")
                elif arg is None:
                    self.errors += 1
                    await self.say("501 5.5.4 syntax: RCPT TO:<address>")
                elif sender is None:
                    self.errors += 1
                    await self.say("503 5.5.1 MAIL first")
                elif b in ("closed", "helo", "starttls-closed", "slowclosed",
                           "slowtls"):
                    await self.say("554 5.7.1 Relay access denied")
                elif b == "tempfail":
                    await self.say("450 4.7.1 try again later")
                elif b == "defer":
                    await self.say("454 4.7.1 %s: Relay access denied" %
                                   arg)
                elif ((b == "greylist" and self.greylisted()) or
                      (b == "greylist3" and self.greylisted(sender, arg))):
                    await self.say("450 4.7.1 %s: Recipient address "
                                   "rejected: Greylisted, try again later"
                                   % arg)
                elif b == "dropper":
                    return
                elif b.startswith("form:") and not self.form_ok(sender,
                                                                arg):
                    await self.say("554 5.7.1 Relay access denied")
                else:
                    rcpts.append(arg)
                    await self.say("250 2.1.5 ok")
            elif verb == "DATA":
                if not rcpts:
                    self.errors += 1
                    await self.say("503 5.5.1 no valid recipients")
                    continue
                await self.say("354 end with <CRLF>.<CRLF>")
                body = await self.data()
                if b == "datareject":
                    await self.say("554 5.7.1 message content rejected")
                elif body == "toolong":
                    await self.say("500 5.5.2 line too long")
                elif body == "toobig":
                    await self.say("552 5.3.4 message too big")
                else:
                    await self.say("250 2.0.0 queued")
                    if b in RELAYS or b.startswith("form:"):
                        self.relay(rcpts, body)
                sender, rcpts = None, []
            elif verb == "RSET":
                sender, rcpts = None, []
                await self.say("250 2.0.0 ok")
            elif verb == "NOOP":
                await self.say("250 2.0.0 ok")
            elif verb == "QUIT":
                await self.say("221 2.0.0 bye")
                return
            elif verb == "AUTH" and b == "auth":
                self.errors += 1
                await self.say("535 5.7.8 authentication credentials "
                               "invalid")
            else:
                self.errors += 1
                await self.say("500 5.5.1 command not recognised")

    async def starttls(self):
        """Says 220 to STARTTLS and does the TLS handshake (RFC 3207);
        False when the session is over (a failed handshake, or
        starttls-broken's garbage)."""
        ready = "220 2.0.0 Ready to start TLS"
        if self.b == "starttls-inject":
            await self.say(ready, "250 injected")       # in one write
        else:
            await self.say(ready)
        if self.b == "starttls-broken":
            try:
                async with asyncio.timeout(5):
                    await self.reader.read(65536)       # the client's hello
            except TimeoutError:
                pass
            self.writer.write(TLS_GARBAGE)
            await self.writer.drain()
            log("farm: %s: sent garbage for TLS to %s" % (self.host.addr,
                                                           self.client))
            return False
        # What the client sent in the clear after STARTTLS is not part of
        # the TLS session: dropped, never read as commands.
        self.lines.drop()
        try:
            await self.writer.start_tls(tls_context(),
                                        ssl_handshake_timeout=IDLE)
        except (OSError, TimeoutError, EOFError) as e:
            log("farm: %s: TLS handshake failed with %s: %s" %
                (self.host.addr, self.client, str(e) or type(e).__name__))
            return False
        t = self.writer.get_extra_info("ssl_object")
        log("farm: %s: TLS %s %s with %s" % (self.host.addr, t.version(),
                                              t.cipher()[0], self.client))
        self.tls, self.greeted, self.first_tls = True, False, True
        return True

    async def hurried(self):
        """Whether the client sent more before its first reply over TLS
        (it took the injected "250" for that reply)."""
        try:
            async with asyncio.timeout(INJECT_WAIT):
                return await self.lines.more()
        except TimeoutError:
            return False

    def greylisted(self, *triplet):
        """Whether this client (with this sender and recipient, for
        greylist3) is new to the host."""
        loop = asyncio.get_running_loop()
        key = (self.client,) + tuple(x.lower() for x in triplet)
        first = self.host.seen.setdefault(key, loop.time())
        return loop.time() - first < GREYLIST_DELAY

    def form_ok(self, sender, rcpt):
        s_re, r_re = self.host.form(self.b)
        return bool(s_re.fullmatch(sender) and r_re.fullmatch(rcpt))

    async def data(self):
        """The message up to ".": its lines, or "toolong" / "toobig"."""
        lines, size, bad = [], 0, None
        while True:
            line = await self.readline()        # EOFError: no message
            if line is None:
                bad = bad or "toolong"
                continue
            if line == b".":
                return bad or lines
            if line.startswith(b"."):
                line = line[1:]
            size += len(line) + 2
            if size > MSG_MAX:
                bad = bad or "toobig"
            if bad is None:
                lines.append(line)

    def relay(self, rcpts, lines):
        """One delivery per accepted recipient carrying a cookie."""
        src = self.host.egress if self.b == "multihop" else self.host.addr
        body = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n"
                        for l in lines) + b".\r\n"
        for r in rcpts:
            m = COOKIE.search(r)
            if m:
                spawn(deliver(self.host.addr, self.name, src, m.group(1),
                              body))


def argument(cmd, prefix):
    """The path after "MAIL FROM:" / "RCPT TO:", up to the first space."""
    if cmd[:len(prefix)].upper() != prefix:
        return None
    rest = cmd[len(prefix):].lstrip(" ")
    arg = rest.split(" ", 1)[0]
    return arg if arg else None


async def serve(host, reader, writer):
    if LOG_PEERS:
        peer = writer.get_extra_info("peername")
        log("farm: %s connection from %s" % (host.addr,
                                             peer[0] if peer else "?"))
    s = Session(host, reader, writer)
    try:
        await s.run()
    except (OSError, EOFError, TimeoutError):
        pass
    except asyncio.CancelledError:
        pass                    # the farm is stopping (3.11's streams
                                # would log a cancelled handler task)
    except Exception as e:      # a bug here must not kill the farm
        log("farm: %s: session error: %r" % (host.addr, e))
    finally:
        writer.close()


# --- Deliveries ----------------------------------------------------------

TASKS = set()


def spawn(coro):
    t = asyncio.ensure_future(coro)
    TASKS.add(t)
    t.add_done_callback(TASKS.discard)


class SMTPFail(Exception):
    pass


async def reply(reader, want):
    """Reads one reply (multi-line too); SMTPFail unless its code is want."""
    lines = []
    while True:
        async with asyncio.timeout(DELIVER_TIMEOUT):
            l = await reader.readline()
        if not l:
            raise SMTPFail("connection closed" +
                           (" after: " + lines[-1] if lines else ""))
        l = l.decode("latin-1").rstrip("\r\n")
        lines.append(l)
        if len(lines) > 100 or len(l) < 3 or not l[:3].isdigit():
            raise SMTPFail("not SMTP: %r" % l[:80])
        if l[3:4] != "-":
            break
    if int(lines[0][:3]) != want:
        raise SMTPFail(" / ".join(lines)[:300])


async def deliver(relay, helo, src, cookie, body):
    to = "%s@%s" % (cookie, DOMAIN)
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    writer, delivered = None, False
    try:
        sink = SINKS.get(fam)
        if sink is None:
            raise SMTPFail("no sink address of the family of %s" % src)
        async with asyncio.timeout(DELIVER_TIMEOUT):
            reader, writer = await asyncio.open_connection(
                sink[0], sink[1], family=fam, local_addr=(src, 0))
        await reply(reader, 220)
        for cmd, want in (("EHLO " + helo, 250),
                          ("MAIL FROM:<relay@farm.test>", 250),
                          ("RCPT TO:<%s>" % to, 250), ("DATA", 354)):
            writer.write(cmd.encode() + b"\r\n")
            await reply(reader, want)
        writer.write(body)
        await reply(reader, 250)
        log("farm: %s delivered %s from %s" % (relay, cookie, src))
        delivered = True
        writer.write(b"QUIT\r\n")
        try:
            await reply(reader, 221)
        except (SMTPFail, OSError, TimeoutError, ValueError):
            pass
    except (SMTPFail, OSError, TimeoutError, ValueError) as e:
        err = str(e) or type(e).__name__
        log("farm: delivery to %s failed: %s" % (to, err))
    except asyncio.CancelledError:
        if not delivered:
            log("farm: delivery to %s failed: the farm is stopping" % to)
        raise
    finally:
        if writer is not None:
            writer.close()


# --- TLS -----------------------------------------------------------------

_tls = None


def tls_context():
    """The server context of the starttls-* hosts (TLS_CERT, TLS_KEY)."""
    global _tls
    if _tls is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(TLS_CERT, TLS_KEY)
        _tls = ctx
    return _tls


def self_signed():
    """A self-signed key and certificate for *.farm.test, made with the
    openssl command in a temporary directory that main() removes."""
    global TLS_DIR, TLS_CERT, TLS_KEY
    TLS_DIR = tempfile.mkdtemp(prefix="farm-tls.")
    TLS_CERT = os.path.join(TLS_DIR, "cert.pem")
    TLS_KEY = os.path.join(TLS_DIR, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "30", "-subj", "/CN=farm.test",
                        "-addext", "subjectAltName=DNS:*.farm.test",
                        "-keyout", TLS_KEY, "-out", TLS_CERT],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SpecError("openssl could not make a certificate: %s" %
                        r.stderr.strip()[-300:])


# --- Start-up ------------------------------------------------------------

def usage(msg=None):
    if msg:
        log("farm: " + msg)
    log("usage: farm.py [-p] [-f SPECFILE]... [--tls-cert FILE --tls-key "
        "FILE] PORT SINK_HOST:SINK_PORT [ADDR=BEHAVIOUR[,EGRESS]]...\n"
        "       farm.py -l")
    sys.exit(2)


def resolve_sink(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        usage("sink %r is not HOST:PORT" % text)
    host = host[1:-1] if host.startswith("[") and host.endswith("]") \
        else host
    try:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except OSError as e:
        usage("sink %s: %s" % (text, e))
    sinks = {}
    for fam, _, _, _, sa in infos:
        sinks.setdefault(fam, (sa[0], sa[1]))
    return sinks


def listener(host, port):
    s = socket.socket(host.family, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if host.family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host.addr, port))
        s.listen(BACKLOG)
        s.setblocking(False)
    except OSError:
        s.close()
        raise
    return s


async def main_async(hosts, port):
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    servers = []
    for h in hosts:
        try:
            sock = listener(h, port)
        except OSError as e:
            log("farm: cannot listen on %s port %d: %s" % (h.addr, port, e))
            for s in servers:
                s.close()
            return 1
        cb = (lambda h: lambda r, w: serve(h, r, w))(h)
        servers.append(await asyncio.start_server(cb, sock=sock,
                                                  limit=LINE_MAX * 4))
    print("farm: ready, %d hosts" % len(hosts), flush=True)
    await stop.wait()
    for s in servers:
        s.close()
    return 0


def main():
    global DOMAIN, FARMDIR, SINKS, LOG_PEERS, TLS_CERT, TLS_KEY
    try:
        opts, args = getopt.gnu_getopt(sys.argv[1:], "f:lhp",
                                       ["tls-cert=", "tls-key="])
    except getopt.GetoptError as e:
        usage(str(e))
    specs = []
    for o, v in opts:
        if o == "--tls-cert":
            TLS_CERT = v
        if o == "--tls-key":
            TLS_KEY = v
        if o == "-h":
            print(__doc__)
            sys.exit(0)
        if o == "-p":
            LOG_PEERS = True
        if o == "-l":
            try:
                names = list(forms())
            except SpecError as e:
                log("farm: " + str(e))
                sys.exit(2)
            print("\n".join(names), flush=True)
            log("farm: %d forms" % len(names))
            sys.exit(0)
        if o == "-f":
            try:
                with open(v) as f:
                    for n, l in enumerate(f, 1):
                        l = l.strip()
                        if l and not l.startswith("#"):
                            specs.append((l, "%s:%d" % (v, n)))
            except OSError as e:
                usage("%s: %s" % (v, e))
    if len(args) < 2 or not args[0].isdigit():
        usage()
    port = int(args[0])
    SINKS = resolve_sink(args[1])
    DOMAIN = os.environ.get("PROBE_DOMAIN", "probe.test")
    FARMDIR = os.environ.get("FARMDIR") or None
    specs += [(a, "argument %d" % (i + 3)) for i, a in enumerate(args[2:])]
    hosts, seen = [], set()
    try:
        for spec, where in specs:
            h = parse_spec(spec, where)
            if h.addr in seen:
                raise SpecError("%s: %s given twice" % (where, h.addr))
            seen.add(h.addr)
            if h.behaviour.startswith("form:"):
                h.form(h.behaviour)
            hosts.append(h)
    except SpecError as e:
        log("farm: " + str(e))
        sys.exit(2)
    if (TLS_CERT is None) != (TLS_KEY is None):
        usage("--tls-cert and --tls-key go together")
    try:
        if TLS_CERT is None and (FARMDIR is not None or
                                 any(h.behaviour in STARTTLS for h in hosts)):
            self_signed()
        if TLS_CERT is not None:
            tls_context()
    except (SpecError, OSError, ssl.SSLError) as e:
        log("farm: TLS: %s" % e)
        if TLS_DIR is not None:
            shutil.rmtree(TLS_DIR, ignore_errors=True)
        sys.exit(2)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        rc = asyncio.run(main_async(hosts, port))
    finally:
        if TLS_DIR is not None:
            shutil.rmtree(TLS_DIR, ignore_errors=True)
    sys.exit(rc)


DOMAIN = "probe.test"
FARMDIR = None
SINKS = {}
LOG_PEERS = False
TLS_CERT = TLS_KEY = None       # the starttls-* hosts' certificate and key
TLS_DIR = None                  # the temporary directory of self_signed()

if __name__ == "__main__":
    main()
