"""Trackers sharing one swarm through Redis (docs/trackers.md), on the lab: redis-server on one
host, trackers on others, a peer per tracker. Downloads cross trackers (the seed subscribes
through tracker A, a leecher through tracker B), Redis is stopped and restarted mid-run (the
trackers answer status 1 naming Redis, then recover by themselves, and the peers carry on), a
restart loses what Redis lost and nothing more, and a Redis that answers slowly costs the
trackers' clients at most the --redis-timeout."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import lab
from cascade_support import create, make_data, sha256_file
from lab import Lab

SKIP = lab.namespaces_unavailable() or (None if shutil.which("redis-server") else
                                        "redis-server is not installed (scripts/bootstrap installs it)")
QUERY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tracker_query.py")
SIZE = 2 << 20
BLOCK = 64 << 10
REDIS_PORT = 6379  # inside the lab's own namespace: nothing else can hold it
REDIS_TIMEOUT = 0.5


class Redis:
    """redis-server on a lab host, started and restarted by the test."""

    def __init__(self, host, directory, *options):
        self.host, self.directory, self.options = host, directory, options
        self.proc = None
        self.start()

    @property
    def address(self):
        return f"{self.host.address}:{REDIS_PORT}"

    def cli(self, *args, timeout=10, check=True):
        return self.host.run(["redis-cli", "-h", self.host.address, "-p", str(REDIS_PORT), *args], timeout=timeout,
                             check=check)

    def start(self, *options):
        log = open(os.path.join(self.directory, "redis.log"), "a")
        self.proc = self.host.popen(["redis-server", "--bind", self.host.address, "--port", str(REDIS_PORT),
                                     "--protected-mode", "no", "--save", "", "--appendonly", "no",
                                     "--dir", self.directory, *self.options, *options],
                                    stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        while self.cli("ping", timeout=5, check=False).stdout.strip() != "PONG":
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("redis-server did not come up")
            time.sleep(0.05)

    def stop(self, kill=False):
        self.proc.kill() if kill else self.proc.terminate()
        self.proc.wait(timeout=10)


def query(host, tracker, command, cascade_hash, port=7000, repeat=1, parallel=1):
    """Tracker requests from `host` (its own address as the requester's); their answers."""
    proc = host.run(["python3", QUERY, tracker, command, cascade_hash, "--ip", host.address, "--port", str(port),
                     "--repeat", str(repeat), "--parallel", str(parallel)], timeout=60)
    return json.loads(proc.stdout)["answers"]


def listed(answer):
    return {f"{ip}:{port}" for ip, port, _seen, _good in answer.get("peers", [])}


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.1)


