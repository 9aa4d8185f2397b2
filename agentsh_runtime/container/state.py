"""The state directory: one per container under --root, state.json written atomically."""

from __future__ import annotations

import fcntl
import os
import time

from .. import OCI_VERSION, jsonio
from ..errors import ContainerError
from ..linux import proc

STATE_FILE = "state.json"
CONFIG_FILE = "config.json"  # the bundle's config as created (exec's defaults)
FIFO = "exec.fifo"
LOCK = ".lock"

_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")


def validate_id(cid: str) -> None:
    if not cid:
        raise ContainerError("container id cannot be empty", "id")
    if cid in (".", "..") or not set(cid) <= _ID_CHARS or len(cid) > 1024:
        raise ContainerError(f"invalid container id format: {cid}", "id")


def default_root() -> str:
    if os.geteuid() == 0:
        return "/run/agentsh-runtime"
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return os.path.join(xdg, "agentsh-runtime")
    return f"/tmp/agentsh-runtime-{os.geteuid()}"


def rfc3339_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e9):09d}Z"


class State:
    """What we know of one container; `data` is the state.json document."""

    __slots__ = ("root", "id", "dir", "data")

    def __init__(self, root: str, cid: str, data: dict) -> None:
        self.root, self.id, self.data = root, cid, data
        self.dir = os.path.join(root, cid)

    @property
    def pid(self) -> int:
        return int(self.data.get("pid") or 0)

    @property
    def fifo_path(self) -> str:
        return os.path.join(self.dir, FIFO)

    def status(self) -> str:
        """Worked out each time, as runc does, never trusted from the file."""
        if not proc.is_alive(self.pid, self.data.get("init_start")):
            return "stopped"
        if os.path.exists(self.fifo_path):
            return "created"
        if self._frozen():
            return "paused"
        return "running"

    def _frozen(self) -> bool:
        freezer = (self.data.get("cgroup") or {}).get("freezer_state")
        if not freezer:
            return False
        try:
            with open(freezer) as f:
                text = f.read().strip()
        except OSError:
            return False
        return text in ("FROZEN", "FREEZING", "1")

    def oci_state(self) -> dict:
        status = self.status()
        return {
            "ociVersion": self.data.get("ociVersion", OCI_VERSION),
            "id": self.id,
            "pid": self.pid if status != "stopped" else 0,
            "status": status,
            "bundle": self.data["bundle"],
            "rootfs": self.data.get("rootfs", ""),
            "created": self.data.get("created", ""),
            "annotations": self.data.get("annotations") or {},
            "owner": self.data.get("owner", ""),
        }

    def save(self) -> None:
        self._write_atomic(STATE_FILE, self.data)

    def save_config(self, config: dict) -> None:
        self._write_atomic(CONFIG_FILE, config)

    def config(self) -> dict:
        """The config.json the container was created from (kept apart: state stays small)."""
        try:
            with open(os.path.join(self.dir, CONFIG_FILE), "rb") as f:
                return jsonio.loads(f.read())  # type: ignore[return-value]
        except (OSError, ValueError):
            return {}

    def save_json(self, name: str, doc: dict) -> None:
        """Another document of ours in the state dir (0600, replaced atomically)."""
        self._write_atomic(name, doc)

    def _write_atomic(self, name: str, doc: dict) -> None:
        tmp = os.path.join(self.dir, f".{name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            data = jsonio.dumps(doc).encode()
            while data:
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)
        os.rename(tmp, os.path.join(self.dir, name))


def ensure_root(root: str) -> None:
    try:
        os.makedirs(root, 0o700, exist_ok=True)
    except OSError as e:
        raise ContainerError(f"cannot create state root {root}: {e.strerror}", "--root") from e


def make_state_dir(root: str, cid: str) -> str:
    ensure_root(root)
    path = os.path.join(root, cid)
    try:
        os.mkdir(path, 0o711)
    except FileExistsError:
        raise ContainerError(f"container with given ID already exists: {cid}", "id") from None
    return path


