#!/usr/bin/env python3
"""sink_client.py -- scripted clients, polite and hostile, for proberd's sink.

Standard library only; every address it binds or connects to must be a
loopback address (127.0.0.0/8 or ::1).  SINK is HOST:PORT.

  send SINK SRC COOKIE...
        one SMTP session from SRC: EHLO, MAIL, RCPT TO:<COOKIE@DOMAIN> for
        each cookie, DATA, a short message naming the cookies, QUIT.
        Prints the reply to the end of DATA ("250 ...") or what failed.
  catch ADDR PORT FILE
        a fake SMTP host that accepts every message and delivers none,
        writing the cookie of each RCPT it gets to FILE, one a line (what
        an operator sees who submitted their own host).  Prints "catch:
        ready" once listening; runs until killed.
  hold SINK COUNT PER_ADDR SRCNET SECONDS
        opens COUNT connections, PER_ADDR from each source address
        SRCNET.1, SRCNET.2, ... (SRCNET is three octets), reads each
        greeting, says nothing more, holds them SECONDS, then prints
        "greeted N refused N closed N open N silent N": refused = the first reply
        was 421, closed = greeted, then closed by the sink while held;
        silent = no first reply within 2 s (not accepted).
  trickle SINK MODE [COOKIE]
        MODE silent: connects and says nothing; line: EHLO, then "NOOP"
        one byte every 0.3 s and never the end of the line; data: a
        valid transaction to COOKIE, then one line of message every
        0.3 s and never the final dot.  Prints the seconds until the sink
        closed the connection, and its last reply.
  flood SINK COUNT SRCNET SECONDS
        the benchmark's flood: keeps COUNT connections open from
        SRCNET.1..250, half idle, half trickling (a byte every 2 s of a
        line that never ends); a connection the sink closes is reopened
        after a second.  Prints "opened N closed-by-sink N" at the end.

Environment: PROBE_DOMAIN (default probe.test).
"""
import asyncio
import ipaddress
import os
import re
import resource
import socket
import sys
import time

DOMAIN = os.environ.get("PROBE_DOMAIN", "probe.test")
COOKIE = re.compile(r"(?i)\b(rb[a-z2-7]{36}|rb[a-z2-7]{55})\b")


def loopback(a):
    if not ipaddress.ip_address(a).is_loopback:
        sys.exit("sink_client: %s is not a loopback address" % a)
    return a


def sink_addr(text):
    host, _, port = text.rpartition(":")
    return loopback(host.strip("[]")), int(port)


def connect(sink, src=None):
    host, port = sink
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    if src:
        s.bind((loopback(src), 0))
    s.settimeout(10)
    s.connect((host, port))
    return s


class Lines:
    def __init__(self, sock):
        self.s, self.buf = sock, b""

    def reply(self):
        """A whole reply (multi-line joined); '' at EOF."""
        out = []
        while True:
            while b"\n" not in self.buf:
                d = self.s.recv(4096)
                if not d:
                    return " / ".join(out)
                self.buf += d
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.rstrip(b"\r").decode(errors="replace")
            out.append(line)
            if line[3:4] != "-":
                return " / ".join(out)


def cmd_send(sink, src, cookies):
    s = connect(sink_addr(sink), src)
    r = Lines(s)
    steps = [("EHLO smarthost.test", "250"), ("MAIL FROM:<x@example.test>",
             "250")]
    steps += [("RCPT TO:<%s@%s>" % (c, DOMAIN), "250") for c in cookies]
    steps += [("DATA", "354")]
    rep = r.reply()
    for line, want in [(None, "220")] + steps:
        if line is not None:
            s.sendall(line.encode() + b"\r\n")
            rep = r.reply()
        if not rep.startswith(want):
            print("failed at %s: %s" % (line or "greeting", rep))
            return 1
    body = "Subject: test\r\n\r\n%s\r\n.\r\n" % " ".join(cookies)
    s.sendall(body.encode())
    rep = r.reply()
    print(rep)
    s.sendall(b"QUIT\r\n")
    r.reply()
    s.close()
    return 0 if rep.startswith("250") else 1


