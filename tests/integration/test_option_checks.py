"""Every numeric option of every subcommand refuses what is not a number it can use.

One table: for each option, the command line it is tried in (chosen to end at once, with a status
other than 2, should a bad value ever be accepted) and whether 0 is one of its values. Each bad
value must exit 2 with a message naming the option, and never print DBL_MAX.
"""

import unittest
from concurrent.futures import ThreadPoolExecutor

from harness import run

HUGE = "99999999999999999999999"
DBL_MAX_DIGITS = "17976931348623157"

CLIENT = ["client", "echo", "x", "--host", "127.0.0.1"]
NC = ["nc", "127.0.0.1", "1"]
SCAN = ["scan", "127.0.0.1"]
BENCH = ["bench", "echo", "127.0.0.1:1"]
SERVE = ["serve", "--list-models"]
PEER = ["cascade", "peer", "/nonexistent/x.cascade", "--tracker", "127.0.0.1:1", "--listen", "127.0.0.1:0",
        "--no-seed"]
TRACKER = ["cascade", "tracker", "--config", "/nonexistent/tracker.json"]

# (base command, option, kind, zero allowed); kind: "whole" or "real".
OPTIONS = [
    (CLIENT, "--port", "whole", False),
    (CLIENT + ["--port", "1"], "--timeout", "real", False),
    (["client", "chargen", "--port", "1"], "--bytes", "whole", False),
    (NC, "-w", "real", True),
    (NC, "-q", "real", True),
    (NC, "-p", "whole", False),
    (SCAN, "--top", "whole", False),
    (SCAN + ["-p", "1"], "--timeout", "real", False),
    (SCAN + ["-p", "1"], "--retries", "whole", True),
    (SCAN + ["-p", "1"], "--rate", "real", True),
    (SCAN + ["-p", "1"], "--parallel", "whole", False),
    (["sockets", "-x"], "--port", "whole", False),
    (["sockets", "-x"], "--pid", "whole", False),
    (["sockets", "-x", "--count", "1"], "--watch", "real", False),
    (["sockets", "-x", "--watch", "0.01"], "--count", "whole", False),
    (["lookup", "localhost"], "--family", "whole", False),
    (["endian"], "--value", "whole", True),
    (["endian"], "--bits", "whole", False),
    (BENCH + ["-d", "0.1", "--warmup", "0"], "--size", "whole", False),
    (["bench", "fib", "127.0.0.1:1", "-d", "0.1", "--warmup", "0"], "--n", "whole", True),
    (["bench", "raw", "127.0.0.1:1", "--send", "x", "-d", "0.1", "--warmup", "0"], "--expect-bytes", "whole", False),
    (BENCH + ["-d", "0.1", "--warmup", "0"], "--conns", "whole", False),
    (BENCH + ["-d", "0.1", "--warmup", "0"], "--threads", "whole", False),
    (BENCH + ["--warmup", "0"], "--duration", "real", False),
    (BENCH + ["-d", "0.1"], "--warmup", "real", True),
    (BENCH + ["-d", "0.1", "--warmup", "0"], "--pipeline", "whole", False),
    (BENCH + ["-d", "0.1", "--warmup", "0"], "--rate", "real", False),
    (BENCH + ["-d", "0.1", "--warmup", "0"], "--timeout", "real", False),
    (BENCH + ["-d", "0.1", "--warmup", "0"], "--server-pid", "whole", False),
    (SERVE, "--threads", "whole", False),
    (SERVE, "--max-conns", "whole", False),
    (SERVE, "--idle-timeout", "real", True),
    (SERVE, "--max-line", "whole", False),
    (SERVE, "--grace", "real", True),
    (["cascade", "create", "/nonexistent/data"], "--threads", "whole", True),
    (PEER, "--max-peers", "whole", False),
    (PEER, "--list-interval", "real", False),
    (PEER, "--resubscribe-interval", "real", False),
    (PEER, "--stall-timeout", "real", False),
    (TRACKER, "--idle-timeout", "real", False),
    (TRACKER, "--max-conns", "whole", False),
]


