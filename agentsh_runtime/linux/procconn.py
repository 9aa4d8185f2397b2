"""The kernel's process-events connector (netlink): which processes just exec'd.

The monitor answers an execve notification with CONTINUE and the kernel then reads
the path and argv again, so another thread (or process sharing that memory) can
swap them in between. On this event the monitor checks what actually ran and
kills on a mismatch. Needs CAP_NET_ADMIN in the initial user namespace.
"""

from __future__ import annotations

import os
import socket
import struct

NETLINK_CONNECTOR = 11
CN_IDX_PROC = 1
CN_VAL_PROC = 1
PROC_CN_MCAST_LISTEN = 1
PROC_CN_MCAST_IGNORE = 2
PROC_EVENT_EXEC = 0x00000002
PROC_EVENT_EXIT = 0x80000000
_NLMSG_DONE = 3
_NLHDR = 16
_CNHDR = 20


class ExecEvents:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        self.sock.bind((0, CN_IDX_PROC))
        self.sock.setblocking(False)
        try:  # a burst of host-wide events must not overflow it (root: FORCE)
            self.sock.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)  # SO_RCVBUFFORCE
        except OSError:
            pass
        self._control(PROC_CN_MCAST_LISTEN)

    def _control(self, op: int) -> None:
        # struct proc_input {mcast_op, event_type} (6.6+): only exec and exit events are
        # delivered to us, not every fork and comm change on the host; older kernels
        # want the bare op (a longer message is refused there), so fall back to it
        try:
            self._send(struct.pack("=II", op, PROC_EVENT_EXEC | PROC_EVENT_EXIT))
        except OSError:
            self._send(struct.pack("=I", op))

    def _send(self, payload: bytes) -> None:
        cn = struct.pack("=IIIIHH", CN_IDX_PROC, CN_VAL_PROC, 0, 0, len(payload), 0) + payload
        self.sock.send(struct.pack("=IHHII", _NLHDR + len(cn), _NLMSG_DONE, 0, 0, os.getpid())
                       + cn)

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self) -> list[tuple[int, int, int]]:
        """(event, tgid, exit status) for exec and exit events received so far (the exit
        status, as wait(2) encodes it, only for exit events of a thread-group leader)."""
        out: list[tuple[int, int, int]] = []
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return out
            off = 0
            while off + _NLHDR <= len(data):
                length = struct.unpack_from("=I", data, off)[0]
                if length < _NLHDR:
                    break
                base = off + _NLHDR + _CNHDR
                if base + 24 <= off + length:
                    what = struct.unpack_from("=I", data, base)[0]
                    if what == PROC_EVENT_EXEC:
                        _, tgid = struct.unpack_from("=II", data, base + 16)
                        out.append((what, tgid, 0))
                    elif what == PROC_EVENT_EXIT and base + 32 <= off + length:
                        pid, tgid, code = struct.unpack_from("=III", data, base + 16)
                        if pid == tgid:
                            out.append((what, tgid, code))
                off += (length + 3) & ~3

    def close(self) -> None:
        try:
            self._control(PROC_CN_MCAST_IGNORE)
        except OSError:
            pass
        self.sock.close()
