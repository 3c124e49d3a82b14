#!/usr/bin/env python3
"""Writes a man page per sockit subcommand (sockit.1.gz, sockit-serve.1.gz, sockit-cascade-tracker.1.gz ...)
from the real `sockit ... --help` (CLI11's layout): the pages cannot drift from the options.

    man_pages.py SOCKIT OUTDIR --version VERSION

CLI11's help is: a description line, "Usage: ...", then sections ("Positionals:", "Options:",
"Subcommands:") of entries (a name column, then its description at column 30, or on the next
line when the name is wider), and last the command's footer: free text, with "Example(s):"
followed by indented command lines. help2man reads only the top level and would need a wrapper
per subcommand and its section guesses; this walks the subcommands itself and keeps CLI11's
structure."""

import argparse
import gzip
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

SECTIONS = {"Positionals:": "ARGUMENTS", "Options:": "OPTIONS", "Subcommands:": "SUBCOMMANDS"}
DESCRIBED_AT = 30  # CLI11's column width: a description (and each of its further lines) starts here
EXIT_STATUS = "0 success, 1 runtime failure, 2 usage error (a message on standard error says which)."


def roff(text):
    """Text for a roff line: backslashes and hyphens escaped, no control character at its start."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text.startswith((".", "'")) else text


def help_of(binary, path):
    """`sockit PATH... --help` with argv[0] "sockit", as a user sees it."""
    proc = subprocess.run(["sockit", *path, "--help"], executable=binary, capture_output=True, text=True,
                          timeout=60, check=False)
    if proc.returncode != 0:
        sys.exit(f"man_pages.py: sockit {' '.join(path)} --help exited {proc.returncode}: {proc.stderr}")
    return proc.stdout


def parse(text):
    """(description, usage, [(section, [(name, description)])], footer lines)."""
    lines = text.rstrip("\n").split("\n")
    usage_at = next(i for i, line in enumerate(lines) if line.startswith("Usage: "))
    description = " ".join(line.strip() for line in lines[:usage_at] if line.strip())
    usage = lines[usage_at][len("Usage: "):]
    sections, footer = [], []
    entries = None
    for line in lines[usage_at + 1:]:
        if footer:
            footer.append(line)
        elif line in SECTIONS:
            entries = []
            sections.append((SECTIONS[line], entries))
        elif not line.strip():
            entries = None
        elif entries is not None and line.startswith(" " * DESCRIBED_AT):
            name, described = entries[-1]
            entries[-1] = (name, f"{described} {line.strip()}".strip())
        elif entries is not None and line.startswith("  "):
            # A name of 28 characters or more fills its line (it runs past column 29), and its
            # description comes on the next.
            if len(line) > DESCRIBED_AT and line[DESCRIBED_AT - 1] == " ":
                entries.append((line[:DESCRIBED_AT].strip(), line[DESCRIBED_AT:].strip()))
            else:
                entries.append((line.strip(), ""))
        else:
            footer.append(line)
    return description, usage, sections, footer


def footer_sections(footer):
    """The footer as [(SECTION, [roff lines])]: "Example(s):" opens EXAMPLES, indented lines are kept
    as they are, other lines fill paragraphs; text before any heading or after an example block
    is NOTES."""
    blocks, current, preformatted = [], None, False

    def open_section(name):
        nonlocal current, preformatted
        current = (name, [])
        blocks.append(current)
        preformatted = False

    for line in footer:
        if re.fullmatch(r"Examples?:", line):
            open_section("EXAMPLES")
        elif line.startswith("  "):
            if current is None:
                open_section("NOTES")
            if not preformatted:
                current[1].extend([".PP", ".nf", ".RS 4"])
                preformatted = True
            current[1].append(roff(line[2:]))
        elif line.strip():
            if current is None or (preformatted and current[0] == "EXAMPLES"):
                if preformatted:
                    current[1].extend([".RE", ".fi"])
                open_section("NOTES")
            elif preformatted:
                current[1].extend([".RE", ".fi", ".PP"])
                preformatted = False
            current[1].append(roff(line))
        elif current is not None and not preformatted:
            current[1].append(".PP")
    if preformatted:
        current[1].extend([".RE", ".fi"])
    return blocks


def page(path, text, version, parent):
    description, usage, sections, footer = parse(text)
    command = " ".join(["sockit", *path])
    summary = description.removeprefix(f"{command}: ")
    name = "-".join(["sockit", *path])
    usage_rest = usage.split(" ", len(path) + 1)[len(path) + 1:] if usage.startswith("sockit") else [usage]
    out = [f'.TH {name.upper()} 1 "" "sockit {version}" "User Commands"',
           ".SH NAME", f"{roff(name)} \\- {roff(summary)}",
           ".SH SYNOPSIS", f".B {roff(command)}", roff(" ".join(usage_rest)),
           ".SH DESCRIPTION", roff(description + ("" if description.endswith(".") else "."))]
    children = []
    for section, entries in sections:
        out.append(f".SH {section}")
        for entry, described in entries:
            out += [".TP", f"\\fB{roff(entry)}\\fR", roff(described)]
            if section == "SUBCOMMANDS":
                children.append(entry)
                out[-1] += f" (\\fB{roff(name)}\\-{roff(entry)}\\fR(1))"
    for section, body in footer_sections(footer):
        out += [f".SH {section}", *body]
    out += [".SH EXIT STATUS", roff(EXIT_STATUS)]
    related = ([parent] if parent else []) + [f"{name}-{child}" for child in children]
    if related:
        out += [".SH SEE ALSO", ",\n".join(f"\\fB{roff(r)}\\fR(1)" for r in related)]
    return name, "\n".join(out) + "\n", children


def write_pages(binary, outdir, version, path=(), parent=None):
    """Writes the page of `sockit PATH...` and, side by side, its subcommands' pages."""
    name, text, children = page(list(path), help_of(binary, list(path)), version, parent)
    # Compressed as Debian's policy asks (gzip -9n: no name, no time stamp, so the same bytes
    # every build); man reads .gz pages wherever they are installed.
    with open(os.path.join(outdir, f"{name}.1.gz"), "wb") as f:
        f.write(gzip.compress(text.encode(), compresslevel=9, mtime=0))
    with ThreadPoolExecutor() as pool:  # each --help starts the binary: the startups overlap
        list(pool.map(lambda child: write_pages(binary, outdir, version, (*path, child), name), children))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary")
    parser.add_argument("outdir")
    parser.add_argument("--version", required=True)
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    write_pages(os.path.abspath(args.binary), args.outdir, args.version)


if __name__ == "__main__":
    main()
