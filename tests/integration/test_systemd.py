"""sockit under systemd's protocols without systemd: `systemd-socket-activate` (Debian's systemd
package) opens the listening sockets and execs sockit with LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES,
as a .socket unit does; the test binds the notification socket (NOTIFY_SOCKET) and reads what
sockit reports there (READY=1, STOPPING=1).

One systemd-socket-activate passes sockets of one type, and passes on the ones it was given
itself: so a UDP one (--datagram) execs a TCP one, which execs sockit with both. Each waits for
traffic on a socket before it execs: the test's first datagram starts the chain, and sockit
answers it. The ports are picked free just before (systemd-socket-activate takes no port 0).
Loopback only."""

import os
import shutil
import signal
import socket
import tempfile
import unittest

from cascade_support import tracker_request
from harness import SOCKIT, Server, connect, recv_exactly

ACTIVATE = shutil.which("systemd-socket-activate")
STARTUP = 60  # sockit under ASan on a busy machine


def free_port():
    """A loopback port free for TCP and for UDP now."""
    for _ in range(50):
        with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no port free for both TCP and UDP")


def passed_environment(notify_path=None):
    """systemd-socket-activate passes its child only the variables named with -E: the
    notification socket and the sanitizers' options."""
    flags = [f"--setenv=NOTIFY_SOCKET={notify_path}"] if notify_path else []
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if name in os.environ:
            flags.append(f"--setenv={name}")
    return flags


class NotifySocket:
    """The AF_UNIX datagram socket a service manager reads notifications on, in a temp dir."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify")
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(self.path)
        self.messages = []

    def wait_for(self, assignment, timeout=STARTUP):
        """Reads notifications until one has the line `assignment` (e.g. "READY=1"); returns that
        notification's assignments as a dict."""
        self.socket.settimeout(timeout)
        while True:
            try:
                data = self.socket.recv(4096).decode()
            except socket.timeout:
                raise AssertionError(f"no {assignment} within {timeout}s; got {self.messages}") from None
            self.messages.append(data)
            lines = data.split("\n")
            if assignment in lines:
                return dict(line.split("=", 1) for line in lines if "=" in line)

    def close(self):
        self.socket.close()


