"""The OCI/runc mount option vocabulary -> mount(2) flags and data."""

from __future__ import annotations

from ..errors import ConfigError
from ..linux import mount as m

# option -> (clear?, flag)
_FLAGS: dict[str, tuple[bool, int]] = {
    "async": (True, m.MS_SYNCHRONOUS), "sync": (False, m.MS_SYNCHRONOUS),
    "atime": (True, m.MS_NOATIME), "noatime": (False, m.MS_NOATIME),
    "bind": (False, m.MS_BIND), "rbind": (False, m.MS_BIND | m.MS_REC),
    "defaults": (False, 0),
    "dev": (True, m.MS_NODEV), "nodev": (False, m.MS_NODEV),
    "diratime": (True, m.MS_NODIRATIME), "nodiratime": (False, m.MS_NODIRATIME),
    "dirsync": (False, m.MS_DIRSYNC),
    "exec": (True, m.MS_NOEXEC), "noexec": (False, m.MS_NOEXEC),
    "mand": (False, m.MS_MANDLOCK), "nomand": (True, m.MS_MANDLOCK),
    "relatime": (False, m.MS_RELATIME), "norelatime": (True, m.MS_RELATIME),
    "strictatime": (False, m.MS_STRICTATIME), "nostrictatime": (True, m.MS_STRICTATIME),
    "suid": (True, m.MS_NOSUID), "nosuid": (False, m.MS_NOSUID),
    "ro": (False, m.MS_RDONLY), "rw": (True, m.MS_RDONLY),
    "remount": (False, m.MS_REMOUNT),
    "symfollow": (True, m.MS_NOSYMFOLLOW), "nosymfollow": (False, m.MS_NOSYMFOLLOW),
    "lazytime": (False, m.MS_LAZYTIME), "nolazytime": (True, m.MS_LAZYTIME),
}

PROPAGATION: dict[str, int] = {
    "private": m.MS_PRIVATE, "rprivate": m.MS_PRIVATE | m.MS_REC,
    "shared": m.MS_SHARED, "rshared": m.MS_SHARED | m.MS_REC,
    "slave": m.MS_SLAVE, "rslave": m.MS_SLAVE | m.MS_REC,
    "unbindable": m.MS_UNBINDABLE, "runbindable": m.MS_UNBINDABLE | m.MS_REC,
}

# Recursive attributes (mount_setattr), as runc 1.1 and the 1.1 spec name them:
# option -> (attr_set, attr_clr).
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_NOEXEC = 0x8
MOUNT_ATTR__ATIME = 0x70
MOUNT_ATTR_NOATIME = 0x10
MOUNT_ATTR_STRICTATIME = 0x20
MOUNT_ATTR_NODIRATIME = 0x80
MOUNT_ATTR_NOSYMFOLLOW = 0x200000
RECURSIVE: dict[str, tuple[int, int]] = {
    "rro": (MOUNT_ATTR_RDONLY, 0), "rrw": (0, MOUNT_ATTR_RDONLY),
    "rnosuid": (MOUNT_ATTR_NOSUID, 0), "rsuid": (0, MOUNT_ATTR_NOSUID),
    "rnodev": (MOUNT_ATTR_NODEV, 0), "rdev": (0, MOUNT_ATTR_NODEV),
    "rnoexec": (MOUNT_ATTR_NOEXEC, 0), "rexec": (0, MOUNT_ATTR_NOEXEC),
    "rnodiratime": (MOUNT_ATTR_NODIRATIME, 0), "rdiratime": (0, MOUNT_ATTR_NODIRATIME),
    "rrelatime": (0, MOUNT_ATTR__ATIME), "rnorelatime": (0, 0),
    "rnoatime": (MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME),
    "rstrictatime": (MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME),
    "rnosymfollow": (MOUNT_ATTR_NOSYMFOLLOW, 0), "rsymfollow": (0, MOUNT_ATTR_NOSYMFOLLOW),
}

# Options that are instructions to the runtime, not to mount(2).
RUNTIME_OPTIONS = {"tmpcopyup", "notmpcopyup"}


class MountOptions:
    __slots__ = ("flags", "propagation", "data", "attr_set", "attr_clr", "tmpcopyup")

    def __init__(self) -> None:
        self.flags = 0
        self.propagation: list[int] = []
        self.data: list[str] = []
        self.attr_set = 0
        self.attr_clr = 0
        self.tmpcopyup = False

    @property
    def is_bind(self) -> bool:
        return bool(self.flags & m.MS_BIND)

    @property
    def data_str(self) -> str | None:
        return ",".join(self.data) if self.data else None


def parse(options: list[str], field: str) -> MountOptions:
    out = MountOptions()
    for opt in options:
        if opt in _FLAGS:
            clear, flag = _FLAGS[opt]
            if clear:
                out.flags &= ~flag
            else:
                out.flags |= flag
        elif opt in PROPAGATION:
            out.propagation.append(PROPAGATION[opt])
        elif opt in RECURSIVE:
            s, c = RECURSIVE[opt]
            out.attr_set |= s
            out.attr_clr |= c
        elif opt == "tmpcopyup":
            out.tmpcopyup = True
        elif opt == "notmpcopyup":
            out.tmpcopyup = False
        elif opt in ("idmap", "ridmap"):
            raise ConfigError("idmapped mounts are not supported by this runtime", field)
        else:
            out.data.append(opt)
    return out
