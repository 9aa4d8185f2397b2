"""dockerd 20.10 on a private containerd 1.6, driving the runtime under test.

Everything the engines write goes under one base directory: containerd's root,
state, socket and config.toml; dockerd's data-root, exec-root, socket, pidfile
and daemon.json. Nothing on the host's default engine config is read or written.

Both daemons run in one private mount namespace (made by ``unshare --mount``,
dockerd joins it with ``nsenter``) where

* ``/etc/docker`` is a bind of ``BASE/etc-docker``: dockerd 20.10 otherwise
  writes its trust key to ``/etc/docker/key.json`` whatever its flags say;
* ``/run`` is a fresh tmpfs: dockerd creates ``/run/docker/plugins`` and the
  containerd 1.6 shims put their sockets in ``/run/containerd/s`` whatever
  ``--state`` says. The runtime itself, called by the shim, runs in the same
  namespace, so every path it sees is consistent.

The namespace also holds every mount the engines make (dockerd binds its
data-root onto itself, overlay rootfs, shm, netns files) and goes away with
the last daemon. Containers run with ``--network none``; dockerd runs with
``--iptables=false --ip-forward=false --ip-masq=false --bridge=none``, so the
host's network configuration is never touched. Each dockerd has its own
containerd namespace and ``cgroup-parent`` (``/agentsh-e2e-docker-<token>``), so
what its containers leave is easy to find and remove; teardown stops dockerd,
then containerd, kills any shim or container process still there (by pid),
removes the cgroups and the base directory, and checks that no host path in
``HOST_PATHS_UNTOUCHED`` appeared.

The runtime under test is registered in daemon.json under several names
(see ``standard_runtimes``):

``agentsh``         RUNTIME with ``runtimeArgs: ["--debug"]``;
``agentsh-traced``  the same through a recording wrapper that appends each argv
                    it is called with to ``BASE/argv-agentsh-traced.log``;
``agentsh-policy``  recorded, with ``["--debug", "--default-policy", "default"]``;
``broken``          a path that does not exist.

Used by tests/e2e/test_docker.py and bench/engines; ``python -m tests.e2e.docker
timings`` prints dockerd's start time and the median ``docker run --rm`` time of
/bin/true for runc and the runtime under test.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from tests.e2e.podman import Missing, processes_mentioning, runtime_under_test

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGE = "busybox-test:latest"
RUNTIME_NAME = "agentsh"
DEFAULT_TIMEOUT = 60.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
CGROUP_ROOT = Path("/sys/fs/cgroup")

# Host paths a stray dockerd/containerd would create; none may appear because of us.
HOST_PATHS_UNTOUCHED = (
    "/etc/docker/key.json", "/etc/docker/daemon.json", "/var/lib/docker", "/run/docker",
    "/run/docker.sock", "/var/lib/containerd", "/opt/containerd",
)

__all__ = [
    "IMAGE", "REPO_ROOT", "RUNTIME_NAME", "Containerd", "DockerLab", "Dockerd", "Missing",
    "recorded_calls", "recording_wrapper", "require_tools", "runtime_under_test",
    "standard_runtimes", "time_runs",
]


def require_tools(runtime: str) -> None:
    """Raise Missing naming the first absent prerequisite."""
    for tool, pkg in (("dockerd", "docker.io"), ("docker", "docker.io"),
                      ("containerd", "containerd"), ("containerd-shim-runc-v2", "containerd"),
                      ("ctr", "containerd"), ("runc", "runc"),
                      ("unshare", "util-linux"), ("nsenter", "util-linux"),
                      ("tar", "tar")):
        if shutil.which(tool) is None:
            raise Missing(f"{tool} is not installed (apt-get install {pkg}; run `make setup`)")
    if not os.path.isdir("/etc/docker"):
        raise Missing("/etc/docker is missing (it belongs to docker.io: apt-get install "
                      "--reinstall docker.io)")
    if not Path("/bin/busybox").exists():
        raise Missing("/bin/busybox is missing (apt-get install busybox-static)")
    if not (os.path.isfile(runtime) and os.access(runtime, os.X_OK)):
        raise Missing(
            f"runtime under test not found or not executable: {runtime} "
            "(build it with `make setup`, or set AGENTSH_TEST_RUNTIME)"
        )


def host_paths_present() -> set[str]:
    return {p for p in HOST_PATHS_UNTOUCHED if os.path.lexists(p)}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _stop_process(proc: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM our own child, SIGKILL after timeout; always reaped."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def _wait_until(pred, timeout: float, what: str, proc: subprocess.Popen, log: Path) -> float:
    t0 = time.monotonic()
    while True:
        if pred():
            return time.monotonic() - t0
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode} before it was ready; "
                                 f"log {log}:\n{_tail(log)}")
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"{what} not ready after {timeout}s; log {log}:\n{_tail(log)}")
        time.sleep(0.02)


def _tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError as e:
        return f"({e})"


def _http_ping(sock: Path) -> bool:
    """GET /_ping on a unix socket: True on HTTP 200."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(str(sock))
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.0 200")
    except OSError:
        return False


