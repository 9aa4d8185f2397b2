"""Where a container's soft-deleted files live on the host, and their upkeep.

Kept apart from the FUSE server: `delete` and the CLI use it, and must not import the
policy engine or trio for it.
"""

from __future__ import annotations

import os

TRASH_ROOT = "/var/lib/agentsh-runtime/trash"  # per container: soft_delete outlives it
ROOTS_FILE = "roots.json"  # in the trash dir: FUSE root N -> (container path, backing)


def trash_dir_of(container_id: str) -> str:
    return os.path.join(TRASH_ROOT, container_id)


def split_server_path(roots: dict, server_path: str) -> tuple[str, str] | None:
    """(container path, host path) of a path inside the monitor's FUSE mount
    ("/N/rest": root N of `roots`, name -> (container path, backing dir)); None for a
    path outside every root (the mount's own top, which no container sees)."""
    name, _, tail = server_path.lstrip("/").partition("/")
    root = roots.get(name)
    if root is None:
        return None
    base, backing = root
    if not tail:
        return base, backing
    return base.rstrip("/") + "/" + tail, os.path.join(backing, tail)


def trash_host_path(trash_dir: str, server_path: str) -> tuple[str, str] | None:
    """(container path, host path) of a path the trash index records ("/N/rest")."""
    from .. import jsonio

    try:
        with open(os.path.join(trash_dir, ROOTS_FILE)) as f:
            roots = jsonio.loads(f.read())
    except (OSError, ValueError):
        return None
    return split_server_path(roots, server_path) if isinstance(roots, dict) else None


def drop_empty_trash(trash_dir: str) -> None:
    """A trash nothing was soft-deleted into is not kept after the container."""
    if not os.path.isdir(trash_dir):
        return
    from ..fusefs import trash

    try:
        if os.path.exists(os.path.join(trash_dir, trash.INDEX)) and trash.entries(trash_dir):
            return
        files = os.path.join(trash_dir, trash.FILES)
        if os.path.isdir(files) and os.listdir(files):
            return
        for name in os.listdir(trash_dir):
            full = os.path.join(trash_dir, name)
            if os.path.isdir(full):
                os.rmdir(full)
            else:
                os.unlink(full)
        os.rmdir(trash_dir)
    except OSError:
        pass


def purge_old_trash(trash_root: str, older_than_s: float) -> None:
    """audit.retention_days: soft-deleted files older than that go for good, in every
    container's trash (they outlive their containers)."""
    from ..fusefs import trash

    try:
        names = os.listdir(trash_root)
    except OSError:
        return
    for name in names:
        path = os.path.join(trash_root, name)
        try:
            if not os.path.exists(os.path.join(path, trash.INDEX)):
                continue
            removed = trash.purge(path, older_than_s=older_than_s)
        except OSError:
            continue
        if removed:
            drop_empty_trash(path)  # a live container's empty trash is left alone
