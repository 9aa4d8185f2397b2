"""Globs as POLICY.md defines them, compiled to RE2 (Latin-1) patterns.

`*` a run of characters without the separator, `**` anything including the
separator, `?` one character but the separator, `[abc]`, `[a-z]`, `[!a]` (one
character, never the separator), `{a,b}` (alternatives, may nest and hold globs;
an unclosed `{` is an error), `\\x` the character x itself. An unclosed `[` is
itself, as fnmatch has it (agentsh's own policies list the command `[`).
Separator: `/` for paths, `.` for domains, none for command basenames and
environment names (then `*` and `**` are the same). The whole text must match:
`/workspace/**` matches `/workspace/` and below, not `/workspace` itself.

Matching works on bytes (paths are bytes on Linux): a pattern's literal
characters are their UTF-8 bytes, `?` and `[!a]` take one UTF-8 sequence.
"""

from __future__ import annotations

from .regex import Regex, RegexSet

SPECIAL = frozenset("*?[{\\")
# characters a variable's value is escaped for before it is spliced into a glob
ESCAPE = frozenset("*?[]{}\\,")
MAX_BRACE_DEPTH = 16

__all__ = ["GlobError", "translate", "scan", "literal", "escape", "GlobSet", "Glob"]


class GlobError(ValueError):
    """The glob is malformed (unclosed `{`, trailing `\\`, bad range, empty `[]`)."""


def escape(text: str) -> str:
    """`text` as a glob that matches exactly `text`."""
    return "".join("\\" + c if c in ESCAPE else c for c in text)


def literal(glob: str) -> str | None:
    """The one string `glob` matches when it has no wildcard, else None."""
    if not any(c in SPECIAL for c in glob):
        return glob
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "\\":
            if i + 1 >= n:
                return None
            out.append(glob[i + 1])
            i += 2
        elif c == "[" and "]" not in glob[i + 1:]:
            out.append(c)  # an unclosed '[' is itself
            i += 1
        elif c in SPECIAL:
            return None
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _byte(b: int) -> str:
    c = chr(b)
    if c.isascii() and (c.isalnum() or c == "_"):
        return c
    return f"\\x{b:02x}"


def _lit(ch: str) -> str:
    return "".join(_byte(b) for b in ch.encode("utf-8", "surrogateescape"))


_ANY = "(?s:.*)"
_UTF8_TAIL = r"[\xc0-\xff][\x80-\xbf]*|[\x80-\xbf]"


def _nosep_run(sep: str | None) -> str:
    return _ANY if sep is None else f"[^{_byte(ord(sep))}]*"


def _one(sep: str | None) -> str:
    excl = "" if sep is None else _byte(ord(sep))
    return f"(?:[^{excl}\\x80-\\xff]|{_UTF8_TAIL})"


def scan(glob: str) -> list[tuple]:
    """The tokens of `glob`, for every reader of the language (the RE2 translation
    here, globprog's native programs, the mount plan): ("lit", char), ("star",) a run
    without the separator, ("dstar",) any run, ("one",) one character but the
    separator, ("class", negated, ASCII (lo, hi) ranges, non-ASCII chars) (a negated
    class never matches the separator either), ("alts", [token lists]) for braces."""
    end, toks = _scan(glob, 0, 0)
    if end != len(glob):  # pragma: no cover - _scan consumes everything at depth 0
        raise GlobError(f"unexpected {glob[end]!r} at {end}")
    return toks


def _scan(g: str, i: int, depth: int) -> tuple[int, list[tuple]]:
    toks: list[tuple] = []
    n = len(g)
    while i < n:
        c = g[i]
        if depth and c in ",}":
            return i, toks
        if c == "*":
            j = i
            while j < n and g[j] == "*":
                j += 1
            toks.append(("dstar",) if j - i >= 2 else ("star",))
            i = j
        elif c == "?":
            toks.append(("one",))
            i += 1
        elif c == "[":
            parsed = parse_class(g, i)
            if parsed is None:  # an unclosed '[' is itself (as fnmatch has it)
                toks.append(("lit", "["))
                i += 1
            else:
                i = parsed[0]
                toks.append(("class", *parsed[1:]))
        elif c == "{":
            if depth >= MAX_BRACE_DEPTH:
                raise GlobError(f"braces nested deeper than {MAX_BRACE_DEPTH}")
            start = i
            i += 1
            alts: list[list[tuple]] = []
            while True:
                i, alt = _scan(g, i, depth + 1)
                alts.append(alt)
                if i >= n:
                    raise GlobError(f"unclosed '{{' at {start}")
                if g[i] == "}":
                    i += 1
                    break
                i += 1  # ','
            toks.append(("alts", alts))
        elif c == "\\":
            if i + 1 >= n:
                raise GlobError("trailing backslash")
            toks.append(("lit", g[i + 1]))
            i += 2
        else:
            toks.append(("lit", c))
            i += 1
    return i, toks


def translate(glob: str, sep: str | None) -> str:
    """The RE2 pattern (Latin-1, to be matched anchored at both ends) for `glob`."""
    return _regex(scan(glob), sep)


