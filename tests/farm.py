#!/usr/bin/env python3
"""farm.py -- a fake SMTP farm for the prober's tests.

One process, many loopback addresses, one behaviour each, all on the same
port.  Usage: farm.py PORT SINK_HOST:SINK_PORT ADDR=BEHAVIOUR[,EGRESS]...

Behaviours:
  open       accepts everything; a message whose recipient carries a
             cookie is delivered to the sink, from the host's own address
  multihop   like open, but delivers from the EGRESS address
  closed     554 to every RCPT
  discard    accepts everything, delivers nothing
  tempfail   450 to every RCPT
  helo       502 to EHLO, then works like closed
  greet421   421 at the greeting
  never      accepts the connection and never speaks
  garbage    answers with something that is not SMTP
  dropper    drops the connection after RCPT
A file FARMDIR/ADDR (FARMDIR from the environment) holding a behaviour
name overrides the behaviour while it exists: tests "fix" a relay so.
"""
import os
import re
import smtplib
import socket
import socketserver
import sys
import threading
import time

COOKIE = re.compile(r"(?i)\b(rb[a-z2-7]{36}|rb[a-z2-7]{55})\b")


class Handler(socketserver.StreamRequestHandler):
    timeout = 60

    def behaviour(self):
        ip = self.server.server_address[0]
        override = os.path.join(os.environ.get("FARMDIR", "/nonexistent"), ip)
        try:
            with open(override) as f:
                return f.read().strip()
        except OSError:
            return self.server.behaviour

    def say(self, text):
        self.wfile.write((text + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        b = self.behaviour()
        if b == "never":
            time.sleep(30)
            return
        if b == "garbage":
            self.wfile.write(b"HTTP/1.0 200 OK\r\n\r\n<html>hello</html>\r\n")
            return
        if b == "greet421":
            self.say("421 4.3.2 too busy")
            return
        self.say("220 %s.farm.test ESMTP fake" % b)
        rcpts = []
        while True:
            line = self.rfile.readline(2000)
            if not line:
                return
            cmd = line.decode("latin-1").rstrip("\r\n")
            verb = cmd[:4].upper()
            if verb == "EHLO":
                if b == "helo":
                    self.say("502 5.5.2 EHLO not here")
                else:
                    self.say("250-%s.farm.test\r\n250 8BITMIME" % b)
            elif verb == "HELO":
                self.say("250 %s.farm.test" % b)
            elif verb == "MAIL":
                rcpts = []
                self.say("250 2.1.0 ok")
            elif verb == "RCPT":
                if b in ("closed", "helo"):
                    self.say("554 5.7.1 Relay access denied")
                elif b == "tempfail":
                    self.say("450 4.7.1 try again later")
                elif b == "dropper":
                    return
                else:
                    rcpts.append(cmd[8:])
                    self.say("250 2.1.5 ok")
            elif verb == "DATA":
                self.say("354 go ahead")
                data = []
                while True:
                    l = self.rfile.readline(2000)
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    data.append(l.decode("latin-1"))
                self.say("250 2.0.0 queued")
                if b in ("open", "multihop"):
                    self.deliver(rcpts, "".join(data), b)
            elif verb == "RSET":
                rcpts = []
                self.say("250 2.0.0 ok")
            elif verb == "QUIT":
                self.say("221 2.0.0 bye")
                return
            else:
                self.say("500 5.5.1 what?")

    def deliver(self, rcpts, body, b):
        """Relays the message: one delivery per recipient with a cookie."""
        src = self.server.egress if b == "multihop" else \
            self.server.server_address[0]
        for r in rcpts:
            m = COOKIE.search(r)
            if not m:
                continue
            to = "%s@%s" % (m.group(1), self.server.domain)
            threading.Thread(target=send, args=(src, to, body),
                             daemon=True).start()


def send(src, to, body):
    host, port = SINK
    try:
        with smtplib.SMTP(host, port, source_address=(src, 0),
                          timeout=10) as s:
            s.sendmail("relay@farm.test", [to], body.encode("latin-1"))
    except (OSError, smtplib.SMTPException) as e:
        print("farm: delivery to %s failed: %s" % (to, e), file=sys.stderr)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    global SINK
    port = int(sys.argv[1])
    h, p = sys.argv[2].rsplit(":", 1)
    SINK = (h, int(p))
    domain = os.environ.get("PROBE_DOMAIN", "probe.test")
    servers = []
    for spec in sys.argv[3:]:
        ip, rest = spec.split("=", 1)
        behaviour, _, egress = rest.partition(",")
        srv = Server((ip, port), Handler)
        srv.behaviour, srv.egress, srv.domain = behaviour, egress or ip, domain
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
    print("farm: ready, %d hosts" % len(servers), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
