"""`sockit serve --config FILE` and `--check-config FILE` (issue 15, item 1): the example file in
packaging/sockit.toml starts exactly the services it declares, every mistake is named FILE:LINE:COLUMN: KEY, flags
override the file, and every flag has a key of the same meaning."""

import os
import re
import socket
import tempfile
import time
import tomllib
import unittest

from harness import Server, built_services, read_line, recv_exactly, recv_until_eof, run

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.normpath(os.path.join(HERE, "..", "..", "packaging", "sockit.toml"))
# Flags that are no setting: what to do instead of serving, or where the settings are.
# --admin and --admin-public are flags only: the admin endpoint is made once, at the start, and a
# reload of the file could not move it.
NOT_SETTINGS = {"--help", "--config", "--check-config", "--list-models", "--list-services", "--admin",
                "--admin-public"}


def example_on_free_ports(root):
    """The example with every port 0 and its http table (commented out: it needs a directory)
    uncommented, serving `root`."""
    with open(EXAMPLE) as f:
        text = f.read()
    lines = []
    in_http = False
    for line in text.splitlines():
        if line.startswith("# [services.http]"):
            in_http = True
        if in_http and re.match(r"# (\[|\w+ = )", line):
            line = line[2:]
        lines.append(line)
    text = "\n".join(lines) + "\n"
    text = re.sub(r"(?m)^port = .*$", "port = 0", text)
    return text.replace('root = "/srv/www"', f'root = "{root}"')


def declared(text):
    """{(service, transport)} the file declares: each service's transports, or the defaults',
    that the service has in this build."""
    doc = tomllib.loads(text)
    default = doc.get("defaults", {}).get("transport", ["tcp", "udp"])
    wanted = set()
    for name, table in doc["services"].items():
        transports = table.get("transport", default)
        transports = [transports] if isinstance(transports, str) else transports
        wanted |= {(name, t) for t in transports if t in built_services().get(name, set())}
    return wanted


def listening(server):
    """{(service, transport): [address, ...]} of the startup lines so far."""
    found = {}
    for m in re.finditer(r"listening on (\S+) \((\w+)/(tcp|udp)", server.output()):
        found.setdefault((m.group(2), m.group(3)), []).append(m.group(1))
    return found


def address(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


class Example(unittest.TestCase):
    def test_the_example_checks_as_shipped(self):
        proc = run("serve", "--check-config", EXAMPLE, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, f"{EXAMPLE}: ok: echo daytime time fib upper\n")

    def test_the_example_starts_exactly_the_services_it_declares(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "index.html"), "w") as f:
                f.write("hello\n")
            text = example_on_free_ports(tmp)
            config = write(tmp, "sockit.toml", text)
            wanted = declared(text)
            self.assertIn(("http", "tcp"), wanted)
            with Server("serve", "--config", config, ready=r"listening on") as server:
                for service, transport in sorted(wanted):
                    server.wait_for(rf"listening on \S+ \({service}/{transport}\b")
                found = listening(server)
                self.assertEqual(set(found), wanted, server.output())
                self.assertEqual(found[("upper", "tcp")], [found[("upper", "tcp")][0]], "upper listens on 127.0.0.1 only")
                self.assertRegex(server.output(), r"\(fib/tcp, model pool, 8 threads\)")
                self.assertRegex(server.output(), r"\(echo/tcp, model epoll, ")

                with socket.create_connection(address(found[("echo", "tcp")][0]), timeout=5) as s:
                    s.sendall(b"ping")
                    self.assertEqual(recv_exactly(s, 4), b"ping")
                with socket.create_connection(address(found[("fib", "tcp")][0]), timeout=5) as s:
                    s.sendall(b"10\n")
                    self.assertEqual(read_line(s), b"55\n")
                with socket.create_connection(address(found[("daytime", "tcp")][0]), timeout=5) as s:
                    self.assertRegex(recv_until_eof(s).decode(), r"^\d{4}-\d\d-\d\dT")  # format = "iso"
                with socket.create_connection(address(found[("http", "tcp")][0]), timeout=5) as s:
                    s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    self.assertTrue(recv_until_eof(s).endswith(b"\r\n\r\nhello\n"))
                self.assertEqual(server.close(), 0, server.output())


