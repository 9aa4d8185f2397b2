"""`update`'s runc flags -> a runtime-spec LinuxResources object."""

from __future__ import annotations

from ..errors import UsageError
from .units import parse_size

# flag dest -> (section, key, kind)
_FLAGS: dict[str, tuple[str, str, str]] = {
    "memory": ("memory", "limit", "size"),
    "memory_swap": ("memory", "swap", "size"),
    "memory_reservation": ("memory", "reservation", "size"),
    "kernel_memory": ("memory", "kernel", "size"),
    "kernel_memory_tcp": ("memory", "kernelTCP", "size"),
    "cpu_shares": ("cpu", "shares", "int"),
    "cpu_quota": ("cpu", "quota", "int"),
    "cpu_period": ("cpu", "period", "int"),
    "cpu_rt_runtime": ("cpu", "realtimeRuntime", "int"),
    "cpu_rt_period": ("cpu", "realtimePeriod", "int"),
    "cpuset_cpus": ("cpu", "cpus", "str"),
    "cpuset_mems": ("cpu", "mems", "str"),
    "blkio_weight": ("blockIO", "weight", "int"),
    "pids_limit": ("pids", "limit", "int"),
}


def resources_from_flags(vals: dict[str, object]) -> dict:
    if vals.get("l3_cache_schema") or vals.get("mem_bw_schema"):
        raise UsageError("Intel RDT is not supported by agentsh-runtime", "--l3-cache-schema")
    out: dict[str, dict] = {}
    for dest, (section, key, kind) in _FLAGS.items():
        raw = vals.get(dest)
        if raw is None:
            continue
        flag = "--" + dest.replace("_", "-")
        text = str(raw)
        if kind == "size":
            value: object = parse_size(text, flag)
        elif kind == "int":
            try:
                value = int(text)
            except ValueError:
                raise UsageError(f"invalid value {text!r} for {flag}", flag) from None
        else:
            value = text
        out.setdefault(section, {})[key] = value
    return out
