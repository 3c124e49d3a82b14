"""Runs documented examples and checks what they print (test_examples.py is the test; its
docstring says how to write examples it can run): the steps of ```console blocks and of --help
examples, each example in a world of its own (example_worlds.py), output matched by shape
(example_shapes.py) or by a regex. Commands run with bash, in order. One still running once its
shown output is out is a server: it stays in the background, and is stopped with SIGINT when the
example ends; it must then exit cleanly. Every wait has a deadline; a failure says which example
(file:line), which command, and shows a diff of what was shown against what was printed.
"""

import dataclasses
import re
import signal
import subprocess
import threading
import time
import traceback
from dataclasses import dataclass, field

from example_shapes import Pattern, Shape, follow_numbers
from example_worlds import STOP_DEADLINE, World

SANITIZER_REPORT = re.compile(r"ERROR: \w+Sanitizer|SUMMARY: \w+Sanitizer|runtime error: ")

COMMAND_DEADLINE = 60.0   # seconds a command may take to print what it shows, or to finish
SERVER_GRACE = 1.0        # seconds a command that printed what it shows may take to exit before it counts as a server


class ExampleError(AssertionError):
    """An example did not run as shown; the message says where, which command and how."""


@dataclass
class Step:
    """One command of an example and what it `shows` (a Shape or a Pattern). `server`: True when
    it must keep running (it is up once it shows what it shows), False when it must exit by
    itself, None when either (a console block's command: still running once its output is out,
    it is a server). A step without a command acts on the server started by step `target`:
    `wait` for it to exit by itself, or `interrupt` it (SIGINT) and wait."""
    command: str
    where: str
    shows: object = None
    server: bool = None
    hidden: bool = False   # setup the reader does not see
    listens: tuple = ()    # a server is up only once these are bound in the world too: "tcp:9999", "udp:53"
    target: int = None
    action: str = None     # "wait" or "interrupt", with `target`


@dataclass
class Script:
    """An example: the steps run in one world, and what that world has besides them."""
    where: str
    steps: list
    files: tuple = ()          # names under fixtures/examples copied into the working directory
    hosts: str = ""            # lines added to the world's /etc/hosts
    addresses: tuple = ()      # extra addresses on lo, e.g. "10.0.0.2/32"
    env: dict = field(default_factory=dict)
    error: str = None          # why the example cannot run at all, with its place (a block without a command)


def parse_console(text, where_of_line, hidden=False):
    """The steps of a console transcript: `$ command` lines (a trailing backslash continues a
    command, and bash gets the lines as typed, backslashes included; a trailing `&` makes it a
    server), each followed by the lines it prints.
    `where_of_line(i)` names the i-th line."""
    steps = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            start, command = i, line[2:]
            while command.endswith("\\") and i + 1 < len(lines):
                i += 1
                command += "\n" + lines[i]
            server = None
            if re.search(r"[^&]&\s*$", command):
                command, server = command.rstrip()[:-1].rstrip(), True
            steps.append(Step(command=command, where=where_of_line(start), shows=Shape([]), server=server,
                              hidden=hidden))
        elif steps:
            steps[-1].shows.lines.append(line)
        elif line.strip():
            raise ValueError(f"{where_of_line(i)}: output before any `$ command` line")
        i += 1
    for step in steps:
        while step.shows.lines and not step.shows.lines[-1].strip():
            step.shows.lines.pop()
        if not step.shows.lines and step.server is None:
            step.server = False  # it shows nothing: a server would say so with `&`
    return steps


_FENCE = re.compile(r"^( {0,4})(```+|~~~+)\s*(\S*)")
_SETUP = re.compile(r"^\s*<!--\s*example setup:(.*)$")


