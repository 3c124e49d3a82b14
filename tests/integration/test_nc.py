"""sockit nc against nc (OpenBSD), socat and python peers, both ways, over TCP, UDP and Unix."""

import os
import re
import select
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import SOCKIT, free_port, run, sha256_file, wait_for_stderr_line

HAVE_SOCAT = shutil.which("socat") is not None
HAVE_NC = shutil.which("nc.openbsd") is not None


def sockit_nc(*args, input=b"", timeout=60):
    """Runs `sockit nc ARGS` to completion with bytes input; returns the CompletedProcess."""
    return subprocess.run([SOCKIT, "nc", *args], input=input, capture_output=True, timeout=timeout)


class Peer:
    """A background peer program (socat, nc) with a deadline on everything. Its stdin is a file
    holding `stdin` (all there from the start, then EOF), as when a user redirects a file."""

    def __init__(self, *argv, stdin=None, stdout=subprocess.PIPE):
        self.input = tempfile.TemporaryFile()
        if stdin:
            self.input.write(stdin)
            self.input.seek(0)
        self.proc = subprocess.Popen(list(argv), stdin=self.input, stdout=stdout, stderr=subprocess.PIPE)

    def finish(self, timeout=60):
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        out, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, out, err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)
        self.input.close()


def wait_listening(port=None, path=None, kind=socket.SOCK_STREAM, timeout=10):
    """Waits (bounded) until a TCP port or Unix path has a listener, without connecting to it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path is not None:
            if os.path.exists(path):
                return
        else:
            flag = "-tln" if kind == socket.SOCK_STREAM else "-uln"
            out = subprocess.run(["ss", "-H", flag, f"sport = :{port}"], capture_output=True, text=True, timeout=10).stdout
            if out.strip():
                return
        time.sleep(0.02)
    raise AssertionError(f"nothing listening on {port or path} within {timeout}s")


class SockitListener:
    """`sockit nc -v -l ...` on port 0 (or a Unix path); learns its address from -v's line."""

    def __init__(self, *args, stdin=b""):
        self.proc = subprocess.Popen([SOCKIT, "nc", "-v", "-l", *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.err = b""
        deadline = time.monotonic() + 10
        fd = self.proc.stderr.fileno()
        while not (m := re.search(rb"listening on (\S+) \((\w+)\)", self.err)):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise AssertionError(f"sockit nc -l did not say it listens: {self.err!r}")
            chunk = os.read(fd, 4096)
            if not chunk:
                raise AssertionError(f"sockit nc -l exited: {self.err!r}")
            self.err += chunk
        self.address = m.group(1).decode()
        self.port = None if self.address.startswith("unix:") else int(self.address.rpartition(":")[2])
        if stdin is not None:
            # All of stdin now, then EOF: the listener relays it once a client arrives.
            self.proc.stdin.write(stdin)
            self.proc.stdin.close()

    def finish(self, timeout=60):
        """Waits for the listener to exit; returns (status, stdout bytes, stderr text)."""
        self.proc.wait(timeout=timeout)
        out, err = self.proc.stdout.read(), self.proc.stderr.read()
        return self.proc.returncode, out, (self.err + err).decode(errors="replace")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if not f.closed:
                f.close()


def random_file(directory, size):
    path = os.path.join(directory, "payload.bin")
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            f.write(chunk)
            left -= len(chunk)
    return path


@unittest.skipUnless(HAVE_SOCAT, "socat is not installed")
class SocatTest(unittest.TestCase):
    def test_tcp_sockit_client_gets_its_bytes_back_from_a_socat_echo(self):
        port = free_port()
        with Peer("socat", "-t", "10", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr", "EXEC:cat"):
            wait_listening(port)
            proc = sockit_nc("127.0.0.1", str(port), input=b"hello\x00binary\xff")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"hello\x00binary\xff")

    def test_tcp_socat_client_and_sockit_listener_exchange_both_ways(self):
        with SockitListener("127.0.0.1", "0", stdin=b"from the listener") as listener:
            client = subprocess.run(["socat", "-t", "10", "-", f"TCP:127.0.0.1:{listener.port}"],
                                    input=b"from socat", capture_output=True, timeout=30)
            status, out, err = listener.finish()
        self.assertEqual(client.stdout, b"from the listener")
        self.assertEqual(out, b"from socat")
        self.assertEqual(status, 0, err)
        self.assertRegex(err, r"connection from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+ \(tcp\)")

    def test_udp_sockit_client_to_socat_and_back(self):
        port = free_port(socket.SOCK_DGRAM)
        with Peer("socat", "-T", "5", f"UDP-LISTEN:{port},bind=127.0.0.1", "EXEC:cat") as peer:
            wait_listening(port, kind=socket.SOCK_DGRAM)
            proc = sockit_nc("-u", "-w", "2", "127.0.0.1", str(port), input=b"datagram")
            peer.kill()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"datagram")

    def test_udp_socat_client_to_sockit_listener_and_back(self):
        with SockitListener("-u", "-w", "1", "127.0.0.1", "0", stdin=b"pong") as listener:
            client = subprocess.run(["socat", "-T", "2", "-", f"UDP:127.0.0.1:{listener.port}"],
                                    input=b"ping", capture_output=True, timeout=30)
            status, out, err = listener.finish()
        self.assertEqual(out, b"ping")
        self.assertEqual(client.stdout, b"pong")
        self.assertEqual(status, 0, err)

    def test_unix_sockit_client_to_socat_echo(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "echo.sock")
            with Peer("socat", "-t", "10", f"UNIX-LISTEN:{path}", "EXEC:cat"):
                wait_listening(path=path)
                proc = sockit_nc("-U", path, input=b"over unix")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"over unix")

    def test_unix_socat_client_to_sockit_listener(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "nc.sock")
            with SockitListener("-U", path, stdin=b"reply") as listener:
                client = subprocess.run(["socat", "-t", "10", "-", f"UNIX-CONNECT:{path}"], input=b"request",
                                        capture_output=True, timeout=30)
                status, out, err = listener.finish()
            self.assertFalse(os.path.exists(path), "the listener removes its socket file")
        self.assertEqual((out, client.stdout, status), (b"request", b"reply", 0), err)

    def test_100_mb_binary_round_trip_through_socat_echo_with_half_close(self):
        with tempfile.TemporaryDirectory() as d:
            source = random_file(d, 100 * 1024 * 1024)
            target = os.path.join(d, "back.bin")
            port = free_port()
            with Peer("socat", "-t", "60", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr", "EXEC:cat"):
                wait_listening(port)
                with open(source, "rb") as i, open(target, "wb") as o:
                    proc = subprocess.run([SOCKIT, "nc", "-v", "127.0.0.1", str(port)], stdin=i, stdout=o,
                                          stderr=subprocess.PIPE, timeout=240)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(sha256_file(target), sha256_file(source))
            self.assertIn(b"sent 104857600 bytes, received 104857600 bytes (zero-copy splice)", proc.stderr)

    def test_100_mb_from_socat_arrive_intact_at_a_sockit_listener(self):
        with tempfile.TemporaryDirectory() as d:
            source = random_file(d, 100 * 1024 * 1024)
            target = os.path.join(d, "got.bin")
            with open(target, "wb") as o:
                listener = subprocess.Popen([SOCKIT, "nc", "-v", "-l", "127.0.0.1", "0"], stdin=subprocess.DEVNULL,
                                            stdout=o, stderr=subprocess.PIPE, text=True)
            try:
                port = wait_for_stderr_line(listener, r"listening on \S+:(\d+)").group(1)
                subprocess.run(["socat", "-u", "-t", "60", f"OPEN:{source}", f"TCP:127.0.0.1:{port}"],
                               timeout=240, check=True)
                listener.wait(timeout=60)
            finally:
                if listener.poll() is None:
                    listener.kill()
                listener.communicate(timeout=10)
            self.assertEqual(listener.returncode, 0)
            self.assertEqual(sha256_file(target), sha256_file(source))


@unittest.skipUnless(HAVE_NC, "nc.openbsd is not installed")
class OpenbsdNcTest(unittest.TestCase):
    def test_tcp_nc_client_and_sockit_listener(self):
        with SockitListener("127.0.0.1", "0", stdin=b"hello nc") as listener:
            client = subprocess.run(["nc.openbsd", "-N", "127.0.0.1", str(listener.port)], input=b"hello sockit",
                                    capture_output=True, timeout=30)
            status, out, err = listener.finish()
        self.assertEqual((out, client.stdout, status), (b"hello sockit", b"hello nc", 0), err)

    def test_tcp_sockit_client_and_nc_listener(self):
        port = free_port()
        with Peer("nc.openbsd", "-l", "127.0.0.1", str(port), stdin=b"from nc") as peer:
            wait_listening(port)
            proc = sockit_nc("127.0.0.1", str(port), input=b"from sockit")
            status, out, _ = peer.finish()
        self.assertEqual((proc.stdout, out, proc.returncode), (b"from nc", b"from sockit", 0), proc.stderr)

    def test_udp_nc_client_and_sockit_listener(self):
        with SockitListener("-u", "-w", "1", "127.0.0.1", "0", stdin=b"pong") as listener:
            client = subprocess.run(["nc.openbsd", "-u", "-w", "1", "127.0.0.1", str(listener.port)], input=b"ping",
                                    capture_output=True, timeout=30)
            status, out, err = listener.finish()
        self.assertEqual((out, client.stdout, status), (b"ping", b"pong", 0), err)

    def test_udp_sockit_client_and_nc_listener(self):
        port = free_port(socket.SOCK_DGRAM)
        with Peer("nc.openbsd", "-u", "-l", "127.0.0.1", str(port), stdin=b"pong") as peer:
            wait_listening(port, kind=socket.SOCK_DGRAM)
            proc = sockit_nc("-u", "-w", "1", "127.0.0.1", str(port), input=b"ping")
            _, out, _ = peer.kill()
        self.assertEqual((proc.stdout, out, proc.returncode), (b"pong", b"ping", 0), proc.stderr)

    def test_unix_nc_client_and_sockit_listener(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "s")
            with SockitListener("-U", path, stdin=b"answer") as listener:
                client = subprocess.run(["nc.openbsd", "-N", "-U", path], input=b"question", capture_output=True,
                                        timeout=30)
                status, out, err = listener.finish()
        self.assertEqual((out, client.stdout, status), (b"question", b"answer", 0), err)

    def test_unix_sockit_client_and_nc_listener(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "s")
            with Peer("nc.openbsd", "-l", "-U", path, stdin=b"answer") as peer:
                wait_listening(path=path)
                proc = sockit_nc("-U", path, input=b"question")
                _, out, _ = peer.finish()
        self.assertEqual((proc.stdout, out, proc.returncode), (b"answer", b"question", 0), proc.stderr)


class BehaviourTest(unittest.TestCase):
    def test_verbose_says_what_connected_to_what(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = listener.getsockname()[1]
            proc = subprocess.Popen([SOCKIT, "nc", "-v", "127.0.0.1", str(port)], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            conn, peer = listener.accept()
            with conn:
                conn.settimeout(10)
                proc.stdin.close()
                self.assertEqual(conn.recv(10), b"")  # our FIN came with stdin's EOF
                conn.sendall(b"bye")
            proc.wait(timeout=30)
            out, err = proc.stdout.read(), proc.stderr.read()
            proc.stdout.close()
            proc.stderr.close()
        self.assertEqual(out, b"bye")
        # OpenBSD nc's words (scripts look for "succeeded"), and ours: from where to where.
        self.assertIn(f"Connection to 127.0.0.1 {port} port [tcp/".encode(), err)
        self.assertIn(f"succeeded! (from 127.0.0.1:{peer[1]} to 127.0.0.1:{port})".encode(), err)
        self.assertEqual(proc.returncode, 0)

    def test_zero_io_probe_reports_open_and_refused(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            self.assertEqual(sockit_nc("-z", "-w", "2", "127.0.0.1", str(listener.getsockname()[1])).returncode, 0)
        closed = free_port()
        proc = sockit_nc("-z", "-w", "2", "127.0.0.1", str(closed))
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"connect to 127.0.0.1:{closed} failed: Connection refused".encode(), proc.stderr)

    def test_udp_zero_io_probe_tells_closed_from_open(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as bound:
            bound.bind(("127.0.0.1", 0))
            self.assertEqual(sockit_nc("-zu", "-w", "0.3", "127.0.0.1", str(bound.getsockname()[1])).returncode, 0)
        proc = sockit_nc("-zu", "-w", "2", "127.0.0.1", str(free_port(socket.SOCK_DGRAM)))
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"Connection refused", proc.stderr)

    def test_peer_reset_before_taking_input_fails(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            proc = subprocess.Popen([SOCKIT, "nc", "127.0.0.1", str(listener.getsockname()[1])],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            conn, _ = listener.accept()
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            conn.close()  # RST
            out, err = proc.communicate(input=b"x" * 1_000_000, timeout=30)
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(err, rb"(send to|recv from) 127\.0\.0\.1:\d+ failed: (Connection reset by peer|Broken pipe)")

    def test_udp_to_a_closed_port_is_refused(self):
        closed = free_port(socket.SOCK_DGRAM)
        proc = sockit_nc("-u", "-w", "2", "127.0.0.1", str(closed), input=b"anyone?")
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"Connection refused", proc.stderr)

    def test_shell_command_serves_each_client_with_keep_listening(self):
        with SockitListener("-k", "127.0.0.1", "0", "-c", "read line; echo \"got $line\"", stdin=None) as listener:
            for word in ("one", "two"):
                with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as c:
                    c.sendall(word.encode() + b"\n")
                    c.shutdown(socket.SHUT_WR)
                    data = b""
                    while chunk := c.recv(100):
                        data += chunk
                self.assertEqual(data, f"got {word}\n".encode())
            listener.proc.terminate()

    def test_keep_listening_with_a_program_serves_clients_at_the_same_time(self):
        with SockitListener("-k", "127.0.0.1", "0", "-c", "cat", stdin=None) as listener:
            first = socket.create_connection(("127.0.0.1", listener.port), timeout=10)
            with first, socket.create_connection(("127.0.0.1", listener.port), timeout=10) as second:
                second.sendall(b"second while first is open\n")
                self.assertEqual(second.recv(100), b"second while first is open\n")
                first.sendall(b"first\n")
                self.assertEqual(first.recv(100), b"first\n")
            listener.proc.terminate()

    def test_exec_runs_a_program_without_a_shell(self):
        with SockitListener("127.0.0.1", "0", "-e", "tr a-z A-Z", stdin=None) as listener:
            with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as c:
                c.sendall(b"shout\n")
                c.shutdown(socket.SHUT_WR)
                self.assertEqual(c.recv(100), b"SHOUT\n")
            status, _, err = listener.finish()
        self.assertEqual(status, 0, err)

    def test_idle_timeout_on_tcp_is_a_failure(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            proc = subprocess.Popen([SOCKIT, "nc", "-w", "0.3", "127.0.0.1", str(listener.getsockname()[1])],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            conn, _ = listener.accept()
            with conn:
                out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"nothing moved", err)

    def test_udp_input_that_ends_at_once_asks_with_an_empty_datagram(self):
        # The --help example: sockit nc -u 127.0.0.1 10013 < /dev/null
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daytime:
            daytime.bind(("127.0.0.1", 0))
            daytime.settimeout(10)

            def answer():
                try:
                    data, peer = daytime.recvfrom(100)
                    daytime.sendto(b"Sun Nov 22 10:00:00 2026\r\n" if data == b"" else b"not empty\r\n", peer)
                except OSError:
                    pass
            import threading
            threading.Thread(target=answer, daemon=True).start()
            proc = sockit_nc("-u", "127.0.0.1", str(daytime.getsockname()[1]))
        self.assertEqual((proc.returncode, proc.stdout), (0, b"Sun Nov 22 10:00:00 2026\r\n"), proc.stderr)

    def test_ports_must_be_1_to_65535_and_0_only_to_listen(self):
        for args in (["127.0.0.1", "99999"], ["127.0.0.1", "0"], ["127.0.0.1", "-1"], ["127.0.0.1", ""],
                     ["-l", "99999"], ["-l", "-1"], ["-z", "127.0.0.1", "0-5"], ["-z", "127.0.0.1", "1-70000"]):
            with self.subTest(args=args):
                proc = sockit_nc(*args)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn(b"port", proc.stderr)

    def test_empty_and_malformed_hosts_are_usage_errors(self):
        for args in (["", "80"], ["300.1.1.1", "80"], ["[::1", "80"], ["a b", "80"], ["-U", ""], ["-l", "", "0"]):
            with self.subTest(args=args):
                proc = sockit_nc(*args)
                self.assertEqual(proc.returncode, 2, proc.stderr)

    def test_zero_io_over_a_port_range_says_which_succeeded(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = listener.getsockname()[1]
            proc = sockit_nc("-zv", "-w", "2", "127.0.0.1", f"{port - 1}-{port + 1}")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr.count(b"succeeded!"), 1, proc.stderr)
        self.assertIn(f"Connection to 127.0.0.1 {port} port [tcp/".encode(), proc.stderr)
        self.assertIn(f"connect to 127.0.0.1:{port + 1} failed".encode(), proc.stderr)

    def test_zero_io_over_several_closed_ports_fails(self):
        closed = free_port()
        self.assertEqual(sockit_nc("-z", "127.0.0.1", str(closed), str(closed)).returncode, 1)

    def test_several_ports_need_zero_io(self):
        self.assertEqual(sockit_nc("127.0.0.1", "20-25").returncode, 2)

    def test_quit_after_input_eof_does_not_wait_for_the_peer(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            started = time.monotonic()
            listener.settimeout(10)
            proc = subprocess.Popen([SOCKIT, "nc", "-N", "-q", "0.3", "127.0.0.1", str(listener.getsockname()[1])],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.addCleanup(proc.kill)
            conn, _ = listener.accept()  # and never close it
            with conn:
                out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        self.assertLess(time.monotonic() - started, 5)

    def test_source_port_is_the_one_asked_for(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            listener.settimeout(10)
            source = free_port()
            proc = subprocess.Popen([SOCKIT, "nc", "-p", str(source), "127.0.0.1", str(listener.getsockname()[1])],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.addCleanup(proc.kill)
            conn, peer = listener.accept()
            conn.close()
            proc.communicate(timeout=30)
        self.assertEqual(peer, ("127.0.0.1", source))
        self.assertEqual(proc.returncode, 0)

    def test_listen_port_with_p_as_traditional_netcat(self):
        with SockitListener("-p", str(free_port())) as listener:
            with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as c:
                c.sendall(b"hi")
                c.shutdown(socket.SHUT_WR)
            status, out, err = listener.finish()
        self.assertEqual((status, out), (0, b"hi"), err)

    def test_listen_with_w_gives_up_waiting_for_a_client(self):
        # Issue 11: `nc -l -w` waited for a connection for ever. As traditional netcat, -w bounds
        # the wait for the client: exit 1 with a reason once it is over.
        for extra, reason in (((), b"no connection within 0.5 s"), (("-u",), b"no datagram within 0.5 s")):
            with self.subTest(mode="udp" if extra else "tcp"):
                started = time.monotonic()
                proc = sockit_nc("-l", "-w", "0.5", *extra, "127.0.0.1", str(free_port()), timeout=30)
                self.assertLess(time.monotonic() - started, 10)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertIn(reason, proc.stderr)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "nc.sock")
            proc = sockit_nc("-l", "-w", "0.5", "-U", path, timeout=30)
            self.assertIn(b"no connection within 0.5 s", proc.stderr)
            self.assertFalse(os.path.exists(path))

    def test_listen_with_w_serves_a_client_that_comes_in_time_and_k_keeps_waiting(self):
        with SockitListener("-w", "2", "127.0.0.1", str(free_port())) as listener:
            time.sleep(0.5)
            with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as c:
                c.sendall(b"hi")
                c.shutdown(socket.SHUT_WR)
            status, out, err = listener.finish()
        self.assertEqual((status, out), (0, b"hi"), err)
        port = free_port()
        proc = subprocess.Popen([SOCKIT, "nc", "-l", "-k", "-w", "0.3", "127.0.0.1", str(port)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(proc.kill)
        wait_listening(port)
        time.sleep(1)
        self.assertIsNone(proc.poll(), "with -k the listener waits for clients for ever")
        proc.terminate()
        proc.wait(timeout=10)

    def test_numeric_refuses_names(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = str(listener.getsockname()[1])
            self.assertEqual(sockit_nc("-n", "-z", "127.0.0.1", port).returncode, 0)
            proc = sockit_nc("-n", "-z", "localhost", port)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"getaddrinfo for localhost", proc.stderr)

    def test_output_whose_reader_left_is_a_normal_end(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()

            listener.settimeout(10)

            def flood():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    try:
                        while True:
                            conn.sendall(b"y\n" * 65536)
                    except OSError:
                        pass
            import threading
            threading.Thread(target=flood, daemon=True).start()
            pipeline = subprocess.run(["bash", "-c", 'set -o pipefail; "$0" nc 127.0.0.1 "$1" </dev/null | head -c 5',
                                       SOCKIT, str(listener.getsockname()[1])], capture_output=True, timeout=60)
        self.assertEqual((pipeline.returncode, pipeline.stdout), (0, b"y\ny\ny"), pipeline.stderr)

    def test_unix_listener_removes_its_socket_when_stopped_by_a_signal(self):
        import signal
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=sig.name), tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "nc.sock")
                with SockitListener("-U", path, stdin=None) as listener:
                    self.assertTrue(os.path.exists(path))
                    listener.proc.send_signal(sig)
                    listener.proc.wait(timeout=10)
                self.assertFalse(os.path.exists(path))

    def test_usage_errors(self):
        self.assertEqual(sockit_nc("127.0.0.1").returncode, 2)
        self.assertEqual(sockit_nc("-u", "-k", "-l", "9").returncode, 2)
        self.assertIn("Example", run("nc", "--help").stdout)

    @unittest.skipUnless(re.search(r"^\s+serve\s", run("--help").stdout, re.M), "sockit serve is not on this branch")
    def test_sockit_echo_service_both_protocols(self):
        from harness import Server
        with Server("serve", "echo:0") as server:
            host, port = server.address()
            proc = sockit_nc("127.0.0.1", str(port), input=b"echo me")
        self.assertEqual(proc.stdout, b"echo me")


if __name__ == "__main__":
    unittest.main()
