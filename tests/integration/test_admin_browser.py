"""The admin page in a real browser (issue 15): headless Chromium loads `/` of `sockit serve
--admin`, the page updates itself from /status.json, and it shows the number of connections the
test holds open at that moment, twice (3, then 5). Server and browser run in a network namespace
of their own with only lo."""

import json
import os
import shutil
import unittest

from harness import netns_available, run_in_netns

CHROMIUM = shutil.which("chromium")
HERE = os.path.dirname(os.path.abspath(__file__))

# Runs inside the namespace. --virtual-time-budget lets the page's timers run 8 s of page time
# (its fetches are real) before the DOM is dumped.
SCENARIO = r'''
import json, os, re, subprocess, sys, tempfile
sys.path.insert(0, HERE)
from admin_support import serve_with_admin, service_address, wait_for_metric
from harness import connect, recv_exactly
flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
         "--disable-domain-reliability", "--disable-breakpad", "--metrics-recording-only", "--mute-audio",
         "--virtual-time-budget=8000"]
results = []
with tempfile.TemporaryDirectory() as profile, serve_with_admin("echo:0", "--tcp", "--listen", "127.0.0.1") as server:
    admin, echo = server.address(), service_address(server, "echo")
    for held in (3, 5):
        clients = [connect(*echo) for _ in range(held)]
        for c in clients:
            c.sendall(b"x")
            recv_exactly(c, 1)
        wait_for_metric(admin, "sockit_connections_open", held, service="echo")
        dom = subprocess.run([CHROMIUM, *flags, "--user-data-dir=" + os.path.join(profile, str(held)), "--dump-dom",
                              "http://127.0.0.1:%d/" % admin[1]], capture_output=True, text=True, timeout=120)
        shown = re.search(r'id="f-summary-connections_open">([^<]*)<', dom.stdout)
        updates = re.search(r'data-updates="(\d+)"', dom.stdout)
        results.append({"held": held, "shown": shown.group(1) if shown else None,
                        "updates": int(updates.group(1)) if updates else 0, "err": dom.stderr[-1500:],
                        "dom": dom.stdout[-3000:] if not shown else ""})
        for c in clients:
            c.close()
        wait_for_metric(admin, "sockit_connections_open", 0, service="echo")
print(json.dumps(results))
'''


@unittest.skipUnless(CHROMIUM, "needs Debian's chromium (scripts/bootstrap installs it)")
@unittest.skipUnless(netns_available(), "needs a network namespace (root), so that the browser reaches nothing else")
class AdminPage(unittest.TestCase):
    def test_the_page_shows_the_connections_the_test_holds_open(self):
        code = SCENARIO.replace("HERE", repr(HERE)).replace("CHROMIUM", repr(CHROMIUM))
        results = json.loads(run_in_netns(code, timeout=400).stdout.splitlines()[-1])
        for result in results:
            self.assertEqual(result["shown"], str(result["held"]), result)
            self.assertGreaterEqual(result["updates"], 2, f"the page did not update itself: {result}")


if __name__ == "__main__":
    unittest.main()