def mount_points(mountinfo_path: str, prefix: str | None = None) -> list[str]:
    out = []
    try:
        with open(mountinfo_path) as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        mnt = line.split()[4].replace("\\040", " ")
        if prefix is None or mnt == prefix or mnt.startswith(prefix.rstrip("/") + "/"):
            out.append(mnt)
    return out


# -- containerd ---------------------------------------------------------------
class Containerd:
    """A containerd 1.6 with private dirs, in its own mount namespace (see module doc)."""

    def __init__(self, base: Path, *, timeout: float = DEFAULT_TIMEOUT):
        self.base = Path(base)
        self.dir = self.base / "containerd"
        self.root = self.dir / "root"
        self.state = self.dir / "state"
        self.sock = self.dir / "containerd.sock"
        self.config = self.dir / "config.toml"
        self.log = self.dir / "containerd.log"
        self.etc_docker = self.base / "etc-docker"
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None
        self.startup_seconds: float | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def mnt_ns(self) -> str:
        return f"/proc/{self.pid}/ns/mnt"

    def write_config(self) -> None:
        for d in (self.root, self.state, self.dir / "opt", self.etc_docker):
            d.mkdir(parents=True, exist_ok=True)
        q = json.dumps
        self.config.write_text(
            "version = 2\n"
            f"root = {q(str(self.root))}\n"
            f"state = {q(str(self.state))}\n"
            "# CRI needs CNI and a pause image, neither of which exists here\n"
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            "\n[grpc]\n"
            f"  address = {q(str(self.sock))}\n"
            "\n[ttrpc]\n"
            f"  address = {q(str(self.sock) + '.ttrpc')}\n"
            "\n[debug]\n"
            '  address = ""\n'
            "\n[metrics]\n"
            '  address = ""\n'
            '\n[plugins."io.containerd.internal.v1.opt"]\n'
            f"  path = {q(str(self.dir / 'opt'))}\n"
        )

    def start(self) -> None:
        self.write_config()
        script = (
            "set -e\n"
            'mount --bind "$1" /etc/docker\n'
            "mount -t tmpfs -o mode=0755,size=64m agentsh-e2e-run /run\n"
            'shift\nexec "$@"\n'
        )
        argv = ["unshare", "--mount", "--propagation", "private", "--",
                "sh", "-c", script, "containerd-e2e", str(self.etc_docker),
                "containerd", "--config", str(self.config)]
        t0 = time.monotonic()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_until(self._ready, START_TIMEOUT, "containerd", self.proc, self.log)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        # unshare and sh exec'd: our child is containerd itself, in the new namespace
        exe = os.readlink(f"/proc/{self.pid}/exe")
        if os.path.basename(exe) != "containerd":
            self.stop()
            raise AssertionError(f"pid {self.pid} is {exe}, not containerd")

    def _ready(self) -> bool:
        if not self.sock.exists():
            return False
        cp = self.ctr("version", timeout=10)
        return cp.returncode == 0 and "Server:" in cp.stdout

    def ctr(self, *args: str, namespace: str = "default",
            timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                ["ctr", "--address", str(self.sock), "--namespace", namespace, *args],
                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                timeout=timeout or self.timeout,
            )
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"ctr timed out after {e.timeout}s: {' '.join(args)}") from None

    def mountinfo_mounts(self, prefix: str | None = None) -> list[str]:
        """Mount points in the daemons' namespace (at or below prefix)."""
        return mount_points(f"/proc/{self.pid}/mountinfo", prefix)

    def ns_path(self, path: str) -> Path:
        """A path as the daemons see it (their /run is private)."""
        return Path(f"/proc/{self.pid}/root") / path.lstrip("/")

    def shim_socket(self, namespace: str, cid: str) -> Path:
        """Where containerd 1.6 puts a task's shim socket (runtime/v2/shim SocketAddress)."""
        h = hashlib.sha256(os.path.join(str(self.sock), namespace, cid).encode()).hexdigest()
        return self.ns_path(f"/run/containerd/s/{h}")

    def shim_pids(self, namespace: str | None = None) -> list[tuple[int, str]]:
        """containerd-shim-runc-v2 processes serving this containerd (and namespace)."""
        needle = f"-address {self.sock}"
        out = []
        for pid, cmd in processes_mentioning([needle]):
            if "containerd-shim" not in cmd.split(" ", 1)[0]:
                continue
            if namespace is None or f"-namespace {namespace} " in cmd:
                out.append((pid, cmd))
        return out

    def stop(self) -> None:
        if self.proc is None:
            return
        _stop_process(self.proc)


