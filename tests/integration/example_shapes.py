"""Output compared by shape (examples_support.py runs the examples): line by line, as
whitespace-separated fields, where numbers, hex ids, and weekday and month names stand for any
of their kind; a line `...` stands for any number of lines; `^C` marks where an example pressed
Ctrl-C. A number printed differently (a port picked by port 0) is followed into later commands.
"""

import difflib
import re

ANY_LINES = "..."
INTERRUPT = "^C"

_HEX_LETTERS = re.compile(r"[a-fA-F]+")
_TOKEN = re.compile(r"[0-9A-Fa-f]*[0-9][0-9A-Fa-f]*|[A-Za-z]+|.")
_DAYS = {"mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday", "wednesday", "thursday",
         "friday", "saturday", "sunday"}
_MONTHS = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "january",
           "february", "march", "april", "june", "july", "august", "september", "october", "november",
           "december"}


def _tokens(field_text):
    """(kind, text) pairs of one field: numbers (decimal or hex with a digit), day and month
    names, and everything else character by character."""
    out = []
    for m in _TOKEN.finditer(field_text):
        text = m.group()
        if any(c.isdigit() for c in text):
            out.append(("number", text))
        elif text.lower() in _DAYS:
            out.append(("day", text))
        elif text.lower() in _MONTHS:
            out.append(("month", text))
        else:
            out.append(("text", text))
    return out


def line_matches(shown, printed, numbers=None):
    """True when line `printed` has the shape of line `shown`. Pairs of differing decimal numbers
    are added to `numbers` (shown -> printed), the first pairing of a number winning."""
    shown_fields, printed_fields = shown.split(), printed.split()
    if len(shown_fields) != len(printed_fields):
        return False
    pairs = []
    for s_field, p_field in zip(shown_fields, printed_fields):
        s_tokens, p_tokens = _tokens(s_field), _tokens(p_field)
        if len(s_tokens) != len(p_tokens):
            return False
        for (s_kind, s_text), (p_kind, p_text) in zip(s_tokens, p_tokens):
            if s_kind == "number" and p_kind == "text" and _HEX_LETTERS.fullmatch(p_text):
                continue  # a hex id that happens to have no digit ("abcde")
            if s_kind != p_kind or (s_kind == "text" and s_text != p_text):
                return False
            if s_kind == "number" and s_text != p_text and s_text.isdigit() and p_text.isdigit():
                pairs.append((s_text, p_text))
    if numbers is not None:
        for s_text, p_text in pairs:
            numbers.setdefault(s_text, p_text)
    return True


def lines_match(shown, printed):
    """The numbers followed (a dict, shown -> printed) when the lines `printed` have the shape of
    the lines `shown` (where `...` is any number of lines); None when they do not. The first way
    through that matches wins, `...` taking as few lines as it can."""
    reached = {0: {}}  # printed lines matched so far -> numbers followed on the way
    for line in shown:
        following = {}
        for j, numbers in reached.items():
            if line.strip() == ANY_LINES:
                for k in range(j, len(printed) + 1):
                    following.setdefault(k, numbers)
            elif j < len(printed) and j + 1 not in following:
                more = dict(numbers)
                if line_matches(line, printed[j], more):
                    following[j + 1] = more
        reached = following
    return reached.get(len(printed))


def _shape_key(line):
    """A line's shape, for aligning a diff: its fields with numbers and names as their kinds."""
    if line.strip() == ANY_LINES:
        return ANY_LINES
    return " ".join("".join(kind if kind != "text" else text for kind, text in _tokens(f)) for f in line.split())


def shape_diff(shown, printed, where):
    """A diff of the shown lines against the printed ones, for a failure message: lines of the
    same shape are context ("  "), a `...` that stands for printed lines is context too."""
    shown_keys, printed_keys = [_shape_key(s) for s in shown], [_shape_key(p) for p in printed]
    out = [f"--- shown ({where})\n", "+++ printed\n"]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, shown_keys, printed_keys, autojunk=False).get_opcodes():
        if op == "equal":
            out += [f"  {line}\n" for line in printed[j1:j2]]
        elif i2 > i1 and all(key == ANY_LINES for key in shown_keys[i1:i2]):
            out.append(f"  {shown[i1]}   ({j2 - j1} lines)\n")
        else:
            out += [f"- {line}\n" for line in shown[i1:i2]] + [f"+ {line}\n" for line in printed[j1:j2]]
    return "".join(out)


_PORT = re.compile(r"(?<![\w.])(\d{4,5})(?![\w.])")


def follow_numbers(command, numbers):
    """`command` with each port-sized number (1024-65535) the example printed differently
    replaced by the printed one (`--port 39699` follows the port that port 0 picked)."""
    def swap(m):
        text = m.group(1)
        return numbers.get(text, text) if 1024 <= int(text) <= 65535 else text
    return _PORT.sub(swap, command)


class Shape:
    """What a console block shows a command printing (see lines_match); `^C` lines split it."""

    def __init__(self, lines):
        self.lines = list(lines)

    def interrupted(self):
        """(the lines before ^C, the lines without ^C), or None when it shows no ^C."""
        cuts = [i for i, line in enumerate(self.lines) if line.strip() == INTERRUPT]
        if not cuts:
            return None
        return Shape(self.lines[:cuts[0]]), Shape(self.lines[:cuts[0]] + self.lines[cuts[0] + 1:])

    def match(self, text):
        """The numbers followed (shown -> printed) when `text` has this shape; None otherwise."""
        return lines_match(self.lines, _lines_of(text))

    def explain(self, text, where):
        return shape_diff(self.lines, _lines_of(text), where)


class Pattern:
    """A regular expression (re.M) that a command's output must contain; its named groups are
    learned: a later command's {name} becomes what the group matched."""

    def __init__(self, regex):
        self.regex = regex

    def interrupted(self):
        return None

    def match(self, text):
        m = re.search(self.regex, text, re.M)
        return None if m is None else {k: v for k, v in m.groupdict().items() if v is not None}

    def explain(self, text, where):
        return f"nothing matches {self.regex!r} in what it printed:\n{text or '(nothing)'}\n"


def _lines_of(text):
    """The lines of `text`, without trailing blank ones (a block never shows them)."""
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines
