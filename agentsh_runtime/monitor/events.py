"""Audit events: one JSON object per line in a persistent, rotated, size-capped log.

The monitor is the only writer of a container's log. Writes are buffered and flushed
in batches (on a timer, on a full buffer, on approval events, at exit), so a decision
path costs an append to a list. The log outlives `delete` (podman run --rm loses
nothing); `agentsh-runtime audit ID` reads it back.
"""

from __future__ import annotations

import _thread
import os
import time

DEFAULT_DIR = "/var/log/agentsh-runtime"
MAX_FILE_BYTES = 8 << 20  # rotate past this
KEEP_ROTATED = 4  # ID.jsonl.1 .. ID.jsonl.4: at most ~40 MiB per container
FLUSH_EVERY = 0.2  # seconds
FLUSH_EVENTS = 256


_second: tuple[int, str] = (-1, "")  # the last whole second formatted (one object:
# threads swap it whole)


def rfc3339(t: float) -> str:
    global _second
    sec = int(t)
    cached = _second
    if cached[0] != sec:
        cached = _second = (sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)))
    return f"{cached[1]}.{int(t % 1 * 1e6):06d}Z"


def log_path(events_dir: str, container_id: str) -> str:
    return os.path.join(events_dir, f"{container_id}.jsonl")


def safe_extra_name(name: str) -> str | None:
    """`dev.agentsh.events`: a file name inside the events dir, never a path out of it."""
    base = os.path.basename(name.strip())
    if not base or base in (".", "..") or base != name.strip() or "\x00" in base:
        return None
    return base if base.endswith(".jsonl") else base + ".jsonl"


class EventWriter:
    def __init__(self, events_dir: str, container_id: str, extra_name: str | None = None,
                 max_file_bytes: int = MAX_FILE_BYTES, keep: int = KEEP_ROTATED) -> None:
        os.makedirs(events_dir, 0o700, exist_ok=True)
        self.container_id = container_id
        self.paths = [log_path(events_dir, container_id)]
        if extra_name:
            self.paths.append(os.path.join(events_dir, extra_name))
        self.max_file_bytes = max_file_bytes
        self.keep = keep
        self._buf: list[dict] = []
        self._rendered: list[str] = []  # the first len(_rendered) of _buf, as lines
        self._lock = _thread.allocate_lock()  # the FUSE server's thread emits too
        self._last_flush = time.monotonic()
        self._seq = 0
        self._dropped = 0
        self._skip: set[str] = set()
        self._log_approved = True
        # Rendered with the C JSON encoder, not structlog: the container's first exec
        # waits for the monitor, and importing structlog costs ~70 ms here.
        from .. import jsonio

        self._dumps = jsonio.dumps

    def set_audit(self, log_allowed: bool, log_denied: bool, log_approved: bool) -> None:
        """The policy's `audit` section: which decisions become events."""
        self._skip = set()
        if not log_allowed:
            self._skip.add("allowed")
        if not log_denied:
            self._skip.add("blocked")
        self._log_approved = log_approved

    def emit(self, type_: str, **fields: object) -> dict | None:
        pol = fields.get("policy")
        if isinstance(pol, dict) and "effective_decision" in pol:
            if pol.get("decision") == "approve" and not self._log_approved:
                return None
            if fields.get("effective_action") in self._skip and \
                    not type_.startswith(("approval_", "command_killed")):
                return None
        self._seq += 1
        # id and timestamp are written at flush, from the time taken here: formatting
        # them costs more than the rest of a decision on the tracer's path
        event = {"id": None, "timestamp": time.time(), "type": type_,
                 "container_id": self.container_id, "_seq": self._seq}
        event.update({k: v for k, v in fields.items() if v is not None})
        with self._lock:
            self._buf.append(event)  # encoded at flush: off the decision's path
            full = len(self._buf) >= FLUSH_EVENTS
        if full:
            self.flush()
        return event

    def maybe_flush(self) -> None:
        if self._buf and time.monotonic() - self._last_flush >= FLUSH_EVERY:
            self.flush()

    def render_one(self) -> bool:
        """Render the oldest event not yet rendered, in time the caller has to spare
        (the ptrace tracer while its tracees run); False when none waits."""
        if len(self._rendered) >= len(self._buf):
            return False
        with self._lock:
            i = len(self._rendered)
            if i >= len(self._buf):
                return False
            self._rendered.append(self._render(self._buf[i]))
        return True

    def _render(self, e: dict) -> str:
        now = e["timestamp"]
        if isinstance(now, float):
            e["id"] = f"{self.container_id[:12]}-{int(now * 1e6):x}-{e.pop('_seq', 0)}"
            e["timestamp"] = rfc3339(now)
        return self._dumps(e) + "\n"

    def flush(self) -> None:
        with self._lock:
            self._last_flush = time.monotonic()
            if not self._buf:
                return
            buf, lines = self._buf, self._rendered
            self._buf, self._rendered = [], []
            render = self._render
            lines += [render(e) for e in buf[len(lines):]]
            data = "".join(lines).encode()
            for path in self.paths:
                self._append(path, data)

    def _append(self, path: str, data: bytes) -> None:
        try:
            size = os.path.getsize(path)
        except FileNotFoundError:
            size = 0
        if size + len(data) > self.max_file_bytes:
            self._rotate(path)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, data)
        except OSError:
            self._dropped += 1  # a full disk must not stop enforcement
        finally:
            os.close(fd)

    def _rotate(self, path: str) -> None:
        for i in range(self.keep, 0, -1):
            src = path if i == 1 else f"{path}.{i - 1}"
            if os.path.exists(src):
                os.replace(src, f"{path}.{i}")


def remove_older_than(events_dir: str, days: float) -> list[str]:
    """audit.retention_days: drop event files not written to for that long."""
    cutoff = time.time() - days * 86400
    removed = []
    try:
        names = os.listdir(events_dir)
    except FileNotFoundError:
        return removed
    for name in names:
        if ".jsonl" not in name:
            continue
        path = os.path.join(events_dir, name)
        try:
            if os.path.getmtime(path) < cutoff:
                os.unlink(path)
                removed.append(path)
        except FileNotFoundError:
            continue
    return removed
