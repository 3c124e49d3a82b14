#!/usr/bin/env python3
"""The soak (issue 12 item 7): every event model of `sockit serve` and a Cascade swarm (tracker,
seeding peer, leechers downloading again and again) under well-behaved and hostile clients at once,
for a bounded time. Every few seconds it samples each server's RSS and open descriptors and the
p99 latency of the well-behaved requests; at the end it writes OUT/soak.md, OUT/soak/*.csv and
OUT/soak/{rss,fds,p99,downloads}.png, and says whether the curves are flat.

Run through bench/soak.sh (it builds first). Three roles, one file, standard library only:
  the conductor (default): starts the servers and the workers, samples, writes the report;
  --role good:    steady request/answer clients, latency per sampling interval (a JSON line each);
  --role hostile: slowloris, never-reading floods, connect/close churn, random bytes, RST mid-answer.
The workers are separate processes so that the hostile threads never hold the interpreter lock
while a well-behaved request is being timed. Traffic goes to 127.0.0.1 only.
"""

import argparse
import ctypes
import datetime
import hashlib
import json
import math
import os
import platform
import random
import re
import resource
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"
EVENT_MODELS = ("select", "poll", "epoll", "uring")
SERVE_FLAGS = ["--tcp", "--listen", HOST, "--request-timeout", "2", "--idle-timeout", "5"]
DATA_BYTES = 8 << 20          # the swarm's file
BLOCK_SIZE = "256KiB"
LEECHER_SLOTS = 2             # leechers running at once, each on a fixed port (one tracker entry each)
LEECHER_PAUSE_S = 4.0         # between one slot's downloads
LEECHER_TIMEOUT_S = 120.0     # a download that takes longer is killed and counted as failed

# Flat means: the last window's mean within this of the first window's (after warm-up).
RSS_FLAT_MIB, RSS_FLAT_PCT = 1.0, 5.0
FDS_FLAT_COUNT, FDS_FLAT_PCT = 3.0, 10.0
# p99 on a shared 2-core machine is noisy: flagged when the late window's mean is over
# twice the early one and 2 ms more.
P99_FACTOR, P99_SLACK_MS = 2.0, 2.0
SHORT_RUN_S = 600.0           # under this, a smoke run: its verdict is indicative and never fails it

# Well-behaved load per serve target: one thread per service, one request every GOOD_PERIOD_S.
GOOD_PERIOD_S = 0.04
TRACKER_PERIOD_S = 0.1        # a list request (one connection each)
SEEDER_PERIOD_S = 0.25        # one 256 KiB block, checked against its SHA-256
RECONNECT_EVERY = 250         # persistent clients open a fresh connection this often

# Hostile load per target: (serve, tracker, seeder).
SLOWLORIS = {"serve": 20, "tracker": 5, "seeder": 5}            # connections held, 1 byte/s each
FLOODERS = {"serve": 3, "tracker": 0, "seeder": 1}              # send, never read; 10-20 s each
CHURN_PER_S = {"serve": 50, "tracker": 10, "seeder": 10}        # connect and close
RANDOM_PER_S = {"serve": 2, "tracker": 2, "seeder": 2}          # random bytes, read a little, close
RST_PER_S = {"serve": 2, "tracker": 2, "seeder": 2}             # big answer asked, RST after 1 KiB
SLOWLORIS_LIFETIME_S = 120.0  # the client ends one that lasts this long (echo never times it out)
ATTACKS = ("slowloris", "flood", "churn", "random", "rst")
CONTROL = "client-stall"      # the well-behaved process's own wake-up delay (see stall_probe)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] soak: {message}", file=sys.stderr, flush=True)


def mono():
    return time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process of the machine


# ============================================================================ shared wire helpers
def recv_exact(sock, n):
    chunks, got = [], 0
    while got < n:
        piece = sock.recv(min(n - got, 1 << 20))
        if not piece:
            raise ConnectionError(f"closed after {got} of {n} bytes")
        chunks.append(piece)
        got += len(piece)
    return b"".join(chunks)


def tracker_request(command, digest, port):
    """The 54-byte tracker request (cascade-protocol.md section 2)."""
    return struct.pack("!4sIII32s4sH", b"CASC", 1, command, 38, digest, socket.inet_aton(HOST), port)


def block_request(index, digest):
    """The 64-byte block request (cascade-protocol.md section 3)."""
    return struct.pack("!8s16sQ32s", b"CASCADE1", bytes(16), index, digest)


