"""iptables-restore and ip6tables-restore, in the caller's network namespace or in the
one at a path (through nsenter): one transaction per call, nothing flushed but the
chains the input names."""

from __future__ import annotations

import os
import subprocess

RESTORE = {4: "iptables-restore", 6: "ip6tables-restore"}
# engines call the runtime with a short PATH (podman's cleanup: no /usr/sbin)
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def tool(name: str) -> str:
    """The absolute path of a system tool, whatever PATH the caller was given."""
    import shutil

    return shutil.which(name, path=os.environ.get("PATH", "") + ":" + SYSTEM_PATH) or name


class IptablesError(OSError):
    pass


def restore(inputs: dict[int, str], netns_path: str | None = None,
            check: bool = True) -> dict[int, str]:
    """Apply `inputs` (family -> restore text) at once, both families in parallel;
    {family: error text} of those that failed (raises the first one with `check`)."""
    procs = {}
    for family, text in inputs.items():
        argv = [tool(RESTORE[family]), "--noflush", "-w", "5"]
        if netns_path:
            argv = [tool("nsenter"), f"--net={netns_path}", "--"] + argv
        try:
            p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, close_fds=True)
        except OSError as e:
            raise IptablesError(e.errno, f"{argv[0]}: {e.strerror} (is iptables "
                                         "installed?)") from e
        procs[family] = (p, text)
    errors = {}
    for family, (p, text) in procs.items():
        _, err = p.communicate(text.encode(), timeout=30)
        if p.returncode != 0:
            errors[family] = err.decode(errors="replace").strip() or f"exit {p.returncode}"
    if check and errors:
        family, err = next(iter(errors.items()))
        raise IptablesError(5, f"{RESTORE[family]}: {err}")
    return errors
