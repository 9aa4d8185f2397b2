"""Resolve a container path under the rootfs without letting symlinks escape it."""

from __future__ import annotations

import os

MAX_LINKS = 255


def secure_join(root: str, unsafe: str) -> str:
    """Like filepath-securejoin: symlinks are followed as if root were `/`."""
    parts = [p for p in unsafe.split("/") if p and p != "."]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        try:
            st = os.lstat(candidate)
        except OSError:
            resolved.append(part)
            continue
        if (st.st_mode & 0o170000) != 0o120000:
            resolved.append(part)
            continue
        links += 1
        if links > MAX_LINKS:
            raise OSError(40, "too many levels of symbolic links", unsafe)
        target = os.readlink(candidate)
        if target.startswith("/"):
            resolved = []
        parts = [p for p in target.split("/") if p and p != "."] + parts
    return os.path.join(root, *resolved) if resolved else root
