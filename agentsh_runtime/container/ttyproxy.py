"""Foreground `run`/`exec` with a terminal and no --console-socket: we are the console.

As runc does: receive the pty master ourselves, put our own terminal in raw
mode, and copy bytes both ways until the container process exits.
"""

from __future__ import annotations

import os
import socket


class ConsolePair:
    """A socketpair standing in for the caller's console socket."""

    def __init__(self) -> None:
        self.ours, self.theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

    def child_fd(self) -> int:
        """The end the container's init sends the master on (a dup the caller closes)."""
        return os.dup(self.theirs.fileno())

    def receive_master(self) -> int:
        self.theirs.close()
        _, fds, _, _ = socket.recv_fds(self.ours, 4096, 1)
        self.ours.close()
        if not fds:
            raise OSError("the container did not send its console")
        return fds[0]


def proxy_until_exit(master: int, pid: int) -> int:
    """Copy stdin -> master and master -> stdout; returns the exit code of pid."""
    import fcntl
    import selectors
    import signal
    import struct
    import termios
    import tty

    from .wait import exit_status

    stdin, stdout = 0, 1
    saved = None
    if os.isatty(stdin):
        saved = termios.tcgetattr(stdin)
        tty.setraw(stdin)

        def resize(*_: object) -> None:
            size = fcntl.ioctl(stdin, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(master, termios.TIOCSWINSZ, size)

        signal.signal(signal.SIGWINCH, resize)
        resize()
    sel = selectors.DefaultSelector()
    sel.register(master, selectors.EVENT_READ)
    try:
        sel.register(stdin, selectors.EVENT_READ)
    except (ValueError, PermissionError, OSError):
        pass  # /dev/null or a regular file cannot be polled: nothing to forward
    status = None
    try:
        while status is None:
            for key, _ in sel.select(0.05):
                try:
                    data = os.read(key.fd, 65536)
                except OSError:
                    data = b""
                if key.fd == master:
                    if not data:
                        sel.unregister(master)
                        continue
                    os.write(stdout, data)
                elif data:
                    os.write(master, data)
                else:
                    sel.unregister(stdin)
            wpid, st = os.waitpid(pid, os.WNOHANG)
            if wpid == pid:
                status = exit_status(st)
        # drain what the process wrote before it exited
        fcntl.fcntl(master, fcntl.F_SETFL, os.O_NONBLOCK)
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            os.write(stdout, data)
    finally:
        if saved is not None:
            termios.tcsetattr(stdin, termios.TCSADRAIN, saved)
        os.close(master)
        _ = struct
    return status