def console_blocks(path, name=None, files=()):
    """Every ```console block of a markdown file as a Script (whose world has `files`), with its
    hidden setup: an HTML comment `<!-- example setup: ... -->` right before the block (blank
    lines between are fine), itself a console transcript (`$ command` lines, each followed by
    what it shows)."""
    name = name or path
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    scripts = []
    setup, setup_line = None, None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _SETUP.match(line)
        fence = _FENCE.match(line)
        if m:
            body, start = [m.group(1)], i
            while "-->" not in body[-1] and i + 1 < len(lines):
                i += 1
                body.append(lines[i])
            body[-1] = body[-1][:body[-1].index("-->")] if "-->" in body[-1] else body[-1]
            first = body[0].strip()
            setup = "\n".join(([first] if first else []) + [b.rstrip() for b in body[1:]]).strip("\n")
            setup_line = start
        elif fence:
            indent, marker, language = fence.groups()
            end = i + 1
            while end < len(lines) and not lines[end].strip().startswith(marker):
                end += 1
            if language == "console":
                block = [line[len(indent):] if line.startswith(indent) else line for line in lines[i + 1:end]]
                scripts.append(_console_script(name, block, i + 1, setup, setup_line, files))
            elif setup is not None:
                scripts.append(_misplaced_setup(name, setup_line))
            setup = None
            i = end
        elif line.strip() and setup is not None:
            scripts.append(_misplaced_setup(name, setup_line))
            setup = None
        i += 1
    return scripts


def _misplaced_setup(name, setup_line):
    where = f"{name}:{setup_line + 1}"
    return Script(where=where, steps=[],
                  error=f"{where}: an example setup comment must come right before a ```console block")


def _console_script(name, block_lines, first_index, setup, setup_line, files):
    where = f"{name}:{first_index}"
    try:
        steps = []
        if setup is not None:
            steps += parse_console(setup, lambda k: f"{name}:{setup_line + 1} (setup)", hidden=True)
        steps += parse_console("\n".join(block_lines), lambda k: f"{name}:{first_index + 1 + k}")
    except ValueError as e:
        return Script(where=where, steps=[], error=f"{e}; a block that is not an example is ```text")
    if not any(not s.hidden for s in steps):
        return Script(where=where, steps=[], error=f"{where}: a ```console block without a `$ command` line: "
                                                   "make it ```text if it is not an example")
    return Script(where=where, steps=steps, files=tuple(files))


# ---- --help examples ----

_EXAMPLES_HEADER = re.compile(r"^Examples?:\s*$")


def help_text(sockit, path):
    proc = subprocess.run([sockit, *path, "--help"], capture_output=True, text=True, timeout=COMMAND_DEADLINE)
    if proc.returncode != 0:
        raise ExampleError(f"sockit {' '.join(path)} --help exited {proc.returncode}: {proc.stderr}")
    return proc.stdout


def subcommands(text):
    """The names listed under "Subcommands:" in a --help text."""
    names, inside = [], False
    for line in text.split("\n"):
        if line.startswith("Subcommands:"):
            inside = True
        elif inside and line.startswith("  ") and line.strip():
            names.append(line.split()[0])
        elif inside:
            inside = bool(not line.strip() and not names)
    return names


def example_lines(text):
    """The example commands of a --help text: the lines indented by two spaces under "Example:" or
    "Examples:", each without its comment (what follows `#` or a gap of two or more spaces)."""
    found, inside = [], False
    for line in text.split("\n"):
        if _EXAMPLES_HEADER.match(line):
            inside = True
        elif inside and line.startswith("  ") and line.strip():
            found.append(re.split(r"\s{2,}|\s#", line.strip(), maxsplit=1)[0].strip())
        else:
            inside = False
    return found


def help_examples(sockit):
    """{example command: "sockit SUB ... --help"} for every example of every subcommand's --help,
    subcommands found by walking "Subcommands:" from `sockit --help`."""
    examples = {}
    pending = [[]]
    while pending:
        path = pending.pop(0)
        text = help_text(sockit, path)
        for example in example_lines(text):
            examples.setdefault(example, " ".join(["sockit", *path, "--help"]))
        pending += [[*path, name] for name in subcommands(text)]
    return examples


# ---- running a script ----

def _clean_stop(code):
    """A server stopped with SIGINT at the end of its example: exit 0, or the signal's own end."""
    return code in (0, 130, -signal.SIGINT)


