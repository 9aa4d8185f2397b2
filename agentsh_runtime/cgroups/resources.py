"""linux.resources -> the ordered cgroup file writes, for v1, v2 or a mix of both (hybrid).

Pure: facts about the host (does a file exist, what does it hold now) come in
through a `host` object with `has(key, name)` and `read(key, name)`; without
one, every file is taken to exist and nothing is known about current values,
which describes a freshly made cgroup.

A zero means "not set", as in runc (limit 0, shares 0, period 0, ...): nothing is
written for it. The order of controllers and of files within one follows runc,
where the kernel cares (memory vs memory+swap, period vs quota, rt period vs
runtime, cpu.max.burst vs cpu.max).
"""

from __future__ import annotations

from ..errors import ConfigError, SetupError

UNIFIED = "unified"
P = "linux.resources"

# Write.flags
OPTIONAL = 1  # a missing file is skipped (knobs older kernels lack)
VERIFY = 2    # read the value back: the kernel clamps cpu.shares silently
BPF = 4       # not a file: attach the device program built from Plan.devices
UNIFIED_KEY = 8  # from linux.resources.unified: errors name the key as runc does

BPF_DEVICES = "<bpf:cgroup_device>"

# v1 controller name -> its name in cgroup2 (None: no v2 counterpart)
V2_NAME = {"cpu": "cpu", "cpuset": "cpuset", "memory": "memory", "pids": "pids",
           "blkio": "io", "hugetlb": "hugetlb", "rdma": "rdma", "net_cls": None,
           "net_prio": None}

ALL_V1 = frozenset(("cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio",
                    "pids", "hugetlb", "net_cls", "net_prio", "rdma", "perf_event"))
ALL_V2 = frozenset(("cpu", "cpuset", "io", "memory", "hugetlb", "pids", "rdma", "misc"))


class Write:
    """One write: hierarchy key (v1 controller or "unified"), file, value, config field."""

    __slots__ = ("key", "file", "value", "field", "flags", "after")

    def __init__(self, key: str, file: str, value: str, field: str, flags: int = 0,
                 after: str | None = None) -> None:
        self.key, self.file, self.value, self.field = key, file, value, field
        self.flags = flags
        # when the kernel says EINVAL and `after` is written later in the same
        # hierarchy, try this one again right after it (runc's period/quota dance)
        self.after = after

    def __iter__(self):  # noqa: ANN204 - unpacks as (key, file, value, field)
        return iter((self.key, self.file, self.value, self.field))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, tuple):
            return tuple(self) == other
        if isinstance(other, Write):
            return tuple(self) == tuple(other) and (self.flags, self.after) == (
                other.flags, other.after)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        extra = f", flags={self.flags}" if self.flags else ""
        extra += f", after={self.after!r}" if self.after else ""
        return f"Write({self.key!r}, {self.file!r}, {self.value!r}, {self.field!r}{extra})"


class Plan:
    __slots__ = ("writes", "warnings", "devices", "v2_controllers")

    def __init__(self) -> None:
        self.writes: list[Write] = []
        self.warnings: list[str] = []
        self.devices = None  # devices.Emulator for the v2 program, when BPF is used
        self.v2_controllers: set[str] = set()  # cgroup2 controllers the writes need enabled

    def tuples(self) -> list[tuple[str, str, str, str]]:
        return [tuple(w) for w in self.writes]


class FreshHost:
    """No knowledge of the host: every file exists, no current values."""

    __slots__ = ()

    def has(self, key: str, name: str) -> bool:
        return True

    def read(self, key: str, name: str) -> str | None:
        return None


# ---- conversions (runc's) ------------------------------------------------------

def shares_to_weight(shares: int) -> int:
    """cpu.shares [2, 262144] -> cpu.weight [1, 10000], runc 1.1's linear formula.

    runc >= 1.3 (opencontainers/cgroups) switched to a quadratic fit so that the v1
    default 1024 maps to the v2 default 100; see shares_to_weight_quadratic.
    """
    if shares == 0:
        return 0
    return 1 + ((shares - 2) * 9999) // 262142


def shares_to_weight_quadratic(shares: int) -> int:
    import math

    if shares == 0:
        return 0
    if shares <= 2:
        return 1
    if shares >= 262144:
        return 10000
    log = math.log2(shares)
    return math.ceil(10 ** ((log * log + 125 * log) / 612.0 - 7.0 / 34.0))


