"""Real cgroups on this hybrid host: v1 controllers, plus the cgroup2 mount (hugetlb, freeze,
device BPF, `unified`). Every cgroup is /sys/fs/cgroup/*/agentsh-test-* and is removed in
teardown, after every process the test started in it is gone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from agentsh_runtime.cgroups import stats
from agentsh_runtime.cgroups.devices import Emulator, attach_program, detach_programs
from agentsh_runtime.cgroups.manager import UNIFIED, CgroupSet
from agentsh_runtime.errors import SetupError
from agentsh_runtime.linux import bpf

CG2 = "/sys/fs/cgroup/unified"
P = "linux.resources"


def _have_v1(ctrl: str) -> bool:
    return os.path.exists(f"/sys/fs/cgroup/{ctrl}/cgroup.procs")


pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


class Procs:
    """Processes a test starts; all killed and reaped in teardown."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, cg: CgroupSet, code: str) -> subprocess.Popen:
        """A python child that waits for a line on stdin, joined to `cg` meanwhile."""
        prog = "import sys\nsys.stdin.readline()\n" + code
        p = subprocess.Popen([sys.executable, "-I", "-S", "-c", prog], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        cg.join(p.pid)
        p.stdin.write("go\n")
        p.stdin.flush()
        return p

    def cleanup(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)
            for f in (p.stdin, p.stdout, p.stderr):
                if f:
                    f.close()


def _root_subtree() -> set[str]:
    with open(os.path.join(CG2, "cgroup.subtree_control")) as f:
        return set(f.read().split())


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.cleanup()


@pytest.fixture
def restore_cgroup2_root():
    """apply_resources enables cgroup2 controllers in the root (as runc does on v2): put the
    root back as it was, so the tests leave the host unchanged."""
    before = _root_subtree()
    yield
    for ctrl in _root_subtree() - before:
        try:
            with open(os.path.join(CG2, "cgroup.subtree_control"), "w") as f:
                f.write("-" + ctrl)
        except OSError:
            pass  # still used below the root by someone else: leave it


def _destroy(cg: CgroupSet) -> None:
    for pid in cg.pids():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if cg.frozen():
        cg.thaw()
    cg.destroy(timeout=10)
    left = [p for p in cg.paths.values() if os.path.exists(p)]
    assert not left, f"cgroups left behind: {left}"


@pytest.fixture
def cg(procs, restore_cgroup2_root):
    name = f"/agentsh-test-{uuid.uuid4().hex[:10]}"
    c = CgroupSet.plan(name, name[1:], False)
    c.create()
    yield c
    procs.cleanup()
    _destroy(c)


@pytest.fixture
def cg2(procs, restore_cgroup2_root):
    """A cgroup in the cgroup2 hierarchy only: the host's real v2 mount."""
    path = os.path.join(CG2, f"agentsh-test-{uuid.uuid4().hex[:10]}")
    c = CgroupSet({UNIFIED: path}, [], {}, CG2)
    c.create()
    yield c
    procs.cleanup()
    _destroy(c)


def read(cg: CgroupSet, key: str, name: str) -> str:
    with open(os.path.join(cg.paths[key], name)) as f:
        return f.read().strip()


def _block_device() -> str:
    for name in sorted(os.listdir("/sys/dev/block")):
        return name
    pytest.skip("no block device")


# ---- writes read back -------------------------------------------------------------------

def test_every_controller_written_and_read_back(cg):
    dev = _block_device()
    major, minor = (int(x) for x in dev.split(":"))
    warnings = cg.apply_resources({
        "memory": {"limit": 100 << 20, "swap": 200 << 20, "reservation": 50 << 20,
                   "swappiness": 10, "disableOOMKiller": False, "kernel": 1 << 20},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "burst": 1000,
                "realtimePeriod": 1000000, "realtimeRuntime": 10000, "cpus": "0",
                "mems": "0", "idle": 0},
        "pids": {"limit": 10},
        "blockIO": {"throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": 1 << 20}],
                    "throttleWriteIOPSDevice": [{"major": major, "minor": minor,
                                                 "rate": 100}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20}],
        "unified": {"hugetlb.1GB.max": "0"},
        "devices": [{"allow": False, "access": "rwm"},
                    {"allow": True, "type": "c", "major": 4, "minor": 1, "access": "rw"}],
    })
    assert warnings == [f"{P}.memory.kernel is ignored: kernel memory settings are deprecated "
                        "(runc ignores them too)"]
    assert read(cg, "memory", "memory.limit_in_bytes") == str(100 << 20)
    assert read(cg, "memory", "memory.memsw.limit_in_bytes") == str(200 << 20)
    assert read(cg, "memory", "memory.soft_limit_in_bytes") == str(50 << 20)
    assert read(cg, "memory", "memory.swappiness") == "10"
    assert read(cg, "cpu", "cpu.shares") == "512"
    assert read(cg, "cpu", "cpu.cfs_quota_us") == "50000"
    assert read(cg, "cpu", "cpu.cfs_period_us") == "100000"
    if os.path.exists(os.path.join(cg.paths["cpu"], "cpu.cfs_burst_us")):
        assert read(cg, "cpu", "cpu.cfs_burst_us") == "1000"
    assert read(cg, "cpu", "cpu.rt_runtime_us") == "10000"
    assert read(cg, "cpuset", "cpuset.cpus") == "0"
    assert read(cg, "cpuset", "cpuset.mems") == "0"
    assert read(cg, "pids", "pids.max") == "10"
    assert read(cg, "blkio", "blkio.throttle.read_bps_device") == f"{dev} {1 << 20}"
    assert read(cg, "blkio", "blkio.throttle.write_iops_device") == f"{dev} 100"
    # hugetlb has no v1 hierarchy here: it went to the cgroup2 mount
    assert read(cg, UNIFIED, "hugetlb.2MB.max") == str(4 << 20)
    assert read(cg, UNIFIED, "hugetlb.1GB.max") == "0"
    devices = read(cg, "devices", "devices.list").splitlines()
    assert "c 4:1 rw" in devices and "c 1:3 rwm" in devices and "a *:* rwm" not in devices
    assert len(devices) == 12
    # the same rules again write nothing to devices (no window where devices are denied)
    assert cg.apply_resources({"devices": [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 4, "minor": 1, "access": "rw"}]}) == []
    assert read(cg, "devices", "devices.list").splitlines() == devices


