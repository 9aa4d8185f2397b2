"""runc's flag values: sizes like `512m` (binary multiples) and Go durations like `5s`."""

from __future__ import annotations

from ..errors import UsageError

_SIZE = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
         "g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40, "p": 1 << 50, "pb": 1 << 50}
_DURATION = (("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0),
             ("m", 60.0), ("h", 3600.0))


def parse_size(text: str, flag: str) -> int:
    """`1024`, `512k`, `1.5g`, `-1` (unlimited) -> bytes."""
    raw = text.strip().lower()
    if raw == "-1":
        return -1
    i = 0
    while i < len(raw) and (raw[i].isdigit() or raw[i] == "."):
        i += 1
    num, unit = raw[:i], raw[i:].strip()
    if not num or unit not in _SIZE or num.count(".") > 1:
        raise UsageError(f"invalid size {text!r}", flag)
    return int(float(num) * _SIZE[unit])


def parse_duration(text: str, flag: str) -> float:
    """Go's time.ParseDuration for the forms people type: `5s`, `100ms`, `1m30s`."""
    raw = text.strip()
    if raw.replace(".", "", 1).isdigit():
        raise UsageError(f"invalid duration {text!r}: missing unit", flag)
    total = 0.0
    i = 0
    while i < len(raw):
        j = i
        while j < len(raw) and (raw[j].isdigit() or raw[j] == "."):
            j += 1
        if j == i:
            raise UsageError(f"invalid duration {text!r}", flag)
        num = raw[i:j]
        for unit, scale in sorted(_DURATION, key=lambda u: -len(u[0])):
            if raw.startswith(unit, j):
                total += float(num) * scale
                i = j + len(unit)
                break
        else:
            raise UsageError(f"invalid duration {text!r}: unknown unit", flag)
    if total <= 0:
        raise UsageError(f"duration must be positive, got {text!r}", flag)
    return total
