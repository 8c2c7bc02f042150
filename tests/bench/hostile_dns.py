#!/usr/bin/env python3
"""hostile_dns.py -- hostile TCP clients against a DNS server, and what
honest clients see meanwhile.  Python 3 standard library only.

    hostile_dns.py [options] ADDR:PORT

Three phases, one after the other: a baseline (--baseline seconds, honest
traffic only), the attack (--duration seconds: honest traffic plus the
hostile connections) and a period after it (--after seconds, honest
traffic only).  Any phase may be 0 s long.

Hostile connections (one process, epoll, non-blocking sockets), of four
kinds, each held open and reconnected (after --reconnect-delay, with
jitter) whenever the server closes it or refuses it:

    idle       connect, send nothing
    trickle    a valid length-prefixed query, one byte every
               --trickle-interval seconds, then the next query
    pipeline   a small SO_RCVBUF (--rcvbuf); valid queries sent as fast as
               the socket takes them; never reads
    halfclose  the same small SO_RCVBUF; --halfclose-queries pipelined
               queries, then shutdown(SHUT_WR); never reads

A hostile socket never reads: the server closing it is seen through
EPOLLRDHUP/EPOLLHUP/EPOLLERR, or through a failed send.  Counted per kind:
connects, closes by the server (each followed by a reconnect), connect
failures, how long connections lived, how many were held open (sampled
every second), bytes and queries sent.

Honest traffic (its own process, so the hostile loop does not delay it):
UDP queries at --udp-rate a second, and fresh TCP queries at --tcp-rate
a second (a new connection, one query, read the answer, close), cycling
listed A, unlisted A, listed TXT, unlisted TXT.  Each has --deadline
seconds (default 1); a reply counts as answered when it has the query's
ID and the expected rcode (listed: NOERROR with an answer; unlisted:
NXDOMAIN).  Reported per phase: % answered within the deadline, latency
median and p99 of those answered, and why the others failed (timeout,
refused, reset, closed without an answer, wrong answer, other error).

With --pid, the process's VmRSS (/proc/PID/status) and CPU (utime+stime
of /proc/PID/stat) are sampled every second: RSS baseline (median of the
baseline phase), peak (highest sample of the attack, and VmHWM), after
(last sample), CPU % of one core per phase.  --kill-rss-mb N kills the
process (SIGKILL) when its RSS passes N MB, so an unbounded server cannot
eat the machine; that and a process that dies on its own are reported.

Targets (--target-*) are checked and printed as PASS/FAIL; the exit
status is 0 when every target is met, 1 when one is not, 2 on a usage or
set-up error.  --json FILE also writes everything as JSON ('-': stdout,
the summary then goes to stderr).
"""
import argparse
import errno
import heapq
import json
import multiprocessing as mp
import os
import random
import resource
import select
import signal
import socket
import statistics
import struct
import sys
import time

QTYPES = {"A": 1, "TXT": 16}
KINDS = ("idle", "trickle", "pipeline", "halfclose")


# --- DNS ------------------------------------------------------------------

def wire_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            b = label.encode("ascii")
            if len(b) > 63:
                raise ValueError("label too long in %r" % name)
            out += bytes([len(b)]) + b
    return out + b"\0"


def build_query(qid, name, qtype):
    # ID, flags 0 (a plain query, RD clear: the server is authoritative),
    # QDCOUNT 1; the question; class IN.
    return (struct.pack(">HHHHHH", qid & 0xFFFF, 0, 1, 0, 0, 0) +
            wire_name(name) + struct.pack(">HH", QTYPES[qtype], 1))


def check_reply(reply, qid, listed):
    """'ok', or why the reply is not the one wanted."""
    if len(reply) < 12:
        return "wrong"
    rid, flags, _qd, an = struct.unpack(">HHHH", reply[:8])
    if rid != qid or not flags & 0x8000:
        return "wrong"
    rcode = flags & 0xF
    if listed:
        return "ok" if rcode == 0 and an > 0 else "wrong"
    return "ok" if rcode == 3 else "wrong"


def parse_server(s):
    if s.startswith("["):
        host, _, port = s[1:].partition("]:")
        return socket.AF_INET6, (host, int(port))
    host, _, port = s.rpartition(":")
    if not host or not port:
        raise ValueError("want ADDR:PORT or [ADDR6]:PORT, got %r" % s)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    return fam, (host, int(port))


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    new = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if new > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


# --- honest traffic -------------------------------------------------------

class Probe:
    __slots__ = ("proto", "sock", "t_send", "deadline", "qid", "listed",
                 "msg", "buf", "stage")


