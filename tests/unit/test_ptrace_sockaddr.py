"""sockaddr_in / sockaddr_in6 parsing and rewriting (pure bytes)."""

from __future__ import annotations

import socket
import struct

import pytest

from agentsh_runtime.ptrace.sockaddr import family, parse_inet, rewrite_inet

AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10


def sin(ip: str, port: int, pad: bytes = b"\0" * 8) -> bytes:
    return struct.pack("<H", AF_INET) + struct.pack("!H", port) \
        + socket.inet_pton(socket.AF_INET, ip) + pad


def sin6(ip: str, port: int, flowinfo: int = 0, scope: int = 0) -> bytes:
    return struct.pack("<H", AF_INET6) + struct.pack("!H", port) + struct.pack("<I", flowinfo) \
        + socket.inet_pton(socket.AF_INET6, ip) + struct.pack("<I", scope)


def sun(path: bytes) -> bytes:
    return struct.pack("<H", AF_UNIX) + path + b"\0"


# --- builders sanity ----------------------------------------------------------------------

def test_builders() -> None:
    assert len(sin("1.2.3.4", 80)) == 16
    assert len(sin6("::1", 80)) == 28
    assert sin("1.2.3.4", 0x1234)[:8] == b"\x02\x00\x12\x34\x01\x02\x03\x04"


# --- family --------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, fam", [
    (sin("127.0.0.1", 80), AF_INET),
    (sin6("::1", 80), AF_INET6),
    (sun(b"/run/x.sock"), AF_UNIX),
    (b"\x02\x00", AF_INET),
    (b"\x10\x00\xff", 16),
    (b"\x00\x01", 0x100),  # little-endian
])
def test_family(raw: bytes, fam: int) -> None:
    assert family(raw) == fam


@pytest.mark.parametrize("raw", [b"", b"\x02"])
def test_family_too_short(raw: bytes) -> None:
    assert family(raw) == -1


# --- parse_inet --------------------------------------------------------------------------

@pytest.mark.parametrize("ip, port", [
    ("127.0.0.1", 80), ("10.1.2.3", 443), ("0.0.0.0", 0), ("255.255.255.255", 65535),
    ("192.168.0.1", 0x1234), ("8.8.8.8", 53),
])
def test_parse_v4(ip: str, port: int) -> None:
    assert parse_inet(sin(ip, port)) == (AF_INET, ip, port)


def test_parse_v4_short_but_enough() -> None:
    # the 8 zero bytes of sin_zero are not needed to read the address
    assert parse_inet(sin("1.2.3.4", 80)[:8]) == (AF_INET, "1.2.3.4", 80)
    assert parse_inet(sin("1.2.3.4", 80, pad=b"junkjunk")) == (AF_INET, "1.2.3.4", 80)


@pytest.mark.parametrize("ip, port", [
    ("::1", 80), ("2001:db8::1", 443), ("fe80::1", 22), ("::", 0),
    ("2001:db8:1:2:3:4:5:6", 65535),
])
def test_parse_v6(ip: str, port: int) -> None:
    assert parse_inet(sin6(ip, port)) == (AF_INET6, ip, port)
    assert parse_inet(sin6(ip, port, flowinfo=0x12345, scope=3)) == (AF_INET6, ip, port)


def test_parse_v6_without_scope_id() -> None:
    # a 24-byte sockaddr_in6 (the old RFC 2133 size, no sin6_scope_id) still parses
    assert parse_inet(sin6("2001:db8::7", 8080)[:24]) == (AF_INET6, "2001:db8::7", 8080)


@pytest.mark.parametrize("v4", ["127.0.0.1", "10.0.0.5", "0.0.0.0"])
def test_parse_v4_mapped_v6_gives_v4(v4: str) -> None:
    assert parse_inet(sin6("::ffff:" + v4, 8080)) == (AF_INET6, v4, 8080)


def test_parse_v4_compatible_is_not_mapped() -> None:
    # ::1.2.3.4 (deprecated "compatible" form) is not ::ffff:1.2.3.4
    fam, ip, port = parse_inet(sin6("::1.2.3.4", 1))
    assert (fam, port) == (AF_INET6, 1)
    assert ip != "1.2.3.4"


@pytest.mark.parametrize("raw", [
    b"",
    b"\x02",
    b"\x02\x00",
    sin("1.2.3.4", 80)[:7],
    sin6("::1", 80)[:23],
    sin6("::1", 80)[:8],
    b"\x0a\x00",
])
def test_parse_too_short(raw: bytes) -> None:
    assert parse_inet(raw) is None


