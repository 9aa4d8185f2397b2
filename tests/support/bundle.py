"""OCI bundles and a runtime-CLI wrapper for integration tests.

Everything here talks to the runtime only through the runc command line (see
shared/reference/oci-runtime-cli-contract.md), so the same tests run against
runc and against agentsh-runtime.  Pick the binary with AGENTSH_TEST_RUNTIME
(default: the repository's .venv/bin/agentsh-runtime).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.support.rootfs import cached_busybox_rootfs, copy_rootfs

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUNTIME = REPO_ROOT / ".venv" / "bin" / "agentsh-runtime"
DEFAULT_TIMEOUT = 30.0

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

# ---------------------------------------------------------------------------
# which runtime is under test


def runtime_binary() -> str:
    return os.environ.get("AGENTSH_TEST_RUNTIME") or str(DEFAULT_RUNTIME)


@functools.cache
def runtime_version(binary: str | None = None) -> str:
    binary = binary or runtime_binary()
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout


def is_runc(binary: str | None = None) -> bool:
    binary = binary or runtime_binary()
    first = runtime_version(binary).splitlines()[:1]
    if first:
        return first[0].startswith("runc version")
    return Path(binary).name == "runc"


def only_ours(reason: str) -> None:
    """Skip the calling test when the runtime under test is runc.

    The ONLY sanctioned skip of this suite: use it for an expectation the issue
    puts on agentsh-runtime that runc itself does not meet.
    """
    import pytest

    if is_runc():
        pytest.skip(f"runc does not do this (agentsh-runtime must): {reason}")


def new_id(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


_TEST_ID = re.compile(r"t[0-9a-f]{12}\d*")  # new_id(), maybe with a digit suffix


# ---------------------------------------------------------------------------
# config.json


def default_mounts() -> list[dict[str, Any]]:
    """The mounts `runc spec` writes."""
    return [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", "ro"],
        },
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
        },
    ]


DEFAULT_MASKED = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
]
DEFAULT_READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def default_config(args: Sequence[str] = ("sh",)) -> dict[str, Any]:
    """Like `runc spec`, but terminal false, a writable root and hostname "testhost"."""
    return {
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": list(args),
            "env": [f"PATH={DEFAULT_PATH}", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": list(DEFAULT_CAPS),
                "effective": list(DEFAULT_CAPS),
                "permitted": list(DEFAULT_CAPS),
                "ambient": list(DEFAULT_CAPS),
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "testhost",
        "mounts": default_mounts(),
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [
                {"type": "pid"},
                {"type": "network"},
                {"type": "ipc"},
                {"type": "uts"},
                {"type": "mount"},
            ],
            "maskedPaths": list(DEFAULT_MASKED),
            "readonlyPaths": list(DEFAULT_READONLY),
        },
    }


class Bundle:
    """A bundle directory: a private rootfs plus config.json.

    ``rootfs``: "overlay" (default) mounts an overlayfs over the cached busybox
    rootfs with its upper/work dirs in the bundle: private and writable, and a
    single mount instead of copying ~550 files; "copy" makes a plain copy; None
    makes no rootfs.  close() unmounts the overlay (the fixtures call it).

    Edit ``config`` (a dict) directly or through ``update()``; the Runtime
    wrapper writes config.json before create/run.
    """

    def __init__(self, path: Path, *, rootfs: str | None = "overlay", **overrides: Any) -> None:
        self.path = Path(path).resolve()
        self.path.mkdir(parents=True, exist_ok=True)
        self.rootfs = self.path / "rootfs"
        self.overlay = False
        if rootfs == "overlay":
            self._mount_overlay()
        elif rootfs == "copy":
            copy_rootfs(self.rootfs)
        elif rootfs is not None:
            raise ValueError(f"rootfs must be 'overlay', 'copy' or None, not {rootfs!r}")
        self.config: dict[str, Any] = default_config()
        self.update(**overrides)

    def _mount_overlay(self) -> None:
        lower = cached_busybox_rootfs()
        upper, work = self.path / ".overlay" / "upper", self.path / ".overlay" / "work"
        for d in (upper, work, self.rootfs):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(upper, 0o755)
        subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir={lower},upperdir={upper},workdir={work}", str(self.rootfs)],
            check=True, capture_output=True, timeout=30,
        )
        self.overlay = True

    def foreign_mounts(self) -> list[str]:
        """Host mount points under the bundle other than our own overlay rootfs."""
        mnts = mounts_under(self.path)
        if self.overlay and str(self.rootfs) in mnts:
            mnts.remove(str(self.rootfs))  # the first (lowest) one is ours
        return mnts

    def remove_rootfs(self) -> None:
        """Make the rootfs disappear (for missing-rootfs tests)."""
        self.close()
        if self.rootfs.exists():
            shutil.rmtree(self.rootfs)

    def close(self) -> list[str]:
        """Unmount the overlay rootfs; returns an error text per failure."""
        errors = []
        if self.overlay:
            p = subprocess.run(["umount", str(self.rootfs)], capture_output=True, text=True,
                               timeout=30)
            if p.returncode != 0:
                errors.append(f"umount {self.rootfs}: {p.stderr.strip()}")
                subprocess.run(["umount", "-l", str(self.rootfs)], capture_output=True,
                               timeout=30)
            self.overlay = False
        return errors

    # -- config helpers ----------------------------------------------------
    @property
    def process(self) -> dict[str, Any]:
        return self.config.setdefault("process", {})

    @property
    def linux(self) -> dict[str, Any]:
        return self.config.setdefault("linux", {})

    def update(self, **kw: Any) -> Bundle:
        """Overrides: args, env (list or dict; replaces), add_env, cwd, user (dict or uid),
        terminal, console_size (h, w), readonly, hostname, domainname, mounts (replaces),
        add_mounts, namespaces (list of types or dicts), uid_mappings, gid_mappings,
        capabilities (list -> all five sets, or dict), rlimits, no_new_privileges,
        oom_score_adj, annotations, masked_paths, readonly_paths, devices, sysctl,
        rootfs_propagation, oci_version."""
        p = self.process
        for key, val in kw.items():
            if key == "args":
                p["args"] = list(val)
            elif key == "env":
                if isinstance(val, Mapping):
                    val = [f"{k}={v}" for k, v in val.items()]
                p["env"] = list(val)
            elif key == "add_env":
                if isinstance(val, Mapping):
                    val = [f"{k}={v}" for k, v in val.items()]
                p.setdefault("env", []).extend(val)
            elif key == "cwd":
                p["cwd"] = val
            elif key == "user":
                p["user"] = {"uid": val, "gid": val} if isinstance(val, int) else dict(val)
            elif key == "terminal":
                p["terminal"] = bool(val)
            elif key == "console_size":
                p["consoleSize"] = {"height": val[0], "width": val[1]}
            elif key == "readonly":
                self.config.setdefault("root", {"path": "rootfs"})["readonly"] = bool(val)
            elif key in ("hostname", "domainname"):
                self.config[key] = val
            elif key == "mounts":
                self.config["mounts"] = [dict(m) for m in val]
            elif key == "add_mounts":
                self.config.setdefault("mounts", []).extend(dict(m) for m in val)
            elif key == "namespaces":
                self.linux["namespaces"] = [
                    {"type": n} if isinstance(n, str) else dict(n) for n in val
                ]
            elif key == "uid_mappings":
                self.linux["uidMappings"] = list(val)
            elif key == "gid_mappings":
                self.linux["gidMappings"] = list(val)
            elif key == "capabilities":
                if isinstance(val, Mapping):
                    p["capabilities"] = {k: list(v) for k, v in val.items()}
                else:
                    caps = list(val)
                    p["capabilities"] = {
                        s: list(caps)
                        for s in ("bounding", "effective", "permitted", "inheritable", "ambient")
                    }
            elif key == "rlimits":
                p["rlimits"] = list(val)
            elif key == "no_new_privileges":
                p["noNewPrivileges"] = bool(val)
            elif key == "oom_score_adj":
                p["oomScoreAdj"] = val
            elif key == "annotations":
                self.config["annotations"] = dict(val)
            elif key == "masked_paths":
                self.linux["maskedPaths"] = list(val)
            elif key == "readonly_paths":
                self.linux["readonlyPaths"] = list(val)
            elif key == "devices":
                self.linux["devices"] = list(val)
            elif key == "sysctl":
                self.linux["sysctl"] = dict(val)
            elif key == "rootfs_propagation":
                self.linux["rootfsPropagation"] = val
            elif key == "oci_version":
                self.config["ociVersion"] = val
            else:
                raise TypeError(f"unknown bundle override {key!r}")
        return self

    def add_namespace(self, ns_type: str, path: str | None = None) -> Bundle:
        nss = [n for n in self.linux.setdefault("namespaces", []) if n["type"] != ns_type]
        entry: dict[str, Any] = {"type": ns_type}
        if path:
            entry["path"] = path
        nss.append(entry)
        self.linux["namespaces"] = nss
        return self

    def remove_namespace(self, ns_type: str) -> Bundle:
        self.linux["namespaces"] = [
            n for n in self.linux.get("namespaces", []) if n["type"] != ns_type
        ]
        return self

    def mount(self, destination: str, source: str, type_: str = "bind",
              options: Iterable[str] = ()) -> Bundle:
        m: dict[str, Any] = {"destination": destination, "source": source, "type": type_}
        m["options"] = list(options)
        self.config.setdefault("mounts", []).append(m)
        return self

    def write(self, raw: str | bytes | None = None) -> Path:
        """Write config.json (``raw`` overrides the dict, for malformed-config tests)."""
        f = self.path / "config.json"
        if raw is None:
            f.write_text(json.dumps(self.config, indent=2))
        elif isinstance(raw, bytes):
            f.write_bytes(raw)
        else:
            f.write_text(raw)
        return f

    def make_traversable(self) -> Bundle:
        """o+x on the bundle dir and its ancestors (pytest's tmp dirs are 0700), so a
        container root mapped to another host uid can reach its rootfs."""
        for d in [self.path, *self.path.parents]:
            mode = d.stat().st_mode
            if not mode & 0o001:
                os.chmod(d, (mode & 0o7777) | 0o011)
        return self

    def file(self, name: str) -> Path:
        """A path in the bundle dir (outside the rootfs): logs, pid files, outputs."""
        return self.path / name

    def __fspath__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"Bundle({str(self.path)!r})"


# ---------------------------------------------------------------------------
# the runtime CLI


def _read(p: Path | None) -> str:
    if p is None:
        return ""
    try:
        return p.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def proc_start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def pid_alive(pid: int, start: int | None = None) -> bool:
    """True if pid exists, is not a zombie, and (if given) has that start time."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return False
    return start is None or int(fields[19]) == start


class Runtime:
    """`RUNTIME --root ROOT [--log F --log-format json] CMD ...` with timeouts.

    Every method returns a CompletedProcess with text stdout/stderr.
    """

    def __init__(self, binary: str | os.PathLike[str], root: Path, *,
                 log: Path | None = None, log_format: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.binary = str(binary)
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.log = log
        self.log_format = log_format
        self.timeout = timeout
        # (pid, starttime) of every container/exec process we saw: checked at teardown.
        self.seen_pids: set[tuple[int, int | None]] = set()
        # every id we asked to create or run: their cgroups must be gone at teardown
        self.ids: set[str] = set()

    # -- plumbing ----------------------------------------------------------
    def global_args(self) -> list[str]:
        g = [self.binary, "--root", str(self.root)]
        if self.log is not None:
            g += ["--log", str(self.log)]
        if self.log_format is not None:
            g += ["--log-format", self.log_format]
        return g

    def cmd(self, *args: str | os.PathLike[str], timeout: float | None = None,
            stdin: Any = subprocess.DEVNULL, input: str | None = None,
            pass_fds: Sequence[int] = (), env: Mapping[str, str] | None = None,
            cwd: Path | None = None, child_fds: Mapping[int, int] | None = None,
            argv_prefix: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
        """Run the runtime.  child_fds {n: fd} gives the runtime our fd as its fd n
        (e.g. {3: r} for --preserve-fds) without touching our own fd n."""
        argv = list(argv_prefix) + self.global_args() + [str(a) for a in args]
        kw: dict[str, Any] = {}
        if input is not None:
            kw["input"] = input
        else:
            kw["stdin"] = stdin
        if child_fds:
            mapping = dict(child_fds)
            pass_fds = tuple(pass_fds) + tuple(mapping)

            def _dup_fds() -> None:
                for target, src in mapping.items():
                    os.dup2(src, target)

            kw["preexec_fn"] = _dup_fds
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout or self.timeout,
            pass_fds=tuple(pass_fds), env=dict(env) if env is not None else None, cwd=cwd,
            **kw,
        )

    def record_pid(self, pid: int) -> None:
        """Remember a container process: teardown checks it is gone."""
        if pid > 0:
            self.seen_pids.add((pid, proc_start_time(pid)))

    # -- commands ----------------------------------------------------------
    def run(self, bundle: Bundle, cid: str, *opts: str, timeout: float | None = None,
            stdin: Any = subprocess.DEVNULL, env: Mapping[str, str] | None = None,
            child_fds: Mapping[int, int] | None = None, argv_prefix: Sequence[str] = (),
            ) -> subprocess.CompletedProcess[str]:
        """`run` in the foreground: stdout/stderr are the container's (and runtime's)."""
        bundle.write()
        self.ids.add(cid)
        return self.cmd("run", "--bundle", bundle.path, *opts, cid, timeout=timeout,
                        stdin=stdin, env=env, child_fds=child_fds, argv_prefix=argv_prefix)

    def create(self, bundle: Bundle, cid: str, *opts: str, pid_file: Path | None = None,
               console_socket: str | os.PathLike[str] | None = None,
               stdout: Path | None = None, stderr: Path | None = None,
               pass_fds: Sequence[int] = (), env: Mapping[str, str] | None = None,
               timeout: float | None = None, write_config: bool = True,
               ) -> subprocess.CompletedProcess[str]:
        """`create`; the container init inherits stdio, so stdio are files, not pipes.

        stdout/stderr default to ``<bundle>/<cid>.out`` / ``<cid>.err``: the
        returned CompletedProcess holds what the runtime wrote there, and the
        container's later output lands in the same files (Runtime.output()).
        """
        if write_config:
            bundle.write()
        self.ids.add(cid)
        out = stdout or bundle.file(f"{_safe(cid)}.out")
        err = stderr or bundle.file(f"{_safe(cid)}.err")
        argv = self.global_args() + ["create", "--bundle", str(bundle.path)]
        if pid_file is not None:
            argv += ["--pid-file", str(pid_file)]
        if console_socket is not None:
            argv += ["--console-socket", str(console_socket)]
        argv += list(opts) + [cid]
        with open(out, "w") as fo, open(err, "w") as fe:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                               timeout=timeout or self.timeout, pass_fds=tuple(pass_fds),
                               env=dict(env) if env is not None else None)
        res = subprocess.CompletedProcess(argv, p.returncode, _read(out), _read(err))
        if res.returncode == 0:
            st = self.state_json(cid)
            if st:
                self.record_pid(int(st.get("pid") or 0))
        return res

    def run_background(self, bundle: Bundle, cid: str, *opts: str,
                       out: Path | None = None) -> subprocess.Popen[bytes]:
        """Start `run` (foreground mode) without waiting; stdio go to a file."""
        bundle.write()
        self.ids.add(cid)
        out = out or bundle.file(f"{_safe(cid)}.run.out")
        argv = self.global_args() + ["run", "--bundle", str(bundle.path), *opts, cid]
        with open(out, "w") as fo:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fo)

    def output(self, bundle: Bundle, cid: str) -> tuple[str, str]:
        """The container's stdout/stderr files written since create."""
        return _read(bundle.file(f"{_safe(cid)}.out")), _read(bundle.file(f"{_safe(cid)}.err"))

    def start(self, cid: str) -> subprocess.CompletedProcess[str]:
        return self.cmd("start", cid)

    def state(self, cid: str) -> subprocess.CompletedProcess[str]:
        return self.cmd("state", cid)

    def state_json(self, cid: str) -> dict[str, Any] | None:
        p = self.state(cid)
        if p.returncode != 0:
            return None
        return json.loads(p.stdout)

    def status(self, cid: str) -> str | None:
        st = self.state_json(cid)
        return st["status"] if st else None

    def wait_status(self, cid: str, status: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        st: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            st = self.state_json(cid)
            if st and st["status"] == status:
                return st
            time.sleep(0.02)
        raise AssertionError(f"{cid} never reached {status!r}; last state {st!r}")

    def kill(self, cid: str, sig: str | int | None = None, *, all: bool = False,
             ) -> subprocess.CompletedProcess[str]:
        args = ["kill"] + (["--all"] if all else []) + [cid]
        if sig is not None:
            args.append(str(sig))
        return self.cmd(*args)

    def delete(self, cid: str, *, force: bool = False) -> subprocess.CompletedProcess[str]:
        return self.cmd("delete", *(["--force"] if force else []), cid)

    def exec(self, cid: str, *command: str, opts: Sequence[str] = (),
             timeout: float | None = None, stdin: Any = subprocess.DEVNULL,
             pass_fds: Sequence[int] = ()) -> subprocess.CompletedProcess[str]:
        """`exec [opts] ID [command...]` in the foreground with captured output.

        With --detach the exec'd process inherits stdio: pass stdout/stderr files
        through exec_detached() instead.
        """
        return self.cmd("exec", *opts, cid, *command, timeout=timeout, stdin=stdin,
                        pass_fds=pass_fds)

    def exec_detached(self, cid: str, *command: str, opts: Sequence[str] = (),
                      out: Path, pid_file: Path | None = None,
                      ) -> subprocess.CompletedProcess[str]:
        argv = self.global_args() + ["exec", "--detach"]
        if pid_file is not None:
            argv += ["--pid-file", str(pid_file)]
        argv += list(opts) + [cid] + list(command)
        with open(out, "w") as fo:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fo,
                               timeout=self.timeout)
        res = subprocess.CompletedProcess(argv, p.returncode, _read(out), "")
        if pid_file is not None and p.returncode == 0:
            self.record_pid(int(pid_file.read_text()))
        return res

    def ps(self, cid: str, fmt: str | None = None, *ps_args: str,
           ) -> subprocess.CompletedProcess[str]:
        args = ["ps"] + (["--format", fmt] if fmt else []) + [cid] + list(ps_args)
        return self.cmd(*args)

    def list(self, fmt: str | None = None, *opts: str) -> subprocess.CompletedProcess[str]:
        return self.cmd("list", *(["--format", fmt] if fmt else []), *opts)

    # -- housekeeping --------------------------------------------------------
    def container_dirs(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir())

    def cleanup(self) -> list[str]:
        """Force-delete whatever is left in our --root; return what was there."""
        left = self.container_dirs()
        self.ids.update(left)
        for cid in left:
            try:
                self.delete(cid, force=True)
            except (subprocess.TimeoutExpired, OSError):
                pass
        return left