def set_linger_zero(sock):
    """close() then sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def connect(port, timeout=2.0, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(timeout)
        s.connect((HOST, port))
    except BaseException:
        s.close()
        raise
    return s


def percentile(values, q):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100.0 * len(ordered)) - 1))]


# ============================================================================ role: good
FIB = [0, 1]
while len(FIB) < 100:
    FIB.append(FIB[-1] + FIB[-2])


class Buckets:
    """Latencies (ms) and errors of one target, per sampling interval k (the interval
    [t0 + k*I, t0 + (k+1)*I) in which the request completed)."""

    def __init__(self, t0, interval):
        self.t0, self.interval = t0, interval
        self.lock = threading.Lock()
        self.lat, self.err = {}, {}
        self.messages = {}

    def key(self, when):
        return max(0, int((when - self.t0) // self.interval))

    def ok(self, started, done):
        with self.lock:
            self.lat.setdefault(self.key(done), []).append((done - started) * 1000.0)

    def fail(self, done, what):
        with self.lock:
            k = self.key(done)
            self.err[k] = self.err.get(k, 0) + 1
            self.messages[what] = self.messages.get(what, 0) + 1

    def take(self, before_key):
        """Removes and returns {k: (latencies, errors)} for every k < before_key."""
        with self.lock:
            keys = sorted(k for k in set(self.lat) | set(self.err) if k < before_key)
            return {k: (self.lat.pop(k, []), self.err.pop(k, 0)) for k in keys}


class LineClient:
    """A persistent connection for the text services: request, then one answer line."""

    def __init__(self, port):
        self.port, self.sock, self.buf, self.used = port, None, b"", 0

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock, self.buf = None, b""

    def ensure(self):
        if self.sock is None or self.used >= RECONNECT_EVERY:
            self.close()
            self.sock, self.used = connect(self.port, timeout=5.0), 0
        self.used += 1

    def read_until(self, size=None):
        while (b"\n" not in self.buf) if size is None else (len(self.buf) < size):
            piece = self.sock.recv(65536)
            if not piece:
                raise ConnectionError("server closed the connection")
            self.buf += piece
        if size is None:
            line, _, self.buf = self.buf.partition(b"\n")
            return line + b"\n"
        out, self.buf = self.buf[:size], self.buf[size:]
        return out


def exchange_echo(client, i):
    payload = os.urandom(64)
    client.sock.sendall(payload)
    if client.read_until(64) != payload:
        raise ValueError("echo: wrong bytes")


def exchange_fib(client, i):
    n = 25 + i % 11
    client.sock.sendall(b"%d\n" % n)
    if client.read_until() != b"%d\n" % FIB[n]:
        raise ValueError(f"fib: wrong answer to {n}")


def exchange_upper(client, i):
    line = f"soak line {i} the quick brown fox jumps over the lazy dog\n"
    client.sock.sendall(line.encode())
    if client.read_until() != line.upper().encode():
        raise ValueError("upper: wrong answer")


def exchange_block(client, i, digest, hashes, block_bytes, size):
    index = i % len(hashes)
    length = min(block_bytes, size - index * block_bytes)
    client.sock.sendall(block_request(index, digest))
    status, body_len = struct.unpack("!BQ", client.read_until(9))
    if status != 0 or body_len != length:
        raise ValueError(f"block {index}: status {status}, length {body_len}")
    body = client.read_until(body_len)

    def check():   # after the clock stops: the check is the client's work, not the server's
        if hashlib.sha256(body).digest() != hashes[index]:
            raise ValueError(f"block {index}: bad SHA-256")
    return check


def tracker_list(port, digest):
    with connect(port, timeout=5.0) as s:
        s.sendall(tracker_request(1, digest, 9))
        status, length = struct.unpack("!BI", recv_exact(s, 5))
        body = recv_exact(s, length)
    if status != 0 or length % 12 or length < 12:
        raise ValueError(f"tracker list: status {status}, {length} bytes: {body[:60]!r}")


def good_loop(buckets, stop_at, period, one_request, close=None):
    """One client: a request every `period` seconds (not faster to catch up after a slow one),
    each timed from its first byte sent to its last byte received. `one_request` may return a
    check to run once the clock has stopped (or a tuple holding one)."""
    i, next_at = 0, mono()
    while True:
        now = mono()
        if now >= stop_at:
            break
        if next_at > now:
            time.sleep(min(next_at - now, stop_at - now))
            continue
        next_at = max(next_at + period, now)
        started = mono()
        try:
            after = one_request(i)
            done = mono()
            for check in (after if isinstance(after, tuple) else (after,)):
                if callable(check):
                    check()
            buckets.ok(started, done)
        except (OSError, ValueError, ConnectionError, struct.error) as e:
            buckets.fail(mono(), f"{type(e).__name__}: {e}"[:120])
            if close:
                close()
            time.sleep(0.2)
        i += 1
    if close:
        close()


def stall_probe(buckets, stop_at):
    """The control: how late this process wakes from a 10 ms sleep. When the servers' p99 moves
    with it, the latency is the machine's (CPU contention), not the servers'."""
    while mono() < stop_at:
        started = mono()
        time.sleep(0.01)
        buckets.ok(started + 0.01, mono())
        time.sleep(0.03)


def run_good(spec):
    t0, end, interval = spec["t0"], spec["end"], spec["interval"]
    out = open(spec["out"], "a", buffering=1)
    threads, buckets = [], {}

    def start(name, *a):
        t = threading.Thread(target=good_loop, args=(buckets[name], end, *a), daemon=True)
        t.start()
        threads.append(t)

    for target in spec["targets"]:
        name = target["name"]
        buckets[name] = Buckets(t0, interval)
        if target["kind"] == "serve":
            for service, fn in (("echo", exchange_echo), ("fib", exchange_fib), ("upper", exchange_upper)):
                c = LineClient(target["ports"][service])
                start(name, GOOD_PERIOD_S, lambda i, c=c, fn=fn: (c.ensure(), fn(c, i)), c.close)
        elif target["kind"] == "tracker":
            digest = bytes.fromhex(target["hash"])
            start(name, TRACKER_PERIOD_S, lambda i, p=target["port"], d=digest: tracker_list(p, d))
        elif target["kind"] == "seeder":
            c = LineClient(target["port"])
            block = (bytes.fromhex(target["hash"]), [bytes.fromhex(h) for h in target["block_hashes"]],
                     target["block_bytes"], target["size"])
            start(name, SEEDER_PERIOD_S, lambda i, c=c, b=block: (c.ensure(), exchange_block(c, i, *b)), c.close)

    buckets[CONTROL] = Buckets(t0, interval)
    t = threading.Thread(target=stall_probe, args=(buckets[CONTROL], end), daemon=True)
    t.start()
    threads.append(t)

    def emit(before_key):
        for name, b in buckets.items():
            for k, (lat, err) in b.take(before_key).items():
                row = {"k": k, "target": name, "n": len(lat), "errors": err, "lat": [round(v, 3) for v in lat]}
                if lat:
                    row.update(p50=percentile(lat, 50), p99=percentile(lat, 99), max=max(lat))
                out.write(json.dumps(row) + "\n")

    while mono() < end:
        time.sleep(0.5)
        emit(int((mono() - t0 - 1.0) // interval))  # a second's margin for the requests in flight
    for t in threads:
        t.join(timeout=10)
    emit(1 << 62)
    for name, b in buckets.items():
        if b.messages:
            out.write(json.dumps({"target": name, "error_messages": b.messages}) + "\n")
    out.close()


# ============================================================================ role: hostile
class Tally:
    """What one attack on one target did (one thread writes it)."""
    FIELDS = ("connections", "connect_failed", "server_closed", "client_closed", "bytes_sent",
              "bytes_received", "server_closed_lifetime_s")

    def __init__(self):
        for f in self.FIELDS:
            setattr(self, f, 0)

    def as_dict(self):
        return {f: getattr(self, f) for f in self.FIELDS}


def paced(rate, stop_at):
    """Yields at `rate` per second until stop_at, never bursting to catch up."""
    period, next_at = 1.0 / rate, mono()
    while True:
        now = mono()
        if now >= stop_at:
            return
        if next_at > now:
            time.sleep(min(next_at - now, stop_at - now))
            continue
        next_at = max(next_at + period, now)
        yield


def hostile_churn(t, ports, rate, stop_at, rng):
    for i, _ in enumerate(paced(rate, stop_at)):
        try:
            s = connect(ports[i % len(ports)], timeout=1.0)
        except OSError:
            t.connect_failed += 1
            continue
        t.connections += 1
        mode = i % 3
        try:
            if mode == 1:
                set_linger_zero(s)      # RST at once
            elif mode == 2:
                s.send(b"1")            # a request begun, then gone
                t.bytes_sent += 1
        except OSError:
            pass
        s.close()
        t.client_closed += 1


def hostile_random(t, ports, rate, stop_at, rng):
    for i, _ in enumerate(paced(rate, stop_at)):
        kind = rng.randrange(4)
        if kind == 0:
            payload = bytes(rng.randrange(1, 2048))                          # NULs
        elif kind == 1:
            payload = bytes(0x21 + b % 94 for b in rng.randbytes(20000))      # one line past --max-line
        else:
            payload = rng.randbytes(rng.randrange(1, 4096))
        try:
            s = connect(ports[i % len(ports)], timeout=1.0)
        except OSError:
            t.connect_failed += 1
            continue
        t.connections += 1
        with s:
            try:
                s.setblocking(False)
                sent = 0
                deadline = mono() + 0.3
                closed = False
                while mono() < deadline and not closed:
                    if sent < len(payload):
                        try:
                            sent += s.send(payload[sent:])
                        except BlockingIOError:
                            pass
                    r, _, _ = select.select([s], [], [], 0.05)
                    if r:
                        data = s.recv(65536)
                        t.bytes_received += len(data)
                        closed = not data
                t.bytes_sent += sent
                if closed:
                    t.server_closed += 1
                else:
                    t.client_closed += 1
            except OSError:
                t.server_closed += 1


def hostile_rst(t, ports, asks, rate, stop_at, rng):
    """Asks for a big answer, reads the first KiB, then resets the connection."""
    for i, _ in enumerate(paced(rate, stop_at)):
        port = ports[i % len(ports)]
        try:
            s = connect(port, timeout=1.0)
        except OSError:
            t.connect_failed += 1
            continue
        t.connections += 1
        with s:
            try:
                request = asks[port](rng)
                s.setblocking(False)
                sent, got, deadline = 0, 0, mono() + 1.0
                while mono() < deadline and got < 1024:
                    if sent < len(request):
                        try:
                            sent += s.send(request[sent:])
                        except BlockingIOError:
                            pass
                    r, _, _ = select.select([s], [], [], 0.05)
                    if r:
                        data = s.recv(1024 - got)
                        if not data:
                            t.server_closed += 1
                            break
                        got += len(data)
                t.bytes_sent += sent
                t.bytes_received += got
                set_linger_zero(s)
                t.client_closed += 1
            except OSError:
                t.server_closed += 1


def hostile_slowloris(t, ports, count, trickle, stop_at, rng):
    """`count` connections, each sending one byte a second of a request that never ends;
    one the server closes is replaced at once."""
    conns = {}   # socket -> [port, next_send, opened]
    slots = [ports[i % len(ports)] for i in range(count)]   # a replacement goes to the same service
    while mono() < stop_at:
        while len(conns) < count and mono() < stop_at:
            busy = [c[0] for c in conns.values()]
            port = next(p for p in slots if busy.count(p) < slots.count(p))
            try:
                s = connect(port, timeout=1.0)
            except OSError:
                t.connect_failed += 1
                time.sleep(0.1)
                break
            s.setblocking(False)
            t.connections += 1
            now = mono()
            conns[s] = [port, now + rng.random(), now]
        if not conns:
            time.sleep(0.1)
            continue
        readable, _, _ = select.select(list(conns), [], [], 0.1)
        now = mono()
        gone = []
        for s in readable:
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            t.bytes_received += len(data)
            if not data:
                gone.append((s, "server"))
        for s, (port, next_send, opened) in conns.items():
            if any(s is g for g, _ in gone):
                continue
            if now - opened > SLOWLORIS_LIFETIME_S:
                gone.append((s, "client"))
            elif now >= next_send:
                conns[s][1] = next_send + 1.0
                try:
                    t.bytes_sent += s.send(trickle[port])
                except BlockingIOError:
                    pass
                except OSError:
                    gone.append((s, "server"))
        for s, who in gone:
            if who == "server":
                t.server_closed += 1
                t.server_closed_lifetime_s += now - conns[s][2]
            else:
                t.client_closed += 1
            del conns[s]
            s.close()
    for s in conns:
        s.close()
        t.client_closed += 1


def hostile_flood(t, ports, count, feeds, stop_at, rng):
    """`count` clients sending as fast as the server takes it and never reading, each ended by
    the client after 10-20 s (half with RST) and replaced; a small receive buffer keeps the
    kernel from holding megabytes of unread answers for them."""
    conns = {}   # socket -> [port, expires]
    i = 0
    while mono() < stop_at:
        while len(conns) < count and mono() < stop_at:
            port = ports[i % len(ports)]
            i += 1
            try:
                s = connect(port, timeout=1.0, rcvbuf=4096)
            except OSError:
                t.connect_failed += 1
                time.sleep(0.1)
                break
            s.setblocking(False)
            t.connections += 1
            conns[s] = [port, mono() + rng.uniform(10, 20)]
        now = mono()
        gone = []
        for s, (port, expires) in conns.items():
            if now >= expires:
                if rng.random() < 0.5:
                    set_linger_zero(s)
                gone.append((s, "client"))
                continue
            for _ in range(4):
                try:
                    t.bytes_sent += s.send(feeds[port])
                except BlockingIOError:
                    break
                except OSError:
                    gone.append((s, "server"))
                    break
        for s, who in gone:
            if who == "server":
                t.server_closed += 1
            else:
                t.client_closed += 1
            del conns[s]
            s.close()
        time.sleep(0.1)
    for s in conns:
        s.close()
        t.client_closed += 1


def run_hostile(spec):
    end = spec["end"]
    rng = random.Random(12)
    tallies, threads = {}, []

    def start(target, attack, fn, *a):
        t = tallies.setdefault(target, {}).setdefault(attack, Tally())
        th = threading.Thread(target=fn, args=(t, *a, end, random.Random(rng.random())), daemon=True)
        th.start()
        threads.append(th)

    for target in spec["targets"]:
        name, kind = target["name"], target["kind"]
        if kind == "serve":
            p = target["ports"]
            ports = [p["echo"], p["fib"], p["upper"]]
            trickle = {p["echo"]: b"x", p["fib"]: b"1", p["upper"]: b"a"}
            line = b"the flood that is never read, upper-cased by the server\n"
            feeds = {p["echo"]: os.urandom(65536), p["fib"]: b"27\n" * 21845, p["upper"]: line * (65536 // len(line))}
            asks = {p["echo"]: lambda r: r.randbytes(256 << 10),
                    p["fib"]: lambda r: b"5000\n" * 32,
                    p["upper"]: lambda r: (b"reset me mid-answer " * 50 + b"\n") * 128}
        else:
            ports = [target["port"]]
            digest = bytes.fromhex(target["hash"])
            if kind == "tracker":
                trickle = {ports[0]: b"C"}
                feeds = {}
                asks = {ports[0]: lambda r, d=digest: tracker_request(1, d, 9)}
            else:
                blocks = len(target["block_hashes"])
                trickle = {ports[0]: b"C"}
                feeds = {ports[0]: b"".join(block_request(i % blocks, digest) for i in range(1024))}
                asks = {ports[0]: lambda r, d=digest, b=blocks: block_request(r.randrange(b), d)}
        wanted = set(spec["attacks"])
        if "churn" in wanted:
            start(name, "churn", hostile_churn, ports, CHURN_PER_S[kind])
        if "random" in wanted:
            start(name, "random", hostile_random, ports, RANDOM_PER_S[kind])
        if "rst" in wanted:
            start(name, "rst", hostile_rst, ports, asks, RST_PER_S[kind])
        if "slowloris" in wanted:
            start(name, "slowloris", hostile_slowloris, ports, SLOWLORIS[kind], trickle)
        if FLOODERS[kind] and "flood" in wanted:
            start(name, "flood", hostile_flood, ports, FLOODERS[kind], feeds)

    def dump():
        snapshot = {n: {a: t.as_dict() for a, t in attacks.items()} for n, attacks in tallies.items()}
        tmp = spec["out"] + ".tmp"
        with open(tmp, "w") as f:
            json.dump(snapshot, f)
        os.replace(tmp, spec["out"])

    while mono() < end:
        time.sleep(min(10.0, max(0.0, end - mono())))
        dump()
    for th in threads:
        th.join(timeout=10)
    dump()


# ============================================================================ role: conductor
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: no orphan outlives a killed conductor


class Child:
    """A process in its own process group, its output in a log file."""

    def __init__(self, argv, log_path, cwd=None):
        self.argv, self.log_path = argv, log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=cwd, start_new_session=True, preexec_fn=_die_with_parent)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def wait_for(self, pattern, seconds=20.0):
        """The first match of `pattern` in the log, within `seconds`; None if the process ended."""
        deadline = mono() + seconds
        while mono() < deadline:
            with open(self.log_path, errors="replace") as f:
                found = re.search(pattern, f.read(), re.M)
            if found:
                return found
            if not self.alive():
                return None
            time.sleep(0.05)
        return None

    def stop(self, grace=10.0):
        """SIGTERM to the group, SIGKILL after `grace` seconds; returns the exit status. The group
        is signalled only while its leader is not yet reaped, so its id cannot have been reused."""
        if self.proc.poll() is None:
            self.signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()
        return self.proc.returncode

    def signal_group(self, sig):
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass


def kib_fields(path, names):
    total = 0
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in names:
                total += int(value.split()[0])
    return total


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def footprint(pid):
    """(RSS KiB, open fds, threads, CPU seconds) of a server: its VmRSS plus what each forked child
    holds privately (its VmRSS would count the shared parent pages again), its fds and children's."""
    rss = kib_fields(f"/proc/{pid}/status", {"VmRSS"})
    threads = kib_fields(f"/proc/{pid}/status", {"Threads"})
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    for child in children(pid):
        try:
            rss += kib_fields(f"/proc/{child}/smaps_rollup", {"Private_Clean", "Private_Dirty"})
            fds += len(os.listdir(f"/proc/{child}/fd"))
        except OSError:
            pass
    return rss, fds, threads, cpu


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def mean(values):
    return sum(values) / len(values) if values else None


