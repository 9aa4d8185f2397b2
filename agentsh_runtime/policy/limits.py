"""resource_limits -> config.json linux.resources, the stricter of both winning.

Pure: the caller says which block devices back the container's root and volumes
(major, minor) for the disk bps limits. Fields that are not cgroup resources
(net_bandwidth_mbps: tc shaping; the timeouts: the monitor) are not touched here;
`unapplied(limits)` lists them for the caller.

The OCI `memory.swap` is memory plus swap (runc's convention), so a policy's
`memory_swap_max_mb` S becomes swap = limit + S MiB (S = 0: no swap).
`cpu_quota_percent` P (of one CPU) becomes quota = P * 1000 over period 100000
(at least 1000, the kernel's minimum); a config quota/period already stricter
(a smaller share of a CPU) is kept.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from .errors import PolicyError
from .model import ResourceLimits

MIB = 1 << 20
CPU_PERIOD = 100_000
MIN_QUOTA = 1_000

__all__ = ["merge_into_linux_resources", "unapplied"]


def _stricter_limit(current: object, ours: int) -> int:
    """The smaller of a config limit (None, 0 or negative mean none) and ours."""
    if isinstance(current, int) and not isinstance(current, bool) and current > 0:
        return min(current, ours)
    return ours


def merge_into_linux_resources(resources: dict | None, limits: ResourceLimits,
                               devices: Iterable[tuple[int, int]] = ()) -> dict:
    """A new linux.resources dict: `resources` (config.json's, may be None) tightened
    by `limits`. PolicyError when a limit cannot be expressed (disk bps without
    devices, swap without a memory limit) unless `limits.best_effort`."""
    out = copy.deepcopy(resources) if resources else {}
    devs = list(dict.fromkeys((int(a), int(b)) for a, b in devices))

    if limits.max_memory_mb is not None or limits.memory_swap_max_mb is not None:
        mem = out.setdefault("memory", {})
        if limits.max_memory_mb is not None:
            mem["limit"] = _stricter_limit(mem.get("limit"), limits.max_memory_mb * MIB)
        if limits.memory_swap_max_mb is not None:
            limit = mem.get("limit")
            if not isinstance(limit, int) or limit <= 0:
                if not limits.best_effort:
                    raise PolicyError("a swap limit needs a memory limit (max_memory_mb or "
                                      "the config's linux.resources.memory.limit)",
                                      "resource_limits.memory_swap_max_mb")
            else:
                ours = limit + limits.memory_swap_max_mb * MIB
                swap = mem.get("swap")
                if isinstance(swap, int) and swap > 0:
                    ours = max(limit, min(swap, ours))
                mem["swap"] = ours
        elif isinstance(mem.get("swap"), int) and mem["swap"] > 0 and isinstance(
                mem.get("limit"), int) and mem["swap"] < mem["limit"]:
            mem["swap"] = mem["limit"]  # keep swap >= limit, as the spec requires
        if not mem:
            del out["memory"]

    if limits.cpu_quota_percent is not None:
        cpu = out.setdefault("cpu", {})
        ours_quota = max(MIN_QUOTA, round(limits.cpu_quota_percent * CPU_PERIOD / 100))
        quota, period = cpu.get("quota"), cpu.get("period")
        have = (isinstance(quota, int) and quota > 0)
        per = period if isinstance(period, int) and period > 0 else CPU_PERIOD
        if not have or quota / per > ours_quota / CPU_PERIOD:
            cpu["quota"] = ours_quota
            cpu["period"] = CPU_PERIOD

    if limits.pids_max is not None:
        pids = out.setdefault("pids", {})
        pids["limit"] = _stricter_limit(pids.get("limit"), limits.pids_max)

    for key, value in (("throttleReadBpsDevice", limits.disk_read_bps_max),
                       ("throttleWriteBpsDevice", limits.disk_write_bps_max)):
        if value is None:
            continue
        field = "resource_limits." + ("disk_read_bps_max" if "Read" in key
                                      else "disk_write_bps_max")
        if not devs:
            if limits.best_effort:
                continue
            raise PolicyError("no block device to throttle was found for the container's "
                              "root and volumes", field)
        blkio = out.setdefault("blockIO", {})
        entries = blkio.setdefault(key, [])
        for major, minor in devs:
            for e in entries:
                if e.get("major") == major and e.get("minor") == minor:
                    rate = e.get("rate")
                    e["rate"] = min(rate, value) if isinstance(rate, int) and rate > 0 else value
                    break
            else:
                entries.append({"major": major, "minor": minor, "rate": value})
    return out


def unapplied(limits: ResourceLimits) -> list[str]:
    """The set limits `merge_into_linux_resources` leaves to others (tc, the monitor)."""
    return [f for f in ("net_bandwidth_mbps", "command_timeout", "session_timeout",
                        "idle_timeout") if getattr(limits, f) is not None]
