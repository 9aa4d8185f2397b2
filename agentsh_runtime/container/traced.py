"""`create` in ptrace mode (annotation dev.agentsh.ptrace: on, or auto on a host that
refuses namespaces or seccomp notification): the container process runs in the
caller's namespaces, in config.json's root by chroot, as its user, with its rlimits,
env and cwd, traced from its first exec by a tracer that enforces the policy.

What cannot survive without namespaces is said in the state (annotation
dev.agentsh.ptrace.active) and in a `ptrace_fallback` event: namespaces, mounts
(other than the root by chroot), devices, sysctl, masked and read-only paths, hostname,
seccomp profile of config.json (ours replaces it), and cgroups where the host refuses
them (they are used where it does not).

Processes: the container process is create's child (the caller's subreaper reaps it,
as with runc); the tracer is forked beside it, in its own session, and is recorded as
the container's monitor: `delete` stops it, and its PTRACE_O_EXITKILL takes every
tracee with it.
"""

from __future__ import annotations

import os
import sys

from .. import OCI_VERSION
from ..errors import ContainerError
from ..linux import proc as lproc
from . import state as st
from .options import CreateOptions, GlobalOptions
from .pidfile import write_pid_file

ANN_PTRACE = "dev.agentsh.ptrace"
ANN_ACTIVE = "dev.agentsh.ptrace.active"
NOT_KEPT = ("namespaces", "mounts other than the root (chroot)", "devices", "sysctl",
            "maskedPaths and readonlyPaths", "hostname", "linux.seccomp (the tracer's "
            "filter replaces it)", "apparmor and selinux labels", "startContainer hooks")


def wanted(spec, policy) -> str | None:  # noqa: ANN001
    """Why this container runs under the tracer, or None (the usual way)."""
    mode = spec.annotations.get(ANN_PTRACE, "off")
    if mode == "on":
        return "dev.agentsh.ptrace: on"
    if mode == "auto":
        from ..ptrace.probe import refused

        return refused(spec.linux.namespaces, bool(policy is not None and policy.notify))
    return None


def create_traced(g: GlobalOptions, opts: CreateOptions, spec, policy, bundle: str,  # noqa: ANN001
                  reason: str) -> st.State:
    from ..ptrace.launch import TracedProcess, launch

    proc = spec.process
    if proc is None or not proc.args:
        raise ContainerError("process.args is required", "process.args")
    engine, mode, name = _engine(policy)
    state_dir = st.make_state_dir(g.root, opts.id)
    cgroups = None
    pid = tracer = 0
    console_fd = -1
    try:
        fifo = os.path.join(state_dir, st.FIFO)
        os.mkfifo(fifo, 0o622)
        os.chmod(fifo, 0o622)
        cgroups, cg_note = _cgroups(g, spec, opts)
        if opts.console_socket:
            from .create import _connect_console

            console_fd = _connect_console(opts.console_socket)
        warnings = [f"not applied in ptrace mode: {x}" for x in NOT_KEPT
                    if _asks_for(spec, x)] + ([cg_note] if cg_note else [])
        for w in warnings:
            g.log.warning(w)
        tp = TracedProcess(proc=proc, root=spec.root_path, state_dir=state_dir,
                           fifo=st.FIFO, console_fd=console_fd,
                           env_filter=engine.filter_env)
        events_dir = policy.events_dir if policy is not None else None
        extra = policy.extra_events if policy is not None else None
        pid, tracer = launch(tp, engine, mode, opts.id, events_dir, extra,
                             fallback={"reason": reason, "not_applied": warnings})
        if cgroups is not None:
            cgroups.join(pid)
        hook_state = {"ociVersion": OCI_VERSION, "id": opts.id, "status": "creating",
                      "pid": pid, "bundle": bundle, "annotations": spec.annotations}
        if any(spec.hooks.values()):
            from ..hooks.runner import run_hooks

            # no namespaces of its own: the runtime's and the container's are the same,
            # so createContainer runs here too; startContainer cannot (nothing runs
            # inside the container before its exec but our own code): not run
            for kind in ("prestart", "createRuntime", "createContainer"):
                run_hooks(spec.hooks, kind, hook_state)
        data = {
            "ociVersion": OCI_VERSION, "id": opts.id, "pid": pid,
            "init_start": lproc.start_time(pid), "bundle": bundle, "rootfs": spec.root_path,
            "created": st.rfc3339_now(),
            "annotations": dict(spec.annotations, **{ANN_ACTIVE: reason}),
            "owner": "", "cgroup": cgroups.to_state() if cgroups else {},
            "namespaces": {}, "no_pivot": True,
            "policy": {"name": name, "mode": mode, "notify": [],
                       "events_dir": events_dir, "allowed_capabilities": []},
            "monitor": {"pid": tracer, "start": lproc.start_time(tracer)},
            "ptrace": {"reason": reason, "not_applied": warnings},
        }
        if any(spec.hooks.values()):
            data["hooks"] = spec.hooks
        state = st.State(g.root, opts.id, data)
        with open(os.path.join(state_dir, "policy.yaml"), "w") as f:
            f.write(policy.text if policy is not None else _ALLOW_ALL)
        state.save_json("policy-vars.json", policy.variables if policy is not None else {})
        state.save_config(spec.raw)
        state.save()
        if opts.pid_file:
            write_pid_file(opts.pid_file, pid)
        return state
    except BaseException:
        for p in (pid, tracer):
            if p:
                try:
                    os.kill(p, 9)
                except OSError:
                    pass
        if cgroups is not None:
            try:
                cgroups.destroy()
            except OSError:
                pass
        st.remove_state_dir(state_dir)
        raise
    finally:
        if console_fd >= 0:
            os.close(console_fd)
        sys.stdout.flush()


