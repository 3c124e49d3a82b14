"""Cascade on the lab: the tracker on host 1, a seed on host 2 and a leecher on host 3, each uplink
limited; the leecher ends with the exact file, fetched over the lab's addresses at the seed's rate."""

import json
import os
import tempfile
import time
import unittest

import lab
from cascade_support import create, make_data, sha256_file
from lab import Lab

SKIP = lab.namespaces_unavailable()
SIZE = 8 << 20
BLOCK = 256 << 10
UPLINK_MBIT = 40


@unittest.skipIf(SKIP, SKIP)
class LabCascadeTest(unittest.TestCase):
    def test_a_leecher_on_another_host_gets_the_exact_file_at_the_seeds_uplink_rate(self):
        with tempfile.TemporaryDirectory() as tmp, Lab(hosts=3, rate_mbit=UPLINK_MBIT, lifetime=120) as the_lab:
            h1, h2, h3 = the_lab.hosts
            data = os.path.join(tmp, "file.bin")
            make_data(data, SIZE, seed=14)
            create(data, BLOCK)
            cascade = data + ".cascade"
            output = os.path.join(tmp, "leeched.bin")
            stats = os.path.join(tmp, "stats.json")
            with h1.sockit_server("cascade", "tracker", "--listen", f"{h1.address}:0", "--allow-any") as tracker:
                tracker_host, tracker_port = tracker.address()
                self.assertEqual(tracker_host, h1.address)
                where = f"{tracker_host}:{tracker_port}"
                with h2.sockit_server("cascade", "peer", cascade, "--tracker", where, "--listen", f"{h2.address}:0",
                               "-o", data, "--list-interval", "1") as seed:
                    seed_endpoint = "%s:%d" % seed.address()
                    start = time.monotonic()
                    with h3.sockit_server("cascade", "peer", cascade, "--tracker", where, "--listen",
                                   f"{h3.address}:0", "-o", output, "--no-seed", "--list-interval", "1",
                                   "--stats", stats) as leecher:
                        self.assertEqual(leecher.wait_exit(60), 0, leecher.output())
                    elapsed = time.monotonic() - start
            with open(stats) as f:
                report = json.load(f)["files"][0]
            self.assertEqual(sha256_file(output), sha256_file(data))
            self.assertTrue(report["target_verified"])
            self.assertEqual(list(report["blocks_from"]), [seed_endpoint])
            at_rate = SIZE * 8 / (UPLINK_MBIT * 1e6)
            print(f"\n{SIZE >> 20} MiB from a seed on a {UPLINK_MBIT} Mbit/s uplink: {elapsed:.2f} s "
                  f"(the payload at the rate alone: {at_rate:.2f} s)")
            self.assertGreater(elapsed, 0.75 * at_rate, "the seed's uplink limit did not hold")


if __name__ == "__main__":
    unittest.main()
