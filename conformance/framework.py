"""Case registry, per-case context and host-side helpers for the conformance runner.

A case is a function ``f(ctx)`` registered with ``@case(id, must, spec)``.  It
passes by returning, fails by raising ``Fail`` (or ``AssertionError``), is not
applicable to a runtime by raising ``NotApplicable``; anything else is an
ERROR.  Every case gets a fresh ``Ctx``: a private ``--root``, private bundle
directories, and a cleanup pass that force-deletes what the case left and
reports anything the runtime leaked (processes, mounts, cgroup directories).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.bundle import Bundle, Runtime, mounts_under, pid_alive, processes_in

# ---------------------------------------------------------------------------
# registry


class Fail(Exception):
    """The runtime does not do what the spec requires."""


class NotApplicable(Exception):
    """The runtime declares it does not support the feature the case needs."""


@dataclass
class Case:
    id: str
    must: str
    spec: str
    func: Callable[[Ctx], None]


CASES: list[Case] = []


CaseFunc = Callable[["Ctx"], None]


def case(case_id: str, must: str, spec: str) -> Callable[[CaseFunc], CaseFunc]:
    """Register a conformance case.

    case_id: ``group.name``; must: the spec requirement in a few words;
    spec: the spec file and section it comes from (``config.md#mounts``).
    """

    def deco(func: CaseFunc) -> CaseFunc:
        if any(c.id == case_id for c in CASES):
            raise ValueError(f"duplicate case id {case_id}")
        CASES.append(Case(case_id, must, spec, func))
        return func

    return deco


def check(cond: object, reason: str) -> None:
    if not cond:
        raise Fail(reason)


def expect_eq(got: object, want: object, what: str) -> None:
    if got != want:
        raise Fail(f"{what}: got {short(repr(got), 60)}, want {short(repr(want), 60)}")


def short(text: str, n: int = 100) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


_MSG_RE = re.compile(r'msg="((?:[^"\\]|\\.)*)"')


def runtime_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The runtime's error message, shortened (runc's logrus line or the last line)."""
    text = (proc.stderr or "") + "\n" + (proc.stdout or "")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "level=error" in ln or '"level":"error"' in ln:
            m = _MSG_RE.search(ln)
            if m:
                return short(m.group(1), 120)
            try:
                return short(json.loads(ln).get("msg", ln), 120)
            except ValueError:
                return short(ln, 120)
    return short(lines[-1], 120) if lines else f"exit {proc.returncode}"


# ---------------------------------------------------------------------------
# runtimes under test


@dataclass
class RuntimeUnderTest:
    binary: str
    label: str
    version: str = ""
    _features: dict[str, Any] | None = None
    _features_probed: bool = False

    @property
    def runc_version(self) -> tuple[int, ...] | None:
        """(1, 1, 5) for runc 1.1.5; None for any other runtime."""
        if not self.is_runc:
            return None
        m = re.match(r"runc version (\d+)\.(\d+)\.(\d+)", self.version)
        return tuple(int(x) for x in m.groups()) if m else None

    @property
    def is_runc(self) -> bool:
        first = self.version.splitlines()[:1]
        return bool(first) and first[0].startswith("runc version")

    def features(self) -> dict[str, Any] | None:
        """`RUNTIME features` JSON, or None when the runtime has no such command."""
        if not self._features_probed:
            self._features_probed = True
            try:
                p = subprocess.run([self.binary, "features"], capture_output=True, text=True,
                                   timeout=20)
                if p.returncode == 0:
                    self._features = json.loads(p.stdout)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                self._features = None
        return self._features


def probe_runtime(binary: str, label: str) -> RuntimeUnderTest:
    try:
        p = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20)
        version = p.stdout
    except (OSError, subprocess.TimeoutExpired):
        version = ""
    return RuntimeUnderTest(binary=binary, label=label, version=version)


# ---------------------------------------------------------------------------
# host helpers: namespaces, cgroups, processes


def ns_id(pid: int | str, ns: str) -> str:
    return os.readlink(f"/proc/{pid}/ns/{ns}")


