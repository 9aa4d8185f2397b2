"""The cgroup file logic against a directory laid out like cgroupfs (v2 and v1).

This machine's cgroup2 hierarchy has no memory/cpu/io/pids controllers, so the v2
writes and the v2 stats parsing are checked here; tests/integration runs what the
real hierarchies allow.
"""

import os

import pytest

from agentsh_runtime.cgroups import manager, stats
from agentsh_runtime.cgroups.manager import CgroupSet
from agentsh_runtime.errors import SetupError

V2_FILES = ("cgroup.type", "cgroup.procs", "cgroup.freeze", "cgroup.events", "memory.max",
            "memory.swap.max", "memory.low", "memory.high", "cpu.weight", "cpu.max",
            "cpu.max.burst", "cpu.idle", "pids.max", "io.max", "io.weight", "hugetlb.2MB.max",
            "cpuset.cpus", "cpuset.mems", "cgroup.subtree_control", "cgroup.controllers")


class FakeKernel:
    """Stands in for cgroupfs write semantics on plain files: each write replaces the
    value, except cgroup.subtree_control, where `+ctrl` adds to the set. Records writes."""

    def __init__(self):
        self.log: list[tuple[str, str]] = []
        self.refuse: dict[str, int] = {}

    def write(self, path, value):
        self.log.append((path, value))
        name = os.path.basename(path)
        if not os.path.exists(path):
            raise FileNotFoundError(2, "No such file or directory", path)
        if name in self.refuse:
            err = self.refuse[name]
            raise OSError(err, os.strerror(err), path)
        if name == "cgroup.subtree_control":
            have = set(open(path).read().split())
            for tok in value.split():
                (have.add if tok[0] == "+" else have.discard)(tok[1:])
            value = " ".join(sorted(have))
        with open(path, "w") as f:
            f.write(value + "\n")


@pytest.fixture
def kernel(monkeypatch):
    k = FakeKernel()
    monkeypatch.setattr(manager, "_write_file", k.write)
    return k


@pytest.fixture
def v2(tmp_path):
    root = tmp_path / "cg2"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma misc\n")
    (root / "cgroup.subtree_control").write_text("\n")
    parent = root / "agentsh-runtime"
    leaf = parent / "c1"
    leaf.mkdir(parents=True)
    for name in ("cgroup.type", "cgroup.controllers", "cgroup.subtree_control"):
        (parent / name).write_text("\n")
    for name in V2_FILES:
        (leaf / name).write_text("")
    (leaf / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    (leaf / "cgroup.freeze").write_text("0\n")
    return CgroupSet({"unified": str(leaf)}, [], {}, str(root))


def read(cg, name, key="unified"):
    return open(os.path.join(cg.paths[key], name)).read().strip()


def test_v2_writes_every_controller_and_enables_them(v2, kernel):
    warnings = v2.apply_resources({
        "memory": {"limit": 100 << 20, "swap": 300 << 20, "reservation": 50 << 20,
                   "kernel": 1},
        "cpu": {"shares": 2048, "quota": 20000, "period": 100000, "burst": 500, "idle": 0,
                "cpus": "0", "mems": "0"},
        "pids": {"limit": 64},
        "blockIO": {"weight": 100,
                    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1 << 20}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 1 << 21}],
        "unified": {"memory.high": "90000000"},
    }, devices=False)
    assert read(v2, "memory.max") == str(100 << 20)
    assert read(v2, "memory.swap.max") == str(200 << 20)
    assert read(v2, "memory.low") == str(50 << 20)
    assert read(v2, "memory.high") == "90000000"
    assert read(v2, "cpu.weight") == "79"
    assert read(v2, "cpu.max") == "20000 100000"
    assert read(v2, "cpu.max.burst") == "500"
    assert read(v2, "cpu.idle") == "0"
    assert read(v2, "cpuset.cpus") == "0" and read(v2, "cpuset.mems") == "0"
    assert read(v2, "pids.max") == "64"
    assert read(v2, "io.weight") == "910"  # no io.bfq.weight here: converted
    assert read(v2, "io.max") == "8:0 rbps=1048576"
    assert read(v2, "hugetlb.2MB.max") == "2097152"
    root = v2.unified_root
    assert open(os.path.join(root, "cgroup.subtree_control")).read().split() == [
        "cpu", "cpuset", "hugetlb", "io", "memory", "pids"]
    assert open(os.path.join(root, "agentsh-runtime", "cgroup.subtree_control")).read() \
        .split() == ["cpu", "cpuset", "hugetlb", "io", "memory", "pids"]
    # ancestors are enabled before any limit is written
    first_limit = next(i for i, (p, _) in enumerate(kernel.log)
                       if not p.endswith("subtree_control"))
    assert all(p.endswith("subtree_control") for p, _ in kernel.log[:first_limit])
    assert warnings and "kernel" in warnings[0]
    # the optional reserved-hugetlb knob is absent here and skipped quietly
    assert any(p.endswith("hugetlb.2MB.rsvd.max") for p, _ in kernel.log)


