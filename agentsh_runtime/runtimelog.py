"""runc's log: `--log FILE --log-format text|json`, one line per message.

Written with the standard library only (callers parse it: containerd keeps the
last `error` line, podman wants exactly one line on failure).
"""

from __future__ import annotations

import os
import sys
import time

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"


class RuntimeLog:
    def __init__(self, path: str | None = None, fmt: str = "text", debug: bool = False) -> None:
        self.path = path
        self.fmt = fmt
        self.min_level = LEVELS["debug"] if debug else LEVELS["info"]
        self._fd = -1

    def _line(self, level: str, msg: str) -> str:
        from . import jsonio

        if self.fmt == "json":
            return jsonio.dumps({"level": level, "msg": msg, "time": _now()}) + "\n"
        return f'time="{_now()}" level={level} msg={jsonio.dumps(msg)}\n'

    def _write(self, text: str) -> None:
        if self.path:
            if self._fd < 0:
                try:
                    self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT |
                                       os.O_CLOEXEC, 0o644)
                except OSError:
                    sys.stderr.write(text)
                    return
            os.write(self._fd, text.encode())
        else:
            sys.stderr.write(text)
            sys.stderr.flush()

    def log(self, level: str, msg: str) -> None:
        if LEVELS[level] >= self.min_level:
            self._write(self._line(level, msg))

    def debug(self, msg: str) -> None:
        self.log("debug", msg)

    def info(self, msg: str) -> None:
        self.log("info", msg)

    def warning(self, msg: str) -> None:
        self.log("warning", msg)

    def error(self, msg: str) -> None:
        """The one error line; also on stderr when the log is a file (as runc)."""
        self._write(self._line("error", msg))
        if self.path:
            sys.stderr.write(msg + "\n")
            sys.stderr.flush()