def honest_main(a, t0, t_end, out):
    """UDP and fresh-TCP queries from t0 to t_end; sends the results."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fam, srv = parse_server(a.server)
    names = [(a.listed, "A", True), (a.unlisted, "A", False),
             (a.listed, "TXT", True), (a.unlisted, "TXT", False)]
    ep = select.epoll()
    live = {}                    # fd -> Probe
    results = []                 # (proto, t_send - t0, outcome, latency)
    n_udp = n_tcp = 0
    rnd = random.Random(a.seed + 1)

    def finish(p, outcome, now):
        try:
            ep.unregister(p.sock)
        except (OSError, ValueError):
            pass
        fd = p.sock.fileno()
        live.pop(fd, None)
        p.sock.close()
        lat = now - p.t_send if outcome == "ok" else None
        results.append((p.proto, p.t_send - t0, outcome, lat))

    def start(proto, i, now):
        name, qtype, listed = names[i % len(names)]
        p = Probe()
        p.proto, p.t_send, p.deadline = proto, now, now + a.deadline
        p.qid, p.listed = rnd.randrange(65536), listed
        q = build_query(p.qid, name, qtype)
        p.buf = b""
        if proto == "udp":
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.setblocking(False)
            p.sock = s
            try:
                s.connect(srv)
                s.send(q)
            except OSError:
                results.append((proto, now - t0, "error", None))
                s.close()
                return
            p.stage = "answer"
            live[s.fileno()] = p
            ep.register(s, select.EPOLLIN)
        else:
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setblocking(False)
            p.sock = s
            p.msg = struct.pack(">H", len(q)) + q
            err = s.connect_ex(srv)
            if err not in (0, errno.EINPROGRESS):
                results.append((proto, now - t0, "refused"
                                if err == errno.ECONNREFUSED else "error",
                                None))
                s.close()
                return
            p.stage = "connect"
            live[s.fileno()] = p
            ep.register(s, select.EPOLLOUT)

    def on_event(p, ev, now):
        s = p.sock
        if p.proto == "udp":
            try:
                r = s.recv(4096)
            except OSError as e:
                finish(p, "refused" if e.errno == errno.ECONNREFUSED
                       else "error", now)
                return
            res = check_reply(r, p.qid, p.listed)
            if res == "wrong" and len(r) >= 2 and \
                    struct.unpack(">H", r[:2])[0] != p.qid:
                return          # not ours: keep waiting
            finish(p, res, now)
            return
        if p.stage == "connect":
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                finish(p, "refused" if err == errno.ECONNREFUSED else
                       "reset" if err == errno.ECONNRESET else "error", now)
                return
            try:
                n = s.send(p.msg)
            except OSError as e:
                finish(p, "reset" if e.errno in (errno.ECONNRESET,
                       errno.EPIPE) else "error", now)
                return
            p.msg = p.msg[n:]
            if not p.msg:
                p.stage = "answer"
                ep.modify(s, select.EPOLLIN | select.EPOLLRDHUP)
            return
        if p.stage == "answer":
            try:
                d = s.recv(65536)
            except BlockingIOError:
                return
            except OSError as e:
                finish(p, "reset" if e.errno in (errno.ECONNRESET,
                       errno.EPIPE) else "error", now)
                return
            if not d:
                finish(p, "closed", now)
                return
            p.buf += d
            if len(p.buf) >= 2:
                n = struct.unpack(">H", p.buf[:2])[0]
                if len(p.buf) >= 2 + n:
                    finish(p, check_reply(p.buf[2:2 + n], p.qid, p.listed),
                           now)

    next_udp = t0 if a.udp_rate > 0 else float("inf")
    next_tcp = t0 if a.tcp_rate > 0 else float("inf")
    while True:
        now = time.monotonic()
        if now >= t_end and not live:
            break
        while next_udp <= now and next_udp < t_end:
            start("udp", n_udp, now)
            n_udp += 1
            next_udp = t0 + n_udp / a.udp_rate
        while next_tcp <= now and next_tcp < t_end:
            start("tcp", n_tcp, now)
            n_tcp += 1
            next_tcp = t0 + n_tcp / a.tcp_rate
        for p in [p for p in live.values() if p.deadline <= now]:
            finish(p, "timeout-connect" if p.stage == "connect"
                   else "timeout", now)
        wake = min([next_udp, next_tcp, now + 0.2] +
                   [p.deadline for p in live.values()])
        for fd, ev in ep.poll(max(0.0, wake - time.monotonic())):
            p = live.get(fd)
            if p is not None:
                on_event(p, ev, time.monotonic())
    out.send(results)
    out.close()


# --- hostile connections --------------------------------------------------

class Conn:
    __slots__ = ("kind", "sock", "state", "t_conn", "off", "sent_q",
                 "trickle", "tpos")


def hostile_main(a, t_start, t_stop, out):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fam, srv = parse_server(a.server)
    nofile = raise_nofile(max(65536, a.hostile_total + 1024))
    rnd = random.Random(a.seed)
    ep = select.epoll()
    conns = {}                                # fd -> Conn
    timers = []                               # (when, seq, what, kind)
    seq = 0
    want = {k: getattr(a, k) for k in KINDS}
    st = {k: {"target": want[k], "attempts": 0, "connects": 0,
              "connect_failed": 0, "closed_by_server": 0, "send_errors": 0,
              "bytes_sent": 0, "queries_sent": 0, "stalled": 0,
              "lifetimes": [],
              "held_samples": [], "open_at_stop": 0} for k in KINDS}
    held = {k: 0 for k in KINDS}
    qname = a.hostile_qname or a.listed
    # The pipeliners' cyclic buffer: whole length-prefixed queries, twice
    # over so any window of up to one copy is a plain slice.
    one = b"".join(struct.pack(">H", len(q)) + q for q in
                   (build_query(i, qname, a.hostile_qtype)
                    for i in range(256)))
    qlen = len(one) // 256
    pipe_buf = memoryview(one * 17)           # ~17 * 256 queries
    pipe_len = len(one) * 16
    half_msg = memoryview(b"".join(struct.pack(">H", len(q)) + q for q in
                                   (build_query(i, qname, a.hostile_qtype)
                                    for i in range(a.halfclose_queries))))
    trickle_msg = struct.pack(">H", len(build_query(0, qname, "A"))) + \
        build_query(0x7777, qname, "A")
    err_fd_limit = [0]

    def timer(when, what, kind):
        nonlocal seq
        seq += 1
        heapq.heappush(timers, (when, seq, what, kind))

    def reconnect_later(kind, now):
        d = a.reconnect_delay
        timer(now + rnd.uniform(0.5 * d, 1.5 * d), "connect", kind)

    def open_one(kind, now):
        if now >= t_stop:
            return
        st[kind]["attempts"] += 1
        try:
            s = socket.socket(fam, socket.SOCK_STREAM)
        except OSError:
            err_fd_limit[0] += 1
            st[kind]["connect_failed"] += 1
            reconnect_later(kind, now)
            return
        if kind in ("pipeline", "halfclose"):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
        s.setblocking(False)
        err = s.connect_ex(srv)
        if err not in (0, errno.EINPROGRESS):
            s.close()
            st[kind]["connect_failed"] += 1
            reconnect_later(kind, now)
            return
        c = Conn()
        c.kind, c.sock, c.state, c.t_conn = kind, s, "connecting", now
        c.off = c.sent_q = c.tpos = 0
        conns[s.fileno()] = c
        ep.register(s, select.EPOLLOUT | select.EPOLLRDHUP)

    def drop(c, now, why):
        """The server closed or refused c: forget it, reconnect later."""
        k = c.kind
        if c.state == "connecting":
            st[k]["connect_failed"] += 1
        else:
            held[k] -= 1
            st[k][why] += 1
            st[k]["lifetimes"].append(now - c.t_conn)
        try:
            ep.unregister(c.sock)
        except (OSError, ValueError):
            pass
        conns.pop(c.sock.fileno(), None)
        c.sock.close()
        c.state = "gone"
        reconnect_later(k, now)

    def send_some(c, data, now):
        """Sends what the socket takes; None when the server is gone."""
        try:
            n = c.sock.send(data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            drop(c, now, "send_errors")
            return None
        st[c.kind]["bytes_sent"] += n
        return n

    def pipeline_send(c, now):
        for _ in range(8):           # a bounded burst, then let others run
            n = send_some(c, pipe_buf[c.off:c.off + 65536], now)
            if n is None or n == 0:
                return
            tot = c.off + n
            st["pipeline"]["queries_sent"] += tot // qlen - c.off // qlen
            c.off = tot % pipe_len

    def connected(c, now):
        k = c.kind
        c.state = "open"
        c.t_conn = now
        held[k] += 1
        st[k]["connects"] += 1
        if k == "idle":
            ep.modify(c.sock, select.EPOLLRDHUP)
        elif k == "trickle":
            ep.modify(c.sock, select.EPOLLRDHUP)
            timer(now + rnd.uniform(0, a.trickle_interval), "trickle", c)
        elif k == "pipeline":
            pipeline_send(c, now)
        elif k == "halfclose":
            halfclose_send(c, now)

    def halfclose_send(c, now):
        """Sends what is left of the queries, then shuts down writing;
        if the server stops taking them (back-pressure) for
        --halfclose-stall seconds, shuts down anyway."""
        while c.off < len(half_msg):
            n = send_some(c, half_msg[c.off:c.off + 262144], now)
            if n is None:
                return
            if n == 0:               # wait for EPOLLOUT, or the stall timer
                timer(now + a.halfclose_stall, "stall", (c, c.off))
                return
            c.off += n
        halfclose_shut(c, now)

    def halfclose_shut(c, now):
        st["halfclose"]["queries_sent"] += c.off // qlen
        if c.off < len(half_msg):
            st["halfclose"]["stalled"] += 1
        try:
            c.sock.shutdown(socket.SHUT_WR)
        except OSError:
            drop(c, now, "send_errors")
            return
        c.state = "halfclosed"
        ep.modify(c.sock, select.EPOLLRDHUP)

    def trickle_byte(c, now):
        if c.state != "open" or now >= t_stop:
            return
        n = send_some(c, trickle_msg[c.tpos:c.tpos + 1], now)
        if n is None:
            return
        c.tpos += n
        if c.tpos == len(trickle_msg):
            c.tpos = 0
            st["trickle"]["queries_sent"] += 1
        timer(now + a.trickle_interval, "trickle", c)

    # Open every connection, spread at --ramp a second, kinds interleaved.
    order = []
    left = dict(want)
    while any(left.values()):
        for k in KINDS:
            if left[k]:
                order.append(k)
                left[k] -= 1
    for i, k in enumerate(order):
        timer(t_start + i / a.ramp, "connect", k)
    next_sample = t_start + 1.0
    while True:
        now = time.monotonic()
        if now >= t_stop:
            break
        while timers and timers[0][0] <= now:
            _, _, what, arg = heapq.heappop(timers)
            if what == "connect":
                open_one(arg, now)
            elif what == "trickle":
                trickle_byte(arg, now)
            elif what == "stall":
                c, off = arg
                if c.state == "open" and c.off == off:
                    halfclose_shut(c, now)
        if now >= next_sample:
            for k in KINDS:
                st[k]["held_samples"].append(held[k])
            next_sample += 1.0
        wake = min(t_stop, next_sample, timers[0][0] if timers else t_stop)
        for fd, ev in ep.poll(max(0.0, wake - time.monotonic()), 4096):
            c = conns.get(fd)
            if c is None:
                continue
            now = time.monotonic()
            if c.state == "connecting":
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err or ev & (select.EPOLLERR | select.EPOLLHUP):
                    drop(c, now, "closed_by_server")
                    continue
                connected(c, now)
                if c.state == "gone":
                    continue
                if ev & select.EPOLLRDHUP:
                    drop(c, now, "closed_by_server")
                continue
            if ev & (select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR):
                drop(c, now, "closed_by_server")
                continue
            if ev & select.EPOLLOUT:
                if c.kind == "pipeline":
                    pipeline_send(c, now)
                elif c.kind == "halfclose" and c.state == "open":
                    halfclose_send(c, now)
    for c in list(conns.values()):
        if c.state != "connecting":
            st[c.kind]["open_at_stop"] += 1
        # Reset, not FIN: the server should not have to wait for anything.
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
        c.sock.close()
    for k in KINDS:
        lt = st[k].pop("lifetimes")
        hs = st[k].pop("held_samples")
        st[k]["reconnects"] = st[k]["closed_by_server"] + \
            st[k]["send_errors"] + st[k]["connect_failed"]
        st[k]["lifetime_median_s"] = statistics.median(lt) if lt else None
        st[k]["lifetime_max_s"] = max(lt) if lt else None
        # held: the second half of the attack (the ramp is over by then)
        tail = hs[len(hs) // 2:]
        st[k]["held_mean"] = statistics.mean(tail) if tail else None
        st[k]["held_min"] = min(tail) if tail else None
    out.send({"kinds": st, "nofile": nofile,
              "socket_failures": err_fd_limit[0]})
    out.close()


# --- the watched process --------------------------------------------------

def read_rss_kb(pid, field="VmRSS"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def tcp_mem_mb():
    """The kernel's TCP buffer memory, machine-wide (/proc/net/sockstat)."""
    try:
        with open("/proc/net/sockstat") as f:
            for line in f:
                if line.startswith("TCP:"):
                    w = line.split()
                    return int(w[w.index("mem") + 1]) * \
                        os.sysconf("SC_PAGE_SIZE") / 1048576
    except (OSError, ValueError):
        return None
    return None


