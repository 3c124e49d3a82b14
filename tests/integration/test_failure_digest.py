"""scripts/failure_digest.py: a failed ctest run ends with why each test failed (the assertion of a
unittest file, gtest's failure lines), read from ctest's own logs; a run with nothing it knows
ends with the test's last lines."""

import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "failure_digest.py")

FAILING_FILE = """import unittest
class A(unittest.TestCase):
    def test_model(self):
        for model in ["poll", "select"]:
            with self.subTest(model=model):
                # A server's whole log in the message, as the tests give: 30 lines after the assertion.
                self.assertEqual(model, "select", "found {'served': 0}\\n" + "\\n".join(f"log {i}" for i in range(30)))
"""


def section(index, name, output):
    return (f"{index}/3 Testing: {name}\n{index}/3 Test: {name}\nCommand: x\nOutput:\n"
            f"{'-' * 58}\n{output}\n<end of output>\nTest time =   1.00 sec\n{'-' * 58}\nTest Failed.\n\n")


class FailureDigest(unittest.TestCase):
    def test_each_failed_test_ends_the_run_with_its_assertion(self):
        with tempfile.TemporaryDirectory() as build:
            with open(os.path.join(build, "t_fail.py"), "w") as f:
                f.write(FAILING_FILE)
            python = subprocess.run([sys.executable, "-m", "unittest", "-v", "t_fail"], cwd=build,
                                    capture_output=True, text=True, timeout=60).stderr
            gtest = ("[ RUN      ] Foo.Bar\nfoo.cpp:12: Failure\nExpected equality of these values:\n  a\n"
                     "    Which is: 1\n[  FAILED  ] Foo.Bar (3 ms)")
            temporary = os.path.join(build, "Testing", "Temporary")
            os.makedirs(temporary)
            with open(os.path.join(temporary, "LastTest.log"), "w") as f:
                f.write("Start testing: x\n" + section(1, "integration.t_fail", python) + section(2, "Foo.Bar", gtest) +
                        section(3, "Quiet.Crash", "line 1\nkilled by signal 9"))
            with open(os.path.join(temporary, "LastTestsFailed.log"), "w") as f:
                f.write("1:integration.t_fail\n2:Foo.Bar\n3:Quiet.Crash\n")
            digest = subprocess.run([sys.executable, SCRIPT, build], capture_output=True, text=True,
                                    timeout=60, check=True).stdout
        tail = digest[digest.index("why they failed: 3 test(s)"):]
        self.assertIn("FAIL: test_model (t_fail.A.test_model) (model='poll')", tail)
        self.assertIn('self.assertEqual(model, "select", "found {\'served\': 0}', tail)
        self.assertIn("AssertionError: 'poll' != 'select'", tail)
        self.assertIn("--- Foo.Bar\nfoo.cpp:12: Failure\n    Expected equality of these values:", tail)
        self.assertIn("--- Quiet.Crash\nline 1\nkilled by signal 9", tail)


if __name__ == "__main__":
    unittest.main()