def blkio_weight_to_io_weight(weight: int) -> int:
    """blkio.weight [10, 1000] -> io.weight [1, 10000] (runc's ConvertBlkIOToIOWeightValue)."""
    if weight == 0:
        return 0
    return 1 + (weight - 10) * 9999 // 990


def swap_to_v2(swap: int, memory: int, field: str = P + ".memory.swap") -> int:
    """OCI swap is memory+swap; memory.swap.max is swap alone (runc's conversion)."""
    if memory == -1 and swap == 0:
        return -1  # "memory unlimited" also means swap unlimited, as on v1
    if swap in (-1, 0):
        return swap
    if memory in (0, -1):
        raise ConfigError("unable to set swap limit without memory limit", field)
    if memory < 0:
        raise ConfigError(f"invalid memory value: {memory}", P + ".memory.limit")
    if swap < memory:
        raise ConfigError("memory+swap limit should be >= memory limit", field)
    return swap - memory


def _num_v2(value: int) -> str:
    """v2 .max/.low/.high values: 0 is unset (""), -1 is "max"."""
    if value == 0:
        return ""
    if value == -1:
        return "max"
    return str(value)


def _int(d: dict, key: str, field: str, default: int = 0) -> int:
    v = d.get(key)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(f"expected an integer, got {v!r}", field)
    return v


def _signed(v: int) -> int:
    """Go reads an OCI uint64 of 2^64-1 as -1; so do we."""
    return v - (1 << 64) if v >= 1 << 63 else v


# ---- routing: which hierarchy each controller's settings go to ----------------------

def touched(resources: dict, devices: bool = True) -> list[str]:
    """v1 controller names the settings in `resources` need."""
    out: list[str] = []
    cpu = resources.get("cpu") or {}
    if cpu.get("cpus") or cpu.get("mems"):
        out.append("cpuset")
    if devices or resources.get("devices"):
        out.append("devices")
    mem = resources.get("memory") or {}
    if any(mem.get(k) for k in ("limit", "reservation", "swap", "disableOOMKiller")) or \
            mem.get("swappiness") is not None:
        out.append("memory")
    if any(cpu.get(k) for k in ("shares", "quota", "period", "realtimeRuntime",
                                 "realtimePeriod")) or cpu.get("burst") is not None \
            or cpu.get("idle") is not None:
        out.append("cpu")
    if resources.get("pids") is not None:
        out.append("pids")
    bio = resources.get("blockIO") or {}
    if any(bio.get(k) for k in ("weight", "leafWeight", "weightDevice", "throttleReadBpsDevice",
                                 "throttleWriteBpsDevice", "throttleReadIOPSDevice",
                                 "throttleWriteIOPSDevice")):
        out.append("blkio")
    if resources.get("hugepageLimits"):
        out.append("hugetlb")
    net = resources.get("network") or {}
    if net.get("classID") is not None:
        out.append("net_cls")
    if net.get("priorities"):
        out.append("net_prio")
    if resources.get("rdma"):
        out.append("rdma")
    return out


def needed_v2(resources: dict, v1: frozenset | set, v2: frozenset | set | None,
              devices: bool = True) -> set[str]:
    """cgroup2 controllers that must be enabled along the path before writing."""
    if v2 is None:
        return set()
    out = {V2_NAME[c] for c in touched(resources, devices)
           if c not in v1 and V2_NAME.get(c) and V2_NAME[c] in v2}
    for key in (resources.get("unified") or {}):
        ctrl = str(key).split(".", 1)[0]
        if ctrl in v2:
            out.add(ctrl)
    return out


