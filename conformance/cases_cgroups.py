"""config-linux.md#control-groups: cgroupsPath and linux.resources.

Values are read back from the host: the container's cgroup comes from
/proc/PID/cgroup and the file from the v1 hierarchy of that controller when
the host mounts one, otherwise from the unified (v2) hierarchy.  Where a
limit can be observed cheaply (pids, memory, cpuset) the case also checks
that it takes effect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.framework import (
    Ctx,
    NotApplicable,
    case,
    cgroup_file,
    cgroup_mounts,
    check,
    expect_eq,
    kv,
    proc_cgroups,
    read_cgroup,
    sh,
    wait_for,
)
from tests.support.bundle import Bundle

MiB = 1024 * 1024


def _bundle(ctx: Ctx, resources: dict[str, Any], args: list[str] | None = None) -> Bundle:
    b = ctx.bundle(args or ["sleep", "60"])
    b.linux["cgroupsPath"] = f"/conformance-{ctx.cid()}"
    b.linux.setdefault("resources", {}).update(resources)
    return b


def _created(ctx: Ctx, resources: dict[str, Any]) -> int:
    """pid of a created container with these resources."""
    return ctx.pid(ctx.create(_bundle(ctx, resources)))


@case("cgroups.path_absolute",
      "absolute cgroupsPath MUST be relative to each hierarchy root",
      "config-linux.md#cgroups-path")
def path_absolute(ctx: Ctx) -> None:
    b = _bundle(ctx, {})
    cid = ctx.create(b)
    cg = proc_cgroups(ctx.pid(cid))
    v1, _ = cgroup_mounts()
    want = b.linux["cgroupsPath"]
    checked = 0
    for ctrl in ("memory", "pids", "cpu", "devices", "freezer", "cpuset", "blkio"):
        if ctrl in v1 and ctrl in cg:
            expect_eq(cg[ctrl], want, f"{ctrl} cgroup")
            checked += 1
    if not v1:
        expect_eq(cg.get(""), want, "unified cgroup")
        checked += 1
    check(checked, "no cgroup controller to check")


@case("cgroups.memory_limit",
      "memory.limit MUST be set on the container's cgroup",
      "config-linux.md#memory")
def memory_limit(ctx: Ctx) -> None:
    pid = _created(ctx, {"memory": {"limit": 64 * MiB}})
    expect_eq(read_cgroup(pid, ("memory", "memory.limit_in_bytes"), "memory.max"),
              str(64 * MiB), "memory limit")


@case("cgroups.memory_reservation",
      "memory.reservation MUST be set (soft limit)", "config-linux.md#memory")
def memory_reservation(ctx: Ctx) -> None:
    pid = _created(ctx, {"memory": {"limit": 128 * MiB, "reservation": 32 * MiB}})
    expect_eq(read_cgroup(pid, ("memory", "memory.soft_limit_in_bytes"), "memory.low"),
              str(32 * MiB), "memory reservation")


@case("cgroups.memory_swap",
      "memory.swap MUST be set (v1 memsw; v2 swap.max=swap-limit)",
      "config-linux.md#memory")
def memory_swap(ctx: Ctx) -> None:
    v1, _ = cgroup_mounts()
    if "memory" in v1 and not (Path(v1["memory"][1]) / "memory.memsw.limit_in_bytes").exists():
        raise NotApplicable("no swap accounting on this host")
    pid = _created(ctx, {"memory": {"limit": 64 * MiB, "swap": 96 * MiB}})
    f = cgroup_file(pid, ("memory", "memory.memsw.limit_in_bytes"), "memory.swap.max")
    want = str(96 * MiB) if f.name.startswith("memory.memsw") else str(32 * MiB)
    expect_eq(f.read_text().strip(), want, f.name)


@case("cgroups.memory_enforced",
      "the memory limit MUST hold: a process above it is OOM-killed",
      "config-linux.md#memory")
def memory_enforced(ctx: Ctx) -> None:
    script = ("x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived-${#x}")
    b = _bundle(ctx, {"memory": {"limit": 16 * MiB, "swap": 16 * MiB}}, sh(script))
    out = ctx.run(b, timeout=30).out
    check("survived" not in out, "a 64 MiB string fitted under a 16 MiB limit")


@case("cgroups.pids_limit",
      "pids.limit MUST be set on the container's cgroup", "config-linux.md#pids")
def pids_limit(ctx: Ctx) -> None:
    pid = _created(ctx, {"pids": {"limit": 37}})
    expect_eq(read_cgroup(pid, ("pids", "pids.max"), "pids.max"), "37", "pids.max")


@case("cgroups.pids_enforced",
      "the pids limit MUST hold: forks beyond it fail", "config-linux.md#pids")
def pids_enforced(ctx: Ctx) -> None:
    script = "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 3 & done; echo all-forked"
    b = _bundle(ctx, {"pids": {"limit": 5}}, sh(script))
    out = ctx.run(b, timeout=20).out
    check("all-forked" not in out, "10 background processes started under pids.limit 5")


@case("cgroups.cpu_shares",
      "cpu.shares MUST be set (v2: converted to cpu.weight)", "config-linux.md#cpu")
def cpu_shares(ctx: Ctx) -> None:
    pid = _created(ctx, {"cpu": {"shares": 512}})
    f = cgroup_file(pid, ("cpu", "cpu.shares"), "cpu.weight")
    want = "512" if f.name == "cpu.shares" else str(1 + ((512 - 2) * 9999) // 262142)
    expect_eq(f.read_text().strip(), want, f.name)


@case("cgroups.cpu_quota_period",
      "cpu.quota and cpu.period MUST be set", "config-linux.md#cpu")
def cpu_quota(ctx: Ctx) -> None:
    pid = _created(ctx, {"cpu": {"quota": 50000, "period": 100000}})
    f = cgroup_file(pid, ("cpu", "cpu.cfs_quota_us"), "cpu.max")
    if f.name == "cpu.max":
        expect_eq(f.read_text().split(), ["50000", "100000"], "cpu.max")
    else:
        expect_eq(f.read_text().strip(), "50000", "cpu.cfs_quota_us")
        expect_eq((f.parent / "cpu.cfs_period_us").read_text().strip(), "100000",
                  "cpu.cfs_period_us")


@case("cgroups.cpuset",
      "cpu.cpus/cpu.mems MUST be set; process runs on those cpus",
      "config-linux.md#cpu")
def cpuset(ctx: Ctx) -> None:
    args = sh("grep Cpus_allowed_list /proc/self/status; sleep 60")
    b = _bundle(ctx, {"cpu": {"cpus": "0", "mems": "0"}}, args)
    cid = ctx.create(b)
    pid = ctx.pid(cid)
    expect_eq(read_cgroup(pid, ("cpuset", "cpuset.cpus"), "cpuset.cpus"), "0", "cpuset.cpus")
    expect_eq(read_cgroup(pid, ("cpuset", "cpuset.mems"), "cpuset.mems"), "0", "cpuset.mems")
    ctx.start(cid)
    wait_for(lambda: "Cpus" in ctx.output(b, cid)[0], 5)
    got = kv(ctx.output(b, cid)[0], ":")
    expect_eq(got.get("Cpus_allowed_list"), "0", "Cpus_allowed_list inside")


@case("cgroups.blkio_weight",
      "blockIO.weight MUST be set", "config-linux.md#block-io")
def blkio_weight(ctx: Ctx) -> None:
    m1, m2 = cgroup_mounts()
    roots = [Path(m1["blkio"][1]) / n for n in ("blkio.weight", "blkio.bfq.weight")
             if "blkio" in m1] + [Path(m2[1]) / n for n in ("io.bfq.weight", "io.weight")
                                  if m2]
    if not any(p.exists() or any(p.parent.glob(f"*/{p.name}")) for p in roots):
        # no I/O scheduler with weights (CFQ, BFQ) on the disks: runc fails too
        raise NotApplicable("no blkio/io weight file (no CFQ/BFQ) on this host")
    pid = _created(ctx, {"blockIO": {"weight": 300}})
    f = cgroup_file(pid, ("blkio", "blkio.weight"), "io.bfq.weight")
    names = [n for n in (f.name, "blkio.bfq.weight", "io.weight") if (f.parent / n).exists()]
    if not names:
        raise NotApplicable("no blkio/io weight file (no CFQ/BFQ) on this host")
    val = (f.parent / names[0]).read_text().split()
    expect_eq(val[-1] if val else "", "300", names[0])


@case("cgroups.namespace_root",
      "cgroup namespace: the container sees its own cgroup as /",
      "config-linux.md#namespaces")
def ns_root(ctx: Ctx) -> None:
    b = _bundle(ctx, {}, ["cat", "/proc/self/cgroup"])
    b.add_namespace("cgroup")
    out = ctx.run(b).out
    paths = {ln.split(":", 2)[1]: ln.split(":", 2)[2] for ln in out.splitlines() if ":" in ln}
    check(paths, f"no /proc/self/cgroup output: {out[:60]!r}")
    expect_eq(paths.get("memory", paths.get("")), "/", "memory cgroup seen inside")
