"""Every example a user reads runs: each ```console block of README.md and docs/*.md, and each
example line of every subcommand's --help. An example that no longer works as shown fails here.

Each example runs in a world of its own (example_worlds.py): network, PID and mount namespaces
with only lo, a fresh working directory holding fixtures/examples/ (site/, request.bin), a private
/etc/hosts (`127.0.0.1 localhost` and what the example adds) and /etc/resolv.conf, and `sockit` on
PATH. Nothing leaves the world: example.org is a name in its /etc/hosts.

Docs: a ```console block is `$ command` lines, each followed by what it prints. Output is matched
by shape: the same lines, compared field by field, where any number, hex id, weekday or month
name stands for any other; `...` alone on a line stands for any number of lines; `^C` alone on
a line is Ctrl-C (SIGINT once the lines above it are out; any exit code then, but no crash). A
number printed differently (a port picked by port 0) is followed in later commands of the block.
A command still running once its output is out is a server: it stays up until the block ends,
then gets SIGINT and must exit cleanly. A command that shows no output must exit; a server that
prints nothing says so with a trailing `&`. A block that needs files or servers first gets a
hidden setup, itself a transcript, in an HTML comment right before it:

    <!-- example setup:
    $ sockit serve echo:0 --listen 127.0.0.1 --quiet
    listening on 127.0.0.1:45867 (echo/tcp, model epoll, 2 threads)
    -->

A block that is not an example (a log excerpt, a benchmark table, a run of minutes) is ```text.

--help: every line under "Example:"/"Examples:" (without its comment) needs one entry in
HELP_EXAMPLES below, and every entry must still be an example; adding an example to a --help is
adding one line here:

    E("sockit client fib 10 20 30", shows=r"^55\\n6765\\n832040$", before=[FIB]),

- `shows`: a regex (re.M) the example's output must contain; it must then exit 0 by itself.
- `serves`: instead, the example is a server: it must keep running and print this; `then` steps
  talk to it (ask(COMMAND, REGEX): exit 0 and print REGEX; WAIT: it exits 0 by itself; STOP:
  Ctrl-C, then it must exit), and at the end it gets SIGINT and must exit cleanly.
- `before`: steps first, in order: server(COMMAND, READY) starts a background server, up once it
  prints READY; setup(COMMAND) must exit 0. Named groups of a regex ((?P<port>\\d+)) fill {port}
  in later commands and regexes.
- `listens`: sockets ("tcp:9999", "udp:53") a server example must have bound before it counts as
  up (for one that prints nothing); server(..., listens=...) likewise.
- `files`, `hosts`, `addresses`, `env`: what the world has besides fixtures/examples/ (an env value
  may be a function: it is called as the world starts).

SOCKIT_EXAMPLES_ONLY=REGEX runs only the examples whose place matches (README.md:51, `sockit nc`);
SOCKIT_EXAMPLES_PARALLEL=N sets how many worlds run at once (default 4).
"""

import functools
import os
import re
import sys
import tempfile
import time
import unittest

import example_shapes as shapes
import examples_support as ex
from example_shapes import Pattern
from example_worlds import namespaces_unavailable
from examples_support import Script, Step
from harness import SOCKIT

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SKIP = namespaces_unavailable()
PARALLEL = int(os.environ.get("SOCKIT_EXAMPLES_PARALLEL", "4"))  # worlds at once: they mostly wait
ONLY = os.environ.get("SOCKIT_EXAMPLES_ONLY", "")  # a regex: run only the examples whose place it matches
DEFAULT_FILES = ("site", "request.bin", "packaging")  # packaging: the repo's, for its example config


# ---- the worlds of the --help examples ----

class Example:
    """One --help example and its world (see the module docstring)."""

    def __init__(self, command, shows=None, serves=None, listens=(), before=(), then=(), files=(), hosts="",
                 addresses=(), env=None):
        assert (shows is None) != (serves is None), f"{command}: give shows or serves"
        self.command, self.shows, self.serves, self.listens = command, shows, serves, tuple(listens)
        self.before, self.then = list(before), list(then)
        self.files, self.hosts, self.addresses, self.env = tuple(files), hosts, tuple(addresses), env or {}

    def script(self, source):
        where = f"`{self.command}` ({source})"
        before = [_placed(step, where) for step in self.before]
        shows = Pattern(self.shows if self.serves is None else self.serves)
        main = Step(command=self.command, where=where, shows=shows, server=self.serves is not None,
                    listens=self.listens)
        then = [_placed(step, where, target=len(before)) for step in self.then]
        return Script(where=where, steps=[*before, main, *then], files=DEFAULT_FILES + self.files,
                      hosts=self.hosts, addresses=self.addresses, env=self.env)


