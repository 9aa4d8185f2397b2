"""A container process under the tracer, for `create` in ptrace mode.

Two forks of create: the container process (create's child, so that the caller's
subreaper reaps it as with runc) and the tracer (its own session, no stdio of the
caller's). The process sets itself up (console, rlimits, chroot, user, cwd), says so,
waits to be seized, waits for `start` on the exec fifo, then takes no_new_privs and the
prefilter and execs: its first exec is already a policy decision.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass


@dataclass
class TracedProcess:
    proc: object  # spec.model.Process
    root: str  # config.json's root.path (chroot into it unless it is /)
    state_dir: str
    fifo: str | None  # the exec fifo's name in state_dir (None: exec at once)
    console_fd: int = -1  # the console socket's connection (process.terminal)
    env_filter: object = None  # engine.filter_env
    sock_name: str | None = "monitor.sock"  # the approvals socket in state_dir (None: none)


def launch(tp: TracedProcess, engine, mode: str, cid: str, events_dir: str | None,  # noqa: ANN001
           extra_events: str | None, fallback: dict) -> tuple[int, int]:
    """(container process pid, tracer pid) once the process is set up and seized."""
    from ..monitor.events import DEFAULT_DIR
    from .prefilter import build
    from .tracer import Tracer

    tracer_obj = Tracer(engine, mode, _NoEvents(), root=tp.root)
    bpf = build(tracer_obj.filter_plan())
    tracer_obj.close()
    status_r, status_w = os.pipe2(os.O_CLOEXEC)
    go_r, go_w = os.pipe2(os.O_CLOEXEC)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the container process
        os.close(status_r)
        os.close(go_w)
        _container_process(tp, bpf, status_w, go_r)
    os.close(go_r)
    os.close(status_w)
    try:
        ready = _read_all(status_r)
        if ready != b"ok":
            os.waitpid(pid, 0)
            from ..errors import ContainerError

            raise ContainerError(ready.decode(errors="replace") or
                                 "the container process died while it was set up", "process")
        t_r, t_w = os.pipe2(os.O_CLOEXEC)
        tracer = os.fork()
        if tracer == 0:  # pragma: no cover - the tracer
            os.close(t_r)
            _tracer(tp, engine, mode, cid, events_dir or DEFAULT_DIR, extra_events, pid,
                    go_w, t_w, fallback)
        os.close(t_w)
        # the tracer is the container process's sibling, not its parent: under Yama's
        # ptrace_scope 1 the process names it as its tracer (PR_SET_PTRACER) first
        os.write(go_w, b"P" + tracer.to_bytes(4, "little"))
        answer = _read_all(t_r)
        if not answer.startswith(b"ok"):
            from ..errors import ContainerError

            os.kill(pid, 9)
            os.waitpid(pid, 0)
            why = answer.decode(errors="replace") or "the tracer died"
            raise ContainerError(f"ptrace mode: {why}", "annotations.dev.agentsh.ptrace")
        return pid, tracer
    finally:
        os.close(status_r)
        os.close(go_w)


PR_SET_PTRACER = 0x59616D61


def _seize(pid: int, options: int, patience: float = 3.0) -> None:
    """PTRACE_SEIZE, retried while the process has not named us its tracer yet (EPERM
    under Yama)."""
    import errno
    import time

    from ..linux import ptrace

    deadline = time.monotonic() + patience
    while True:
        try:
            ptrace.seize(pid, options)
            return
        except OSError as e:
            if e.errno != errno.EPERM or time.monotonic() > deadline:
                raise
            time.sleep(0.002)


class _NoEvents:
    container_id = ""

    def emit(self, *a: object, **k: object) -> None:
        pass

    def flush(self) -> None:
        pass


def _read_all(fd: int) -> bytes:
    out = b""
    while chunk := os.read(fd, 4096):
        out += chunk
    return out


def _container_process(tp: TracedProcess, bpf: bytes, status_w: int, go_r: int) -> None:
    from ..init import process as ip
    from .spawn import become_tracee

    proc = tp.proc
    try:
        os.setsid()
        state_fd = os.open(tp.state_dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        if proc.terminal:  # type: ignore[attr-defined]
            if tp.console_fd < 0:
                raise OSError(22, "process.terminal needs --console-socket")
            from ..init.console import setup

            setup(tp.console_fd, proc.console_height, proc.console_width,  # type: ignore[attr-defined]
                  False)
        if tp.console_fd >= 0:
            os.close(tp.console_fd)
        ip.set_rlimits(proc)  # type: ignore[arg-type]
        env = ip.build_env(proc)  # type: ignore[arg-type]
        if tp.env_filter is not None:
            kept, _ = tp.env_filter([f"{k}={v}" for k, v in env.items()])  # type: ignore[operator]
            env = dict(e.split("=", 1) for e in kept if "=" in e)
        if os.path.realpath(tp.root) != "/":
            try:
                os.chroot(tp.root)
            except OSError as e:
                raise OSError(e.errno, f"chroot to root.path {tp.root}: {e.strerror} (ptrace "
                              "mode needs CAP_SYS_CHROOT for a root other than /)") from None
        os.chdir("/")
        _switch_user(proc)
        try:
            os.chdir(proc.cwd)  # type: ignore[attr-defined]
        except OSError as e:
            raise OSError(e.errno, f"process.cwd {proc.cwd}: {e.strerror}") from None  # type: ignore[attr-defined]
        path = ip.lookpath(proc.args[0], env)  # type: ignore[attr-defined]
        os.write(status_w, b"ok")
        os.close(status_w)
        status_w = -1
        who = os.read(go_r, 5)
        if len(who) != 5 or who[:1] != b"P":
            os._exit(127)  # no tracer: never run untraced
        from ..linux import caps

        try:
            caps.prctl(PR_SET_PTRACER, int.from_bytes(who[1:], "little"), what="PR_SET_PTRACER")
        except OSError:
            pass  # no Yama: nothing to say
        if os.read(go_r, 1) != b"G":
            os._exit(127)
        os.close(go_r)
        if tp.fifo:
            fd = os.open(tp.fifo, os.O_WRONLY | os.O_CLOEXEC, dir_fd=state_fd)
            os.write(fd, b"0")
            os.close(fd)
        os.close(state_fd)
        become_tracee(bpf)
        os.execve(path, proc.args, env)  # type: ignore[attr-defined]
    except BaseException as e:  # noqa: BLE001 - the child ends here, whatever it is
        msg = f"{getattr(e, 'field', None) or 'process'}: {getattr(e, 'reason', None) or e}"
        if status_w >= 0:
            os.write(status_w, msg.encode())
        else:
            os.write(2, f"agentsh-runtime: {msg}\n".encode())
    os._exit(127)


def _switch_user(proc) -> None:  # noqa: ANN001
    """setgroups, setgid, setuid as config.json says, where they change anything; a
    host that allows no user switch (no CAP_SETUID) is an error when one is asked for."""
    if proc.additional_gids and sorted(os.getgroups()) != sorted(proc.additional_gids):
        os.setgroups(proc.additional_gids)
    if os.getegid() != proc.gid or os.getgid() != proc.gid:
        os.setresgid(proc.gid, proc.gid, proc.gid)
    if os.geteuid() != proc.uid or os.getuid() != proc.uid:
        os.setresuid(proc.uid, proc.uid, proc.uid)
    if proc.umask is not None:
        os.umask(int(proc.umask))


def _tracer(tp: TracedProcess, engine, mode: str, cid: str, events_dir: str,  # noqa: ANN001
            extra: str | None, pid: int, go_w: int, t_w: int, fallback: dict) -> None:
    try:
        os.setsid()
        devnull = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        from ..monitor.events import EventWriter
        from .control import ApprovalsSocket
        from .tracer import OPTIONS, Tracer

        events = EventWriter(events_dir, cid, extra)
        audit = engine.policy.audit
        events.set_audit(audit.log_allowed, audit.log_denied, audit.log_approved)
        tracer = Tracer(engine, mode, events, root=tp.root)
        _seize(pid, OPTIONS)
        from ..linux import caps

        caps.prctl(4, 0, what="PR_SET_DUMPABLE")  # no tracee may attach to us
        control = ApprovalsSocket(os.path.join(tp.state_dir, tp.sock_name), tracer) \
            if tp.sock_name else None
        events.emit("policy_loaded", fields={"mode": mode, "enforcement": "ptrace",
                                             "traced_syscalls": list(
                                                 tracer.filter_plan().traced)})
        events.emit("ptrace_fallback", pid=pid, fields=fallback)
        events.flush()
        os.write(go_w, b"G")
        os.close(go_w)
        os.write(t_w, b"ok")
        os.close(t_w)
        try:
            tracer.run(pid)
        finally:
            if control is not None:
                control.close()
            tracer.close()
            events.flush()
    except BaseException as e:  # noqa: BLE001
        try:
            os.write(t_w, f"{type(e).__name__}: {e}".encode())
        except OSError:
            pass
        os._exit(1)
    os._exit(0)