def slope_per_hour(points):
    """Least-squares slope of (seconds, value) points, per hour."""
    if len(points) < 3:
        return None
    mx, my = mean([p[0] for p in points]), mean([p[1] for p in points])
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den * 3600 if den else None


class Soak:
    def __init__(self, args):
        self.args = args
        self.sockit = os.path.abspath(args.sockit)
        self.out = os.path.abspath(args.out)
        self.data_dir = os.path.join(self.out, "soak")
        self.duration = args.minutes * 60.0
        self.attacks = [a for a in args.attacks.split(",") if a]
        unknown = set(self.attacks) - set(ATTACKS)
        if unknown:
            sys.exit(f"soak: unknown attacks {sorted(unknown)}; choose from {','.join(ATTACKS)}")
        self.interval = args.interval or (5.0 if args.minutes >= 5 else 2.0)
        self.warmup = min(120.0, 0.2 * self.duration)
        span = min(300.0, (self.duration - self.warmup) / 3)
        self.early = (self.warmup, self.warmup + span)
        self.late = (self.duration - span, self.duration)
        self.work = tempfile.mkdtemp(prefix="sockit-soak-")
        self.servers = {}        # target name -> Child
        self.workers = []
        self.leechers = [None] * LEECHER_SLOTS   # per slot: (Child, started, index, output) or None
        self.samples = []        # dicts
        self.downloads = []      # dicts
        self.deaths = []         # (target, minute, status)
        self.targets = []        # specs for the workers
        self.notes = []

    # ---------------------------------------------------------------- setup
    def start_serve(self, model):
        child = Child([self.sockit, "serve", "echo:0", "fib:0", "upper:0", "--model", model, *SERVE_FLAGS],
                      os.path.join(self.work, f"serve-{model}.log"))
        ports = {}
        deadline = mono() + 20
        while len(ports) < 3 and mono() < deadline and child.alive():
            with open(child.log_path) as f:
                for m in re.finditer(r"listening on 127\.0\.0\.1:(\d+) \((\w+)/tcp", f.read()):
                    ports[m.group(2)] = int(m.group(1))
            time.sleep(0.05)
        if len(ports) < 3:
            raise RuntimeError(f"serve --model {model} did not start: see {child.log_path}")
        self.servers[model] = child
        self.targets.append({"name": model, "kind": "serve", "ports": ports})

    def start_swarm(self):
        data = os.path.join(self.work, "data.bin")
        with open(data, "wb") as f:
            f.write(random.Random(7).randbytes(DATA_BYTES))
        made = subprocess.run([self.sockit, "cascade", "create", data, "--block-size", BLOCK_SIZE],
                              capture_output=True, text=True, timeout=60)
        if made.returncode != 0:
            raise RuntimeError(f"cascade create failed: {made.stderr.strip()}")
        self.cascade = data + ".cascade"
        raw = open(self.cascade, "rb").read()
        digest = hashlib.sha256(raw).hexdigest()
        block_bytes = struct.unpack("!Q", raw[24:32])[0]
        count = -(-DATA_BYTES // block_bytes)
        hashes = [raw[64 + 32 * i: 96 + 32 * i].hex() for i in range(count)]

        tracker = Child([self.sockit, "cascade", "tracker", "--listen", f"{HOST}:0", "--allow-any"],
                        os.path.join(self.work, "tracker.log"))
        m = tracker.wait_for(r"listening on 127\.0\.0\.1:(\d+)")
        if not m:
            raise RuntimeError(f"the tracker did not start: see {tracker.log_path}")
        self.tracker_addr = f"{HOST}:{m.group(1)}"
        self.servers["tracker"] = tracker
        self.targets.append({"name": "tracker", "kind": "tracker", "port": int(m.group(1)), "hash": digest})

        seeder = Child([self.sockit, "cascade", "peer", self.cascade, "--tracker", self.tracker_addr,
                        "--listen", f"{HOST}:0", "-o", data], os.path.join(self.work, "seeder.log"))
        m = seeder.wait_for(r"^seeding .* on 127\.0\.0\.1:(\d+)", 60)
        if not m:
            raise RuntimeError(f"the seeding peer did not start: see {seeder.log_path}")
        self.servers["seeder"] = seeder
        self.targets.append({"name": "seeder", "kind": "seeder", "port": int(m.group(1)), "hash": digest,
                             "block_hashes": hashes, "block_bytes": block_bytes, "size": DATA_BYTES})
        self.leecher_ports = [free_port() for _ in range(LEECHER_SLOTS)]
        self.next_leech = [0.0] * LEECHER_SLOTS
        self.leeched = 0

    def start_workers(self):
        spec = {"t0": self.t0, "end": self.end, "interval": self.interval, "targets": self.targets,
                "attacks": self.attacks}
        self.good_out = os.path.join(self.work, "good.jsonl")
        self.hostile_out = os.path.join(self.work, "hostile.json")
        me = os.path.abspath(__file__)
        for role, out in (("good", self.good_out), ("hostile", self.hostile_out)):
            path = os.path.join(self.work, f"{role}.spec.json")
            with open(path, "w") as f:
                json.dump({**spec, "out": out}, f)
            self.workers.append(Child([sys.executable, me, "--role", role, "--spec", path],
                                      os.path.join(self.work, f"{role}.log")))

    # ---------------------------------------------------------------- the run
    def leech(self, now):
        for slot in range(LEECHER_SLOTS):
            running = self.leechers[slot]
            if running:
                child, started, index, output = running
                took = now - started
                if child.alive() and took < LEECHER_TIMEOUT_S:
                    continue
                timed_out = child.alive()
                status = child.stop(grace=1.0)
                ok = status == 0 and not timed_out and os.path.exists(output) and os.path.getsize(output) == DATA_BYTES
                self.downloads.append({"index": index, "slot": slot, "start_min": (started - self.t0) / 60,
                                       "seconds": took, "ok": int(ok), "status": status})
                if not ok and len(self.notes) < 20:
                    with open(child.log_path, errors="replace") as f:
                        tail = f.read().strip().splitlines()[-3:]
                    self.notes.append(f"download {index} failed (status {status}{', timed out' if timed_out else ''}): "
                                      + " / ".join(tail))
                for path in (output, child.log_path):
                    if os.path.exists(path):
                        os.unlink(path)
                self.leechers[slot] = None
                self.next_leech[slot] = now + LEECHER_PAUSE_S
            elif now >= self.next_leech[slot] and now < self.end - 2:
                index = self.leeched
                self.leeched += 1
                output = os.path.join(self.work, f"out-{index}")
                child = Child([self.sockit, "cascade", "peer", self.cascade, "--tracker", self.tracker_addr,
                               "--listen", f"{HOST}:{self.leecher_ports[slot]}", "-o", output, "--no-seed"],
                              os.path.join(self.work, f"leecher-{index}.log"))
                self.leechers[slot] = (child, mono(), index, output)

    def sample(self, k):
        t = k * self.interval
        for name, child in self.servers.items():
            row = {"t_s": round(t, 1), "minute": round(t / 60, 3), "target": name}
            if child.alive():
                try:
                    rss, fds, threads, cpu = footprint(child.pid)
                    row.update(rss_kib=rss, fds=fds, threads=threads, cpu_s=round(cpu, 2))
                except OSError:
                    pass
            elif not any(d[0] == name for d in self.deaths):
                self.deaths.append((name, t / 60, child.proc.returncode))
                log(f"{name} is gone (status {child.proc.returncode}) at minute {t / 60:.1f}")
            self.samples.append(row)

    def run(self):
        os.makedirs(self.data_dir, exist_ok=True)
        models = subprocess.run([self.sockit, "serve", "--list-models"], capture_output=True, text=True,
                                check=True).stdout.split()
        self.models = [m for m in models if m in EVENT_MODELS]
        log(f"event models: {' '.join(self.models)}; work directory {self.work}")
        self.started_at = datetime.datetime.now().astimezone()
        self.load_before = os.getloadavg()
        for model in self.models:
            self.start_serve(model)
        self.start_swarm()
        self.t0 = mono() + 0.5
        self.end = self.t0 + self.duration
        self.start_workers()
        time.sleep(max(0.0, self.t0 - mono()))
        self.sample(0)                       # before any load: the idle footprint
        steps = int(round(self.duration / self.interval))
        k = 1
        last_print = mono()
        while k <= steps:
            now = mono()
            if now >= self.t0 + k * self.interval:
                self.sample(k)
                k += 1
                continue
            self.leech(now)
            if now - last_print >= 60:
                last_print = now
                latest = {r["target"]: r for r in self.samples[-len(self.servers):]}
                log(f"minute {(now - self.t0) / 60:.0f}: " + ", ".join(
                    f"{n} {r.get('rss_kib', 0) / 1024:.1f} MiB {r.get('fds', '-')} fds" for n, r in latest.items())
                    + f"; {len(self.downloads)} downloads")
            time.sleep(max(0.0, min(0.2, self.t0 + k * self.interval - now)))
        self.load_after = os.getloadavg()
        for slot in range(LEECHER_SLOTS):  # let the last downloads finish (they started 2 s before the end)
            deadline = mono() + LEECHER_TIMEOUT_S
            while self.leechers[slot] and self.leechers[slot][0].alive() and mono() < deadline:
                time.sleep(0.1)
        self.leech(mono())
        for w in self.workers:   # they stop by themselves at the end; give them time to write
            try:
                w.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.notes.append(f"worker {w.argv[3]} had to be killed")
        self.cpu_end = {}
        for name, child in self.servers.items():
            if child.alive():
                self.cpu_end[name] = footprint(child.pid)[3]

    def stop_all(self):
        for slot in range(LEECHER_SLOTS):
            if self.leechers[slot]:
                self.leechers[slot][0].stop(grace=1.0)
                self.leechers[slot] = None
        for w in self.workers:
            w.stop(grace=5.0)
        # Every server at once: SIGTERM, then SIGKILL to whatever is left after 10 s.
        for child in self.servers.values():
            if child.proc.poll() is None:
                child.signal_group(signal.SIGTERM)
        deadline = mono() + 10.0
        self.exit_status = {}
        for name, child in self.servers.items():
            self.exit_status[name] = child.stop(grace=max(0.1, deadline - mono()))

    # ---------------------------------------------------------------- results
    def merge_latency(self):
        by = {}
        self.error_messages = {}
        self.control = {}   # k -> p99 ms of the client's own wake-up delay
        self.latencies = {}  # (target, k) -> every well-behaved request's latency (ms) in interval k
        with open(self.good_out) as f:
            for line in f:
                row = json.loads(line)
                if "error_messages" in row:
                    self.error_messages[row["target"]] = row["error_messages"]
                    continue
                self.latencies[(row["target"], row["k"])] = row.pop("lat")
                by[(row["target"], row["k"])] = row
                if row["target"] == CONTROL and row["n"]:
                    self.control[row["k"]] = row["p99"]
        for row in self.samples:
            k = int(round(row["t_s"] / self.interval)) - 1   # the interval that ends at this sample
            if k in self.control:
                row["client_stall_p99_ms"] = round(self.control[k], 3)
            g = by.get((row["target"], k))
            if k >= 0 and g:
                row.update(requests=g["n"], errors=g["errors"])
                if g["n"]:
                    row.update(p50_ms=round(g["p50"], 3), p99_ms=round(g["p99"], 3), max_ms=round(g["max"], 3))
            elif k >= 0:
                row.update(requests=0, errors=0)

    def window(self, name, field, span):
        lo, hi = span
        return [r[field] for r in self.samples
                if r["target"] == name and lo < r["t_s"] <= hi + 1e-6 and r.get(field) is not None]

    def window_p99(self, name, span):
        """p99 of every well-behaved request of `name` that completed in the window."""
        lo, hi = span
        lat = [v for (n, k), vs in self.latencies.items()
               if n == name and lo < (k + 1) * self.interval <= hi + 1e-6 for v in vs]
        return percentile(lat, 99) if lat else None

    def bins(self):
        """Bin width for the plots: about 30 bins whatever the duration, whole intervals each."""
        return self.interval * max(1, round(self.duration / 30 / self.interval))

    def summarise(self):
        rows = []
        for name in self.servers:
            s = {"target": name}
            for field, scale in (("rss_kib", 1024.0), ("fds", 1.0)):
                a = [v / scale for v in self.window(name, field, self.early)]
                b = [v / scale for v in self.window(name, field, self.late)]
                s[field] = (mean(a), mean(b))
            s["p99_ms"] = (self.window_p99(name, self.early), self.window_p99(name, self.late))
            pts = [(r["t_s"], r["rss_kib"] / 1024) for r in self.samples
                   if r["target"] == name and r["t_s"] > self.warmup and "rss_kib" in r]
            s["rss_slope"] = slope_per_hour(pts)
            s["rss_max"] = max((r["rss_kib"] / 1024 for r in self.samples
                                if r["target"] == name and "rss_kib" in r), default=None)
            s["rss_idle"] = next((r["rss_kib"] / 1024 for r in self.samples
                                  if r["target"] == name and r["t_s"] == 0 and "rss_kib" in r), None)
            s["requests"] = sum(r.get("requests", 0) for r in self.samples if r["target"] == name)
            s["errors"] = sum(r.get("errors", 0) for r in self.samples if r["target"] == name)
            s["cpu_s"] = self.cpu_end.get(name)
            a, b = s["rss_kib"]
            rss_ok = a is not None and b is not None and abs(b - a) <= max(RSS_FLAT_MIB, a * RSS_FLAT_PCT / 100)
            a, b = s["fds"]
            fds_ok = a is not None and b is not None and abs(b - a) <= max(FDS_FLAT_COUNT, a * FDS_FLAT_PCT / 100)
            a, b = s["p99_ms"]
            p99_ok = a is not None and b is not None and b <= max(a * P99_FACTOR, a + P99_SLACK_MS)
            s["flat"] = rss_ok and fds_ok
            s["flags"] = [w for w, ok in (("RSS", rss_ok), ("fds", fds_ok), ("p99", p99_ok)) if not ok]
            rows.append(s)
        return rows

    def write_csv(self, summary):
        import csv
        fields = ["t_s", "minute", "target", "rss_kib", "fds", "threads", "cpu_s", "requests", "errors",
                  "p50_ms", "p99_ms", "max_ms", "client_stall_p99_ms"]
        with open(os.path.join(self.data_dir, "samples.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
            w.writeheader()
            w.writerows(self.samples)
        with open(os.path.join(self.data_dir, "downloads.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["index", "slot", "start_min", "seconds", "ok", "status"])
            w.writeheader()
            for d in self.downloads:
                w.writerow({**d, "start_min": round(d["start_min"], 3), "seconds": round(d["seconds"], 3)})
        with open(os.path.join(self.data_dir, "hostile.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["target", "attack", *Tally.FIELDS])
            for name, attacks in self.hostile.items():
                for attack, t in sorted(attacks.items()):
                    w.writerow([name, attack, *(round(t[k], 1) if isinstance(t[k], float) else t[k]
                                                for k in Tally.FIELDS)])
        with open(os.path.join(self.data_dir, "summary.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["target", "rss_early_mib", "rss_late_mib", "rss_drift_mib", "rss_slope_mib_per_h",
                        "fds_early", "fds_late", "fds_drift", "p99_early_ms", "p99_late_ms", "requests", "errors",
                        "flat"])
            for s in summary:
                (ra, rb), (fa, fb), (pa, pb) = s["rss_kib"], s["fds"], s["p99_ms"]
                w.writerow([s["target"], fmt(ra, 2), fmt(rb, 2), fmt(diff(ra, rb), 3), fmt(s["rss_slope"], 3),
                            fmt(fa, 1), fmt(fb, 1), fmt(diff(fa, fb), 1), fmt(pa, 3), fmt(pb, 3),
                            s["requests"], s["errors"], "yes" if s["flat"] else "no"])

    def plot(self):
        if not shutil.which("gnuplot"):
            self.notes.append("No plots: gnuplot is not installed (`sudo apt-get install -y gnuplot-nox`).")
            return []
        names = list(self.servers)
        width = self.bins()
        count = int(round(self.duration / width))
        raw = os.path.join(self.work, "raw.dat")        # every sample: minute rss_mib fds
        binned = os.path.join(self.work, "binned.dat")  # per bin: minute mean_rss mean_fds p99_all
        with open(raw, "w") as f, open(binned, "w") as g:
            for name in names + [CONTROL]:
                rows = [r for r in self.samples if r["target"] == name]
                f.write(f"# {name}\n")
                for r in rows:
                    f.write(f"{r['minute']} {r['rss_kib'] / 1024 if 'rss_kib' in r else 'NaN'} {r.get('fds', 'NaN')}\n")
                f.write("\n\n")
                g.write(f"# {name}\n")
                for j in range(count):
                    span = (j * width, (j + 1) * width)
                    rss = [v / 1024 for v in self.window(name, "rss_kib", span)]
                    fds = self.window(name, "fds", span)
                    p99 = self.window_p99(name, span)
                    g.write(f"{(j + 0.5) * width / 60:.4f} {fmt_nan(mean(rss))} {fmt_nan(mean(fds))} {fmt_nan(p99)}\n")
                g.write("\n\n")
        dl = os.path.join(self.work, "downloads.dat")
        with open(dl, "w") as f:
            for d in self.downloads:
                f.write(f"{d['start_min'] + d['seconds'] / 60:.4f} {d['seconds']:.4f} {d['ok']}\n")
        marks = "".join(f"set arrow from {x / 60:.3f}, graph 0 to {x / 60:.3f}, graph 1 nohead dt 2 lc rgb 'gray50'\n"
                        for x in (self.warmup, self.early[1], self.late[0]))
        head = ("set terminal pngcairo size 1200,700 noenhanced font ',10'\n"
                "set xlabel 'minutes'\nset grid\n"
                f"set xrange [0:{self.duration / 60:.3f}]\n" + marks)
        windows = "dashed: end of warm-up, end of early window, start of late window"
        head += f"set xlabel 'minutes ({windows})'\n"
        every = f"grey: every sample ({self.interval:g} s); colour: mean per {span_text(width)}"
        colours = ["#7b2cbf", "#2a9d8f", "#4ea8de", "#e09f3e", "#d62828", "#1d3557"]
        pictures = []
        for png, col, label in (("rss.png", 2, "RSS (MiB)"), ("fds.png", 3, "open file descriptors")):
            script = (head + f"set output '{os.path.join(self.data_dir, png)}'\n"
                      f"set multiplot layout 2,3 title 'sockit soak: {label} per server ({every})'\n"
                      "set yrange [0:*]\nunset key\n")
            for i, name in enumerate(names):
                script += (f"set title '{name}'\nset ylabel '{label}'\n"
                           f"plot '{raw}' index {i} using 1:{col} with lines lw 1 lc rgb '#c0c0c0', "
                           f"'{binned}' index {i} using 1:{col} with linespoints lw 2.5 pt 7 ps 0.5 "
                           f"lc rgb '{colours[i % len(colours)]}'\n")
            pictures.append(self.gnuplot(png, script + "unset multiplot\n"))
        lines = ", ".join(f"'{binned}' index {i} using 1:4 with linespoints lw 2 pt 7 ps 0.6 "
                          f"lc rgb '{colours[i % len(colours)]}' title '{n}'" for i, n in enumerate(names))
        lines += (f", '{binned}' index {len(names)} using 1:4 with lines lw 1.5 dt 2 lc rgb 'black' "
                  "title 'control: client wake-up delay'")
        script = (head + f"set output '{os.path.join(self.data_dir, 'p99.png')}'\n"
                  f"set title 'sockit soak: p99 of every well-behaved request in each {span_text(width)}'\n"
                  "set ylabel 'p99 latency (ms)'\nset logscale y\nset key outside right top vertical\n"
                  f"plot {lines}\n")
        pictures.append(self.gnuplot("p99.png", script))
        if self.downloads:
            script = (head + f"set output '{os.path.join(self.data_dir, 'downloads.png')}'\n"
                      "set title 'sockit soak: Cascade leechers, seconds per 8 MiB download (at its end)'\n"
                      "set ylabel 'seconds'\nset logscale y\nset key outside right top vertical\n"
                      f"plot '{dl}' using 1:($3 == 1 ? $2 : 1/0) with points pt 7 ps 0.4 title 'complete', "
                      f"'{dl}' using 1:($3 == 0 ? $2 : 1/0) with points pt 2 ps 1 title 'failed'\n")
            pictures.append(self.gnuplot("downloads.png", script))
        return [p for p in pictures if p]

    def gnuplot(self, png, script):
        result = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            self.notes.append(f"gnuplot failed for {png}: {result.stderr.strip()[:300]}")
            return None
        return png

    def report(self, summary, pictures):
        a = self.args
        lines = [
            "# The soak",
            "",
            "Every event model of `sockit serve` and a Cascade swarm, under well-behaved and hostile",
            "clients at once for a fixed time (issue 12, item 7). Made by `bench/soak.sh` (which builds the",
            "release preset and runs `bench/soak.py`); the numbers below and the plots are this run's.",
            "",
            f"- Command: `{a.command}`" + (f" (niceness {os.nice(0)})" if os.nice(0) else ""),
            f"- Date: {self.started_at:%Y-%m-%d %H:%M %Z}",
            f"- Machine: {os.cpu_count()} cores, Linux {platform.release()}, {platform.machine()}; load average "
            f"{self.load_before[0]:.1f} at the start and {self.load_after[0]:.1f} at the end (the cores are "
            "shared with other work: latency reflects that)",
            f"- Duration: {self.duration / 60:g} minutes, sampled every {self.interval:g} s",
            f"- Binary: `build/release/src/cli/sockit` (release preset)",
            f"- Hostile clients run: {', '.join(self.attacks) or 'none'}",
            "",
            "## What runs",
            "",
            "Each target is its own process on 127.0.0.1, port 0:",
            "",
            f"- `sockit serve echo:0 fib:0 upper:0 --model M {' '.join(SERVE_FLAGS)}` for every event model "
            f"listed by `sockit serve --list-models`: {', '.join(self.models)}.",
            "- `sockit cascade tracker --listen 127.0.0.1:0 --allow-any`, and a seeding peer of an 8 MiB file "
            f"(`sockit cascade create FILE --block-size {BLOCK_SIZE}`, 32 blocks; `sockit cascade peer FILE.cascade "
            "--tracker ... --listen 127.0.0.1:0 -o FILE`).",
            f"- {LEECHER_SLOTS} leechers at a time, each downloading the file again and again (`sockit cascade "
            f"peer FILE.cascade --tracker ... --listen 127.0.0.1:PORT -o out-N --no-seed`, {LEECHER_PAUSE_S:g} s "
            "apart, output deleted after each). Each slot keeps one listening port, so the tracker refreshes "
            "one entry per slot instead of collecting a dead one per download.",
            "",
            "Well-behaved clients (their own process), each timed from the first byte sent to the last "
            "byte of the answer, never catching up in bursts after a slow answer:",
            "",
            f"- per serve target, one persistent client per service, one request every {GOOD_PERIOD_S * 1000:g} ms: "
            f"echo 64 random bytes, fib n for n in 25..35, upper a 60-byte line; each answer checked, a new "
            f"connection every {RECONNECT_EVERY} requests;",
            f"- tracker: a list request every {TRACKER_PERIOD_S * 1000:g} ms (one connection each, the answer "
            "must list the seeder);",
            f"- seeder: one 256 KiB block every {SEEDER_PERIOD_S * 1000:g} ms on a persistent connection, "
            "checked against its SHA-256.",
            "",
            "Hostile clients (another process), continuously, per target (serve / tracker / seeder):",
            "",
            f"- slowloris: {SLOWLORIS['serve']} / {SLOWLORIS['tracker']} / {SLOWLORIS['seeder']} connections each "
            "sending one byte a second of a request that never ends, replaced when the server closes one "
            f"(echo has no request to time out: the client ends those after {SLOWLORIS_LIFETIME_S:g} s);",
            f"- flood: {FLOODERS['serve']} / - / {FLOODERS['seeder']} clients sending as fast as the server takes "
            "it (echo bytes, fib lines, upper lines, block requests) and never reading, 4 KiB receive buffer, "
            "each ended after 10-20 s (half with RST) and replaced;",
            f"- churn: {CHURN_PER_S['serve']} / {CHURN_PER_S['tracker']} / {CHURN_PER_S['seeder']} connections a "
            "second opened and closed at once (in turn: FIN, RST, one byte then FIN);",
            f"- random bytes: {RANDOM_PER_S['serve']} / {RANDOM_PER_S['tracker']} / {RANDOM_PER_S['seeder']} a "
            "second: NULs, a 20 kB line (printable, no newline: past --max-line), or 1-4095 random bytes; whatever comes back is read for 0.3 s;",
            f"- RST mid-answer: {RST_PER_S['serve']} / {RST_PER_S['tracker']} / {RST_PER_S['seeder']} a second: "
            "ask for a big answer (256 KiB echoed, 32 x fib(5000), 128 upper lines of 1 kB, a 256 KiB block, "
            "a tracker list), read 1 KiB, close with SO_LINGER 0.",
            "",
            "## How flat is judged",
            "",
            f"- **Warm-up**: the first {mins(self.warmup)} minutes are left out (connections, buffers and "
            "allocator arenas reach their working size).",
            f"- **Early window**: minutes {mins(self.early[0])}-{mins(self.early[1])}; **late window**: "
            f"minutes {mins(self.late[0])}-{mins(self.late[1])}. Each figure is the mean of the samples in "
            "the window; p99 is that of every well-behaved request completed in the window (the CSV has it per "
            "interval too).",
            f"- **Flat**: RSS late within max({RSS_FLAT_MIB:g} MiB, {RSS_FLAT_PCT:g} %) of early, and fds within "
            f"max({FDS_FLAT_COUNT:g}, {FDS_FLAT_PCT:g} %). p99 is flagged when late > max({P99_FACTOR:g} x early, "
            f"early + {P99_SLACK_MS:g} ms). The slope is a least-squares fit of RSS over everything after "
            "the warm-up.",
            "",
            "## Drift",
            "",
            "| target | idle RSS MiB | RSS early → late MiB | RSS drift | RSS slope MiB/h | fds early → late | "
            "fds drift | p99 early → late ms | requests (errors) | CPU s | verdict |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for s in summary:
            (ra, rb), (fa, fb), (pa, pb) = s["rss_kib"], s["fds"], s["p99_ms"]
            verdict = "flat" if s["flat"] else "**NOT flat**"
            if "p99" in s["flags"]:
                verdict += " (p99 up)"
            lines.append(
                f"| {s['target']} | {fmt(s['rss_idle'], 2)} | {fmt(ra, 2)} → {fmt(rb, 2)} | "
                f"{signed(diff(ra, rb), 2)} MiB ({signed(pct(ra, rb), 1)} %) | {signed(s['rss_slope'], 2)} | "
                f"{fmt(fa, 1)} → {fmt(fb, 1)} | {signed(diff(fa, fb), 1)} ({signed(pct(fa, fb), 1)} %) | "
                f"{fmt(pa, 2)} → {fmt(pb, 2)} | {s['requests']:,} ({s['errors']}) | {fmt(s['cpu_s'], 0)} | {verdict} |")
        ctl_early, ctl_late = self.window_p99(CONTROL, self.early), self.window_p99(CONTROL, self.late)
        ok = [d for d in self.downloads if d["ok"]]
        failed = [d for d in self.downloads if not d["ok"]]
        early = [d["seconds"] for d in ok if self.early[0] < d["start_min"] * 60 <= self.early[1]]
        late = [d["seconds"] for d in ok if self.late[0] < d["start_min"] * 60 <= self.late[1]]
        lines += [
            "",
            "The requests of the tracker are list requests, of the seeder 256 KiB blocks (well-behaved clients "
            "only); hostile connections are counted below. CPU s: the server's user+system time over the run.",
            "",
            f"Control: the well-behaved process's own wake-up delay (a 10 ms sleep, how late it returns), p99: "
            f"{fmt(ctl_early, 2)} ms early, {fmt(ctl_late, 2)} ms late. When a "
            "server's p99 moves with it, the time went to the machine (other work on the two cores), not the "
            "server.",
            "",
            f"The soak itself (servers, clients, leechers) used {self.cpu_children:,.0f} CPU-seconds, "
            f"{self.cpu_children / self.duration:.2f} cores on average.",
            "",
            "## The swarm's downloads",
            "",
            f"- {len(ok)} complete 8 MiB downloads, {len(failed)} failed.",
            f"- Seconds per download (process start to exit): mean {fmt(mean(early), 3)} early, "
            f"{fmt(mean(late), 3)} late; p99 {fmt(percentile(early, 99) if early else None, 3)} early, "
            f"{fmt(percentile(late, 99) if late else None, 3)} late; slowest of the run "
            f"{fmt(max((d['seconds'] for d in ok), default=None), 3)}.",
            "",
            "## Hostile connections",
            "",
            "Connections opened; closed by the server (for slowloris: mean seconds it held one); ended by the "
            "client; connects that failed.",
            "",
            "| target | " + " | ".join(ATTACKS) + " |",
            "|---|" + "---|" * len(ATTACKS),
        ]
        for name, attacks in self.hostile.items():
            cells = []
            for attack in ATTACKS:
                t = attacks.get(attack)
                if not t:
                    cells.append("-")
                    continue
                held = (f", {t['server_closed_lifetime_s'] / t['server_closed']:.1f} s"
                        if attack == "slowloris" and t["server_closed"] else "")
                cells.append(f"{t['connections']:,} opened, {t['server_closed']:,} closed by server{held}, "
                             f"{t['client_closed']:,} by client, {t['connect_failed']} failed")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += ["", "## Plots", ""]
        captions = {"rss.png": "RSS per server", "fds.png": "Open descriptors per server",
                    "p99.png": "p99 latency of the well-behaved requests",
                    "downloads.png": "Seconds per download"}
        for p in pictures:
            lines += [f"![{captions[p]}](soak/{p})", ""]
        lines += ["Data: `soak/samples.csv` (every sample), `soak/summary.csv` (the table above), "
                  "`soak/downloads.csv`, `soak/hostile.csv`.", ""]
        not_flat = [s["target"] for s in summary if not s["flat"]]
        lines += ["## Verdict", ""]
        drift_text = "; ".join(f"{s['target']} RSS {signed(diff(*s['rss_kib']), 2)} MiB, fds "
                               f"{signed(diff(*s['fds']), 1)}" for s in summary)
        if self.duration < SHORT_RUN_S:
            lines += [f"A smoke run (under {SHORT_RUN_S / 60:g} minutes): its windows are too short to average out "
                      "the RSS swings of the flooders' cycle (several MiB every ~6 s), so this verdict is "
                      "indicative only.", ""]
        if not not_flat and not self.deaths:
            lines.append(f"**Flat.** Late window against early window: {drift_text}.")
        else:
            lines.append(f"**Not flat** for {', '.join(not_flat) or 'none'}"
                         + (f"; servers gone: {self.deaths}" if self.deaths else "") + f". Drift: {drift_text}.")
        p99_up = [s["target"] for s in summary if "p99" in s["flags"]]
        if p99_up:
            lines.append("")
            lines.append(f"p99 flagged for {', '.join(p99_up)} (see the table; the machine was shared).")
        errors = {n: m for n, m in self.error_messages.items() if m}
        extra = list(self.notes)
        if errors:
            extra.append("Well-behaved request errors: " + "; ".join(
                f"{n}: " + ", ".join(f"{k} x{v}" for k, v in sorted(m.items(), key=lambda kv: -kv[1])[:4])
                for n, m in errors.items()))
        extra.append("Exit status after SIGTERM at the end: " + ", ".join(
            f"{n} {s}" for n, s in self.exit_status.items()) + ".")
        lines += ["", "## Notes", ""] + [f"- {n}" for n in extra] + [""]
        with open(os.path.join(self.out, "soak.md"), "w") as f:
            f.write("\n".join(lines))

    def finish(self):
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)   # every child is reaped by now
        self.cpu_children = usage.ru_utime + usage.ru_stime
        self.merge_latency()
        try:
            with open(self.hostile_out) as f:
                self.hostile = json.load(f)
        except (OSError, ValueError):
            self.hostile = {}
            self.notes.append("the hostile worker left no tally")
        summary = self.summarise()
        self.write_csv(summary)
        pictures = self.plot()
        self.report(summary, pictures)
        for s in summary:
            (ra, rb), (fa, fb), (pa, pb) = s["rss_kib"], s["fds"], s["p99_ms"]
            log(f"{s['target']:8} RSS {fmt(ra, 2)} -> {fmt(rb, 2)} MiB ({signed(diff(ra, rb), 2)}), fds {fmt(fa, 1)} -> "
                f"{fmt(fb, 1)}, p99 {fmt(pa, 2)} -> {fmt(pb, 2)} ms, {s['requests']} requests, {s['errors']} errors: "
                + ("flat" if s["flat"] else "NOT flat"))
        log(f"wrote {os.path.join(self.out, 'soak.md')} and {self.data_dir}/")
        if self.deaths:
            return 1
        return 0 if all(s["flat"] for s in summary) or self.duration < SHORT_RUN_S else 1




def mins(seconds):
    return f"{seconds / 60:.2f}".rstrip("0").rstrip(".")


def span_text(seconds):
    return f"{seconds:g} s" if seconds < 60 else f"{mins(seconds)} min"


def fmt_nan(v):
    return "NaN" if v is None else f"{v:.4f}"


def fmt(v, digits):
    return "n/a" if v is None else f"{v:,.{digits}f}"


def signed(v, digits):
    if v is None:
        return "n/a"
    v = round(v, digits)
    return f"{v + 0.0:+,.{digits}f}"  # + 0.0: a drift that rounds to zero shows as +0.0, not -0.0


def diff(a, b):
    return None if a is None or b is None else b - a


def pct(a, b):
    return None if a is None or b is None or a == 0 else (b - a) / a * 100


def conductor(args):
    if not 0 < args.minutes <= 24 * 60:
        sys.exit("soak: MINUTES must be more than 0 and at most 1440")
    soak = Soak(args)

    def on_term(signum, frame):
        raise KeyboardInterrupt

    # Ctrl-C, kill and a closed terminal all end the run the same way, even when the shell that
    # started it in the background left SIGINT ignored.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_term)
    status = 1
    completed = False
    try:
        soak.run()
        completed = True
    except KeyboardInterrupt:
        log("interrupted: stopping everything; nothing is written to docs/")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)   # a second Ctrl-C must not cut the clean-up short
        soak.stop_all()
        try:
            if completed:
                status = soak.finish()
        finally:
            if args.keep:
                log(f"kept {soak.work}")
            else:
                shutil.rmtree(soak.work, ignore_errors=True)
    return status


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--role", choices=["conductor", "good", "hostile"], default="conductor")
    p.add_argument("--spec", help="workers: their JSON spec")
    p.add_argument("--sockit", default="build/release/src/cli/sockit")
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--interval", type=float, default=0, help="seconds between samples (default 5; 2 under 5 min)")
    p.add_argument("--out", default="docs")
    p.add_argument("--command", default="bench/soak.sh", help="the command line to show in the report")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs) for a post-mortem")
    p.add_argument("--attacks", default=",".join(ATTACKS),
                   help="comma-separated hostile clients to run (default all; '' for none): to find which one leaks")
    args = p.parse_args()
    if args.role != "conductor":
        with open(args.spec) as f:
            spec = json.load(f)
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        (run_good if args.role == "good" else run_hostile)(spec)
        return 0
    return conductor(args)


if __name__ == "__main__":
    sys.exit(main())