def test_v2_update_with_same_values_rewrites_them(v2, kernel):
    v2.apply_resources({"pids": {"limit": 5}}, devices=False)
    v2.apply_resources({"pids": {"limit": 0}}, devices=False)
    assert read(v2, "pids.max") == "max"


def test_v2_refusal_names_the_field(v2, kernel):
    kernel.refuse["memory.max"] = 16  # EBUSY
    (open(os.path.join(v2.paths["unified"], "memory.current"), "w")).write("123456\n")
    with pytest.raises(SetupError) as e:
        v2.apply_resources({"memory": {"limit": 4096}}, devices=False)
    assert str(e.value) == ("linux.resources.memory.limit: cannot set memory.max to 4096: "
                            "device or resource busy (current usage: 123456)")


def test_v2_unified_missing_controller_message(v2, kernel):
    with pytest.raises(SetupError) as e:
        v2.apply_resources({"unified": {"rdma.max": "mlx 1"}}, devices=False)
    assert e.value.field == 'linux.resources.unified["rdma.max"]'
    assert 'controller "rdma" not available' in e.value.reason


def test_v2_burst_retried_after_cpu_max(v2, kernel):
    calls = {"n": 0}
    real = kernel.write

    def write(path, value):
        if path.endswith("cpu.max.burst") and calls["n"] == 0:
            calls["n"] += 1
            kernel.log.append((path, value))
            raise OSError(22, "Invalid argument", path)
        real(path, value)

    manager._write_file = write
    v2.apply_resources({"cpu": {"quota": 50000, "burst": 40000}}, devices=False)
    files = [os.path.basename(p) for p, _ in kernel.log if not p.endswith("subtree_control")]
    assert files == ["cpu.max.burst", "cpu.max", "cpu.max.burst"]
    assert read(v2, "cpu.max.burst") == "40000"


def test_v2_einval_without_partner_is_an_error(v2, kernel):
    kernel.refuse["cpu.max.burst"] = 22
    with pytest.raises(SetupError) as e:
        v2.apply_resources({"cpu": {"burst": 40000}}, devices=False)
    assert e.value.field == "linux.resources.cpu.burst"


def test_v2_freeze_and_thaw(v2, kernel):
    leaf = v2.paths["unified"]
    open(os.path.join(leaf, "cgroup.events"), "w").write("populated 1\nfrozen 1\n")
    v2.freeze()
    assert read(v2, "cgroup.freeze") == "1"
    assert v2.frozen()
    v2.thaw()
    open(os.path.join(leaf, "cgroup.events"), "w").write("populated 1\nfrozen 0\n")
    assert read(v2, "cgroup.freeze") == "0"
    assert not v2.frozen()


def test_v2_freeze_timeout_thaws_back(v2, kernel):
    with pytest.raises(SetupError) as e:
        manager.freeze_v2(v2.paths["unified"], timeout=0.05)
    assert "timeout" in e.value.reason
    assert read(v2, "cgroup.freeze") == "0"


def test_v2_root_found_by_walking_up(v2):
    cg = CgroupSet({"unified": v2.paths["unified"]}, [])
    assert cg.v2_root() == v2.unified_root
    assert cg.v2_available() == {"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma",
                                 "misc"}


def test_state_round_trip(v2):
    again = CgroupSet.from_state(v2.to_state())
    assert again.paths == v2.paths and again.unified_root == v2.unified_root
    assert again.aliases == {}
    old = CgroupSet.from_state({"paths": v2.paths, "created": []})
    assert old.aliases is None and old.unified_root is None


