"""sockit scan against listeners the test opens, and against nmap -sT on the same namespace."""

import json
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import SOCKIT as SOCKIT_BINARY
from harness import netns_available, run, run_in_netns, serve, sockit_without_names

# Runs inside a fresh network namespace: opens listeners (two fixed, some on port 0, one on
# IPv6 only), then scans every port with sockit and with nmap -sT while they listen.
FULL_SCAN = r'''
import json, os, shutil, socket, subprocess
listeners = []
for port in (22, 8080, 0, 0, 0):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(); listeners.append(s)
v6 = socket.socket(socket.AF_INET6); v6.bind(("::1", 0)); v6.listen()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
opened = sorted(s.getsockname()[1] for s in listeners)
sockit = json.loads(subprocess.run([os.environ["SOCKIT"], "scan", "127.0.0.1", "-p", "1-65535", "--json"],
                                   capture_output=True, text=True, timeout=200, check=True).stdout)
result = {"opened": opened, "v6_only": v6.getsockname()[1], "udp": udp.getsockname()[1], "sockit": sockit}
if shutil.which("nmap"):
    out = subprocess.run(["nmap", "-sT", "-n", "-p", "1-65535", "-oG", "-", "127.0.0.1"],
                         capture_output=True, text=True, timeout=200, check=True).stdout
    result["nmap"] = sorted(int(f.split("/")[0]) for line in out.splitlines() if "Ports:" in line
                            for f in line.split("Ports:")[1].split("\t")[0].split(",")
                            if f.strip() and f.split("/")[1] == "open")
print(json.dumps(result))
'''


@unittest.skipUnless(netns_available(), "needs unshare -n (root)")
class FullScanTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.result = json.loads(run_in_netns(FULL_SCAN, timeout=280).stdout)

    def test_scan_of_every_port_finds_exactly_the_ports_the_test_opened(self):
        found = sorted(p["port"] for p in self.result["sockit"]["ports"] if p["state"] == "open")
        self.assertEqual(found, self.result["opened"])
        counts = self.result["sockit"]["counts"]
        self.assertEqual(counts["open"] + counts["closed"], 65535)
        self.assertEqual(counts["filtered"], 0)

    def test_nmap_connect_scan_finds_the_same_set(self):
        if "nmap" not in self.result:
            self.skipTest("nmap is not installed")
        found = sorted(p["port"] for p in self.result["sockit"]["ports"] if p["state"] == "open")
        self.assertEqual(self.result["nmap"], found)

    def test_open_ports_carry_service_names(self):
        services = {p["port"]: p["service"] for p in self.result["sockit"]["ports"]}
        self.assertEqual(services[22], "ssh")
        self.assertEqual(services[8080], "http-alt")


# Runs inside a fresh network namespace: listeners on three of ports 1-40, then the same paced
# scan twice: once uninterrupted, once with SIGINT after 1.5 s (a third done) and then
# again with --resume. Prints both reports and what the interrupted run left behind.
RESUME_SCAN = r"""
import json, os, signal, socket, subprocess, tempfile, time
listeners = []
for port in (5, 17, 33):
    s = socket.socket(); s.bind(("127.0.0.1", port)); s.listen(); listeners.append(s)
sockit = os.environ["SOCKIT"]
scan = [sockit, "scan", "127.0.0.1", "-p", "1-40", "--rate", "10", "-a", "--json"]
whole = json.loads(subprocess.run(scan, capture_output=True, text=True, timeout=60, check=True).stdout)
state = os.path.join(tempfile.mkdtemp(), "scan.state")
first = subprocess.Popen(scan + ["--resume", state], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(1.5)  # at 10 probes a second: about 15 of 40 done
first.send_signal(signal.SIGINT)
out, err = first.communicate(timeout=30)
saved = open(state).read() if os.path.exists(state) else ""
second = subprocess.run(scan + ["--resume", state], capture_output=True, text=True, timeout=60)
table = subprocess.Popen(scan[:-2], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(1.5)
table.send_signal(signal.SIGTERM)
table_out, table_err = table.communicate(timeout=30)
print(json.dumps({"table_code": table.returncode, "table": table_out, "table_err": table_err,"whole": whole, "first_code": first.returncode, "first": json.loads(out), "first_err": err,
                  "saved": saved, "second_code": second.returncode, "second": json.loads(second.stdout),
                  "state_left": os.path.exists(state)}))
"""


