"""Egress shaping with a tbf qdisc (pyroute2), on every interface but loopback of the
calling thread's network namespace."""

from __future__ import annotations


def limit_egress(mbps: float) -> list[str]:
    """A token bucket of `mbps` megabits per second as the root qdisc of each non-loopback
    interface; the interfaces shaped."""
    from pyroute2 import IPRoute

    rate = int(mbps * 1_000_000 / 8)  # bytes per second
    burst = max(rate // 50, 32 * 1024)  # 20 ms worth, at least a few full-size packets
    shaped = []
    with IPRoute() as ipr:
        for link in ipr.get_links():
            name = link.get_attr("IFLA_IFNAME")
            if not name or name == "lo":
                continue
            ipr.tc("replace", "tbf", link["index"], rate=f"{int(mbps * 1000)}kbit",
                   burst=burst, latency="50ms")
            shaped.append(name)
    return shaped


def qdiscs() -> dict[str, str]:
    """Interface name -> its root qdisc's kind (tests and cleanup checks)."""
    from pyroute2 import IPRoute

    out = {}
    with IPRoute() as ipr:
        names = {link["index"]: link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}
        for q in ipr.get_qdiscs():
            if q["parent"] == 0xFFFFFFFF:
                out[names.get(q["index"], str(q["index"]))] = q.get_attr("TCA_KIND")
    return out
