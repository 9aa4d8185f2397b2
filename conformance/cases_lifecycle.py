"""runtime.md: state, lifecycle and the create/start/state/kill/delete operations."""

from __future__ import annotations

import os
import time

from conformance.framework import (
    Ctx,
    Fail,
    case,
    check,
    expect_eq,
    pid_alive,
    runtime_error,
    sh,
    wait_for,
)

LONG = ["sleep", "60"]


@case("lifecycle.create_status_created",
      "after create returns, status MUST be `created`", "runtime.md#create")
def create_status_created(ctx: Ctx) -> None:
    cid = ctx.create(ctx.bundle(LONG))
    expect_eq(ctx.state(cid).get("status"), "created", "status after create")


@case("lifecycle.state_fields",
      "state MUST have ociVersion, id, status, host pid, bundle",
      "runtime.md#state")
def state_fields(ctx: Ctx) -> None:
    b = ctx.bundle(LONG)
    cid = ctx.create(b)
    st = ctx.state(cid)
    for k in ("ociVersion", "id", "status", "pid", "bundle"):
        check(k in st, f"state has no {k!r}")
    check(isinstance(st["ociVersion"], str) and st["ociVersion"], "ociVersion not a string")
    expect_eq(st["id"], cid, "id")
    check(isinstance(st["pid"], int) and st["pid"] > 0, f"pid {st['pid']!r} not a positive int")
    check(pid_alive(st["pid"]), f"pid {st['pid']} is not a live host process")
    check(os.readlink(f"/proc/{st['pid']}/ns/pid") != os.readlink("/proc/self/ns/pid"),
          "pid is not the container process (same pid namespace as the host)")
    check(os.path.isabs(st["bundle"]), f"bundle {st['bundle']!r} not absolute")
    expect_eq(os.path.realpath(st["bundle"]), str(b.path), "bundle")


@case("lifecycle.state_annotations",
      "state annotations MUST be the config's annotations", "runtime.md#state")
def state_annotations(ctx: Ctx) -> None:
    ann = {"org.example.conformance": "yes", "k2": "v 2"}
    cid = ctx.create(ctx.bundle(LONG, annotations=ann))
    expect_eq(ctx.state(cid).get("annotations"), ann, "annotations")


@case("lifecycle.state_unknown_id",
      "state of a container that does not exist MUST error", "runtime.md#query-state")
def state_unknown(ctx: Ctx) -> None:
    p = ctx.rt.state(ctx.cid("nosuch"))
    check(p.returncode != 0, "state of an unknown id succeeded")


@case("lifecycle.not_run_before_start",
      "create MUST NOT run the user process; start MUST run it", "runtime.md#lifecycle")
def not_run_before_start(ctx: Ctx) -> None:
    b = ctx.bundle(sh("echo ran > /marker; sleep 60"))
    marker = b.rootfs / "marker"
    cid = ctx.create(b)
    time.sleep(0.3)
    check(not marker.exists(), "user process ran before start")
    ctx.start(cid)
    check(wait_for(marker.exists, 5), "user process did not run after start")


@case("lifecycle.start_status_running",
      "after start, status MUST be `running`", "runtime.md#start")
def start_running(ctx: Ctx) -> None:
    cid = ctx.create(ctx.bundle(LONG))
    ctx.start(cid)
    expect_eq(ctx.state(cid).get("status"), "running", "status after start")


@case("lifecycle.config_change_after_create",
      "config.json changes after create MUST NOT affect container",
      "runtime.md#lifecycle")
def config_change_after_create(ctx: Ctx) -> None:
    b = ctx.bundle(sh("echo first > /which"))
    cid = ctx.create(b)
    b.update(args=sh("echo second > /which"))
    b.write()
    ctx.start(cid)
    ctx.wait_status(cid, "stopped")
    expect_eq((b.rootfs / "which").read_text().strip(), "first", "process run")


@case("lifecycle.create_duplicate_id",
      "create of an existing id MUST error, create nothing",
      "runtime.md#create")
