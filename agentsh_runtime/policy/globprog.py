"""Path globs (glob.py's language, separator `/`) compiled to a small NFA program for
the monitor's native open path (monitor/openfast.c), which accepts exactly what the
RE2 translation in glob.py accepts.

Braces and classes holding non-ASCII characters are alternatives: each glob becomes
one or more linear programs (at most MAX_ALTERNATIVES, else GlobTooComplex and the
caller keeps the Python path). Instructions, as openfast.c runs them:

    (BYTE, b)        one byte b
    (SET, set)       one byte in set (a 256-bit int)
    (ONE, set)       one character: an ASCII byte in set, a lone 0x80-0xbf byte, or a
                     lead byte >= 0xc0 followed by CONT (emitted right after ONE)
    (CONT, 0)        any number of 0x80-0xbf bytes
    (STAR, 0)        any number of bytes but '/'
    (DSTAR, 0)       any number of bytes
    (ACCEPT, rule)   end of text: `rule` matched
"""

from __future__ import annotations

from .glob import MAX_BRACE_DEPTH, GlobError, parse_class

BYTE, SET, ONE, CONT, STAR, DSTAR, ACCEPT = 1, 2, 3, 4, 5, 6, 7
MAX_ALTERNATIVES = 256
SEP = ord("/")
_ASCII = (1 << 128) - 1

Token = tuple  # ("lit", bytes) | ("star",) | ("dstar",) | ("one", set) | ("set", set)
Alts = list  # list of token lists


class GlobTooComplex(ValueError):
    """The glob expands to more alternatives than the native matcher takes."""


def _utf8(ch: str) -> bytes:
    return ch.encode("utf-8", "surrogateescape")


def _product(a: Alts, b: Alts) -> Alts:
    out = [x + y for x in a for y in b]
    if len(out) > MAX_ALTERNATIVES:
        raise GlobTooComplex(f"more than {MAX_ALTERNATIVES} alternatives")
    return out


def _seq(g: str, i: int, depth: int) -> tuple[int, Alts]:
    alts: Alts = [[]]
    n = len(g)
    while i < n:
        c = g[i]
        if depth and c in ",}":
            return i, alts
        if c == "*":
            j = i
            while j < n and g[j] == "*":
                j += 1
            part: Alts = [[("dstar",) if j - i >= 2 else ("star",)]]
            i = j
        elif c == "?":
            part = [[("one", _ASCII & ~(1 << SEP))]]
            i += 1
        elif c == "[":
            i, part = _class(g, i)
        elif c == "{":
            if depth >= MAX_BRACE_DEPTH:
                raise GlobError(f"braces nested deeper than {MAX_BRACE_DEPTH}")
            start = i
            i += 1
            part = []
            while True:
                i, alt = _seq(g, i, depth + 1)
                part.extend(alt)
                if len(part) > MAX_ALTERNATIVES:
                    raise GlobTooComplex(f"more than {MAX_ALTERNATIVES} alternatives")
                if i >= n:
                    raise GlobError(f"unclosed '{{' at {start}")
                if g[i] == "}":
                    i += 1
                    break
                i += 1  # ','
        elif c == "\\":
            if i + 1 >= n:
                raise GlobError("trailing backslash")
            part = [[("lit", _utf8(g[i + 1]))]]
            i += 2
        else:
            part = [[("lit", _utf8(c))]]
            i += 1
        alts = _product(alts, part)
    return i, alts


def _class(g: str, i: int) -> tuple[int, Alts]:
    start = i
    parsed = parse_class(g, i)
    if parsed is None:
        return start + 1, [[("lit", b"[")]]  # an unclosed '[' is itself
    i, neg, ranges, wide_chars = parsed
    bits = 0
    for lo, hi in ranges:
        for b in range(ord(lo), ord(hi) + 1):
            bits |= 1 << b
    wide = [_utf8(c) for c in wide_chars]
    if neg:
        return i, [[("one", _ASCII & ~bits & ~(1 << SEP))]]
    alts: Alts = []
    if bits:
        alts.append([("set", bits)])
    alts.extend([("lit", w)] for w in wide)
    return i, alts


def alternatives(glob: str) -> Alts:
    """`glob` as linear token lists whose union matches what glob.translate matches."""
    end, alts = _seq(glob, 0, 0)
    if end != len(glob):  # pragma: no cover - _seq consumes everything at depth 0
        raise GlobError(f"unexpected {glob[end]!r} at {end}")
    return alts


def compile_globs(items: list[tuple[str, int]]) -> tuple[list[tuple[int, int]], list[int]]:
    """[(glob, rule)] -> (instructions [(op, arg)], start index of each alternative)."""
    prog: list[tuple[int, int]] = []
    starts: list[int] = []
    for glob, rule in items:
        for alt in alternatives(glob):
            starts.append(len(prog))
            for tok in alt:
                kind = tok[0]
                if kind == "lit":
                    prog.extend((BYTE, b) for b in tok[1])
                elif kind == "star":
                    prog.append((STAR, 0))
                elif kind == "dstar":
                    prog.append((DSTAR, 0))
                elif kind == "one":
                    prog.append((ONE, tok[1]))
                    prog.append((CONT, 0))
                else:
                    prog.append((SET, tok[1]))
            prog.append((ACCEPT, rule))
    return prog, starts
