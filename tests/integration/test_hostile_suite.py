"""The hostile-client suite (issue 12, item 5), against the real binary: every model x (echo, fib,
upper, http), the tracker and a seeding peer, each attacked in turn by

  slowloris        200 connections sending one byte a second
  stop reading     clients that ask for a lot and stop reading mid-answer
  vanish           connect, send part of a request, and disappear without FIN (TCP_REPAIR: the
                   client's kernel forgets the socket silently; whatever the server sends later
                   is answered with RST, as by a host that rebooted)
  reset            RST in the middle of an answer (SO_LINGER 0)
  churn            2,000 connections opened and closed as fast as possible
  garbage          random bytes with NULs
  oversize         a 1 MiB line
  max-conns        --max-conns idle connections, then one more

After each: the server is alive, a fresh client of every service is served within 1 s, and the
process's descriptors come back to the baseline (or below) and its memory to within MEMORY_MARGIN
of it (within SETTLE seconds). Each attack prints one line of figures to stderr."""

import os
import random
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
import unittest

from cascade_support import create, make_data, peer, tracker
from harness import (ProcessTree, children, connect, list_models, open_fds, read_line, recv_exactly, sanitized, serve,
                     wait_until)
from hostile_support import MiB, server_env

MODELS = list_models()
SERVICES = ("echo", "fib", "upper", "http")
# http serves a directory with one 1 MiB file: clients that ask for it and stop reading meet the
# output budget with file ranges, not bytes.
HTTP_GET_BIG = b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n"
REQUEST_TIMEOUT = 1
IDLE_TIMEOUT = 4
MAX_CONNS = 64
POOL_WORKERS = 8
SLOWLORIS = 200
CHURN = 2000
# The fork model forks once per connection, and forking an ASan process (its shadow memory and
# heap are 130 MiB) takes 16 ms here against well under 1 ms in a release build: 2,000 churned
# connections are 33 s of forking under ASan. There it gets 200; .ci/run runs this file against
# a release build, where fork gets the 2,000 like every model.
ASAN = sanitized()


def churn_for(model):
    return 200 if ASAN and model == "fork" else CHURN
SETTLE = 10
# Memory may stay above the baseline by what the allocator keeps for reuse once the attack's
# connections are gone: per-thread caches (the thread model's 64 connections had 64 threads),
# and ASan's allocator never gives memory back to the system. Measured after max-conns, the
# worst: thread 9.4 MiB under ASan. Heap leaks are LeakSanitizer's to find: every server must
# exit 0 after its attacks, and under ASan a leak makes the exit status non-zero.
MEMORY_MARGIN_KIB = (16 if ASAN else 8) * 1024
TCP_REPAIR = 19  # linux/tcp.h


def vanish(sock):
    """Closes `sock` without FIN or RST: the server is left with a peer that is gone."""
    sock.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
    sock.close()