def test_update_raises_and_lowers_memory_and_swap(cg):
    for limit, swap in ((100, 200), (300, 400), (50, 60), (500, 1000), (-1, 0)):
        cg.apply_resources({"memory": {"limit": limit << 20 if limit > 0 else limit,
                                       "swap": swap << 20 if swap > 0 else swap}},
                           devices=False)
        got = int(read(cg, "memory", "memory.limit_in_bytes"))
        memsw = int(read(cg, "memory", "memory.memsw.limit_in_bytes"))
        if limit > 0:
            assert got == limit << 20 and memsw == swap << 20
        else:
            assert got > 1 << 60 and memsw > 1 << 60


def test_refused_value_names_the_field(cg, procs):
    p = procs.start(cg, "b = b'x' * (64 << 20)\nprint('ready', flush=True)\n"
                        "sys.stdin.readline()\n")
    assert p.stdout.readline().strip() == "ready"
    with pytest.raises(SetupError) as e:
        cg.apply_resources({"memory": {"limit": 4096}}, devices=False)
    assert str(e.value).startswith(
        f"{P}.memory.limit: cannot set memory.limit_in_bytes to 4096: device or resource busy "
        "(current usage: ")
    with pytest.raises(SetupError) as e:
        cg.apply_resources({"cpu": {"shares": 1}}, devices=False)
    assert str(e.value) == f"{P}.cpu.shares: the minimum allowed cpu-shares is 2"
    with pytest.raises(SetupError) as e:
        cg.apply_resources({"network": {"classID": 1}}, devices=False)
    assert e.value.field == f"{P}.network.classID"
    with pytest.raises(SetupError) as e:
        cg.apply_resources({"unified": {"memory.max": "1"}}, devices=False)
    assert e.value.field == f'{P}.unified["memory.max"]'
    assert 'controller "memory" not available' in e.value.reason
    with pytest.raises(SetupError) as e:
        cg.apply_resources({"hugepageLimits": [{"pageSize": "3MB", "limit": 1}]}, devices=False)
    assert e.value.field == f"{P}.hugepageLimits[0]"


