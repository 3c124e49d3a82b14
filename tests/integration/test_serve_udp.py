"""Every UDP service, iterative (one socket, recvmmsg/sendmmsg batches) and with --threads 2
(two SO_REUSEPORT sockets), driven by the notes' own UDP clients, nc, and 50 concurrent clients."""

import unittest

import clients
from harness import add_concurrency_check, add_service_check, serve, service_built

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


if __name__ == "__main__":
    unittest.main()
