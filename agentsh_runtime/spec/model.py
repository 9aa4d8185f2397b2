"""config.json as a typed model.

Plain classes with __slots__ rather than dataclasses: this module sits on every
create, and importing `dataclasses` costs ~11 ms on these machines (it pulls
inspect), a third of runc's whole run.
"""

from __future__ import annotations

import os

from ..errors import ConfigError

RLIMITS: dict[str, int] = {
    "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3,
    "RLIMIT_CORE": 4, "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7,
    "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9, "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11,
    "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13, "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
}
CAP_SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")


class IDMap:
    __slots__ = ("container_id", "host_id", "size")

    def __init__(self, container_id: int, host_id: int, size: int) -> None:
        self.container_id, self.host_id, self.size = container_id, host_id, size

    def line(self) -> str:
        return f"{self.container_id} {self.host_id} {self.size}\n"


class Mount:
    __slots__ = ("destination", "type", "source", "options", "field", "uid_mappings",
                 "gid_mappings")

    def __init__(self, raw: dict, field: str) -> None:
        self.destination: str = raw["destination"]
        self.type: str = raw.get("type") or ""
        self.source: str = raw.get("source") or ""
        self.options: list[str] = list(raw.get("options") or [])
        self.uid_mappings = raw.get("uidMappings")
        self.gid_mappings = raw.get("gidMappings")
        self.field = field


class Rlimit:
    __slots__ = ("name", "resource", "soft", "hard")

    def __init__(self, name: str, resource: int, soft: int, hard: int) -> None:
        self.name, self.resource, self.soft, self.hard = name, resource, soft, hard


class Process:
    __slots__ = ("terminal", "console_height", "console_width", "uid", "gid", "umask",
                 "additional_gids", "username", "args", "env", "cwd", "capabilities",
                 "rlimits", "no_new_privileges", "apparmor_profile", "oom_score_adj",
                 "selinux_label", "io_priority", "scheduler", "raw")

    def __init__(self, raw: dict, field: str = "process") -> None:
        self.raw = raw
        self.terminal: bool = bool(raw.get("terminal", False))
        size = raw.get("consoleSize") or {}
        self.console_height: int = int(size.get("height", 0))
        self.console_width: int = int(size.get("width", 0))
        user = raw.get("user") or {}
        self.uid: int = int(user.get("uid", 0))
        self.gid: int = int(user.get("gid", 0))
        self.umask: int | None = user.get("umask")
        self.additional_gids: list[int] = [int(g) for g in user.get("additionalGids") or []]
        self.username: str | None = user.get("username")
        self.args: list[str] = list(raw.get("args") or [])
        self.env: list[str] = list(raw.get("env") or [])
        self.cwd: str = raw.get("cwd") or "/"
        caps = raw.get("capabilities")
        # None: leave the set as inherited; a list: exactly these.
        self.capabilities: dict[str, list[str] | None] = {
            k: (None if caps is None else list(caps.get(k) or [])) for k in CAP_SETS
        }
        self.rlimits: list[Rlimit] = []
        for i, rl in enumerate(raw.get("rlimits") or []):
            name = rl["type"]
            if name not in RLIMITS:
                raise ConfigError(f"unknown rlimit type {name!r}", f"{field}.rlimits[{i}].type")
            self.rlimits.append(Rlimit(name, RLIMITS[name], int(rl["soft"]), int(rl["hard"])))
        self.no_new_privileges: bool = bool(raw.get("noNewPrivileges", False))
        self.apparmor_profile: str | None = raw.get("apparmorProfile") or None
        self.oom_score_adj: int | None = raw.get("oomScoreAdj")
        self.selinux_label: str | None = raw.get("selinuxLabel") or None
        self.io_priority: dict | None = raw.get("ioPriority")
        self.scheduler: dict | None = raw.get("scheduler")


class Linux:
    __slots__ = ("namespaces", "uid_mappings", "gid_mappings", "devices", "cgroups_path",
                 "resources", "rootfs_propagation", "seccomp", "sysctl", "masked_paths",
                 "readonly_paths", "mount_label", "personality", "time_offsets",
                 "intel_rdt", "raw")

    def __init__(self, raw: dict) -> None:
        self.raw = raw
        # type -> path ("" means create a new one)
        self.namespaces: dict[str, str] = {}
        for ns in raw.get("namespaces") or []:
            self.namespaces[ns["type"]] = ns.get("path") or ""
        self.uid_mappings = [IDMap(x["containerID"], x["hostID"], x["size"])
                             for x in raw.get("uidMappings") or []]
        self.gid_mappings = [IDMap(x["containerID"], x["hostID"], x["size"])
                             for x in raw.get("gidMappings") or []]
        self.devices: list[dict] = list(raw.get("devices") or [])
        self.cgroups_path: str = raw.get("cgroupsPath") or ""
        self.resources: dict = raw.get("resources") or {}
        self.rootfs_propagation: str = raw.get("rootfsPropagation") or ""
        self.seccomp: dict | None = raw.get("seccomp")
        self.sysctl: dict[str, str] = dict(raw.get("sysctl") or {})
        self.masked_paths: list[str] = list(raw.get("maskedPaths") or [])
        self.readonly_paths: list[str] = list(raw.get("readonlyPaths") or [])
        self.mount_label: str | None = raw.get("mountLabel") or None
        self.personality: dict | None = raw.get("personality")
        self.time_offsets: dict | None = raw.get("timeOffsets")
        self.intel_rdt: dict | None = raw.get("intelRdt")


class Spec:
    __slots__ = ("oci_version", "root_path", "root_readonly", "mounts", "process", "hostname",
                 "domainname", "annotations", "hooks", "linux", "raw", "bundle")

    def __init__(self, raw: dict, bundle: str) -> None:
        self.raw = raw
        self.bundle = bundle
        self.oci_version: str = raw["ociVersion"]
        root = raw.get("root") or {}
        path = root.get("path") or ""
        self.root_path: str = os.path.normpath(os.path.join(bundle, path))
        self.root_readonly: bool = bool(root.get("readonly", False))
        self.mounts = [Mount(mt, f"mounts[{i}]") for i, mt in enumerate(raw.get("mounts") or [])]
        self.process: Process | None = Process(raw["process"]) if raw.get("process") else None
        self.hostname: str | None = raw.get("hostname")
        self.domainname: str | None = raw.get("domainname")
        self.annotations: dict[str, str] = dict(raw.get("annotations") or {})
        self.hooks: dict = raw.get("hooks") or {}
        self.linux = Linux(raw.get("linux") or {})