def create_duplicate(ctx: Ctx) -> None:
    b1 = ctx.bundle(LONG)
    cid = ctx.create(b1)
    st1 = ctx.state(cid)
    b2 = ctx.bundle(sh("echo dup > /dup; sleep 60"))
    p = ctx.create_raw(b2, cid)
    check(p.returncode != 0, "second create with the same id succeeded")
    st2 = ctx.state(cid)
    expect_eq((st2.get("pid"), st2.get("status"), os.path.realpath(st2.get("bundle", ""))),
              (st1["pid"], "created", str(b1.path)), "first container after duplicate create")
    check(pid_alive(st1["pid"]), "first container's process died")
    ctx.start(cid)
    time.sleep(0.2)
    check(not (b2.rootfs / "dup").exists(), "the duplicate's process ran")


@case("lifecycle.create_failure_no_container",
      "a failed create MUST leave no container behind (id unknown)", "runtime.md#errors")
def create_failure(ctx: Ctx) -> None:
    b = ctx.bundle(LONG)
    b.mount("/mnt", str(ctx.dir / "does-not-exist"), "bind", ["bind"])
    cid = ctx.cid()
    p = ctx.create_raw(b, cid)
    check(p.returncode != 0, "create with a missing bind source succeeded")
    check(ctx.rt.state(cid).returncode != 0, "state of the failed container succeeds")
    check(not b.foreign_mounts(), "mounts left under the bundle")


@case("lifecycle.create_no_config",
      "create MUST error when the bundle has no config.json", "runtime.md#create")
def create_no_config(ctx: Ctx) -> None:
    b = ctx.bundle(LONG)
    cid = ctx.cid()
    p = ctx.rt.create(b, cid, write_config=False)
    check(p.returncode != 0, "create without config.json succeeded")
    check(ctx.rt.state(cid).returncode != 0, "the id exists after a failed create")


@case("lifecycle.start_twice",
      "start of a running container MUST error and have no effect", "runtime.md#start")
def start_twice(ctx: Ctx) -> None:
    b = ctx.bundle(sh("echo x >> /count; sleep 60"))
    cid = ctx.create(b)
    ctx.start(cid)
    wait_for((b.rootfs / "count").exists, 5)
    pid = ctx.pid(cid)
    p = ctx.rt.start(cid)
    check(p.returncode != 0, "second start succeeded")
    time.sleep(0.2)
    st = ctx.state(cid)
    expect_eq((st["status"], st["pid"]), ("running", pid), "state after second start")
    expect_eq((b.rootfs / "count").read_text(), "x\n", "times the process ran")


@case("lifecycle.start_stopped",
      "start of a stopped container MUST error and have no effect", "runtime.md#start")
def start_stopped(ctx: Ctx) -> None:
    b = ctx.bundle(sh("echo x >> /count"))
    cid = ctx.create(b)
    ctx.start(cid)
    ctx.wait_status(cid, "stopped")
    p = ctx.rt.start(cid)
    check(p.returncode != 0, "start of a stopped container succeeded")
    expect_eq(ctx.state(cid)["status"], "stopped", "status")
    expect_eq((b.rootfs / "count").read_text(), "x\n", "times the process ran")


@case("lifecycle.start_unknown_id",
      "start of a container that does not exist MUST error", "runtime.md#start")
def start_unknown(ctx: Ctx) -> None:
    check(ctx.rt.start(ctx.cid("nosuch")).returncode != 0, "start of an unknown id succeeded")


@case("lifecycle.stopped_after_exit",
      "when the container process exits, status MUST be `stopped`", "runtime.md#kill")
def stopped_after_exit(ctx: Ctx) -> None:
    cid = ctx.create(ctx.bundle(["true"]))
    ctx.start(cid)
    ctx.wait_status(cid, "stopped", 5)


@case("lifecycle.kill_signal_delivered",
      "kill MUST send the given signal to the container process", "runtime.md#kill")