def plan(resources: dict | None, v1: frozenset | set = frozenset(),
         v2: frozenset | set | None = None, *, host: object = None,
         devices: bool = True) -> Plan:
    """The writes for `resources` on a host with v1 controllers `v1` and cgroup2 controllers
    `v2` (None: no cgroup2 mount). `devices`: apply the device rules (with runc's
    defaults) even when the config lists none, as create does; an update passes False
    unless it changes them.
    """
    res = resources or {}
    v1 = frozenset(v1)
    v2f = None if v2 is None else frozenset(v2)
    h = host if host is not None else FreshHost()
    p = Plan()
    if not isinstance(res, dict):
        raise ConfigError("expected an object", P)

    def where(ctrl: str) -> str | None:
        if ctrl in v1:
            return "v1"
        name = V2_NAME.get(ctrl)
        if v2f is not None and name and name in v2f:
            p.v2_controllers.add(name)
            return "v2"
        return None

    def missing(ctrl: str, field: str) -> None:
        if not v1 and v2f is not None and V2_NAME.get(ctrl, "") is None:
            # pure cgroup2: runc ignores the v1-only network settings
            p.warnings.append(f"{field} is ignored: the {ctrl} controller does not exist "
                              "in cgroup v2")
            return
        raise SetupError(f"the {ctrl} cgroup controller is not available on this host", field)

    sections = {
        "cpuset": _cpuset, "devices": _devices, "memory": _memory, "cpu": _cpu,
        "pids": _pids, "blkio": _blkio, "hugetlb": _hugetlb, "net_cls": _net_cls,
        "net_prio": _net_prio, "rdma": _rdma,
    }
    order = ("cpuset", "devices", "memory", "cpu", "pids", "blkio", "hugetlb", "net_cls",
             "net_prio", "rdma") if v1 else \
        ("pids", "memory", "blkio", "cpu", "devices", "cpuset", "hugetlb", "rdma", "net_cls",
         "net_prio")
    wanted = set(touched(res, devices))
    mem = res.get("memory") or {}
    for key in ("kernel", "kernelTCP"):
        if mem.get(key) is not None:
            p.warnings.append(f"{P}.memory.{key} is ignored: kernel memory settings are "
                              "deprecated (runc ignores them too)")
    for ctrl in order:
        if ctrl not in wanted:
            continue
        if ctrl == "devices":
            _devices(res, p, h, "v1" if "devices" in v1 else (
                "v2" if v2f is not None else None))
            continue
        mode = where(ctrl)
        if mode is None:
            missing(ctrl, _section_field(ctrl))
            continue
        sections[ctrl](res, p, h, mode)
    unified = res.get("unified")
    if unified:
        _unified(unified, p, v2f)
    return p


def plan_v1(resources: dict | None, host: object = None, devices: bool = True) -> Plan:
    return plan(resources, ALL_V1, None, host=host, devices=devices)


def plan_v2(resources: dict | None, host: object = None, devices: bool = True) -> Plan:
    return plan(resources, frozenset(), ALL_V2, host=host, devices=devices)


def _section_field(ctrl: str) -> str:
    return P + {"cpuset": ".cpu", "memory": ".memory", "cpu": ".cpu", "pids": ".pids",
                "blkio": ".blockIO", "hugetlb": ".hugepageLimits", "net_cls": ".network.classID",
                "net_prio": ".network.priorities", "rdma": ".rdma",
                "devices": ".devices"}[ctrl]


# ---- per controller ----------------------------------------------------------

def _cpuset(res: dict, p: Plan, h: object, mode: str) -> None:
    cpu = res.get("cpu") or {}
    key = "cpuset" if mode == "v1" else UNIFIED
    if cpu.get("cpus"):
        p.writes.append(Write(key, "cpuset.cpus", str(cpu["cpus"]), P + ".cpu.cpus"))
    if cpu.get("mems"):
        p.writes.append(Write(key, "cpuset.mems", str(cpu["mems"]), P + ".cpu.mems"))


def _devices(res: dict, p: Plan, h: object, mode: str | None) -> None:
    from .devices import DEFAULT_RULES, Emulator, rules_from_spec

    field = P + ".devices"
    rules = rules_from_spec(res.get("devices") or [], field) + list(DEFAULT_RULES)
    target = Emulator.build(rules, field)
    if mode == "v1":
        current = Emulator.from_list(h.read("devices", "devices.list"))
        for allow, line in current.transition(target):
            p.writes.append(Write("devices", "devices.allow" if allow else "devices.deny",
                                  line, field))
    elif mode == "v2":
        p.devices = target
        p.writes.append(Write(UNIFIED, BPF_DEVICES, "", field, BPF))
    elif res.get("devices"):
        raise SetupError("no devices cgroup controller (v1) nor cgroup2 mount on this host",
                         field)


