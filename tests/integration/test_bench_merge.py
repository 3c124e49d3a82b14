"""sockit bench --json's latency histogram and `sockit bench merge` (issue 14, item 6).

On the lab: `sockit serve echo` on host 1, `sockit bench echo --json` on hosts 2 and 3 at the same
time, then `sockit bench merge`: the merged requests are the sum, and the merged percentiles are
what Python computes from the two histograms (docs/bench.md's recipe). On loopback (no lab, no
root): every workload's report carries its histogram, two runs merged, and every refusal of the
merge command. Each run is a few seconds of load at most.
"""

import json
import math
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import lab
from harness import Server, run, serve
from lab import Lab

LAB_SKIP = lab.namespaces_unavailable()
LAB_SECONDS = 2
SHORT = ("--duration", "0.4", "--warmup", "0.1")
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99_9": 99.9, "max": 100.0}


def bucket_range(index):
    """The values bucket `index` holds in the log-linear scheme, version 1, 7 sub-bucket bits."""
    if index < 128:
        return index, index
    shift, sub = divmod(index - 128, 128)
    lowest = (128 + sub) << shift
    return lowest, lowest + (1 << shift) - 1


def summed(histograms):
    """The histogram of all the samples of `histograms` (report JSON): {index: count}, min, max."""
    counts = {}
    for h in histograms:
        for index, _, _, count in h["buckets"]:
            counts[index] = counts.get(index, 0) + count
    non_empty = [h for h in histograms if h["count"] > 0]
    return counts, min(h["min"] for h in non_empty), max(h["max"] for h in non_empty)