# ---------------------------------------------------------------------------
# leak checks


def mounts_under(path: Path) -> list[str]:
    """Mount points in our mount namespace at or under path."""
    prefix = str(Path(path).resolve())
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == prefix or mp.startswith(prefix + "/"):
                found.append(mp)
    return found


def cgroups_named(names: Iterable[str], root: str = "/sys/fs/cgroup",
                  max_depth: int = 6) -> list[str]:
    """cgroup directories (any hierarchy) whose name contains one of names."""
    names = [n for n in names if n]
    if not names:
        return []
    found = []
    base_depth = root.rstrip("/").count("/")
    for dirpath, dirnames, _files in os.walk(root):
        if dirpath.count("/") - base_depth >= max_depth:
            dirnames[:] = []
        for d in dirnames:
            if any(n in d for n in names):
                found.append(os.path.join(dirpath, d))
    return found


def remove_cgroups(paths: Iterable[str]) -> None:
    """rmdir leftover cgroup directories, deepest first (a cgroup with processes in it
    stays), then their parent `agentsh-runtime` directory when it is empty."""
    parents = set()
    for p in sorted(set(paths), key=len, reverse=True):
        try:
            os.rmdir(p)
        except OSError:
            continue
        parent = os.path.dirname(p)
        if os.path.basename(parent) == "agentsh-runtime":
            parents.add(parent)
    for p in parents:
        try:
            os.rmdir(p)
        except OSError:
            pass