def _memory(res: dict, p: Plan, h: object, mode: str) -> None:
    m = res.get("memory") or {}
    f = P + ".memory."
    limit = _signed(_int(m, "limit", f + "limit"))
    swap = _signed(_int(m, "swap", f + "swap"))
    resv = _signed(_int(m, "reservation", f + "reservation"))
    swappiness = m.get("swappiness")
    if swappiness is not None:
        swappiness = _signed(_int(m, "swappiness", f + "swappiness"))
        if swappiness == -1:
            swappiness = None
        elif not 0 <= swappiness <= 100:
            raise ConfigError(f"invalid value:{swappiness}. valid memory swappiness range is "
                              "0-100", f + "swappiness")
    if mode == "v2":
        if limit or swap or resv:
            swap2 = swap_to_v2(swap, limit, f + "swap")
            text = _num_v2(swap2)
            if text == "" and swap2 == 0 and swap > 0:
                text = "0"  # memory and memory+swap equal: no swap at all
            if text:
                p.writes.append(Write(UNIFIED, "memory.swap.max", text, f + "swap"))
            if _num_v2(limit):
                p.writes.append(Write(UNIFIED, "memory.max", _num_v2(limit), f + "limit"))
            if _num_v2(resv):
                p.writes.append(Write(UNIFIED, "memory.low", _num_v2(resv), f + "reservation"))
        if swappiness is not None:
            p.warnings.append(f"{f}swappiness is ignored: cgroup v2 has no per-cgroup "
                              "swappiness")
        if m.get("disableOOMKiller"):
            p.warnings.append(f"{f}disableOOMKiller is ignored: cgroup v2 cannot disable "
                              "the OOM killer")
        return
    if limit == -1 and swap == 0 and h.has("memory", "memory.memsw.limit_in_bytes"):
        swap = -1  # unlimited memory means unlimited memory+swap too
    mem_w = Write("memory", "memory.limit_in_bytes", str(limit), f + "limit") if limit else None
    swap_w = Write("memory", "memory.memsw.limit_in_bytes", str(swap), f + "swap") \
        if swap else None
    first, second = mem_w, swap_w
    if mem_w and swap_w:
        # memory.limit <= memory.memsw.limit at every moment, or the kernel says EINVAL:
        # raise memsw first when it must grow past the current limit (runc's rule)
        cur = _parse_int(h.read("memory", "memory.limit_in_bytes"))
        if swap == -1 or (cur is not None and cur < swap):
            first, second = swap_w, mem_w
    for w in (first, second):
        if w:
            p.writes.append(w)
    if resv:
        p.writes.append(Write("memory", "memory.soft_limit_in_bytes", str(resv),
                              f + "reservation"))
    if m.get("disableOOMKiller"):
        p.writes.append(Write("memory", "memory.oom_control", "1", f + "disableOOMKiller"))
    if swappiness is not None:
        p.writes.append(Write("memory", "memory.swappiness", str(swappiness), f + "swappiness"))


def _parse_int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def _cpu(res: dict, p: Plan, h: object, mode: str) -> None:
    c = res.get("cpu") or {}
    f = P + ".cpu."
    shares = _int(c, "shares", f + "shares")
    quota = _signed(_int(c, "quota", f + "quota"))
    period = _int(c, "period", f + "period")
    burst = c.get("burst")
    if burst is not None:
        burst = _int(c, "burst", f + "burst")
    idle = c.get("idle")
    if idle is not None:
        idle = _int(c, "idle", f + "idle")
    rt_runtime = _signed(_int(c, "realtimeRuntime", f + "realtimeRuntime"))
    rt_period = _int(c, "realtimePeriod", f + "realtimePeriod")
    if mode == "v2":
        if idle is not None:
            p.writes.append(Write(UNIFIED, "cpu.idle", str(idle), f + "idle"))
        if shares:
            p.writes.append(Write(UNIFIED, "cpu.weight", str(shares_to_weight(shares)),
                                  f + "shares"))
        has_max = bool(quota or period)
        if burst is not None:
            p.writes.append(Write(UNIFIED, "cpu.max.burst", str(burst), f + "burst",
                                  after="cpu.max" if has_max else None))
        if has_max:
            text = str(quota) if quota > 0 else "max"
            p.writes.append(Write(UNIFIED, "cpu.max", f"{text} {period or 100000}",
                                  f + ("quota" if quota else "period")))
        if rt_runtime or rt_period:
            p.warnings.append(f"{f}realtimeRuntime and realtimePeriod are ignored: cgroup v2 "
                              "has no real-time group scheduling knobs")
        return
    if shares:
        p.writes.append(Write("cpu", "cpu.shares", str(shares), f + "shares", VERIFY))
    if period:
        p.writes.append(Write("cpu", "cpu.cfs_period_us", str(period), f + "period",
                              after="cpu.cfs_quota_us"))
    if burst is not None:
        p.writes.append(Write("cpu", "cpu.cfs_burst_us", str(burst), f + "burst", OPTIONAL,
                              after="cpu.cfs_quota_us"))
    if quota:
        p.writes.append(Write("cpu", "cpu.cfs_quota_us", str(quota), f + "quota"))
    if idle is not None:
        if h.has("cpu", "cpu.idle"):
            p.writes.append(Write("cpu", "cpu.idle", str(idle), f + "idle"))
        elif idle:
            p.warnings.append(f"{f}idle is ignored: this kernel has no cpu.idle in cgroup v1")
    if rt_period:
        p.writes.append(Write("cpu", "cpu.rt_period_us", str(rt_period), f + "realtimePeriod",
                              after="cpu.rt_runtime_us"))
    if rt_runtime:
        p.writes.append(Write("cpu", "cpu.rt_runtime_us", str(rt_runtime),
                              f + "realtimeRuntime"))


