"""Signal names, numbers and the groups of signal_rules."""

from __future__ import annotations

from ..spec.signals import SIGNALS

MAX_SIGNAL = 64  # POLICY.md: 1-63 as agentsh, and 64 too (ours)

GROUPS: dict[str, frozenset[int]] = {
    "@all": frozenset(range(1, 32)),
    "@fatal": frozenset((SIGNALS["KILL"], SIGNALS["TERM"], SIGNALS["QUIT"], SIGNALS["ABRT"])),
    "@job": frozenset((SIGNALS["STOP"], SIGNALS["CONT"], SIGNALS["TSTP"], SIGNALS["TTIN"],
                       SIGNALS["TTOU"])),
    "@reload": frozenset((SIGNALS["HUP"], SIGNALS["USR1"], SIGNALS["USR2"])),
    "@ignore": frozenset((SIGNALS["CHLD"], SIGNALS["URG"], SIGNALS["WINCH"])),
}

__all__ = ["SignalError", "parse_signal_spec", "parse_signal", "GROUPS", "MAX_SIGNAL"]


class SignalError(ValueError):
    pass


def parse_signal(value: str | int) -> int:
    """`9`, `KILL`, `SIGKILL`, `sigkill`, `RTMIN+2` -> the number (1-64)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if 1 <= value <= MAX_SIGNAL:
            return value
        raise SignalError(f"signal number {value} is out of range (1-{MAX_SIGNAL})")
    if not isinstance(value, str):
        raise SignalError(f"not a signal: {value!r}")
    text = value.strip()
    if text.isdigit():
        return parse_signal(int(text))
    name = text.upper()
    if name.startswith("SIG"):
        name = name[3:]
    if name in SIGNALS:
        return SIGNALS[name]
    for base, start, mark, sign in (("RTMIN", 34, "+", 1), ("RTMAX", 64, "-", -1)):
        if name == base:
            return start
        off = name[len(base) + 1:]
        if name.startswith(base + mark) and off.isdigit() and 34 <= start + sign * int(off) <= 64:
            return start + sign * int(off)
    raise SignalError(f"unknown signal {value!r}")


def parse_signal_spec(value: str | int) -> frozenset[int]:
    """A signal or an @group -> the set of numbers it means."""
    if isinstance(value, str) and value.strip().startswith("@"):
        group = GROUPS.get(value.strip().lower())
        if group is None:
            raise SignalError(f"unknown signal group {value!r} (one of {', '.join(GROUPS)})")
        return group
    return frozenset((parse_signal(value),))
