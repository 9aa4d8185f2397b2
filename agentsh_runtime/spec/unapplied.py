"""config.json fields this runtime accepts but does not apply yet: each is a warning."""

from __future__ import annotations

import os

from .model import Spec


def unapplied_fields(spec: Spec) -> list[str]:
    out: list[str] = []
    if spec.linux.intel_rdt:
        out.append("linux.intelRdt is not supported on this host and is ignored")
    proc = spec.process
    from ..init.lsm import apparmor_enabled

    if proc and proc.apparmor_profile and not apparmor_enabled():
        out.append("process.apparmorProfile is set but AppArmor is not enabled on this host")
    if proc and proc.selinux_label and not os.path.exists("/sys/fs/selinux/enforce"):
        out.append("process.selinuxLabel is set but SELinux is not enabled on this host")
    if spec.linux.mount_label and not os.path.exists("/sys/fs/selinux/enforce"):
        out.append("linux.mountLabel is set but SELinux is not enabled on this host")
    return out