def _placed(step, where, target=None):
    return Step(command=step.command, where=f"{where}, {step.where}", shows=step.shows, server=step.server,
                listens=step.listens, action=step.action, target=target if step.action else None)


def server(command, ready=r"listening on", listens=()):
    return Step(command=command, where=f"server `{command}`", shows=Pattern(ready), server=True,
                listens=tuple(listens))


def setup(command):
    return Step(command=command, where=f"setup `{command}`", shows=Pattern(""), server=False)


def ask(command, regex):
    return Step(command=command, where=f"then `{command}`", shows=Pattern(regex), server=False)


WAIT = Step(command="", where="waiting for it to exit by itself", action="wait")
STOP = Step(command="", where="Ctrl-C", action="interrupt")

E = Example
SERVE = server("sockit serve")
FIB = server("sockit serve fib:9000 --tcp")
ECHO = server("sockit serve echo:10007 --tcp")
DAYTIME_UDP = server("sockit serve daytime:10013 --udp")
HTTP = server("sockit serve http:8080 --root site")
NO_ERRORS = r"(.|\n)*^  errors +0 "  # sockit bench's report: no request failed
DAYTIME = r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}$"
BIG_ISO = setup("head -c 3000000 /dev/urandom > big.iso && sockit cascade create big.iso")
MOVIE = setup("head -c 3000000 /dev/urandom > movie.mp4 && sockit cascade create movie.mp4")
# Ports 1-1000 filtered (SYNs dropped): a full scan is under way long enough for its Ctrl-C.
DROP_SYN_1_TO_1000 = setup("nft add table ip filter && "
                           "nft add chain ip filter input '{ type filter hook input priority 0; }' && "
                           "nft add rule ip filter input tcp dport 1-1000 drop")
ESTABLISHED_22 = [server("sockit serve echo:22 --tcp"), server("sleep 60 | sockit nc -v 127.0.0.1 22", "succeeded")]
# A TLS server for the nc --ssl examples: a CA and a certificate for localhost and example.org it signed.
CERTIFICATES = setup(
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 "
    "-subj '/CN=examples CA' 2>/dev/null && "
    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr "
    "-subj /CN=localhost 2>/dev/null && "
    "printf 'subjectAltName=DNS:localhost,DNS:example.org\\n' > san.ext && "
    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
    "-extfile san.ext 2>/dev/null")

