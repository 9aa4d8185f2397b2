"""Forking a container process: the parent, the namespace stage (A) and the process (B).

A is placed in the cgroup, enters or creates the namespaces (the user namespace
first, so the parent can write its id maps) and forks B, which is then inside a
new pid namespace when one was asked for; A reports B's pid and exits, so B is
reparented to the caller's subreaper (conmon, the shim, or our own `run`).
B prepares itself (plan.child_main), reports `ready` and execs.
"""

from __future__ import annotations

import os
import sys

from ..errors import AgentshError, SetupError
from ..linux import ns
from ..linux.clone import fork_into_cgroup
from .channel import Channel


class LaunchPlan:
    __slots__ = ("join", "unshare", "new_userns", "uid_maps", "gid_maps", "cgroups",
                 "child_main", "time_offsets", "cgroupns_in_child", "on_mounted", "log",
                 "unified_self", "child_opts", "on_seccomp_fd",
                 "on_cgroup")

    def __init__(self, child_main, join: list[tuple[str, str]] | None = None,  # noqa: ANN001
                 unshare: int = 0, new_userns: bool = False, uid_maps: str = "",
                 gid_maps: str = "", cgroups=None, time_offsets: dict | None = None) -> None:  # noqa: ANN001
        self.child_main = child_main  # called in B with the Channel; must not return
        self.join = join or []  # (type, path) in JOIN_ORDER
        self.unshare = unshare
        self.new_userns = new_userns
        self.uid_maps, self.gid_maps = uid_maps, gid_maps
        self.cgroups = cgroups
        self.time_offsets = time_offsets
        self.log = None  # the RuntimeLog for warnings/debug lines the child sends
        # B unshares its cgroup namespace itself: only once born into its cgroups
        # (clone3 into the v2 one) is its cgroup the namespace's root.
        self.cgroupns_in_child = False
        # callable(pid_b) run when B reports its mounts are done (prestart and
        # createRuntime hooks); B waits for our `continue`.
        self.on_mounted = None
        self.child_opts = None  # the options object child_main closes over, if any
        self.unified_self = False  # set in A when it was not born into its v2 cgroup
        # callable(pid_b, fd number in B) that takes B's seccomp listener fd and hands
        # it to the agent at listenerPath; B waits for our `seccomp_ok`.
        self.on_seccomp_fd = None
        # callable() run once A is in its cgroups, before anything else happens in
        # them: linux.resources go in then, as runc does (a limit below what is already
        # used is refused with EBUSY, instead of OOM-killing the init later).
        self.on_cgroup = None


def report_error(chan: Channel, err: BaseException) -> None:
    if isinstance(err, AgentshError):
        msg = {"type": "error", "msg": err.reason, "field": err.field,
               "kind": type(err).__name__}
    elif isinstance(err, OSError):
        text = str(err.strerror or err) + (f": {err.filename}" if err.filename else "")
        if err.strerror and err.strerror == os.strerror(err.errno or 0):
            # a bare errno from a library call: say which step of the set-up it was
            tb = err.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            if tb is not None:
                text = f"{tb.tb_frame.f_code.co_name}: {text}"
        msg = {"type": "error", "msg": text, "field": None, "kind": "SetupError"}
    else:
        msg = {"type": "error", "msg": f"{type(err).__name__}: {err}", "field": None,
               "kind": "SetupError"}
    try:
        chan.send(msg)
    except OSError:
        pass