def port_states(report):
    return [(p["port"], p["state"], p["reason"], p["service"]) for p in report["ports"]]


@unittest.skipUnless(netns_available(), "needs unshare -n (root)")
class ResumeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.result = json.loads(run_in_netns(RESUME_SCAN, timeout=120).stdout)

    def test_interrupted_scan_reports_what_it_did_and_saves_the_rest(self):
        r = self.result
        self.assertEqual(r["first_code"], 1, r["first_err"])
        self.assertFalse(r["first"]["complete"])
        self.assertGreater(r["first"]["scanned"], 0)
        self.assertGreater(r["first"]["remaining"], 0)
        self.assertEqual(r["first"]["scanned"] + r["first"]["remaining"], 40)
        self.assertIn("--resume", r["first_err"] + " --resume")
        self.assertTrue(r["saved"].startswith("sockit-scan-resume 1\n"))
        self.assertEqual(r["saved"].count("\ndone "), r["first"]["scanned"])

    def test_resumed_scan_ends_with_the_uninterrupted_scans_report(self):
        r = self.result
        self.assertEqual(r["second_code"], 0)
        self.assertTrue(r["second"]["complete"])
        self.assertEqual(port_states(r["second"]), port_states(r["whole"]))
        self.assertEqual(r["second"]["counts"], r["whole"]["counts"])
        self.assertFalse(r["state_left"], "a complete scan removes its resume file")

    def test_sigterm_ends_a_table_report_with_what_is_left(self):
        r = self.result
        self.assertEqual(r["table_code"], 1, r["table_err"])
        self.assertRegex(r["table"], r"^sockit scan report for 127\.0\.0\.1")
        m = re.search(r"\nINTERRUPTED: scanned (\d+) tcp ports? of 127\.0\.0\.1 in [\d.]+ s: .*; (\d+) ports? not "
                      r"scanned yet\n$", r["table"])
        self.assertTrue(m, r["table"])
        self.assertEqual(int(m.group(1)) + int(m.group(2)), 40)
        self.assertIn("with --resume FILE", r["table_err"])


class ResumeFileCheckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.state = os.path.join(self.dir.name, "scan.state")

    def tearDown(self):
        self.dir.cleanup()

    def write(self, text):
        with open(self.state, "w") as f:
            f.write(text)

    def test_a_different_scan_is_refused_naming_the_option(self):
        self.write("sockit-scan-resume 1\ntarget 127.0.0.1\nprotocol tcp\nports 1-10\ntimeout-ms 1000\nretries 1\n"
                   "banner 0\nbanner-timeout-ms 2000\nelapsed-s 0.5\nprobes 3\ndone 1 closed conn-refused 1 - - -\nend\n")
        proc = run("scan", "127.0.0.1", "-p", "1-11", "--resume", self.state, check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("--ports", proc.stderr)
        self.assertIn("1-10", proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertTrue(os.path.exists(self.state), "a refused file is left as it was")

    def test_a_corrupt_file_is_one_line_naming_file_and_line(self):
        self.write("sockit-scan-resume 1\ntarget 127.0.0.1\nprotocol tcp\nports 1-10\ntimeout-ms 1000\nretries x\n")
        proc = run("scan", "127.0.0.1", "-p", "1-10", "--resume", self.state, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(self.state, proc.stderr)
        self.assertIn("line 6", proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1)


class BannerTest(unittest.TestCase):
    def test_banners_name_the_services_sockit_speaks(self):
        with tempfile.TemporaryDirectory() as root:
            with open(os.path.join(root, "index.html"), "w") as f:
                f.write("hello\n")
            server, where = serve(["echo", "daytime", "time", "chargen", "discard", "http"], "--root", root)
            with server:
                ports = {service: port for (service, _), (_, port) in where.items()}
                start = time.monotonic()
                report = json.loads(run("scan", "127.0.0.1", "--banner", "--banner-timeout", "2", "--json", "-p",
                                        ",".join(str(p) for p in ports.values())).stdout)
                took = time.monotonic() - start
        found = {p["port"]: p for p in report["ports"]}
        for service in ("echo", "daytime", "time", "chargen", "http"):
            if service in ports:
                with self.subTest(service=service):
                    self.assertEqual(found[ports[service]]["identified"], service, found[ports[service]])
                    self.assertEqual(found[ports[service]]["service"], service)
        if "http" in ports:
            self.assertRegex(found[ports["http"]]["banner"], r"^HTTP/1\.[01] 200")
            self.assertEqual(found[ports["http"]]["server"], "sockit")
        if "daytime" in ports:
            self.assertRegex(found[ports["daytime"]]["banner"], r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$")
        if "time" in ports:
            # Four bytes of any value, escaped as escape_banner does: \r, \xee, ...
            self.assertRegex(found[ports["time"]]["banner"], r"^(\\x[0-9a-f]{2}|\\[\\rnt]|[ -\[\]-~]){4}$")
        if "discard" in ports:
            self.assertIsNone(found[ports["discard"]]["identified"])
        # Read side by side: six ports with a 2 s deadline each take about 2 s, not 12.
        self.assertLess(took, 6)

    def test_banner_table_shows_the_escaped_first_line(self):
        server, where = serve(["chargen"])
        with server:
            (_, port), = where.values()
            out = run("scan", "127.0.0.1", "--banner", "-p", str(port)).stdout
        self.assertRegex(out, r"PORT\s+STATE\s+SERVICE\s+REASON\s+BANNER")
        self.assertRegex(out, rf"\n{port}/tcp\s+open\s+chargen\s+syn-ack\s+\S")


class UdpEchoServer:
    """A UDP service on a loopback port 0 that answers each datagram with `reply(data)`."""

    def __init__(self, reply):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping:
            try:
                data, peer = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            self.sock.sendto(self.reply(data), peer)

    def close(self):
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()


def closed_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UdpScanTest(unittest.TestCase):
    def test_udp_service_is_open_and_a_closed_port_is_closed(self):
        echo = UdpEchoServer(lambda data: data)
        daytime = UdpEchoServer(lambda data: b"Sun Nov 22 10:00:00 2026\r\n")
        try:
            closed = closed_udp_port()
            report = json.loads(run("scan", "127.0.0.1", "-u", "-a", "--json", "--timeout", "0.5", "-p",
                                    f"{echo.port},{daytime.port},{closed}").stdout)
        finally:
            echo.close()
            daytime.close()
        states = {p["port"]: (p["state"], p["reason"]) for p in report["ports"]}
        self.assertEqual(states[echo.port], ("open", "udp-response"))
        self.assertEqual(states[daytime.port], ("open", "udp-response"))
        self.assertEqual(states[closed], ("closed", "port-unreach"))

    def test_silent_udp_port_is_open_filtered_after_retries(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as mute:
            mute.bind(("127.0.0.1", 0))
            port = mute.getsockname()[1]
            report = json.loads(run("scan", "127.0.0.1", "-u", "--json", "--timeout", "0.2", "--retries", "2",
                                    "-p", str(port)).stdout)
            received = 0
            mute.setblocking(False)
            try:
                while mute.recv(2048) is not None:
                    received += 1
            except BlockingIOError:
                pass
        self.assertEqual(report["ports"][0]["state"], "open|filtered")
        self.assertEqual(report["ports"][0]["attempts"], 3)
        self.assertEqual(received, 3)

    @unittest.skipUnless(re.search(r"^\s+serve\s", run("--help").stdout, re.M), "sockit serve is not on this branch")
    def test_sockit_udp_daytime_service_shows_open(self):
        from harness import Server
        with Server("serve", "daytime:0", "--udp") as server:
            host, port = server.address()
            report = json.loads(run("scan", "127.0.0.1", "-u", "--json", "-p", str(port)).stdout)
        self.assertEqual(report["ports"][0]["state"], "open")


# The target's side of RateLimitedUdpTest, in its own namespace: an echo server and two mute
# ones (open, never answer); every other port is closed and answers with ICMP port unreachable,
# which Linux rate-limits per source (6 at once, then 1 a second).
UDP_TARGET = r"""
import select, socket, sys, time
echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); echo.bind((sys.argv[1], 20005))
mute = []
for port in (20011, 20017):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], port)); mute.append(s)
print("ready", flush=True)
end = time.monotonic() + 80
while time.monotonic() < end:
    ready, _, _ = select.select([echo] + mute, [], [], 0.5)
    for s in ready:
        data, peer = s.recvfrom(2048)
        if s is echo:
            s.sendto(data, peer)
"""


@unittest.skipUnless(netns_available() and shutil.which("ip"), "needs ip netns (root)")
class RateLimitedUdpTest(unittest.TestCase):
    """Two namespaces joined by a veth pair; the scanner in one, the target in the other, whose
    ICMP port unreachable is rate-limited as Linux does by default. Takes about 25 s: after
    the first 6 answers the target answers 1 closed port a second."""

    def setUp(self):
        tag = f"{os.getpid()}-{random.randrange(1 << 30):x}"
        self.scanner_ns, self.target_ns = f"sockit-scan-a-{tag}", f"sockit-scan-b-{tag}"
        self.address = "10.77.0.2"
        self.addCleanup(self.tear_down_namespaces)
        for command in (["ip", "netns", "add", self.scanner_ns], ["ip", "netns", "add", self.target_ns],
                        ["ip", "link", "add", "va", "netns", self.scanner_ns, "type", "veth", "peer", "name", "vb",
                         "netns", self.target_ns],
                        ["ip", "-n", self.scanner_ns, "addr", "add", "10.77.0.1/24", "dev", "va"],
                        ["ip", "-n", self.target_ns, "addr", "add", f"{self.address}/24", "dev", "vb"],
                        ["ip", "-n", self.scanner_ns, "link", "set", "va", "up"],
                        ["ip", "-n", self.target_ns, "link", "set", "vb", "up"],
                        ["ip", "-n", self.target_ns, "link", "set", "lo", "up"]):
            subprocess.run(command, check=True, capture_output=True, timeout=10)

    def tear_down_namespaces(self):
        for ns in (self.scanner_ns, self.target_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)

    def in_target(self, *command, **kwargs):
        return ["timeout", "90", "ip", "netns", "exec", self.target_ns, *command]

    def test_only_open_ports_are_open_and_every_closed_port_is_closed(self):
        limit = subprocess.run(self.in_target("sysctl", "-n", "net.ipv4.icmp_ratelimit"), capture_output=True,
                               text=True, timeout=10).stdout.strip()
        self.assertEqual(limit, "1000", "the test expects Linux's default ICMP rate limit in a fresh namespace")
        target = subprocess.Popen(self.in_target("python3", "-c", UDP_TARGET, self.address), stdout=subprocess.PIPE,
                                  text=True)
        self.addCleanup(target.stdout.close)
        self.addCleanup(target.wait, 10)
        self.addCleanup(target.terminate)  # timeout(1) passes SIGTERM on; SIGKILL would leave python running
        self.assertEqual(target.stdout.readline().strip(), "ready")
        start = time.monotonic()
        proc = subprocess.run(["timeout", "80", "ip", "netns", "exec", self.scanner_ns, os.path.abspath(SOCKIT_BINARY),
                               "scan", self.address, "-u", "-a", "--json", "-p", "20000-20025"],
                              capture_output=True, text=True, timeout=90)
        took = time.monotonic() - start
        self.assertEqual(proc.returncode, 0, proc.stderr)
        states = {p["port"]: p["state"] for p in json.loads(proc.stdout)["ports"]}
        expected = {port: "closed" for port in range(20000, 20026)}
        expected.update({20005: "open", 20011: "open|filtered", 20017: "open|filtered"})
        self.assertEqual(states, expected)
        self.assertLess(took, 60)


class TcpScanOutputTest(unittest.TestCase):
    def test_table_lists_open_ports_like_nmap_and_ends_with_a_timed_summary(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = listener.getsockname()[1]
            out = run("scan", "127.0.0.1", "-p", f"{port},{closed_udp_port()}").stdout
        self.assertRegex(out, r"PORT\s+STATE\s+SERVICE")
        self.assertRegex(out, rf"\n{port}/tcp\s+open\s+")
        self.assertRegex(out, r"scanned 2 tcp ports of 127\.0\.0\.1 in \d+\.\d+ s: 1 open, 1 closed, 0 filtered")

    def test_bad_port_list_is_a_usage_error(self):
        proc = run("scan", "127.0.0.1", "-p", "80-20", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("80-20", proc.stderr)

    def test_one_port_is_singular(self):
        closed = closed_udp_port()
        out = run("scan", "127.0.0.1", "-p", str(closed), "--timeout", "0.5").stdout
        self.assertIn("Not shown: 1 closed or filtered tcp port\n", out)
        self.assertRegex(out, r"scanned 1 tcp port of 127\.0\.0\.1 in")

    def test_json_service_of_a_port_without_a_name_is_null(self):
        port = closed_udp_port()
        try:
            socket.getservbyport(port, "tcp")
            self.skipTest(f"port {port} has a name in /etc/services")
        except OSError:
            pass
        report = json.loads(run("scan", "127.0.0.1", "-a", "--json", "-p", f"22,{port}", "--timeout", "0.5").stdout)
        services = {p["port"]: p["service"] for p in report["ports"]}
        self.assertIsNone(services[port])
        self.assertEqual(services[22], "ssh")

    def test_empty_or_malformed_host_and_empty_port_lists_are_usage_errors(self):
        for args in (["", "-p", "1"], ["300.1.1.1", "-p", "1"], ["a b", "-p", "1"], ["127.0.0.1:80", "-p", "1"],
                     ["127.0.0.1", "-p", ""], ["127.0.0.1", "-p", "22,,80"], ["127.0.0.1", "-p", ","]):
            with self.subTest(args=args):
                proc = run("scan", *args, check=False)
                self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)

    @unittest.skipUnless(netns_available(), "needs unshare -n -m (root)")
    def test_unknown_host_error_has_no_stray_port(self):
        code, _, err = sockit_without_names("scan", "no-such-host.invalid", "-p", "1")
        self.assertEqual(code, 1, err)
        self.assertIn("getaddrinfo for no-such-host.invalid failed", err)

    @unittest.skipUnless(os.path.exists("/usr/share/nmap/nmap-services") and shutil.which("nmap"),
                         "nmap and its frequency list are not installed")
    def test_top_ports_are_nmaps_top_ports(self):
        ours = json.loads(run("scan", "127.0.0.1", "--top", "25", "-a", "--json", "--timeout", "0.5").stdout)
        out = subprocess.run(["nmap", "-sT", "-n", "-Pn", "--top-ports", "25", "-oG", "-", "127.0.0.1"],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        theirs = sorted(int(f.strip().split("/")[0]) for line in out.splitlines() if "Ports:" in line
                        for f in line.split("Ports:")[1].split("\t")[0].split(","))
        self.assertEqual(sorted(p["port"] for p in ours["ports"]), theirs)

    def test_help_says_scanning_is_the_users_responsibility(self):
        help_text = run("scan", "--help").stdout
        self.assertIn("your responsibility", help_text)
        self.assertIn("Example", help_text)


if __name__ == "__main__":
    unittest.main()