HELP_EXAMPLES = [
    # sockit serve --help
    E("sockit serve", serves=r"^listening on \[::1\]:5000 \(incr/udp",
      then=[ask("sockit client daytime", DAYTIME), ask("echo 41 | sockit client incr --udp", r"^42$")]),
    E("sockit serve fib:9000 --model fork --tcp", serves=r"^listening on 127\.0\.0\.1:9000 \(fib/tcp, model fork",
      then=[ask("sockit client fib 30", r"^832040$")]),
    E("sockit serve echo:0 --listen 127.0.0.1", serves=r"^listening on 127\.0\.0\.1:(?P<port>\d+) \(echo/tcp",
      then=[ask("echo hi | sockit client echo --port {port}", r"^hi$")]),
    E("sockit serve echo daytime --listen ::", serves=r"^listening on \[::\]:10013 \(daytime/udp",
      then=[ask("sockit client daytime --host 127.0.0.1", DAYTIME), ask("sockit client daytime --host ::1", DAYTIME)]),
    E("sockit serve http:8080 --root ./site --access-log -", serves=r"^listening on 127\.0\.0\.1:8080 \(http/tcp",
      then=[ask("curl -s http://127.0.0.1:8080/numbers.txt | tail -1", r"^1000$")]),
    E("sockit serve --config sockit.toml", serves=r"^listening on 127\.0\.0\.1:9000 \(fib/tcp, model pool",
      before=[setup(f"cp {ROOT}/packaging/sockit.toml .")],
      then=[ask("sockit client fib 10", r"^55$"), ask("echo hi | sockit client echo", r"^hi$")]),
    E("sockit serve fib --per-source 4 --rate 10/s --deny 10.0.0.0/8", serves=r"^listening on 127\.0\.0\.1:9000 \(fib/tcp",
      then=[ask("sockit client fib 10", r"^55$")]),
    E("sockit serve echo fib --admin 127.0.0.1:9100", serves=r"^admin page on http://127\.0\.0\.1:9100/",
      then=[ask("sockit client fib 10 && curl -s http://127.0.0.1:9100/metrics | grep '^sockit_requests_total'",
                r'^sockit_requests_total\{service="fib"\} 1$')]),
    # sockit client --help
    E("sockit client fib 10 20 30", shows=r"\A55\n6765\n832040\n\Z", before=[FIB]),
    E("echo hello | sockit client upper", shows=r"\AHELLO\n\Z", before=[server("sockit serve upper --tcp")]),
    E("sockit client time", shows=r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} \(\d+ seconds since 1900\)$",
      before=[server("sockit serve time --tcp")]),
    E("sockit client incr --udp 41 32767", shows=r"\A42\n-32768\n\Z", before=[server("sockit serve incr --udp")]),
    E("sockit client length --port 1060 'some text'", shows=r"\AThe msg was 9 bytes long\n\Z",
      before=[server("sockit serve length")]),
    # sockit nc --help
    E("sockit nc -v 127.0.0.1 10007 < request.bin > reply.bin", shows=r"succeeded.*\n.*sent 23 bytes, received 23 bytes",
      before=[ECHO], then=[ask("cmp request.bin reply.bin && echo same", r"^same$")]),
    E("sockit nc -l 9999 > received.bin", serves=r"", listens=["tcp:9999"],
      then=[ask("sockit nc -v 127.0.0.1 9999 < request.bin", "succeeded"), WAIT,
            ask("cat received.bin", r"\Ahello from request\.bin\n\Z")]),
    E("sockit nc -lk 8080 -c 'echo hello'", serves=r"", listens=["tcp:8080"],
      then=[ask("sockit nc -w 5 127.0.0.1 8080 < /dev/null", r"\Ahello\n\Z"),
            ask("sockit nc -w 5 127.0.0.1 8080 < /dev/null", r"\Ahello\n\Z")]),
    E("sockit nc -u 127.0.0.1 10013 < /dev/null", shows=DAYTIME, before=[DAYTIME_UDP]),
    E("sockit nc -zv -w 1 127.0.0.1 20-25", shows=r"Connection to 127\.0\.0\.1 22 port \[tcp/ssh\] succeeded!",
      before=[server("sockit serve echo:22 --tcp")]),
    E("sockit nc --ssl -l 4433 > received.bin", serves=r"", listens=["tcp:4433"],
      then=[ask("sockit nc -v --ssl 127.0.0.1 4433 < request.bin", r"TLS: TLSv1\.[23] .*CN=localhost"), WAIT,
            ask("cat received.bin", r"\Ahello from request\.bin\n\Z")]),
    E("sockit nc --ssl-trustfile ca.pem --ssl-alpn h2,http/1.1 localhost 4433 < request.bin", shows=r"\Awelcome\n\Z",
      before=[CERTIFICATES, server("echo welcome | sockit nc -v --ssl -l --ssl-cert server.pem --ssl-key server.key "
                                   "--ssl-alpn h2 4433 > got.bin", "listening on")],
      then=[ask("until cmp -s request.bin got.bin; do sleep 0.1; done; echo same", r"^same$")]),
    E("sockit nc --ssl-verify example.org 443", shows=r"\Awelcome\n\Z", hosts="127.0.0.1\texample.org\n",
      env={"SSL_CERT_FILE": "ca.pem"},
      before=[CERTIFICATES, server("echo welcome | sockit nc -v --ssl -l --ssl-cert server.pem --ssl-key server.key "
                                   "443", "listening on")]),
    E("sockit nc -l --chat 9999", serves=r"", listens=["tcp:9999"],
      then=[ask("{ sleep 30 | sockit nc 127.0.0.1 9999; } > alice.txt 2>&1 & "
                "until grep -q 'connected as' alice.txt; do sleep 0.1; done; "
                "echo hello room | sockit nc 127.0.0.1 9999 > /dev/null; "
                "until grep -q 'hello room' alice.txt; do sleep 0.1; done; cat alice.txt",
                r"^<user\d+> hello room$")]),
    # sockit scan --help
    E("sockit scan 127.0.0.1 -p 1-65535", before=[SERVE],
      shows=r"^10007/tcp +open (.|\n)*^scanned 65535 tcp ports of 127\.0\.0\.1 in [\d.]+ s: \d+ open"),
    E("sockit scan localhost -p 22,80,8000-8100 --json", shows=r'"open": 1,(.|\n)*"port": 8080,', before=[HTTP]),
    E("sockit scan 127.0.0.1 -p 10007-10037,8080 --banner", shows=r"^8080/tcp +open +http +syn-ack +HTTP/1\.1 200 OK"
      r"(.|\n)*^10013/tcp +open +daytime +syn-ack +\w{3} \w{3} ", before=[SERVE, HTTP]),
    E("sockit scan 10.0.0.2 -p 1-65535 --resume scan.state", serves=r"", addresses=("10.0.0.2/32",),
      before=[DROP_SYN_1_TO_1000, server("sockit serve echo:10007 --tcp --listen 10.0.0.2")],
      then=[ask("until sockit sockets -tn state syn-sent | grep -q 10.0.0.2; do sleep 0.05; done", ""), STOP,
            ask("ls scan.state", r"^scan\.state$"),
            ask("sockit scan 10.0.0.2 -p 1-65535 --resume scan.state; test -e scan.state || echo state removed",
                r"^10007/tcp +open(.|\n)*^scanned 65535 tcp ports of 10\.0\.0\.2 (.|\n)*^state removed$")]),
    E("sockit scan 127.0.0.1 -u -p 10007,10013,10037 --timeout 0.5", shows=r"^10013/udp +open +\S+ +udp-response",
      before=[server("sockit serve echo daytime time --udp")]),
    # sockit sockets --help
    E("sockit sockets -tulnp", shows=r'^tcp +LISTEN .* 127\.0\.0\.1:10007 .*users:\(\("sockit",pid=\d+', before=[ECHO]),
    E("sockit sockets -tn state established '( dport = :22 or sport = :22 )'",
      shows=r"^tcp +ESTAB .* 127\.0\.0\.1:22 ", before=ESTABLISHED_22),
    E("sockit sockets -tan dst 10.0.0.0/8 and dport '>' :1024", shows=r"^tcp +ESTAB .* 10\.0\.0\.2:10007 *$",
      addresses=("10.0.0.2/32",), before=[server("sockit serve echo:10007 --tcp --listen 10.0.0.2"),
                                          server("sleep 60 | sockit nc -v 10.0.0.2 10007", "succeeded")]),
    E("sockit sockets -tn --all-netns", shows=r"^Netns +Netid(.|\n)*^\S+ +tcp +ESTAB .*:22 ", before=ESTABLISHED_22),
    E("sockit sockets -x -a --json", shows=r'"app\.sock"', before=[server("sockit nc -lkv -U app.sock")]),
    # sockit lookup --help
    E("sockit lookup localhost", shows=r"^127\.0\.0\.1 +inet +stream +tcp$"),
    E("sockit lookup --service ssh/tcp", shows=r"\Assh +22/tcp\n\Z"),
    E("sockit lookup --protocol 17 --json", shows=r'"name": "udp",\s+"number": 17'),
    # sockit endian --help
    E("sockit endian --value 0x01020304 --bits 32", shows=r"^  network order \(wire\): +01 02 03 04$"),
    # sockit bench --help
    E("sockit bench echo 127.0.0.1:10007 --conns 100 --duration 10",
      shows=r"^echo against 127\.0\.0\.1:10007 \(tcp\): 100 connections" + NO_ERRORS, before=[ECHO]),
    E("sockit bench fib 127.0.0.1:9000 --n 27 --conns 10 --rate 500",
      shows=r"^fib against 127\.0\.0\.1:9000 \(tcp\): 10 connections.*open loop" + NO_ERRORS, before=[FIB]),
    E("sockit bench raw 127.0.0.1:6379 --send 'PING\\r\\n' --expect '+PONG\\r\\n' --pipeline 16",
      shows=r"^raw against 127\.0\.0\.1:6379 \(tcp\): .*pipeline 16" + NO_ERRORS,
      before=[server("sockit nc -lkv 6379 -c 'while read -r line; do printf \"+PONG\\r\\n\"; done'")]),
    E("sockit bench echo --server-pid $(pidof sockit) --json",
      shows=r'"error_total": 0,(.|\n)*"server_cpu": \{\n +"percent_of_core"', before=[ECHO]),
    E("sockit bench http http://127.0.0.1:8080/index.html --conns 100 --duration 10",
      shows=r"^http against .*127\.0\.0\.1:8080.*100 connections(.|\n)*200" + NO_ERRORS, before=[HTTP]),
    E("sockit bench http 'http://[::1]:8080/big.bin' --method HEAD --pipeline 8",
      shows=r"^http against .*\[::1\]:8080.*pipeline 8(.|\n)*200" + NO_ERRORS,
      before=[setup("head -c 1048576 /dev/zero > site/big.bin"), HTTP]),
    E("sockit bench echo 10.0.0.1:10007 --start-at $START --json > a.json", shows=r"^$",
      addresses=("10.0.0.1/32",), env={"START": lambda: str(int(time.time()) + 3)},
      before=[server("sockit serve echo:10007 --tcp --listen 10.0.0.1")],
      then=[ask("python3 -m json.tool a.json > /dev/null && echo a.json is JSON", r"^a\.json is JSON$")]),
    E("sockit bench merge a.json b.json",
      shows=r"^  runs +2 over .*\n.*a\.json: 10 conns(.|\n)*b\.json: 10 conns",
      before=[ECHO, setup("sockit bench echo 127.0.0.1:10007 --duration 1 --json > a.json"),
              setup("sockit bench echo 127.0.0.1:10007 --duration 1 --json > b.json")]),
    # sockit cascade --help and its subcommands'
    E("sockit cascade create big.iso --block-size 1MiB",
      shows=r"^wrote big\.iso\.cascade: 3000000 bytes in 3 blocks of 1048576 bytes\ncascade hash [0-9a-f]{64}$",
      before=[setup("head -c 3000000 /dev/urandom > big.iso")]),
    E("sockit cascade tracker --listen 127.0.0.1:8000 --allow-dir .", serves=r"listening on 127\.0\.0\.1:8000 \(1 hash\)",
      before=[BIG_ISO], then=[ask("sockit cascade peer big.iso.cascade --tracker 127.0.0.1:8000 "
                                  "--listen 127.0.0.1:0 --no-seed", r"^complete: big\.iso")]),
    E("sockit cascade peer big.iso.cascade --tracker 127.0.0.1:8000 --listen 127.0.0.1:0 -o copy.iso",
      serves=r"^complete: copy\.iso \(3 blocks, target hash verified\)",
      before=[BIG_ISO, server("sockit cascade tracker --listen 127.0.0.1:8000 --allow-dir ."),
              server("sockit cascade peer big.iso.cascade --tracker 127.0.0.1:8000 --listen 127.0.0.1:0", "seeding")],
      then=[ask("cmp big.iso copy.iso && echo same", r"^same$")]),
    E("sockit cascade create movie.mp4 --block-size 1MiB", shows=r"^cascade hash [0-9a-f]{64}$",
      before=[setup("head -c 3000000 /dev/urandom > movie.mp4")]),
    E("sockit cascade info movie.mp4.cascade --data movie.mp4", shows=r"^data +movie\.mp4: 3 of 3 blocks valid$",
      before=[MOVIE]),
    E("sockit cascade tracker --listen 127.0.0.1:8000 --allow-dir shared/",
      serves=r"listening on 127\.0\.0\.1:8000 \(1 hash\)",
      before=[setup("mkdir shared && cd shared && head -c 3000000 /dev/urandom > movie.mp4 && "
                    "sockit cascade create movie.mp4")]),
    # the seed subscribes through another tracker on the same Redis; a leecher asks this one
    E("sockit cascade tracker --listen 0.0.0.0:8000 --allow-dir shared/ --redis 10.0.0.5:6379",
      serves=r"listening on 0\.0\.0\.0:8000 \(1 hash; swarms in Redis at 10\.0\.0\.5:6379 under \{sockit-tracker\}\)",
      addresses=("10.0.0.5/32",),
      before=[setup("mkdir shared && cd shared && head -c 3000000 /dev/urandom > movie.mp4 && "
                    "sockit cascade create movie.mp4"),
              server("redis-server --bind 10.0.0.5 --port 6379 --protected-mode no --save '' --appendonly no",
                     r"Ready to accept"),
              server("sockit cascade tracker --listen 127.0.0.1:8001 --allow-dir shared/ --redis 10.0.0.5:6379"),
              server("sockit cascade peer shared/movie.mp4.cascade --tracker 127.0.0.1:8001 --listen 127.0.0.1:0 "
                     "-o shared/movie.mp4", r"^seeding 1 file on 127\.0\.0\.1:(?P<port>\d+)")],
      then=[ask("sockit cascade peer shared/movie.mp4.cascade --tracker 127.0.0.1:8000 --listen 127.0.0.1:0 "
                "-o copy.mp4 --no-seed && cmp shared/movie.mp4 copy.mp4 && echo same",
                r"^connected to peer 127\.0\.0\.1:{port}(.|\n)*^same$")]),
    E("sockit cascade peer movie.mp4.cascade --tracker 127.0.0.1:8000 --listen 127.0.0.1:0 -o movie.mp4",
      serves=r"^seeding 1 file on 127\.0\.0\.1:(?P<port>\d+)",
      before=[MOVIE, server("sockit cascade tracker --listen 127.0.0.1:8000 --allow-dir .")],
      then=[ask("sockit cascade peer movie.mp4.cascade --tracker 127.0.0.1:8000 --listen 127.0.0.1:0 -o copy.mp4 "
                "--no-seed && cmp movie.mp4 copy.mp4 && echo same",
                r"^connected to peer 127\.0\.0\.1:{port}(.|\n)*^same$")]),
]