def _survived_ctrl_c(code):
    """After an example's own Ctrl-C any exit code goes (scan exits 1 with the report so far),
    but not another signal's death (a crash)."""
    return code is not None and (code >= 0 or code == -signal.SIGINT)


class Run:
    """Runs a Script's steps in a World; run() returns the failures, as messages."""

    def __init__(self, script, sockit, deadline=COMMAND_DEADLINE, stop_deadline=STOP_DEADLINE):
        self.script, self.sockit = script, sockit
        self.deadline, self.stop_deadline = deadline, stop_deadline
        self.learned = {}    # shown number -> printed number (shapes), group name -> text (patterns)
        self.started = []    # the Process of each step (None for steps without a command)
        self.servers = []    # (step, Process) still to stop
        self.failures = []

    def run(self):
        if self.script.error:
            return [self.script.error]
        with World(self.sockit, self.script.files, self.script.hosts, self.script.addresses,
                   self.script.env) as world:
            try:
                for step in self.script.steps:
                    self.started.append(None)
                    if not self._step(world, step):
                        break
            finally:
                self._stop_servers()
        return self.failures

    def _fail(self, step, how, process=None, shows=None):
        """Records a failure of `step`: where, the command as run, how, and what it printed
        against what it shows (`shows`, or the step's own); returns False."""
        message = f"{step.where}: `{process.command if process else step.command}` {how}"
        if process is not None:
            message += "\n" + (shows or step.shows).explain(process.text(), step.where)
        self.failures.append(message)
        return False

    def _command(self, step):
        return self._fill(follow_numbers(step.command, self.learned))

    def _fill(self, text):
        """`text` with each {name} a pattern learned (a named group) replaced by what it matched."""
        return re.sub(r"\{([A-Za-z_]\w*)\}", lambda m: self.learned.get(m.group(1), m.group(0)), text)

    def _step(self, world, step):
        if step.action == "wait":
            return self._wait_server_exit(step)
        if step.action == "interrupt":
            return self._interrupt_server(step)
        # What earlier steps printed fills in this one: followed numbers, {name}s of patterns.
        shows = Pattern(self._fill(step.shows.regex)) if isinstance(step.shows, Pattern) else step.shows
        step = dataclasses.replace(step, command=self._command(step), shows=shows)
        process = world.start(step.command, step.where)
        self.started[-1] = process
        if step.shows.interrupted():
            return self._interrupted_step(step, process)
        if not self._wait_until_shown(process, step.shows, world, step.listens):
            process.kill()
            return self._fail(step, f"neither exited nor printed what it shows within {self.deadline}s",
                              process)
        if process.running() and step.server is None:
            process.wait(SERVER_GRACE)
        if not process.running():
            if step.server:
                return self._fail(step, f"exited {process.proc.returncode} instead of serving", process)
            return self._finished(step, process)
        if step.server is False:
            if process.wait(self.deadline) is None:
                process.kill()
                return self._fail(step, f"did not exit within {self.deadline}s", process)
            return self._finished(step, process)
        found = step.shows.match(process.text(complete_lines=True))
        if found is None:
            return self._fail(step, "kept running and printed more than it shows", process)
        self._learn(found)
        self.servers.append((step, process))
        return True

    def _interrupted_step(self, step, process):
        before, whole = step.shows.interrupted()
        if not self._wait_until_shown(process, before) or not process.running():
            if process.running():
                process.kill()
                return self._fail(step, f"did not print the lines before ^C within {self.deadline}s", process,
                                  before)
            return self._fail(step, f"exited {process.proc.returncode} before ^C", process, before)
        process.interrupt()
        code = process.wait(self.stop_deadline)
        if code is None:
            process.kill()
            return self._fail(step, f"did not exit within {self.stop_deadline}s of ^C (SIGINT)", process)
        if not _survived_ctrl_c(code):
            return self._fail(step, f"died of signal {-code} after ^C (SIGINT)", process)
        return self._check_output(step, process, whole)

    def _wait_until_shown(self, process, shows, world=None, listens=()):
        """Waits until `process` exits or, running, has printed what `shows` shows (and the
        world has `listens` bound); False when neither happened by the deadline."""
        deadline = time.monotonic() + self.deadline
        while time.monotonic() < deadline:
            if not process.running():
                return True
            if shows.match(process.text(complete_lines=True)) is not None and all(world.bound(s) for s in listens):
                return True
            time.sleep(0.02)
        return False

    def _finished(self, step, process):
        code = process.wait(self.stop_deadline)  # and its last output
        if code != 0:
            return self._fail(step, f"exited {code}", process)
        return self._check_output(step, process, step.shows)

    def _check_output(self, step, process, shows):
        if SANITIZER_REPORT.search(process.text()):
            return self._fail(step, "ran into a sanitizer report", process)
        found = shows.match(process.text())
        if found is None:
            return self._fail(step, "printed something else than it shows", process, shows)
        self._learn(found)
        return True

    def _learn(self, found):
        for key, value in found.items():
            self.learned.setdefault(key, value)

    def _server_of(self, step):
        process = self.started[step.target]
        self.servers = [(s, p) for s, p in self.servers if p is not process]
        return self.script.steps[step.target], process

    def _wait_server_exit(self, step):
        target, process = self._server_of(step)
        if process.wait(self.deadline) is None:
            process.kill()
            return self._fail(target, f"did not exit by itself within {self.deadline}s", process)
        return self._ended_cleanly(target, process, lambda code: code == 0, "exited {code}")

    def _interrupt_server(self, step):
        target, process = self._server_of(step)
        if not process.running():
            return self._fail(target, f"exited {process.proc.returncode} before its Ctrl-C", process)
        return self._stop(target, process, _survived_ctrl_c)

    def _stop(self, step, process, clean=_clean_stop):
        """SIGINT to a server, which must then exit within stop_deadline with a code `clean`
        accepts; one that ended by itself meanwhile must have exited 0."""
        if process.running():
            process.interrupt()
            if process.wait(self.stop_deadline) is None:
                process.kill()
                return self._fail(step, f"kept running {self.stop_deadline}s after SIGINT", process)
            return self._ended_cleanly(step, process, clean, "exited {code} when stopped with SIGINT")
        return self._ended_cleanly(step, process, lambda code: code == 0, "exited {code} in the background")

    def _ended_cleanly(self, step, process, clean, how):
        code = process.wait(self.stop_deadline)
        if not clean(code):
            return self._fail(step, how.format(code=code), process)
        if SANITIZER_REPORT.search(process.text()):
            return self._fail(step, "ran into a sanitizer report", process)
        return True

    def _stop_servers(self):
        """Stops every server still running, last started first."""
        for step, process in reversed(self.servers):
            self._stop(step, process)
        self.servers = []


def run_scripts(scripts, sockit, parallel, deadline=COMMAND_DEADLINE, stop_deadline=STOP_DEADLINE):
    """Runs the scripts, `parallel` at a time, each in its own world (`deadline`: seconds a
    command may take to show its output or finish; `stop_deadline`: to exit after SIGINT);
    returns [(script, failures, seconds)] in the scripts' order."""
    def one(script):
        start = time.monotonic()
        try:
            failures = Run(script, sockit, deadline, stop_deadline).run()
        except Exception as e:  # noqa: BLE001 - a harness fault is this example's failure, the others go on
            failures = [f"{script.where}: {type(e).__name__}: {e}\n{traceback.format_exc()}"]
        return script, failures, time.monotonic() - start

    results = [None] * len(scripts)
    # The longest first (load tests, full-range scans), so they do not end the run alone.
    slow = re.compile(r"sockit bench|1-65535")
    jobs = iter(sorted(enumerate(scripts), key=lambda job: not any(slow.search(s.command) for s in job[1].steps)))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                item = next(jobs, None)
            if item is None:
                return
            index, script = item
            results[index] = one(script)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, parallel))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