def launch(plan: LaunchPlan) -> int:
    """Start the process; returns B's host pid once B reported ready."""
    p_r, c_w = os.pipe2(os.O_CLOEXEC)  # child -> parent
    c_r, p_w = os.pipe2(os.O_CLOEXEC)  # parent -> child
    sys.stdout.flush()
    sys.stderr.flush()
    unified_fd = -1
    if plan.cgroups is not None and "unified" in plan.cgroups.paths:
        unified_fd = os.open(plan.cgroups.paths["unified"],
                             os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        # A is born into the container's v2 cgroup (clone3: no RCU wait) and moves
        # itself into the v1 ones, both before any user namespace takes its rights.
        pid_a = _fork_into(plan, unified_fd)
    except BaseException:
        if unified_fd >= 0:
            os.close(unified_fd)
        raise
    if pid_a == 0:
        os.close(p_r)
        os.close(p_w)
        chan = Channel(c_r, c_w)
        try:
            _stage_a(plan, chan, unified_fd)
        except BaseException as e:  # noqa: BLE001 - everything goes to the parent
            report_error(chan, e)
            os._exit(1)
        os._exit(0)
    os.close(c_r)
    os.close(c_w)
    if unified_fd >= 0:
        os.close(unified_fd)
    chan = Channel(p_r, p_w)
    pid_b = 0
    ready = False
    early: list[dict] = []  # B's messages that need its pid, come before A's `pid`
    try:
        chan.send({"type": "go"})
        # A's `pid` and B's messages come from two processes: either may arrive first.
        while not (ready and pid_b):
            if pid_b and early:
                msg = early.pop(0)
            else:
                msg = chan.recv()
            if msg is None:
                raise SetupError("container init exited before it was ready")
            kind = msg.get("type")
            if not pid_b and kind in ("mounted", "seccomp_fd"):
                early.append(msg)  # a short set-up (exec) can outrun A's report
                continue
            if kind == "userns":
                _write_maps(pid_a, plan)
                chan.send({"type": "mapped"})
            elif kind == "pid":
                pid_b = int(msg["pid"])
            elif kind == "mounted":
                if plan.on_mounted is not None:
                    plan.on_mounted(pid_b)
                chan.send({"type": "continue", "pid": pid_b})
            elif kind == "cgroup":
                if plan.on_cgroup is not None:
                    plan.on_cgroup()
                chan.send({"type": "cgroup_ok"})
            elif kind == "seccomp_fd":
                if plan.on_seccomp_fd is None:
                    raise SetupError("unexpected seccomp listener", "linux.seccomp")
                plan.on_seccomp_fd(pid_b, int(msg["fd"]))
                chan.send({"type": "seccomp_ok"})
            elif kind in ("warning", "debug"):
                if plan.log is not None:
                    plan.log.log(kind, str(msg.get("msg")))
            elif kind == "ready":
                ready = True
            elif kind == "error":
                raise _rebuild_error(msg)
    except BaseException:
        if pid_b:
            _kill(pid_b)
        _kill(pid_a)
        _reap(pid_a)
        raise
    finally:
        chan.close()
    _reap(pid_a)
    if not pid_b:
        raise SetupError("container init did not report its pid")
    return pid_b


def handoff_listener(chan: Channel, listener: int | None) -> None:
    """In the container process: give the parent our seccomp listener fd (it takes a
    copy with pidfd_getfd), wait until it has, then drop ours. Only write(2) and
    read(2) run meanwhile, so a profile must not notify on those."""
    if listener is None:
        return
    chan.send({"type": "seccomp_fd", "fd": listener})
    msg = chan.recv()
    os.close(listener)
    if not msg or msg.get("type") != "seccomp_ok":
        raise SetupError("the runtime did not take the seccomp listener", "linux.seccomp")


def make_listener_handoff(listener_path: str, metadata: str | None, state: dict):  # noqa: ANN201
    """The parent's side: pidfd_getfd from the child, then the runtime-spec hand-off."""

    def take(pid: int, fd_number: int) -> None:
        from ..linux.seccomp import copy_fd_from
        from ..seccomp.agent import send_state

        fd = copy_fd_from(pid, fd_number)
        send_state(listener_path, fd, dict(state, pid=pid), pid, metadata)

    return take


def _rebuild_error(msg: dict) -> AgentshError:
    from .. import errors

    cls = getattr(errors, msg.get("kind") or "SetupError", errors.SetupError)
    if not (isinstance(cls, type) and issubclass(cls, AgentshError)):
        cls = errors.SetupError
    return cls(msg.get("msg") or "container setup failed", msg.get("field"))


def _kill(pid: int) -> None:
    try:
        os.kill(pid, 9)
    except OSError:
        pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _write_maps(pid: int, plan: LaunchPlan) -> None:
    for name, text, field in (("uid_map", plan.uid_maps, "linux.uidMappings"),
                              ("gid_map", plan.gid_maps, "linux.gidMappings")):
        if not text:
            continue
        try:
            with open(f"/proc/{pid}/{name}", "w") as f:
                f.write(text)
        except OSError as e:
            raise SetupError(f"writing {name}: {e.strerror}", field) from e


def _stage_a(plan: LaunchPlan, chan: Channel, unified_fd: int) -> None:
    msg = chan.recv()
    if not msg or msg.get("type") != "go":
        raise SetupError("parent went away")
    if plan.cgroups is not None:
        plan.cgroups.enter_v1_self()
        if plan.unified_self:
            plan.cgroups.enter_unified(0)
        if plan.on_cgroup is not None:
            chan.send({"type": "cgroup"})
            msg = chan.recv()
            if not msg or msg.get("type") != "cgroup_ok":
                raise SetupError("the runtime went away while setting cgroup limits")
    joins = dict(plan.join)
    if "user" in joins:
        ns.setns_path(joins.pop("user"), "user")
    elif plan.new_userns:
        ns.unshare(ns.CLONE_NEWUSER)
        chan.send({"type": "userns"})
        msg = chan.recv()
        if not msg or msg.get("type") != "mapped":
            raise SetupError("parent went away while writing id maps")
        if "\n0 " in "\n" + plan.uid_maps and "\n0 " in "\n" + plan.gid_maps:
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
    for nstype in ns.JOIN_ORDER:
        if nstype in joins:
            try:
                ns.setns_path(joins[nstype], nstype)
            except OSError as e:
                raise SetupError(f"cannot join {nstype} namespace {joins[nstype]}: "
                                 f"{e.strerror}", "linux.namespaces") from e
    if plan.unshare:
        try:
            ns.unshare(plan.unshare)
        except OSError as e:
            raise SetupError(f"cannot create namespaces: {e.strerror}",
                             "linux.namespaces") from e
    if plan.time_offsets:
        _write_time_offsets(plan.time_offsets)
    pid_b = os.fork()
    if pid_b == 0:
        try:
            if plan.cgroupns_in_child:
                ns.unshare(ns.CLONE_NEWCGROUP)
            plan.child_main(chan)
        except BaseException as e:  # noqa: BLE001
            report_error(chan, e)
        os._exit(1)
    chan.send({"type": "pid", "pid": pid_b})


def _fork_into(plan: LaunchPlan, unified_fd: int) -> int:
    if unified_fd < 0:
        return os.fork()
    try:
        return fork_into_cgroup(unified_fd)
    except OSError:
        pass
    # No clone3 (old kernel, a seccomp'd caller): A joins the slow way.
    pid = os.fork()
    if pid == 0:
        plan.unified_self = True
    return pid


def _write_time_offsets(offsets: dict) -> None:
    lines = []
    for clock in ("monotonic", "boottime"):
        off = offsets.get(clock)
        if off:
            lines.append(f"{clock} {int(off.get('secs', 0))} {int(off.get('nanosecs', 0))}\n")
    try:
        with open("/proc/self/timens_offsets", "w") as f:
            f.write("".join(lines))
    except OSError as e:
        raise SetupError(f"writing time namespace offsets: {e.strerror}",
                         "linux.timeOffsets") from e