def proc_status(pid: int) -> dict[str, str]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def _mountinfo(pid: int | str = "self") -> list[tuple[str, str, str, str]]:
    """(root, mountpoint, fstype, superopts) per mount."""
    rows = []
    with open(f"/proc/{pid}/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            a = pre.split()
            b = post.split()
            rows.append((a[3], a[4].replace("\\040", " "), b[0], b[2] if len(b) > 2 else ""))
    return rows


def cgroup_mounts() -> tuple[dict[str, tuple[str, str]], tuple[str, str] | None]:
    """Host cgroup mounts: ({v1 controller: (root, mountpoint)}, (root, mountpoint) of v2)."""
    v1: dict[str, tuple[str, str]] = {}
    v2: tuple[str, str] | None = None
    for root, mp, fstype, opts in _mountinfo():
        if fstype == "cgroup":
            for o in opts.split(","):
                if o not in ("rw", "ro") and "=" not in o or o.startswith("name="):
                    v1.setdefault(o, (root, mp))
        elif fstype == "cgroup2" and v2 is None:
            v2 = (root, mp)
    return v1, v2


def proc_cgroups(pid: int) -> dict[str, str]:
    """/proc/PID/cgroup as {controller: path}; the v2 entry is under key ""."""
    out: dict[str, str] = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, ctrls, path = line.split(":", 2)
        if ctrls == "":
            out[""] = path
        for c in ctrls.split(","):
            if c:
                out[c] = path
    return out


def _join(mount: tuple[str, str], path: str) -> Path:
    root, mp = mount
    rel = os.path.relpath(path, root) if root != "/" else path.lstrip("/")
    return Path(mp) / rel if rel != "." else Path(mp)


def cgroup_dirs(pid: int) -> list[Path]:
    """Host directories of every cgroup the process is in (v1 controllers and v2)."""
    v1, v2 = cgroup_mounts()
    dirs: list[Path] = []
    for ctrl, path in proc_cgroups(pid).items():
        if ctrl == "":
            if v2:
                dirs.append(_join(v2, path))
        elif ctrl in v1:
            dirs.append(_join(v1[ctrl], path))
    return sorted(set(dirs))


def cgroup_file(pid: int, v1: tuple[str, str], v2: str) -> Path:
    """The host path of a cgroup file of pid: v1 (controller, file) when that controller
    is mounted as v1, otherwise the v2 file in the process's unified cgroup."""
    m1, m2 = cgroup_mounts()
    cg = proc_cgroups(pid)
    ctrl, fname = v1
    if ctrl in m1 and ctrl in cg:
        return _join(m1[ctrl], cg[ctrl]) / fname
    if m2 and "" in cg:
        return _join(m2, cg[""]) / v2
    raise NotApplicable(f"no cgroup for {ctrl} on this host")


def read_cgroup(pid: int, v1: tuple[str, str], v2: str) -> str:
    p = cgroup_file(pid, v1, v2)
    try:
        return p.read_text().strip()
    except FileNotFoundError:
        raise Fail(f"{p} does not exist") from None


def own_cgroup_dirs() -> set[Path]:
    dirs = set(cgroup_dirs(os.getpid()))
    out = set(dirs)
    for d in dirs:
        out.update(d.parents)
    return out


# ---------------------------------------------------------------------------
# per-case context


@dataclass
class Output:
    out: str
    err: str
    state: dict[str, Any] = field(default_factory=dict)


class Ctx:
    """What a case gets: one runtime, a private --root and scratch space."""

    def __init__(self, rut: RuntimeUnderTest, workdir: Path, case_id: str) -> None:
        self.rut = rut
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.rt = Runtime(rut.binary, self.dir / "root", timeout=20)
        self.case_id = case_id
        self._n = 0
        self.bundles: list[Bundle] = []
        self.cgroups: set[Path] = set()
        self._cleanups: list[Callable[[], None]] = []
        self.pids: set[tuple[int, int | None]] = set()

    # -- ids and bundles ---------------------------------------------------
    def cid(self, prefix: str = "cf") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    def bundle(self, args: Sequence[str] = ("true",), **overrides: Any) -> Bundle:
        self._n += 1
        b = Bundle(self.dir / f"bundle{self._n}", args=list(args), **overrides)
        self.bundles.append(b)
        return b

    def host_dir(self, name: str) -> Path:
        """A scratch directory on the host (outside any rootfs)."""
        p = self.dir / name
        p.mkdir(parents=True, exist_ok=True)
        return p

    def on_cleanup(self, fn: Callable[[], None]) -> None:
        self._cleanups.append(fn)

    # -- runtime operations --------------------------------------------------
    def create_raw(self, b: Bundle, cid: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        p = self.rt.create(b, cid, **kw)
        if p.returncode == 0:
            st = self.rt.state_json(cid)
            if st and st.get("pid"):
                pid = int(st["pid"])
                self.pids.add((pid, _start_time(pid)))
                try:
                    self.cgroups.update(cgroup_dirs(pid))
                except OSError:
                    pass
        return p

    def create(self, b: Bundle, cid: str | None = None, **kw: Any) -> str:
        cid = cid or self.cid()
        p = self.create_raw(b, cid, **kw)
        if p.returncode != 0:
            raise Fail(f"create failed: {runtime_error(p)}")
        return cid

    def start(self, cid: str) -> None:
        p = self.rt.start(cid)
        if p.returncode != 0:
            raise Fail(f"start failed: {runtime_error(p)}")

    def state(self, cid: str) -> dict[str, Any]:
        p = self.rt.state(cid)
        if p.returncode != 0:
            raise Fail(f"state failed: {runtime_error(p)}")
        try:
            return json.loads(p.stdout)
        except ValueError:
            raise Fail(f"state output is not JSON: {short(p.stdout, 60)}") from None

    def pid(self, cid: str) -> int:
        return int(self.state(cid)["pid"])

    def status(self, cid: str) -> str | None:
        st = self.rt.state_json(cid)
        return st.get("status") if st else None

    def wait_status(self, cid: str, status: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        st: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            st = self.rt.state_json(cid)
            if st and st.get("status") == status:
                return st
            time.sleep(0.02)
        raise Fail(f"never reached {status!r} (last: {st.get('status') if st else None})")

    def delete(self, cid: str, force: bool = False) -> None:
        p = self.rt.delete(cid, force=force)
        if p.returncode != 0:
            raise Fail(f"delete failed: {runtime_error(p)}")

    def output(self, b: Bundle, cid: str) -> tuple[str, str]:
        return self.rt.output(b, cid)

    def run(self, b: Bundle, timeout: float = 10.0, cid: str | None = None) -> Output:
        """create, start, wait until stopped, collect stdout/stderr, delete."""
        cid = self.create(b, cid)
        self.start(cid)
        st = self.wait_status(cid, "stopped", timeout)
        out, err = self.output(b, cid)
        self.delete(cid)
        return Output(out, err, st)

    def features(self) -> dict[str, Any] | None:
        return self.rut.features()

    def require_feature(self, path: Sequence[str], value: str, what: str) -> None:
        """NotApplicable when `features` exists and its list at path lacks value."""
        f = self.features()
        if f is None:
            return
        node: Any = f
        for k in path:
            if not isinstance(node, dict) or k not in node:
                return
            node = node[k]
        if isinstance(node, list) and value not in node:
            raise NotApplicable(f"{what} not in `features`")

    def runc_lacks(self, below: str, what: str) -> None:
        """NotApplicable on runc older than `below`, which does not implement `what`.

        Only for features runc did not have yet, never to excuse a behaviour
        runc gets wrong in something it implements."""
        v = self.rut.runc_version
        if v is not None and v < tuple(int(x) for x in below.split(".")):
            raise NotApplicable(f"runc {'.'.join(map(str, v))}: {what}")

    # -- cleanup ---------------------------------------------------------------
    def finish(self) -> list[str]:
        """Force-delete everything in the private root; return what leaked."""
        problems: list[str] = []
        for fn in reversed(self._cleanups):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - cleanup must go on
                problems.append(f"cleanup: {e}")
        try:
            self.rt.cleanup()
        except Exception as e:  # noqa: BLE001
            problems.append(f"delete --force: {e}")
        left = self.rt.container_dirs()
        if left:
            problems.append(f"state left in --root: {left}")
        for pid, start in self.pids | self.rt.seen_pids:
            if pid_alive(pid, start):
                problems.append(f"container pid {pid} alive after delete")
                _kill(pid)
        for b in self.bundles:
            for pid, _ in processes_in(b.path):
                problems.append(f"process {pid} inside bundle")
                _kill(pid)
        for b in self.bundles:
            # the bundle's own overlay rootfs is ours, not the runtime's: unmount it
            # before looking for what the runtime left mounted
            for err in b.close():
                problems.append(f"bundle overlay: {err}")
        mnts = mounts_under(self.dir)
        if mnts:
            problems.append(f"mounts left: {mnts}")
            for m in sorted(mnts, key=len, reverse=True):
                subprocess.run(["umount", "-l", m], capture_output=True)
        own = own_cgroup_dirs()
        for d in sorted(self.cgroups, key=lambda p: len(str(p)), reverse=True):
            if d in own or not d.exists():
                continue
            if _rmdir_cgroup(d):
                problems.append(f"cgroup left: {d}")
            else:
                problems.append(f"cgroup left and busy: {d}")
        shutil.rmtree(self.dir, ignore_errors=True)
        return problems


def _start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def _kill(pid: int) -> None:
    try:
        os.kill(pid, 9)
    except OSError:
        pass


def _rmdir_cgroup(d: Path, tries: int = 50) -> bool:
    for _ in range(tries):
        try:
            d.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            time.sleep(0.02)
    return False


def wait_for(pred: Callable[[], object], timeout: float = 5.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())


def sh(script: str) -> list[str]:
    return ["/bin/sh", "-c", script]


def mountinfo_line(pid: int, mountpoint: str) -> tuple[list[str], str] | None:
    """(per-mount options, super options) of the last mount at mountpoint in pid's view."""
    found = None
    with open(f"/proc/{pid}/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            a = pre.split()
            if a[4] == mountpoint:
                b = post.split()
                found = (a[5].split(","), b[2] if len(b) > 2 else "")
    return found


def lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def kv(text: str, sep: str = "=") -> dict[str, str]:
    out = {}
    for ln in lines(text):
        k, s, v = ln.partition(sep)
        if s:
            out[k.strip()] = v.strip()
    return out


def all_of(items: Iterable[object]) -> bool:
    return all(items)
