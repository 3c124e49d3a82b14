"""`sockit client` against `sockit serve` and against the notes' own servers (python3, in threads)."""

import calendar
import os
import socket
import struct
import subprocess
import threading
import time
import unittest

from harness import SOCKIT, run, serve, service_built


def client(*args, input=None, timeout=20, env=None):
    return subprocess.run([SOCKIT, "client", *args], input=input, capture_output=True, text=True, timeout=timeout,
                          env=env)


class NotesServer:
    """One of the notes' servers on 127.0.0.1, port 0, in a daemon thread; `handle(sock)` serves."""

    def __init__(self, kind, handle):
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.bind(("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._run, args=(handle,), daemon=True)
        self.thread.start()

    def _run(self, handle):
        try:
            handle(self.sock)
        except OSError:
            pass

    def close(self):
        self.sock.close()


def incr_server(s):
    """Seed 002's UDP server, looping."""
    while True:
        data, addr = s.recvfrom(1024)
        (n,) = struct.unpack("!h", data)
        s.sendto(struct.pack("!h", (n + 1 + 32768) % 65536 - 32768), addr)


def length_server(s):
    """Seed 001's UDP server."""
    while True:
        msg, address = s.recvfrom(65535)
        s.sendto(f"The msg was {len(msg)} bytes long".encode(), address)


class WithSockitServe(unittest.TestCase):
    def test_echo_over_tcp_from_args_and_from_stdin(self):
        server, where = serve(["echo"], "--model", "thread")
        self.addCleanup(server.close)
        port = str(where[("echo", "tcp")][1])
        proc = client("echo", "--port", port, "hello", "two words")
        self.assertEqual((proc.returncode, proc.stdout), (0, "hello\ntwo words\n"), proc.stderr)
        proc = client("echo", "--port", port, input="from\nstdin\n")
        self.assertEqual(proc.stdout, "from\nstdin\n")

    def test_echo_over_udp(self):
        server, where = serve(["echo"], transports=("udp",))
        self.addCleanup(server.close)
        proc = client("echo", "--udp", "--port", str(where[("echo", "udp")][1]), "ping", "pong")
        self.assertEqual((proc.returncode, proc.stdout), (0, "ping\npong\n"), proc.stderr)

    def test_time_prints_the_decoded_time(self):
        if not service_built("time", "tcp"):
            self.skipTest("sockit serve time says the service is not built into this sockit")
        server, where = serve(["time"], "--model", "iterative")
        self.addCleanup(server.close)
        proc = client("time", "--port", str(where[("time", "tcp")][1]))
        self.assertRegex(proc.stdout, r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} \(\d+ seconds since 1900\)\n$")

    def test_fib_answers_each_argument(self):
        if not service_built("fib", "tcp"):
            self.skipTest("sockit serve fib says the service is not built into this sockit")
        server, where = serve(["fib"], "--model", "pool")
        self.addCleanup(server.close)
        proc = client("fib", "--port", str(where[("fib", "tcp")][1]), "10", "20", "90")
        self.assertEqual(proc.stdout, "55\n6765\n2880067194370816120\n")


    def test_fib_answers_every_line_an_empty_one_too(self):
        # Issue 11, item 11: the server skipped the empty line and the client waited 5 s for it.
        if not service_built("fib", "tcp"):
            self.skipTest("sockit serve fib says the service is not built into this sockit")
        server, where = serve(["fib"])
        self.addCleanup(server.close)
        started = time.monotonic()
        proc = client("fib", "--port", str(where[("fib", "tcp")][1]), input="10\n\n \t\n20\n")
        self.assertEqual((proc.returncode, proc.stdout), (0, "55\nERR empty request\nERR empty request\n6765\n"),
                         proc.stderr)
        self.assertLess(time.monotonic() - started, 4.0)  # no 5 s wait for an answer that never comes

    def test_chargen_streams_with_constant_memory(self):
        if not service_built("chargen", "tcp"):
            self.skipTest("sockit serve chargen says the service is not built into this sockit")
        server, where = serve(["chargen"])
        self.addCleanup(server.close)
        port = str(where[("chargen", "tcp")][1])

        def peak_rss_kib(count):
            proc = subprocess.Popen([SOCKIT, "client", "chargen", "--port", port, "--bytes", str(count)],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            received = 0
            while chunk := proc.stdout.read(1 << 16):
                received += len(chunk)
            proc.stdout.close()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            self.assertEqual((proc.returncode, received), (0, count))
            return usage.ru_maxrss

        small, large = peak_rss_kib(1000), peak_rss_kib(300_000_000)
        # Buffering 300 MB before writing (the old client) grows by that much; streaming by nothing.
        self.assertLess(large - small, 64 * 1024, (small, large))

    def test_output_whose_reader_left_ends_the_client_quietly(self):
        if not service_built("chargen", "tcp"):
            self.skipTest("sockit serve chargen says the service is not built into this sockit")
        server, where = serve(["chargen"])
        self.addCleanup(server.close)
        pipeline = subprocess.run(["bash", "-c", f'set -o pipefail; "$0" client chargen --port '
                                                 f'{where[("chargen", "tcp")][1]} --bytes 100000000 | head -c 10',
                                   SOCKIT], capture_output=True, timeout=60)
        self.assertEqual(pipeline.returncode, 0, pipeline.stderr)


class WithTheNotesServers(unittest.TestCase):
    def test_time_decodes_rfc868_seconds_since_1900(self):
        when = calendar.timegm((2026, 11, 22, 10, 0, 0)) + 2208988800

        def rfc868(s):
            conn, _ = s.accept()
            conn.sendall(struct.pack("!I", when))
            conn.close()
        server = NotesServer(socket.SOCK_STREAM, rfc868)
        self.addCleanup(server.close)
        proc = client("time", "--port", str(server.port), env=dict(os.environ, TZ="UTC"))
        self.assertEqual(proc.stdout, f"Sun Nov 22 10:00:00 2026 ({when} seconds since 1900)\n", proc.stderr)

    def test_incr_over_udp_against_the_notes_server(self):
        server = NotesServer(socket.SOCK_DGRAM, incr_server)
        self.addCleanup(server.close)
        proc = client("incr", "--udp", "--port", str(server.port), "1", "-5", "32767")
        self.assertEqual((proc.returncode, proc.stdout), (0, "2\n-4\n-32768\n"), proc.stderr)

    def test_length_is_udp_without_asking(self):
        server = NotesServer(socket.SOCK_DGRAM, length_server)
        self.addCleanup(server.close)
        proc = client("length", "--port", str(server.port), "Send this message!")
        self.assertEqual(proc.stdout, "The msg was 18 bytes long\n", proc.stderr)

    def test_incr_refuses_a_number_that_does_not_fit_16_bits(self):
        proc = client("incr", "--udp", "--port", "9", "40000")
        self.assertEqual(proc.returncode, 2)

    def test_incr_checks_every_argument_before_sending_any(self):
        received = []

        def counting(s):
            while True:
                data, addr = s.recvfrom(1024)
                received.append(data)
                (n,) = struct.unpack("!h", data)
                s.sendto(struct.pack("!h", (n + 1 + 32768) % 65536 - 32768), addr)
        server = NotesServer(socket.SOCK_DGRAM, counting)
        self.addCleanup(server.close)
        proc = client("incr", "--udp", "--port", str(server.port), "41", "32767", "65535")
        self.assertEqual((proc.returncode, proc.stdout), (2, ""), proc.stderr)
        self.assertIn("'65535' is not an integer from -32768 to 32767", proc.stderr)
        self.assertEqual(received, [])

    def test_incr_over_tcp_checks_every_argument_before_connecting(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            proc = client("incr", "--port", str(listener.getsockname()[1]), "41", "x")
            listener.settimeout(0.2)
            with self.assertRaises(socket.timeout):
                listener.accept()
        self.assertEqual((proc.returncode, proc.stdout), (2, ""), proc.stderr)

    def test_length_request_larger_than_a_udp_datagram_says_so(self):
        server = NotesServer(socket.SOCK_DGRAM, length_server)
        self.addCleanup(server.close)
        proc = client("length", "--port", str(server.port), "short", "x" * 70000)
        self.assertEqual((proc.returncode, proc.stdout), (2, ""), proc.stderr)
        self.assertIn("a request of 70000 bytes is larger than a UDP datagram (65507 bytes at most over IPv4)",
                      proc.stderr)
        self.assertNotIn("is the server up", proc.stderr)

    def test_length_from_stdin_larger_than_a_udp_datagram_says_so(self):
        server = NotesServer(socket.SOCK_DGRAM, length_server)
        self.addCleanup(server.close)
        proc = client("length", "--port", str(server.port), input="short\n" + "x" * 70000 + "\n")
        self.assertEqual((proc.returncode, proc.stdout), (2, "The msg was 5 bytes long\n"), proc.stderr)
        self.assertIn("larger than a UDP datagram", proc.stderr)


class UdpBackOff(unittest.TestCase):
    def test_no_reply_gives_up_after_the_notes_back_off(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as mute:  # receives, never answers
            mute.bind(("127.0.0.1", 0))
            port = mute.getsockname()[1]
            started = time.monotonic()
            proc = client("echo", "--udp", "--port", str(port), "anyone?")
            elapsed = time.monotonic() - started
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"no reply from 127.0.0.1:{port} after 5 tries — is the server up?", proc.stderr)
        # 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s of waiting; the next wait (3.2 s) would pass 2 s.
        self.assertGreater(elapsed, 3.0)
        self.assertLess(elapsed, 6.0)
        self.assertNotIn("refused", proc.stderr)

    def test_a_closed_port_says_that_icmp_refused_it(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # free once closed: the kernel answers with ICMP port unreachable
        proc = client("time", "--udp", "--port", str(port))
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"no reply from 127.0.0.1:{port} after 5 tries: Connection refused (ICMP port unreachable) "
                      "— is the server up?", proc.stderr)


class Errors(unittest.TestCase):
    def test_refused_tcp_connection_exits_1_naming_the_address(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = client("echo", "--port", str(port), "x")
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"connect to 127.0.0.1:{port} failed: Connection refused", proc.stderr)

    def test_unknown_service_is_a_usage_error(self):
        self.assertEqual(run("client", "nosuch", check=False).returncode, 2)

    def test_negative_byte_count_is_a_usage_error_not_a_huge_one(self):
        proc = client("chargen", "--port", "1", "--bytes", "-5")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--bytes: must be greater than 0 (got -5)", proc.stderr)

    def test_empty_or_malformed_host_is_a_usage_error(self):
        for host in ("", "300.1.1.1", "[::1]"):
            with self.subTest(host=host):
                proc = client("echo", "--host", host, "x")
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn("--host", proc.stderr)


if __name__ == "__main__":
    unittest.main()
