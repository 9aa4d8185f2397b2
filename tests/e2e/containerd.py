"""containerd 1.6 with private directories, driven through ``ctr`` and the runc v2 shim.

Everything containerd writes goes under one base directory: ``--root``, ``--state``,
the gRPC/ttrpc sockets, its config file and log, the fifo dir ``ctr`` uses for
container stdio (``--fifo-dir``) and the runtime's state root (``--runc-root``, to
which the shim appends the namespace).  The config disables the plugins a test does
not need (CRI, the /opt/containerd "opt" plugin, the aufs/btrfs/devmapper/zfs
snapshotters, tracing), so nothing under /etc, /opt or /var/lib is read or written
and containerd is ready in about 50 ms.  With ``cri=True`` the CRI plugin is enabled
with its CNI dirs and sandbox image pointed into the base dir (the RuntimeClass test).

Two paths are outside our control: containerd-shim-runc-v2 1.6 always puts its ttrpc
socket in ``/run/containerd/s/<sha256(address/ns/id)>`` (hard-coded), and the runtime
creates the container cgroups at ctr's default ``/<namespace>/<id>``.  The shim removes
its socket when it exits and the runtime removes the container cgroup on delete (the
leak checks verify both); ``destroy()`` removes the empty ``/<namespace>`` cgroup
parents and, when it made them and nothing else uses them, ``/run/containerd/s`` and
``/run/containerd``.

The image is a busybox rootfs (tests/support/rootfs.py) written as an OCI image layout
by hand (one uncompressed layer tar, config, manifest, index.json, oci-layout) and
tarred; ``ctr images import`` reads it.  No podman and no registry are involved.

``ctr`` 1.6 has no ``task update``; ``update_resources()`` sends the tasks service's
Update RPC itself (a minimal gRPC-over-HTTP/2 client on the unix socket), which is what
``nerdctl update`` / the CRI plugin do, so the shim's ``update --resources -`` call to
the runtime is exercised.

Used by tests/e2e/test_containerd.py, and ``python -m tests.e2e.containerd bench``
(median ``ctr run --rm`` of /bin/true per runtime, for bench/engines).
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.e2e.podman import Missing, runtime_under_test  # noqa: E402

IMAGE = "localhost/busybox-test:latest"
NAMESPACE = "agentsh-ctrd-e2e"
SHIM = "io.containerd.runc.v2"
DEFAULT_TIMEOUT = 60.0
SHIM_SOCKET_DIR = Path("/run/containerd/s")  # hard-coded in containerd-shim-runc-v2 1.6
CGROUP_ROOT = Path("/sys/fs/cgroup")

# Plugins a ctr-only test does not need.  io.containerd.runtime.v1.linux must stay:
# the 1.6 tasks service refuses to load without a v1 runtime registered.
DISABLED_PLUGINS = [
    "io.containerd.grpc.v1.cri",
    "io.containerd.internal.v1.opt",  # would create /opt/containerd
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.tracing.processor.v1.otlp",
    "io.containerd.internal.v1.tracing",
]


def resolve_runtime(runtime: str) -> str:
    """An absolute path: the shim runs BinaryName from the bundle dir, and a bare name
    is looked up on PATH."""
    if "/" not in runtime:
        return shutil.which(runtime) or runtime
    return os.path.abspath(runtime)


def require_tools(runtime: str) -> None:
    """Raise Missing naming the first absent prerequisite."""
    for tool in ("containerd", "ctr", "containerd-shim-runc-v2"):
        if shutil.which(tool) is None:
            raise Missing(f"{tool} is not installed (apt-get install containerd; run `make setup`)")
    if not Path("/bin/busybox").exists():
        raise Missing("/bin/busybox is missing (apt-get install busybox-static)")
    if not (os.path.isfile(runtime) and os.access(runtime, os.X_OK)):
        raise Missing(
            f"runtime under test not found or not executable: {runtime} "
            "(build it with `make setup`, or set AGENTSH_TEST_RUNTIME)"
        )


# -- TOML (containerd config) --------------------------------------------------
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(k: str) -> str:
    return k if _BARE_KEY.match(k) else json.dumps(k)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(i) for i in v) + "]"
    raise TypeError(f"no TOML form for {v!r}")


def toml_dumps(data: dict[str, Any]) -> str:
    """TOML for nested dicts of str/int/bool/list values (enough for containerd)."""
    out: list[str] = []

    def table(path: list[str], d: dict[str, Any]) -> None:
        scalars = [(k, v) for k, v in d.items() if not isinstance(v, dict)]
        tables = [(k, v) for k, v in d.items() if isinstance(v, dict)]
        if path and (scalars or not tables):
            out.append("\n[" + ".".join(_toml_key(p) for p in path) + "]")
        for k, v in scalars:
            out.append(f"{_toml_key(k)} = {_toml_value(v)}")
        for k, v in tables:
            table(path + [k], v)

    table([], data)
    return "\n".join(out).lstrip("\n") + "\n"


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """base updated recursively with extra (new dicts; the inputs are not changed)."""
    merged = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(merged.get(k), dict):
            merged[k] = deep_merge(merged[k], v)
        else:
            merged[k] = v
    return merged


# -- the image -------------------------------------------------------------------
def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build_oci_image_tar(dest: Path, name: str = IMAGE, work: Path | None = None) -> Path:
    """Write an OCI image-layout tarball of a busybox rootfs to dest, named ``name``.

    One uncompressed layer; index.json names the image both ways ctr 1.6 reads
    (``io.containerd.image.name`` = full name, ``org.opencontainers.image.ref.name`` = tag).
    """
    from tests.support.rootfs import build_busybox_rootfs

    with tempfile.TemporaryDirectory(prefix="oci-rootfs-", dir=work) as d:
        rootfs = build_busybox_rootfs(Path(d) / "rootfs")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            for dirpath, dirnames, filenames in os.walk(rootfs):
                dirnames.sort()
                for entry in sorted(dirnames + filenames):
                    p = Path(dirpath) / entry
                    t.add(p, arcname=str(p.relative_to(rootfs)), recursive=False)
        layer = buf.getvalue()
    config = json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["sh"],
        },
        "rootfs": {"type": "layers", "diff_ids": [_digest(layer)]},
        "history": [{"created_by": "tests/e2e/containerd.py build_oci_image_tar"}],
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": _digest(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": _digest(layer), "size": len(layer)}],
    }).encode()
    tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else "latest"
    index = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": _digest(manifest), "size": len(manifest),
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"io.containerd.image.name": name,
                            "org.opencontainers.image.ref.name": tag},
        }],
    }).encode()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w") as t:
        def add(member: str, data: bytes) -> None:
            ti = tarfile.TarInfo(member)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = int(time.time())
            t.addfile(ti, io.BytesIO(data))

        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", index)
        for blob in (layer, config, manifest):
            add("blobs/sha256/" + _digest(blob)[7:], blob)
    return dest


# -- a minimal gRPC client (unary call over HTTP/2 on a unix socket) ---------------
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_DATA, _HEADERS, _RST_STREAM, _SETTINGS, _PING, _GOAWAY = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7
_END_STREAM, _ACK, _END_HEADERS, _PADDED = 0x1, 0x1, 0x4, 0x8


class GrpcError(RuntimeError):
    pass


def _h2_frame(ftype: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + stream.to_bytes(4, "big") \
        + payload


def _hpack_int(n: int, prefix_bits: int, flags: int = 0) -> bytes:
    top = (1 << prefix_bits) - 1
    if n < top:
        return bytes([flags | n])
    out = [flags | top]
    n -= top
    while n >= 128:
        out.append((n & 127) | 128)
        n >>= 7
    out.append(n)
    return bytes(out)


def _hpack_literal(name: str, value: str) -> bytes:
    """Literal header field without indexing, new name, no Huffman (RFC 7541 6.2.2)."""
    out = b"\x00"
    for s in (name.encode(), value.encode()):
        out += _hpack_int(len(s), 7) + s
    return out


def _pb_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _pb_field(number: int, data: bytes) -> bytes:
    return _pb_varint(number << 3 | 2) + _pb_varint(len(data)) + data


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise GrpcError("connection closed by containerd")
        buf += chunk
    return buf


def grpc_unary(sock_path: str, method: str, request: bytes, metadata: dict[str, str],
               timeout: float = 30.0) -> bytes:
    """One unary gRPC call; returns the response message bytes.

    Success is told by the response message itself: a gRPC server sends a DATA
    frame only for status OK, an error is a trailers-only HEADERS frame.  (The
    grpc-message trailer is Huffman-coded by Go's HPACK encoder and not decoded
    here; GrpcError says so and callers add the relevant logs.)
    """
    headers = b"".join(_hpack_literal(k, v) for k, v in [
        (":method", "POST"), (":scheme", "http"), (":path", method),
        (":authority", "localhost"), ("content-type", "application/grpc"),
        ("te", "trailers"), *metadata.items(),
    ])
    body = b"\x00" + len(request).to_bytes(4, "big") + request
    data = b""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(_H2_PREFACE + _h2_frame(_SETTINGS, 0, 0)
                  + _h2_frame(_HEADERS, _END_HEADERS, 1, headers)
                  + _h2_frame(_DATA, _END_STREAM, 1, body))
        while True:
            head = _recv_exact(s, 9)
            length = int.from_bytes(head[:3], "big")
            ftype, flags = head[3], head[4]
            stream = int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
            payload = _recv_exact(s, length)
            if ftype == _SETTINGS and not flags & _ACK:
                s.sendall(_h2_frame(_SETTINGS, _ACK, 0))
            elif ftype == _PING and not flags & _ACK:
                s.sendall(_h2_frame(_PING, _ACK, 0, payload))
            elif ftype == _GOAWAY:
                raise GrpcError(f"GOAWAY from containerd: {payload[8:]!r}")
            elif ftype == _RST_STREAM and stream == 1:
                raise GrpcError(f"stream reset, HTTP/2 error {int.from_bytes(payload, 'big')}")
            elif ftype == _DATA and stream == 1:
                if flags & _PADDED:
                    payload = payload[1:len(payload) - payload[0]]
                data += payload
                if flags & _END_STREAM:
                    break
            elif ftype == _HEADERS and stream == 1 and flags & _END_STREAM:
                break
    if len(data) < 5:
        raise GrpcError(f"{method} returned a gRPC error status (trailers-only response)")
    size = int.from_bytes(data[1:5], "big")
    return data[5:5 + size]


# -- processes -----------------------------------------------------------------------
def _cmdline(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _pids() -> Iterable[int]:
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            yield int(entry.name)


def _cgroup_of(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            return f.read()
    except OSError:
        return ""


def mounts_under(prefix: Path) -> list[str]:
    p = str(prefix).rstrip("/")
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mnt = line.split()[4].replace("\\040", " ")
            if mnt == p or mnt.startswith(p + "/"):
                out.append(mnt)
    return out


class Containerd:
    """A private containerd (``base`` holds everything); ``runtime`` is the BinaryName."""

    def __init__(
        self,
        base: Path,
        runtime: str,
        *,
        namespace: str = NAMESPACE,
        cri: bool = False,
        extra_config: dict[str, Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ):
        self.base = Path(base)
        self.runtime = str(runtime)
        self.namespace = namespace
        self.cri = cri
        self.extra_config = extra_config or {}
        self.timeout = timeout
        self.root = self.base / "root"
        self.state = self.base / "state"
        self.sock = self.base / "containerd.sock"
        self.config = self.base / "config.toml"
        self.log_path = self.base / "containerd.log"
        self.fifo_dir = self.base / "fifo"
        self.runc_root = self.base / "runc"  # --runc-root; the shim adds /<namespace>
        self.image_tar = self.base / "busybox-oci.tar"
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None
        self.seen_ids: list[str] = []
        self._made_run_dirs: list[Path] = []

    # -- configuration and lifecycle ----------------------------------------------
    def config_dict(self) -> dict[str, Any]:
        disabled = [p for p in DISABLED_PLUGINS if not (self.cri and p.endswith(".cri"))]
        cfg: dict[str, Any] = {
            "version": 2,
            "root": str(self.root),
            "state": str(self.state),
            "disabled_plugins": disabled,
            "grpc": {"address": str(self.sock)},
            "ttrpc": {"address": str(self.sock) + ".ttrpc"},
            "debug": {"level": "info"},
            "plugins": {
                "io.containerd.runtime.v1.linux": {"runtime_root": str(self.base / "runc-v1")},
            },
        }
        if self.cri:
            cfg["plugins"]["io.containerd.grpc.v1.cri"] = {
                "sandbox_image": "localhost/pause:not-available-offline",
                "disable_tcp_service": True,
                "stream_server_address": "127.0.0.1",
                "stream_server_port": "0",
                "cni": {"bin_dir": str(self.base / "cni" / "bin"),
                        "conf_dir": str(self.base / "cni" / "net.d")},
            }
        return deep_merge(cfg, self.extra_config)

    def write_config(self) -> None:
        for d in (self.root, self.state, self.fifo_dir, self.runc_root):
            d.mkdir(parents=True, exist_ok=True)
        self.config.write_text(toml_dumps(self.config_dict()))

    def start(self, ready_timeout: float = 30.0) -> float:
        """Start containerd and wait until ``ctr version`` answers; returns seconds taken."""
        self.write_config()
        for d in (SHIM_SOCKET_DIR.parent, SHIM_SOCKET_DIR):
            if not d.exists():
                self._made_run_dirs.append(d)
        log = open(self.log_path, "ab")
        t0 = time.monotonic()
        try:
            self.proc = subprocess.Popen(
                ["containerd", "--root", str(self.root), "--state", str(self.state),
                 "--address", str(self.sock), "--config", str(self.config)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        deadline = t0 + ready_timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"containerd exited {self.proc.returncode} during startup:\n{self.log_tail()}"
                )
            if self.sock.is_socket():
                cp = subprocess.run(self.ctr_argv("version"), capture_output=True,
                                    stdin=subprocess.DEVNULL, timeout=10)
                if cp.returncode == 0:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"containerd not ready after {ready_timeout}s:\n"
                                     f"{self.log_tail()}")
            time.sleep(0.01)
        self.startup_seconds = time.monotonic() - t0
        return self.startup_seconds

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no containerd log)"

    def import_image(self) -> None:
        if not self.image_tar.exists():
            build_oci_image_tar(self.image_tar, IMAGE, work=self.base)
        self.ctr("images", "import", str(self.image_tar), check=True, timeout=120)

    # -- running ctr ------------------------------------------------------------------
    def ctr_argv(self, *args: str, namespace: str | None = None) -> list[str]:
        return ["ctr", "--address", str(self.sock), "--namespace",
                namespace or self.namespace, *args]

    def ctr(
        self,
        *args: str,
        timeout: float | None = None,
        check: bool = False,
        input: str | None = None,
        namespace: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        cmd = self.ctr_argv(*args, namespace=namespace)
        try:
            cp = subprocess.run(
                cmd, input=input, stdin=None if input is not None else subprocess.DEVNULL,
                capture_output=True, text=True, timeout=timeout or self.timeout,
            )
        except subprocess.TimeoutExpired as e:
            raise AssertionError(
                f"ctr timed out after {e.timeout}s: {' '.join(args)}\n"
                f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}"
            ) from None
        if check and cp.returncode != 0:
            raise AssertionError(
                f"ctr {' '.join(args)} exited {cp.returncode}\n"
                f"stdout: {cp.stdout}\nstderr: {cp.stderr}"
            )
        return cp

    def new_id(self, prefix: str = "c") -> str:
        cid = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.seen_ids.append(cid)
        return cid

    def run_args(
        self,
        cid: str,
        *opts: str,
        cmd: Sequence[str] = (),
        image: str = IMAGE,
        runtime: str | None = None,
        runtime_type: str = SHIM,
        runc_root: Path | str | None = None,
    ) -> list[str]:
        """Arguments for ``ctr run --fifo-dir F --runtime SHIM --runc-binary R
        --runc-root ROOT OPTS IMAGE ID CMD``."""
        if cid not in self.seen_ids:
            self.seen_ids.append(cid)
        return [
            "run", "--fifo-dir", str(self.fifo_dir), "--runtime", runtime_type,
            "--runc-binary", runtime or self.runtime,
            "--runc-root", str(runc_root or self.runc_root),
            *opts, image, cid, *cmd,
        ]

    def run(self, cid: str, *opts: str, cmd: Sequence[str] = (), timeout: float | None = None,
            check: bool = False, input: str | None = None, **kw: Any
            ) -> subprocess.CompletedProcess[str]:
        return self.ctr(*self.run_args(cid, *opts, cmd=cmd, **kw), timeout=timeout,
                        check=check, input=input)

    def run_detached(self, cid: str, *opts: str, cmd: Sequence[str], **kw: Any) -> int:
        """``ctr run -d``; waits for RUNNING and returns the init's host pid."""
        self.run(cid, "-d", *opts, cmd=cmd, check=True, **kw)
        return self.wait_status(cid, "RUNNING")

    def exec(self, cid: str, exec_id: str, *cmd: str, opts: Sequence[str] = (),
             timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        return self.ctr("task", "exec", "--fifo-dir", str(self.fifo_dir), "--exec-id", exec_id,
                        *opts, cid, *cmd, timeout=timeout)

    # -- queries ------------------------------------------------------------------------
    def tasks(self) -> dict[str, tuple[int, str]]:
        """{container id: (pid, STATUS)} from ``ctr task ls``."""
        out = self.ctr("task", "ls", check=True).stdout.splitlines()[1:]
        rows = {}
        for line in out:
            f = line.split()
            if len(f) >= 3:
                rows[f[0]] = (int(f[1]), f[2])
        return rows

    def task_status(self, cid: str) -> str | None:
        row = self.tasks().get(cid)
        return row[1] if row else None

    def wait_status(self, cid: str, status: str, timeout: float = 15) -> int:
        deadline = time.monotonic() + timeout
        row = None
        while time.monotonic() < deadline:
            row = self.tasks().get(cid)
            if row and row[1] == status:
                return row[0]
            time.sleep(0.05)
        raise AssertionError(f"task {cid} not {status} after {timeout}s: {row}")

    def container_ids(self) -> list[str]:
        return self.ctr("containers", "ls", "-q", check=True).stdout.split()

    def snapshot_keys(self) -> list[str]:
        out = self.ctr("snapshots", "ls", check=True).stdout.splitlines()[1:]
        return [line.split()[0] for line in out if line.strip()]

    def bundle(self, cid: str) -> Path:
        return self.state / "io.containerd.runtime.v2.task" / self.namespace / cid

    def runtime_state_root(self, runc_root: Path | None = None) -> Path:
        return Path(runc_root or self.runc_root) / self.namespace

    def cgroup_dirs(self, cid: str) -> list[Path]:
        """Existing /sys/fs/cgroup/<controller>/<namespace>/<id> dirs (ctr's default path)."""
        return [Path(p) for p in glob.glob(str(CGROUP_ROOT / "*" / self.namespace / cid))]

    def shim_socket(self, cid: str) -> Path:
        """Where containerd-shim-runc-v2 1.6 listens for this container (shim.SocketAddress)."""
        key = os.path.join(str(self.sock), self.namespace, cid)
        return SHIM_SOCKET_DIR / hashlib.sha256(key.encode()).hexdigest()

    def shim_processes(self, cid: str | None = None) -> list[tuple[int, str]]:
        """(pid, cmdline) of shims started for this containerd (optionally one container)."""
        found = []
        for pid in _pids():
            cmd = _cmdline(pid)
            if not cmd or "containerd-shim" not in cmd or f"-address {self.sock}" not in cmd:
                continue
            if cid is not None and f" -id {cid} " not in cmd + " ":
                continue
            if _alive(pid):
                found.append((pid, cmd))
        return found

    def container_processes(self, cid: str) -> list[tuple[int, str]]:
        needle = f"/{self.namespace}/{cid}\n"
        return [(pid, _cmdline(pid) or "?") for pid in _pids()
                if needle in _cgroup_of(pid) and _alive(pid)]

    def last_runtime_error(self, cid: str) -> str | None:
        """The last level=error msg in the bundle's log.json: what the shim reports as
        "OCI runtime ... failed: <msg>" (containerd's getLastRuntimeError)."""
        log = self.bundle(cid) / "log.json"
        last = None
        try:
            text = log.read_text(errors="replace")
        except FileNotFoundError:
            return None
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("level") == "error":
                last = str(entry.get("msg"))
        return last

    def update_resources(self, cid: str, resources: dict[str, Any], *, check: bool = True
                         ) -> str | None:
        """Tasks.Update with a LinuxResources (JSON in an Any, as containerd's client sends it);
        the shim hands it to ``RUNTIME update --resources - ID`` on stdin.

        Returns None on success.  On failure raises AssertionError, or with check=False
        returns the runtime's last error from log.json (the text the shim sends back)."""
        any_msg = (_pb_field(1, b"types.containerd.io/opencontainers/runtime-spec/1/"
                                b"LinuxResources")
                   + _pb_field(2, json.dumps(resources).encode()))
        request = _pb_field(1, cid.encode()) + _pb_field(2, any_msg)
        try:
            grpc_unary(str(self.sock), "/containerd.services.tasks.v1.Tasks/Update", request,
                       {"containerd-namespace": self.namespace}, timeout=self.timeout)
        except GrpcError as e:
            runtime_error = self.last_runtime_error(cid)
            if not check:
                return runtime_error or str(e)
            raise AssertionError(f"Tasks.Update({cid}, {resources}) failed: {e}\n"
                                 f"runtime's last error: {runtime_error}\n"
                                 f"containerd log:\n{self.log_tail(10)}") from None
        return None

    # -- leak checks and cleanup ----------------------------------------------------------
    def leftovers(self, ids: Sequence[str]) -> list[str]:
        """What containers ``ids`` left behind; empty when clean."""
        problems: list[str] = []
        tasks = self.tasks()
        containers = set(self.container_ids())
        snapshots = set(self.snapshot_keys())
        state_root = self.runtime_state_root()
        for cid in ids:
            if cid in tasks:
                problems.append(f"task left: {cid} {tasks[cid]}")
            if cid in containers:
                problems.append(f"container left: {cid}")
            if cid in snapshots:
                problems.append(f"snapshot left: {cid}")
            if (state_root / cid).exists():
                problems.append(f"runtime state dir left: {state_root / cid}")
            if self.bundle(cid).exists():
                problems.append(f"shim bundle dir left: {self.bundle(cid)}")
            for d in self.cgroup_dirs(cid):
                problems.append(f"cgroup left: {d}")
            for pid, cmd in self.shim_processes(cid):
                problems.append(f"shim process left: pid {pid}: {cmd}")
            if self.shim_socket(cid).exists():
                problems.append(f"shim socket left: {self.shim_socket(cid)}")
            for pid, cmd in self.container_processes(cid):
                problems.append(f"container process left: pid {pid}: {cmd[:200]}")
        if state_root.exists():
            extra = sorted(p.name for p in state_root.iterdir() if p.name not in ids)
            if extra:
                problems.append(f"entries under the runtime root {state_root}: {extra}")
        for m in mounts_under(self.base):
            problems.append(f"mount left: {m}")
        return problems

    def remove_all(self) -> list[str]:
        """SIGKILL and delete every task, remove every container; returns the container ids."""
        for cid in self.tasks():
            self.ctr("task", "kill", "-s", "KILL", cid)
        for cid in self.tasks():
            self.ctr("task", "delete", "--force", cid, timeout=30)
        ids = self.container_ids()
        if ids:
            self.ctr("containers", "rm", *ids, timeout=30)
        return ids

    def stop(self, grace: float = 15.0) -> list[str]:
        """SIGTERM containerd and wait; then wait for, and finally SIGKILL, its shims.
        Returns a note for everything that had to be killed."""
        notes: list[str] = []
        shims = self.shim_processes()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                notes.append(f"containerd pid {self.proc.pid} ignored SIGTERM for {grace}s")
                self.proc.kill()
                self.proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while shims and time.monotonic() < deadline:
            shims = [(p, c) for p, c in shims if _alive(p)]
            time.sleep(0.1)
        for pid, cmd in shims:
            if _cmdline(pid) == cmd and _alive(pid):  # still the process we found
                notes.append(f"shim left after containerd stopped, killed: pid {pid}: {cmd}")
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        return notes

    def destroy(self) -> list[str]:
        """Remove containers, stop containerd and its shims, unmount, remove the cgroup
        parents and the base dir.  Returns the problems found (empty when clean)."""
        notes: list[str] = []
        try:
            if self.proc is not None and self.proc.poll() is None:
                left = self.remove_all()
                if left:
                    notes.append(f"containers still there at teardown: {left}")
        finally:
            notes += self.stop()
            for mnt in sorted(mounts_under(self.base), key=len, reverse=True):
                notes.append(f"mount left at teardown: {mnt}")
                subprocess.run(["umount", "-l", mnt], capture_output=True, timeout=30)
            for d in glob.glob(str(CGROUP_ROOT / "*" / self.namespace)):
                try:
                    os.rmdir(d)
                except OSError as e:
                    notes.append(f"cgroup parent {d} not removed: {e.strerror}")
            other_shims = [p for p in _pids() if "containerd-shim" in (_cmdline(p) or "")]
            for d in reversed(self._made_run_dirs):  # /run/containerd/s, then /run/containerd
                if not other_shims:
                    try:
                        d.rmdir()
                    except OSError:
                        pass
            left = mounts_under(self.base)
            if left:
                notes.append(f"mounts still under {self.base}: {left}")
            else:
                shutil.rmtree(self.base, ignore_errors=True)
        return notes


# -- python -m tests.e2e.containerd bench ---------------------------------------------
def bench(argv: Sequence[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m tests.e2e.containerd bench")
    ap.add_argument("--runtime", action="append",
                    help="runtime binary (repeatable; default: runc and the runtime under test)")
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    ns = ap.parse_args(argv)
    runtimes = [resolve_runtime(r) for r in ns.runtime or ["runc", runtime_under_test()]]
    try:
        for r in runtimes:
            require_tools(r)
    except Missing as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    c = Containerd(Path(tempfile.mkdtemp(prefix="agentsh-ctrd-bench-")), runtimes[0])
    samples: dict[str, list[float]] = {r: [] for r in runtimes}
    try:
        startup = c.start()
        c.import_image()
        for r in runtimes:  # warm-up (page cache, shim binary)
            c.run(c.new_id("warm"), "--rm", cmd=["/bin/true"], runtime=r, check=True)
        for _ in range(ns.n):  # interleaved, so load changes hit every runtime alike
            for r in runtimes:
                t0 = time.perf_counter()
                c.run(c.new_id("bench"), "--rm", cmd=["/bin/true"], runtime=r, check=True)
                samples[r].append(time.perf_counter() - t0)
        results = {r: statistics.median(v) for r, v in samples.items()}
    finally:
        problems = c.destroy()
    if ns.json:
        print(json.dumps({"containerd_startup_s": startup, "n": ns.n,
                          "ctr_run_rm_true_median_s": results}))
    else:
        print(f"containerd startup: {startup * 1000:.0f} ms")
        for r, t in results.items():
            print(f"ctr run --rm /bin/true, median of {ns.n}: {t * 1000:7.1f} ms  {r}")
        if len(results) == 2:
            a, b = results.values()
            print(f"ratio: {b / a:.2f}x")
    for p in problems:
        print(f"bench: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "bench":
        sys.exit(bench(sys.argv[2:]))
    print("usage: python -m tests.e2e.containerd bench [--runtime PATH]... [--n N] [--json]",
          file=sys.stderr)
    sys.exit(2)