def percentile_us(counts, lowest_value, highest_value, p):
    """What a report says for percentile p of the histogram {index: count}, in microseconds: the
    value of rank ceil(p% of the count), exact for the first and last rank (the min and the max),
    else the midpoint of the bucket holding it, clamped to the min and max."""
    total = sum(counts.values())
    rank = max(1, math.ceil(p / 100 * total - 1e-9))
    if rank == 1:
        return lowest_value / 1000
    if rank >= total:
        return highest_value / 1000
    seen = 0
    for index in sorted(counts):
        seen += counts[index]
        if seen >= rank:
            lowest, highest = bucket_range(index)
            return min(max(lowest + (highest - lowest) // 2, lowest_value), highest_value) / 1000
    raise AssertionError("rank past the histogram")


def bench_json(*args, timeout=30):
    proc = run("bench", *args, "--json", timeout=timeout, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"sockit bench {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return json.loads(proc.stdout)


def merge(*args, status=0):
    proc = run("bench", "merge", *args, timeout=30, check=False)
    if proc.returncode != status:
        raise AssertionError(f"sockit bench merge {' '.join(args)} exited {proc.returncode}, not {status}: "
                             f"{proc.stdout}{proc.stderr}")
    return proc


class MergeChecks:
    """Checks of a merged report against the reports it was made from."""

    def check_histogram_is_whole(self, report):
        h = report["latency_histogram"]
        self.assertEqual((h["scheme"], h["scheme_version"], h["sub_bucket_bits"], h["unit"]), ("log-linear", 1, 7, "ns"))
        self.assertEqual(h["count"], report["requests"])
        self.assertEqual(sum(b[3] for b in h["buckets"]), h["count"])
        for index, lowest, highest, count in h["buckets"]:
            self.assertEqual(bucket_range(index), (lowest, highest))
            self.assertGreater(count, 0)
        if h["count"]:
            self.assertEqual(report["latency_us"]["min"], h["min"] / 1000)
            self.assertEqual(report["latency_us"]["max"], h["max"] / 1000)

    def check_merged(self, merged, parts):
        self.check_histogram_is_whole(merged)
        for key in ("requests", "error_total", "bytes_sent", "bytes_received"):
            self.assertEqual(merged[key], sum(p[key] for p in parts), key)
        counts, lowest, highest = summed([p["latency_histogram"] for p in parts])
        self.assertEqual({b[0]: b[3] for b in merged["latency_histogram"]["buckets"]}, counts)
        for name, p in PERCENTILES.items():
            self.assertEqual(merged["latency_us"][name], percentile_us(counts, lowest, highest, p), name)
        self.assertEqual(merged["latency_us"]["min"], lowest / 1000)
        self.assertEqual(len(merged["runs"]), len(parts))
        self.assertAlmostEqual(merged["requests_per_s"], merged["requests"] / merged["seconds"], delta=1e-6)
        starts = [p["window"]["start_unix_ns"] for p in parts]
        ends = [p["window"]["end_unix_ns"] for p in parts]
        self.assertEqual(merged["window"]["start_unix_ns"], min(starts))
        self.assertEqual(merged["window"]["end_unix_ns"], max(ends))
        overlap = max(0, min(ends) - max(starts)) / 1e9
        self.assertAlmostEqual(merged["window"]["overlap_seconds"], overlap, delta=1e-6)


@unittest.skipIf(LAB_SKIP, LAB_SKIP)
class LabMergeTest(unittest.TestCase, MergeChecks):
    def test_two_load_hosts_against_one_server_merge_to_the_sum_with_exact_percentiles(self):
        with tempfile.TemporaryDirectory() as tmp, Lab(hosts=3, lifetime=120) as the_lab:
            server_host, *load_hosts = the_lab.hosts
            with server_host.sockit_server("serve", "echo:0", "--tcp", "--listen", server_host.address) as server:
                host, port = server.address()
                self.assertEqual(host, server_host.address)
                running = []
                start_at = f"{time.time() + 2:.3f}"  # both begin then, though started one after the other
                for h in load_hosts:
                    path = os.path.join(tmp, f"h{h.index}.json")
                    with open(path, "w") as out:
                        proc = h.popen(h.sockit("bench", "echo", f"{host}:{port}", "--conns", "4", "--duration",
                                                str(LAB_SECONDS), "--warmup", "0.5", "--json", "--load-host",
                                                f"h{h.index}", "--start-at", start_at),
                                       stdout=out, stderr=subprocess.PIPE, text=True)
                    running.append((h, path, proc))
                for h, path, proc in running:
                    _, err = proc.communicate(timeout=LAB_SECONDS + 30)
                    self.assertEqual(proc.returncode, 0, err)
            parts = []
            for h, path, _ in running:
                with open(path) as f:
                    part = json.load(f)
                self.check_histogram_is_whole(part)
                self.assertGreater(part["requests"], 100)
                self.assertEqual(part["error_total"], 0, part["errors"])
                # The source address toward the server is the load host's own lab address.
                self.assertEqual(part["load_host"], {"name": f"h{h.index}", "address": h.address})
                parts.append(part)
            files = [path for _, path, _ in running]
            merged = json.loads(merge(*files, "--json").stdout)
            self.check_merged(merged, parts)
            self.assertEqual([r["load_host"]["address"] for r in merged["runs"]], [h.address for h in load_hosts])
            self.assertEqual([r["source"] for r in merged["runs"]], files)
            # --start-at: both measured the same window, to within the wake-up of a sleep (a busy
            # machine may be late by tens of milliseconds).
            self.assertGreaterEqual(merged["seconds"], LAB_SECONDS)
            self.assertLess(merged["seconds"], LAB_SECONDS + 0.5)
            self.assertGreater(merged["window"]["overlap_seconds"], LAB_SECONDS - 0.5)
            text = merge(*files).stdout
            self.assertIn(f"echo against {host}:{port} (tcp): 8 connections, 2 threads", text)
            self.assertIn("  runs           2 over ", text)
            for h in load_hosts:
                self.assertIn(f"    h{h.index} ({h.address}) {tmp}/h{h.index}.json: 4 conns, ", text)
            print(f"\nmerged from 2 lab hosts: {merged['requests']} requests, "
                  f"{merged['requests_per_s']:.0f}/s over {merged['seconds']:.2f} s, p99 {merged['latency_us']['p99']} us")


class LoopbackServer:
    """`sockit serve` with every service bench has a workload for, on 127.0.0.1 port 0."""

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="sockit-bench-merge-")
        with open(os.path.join(cls.root, "index.html"), "w") as f:
            f.write("<p>hello</p>\n")
        services = ["echo", "fib", "time", "daytime", "http"]
        cls.server, cls.where = serve(services, "--root", cls.root, transports=("tcp", "udp"))

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        shutil.rmtree(cls.root, ignore_errors=True)

    def target(self, service, transport="tcp"):
        host, port = self.where[(service, transport)]
        return f"{host}:{port}"


class EveryWorkloadTest(LoopbackServer, MergeChecks, unittest.TestCase):
    def test_every_workload_reports_its_whole_histogram(self):
        echo = self.target("echo")
        http = self.target("http")
        runs = {
            "echo": ("echo", echo),
            # An open loop under sockit serve's 1000 replies a second to one UDP source.
            "echo over udp": ("echo", self.target("echo", "udp"), "--udp", "--rate", "400"),
            "fib": ("fib", self.target("fib"), "--n", "15"),
            "time": ("time", self.target("time")),
            "daytime": ("daytime", self.target("daytime")),
            "connect": ("connect", echo),
            "stream": ("stream", echo, "--size", "65536"),
            "raw": ("raw", echo, "--send", r"ping\n", "--expect", r"ping\n"),
            "http": ("http", f"http://{http}/index.html"),
        }
        workloads = {w for w, *_ in runs.values()}
        help_text = run("bench", "--help").stdout
        listed = help_text.split("workload TEXT:{", 1)[1].split("}", 1)[0].split(",") if "workload TEXT:{" in help_text \
            else []
        if listed:
            self.assertEqual(set(listed), workloads, "a workload of bench --help is not covered here")
        for name, args in runs.items():
            with self.subTest(workload=name):
                report = bench_json(*args, "--conns", "2", *SHORT)
                self.assertEqual((report["format"], report["version"]), ("sockit-bench-report", 1))
                self.assertGreater(report["requests"], 0)
                self.check_histogram_is_whole(report)
                self.assertEqual(report["load_host"]["address"], "127.0.0.1")
                self.assertEqual(len(report["runs"]), 1)
                self.assertEqual(report["runs"][0]["requests"], report["requests"])
                # And merge reads every one of them back.
                with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
                    json.dump(report, f)
                    f.flush()
                    again = json.loads(merge(f.name, "--json").stdout)
                self.assertEqual(again["latency_histogram"], report["latency_histogram"])
                self.assertEqual(again["latency_us"], report["latency_us"])

    def test_two_runs_at_once_merge_to_the_sum_with_exact_percentiles(self):
        reports = [None, None]

        def load(i):
            reports[i] = bench_json("echo", self.target("echo"), "--conns", "2", "--load-host", f"loader{i}",
                                    "--duration", "1", "--warmup", "0.2")

        threads = [threading.Thread(target=load, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertTrue(all(reports), "a bench run did not finish")
        with tempfile.TemporaryDirectory() as tmp:
            files = []
            for i, report in enumerate(reports):
                files.append(os.path.join(tmp, f"loader{i}.json"))
                with open(files[-1], "w") as f:
                    json.dump(report, f)
            merged = json.loads(merge(*files, "--json").stdout)
            self.check_merged(merged, reports)
            self.assertEqual([r["load_host"]["name"] for r in merged["runs"]], ["loader0", "loader1"])
            # A merged report merges again, to the same totals and percentiles.
            again_path = os.path.join(tmp, "merged.json")
            with open(again_path, "w") as f:
                json.dump(merged, f)
            again = json.loads(merge(again_path, "--json").stdout)
            for key in ("requests", "latency_us", "latency_histogram", "window", "runs"):
                self.assertEqual(again[key], merged[key], key)


class MergeRefusalTest(unittest.TestCase):
    """Every input `bench merge` cannot merge is refused with exit 1 and a line naming the file."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sockit-bench-merge-")
        server, where = serve(["echo"])
        with server:
            host, port = where[("echo", "tcp")]
            cls.report, cls.other, cls.third = (bench_json("echo", f"{host}:{port}", "--conns", "2", *SHORT)
                                                for _ in range(3))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def write(self, name, content):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        return path

    def changed(self, name, change, base=None):
        report = json.loads(json.dumps(base or self.report))
        change(report)
        return self.write(name, report)

    def refused(self, *files, why):
        good = self.write("good.json", self.report)
        proc = merge(good, *files, status=1)
        self.assertEqual(proc.stdout, "")
        self.assertRegex(proc.stderr.strip(), f"^sockit bench merge: {files[-1]}: {why}$")

    def test_malformed_json(self):
        self.refused(self.write("cut.json", json.dumps(self.report)[:-10]), why="not JSON: parse error at .*")
        self.refused(self.write("empty.json", ""), why="not JSON: .*")

    def test_not_a_report_of_this_version(self):
        self.refused(self.write("list.json", "[1, 2]"), why=r"not a sockit bench report \(not a JSON object\)")
        self.refused(self.changed("old.json", lambda r: r.pop("format")),
                     why="not a sockit bench report of version 1 or later: no 'format' .*")
        self.refused(self.changed("v2.json", lambda r: r.update(version=2)),
                     why="a report of version 2; this sockit reads version 1")

    def test_another_histogram_scheme(self):
        self.refused(self.changed("scheme.json", lambda r: r["latency_histogram"].update(scheme_version=2)),
                     why="latency_histogram: the histogram's scheme is log-linear version 2 .*")
        self.refused(self.changed("bits.json", lambda r: r["latency_histogram"].update(sub_bucket_bits=5)),
                     why="latency_histogram: the histogram's scheme is log-linear version 1 with 5 sub-bucket bits .*")

    def test_a_histogram_whose_counts_do_not_add_up(self):
        def more(r):
            r["latency_histogram"]["buckets"][0][3] += 1
        self.refused(self.changed("buckets.json", more),
                     why=r"latency_histogram: the histogram's count is \d+ but its buckets add up to \d+")

        def count_too(r):
            more(r)
            r["latency_histogram"]["count"] += 1
        self.refused(self.changed("requests.json", count_too),
                     why=r"the latency histogram holds \d+ latencies but the report counts \d+ requests")
        self.refused(self.changed("runs.json", lambda r: r["runs"][0].update(requests=r["requests"] + 5)),
                     why=r"the runs add up to \d+ requests but the report counts \d+")

    def test_different_workload_or_target_unless_forced(self):
        def fib(r):
            r.update(workload="fib", workload_options={"n": 27})
        other = self.changed("fib.json", fib, self.other)
        self.refused(other, why="a different load: fib over tcp with options .* \\(bench merge --force merges them anyway\\)")
        elsewhere = self.changed("elsewhere.json", lambda r: r.update(target="127.0.0.2:7"), self.third)
        self.refused(elsewhere, why="target 127.0.0.2:7, where .*good.json has .* \\(bench merge --force merges them anyway\\)")
        good = self.write("good.json", self.report)
        forced = json.loads(merge(good, other, elsewhere, "--force", "--json").stdout)
        self.assertEqual(forced["workload"], "echo, fib")
        self.assertEqual(forced["requests"], sum(r["requests"] for r in (self.report, self.other, self.third)))

    def test_the_same_run_twice(self):
        self.refused(self.write("copy.json", self.report), why="the run of .* is already merged \\(from .*good.json\\): it would count twice")

    def test_files_that_are_too_large_missing_or_not_files(self):
        self.refused(self.write("huge.json", " " * (4 << 20) + json.dumps(self.report)),
                     why=r"\d+ bytes: a report is at most 4194304 bytes")
        self.refused(os.path.join(self.tmp, "missing.json"), why="cannot open: No such file or directory")
        self.refused(self.tmp, why="not a regular file")
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo)
        self.refused(fifo, why="not a regular file")

    def test_usage(self):
        proc = run("bench", "merge", check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("files is required", proc.stderr)
        proc = run("bench", check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("a workload is required", proc.stderr)
        proc = run("bench", "nosuch", check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("nosuch", proc.stderr)
        self.assertNotIn("unknown subcommand", proc.stderr)
        self.assertIn("Combine the --json reports", run("bench", "--help").stdout)
        proc = run("bench", "echo", "127.0.0.1:7", "--start-at", f"{time.time() - 10:.3f}", check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertRegex(proc.stderr, r"--start-at \d+\.\d+ has passed \(1\d\.\d+ s ago\)")
        proc = run("bench", "echo", "127.0.0.1:7", "--start-at", f"{time.time() + 7200:.3f}", check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertRegex(proc.stderr, r"--start-at \d+\.\d+ is 7\d\d\d s away; at most 3600")

    def test_one_report_prints_as_bench_printed_it(self):
        good = self.write("good.json", self.report)
        text = merge(good).stdout
        first = f"echo against {self.report['target']} (tcp): 2 connections, 1 thread, pipeline 1, closed loop\n"
        self.assertTrue(text.startswith(first), text)
        self.assertIn(f"  requests       {self.report['requests']} in ", text)
        self.assertIn(f" {good}: 2 conns, ", text)


if __name__ == "__main__":
    unittest.main()
