"""The parts of the DNS wire format (RFC 1035) the DNS proxy needs: a query's question,
REFUSED and synthetic answers built from a query, and the address records of an answer.
Pure: bytes in, bytes out. Our own small parser: the proxy touches a few fields only."""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, ANY = 1, 2, 5, 6, 12, 15, 16, 28, 255
CLASS_IN = 1
REFUSED, SERVFAIL, NXDOMAIN = 5, 2, 3
_HEADER = struct.Struct("!HHHHHH")
_MAX_POINTERS = 64


class DnsError(ValueError):
    """A message that is not a DNS message we can use."""


@dataclass(frozen=True, slots=True)
class Question:
    id: int
    flags: int
    name: str  # lower-case, no trailing dot; "" for the root
    qtype: int
    qclass: int
    end: int  # offset just past the question


def _name(data: bytes, off: int) -> tuple[str, int]:
    """(name, offset after it in the message), following compression pointers."""
    labels: list[str] = []
    end = -1
    jumps = 0
    while True:
        if off >= len(data):
            raise DnsError("name runs past the message")
        n = data[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(data):
                raise DnsError("truncated pointer")
            if end < 0:
                end = off + 2
            jumps += 1
            if jumps > _MAX_POINTERS:
                raise DnsError("pointer loop")
            off = ((n & 0x3F) << 8) | data[off + 1]
            continue
        if n & 0xC0:
            raise DnsError("unknown label type")
        off += 1
        if n == 0:
            break
        if off + n > len(data):
            raise DnsError("label runs past the message")
        labels.append(data[off:off + n].decode("ascii", "replace").lower())
        off += n
    return ".".join(labels), (end if end >= 0 else off)


def parse_question(data: bytes) -> Question:
    """The first question of a query (QDCOUNT must be 1, as every resolver sends)."""
    if len(data) < _HEADER.size:
        raise DnsError("shorter than a DNS header")
    qid, flags, qd, _an, _ns, _ar = _HEADER.unpack_from(data)
    if flags & 0x8000:
        raise DnsError("a response, not a query")
    if qd != 1:
        raise DnsError(f"{qd} questions")
    name, off = _name(data, _HEADER.size)
    if off + 4 > len(data):
        raise DnsError("truncated question")
    qtype, qclass = struct.unpack_from("!HH", data, off)
    return Question(qid, flags, name, qtype, qclass, off + 4)


def _reply_header(q: Question, rcode: int, answers: int) -> bytes:
    # QR, the query's opcode and RD, RA (we recurse through the upstream), the rcode
    flags = 0x8000 | (q.flags & 0x7900) | 0x0080 | rcode
    return _HEADER.pack(q.id, flags, 1, answers, 0, 0)


def refused(data: bytes, q: Question, rcode: int = REFUSED) -> bytes:
    """The query's question answered with `rcode` and nothing else."""
    return _reply_header(q, rcode, 0) + data[_HEADER.size:q.end]


def synthetic(data: bytes, q: Question, address: str, ttl: int = 60) -> bytes:
    """An answer for the question with `address` when the record type fits (A for IPv4,
    AAAA for IPv6, or ANY); otherwise no records (NOERROR, NODATA)."""
    ip = ipaddress.ip_address(address)
    want = A if ip.version == 4 else AAAA
    records = b""
    count = 0
    if q.qtype in (want, ANY) and q.qclass == CLASS_IN:
        rdata = ip.packed
        # the name as a pointer to the question's (offset 12)
        records = struct.pack("!HHHIH", 0xC00C, want, CLASS_IN, ttl, len(rdata)) + rdata
        count = 1
    return _reply_header(q, 0, count) + data[_HEADER.size:q.end] + records


@dataclass(frozen=True, slots=True)
class Answer:
    rcode: int
    addresses: tuple[tuple[str, int], ...]  # (ip, ttl) of the A and AAAA records
    names: tuple[str, ...]  # the question's name and the CNAMEs followed


def parse_answer(data: bytes) -> Answer:
    """The addresses an answer gives (for the IP-to-name map)."""
    if len(data) < _HEADER.size:
        raise DnsError("shorter than a DNS header")
    _qid, flags, qd, an, _ns, _ar = _HEADER.unpack_from(data)
    off = _HEADER.size
    names: list[str] = []
    for _ in range(qd):
        name, off = _name(data, off)
        names.append(name)
        off += 4
    addrs: list[tuple[str, int]] = []
    for _ in range(an):
        name, off = _name(data, off)
        if off + 10 > len(data):
            raise DnsError("truncated record")
        rtype, _rclass, ttl, rdlen = struct.unpack_from("!HHIH", data, off)
        off += 10
        if off + rdlen > len(data):
            raise DnsError("record data runs past the message")
        if rtype == A and rdlen == 4:
            addrs.append((str(ipaddress.IPv4Address(data[off:off + 4])), ttl))
        elif rtype == AAAA and rdlen == 16:
            addrs.append((str(ipaddress.IPv6Address(data[off:off + 16])), ttl))
        elif rtype == CNAME:
            target, _ = _name(data, off)
            if target not in names:
                names.append(target)
        off += rdlen
    return Answer(flags & 0xF, tuple(addrs), tuple(names))


def query(name: str, qtype: int = A, qid: int = 0x1234) -> bytes:
    """A recursive query for `name` (tests and the benchmark use it)."""
    out = bytearray(_HEADER.pack(qid, 0x0100, 1, 0, 0, 0))
    for label in name.rstrip(".").split("."):
        if label:
            raw = label.encode("ascii")
            out += bytes([len(raw)]) + raw
    out += b"\0" + struct.pack("!HH", qtype, CLASS_IN)
    return bytes(out)
