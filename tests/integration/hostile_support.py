"""Hostile clients and what they cost a server: a flood of clients that never read, a client that
pipelines and reads slowly, and the server's footprint under them (memory per connection, CPU once
the clients' sockets are full). Used by test_hostile.py and test_hostile_suite.py."""

import collections
import fcntl
import os
import socket
import struct
import sys
import termios
import time
from dataclasses import dataclass, field

from harness import ProcessTree

MiB = 1 << 20


def server_env():
    """The environment of a server whose memory is measured. ASan keeps freed memory in a
    quarantine (256 MiB by default) to catch use after free: memory that grows with traffic up to
    that size, not with connections, and that no release build has (echo under epoll with 64
    never-reading clients measured 3.5 MiB per connection with it, 1.3 without). Every other
    ASan check stays on, and the other test files keep the quarantine."""
    options = [o for o in [os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=0"] if o]
    return {**os.environ, "ASAN_OPTIONS": ":".join(options)}


def unread_bytes(sock):
    """Bytes that arrived on `sock` and nobody has read (FIONREAD); 0 once the socket is dead."""
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
    except OSError:
        return 0


def _proc_net_address(address):
    """An IPv4 (host, port) as /proc/net/tcp prints it: the address as a native-order hex u32."""
    host, port = address
    return "%08X:%04X" % (struct.unpack("=I", socket.inet_aton(host))[0], port)


def peer_unread(sock):
    """Bytes that reached the other end of `sock`, an IPv4 connection on this host, and that its
    owner has not read yet (the Recv-Q of that socket in /proc/net/tcp); 0 once it is gone."""
    try:
        theirs, ours = _proc_net_address(sock.getpeername()), _proc_net_address(sock.getsockname())
        with open("/proc/net/tcp") as f:
            for line in f:
                fields = line.split()
                if fields[1] == theirs and fields[2] == ours:
                    return int(fields[4].split(":")[1], 16)
    except OSError:
        pass
    return 0


def shaped_connection(address, receive_buffer=None, mss=None, timeout=10):
    """A non-blocking TCP connection to `address`, its receive buffer and maximum segment size set
    before it connects when given (see Flood)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if receive_buffer:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        if mss:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
        s.settimeout(timeout)
        s.connect(address)
        s.setblocking(False)
    except BaseException:
        s.close()
        raise
    return s


class Flood:
    """`count` clients of `address`, each sending `payload` as fast as the server takes it and never
    reading. Sockets are non-blocking: pump() sends what they take right now and never waits.
    A client whose connection the server ends (an idle timeout, a reset) stops sending; its error
    is kept in `ended`. close() closes every socket; use as a context manager.

    `receive_buffer` and `mss` shape the clients' sockets before they connect: a small receive
    window and segment size keep the kernel from holding megabytes of unread answers per client
    (4 MiB of send buffer on the server's side by default), so the server reaches its own budget
    after a few hundred answers instead of a few thousand. A small segment size also splits what
    the clients send (ten segments per round trip at first), and a server reading while they
    arrive takes the payload in small reads (measured: 5.6 KB), which hides a server that answers
    a whole read at once. With `prime`, each client in turn first sends that many bytes and waits
    (up to `prime_wait` seconds) until the server has read them (peer_unread), then sends the
    rest at once: the rest arrives in well under a millisecond while the server is busy
    answering the primer, and waits whole in its socket for the next read. A server that does not
    read the primer in time is not reading that connection yet (iterative and pool take turns),
    and the rest waits whole for its turn just the same.
    """

    def __init__(self, address, count, payload, receive_buffer=None, mss=None, prime=0, prime_wait=0.1):
        self.payload = memoryview(payload)
        self.socks = []
        self.sent = [0] * count
        self.ended = [None] * count
        try:
            for _ in range(count):
                self.socks.append(shaped_connection(address, receive_buffer, mss))
            for i, s in enumerate(self.socks):
                if prime:
                    self._send(i, prime)
                    deadline = time.monotonic() + prime_wait
                    while peer_unread(s) and time.monotonic() < deadline:
                        time.sleep(0.0005)
                self._send(i, len(self.payload))
        except BaseException:
            self.close()
            raise

    def _send(self, i, end):
        """Client i sends up to byte `end` of the payload, as much as its socket takes now."""
        moved = 0
        while self.ended[i] is None and self.sent[i] < end:
            try:
                n = self.socks[i].send(self.payload[self.sent[i]:min(end, self.sent[i] + MiB)])
            except BlockingIOError:
                break
            except OSError as e:  # the server closed it (idle timeout) or reset it
                self.ended[i] = e
                break
            self.sent[i] += n
            moved += n
        return moved

    def pump(self):
        """One pass over the clients: each sends until its socket is full; returns the bytes sent."""
        return sum(self._send(i, len(self.payload)) for i in range(len(self.socks)))

    def progress(self):
        """Everything that has moved so far: bytes sent plus the server's answers nobody read."""
        return sum(self.sent) + sum(unread_bytes(s) for s in self.socks)

    def close(self):
        for s in self.socks:
            s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass
class Footprint:
    """What a flood cost the server; `problems` lists every bound it broke, with the figures."""
    label: str
    connections: int
    held: int                # connections the server holds at once (1 for iterative)
    baseline_kib: int
    peak_kib: int = 0
    settled: bool = False    # nothing moved, and the server was idle, for the quiet period
    settle_s: float = 0.0
    cpu_percent: list = field(default_factory=list)  # one figure per window measured
    growing_mib_s: float = 0.0  # how fast memory still grew while the CPU was measured
    fresh_s: float = None
    fresh_tried: bool = False
    problems: list = field(default_factory=list)

    @property
    def growth_mib(self):
        return max(0, self.peak_kib - self.baseline_kib) / 1024

    @property
    def per_connection_mib(self):
        return self.growth_mib / self.held

    def summary(self):
        fresh = (f"fresh client served in {self.fresh_s:.1f} s" if self.fresh_s is not None
                 else "fresh client NOT served" if self.fresh_tried else "fresh client not tried")
        state = f"settled after {self.settle_s:.1f} s" if self.settled else f"NOT settled after {self.settle_s:.1f} s"
        cpu = "/".join(f"{c:.0f}" for c in self.cpu_percent)
        return (f"{self.label}: {self.connections} never-reading clients ({self.held} held at once): "
                f"RSS +{self.growth_mib:.1f} MiB = {self.per_connection_mib:.2f} MiB per connection "
                f"(baseline {self.baseline_kib / 1024:.1f} MiB, peak {self.peak_kib / 1024:.1f} MiB, then growing "
                f"{self.growing_mib_s:.1f} MiB/s); {state}; CPU then {cpu}% of a core; {fresh}")


def wait_until_full(flood, tree, footprint, *, quiet, deadline_s, runaway_kib, cpu_limit, cpu_budget_s):
    """Pumps `flood` until the server is done with it: for `quiet` seconds nothing has moved (the
    clients' sends and the server's answers both stopped) and the server used under `cpu_limit`%
    of a core. Both, because a server computing a batch of answers before it sends any looks
    still from outside. Gives up at the deadline; when the server has spent more than
    `cpu_budget_s` of CPU since the flood began (None: no such budget); or when its memory passes
    `runaway_kib`. Records the peak memory and how long it took; returns False if memory ran away."""
    started = time.monotonic()
    cpu_start = tree.cpu_seconds()
    samples = collections.deque()  # (time, server CPU seconds), the last `quiet` seconds of them
    last_moved, last_progress = started, -1
    while True:
        flood.pump()
        now, cpu = time.monotonic(), tree.cpu_seconds()
        footprint.peak_kib = max(footprint.peak_kib, tree.memory_kib())
        progress = flood.progress()
        if progress != last_progress:
            last_progress, last_moved = progress, now
        samples.append((now, cpu))
        while now - samples[0][0] > quiet:
            samples.popleft()
        footprint.settle_s = now - started
        if footprint.peak_kib > runaway_kib:
            footprint.problems.append(f"memory ran away: +{footprint.growth_mib:.0f} MiB within "
                                      f"{footprint.settle_s:.1f} s")
            return False
        if cpu_budget_s is not None and cpu - cpu_start > cpu_budget_s:
            footprint.problems.append(f"the server spent {cpu - cpu_start:.1f} s of CPU on clients that read nothing "
                                      f"(answering all their sockets can take costs at most {cpu_budget_s:.1f} s)")
            return True
        window = now - samples[0][0]
        if now - last_moved >= quiet and window >= 0.8 * quiet and \
                100 * (cpu - samples[0][1]) / window < cpu_limit:
            footprint.settled = True
            return True
        if now - started >= deadline_s:
            footprint.problems.append(f"the server was still busy after {deadline_s:.0f} s")
            return True
        time.sleep(0.05)


def cpu_percent(tree, flood, footprint, seconds, runaway_kib):
    """The server's CPU over `seconds` as a percentage of one core, while the flood keeps pumping;
    also records how fast its memory grew meanwhile. Stops early past `runaway_kib`."""
    start_cpu, start_kib, start = tree.cpu_seconds(), tree.memory_kib(), time.monotonic()
    now_kib = start_kib
    while time.monotonic() - start < seconds and now_kib <= runaway_kib:
        flood.pump()
        now_kib = tree.memory_kib()
        footprint.peak_kib = max(footprint.peak_kib, now_kib)
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    footprint.growing_mib_s = max(footprint.growing_mib_s, (now_kib - start_kib) / 1024 / elapsed)
    return 100 * (tree.cpu_seconds() - start_cpu) / elapsed


def assault(label, server, address, count, payload, fresh, *, held=None, settle_within=60, cpu_budget_s=None,
            quiet=1.0, cpu_window=1.0, cpu_windows=2, mib_per_connection=3, cpu_limit=10, **shape):
    """Floods `server` (a harness.Server) at `address` with `count` never-reading clients sending
    `payload` (`shape`: Flood's receive_buffer and mss), waits until their sockets are full and
    the server is idle (wait_until_full: at most `settle_within` seconds and `cpu_budget_s` of the
    server's CPU), then measures:
    - memory: the peak of the server's memory (ProcessTree) over what it used before the flood,
      per connection it holds at once (`held`, default all);
    - CPU over `cpu_window` seconds; if the server had looked done and is not yet under
      `cpu_limit`% of a core, measured again (up to `cpu_windows` windows): a server may finish
      what it took a moment after its output stopped moving (moving input into its own buffers
      shows nowhere outside);
    - that fresh(), a well-behaved client that raises AssertionError or OSError on failure, is
      served while the flood is still connected.
    A server whose memory runs away (past twice the bound, and at least 64 MiB past it) is killed
    once its CPU is measured, before it takes the machine with it, and the fresh client is not
    tried. Returns a Footprint
    whose `problems` name every bound broken; a summary line goes to stderr either way."""
    tree = ProcessTree(server.pid)
    held = min(count, held or count)
    footprint = Footprint(label, count, held, baseline_kib=tree.memory_kib())
    footprint.peak_kib = footprint.baseline_kib
    bound_kib = mib_per_connection * 1024 * held
    runaway_kib = footprint.baseline_kib + max(2 * bound_kib, bound_kib + 64 * 1024)
    with Flood(address, count, payload, **shape) as flood:
        contained = wait_until_full(flood, tree, footprint, quiet=quiet, deadline_s=settle_within,
                                    runaway_kib=runaway_kib, cpu_limit=cpu_limit, cpu_budget_s=cpu_budget_s)
        for _ in range(cpu_windows):
            footprint.cpu_percent.append(cpu_percent(tree, flood, footprint, cpu_window, runaway_kib + 512 * 1024))
            if footprint.cpu_percent[-1] < cpu_limit or not footprint.settled:
                break
        if footprint.growth_mib * 1024 > bound_kib:
            footprint.problems.append(f"RSS grew {footprint.per_connection_mib:.2f} MiB per connection "
                                      f"(bound {mib_per_connection} MiB)")
        if footprint.growing_mib_s > 1:
            footprint.problems.append(f"memory still growing {footprint.growing_mib_s:.1f} MiB/s with no "
                                      f"client reading")
        if footprint.cpu_percent[-1] >= cpu_limit:
            footprint.problems.append(f"CPU {footprint.cpu_percent[-1]:.0f}% of a core with no client reading "
                                      f"(bound {cpu_limit}%)")
        if not contained:
            server.proc.kill()
            footprint.problems.append("fresh client not tried: the server was killed for its memory")
        else:
            started = time.monotonic()
            footprint.fresh_tried = True
            try:
                fresh()
                footprint.fresh_s = time.monotonic() - started
            except (OSError, AssertionError) as e:
                footprint.problems.append(f"a fresh client was not served within its deadline: {e!r}"[:400])
    print(footprint.summary(), file=sys.stderr, flush=True)
    return footprint


def pipeline_then_read_slowly(server_pid, address, requests, expected_length, *, chunk=4096, nap=0.0005,
                              pause_quiet=0.5, pause_within=30, deadline_s=120, **shape):
    """Sends all of `requests` on one connection (`shape`: see Flood) and reads nothing until the
    server is done with them for now: no answer has arrived for `pause_quiet` seconds and the
    server (pid `server_pid`) used under 10% of a core meanwhile, so its pending output is at its
    budget, or everything is answered (at most `pause_within` seconds). Then reads
    `expected_length` bytes, `chunk` at a time with a `nap` between reads, still sending what is
    left. Returns (the answers, how many bytes had arrived when the pause ended). Fails past
    `deadline_s` in all, or if the server closes early."""
    deadline = time.monotonic() + deadline_s
    view, sent, data = memoryview(requests), 0, bytearray()
    tree = ProcessTree(server_pid)

    def send_some(s):
        nonlocal sent
        try:
            if sent < len(view):
                sent += s.send(view[sent:sent + MiB])
        except BlockingIOError:
            pass

    with shaped_connection(address, **shape) as s:
        started = time.monotonic()
        last, last_moved, cpu_at_move = -1, started, tree.cpu_seconds()
        while time.monotonic() - started < pause_within:
            send_some(s)
            moved, now, cpu = sent + unread_bytes(s), time.monotonic(), tree.cpu_seconds()
            if moved != last:
                last, last_moved, cpu_at_move = moved, now, cpu
            elif sent == len(view) and now - last_moved >= pause_quiet:
                if 100 * (cpu - cpu_at_move) / (now - last_moved) < 10:
                    break
                last_moved, cpu_at_move = now, cpu  # still computing: look again
            time.sleep(0.01)
        arrived = unread_bytes(s)
        while len(data) < expected_length:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(data)} of {expected_length} answer bytes after {deadline_s} s")
            send_some(s)
            try:
                piece = s.recv(chunk)
            except BlockingIOError:
                time.sleep(0.001)
                continue
            if not piece:
                raise AssertionError(f"the server closed after {len(data)} of {expected_length} answer bytes")
            data += piece
            time.sleep(nap)
        return bytes(data), arrived
