"""sockit sockets against ss on the same snapshot, and its filters."""

import json
import os
import socket
import tempfile
import unittest

from harness import netns_available, run, run_in_netns

# In a fresh network namespace: listeners over IPv4, IPv6, dual-stack and v6-only wildcards, one
# held by a child process too (two owning pids), and one UDP socket; then both listers, with
# nothing changing in between.
SNAPSHOT = r'''
import json, os, socket, subprocess, sys, time
made = []
for family, address, v6only in ((socket.AF_INET, "127.0.0.1", None), (socket.AF_INET, "0.0.0.0", None),
                                (socket.AF_INET6, "::1", None), (socket.AF_INET6, "::", 0), (socket.AF_INET6, "::", 1)):
    s = socket.socket(family)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((address, 0)); s.listen(); made.append(s)
shared = made[0]
child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE,
                         pass_fds=[shared.fileno()])
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
ours = subprocess.run([os.environ["SOCKIT"], "sockets", "-tlnp", "--json"], capture_output=True, text=True,
                      timeout=60, check=True).stdout
theirs = subprocess.run(["ss", "-tlnpH"], capture_output=True, text=True, timeout=60, check=True).stdout
table = subprocess.run([os.environ["SOCKIT"], "sockets", "-tlnp"], capture_output=True, text=True,
                       timeout=60, check=True).stdout
child.stdin.close(); child.wait(timeout=10)
print(json.dumps({"ours": json.loads(ours), "ss": theirs, "table": table, "child": child.pid,
                  "me": os.getpid(), "shared_port": shared.getsockname()[1]}))
'''


def split_endpoint(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]").split("%")[0]
    return ("::" if host == "*" else host), int(port)


def ss_listeners(output):
    import re
    found = set()
    for line in output.splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[0] != "LISTEN":
            continue
        host, port = split_endpoint(fields[3])
        pids = tuple(sorted(int(p) for p in re.findall(r"pid=(\d+)", line)))
        found.add((host, port, pids))
    return found


@unittest.skipUnless(netns_available(), "needs unshare -n (root)")
class AgainstSsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.snap = json.loads(run_in_netns(SNAPSHOT).stdout)

    def ours(self):
        return {(e["local"]["address"], e["local"]["port"], tuple(sorted(p["pid"] for p in e["processes"])))
                for e in self.snap["ours"]}

    def test_listening_tcp_sockets_and_pids_match_ss(self):
        self.assertEqual(len(self.snap["ours"]), 5)
        self.assertEqual(self.ours(), ss_listeners(self.snap["ss"]))

    def test_a_socket_shared_with_a_child_lists_both_pids(self):
        shared = [e for e in self.snap["ours"] if e["local"]["port"] == self.snap["shared_port"]][0]
        self.assertEqual(sorted(p["pid"] for p in shared["processes"]), sorted([self.snap["me"], self.snap["child"]]))

    def test_table_looks_like_ss(self):
        table = self.snap["table"]
        self.assertRegex(table, r"^Netid\s+State\s+Recv-Q\s+Send-Q\s+Local Address:Port\s+Peer Address:Port\s+Process")
        self.assertRegex(table, rf"tcp\s+LISTEN\s+0\s+\d+\s+127\.0\.0\.1:{self.snap['shared_port']}\s+0\.0\.0\.0:\*\s+"
                                r'users:\(\("python3",pid=\d+,fd=\d+\)')
        self.assertNotIn("udp", table)


def own_entries(args, port):
    return [e for e in json.loads(run("sockets", *args, "--json").stdout)
            if e["local"].get("port") == port or e["peer"].get("port") == port]


class FilterTest(unittest.TestCase):
    def setUp(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        self.client = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self.server, _ = self.listener.accept()

    def tearDown(self):
        for s in (self.server, self.client, self.listener):
            s.close()

    def test_default_lists_connections_not_listeners(self):
        states = sorted(e["state"] for e in own_entries(["-tn"], self.port))
        self.assertEqual(states, ["ESTAB", "ESTAB"])

    def test_all_lists_both(self):
        states = sorted(e["state"] for e in own_entries(["-tan"], self.port))
        self.assertEqual(states, ["ESTAB", "ESTAB", "LISTEN"])

    def test_state_and_port_filters(self):
        entries = json.loads(run("sockets", "-t", "--state", "listen", "--port", str(self.port), "--json").stdout)
        self.assertEqual([(e["state"], e["local"]["port"]) for e in entries], [("LISTEN", self.port)])

    def test_pid_filter_keeps_only_that_processes_sockets(self):
        entries = json.loads(run("sockets", "-ta", "--pid", str(os.getpid()), "--json").stdout)
        self.assertTrue(entries)
        for e in entries:
            self.assertIn(os.getpid(), [p["pid"] for p in e["processes"]])
        self.assertEqual(len([e for e in entries if self.port in (e["local"]["port"], e["peer"]["port"])]), 3)

    def test_tcp_info_shows_rtt_and_cwnd(self):
        out = run("sockets", "-tni", "--port", str(self.port)).stdout
        self.assertRegex(out, r"rtt:\d+\.\d+/\d+\.\d+ cwnd:\d+ mss:\d+ retrans:0/0")

    def test_proc_fallback_finds_the_same_sockets(self):
        netlink = {(e["state"], e["local"]["port"], e["peer"]["port"]) for e in own_entries(["-tan"], self.port)}
        proc = {(e["state"], e["local"]["port"], e["peer"]["port"]) for e in own_entries(["-tan", "--proc"], self.port)}
        self.assertEqual(netlink, proc)

    def test_service_names_unless_numeric(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", 13))  # daytime; root only
            except OSError:
                self.skipTest("cannot bind port 13")
            self.assertRegex(run("sockets", "-ul").stdout, r"127\.0\.0\.1:daytime")
            self.assertRegex(run("sockets", "-uln").stdout, r"127\.0\.0\.1:13\b")

    def test_watch_refreshes_the_given_number_of_times(self):
        out = run("sockets", "-tln", "--watch", "0.1", "--count", "3").stdout
        self.assertEqual(out.count("Netid"), 3)

    def test_help_has_an_example(self):
        self.assertIn("Example", run("sockets", "--help").stdout)

    def test_unknown_state_is_a_usage_error(self):
        self.assertEqual(run("sockets", "--state", "sleepy", check=False).returncode, 2)


class UsageTest(unittest.TestCase):
    """Issue 11, item 23: options that did nothing, silently."""

    def test_count_without_watch_is_a_usage_error(self):
        proc = run("sockets", "-tln", "--count", "3", check=False)
        self.assertEqual(proc.returncode, 2, proc.stdout)
        self.assertIn("--count requires --watch", proc.stderr)

    def test_pid_of_a_missing_process_is_an_error_not_an_empty_table(self):
        with open("/proc/sys/kernel/pid_max") as f:
            missing = int(f.read()) + 1  # above pid_max: no process can have it
        proc = run("sockets", "-ta", "--pid", str(missing), check=False)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertIn(f"no process with pid {missing}", proc.stderr)
        self.assertEqual(proc.stdout, "")


class UnixTest(unittest.TestCase):
    def test_unix_listener_is_listed_with_its_path(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "sock")
            with socket.socket(socket.AF_UNIX) as s:
                s.bind(path)
                s.listen()
                entries = json.loads(run("sockets", "-xl", "--json").stdout)
        mine = [e for e in entries if e["local"]["address"] == path]
        self.assertEqual([(e["netid"], e["state"]) for e in mine], [("u_str", "LISTEN")])


if __name__ == "__main__":
    unittest.main()