# Text options: (base command, option or None for the positional, bad values). None of these
# bases could do harm should a value ever be accepted: their inputs do not exist.
CREATE = ["cascade", "create", "/nonexistent/data"]
TEXT_OPTIONS = [
    (["client", "echo", "x"], "--host", ["", "300.1.1.1", "[::1]", "a b"]),
    (["scan", "-p", "1"], None, ["", "300.1.1.1", "127.0.0.1:80"]),
    (["scan", "127.0.0.1"], "--ports", ["", ",", "22,,80", "0", "99999"]),
    (["bench", "echo"], None, ["", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", "[::1", "unix:", ":80"]),
    (["lookup"], None, [""]),
    (["lookup"], "--reverse", ["", "300.1.1.1", "localhost"]),
    (["lookup"], "--service", [""]),
    (["lookup"], "--protocol", [""]),
    (NC, "--exec", [""]),
    (NC, "--sh-exec", [""]),
    (["sockets"], "--state", [""]),
    (["serve", "--list-models"], "--model", [""]),
    (["serve", "echo:0", "--tcp"], "--listen", ["", "300.1.1.1"]),
    (["cascade", "create"], None, [""]),
    (CREATE, "--output", [""]),
    (CREATE, "--block-size", ["", "-5", "0"]),
    (["cascade", "info"], None, [""]),
    (["cascade", "info", "/nonexistent/x.cascade"], "--data", [""]),
    (["cascade", "peer", "--tracker", "127.0.0.1:1", "--listen", "127.0.0.1:0"], None, [""]),
    (PEER[:3] + PEER[5:], "--tracker", ["", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999"]),
    (PEER[:5] + PEER[7:], "--listen", ["", "127.0.0.1", "127.0.0.1:99999"]),
    (PEER, "--output", [""]),
    (PEER, "--stats", [""]),
    (TRACKER[:2] + ["--allow-any"], "--listen", ["127.0.0.1", "127.0.0.1:99999", "300.1.1.1:80"]),
    (TRACKER[:2] + ["--allow-any"], "--allow-dir", [""]),
    (TRACKER[:2] + ["--allow-any"], "--config", [""]),
]


def bad_values(option, kind, zero_allowed):
    values = ["-1", "nan", "inf", HUGE, "abc", ""]
    if kind == "whole":
        values += ["1.5"] if option == "--value" else ["1.5", "0x10"]  # endian --value takes 0x hex
    if not zero_allowed:
        values += ["0"]
    return values


def attempt(case):
    base, option, value = case
    return case, run(*base, option, value, check=False, timeout=30)


class EveryNumericOption(unittest.TestCase):
    def test_bad_values_are_usage_errors_naming_the_option(self):
        cases = [(base, option, value) for base, option, kind, zero in OPTIONS for value in bad_values(option, kind, zero)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(attempt, cases))
        for (base, option, value), proc in results:
            with self.subTest(command=" ".join(base[:2]), option=option, value=value):
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn(_long_form(option) + ":", proc.stderr)
                self.assertNotIn(DBL_MAX_DIGITS, proc.stderr)

    def test_empty_and_malformed_text_is_a_usage_error(self):
        # Issue 11, items 19 and 24: empty hosts, ports and lists, and malformed addresses, exit 2.
        cases = [(base + ([option] if option else []) + [value], option) for base, option, values in TEXT_OPTIONS
                 for value in values]
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda case: (case, run(*case[0], check=False, timeout=30)), cases))
        for (args, option), proc in results:
            with self.subTest(args=args):
                self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
                if option:
                    self.assertIn(option, proc.stderr)

    def test_messages_say_what_the_bound_is(self):
        self.assertIn("--timeout: must be greater than 0 (got 0)",
                      run("client", "echo", "--timeout", "0", check=False).stderr)
        self.assertIn("--wait: must not be negative (got -1)", run("nc", "-w", "-1", "a", "1", check=False).stderr)
        self.assertIn("--top: must be greater than 0 (got 0)", run("scan", "--top", "0", "h", check=False).stderr)
        self.assertIn("--size: must be greater than 0 (got 0)", run("bench", "echo", "--size", "0", check=False).stderr)
        self.assertIn("--grace: 'nan' is not a number", run("serve", "--grace", "nan", check=False).stderr)

    def test_leading_zeros_are_decimal(self):
        # CLI11 alone reads an unsigned "010" as octal 8.
        proc = run("endian", "--value", "010", "--bits", "16")
        self.assertIn("value 0x000a = 10 (16-bit)", proc.stdout)

    def test_good_values_still_work(self):
        self.assertEqual(run("endian", "--value", "0x1234", "--bits", "016").returncode, 0)
        self.assertEqual(run("serve", "--list-models", "--idle-timeout", "0", "--grace", "0.5",
                             "--max-conns", "1").returncode, 0)


def _long_form(option):
    """The name CLI11 puts in its messages for a short option: its long name."""
    return {"-w": "--wait", "-q": "--quit", "-p": "--source-port", "-d": "--duration"}.get(option, option)


if __name__ == "__main__":
    unittest.main()