def stale_test_cgroups(root: str = "/sys/fs/cgroup") -> list[str]:
    """cgroups of test containers (ids from new_id) under the runtime's default parent,
    left by an earlier run that was killed before its teardown."""
    found = []
    for hier in os.listdir(root):
        parent = os.path.join(root, hier, "agentsh-runtime")
        try:
            names = os.listdir(parent)
        except OSError:
            continue
        for n in names:
            full = os.path.join(parent, n)
            if _TEST_ID.fullmatch(n) and os.path.isdir(full):
                found.append(full)
    return found


def processes_in(path: Path) -> list[tuple[int, str]]:
    """Processes whose cwd or root (as seen from here) lies at/under path, or whose
    root mount is that path (a pivoted container: mountinfo's root field)."""
    prefix = str(Path(path).resolve())
    me = os.getpid()
    hits = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        pid = int(d)
        if not pid_alive(pid):
            continue
        for what in ("cwd", "root"):
            try:
                target = os.readlink(f"/proc/{pid}/{what}")
            except OSError:
                continue
            if target == prefix or target.startswith(prefix + "/"):
                hits.append((pid, f"{what}={target}"))
                break
        else:
            try:
                with open(f"/proc/{pid}/mountinfo") as f:
                    for line in f:
                        parts = line.split()
                        # the root mount of a pivoted container: a bind of a dir in the
                        # bundle (root field) or our overlay (upperdir= in super options)
                        if parts[4] == "/" and (parts[3] == prefix
                                                or parts[3].startswith(prefix + "/")
                                                or f"={prefix}/" in line):
                            hits.append((pid, f"root mount {parts[3]}"))
                            break
            except OSError:
                pass
    return hits


