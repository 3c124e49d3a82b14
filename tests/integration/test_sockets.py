"""sockit sockets against ss on the same snapshot, and its filters."""

import json
import os
import re
import socket
import subprocess
import tempfile
import unittest

from harness import LineFollower, netns_available, run, run_in_netns

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


# In a fresh network namespace: listeners on 127.0.0.1 and ::1 (ports picked by the kernel),
# three connections to the first and two to the second, one connection closed (its client's end
# in TIME-WAIT) and a UDP socket; then, for each filter, sockit's rows and ss's rows.
FILTER_SNAPSHOT = r'''
import json, os, socket, subprocess, sys, time
v4 = socket.socket(); v4.bind(("127.0.0.1", 0)); v4.listen()
v6 = socket.socket(socket.AF_INET6); v6.bind(("::1", 0)); v6.listen()
p4, p6 = v4.getsockname()[1], v6.getsockname()[1]
keep = []
for listener, address, count in ((v4, "127.0.0.1", 3), (v6, "::1", 2)):
    for _ in range(count):
        keep.append(socket.create_connection((address, listener.getsockname()[1]), timeout=5))
        keep.append(listener.accept()[0])
gone = socket.create_connection(("127.0.0.1", p4), timeout=5); accepted = v4.accept()[0]
gone.close(); accepted.recv(1); accepted.close()  # the client closed first: its end waits in TIME-WAIT
deadline = time.monotonic() + 10
while "TIME-WAIT" not in subprocess.run(["ss", "-tanH"], capture_output=True, text=True, timeout=10).stdout:
    if time.monotonic() > deadline:
        sys.exit("no TIME-WAIT socket within 10 s")
    time.sleep(0.05)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
filters = [f"state established ( dport = :{p4} or sport = :{p4} )",
           f"src 127.0.0.1 and not sport = :{p4}",
           f"state connected dst [::1]",
           f"sport >= :{min(p4, p6)} or dport < :{p6}",
           f"exclude listening exclude time-wait dst 127.0.0.0/8 or dst ::1/128"]
out = {"p4": p4, "p6": p6, "rows": []}
for f in filters:
    words = f.split()
    ours = subprocess.run([os.environ["SOCKIT"], "sockets", "-tan", "--json", *words], capture_output=True,
                          text=True, timeout=60)
    theirs = subprocess.run(["ss", "-tanH", *words], capture_output=True, text=True, timeout=60)
    proc = subprocess.run([os.environ["SOCKIT"], "sockets", "-tan", "--proc", "--json", *words],
                          capture_output=True, text=True, timeout=60)
    out["rows"].append({"filter": f, "ours": ours.stdout, "ours_rc": ours.returncode, "ours_err": ours.stderr,
                        "ss": theirs.stdout, "ss_rc": theirs.returncode, "proc": proc.stdout})
for flag in ("-tn", "-tln"):  # ss's default states (no TIME-WAIT), and -l's
    ours = subprocess.run([os.environ["SOCKIT"], "sockets", flag, "--json"], capture_output=True, text=True,
                          timeout=60)
    theirs = subprocess.run(["ss", flag + "H"], capture_output=True, text=True, timeout=60)
    out["rows"].append({"filter": flag, "ours": ours.stdout, "ours_rc": ours.returncode, "ours_err": ours.stderr,
                        "ss": theirs.stdout, "ss_rc": theirs.returncode})
print(json.dumps(out))
'''

SS_STATES = {"ESTAB", "LISTEN", "TIME-WAIT", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
             "LAST-ACK", "CLOSING", "UNCONN"}


def endpoint(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]").split("%")[0]
    return host, 0 if port == "*" else int(port)


def ss_rows(output, filter_text):
    """(state, local, peer) of each line of ss -tanH; with one state named in the filter ss
    leaves the State column out."""
    only = re.match(r"state (\S+) ", filter_text + " ")
    rows = set()
    for line in output.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] not in SS_STATES:
            fields = [{"established": "ESTAB"}[only.group(1)], *fields]
        rows.add((fields[0], endpoint(fields[3]), endpoint(fields[4])))
    return rows


def our_rows(output):
    return {(e["state"], (e["local"]["address"], e["local"]["port"]), (e["peer"]["address"], e["peer"]["port"]))
            for e in json.loads(output)}


