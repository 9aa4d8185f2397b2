"""Signal names and numbers, as runc's kill accepts them (no `signal` import: it pulls enum)."""

from __future__ import annotations

from ..errors import UsageError

SIGNALS: dict[str, int] = {
    "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7,
    "FPE": 8, "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14,
    "TERM": 15, "STKFLT": 16, "CHLD": 17, "CLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20,
    "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27,
    "WINCH": 28, "IO": 29, "POLL": 29, "PWR": 30, "SYS": 31,
}
SIGRTMIN = 34
SIGRTMAX = 64
SIGKILL = 9
SIGTERM = 15
SIGCHLD = 17
SIGCONT = 18
SIGSTOP = 19


def parse_signal(text: str) -> int:
    """`9`, `KILL`, `SIGKILL`, `kill`, `RTMIN+3` -> signal number."""
    raw = text.strip()
    if raw.isdigit():
        num = int(raw)
        if 1 <= num <= SIGRTMAX:
            return num
        raise UsageError(f"unknown signal {text!r}", "signal")
    name = raw.upper()
    if name.startswith("SIG"):
        name = name[3:]
    if name in SIGNALS:
        return SIGNALS[name]
    for base, value, sign in (("RTMIN", SIGRTMIN, 1), ("RTMAX", SIGRTMAX, -1)):
        if name == base:
            return value
        if name.startswith(base + ("+" if sign > 0 else "-")):
            off = name[len(base) + 1:]
            if off.isdigit() and SIGRTMIN <= value + sign * int(off) <= SIGRTMAX:
                return value + sign * int(off)
    raise UsageError(f"unknown signal {text!r}", "signal")


def signal_name(num: int) -> str:
    for name, value in SIGNALS.items():
        if value == num:
            return "SIG" + name
    return f"SIG{num}"
