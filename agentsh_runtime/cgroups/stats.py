"""Cgroup statistics: runc's `events --stats` data, OOM kill counts, a usage summary.

Each controller is read where the container has it: its v1 hierarchy when
mounted, else the cgroup2 directory (hugetlb on this hybrid host). The JSON
shape is runc's types.Stats, including Go's `omitempty` (zero numbers and empty
lists/maps are left out where runc leaves them out).
"""

from __future__ import annotations

import os

from .manager import UNIFIED, CgroupSet

MAX_U64 = (1 << 64) - 1
HUGEPAGES = "/sys/kernel/mm/hugepages"


def _read(d: str | None, name: str) -> str | None:
    if not d:
        return None
    try:
        with open(os.path.join(d, name)) as f:
            return f.read()
    except OSError:
        return None


def _u64(text: str | None) -> int:
    """runc's ParseUint: "max" is the top, negatives clamp to 0, junk is 0."""
    if text is None:
        return 0
    t = text.strip()
    if t == "max":
        return MAX_U64
    try:
        v = int(t)
    except ValueError:
        return 0
    return max(0, min(v, MAX_U64))


def _kv(text: str | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = int(parts[1])
            except ValueError:
                continue
    return out


def _omit(d: dict, *keys: str) -> dict:
    """Go's omitempty: drop the named keys when zero/empty."""
    for k in keys:
        if k in d and not d[k]:
            del d[k]
    return d


def _where(cg: CgroupSet) -> tuple[dict[str, str], str | None, set[str]]:
    v1 = cg.controller_dirs()
    u = cg.paths.get(UNIFIED)
    own = set((_read(u, "cgroup.controllers") or "").split()) if u else set()
    return v1, u, own


# ---- cpu ---------------------------------------------------------------------------

def _cpu(v1: dict[str, str], u: str | None) -> dict:
    usage: dict = {"total": 0, "percpu": [], "percpu_kernel": [], "percpu_user": [],
                   "kernel": 0, "user": 0}
    thr = {"periods": 0, "throttledPeriods": 0, "throttledTime": 0}
    acct = v1.get("cpuacct")
    if acct:
        usage["total"] = _u64(_read(acct, "cpuacct.usage"))
        usage["percpu"] = [_u64(x) for x in (_read(acct, "cpuacct.usage_percpu") or "").split()]
        rows = (_read(acct, "cpuacct.usage_all") or "").splitlines()[1:]
        for row in rows:
            parts = row.split()
            if len(parts) == 3:
                usage["percpu_user"].append(_u64(parts[1]))
                usage["percpu_kernel"].append(_u64(parts[2]))
        st = _kv(_read(acct, "cpuacct.stat"))
        tick = os.sysconf("SC_CLK_TCK") or 100
        usage["user"] = st.get("user", 0) * 1_000_000_000 // tick
        usage["kernel"] = st.get("system", 0) * 1_000_000_000 // tick
    elif u:
        st = _kv(_read(u, "cpu.stat"))
        usage["total"] = st.get("usage_usec", 0) * 1000
        usage["user"] = st.get("user_usec", 0) * 1000
        usage["kernel"] = st.get("system_usec", 0) * 1000
    cpu = v1.get("cpu")
    st = _kv(_read(cpu, "cpu.stat")) if cpu else _kv(_read(u, "cpu.stat"))
    thr["periods"] = st.get("nr_periods", 0)
    thr["throttledPeriods"] = st.get("nr_throttled", 0)
    if "throttled_time" in st:  # v1: nanoseconds
        thr["throttledTime"] = st["throttled_time"]
    else:  # v2: microseconds
        thr["throttledTime"] = st.get("throttled_usec", 0) * 1000
    return {"usage": _omit(usage, "total", "percpu", "percpu_kernel", "percpu_user"),
            "throttling": _omit(thr, "periods", "throttledPeriods", "throttledTime")}


def _list(text: str | None) -> list[int]:
    """cpuset list syntax `0-3,8` -> [0, 1, 2, 3, 8]."""
    out: list[int] = []
    for part in (text or "").strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        try:
            out.extend(range(int(lo), int(hi or lo) + 1))
        except ValueError:
            continue
    return out


def _cpuset(v1: dict[str, str], u: str | None, own: set[str]) -> dict:
    out = {"cpus": [], "cpu_exclusive": 0, "mems": [], "mem_hardwall": 0, "mem_exclusive": 0,
           "memory_migrate": 0, "memory_spread_page": 0, "memory_spread_slab": 0,
           "memory_pressure": 0, "sched_load_balance": 0, "sched_relax_domain_level": 0}
    d = v1.get("cpuset")
    if d:
        out["cpus"] = _list(_read(d, "cpuset.cpus"))
        out["mems"] = _list(_read(d, "cpuset.mems"))
        for key in ("cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate",
                    "memory_spread_page", "memory_spread_slab", "memory_pressure",
                    "sched_load_balance"):
            out[key] = _u64(_read(d, f"cpuset.{key}"))
        try:
            out["sched_relax_domain_level"] = int(
                (_read(d, "cpuset.sched_relax_domain_level") or "0").strip())
        except ValueError:
            pass
    elif u and "cpuset" in own:
        out["cpus"] = _list(_read(u, "cpuset.cpus.effective"))
        out["mems"] = _list(_read(u, "cpuset.mems.effective"))
    return _omit(out, "cpus", "mems")


# ---- memory ------------------------------------------------------------------------

def _entry(limit: int = 0, usage: int = 0, peak: int = 0, failcnt: int = 0) -> dict:
    return _omit({"limit": limit, "usage": usage, "max": peak, "failcnt": failcnt},
                 "usage", "max")


def _memory(v1: dict[str, str], u: str | None, own: set[str]) -> dict:
    d = v1.get("memory")
    if d:
        raw = _kv(_read(d, "memory.stat"))

        def data(prefix: str) -> dict:
            usage = _read(d, prefix + ".usage_in_bytes")
            if usage is None:
                return _entry()
            return _entry(_u64(_read(d, prefix + ".limit_in_bytes")), _u64(usage),
                          _u64(_read(d, prefix + ".max_usage_in_bytes")),
                          _u64(_read(d, prefix + ".failcnt")))

        out = {"cache": raw.get("cache", 0), "usage": data("memory"),
               "swap": data("memory.memsw"), "kernel": data("memory.kmem"),
               "kernelTCP": data("memory.kmem.tcp"), "raw": raw}
        return _omit(out, "cache", "raw")
    if u and "memory" in own:
        raw = _kv(_read(u, "memory.stat"))
        usage = _u64(_read(u, "memory.current"))
        limit = _u64(_read(u, "memory.max"))
        events = _kv(_read(u, "memory.events"))
        mem = _entry(limit, usage, _u64(_read(u, "memory.peak")), events.get("max", 0))
        swap_text = _read(u, "memory.swap.current")
        swap = _entry()
        if swap_text is not None:
            # v1 reports memory+swap; so does runc from v2's separate numbers
            slimit = _u64(_read(u, "memory.swap.max"))
            if slimit != MAX_U64 and limit != MAX_U64:
                slimit = min(slimit + limit, MAX_U64)
            else:
                slimit = MAX_U64
            sevents = _kv(_read(u, "memory.swap.events"))
            swap = _entry(slimit, _u64(swap_text) + usage, 0, sevents.get("max", 0))
        out = {"cache": raw.get("file", 0), "usage": mem, "swap": swap, "kernel": _entry(),
               "kernelTCP": _entry(), "raw": raw}
        return _omit(out, "cache", "raw")
    return {"usage": _entry(), "swap": _entry(), "kernel": _entry(), "kernelTCP": _entry()}


# ---- pids, blkio, hugetlb --------------------------------------------------------------

def _pids(v1: dict[str, str], u: str | None, own: set[str]) -> dict:
    d = v1.get("pids") or (u if u and "pids" in own else None)
    if not d:
        if u:  # runc without the controller: count the processes
            return _omit({"current": len((_read(u, "cgroup.procs") or "").split())},
                         "current")
        return {}
    limit = _u64(_read(d, "pids.max"))
    return _omit({"current": _u64(_read(d, "pids.current")),
                  "limit": 0 if limit == MAX_U64 else limit}, "current", "limit")


def _blkio_entries(text: str | None) -> list[dict] | None:
    if not text or not text.strip():
        return None
    out: list[dict] = []
    for line in text.splitlines():
        fields = line.replace(":", " ").split()
        if len(fields) < 3:
            continue  # the `Total N` line
        try:
            major, minor = int(fields[0]), int(fields[1])
            op, value = (fields[2], int(fields[3])) if len(fields) == 4 else ("", int(fields[2]))
        except (ValueError, IndexError):
            continue
        out.append(_omit({"major": major, "minor": minor, "op": op, "value": value},
                         "major", "minor", "op", "value"))
    return out


_BLKIO_GROUPS = (
    # the first group whose first file has data wins (runc's order: BFQ debug, BFQ,
    # CFQ, throttle recursive, throttle)
    (("blkio.bfq.sectors_recursive", "sectorsRecursive"),
     ("blkio.bfq.io_service_time_recursive", "ioServiceTimeRecursive"),
     ("blkio.bfq.io_wait_time_recursive", "ioWaitTimeRecursive"),
     ("blkio.bfq.io_merged_recursive", "ioMergedRecursive"),
     ("blkio.bfq.io_queued_recursive", "ioQueueRecursive"),
     ("blkio.bfq.time_recursive", "ioTimeRecursive"),
     ("blkio.bfq.io_serviced_recursive", "ioServicedRecursive"),
     ("blkio.bfq.io_service_bytes_recursive", "ioServiceBytesRecursive")),
    (("blkio.bfq.io_serviced_recursive", "ioServicedRecursive"),
     ("blkio.bfq.io_service_bytes_recursive", "ioServiceBytesRecursive")),
    (("blkio.sectors_recursive", "sectorsRecursive"),
     ("blkio.io_service_time_recursive", "ioServiceTimeRecursive"),
     ("blkio.io_wait_time_recursive", "ioWaitTimeRecursive"),
     ("blkio.io_merged_recursive", "ioMergedRecursive"),
     ("blkio.io_queued_recursive", "ioQueueRecursive"),
     ("blkio.time_recursive", "ioTimeRecursive"),
     ("blkio.io_serviced_recursive", "ioServicedRecursive"),
     ("blkio.io_service_bytes_recursive", "ioServiceBytesRecursive")),
    (("blkio.throttle.io_serviced_recursive", "ioServicedRecursive"),
     ("blkio.throttle.io_service_bytes_recursive", "ioServiceBytesRecursive")),
    (("blkio.throttle.io_serviced", "ioServicedRecursive"),
     ("blkio.throttle.io_service_bytes", "ioServiceBytesRecursive")),
)


def _blkio(v1: dict[str, str], u: str | None, own: set[str]) -> dict:
    d = v1.get("blkio")
    out: dict = {}
    if d:
        for group in _BLKIO_GROUPS:
            first = _blkio_entries(_read(d, group[0][0]))
            if first is None:
                continue
            out[group[0][1]] = first
            for name, key in group[1:]:
                out[key] = _blkio_entries(_read(d, name)) or []
            break
        return {k: v for k, v in out.items() if v}
    if u and "io" in own:
        sb: list[dict] = []
        sv: list[dict] = []
        for line in (_read(u, "io.stat") or "").splitlines():
            parts = line.split()
            if not parts or ":" not in parts[0]:
                continue
            ma, _, mi = parts[0].partition(":")
            for item in parts[1:]:
                k, _, v = item.partition("=")
                target = {"rbytes": (sb, "Read"), "wbytes": (sb, "Write"),
                          "rios": (sv, "Read"), "wios": (sv, "Write")}.get(k)
                if target is None:
                    continue
                try:
                    entry = {"major": int(ma), "minor": int(mi), "op": target[1],
                             "value": int(v)}
                except ValueError:
                    continue
                target[0].append(_omit(entry, "major", "minor", "value"))
        if sb:
            out["ioServiceBytesRecursive"] = sb
        if sv:
            out["ioServicedRecursive"] = sv
    return out


def hugepage_sizes(root: str = HUGEPAGES) -> list[str]:
    """hugepages-2048kB -> "2MB", as the kernel names the hugetlb files."""
    out: list[str] = []
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return out
    for name in names:
        if not name.startswith("hugepages-") or not name.endswith("kB"):
            continue
        try:
            size = int(name[len("hugepages-"):-2]) * 1024
        except ValueError:
            continue
        units = ("B", "KB", "MB", "GB", "TB", "PB")
        i = 0
        value = float(size)
        while value >= 1024 and i < len(units) - 1:
            value /= 1024
            i += 1
        out.append(f"{value:g}{units[i]}")
    return out


def _hugetlb(v1: dict[str, str], u: str | None, own: set[str]) -> dict:
    out: dict = {}
    d = v1.get("hugetlb")
    for size in hugepage_sizes():
        if d:
            usage = _read(d, f"hugetlb.{size}.usage_in_bytes")
            if usage is None:
                continue
            out[size] = _omit({"usage": _u64(usage),
                               "max": _u64(_read(d, f"hugetlb.{size}.max_usage_in_bytes")),
                               "failcnt": _u64(_read(d, f"hugetlb.{size}.failcnt"))},
                              "usage", "max")
        elif u and "hugetlb" in own:
            usage = _read(u, f"hugetlb.{size}.current")
            if usage is None:
                continue
            events = _kv(_read(u, f"hugetlb.{size}.events"))
            out[size] = _omit({"usage": _u64(usage), "max": 0, "failcnt": events.get("max", 0)},
                              "usage", "max")
    return out


# ---- public ------------------------------------------------------------------------

def read_stats(cg: CgroupSet) -> dict:
    """runc's `events --stats` data for the container's cgroups."""
    v1, u, own = _where(cg)
    return {
        "cpu": _cpu(v1, u),
        "cpuset": _cpuset(v1, u, own),
        "memory": _memory(v1, u, own),
        "pids": _pids(v1, u, own),
        "blkio": _blkio(v1, u, own),
        "hugetlb": _hugetlb(v1, u, own),
        "intel_rdt": {},
        "network_interfaces": None,
    }


def oom_kill_count(cg: CgroupSet) -> int:
    """Processes the kernel OOM-killed in the container's memory cgroup so far."""
    v1, u, own = _where(cg)
    d = v1.get("memory")
    if d:
        return _kv(_read(d, "memory.oom_control")).get("oom_kill", 0)
    if u:
        return _kv(_read(u, "memory.events")).get("oom_kill", 0)
    return 0


def usage_summary(cg: CgroupSet) -> tuple[int, int, int]:
    """(cpu_user_ms, cpu_system_ms, peak_memory_bytes) of the container's cgroup."""
    v1, u, own = _where(cg)
    user = system = 0
    acct = v1.get("cpuacct")
    if acct:
        u_ns, s_ns = _read(acct, "cpuacct.usage_user"), _read(acct, "cpuacct.usage_sys")
        if u_ns is not None and s_ns is not None:
            user, system = _u64(u_ns) // 1_000_000, _u64(s_ns) // 1_000_000
        else:
            st = _kv(_read(acct, "cpuacct.stat"))
            tick = os.sysconf("SC_CLK_TCK") or 100
            user = st.get("user", 0) * 1000 // tick
            system = st.get("system", 0) * 1000 // tick
    elif u:
        st = _kv(_read(u, "cpu.stat"))
        user, system = st.get("user_usec", 0) // 1000, st.get("system_usec", 0) // 1000
    peak = 0
    mem = v1.get("memory")
    if mem:
        peak = _u64(_read(mem, "memory.max_usage_in_bytes"))
    elif u and "memory" in own:
        text = _read(u, "memory.peak")
        peak = _u64(text if text is not None else _read(u, "memory.current"))
    return user, system, peak
