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

from .glob import scan

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


def _expand(toks: list[tuple]) -> Alts:
    """glob.scan's tokens as linear alternatives (braces and wide classes multiplied)."""
    alts: Alts = [[]]
    for t in toks:
        kind = t[0]
        if kind == "lit":
            part: Alts = [[("lit", _utf8(t[1]))]]
        elif kind in ("star", "dstar"):
            part = [[t]]
        elif kind == "one":
            part = [[("one", _ASCII & ~(1 << SEP))]]
        elif kind == "class":
            part = _class(*t[1:])
        else:
            part = []
            for alt in t[1]:
                part.extend(_expand(alt))
                if len(part) > MAX_ALTERNATIVES:
                    raise GlobTooComplex(f"more than {MAX_ALTERNATIVES} alternatives")
        alts = _product(alts, part)
    return alts


def _class(neg: bool, ranges: list[tuple[str, str]], wide_chars: list[str]) -> Alts:
    bits = 0
    for lo, hi in ranges:
        for b in range(ord(lo), ord(hi) + 1):
            bits |= 1 << b
    if neg:
        return [[("one", _ASCII & ~bits & ~(1 << SEP))]]
    alts: Alts = []
    if bits:
        alts.append([("set", bits)])
    alts.extend([("lit", _utf8(c))] for c in wide_chars)
    return alts


def alternatives(glob: str) -> Alts:
    """`glob` as linear token lists whose union matches what glob.translate matches."""
    return _expand(scan(glob))


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