class CheckConfig(unittest.TestCase):
    def check(self, text):
        with tempfile.TemporaryDirectory() as tmp:
            path = write(tmp, "bad.toml", text)
            proc = run("serve", "--check-config", path, check=False)
            return proc, proc.stderr.replace(path, "bad.toml")

    def test_a_wrong_key_a_wrong_type_a_port_clash_and_a_bad_cidr_are_each_named_with_line_and_column(self):
        proc, errors = self.check('[services.echo]\nport = 7000\nprot = 7001\n'
                                  '[services.upper]\nport = 7000\nmax_line = "long"\n'
                                  '[services.fib]\nport = 9000\ndeny = ["10.0.0.0/8", "10.0.0.300"]\n')
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(errors.splitlines(), [
            "sockit serve: bad.toml:3:1: services.echo.prot: unknown key (did you mean port?)",
            "sockit serve: bad.toml:6:12: services.upper.max_line: expected a whole number from 1 to 1073741824, got a "
            "string",
            "sockit serve: bad.toml:9:23: services.fib.deny: bad CIDR '10.0.0.300': '10.0.0.300' is not a numeric "
            "IPv4 or IPv6 address",
        ])
        # Once those are right, the clash is what is left.
        proc, errors = self.check('[services.echo]\nport = 7000\n[services.upper]\nport = 7000\n')
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(errors, "sockit serve: bad.toml:4:8: services.upper.port: port 7000/tcp on 127.0.0.1 is "
                                 "echo's already\n")

    def test_a_toml_mistake_is_placed_too(self):
        proc, errors = self.check('[services.echo]\nport = 7000\nport = 7001\n')
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(errors, "sockit serve: bad.toml:3:8: not TOML: Error while parsing key-value pair: cannot redefine "
                                 "existing integer 'port'\n")

    def test_a_good_file_is_ok_and_serves_nothing(self):
        proc, _ = self.check('[services.echo]\nport = 0\n')
        self.assertEqual((proc.returncode, proc.stdout.endswith(": ok: echo\n")), (0, True), proc.stdout + proc.stderr)

    def test_a_missing_or_huge_file_is_named(self):
        proc = run("serve", "--check-config", "/nonexistent/sockit.toml", check=False)
        self.assertEqual((proc.returncode, proc.stderr),
                         (2, "sockit serve: /nonexistent/sockit.toml: No such file or directory\n"))
        proc = run("serve", "--check-config", "/dev/zero", check=False, timeout=30)
        self.assertEqual((proc.returncode, proc.stderr),
                         (2, "sockit serve: /dev/zero: larger than 1048576 bytes: not a config file\n"))

    def test_starting_with_a_bad_file_exits_2_with_every_mistake(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = write(tmp, "bad.toml", '[defaults]\nmodel = "nosuch"\n[services.echo]\nport = 0\n')
            proc = run("serve", "--config", path, check=False)
            self.assertEqual(proc.returncode, 2)
            self.assertRegex(proc.stderr, r"^sockit serve: \S+bad\.toml:2:9: defaults\.model: model 'nosuch' is unknown")


class PerServiceLimits(unittest.TestCase):
    def test_idle_timeout_and_max_line_from_the_file_apply_to_their_own_service(self):
        # upper has no lines to limit, fib does; each gets its own key, the other the default.
        with tempfile.TemporaryDirectory() as tmp:
            path = write(tmp, "sockit.toml", '[defaults]\nlisten = "127.0.0.1"\ntransport = "tcp"\n'
                                             '[services.upper]\nport = 0\nidle_timeout = 1\n'
                                             '[services.fib]\nport = 0\nmax_line = 10\n')
            with Server("serve", "--config", path, ready=r"listening on \S+ \(fib/tcp") as server:
                upper_port = int(server.wait_for(r"listening on 127\.0\.0\.1:(\d+) \(upper/tcp").group(1))
                fib_port = int(server.wait_for(r"listening on 127\.0\.0\.1:(\d+) \(fib/tcp").group(1))
                with socket.create_connection(("127.0.0.1", upper_port), timeout=10) as upper, \
                        socket.create_connection(("127.0.0.1", fib_port), timeout=10) as fib:
                    fib.sendall(b"0" * 18 + b"10\n")  # 21 bytes
                    self.assertEqual(read_line(fib), b"ERR line too long (max 10 bytes)\n")
                    fib.sendall(b"10\n")
                    self.assertEqual(read_line(fib), b"55\n")
                    upper.sendall(b"a\n")
                    self.assertEqual(recv_exactly(upper, 2), b"A\n")
                    began = time.monotonic()
                    self.assertEqual(recv_until_eof(upper), b"", "upper closes a client silent for 1 s")
                    self.assertLess(time.monotonic() - began, 8)
                    time.sleep(0.5)
                    fib.sendall(b"12\n")  # silent as long, and served: fib has the default 300 s
                    self.assertEqual(read_line(fib), b"144\n")
                server.wait_for(r"closed 127\.0\.0\.1:\d+ after 1 request \(idle for 1 s\)")


class FlagsAndKeys(unittest.TestCase):
    def test_flags_given_override_the_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = write(tmp, "sockit.toml", '[defaults]\nmodel = "pool"\nlisten = "127.0.0.1"\n'
                                             '[services.echo]\nport = 0\ntransport = "tcp"\n')
            with Server("serve", "--config", path, "--model", "thread", ready=r"listening on (\S+) \(echo/tcp") as server:
                self.assertIn("(echo/tcp, model thread, thread per connection)", server.output())
            # Services named on the command line replace the file's list; the file's settings stay.
            with Server("serve", "--config", path, "upper:0", ready=r"listening on (\S+) \(upper/tcp") as server:
                self.assertNotIn("echo/", server.output())
                self.assertIn("model pool", server.output())

    def test_every_flag_of_serve_has_a_key_in_the_example(self):
        help_text = run("serve", "--help").stdout
        flags = set(re.findall(r"^\s+(--[a-z][a-z-]*)", help_text, re.M)) - NOT_SETTINGS
        self.assertIn("--per-source", flags)
        with open(EXAMPLE) as f:
            example = f.read()
        missing = sorted(f for f in flags if not re.search(rf"# .*{re.escape(f)}\b", example))
        self.assertEqual(missing, [], "flags whose config key the example does not show")


if __name__ == "__main__":
    unittest.main()