async def catch_session(reader, writer, path):
    writer.write(b"220 catcher.test ESMTP\r\n")
    data = False
    try:
        while True:
            line = await asyncio.wait_for(reader.readline(), 60)
            if not line:
                break
            text = line.decode(errors="replace").rstrip("\r\n")
            if data:
                if text == ".":
                    data = False
                    writer.write(b"250 ok, queued (never delivered)\r\n")
                continue
            verb = text[:4].upper()
            if verb == "RCPT":
                m = COOKIE.search(text)
                if m:
                    with open(path, "a") as f:
                        f.write(m.group(1).lower() + "\n")
                writer.write(b"250 ok\r\n")
            elif verb == "DATA":
                data = True
                writer.write(b"354 go ahead\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
    except (OSError, asyncio.TimeoutError):
        pass
    writer.close()


async def cmd_catch(addr, port, path):
    srv = await asyncio.start_server(
        lambda r, w: catch_session(r, w, path), loopback(addr), port)
    print("catch: ready", flush=True)
    async with srv:
        await srv.serve_forever()


def cmd_hold(sink, count, per, srcnet, seconds):
    sa = sink_addr(sink)
    conns = []
    for i in range(count):
        try:
            conns.append(connect(sa, "%s.%d" % (srcnet, 1 + i // per)))
        except OSError:
            pass
    # Greetings (or refusals) within 2 s; a sink that accepts nothing
    # leaves the rest silent.
    first = {}
    t0 = time.monotonic()
    for s in conns:
        s.setblocking(False)
    while len(first) < len(conns) and time.monotonic() - t0 < 2:
        for s in conns:
            if s in first:
                continue
            try:
                first[s] = s.recv(4096)
            except BlockingIOError:
                pass
            except OSError:
                first[s] = b""
        time.sleep(0.05)
    greeted = sum(1 for d in first.values() if d.startswith(b"220"))
    refused = sum(1 for d in first.values() if d.startswith(b"421"))
    silent = len(conns) - len(first)
    time.sleep(max(0, seconds - (time.monotonic() - t0)))
    closed = 0
    for s in conns:
        if not first.get(s, b"").startswith(b"220"):
            s.close()
            continue
        try:
            d = s.recv(4096)
            if not d or d.startswith(b"421"):
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    print("greeted %d refused %d closed %d open %d silent %d" %
          (greeted, refused, closed, greeted - closed, silent))


def cmd_trickle(sink, mode, cookie=None):
    s = connect(sink_addr(sink))
    s.settimeout(30)
    r = Lines(s)
    last = r.reply()
    if mode == "line":
        s.sendall(b"EHLO trickler.test\r\n")
        last = r.reply()
    elif mode == "data":
        for line in ("EHLO trickler.test", "MAIL FROM:<>",
                     "RCPT TO:<%s@%s>" % (cookie, DOMAIN), "DATA"):
            s.sendall(line.encode() + b"\r\n")
            last = r.reply()
        if not last.startswith("354"):
            print("no DATA: %s" % last)
            return 1
    t0 = time.monotonic()
    s.setblocking(False)
    chunk = b"NOOP" * 100 if mode == "line" else b""
    i = 0
    while time.monotonic() - t0 < 25:
        try:
            d = s.recv(4096)
            if not d:
                break
            last = d.decode(errors="replace").strip()
        except BlockingIOError:
            pass
        except OSError:
            break
        try:
            if mode == "line":
                s.send(chunk[i:i + 1])
            elif mode == "data":
                s.send(b"more of the message\r\n")
        except OSError:
            break
        i += 1
        time.sleep(0.3)
    print("%.1f %s" % (time.monotonic() - t0, last))
    return 0


async def flood_one(sa, src, trickle, end, stats):
    while time.monotonic() < end:
        writer = None
        try:
            reader, writer = await asyncio.open_connection(
                sa[0], sa[1], local_addr=(src, 0))
            stats["opened"] += 1
            while time.monotonic() < end:
                try:
                    d = await asyncio.wait_for(reader.read(512), 2)
                    if not d:
                        stats["closed"] += 1
                        break
                except asyncio.TimeoutError:
                    pass
                if trickle:
                    writer.write(b"X")
                    await writer.drain()
        except (OSError, asyncio.TimeoutError):
            stats["failed"] += 1
        finally:
            if writer is not None:
                writer.close()
        await asyncio.sleep(1)


async def cmd_flood(sink, count, srcnet, seconds):
    sa = sink_addr(sink)
    end = time.monotonic() + seconds
    stats = {"opened": 0, "closed": 0, "failed": 0}
    tasks = [asyncio.create_task(flood_one(
        sa, "%s.%d" % (srcnet, 1 + i % 250), i % 2 == 1, end, stats))
        for i in range(count)]
    await asyncio.gather(*tasks)
    print("opened %d closed-by-sink %d failed %d" %
          (stats["opened"], stats["closed"], stats["failed"]))


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    if a[0] == "send" and len(a) >= 4:
        return cmd_send(a[1], a[2], a[3:])
    if a[0] == "catch" and len(a) == 4:
        asyncio.run(cmd_catch(a[1], int(a[2]), a[3]))
        return 0
    if a[0] == "hold" and len(a) == 6:
        return cmd_hold(a[1], int(a[2]), int(a[3]), a[4], float(a[5]))
    if a[0] == "trickle" and len(a) in (3, 4):
        return cmd_trickle(a[1], a[2], a[3] if len(a) == 4 else None)
    if a[0] == "flood" and len(a) == 5:
        asyncio.run(cmd_flood(a[1], int(a[2]), a[3], float(a[4])))
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