# -- dockerd ----------------------------------------------------------------
def recording_wrapper(path: Path, runtime: str, log: Path) -> Path:
    """A wrapper recording each argv (tab-separated, one call a line) then exec'ing runtime."""
    path.write_text(
        "#!/bin/sh\n"
        "# test wrapper: record the argv the shim used, then run the runtime under test\n"
        f"{{ for a in \"$@\"; do printf '%s\\t' \"$a\"; done; echo; }} >> {shlex.quote(str(log))}\n"
        f"exec {shlex.quote(runtime)} \"$@\"\n"
    )
    path.chmod(0o755)
    return path


def standard_runtimes(base: Path, runtime: str) -> dict[str, dict]:
    """The daemon.json `runtimes` the tests use (see module doc)."""
    bindir = base / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    traced = recording_wrapper(bindir / "agentsh-traced", runtime,
                               base / "argv-agentsh-traced.log")
    policy = recording_wrapper(bindir / "agentsh-policy", runtime,
                               base / "argv-agentsh-policy.log")
    return {
        RUNTIME_NAME: {"path": runtime, "runtimeArgs": ["--debug"]},
        "agentsh-traced": {"path": str(traced), "runtimeArgs": ["--debug"]},
        "agentsh-policy": {"path": str(policy),
                           "runtimeArgs": ["--debug", "--default-policy", "default"]},
        "broken": {"path": str(base / "no-such-dir" / "agentsh-runtime")},
    }


def recorded_calls(base: Path, name: str) -> list[list[str]]:
    """The argvs a recording wrapper saw (without argv[0])."""
    try:
        text = (base / f"argv-{name}.log").read_text()
    except FileNotFoundError:
        return []
    return [line.rstrip("\t").split("\t") if line else [] for line in text.splitlines()]


