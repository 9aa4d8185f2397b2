"""The IP-to-name map the DNS proxy fills from its answers: a connection's domain is a
name the container resolved through us to that address (POLICY.md)."""

from __future__ import annotations

import time

MIN_TTL = 30.0  # a TTL of 0 still names the connection made right after the answer
MAX_TTL = 86400.0
MAX_ENTRIES = 65536


class NameMap:
    def __init__(self) -> None:
        self._by_ip: dict[str, dict[str, float]] = {}  # ip -> name -> expiry (monotonic)

    def record(self, names: tuple[str, ...] | list[str], addresses, now: float | None = None
               ) -> None:  # noqa: ANN001 - iterable of (ip, ttl)
        """`names`: the question's name first, then the CNAMEs followed: the address is
        the question's name's (what the program asked for)."""
        if not names:
            return
        name = names[0]
        now = time.monotonic() if now is None else now
        for ip, ttl in addresses:
            until = now + min(max(float(ttl), MIN_TTL), MAX_TTL)
            entry = self._by_ip.setdefault(ip, {})
            entry[name] = max(entry.get(name, 0.0), until)
        if len(self._by_ip) > MAX_ENTRIES:
            self.expire(now)

    def names(self, ip: str, now: float | None = None) -> list[str]:
        entry = self._by_ip.get(ip)
        if not entry:
            return []
        now = time.monotonic() if now is None else now
        live = [n for n, until in entry.items() if until > now]
        if len(live) != len(entry):
            for n in [n for n, until in entry.items() if until <= now]:
                del entry[n]
            if not entry:
                del self._by_ip[ip]
        return sorted(live)

    def expire(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for ip in list(self._by_ip):
            self.names(ip, now)