def _pids(res: dict, p: Plan, h: object, mode: str) -> None:
    pids = res.get("pids")
    if not isinstance(pids, dict):
        raise ConfigError("expected an object", P + ".pids")
    limit = _signed(_int(pids, "limit", P + ".pids.limit"))
    value = str(limit) if limit > 0 else "max"  # 0 and -1 both mean no limit
    p.writes.append(Write("pids" if mode == "v1" else UNIFIED, "pids.max", value,
                          P + ".pids.limit"))


_THROTTLE = (("throttleReadBpsDevice", "read_bps_device", "rbps"),
             ("throttleWriteBpsDevice", "write_bps_device", "wbps"),
             ("throttleReadIOPSDevice", "read_iops_device", "riops"),
             ("throttleWriteIOPSDevice", "write_iops_device", "wiops"))


def _dev(d: object, field: str) -> str:
    if not isinstance(d, dict) or d.get("major") is None or d.get("minor") is None:
        raise ConfigError("a device needs major and minor", field)
    return f"{int(d['major'])}:{int(d['minor'])}"


def _blkio(res: dict, p: Plan, h: object, mode: str) -> None:
    b = res.get("blockIO") or {}
    f = P + ".blockIO."
    weight = _int(b, "weight", f + "weight")
    leaf = _int(b, "leafWeight", f + "leafWeight")
    if mode == "v2":
        if weight:
            if h.has(UNIFIED, "io.bfq.weight"):
                p.writes.append(Write(UNIFIED, "io.bfq.weight", str(weight), f + "weight"))
            else:
                p.writes.append(Write(UNIFIED, "io.weight",
                                      str(blkio_weight_to_io_weight(weight)), f + "weight"))
        if leaf:
            p.warnings.append(f"{f}leafWeight is ignored: cgroup v2 has no leaf weights")
        wds = b.get("weightDevice") or []
        if wds:
            bfq = h.read(UNIFIED, "io.bfq.weight") if h.has(UNIFIED, "io.bfq.weight") else ""
            per_device = bfq is None or bfq.startswith("default")
            for i, wd in enumerate(wds):
                fi = f"{f}weightDevice[{i}]"
                dev = _dev(wd, fi)
                if wd.get("weight"):
                    if per_device:
                        p.writes.append(Write(UNIFIED, "io.bfq.weight",
                                              f"{dev} {int(wd['weight'])}", fi + ".weight"))
                    else:
                        p.warnings.append(f"{fi}.weight is ignored: the BFQ I/O scheduler "
                                          "with per-device weights is not available")
                if wd.get("leafWeight"):
                    p.warnings.append(f"{fi}.leafWeight is ignored: cgroup v2 has no leaf "
                                      "weights")
        # io.max: one line per device, all four limits together
        lines: dict[str, list[str]] = {}
        fields: dict[str, str] = {}
        for key, _, name in _THROTTLE:
            for i, td in enumerate(b.get(key) or []):
                fi = f"{f}{key}[{i}]"
                dev = _dev(td, fi)
                lines.setdefault(dev, []).append(f"{name}={int(td.get('rate') or 0)}")
                fields.setdefault(dev, fi)
        for dev, parts in lines.items():
            p.writes.append(Write(UNIFIED, "io.max", f"{dev} {' '.join(parts)}", fields[dev]))
        return
    if h.has("blkio", "blkio.weight"):
        wfile, wdfile = "blkio.weight", "blkio.weight_device"
    else:  # CFQ is gone from kernels >= 5.0: BFQ's knobs then
        wfile, wdfile = "blkio.bfq.weight", "blkio.bfq.weight_device"
    if weight:
        p.writes.append(Write("blkio", wfile, str(weight), f + "weight"))
    if leaf:
        p.writes.append(Write("blkio", "blkio.leaf_weight", str(leaf), f + "leafWeight"))
    for i, wd in enumerate(b.get("weightDevice") or []):
        fi = f"{f}weightDevice[{i}]"
        dev = _dev(wd, fi)
        if wd.get("weight"):
            p.writes.append(Write("blkio", wdfile, f"{dev} {int(wd['weight'])}",
                                  fi + ".weight"))
        if wd.get("leafWeight"):
            p.writes.append(Write("blkio", "blkio.leaf_weight_device",
                                  f"{dev} {int(wd['leafWeight'])}", fi + ".leafWeight"))
    for key, file, _ in _THROTTLE:
        for i, td in enumerate(b.get(key) or []):
            fi = f"{f}{key}[{i}]"
            p.writes.append(Write("blkio", f"blkio.throttle.{file}",
                                  f"{_dev(td, fi)} {int(td.get('rate') or 0)}", fi))