@unittest.skipUnless(netns_available(), "needs unshare -n (root)")
class FilterAgainstSsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.snap = json.loads(run_in_netns(FILTER_SNAPSHOT).stdout)

    def test_every_filter_lists_the_rows_ss_lists(self):
        for case in self.snap["rows"]:
            with self.subTest(filter=case["filter"]):
                self.assertEqual(case["ours_rc"], 0, case["ours_err"])
                self.assertEqual(case["ss_rc"], 0)
                ours, theirs = our_rows(case["ours"]), ss_rows(case["ss"], case["filter"])
                self.assertTrue(ours, "a filter that matched nothing proves little")
                self.assertEqual(ours, theirs)

    def test_proc_runs_the_bytecode_as_the_kernel_does(self):
        for case in self.snap["rows"]:
            if "proc" in case:
                with self.subTest(filter=case["filter"]):
                    self.assertEqual(our_rows(case["proc"]), our_rows(case["ours"]))

    def test_the_filters_really_filter(self):
        counts = [len(our_rows(case["ours"])) for case in self.snap["rows"]]
        self.assertEqual(counts[0], 6)  # 3 connections to the IPv4 listener, both ends
        self.assertEqual(counts[2], 4)  # 2 connections to ::1, both ends

    def test_default_states_leave_out_time_wait_as_ss_does(self):
        default = our_rows(self.snap["rows"][-2]["ours"])
        self.assertEqual({state for state, _, _ in default}, {"ESTAB"})
        self.assertEqual({state for state, _, _ in our_rows(self.snap["rows"][-1]["ours"])}, {"LISTEN"})


# A listener in a namespace of its own (after `ip link set lo up`): prints its port, then waits
# for its input to close.
LISTENER = ('import socket, sys; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); '
            'print(s.getsockname()[1], flush=True); sys.stdin.read()')


@unittest.skipUnless(netns_available(), "needs unshare -n (root)")
class AllNetnsTest(unittest.TestCase):
    """--all-netns: a namespace named by ip netns, and one only a process is in."""

    def setUp(self):
        self.name = f"sockit-test-{os.getpid()}"
        subprocess.run(["ip", "netns", "add", self.name], check=True, timeout=10)
        self.addCleanup(subprocess.run, ["ip", "netns", "delete", self.name], timeout=10)
        self.named = self.start(["ip", "netns", "exec", self.name])
        self.unnamed = self.start(["unshare", "-n"])

    def start(self, prefix):
        proc = subprocess.Popen([*prefix, "sh", "-c", 'ip link set lo up && exec python3 -c "$0"', LISTENER],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(proc.stdout.close)
        self.addCleanup(proc.wait, 10)
        self.addCleanup(proc.stdin.close)
        lines = LineFollower(proc.stdout)
        return proc, int(lines.wait_for(r"^\d+$", timeout=10, what="port").group(0))

    def test_lists_listeners_of_both_namespaces_with_their_names(self):
        entries = json.loads(run("sockets", "-tln", "--all-netns", "--json").stdout)
        found = {(e["netns"], e["local"]["port"]) for e in entries if e["local"]["address"] == "127.0.0.1"}
        named_port = self.named[1]
        unnamed_proc, unnamed_port = self.unnamed
        self.assertIn((self.name, named_port), found)
        self.assertIn((f"pid:{unnamed_proc.pid}", unnamed_port), found)

    def test_table_has_a_netns_column(self):
        table = run("sockets", "-tln", "--all-netns").stdout
        self.assertRegex(table, r"^Netns\s+Netid\s+State")
        self.assertRegex(table, rf"(?m)^{re.escape(self.name)}\s+tcp\s+LISTEN\s+0\s+\d+\s+127\.0\.0\.1:{self.named[1]}\s")


class UsageTest(unittest.TestCase):
    """Issue 11, item 23: options that did nothing, silently."""

    def test_a_bad_filter_is_a_usage_error_naming_the_token(self):
        for words, token in ((["sport", "=", ":70000"], ":70000"), (["dport", "~", ":22"], "~"),
                             (["state", "sleepy"], "sleepy"), (["(", "sport", "=", ":22", ")", ")"], ")"),
                             (["src", "10.0.0.0/40"], "10.0.0.0/40")):
            with self.subTest(words=words):
                proc = run("sockets", "-tan", *words, check=False)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn(f"bad filter at '{token}'", proc.stderr)
                self.assertEqual(proc.stdout, "")

    def test_a_filter_that_ends_too_soon_is_a_usage_error(self):
        proc = run("sockets", "-tan", "sport", "=", ":22", "and", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("bad filter", proc.stderr)

    def test_nesting_beyond_the_bound_is_a_usage_error(self):
        proc = run("sockets", "-tan", "(" * 100 + "sport = :22" + ")" * 100, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("nested deeper than", proc.stderr)

    def test_an_expression_with_unix_sockets_is_a_usage_error(self):
        proc = run("sockets", "-x", "sport", "=", ":22", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("TCP and UDP only", proc.stderr)

    def test_all_netns_with_proc_is_a_usage_error(self):
        proc = run("sockets", "-tan", "--all-netns", "--proc", check=False)
        self.assertEqual(proc.returncode, 2)

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