def test_comounted_v1_controllers(tmp_path):
    d = tmp_path / "cpu,cpuacct" / "c1"
    d.mkdir(parents=True)
    (d / "cpuacct.usage").write_text("5\n")
    cg = CgroupSet({"cpu": str(d)}, [], {"cpuacct": "cpu"})
    assert cg.controller_dirs() == {"cpu": str(d), "cpuacct": str(d)}
    old = CgroupSet({"cpu": str(d)}, [])  # a state without aliases: found by probing
    assert old.controller_dirs()["cpuacct"] == str(d)


# ---- v1 files ------------------------------------------------------------------------

@pytest.fixture
def v1(tmp_path):
    paths = {}
    for ctrl in ("memory", "cpu", "cpuacct", "pids", "freezer", "blkio", "cpuset", "devices"):
        d = tmp_path / ctrl / "c1"
        d.mkdir(parents=True)
        paths[ctrl] = str(d)
    for name in ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "cpu.shares",
                 "cpu.cfs_quota_us", "cpu.cfs_period_us", "pids.max", "freezer.state",
                 "devices.allow", "devices.deny"):
        ctrl = name.split(".")[0]
        open(os.path.join(paths[ctrl], name), "w").write("")
    open(os.path.join(paths["devices"], "devices.list"), "w").write("a *:* rwm\n")
    open(os.path.join(paths["memory"], "memory.limit_in_bytes"), "w").write(
        "9223372036854771712\n")
    return CgroupSet(paths, [], {})


def test_v1_writes_and_swap_order_on_update(v1, kernel):
    v1.apply_resources({"memory": {"limit": 100, "swap": 200}, "cpu": {"shares": 100},
                        "pids": {"limit": 3}}, devices=False)
    names = [os.path.basename(p) for p, _ in kernel.log]
    assert names == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "cpu.shares",
                     "pids.max"]
    kernel.log.clear()
    v1.apply_resources({"memory": {"limit": 300, "swap": 400}}, devices=False)
    assert [(os.path.basename(p), v) for p, v in kernel.log] == [
        ("memory.memsw.limit_in_bytes", "400"), ("memory.limit_in_bytes", "300")]


def test_v1_cpu_shares_clamped_is_an_error(v1, kernel):
    def clamp(path, value):
        kernel.write(path, "262144" if path.endswith("cpu.shares") else value)

    manager._write_file = clamp
    with pytest.raises(SetupError) as e:
        v1.apply_resources({"cpu": {"shares": 500000}}, devices=False)
    assert str(e.value) == "linux.resources.cpu.shares: the maximum allowed cpu-shares is 262144"


def test_v1_devices_on_create(v1, kernel):
    v1.apply_resources({"devices": [{"allow": False, "access": "rwm"}]})
    dev = [(os.path.basename(p), v) for p, v in kernel.log if "devices." in p]
    assert dev[0] == ("devices.deny", "a *:* rwm")
    assert ("devices.allow", "c 1:3 rwm") in dev and len(dev) == 12


def test_v1_freeze(v1, kernel):
    v1.freeze()
    assert read(v1, "freezer.state", "freezer") == "FROZEN"
    assert v1.frozen()
    v1.thaw()
    assert read(v1, "freezer.state", "freezer") == "THAWED"
    assert not v1.frozen()


# ---- stats -----------------------------------------------------------------------------