@pytest.mark.parametrize("raw", [
    sun(b"/run/agentsh.sock"),
    sun(b"\0abstract"),
    struct.pack("<H", AF_UNIX) + b"\0" * 30,
    struct.pack("<H", 16) + b"\0" * 14,  # AF_NETLINK
    struct.pack("<H", 17) + b"\0" * 18,  # AF_PACKET
    struct.pack("<H", 0) + b"\0" * 14,  # AF_UNSPEC
    struct.pack(">H", AF_INET) + b"\0" * 14,  # family in the wrong byte order
])
def test_parse_not_inet(raw: bytes) -> None:
    assert parse_inet(raw) is None


# --- rewrite_inet ------------------------------------------------------------------------

def test_rewrite_v4() -> None:
    raw = sin("10.0.0.1", 53)
    out = rewrite_inet(raw, "127.0.0.1", 5353)
    assert out == sin("127.0.0.1", 5353)
    assert len(out) == len(raw)
    assert family(out) == AF_INET
    assert parse_inet(out) == (AF_INET, "127.0.0.1", 5353)


def test_rewrite_v4_keeps_trailing_bytes() -> None:
    raw = sin("10.0.0.1", 53, pad=b"ABCDEFGH") + b"extra"
    out = rewrite_inet(raw, "192.168.1.1", 80)
    assert out is not None
    assert len(out) == len(raw)
    assert out[:2] == raw[:2]
    assert out[8:] == b"ABCDEFGHextra"
    assert parse_inet(out) == (AF_INET, "192.168.1.1", 80)


def test_rewrite_v4_port_only() -> None:
    raw = sin("1.2.3.4", 1)
    out = rewrite_inet(raw, "1.2.3.4", 65535)
    assert out == raw[:2] + b"\xff\xff" + raw[4:]


def test_rewrite_v6_into_v4_is_none() -> None:
    assert rewrite_inet(sin("1.2.3.4", 80), "::1", 80) is None
    assert rewrite_inet(sin("1.2.3.4", 80), "2001:db8::1", 443) is None


def test_rewrite_v6() -> None:
    raw = sin6("2001:db8::1", 443, flowinfo=0xABCDE, scope=4)
    out = rewrite_inet(raw, "::1", 8443)
    assert out == sin6("::1", 8443, flowinfo=0xABCDE, scope=4)
    assert len(out) == len(raw)
    assert out[4:8] == raw[4:8]  # flowinfo kept
    assert out[24:] == raw[24:]  # scope id kept
    assert parse_inet(out) == (AF_INET6, "::1", 8443)


def test_rewrite_v6_keeps_trailing_bytes() -> None:
    raw = sin6("::1", 1) + b"tail"
    out = rewrite_inet(raw, "2001:db8::2", 2)
    assert out is not None
    assert len(out) == len(raw)
    assert out.endswith(b"tail")
    assert out[:2] == raw[:2]


def test_rewrite_v4_into_v6_is_mapped() -> None:
    raw = sin6("2001:db8::1", 53, flowinfo=7, scope=2)
    out = rewrite_inet(raw, "127.0.0.1", 5353)
    assert out == sin6("::ffff:127.0.0.1", 5353, flowinfo=7, scope=2)
    assert out[8:24] == b"\0" * 10 + b"\xff\xff" + bytes([127, 0, 0, 1])
    assert len(out) == len(raw)
    assert family(out) == AF_INET6
    assert parse_inet(out) == (AF_INET6, "127.0.0.1", 5353)


def test_rewrite_mapped_v6_address_into_v6() -> None:
    out = rewrite_inet(sin6("::1", 1), "::ffff:10.0.0.1", 2)
    assert out == sin6("::ffff:10.0.0.1", 2)


@pytest.mark.parametrize("raw", [
    sun(b"/run/x.sock"),
    struct.pack("<H", 16) + b"\0" * 14,
    b"",
    b"\x02",
])
def test_rewrite_not_inet_is_none(raw: bytes) -> None:
    assert rewrite_inet(raw, "127.0.0.1", 80) is None
    assert rewrite_inet(raw, "::1", 80) is None


def test_rewrite_bad_ip_raises() -> None:
    with pytest.raises(ValueError):
        rewrite_inet(sin("1.2.3.4", 80), "not-an-ip", 80)


def test_rewrite_round_trip() -> None:
    for raw, ip, port in [(sin("0.0.0.0", 0), "203.0.113.9", 12345),
                          (sin6("::", 0), "2001:db8::dead:beef", 54321),
                          (sin6("::", 0), "198.51.100.1", 7)]:
        out = rewrite_inet(raw, ip, port)
        assert out is not None
        assert parse_inet(out) == (family(raw), ip, port)