def _hugetlb(res: dict, p: Plan, h: object, mode: str) -> None:
    for i, hl in enumerate(res.get("hugepageLimits") or []):
        fi = f"{P}.hugepageLimits[{i}]"
        if not isinstance(hl, dict) or not hl.get("pageSize"):
            raise ConfigError("a hugepage limit needs pageSize and limit", fi)
        size = str(hl["pageSize"])
        if "/" in size or size.startswith("."):
            raise ConfigError(f"invalid hugepage size {size!r}", fi + ".pageSize")
        limit = str(_int(hl, "limit", fi + ".limit"))
        if mode == "v1":
            p.writes.append(Write("hugetlb", f"hugetlb.{size}.limit_in_bytes", limit, fi))
            p.writes.append(Write("hugetlb", f"hugetlb.{size}.rsvd.limit_in_bytes", limit, fi,
                                  OPTIONAL))
        else:
            p.writes.append(Write(UNIFIED, f"hugetlb.{size}.max", limit, fi))
            p.writes.append(Write(UNIFIED, f"hugetlb.{size}.rsvd.max", limit, fi, OPTIONAL))


def _net_cls(res: dict, p: Plan, h: object, mode: str) -> None:
    net = res.get("network") or {}
    classid = _int(net, "classID", P + ".network.classID")
    p.writes.append(Write("net_cls", "net_cls.classid", str(classid), P + ".network.classID"))


def _net_prio(res: dict, p: Plan, h: object, mode: str) -> None:
    net = res.get("network") or {}
    for i, prio in enumerate(net.get("priorities") or []):
        fi = f"{P}.network.priorities[{i}]"
        if not isinstance(prio, dict) or not prio.get("name"):
            raise ConfigError("a priority needs name and priority", fi)
        p.writes.append(Write("net_prio", "net_prio.ifpriomap",
                              f"{prio['name']} {int(prio.get('priority') or 0)}", fi))


def _rdma(res: dict, p: Plan, h: object, mode: str) -> None:
    key = "rdma" if mode == "v1" else UNIFIED
    for dev, limits in (res.get("rdma") or {}).items():
        fi = f"{P}.rdma.{dev}"
        limits = limits or {}
        line = str(dev)
        if limits.get("hcaHandles") is not None:
            line += f" hca_handle={int(limits['hcaHandles'])}"
        if limits.get("hcaObjects") is not None:
            line += f" hca_object={int(limits['hcaObjects'])}"
        if line != str(dev):
            p.writes.append(Write(key, "rdma.max", line, fi))


def _unified(unified: object, p: Plan, v2: frozenset | None) -> None:
    field = P + ".unified"
    if not isinstance(unified, dict):
        raise ConfigError("expected an object of strings", field)
    if v2 is None:
        raise SetupError("cannot use unified on cgroup v1: this host has no cgroup2 mount",
                         field)
    for key, value in unified.items():
        fi = f'{field}["{key}"]'
        if "/" in key or key in ("", ".", ".."):
            raise ConfigError(f"unified resource {key!r} must be a file name (no slashes)", fi)
        if not isinstance(value, str):
            raise ConfigError("expected a string", fi)
        ctrl = key.split(".", 1)[0]
        if ctrl in v2:
            p.v2_controllers.add(ctrl)
        p.writes.append(Write(UNIFIED, key, value, fi, UNIFIED_KEY))
