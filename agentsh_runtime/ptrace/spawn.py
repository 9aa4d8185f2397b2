"""Starting a process under the tracer: forked, seized, then (in the child) no_new_privs,
CAP_SYS_PTRACE dropped and the prefilter loaded, then exec. The child waits for the
tracer's word before any of it: a filter whose RET_TRACE finds no tracer fails every
traced call with ENOSYS, and the program must never run untraced."""

from __future__ import annotations

import os

from ..linux import ptrace

CAP_SYS_PTRACE = 19
PR_SET_DUMPABLE = 4
PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER = 47, 3


def drop_ptrace_cap() -> None:
    """CAP_SYS_PTRACE out of the effective, permitted and inheritable sets and the
    ambient set (with no_new_privs no exec brings it back): a tracee must not trace or
    read the memory of the tracer or of another tracee."""
    import ctypes
    import struct

    from ..linux import caps
    from ..linux.libc import check, libc

    # capget, not /proc/self/status: a chrooted container process has no /proc
    hdr = ctypes.create_string_buffer(struct.pack("=Ii", 0x20080522, 0))
    data = ctypes.create_string_buffer(24)
    check(libc.capget(hdr, data), "capget")
    words = struct.unpack("=6I", data.raw)
    sets = {k: words[i] | words[i + 3] << 32
            for i, k in enumerate(("CapEff", "CapPrm", "CapInh"))}
    bit = 1 << CAP_SYS_PTRACE
    if not (sets["CapEff"] | sets["CapPrm"] | sets["CapInh"]) & bit:
        return
    try:
        caps.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_SYS_PTRACE, what="ambient")
    except OSError:
        pass
    as_set = [{c for c in range(64) if sets[k] >> c & 1 and c != CAP_SYS_PTRACE}
              for k in ("CapEff", "CapPrm", "CapInh")]
    caps.capset(*as_set)


def become_tracee(bpf: bytes) -> None:
    """In the child, once seized: the last steps before its exec."""
    from ..linux import caps, seccomp

    caps.set_no_new_privs()
    drop_ptrace_cap()
    seccomp.load_filter(bpf)


def spawn(argv: list[str], env: dict[str, str], bpf: bytes, options: int,
          cwd: str | None = None) -> int:
    """Fork and exec `argv` traced by the calling thread; its pid."""
    r, w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(w)
            if os.read(r, 1) != b"G":
                os._exit(127)  # the tracer is gone: never run untraced
            os.close(r)
            if cwd:
                os.chdir(cwd)
            become_tracee(bpf)
            os.execvpe(argv[0], argv, env)
        except OSError as e:
            os.write(2, f"agentsh-runtime wrap: {argv[0]}: {e.strerror or e}\n".encode())
            os._exit(127 if e.errno == 2 else 126)
        except BaseException as e:  # noqa: BLE001 - whatever it is, the child ends here
            os.write(2, f"agentsh-runtime wrap: {e}\n".encode())
        os._exit(126)
    os.close(r)
    try:
        ptrace.seize(pid, options)
    except OSError:
        os.close(w)
        os.waitpid(pid, 0)
        raise
    # Only now, after the fork: the child stayed dumpable so that it could be seized
    # without CAP_SYS_PTRACE; we turn undumpable so no tracee can attach to us or open
    # our memory.
    from ..linux import caps

    caps.prctl(PR_SET_DUMPABLE, 0, what="PR_SET_DUMPABLE")
    os.write(w, b"G")
    os.close(w)
    return pid