def reset(sock):
    """Closes `sock` with RST."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def accept_backlog(port):
    """Connections waiting in the accept queue of the listener on `port` (/proc/net/tcp*: a
    listening socket's rx_queue)."""
    waiting = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in list(f)[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    waiting += int(fields[4].split(":")[1], 16)
    return waiting


def steady_fds(pid):
    """The process's descriptor count once the connections just closed are gone from it too:
    two readings 0.2 s apart that agree."""
    last = open_fds(pid)
    for _ in range(25):
        time.sleep(0.2)
        now = open_fds(pid)
        if now == last:
            return now
        last = now
    return last


def drain(sock, seconds):
    """Reads whatever comes for `seconds` (or until EOF/reset); returns it."""
    got = b""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        got += chunk
    return got


class Attacks:
    """The attacks, each against a list of (service, address) and bounded in time. `ask` maps a
    service to (request, the start of the answer, the bytes of a request cut in half)."""

    ask = {
        "echo": (b"ping\n", b"ping\n", b"pi"),
        "fib": (b"10\n", b"55\n", b"1"),
        "upper": (b"abc\n", b"ABC\n", b"ab"),
        # HEAD, so that the fresh client's request opens the file the attacks ask for, and its
        # descriptor (in the open-file cache) is part of the baseline.
        "http": (b"HEAD /big HTTP/1.1\r\nHost: a\r\n\r\n", b"HTTP/1.1 200 OK\r\n", b"GET /bi"),
    }
    # What a client that asks for much sends: fib(300) is 63 digits, 16,000 of them fill the 1 MiB
    # budget at a few ms of CPU (fib(5000) would take seconds under ASan, all of it on the event
    # loop); http asks for its 1 MiB file many times over.
    flood = {"fib": b"300\n" * 16000, "http": HTTP_GET_BIG * 20000}

    def __init__(self, targets, churn=CHURN, ask=None):
        self.targets = targets  # [(service, (host, port))]
        self.churn_count = churn
        self.ask = {**Attacks.ask, **(ask or {})}  # the Cascade servers add their own requests

    def slowloris(self):
        socks = []
        for i in range(SLOWLORIS):
            service, address = self.targets[i % len(self.targets)]
            try:
                socks.append(connect(*address, timeout=2))
            except OSError:
                break  # a blocking model's backlog is full: enough
        for second in range(3):
            for s in socks:
                try:
                    s.send(b"1")
                except OSError:
                    pass
            time.sleep(1)
        for s in socks:
            s.close()
        return f"{len(socks)} connections"

    def stop_reading(self):
        socks = []
        for service, address in self.targets:
            s = connect(*address, timeout=2)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            payload = self.flood.get(service, b"x" * (2 * MiB))
            s.setblocking(False)
            try:
                s.send(payload)  # as much as fits; never read
            except BlockingIOError:
                pass
            socks.append(s)
        time.sleep(IDLE_TIMEOUT + 1.5)  # the server drops them after --idle-timeout
        for s in socks:
            s.close()
        return "one per service"

    def vanish(self):
        for service, address in self.targets:
            for part in (b"", self.ask[service][2], self.ask[service][0]):
                s = connect(*address, timeout=2)
                if part:
                    s.sendall(part)
                    time.sleep(0.05)
                vanish(s)
        return "silent, half a request and a whole one, per service"

    def reset(self):
        for service, address in self.targets:
            s = connect(*address, timeout=2)
            s.setblocking(False)
            try:  # as much as the socket takes: the tracker and a peer close on a bad request
                s.send(self.flood.get(service, b"y" * MiB))
            except (BlockingIOError, ConnectionResetError, BrokenPipeError):
                pass
            drain(s, 0.2)
            reset(s)
        return "one per service"

    def churn(self):
        for i in range(self.churn_count):
            _, address = self.targets[i % len(self.targets)]
            with socket.create_connection(address, timeout=5):
                pass
        return f"{self.churn_count} connections"

    def garbage(self):
        rng = random.Random(12)
        for service, address in self.targets:
            data = bytes(rng.choice((0, rng.randrange(256))) for _ in range(64 * 1024))
            with connect(*address, timeout=2) as s:
                s.setblocking(False)
                try:
                    s.send(data)
                except BlockingIOError:
                    pass
                drain(s, 0.3)
        return "64 KiB per service"

    def oversize(self):
        for service, address in self.targets:
            with connect(*address, timeout=2) as s:
                s.setblocking(False)
                sent = 0
                line = b"9" * MiB
                deadline = time.monotonic() + 2
                answer = b""
                while sent < len(line) and time.monotonic() < deadline:
                    try:
                        sent += s.send(line[sent:])
                    except BlockingIOError:
                        time.sleep(0.01)
                    except (BrokenPipeError, ConnectionResetError):
                        break
                    answer += drain(s, 0.01)
                if service == "fib" and answer:
                    assert answer.startswith(b"ERR line too long"), answer[:60]
        return "1 MiB per service"


class Target:
    """A running server and its baseline."""

    def __init__(self, test, server, services):
        self.test = test
        self.server = server
        self.services = services  # {service: address}
        self.tree = ProcessTree(server.pid)

    def fresh(self):
        """Every service answers a new client within 1 s."""
        for service, address in self.services.items():
            request, answer, _ = Attacks.ask[service]
            start = time.monotonic()
            with connect(*address, timeout=1) as s:
                s.settimeout(1)
                s.sendall(request)
                got = read_line(s)
            took = time.monotonic() - start
            self.test.assertEqual(got, answer, f"{service}: a fresh client got {got!r}")
            self.test.assertLess(took, 1.0, f"{service}: a fresh client waited {took:.2f} s")

    def footprint(self):
        return open_fds(self.server.pid), self.tree.memory_kib()

    def settled(self):
        """Every connection of the attack accepted and gone: nobody in the accept queues, no
        forked child left, and the descriptor count steady."""
        ports = [port for _, port in self.services.values()]
        wait_until(lambda: not any(accept_backlog(port) for port in ports) and not children(self.server.pid),
                   timeout=60)
        return steady_fds(self.server.pid)

    def baseline(self):
        self.settled()
        self.fresh()
        self.base = self.settled(), self.tree.memory_kib()

    def check_settled(self, label, detail):
        self.test.assertIsNone(self.server.proc.poll(), f"{label}: the server died:\n{self.server.output()[-3000:]}")
        self.settled()
        fds_ok = wait_until(lambda: open_fds(self.server.pid) <= self.base[0], timeout=SETTLE)
        memory_ok = wait_until(lambda: self.tree.memory_kib() <= self.base[1] + MEMORY_MARGIN_KIB, timeout=SETTLE)
        fds, kib = self.footprint()
        print(f"[suite] {label}: {detail}; fds {self.base[0]} -> {fds}, memory {self.base[1] / 1024:.1f} -> "
              f"{kib / 1024:.1f} MiB", file=sys.stderr)
        self.test.assertTrue(fds_ok, f"{label}: {fds} descriptors open, {self.base[0]} before")
        self.test.assertTrue(memory_ok, f"{label}: {kib} KiB, {self.base[1]} before (margin {MEMORY_MARGIN_KIB})")
        self.fresh()


def model_flags(model):
    if model == "pool":
        return ["--threads", str(POOL_WORKERS)]
    return []


class EveryModel(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.TemporaryDirectory()
        self.addCleanup(self.root.cleanup)
        with open(os.path.join(self.root.name, "big"), "wb") as f:
            f.write(os.urandom(MiB))

    def test_every_attack_against_every_model(self):
        for model in MODELS:
            with self.subTest(model=model):
                server, where = serve(list(SERVICES), "--model", model, "--request-timeout", str(REQUEST_TIMEOUT),
                                      "--idle-timeout", str(IDLE_TIMEOUT), "--max-conns", str(MAX_CONNS),
                                      "--grace", "1", "--root", self.root.name, *model_flags(model),
                                      env=server_env())
                with server:
                    target = Target(self, server, {s: where[(s, "tcp")] for s in SERVICES})
                    attacks = Attacks(list(target.services.items()), churn_for(model))
                    attacks.churn()  # warms up: the baseline is the footprint of a server that has worked
                    target.baseline()
                    for name in ("slowloris", "stop_reading", "vanish", "reset", "churn", "garbage", "oversize"):
                        detail = getattr(attacks, name)()
                        target.check_settled(f"{model} {name}", detail)
                    self.check_max_conns(model, target)
                    self.check_log(server)
                self.assertEqual(server.proc.returncode, 0, f"{model}: exit status after the attacks")

    def check_max_conns(self, model, target):
        # --max-conns idle clients (iterative serves one and pool its workers: the rest wait in
        # the backlog), then one more: refused at once where the model counts connections.
        held = MAX_CONNS if model not in ("iterative", "pool") else 1 if model == "iterative" else POOL_WORKERS
        address = target.services["echo"]
        idle = []
        try:
            for _ in range(held):
                s = connect(*address, timeout=2)
                idle.append(s)
                s.sendall(b"hi\n")
                self.assertEqual(read_line(s), b"hi\n")
            if model not in ("iterative", "pool"):
                with connect(*address, timeout=2) as extra:
                    extra.settimeout(2)
                    self.assertEqual(drain(extra, 2), b"")  # closed at once
                target.server.wait_for(rf"refused \S+: {MAX_CONNS} connections already \(--max-conns\)")
        finally:
            for s in idle:
                s.close()
        target.check_settled(f"{model} max-conns", f"{held} idle connections, then one more")

    def check_log(self, server):
        server.wait_for(r"closed \S+ after \d+ requests? \(request not complete within 1 s\)")  # slowloris on fib
        server.wait_for(rf"closed \S+ after \d+ requests? \((client stopped reading|idle) for {IDLE_TIMEOUT} s\)")


class StuckAtStop(unittest.TestCase):
    """SIGTERM ends every model within --grace while a client that stopped reading holds it."""

    def test_sigterm_while_a_client_does_not_read(self):
        for model in MODELS:
            with self.subTest(model=model):
                server, where = serve(["echo"], "--model", model, "--grace", "1", "--idle-timeout", "60")
                with server, connect(*where[("echo", "tcp")], timeout=2) as s:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                    s.setblocking(False)
                    sent = 0
                    for _ in range(200):
                        try:
                            sent += s.send(b"z" * 65536)
                        except BlockingIOError:
                            time.sleep(0.01)
                    self.assertGreater(sent, 0)
                    start = time.monotonic()
                    server.proc.send_signal(signal.SIGTERM)
                    server.proc.wait(timeout=10)
                    took = time.monotonic() - start
                    self.assertLess(took, 1 + 1.5, f"{model}: SIGTERM took {took:.1f} s with --grace 1")
                    self.assertEqual(server.proc.returncode, 0)


class CascadeServers(unittest.TestCase):
    def attack_and_check(self, label, server, attacks, fresh):
        tree = ProcessTree(server.pid)
        fresh()
        base = (steady_fds(server.pid), tree.memory_kib())
        for name, attack in attacks:
            detail = attack()
            self.assertIsNone(server.proc.poll(), f"{label} {name}: the server died")
            fds_ok = wait_until(lambda: open_fds(server.pid) <= base[0], timeout=SETTLE)
            memory_ok = wait_until(lambda: tree.memory_kib() <= base[1] + MEMORY_MARGIN_KIB, timeout=SETTLE)
            fds, kib = open_fds(server.pid), tree.memory_kib()
            print(f"[suite] {label} {name}: {detail}; fds {base[0]} -> {fds}, memory {base[1] / 1024:.1f} -> "
                  f"{kib / 1024:.1f} MiB", file=sys.stderr)
            self.assertTrue(fds_ok, f"{label} {name}: {fds} descriptors, {base[0]} before")
            self.assertTrue(memory_ok, f"{label} {name}: {kib} KiB, {base[1]} before")
            start = time.monotonic()
            fresh()
            self.assertLess(time.monotonic() - start, 1.0)

    def test_tracker(self):
        with tracker("--request-timeout", str(REQUEST_TIMEOUT), "--idle-timeout", str(IDLE_TIMEOUT),
                     "--max-conns", str(MAX_CONNS), env=server_env()) as t:
            address = t.address()
            request = (b"CASC" + struct.pack("!III", 1, 2, 38) + bytes(range(32)) + socket.inet_aton("127.0.0.1") +
                       struct.pack("!H", 7000))

            def fresh():
                with connect(*address, timeout=1) as s:
                    s.settimeout(1)
                    s.sendall(request)
                    self.assertEqual(recv_exactly(s, 5)[0], 0)

            attacks = Attacks([("tracker", address)], ask={"tracker": (request, b"", request[:20])})

            def max_conns():
                idle = [connect(*address, timeout=2) for _ in range(MAX_CONNS)]
                time.sleep(0.3)
                with connect(*address, timeout=2) as extra:
                    self.assertEqual(drain(extra, 2), b"")
                for s in idle:
                    s.close()
                t.wait_for(rf"refused \S+: {MAX_CONNS} connections already")
                return f"{MAX_CONNS} idle, then one more"

            self.attack_and_check("tracker", t, [("slowloris", attacks.slowloris), ("vanish", attacks.vanish),
                                                 ("reset", attacks.reset), ("churn", attacks.churn),
                                                 ("garbage", attacks.garbage), ("max-conns", max_conns)], fresh)
            t.wait_for(r"closed \S+ after 1 request \(request not complete within 1 s\)")
        self.assertEqual(t.proc.returncode, 0, "tracker: exit status after the attacks")

    def test_seeding_peer(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data.bin")
            make_data(data, 4 * MiB)
            cascade_hash = bytes.fromhex(create(data, 256 * 1024)["cascade_hash"])
            with tracker() as t, peer(data + ".cascade", t.address(), data, env=server_env()) as seeder:
                address = seeder.address()

                def block_request(index):
                    return b"CASCADE1" + bytes(16) + struct.pack("!Q", index) + cascade_hash

                def fresh():
                    with connect(*address, timeout=1) as s:
                        s.settimeout(1)
                        s.sendall(block_request(0))
                        head = recv_exactly(s, 9)
                        self.assertEqual(head[0], 0, head)
                        self.assertEqual(len(recv_exactly(s, struct.unpack("!Q", head[1:])[0])), 256 * 1024)

                attacks = Attacks([("peer", address)], ask={"peer": (block_request(1), b"", block_request(1)[:30])})

                def stop_reading():
                    socks = []
                    for _ in range(8):
                        s = connect(*address, timeout=2)
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                        s.sendall(b"".join(block_request(i % 16) for i in range(64)))
                        socks.append(s)
                    time.sleep(1)
                    for s in socks:
                        reset(s)
                    return "8 clients, 64 block requests each, never read"

                self.attack_and_check("seeding peer", seeder,
                                      [("slowloris", attacks.slowloris), ("churn", attacks.churn),
                                       ("garbage", attacks.garbage),
                                       ("reset", attacks.reset), ("stop reading", stop_reading),
                                       ("vanish-after-request", self.vanish_after_request(address, block_request))],
                                      fresh)
            self.assertEqual(seeder.proc.returncode, 0, "seeding peer: exit status after the attacks")

    @staticmethod
    def vanish_after_request(address, block_request):
        def attack():
            # Whole requests, then gone: the peer's answer meets RST and the connection ends.
            for i in range(8):
                s = connect(*address, timeout=2)
                s.sendall(block_request(i))
                vanish(s)
            return "8 clients"
        return attack


if __name__ == "__main__":
    unittest.main()
