#!/usr/bin/env python3
"""After a failed ctest run: what each failed test said, in a few lines, printed last. A CI log is
often read from its end only; ctest's own end names the failed tests but not why they failed,
and their output (--output-on-failure) scrolled past long before. This prints, per failed test,
the lines that say why: unittest's FAIL/ERROR headers and the last lines of each traceback,
gtest's failure lines and the lines after them, a sanitizer's summary.

    scripts/failure_digest.py build/asan
"""

import os
import re
import sys

PER_TEST = 40  # lines at most per failed test
TRACEBACK_TAIL = 6  # lines of a traceback kept when it names no frame
MESSAGE_LINES = 5  # lines of the exception and its message after the last frame

SECTION = re.compile(r"^\d+/\d+ Testing: (\S+)$", re.M)
OUTPUT = re.compile(r"^Output:\n-+\n(.*?)^<end of output>$", re.S | re.M)


def outputs(log):
    """{test name: its output} of every test in ctest's LastTest.log."""
    found = {}
    starts = list(SECTION.finditer(log))
    for here, after in zip(starts, starts[1:] + [None]):
        body = log[here.end():after.start() if after else len(log)]
        match = OUTPUT.search(body)
        found[here.group(1)] = match.group(1) if match else ""
    return found


def traceback_summary(block):
    """The last frame of a traceback (file, line, code) and the first lines of the exception."""
    frames = [i for i, l in enumerate(block) if l.lstrip().startswith('File "')]
    if not frames:
        return block[-TRACEBACK_TAIL:]
    return block[frames[-1]:frames[-1] + 2 + MESSAGE_LINES]


def unittest_lines(lines):
    kept = []
    for i, line in enumerate(lines):
        if re.match(r"^(FAIL|ERROR): ", line):
            kept.append(line)
            end = next((j for j in range(i + 2, len(lines)) if re.match(r"^=+$|^-{20,}$", lines[j]) and
                        not re.match(r"^-+$", lines[j - 1])), len(lines))
            block = [l for l in lines[i + 1:end] if l.strip() and not re.match(r"^-+$|^\s*[\^~]+\s*$", l)]
            kept += ["    " + l for l in traceback_summary(block)]
        elif re.match(r"^(FAILED \(|Ran \d+ tests? in)", line):
            kept.append(line)
    return kept


def gtest_lines(lines):
    kept = []
    for i, line in enumerate(lines):
        if re.search(r": Failure$|^\[  FAILED  \] .*\(\d+ ms\)$", line):
            kept.append(line)
            if line.endswith("Failure"):
                kept += ["    " + l for l in lines[i + 1:i + 5] if not l.startswith("[")]
    return kept


def sanitizer_lines(lines):
    return [l for l in lines if re.search(r"^SUMMARY: \w+Sanitizer|^==\d+==ERROR: |^WARNING: ThreadSanitizer", l)]


def digest(output):
    lines = output.splitlines()
    kept = unittest_lines(lines) + gtest_lines(lines) + sanitizer_lines(lines)
    if not kept:
        kept = lines[-15:]  # nothing recognised: how it ended
    return kept[:PER_TEST]


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build/asan"
    temporary = os.path.join(build, "Testing", "Temporary")
    try:
        with open(os.path.join(temporary, "LastTestsFailed.log")) as f:
            failed = [line.strip().split(":", 1)[1] for line in f if ":" in line]
        with open(os.path.join(temporary, "LastTest.log"), errors="replace") as f:
            found = outputs(f.read())
    except OSError as error:
        print(f"failure_digest: {error}")
        return 0
    print(f"\n===== why they failed: {len(failed)} test(s); each one's whole output is above =====")
    for name in failed:
        print(f"--- {name}")
        for line in digest(found.get(name, "")):
            print(line[:300])
    return 0


if __name__ == "__main__":
    sys.exit(main())