def test_v2_stats_shape(v2):
    leaf = v2.paths["unified"]
    files = {
        "cgroup.controllers": "cpu io memory pids hugetlb\n",
        "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\n"
                    "nr_throttled 2\nthrottled_usec 30\n",
        "memory.current": "4096\n", "memory.max": "max\n", "memory.peak": "8192\n",
        "memory.swap.current": "0\n", "memory.swap.max": "max\n",
        "memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n",
        "memory.stat": "anon 4096\nfile 100\n",
        "pids.current": "3\n", "pids.max": "max\n",
        "io.stat": "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n",
        "hugetlb.2MB.current": "0\n", "hugetlb.2MB.events": "max 5\n",
    }
    for name, text in files.items():
        open(os.path.join(leaf, name), "w").write(text)
    s = stats.read_stats(v2)
    assert s["cpu"] == {"usage": {"total": 1500000, "kernel": 500000, "user": 1000000},
                        "throttling": {"periods": 4, "throttledPeriods": 2,
                                       "throttledTime": 30000}}
    assert s["memory"]["usage"] == {"limit": (1 << 64) - 1, "usage": 4096, "max": 8192,
                                    "failcnt": 3}
    assert s["memory"]["swap"] == {"limit": (1 << 64) - 1, "usage": 4096, "failcnt": 0}
    assert s["memory"]["cache"] == 100 and s["memory"]["raw"] == {"anon": 4096, "file": 100}
    assert s["memory"]["kernel"] == {"limit": 0, "failcnt": 0}
    assert s["pids"] == {"current": 3}
    assert s["blkio"] == {
        "ioServiceBytesRecursive": [{"major": 8, "op": "Read", "value": 10},
                                    {"major": 8, "op": "Write", "value": 20}],
        "ioServicedRecursive": [{"major": 8, "op": "Read", "value": 1},
                                {"major": 8, "op": "Write", "value": 2}]}
    if "2MB" in stats.hugepage_sizes():
        assert s["hugetlb"]["2MB"] == {"failcnt": 5}
    assert s["intel_rdt"] == {} and s["network_interfaces"] is None
    assert stats.oom_kill_count(v2) == 2
    assert stats.usage_summary(v2) == (1, 0, 8192)


def test_v1_stats_shape(v1):
    def put(ctrl, name, text):
        open(os.path.join(v1.paths[ctrl], name), "w").write(text)

    put("cpuacct", "cpuacct.usage", "3000000\n")
    put("cpuacct", "cpuacct.usage_percpu", "1000000 2000000 \n")
    put("cpuacct", "cpuacct.usage_all", "cpu user system\n0 600000 400000\n1 1500000 500000\n")
    put("cpuacct", "cpuacct.stat", "user 2\nsystem 1\n")
    put("cpuacct", "cpuacct.usage_user", "2100000\n")
    put("cpuacct", "cpuacct.usage_sys", "900000\n")
    put("cpu", "cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n")
    put("memory", "memory.usage_in_bytes", "1000\n")
    put("memory", "memory.max_usage_in_bytes", "5000\n")
    put("memory", "memory.failcnt", "0\n")
    put("memory", "memory.limit_in_bytes", "10000\n")
    put("memory", "memory.stat", "cache 7\nrss 9\n")
    put("memory", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n")
    put("pids", "pids.current", "2\n")
    put("pids", "pids.max", "10\n")
    put("blkio", "blkio.throttle.io_service_bytes_recursive",
        "8:0 Read 4096\n8:0 Write 0\nTotal 4096\n")
    put("blkio", "blkio.throttle.io_serviced_recursive", "8:0 Read 1\n8:0 Write 0\nTotal 1\n")
    put("cpuset", "cpuset.cpus", "0-1\n")
    put("cpuset", "cpuset.mems", "0\n")
    s = stats.read_stats(v1)
    tick = os.sysconf("SC_CLK_TCK")
    assert s["cpu"]["usage"] == {"total": 3000000, "percpu": [1000000, 2000000],
                                 "percpu_kernel": [400000, 500000],
                                 "percpu_user": [600000, 1500000],
                                 "kernel": 1_000_000_000 // tick,
                                 "user": 2 * 1_000_000_000 // tick}
    assert s["cpu"]["throttling"] == {}
    assert s["memory"]["usage"] == {"limit": 10000, "usage": 1000, "max": 5000, "failcnt": 0}
    assert s["memory"]["swap"] == {"limit": 0, "failcnt": 0}  # no memsw usage file here
    assert s["memory"]["cache"] == 7
    assert s["pids"] == {"current": 2, "limit": 10}
    assert s["blkio"] == {
        "ioServicedRecursive": [{"major": 8, "op": "Read", "value": 1},
                                {"major": 8, "op": "Write"}],
        "ioServiceBytesRecursive": [{"major": 8, "op": "Read", "value": 4096},
                                    {"major": 8, "op": "Write"}]}
    assert s["cpuset"]["cpus"] == [0, 1] and s["cpuset"]["mems"] == [0]
    assert stats.oom_kill_count(v1) == 4
    assert stats.usage_summary(v1) == (2, 0, 5000)


def test_hugepage_sizes(tmp_path):
    for name in ("hugepages-2048kB", "hugepages-1048576kB", "hugepages-64kB", "other"):
        (tmp_path / name).mkdir()
    assert stats.hugepage_sizes(str(tmp_path)) == ["1GB", "2MB", "64KB"]
