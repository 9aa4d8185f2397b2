"""RE2 (google-re2) behind a small interface: compiled once, matched on bytes.

Uses the binding's low-level objects when present (3-5x faster than its `re`-like
wrapper), else the public API. Glob-made patterns run in Latin-1 mode, so every
byte of a path is one character and a path that is not valid UTF-8 still matches
`*`, `**` and `[!x]` (in UTF-8 mode it would silently fail to match a deny rule).
User-written regexes (args_patterns, redirect `match`) run in UTF-8 mode.

`RegexSet` matches many anchored patterns at once. RE2::Set reports "no match"
when its DFA runs out of memory; an empty answer is therefore confirmed by one
alternation of all patterns (a single RE2 falls back to the NFA instead of
failing), and if that disagrees each pattern is tried alone. So an answer is
never a false "no match".
"""

from __future__ import annotations

import re2

try:  # the binding's pybind11 objects; their absence only costs speed
    from re2 import _re2 as _low

    _ANCHOR = _low.RE2.Anchor
    _FAST = hasattr(_low, "RE2") and hasattr(_low, "Set")
except (ImportError, AttributeError):  # pragma: no cover - depends on the binding
    _low = None
    _FAST = False

MAX_MEM = 64 << 20

__all__ = ["RegexError", "Regex", "RegexSet", "check_regex"]


class RegexError(ValueError):
    """The pattern does not compile under RE2."""


def _options(latin1: bool) -> re2.Options:
    opts = re2.Options()
    opts.never_capture = True
    opts.log_errors = False
    opts.max_mem = MAX_MEM
    if latin1:
        opts.encoding = re2.Options.Encoding.LATIN1
    return opts


def _as_bytes(pattern: str | bytes) -> bytes:
    return pattern if isinstance(pattern, bytes) else pattern.encode("utf-8", "surrogateescape")


class Regex:
    """One compiled pattern; `test(text: bytes) -> bool`."""

    __slots__ = ("pattern", "test")

    def __init__(self, pattern: str | bytes, anchored: bool, latin1: bool) -> None:
        self.pattern = pattern
        raw = _as_bytes(pattern)
        opts = _options(latin1)
        if _FAST:
            rx = _low.RE2(raw, opts)
            if not rx.ok():
                raise RegexError(_decode(rx.error()))
            anchor = _ANCHOR.ANCHOR_BOTH if anchored else _ANCHOR.UNANCHORED
            match = rx.Match

            def test(text: bytes) -> bool:
                return match(anchor, text, 0, len(text))[0][0] != -1
        else:  # pragma: no cover
            try:
                rx = re2.compile(raw, opts)
            except re2.error as exc:
                raise RegexError(_decode(exc.args[0] if exc.args else str(exc))) from None
            fn = rx.fullmatch if anchored else rx.search

            def test(text: bytes) -> bool:
                return fn(text) is not None
        self.test = test


class RegexSet:
    """Anchored patterns matched at once: `matches(text) -> list of indices`."""

    __slots__ = ("_patterns", "_set", "_any", "_each", "_latin1")

    def __init__(self, patterns: list[str | bytes], latin1: bool = True) -> None:
        self._patterns = [_as_bytes(p) for p in patterns]
        self._latin1 = latin1
        self._each: list[Regex] | None = None
        self._set = None
        if _FAST and len(self._patterns) > 1:
            st = _low.Set(_ANCHOR.ANCHOR_BOTH, _options(latin1))
            for raw in self._patterns:
                if st.Add(raw) < 0:
                    raise RegexError(f"cannot add {raw!r} to a set")
            if not st.Compile():
                raise RegexError("the patterns do not fit in one set")
            self._set = st.Match
        # one alternation: the confirmation of an empty answer (or the only test)
        if self._patterns:
            alt = b"|".join(b"(?:" + raw + b")" for raw in self._patterns)
            self._any = Regex(alt, anchored=True, latin1=latin1).test
        else:
            self._any = _never

    def __len__(self) -> int:
        return len(self._patterns)

    def matches(self, text: bytes) -> list[int]:
        if self._set is not None:
            found = self._set(text)
            if found:
                return found
        if not self._any(text):
            return []
        return self._slow(text)

    def _slow(self, text: bytes) -> list[int]:
        if self._each is None:
            self._each = [Regex(raw, anchored=True, latin1=self._latin1) for raw in self._patterns]
        return [i for i, rx in enumerate(self._each) if rx.test(text)]


def _never(text: bytes) -> bool:
    return False


def check_regex(pattern: str) -> str | None:
    """None when `pattern` compiles under RE2 (UTF-8), else the reason."""
    try:
        Regex(pattern, anchored=False, latin1=False)
    except RegexError as exc:
        return str(exc)
    return None


def _decode(msg: object) -> str:
    if isinstance(msg, bytes):
        return msg.decode("utf-8", "replace")
    return str(msg)
