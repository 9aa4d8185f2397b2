"""config-linux.md#namespaces: new, inherited and joined namespaces; user mappings."""

from __future__ import annotations

import os

from conformance.framework import (
    Ctx,
    NotApplicable,
    case,
    check,
    expect_eq,
    ns_id,
    proc_status,
    sh,
)

PROC_NAME = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
             "cgroup": "cgroup", "user": "user", "time": "time"}
BASE = ["pid", "network", "ipc", "uts", "mount"]


def _new_ns_case(ns_type: str) -> None:
    @case(f"ns.new_{ns_type}",
          f"{ns_type} ns without `path`: runtime MUST create a new one",
          "config-linux.md#namespaces")
    def new_ns(ctx: Ctx) -> None:
        types = BASE if ns_type in BASE else [*BASE, ns_type]
        cid = ctx.create(ctx.bundle(["sleep", "60"], namespaces=types))
        pid = ctx.pid(cid)
        name = PROC_NAME[ns_type]
        check(ns_id(pid, name) != ns_id("self", name),
              f"container shares the host's {name} namespace")


for _t in ("pid", "network", "ipc", "uts", "mount", "cgroup"):
    _new_ns_case(_t)


@case("ns.pid_is_1",
      "in a new pid namespace the container process is pid 1", "config-linux.md#namespaces")
def pid_is_1(ctx: Ctx) -> None:
    out = ctx.run(ctx.bundle(sh("echo $$"))).out
    expect_eq(out.strip(), "1", "pid inside the container")


@case("ns.absent_type_inherited",
      "a namespace type not listed MUST be the runtime's",
      "config-linux.md#namespaces")
def absent_inherited(ctx: Ctx) -> None:
    b = ctx.bundle(["sleep", "60"], namespaces=["pid", "ipc", "uts", "mount"])
    cid = ctx.create(b)
    pid = ctx.pid(cid)
    expect_eq(ns_id(pid, "net"), ns_id("self", "net"), "network namespace")
    check(ns_id(pid, "ipc") != ns_id("self", "ipc"), "ipc namespace not new")


@case("ns.join_path",
      "namespace with `path`: process MUST join that namespace",
      "config-linux.md#namespaces")
def join_path(ctx: Ctx) -> None:
    first = ctx.create(ctx.bundle(["sleep", "60"]))
    fpid = ctx.pid(first)
    b = ctx.bundle(["sleep", "60"])
    b.add_namespace("network", f"/proc/{fpid}/ns/net")
    b.add_namespace("ipc", f"/proc/{fpid}/ns/ipc")
    b.add_namespace("uts", f"/proc/{fpid}/ns/uts")
    b.config.pop("hostname", None)
    second = ctx.create(b)
    spid = ctx.pid(second)
    for n in ("net", "ipc", "uts"):
        expect_eq(ns_id(spid, n), ns_id(fpid, n), f"{n} namespace")
    check(ns_id(spid, "mnt") != ns_id(fpid, "mnt"), "mount namespace shared, not asked for")


@case("ns.join_missing_path",
      "a namespace `path` that does not exist MUST fail create",
      "config-linux.md#namespaces")
def join_missing(ctx: Ctx) -> None:
    b = ctx.bundle(["sleep", "60"])
    b.add_namespace("network", str(ctx.dir / "no-such-ns"))
    cid = ctx.cid()
    p = ctx.create_raw(b, cid)
    check(p.returncode != 0, "create with a missing namespace path succeeded")
    check(ctx.rt.state(cid).returncode != 0, "a container exists after the failed create")


@case("ns.join_wrong_type",
      "a `path` to a namespace of another type MUST fail create",
      "config-linux.md#namespaces")
def join_wrong_type(ctx: Ctx) -> None:
    first = ctx.create(ctx.bundle(["sleep", "60"]))
    fpid = ctx.pid(first)
    b = ctx.bundle(["sleep", "60"])
    b.add_namespace("network", f"/proc/{fpid}/ns/ipc")
    cid = ctx.cid()
    p = ctx.create_raw(b, cid)
    check(p.returncode != 0, "create joining an ipc namespace as network succeeded")
    check(ctx.rt.state(cid).returncode != 0, "a container exists after the failed create")


@case("ns.user_mappings",
      "user namespace: uidMappings/gidMappings MUST be applied",
      "config-linux.md#user-namespace-mappings")
def user_mappings(ctx: Ctx) -> None:
    b = ctx.bundle(sh("id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; sleep 60"),
                   namespaces=[*BASE, "user"],
                   uid_mappings=[{"containerID": 0, "hostID": 200000, "size": 65536}],
                   gid_mappings=[{"containerID": 0, "hostID": 300000, "size": 65536}])
    # sysfs and cgroupfs need more than a user namespace gives; keep the rest.
    b.config["mounts"] = [m for m in b.config["mounts"]
                          if m["type"] not in ("sysfs", "cgroup")]
    cid = ctx.create(b)
    pid = ctx.pid(cid)
    check(ns_id(pid, "user") != ns_id("self", "user"), "no new user namespace")
    expect_eq(" ".join(open(f"/proc/{pid}/uid_map").read().split()), "0 200000 65536",
              "uid_map")
    expect_eq(" ".join(open(f"/proc/{pid}/gid_map").read().split()), "0 300000 65536",
              "gid_map")
    ctx.start(cid)
    st = proc_status(pid)
    expect_eq(st["Uid"].split()[0], "200000", "host uid of container root")
    expect_eq(st["Gid"].split()[0], "300000", "host gid of container root")


@case("ns.time_offsets",
      "time namespace: timeOffsets MUST apply (monotonic +1 day)",
      "config-linux.md#offset-for-time-namespace")
def time_ns(ctx: Ctx) -> None:
    if not os.path.exists("/proc/self/ns/time"):
        raise NotApplicable("kernel without time namespaces")
    ctx.require_feature(("linux", "namespaces"), "time", "time namespace")
    b = ctx.bundle(["cat", "/proc/uptime"], namespaces=[*BASE, "time"])
    b.linux["timeOffsets"] = {"monotonic": {"secs": 86400, "nanosecs": 0},
                              "boottime": {"secs": 86400, "nanosecs": 0}}
    out = ctx.run(b).out
    up = float(out.split()[0]) if out.split() else 0.0
    host = float(open("/proc/uptime").read().split()[0])
    check(up >= host + 86000, f"uptime inside {up:.0f}s, host {host:.0f}s: offset not applied")