# ---- effects -------------------------------------------------------------------------

FORK_BOMB = """
import os
import shutil
ok = failed = 0
r, w = os.pipe()
for _ in range(50):
    try:
        pid = os.fork()
    except OSError:
        failed += 1
        continue
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os._exit(0)
    ok += 1
print(ok, failed, flush=True)
sys.stdin.readline()
os.close(w)
for _ in range(ok):
    os.wait()
"""


def test_pids_limit_stops_a_fork_bomb(cg, procs):
    cg.apply_resources({"pids": {"limit": 5}}, devices=False)
    p = procs.start(cg, FORK_BOMB)
    ok, failed = (int(x) for x in p.stdout.readline().split())
    assert ok == 4 and failed == 46  # the bomb itself is the fifth task
    s = stats.read_stats(cg)
    assert s["pids"] == {"current": 5, "limit": 5}
    p.stdin.write("done\n")
    p.stdin.flush()
    assert p.wait(timeout=10) == 0


def test_memory_limit_gets_a_process_oom_killed(cg, procs):
    assert stats.oom_kill_count(cg) == 0
    cg.apply_resources({"memory": {"limit": 32 << 20, "swap": 32 << 20}}, devices=False)
    p = procs.start(cg, "b = b'x' * (256 << 20)\nprint('survived', flush=True)\n")
    assert p.wait(timeout=30) == -signal.SIGKILL
    assert stats.oom_kill_count(cg) >= 1
    mem = stats.read_stats(cg)["memory"]
    assert mem["usage"]["limit"] == 32 << 20
    assert 30 << 20 <= mem["usage"]["max"] <= 32 << 20  # it reached the limit


COUNTER = """
import os, time
fd = os.open(PATH, os.O_WRONLY | os.O_CREAT, 0o644)
n = 0
while True:
    n += 1
    os.pwrite(fd, str(n).encode().ljust(20), 0)
    time.sleep(0.001)
"""


def _count(path: Path) -> int:
    text = path.read_text().strip()
    return int(text) if text else 0


def _wait_counting(path: Path) -> None:
    deadline = time.monotonic() + 10
    while not path.exists() or _count(path) < 3:
        assert time.monotonic() < deadline, "the counter never started"
        time.sleep(0.01)


