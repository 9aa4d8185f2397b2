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
    """The container's directory in each hierarchy: key -> absolute path.

    A v1 hierarchy carrying several controllers (cpu,cpuacct) has one key, its
    first controller by name; `aliases` maps the others to it. `unified_root` is
    the cgroup2 mountpoint, when there is one.
    """

    __slots__ = ("paths", "created", "aliases", "unified_root")

    def __init__(self, paths: dict[str, str], created: list[str] | None = None,
                 aliases: dict[str, str] | None = None,
                 unified_root: str | None = None) -> None:
        self.paths = paths
        self.created = created or []
        self.aliases = aliases
        self.unified_root = unified_root

    @classmethod
    def plan(cls, cgroups_path: str, cid: str, systemd: bool,
             layout: Layout | None = None) -> CgroupSet:
        layout = layout or detect()
        path, relative = resolve(cgroups_path, cid, systemd)
        own = _own_cgroups() if relative else {}
        paths: dict[str, str] = {}
        seen: dict[str, str] = {}
        aliases: dict[str, str] = {}
        for ctrl, mnt in sorted(layout.v1.items()):
            if mnt in seen:
                aliases[ctrl] = seen[mnt]
                continue
            seen[mnt] = ctrl
            base = own.get(ctrl, "/") if relative else "/"
            paths[ctrl] = os.path.join(mnt, (base + "/" + path).lstrip("/"))
        if layout.v2:
            base = own.get(UNIFIED, "/") if relative else "/"
            paths[UNIFIED] = os.path.join(layout.v2, (base + "/" + path).lstrip("/"))
        return cls(paths, None, aliases, layout.v2)

    def create(self) -> None:
        for key, path in self.paths.items():
            # A delete may remove an empty parent (ours, or an engine's like /docker)
            # between our isdir and mkdir: walk again when a parent vanished.
            for attempt in range(5):
                try:
                    self._make_dirs(key, path)
                    break
                except FileNotFoundError:
                    if attempt == 4:
                        raise SetupError(f"cannot create cgroup {path}: its parent keeps "
                                         "disappearing", "linux.cgroupsPath") from None

    def _make_dirs(self, key: str, path: str) -> None:
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
            except FileNotFoundError:
                raise
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
        """rmdir the container's directories (and parents we made that are now empty).

        Cgroups the container made below its own are removed first, deepest first.
        """
        deadline = time.monotonic() + timeout
        freezer = self.paths.get("freezer")
        if freezer and (_read_file(os.path.join(freezer, "freezer.state")) or "").startswith(
                ("FROZEN", "FREEZING")):
            # a v1-frozen task cannot act on SIGKILL: let the dying ones finish
            _quiet_write(os.path.join(freezer, "freezer.state"), "THAWED")
        for path in self.paths.values():
            _rmdir_tree(path, deadline)
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
        out = {"paths": self.paths, "created": self.created,
               "freezer_state": self.freezer_state_file()}
        if self.aliases is not None:
            out["aliases"] = self.aliases
        if self.unified_root:
            out["unified_root"] = self.unified_root
        return out

    @classmethod
    def from_state(cls, data: dict | None) -> CgroupSet:
        data = data or {}
        aliases = data.get("aliases")
        return cls(dict(data.get("paths") or {}), list(data.get("created") or []),
                   dict(aliases) if isinstance(aliases, dict) else None,
                   data.get("unified_root") or None)

    # ---- controllers and their directories ----------------------------------------

    def controller_dirs(self) -> dict[str, str]:
        """v1 controller name -> the container's directory in its hierarchy."""
        out = {k: p for k, p in self.paths.items() if k != UNIFIED}
        if self.aliases is not None:
            for ctrl, key in self.aliases.items():
                if key in self.paths:
                    out[ctrl] = self.paths[key]
            return out
        # a state written before aliases were recorded: find co-mounted ones by their files
        for ctrl, probe in _PROBES:
            if ctrl not in out:
                for p in list(out.values()):
                    if os.path.exists(os.path.join(p, probe)):
                        out[ctrl] = p
                        break
        return out

    def v2_root(self) -> str | None:
        """The cgroup2 mountpoint (found by walking up when the state did not record it)."""
        if UNIFIED not in self.paths:
            return None
        if self.unified_root:
            return self.unified_root
        p = self.paths[UNIFIED]
        while True:
            parent = os.path.dirname(p)
            # the root cgroup is the one directory with cgroup.controllers but no cgroup.type
            if parent == p or (os.path.exists(os.path.join(p, "cgroup.controllers")) and
                               not os.path.exists(os.path.join(p, "cgroup.type"))):
                return p
            p = parent

    def v2_available(self) -> set[str] | None:
        """Controllers the cgroup2 hierarchy offers (None: no cgroup2 mount)."""
        root = self.v2_root()
        if root is None:
            return None
        try:
            with open(os.path.join(root, "cgroup.controllers")) as f:
                return set(f.read().split())
        except OSError:
            return set()

    def enable_v2(self, controllers: set[str] | list[str], field: str = "linux.resources") \
            -> None:
        """Enable controllers in cgroup.subtree_control of every ancestor of our cgroup2 dir."""
        target = self.paths.get(UNIFIED)
        root = self.v2_root()
        if not target or not root or not controllers:
            return
        chain: list[str] = []
        p = os.path.dirname(target)
        while len(p) >= len(root):
            chain.append(p)
            if p == root:
                break
            p = os.path.dirname(p)
        for d in reversed(chain):
            sc = os.path.join(d, "cgroup.subtree_control")
            try:
                with open(sc) as f:
                    have = set(f.read().split())
            except OSError:
                have = set()
            for ctrl in sorted(set(controllers) - have):
                try:
                    _write_file(sc, "+" + ctrl)
                except OSError as e:
                    raise SetupError(f"cannot enable the {ctrl} controller in {d}: "
                                     f"{_strerror(e)}", field) from e

    # ---- resources ------------------------------------------------------------------

    def apply_resources(self, resources: dict | None, *, devices: bool = True) -> list[str]:
        """Write linux.resources into the container's cgroups; returns warnings.

        Each controller goes to its v1 hierarchy when mounted there, otherwise to the
        cgroup2 one (hybrid hosts: hugetlb here). `devices`: apply device rules (plus
        runc's defaults) even when none are listed, as create must; update also
        passes them, and an unchanged list writes nothing on v1. Raises SetupError
        naming the field when the host refuses a value, ConfigError for bad input.
        """
        from . import resources as rs

        res = resources or {}
        dirs = self.controller_dirs()
        v1 = frozenset(dirs)
        v2 = self.v2_available()
        need = rs.needed_v2(res, v1, v2, devices)
        if v2 is not None and not v1 and devices:
            # pure cgroup2: enable every controller, as runc does when it creates the cgroup
            need |= v2 & rs.ALL_V2
        if need:
            self.enable_v2(need)
        if UNIFIED in self.paths:
            dirs[UNIFIED] = self.paths[UNIFIED]
        plan = rs.plan(res, v1, v2, host=_FsHost(dirs), devices=devices)
        self._run(plan, dirs)
        return plan.warnings

    def _run(self, plan: object, dirs: dict[str, str]) -> None:
        from . import resources as rs

        writes = plan.writes
        deferred: dict[tuple[str, str], list] = {}
        for i, w in enumerate(writes):
            if w.flags & rs.BPF:
                from .devices import attach_program

                try:
                    attach_program(dirs[w.key], plan.devices)
                except OSError as e:
                    raise SetupError(f"cannot attach the device filter to {dirs[w.key]}: "
                                     f"{_strerror(e)}", w.field) from e
                continue
            path = os.path.join(dirs[w.key], w.file)
            try:
                _write_file(path, w.value)
            except OSError as e:
                if e.errno == errno.ENOENT and w.flags & rs.OPTIONAL:
                    continue
                if e.errno == errno.EINVAL and w.after and any(
                        x.key == w.key and x.file == w.after for x in writes[i + 1:]):
                    deferred.setdefault((w.key, w.after), []).append(w)
                    continue
                raise _refused(w, e, dirs[w.key]) from e
            if w.flags & rs.VERIFY:
                _verify(w, path)
            for d in deferred.pop((w.key, w.file), ()):
                try:
                    _write_file(os.path.join(dirs[d.key], d.file), d.value)
                except OSError as e:
                    if not (e.errno == errno.ENOENT and d.flags & rs.OPTIONAL):
                        raise _refused(d, e, dirs[d.key]) from e

    # ---- freezer --------------------------------------------------------------------

    def freeze(self, timeout: float = 10.0) -> None:
        """Pause every process (v1 freezer.state, else cgroup2 cgroup.freeze), waiting."""
        if "freezer" in self.paths:
            freeze_v1(self.paths["freezer"], timeout)
        elif UNIFIED in self.paths:
            freeze_v2(self.paths[UNIFIED], timeout)
        else:
            raise SetupError("no freezer: neither a v1 freezer hierarchy nor cgroup2")

    def thaw(self) -> None:
        if "freezer" in self.paths:
            thaw_v1(self.paths["freezer"])
        elif UNIFIED in self.paths:
            thaw_v2(self.paths[UNIFIED])

    def frozen(self) -> bool:
        if "freezer" in self.paths:
            return frozen_v1(self.paths["freezer"])
        if UNIFIED in self.paths:
            return frozen_v2(self.paths[UNIFIED])
        return False


