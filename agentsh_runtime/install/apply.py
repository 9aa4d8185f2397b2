"""Writing an engine's config: show the diff, keep a backup, replace atomically."""

from __future__ import annotations

import difflib
import os
import time

from ..errors import ConfigError
from . import engines

DEFAULT_PATHS = {
    "podman": "/etc/containers/containers.conf",
    "containerd": "/etc/containerd/config.toml",
    "docker": "/etc/docker/daemon.json",
}
NEXT_STEPS = {
    "podman": "podman --runtime agentsh run ...  (no restart needed)",
    "containerd": "restart containerd; pods use it with `runtimeClassName: agentsh` "
                  "(packaging/kubernetes/runtimeclass.yaml)",
    "docker": "restart dockerd; then docker run --runtime agentsh ...",
}


def plan(engine: str, path: str, binary: str, default_policy: str | None = None,
         make_default: bool = False) -> tuple[str, str]:
    """(old text, new text) for the engine's config file at path."""
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        old = ""
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}", path) from e
    if engine == "podman":
        new = engines.podman_conf(old, binary, path)
    elif engine == "containerd":
        new = engines.containerd_conf(old, binary, path)
    elif engine == "docker":
        new = engines.docker_daemon_json(old, binary, default_policy, make_default, path)
    else:
        raise ConfigError(f"unknown engine {engine!r} (podman, containerd, docker)",
                          "--engine")
    return old, new


def diff(path: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                        fromfile=path, tofile=path + " (new)"))


def write(path: str, old: str, new: str) -> str | None:
    """Back up the old file (when there is one) and put the new one in place."""
    backup = None
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    if os.path.exists(path):
        backup = f"{path}.agentsh-backup-{time.strftime('%Y%m%d%H%M%S')}"
        with open(backup, "w") as f:
            f.write(old)
        mode = os.stat(path).st_mode & 0o7777
    else:
        mode = 0o644
    tmp = f"{path}.agentsh-tmp"
    with open(tmp, "w") as f:
        f.write(new)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return backup
