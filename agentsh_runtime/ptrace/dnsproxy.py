"""ptrace mode's DNS proxy: a traced process's UDP queries to port 53 are sent here
instead (the tracer rewrites the destination), decided by the policy, forwarded to the
server they were meant for, and their answers fill the IP-to-name map connect() checks
use. One loopback socket per upstream server, served by one thread."""

from __future__ import annotations

import os
import select
import socket
import threading
import time

from ..monitor.net import dnswire
from ..monitor.net.names import NameMap
from ..policy import model as m
from ..policy.engine import Decision

UPSTREAM_TIMEOUT = 3.0


class DnsProxy:
    def __init__(self, engine, mode: str, events, names: NameMap) -> None:  # noqa: ANN001
        self.engine, self.mode, self.events, self.names = engine, mode, events, names
        self._by_upstream: dict[tuple[str, int], socket.socket] = {}
        self._upstream_of: dict[int, tuple[str, int]] = {}  # our socket fd -> upstream
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._thread: threading.Thread | None = None
        self._stop = False

    def address_for(self, upstream: tuple[str, int]) -> tuple[str, int]:
        """The loopback address that stands for `upstream` (ip, port)."""
        with self._lock:
            s = self._by_upstream.get(upstream)
            if s is None:
                v6 = ":" in upstream[0]
                s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET,
                                  socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                s.bind(("::1" if v6 else "127.0.0.1", 0))
                s.setblocking(False)
                self._by_upstream[upstream] = s
                self._upstream_of[s.fileno()] = upstream
                if self._thread is None:
                    self._thread = threading.Thread(target=self._serve, name="dns-proxy",
                                                    daemon=True)
                    self._thread.start()
                else:
                    os.write(self._wake_w, b"!")
            return s.getsockname()[:2]

    def is_proxy(self, ip: str, port: int) -> bool:
        return any(s.getsockname()[:2] == (ip, port) for s in list(self._by_upstream.values()))

    def close(self) -> None:
        self._stop = True
        try:
            os.write(self._wake_w, b"!")
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(2.0)
        for s in self._by_upstream.values():
            s.close()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def _serve(self) -> None:
        while not self._stop:
            with self._lock:
                socks = list(self._by_upstream.values())
            ready, _, _ = select.select([self._wake_r, *socks], [], [], 1.0)
            for r in ready:
                if r == self._wake_r:
                    try:
                        os.read(self._wake_r, 64)
                    except BlockingIOError:
                        pass
                    continue
                try:
                    data, peer = r.recvfrom(4096)
                except (BlockingIOError, InterruptedError, OSError):
                    continue
                try:
                    reply = self.answer(data, self._upstream_of[r.fileno()])
                except Exception as e:  # a bad query must not stop the proxy
                    self.events.emit("monitor_warning", fields={
                        "message": f"dns proxy: {type(e).__name__}: {e}"})
                    reply = None
                if reply is not None:
                    try:
                        r.sendto(reply, peer)
                    except OSError:
                        pass

    def answer(self, data: bytes, upstream: tuple[str, int]) -> bytes | None:
        t0 = time.perf_counter()
        try:
            q = dnswire.parse_question(data)
        except dnswire.DnsError:
            return None
        ev = {"operation": "dns", "path": q.name, "domain": q.name,
              "fields": {"qtype": q.qtype, "protocol": "udp", "upstream": upstream[0],
                         "mode": "ptrace"}}
        redirect = self.engine.dns_redirect(q.name)
        if redirect is not None:
            self.names.record([q.name], [(redirect.resolve_to, 60)])
            ev["fields"]["resolve_to"] = redirect.resolve_to
            d = Decision(m.ALLOW, redirect.name, redirect.message, kind="network")
            self._emit("dns_redirect", ev, d, "allow", t0)
            return dnswire.synthetic(data, q, redirect.resolve_to)
        d = self.engine.dns(q.name, upstream[0])
        if self.mode != "audit" and d.decision in (m.DENY, m.APPROVE):
            # approve: a query cannot wait for a person (the resolver retries and gives
            # up in seconds); the connect that follows is what gets held
            self._emit("dns_query", ev, d, "deny", t0)
            return dnswire.refused(data, q)
        reply = _forward(data, upstream)
        if reply is None:
            ev["fields"]["error"] = "no answer from the resolver"
            self._emit("dns_query", ev, d, "allow", t0)
            return dnswire.refused(data, q, dnswire.SERVFAIL)
        try:
            ans = dnswire.parse_answer(reply)
            self.names.record(ans.names or [q.name], ans.addresses)
            ev["fields"]["answers"] = [ip for ip, _ in ans.addresses]
        except dnswire.DnsError:
            pass
        self._emit("dns_query", ev, d, "allow", t0)
        return reply

    def _emit(self, etype: str, ev: dict, d: Decision, effective: str, t0: float) -> None:
        if self.mode == "audit":
            effective = "allow"
        self.events.emit(etype, **ev, policy={
            "decision": d.decision, "effective_decision": effective, "rule": d.rule,
            "message": d.message},
            effective_action="allowed" if effective == "allow" else "blocked",
            latency_us=int((time.perf_counter() - t0) * 1e6))


def _forward(data: bytes, upstream: tuple[str, int]) -> bytes | None:
    fam = socket.AF_INET6 if ":" in upstream[0] else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
        s.settimeout(UPSTREAM_TIMEOUT)
        try:
            s.connect(upstream)
            s.send(data)
            deadline = time.monotonic() + UPSTREAM_TIMEOUT
            while time.monotonic() < deadline:
                reply = s.recv(65535)
                if reply[:2] == data[:2]:
                    return reply
        except OSError:
            return None
    return None
