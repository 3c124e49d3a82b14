"""sockit lookup against the system's own tools (getent)."""

import json
import subprocess
import unittest

from harness import run


def getent_ahosts(host):
    out = subprocess.run(["getent", "ahosts", host], capture_output=True, text=True, timeout=10, check=True).stdout
    pairs = set()
    for line in out.splitlines():
        fields = line.split()
        pairs.add((fields[0], fields[1].lower()))
    return pairs


class LookupTest(unittest.TestCase):
    def test_localhost_agrees_with_getent_ahosts(self):
        report = json.loads(run("lookup", "localhost", "--json").stdout)
        ours = {(a["address"], a["type"]) for a in report["addresses"]}
        self.assertEqual(ours, getent_ahosts("localhost"))

    def test_table_lists_each_address_with_family_type_and_protocol(self):
        out = run("lookup", "localhost").stdout
        self.assertIn("127.0.0.1", out)
        self.assertRegex(out, r"127\.0\.0\.1\s+inet\s+stream\s+tcp")
        self.assertRegex(out, r"127\.0\.0\.1\s+inet\s+dgram\s+udp")

    def test_service_ssh_is_22_tcp(self):
        out = run("lookup", "--service", "ssh").stdout
        self.assertRegex(out, r"^ssh\s+22/tcp", out)

    def test_service_by_port_number(self):
        report = json.loads(run("lookup", "--service", "13", "--json").stdout)
        self.assertEqual(report["service"][0]["name"], "daytime")

    def test_protocol_by_name_and_number(self):
        self.assertRegex(run("lookup", "--protocol", "udp").stdout, r"^udp\s+17")
        report = json.loads(run("lookup", "--protocol", "6", "--json").stdout)
        self.assertEqual(report["protocol"]["name"], "tcp")

    def test_reverse_of_loopback_is_localhost(self):
        self.assertIn("is localhost", run("lookup", "--reverse", "127.0.0.1").stdout)

    def test_unknown_host_fails_with_the_resolver_message(self):
        proc = run("lookup", "no-such-host.invalid", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("getaddrinfo for no-such-host.invalid failed", proc.stderr)

    def test_nothing_to_look_up_is_a_usage_error(self):
        self.assertEqual(run("lookup", check=False).returncode, 2)


class BinaryTest(unittest.TestCase):
    def test_version_and_help(self):
        self.assertRegex(run("--version").stdout, r"^sockit \d+\.\d+")
        self.assertIn("lookup", run("--help").stdout)

    def test_unknown_subcommand_is_a_usage_error(self):
        self.assertEqual(run("no-such-command", check=False).returncode, 2)

    def test_every_subcommand_help_has_an_example(self):
        for sub in ("lookup", "endian"):
            self.assertIn("Example", run(sub, "--help").stdout, sub)


class EndianTest(unittest.TestCase):
    def test_shows_host_and_network_order_like_the_notes(self):
        out = run("endian").stdout
        self.assertIn("little-endian", out)
        self.assertIn("host order (memory):    04 03 02 01", out)
        self.assertIn("network order (wire):   01 02 03 04", out)

    def test_sixteen_bit_value(self):
        out = run("endian", "--value", "0x1234", "--bits", "16").stdout
        self.assertIn("network order (wire):   12 34", out)
        self.assertIn("htons(0x1234) = 0x3412", out)

    def test_value_too_wide_is_a_usage_error(self):
        self.assertEqual(run("endian", "--value", "70000", "--bits", "16", check=False).returncode, 2)


if __name__ == "__main__":
    unittest.main()
