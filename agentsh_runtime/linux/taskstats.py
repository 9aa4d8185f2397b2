"""Per-task accounting at exit, from the kernel's taskstats (generic netlink).

The process connector says a process exited; by the time anyone reads /proc its
parent may have reaped it. taskstats hands over the task's CPU times and peak RSS
as it exits. Registering for the exits of every CPU needs CAP_NET_ADMIN.
"""

from __future__ import annotations

import os
import socket
import struct

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
TASKSTATS_CMD_GET = 1
TASKSTATS_CMD_ATTR_REGISTER_CPUMASK = 3
TYPE_PID, TYPE_TGID, TYPE_STATS, TYPE_AGGR_PID, TYPE_AGGR_TGID = 1, 2, 3, 4, 5
NLM_F_REQUEST = 1
# offsets in struct taskstats (fields are only ever appended): from <linux/taskstats.h>
OFF_EXITCODE, OFF_UTIME, OFF_STIME, OFF_HIWATER_RSS = 4, 152, 160, 200


def _attrs(data: bytes, off: int, end: int):  # noqa: ANN202 - yields (type, payload)
    while off + 4 <= end:
        length, kind = struct.unpack_from("=HH", data, off)
        if length < 4:
            return
        yield kind & 0x3FFF, data[off + 4:off + length]
        off += (length + 3) & ~3


def _attr(kind: int, payload: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(payload), kind) + payload
    return raw + b"\0" * ((4 - len(raw) % 4) % 4)


class Usage:
    __slots__ = ("pid", "exit_status", "utime_us", "stime_us", "peak_rss_kb")

    def __init__(self, pid: int, stats: bytes) -> None:
        self.pid = pid
        self.exit_status = struct.unpack_from("=I", stats, OFF_EXITCODE)[0]
        self.utime_us, self.stime_us = struct.unpack_from("=QQ", stats, OFF_UTIME)
        self.peak_rss_kb = struct.unpack_from("=Q", stats, OFF_HIWATER_RSS)[0]


class TaskExits:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sock.bind((0, 0))
        self.seq = 0
        self.family = self._family_id()
        cpus = f"0-{(os.cpu_count() or 1) - 1}".encode() + b"\0"
        self._send(self.family, TASKSTATS_CMD_GET,
                   _attr(TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, cpus))
        self.sock.setblocking(False)

    def _send(self, family: int, cmd: int, attrs: bytes) -> None:
        self.seq += 1
        body = struct.pack("=BBH", cmd, 1, 0) + attrs
        self.sock.send(struct.pack("=IHHII", 16 + len(body), family, NLM_F_REQUEST, self.seq,
                                   0) + body)

    def _family_id(self) -> int:
        self._send(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, _attr(CTRL_ATTR_FAMILY_NAME, b"TASKSTATS\0"))
        data = self.sock.recv(65536)
        length, kind = struct.unpack_from("=IH", data, 0)
        if kind == 2:  # NLMSG_ERROR
            raise OSError(-struct.unpack_from("=i", data, 16)[0], "taskstats family lookup")
        for a, payload in _attrs(data, 20, length):
            if a == CTRL_ATTR_FAMILY_ID:
                return struct.unpack_from("=H", payload)[0]
        raise OSError(2, "no TASKSTATS generic netlink family")

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self) -> list[tuple[str, int, Usage]]:
        """("pid"|"tgid", id, usage) for each exit reported so far."""
        out: list[tuple[str, int, Usage]] = []
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return out
            off = 0
            while off + 20 <= len(data):
                length, kind = struct.unpack_from("=IH", data, off)
                if length < 16:
                    break
                if kind == self.family:
                    for a, nest in _attrs(data, off + 20, off + length):
                        if a not in (TYPE_AGGR_PID, TYPE_AGGR_TGID):
                            continue
                        ident, stats = 0, b""
                        for b, payload in _attrs(nest, 0, len(nest)):
                            if b in (TYPE_PID, TYPE_TGID):
                                ident = struct.unpack_from("=I", payload)[0]
                            elif b == TYPE_STATS:
                                stats = payload
                        if ident and len(stats) >= OFF_HIWATER_RSS + 8:
                            out.append(("pid" if a == TYPE_AGGR_PID else "tgid", ident,
                                        Usage(ident, stats)))
                off += (length + 3) & ~3

    def close(self) -> None:
        self.sock.close()
