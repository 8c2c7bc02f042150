"""dns_attacks.py -- small hostile DNS-over-TCP clients for hostile.t

Each mode plays one attacker against dnsbld on 127.0.0.1:PORT and prints
one line that the test matches.  Kept small and fast: the full-size floods
are in tests/bench/.
"""
import os, select, socket, struct, sys, time

port = int(sys.argv[2])
addr = ("127.0.0.1", port)


def query(name, qtype=16, qid=7):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", qtype, 1)


def framed(m):
    return struct.pack(">H", len(m)) + m


def fresh_tcp(timeout=1.0):
    """One query on a new connection; True if answered within timeout."""
    t = time.time()
    try:
        s = socket.create_connection(addr, timeout=timeout)
        s.sendall(framed(query("4.3.2.1.bl.test", 1)))
        got = b""
        while len(got) < 2 or len(got) < 2 + struct.unpack(">H", got[:2])[0]:
            left = timeout - (time.time() - t)
            if left <= 0:
                return False
            s.settimeout(left)
            d = s.recv(4096)
            if not d:
                return False
            got += d
        s.close()
        return True
    except OSError:
        return False


def wait_closed(s, limit):
    """Reads (and discards) until EOF; seconds it took, or None."""
    t = time.time()
    s.setblocking(False)
    while time.time() - t < limit:
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            try:
                if not s.recv(65536):
                    return time.time() - t
            except (ConnectionResetError, BlockingIOError):
                if sys.exc_info()[0] is ConnectionResetError:
                    return time.time() - t
    return None


def rss_kb():
    pid = os.environ.get("DNSBLD_PID")
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def nfds():
    return len(os.listdir("/proc/%s/fd" % os.environ.get("DNSBLD_PID")))


def flood(s, msg, seconds):
    """Sends msg over and over for seconds, as fast as s takes it."""
    s.setblocking(False)
    t, sent = time.time(), 0
    while time.time() - t < seconds:
        try:
            sent += s.send(msg)
        except BlockingIOError:
            select.select([], [s], [], 0.02)
    s.setblocking(True)
    return sent


def nofread(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)


mode = sys.argv[1]
if mode == "pipeline":
    # Sends TXT queries as fast as the server takes them, never reads.
    # With back-pressure the server stops reading: the bytes it accepts
    # are bounded by the socket buffers; without, they are not.
    before = rss_kb()
    s = socket.socket()
    nofread(s)
    s.connect(addr)
    s.setblocking(False)
    msg = framed(query("250.2.0.192.bl.test", 16)) * 256
    sent, t, peak, closed = 0, time.time(), before, None
    while time.time() - t < float(sys.argv[3]):
        try:
            sent += s.send(msg)
        except BlockingIOError:
            select.select([], [s], [], 0.05)
        except (ConnectionResetError, BrokenPipeError):
            closed = time.time() - t
            break
        peak = max(peak, rss_kb())
    grown = peak - before
    if closed is None:
        closed = wait_closed(s, float(sys.argv[4]))
    print("sent %d grown_kb %d closed %s" % (sent, grown,
        "no" if closed is None else "yes"))
elif mode == "halfclose":
    # N clients pipeline answers they never read, then close their side.
    n = int(sys.argv[3])
    fds = nfds()
    conns = []
    for i in range(n):
        s = socket.socket()
        nofread(s)
        s.connect(addr)
        flood(s, framed(query("250.2.0.192.bl.test", 16)) * 256, 0.3)
        s.shutdown(socket.SHUT_WR)
        conns.append(s)
    time.sleep(float(sys.argv[4]))
    leaked = nfds() - fds
    print("fresh %s leaked %d" % ("answered" if fresh_tcp() else "failed",
        leaked))
    for s in conns:
        s.close()
elif mode == "trickle":
    # N clients at the cap send one byte of a query every 0.5 s; then a
    # fresh client; then how long until a trickler is cut off.
    n = int(sys.argv[3])
    msg = framed(query("4.3.2.1.bl.test", 1))
    conns = [socket.create_connection(addr) for i in range(n)]
    t, pos, first_closed = time.time(), 0, None
    fresh = None
    while time.time() - t < float(sys.argv[4]):
        for s in list(conns):
            try:
                s.send(msg[pos % len(msg):pos % len(msg) + 1])
            except OSError:
                conns.remove(s)
                if first_closed is None:
                    first_closed = time.time() - t
        pos += 1
        if fresh is None and time.time() - t > 1:
            fresh = fresh_tcp()
        time.sleep(0.5)
    print("fresh %s first_closed %s" % (
        "answered" if fresh else "failed",
        "never" if first_closed is None else "%.1f" % first_closed))
elif mode == "busy_at_cap":
    # n clients fill the cap and keep asking (a query every 0.1 s), so
    # no timer frees a slot: a fresh client must evict one of them.
    n = int(sys.argv[3])
    conns = [socket.create_connection(addr) for i in range(n)]
    for c in conns:
        c.settimeout(0.5)
    fresh, t = None, time.time()
    while time.time() - t < 1.5:
        for c in list(conns):
            try:
                c.sendall(framed(query("4.3.2.1.bl.test", 1)))
                if not c.recv(4096):
                    raise ConnectionResetError
            except OSError:
                conns.remove(c)
        if fresh is None and time.time() - t > 0.5:
            fresh = fresh_tcp()
        time.sleep(0.1)
    print("fresh %s evicted %d" % ("answered" if fresh else "failed",
        n - len(conns)))
elif mode == "idle_many":
    # n idle clients, more than the server has descriptors for.
    n = int(sys.argv[3])
    conns = []
    for i in range(n):
        try:
            conns.append(socket.create_connection(addr, timeout=1))
        except OSError:
            pass
    time.sleep(0.3)
    print("fresh %s" % ("answered" if fresh_tcp() else "failed"))
elif mode == "pressure":
    # n idle connections at once: the last ones are armed with the idle
    # timeout shortened by pressure; prints the quickest close.
    n = int(sys.argv[3])
    conns = [socket.create_connection(addr) for i in range(n)]
    t = time.time()
    first = None
    pending = list(conns)
    while pending and time.time() - t < 6:
        r, _, _ = select.select(pending, [], [], 0.05)
        for c in r:
            try:
                d = c.recv(10)
            except ConnectionResetError:
                d = b""
            if not d:
                pending.remove(c)
                if first is None:
                    first = time.time() - t
    print("first_closed %.1f" % (first if first is not None else 99))
elif mode == "udp_big":
    # A datagram longer than the server's buffer: a valid query padded.
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
    u.settimeout(1)
    size = int(sys.argv[3])
    q = query("4.3.2.1.bl.test", 1)
    u.sendto(q + b"\0" * (size - len(q)), addr)
    try:
        u.recv(4096)
        print("answered")
    except socket.timeout:
        print("no answer")
else:
    sys.exit("unknown mode " + mode)