def cap_mask(names: Iterable[str]) -> int:
    """Bitmask of capability names (CAP_X), as /proc/self/status shows it."""
    mask = 0
    for n in names:
        mask |= 1 << CAP_NUMBERS[n.upper()]
    return mask


CAP_NUMBERS = {
    name: i
    for i, name in enumerate(
        [
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
            "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
            "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
            "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
            "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
            "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
            "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
            "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
            "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
            "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
            "CAP_CHECKPOINT_RESTORE",
        ]
    )
}



# ---------------------------------------------------------------------------
# small things the tests share

STOP_FILE = "stop"


def until_stop_file(before: str = "", name: str = STOP_FILE) -> list[str]:
    """args for an init that runs ``before`` then idles until /<name> exists in the rootfs
    (the test creates it from the host to make the container exit on its own)."""
    loop = f"while [ ! -e /{name} ]; do usleep 20000; done"
    return ["sh", "-c", f"{before}; {loop}" if before else loop]


def assert_error(res: subprocess.CompletedProcess[str], *needles: str,
                 one_line: bool = True) -> str:
    """A failed command: non-zero exit, a non-empty (one-line) error on stderr that
    contains each needle (case-insensitive).  Returns stderr."""
    err = res.stderr.strip()
    assert res.returncode != 0, f"expected failure, got 0; stdout={res.stdout!r} stderr={err!r}"
    assert err, f"no error message on stderr (exit {res.returncode})"
    if one_line:
        assert len(err.splitlines()) == 1, f"error is not one line: {err!r}"
    for n in needles:
        assert n.lower() in err.lower(), f"{n!r} not in error {err!r}"
    return err


def wait_for(pred: Any, timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