def _mounts_under(path: str) -> tuple[list[str], list[str]]:
    """(mount points at or below `path`, the FUSE connection ids among them)."""
    from ..linux.mount import mounts

    top = path.rstrip("/") + "/"
    try:
        below = [(p, dev, fs) for p, dev, fs in mounts() if p.startswith(top)]
    except OSError:
        return [], []
    return ([p for p, _, _ in below],
            [dev.split(":")[1] for _, dev, fs in below if fs.startswith("fuse")])


def abort_fuse_under(path: str) -> None:
    """Abort the FUSE connections mounted below `path` (see _abort_fuse)."""
    _, conns = _mounts_under(path)
    if conns:
        _abort_fuse(conns)


def _unmount_under(path: str) -> None:
    """Detach every mount at or below `path` (the monitor's FUSE mount and the binds of
    its backing directories), deepest first, so nothing below is ever unlinked through
    them."""
    points, fuse_conns = _mounts_under(path)
    if not points:
        return
    from ..linux import mount as m

    if fuse_conns:
        _abort_fuse(fuse_conns)
    for point in sorted(set(points), key=len, reverse=True):
        try:
            m.umount(point, m.MNT_DETACH)
        except OSError:
            pass


def _abort_fuse(conns: list[str]) -> None:
    """Abort our FUSE connections (fusectl) before detaching them: a monitor killed
    while one of its threads waited on its own mount never closes /dev/fuse, and every
    process touching the mount (that thread included) would wait forever."""
    from ..linux import mount as m

    ctl = "/sys/fs/fuse/connections"
    mounted_here = False
    if os.path.isdir(ctl) and not os.listdir(ctl):
        try:
            m.mount("none", ctl, "fusectl")
            mounted_here = True
        except OSError:
            return
    try:
        for conn in conns:
            try:
                with open(os.path.join(ctl, conn, "abort"), "w") as f:
                    f.write("1")
            except OSError:
                pass
    finally:
        if mounted_here:
            try:
                m.umount(ctl, m.MNT_DETACH)
            except OSError:
                pass


def remove_state_dir(path: str) -> None:
    """Files and one level of directories (no shutil: it imports re); mounts below it
    are detached first and never entered."""
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return
    if any(n.startswith("fuse") for n in names):
        _unmount_under(path)
    for name in names:
        full = os.path.join(path, name)
        try:
            os.unlink(full)
        except IsADirectoryError:
            if os.path.ismount(full):
                continue  # still mounted (busy): leave it rather than reach into it
            for inner in os.listdir(full):
                inner_path = os.path.join(full, inner)
                if os.path.isdir(inner_path) and not os.path.islink(inner_path):
                    if not os.path.ismount(inner_path):
                        try:
                            os.rmdir(inner_path)  # an empty mount point
                        except OSError:
                            pass
                    continue
                os.unlink(inner_path)
            try:
                os.rmdir(full)
            except OSError:
                pass
        except FileNotFoundError:
            pass
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass


def load(root: str, cid: str) -> State:
    validate_id(cid)
    path = os.path.join(root, cid, STATE_FILE)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise ContainerError(f"container {cid} does not exist", "id") from None
    except NotADirectoryError:
        raise ContainerError(f"container {cid} does not exist", "id") from None
    try:
        data = jsonio.loads(raw)
    except ValueError:
        raise ContainerError(f"container {cid}: state file {path} is corrupt", "state") from None
    return State(root, cid, data)  # type: ignore[arg-type]


def list_ids(root: str) -> list[str]:
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if os.path.exists(os.path.join(root, n, STATE_FILE)))


class Lock:
    """An exclusive flock on the container's directory, held for one operation."""

    def __init__(self, state_dir: str) -> None:
        self.path = os.path.join(state_dir, LOCK)
        self.fd = -1

    def __enter__(self) -> Lock:
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:
            return self  # the directory is gone: nothing left to guard
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
