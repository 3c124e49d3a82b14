"""--request-timeout (issue 12, item 4): a request begun must be complete within the deadline,
whatever trickles in meanwhile, as nginx's client_header_timeout. A slowloris client that sends
one byte at a time is never idle, so only this ends it: it gets ERR (or its protocol's error),
the connection closes, and the log says why. Every model; fib (text), incr (binary) and the
Cascade tracker and block server."""

import os
import socket
import struct
import tempfile
import time
import unittest

from cascade_support import create, make_data, peer, tracker
from harness import connect, list_models, read_line, recv_until_eof, serve

MODELS = list_models()
TIMEOUT = 1.0
LATE_ERR = b"ERR request not complete within 1 s\n"


def trickle(sock, data, every, stop):
    """Sends `data` one byte every `every` seconds until the server closes or `stop` seconds pass;
    returns (bytes the server answered, seconds from the first byte to the server's EOF or None)."""
    start = time.monotonic()
    answered = b""
    sock.settimeout(every)
    for i in range(len(data)):
        try:
            sock.sendall(data[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            break
        try:
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    return answered, time.monotonic() - start
                answered += chunk
        except socket.timeout:
            pass
        if time.monotonic() - start > stop:
            break
    return answered, None


class RequestTimeoutPerModel(unittest.TestCase):
    """One server per model; each test is one hostile or friendly client."""

    def test_every_model(self):
        for model in MODELS:
            with self.subTest(model=model):
                server, where = serve(["fib", "incr"], "--model", model, "--request-timeout", str(TIMEOUT),
                                      "--threads", "2")
                with server:
                    self.check_slow_line(server, where[("fib", "tcp")], model)
                    self.check_slow_requests_that_each_complete(where[("fib", "tcp")])
                    self.check_a_request_after_a_quiet_while(where[("fib", "tcp")])
                    self.check_half_incr_request(server, where[("incr", "tcp")])
                    self.check_endless_line(where[("fib", "tcp")])

    def check_slow_line(self, server, address, model):
        # One digit every 0.2 s, never a line end: answered ERR and closed after ~1 s.
        with connect(*address) as s:
            answered, closed_after = trickle(s, b"1" * 40, 0.2, stop=5)
        self.assertEqual(answered, LATE_ERR)
        self.assertIsNotNone(closed_after, "the server kept a slowloris line open past 5 s")
        self.assertGreaterEqual(closed_after, TIMEOUT - 0.05)
        self.assertLess(closed_after, TIMEOUT + 1.0)
        server.wait_for(r"closed \S+ after \d+ requests? \(request not complete within 1 s\)")
        # The server goes on serving (iterative: it was the one connection it serves).
        with connect(*address) as s:
            s.sendall(b"10\n")
            self.assertEqual(read_line(s), b"55\n")

    def check_slow_requests_that_each_complete(self, address):
        # Seven whole requests spread over ~2.1 s: each completes well within 1 s, so none is late.
        with connect(*address) as s:
            s.settimeout(5)
            for n in range(7):
                s.sendall(b"1")
                time.sleep(0.15)
                s.sendall(b"\n")
                time.sleep(0.15)
                self.assertEqual(read_line(s), b"1\n")

    def check_a_request_after_a_quiet_while(self, address):
        # A request begins when its first byte comes, not when the connection last did something:
        # after 1.5 s of quiet (under the idle timeout), a line sent in two pieces is answered.
        with connect(*address) as s:
            s.settimeout(5)
            time.sleep(TIMEOUT + 0.5)
            s.sendall(b"1")
            time.sleep(0.3)
            s.sendall(b"0\n")
            self.assertEqual(read_line(s), b"55\n")

    def check_half_incr_request(self, server, address):
        # incr's requests are 2 bytes: 1 byte and then nothing. Its protocol has no error
        # message (every answer is 2 bytes), so the connection just closes.
        with connect(*address) as s:
            s.settimeout(5)
            s.sendall(struct.pack("!h", 41) + b"\x00")
            start = time.monotonic()
            self.assertEqual(recv_until_eof(s), struct.pack("!h", 42))
            self.assertLess(time.monotonic() - start, TIMEOUT + 1.0)

    def check_endless_line(self, address):
        # A line that never ends, sent as fast as the server reads: ERR for its length at once,
        # then the deadline ends the rest (it is discarded meanwhile, never stored).
        with connect(*address) as s:
            s.settimeout(0.05)
            start = time.monotonic()
            answered = b""
            chunk = b"7" * 65536
            while time.monotonic() - start < 5:
                try:
                    s.sendall(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
                try:
                    got = s.recv(4096)
                    if not got:
                        break
                    answered += got
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    break  # the server closed with our bytes unread: the kernel resets
            self.assertLess(time.monotonic() - start, TIMEOUT + 2.0)
        self.assertTrue(answered.startswith(b"ERR line too long (max 8192 bytes)\n"), answered[:80])


class RequestTimeoutOff(unittest.TestCase):
    def test_zero_means_no_limit(self):
        server, where = serve(["fib"], "--request-timeout", "0")
        with server, connect(*where[("fib", "tcp")]) as s:
            s.sendall(b"1")
            time.sleep(1.5)
            s.sendall(b"2\n")
            s.settimeout(5)
            self.assertEqual(read_line(s), b"144\n")


class CascadeRequestTimeout(unittest.TestCase):
    def test_tracker_answers_a_late_request_with_status_1(self):
        with tracker("--request-timeout", "1") as t, connect(*t.address()) as s:
            s.settimeout(5)
            s.sendall(b"CASC" + struct.pack("!I", 1))  # 8 of the 54 bytes, and then nothing
            start = time.monotonic()
            reply = recv_until_eof(s)
            self.assertLess(time.monotonic() - start, 2.0)
            self.assertEqual(reply[0], 1)
            (length,) = struct.unpack("!I", reply[1:5])
            self.assertEqual(reply[5:], b"request not complete within 1 s")
            self.assertEqual(length, len(reply) - 5)

    def test_seeding_peer_ends_a_half_block_request(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data.bin")
            make_data(data, 64 * 1024)
            create(data, 16 * 1024)
            cascade = data + ".cascade"
            with tracker() as t, peer(cascade, t.address(), data) as seeder:
                with connect(*seeder.address()) as s:
                    s.settimeout(15)
                    s.sendall(b"CASCADE1")  # 8 of the 64 bytes
                    start = time.monotonic()
                    reply = recv_until_eof(s)
                    took = time.monotonic() - start
                # The block server's deadline is 10 s (src/cascade/peer.cpp).
                self.assertGreater(took, 9)
                self.assertLess(took, 12)
                self.assertEqual(reply[0], 4)  # malformed
                self.assertIn(b"request not complete within 10 s", reply)


if __name__ == "__main__":
    unittest.main()
