"""`exec`: start another process inside a running container."""

from __future__ import annotations

import os

from ..cgroups.manager import CgroupSet
from ..errors import ContainerError
from ..init import common, console, lsm, process
from ..linux import caps, ns
from ..seccomp import install as seccomp_install
from ..seccomp import prepare as seccomp_prepare
from ..spec.model import Process
from . import state as st
from .create import _connect_console
from .launch import LaunchPlan, handoff_listener, launch, make_listener_handoff
from .options import GlobalOptions
from .pidfile import write_pid_file


class ExecOptions:
    __slots__ = ("id", "process", "console_socket", "detach", "pid_file", "preserve_fds",
                 "ignore_paused")

    def __init__(self, cid: str, process: Process, console_socket: str | None = None,
                 detach: bool = False, pid_file: str | None = None, preserve_fds: int = 0,
                 ignore_paused: bool = False) -> None:
        self.id = cid
        self.process = process
        self.console_socket = console_socket
        self.detach = detach
        self.pid_file = pid_file
        self.preserve_fds = preserve_fds
        self.ignore_paused = ignore_paused


def exec_process(g: GlobalOptions, opts: ExecOptions) -> int:
    """Start the process; returns its host pid (and, in the foreground, waits: see wait)."""
    state = st.load(g.root, opts.id)
    status = state.status()
    if status == "stopped":
        raise ContainerError("cannot exec in a stopped container", "id")
    if status == "paused" and not opts.ignore_paused:
        raise ContainerError("cannot exec in a paused container (use --ignore-paused to "
                             "override)", "id")
    proc_ = opts.process
    if not proc_.args:
        raise ContainerError("args must not be empty", "process.args")
    if proc_.terminal and opts.detach and not opts.console_socket:
        raise ContainerError("cannot allocate tty if runc will detach without setting "
                             "console socket", "--console-socket")
    if opts.console_socket and not proc_.terminal:
        raise ContainerError("cannot use console socket if runc will not detach or "
                             "allocate tty", "--console-socket")
    for warning in process.unknown_capabilities(proc_):
        g.log.warning(warning)
    if state.data.get("ptrace"):
        from .traced import exec_traced

        pid = exec_traced(g, state, proc_, opts.console_socket, _policy_engine)
        if opts.pid_file:
            write_pid_file(opts.pid_file, pid)
        return pid
    init_pid = state.pid
    join = []
    for nstype in ns.JOIN_ORDER:
        if nstype in state.data.get("namespaces", {}):
            path = ns.ns_path(init_pid, nstype)
            if nstype == "user" or os.stat(path).st_ino != os.stat(
                    ns.ns_path(os.getpid(), nstype)).st_ino:
                join.append((nstype, path))
    # the container's seccomp profile holds for exec'd processes too, as in runc; under a
    # policy, so do its notify rules, env filtering and capability drops
    config = state.config()
    seccomp_cfg = (config.get("linux") or {}).get("seccomp")
    policy = state.data.get("policy")
    notify = tuple(policy.get("notify") or ()) if policy else ()
    if policy:
        _apply_policy(state, proc_)
    prepared = seccomp_prepare(seccomp_cfg, notify=notify) if seccomp_cfg else None
    root_fd = os.open(f"/proc/{init_pid}/root", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    console_fd = _connect_console(opts.console_socket) if opts.console_socket else -1
    if not opts.detach:
        caps.set_child_subreaper()
    cgroups = CgroupSet.from_state(state.data.get("cgroup"))
    try:
        plan = LaunchPlan(
            child_main=lambda chan: _exec_child(proc_, root_fd, console_fd, opts.preserve_fds,
                                                prepared, chan),
            join=join,
            cgroups=cgroups if cgroups.paths else None,
        )
        plan.log = g.log
        if prepared is not None and prepared.needs_listener and notify:
            plan.on_seccomp_fd = _listener_to_monitor(state.dir)
        elif prepared is not None and prepared.needs_listener:
            plan.on_seccomp_fd = make_listener_handoff(
                prepared.listener_path, prepared.metadata,
                {k: v for k, v in state.oci_state().items() if k != "pid"})
        pid = launch(plan)
    finally:
        os.close(root_fd)
        if console_fd >= 0:
            os.close(console_fd)
    if opts.pid_file:
        write_pid_file(opts.pid_file, pid)
    return pid


def _apply_policy(state: st.State, proc_: Process) -> None:
    from .policy_setup import drop_enforcement_caps

    engine = _policy_engine(state, proc_)
    proc_.env, _removed = engine.filter_env(proc_.env)
    drop_enforcement_caps(proc_, (state.data.get("policy") or {}).get("allowed_capabilities")
                          or ())


def _policy_engine(state: st.State, proc_: Process):  # noqa: ANN202 - a policy Engine
    """The container's policy (saved at create) with its ${VAR} values and the
    process's own environment."""
    from ..policy.engine import Engine
    from .policy_setup import load_policy_text

    try:
        with open(os.path.join(state.dir, "policy.yaml")) as f:
            text = f.read()
    except OSError as e:
        raise ContainerError(f"the container's policy is gone: {e.strerror}", "policy") from e
    from .. import jsonio

    try:
        with open(os.path.join(state.dir, "policy-vars.json"), "rb") as f:
            variables = jsonio.loads(f.read())
    except (OSError, ValueError):
        variables = {}
    variables = dict(variables)  # type: ignore[arg-type]
    variables.update(e.split("=", 1) for e in proc_.env if "=" in e)
    return Engine(load_policy_text(text, "policy"), variables)


def _listener_to_monitor(state_dir: str):  # noqa: ANN202
    def take(pid: int, fd_number: int) -> None:
        from ..linux.seccomp import copy_fd_from
        from ..monitor.server import request

        fd = copy_fd_from(pid, fd_number)
        try:
            reply = request(state_dir, {"op": "add_listener", "pid": pid}, fd)
        finally:
            os.close(fd)
        if not reply.get("ok"):
            raise ContainerError(f"the policy monitor refused the process: "
                                 f"{reply.get('error')}", "policy")

    return take


def _exec_child(proc_: Process, root_fd: int, console_fd: int, preserve_fds: int,
                seccomp, chan) -> None:  # noqa: ANN001
    # Everything this runs must be imported already: it runs after chroot.
    os.setsid()
    common.reset_signals()
    os.fchdir(root_fd)
    os.chroot(".")
    os.close(root_fd)
    if proc_.terminal:
        if console_fd >= 0:
            console.setup(console_fd, proc_.console_height, proc_.console_width, False)
    process.set_oom_score_adj(proc_.oom_score_adj)
    process.set_rlimits(proc_)
    process.set_scheduling(proc_)
    env = process.build_env(proc_)
    if seccomp is not None and not proc_.no_new_privileges:
        handoff_listener(chan, seccomp_install(seccomp))
    for w in process.switch_user_and_caps(proc_):
        chan.send({"type": "debug", "msg": w})
    process.finish(proc_)
    if seccomp is not None and proc_.no_new_privileges:
        handoff_listener(chan, seccomp_install(seccomp))
    lsm.apply_exec_labels(proc_.apparmor_profile, proc_.selinux_label)
    path = process.lookpath(proc_.args[0], env)
    common.close_fds_from(3 + preserve_fds)
    chan.send({"type": "ready"})
    common.execve(path, proc_.args, env)
