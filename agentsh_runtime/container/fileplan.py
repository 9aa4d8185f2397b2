"""From a mount plan to the container's mounts: which FUSE roots the monitor serves, and
config.json rewritten (in memory) so the init mounts them.

The monitor mounts one FUSE filesystem on the host at `<state dir>/fuse`; its root has
one directory per FUSE root of the plan ("0", "1", ...), each a passthrough of that
subtree's backing directory on the host. Nothing on a host path of the user's changes:
the init, which builds the rootfs as config.json says, finds

- the rootfs itself served by FUSE: `root.path` = `<state dir>/fuse/N`;
- a volume served by FUSE: that mount's source = `<state dir>/fuse/N`;
- a kernel mount the plan seals (the policy lets nothing change there but what the
  monitor decides at the open): `ro` added to its options;
- a FUSE subtree deeper inside a mount, a native subtree inside a FUSE one (bound back
  from its backing), a read-only subtree: bind mounts inserted right after the mount
  they sit in, parents first.

A tmpfs (or other non-bind mount) that needs FUSE has no host backing: it is replaced by
a directory under the state dir, served by FUSE (its contents are on disk, not in
memory; a warning says so).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..spec.model import Mount


@dataclass(frozen=True, slots=True)
class FuseRoot:
    index: int  # its directory in the FUSE mount: str(index)
    path: str  # where the container sees it
    backing: str  # the host directory it passes through to


@dataclass(slots=True)
class FilePlan:
    roots: list[FuseRoot] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    scratch: list[str] = field(default_factory=list)  # backing dirs we made (tmpfs)


def _under(path: str, top: str) -> str:
    """The part of container path `path` below mount destination `top`."""
    if top == "/":
        return path.lstrip("/")
    return path[len(top):].lstrip("/")


def _is_bind(mnt: Mount) -> bool:
    return mnt.type == "bind" or any(o in ("bind", "rbind") for o in mnt.options)


def apply(spec, plan, fuse_dir: str, scratch_dir: str) -> FilePlan:  # noqa: ANN001
    """Rewrite `spec` (root path and mounts) for `plan` (a policy.mountplan.MountPlan)
    with the FUSE mount at `fuse_dir`; `scratch_dir` holds backings we create."""
    out = FilePlan()
    by_dest: dict[str, int] = {}
    for i, mnt in enumerate(spec.mounts):
        by_dest[os.path.normpath(mnt.destination)] = i  # the last one wins, as mounted
    _seal(spec, plan.sealed(), by_dest)
    layers = plan.layers()
    if not layers:
        return out
    root_backing = spec.root_path
    inserts: dict[int, list[Mount]] = {}  # after spec.mounts[i] (-1: before all)
    for layer in layers:
        where = -1 if layer.mount == "/" else by_dest.get(layer.mount)
        if where is None:
            out.warnings.append(f"{layer.path}: its mount {layer.mount} is not in "
                                "config.json: not mediated")
            continue
        mnt = None if where < 0 else spec.mounts[where]
        if mnt is None:
            backing = os.path.join(root_backing, _under(layer.path, "/"))
        elif _is_bind(mnt):
            src = mnt.source if mnt.source.startswith("/") else os.path.join(
                os.path.dirname(spec.root_path), mnt.source)
            backing = os.path.join(src, _under(layer.path, layer.mount))
        elif layer.path == layer.mount and layer.action == "fuse":
            backing = os.path.join(scratch_dir, str(len(out.scratch)))
            out.scratch.append(backing)
            out.warnings.append(f"{layer.path}: a {mnt.type or 'non-bind'} mount that "
                                "file_rules mediate is served from a directory on disk")
        else:
            out.warnings.append(f"{layer.path}: inside a {mnt.type} mount: not mediated")
            continue
        backing = os.path.normpath(backing)
        if layer.action == "fuse":
            root = FuseRoot(len(out.roots), layer.path, backing)
            out.roots.append(root)
            source = os.path.join(fuse_dir, str(root.index))
            if layer.path == layer.mount:
                if mnt is None:
                    spec.root_path = source
                else:
                    mnt.source = source
                    if not _is_bind(mnt):
                        mnt.type = "bind"
                        mnt.options = ["rbind"] + [o for o in mnt.options if o in (
                            "ro", "rw", "nosuid", "nodev", "noexec")]
                continue
            inserts.setdefault(where, []).append(_bind(source, layer, where))
        else:
            inserts.setdefault(where, []).append(_bind(backing, layer, where))
    if inserts:
        mounts: list[Mount] = list(inserts.get(-1, ()))
        for i, mnt in enumerate(spec.mounts):
            mounts.append(mnt)
            mounts.extend(inserts.get(i, ()))
        spec.mounts = mounts
    return out


def _seal(spec, sealed: tuple[str, ...], by_dest: dict[str, int]) -> None:  # noqa: ANN001
    """The plan's sealed kernel mounts get `ro` (the init mounts a /dev tmpfs read-write
    and makes it read-only once the device nodes are in, as for config.json's own)."""
    for path in sealed:
        i = by_dest.get(path)
        if i is not None:
            mnt = spec.mounts[i]
            mnt.options = [o for o in mnt.options if o != "rw"] + ["ro"]


def _bind(source: str, layer, after: int) -> Mount:  # noqa: ANN001
    opts = ["rbind", "nosuid", "nodev"]
    if layer.readonly or layer.action == "bind_ro":
        opts.append("ro")
    where = "root" if after < 0 else f"mounts[{after}]"
    return Mount({"destination": layer.path, "type": "bind", "source": source,
                  "options": opts}, f"{where} (file_rules: {layer.action} {layer.path})")
