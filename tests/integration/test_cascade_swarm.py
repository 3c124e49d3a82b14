"""The loopback swarm of issue 6: one seed and four leechers of a large file with 1 MiB blocks.
Every leecher ends with the exact bytes, and leechers fetch blocks from each other.

The file is 200 MB (about 20 s under ASan on 2 loaded cores); CASCADE_SWARM_MB overrides it.
docs/cascade.md has the release-build figures."""

import json
import os
import tempfile
import time
import unittest

from cascade_support import create, make_data, peer, sha256_file, tracker

SIZE_MB = int(os.environ.get("CASCADE_SWARM_MB", "200"))


class LoopbackSwarmTest(unittest.TestCase):
    def test_one_seed_four_leechers_exact_and_sharing(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "big.bin")
            make_data(data, SIZE_MB * 1000 * 1000, seed=7)
            create(data, 1 << 20)
            expected = sha256_file(data)
            with tracker() as trk, peer(data + ".cascade", trk.address(), data) as seed:
                seed_endpoint = "%s:%d" % seed.address()
                start = time.monotonic()
                leechers = [peer(data + ".cascade", trk.address(), os.path.join(tmp, f"out{i}"), "--no-seed",
                                 "--stats", os.path.join(tmp, f"stats{i}.json"))
                            for i in range(4)]
                from_others = 0
                for leecher in leechers:
                    self.assertEqual(leecher.wait_exit(120), 0, leecher.output())
                elapsed = time.monotonic() - start
                for i, leecher in enumerate(leechers):
                    leecher.__exit__()
                    with open(os.path.join(tmp, f"stats{i}.json")) as f:
                        stats = json.load(f)["files"][0]
                    self.assertTrue(stats["target_verified"])
                    from_others += sum(n for who, n in stats["blocks_from"].items() if who != seed_endpoint)
                    self.assertEqual(sha256_file(os.path.join(tmp, f"out{i}")), expected)
                print(f"\n{SIZE_MB} MB to 4 leechers in {elapsed:.1f}s; {from_others} blocks came from leechers")
                self.assertGreater(from_others, 0, "leechers must fetch from each other, not only from the seed")


if __name__ == "__main__":
    unittest.main()