# ---- the tests ----

def _selected(test, scripts):
    """The scripts SOCKIT_EXAMPLES_ONLY selects; the test is skipped when it selects none of them."""
    selected = [script for script in scripts if re.search(ONLY, script.where)]
    if scripts and not selected:
        test.skipTest(f"SOCKIT_EXAMPLES_ONLY={ONLY!r} selects none of these examples")
    return selected


def _report(test, results):
    """One subTest per example: its failures, with how long it took; the slowest on stderr."""
    slowest = sorted(results, key=lambda result: -result[2])[:3]
    print(f"\n{len(results)} examples; slowest: " + ", ".join(f"{s.where} {t:.1f}s" for s, _, t in slowest),
          file=sys.stderr)
    for script, failures, seconds in results:
        with test.subTest(example=script.where):
            if failures:
                test.fail(f"({seconds:.1f}s)\n" + "\n".join(failures))


def doc_files():
    docs = os.path.join(ROOT, "docs")
    return [os.path.join(ROOT, "README.md")] + sorted(
        os.path.join(docs, name) for name in os.listdir(docs) if name.endswith(".md"))


def doc_scripts():
    return [script for path in doc_files()
            for script in ex.console_blocks(path, os.path.relpath(path, ROOT), DEFAULT_FILES)]


