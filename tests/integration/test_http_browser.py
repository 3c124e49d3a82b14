"""A real browser against `sockit serve http` (issue 13): headless Chromium loads a page with a
stylesheet, an image and a video (which it fetches with Range requests), twice, and the second
load revalidates. Server and browser run in a network namespace of their own with only lo, so the
browser cannot reach anything else."""

import json
import os
import shutil
import struct
import tempfile
import unittest
import zlib

from harness import netns_available, run_in_netns

CHROMIUM = shutil.which("chromium")
HERE = os.path.dirname(os.path.abspath(__file__))
CLIP = os.path.join(HERE, "fixtures", "clip.webm")  # 1 s, 64x48 VP8 (ffmpeg's testsrc), 4 KB

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="style.css"><link rel="icon" href="red.png"><title>sockit</title></head>
<body><div id="box"></div><img id="img" src="red.png" width="40" height="40">
<video id="clip" src="clip.webm" preload="auto" muted></video><p id="status">waiting</p>
<script>
const status = {css: getComputedStyle(document.getElementById("box")).backgroundColor, img: 0, video: 0};
const show = () => { document.getElementById("status").textContent = JSON.stringify(status); };
const img = document.getElementById("img");
const done = () => { status.img = img.naturalWidth; show(); };
if (img.complete) done(); else img.onload = done;
const clip = document.getElementById("clip");
clip.onloadeddata = () => { status.video = clip.duration; show(); };
clip.onerror = () => { status.video = "error " + (clip.error && clip.error.code); show(); };
show();
</script></body></html>
"""
STYLE = "body { margin: 0; background: rgb(255, 255, 255); }\n#box { width: 200px; height: 100px; background: rgb(0, 200, 0); }\n"

# Runs inside the namespace: the server, then Chromium twice with one profile (the second load
# finds everything in its cache and revalidates it).
SCENARIO = r'''
import json, os, re, subprocess, sys, time
sys.path.insert(0, HERE)
from harness import Server
root, out = ROOT, OUT
log = os.path.join(out, "access.log")
flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
         "--disable-domain-reliability", "--disable-breakpad", "--metrics-recording-only", "--mute-audio",
         "--user-data-dir=" + os.path.join(out, "profile"), "--virtual-time-budget=10000"]
with Server("serve", "http:0", "--root", root, "--access-log", log, "--listen", "127.0.0.1") as server:
    port = server.address()[1]
    url = "http://127.0.0.1:%d/" % port
    first = subprocess.run([CHROMIUM, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    status = re.search(r'<p id="status">(.*?)</p>', first.stdout)
    time.sleep(1.2)  # the second load's Date differs: a cached copy is revalidated, not reused fresh
    second = subprocess.run([CHROMIUM, *flags, "--window-size=400,300", "--screenshot=" + os.path.join(out, "shot.png"),
                             url], capture_output=True, text=True, timeout=120)
    time.sleep(0.5)
with open(log) as f:
    lines = f.read().splitlines()
print(json.dumps({"status": status.group(1) if status else None, "dom_err": first.stderr[-2000:],
                  "shot_err": second.stderr[-2000:], "log": lines}))
'''


def png(width, height, rgb):
    """A solid-colour PNG."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def pixels(path):
    """(width, rows of RGB(A) bytes, bytes per pixel) of an 8-bit truecolour PNG (what Chromium writes)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev, i = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp), 0
    for _ in range(height):
        kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, rows, bpp


@unittest.skipUnless(CHROMIUM, "needs Debian's chromium (scripts/bootstrap installs it)")
@unittest.skipUnless(netns_available(), "needs a network namespace (root), so that the browser reaches nothing else")
class Browser(unittest.TestCase):
    def test_a_page_with_stylesheet_image_and_video_loads_and_revalidates(self):
        with tempfile.TemporaryDirectory() as d:
            root, out = os.path.join(d, "root"), os.path.join(d, "out")
            os.mkdir(root)
            os.mkdir(out)
            with open(os.path.join(root, "index.html"), "w") as f:
                f.write(PAGE)
            with open(os.path.join(root, "style.css"), "w") as f:
                f.write(STYLE)
            with open(os.path.join(root, "red.png"), "wb") as f:
                f.write(png(40, 40, (255, 0, 0)))
            shutil.copy(CLIP, os.path.join(root, "clip.webm"))
            code = (SCENARIO.replace("HERE", repr(HERE)).replace("ROOT", repr(root)).replace("OUT", repr(out))
                    .replace("CHROMIUM", repr(CHROMIUM)))
            result = json.loads(run_in_netns(code, timeout=300).stdout.splitlines()[-1])

            status = json.loads(result["status"] or "null")
            self.assertEqual(status and status["css"], "rgb(0, 200, 0)", result)
            self.assertEqual(status["img"], 40, result)
            self.assertIsInstance(status["video"], (int, float), result)
            self.assertAlmostEqual(status["video"], 1.0, delta=0.2)

            def statuses(path):
                return [int(line.split('" ')[1].split()[0]) for line in result["log"]
                        if f'"GET /{path} HTTP/1.1"' in line]

            self.assertIn(200, statuses(""), result["log"])
            self.assertIn(200, statuses("style.css"), result["log"])
            self.assertIn(200, statuses("red.png"), result["log"])
            self.assertIn(206, statuses("clip.webm"), result["log"])  # media comes by Range requests
            self.assertIn(304, statuses("style.css") + statuses("red.png"), result["log"])  # the second load
            for line in result["log"]:
                self.assertRegex(line, r'" (200|206|304) \d+$')  # nothing failed

            width, rows, bpp = pixels(os.path.join(out, "shot.png"))
            pixel = lambda x, y: tuple(rows[y][x * bpp:x * bpp + 3])
            self.assertEqual(pixel(100, 50), (0, 200, 0), "the stylesheet's green box")
            self.assertEqual(pixel(20, 120), (255, 0, 0), "the red image below it")


if __name__ == "__main__":
    unittest.main()