_ALLOW_ALL = "version: 1\nname: allow-all-ptrace\n"
TRACERS = "tracers"  # in the state dir: "pid start" of each exec's tracer


def exec_traced(g: GlobalOptions, state: st.State, proc, console_socket: str | None,  # noqa: ANN001
                engine_of) -> int:  # noqa: ANN001
    """`exec` into a ptrace-mode container: the process, chrooted like the container's,
    under a tracer of its own with the container's policy."""
    from ..ptrace.launch import TracedProcess, launch

    engine = engine_of(state, proc)
    console_fd = -1
    if console_socket:
        from .create import _connect_console

        console_fd = _connect_console(console_socket)
    pol = state.data.get("policy") or {}
    try:
        tp = TracedProcess(proc=proc, root=state.data.get("rootfs") or "/",
                           state_dir=state.dir, fifo=None, console_fd=console_fd,
                           env_filter=engine.filter_env, sock_name=None)
        pid, tracer = launch(tp, engine, pol.get("mode", "enforce"), state.id,
                             pol.get("events_dir"), None,
                             fallback={"reason": "exec in a ptrace-mode container"})
    finally:
        if console_fd >= 0:
            os.close(console_fd)
    with open(os.path.join(state.dir, TRACERS), "a") as f:
        f.write(f"{tracer} {lproc.start_time(tracer)}\n")
    from ..cgroups.manager import CgroupSet

    cg = CgroupSet.from_state(state.data.get("cgroup"))
    if cg.paths:
        cg.join(pid)
    return pid


def stop_exec_tracers(state_dir: str) -> None:
    """`delete`: each exec's tracer, and with it (EXITKILL) the process it traces."""
    try:
        with open(os.path.join(state_dir, TRACERS)) as f:
            entries = [line.split() for line in f if line.strip()]
    except OSError:
        return
    for pid_s, start in entries:
        pid = int(pid_s)
        if lproc.is_alive(pid, None if start == "None" else int(start)):
            try:
                os.kill(pid, 9)
            except OSError:
                pass


def _engine(policy):  # noqa: ANN001, ANN202
    """The policy's engine; without a policy, allow-all (the tracer still says what ran)."""
    if policy is not None:
        return policy.engine, policy.mode, policy.name
    from ..container.policy_setup import load_policy_text
    from ..policy.engine import Engine
    from ..policy.resolve import resolve_policy

    text, origin = resolve_policy("allow-all")
    return Engine(load_policy_text(text, origin), {}), "enforce", "allow-all"


def _cgroups(g: GlobalOptions, spec, opts: CreateOptions):  # noqa: ANN001, ANN202
    """The container's cgroups where the host lets us make them (not on Fargate)."""
    from ..cgroups.manager import CgroupSet

    try:
        cg = CgroupSet.plan(spec.linux.cgroups_path, opts.id, g.systemd_cgroup)
        cg.create()
    except OSError as e:
        return None, f"not applied in ptrace mode: cgroups ({e.strerror or e})"
    try:
        # no device rules: without a mount namespace they would only hide the host's
        for w in cg.apply_resources(spec.linux.resources, devices=False):
            g.log.warning(w)
    except Exception as e:  # noqa: BLE001 - a host that refuses limits: none, said so
        cg.destroy()
        return None, f"not applied in ptrace mode: cgroups ({e})"
    return cg, None


def _asks_for(spec, what: str) -> bool:  # noqa: ANN001
    raw = spec.raw
    lin = raw.get("linux") or {}
    if what == "namespaces":
        return bool(lin.get("namespaces"))
    if what.startswith("mounts"):
        return bool(raw.get("mounts"))
    if what == "devices":
        return bool(lin.get("devices"))
    if what == "sysctl":
        return bool(lin.get("sysctl"))
    if what.startswith("maskedPaths"):
        return bool(lin.get("maskedPaths") or lin.get("readonlyPaths"))
    if what == "hostname":
        return bool(raw.get("hostname"))
    if what.startswith("linux.seccomp"):
        return bool(lin.get("seccomp"))
    if what == "startContainer hooks":
        return bool((raw.get("hooks") or {}).get("startContainer"))
    if what.startswith("apparmor"):
        p = raw.get("process") or {}
        return bool(p.get("apparmorProfile") or p.get("selinuxLabel"))
    return False
