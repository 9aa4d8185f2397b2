"""DNS wire format, TLS ClientHello / HTTP Host names, and the IP-to-name map (pure)."""

from __future__ import annotations

import ssl
import struct

import pytest

from agentsh_runtime.monitor.net import dnswire, hello
from agentsh_runtime.monitor.net.names import MIN_TTL, NameMap


def _client_hello(server_name: str | None) -> bytes:
    """A real ClientHello from Python's ssl module (memory BIOs, no network)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=server_name)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return out.read()


def _answer(query: bytes, records: list[tuple[int, bytes]], ttl: int = 300) -> bytes:
    """A response to `query` with records (type, rdata), names pointing at the question."""
    q = dnswire.parse_question(query)
    head = struct.pack("!HHHHHH", q.id, 0x8180, 1, len(records), 0, 0)
    body = query[12:q.end]
    for rtype, rdata in records:
        body += struct.pack("!HHHIH", 0xC00C, rtype, 1, ttl, len(rdata)) + rdata
    return head + body


def _name(n: str) -> bytes:
    return b"".join(bytes([len(x)]) + x.encode() for x in n.split(".")) + b"\0"


def test_question_round_trip():
    q = dnswire.parse_question(dnswire.query("Api.Example.COM.", dnswire.AAAA, 7))
    assert (q.id, q.name, q.qtype, q.qclass) == (7, "api.example.com", dnswire.AAAA, 1)


@pytest.mark.parametrize("bad", [b"", b"\0" * 11, dnswire.query("a.b")[:-3],
                                 b"\x12\x34\x81\x80" + b"\0\1" + b"\0" * 6 + b"\0\0\1\0\1",
                                 b"\x12\x34\x01\x00\x00\x01" + b"\0" * 6 + b"\xc0\x0c"])
def test_malformed_queries_are_refused_by_the_parser(bad):
    with pytest.raises(dnswire.DnsError):
        dnswire.parse_question(bad)


def test_refused_and_synthetic_answers():
    raw = dnswire.query("x.test", dnswire.A, 99)
    q = dnswire.parse_question(raw)
    r = dnswire.refused(raw, q)
    assert struct.unpack_from("!H", r)[0] == 99 and r[3] & 0xF == dnswire.REFUSED
    assert r[2] & 0x80  # a response
    ans = dnswire.parse_answer(dnswire.synthetic(raw, q, "10.1.2.3"))
    assert ans.addresses == (("10.1.2.3", 60),) and ans.names == ("x.test",)
    # an AAAA question for an IPv4 redirect: NOERROR, no records
    q6 = dnswire.parse_question(dnswire.query("x.test", dnswire.AAAA))
    ans6 = dnswire.parse_answer(dnswire.synthetic(dnswire.query("x.test", dnswire.AAAA),
                                                  q6, "10.1.2.3"))
    assert ans6.rcode == 0 and ans6.addresses == ()


def test_answers_with_cnames_and_compression():
    raw = dnswire.query("www.test", dnswire.A)
    reply = _answer(raw, [(dnswire.CNAME, _name("cdn.example")), (dnswire.A, bytes([10, 0, 0, 7])),
                          (dnswire.AAAA, bytes(15) + b"\1")])
    ans = dnswire.parse_answer(reply)
    assert ans.names == ("www.test", "cdn.example")
    assert ans.addresses == (("10.0.0.7", 300), ("::1", 300))


def test_pointer_loops_do_not_hang():
    raw = bytearray(dnswire.query("a.b"))
    raw += struct.pack("!HHHIH", 0xC000 | len(raw), 1, 1, 5, 4) + b"\1\2\3\4"
    raw[7] = 1  # one answer, whose name points at itself
    with pytest.raises(dnswire.DnsError):
        dnswire.parse_answer(bytes(raw))


def test_sni_from_a_real_client_hello_and_its_rewrite():
    ch = _client_hello("api.example.com")
    assert hello.sni(ch) == "api.example.com" and hello.name_of(ch) == ("api.example.com", "sni")
    assert not hello.wants_more(ch) and hello.wants_more(ch[:40])
    new = hello.rewrite_sni(ch, "internal.corp.test")
    assert hello.sni(new) == "internal.corp.test"
    assert len(new) == len(ch) + len("internal.corp.test") - len("api.example.com")
    assert struct.unpack_from("!H", new, 3)[0] == len(new) - 5  # record length fixed up
    assert hello.sni(hello.rewrite_sni(ch, "a.b")) == "a.b"
    assert hello.sni(_client_hello(None)) is None
    assert hello.rewrite_sni(b"\x16\x03\x01\x00\x05hello", "x") is None


def test_http_host():
    req = b"GET / HTTP/1.1\r\nUser-Agent: x\r\nhOsT: Web.Test:8080\r\n\r\n"
    assert hello.name_of(req) == ("web.test", "host")
    assert hello.http_host(b"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n") == "::1"
    assert hello.wants_more(b"GET / HT") and hello.wants_more(b"PO")
    assert hello.name_of(b"SSH-2.0-OpenSSH\r\n") == (None, "")


def test_name_map_expiry():
    nm = NameMap()
    nm.record(["a.test", "cdn.test"], [("10.0.0.1", 0), ("10.0.0.2", 1000)], now=100.0)
    nm.record(["b.test"], [("10.0.0.1", 5000)], now=100.0)
    assert nm.names("10.0.0.1", now=101.0) == ["a.test", "b.test"]
    assert nm.names("10.0.0.1", now=100.0 + MIN_TTL + 1) == ["b.test"]
    assert nm.names("10.0.0.2", now=1101.0) == []
    assert nm.names("10.9.9.9") == []


def test_nflog_packet_parsing():
    """An NFLOG packet message body: nfgenmsg, then attributes (prefix, uid, payload)."""
    import socket as s

    from agentsh_runtime.linux import nflog

    def attr(t: int, v: bytes) -> bytes:
        raw = struct.pack("=HH", 4 + len(v), t) + v
        return raw + b"\0" * (-len(raw) % 4)

    ip = bytes([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0]) + s.inet_aton("10.0.0.1") + \
        s.inet_aton("169.254.169.254") + struct.pack("!HH", 40000, 8080) + bytes(16)
    body = struct.pack("=BBH", s.AF_INET, 0, 0) + attr(10, b"agentsh:r3\0") + \
        attr(11, struct.pack("!I", 1000)) + attr(9, ip)
    got = nflog._packet(body)
    assert got == nflog.Logged("agentsh:r3", 4, "tcp", "169.254.169.254", 8080, 1000)
    v6 = bytes([0x60, 0, 0, 0, 0, 8, 17, 64]) + bytes(15) + b"\1" + \
        s.inet_pton(s.AF_INET6, "fd00::2") + struct.pack("!HH", 5353, 7) + bytes(4)
    got6 = nflog._packet(struct.pack("=BBH", s.AF_INET6, 0, 0) + attr(9, v6))
    assert (got6.family, got6.protocol, got6.dst, got6.port) == (6, "udp", "fd00::2", 7)
    assert nflog._packet(b"\2\0") is None
