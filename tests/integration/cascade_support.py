"""Helpers for the Cascade integration tests: files, a swarm of sockit peers, and a test-only
Python peer (slow or corrupting) that speaks the block protocol of cascade-protocol.md."""

import hashlib
import json
import socket
import struct
import threading
import time

from harness import Server, run, sha256_file  # noqa: F401 - the cascade tests take it from here
from harness import recv_exactly as recv_exact


def make_data(path, size, seed=1):
    """Writes `size` pseudo-random bytes (fast: a repeated 1 MiB chunk with a varying prefix)."""
    chunk = hashlib.sha256(str(seed).encode()).digest() * (1 << 15)  # 1 MiB
    with open(path, "wb") as f:
        left, n = size, 0
        while left > 0:
            piece = struct.pack("!Q", n) + chunk[8:]
            f.write(piece[:left])
            left -= len(piece[:left])
            n += 1


def create(data, block_size):
    report = json.loads(run("cascade", "create", data, "--block-size", str(block_size), "--json", timeout=120).stdout)
    return report


def tracker(*extra, **server_options):
    return Server("cascade", "tracker", "--listen", "127.0.0.1:0", "--allow-any", *extra, **server_options)


def peer(cascade, tracker_address, output, *extra, ready=r"listening on (\S+)", list_interval="1", **server_options):
    """A `sockit cascade peer` of `cascade` writing (or seeding) `output`; `server_options` go to
    Server (env, command)."""
    host, port = tracker_address
    return Server("cascade", "peer", cascade, "--tracker", f"{host}:{port}", "--listen", "127.0.0.1:0",
                  "-o", output, "--list-interval", list_interval, *extra, ready=ready, **server_options)


def tracker_request(address, command, cascade_hash, ip="127.0.0.1", port=0):
    """One tracker exchange from Python; returns (status, body)."""
    request = b"CASC" + struct.pack("!III", 1, command, 38) + cascade_hash + socket.inet_aton(ip) + struct.pack("!H", port)
    with socket.create_connection(address, timeout=5) as s:
        s.sendall(request)
        head = recv_exact(s, 5)
        status, length = head[0], struct.unpack("!I", head[1:])[0]
        return status, recv_exact(s, length)


class ThreadedListener:
    """A loopback listener whose every connection is served by `self._serve(conn)` on a thread of
    its own, until stop()."""

    def __init__(self):
        self.stopped = False
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def stop(self):
        self.stopped = True
        self.listener.close()


class PyPeer(ThreadedListener):
    """A test-only peer: serves the blocks of `data` for `cascade_hash`, every `corrupt_every`-th
    block served with one byte flipped, each block after `delay` seconds. Registers with the
    tracker. Runs in threads; stop() closes everything."""

    def __init__(self, data_path, cascade_hash, block_size, tracker_address, corrupt_every=0, delay=0.0):
        with open(data_path, "rb") as f:
            self.data = f.read()
        self.hash = cascade_hash
        self.block_size = block_size
        self.corrupt_every = corrupt_every
        self.delay = delay
        self.served = 0
        self.lock = threading.Lock()
        super().__init__()
        self.port = self.listener.getsockname()[1]
        status, _ = tracker_request(tracker_address, 2, cascade_hash, "127.0.0.1", self.port)
        assert status == 0

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.port}"

    def _serve(self, conn):
        conn.settimeout(30)
        try:
            while not self.stopped:
                request = b""
                while len(request) < 64:
                    chunk = conn.recv(64 - len(request))
                    if not chunk:
                        return
                    request += chunk
                index = struct.unpack("!Q", request[24:32])[0]
                begin = index * self.block_size
                if request[:8] != b"CASCADE1" or request[32:] != self.hash or begin >= len(self.data):
                    conn.sendall(bytes([1]) + struct.pack("!Q", 3) + b"bad")
                    return
                block = bytearray(self.data[begin:begin + self.block_size])
                with self.lock:
                    self.served += 1
                    corrupt = self.corrupt_every and self.served % self.corrupt_every == 0
                if corrupt:
                    block[len(block) // 2] ^= 0xFF
                if self.delay:
                    time.sleep(self.delay)
                conn.sendall(bytes([0]) + struct.pack("!Q", len(block)) + bytes(block))
        except OSError:
            pass
        finally:
            conn.close()



class PyTracker(ThreadedListener):
    """A test-only tracker (cascade-protocol.md §2) in threads: subscribe registers, both commands
    answer with every registered peer but the requester. After go_silent_after(n) it answers n
    more requests, then accepts, reads the request and never answers: it holds those connections
    open until stop(). `silenced` counts the requests left unanswered. `peers` ("ip:port" texts)
    are registered from the start."""

    def __init__(self, peers=()):
        self.lock = threading.Lock()
        self.peers = {}  # (ip bytes, port) -> registered at (time)
        for text in peers:
            ip, _, port = text.rpartition(":")
            self.peers[(socket.inet_aton(ip), int(port))] = time.time()
        self.answers_left = None  # None: answer every request
        self.answered = 0
        self.silenced = 0
        self.held = []
        super().__init__()

    def address(self):
        return self.listener.getsockname()

    def go_silent_after(self, n):
        with self.lock:
            self.answers_left = n

    def registered(self):
        with self.lock:
            return len(self.peers)

    def _serve(self, conn):
        conn.settimeout(10)
        try:
            request = recv_exact(conn, 54)
        except (OSError, AssertionError):
            conn.close()
            return
        command = struct.unpack("!I", request[8:12])[0]
        requester = (request[48:52], struct.unpack("!H", request[52:54])[0])
        with self.lock:
            if self.answers_left == 0:
                self.silenced += 1
                self.held.append(conn)  # accepted, read, never answered
                return
            if self.answers_left is not None:
                self.answers_left -= 1
            self.answered += 1
            if command == 2:
                self.peers[requester] = time.time()
            body = b"".join(ip + struct.pack("!HIBB", port, int(seen), 0, 0)
                            for (ip, port), seen in self.peers.items() if (ip, port) != requester)
        try:
            conn.sendall(bytes([0]) + struct.pack("!I", len(body)) + body)
        except OSError:
            pass
        conn.close()

    def stop(self):
        super().stop()
        with self.lock:
            for conn in self.held:
                conn.close()
            self.held.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
