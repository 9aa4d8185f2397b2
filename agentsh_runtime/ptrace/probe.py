"""Can this host run a container the usual way? (annotation dev.agentsh.ptrace: auto)

In a throwaway child: create the namespaces config.json asks for and, when the policy
needs seccomp user notification, load a filter with a listener. The first refusal is
the reason to fall back to ptrace mode; None when everything works."""

from __future__ import annotations

import os


def refused(namespaces: dict[str, str], needs_notify: bool) -> str | None:
    from ..linux import ns

    flags = 0
    for kind, path in namespaces.items():
        if not path and kind in ns.NAMESPACES:
            flags |= ns.NAMESPACES[kind][0]
    r, w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        why = b""
        try:
            os.close(r)
            if flags:
                try:
                    ns.unshare(flags)
                except OSError as e:
                    why = f"namespaces refused ({e.strerror})".encode()
            if not why and needs_notify:
                why = _notify_refused()
        except BaseException as e:  # noqa: BLE001
            why = f"probe failed: {e}".encode()
        os.write(w, why)
        os._exit(0)
    os.close(w)
    try:
        answer = b""
        while chunk := os.read(r, 4096):
            answer += chunk
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    return answer.decode() or None


def _notify_refused() -> bytes:
    from ..linux import caps, seccomp
    from .prefilter import RET_ALLOW

    ret_allow = (0x06).to_bytes(2, "little") + bytes(2) + RET_ALLOW.to_bytes(4, "little")
    try:
        caps.set_no_new_privs()
        fd = seccomp.load_filter(ret_allow, new_listener=True)
        if fd is not None:
            os.close(fd)
    except OSError as e:
        return f"seccomp user notification refused: {e.strerror}".encode()
    return b""