@unittest.skipIf(SKIP, SKIP)
class DocExamples(unittest.TestCase):
    def test_every_console_block_runs_as_shown(self):
        scripts = _selected(self, doc_scripts())
        self.assertGreater(len(scripts), 0)
        _report(self, ex.run_scripts(scripts, SOCKIT, PARALLEL))


@functools.lru_cache(maxsize=None)
def help_examples():
    return ex.help_examples(SOCKIT)


def table_problems(examples, entries):
    """What is wrong between the --help examples ({command: source}) and the commands of the
    HELP_EXAMPLES entries: examples without an entry, entries without an example, entries twice."""
    problems = [f"--help example without an entry in HELP_EXAMPLES (test_examples.py): {command}   (in {source})"
                for command, source in examples.items() if command not in entries]
    problems += [f"HELP_EXAMPLES entry whose example no --help shows any more: {command}"
                 for command in entries if command not in examples]
    problems += [f"HELP_EXAMPLES has two entries for: {command}"
                 for command in sorted(set(entries)) if entries.count(command) > 1]
    return problems


class HelpExampleTable(unittest.TestCase):
    def test_every_help_example_has_a_world_and_every_world_an_example(self):
        examples = help_examples()
        self.assertGreater(len(examples), 30)
        self.assertEqual(table_problems(examples, [e.command for e in HELP_EXAMPLES]), [])