def udp_exchange(port, payload, timeout=STARTUP):
    """Sends one datagram and waits (long: it may start the server) for the reply."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(payload, ("127.0.0.1", port))
        return s.recv(65536)


def start_by_connecting(port):
    """A TCP connection that makes systemd-socket-activate exec its program; closed at once."""
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


@unittest.skipUnless(ACTIVATE, "systemd-socket-activate is not installed (Debian's systemd package)")
class SocketActivationTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.notify = NotifySocket(self.dir.name)
        self.port = free_port()

    def tearDown(self):
        self.notify.close()
        self.dir.cleanup()

    def activate(self, *program, tcp=True, udp=False, name="echo", notify=True):
        """`program` under systemd-socket-activate with a TCP and/or a UDP socket on self.port named
        `name`; waits until the first socket is open (with both, the UDP one: the TCP one opens
        once a datagram has come)."""
        env = passed_environment(self.notify.path if notify else None)
        tcp_part = [ACTIVATE, "-l", f"127.0.0.1:{self.port}", f"--fdname={name}", *env] if tcp else []
        udp_part = [ACTIVATE, "--datagram", "-l", f"127.0.0.1:{self.port}", f"--fdname={name}", *env] if udp else []
        return Server(command=[*udp_part, *tcp_part, *program], ready=rf"Listening on 127.0.0.1:{self.port} as 3\.")

    def test_serves_a_tcp_and_a_udp_socket_it_was_given_and_says_ready_then_stopping(self):
        with self.activate(SOCKIT, "serve", tcp=True, udp=True) as server:
            # The datagram that starts it all is served once sockit runs: nothing is lost.
            self.assertEqual(udp_exchange(self.port, b"first datagram"), b"first datagram")
            ready = self.notify.wait_for("READY=1")
            self.assertEqual(ready["STATUS"], "serving echo on 2 listeners, TCP model epoll")
            server.wait_for(rf"listening on 127.0.0.1:{self.port} \(echo/tcp")
            server.wait_for(rf"listening on 127.0.0.1:{self.port} \(echo/udp")
            with connect("127.0.0.1", self.port) as c:
                c.sendall(b"over tcp\n")
                self.assertEqual(recv_exactly(c, 9), b"over tcp\n")
            self.assertEqual(udp_exchange(self.port, b"again"), b"again")
            # Given sockets, it bound none of its own: these two are all it listens on.
            self.assertEqual(len([l for l in server.lines if l.startswith("listening on")]), 2, server.output())
            self.assertEqual(server.stop(signal.SIGTERM), 0, server.output())
            self.assertEqual(self.notify.wait_for("STOPPING=1", timeout=10)["STATUS"], "stopping: finishing connections")

    def test_ignores_sockets_meant_for_another_process(self):
        # The shell between says LISTEN_PID=1: sockit must take fd 3 for none of its own and bind
        # its own socket, as sd_listen_fds() does.
        wrong_pid = ["sh", "-c", 'LISTEN_PID=1 exec "$0" "$@"', SOCKIT, "serve", "echo:0", "--tcp",
                     "--listen", "127.0.0.1"]
        with self.activate(*wrong_pid) as server:
            start_by_connecting(self.port)
            m = server.wait_for(r"listening on 127.0.0.1:(\d+) \(echo/tcp", timeout=STARTUP)
            self.assertNotEqual(int(m.group(1)), self.port)
            with connect("127.0.0.1", int(m.group(1))) as c:
                c.sendall(b"own socket\n")
                self.assertEqual(recv_exactly(c, 11), b"own socket\n")
            self.assertEqual(self.notify.wait_for("READY=1")["STATUS"], "serving echo on 1 listener, TCP model epoll")

    def test_a_socket_that_matches_no_service_is_a_clear_error(self):
        with self.activate(SOCKIT, "serve", "echo:0", name="bogus") as server:
            start_by_connecting(self.port)
            self.assertEqual(server.wait_exit(STARTUP), 2, server.output())
            self.assertIn(f"sockit serve: socket activation: fd 3 'bogus' (TCP 127.0.0.1:{self.port}) matches no "
                          "service: name it after one (FileDescriptorName=echo) or bind the port of one (echo 0)",
                          server.output())

    def test_a_tcp_socket_for_a_udp_only_service_is_a_clear_error(self):
        with self.activate(SOCKIT, "serve", name="length") as server:
            start_by_connecting(self.port)
            self.assertEqual(server.wait_exit(STARTUP), 2, server.output())
            self.assertIn(f"socket activation: fd 3 'length' (TCP 127.0.0.1:{self.port}) is a TCP socket, but length "
                          "is UDP only", server.output())

    def test_without_names_a_socket_goes_to_the_service_of_its_port(self):
        with self.activate(SOCKIT, "serve", "fib:0", f"daytime:{self.port}", "--tcp", "--listen", "127.0.0.1",
                           name="sockit.socket") as server:
            start_by_connecting(self.port)
            self.notify.wait_for("READY=1")
            server.wait_for(rf"listening on 127.0.0.1:{self.port} \(daytime/tcp")
            server.wait_for(r"listening on 127.0.0.1:\d+ \(fib/tcp")  # not given one: binds its own
            with connect("127.0.0.1", self.port) as c:
                self.assertRegex(c.recv(64), rb"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n$")

    def test_sighup_says_reloading_then_ready_and_systemds_socket_is_served_throughout(self):
        # A reload between RELOADING=1 and READY=1 (Type=notify-reload). The service systemd gave a
        # socket keeps it across reloads that change it (a new model run takes it over); a file
        # that drops the service while its socket unit still passes the socket is refused.
        config = os.path.join(self.dir.name, "sockit.toml")
        fib = '[services.fib]\nport = 0\nlisten = "127.0.0.1"\n'

        def reload(text):
            with open(config + ".new", "w") as f:
                f.write(text)
            os.replace(config + ".new", config)
            server.proc.send_signal(signal.SIGHUP)
            self.assertIn("MONOTONIC_USEC", self.notify.wait_for("RELOADING=1", timeout=20))
            self.assertTrue(self.notify.wait_for("READY=1", timeout=20)["STATUS"].startswith("serving echo fib"))

        with open(config, "w") as f:
            f.write('[services.echo]\ntransport = "tcp"\n' + fib)
        with self.activate(SOCKIT, "serve", "--config", config) as server:
            start_by_connecting(self.port)
            self.notify.wait_for("READY=1")
            server.wait_for(rf"listening on 127.0.0.1:{self.port} \(echo/tcp")
            with connect("127.0.0.1", self.port) as held:
                held.sendall(b"1")
                self.assertEqual(recv_exactly(held, 1), b"1")
                reload('[services.echo]\ntransport = "tcp"\nmodel = "thread"\n' + fib)
                server.wait_for(r"reloaded \S+: changed echo")
                with connect("127.0.0.1", self.port) as fresh:
                    fresh.sendall(b"2")
                    self.assertEqual(recv_exactly(fresh, 1), b"2")
                reload(fib)
                server.wait_for(r"rejected; the running configuration stays: socket activation: fd 3 'echo' "
                                r"\(TCP 127\.0\.0\.1:\d+\) is named after a service not asked for here")
                held.sendall(b"3")
                self.assertEqual(recv_exactly(held, 1), b"3", "the connection open since the start goes on")
            with connect("127.0.0.1", self.port) as again:
                again.sendall(b"4")
                self.assertEqual(recv_exactly(again, 1), b"4")
            self.assertEqual(server.stop(signal.SIGTERM), 0, server.output())

    def test_the_cascade_tracker_serves_its_socket(self):
        with self.activate(SOCKIT, "cascade", "tracker", "--allow-any", name="tracker") as server:
            start_by_connecting(self.port)
            ready = self.notify.wait_for("READY=1")
            self.assertEqual(ready["STATUS"], f"tracking any hash on 127.0.0.1:{self.port}")
            server.wait_for(rf"listening on 127.0.0.1:{self.port}")
            self.assertEqual(tracker_request(("127.0.0.1", self.port), 2, bytes(32), "127.0.0.1", 1111), (0, b""))
            self.assertEqual(server.stop(signal.SIGTERM), 0, server.output())
            self.notify.wait_for("STOPPING=1", timeout=10)


if __name__ == "__main__":
    unittest.main()
