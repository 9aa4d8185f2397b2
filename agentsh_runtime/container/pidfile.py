"""Pid files as runc writes them: the bare decimal pid, no newline, renamed into place."""

from __future__ import annotations

import os

from ..errors import ContainerError


def write_pid_file(path: str, pid: int) -> None:
    path = os.path.abspath(path)
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_SYNC | os.O_CLOEXEC,
                     0o666)
    except FileExistsError:
        os.unlink(tmp)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_SYNC | os.O_CLOEXEC,
                     0o666)
    except OSError as e:
        raise ContainerError(f"cannot write pid file {path}: {e.strerror}", "--pid-file") from e
    try:
        os.write(fd, str(pid).encode())
    finally:
        os.close(fd)
    os.rename(tmp, path)