def kill_delivered(ctx: Ctx) -> None:
    b = ctx.bundle(sh("trap 'echo got > /sig; exit 0' USR1; echo up > /up; "
                      "while :; do sleep 0.1; done"))
    cid = ctx.create(b)
    ctx.start(cid)
    check(wait_for((b.rootfs / "up").exists, 5), "process did not start")
    p = ctx.rt.kill(cid, "10")  # SIGUSR1, as callers send it: a number
    check(p.returncode == 0, f"kill failed: {runtime_error(p)}")
    check(wait_for((b.rootfs / "sig").exists, 5), "the process never saw SIGUSR1")
    ctx.wait_status(cid, "stopped", 5)


@case("lifecycle.kill_created",
      "kill of a `created` container MUST signal it", "runtime.md#kill")
def kill_created(ctx: Ctx) -> None:
    cid = ctx.create(ctx.bundle(LONG))
    p = ctx.rt.kill(cid, "9")
    check(p.returncode == 0, f"kill failed: {runtime_error(p)}")
    ctx.wait_status(cid, "stopped", 5)


@case("lifecycle.kill_stopped",
      "kill of a stopped container MUST error and have no effect", "runtime.md#kill")
def kill_stopped(ctx: Ctx) -> None:
    cid = ctx.create(ctx.bundle(["true"]))
    ctx.start(cid)
    ctx.wait_status(cid, "stopped")
    p = ctx.rt.kill(cid, "15")
    check(p.returncode != 0, "kill of a stopped container succeeded")
    expect_eq(ctx.state(cid)["status"], "stopped", "status")


@case("lifecycle.delete_running",
      "delete of a running container MUST error, no effect", "runtime.md#delete")
def delete_running(ctx: Ctx) -> None:
    cid = ctx.create(ctx.bundle(LONG))
    ctx.start(cid)
    pid = ctx.pid(cid)
    p = ctx.rt.delete(cid)
    check(p.returncode != 0, "delete of a running container succeeded")
    st = ctx.state(cid)
    expect_eq((st["status"], st["pid"]), ("running", pid), "state after refused delete")
    check(pid_alive(pid), "the container process died")


@case("lifecycle.delete_unknown_id",
      "delete of a container that does not exist MUST error", "runtime.md#delete")
def delete_unknown(ctx: Ctx) -> None:
    check(ctx.rt.delete(ctx.cid("nosuch")).returncode != 0, "delete of an unknown id succeeded")


@case("lifecycle.delete_forgets_id",
      "after delete the id is unknown; it MAY be reused", "runtime.md#delete")
def delete_forgets(ctx: Ctx) -> None:
    b = ctx.bundle(["true"])
    cid = ctx.create(b)
    ctx.start(cid)
    ctx.wait_status(cid, "stopped")
    ctx.delete(cid)
    check(ctx.rt.state(cid).returncode != 0, "state still answers after delete")
    check(ctx.rt.kill(cid, "9").returncode != 0, "kill still works after delete")
    ctx.create(b, cid)
    expect_eq(ctx.state(cid)["status"], "created", "status of the reused id")


@case("lifecycle.delete_releases_resources",
      "delete MUST remove what create made (procs, mounts, cgroups)", "runtime.md#delete")
def delete_releases(ctx: Ctx) -> None:
    b = ctx.bundle(LONG)
    b.linux["cgroupsPath"] = f"/conformance-{ctx.cid()}"
    cid = ctx.create(b)
    ctx.start(cid)
    pid = ctx.pid(cid)
    dirs = sorted(d for d in ctx.cgroups if b.linux["cgroupsPath"][1:] in str(d))
    check(dirs, "no cgroup directory for the container's cgroupsPath")
    ctx.rt.kill(cid, "9")
    ctx.wait_status(cid, "stopped")
    ctx.delete(cid)
    check(not pid_alive(pid), "container process alive after delete")
    left = [str(d) for d in dirs if d.exists()]
    if left:
        raise Fail(f"cgroup dirs left: {left[:2]}")
    check(not b.foreign_mounts(), "mounts left under the bundle")

