"""The lab of hosts (lab.py): reachability, the uplink rate, loss, a pulled cable, netem's probe,
and teardown that leaves no namespace behind."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import unittest

import lab
from lab import Lab, LabError, namespaces

SKIP = lab.namespaces_unavailable()

# Run inside a host: accepts one TCP connection on ADDRESS (port 0), prints the port, then reads to
# EOF and prints "BYTES SECONDS" from the first byte to EOF (0 seconds when nothing came).
TIMED_SINK = r'''
import socket, sys, time
listener = socket.socket()
listener.bind((sys.argv[1], 0))
listener.listen(1)
listener.settimeout(20)
print(listener.getsockname()[1], flush=True)
conn, _ = listener.accept()
conn.settimeout(20)
total, first = 0, None
while True:
    chunk = conn.recv(1 << 16)
    if not chunk:
        break
    first = first or time.monotonic()
    total += len(chunk)
print(total, time.monotonic() - (first or time.monotonic()), flush=True)
'''

# Run inside a host: counts UDP datagrams on ADDRESS (port 0) until none came for a second.
UDP_COUNTER = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind((sys.argv[1], 0))
print(s.getsockname()[1], flush=True)
s.settimeout(10)
count = 0
try:
    while True:
        s.recv(2048)
        count += 1
        s.settimeout(1)
except socket.timeout:
    pass
print(count, flush=True)
'''

# Run inside a host: sends COUNT datagrams of 200 bytes to HOST PORT, 5 at a time, 1 ms apart (the
# receiver's buffer holds a few hundred).
UDP_BURST = r'''
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(i.to_bytes(4, "big") * 50, (sys.argv[1], int(sys.argv[2])))
    if i % 5 == 4:
        time.sleep(0.001)
'''

# Run inside a host: exit 0 if a TCP connect to HOST PORT succeeds within a second, else 1.
CAN_CONNECT = r'''
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
except OSError:
    sys.exit(1)
'''

# Run inside a host: prints how long a TCP connect to HOST PORT (a closed port) takes to be refused.
REFUSAL_TIME = r'''
import socket, sys, time
start = time.monotonic()
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5).close()
except OSError:
    pass
print(time.monotonic() - start)
'''


def python_in(host, code, *args, **options):
    """A Python process running `code` with `args` on `host`, lines of text on stdout."""
    return host.popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                      text=True, **options)


def first_line(proc, timeout=10):
    """The first stdout line of proc (bounded: the process is killed if it prints nothing in time)."""
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        line = proc.stdout.readline()
    finally:
        killer.cancel()
    if not line:
        raise AssertionError(f"no output within {timeout}s; stderr: {proc.stderr.read()}")
    return line.strip()


def lab_namespaces(lab_id):
    return [name for name in namespaces() if name.startswith(lab_id + "-")]


@unittest.skipIf(SKIP, SKIP)
class LabTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(hosts=3).start()
        cls.h1, cls.h2, cls.h3 = cls.lab.hosts

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()
        assert lab_namespaces(cls.lab.id) == [], f"left behind: {lab_namespaces(cls.lab.id)}"

    def test_hosts_have_their_addresses_and_one_route_inside_the_lab_only(self):
        self.assertEqual([h.address for h in self.lab.hosts], ["10.77.0.1", "10.77.0.2", "10.77.0.3"])
        routes = self.h1.run(["ip", "-4", "route"]).stdout.strip().splitlines()
        self.assertEqual(len(routes), 1, routes)
        self.assertTrue(routes[0].startswith("10.77.0.0/16 dev eth0"), routes)
        # A route look-up sends nothing: it only shows there is no way out of the lab.
        self.assertNotEqual(self.h1.run(["ip", "route", "get", "192.0.2.1"], check=False).returncode, 0)
        root_addresses = subprocess.run(["ip", "-4", "addr"], capture_output=True, text=True, timeout=10).stdout
        self.assertNotIn("10.77.", root_addresses)

    def test_sockit_nc_carries_bytes_from_one_host_to_another(self):
        sink = self.h2.popen(self.h2.sockit("nc", "-l", "-v", "-n", "-w", "10", "10.77.0.2", "0"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        listening = sink.stderr.readline().decode()  # nc -w bounds this wait: it exits after 10 s
        port = re.search(r"listening on 10\.77\.0\.2:(\d+)", listening).group(1)
        sent = b"across the lab\n" * 1000
        self.h1.run(self.h1.sockit("nc", "-n", "-w", "5", "10.77.0.2", port), input=sent, text=False, timeout=15)
        out, _ = sink.communicate(timeout=15)
        self.assertEqual(out, sent)

    def test_uplink_rate_limit_paces_a_4_mib_transfer(self):
        self.h1.set_rate(20)
        try:
            sink = python_in(self.h2, TIMED_SINK, "10.77.0.2")
            port = first_line(sink)
            payload = os.urandom(4 << 20)
            self.h1.run(self.h1.sockit("nc", "-n", "-w", "10", "10.77.0.2", port), input=payload, text=False,
                        timeout=30)
            total, seconds = sink.communicate(timeout=30)[0].split()
        finally:
            self.h1.set_rate(None)
        expected = len(payload) * 8 / 20e6
        print(f"\n4 MiB over a 20 Mbit/s uplink: {float(seconds):.2f} s (payload alone at the rate: {expected:.2f} s)")
        self.assertEqual(int(total), len(payload))
        self.assertLess(abs(float(seconds) - expected), 0.25 * expected)

    def test_loss_of_200_per_mille_drops_about_a_fifth_of_a_udp_burst(self):
        self.h1.set_loss(200)
        try:
            counter = python_in(self.h2, UDP_COUNTER, "10.77.0.2")
            port = first_line(counter)
            self.h1.run([sys.executable, "-c", UDP_BURST, "10.77.0.2", port, "1000"], timeout=20)
            received = int(counter.communicate(timeout=20)[0])
        finally:
            self.h1.set_loss(None)
        print(f"\n1000 datagrams with 20% loss on the sender's uplink: {received} arrived")
        self.assertGreaterEqual(1000 - received, 100)
        self.assertLessEqual(1000 - received, 300)

    def test_a_pulled_cable_cuts_the_host_off_until_it_is_plugged_back(self):
        listener = python_in(self.h3, TIMED_SINK, "10.77.0.3")
        port = first_line(listener)
        can_connect = [sys.executable, "-c", CAN_CONNECT, "10.77.0.3", port]
        self.h3.set_link(False)
        try:
            self.assertEqual(self.h1.run(can_connect, check=False).returncode, 1)
        finally:
            self.h3.set_link(True)
        self.assertEqual(self.h1.run(can_connect, check=False).returncode, 0)
        listener.communicate(timeout=10)

    def test_netem_probe_matches_what_delay_does(self):
        if lab.netem_available():
            self.h1.set_delay(50)
            try:
                # A SYN to a closed port: its RST comes back after one round trip, delay included.
                seconds = float(self.h1.run([sys.executable, "-c", REFUSAL_TIME, "10.77.0.2", "9"]).stdout)
                self.assertGreaterEqual(seconds, 0.05)
            finally:
                self.h1.set_delay(None)
        else:
            with self.assertRaisesRegex(LabError, "no sch_netem"):
                self.h1.set_delay(10)
            tc = subprocess.run(["tc", "-n", self.h1.namespace, "qdisc", "add", "dev", "eth0", "root", "netem",
                                 "delay", "10ms"], capture_output=True, text=True, timeout=10)
            self.assertIn("Specified qdisc kind is unknown", tc.stderr)


@unittest.skipIf(SKIP, SKIP)
class TeardownTest(unittest.TestCase):
    def test_an_exception_in_the_body_still_removes_every_namespace_and_process(self):
        with self.assertRaises(RuntimeError):
            with Lab(hosts=2) as the_lab:
                sleeper = the_lab.host(1).popen(["sleep", "30"])
                self.assertEqual(len(lab_namespaces(the_lab.id)), 3)
                raise RuntimeError("the test body failed")
        self.assertEqual(lab_namespaces(the_lab.id), [])
        self.assertIsNotNone(sleeper.poll())

    def test_the_machines_own_namespace_gets_no_interface_address_or_route(self):
        def root_network():
            return [subprocess.run(["ip", "-o", *what], capture_output=True, text=True, timeout=10).stdout
                    for what in (["link"], ["addr"], ["route"], ["-6", "route"])]
        before = root_network()
        with Lab(hosts=2, rate_mbit=10, loss_permille=10):
            self.assertEqual(root_network(), before)

    def test_sigterm_to_a_lab_run_by_hand_removes_it(self):
        self._lab_by_hand_ends(signal.SIGTERM)

    def test_sigkill_to_a_lab_run_by_hand_leaves_it_to_the_watchdog(self):
        self._lab_by_hand_ends(signal.SIGKILL)

    def _lab_by_hand_ends(self, sig):
        proc = subprocess.Popen([sys.executable, "-m", "lab", "up", "--hosts", "2", "--lifetime", "60"],
                                cwd=os.path.dirname(os.path.abspath(__file__)), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            ready = ""
            for _ in range(3):
                ready = first_line(proc)
            lab_id = re.search(r"lab (\S+) ready", ready).group(1)
            self.assertEqual(len(lab_namespaces(lab_id)), 3)
            proc.send_signal(sig)
            proc.wait(timeout=10)
            deadline = time.monotonic() + 5
            while lab_namespaces(lab_id) and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(lab_namespaces(lab_id), [])
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
            proc.stdout.close()
            proc.stderr.close()

    def test_the_watchdog_removes_a_lab_that_outlives_its_lifetime(self):
        with Lab(hosts=1, lifetime=1) as the_lab:
            deadline = time.monotonic() + 5
            while lab_namespaces(the_lab.id) and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(lab_namespaces(the_lab.id), [])

    def test_cleanup_removes_a_dead_creators_namespaces_and_spares_live_labs(self):
        dead = subprocess.Popen(["true"])
        dead.wait(timeout=5)
        leftover = f"{lab.PREFIX}{dead.pid}-000000-h1"
        subprocess.run(["ip", "netns", "add", leftover], check=True, timeout=10)
        with Lab(hosts=1) as live:
            removed = lab.cleanup()
            self.assertIn(leftover, removed)
            self.assertNotIn(leftover, namespaces())
            self.assertEqual(len(lab_namespaces(live.id)), 2)

    def test_a_lab_asked_for_delay_without_netem_is_refused_before_it_is_made(self):
        if lab.netem_available():
            self.skipTest("this kernel has sch_netem")
        before = [n for n in namespaces() if n.startswith(f"{lab.PREFIX}{os.getpid()}-")]
        with self.assertRaisesRegex(LabError, "no sch_netem"):
            Lab(hosts=1, delay_ms=10).start()
        self.assertEqual([n for n in namespaces() if n.startswith(f"{lab.PREFIX}{os.getpid()}-")], before)


if __name__ == "__main__":
    unittest.main()