@unittest.skipIf(SKIP, SKIP)
class HelpExamples(unittest.TestCase):
    def test_every_help_example_runs(self):
        examples = help_examples()
        scripts = _selected(self, [e.script(examples[e.command]) for e in HELP_EXAMPLES if e.command in examples])
        self.assertGreater(len(scripts), 0)
        _report(self, ex.run_scripts(scripts, SOCKIT, PARALLEL))


# ---- the harness itself: it must fail on broken examples, with a useful message ----

class ShapeMatching(unittest.TestCase):
    def test_numbers_hex_ids_dates_and_column_widths_are_shapes(self):
        self.assertTrue(shapes.line_matches("Date: Tue, 01 Dec 2026 17:44:51 GMT", "Date: Wed, 02 Dec 2026 00:04:09 GMT"))
        self.assertTrue(shapes.line_matches('ETag: "a72493-f35-18ed3243"', 'ETag: "bcdef-f35-19aa0001"'))
        self.assertTrue(shapes.line_matches("ssh              22/tcp", "ssh   22/tcp"))
        self.assertTrue(shapes.line_matches("in 4.34 s", "in 12.5 s"))

    def test_words_fields_and_units_are_not(self):
        self.assertFalse(shapes.line_matches("Content-Type: text/plain", "Content-Type: text/html"))
        self.assertFalse(shapes.line_matches("10007/tcp open", "10007/tcp closed"))
        self.assertFalse(shapes.line_matches("a b c", "a b"))
        self.assertFalse(shapes.line_matches("in 4.34 s", "in 4.34 ms"))

    def test_dots_stand_for_any_lines_and_only_there(self):
        self.assertIsNotNone(shapes.lines_match(["head", "...", "tail 1"], ["head", "x", "y", "tail 2"]))
        self.assertIsNotNone(shapes.lines_match(["head", "..."], ["head"]))
        self.assertIsNone(shapes.lines_match(["head", "tail"], ["head", "x", "tail"]))
        self.assertIsNone(shapes.lines_match(["head"], []))

    def test_a_port_printed_differently_is_followed_in_later_commands(self):
        numbers = shapes.lines_match(["listening on 127.0.0.1:45867 (echo/tcp)"], ["listening on 127.0.0.1:41002 (echo/tcp)"])
        self.assertEqual(shapes.follow_numbers("echo 90 | sockit client echo --port 45867", numbers),
                         "echo 90 | sockit client echo --port 41002")

    def test_a_continued_command_reaches_bash_as_typed(self):
        steps = ex.parse_console("$ printf 'a\\n' \\\n    | tr a b\nb\n", lambda k: f"x.md:{k}")
        self.assertEqual([(s.command, s.shows.lines) for s in steps], [("printf 'a\\n' \\\n    | tr a b", ["b"])])

    def test_help_example_lines_lose_their_comments(self):
        text = ("Usage: x\n\nExamples:\n  sockit nc -l 9999 > r.bin          # the other side\n"
                "  sockit serve                 every service\n  sockit scan 10.0.0.2 -p 1-9    (Ctrl-C)\n"
                "  echo hi | sockit client upper\nUDP services never answer\n")
        self.assertEqual(ex.example_lines(text), ["sockit nc -l 9999 > r.bin", "sockit serve",
                                                  "sockit scan 10.0.0.2 -p 1-9", "echo hi | sockit client upper"])

    def test_the_table_must_cover_every_help_example_and_nothing_else(self):
        problems = table_problems({"sockit a": "sockit --help", "sockit b": "sockit b --help"}, ["sockit a", "sockit c"])
        self.assertEqual(problems, [
            "--help example without an entry in HELP_EXAMPLES (test_examples.py): sockit b   (in sockit b --help)",
            "HELP_EXAMPLES entry whose example no --help shows any more: sockit c"])