@unittest.skipIf(SKIP, SKIP)
class TrackersSharingRedisTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.data = os.path.join(self.dir.name, "file.bin")
        make_data(self.data, SIZE, seed=21)
        self.hash = create(self.data, BLOCK)["cascade_hash"]
        self.cascade = self.data + ".cascade"

    def tearDown(self):
        self.dir.cleanup()

    def tracker(self, host, redis, *extra, redis_timeout=REDIS_TIMEOUT):
        # --max-rate 0: the tests' bursts of queries come from one host
        return host.sockit_server("cascade", "tracker", "--listen", f"{host.address}:0", "--allow-any",
                                  "--max-rate", "0", "--redis", redis.address, "--redis-timeout", str(redis_timeout),
                                  *extra)

    def peer(self, host, tracker, output, *extra):
        where = "%s:%d" % tracker.address()
        return host.sockit_server("cascade", "peer", self.cascade, "--tracker", where, "--listen", f"{host.address}:0",
                                  "-o", output, "--list-interval", "1", *extra)

    def leech(self, host, tracker, name):
        output = os.path.join(self.dir.name, name)
        return self.peer(host, tracker, output, "--no-seed"), output

    def test_three_trackers_on_three_hosts_serve_one_swarm_and_downloads_cross_them(self):
        with Lab(hosts=7, rate_mbit=100, lifetime=180) as the_lab:
            h = the_lab.hosts
            redis = Redis(h[0], self.dir.name)
            with self.tracker(h[1], redis) as a, self.tracker(h[2], redis) as b, self.tracker(h[3], redis) as c:
                trackers = {"%s:%d" % t.address(): t for t in (a, b, c)}
                for t in trackers.values():
                    t.wait_for(r"swarms in Redis at 10\.77\.0\.1:6379 under \{sockit-tracker\}")
                with self.peer(h[4], a, self.data) as seed:
                    seed_endpoint = "%s:%d" % seed.address()
                    for where in trackers:  # subscribed through A, listed by each
                        wait_until(lambda: seed_endpoint in listed(query(h[6], where, "list", self.hash)[0]), 10,
                                   f"the seed listed by {where}")
                    first, out_b = self.leech(h[5], b, "via-b.bin")
                    second, out_c = self.leech(h[6], c, "via-c.bin")
                    with first, second:
                        self.assertEqual(first.wait_exit(60), 0, first.output())
                        self.assertEqual(second.wait_exit(60), 0, second.output())
            for output in (out_b, out_c):
                self.assertEqual(sha256_file(output), sha256_file(self.data))

    def test_redis_stopped_and_restarted_mid_run_the_trackers_answer_status_1_then_recover_by_themselves(self):
        with Lab(hosts=5, rate_mbit=100, lifetime=180) as the_lab:
            h = the_lab.hosts
            redis = Redis(h[0], self.dir.name)
            with self.tracker(h[1], redis) as a, self.tracker(h[2], redis) as b:
                where_a, where_b = "%s:%d" % a.address(), "%s:%d" % b.address()
                with self.peer(h[3], a, self.data, "--resubscribe-interval", "1") as seed:
                    seed_endpoint = "%s:%d" % seed.address()
                    wait_until(lambda: seed_endpoint in listed(query(h[4], where_b, "list", self.hash)[0]), 10,
                               "the seed listed by tracker B")

                    redis.stop()
                    for where in (where_a, where_b):
                        answers = query(h[4], where, "list", self.hash, repeat=5)
                        for answer in answers:
                            self.assertEqual(answer["status"], 1, answer)
                            self.assertTrue(answer["message"].startswith("Redis on 10.77.0.1:6379 failed: "), answer)
                            self.assertLess(answer["seconds"], REDIS_TIMEOUT + 1.0, answer)
                    for t in (a, b):
                        t.wait_for(r"Redis on 10\.77\.0\.1:6379 failed: .*the tracker answers status 1 until "
                                   r"Redis is back")
                    leecher, output = self.leech(h[4], b, "leeched.bin")  # starts while Redis is down
                    with leecher:
                        leecher.wait_for(r"status 1: Redis on 10\.77\.0\.1:6379 failed", timeout=10)
                        redis.start()  # empty: it saved nothing; the seed subscribes again within a second
                        self.assertEqual(leecher.wait_exit(60), 0, leecher.output())
                    for t in (a, b):
                        t.wait_for(r"Redis at 10\.77\.0\.1:6379 is back after", timeout=10)
            self.assertEqual(sha256_file(output), sha256_file(self.data))

    def test_a_restart_of_redis_loses_what_redis_lost_and_nothing_more(self):
        with Lab(hosts=5, lifetime=120) as the_lab:
            h = the_lab.hosts
            redis = Redis(h[0], self.dir.name, "--appendonly", "yes", "--appendfsync", "always")
            # Every write waits for its fsync: up to 0.46 s with six fsync writers on the disk.
            with self.tracker(h[1], redis, redis_timeout=10) as a, self.tracker(h[2], redis, redis_timeout=10) as b:
                where_a, where_b = "%s:%d" % a.address(), "%s:%d" % b.address()
                self.assertEqual(query(h[3], where_a, "subscribe", self.hash)[0]["status"], 0)
                self.assertEqual(query(h[4], where_b, "subscribe", self.hash)[0]["status"], 0)
                both = {f"{h[3].address}:7000", f"{h[4].address}:7000"}

                redis.stop(kill=True)  # a crash; its append-only file has every write
                redis.start()
                wait_until(lambda: query(h[3], where_b, "list", self.hash, port=9)[0]["status"] == 0, 10,
                           "tracker B answering status 0 again")
                self.assertEqual(listed(query(h[3], where_b, "list", self.hash, port=9)[0]), both)
                self.assertEqual(listed(query(h[4], where_a, "list", self.hash, port=9)[0]), both)

                redis.stop(kill=True)
                shutil.rmtree(os.path.join(self.dir.name, "appendonlydir"), ignore_errors=True)
                redis.start("--appendonly", "no")  # this time Redis lost everything: so do the trackers
                wait_until(lambda: query(h[3], where_a, "list", self.hash, port=9)[0]["status"] == 0, 10,
                           "tracker A answering status 0 again")
                for where in (where_a, where_b):
                    answer = query(h[3], where, "list", self.hash, port=9)[0]
                    self.assertEqual(answer["status"], 0, answer)
                    self.assertEqual(listed(answer), set(), "a tracker kept entries Redis had lost")

    def test_a_slow_redis_costs_the_trackers_clients_at_most_the_redis_timeout(self):
        with Lab(hosts=3, lifetime=120) as the_lab:
            h = the_lab.hosts
            redis = Redis(h[0], self.dir.name, "--enable-debug-command", "yes")
            with self.tracker(h[1], redis) as a:
                where = "%s:%d" % a.address()
                self.assertEqual(query(h[2], where, "subscribe", self.hash)[0]["status"], 0)
                sleeper = h[0].popen(["redis-cli", "-h", h[0].address, "-p", str(REDIS_PORT), "DEBUG", "SLEEP", "3"],
                                     stdout=subprocess.DEVNULL)
                time.sleep(0.3)  # Redis is asleep now
                answers = query(h[2], where, "list", self.hash, port=9, repeat=4, parallel=8)
                bad = query(h[2], where, "bad", self.hash)[0]
                sleeper.wait(timeout=10)
                slowest = max(answer["seconds"] for answer in answers)
                print(f"\n32 requests while Redis sleeps 3 s, --redis-timeout {REDIS_TIMEOUT}: slowest answer "
                      f"{slowest:.2f} s; statuses {sorted(answer['status'] for answer in answers)}")
                self.assertEqual(len(answers), 32)
                for answer in answers:
                    self.assertEqual(answer["status"], 1, answer)
                    self.assertIn("Redis on 10.77.0.1:6379 failed", answer["message"])
                self.assertLess(slowest, REDIS_TIMEOUT + 1.0)
                self.assertEqual(bad["status"], 1)
                self.assertLess(bad["seconds"], REDIS_TIMEOUT + 1.0)
                wait_until(lambda: query(h[2], where, "list", self.hash, port=9)[0]["status"] == 0, 10,
                           "the tracker answering after Redis woke up")
                self.assertEqual(listed(query(h[2], where, "list", self.hash, port=9)[0]), {f"{h[2].address}:7000"})


if __name__ == "__main__":
    unittest.main()
