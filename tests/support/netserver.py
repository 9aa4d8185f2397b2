"""The test network's servers, run inside the lab's server namespace (netlab.py): HTTP
on 80 and 8080, TLS on 443 (logs each SNI it sees), a UDP echo on 7, and a DNS server
on 53 (UDP and TCP) answering the names given with --name NAME=ADDRESS (NXDOMAIN for
the rest). IPv4 and IPv6 each. Standalone: no code of the runtime under test."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import socketserver
import ssl
import struct
import threading
from pathlib import Path

PATTERN = bytes(range(256)) * 4096  # 1 MiB


class V6Mixin:
    address_family = socket.AF_INET6

    def server_bind(self) -> None:  # noqa: D102
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()  # type: ignore[misc]


class TCP(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class TCP6(V6Mixin, TCP):
    pass


class UDP(socketserver.ThreadingUDPServer):
    allow_reuse_address = True
    daemon_threads = True


class UDP6(V6Mixin, UDP):
    pass


class Http(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline(4096).decode(errors="replace").split()
        host = ""
        while True:
            h = self.rfile.readline(4096)
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode(errors="replace").partition(":")
            if k.strip().lower() == "host":
                host = v.strip()
        path = line[1] if len(line) > 1 else "/"
        if path.startswith("/big"):
            mb = int(path.partition("mb=")[2] or 1)
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % (mb << 20))
            for _ in range(mb):
                self.wfile.write(PATTERN)
            return
        body = f"hello from lab host={host} path={path}\n".encode()
        self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def tls_handler(ctx: ssl.SSLContext, log: Path, lock: threading.Lock):  # noqa: ANN201
    def on_sni(sock, name, _ctx) -> None:  # noqa: ANN001
        with lock, open(log, "a") as f:
            f.write(f"{name or '-'}\n")

    ctx.sni_callback = on_sni

    class Tls(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            # clients here send a ClientHello and never finish the handshake: give up
            # soon, so they see the server's answer and then the end of the stream
            self.request.settimeout(1.0)
            try:
                s = ctx.wrap_socket(self.request, server_side=True)
                s.sendall(b"tls hello\n")
                s.close()
            except (ssl.SSLError, OSError):
                pass

    return Tls


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        sock.sendto(b"echo:" + data, self.client_address)


def dns_handler(names: dict[str, str]):  # noqa: ANN201
    def answer(q: bytes) -> bytes:
        qid, flags = struct.unpack_from("!HH", q)
        off, labels = 12, []
        while q[off]:
            labels.append(q[off + 1:off + 1 + q[off]].decode().lower())
            off += 1 + q[off]
        qtype = struct.unpack_from("!H", q, off + 1)[0]
        question = q[12:off + 5]
        name = ".".join(labels)
        addr = names.get(name)
        if addr is None:
            return struct.pack("!HHHHHH", qid, 0x8183, 1, 0, 0, 0) + question
        ip = ipaddress.ip_address(addr)
        want = 1 if ip.version == 4 else 28
        rec = b""
        if qtype == want:
            rec = struct.pack("!HHHIH", 0xC00C, want, 1, 120, len(ip.packed)) + ip.packed
        return struct.pack("!HHHHHH", qid, 0x8180, 1, 1 if rec else 0, 0, 0) + question + rec

    class DnsUdp(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data, sock = self.request
            sock.sendto(answer(data), self.client_address)

    class DnsTcp(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            n = struct.unpack("!H", self.rfile.read(2))[0]
            reply = answer(self.rfile.read(n))
            self.wfile.write(struct.pack("!H", len(reply)) + reply)

    return DnsUdp, DnsTcp


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--sni-log", required=True)
    ap.add_argument("--name", action="append", default=[])
    a = ap.parse_args()
    names = dict(x.split("=", 1) for x in a.name)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    tls = tls_handler(ctx, Path(a.sni_log), threading.Lock())
    dns_udp, dns_tcp = dns_handler(names)
    servers = []
    for tcp, udp, host in ((TCP, UDP, "0.0.0.0"), (TCP6, UDP6, "::")):
        servers += [tcp((host, 80), Http), tcp((host, 8080), Http), tcp((host, 443), tls),
                    tcp((host, 53), dns_tcp), udp((host, 53), dns_udp), udp((host, 7), Echo)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    Path(a.ready).write_text("ok")
    threading.Event().wait()


if __name__ == "__main__":
    main()
