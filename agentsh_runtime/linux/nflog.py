"""NFLOG over nfnetlink: the packets an iptables `-j NFLOG --nflog-group N` rule logs,
read in the network namespace the socket is made in (the caller's thread's)."""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass

NETLINK_NETFILTER = 12
_NFNL_SUBSYS_ULOG = 4
_MSG_PACKET, _MSG_CONFIG = 0, 1
_NLM_F_REQUEST, _NLM_F_ACK = 1, 4
_NLMSG_ERROR = 2
_CFG_CMD, _CFG_MODE, _CFG_QTHRESH, _CFG_FLAGS = 1, 2, 5, 6  # nfnetlink_log.h
_CMD_BIND = 1
_COPY_PACKET = 2
_F_UID = 0x1
_PAYLOAD, _PREFIX, _UID = 9, 10, 11
_NLMSG = struct.Struct("=IHHII")
_NFGEN = struct.Struct("=BBH")
_NFA = struct.Struct("=HH")
PROTOCOLS = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6", 132: "sctp"}


@dataclass(frozen=True, slots=True)
class Logged:
    prefix: str
    family: int  # 4 or 6
    protocol: str
    dst: str
    port: int  # 0 when the protocol has none
    uid: int | None


def _attr(atype: int, payload: bytes) -> bytes:
    raw = _NFA.pack(_NFA.size + len(payload), atype) + payload
    return raw + b"\0" * (-len(raw) % 4)


class NflogReader:
    """One group's packets; `fileno()` for a poll loop, `read()` when readable."""

    def __init__(self, group: int, copy_range: int = 96) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        try:
            self.sock.bind((0, 0))
            self._seq = 0
            self._config(group, _attr(_CFG_CMD, bytes([_CMD_BIND])))
            self._config(group, _attr(_CFG_MODE, struct.pack("!IBB", copy_range,
                                                             _COPY_PACKET, 0)))
            self._config(group, _attr(_CFG_QTHRESH, struct.pack("!I", 1)))
            self._config(group, _attr(_CFG_FLAGS, struct.pack("!H", _F_UID)))
            self.sock.setblocking(False)
        except BaseException:
            self.sock.close()
            raise

    def _config(self, group: int, attrs: bytes) -> None:
        self._seq += 1
        body = _NFGEN.pack(socket.AF_UNSPEC, 0, socket.htons(group)) + attrs
        msg_type = (_NFNL_SUBSYS_ULOG << 8) | _MSG_CONFIG
        self.sock.send(_NLMSG.pack(_NLMSG.size + len(body), msg_type,
                                   _NLM_F_REQUEST | _NLM_F_ACK, self._seq, 0) + body)
        reply = self.sock.recv(4096)
        length, rtype, _flags, _seq, _pid = _NLMSG.unpack_from(reply)
        if rtype == _NLMSG_ERROR:
            err = struct.unpack_from("=i", reply, _NLMSG.size)[0]
            if err:
                raise OSError(-err, f"nflog config: {os.strerror(-err)}")

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()

    def read(self) -> list[Logged]:
        out: list[Logged] = []
        while True:
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return out
            except OSError:  # ENOBUFS: some were lost; the rest still comes
                return out
            off = 0
            while off + _NLMSG.size <= len(data):
                length, mtype, _f, _s, _p = _NLMSG.unpack_from(data, off)
                if length < _NLMSG.size:
                    break
                if mtype == (_NFNL_SUBSYS_ULOG << 8) | _MSG_PACKET:
                    got = _packet(data[off + _NLMSG.size:off + length])
                    if got is not None:
                        out.append(got)
                off += (length + 3) & ~3


def _packet(body: bytes) -> Logged | None:
    if len(body) < _NFGEN.size:
        return None
    family = body[0]
    off = _NFGEN.size
    prefix, payload, uid = "", b"", None
    while off + _NFA.size <= len(body):
        alen, atype = _NFA.unpack_from(body, off)
        if alen < _NFA.size:
            break
        value = body[off + _NFA.size:off + alen]
        atype &= 0x7FFF
        if atype == _PREFIX:
            prefix = value.split(b"\0", 1)[0].decode("ascii", "replace")
        elif atype == _PAYLOAD:
            payload = value
        elif atype == _UID and len(value) >= 4:
            uid = struct.unpack_from("!I", value)[0]
        off += (alen + 3) & ~3
    if family == socket.AF_INET and len(payload) >= 20:
        proto = payload[9]
        dst = socket.inet_ntop(socket.AF_INET, payload[16:20])
        l4 = (payload[0] & 0xF) * 4
        ver = 4
    elif family == socket.AF_INET6 and len(payload) >= 40:
        proto = payload[6]
        dst = socket.inet_ntop(socket.AF_INET6, payload[24:40])
        l4 = 40
        ver = 6
    else:
        return None
    port = 0
    if proto in (6, 17, 132) and len(payload) >= l4 + 4:
        port = struct.unpack_from("!H", payload, l4 + 2)[0]
    return Logged(prefix, ver, PROTOCOLS.get(proto, str(proto)), dst, port, uid)

