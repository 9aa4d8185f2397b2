"""linux.cgroupsPath -> the path inside each hierarchy (pure)."""

from __future__ import annotations

import posixpath

from ..errors import ConfigError

DEFAULT_PARENT = "/agentsh-runtime"


def expand_slice(slice_name: str, field: str) -> str:
    """systemd's slice naming: `a-b-c.slice` lives at /a.slice/a-b.slice/a-b-c.slice."""
    if not slice_name.endswith(".slice") or "/" in slice_name:
        raise ConfigError(f"invalid slice name {slice_name!r}", field)
    if slice_name == "-.slice":
        return "/"
    stem = slice_name[: -len(".slice")]
    if stem.startswith("-") or stem.endswith("-") or "--" in stem:
        raise ConfigError(f"invalid slice name {slice_name!r}", field)
    path, prefix = "", ""
    for part in stem.split("-"):
        prefix = f"{prefix}-{part}" if prefix else part
        path += f"/{prefix}.slice"
    return path


def systemd_to_fs(value: str, cid: str, field: str = "linux.cgroupsPath") -> str:
    """`slice:prefix:name` -> `/expanded.slice/prefix-name.scope` (no systemd here)."""
    parts = value.split(":")
    if len(parts) != 3:
        raise ConfigError(f"expected cgroupsPath of the form slice:prefix:name, got {value!r}",
                          field)
    slice_name, prefix, name = parts
    parent = expand_slice(slice_name or "system.slice", field)
    if name.endswith(".slice"):
        return posixpath.join(parent, name)
    unit = f"{prefix}-{name}.scope" if prefix else f"{name}.scope"
    return posixpath.join(parent, unit)


def resolve(value: str, cid: str, systemd: bool) -> tuple[str, bool]:
    """(path, relative?) for the container's cgroup."""
    if systemd:
        if not value:
            value = f"system.slice:agentsh-runtime:{cid}"
        if ":" in value:
            return systemd_to_fs(value, cid), False
    if not value:
        return posixpath.join(DEFAULT_PARENT, cid), False
    clean = posixpath.normpath(value)
    if clean.startswith("..") or "/../" in f"{clean}/":
        raise ConfigError(f"cgroupsPath {value!r} leaves the hierarchy", "linux.cgroupsPath")
    if value.startswith("/"):
        return clean, False
    return clean, True
