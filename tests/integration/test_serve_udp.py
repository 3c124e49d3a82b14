"""Every UDP service, iterative (one socket, recvmmsg/sendmmsg batches) and with --threads 2
(two threads on the one socket), driven by the notes' own UDP clients, nc, and 50 concurrent
clients; and a UDP port no second server can take (issue 11, item 3)."""

import socket
import subprocess
import unittest

import clients
from harness import add_concurrency_check, add_service_check, run, serve, service_built, udp_ask

UDP_SERVICES = ["echo", "discard", "chargen", "daytime", "time", "upper", "length", "incr"]
CONCURRENT = 50


class UdpMatrix:
    threads = None

    @classmethod
    def setUpClass(cls):
        extra = ["--threads", str(cls.threads)] if cls.threads else []
        cls.server, cls.where = serve(UDP_SERVICES, *extra, transports=("udp",))

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.proc.stdout.close()
        if code != 0:
            raise AssertionError(f"sockit serve exited {code}:\n{cls.server.output()}")

    def address(self, service):
        if not service_built(service, "udp"):
            self.skipTest(f"sockit serve {service} --udp says the service is not built into this sockit")
        return self.where[(service, "udp")]

    def test_startup_line_counts_the_sockets(self):
        want = "2 threads" if self.threads else "1 thread"
        self.assertRegex(self.server.output(), rf"listening on 127\.0\.0\.1:\d+ \(echo/udp, {want}\)")


for _name, _threads in (("UdpIterative", None), ("UdpTwoThreads", 2)):
    _cls = type(_name, (UdpMatrix, unittest.TestCase), {"threads": _threads})
    for _service in UDP_SERVICES:
        for _check in clients.UDP_CHECKS[_service]:
            add_service_check(_cls, _service, _check, 'udp_')
    for _service in ("echo", "upper", "length", "incr"):
        add_concurrency_check(_cls, _service, clients.udp_exchange, CONCURRENT, timeout=60)
    globals()[_name] = _cls
del _cls, _name, _threads, _service, _check


class SecondServer(unittest.TestCase):
    """Another sockit on a UDP port that one holds fails as on a TCP port, and the first keeps
    every datagram (SO_REUSEPORT let the second join and take the traffic; SO_REUSEADDR alone did
    too on Linux)."""

    def check_refused(self, first_threads, second_args, bound_at):
        server, where = serve(["echo"], "--threads", str(first_threads), transports=("udp",))
        self.addCleanup(server.close)
        host, port = where[("echo", "udp")]
        try:
            proc = run("serve", f"upper:{port}", "--udp", *second_args, check=False, timeout=10)
        except subprocess.TimeoutExpired:
            self.fail(f"a second server bound UDP port {port} and kept serving on it")
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertIn(f"bind to {bound_at.format(port)} failed: Address already in use", proc.stderr)
        self.assertEqual(udp_ask(host, port, b"still mine"), b"still mine")

    def test_same_address_is_refused(self):
        self.check_refused(1, ["--listen", "127.0.0.1"], "127.0.0.1:{}")

    def test_same_address_is_refused_whatever_the_threads(self):
        self.check_refused(2, ["--listen", "127.0.0.1", "--threads", "2"], "127.0.0.1:{}")

    def test_the_wildcard_is_refused(self):
        self.check_refused(2, ["--listen", "::", "--threads", "2"], "[::]:{}")

    def test_a_foreign_socket_with_both_reuse_options_is_refused(self):
        server, where = serve(["echo"], "--threads", "2", transports=("udp",))
        self.addCleanup(server.close)
        host, port = where[("echo", "udp")]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as intruder:
            intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            with self.assertRaises(OSError) as refused:
                intruder.bind((host, port))
        self.assertEqual(refused.exception.errno, 98)  # EADDRINUSE


if __name__ == "__main__":
    unittest.main()