def _regex(toks: list[tuple], sep: str | None) -> str:
    parts: list[str] = []
    for t in toks:
        kind = t[0]
        if kind == "lit":
            parts.append(_lit(t[1]))
        elif kind == "star":
            parts.append(_nosep_run(sep))
        elif kind == "dstar":
            parts.append(_ANY)
        elif kind == "one":
            parts.append(_one(sep))
        elif kind == "class":
            parts.append(_class(*t[1:], sep))
        else:
            parts.append("(?:" + "|".join(_regex(alt, sep) for alt in t[1]) + ")")
    return "".join(parts)


def parse_class(g: str, i: int
                ) -> tuple[int, bool, list[tuple[str, str]], list[str]] | None:
    """The class at g[i] == '[': (index after it, negated, ASCII (lo, hi) ranges,
    non-ASCII characters), or None when it is not closed (then the '[' is itself).
    Raises GlobError on a bad or non-ASCII range, an empty class, or non-ASCII in a
    negated one. (Shared with globprog, the native matcher's compiler.)"""
    start = i
    n = len(g)
    i += 1
    neg = i < n and g[i] == "!"
    if neg:
        i += 1
    items: list[tuple[str, str]] = []
    while True:
        if i >= n:
            return None
        c = g[i]
        if c == "]":
            break
        if c == "\\":
            i += 1
            if i >= n:
                return None
            c = g[i]
        i += 1
        if i + 1 < n and g[i] == "-" and g[i + 1] != "]":
            hi = g[i + 1]
            i += 2
            if hi == "\\":
                if i >= n:
                    return None
                hi = g[i]
                i += 1
            if hi < c:
                raise GlobError(f"bad range {c}-{hi} at {start}")
            items.append((c, hi))
        else:
            items.append((c, c))
    if not items:
        raise GlobError(f"empty character class at {start}")
    ascii_ranges: list[tuple[str, str]] = []
    wide: list[str] = []
    for lo, hi in items:
        if lo.isascii() and hi.isascii():
            ascii_ranges.append((lo, hi))
        elif lo == hi:
            wide.append(lo)
        else:
            raise GlobError(f"a range of non-ASCII characters is not supported, at {start}")
    if neg and wide:
        raise GlobError(f"[!...] with non-ASCII characters is not supported, at {start}")
    return i + 1, neg, ascii_ranges, wide


def _class(neg: bool, ranges: list[tuple[str, str]], wide_chars: list[str],
           sep: str | None) -> str:
    ascii_parts = [_byte(ord(lo)) if lo == hi else f"{_byte(ord(lo))}-{_byte(ord(hi))}"
                   for lo, hi in ranges]
    wide = [_lit(c) for c in wide_chars]
    if neg:
        excl = "".join(ascii_parts) + ("" if sep is None else _byte(ord(sep)))
        return f"(?:[^{excl}\\x80-\\xff]|{_UTF8_TAIL})"
    alts = []
    if ascii_parts:
        alts.append("[" + "".join(ascii_parts) + "]")
    alts.extend(wide)
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"


class Glob:
    """One glob, compiled alone (for a rule with a single pattern to test)."""

    __slots__ = ("glob", "_lit", "_rx", "fold")

    def __init__(self, glob: str, sep: str | None, fold: bool = False) -> None:
        if fold:
            glob = glob.lower()
        self.glob = glob
        self.fold = fold
        self._lit = literal(glob)
        self._rx = None if self._lit is not None else Regex(translate(glob, sep), True, True)

    def match(self, text: str) -> bool:
        if self.fold:
            text = text.lower()
        if self._lit is not None:
            return text == self._lit
        return self._rx.test(text.encode("utf-8", "surrogateescape"))


class GlobSet:
    """Globs each tagged with an owner (a rule index); `mask(text)` is the bitmask
    (bit i for owner i) of the owners with at least one glob matching `text`.

    Literal globs are a dict lookup; the rest are one RegexSet."""

    __slots__ = ("_literals", "_set", "_bits", "fold", "empty", "_memo", "_memo_size")

    def __init__(self, items: list[tuple[str, int]], sep: str | None,
                 fold: bool = False, memo: int = 0) -> None:
        self.fold = fold
        # answers remembered for texts that recur (command basenames): at most `memo`
        self._memo: dict[str, int] | None = {} if memo else None
        self._memo_size = memo
        self._literals: dict[str, int] = {}
        patterns: list[str] = []
        self._bits: list[int] = []
        for glob, owner in items:
            if fold:
                glob = glob.lower()
            lit = literal(glob)
            if lit is not None:
                self._literals[lit] = self._literals.get(lit, 0) | (1 << owner)
            else:
                patterns.append(translate(glob, sep))
                self._bits.append(1 << owner)
        self._set = RegexSet(patterns) if patterns else None
        self.empty = not items

    def mask(self, text: str) -> int:
        memo = self._memo
        if memo is not None:
            m = memo.get(text)
            if m is not None:
                return m
        key = text
        if self.fold:
            text = text.lower()
        m = self._literals.get(text, 0)
        if self._set is not None:
            bits = self._bits
            for i in self._set.matches(text.encode("utf-8", "surrogateescape")):
                m |= bits[i]
        if memo is not None:
            if len(memo) >= self._memo_size:
                memo.clear()
            memo[key] = m
        return m
