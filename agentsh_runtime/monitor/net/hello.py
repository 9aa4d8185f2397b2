"""The name a client's first bytes give: the server_name (SNI) of a TLS ClientHello or
the Host header of an HTTP/1 request; and the ClientHello with its SNI rewritten (for
`connect_redirects` with `tls.mode: rewrite_sni`). Pure."""

from __future__ import annotations

import struct

_HTTP_METHODS = (b"GET ", b"POST ", b"PUT ", b"HEAD ", b"DELETE ", b"OPTIONS ", b"PATCH ",
                 b"CONNECT ", b"TRACE ")
MAX_PEEK = 16384  # one TLS record


def looks_like_tls(data: bytes) -> bool:
    return len(data) >= 1 and data[0] == 0x16


def wants_more(data: bytes) -> bool:
    """The first bytes are the start of a ClientHello or request not yet whole."""
    if looks_like_tls(data):
        if len(data) < 5:
            return True
        return len(data) < 5 + struct.unpack_from("!H", data, 3)[0] and len(data) < MAX_PEEK
    if data.startswith(_HTTP_METHODS) or any(m.startswith(data) for m in _HTTP_METHODS):
        return b"\r\n\r\n" not in data and len(data) < MAX_PEEK
    return False


def _sni_span(data: bytes) -> tuple[int, int, int] | None:
    """(offset of the server_name extension's type, of its host name, host name length)
    in a ClientHello held in one record; None if there is none or it is not whole."""
    try:
        if data[0] != 0x16 or len(data) < 9 or data[5] != 0x01:
            return None
        rec_len = struct.unpack_from("!H", data, 3)[0]
        end = min(len(data), 5 + rec_len)
        off = 9 + 2 + 32  # record header, handshake header, version, random
        off += 1 + data[off]  # session id
        off += 2 + struct.unpack_from("!H", data, off)[0]  # cipher suites
        off += 1 + data[off]  # compression methods
        if off + 2 > end:
            return None
        ext_end = min(end, off + 2 + struct.unpack_from("!H", data, off)[0])
        off += 2
        while off + 4 <= ext_end:
            etype, elen = struct.unpack_from("!HH", data, off)
            if etype == 0 and off + 4 + elen <= ext_end:
                p = off + 4 + 2  # the server name list's length
                while p + 3 <= off + 4 + elen:
                    ntype, nlen = data[p], struct.unpack_from("!H", data, p + 1)[0]
                    if ntype == 0 and p + 3 + nlen <= off + 4 + elen:
                        return off, p + 3, nlen
                    p += 3 + nlen
                return None
            off += 4 + elen
    except (IndexError, struct.error):
        return None
    return None


def sni(data: bytes) -> str | None:
    span = _sni_span(data)
    if span is None:
        return None
    _ext, at, n = span
    try:
        return data[at:at + n].decode("ascii").lower().rstrip(".") or None
    except UnicodeDecodeError:
        return None


def http_host(data: bytes) -> str | None:
    if not data.startswith(_HTTP_METHODS):
        return None
    head = data.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == b"host":
            host = value.strip().decode("ascii", "replace").lower()
            if host.startswith("["):
                return host[1:host.find("]")] if "]" in host else None
            return host.rsplit(":", 1)[0] if host.count(":") == 1 else host or None
    return None


def name_of(data: bytes) -> tuple[str | None, str]:
    """(name, "sni" | "host" | "") from a client's first bytes."""
    name = sni(data)
    if name:
        return name, "sni"
    name = http_host(data)
    return (name, "host") if name else (None, "")


def rewrite_sni(data: bytes, new: str) -> bytes | None:
    """The ClientHello with its server name replaced by `new` (every length around it
    fixed up); None when the data holds no whole ClientHello with a server name."""
    span = _sni_span(data)
    if span is None:
        return None
    ext, at, n = span
    raw = new.encode("ascii")
    delta = len(raw) - n
    out = bytearray(data[:at] + raw + data[at + n:])

    def bump(off: int, size: int) -> None:
        if size == 2:
            struct.pack_into("!H", out, off, struct.unpack_from("!H", out, off)[0] + delta)
        else:
            v = int.from_bytes(out[off:off + 3], "big") + delta
            out[off:off + 3] = v.to_bytes(3, "big")

    bump(3, 2)  # record length
    bump(6, 3)  # handshake length
    # extensions block length: just before the first extension
    off = 9 + 2 + 32
    off += 1 + data[off]
    off += 2 + struct.unpack_from("!H", data, off)[0]
    off += 1 + data[off]
    bump(off, 2)
    bump(ext + 2, 2)  # the server_name extension's length
    bump(ext + 4, 2)  # its list's length
    bump(at - 2, 2)  # the host name's length
    return bytes(out)
