"""The Debian package (issue 15): what it holds, that its binary runs and its man pages render.

Building a release tree here would take most of ./test's budget, so the test runs CPack on the
build tree that ./test has just built (ASan's binary, stripped; the same install rules as
scripts/build-deb's release package, which CI tests by handing this file its .deb in SOCKIT_DEB).
Packing reads what is built and compiles nothing (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY)."""

import gzip
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import SOCKIT

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SOCKIT_BUILD_DIR") or os.path.abspath(os.path.join(os.path.dirname(SOCKIT), "..", ".."))
UNIT_DIR = "usr/lib/systemd/system"
DOC_DIR = "usr/share/doc/sockit"
MAN_DIR = "usr/share/man/man1"


def project_version():
    with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
        return re.search(r"project\(sockit VERSION (\S+)", f.read()).group(1)


def subcommand_pages():
    """The man pages there must be: sockit's, and one per subcommand its --help lists (the
    subcommands' own subcommands too)."""
    pages, pending = [], [[]]
    while pending:
        path = pending.pop()
        pages.append("-".join(["sockit", *path]))
        text = subprocess.run([SOCKIT, *path, "--help"], capture_output=True, text=True, timeout=60,
                              check=True).stdout
        listed = text.partition("\nSubcommands:\n")[2].partition("\n\n")[0]
        pending += [[*path, line.split()[0]] for line in listed.splitlines() if line.strip()]
    return sorted(pages)


def packaging_files(*patterns):
    names = os.listdir(os.path.join(SOURCE, "packaging"))
    return sorted(n for n in names if any(n.endswith(p) for p in patterns))


def run(*argv, timeout=120, **kwargs):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return proc


class DebianPackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.deb = os.environ.get("SOCKIT_DEB")
        if not cls.deb:
            config = os.path.join(BUILD, "CPackConfig.cmake")
            if not os.path.exists(config):
                raise unittest.SkipTest(f"no CPackConfig.cmake in {BUILD}: configure the build tree first")
            run("cpack", "--config", config, "-B", cls.dir.name, timeout=600, cwd=BUILD)
            debs = [f for f in os.listdir(cls.dir.name) if f.endswith(".deb")]
            assert len(debs) == 1, debs
            cls.deb = os.path.join(cls.dir.name, debs[0])
        cls.root = os.path.join(cls.dir.name, "root")
        run("dpkg-deb", "-x", cls.deb, cls.root)
        listing = run("dpkg-deb", "--contents", cls.deb).stdout
        # "-rwxr-xr-x root/root 123 2024-01-01 00:00 ./usr/bin/sockit"
        cls.contents = {line.split()[-1].removeprefix("./") for line in listing.splitlines()}

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def assertListed(self, path):
        self.assertIn(path, self.contents, f"{path} is not in {self.deb}:\n" + "\n".join(sorted(self.contents)))

    def test_it_lists_the_binary_man_pages_units_configs_and_docs(self):
        self.assertListed("usr/bin/sockit")
        pages = subcommand_pages()
        self.assertIn("sockit-cascade-tracker", pages)
        for page in pages:
            self.assertListed(f"{MAN_DIR}/{page}.1.gz")
        units = packaging_files(".service", ".socket")
        self.assertIn("sockit.socket", units)
        for unit in units:
            self.assertListed(f"{UNIT_DIR}/{unit}")
        configs = packaging_files(".toml", ".json")
        self.assertTrue(configs, "packaging/ has an example configuration")
        for config in configs:
            self.assertListed(f"{DOC_DIR}/examples/{config}")
        for doc in ("README.md", "install.md"):
            self.assertListed(f"{DOC_DIR}/{doc}")

    def test_its_control_fields(self):
        fields = run("dpkg-deb", "--field", self.deb, "Package", "Version", "Section", "Maintainer",
                     "Depends").stdout
        self.assertIn("Package: sockit\n", fields)
        self.assertIn(f"Version: {project_version()}\n", fields)
        self.assertIn("Section: net\n", fields)
        self.assertRegex(fields, r"Maintainer: .+ <.+>\n")
        # dpkg-shlibdeps found the libraries the binary links.
        self.assertRegex(fields, r"Depends: .*\blibc6 \(>= [^)]+\)")
        self.assertRegex(fields, r"Depends: .*\blibfmt\d+")

    def test_the_binary_it_holds_runs(self):
        proc = run(os.path.join(self.root, "usr/bin/sockit"), "--version")
        self.assertEqual(proc.stdout, f"sockit {project_version()}\n")

    def test_every_man_page_renders_without_warnings(self):
        for page in subcommand_pages():
            path = os.path.join(self.root, MAN_DIR, f"{page}.1.gz")
            proc = run("man", "--warnings", "-l", path, env={**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": ""})
            self.assertEqual(proc.stderr, "", page)
            self.assertIn(page.upper() + "(1)", proc.stdout)
        serve = run("man", "-l", os.path.join(self.root, MAN_DIR, "sockit-serve.1.gz"),
                    env={**os.environ, "MANWIDTH": "200"}).stdout
        self.assertIn("sockit-serve - Serve echo, discard", serve)
        self.assertRegex(serve, r"--model TEXT\n +server design for TCP")  # from the real --help
        self.assertIn("sockit serve echo:0 --listen 127.0.0.1", serve)  # its examples

    def test_man_pages_are_compressed_reproducibly(self):
        with open(os.path.join(self.root, MAN_DIR, "sockit.1.gz"), "rb") as f:
            header = f.read(10)
        self.assertEqual(header[3] & 0x08, 0, "no file name in the gzip header")
        self.assertEqual(header[4:8], b"\0\0\0\0", "no time stamp in the gzip header")
        with gzip.open(os.path.join(self.root, MAN_DIR, "sockit.1.gz"), "rt") as f:
            self.assertTrue(f.read().startswith(".TH SOCKIT 1 "))

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed (Debian's systemd)")
    def test_its_units_pass_systemd_analyze_verify(self):
        # verify checks that ExecStart's program exists: copies of the units name the packaged one.
        units = os.path.join(self.dir.name, "units")
        os.makedirs(units, exist_ok=True)
        for unit in packaging_files(".service", ".socket"):
            with open(os.path.join(self.root, UNIT_DIR, unit)) as f:
                text = f.read()
            if unit.endswith(".service"):
                self.assertIn("ExecStart=/usr/bin/sockit ", text)
            with open(os.path.join(units, unit), "w") as f:
                f.write(text.replace("/usr/bin/sockit ", os.path.join(self.root, "usr/bin/sockit") + " "))
        proc = subprocess.run(["systemd-analyze", "verify", "--man=no",
                               *[os.path.join(units, u) for u in sorted(os.listdir(units))]],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual((proc.returncode, proc.stderr), (0, ""))

if __name__ == "__main__":
    unittest.main()