def _check_freeze_stops_counter(cg: CgroupSet, procs: Procs, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    procs.start(cg, f"PATH = {str(counter)!r}\n" + COUNTER)
    _wait_counting(counter)
    cg.freeze()
    assert cg.frozen()
    before = _count(counter)
    time.sleep(0.3)
    assert _count(counter) == before
    cg.thaw()
    assert not cg.frozen()
    time.sleep(0.3)
    assert _count(counter) > before


def test_freeze_stops_a_counter_v1(cg, procs, tmp_path):
    assert "freezer" in cg.paths
    _check_freeze_stops_counter(cg, procs, tmp_path)
    assert read(cg, "freezer", "freezer.state") == "THAWED"


def test_freeze_stops_a_counter_on_the_real_cgroup2_mount(cg2, procs, tmp_path):
    _check_freeze_stops_counter(cg2, procs, tmp_path)
    assert read(cg2, UNIFIED, "cgroup.freeze") == "0"


PROBE = """
import os
import shutil
for path, flags, what in (("/dev/null", os.O_WRONLY, "null-w"), ("/dev/null", os.O_RDONLY,
                          "null-r"), ("/dev/zero", os.O_RDONLY, "zero-r"),
                          ("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK, "kmsg-r")):
    try:
        os.close(os.open(path, flags))
        print(what, "ok")
    except OSError as e:
        print(what, e.errno)
"""


def _probe(cg: CgroupSet, procs: Procs) -> dict[str, str]:
    p = procs.start(cg, PROBE)
    out, _ = p.communicate(timeout=10)
    return dict(line.split() for line in out.splitlines())


def _our_programs(cg: CgroupSet) -> list[int]:
    fd = os.open(cg.paths[UNIFIED], os.O_RDONLY | os.O_DIRECTORY)
    try:
        return bpf.prog_query(fd, bpf.BPF_CGROUP_DEVICE)
    finally:
        os.close(fd)


def test_device_bpf_program_on_the_real_cgroup2_mount(cg2, procs):
    eperm = str(1)
    # a hand-made rule set without runc's defaults: /dev/null read-only, /dev/zero readable
    emu = Emulator.build([(False, "a", -1, -1, "rwm"), (True, "c", 1, 3, "r"),
                          (True, "c", 1, 5, "r")])
    attach_program(cg2.paths[UNIFIED], emu)
    assert len(_our_programs(cg2)) == 1
    got = _probe(cg2, procs)
    assert got == {"null-w": eperm, "null-r": "ok", "zero-r": "ok", "kmsg-r": eperm}
    assert detach_programs(cg2.paths[UNIFIED]) == 1
    assert _our_programs(cg2) == []
    got = _probe(cg2, procs)
    assert got["null-w"] == "ok" and got["kmsg-r"] == "ok"


def test_apply_resources_uses_bpf_where_devices_are_v2(cg2, procs):
    # only the cgroup2 directory: devices go through the BPF program (with runc's defaults)
    cg2.apply_resources({"devices": [{"allow": False, "access": "rwm"}]})
    first = _our_programs(cg2)
    assert len(first) == 1
    got = _probe(cg2, procs)
    assert got == {"null-w": "ok", "null-r": "ok", "zero-r": "ok", "kmsg-r": "1"}
    # an update replaces our program (attach new, then detach old): still one
    cg2.apply_resources({"devices": [{"allow": False, "access": "rwm"},
                                     {"allow": True, "type": "c", "major": 1, "minor": 11,
                                      "access": "r"}]})
    second = _our_programs(cg2)
    assert len(second) == 1 and second != first
    assert _probe(cg2, procs)["kmsg-r"] == "ok"


def test_hugetlb_and_unified_on_the_real_cgroup2_mount(cg2):
    warnings = cg2.apply_resources({"hugepageLimits": [{"pageSize": "2MB", "limit": 2 << 20}],
                                    "unified": {"cgroup.max.descendants": "3",
                                                "hugetlb.1GB.max": "0"}}, devices=False)
    assert warnings == []
    assert read(cg2, UNIFIED, "hugetlb.2MB.max") == str(2 << 20)
    assert read(cg2, UNIFIED, "hugetlb.1GB.max") == "0"
    assert read(cg2, UNIFIED, "cgroup.max.descendants") == "3"
    assert "hugetlb" in read(cg2, UNIFIED, "cgroup.controllers").split()
    s = stats.read_stats(cg2)
    assert set(s["hugetlb"]) == set(stats.hugepage_sizes())
    with pytest.raises(SetupError) as e:
        cg2.apply_resources({"unified": {"cgroup.max.descendants": "lots"}}, devices=False)
    assert e.value.field == f'{P}.unified["cgroup.max.descendants"]'


BUSY = """
import time
b = b'x' * (20 << 20)
end = time.process_time() + 0.4
while time.process_time() < end:
    pass
print('done', flush=True)
sys.stdin.readline()
"""


def test_stats_of_a_running_process(cg, procs):
    p = procs.start(cg, BUSY)
    assert p.stdout.readline().strip() == "done"
    s = stats.read_stats(cg)
    assert s["cpu"]["usage"]["total"] > 300_000_000
    assert len(s["cpu"]["usage"]["percpu"]) == os.cpu_count()
    assert s["memory"]["usage"]["usage"] > 20 << 20
    assert s["memory"]["usage"]["max"] >= s["memory"]["usage"]["usage"]
    assert s["memory"]["raw"]["rss"] > 0 or s["memory"]["raw"].get("total_rss", 0) > 0
    assert s["pids"]["current"] == 1
    assert s["cpuset"]["cpus"]
    user_ms, system_ms, peak = stats.usage_summary(cg)
    # the kernel splits user/system by sampling ticks: only their sum is reliable here
    assert user_ms + system_ms >= 300 and peak > 20 << 20
    assert stats.oom_kill_count(cg) == 0


def test_destroy_removes_cgroups_made_below(cg):
    nested = []
    for path in cg.paths.values():
        deep = os.path.join(path, "child", "grandchild")
        os.makedirs(deep)
        os.mkdir(os.path.join(path, "sibling"))
        nested.append(deep)
    cg.destroy()
    assert not [p for p in cg.paths.values() if os.path.exists(p)]
    assert not [p for p in nested if os.path.exists(p)]


# ---- side by side with runc ----------------------------------------------------------------

def _shape(d: object, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(d, dict) and not prefix.endswith(".raw"):
        for k, v in d.items():
            out.add(f"{prefix}.{k}")
            out |= _shape(v, f"{prefix}.{k}")
    return out


@pytest.mark.skipif(not shutil.which("runc"), reason="runc is not installed")
def test_stats_and_devices_match_runc(tmp_path, cg):
    import json

    from tests.support.rootfs import cached_busybox_rootfs

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    subprocess.run(["runc", "spec", "--bundle", str(bundle)], check=True)
    config = json.loads((bundle / "config.json").read_text())
    config["root"]["path"] = str(cached_busybox_rootfs())  # read-only: shared safely
    config["process"].update(args=["sleep", "30"], terminal=False)
    config["root"]["readonly"] = True
    cid = f"agentsh-test-{uuid.uuid4().hex[:10]}"
    resources = {"memory": {"limit": 100 << 20, "swap": 200 << 20}, "pids": {"limit": 50},
                 "cpu": {"shares": 512, "quota": 50000, "period": 100000},
                 "devices": [{"allow": False, "access": "rwm"}]}
    config["linux"]["resources"] = resources
    config["linux"]["cgroupsPath"] = "/" + cid
    (bundle / "config.json").write_text(json.dumps(config))
    root = tmp_path / "runc-root"
    runc = ["runc", "--root", str(root)]
    try:
        with open(tmp_path / "runc.log", "w") as log:  # not a pipe: the container keeps it
            subprocess.run(runc + ["run", "-d", "--bundle", str(bundle), cid], check=True,
                           stdin=subprocess.DEVNULL, stdout=log, stderr=log, timeout=30)
        theirs_cg = CgroupSet.plan("/" + cid, cid, False)
        out = subprocess.run(runc + ["events", "--stats", cid], check=True, text=True,
                             capture_output=True, timeout=30).stdout
        theirs = json.loads(out)["data"]
        ours = stats.read_stats(theirs_cg)
        # same shape (runc's omitempty included) and the same slow-moving numbers; the
        # throttling counters may leave 0 (omitted) between runc's read and ours
        differ = _shape(ours) ^ _shape(theirs)
        assert all(".throttling." in k for k in differ), differ
        assert ours["memory"]["usage"]["limit"] == theirs["memory"]["usage"]["limit"]
        assert ours["memory"]["swap"]["limit"] == theirs["memory"]["swap"]["limit"]
        assert ours["pids"] == theirs["pids"]
        assert ours["cpuset"] == theirs["cpuset"]
        # our writes for the same resources give the same files as runc's
        cg.apply_resources(resources)
        for key, name in (("memory", "memory.limit_in_bytes"),
                          ("memory", "memory.memsw.limit_in_bytes"), ("pids", "pids.max"),
                          ("cpu", "cpu.shares"), ("cpu", "cpu.cfs_quota_us"),
                          ("cpu", "cpu.cfs_period_us")):
            assert read(cg, key, name) == read(theirs_cg, key, name), name
        assert sorted(read(cg, "devices", "devices.list").splitlines()) == sorted(
            read(theirs_cg, "devices", "devices.list").splitlines())
    finally:
        subprocess.run(runc + ["delete", "--force", cid], capture_output=True, timeout=30)
    assert not [p for p in CgroupSet.plan("/" + cid, cid, False).paths.values()
                if os.path.exists(p)]
