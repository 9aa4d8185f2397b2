"""Forking the monitor from `create`: it outlives create and serves until the container ends."""

from __future__ import annotations

import os
import socket
import sys


def start_monitor(container_id: str, plan, state_dir: str  # noqa: ANN001
                  ) -> tuple[int, socket.socket]:
    """(monitor pid, our end of the hand-off socket: listener fds go through it)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        theirs.close()
        return pid, ours
    # the monitor: no stdio of the caller's (conmon reads the container's output from
    # them), its own session, and only its own fds
    try:
        ours.close()
        os.setsid()
        devnull = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        keep = theirs.fileno()
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd > 2 and fd != keep:
                try:
                    os.set_inheritable(fd, False)
                    os.close(fd)
                except OSError:
                    pass
        from .events import EventWriter
        from .server import Monitor

        writer = EventWriter(plan.events_dir, container_id, plan.extra_events)
        audit = plan.engine.policy.audit
        writer.set_audit(audit.log_allowed, audit.log_denied, audit.log_approved)
        if audit.retention_days:
            from .events import remove_older_than

            remove_older_than(plan.events_dir, audit.retention_days)
        writer.emit("policy_loaded", fields={"policy": plan.name, "mode": plan.mode,
                                             "notify": list(plan.notify)})
        for w in plan.warnings:
            writer.emit("policy_section_not_enforced", fields={"message": w})
        if plan.removed_env:
            writer.emit("env_blocked", operation="env",
                        policy={"decision": "deny", "rule": "env_policy"},
                        fields={"names": plan.removed_env})
        writer.emit("resource_limit_applied", fields={"resources": plan.resources})
        Monitor(container_id, plan.engine, plan.mode, writer, state_dir,
                procs_file=plan.procs_file, cgroup_paths=plan.cgroup_paths,
                max_pending=plan.admin.max_pending_approvals if plan.admin else 16
                ).serve(theirs)
        if plan.hook:
            import shutil

            shutil.rmtree(state_dir, ignore_errors=True)  # nothing deletes it after us
    except BaseException as e:  # noqa: BLE001 - no stdio left: the events log says why
        try:
            from .events import EventWriter

            w = EventWriter(plan.events_dir, container_id)
            w.emit("monitor_failed", fields={"error": f"{type(e).__name__}: {e}"})
            w.flush()
        except BaseException:  # noqa: BLE001
            pass
        os._exit(1)
    os._exit(0)


def hand_listener(sock: socket.socket, fd: int | None, pid: int) -> None:
    """The container process's seccomp listener (or, with fd None, just its pid)."""
    from .. import jsonio

    if fd is None:
        sock.sendall((jsonio.dumps({"op": "init", "pid": pid}) + "\n").encode())
        return
    msg = jsonio.dumps({"op": "add_listener", "pid": pid}) + "\n"
    socket.send_fds(sock, [msg.encode()], [fd])


def ask_monitor(sock: socket.socket, msg: dict, fds: list[int], timeout: float,
                what: str) -> dict:
    """One request over the hand-off socket and the monitor's answer (a dict with "ok");
    a ContainerError naming `what` when it gives none or refuses."""
    from .. import jsonio
    from ..errors import ContainerError

    socket.send_fds(sock, [(jsonio.dumps(msg) + "\n").encode()], fds)
    sock.settimeout(timeout)
    try:
        reply = sock.recv(65536)
    except OSError as e:
        raise ContainerError(f"{what}: the monitor did not answer: {e}", "annotations") from e
    finally:
        sock.settimeout(None)
    answer = jsonio.loads(reply.decode().strip() or "{}") if reply else {}
    if not isinstance(answer, dict) or not answer.get("ok"):
        err = answer.get("error") if isinstance(answer, dict) else None
        raise ContainerError(f"{what}: {err or 'the monitor gave no answer'}", "annotations")
    return answer