def markdown_scripts(text):
    with tempfile.NamedTemporaryFile("w", suffix=".md") as f:
        f.write(text)
        f.flush()
        return ex.console_blocks(f.name, "broken.md", DEFAULT_FILES)


@unittest.skipIf(SKIP, SKIP)
class BrokenExamplesFail(unittest.TestCase):
    """Deliberately broken examples: each must fail, saying where, which command and how."""

    def failures(self, markdown, deadline=10):
        results = ex.run_scripts(markdown_scripts(markdown), SOCKIT, PARALLEL, deadline=deadline, stop_deadline=3)
        return [failure for _, failures, _ in results for failure in failures]

    def test_a_working_block_passes_and_follows_the_port_that_port_0_picked(self):
        self.assertEqual(self.failures(WORKING_BLOCK), [])

    def test_output_of_another_shape_fails_with_a_diff(self):
        failures = self.failures("text\n\n```console\n$ sockit endian\nthis machine is big-endian\n...\n```\n")
        self.assertEqual(len(failures), 1)
        self.assertIn("broken.md:4: `sockit endian` printed something else than it shows", failures[0])
        self.assertIn("\n- this machine is big-endian\n", failures[0])
        self.assertIn("\n+ this machine is little-endian; network byte order is big-endian", failures[0])

    def test_a_failing_command_fails_with_its_exit_code_and_message(self):
        failures = self.failures("```console\n$ sockit client fib 10 --port 1\n55\n```\n")
        self.assertEqual(len(failures), 1)
        self.assertIn("broken.md:2: `sockit client fib 10 --port 1` exited 1", failures[0])
        self.assertIn("Connection refused", failures[0])

    def test_a_server_that_never_shows_its_line_fails_at_the_deadline(self):
        failures = self.failures("```console\n$ sockit serve echo:0 --listen 127.0.0.1\n"
                                 "listening on 127.0.0.1:7 (echo/udp, 1 thread)\n```\n", deadline=3)
        self.assertEqual(len(failures), 1)
        self.assertIn("broken.md:2: `sockit serve echo:0 --listen 127.0.0.1` neither exited nor printed what it "
                      "shows within 3s", failures[0])
        self.assertRegex(failures[0], r"\n\+ listening on 127\.0\.0\.1:\d+ \(echo/tcp")

    def test_a_server_that_does_not_stop_on_ctrl_c_fails(self):
        failures = self.failures("```console\n$ bash -c 'trap \"\" INT; echo up; sleep 60'\nup\n```\n", deadline=3)
        self.assertEqual(len(failures), 1)
        self.assertIn("kept running 3s after SIGINT", failures[0])

    def test_a_later_command_that_fails_names_its_own_line(self):
        failures = self.failures("```console\n$ sockit lookup --service ssh/tcp\nssh 22/tcp\n"
                                 "$ sockit lookup --service no-such-service/tcp\nno-such-service 1/tcp\n```\n")
        self.assertEqual(len(failures), 1)
        self.assertIn("broken.md:4: `sockit lookup --service no-such-service/tcp` exited", failures[0])

    def test_blocks_that_are_no_examples_fail_until_they_are_text(self):
        failures = self.failures("```console\nudp: refused 352 datagrams in 2.1 s\n```\n\n"
                                 "<!-- example setup: $ true -->\nprose\n")
        self.assertEqual(len(failures), 2)
        self.assertIn("broken.md:2: output before any `$ command` line; a block that is not an example "
                      "is ```text", failures[0])
        self.assertIn("broken.md:5: an example setup comment must come right before a ```console block", failures[1])

    def test_a_help_example_whose_world_check_fails_is_reported(self):
        example = E("sockit client fib 10 20 30", shows=r"\A55\n6765\n832041\n\Z", before=[FIB])
        results = ex.run_scripts([example.script("sockit client --help")], SOCKIT, 1, deadline=10)
        failures = results[0][1]
        self.assertEqual(len(failures), 1)
        self.assertIn("`sockit client fib 10 20 30` (sockit client --help): `sockit client fib 10 20 30` printed "
                      "something else than it shows", failures[0])
        self.assertIn("832040", failures[0])


# A server on a port picked by port 0 (the block shows another), a client that follows it, a
# hidden setup, a file of the fixtures, a command continued on the next line, and a ^C.
WORKING_BLOCK = """
<!-- example setup:
$ printf '3\\n4\\n' > numbers.txt
-->
```console
$ sockit serve fib:0 --listen 127.0.0.1
listening on 127.0.0.1:39699 (fib/tcp, model epoll, 2 threads)
$ sockit client fib --port 39699 < numbers.txt
2
3
$ cat request.bin \\
    | tr a-z A-Z
HELLO FROM REQUEST.BIN
$ sockit nc -l 127.0.0.1 9999
^C
```
"""


if __name__ == "__main__":
    unittest.main()