UNIFIED_KEY = 8  # resources.UNIFIED_KEY, without importing the planner here

_PROBES = (("cpu", "cpu.shares"), ("cpuacct", "cpuacct.usage"),
           ("net_cls", "net_cls.classid"), ("net_prio", "net_prio.ifpriomap"))


class _FsHost:
    """What the resource planner may ask about the real cgroup directories."""

    __slots__ = ("dirs",)

    def __init__(self, dirs: dict[str, str]) -> None:
        self.dirs = dirs

    def has(self, key: str, name: str) -> bool:
        d = self.dirs.get(key)
        return bool(d) and os.path.exists(os.path.join(d, name))

    def read(self, key: str, name: str) -> str | None:
        d = self.dirs.get(key)
        if not d:
            return None
        try:
            with open(os.path.join(d, name)) as f:
                return f.read()
        except OSError:
            return None


def _write_file(path: str, value: str) -> None:
    """One write(2) of the whole value, no O_CREAT/O_TRUNC: how cgroupfs wants it."""
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _read_file(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _strerror(e: OSError) -> str:
    text = os.strerror(e.errno) if e.errno else str(e)
    return text[:1].lower() + text[1:]


def _refused(w: object, e: OSError, d: str) -> SetupError:
    if w.file.startswith("<bpf"):
        return SetupError(f"cannot attach the device filter: {_strerror(e)}", w.field)
    reason = f"cannot set {w.file} to {w.value}: {_strerror(e)}"
    if e.errno == errno.EBUSY and w.file in ("memory.limit_in_bytes", "memory.max"):
        # the kernel could not reclaim below the new limit: say how much is in use
        if w.file == "memory.max":
            usage, peak = _read_file(os.path.join(d, "memory.current")), \
                _read_file(os.path.join(d, "memory.peak"))
        else:
            usage = _read_file(os.path.join(d, "memory.usage_in_bytes"))
            peak = _read_file(os.path.join(d, "memory.max_usage_in_bytes"))
        if usage:
            reason += f" (current usage: {usage.strip()}"
            reason += f", peak usage: {peak.strip()})" if peak else ")"
    elif w.flags & UNIFIED_KEY and e.errno in (errno.ENOENT, errno.EPERM, errno.EACCES):
        ctrl = w.file.split(".", 1)[0]
        reason = (f'unified resource "{w.file}" can\'t be set: controller "{ctrl}" '
                  f"not available ({_strerror(e)})")
    elif e.errno == errno.ENOENT:
        reason += " (the kernel or this hierarchy has no such file)"
    return SetupError(reason, w.field)


def _verify(w: object, path: str) -> None:
    """cpu.shares: the kernel clamps to [2, 262144] without an error; runc reports it."""
    got = _read_file(path)
    try:
        value, want = int((got or "").strip()), int(w.value)
    except ValueError:
        return
    if want > value:
        raise SetupError(f"the maximum allowed cpu-shares is {value}", w.field)
    if want < value:
        raise SetupError(f"the minimum allowed cpu-shares is {value}", w.field)


# ---- freezer -------------------------------------------------------------------------

def freeze_v1(path: str, timeout: float = 10.0) -> None:
    """FROZEN, retried until the kernel says FROZEN (runc's loop: a v1 freeze can stall
    in FREEZING while processes fork; an occasional thaw lets it converge)."""
    state = os.path.join(path, "freezer.state")
    deadline = time.monotonic() + timeout
    i = 0
    try:
        while True:
            if i % 50 == 49:
                _write_file(state, "THAWED")
                time.sleep(0.01)
            _write_file(state, "FROZEN")
            if i % 25 == 24:
                time.sleep(0.00001)
            now = (_read_file(state) or "").strip()
            if now == "FROZEN":
                return
            if now != "FREEZING":
                raise SetupError(f"unexpected freezer state {now!r} after writing FROZEN")
            i += 1
            if time.monotonic() > deadline:
                raise SetupError("unable to freeze: the cgroup stayed FREEZING")
    except OSError as e:
        _quiet_write(state, "THAWED")
        raise SetupError(f"cannot freeze {path}: {_strerror(e)}") from e
    except SetupError:
        _quiet_write(state, "THAWED")  # never leave it half frozen
        raise


def thaw_v1(path: str) -> None:
    try:
        _write_file(os.path.join(path, "freezer.state"), "THAWED")
    except OSError as e:
        raise SetupError(f"cannot thaw {path}: {_strerror(e)}") from e


def frozen_v1(path: str) -> bool:
    """Frozen by us (not merely because an ancestor is), as runc reports it."""
    deadline = time.monotonic() + 2.0
    while True:
        now = (_read_file(os.path.join(path, "freezer.state")) or "").strip()
        if now == "FREEZING" and time.monotonic() < deadline:
            time.sleep(0.001)  # settling: ask again (a stuck FREEZING counts as frozen)
            continue
        if now == "FREEZING":
            return True
        if now != "FROZEN":
            return False
        own = _read_file(os.path.join(path, "freezer.self_freezing"))
        return own is None or own.strip() == "1"


def freeze_v2(path: str, timeout: float = 10.0) -> None:
    try:
        _write_file(os.path.join(path, "cgroup.freeze"), "1")
    except OSError as e:
        raise SetupError(f"cannot freeze {path}: {_strerror(e)}") from e
    deadline = time.monotonic() + timeout
    delay = 0.0005
    while not _events_frozen(path):
        if time.monotonic() > deadline:
            _quiet_write(os.path.join(path, "cgroup.freeze"), "0")
            raise SetupError(f"timeout of {timeout:g}s reached waiting for the cgroup to "
                             "freeze")
        time.sleep(delay)
        delay = min(delay * 2, 0.01)


def thaw_v2(path: str) -> None:
    try:
        _write_file(os.path.join(path, "cgroup.freeze"), "0")
    except OSError as e:
        raise SetupError(f"cannot thaw {path}: {_strerror(e)}") from e


def frozen_v2(path: str) -> bool:
    return (_read_file(os.path.join(path, "cgroup.freeze")) or "").strip() == "1" and \
        _events_frozen(path)


def _events_frozen(path: str) -> bool:
    for line in (_read_file(os.path.join(path, "cgroup.events")) or "").splitlines():
        if line.startswith("frozen "):
            return line[7:].strip() == "1"
    return False


def _quiet_write(path: str, value: str) -> None:
    try:
        _write_file(path, value)
    except OSError:
        pass


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


def _rmdir_tree(path: str, deadline: float) -> None:
    """rmdir a cgroup and every cgroup below it, deepest first."""
    try:
        os.rmdir(path)
        return
    except FileNotFoundError:
        return
    except OSError as e:
        if e.errno not in (errno.EBUSY, errno.ENOTEMPTY):
            raise SetupError(f"cannot remove cgroup {path}: {e.strerror}",
                             "linux.cgroupsPath") from e
    try:
        entries = [e.path for e in os.scandir(path) if e.is_dir(follow_symlinks=False)]
    except OSError:
        entries = []
    for child in entries:
        _rmdir_tree(child, deadline)
    _rmdir_when_empty(path, deadline)


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
