"""AppArmor profiles and SELinux labels, where the host has them enabled.

Both are set for the next execve by writing to /proc/self/attr; on a host
without the LSM the create path has already warned (spec/unapplied.py).
"""

from __future__ import annotations

import os

from ..errors import SetupError

APPARMOR_ENABLED = "/sys/module/apparmor/parameters/enabled"
SELINUX_ENFORCE = "/sys/fs/selinux/enforce"


def apparmor_enabled() -> bool:
    try:
        with open(APPARMOR_ENABLED) as f:
            return f.read().strip() == "Y"
    except OSError:
        return False


def selinux_enabled() -> bool:
    return os.path.exists(SELINUX_ENFORCE)


def _write_attr(paths: tuple[str, ...], value: str, field: str) -> None:
    for path in paths:
        try:
            with open(path, "w") as f:
                f.write(value)
            return
        except FileNotFoundError:
            continue
        except OSError as e:
            raise SetupError(f"cannot set {value!r} via {path}: {e.strerror}", field) from e
    raise SetupError(f"no {paths[0]} on this host", field)


def apply_exec_labels(apparmor_profile: str | None, selinux_label: str | None,
                      field: str = "process") -> None:
    """Call in the container process right before execve (after pivot_root: the
    container's /proc)."""
    if apparmor_profile and apparmor_enabled():
        _write_attr(("/proc/self/attr/apparmor/exec", "/proc/self/attr/exec"),
                    f"exec {apparmor_profile}", f"{field}.apparmorProfile")
    if selinux_label and selinux_enabled():
        _write_attr(("/proc/self/attr/exec",), selinux_label, f"{field}.selinuxLabel")


def mount_label_option(mount_label: str | None) -> str | None:
    """The mount data to add to tmpfs-like mounts for linux.mountLabel, or None."""
    if mount_label and selinux_enabled():
        return f'context="{mount_label}"'
    return None
