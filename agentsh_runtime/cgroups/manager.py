"""Creating, joining and removing the container's cgroup in every mounted hierarchy."""

from __future__ import annotations

import errno
import os
import time

from ..errors import SetupError
from .layout import Layout, detect
from .paths import DEFAULT_PARENT, resolve

UNIFIED = "unified"


def _own_cgroups() -> dict[str, str]:
    """Our own cgroup per hierarchy key (controller name, or `unified`)."""
    out: dict[str, str] = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if not ctrls:
                out[UNIFIED] = path
            for c in ctrls.split(","):
                out[c[5:] if c.startswith("name=") else c] = path
    return out


class CgroupSet:
    """The container's directory in each hierarchy: key -> absolute path."""

    __slots__ = ("paths", "created")

    def __init__(self, paths: dict[str, str], created: list[str] | None = None) -> None:
        self.paths = paths
        self.created = created or []

    @classmethod
    def plan(cls, cgroups_path: str, cid: str, systemd: bool,
             layout: Layout | None = None) -> CgroupSet:
        layout = layout or detect()
        path, relative = resolve(cgroups_path, cid, systemd)
        own = _own_cgroups() if relative else {}
        paths: dict[str, str] = {}
        seen: set[str] = set()
        for ctrl, mnt in sorted(layout.v1.items()):
            if mnt in seen:
                continue
            seen.add(mnt)
            base = own.get(ctrl, "/") if relative else "/"
            paths[ctrl] = os.path.join(mnt, (base + "/" + path).lstrip("/"))
        if layout.v2:
            base = own.get(UNIFIED, "/") if relative else "/"
            paths[UNIFIED] = os.path.join(layout.v2, (base + "/" + path).lstrip("/"))
        return cls(paths)

    def create(self) -> None:
        for key, path in self.paths.items():
            missing: list[str] = []
            p = path
            while not os.path.isdir(p):
                missing.append(p)
                p = os.path.dirname(p)
            for d in reversed(missing):
                try:
                    os.mkdir(d, 0o755)
                except FileExistsError:
                    continue
                except OSError as e:
                    raise SetupError(f"cannot create cgroup {d}: {e.strerror}",
                                     "linux.cgroupsPath") from e
                self.created.append(d)
                if key == "cpuset":
                    _inherit_cpuset(d)

    def join(self, pid: int) -> None:
        for key in self.paths:
            self._attach(key, "cgroup.procs", pid)

    def enter_v1_self(self) -> None:
        """Move the calling (single-threaded) process into every v1 hierarchy.

        Writing "0" to `tasks` moves only the caller's thread, which the kernel
        does without taking the global threadgroup lock; cgroup.procs takes it and
        waits for an RCU grace period (5-16 ms on these machines) on first use.
        """
        for key in self.paths:
            if key != UNIFIED:
                self._attach(key, "tasks", 0)

    def enter_unified(self, pid: int) -> None:
        if UNIFIED in self.paths:
            self._attach(UNIFIED, "cgroup.procs", pid)

    def _attach(self, key: str, name: str, pid: int) -> None:
        path = self.paths[key]
        try:
            fd = os.open(os.path.join(path, name), os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, str(pid).encode())
            finally:
                os.close(fd)
        except OSError as e:
            who = "this process" if pid == 0 else f"pid {pid}"
            raise SetupError(f"cannot add {who} to cgroup {path}: {e.strerror}",
                             "linux.cgroupsPath") from e

    def pids(self) -> list[int]:
        for key in ("pids", "freezer", "memory", UNIFIED, *self.paths):
            path = self.paths.get(key)
            if not path:
                continue
            try:
                with open(os.path.join(path, "cgroup.procs")) as f:
                    return sorted({int(x) for x in f.read().split()})
            except OSError:
                continue
        return []

    def freezer_state_file(self) -> str | None:
        if "freezer" in self.paths:
            return os.path.join(self.paths["freezer"], "freezer.state")
        if UNIFIED in self.paths:
            return os.path.join(self.paths[UNIFIED], "cgroup.freeze")
        return None

    def destroy(self, timeout: float = 5.0) -> None:
        """rmdir the container's directories (and parents we made that are now empty)."""
        deadline = time.monotonic() + timeout
        for path in self.paths.values():
            _rmdir_when_empty(path, deadline)
        for d in sorted(set(self.created) - set(self.paths.values()), key=len, reverse=True):
            try:
                os.rmdir(d)
            except OSError:
                pass
        for path in self.paths.values():
            parent = os.path.dirname(path)
            if os.path.basename(parent) == DEFAULT_PARENT.strip("/"):
                try:
                    os.rmdir(parent)
                except OSError:
                    pass

    def to_state(self) -> dict:
        return {"paths": self.paths, "created": self.created,
                "freezer_state": self.freezer_state_file()}

    @classmethod
    def from_state(cls, data: dict | None) -> CgroupSet:
        data = data or {}
        return cls(dict(data.get("paths") or {}), list(data.get("created") or []))


def _inherit_cpuset(path: str) -> None:
    # A new v1 cpuset starts empty, and no task may join an empty cpuset.
    parent = os.path.dirname(path)
    for name in ("cpuset.cpus", "cpuset.mems"):
        try:
            with open(os.path.join(path, name)) as f:
                if f.read().strip():
                    continue
            with open(os.path.join(parent, name)) as f:
                value = f.read().strip()
            with open(os.path.join(path, name), "w") as f:
                f.write(value)
        except OSError:
            pass


def _rmdir_when_empty(path: str, deadline: float) -> None:
    delay = 0.001
    while True:
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno not in (errno.EBUSY, errno.ENOTEMPTY) or time.monotonic() > deadline:
                raise SetupError(f"cannot remove cgroup {path}: {e.strerror}",
                                 "linux.cgroupsPath") from e
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