class Dockerd:
    """dockerd 20.10 with private dirs on a Containerd, and a `docker` client for it."""

    def __init__(
        self,
        ctrd: Containerd,
        name: str,
        runtimes: dict[str, dict],
        *,
        default_runtime: str | None = None,
        namespace: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ):
        self.ctrd = ctrd
        self.name = name
        self.base = ctrd.base / name
        self.data_root = self.base / "root"
        self.exec_root = self.base / "exec"
        self.sock = self.base / "docker.sock"
        self.pidfile = self.base / "docker.pid"
        self.config = self.base / "daemon.json"
        self.client_config = self.base / "client"
        self.cidfiles = self.base / "cidfiles"
        self.log = self.base / "dockerd.log"
        self.namespace = namespace or f"agentsh-e2e-{name}"
        self.token = uuid.uuid4().hex[:10]
        self.cgroup_parent = f"agentsh-e2e-docker-{self.token}"
        self.runtimes = runtimes
        self.default_runtime = default_runtime
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None
        self.startup_seconds: float | None = None
        self.seen_ids: list[str] = []
        self._pending_cidfiles: list[Path] = []

    # -- configuration and lifecycle -------------------------------------------
    @property
    def daemon_json(self) -> dict:
        doc: dict = {
            "runtimes": self.runtimes,
            "cgroup-parent": "/" + self.cgroup_parent,
            "exec-opts": ["native.cgroupdriver=cgroupfs"],
            "storage-driver": "overlay2",
            "log-driver": "json-file",
            "ipv6": False,
        }
        if self.default_runtime:
            doc["default-runtime"] = self.default_runtime
        return doc

    @property
    def runc_root(self) -> Path:
        """Where the shim's runtime keeps state: <exec-root>/runtime-runc/<namespace>."""
        return self.exec_root / "runtime-runc" / self.namespace

    def bundle(self, cid: str) -> Path:
        return self.ctrd.state / "io.containerd.runtime.v2.task" / self.namespace / cid

    def wrapper_script(self, runtime_name: str) -> Path:
        return self.data_root / "runtimes" / runtime_name

    def dockerd_argv(self) -> list[str]:
        return [
            "dockerd",
            "--data-root", str(self.data_root),
            "--exec-root", str(self.exec_root),
            "-H", f"unix://{self.sock}",
            "--pidfile", str(self.pidfile),
            "--containerd", str(self.ctrd.sock),
            "--containerd-namespace", self.namespace,
            "--containerd-plugins-namespace", self.namespace + "-plugins",
            "--config-file", str(self.config),
            "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false",
            "--bridge=none", "--userland-proxy=false",
            # the default -500 needs CAP_SYS_RESOURCE, missing here
            "--oom-score-adjust=0",
        ]

    def start(self) -> float:
        """Start dockerd in the containerd's mount namespace; returns the seconds to /_ping."""
        for d in (self.data_root, self.exec_root, self.client_config, self.cidfiles):
            d.mkdir(parents=True, exist_ok=True)
        (self.client_config / "config.json").write_text("{}\n")
        self.config.write_text(json.dumps(self.daemon_json, indent=2) + "\n")
        argv = ["nsenter", f"--mount={self.ctrd.mnt_ns}", "--", *self.dockerd_argv()]
        t0 = time.monotonic()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_until(lambda: _http_ping(self.sock), START_TIMEOUT, "dockerd",
                        self.proc, self.log)
        except BaseException:
            _stop_process(self.proc)
            raise
        self.startup_seconds = time.monotonic() - t0
        return self.startup_seconds

    def stop(self) -> None:
        if self.proc is not None:
            _stop_process(self.proc)

    # -- the docker client -----------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
            env.pop(k, None)
        env["DOCKER_CONFIG"] = str(self.client_config)
        return env

    def argv(self, *args: str) -> list[str]:
        return ["docker", "-H", f"unix://{self.sock}", *args]

    def __call__(
        self,
        *args: str,
        timeout: float | None = None,
        check: bool = False,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``docker -H unix://SOCK ARGS``; output captured as text."""
        try:
            cp = subprocess.run(
                self.argv(*args), env=self.env, input=input,
                stdin=None if input is not None else subprocess.DEVNULL,
                capture_output=True, text=True, timeout=timeout or self.timeout,
            )
        except subprocess.TimeoutExpired as e:
            raise AssertionError(
                f"docker timed out after {e.timeout}s: {' '.join(args)}\n"
                f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}"
            ) from None
        if check and cp.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)} exited {cp.returncode}\n"
                f"stdout: {cp.stdout}\nstderr: {cp.stderr}"
            )
        return cp

    def _cidfile(self) -> Path:
        return self.cidfiles / f"{uuid.uuid4().hex}.cid"

    def _remember(self, cidfile: Path) -> str | None:
        try:
            cid = cidfile.read_text().strip()
        except FileNotFoundError:
            return None
        if cid and cid not in self.seen_ids:
            self.seen_ids.append(cid)
        return cid or None

    def run_args(self, *args: str, runtime: str | None = RUNTIME_NAME,
                 image: str = IMAGE, cmd: Sequence[str] = ()) -> tuple[list[str], Path]:
        cidfile = self._cidfile()
        rt = ["--runtime", runtime] if runtime else []
        return (["run", *rt, "--network", "none", "--cidfile", str(cidfile), *args, image, *cmd],
                cidfile)

    def run(
        self,
        *args: str,
        runtime: str | None = RUNTIME_NAME,
        image: str = IMAGE,
        cmd: Sequence[str] = (),
        timeout: float | None = None,
        check: bool = False,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``docker run --runtime RUNTIME --network none --cidfile F ARGS IMAGE CMD``."""
        full, cidfile = self.run_args(*args, runtime=runtime, image=image, cmd=cmd)
        try:
            return self(*full, timeout=timeout, check=check, input=input)
        finally:
            self._remember(cidfile)

    def run_detached(self, *args: str, runtime: str | None = RUNTIME_NAME,
                     image: str = IMAGE, cmd: Sequence[str] = ()) -> str:
        cp = self.run("-d", *args, runtime=runtime, image=image, cmd=cmd, check=True)
        return cp.stdout.strip().splitlines()[-1]

    def run_argv(self, *args: str, runtime: str | None = RUNTIME_NAME,
                 image: str = IMAGE, cmd: Sequence[str] = ()) -> list[str]:
        """The full argv (for script(1)) of a docker run; the id is collected later."""
        full, cidfile = self.run_args(*args, runtime=runtime, image=image, cmd=cmd)
        self._pending_cidfiles.append(cidfile)
        return self.argv(*full)

    def collect_pending(self) -> None:
        for f in self._pending_cidfiles:
            self._remember(f)
        self._pending_cidfiles = []

    # -- queries -----------------------------------------------------------------
    def container_ids(self) -> list[str]:
        return self("ps", "-a", "-q", "--no-trunc", check=True).stdout.split()

    def inspect(self, cid: str) -> dict:
        cp = self("inspect", "--type", "container", cid, check=True)
        return json.loads(cp.stdout)[0]

    def wait_exit(self, cid: str, timeout: float = 30) -> int:
        cp = self("wait", cid, timeout=timeout, check=True)
        return int(cp.stdout.strip().splitlines()[-1])

    def wait_running(self, cid: str, timeout: float = 15) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.inspect(cid)["State"]
            if st["Status"] == "running" and st["Pid"] > 0:
                return st
            time.sleep(0.05)
        raise AssertionError(f"container {cid[:12]} not running after {timeout}s")

    def logs(self, cid: str) -> tuple[str, str]:
        cp = self("logs", cid)
        return cp.stdout, cp.stderr

    def wait_for_log(self, cid: str, text: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        out = ""
        while time.monotonic() < deadline:
            out = "".join(self.logs(cid))
            if text in out:
                return out
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not in logs of {cid[:12]} after {timeout}s: {out!r}")

    def has_image(self, name: str = IMAGE) -> bool:
        return self("image", "inspect", name).returncode == 0

    # -- images --------------------------------------------------------------------
    def import_rootfs(self, rootfs: Path, name: str = IMAGE) -> None:
        """``tar -C ROOTFS -c . | docker import - NAME`` (no registry involved)."""
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        try:
            cp = subprocess.run(self.argv("import", "-", name), env=self.env, stdin=tar.stdout,
                                capture_output=True, text=True, timeout=self.timeout * 2)
        finally:
            assert tar.stdout is not None
            tar.stdout.close()
            tar.wait(timeout=self.timeout)
        if tar.returncode != 0 or cp.returncode != 0:
            raise AssertionError(f"docker import failed: tar={tar.returncode} {cp.stderr}")

    def ensure_image(self, name: str = IMAGE) -> None:
        if self.has_image(name):
            return
        from tests.support.rootfs import build_busybox_rootfs

        with tempfile.TemporaryDirectory(prefix="rootfs-", dir=self.base) as d:
            self.import_rootfs(build_busybox_rootfs(Path(d) / "rootfs"), name)

    # -- the host side of a container ----------------------------------------------
    def cgroup_dir(self, pid: int, controller: str) -> Path:
        """The v1 cgroup directory of a host pid for one controller."""
        with open(f"/proc/{pid}/cgroup") as f:
            for line in f:
                _, ctrls, path = line.rstrip("\n").split(":", 2)
                if controller in ctrls.split(","):
                    return CGROUP_ROOT / controller / path.lstrip("/")
        raise AssertionError(f"pid {pid} has no {controller} cgroup")

    def cgroup_dirs(self) -> list[Path]:
        """Every cgroup directory below our cgroup-parent, deepest first."""
        found = []
        for top in glob.glob(str(CGROUP_ROOT / "*" / self.cgroup_parent)):
            for dirpath, _dirs, _files in os.walk(top):
                found.append(Path(dirpath))
        return sorted(found, key=lambda p: len(p.parts), reverse=True)

    # -- leftovers and cleanup -----------------------------------------------------
    def leftovers(self, ids: Sequence[str]) -> list[str]:
        """What containers left behind: state, bundles, shims, processes, mounts, cgroups."""
        problems: list[str] = []
        if self.runc_root.exists():
            for e in sorted(self.runc_root.iterdir()):
                problems.append(f"runtime state left: {e}")
        tasks_dir = self.ctrd.state / "io.containerd.runtime.v2.task" / self.namespace
        if tasks_dir.exists():
            for e in sorted(tasks_dir.iterdir()):
                problems.append(f"containerd bundle left: {e}")
        for what in ("containers", "tasks"):
            cp = self.ctrd.ctr(what, "ls", "-q", namespace=self.namespace)
            if cp.returncode != 0:
                problems.append(f"ctr {what} ls failed: {cp.stderr.strip()}")
            elif cp.stdout.split():
                problems.append(f"containerd {what} left: {cp.stdout.split()}")
        for pid, cmd in self.ctrd.shim_pids(self.namespace):
            problems.append(f"shim left: pid {pid}: {cmd[:200]}")
        for pid, cmd in processes_mentioning(list(ids) + [self.cgroup_parent + "/"]):
            problems.append(f"process left: pid {pid}: {cmd[:200]}")
        for cid in ids:
            if self.ctrd.shim_socket(self.namespace, cid).exists():
                problems.append(f"shim socket left for {cid[:12]}")
        for mnt in self.ctrd.mountinfo_mounts(str(self.base)):
            if mnt in (str(self.data_root), str(self.exec_root)):
                continue  # dockerd's own binds of its roots, made at start
            problems.append(f"mount left (daemons' namespace): {mnt}")
        for mnt in mount_points("/proc/self/mountinfo"):
            if any(cid in mnt for cid in ids) or mnt.startswith(str(self.base) + "/"):
                problems.append(f"mount left (host): {mnt}")
        for d in self.cgroup_dirs():
            if d.name != self.cgroup_parent:
                problems.append(f"cgroup left: {d}")
        return problems

    def remove_all(self) -> list[str]:
        ids = self.container_ids()
        if ids:
            self("rm", "-f", *ids, timeout=120)
        return ids

    def cleanup_host(self) -> list[str]:
        """After dockerd and its shims are gone: kill strays, remove our cgroups."""
        problems = []
        for d in self.cgroup_dirs():
            procs = d / "cgroup.procs"
            try:
                pids = [int(p) for p in procs.read_text().split()]
            except OSError:
                pids = []
            for pid in pids:
                problems.append(f"process left in {d}: pid {pid}")
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for d in self.cgroup_dirs():
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                problems.append(f"cgroup could not be removed: {d}")
        return problems


class DockerLab:
    """One private containerd and the dockerds started on it; `close()` removes it all."""

    def __init__(self, runtime: str, *, base: Path | None = None):
        self.runtime = runtime
        self.base = Path(base or tempfile.mkdtemp(prefix="agentsh-docker-e2e-", dir="/tmp"))
        self.host_before = host_paths_present()
        self.ctrd = Containerd(self.base)
        self.engines: list[Dockerd] = []
        self.runtimes = standard_runtimes(self.base, runtime)

    def start(self) -> None:
        self.ctrd.start()

    def engine(self, name: str, *, default_runtime: str | None = None,
               runtimes: dict[str, dict] | None = None) -> Dockerd:
        d = Dockerd(self.ctrd, name, runtimes or self.runtimes, default_runtime=default_runtime)
        self.engines.append(d)
        d.start()
        d.ensure_image()
        return d

    def stop_engine(self, d: Dockerd) -> list[str]:
        problems: list[str] = []
        try:
            if d.proc is not None and d.proc.poll() is None:
                left = d.remove_all()
                if left:
                    problems.append(f"{d.name}: containers removed at teardown: {left}")
        finally:
            d.stop()
        for pid, cmd in self.ctrd.shim_pids(d.namespace):
            problems.append(f"{d.name}: shim left after dockerd stopped: pid {pid} {cmd[:120]}")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        problems += [f"{d.name}: {p}" for p in d.cleanup_host()]
        return problems

    def close(self) -> list[str]:
        """Stop everything, remove every dir, mount and cgroup; returns what was wrong."""
        problems: list[str] = []
        try:
            for d in reversed(self.engines):
                problems += self.stop_engine(d)
        finally:
            self.ctrd.stop()
            for pid, cmd in self.ctrd.shim_pids():
                problems.append(f"shim left after containerd stopped: pid {pid} {cmd[:120]}")
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for d in self.engines:
                d.cleanup_host()
            host = mount_points("/proc/self/mountinfo", str(self.base))
            for mnt in sorted(host, key=len, reverse=True):
                problems.append(f"host mount left: {mnt}")
                subprocess.run(["umount", "-l", mnt], capture_output=True, timeout=30)
            shutil.rmtree(self.base, ignore_errors=True)
            if self.base.exists():
                problems.append(f"could not remove {self.base}")
            new = host_paths_present() - self.host_before
            if new:
                problems.append(f"host paths created: {sorted(new)}")
        return problems


# -- timings for bench/engines ---------------------------------------------------
def time_runs(d: Dockerd, runtime_name: str, n: int = 10,
              cmd: Sequence[str] = ("/bin/true",)) -> list[float]:
    """Wall seconds of each ``docker run --rm --network none IMAGE CMD`` with a runtime."""
    times = []
    for _ in range(n):
        argv = d.argv("run", "--rm", "--runtime", runtime_name, "--network", "none", IMAGE, *cmd)
        t0 = time.monotonic()
        cp = subprocess.run(argv, env=d.env, stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=d.timeout)
        times.append(time.monotonic() - t0)
        if cp.returncode != 0:
            raise AssertionError(f"{runtime_name}: docker run exited {cp.returncode}: {cp.stderr}")
    return times


BENCH_RUNTIMES = {
    "runc": "dockerd's built-in runc",
    "runc-path": "runc registered by path",
    "agentsh-plain": "runtime under test by path, no runtimeArgs",
    RUNTIME_NAME: 'runtime under test, runtimeArgs ["--debug"] (wrapper script)',
}


def timings(argv: Sequence[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m tests.e2e.docker timings")
    ap.add_argument("--runtime", default=runtime_under_test())
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    ns = ap.parse_args(argv)
    try:
        require_tools(ns.runtime)
    except Missing as e:
        print(f"timings: {e}", file=sys.stderr)
        return 1
    runc = shutil.which("runc") or "runc"
    lab = DockerLab(ns.runtime)
    result: dict = {}
    try:
        lab.start()
        rts = dict(lab.runtimes)
        rts["agentsh-plain"] = {"path": ns.runtime}
        rts["runc-path"] = {"path": runc}
        d = lab.engine("bench", runtimes=rts)
        result["containerd_start_s"] = lab.ctrd.startup_seconds
        result["dockerd_start_s"] = d.startup_seconds
        runs: dict[str, list[float]] = {name: [] for name in BENCH_RUNTIMES}
        for name in BENCH_RUNTIMES:
            time_runs(d, name, 2)  # warm up
        for _ in range(ns.n):  # interleaved, so drift hits every runtime alike
            for name in BENCH_RUNTIMES:
                runs[name] += time_runs(d, name, 1)
        for name, ts in runs.items():
            result[name] = {"median_s": statistics.median(ts), "runs": ts}
        base_s = result["runc"]["median_s"]
        for name in BENCH_RUNTIMES:
            result[name]["ratio_to_runc"] = result[name]["median_s"] / base_s
    finally:
        problems = lab.close()
    if ns.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"containerd start {result.get('containerd_start_s') or 0:.3f}s, "
              f"dockerd start {result.get('dockerd_start_s') or 0:.3f}s")
        for name in BENCH_RUNTIMES:
            if name in result:
                r = result[name]
                print(f"docker run --rm /bin/true  {name:14s} median {r['median_s']:.3f}s "
                      f"({r['ratio_to_runc']:.2f}x runc)  {BENCH_RUNTIMES[name]}")
    for p in problems:
        print(f"timings: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "timings":
        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))
        sys.exit(timings(sys.argv[2:]))
    print("usage: python -m tests.e2e.docker timings [--runtime PATH] [--n N] [--json]",
          file=sys.stderr)
    sys.exit(2)
