"""`agentsh-runtime audit ID`: read a container's events back, filtered, optionally following."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

from .events import log_path


def parse_since(text: str) -> float:
    """An RFC 3339 time, or a duration back from now (`10m`, `2h`, `30s`)."""
    from datetime import datetime

    from ..spec.units import parse_duration

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return time.time() - parse_duration(text, "--since")


def _ts(event: dict) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()
    except (KeyError, ValueError):
        return 0.0


def matches(event: dict, types: set[str], decisions: set[str], since: float | None) -> bool:
    if types and event.get("type") not in types:
        return False
    if decisions:
        pol = event.get("policy") or {}
        if pol.get("decision") not in decisions and pol.get("effective_decision") not in decisions:
            return False
    return since is None or _ts(event) >= since


def _files(path: str) -> list[str]:
    rotated = sorted((p for p in (f"{path}.{i}" for i in range(1, 100)) if os.path.exists(p)),
                     key=lambda p: int(p.rsplit(".", 1)[1]), reverse=True)
    return rotated + ([path] if os.path.exists(path) else [])


def read_events(events_dir: str, container_id: str, types: set[str] = frozenset(),
                decisions: set[str] = frozenset(), since: float | None = None,
                follow: bool = False, still_running=None) -> Iterator[dict]:  # noqa: ANN001
    path = log_path(events_dir, container_id)
    files = _files(path)
    if not files and not follow:
        raise FileNotFoundError(path)
    for f in files[:-1] if follow else files:
        yield from _read_file(f, types, decisions, since)
    if not follow:
        return
    pos = 0
    buf = b""
    while True:
        try:
            with open(path, "rb") as fh:
                fh.seek(pos)
                chunk = fh.read()
        except FileNotFoundError:
            chunk = b""
        if chunk:
            pos += len(chunk)
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                ev = _parse(line)
                if ev is not None and matches(ev, types, decisions, since):
                    yield ev
        elif still_running is not None and not still_running():
            return
        else:
            time.sleep(0.2)


def _parse(line: bytes) -> dict | None:
    if not line.strip():
        return None
    try:
        ev = json.loads(line)
    except ValueError:
        return None
    return ev if isinstance(ev, dict) else None


def _read_file(path: str, types: set[str], decisions: set[str],
               since: float | None) -> Iterator[dict]:
    with open(path, "rb") as fh:
        for line in fh:
            ev = _parse(line)
            if ev is not None and matches(ev, types, decisions, since):
                yield ev
