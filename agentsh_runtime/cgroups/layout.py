"""Which cgroup hierarchies the host has mounted: v1, v2 (unified) or hybrid."""

from __future__ import annotations

import os


class Layout:
    """v1: controller -> mountpoint (a mountpoint may carry several); v2: the cgroup2 mount."""

    __slots__ = ("v1", "v2", "v2_controllers")

    def __init__(self, v1: dict[str, str], v2: str | None, v2_controllers: list[str]) -> None:
        self.v1, self.v2, self.v2_controllers = v1, v2, v2_controllers

    @property
    def kind(self) -> str:
        if self.v1 and self.v2:
            return "hybrid"
        return "v1" if self.v1 else "v2"

    def v1_mountpoints(self) -> list[str]:
        return sorted(set(self.v1.values()))


def detect(mountinfo: str = "/proc/self/mountinfo") -> Layout:
    v1: dict[str, str] = {}
    v2: str | None = None
    with open(mountinfo) as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            fields = post.split()
            if len(fields) < 3:
                continue
            fstype = fields[0]
            mountpoint = pre.split()[4]
            if fstype == "cgroup2" and v2 is None:
                v2 = mountpoint
            elif fstype == "cgroup":
                for opt in fields[2].split(","):
                    if opt in ("rw", "ro") or opt.startswith(("release_agent", "clone_")):
                        continue
                    if opt.startswith("name="):
                        opt = opt[5:]
                    v1.setdefault(opt, mountpoint)
    controllers: list[str] = []
    if v2:
        try:
            with open(os.path.join(v2, "cgroup.controllers")) as f:
                controllers = f.read().split()
        except OSError:
            controllers = []
    return Layout(v1, v2, controllers)
