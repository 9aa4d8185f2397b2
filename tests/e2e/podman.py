"""A small wrapper around the real podman, with a private store and config.

Everything podman writes goes under one base directory: image store (--root),
run state (--runroot), libpod tmp dir and file locks (--tmpdir), events log,
network config dir, storage.conf and containers.conf. Nothing under /etc or
/var/lib/containers is touched, and every container runs with
``--network none`` (and the config's default netns is "none" as well).

Used by tests/e2e (fixtures in conftest.py), bench/lifecycle and ``make demo``
(``python -m tests.e2e.podman demo``).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUNTIME = REPO_ROOT / ".venv" / "bin" / "agentsh-runtime"
IMAGE = "localhost/busybox-test:latest"
DEFAULT_TIMEOUT = 60.0

# Where each runtime keeps its per-container state when podman calls it
# (podman passes no --root, so the runtime default applies).
STATE_ROOTS = {
    "runc": Path("/run/runc"),
    "crun": Path("/run/crun"),
}
AGENTSH_STATE_ROOT = Path("/run/agentsh-runtime")


class Missing(RuntimeError):
    """Something the engine needs is not installed; the message names it."""


def runtime_under_test() -> str:
    """AGENTSH_TEST_RUNTIME, else <repo>/.venv/bin/agentsh-runtime."""
    return os.environ.get("AGENTSH_TEST_RUNTIME") or str(DEFAULT_RUNTIME)


def state_root_for(runtime: str) -> Path:
    return STATE_ROOTS.get(Path(runtime).name, AGENTSH_STATE_ROOT)


def require_tools(runtime: str) -> None:
    """Raise Missing naming the first absent prerequisite."""
    if shutil.which("podman") is None:
        raise Missing("podman is not installed (apt-get install podman; run `make setup`)")
    if not any(Path(p).exists() for p in ("/usr/bin/conmon", "/usr/libexec/podman/conmon")):
        raise Missing("conmon is not installed (apt-get install conmon; run `make setup`)")
    if not Path("/bin/busybox").exists():
        raise Missing("/bin/busybox is missing (apt-get install busybox-static)")
    if not (os.path.isfile(runtime) and os.access(runtime, os.X_OK)):
        raise Missing(
            f"runtime under test not found or not executable: {runtime} "
            "(build it with `make setup`, or set AGENTSH_TEST_RUNTIME)"
        )


def _toml_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


class Podman:
    """podman with private dirs under ``base``; ``runtime`` is a binary path."""

    def __init__(self, base: Path, runtime: str, *, timeout: float = DEFAULT_TIMEOUT):
        self.base = Path(base)
        self.runtime = str(runtime)
        self.timeout = timeout
        self.root = self.base / "root"
        self.runroot = self.base / "runroot"
        self.tmpdir = self.base / "tmp"
        self.conf = self.base / "containers.conf"
        self.storage_conf = self.base / "storage.conf"
        self.events_log = self.base / "events.log"
        self.cidfiles = self.base / "cidfiles"
        self.seen_ids: list[str] = []  # every container id podman reported through --cidfile
        self._pending_cidfiles: list[Path] = []
        self._write_config()

    # -- configuration -----------------------------------------------------
    def _write_config(self) -> None:
        for d in (self.root, self.runroot, self.tmpdir, self.cidfiles, self.base / "cni"):
            d.mkdir(parents=True, exist_ok=True)
        self.storage_conf.write_text(
            "[storage]\n"
            'driver = "overlay"\n'
            f"graphroot = {json.dumps(str(self.root))}\n"
            f"runroot = {json.dumps(str(self.runroot))}\n"
        )
        runtimes = ["crun", "runc", "kata", "runsc", "krun", "agentsh-runtime", "agentsh"]
        self.conf.write_text(
            "[containers]\n"
            'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
            'log_driver = "k8s-file"\n'
            'netns = "none"\n'
            "\n[network]\n"
            f"network_config_dir = {json.dumps(str(self.base / 'cni'))}\n"
            "\n[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f"events_logfile_path = {json.dumps(str(self.events_log))}\n"
            'lock_type = "file"\n'
            f"tmp_dir = {json.dumps(str(self.tmpdir))}\n"
            f"runtime_supports_json = {_toml_list(runtimes)}\n"
            "\n[engine.runtimes]\n"
            f"agentsh = {_toml_list([self.runtime])}\n"
        )

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["CONTAINERS_CONF"] = str(self.conf)
        env["CONTAINERS_STORAGE_CONF"] = str(self.storage_conf)
        env.pop("CONTAINER_HOST", None)
        env.pop("DOCKER_HOST", None)
        return env

    def argv(self, *args: str) -> list[str]:
        return [
            "podman",
            "--root", str(self.root),
            "--runroot", str(self.runroot),
            "--tmpdir", str(self.tmpdir),
            "--storage-driver", "overlay",
            "--cgroup-manager", "cgroupfs",
            "--events-backend", "file",
            "--runtime", self.runtime,
            *args,
        ]

    def with_runtime(self, runtime: str) -> Podman:
        """The same store and config (not rewritten), calling another runtime binary."""
        other = copy.copy(self)
        other.runtime = str(runtime)
        return other

    # -- running podman ----------------------------------------------------
    def __call__(
        self,
        *args: str,
        timeout: float | None = None,
        check: bool = False,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``podman ARGS``; output captured as text."""
        cmd = self.argv(*args)
        try:
            cp = subprocess.run(
                cmd,
                env=self.env,
                input=input,
                stdin=None if input is not None else subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout or self.timeout,
            )
        except subprocess.TimeoutExpired as e:
            raise AssertionError(
                f"podman timed out after {e.timeout}s: {' '.join(args)}\n"
                f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}"
            ) from None
        if check and cp.returncode != 0:
            raise AssertionError(
                f"podman {' '.join(args)} exited {cp.returncode}\n"
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

    def run(
        self,
        *args: str,
        image: str = IMAGE,
        cmd: Sequence[str] = (),
        timeout: float | None = None,
        check: bool = False,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``podman run --network none --pull never --cidfile F ARGS IMAGE CMD``."""
        cidfile = self._cidfile()
        try:
            return self(
                "run", "--network", "none", "--pull", "never", "--cidfile", str(cidfile),
                *args, image, *cmd,
                timeout=timeout, check=check, input=input,
            )
        finally:
            self._remember(cidfile)

    def run_detached(self, *args: str, image: str = IMAGE, cmd: Sequence[str] = ()) -> str:
        """``podman run -d ...``; returns the full container id."""
        cp = self.run("-d", *args, image=image, cmd=cmd, check=True)
        return cp.stdout.strip().splitlines()[-1]

    def run_argv(self, *args: str, image: str = IMAGE, cmd: Sequence[str] = ()) -> list[str]:
        """The argv (for a terminal driver such as script or tmux) of a podman run."""
        cidfile = self._cidfile()
        self._pending_cidfiles.append(cidfile)
        return self.argv(
            "run", "--network", "none", "--pull", "never", "--cidfile", str(cidfile),
            *args, image, *cmd,
        )

    def collect_pending(self) -> None:
        """Record the ids of containers started through run_argv()."""
        for f in self._pending_cidfiles:
            self._remember(f)
        self._pending_cidfiles = []

    # -- queries -----------------------------------------------------------
    def container_ids(self) -> list[str]:
        cp = self("ps", "-a", "-q", "--no-trunc", check=True)
        return cp.stdout.split()

    def inspect(self, cid: str) -> dict:
        cp = self("inspect", "--type", "container", cid, check=True)
        return json.loads(cp.stdout)[0]

    def wait_exit(self, cid: str, timeout: float = 30) -> int:
        cp = self("wait", cid, timeout=timeout, check=True)
        return int(cp.stdout.strip().splitlines()[-1])

    def wait_running(self, cid: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.inspect(cid)["State"]["Status"] == "running":
                return
            time.sleep(0.1)
        raise AssertionError(f"container {cid[:12]} not running after {timeout}s")

    def has_image(self, name: str = IMAGE) -> bool:
        return self("image", "exists", name).returncode == 0

    # -- images ------------------------------------------------------------
    def import_rootfs(self, rootfs: Path, name: str = IMAGE) -> None:
        """``tar -C ROOTFS -c . | podman import - NAME`` (no registry involved)."""
        tar = subprocess.Popen(
            ["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE
        )
        try:
            cp = subprocess.run(
                self.argv("import", "-", name),
                env=self.env, stdin=tar.stdout, capture_output=True, text=True,
                timeout=self.timeout * 2,
            )
        finally:
            assert tar.stdout is not None
            tar.stdout.close()
            tar.wait(timeout=self.timeout)
        if tar.returncode != 0 or cp.returncode != 0:
            raise AssertionError(f"podman import failed: tar={tar.returncode} {cp.stderr}")

    def ensure_image(self, name: str = IMAGE) -> None:
        """Build a busybox rootfs offline and import it, unless the image exists."""
        if self.has_image(name):
            return
        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))
        from tests.support.rootfs import build_busybox_rootfs

        with tempfile.TemporaryDirectory(prefix="rootfs-", dir=self.base) as d:
            rootfs = build_busybox_rootfs(Path(d) / "rootfs")
            self.import_rootfs(rootfs, name)

    # -- cleanup -----------------------------------------------------------
    def remove_all(self) -> list[str]:
        """Force-remove every container; returns the ids that were there."""
        ids = self.container_ids()
        if ids:
            self("rm", "-f", "-t", "0", *ids, timeout=120)
        return ids

    def mounts_under(self, prefix: Path | None = None) -> list[str]:
        """Mount points (from /proc/self/mountinfo) at or below prefix (default: base)."""
        p = str(prefix or self.base).rstrip("/")
        out = []
        with open("/proc/self/mountinfo") as f:
            for line in f:
                mnt = line.split()[4].replace("\\040", " ")
                if mnt == p or mnt.startswith(p + "/"):
                    out.append(mnt)
        return out

    def unmount_all(self) -> list[str]:
        """Lazily unmount everything below base, deepest first; returns what was left."""
        for mnt in sorted(self.mounts_under(), key=len, reverse=True):
            subprocess.run(["umount", "-l", mnt], capture_output=True, timeout=30)
        return self.mounts_under()

    def destroy(self) -> None:
        """Remove containers, images, mounts and the base directory."""
        try:
            self.remove_all()
            self("rmi", "-a", "-f", timeout=120)
        finally:
            left = self.unmount_all()
            if left:
                raise AssertionError(f"mounts left under {self.base}: {left}")
            shutil.rmtree(self.base, ignore_errors=True)


# -- processes and leftovers ----------------------------------------------
def processes_mentioning(needles: Sequence[str]) -> list[tuple[int, str]]:
    """(pid, cmdline) of processes whose cmdline or cgroup contains a needle."""
    found = []
    if not needles:
        return found
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry.name}/cgroup") as f:
                cgroup = f.read()
        except OSError:
            continue
        if any(n in cmdline or n in cgroup for n in needles):
            found.append((int(entry.name), cmdline.strip()))
    return found


# -- make demo -------------------------------------------------------------
def demo(argv: Sequence[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m tests.e2e.podman demo")
    ap.add_argument("--runtime", default=runtime_under_test())
    ap.add_argument("--dir", default=str(REPO_ROOT / "tests" / ".cache" / "demo-podman"))
    ns = ap.parse_args(argv)
    try:
        require_tools(ns.runtime)
    except Missing as e:
        print(f"demo: {e}", file=sys.stderr)
        return 1
    pm = Podman(Path(ns.dir), ns.runtime, timeout=120)
    print(f"demo: private podman store and containers.conf under {pm.base}")
    if not pm.has_image():
        print(f"demo: building {IMAGE} offline from /bin/busybox")
        pm.ensure_image()
    # a policy that lets the usual tools run and refuses rm, with its events kept in the
    # demo directory (an admin config passed to every runtime call by podman)
    policy = ("version: 1\nname: demo\ncommand_rules:\n"
              "  - name: no-rm\n    commands: [rm]\n    decision: deny\n"
              "    message: deleting files is not allowed in this demo\n"
              "  - name: the-rest\n    commands: ['*']\n    decision: allow\n")
    admin = pm.base / "admin.yaml"
    admin.write_text(f"events_dir: {pm.base / 'events'}\n")
    name = "agentsh-demo"
    cmd = ["sh", "-c", "echo hello from agentsh-runtime; id; hostname; touch /tmp/f; "
           "/bin/rm /tmp/f || echo 'rm was refused by the policy'"]
    full = pm.argv("--runtime-flag", f"admin-config={admin}", "run", "--rm", "--name", name,
                   "--network", "none", "--pull", "never",
                   "--annotation", '"dev.agentsh.policy.inline=' + policy + '"', IMAGE, *cmd)
    print(f"demo: CONTAINERS_CONF={pm.conf} CONTAINERS_STORAGE_CONF={pm.storage_conf} \\")
    print("        " + " ".join(_shquote(a) for a in full))
    sys.stdout.flush()
    try:
        rc = subprocess.run(full, env=pm.env, stdin=subprocess.DEVNULL, timeout=120).returncode
    except subprocess.TimeoutExpired:
        print("demo: podman run timed out", file=sys.stderr)
        return 1
    print(f"demo: podman exited {rc}")
    events = sorted((pm.base / "events").glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    if events:
        cid = events[-1].stem
        print(f"demo: the audit events ({ns.runtime} --admin-config {admin} audit {cid}"
              " --type execve):")
        sys.stdout.flush()
        subprocess.run([ns.runtime, "--admin-config", str(admin), "audit", cid, "--type",
                        "execve"], timeout=60)
    if not pm.container_ids():
        pm.unmount_all()  # the overlay driver's bind of its home; remade on next use
    return rc


def _shquote(s: str) -> str:
    import shlex

    return shlex.quote(s)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "demo":
        sys.exit(demo(sys.argv[2:]))
    print("usage: python -m tests.e2e.podman demo [--runtime PATH] [--dir DIR]", file=sys.stderr)
    sys.exit(2)
