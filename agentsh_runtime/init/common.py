"""Last steps shared by every process we start: signals, fds, execve."""

from __future__ import annotations

import _signal
import os

_SIG_DFL = 0
# Python ignores SIGPIPE and SIGXFSZ at start-up; ignored signals survive execve.
_PYTHON_IGNORED = (13, 25)


def reset_signals() -> None:
    for sig in _PYTHON_IGNORED:
        _signal.signal(sig, _SIG_DFL)
    _signal.signal(2, _SIG_DFL)  # SIGINT: Python's KeyboardInterrupt handler
    _signal.pthread_sigmask(_signal.SIG_SETMASK, [])


def close_fds_from(first: int) -> None:
    """Mark every fd >= first close-on-exec; keep 0..first-1 open and inheritable."""
    for fd in range(3, first):
        try:
            os.set_inheritable(fd, True)
        except OSError:
            pass
    try:
        fds = [int(x) for x in os.listdir("/proc/self/fd")]
    except OSError:
        os.closerange(first, 65536)
        return
    for fd in fds:
        if fd >= first:
            try:
                os.set_inheritable(fd, False)
            except OSError:
                pass


def execve(path: str, args: list[str], env: dict[str, str]) -> None:
    """The last step. Nobody reads our channel any more (we reported `ready`), so a
    refused exec (a policy's EACCES, say) is said on stderr, with a shell's exit codes."""
    try:
        os.execve(path, args, env)
    except OSError as e:
        try:
            os.write(2, f"agentsh-runtime: exec {path}: {e.strerror}\n".encode())
        except OSError:
            pass
        os._exit(127 if e.errno == 2 else 126)
