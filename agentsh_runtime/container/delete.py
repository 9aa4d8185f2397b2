"""`delete`: remove every trace of a container."""

from __future__ import annotations

import os
import time

from ..cgroups.manager import CgroupSet
from ..errors import ContainerError
from ..linux import proc
from ..spec.signals import SIGKILL
from . import state as st
from .options import GlobalOptions
from .signals import container_pids, signal_all, signal_init


def delete(g: GlobalOptions, cid: str, force: bool = False) -> None:
    st.validate_id(cid)
    try:
        state = st.load(g.root, cid)
    except ContainerError:
        leftover = os.path.join(g.root, cid)
        if os.path.isdir(leftover):
            st.remove_state_dir(leftover)
        if force:
            return
        raise
    with st.Lock(state.dir):
        status = state.status()
        if status in ("running", "paused") and not force:
            raise ContainerError(f"cannot delete container {cid} that is not stopped: {status}",
                                 "id")
        if status != "stopped":
            kill_and_wait(state)
        destroy(g, state)


def kill_and_wait(state: st.State, timeout: float = 10.0) -> None:
    try:
        signal_init(state, SIGKILL)
    except ProcessLookupError:
        pass
    signal_all(state, SIGKILL)
    deadline = time.monotonic() + timeout
    delay = 0.0005
    while proc.is_alive(state.pid, state.data.get("init_start")):
        if time.monotonic() > deadline:
            raise ContainerError(f"container init {state.pid} did not exit after SIGKILL", "id")
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


def stop_monitor(state: st.State, timeout: float = 3.0) -> None:
    """Ask the container's monitor to flush its events and exit; kill it if it won't."""
    mon = state.data.get("monitor")
    if not mon:
        return
    pid, started = int(mon.get("pid") or 0), mon.get("start")
    if not proc.is_alive(pid, started):
        return
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        if not proc.is_alive(pid, started):
            return  # the pid was reused: not our monitor any more
        try:
            from ..monitor.server import request

            request(state.dir, {"op": "stop"}, timeout=1.0)
        except OSError:
            pass
        import select

        # a pidfd turns readable when the process exits: no polling
        if not select.select([pidfd], [], [], timeout)[0]:
            import _signal

            _signal.pidfd_send_signal(pidfd, SIGKILL)
    finally:
        os.close(pidfd)


def destroy(g: GlobalOptions, state: st.State) -> None:
    stop_monitor(state)
    if state.data.get("ptrace"):
        from .traced import stop_exec_tracers

        stop_exec_tracers(state.dir)
    if state.data.get("network"):
        from .netsetup import cleanup

        cleanup(state.data["network"])
    if os.path.isdir(os.path.join(state.dir, "fuse")):
        # a monitor that died with requests in flight leaves its FUSE connection open:
        # abort it, or the container's processes could not even be killed off it
        st.abort_fuse_under(state.dir)
    cg = CgroupSet.from_state(state.data.get("cgroup"))
    if cg.pids():
        # processes left behind (a shared pid namespace): they go with the container
        for pid in container_pids(state):
            try:
                os.kill(pid, SIGKILL)
            except ProcessLookupError:
                pass
    cg.destroy()
    st.remove_state_dir(state.dir)
    if state.data.get("monitor"):
        from ..monitor.trashdir import drop_empty_trash, trash_dir_of

        drop_empty_trash(trash_dir_of(state.id))  # a monitor killed before it could
    hooks = state.data.get("hooks") or {}
    if hooks.get("poststop"):
        from ..hooks.runner import run_hooks_logged

        run_hooks_logged(hooks, "poststop", dict(state.oci_state(), status="stopped", pid=0),
                         g.log.warning)