def listen_overflows():
    """TcpExt ListenOverflows + ListenDrops, machine-wide: SYNs or
    handshakes dropped because an accept queue was full."""
    try:
        with open("/proc/net/netstat") as f:
            lines = [ln.split() for ln in f if ln.startswith("TcpExt:")]
        d = dict(zip(lines[0][1:], map(int, lines[1][1:])))
        return d.get("ListenOverflows", 0) + d.get("ListenDrops", 0)
    except (OSError, IndexError, ValueError):
        return None


def count_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def read_ticks(pid):
    """utime + stime, or None when the process is gone (or a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    if rest[0] == "Z":
        return None
    return int(rest[11]) + int(rest[12])


# --- main -----------------------------------------------------------------

def summarize_honest(results, phases):
    out = {}
    for ph, (t0, t1) in phases.items():
        out[ph] = {}
        for proto in ("udp", "tcp"):
            rs = [r for r in results if r[0] == proto and t0 <= r[1] < t1]
            lats = [r[3] for r in rs if r[2] == "ok"]
            fails = {}
            for r in rs:
                if r[2] != "ok":
                    fails[r[2]] = fails.get(r[2], 0) + 1
            out[ph][proto] = {
                "sent": len(rs), "answered": len(lats),
                "answered_pct": 100.0 * len(lats) / len(rs) if rs else None,
                "median_ms": 1000 * statistics.median(lats) if lats else None,
                "p99_ms": 1000 * pct(lats, 99) if lats else None,
                "max_ms": 1000 * max(lats) if lats else None,
                "failures": fails}
    return out


def fmt(v, spec="%.1f", none="-"):
    return none if v is None else spec % v


def main():
    ap = argparse.ArgumentParser(
        description="Hostile TCP clients against a DNS server, and the "
        "honest UDP and TCP traffic meanwhile.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("server", help="ADDR:PORT or [ADDR6]:PORT")
    ap.add_argument("--zone", default="bl.example", help="the DNSBL zone")
    ap.add_argument("--listed", help="a listed name "
                    "(default: 2.0.0.127.ZONE, the RFC 5782 test point)")
    ap.add_argument("--unlisted", help="an unlisted name "
                    "(default: 1.0.0.127.ZONE)")
    ap.add_argument("--baseline", type=float, default=10,
                    help="seconds of honest traffic before the attack")
    ap.add_argument("--duration", type=float, default=60,
                    help="seconds of attack")
    ap.add_argument("--after", type=float, default=20,
                    help="seconds of honest traffic after the attack")
    ap.add_argument("--hostile", type=int, default=None,
                    help="hostile connections, split evenly over the four "
                    "kinds (overridden per kind by --idle etc.)")
    for k in KINDS:
        ap.add_argument("--" + k, type=int, default=None,
                        help="hostile connections of kind %s" % k)
    ap.add_argument("--ramp", type=float, default=500,
                    help="hostile connections opened per second at the start")
    ap.add_argument("--reconnect-delay", type=float, default=1.0,
                    help="seconds (x0.5..1.5 jitter) before a closed or "
                    "refused hostile connection is opened again")
    ap.add_argument("--trickle-interval", type=float, default=2.0,
                    help="seconds between the bytes of a trickled query")
    ap.add_argument("--rcvbuf", type=int, default=4096,
                    help="SO_RCVBUF of pipelining and half-closed sockets")
    ap.add_argument("--halfclose-queries", type=int, default=300,
                    help="queries a half-closing connection sends before "
                    "shutdown(SHUT_WR).  On loopback the server's kernel "
                    "send buffer takes ~4 MB of answers (tcp_wmem), so "
                    "only ~30000 TXT queries or more leave unsent output "
                    "in the server itself")
    ap.add_argument("--halfclose-stall", type=float, default=0.5,
                    help="seconds a half-closing connection waits for the "
                    "server to take more of its queries before shutting "
                    "down writing with the rest unsent")
    ap.add_argument("--hostile-qname", help="name the hostile queries ask "
                    "(default: --listed)")
    ap.add_argument("--hostile-qtype", default="TXT", choices=sorted(QTYPES),
                    help="type the pipelined and half-closed queries ask "
                    "(TXT: the largest answers)")
    ap.add_argument("--udp-rate", type=float, default=20,
                    help="honest UDP queries per second")
    ap.add_argument("--tcp-rate", type=float, default=5,
                    help="honest fresh-TCP queries per second")
    ap.add_argument("--deadline", type=float, default=1.0,
                    help="seconds an honest query may take")
    ap.add_argument("--pid", type=int, help="sample this process's RSS "
                    "and CPU every second")
    ap.add_argument("--kill-rss-mb", type=float, default=0,
                    help="SIGKILL --pid when its RSS passes this (0: never)")
    ap.add_argument("--target-udp", type=float, default=100.0,
                    help="%% of UDP answered in time during the attack")
    ap.add_argument("--target-tcp", type=float, default=99.0,
                    help="%% of fresh TCP answered in time during the attack")
    ap.add_argument("--target-rss-mb", type=float, default=64,
                    help="highest RSS allowed (MB)")
    ap.add_argument("--target-rss-slack-mb", type=float, default=8,
                    help="RSS after the attack may exceed the baseline by "
                    "this much (MB)")
    ap.add_argument("--target-fds-slack", type=int, default=4,
                    help="open fds of the server at the end may exceed the "
                    "baseline by this many")
    ap.add_argument("--label", default="", help="named in the summary")
    ap.add_argument("--json", metavar="FILE",
                    help="write the results as JSON too ('-': stdout)")
    ap.add_argument("--seed", type=int, default=20261129)
    a = ap.parse_args()

    try:
        parse_server(a.server)
    except ValueError as e:
        ap.error(str(e))
    zone = a.zone.strip(".")
    a.listed = a.listed or "2.0.0.127." + zone
    a.unlisted = a.unlisted or "1.0.0.127." + zone
    base = (a.hostile or 0) // 4
    extra = (a.hostile or 0) % 4
    for i, k in enumerate(KINDS):
        if getattr(a, k) is None:
            setattr(a, k, base + (1 if i < extra else 0))
    a.hostile_total = sum(getattr(a, k) for k in KINDS)
    if a.hostile_total and a.duration <= 0:
        ap.error("hostile connections need --duration > 0")
    raise_nofile(max(65536, a.hostile_total + 1024))
    report = sys.stderr if a.json == "-" else sys.stdout

    t0 = time.monotonic() + 0.5
    t_att = t0 + a.baseline
    t_aft = t_att + a.duration
    t_end = t_aft + a.after
    phases = {"baseline": (0.0, a.baseline),
              "attack": (a.baseline, a.baseline + a.duration),
              "after": (a.baseline + a.duration,
                        a.baseline + a.duration + a.after)}
    ctx = mp.get_context("fork")
    hr, hw = ctx.Pipe(False)
    honest = ctx.Process(target=honest_main, args=(a, t0, t_end, hw))
    honest.start()
    hostile = None
    if a.hostile_total:
        xr, xw = ctx.Pipe(False)
        hostile = ctx.Process(target=hostile_main, args=(a, t_att, t_aft, xw))
        hostile.start()

    samples = []                    # (t - t0, rss_kb, ticks, fds)
    kmem = []                       # (t - t0, kernel TCP memory MB)
    died_at = killed_at = None
    hwm_kb = None
    hz = os.sysconf("SC_CLK_TCK")
    interrupted = False
    try:
        while True:
            now = time.monotonic()
            if now >= t_end:
                break
            kmem.append((now - t0, tcp_mem_mb() or 0.0,
                         listen_overflows() or 0))
            if a.pid and died_at is None:
                rss = read_rss_kb(a.pid)
                ticks = read_ticks(a.pid)
                if rss is None or ticks is None:
                    died_at = now - t0
                else:
                    samples.append((now - t0, rss, ticks,
                                    count_fds(a.pid) or 0))
                    h = read_rss_kb(a.pid, "VmHWM")
                    if h is not None and now < t_aft:
                        hwm_kb = h
                    if a.kill_rss_mb and rss > a.kill_rss_mb * 1024:
                        os.kill(a.pid, signal.SIGKILL)
                        killed_at = (now - t0, rss)
                        died_at = now - t0
            time.sleep(max(0.0, min(1.0, t_end - time.monotonic())))
    except KeyboardInterrupt:
        interrupted = True
        for p in (honest, hostile):
            if p is not None:
                p.terminate()
    if interrupted:
        sys.exit(130)
    results = hr.recv()
    honest.join()
    hostile_stats = None
    if hostile is not None:
        hostile_stats = xr.recv()
        hostile.join()

    hon = summarize_honest(results, phases)
    km = {}
    for ph, (p0, p1) in phases.items():
        xs = [k[1] for k in kmem if p0 <= k[0] < p1]
        km[ph] = {"median": statistics.median(xs) if xs else None,
                  "max": max(xs) if xs else None,
                  "end": xs[-1] if xs else None}
        # accept-queue drops: from the last sample before the phase to
        # its last sample
        ks = [k for k in kmem if p0 <= k[0] < p1]
        kb = [k for k in kmem if k[0] < p0]
        first = kb[-1] if kb else (ks[0] if ks else None)
        km[ph]["listen_drops"] = ks[-1][2] - first[2] if ks else None
    res = {"label": a.label, "server": a.server, "zone": zone,
           "listed": a.listed, "unlisted": a.unlisted,
           "seconds": {k: v[1] - v[0] for k, v in phases.items()},
           "hostile_config": {k: getattr(a, k) for k in KINDS},
           "honest": hon, "hostile": hostile_stats,
           "kernel_tcp_mem_mb": km}
    if a.pid:
        def in_phase(ph):
            p0, p1 = phases[ph]
            return [s for s in samples if p0 <= s[0] < p1]
        proc = {"pid": a.pid}
        b = in_phase("baseline")
        at = in_phase("attack")
        af = in_phase("after")
        proc["rss_baseline_mb"] = statistics.median(
            s[1] for s in b) / 1024 if b else None
        peak = max([s[1] for s in at] + [0]) / 1024 if at else None
        proc["rss_peak_mb"] = peak
        proc["vmhwm_mb"] = hwm_kb / 1024 if hwm_kb else None
        proc["rss_after_mb"] = af[-1][1] / 1024 if af else None
        proc["rss_max_mb"] = max([s[1] for s in samples] + [0]) / 1024
        proc["fds_baseline"] = statistics.median(
            s[3] for s in b) if b else None
        proc["fds_peak"] = max(s[3] for s in at) if at else None
        proc["fds_after"] = af[-1][3] if af else None
        cpu = {}
        for ph, ss in (("baseline", b), ("attack", at), ("after", af)):
            # CPU from the last sample before the phase to its last one
            before = [s for s in samples if s[0] < phases[ph][0]]
            first = before[-1] if before else (ss[0] if ss else None)
            if ss and first and ss[-1][0] > first[0]:
                cpu[ph] = 100.0 * (ss[-1][2] - first[2]) / hz / \
                    (ss[-1][0] - first[0])
            else:
                cpu[ph] = None
        proc["cpu_pct"] = cpu
        proc["died_at_s"] = died_at
        proc["died_in_phase"] = None
        if died_at is not None:
            for ph, (p0, p1) in phases.items():
                if p0 <= died_at < p1 + 1:
                    proc["died_in_phase"] = ph
                    break
        proc["killed_by_guard"] = ({"at_s": killed_at[0],
                                    "rss_mb": killed_at[1] / 1024}
                                   if killed_at else None)
        proc["series"] = [{"t": round(s[0], 1), "rss_kb": s[1],
                           "fds": s[3]} for s in samples]
        res["process"] = proc

    # Targets
    checks = []
    att = hon["attack"] if a.duration > 0 else hon["baseline"]
    u = att["udp"]["answered_pct"]
    t = att["tcp"]["answered_pct"]
    if a.udp_rate > 0:
        checks.append(("UDP answered within %gs during the attack >= %g%%"
                       % (a.deadline, a.target_udp), u is not None and
                       u >= a.target_udp, fmt(u, "%.2f%%")))
    if a.tcp_rate > 0:
        checks.append(("fresh TCP answered within %gs during the attack "
                       ">= %g%%" % (a.deadline, a.target_tcp),
                       t is not None and t >= a.target_tcp,
                       fmt(t, "%.2f%%")))
    if a.pid:
        p = res["process"]
        checks.append(("server alive to the end", died_at is None,
                       "died %.0fs into the run (%s)%s" % (
                           died_at, p["died_in_phase"],
                           ", killed by the RSS guard at %.0f MB" %
                           p["killed_by_guard"]["rss_mb"]
                           if killed_at else "") if died_at is not None
                       else "yes"))
        hi = max(p["rss_max_mb"], p["vmhwm_mb"] or 0)
        checks.append(("RSS <= %g MB" % a.target_rss_mb,
                       hi <= a.target_rss_mb and not killed_at,
                       "peak %.1f MB" % hi))
        if p["rss_baseline_mb"] is not None and a.after > 0:
            ok = (p["rss_after_mb"] is not None and died_at is None and
                  p["rss_after_mb"] <= p["rss_baseline_mb"] +
                  a.target_rss_slack_mb)
            checks.append(("RSS after <= baseline + %g MB" %
                           a.target_rss_slack_mb, ok,
                           "%s MB after, %.1f MB baseline" %
                           (fmt(p["rss_after_mb"]), p["rss_baseline_mb"])))
    if a.pid and a.after > 0 and p["fds_baseline"] is not None:
        ok = (p["fds_after"] is not None and died_at is None and
              p["fds_after"] <= p["fds_baseline"] + a.target_fds_slack)
        checks.append(("every connection freed after the attack (server "
                       "fds <= baseline + %d)" % a.target_fds_slack, ok,
                       "%s fds after, %d baseline" % (
                           fmt(p["fds_after"], "%d"), p["fds_baseline"])))
    res["checks"] = [{"what": c[0], "pass": c[1], "got": c[2]}
                     for c in checks]
    res["pass"] = all(c[1] for c in checks)

    # Summary
    w = report.write
    w("== hostile_dns %s%s: %d hostile (idle %d, trickle %d, pipeline %d, "
      "halfclose %d), UDP %g/s, TCP %g/s, deadline %gs\n" % (
          a.server, " (%s)" % a.label if a.label else "", a.hostile_total,
          a.idle, a.trickle, a.pipeline, a.halfclose, a.udp_rate,
          a.tcp_rate, a.deadline))
    cols = [ph for ph in ("baseline", "attack", "after")
            if phases[ph][1] > phases[ph][0]]
    w("%-28s" % "" + "".join("%19s" % ("%s %gs" % (ph, phases[ph][1] -
                                                    phases[ph][0]))
                               for ph in cols) + "\n")

    def row(name, f):
        w("%-28s" % name + "".join("%19s" % f(ph) for ph in cols) + "\n")
    for proto, nm in (("udp", "UDP"), ("tcp", "fresh TCP")):
        row("%s answered in time" % nm, lambda ph: "%s (%d/%d)" % (
            fmt(hon[ph][proto]["answered_pct"], "%.1f%%"),
            hon[ph][proto]["answered"], hon[ph][proto]["sent"]))
        row("  median / p99 ms", lambda ph: "%s / %s" % (
            fmt(hon[ph][proto]["median_ms"]), fmt(hon[ph][proto]["p99_ms"])))
        allf = sorted({f for ph in cols for f in hon[ph][proto]["failures"]})
        for f in allf:
            row("  failed: %s" % f, lambda ph: str(
                hon[ph][proto]["failures"].get(f, 0)))
    # machine-wide (/proc/net): other programs count too
    row("kernel TCP memory MB (all)", lambda ph: {
        "baseline": fmt(km[ph]["median"]) + " (med)",
        "attack": fmt(km[ph]["max"]) + " (peak)",
        "after": fmt(km[ph]["end"]) + " (end)"}[ph])
    row("accept queue drops (all)", lambda ph: fmt(km[ph]["listen_drops"],
                                                   "%d"))
    if a.pid:
        p = res["process"]
        row("server RSS MB", lambda ph: {
            "baseline": fmt(p["rss_baseline_mb"]) + " (med)",
            "attack": fmt(p["rss_peak_mb"]) + " (peak)",
            "after": fmt(p["rss_after_mb"]) + " (end)"}[ph])
        row("server open fds", lambda ph: {
            "baseline": fmt(p["fds_baseline"], "%d") + " (med)",
            "attack": fmt(p["fds_peak"], "%d") + " (peak)",
            "after": fmt(p["fds_after"], "%d") + " (end)"}[ph])
        row("server CPU % of a core", lambda ph: fmt(p["cpu_pct"][ph]))
        if p["vmhwm_mb"]:
            w("server VmHWM by the end of the attack: %.1f MB\n" %
              p["vmhwm_mb"])
        if killed_at:
            w("!! server KILLED by the RSS guard %.0fs into the run, "
              "RSS %.0f MB (--kill-rss-mb %g)\n" % (
                  killed_at[0], killed_at[1] / 1024, a.kill_rss_mb))
        elif died_at is not None:
            w("!! server DIED %.0fs into the run (%s phase)\n" %
              (died_at, p["died_in_phase"]))
    if hostile_stats:
        hs = hostile_stats["kinds"]
        w("hostile connections (attack)    %s\n" %
          "".join("%11s" % k for k in KINDS))
        for key, nm, f in (
                ("target", "target", "%d"),
                ("held_mean", "held (client view, mean)", "%.0f"),
                ("connects", "connects", "%d"),
                ("closed_by_server", "closed by the server", "%d"),
                ("send_errors", "send failed (reset)", "%d"),
                ("connect_failed", "connect failed/refused", "%d"),
                ("reconnects", "reconnects", "%d"),
                ("lifetime_median_s", "lifetime median s", "%.1f"),
                ("lifetime_max_s", "lifetime max s", "%.1f"),
                ("open_at_stop", "open when the attack ended", "%d"),
                ("queries_sent", "queries sent", "%d"),
                ("stalled", "shut down before all sent", "%d"),
                ("bytes_sent", "bytes sent", "%d")):
            w("  %-30s%s\n" % (nm, "".join("%11s" % fmt(hs[k][key], f)
                                          for k in KINDS)))
        w("  (held: connected as the client sees it, second half of the "
          "attack; includes\n   connections the server has not accepted "
          "or has already freed: its open fds\n   are the server's own "
          "count)\n")
        if hostile_stats["socket_failures"]:
            w("  (%d hostile sockets could not be created: fd limit %d)\n"
              % (hostile_stats["socket_failures"], hostile_stats["nofile"]))
    for c in checks:
        w("%s  %s: %s\n" % ("PASS" if c[1] else "FAIL", c[0], c[2]))
    if a.json:
        if a.json == "-":
            json.dump(res, sys.stdout, indent=1)
            sys.stdout.write("\n")
        else:
            with open(a.json, "w") as f:
                json.dump(res, f, indent=1)
    sys.exit(0 if res["pass"] else 1)


if __name__ == "__main__":
    main()
