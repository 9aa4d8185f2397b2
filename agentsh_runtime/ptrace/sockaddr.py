"""struct sockaddr_in / sockaddr_in6 from and to a tracee's bytes (pure)."""

from __future__ import annotations

import ipaddress
import socket
import struct

AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10


def family(raw: bytes) -> int:
    return int.from_bytes(raw[:2], "little") if len(raw) >= 2 else -1


def parse_inet(raw: bytes) -> tuple[int, str, int] | None:
    """(family, ip, port); a v4-mapped v6 address is given as the v4 one."""
    fam = family(raw)
    if fam == AF_INET and len(raw) >= 8:
        port = struct.unpack("!H", raw[2:4])[0]
        return fam, socket.inet_ntop(socket.AF_INET, raw[4:8]), port
    if fam == AF_INET6 and len(raw) >= 24:
        port = struct.unpack("!H", raw[2:4])[0]
        ip = ipaddress.IPv6Address(raw[8:24])
        return fam, str(ip.ipv4_mapped or ip), port
    return None


def rewrite_inet(raw: bytes, ip: str, port: int) -> bytes | None:
    """`raw` pointing at ip:port instead, same family and length (None: not expressible,
    e.g. a v6 address for an AF_INET socket)."""
    fam = family(raw)
    addr = ipaddress.ip_address(ip)
    if fam == AF_INET:
        if addr.version != 4:
            return None
        return raw[:2] + struct.pack("!H", port) + addr.packed + raw[8:]
    if fam == AF_INET6:
        packed = addr.packed if addr.version == 6 else \
            ipaddress.IPv6Address("::ffff:" + ip).packed
        return raw[:2] + struct.pack("!H", port) + raw[4:8] + packed + raw[24:]
    return None
