"""The container's pty: made inside the container, master sent over the console socket."""

from __future__ import annotations

import _socket
import fcntl
import os
import struct
import sys

from ..errors import SetupError
from ..linux import mount as m

TIOCSPTLCK = 0x40045431
TIOCGPTN = 0x80045430
TIOCSWINSZ = 0x5414
TIOCSCTTY = 0x540E
SCM_RIGHTS = 1
SOL_SOCKET = 1


def open_pty() -> tuple[int, int, str]:
    """(master, slave, slave path) from the current mount namespace's /dev/ptmx."""
    master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
    num = struct.unpack("I", fcntl.ioctl(master, TIOCGPTN, b"\0\0\0\0"))[0]
    path = f"/dev/pts/{num}"
    slave = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    return master, slave, path


def set_size(fd: int, rows: int, cols: int) -> None:
    if rows or cols:
        fcntl.ioctl(fd, TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def send_master(sock_fd: int, master: int, name: str) -> None:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM, 0, sock_fd)
    try:
        sock.sendmsg([name.encode()],
                     [(SOL_SOCKET, SCM_RIGHTS, master.to_bytes(4, sys.byteorder))])
    finally:
        sock.close()


def setup(sock_fd: int, rows: int, cols: int, mount_console: bool) -> None:
    """Make the pty, hand the master over, and make the slave our stdio and ctty."""
    try:
        master, slave, path = open_pty()
        set_size(slave, rows, cols)
        send_master(sock_fd, master, path)
        os.close(master)
        if mount_console:
            console = "/dev/console"
            if not os.path.lexists(console):
                os.close(os.open(console, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
            m.mount(path, console, "bind", m.MS_BIND)
        fcntl.ioctl(slave, TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd, inheritable=True)
        os.close(slave)
    except OSError as e:
        raise SetupError(f"cannot set up the console: {e.strerror or e}",
                         "process.terminal") from e
