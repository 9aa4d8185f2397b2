"""containerd 1.6 + containerd-shim-runc-v2 driving the runtime under test (BinaryName).

Every container is started with ``ctr run --runtime io.containerd.runc.v2 --runc-binary
RUNTIME --runc-root <private>`` against a containerd with private dirs (containerd.py),
from a busybox OCI image built offline.  Run against runc with
``AGENTSH_TEST_RUNTIME=$(which runc)``.  After each test nothing of its containers may
be left: task, container, runtime state dir, shim bundle, cgroup, shim process or
socket, container process, mount.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.containerd import (
    SHIM,
    Containerd,
    Missing,
    deep_merge,
    require_tools,
    resolve_runtime,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGED_CONFIG = REPO_ROOT / "packaging" / "containerd" / "config.toml"
RUNTIMECLASS = REPO_ROOT / "packaging" / "kubernetes" / "runtimeclass.yaml"
CRI = "io.containerd.grpc.v1.cri"
SLEEP = ["sleep", "1000"]
LEFTOVER_GRACE = 10.0  # seconds for the shim to exit after its last task is deleted


def _start(base: Path, runtime: str, **kw) -> Containerd:
    c = Containerd(base, runtime, **kw)
    try:
        c.start()
        c.import_image()
    except BaseException:
        c.destroy()
        raise
    return c


def _teardown(c: Containerd) -> None:
    problems = c.destroy()
    if problems:
        pytest.fail(f"containerd teardown ({c.base}):\n" + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def ctrd(runtime_path: str) -> Iterator[Containerd]:
    """A private containerd with the busybox image; BinaryName = the runtime under test."""
    runtime = resolve_runtime(runtime_path)  # the shim runs it from the bundle dir
    missing = None
    try:
        require_tools(runtime)
    except Missing as e:
        missing = str(e)
    if missing:
        pytest.fail(missing, pytrace=False)
    c = _start(Path(tempfile.mkdtemp(prefix="agentsh-ctrd-e2e-")), runtime)
    yield c
    _teardown(c)


@pytest.fixture(autouse=True)
def ctrd_no_leftovers(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test: nothing left of the containers it started (see module doc)."""
    if "ctrd" not in request.fixturenames:
        yield
        return
    c: Containerd = request.getfixturevalue("ctrd")
    first = len(c.seen_ids)
    yield
    ids = c.seen_ids[first:]
    problems: list[str] = []
    still = [cid for cid in c.container_ids() if cid in ids] + [
        cid for cid in c.tasks() if cid in ids]
    if still:
        problems.append(f"tasks/containers left: {sorted(set(still))}")
        c.remove_all()
    problems += _wait_clean(c, ids)
    if problems:
        pytest.fail(f"after {request.node.name}:\n" + "\n".join(problems), pytrace=False)


def _wait_clean(c: Containerd, ids: list[str]) -> list[str]:
    """c.leftovers(ids), polled for LEFTOVER_GRACE seconds until empty."""
    deadline = time.monotonic() + LEFTOVER_GRACE
    while True:
        found = c.leftovers(ids)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _kill_and_delete(c: Containerd, cid: str) -> subprocess.CompletedProcess[str]:
    c.ctr("task", "kill", "-s", "KILL", cid, check=True)
    c.wait_status(cid, "STOPPED")
    cp = c.ctr("task", "delete", cid, check=True)
    c.ctr("containers", "rm", cid, check=True)
    return cp


def _create_error(cp: subprocess.CompletedProcess[str]) -> str:
    """ctr's one-line error for a failed create: the text after 'OCI runtime create failed: '."""
    assert cp.returncode != 0, cp.stdout
    m = re.search(r"OCI runtime create failed: (.*)", cp.stderr)
    assert m, f"no 'OCI runtime create failed' in ctr's error: {cp.stderr!r}"
    return m.group(1)


def _drive_tty(argv: list[str], script_bin: str, size: str = "") -> tuple[int, str]:
    """Run argv under script(1) (a pty for ctr -t); stdin is a pipe kept open, no data."""
    inner = (f"stty {size}; " if size else "") + shlex.join(argv)
    r, w = os.pipe()
    p = subprocess.Popen([script_bin, "-qec", inner, "/dev/null"],
                         stdin=r, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    os.close(r)
    try:
        out, _ = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate(timeout=10)
        raise AssertionError(f"hung under script: {argv}: {out!r}") from None
    finally:
        os.close(w)
    return p.returncode, out.decode(errors="replace").replace("\r", "")


# -- ctr run --rm: output, stderr, exit codes --------------------------------------
@pytest.mark.parametrize("code", [0, 3])
def test_run_rm_output_and_exit_code(ctrd: Containerd, code: int) -> None:
    cid = ctrd.new_id("rm")
    cp = ctrd.run(cid, "--rm",
                  cmd=["sh", "-c", f"echo hello from ctr; echo to-stderr >&2; exit {code}"])
    assert cp.returncode == code, cp.stderr
    assert cp.stdout == "hello from ctr\n"
    assert "to-stderr\n" in cp.stderr
    assert cid not in ctrd.container_ids()


def test_run_rm_stdin(ctrd: Containerd) -> None:
    # ctr 1.6 never closes the task's stdin on EOF (with runc too): read one line only
    cp = ctrd.run(ctrd.new_id("stdin"), "--rm",
                  cmd=["sh", "-c", 'read line; echo "$line" | tr a-z A-Z'], input="piped in\n")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "PIPED IN\n"


# -- terminals: ctr run -t, ctr task exec -t ----------------------------------------------
def test_run_tty(ctrd: Containerd, script_bin: str) -> None:
    probe = "tty; [ -t 0 ] && echo stdin-tty; [ -t 1 ] && echo stdout-tty; exit 6"
    argv = ctrd.ctr_argv(*ctrd.run_args(ctrd.new_id("tty"), "--rm", "-t",
                                        cmd=["sh", "-c", probe]))
    rc, text = _drive_tty(argv, script_bin)
    lines = text.splitlines()
    assert lines and re.fullmatch(r"/dev/pts/\d+", lines[0]), text
    assert "stdin-tty" in lines and "stdout-tty" in lines, text
    assert rc == 6, text


def test_exec_tty(ctrd: Containerd, script_bin: str) -> None:
    cid = ctrd.new_id("exectty")
    ctrd.run_detached(cid, cmd=SLEEP)
    argv = ctrd.ctr_argv("task", "exec", "-t", "--fifo-dir", str(ctrd.fifo_dir),
                         "--exec-id", "tty1", cid, "sh", "-c", "tty; [ -t 1 ] && echo stdout-tty")
    rc, text = _drive_tty(argv, script_bin)
    lines = text.splitlines()
    assert rc == 0, text
    assert lines and re.fullmatch(r"/dev/pts/\d+", lines[0]), text
    assert "stdout-tty" in lines, text
    _kill_and_delete(ctrd, cid)


# -- ctr run -d, then exec, ps, kill, pause/resume, metrics, update, delete, rm -------
def test_detached_then_exec(ctrd: Containerd) -> None:
    cid = ctrd.new_id("exec")
    ctrd.run_detached(cid, cmd=SLEEP)
    cp = ctrd.exec(cid, "x1", "sh", "-c", "echo in-exec $(cat /proc/1/cmdline | tr '\\0' ' '); "
                   "echo exec-err >&2; exit 5")
    assert cp.returncode == 5, cp.stderr
    assert cp.stdout == "in-exec sleep 1000\n"
    assert "exec-err" in cp.stderr
    cp = ctrd.exec(cid, "x2", "sh", "-c", 'echo "$(id -u) $(pwd) $X"', opts=["--cwd", "/tmp"])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "0 /tmp \n"
    assert ctrd.task_status(cid) == "RUNNING"
    _kill_and_delete(ctrd, cid)


def test_exec_missing_binary_readable_error(ctrd: Containerd) -> None:
    cid = ctrd.new_id("execerr")
    ctrd.run_detached(cid, cmd=SLEEP)
    cp = ctrd.exec(cid, "bad", "/no/such/binary")
    assert cp.returncode != 0
    assert re.search(r"no such file or directory|executable file not found", cp.stderr, re.I), \
        cp.stderr
    assert "/no/such/binary" in cp.stderr
    assert ctrd.task_status(cid) == "RUNNING"
    _kill_and_delete(ctrd, cid)


def test_task_ps_lists_pids(ctrd: Containerd) -> None:
    cid = ctrd.new_id("ps")
    init = ctrd.run_detached(cid, cmd=SLEEP)
    ctrd.exec(cid, "bg", "sleep", "999", opts=["--detach"])
    deadline = time.monotonic() + 10
    pids: list[int] = []
    while time.monotonic() < deadline:
        cp = ctrd.ctr("task", "ps", cid, check=True)
        pids = [int(line.split()[0]) for line in cp.stdout.splitlines()[1:] if line.strip()]
        if len(pids) >= 2:
            break
        time.sleep(0.1)
    assert init in pids, (init, pids)
    assert len(pids) == 2, pids
    cmdlines = sorted(Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[:2] for p in pids)
    assert cmdlines == [[b"sleep", b"1000"], [b"sleep", b"999"]], cmdlines
    _kill_and_delete(ctrd, cid)


def test_kill_default_term(ctrd: Containerd) -> None:
    cid = ctrd.new_id("term")
    ctrd.run_detached(cid, cmd=["sh", "-c", 'trap "exit 7" TERM; while :; do sleep 0.1; done'])
    time.sleep(0.3)  # let sh install its trap
    ctrd.ctr("task", "kill", cid, check=True)
    ctrd.wait_status(cid, "STOPPED")
    cp = ctrd.ctr("task", "delete", cid, check=True)
    assert "exit code 7" in cp.stderr, cp.stderr
    ctrd.ctr("containers", "rm", cid, check=True)


def test_kill_term_ignored_by_init_then_kill(ctrd: Containerd) -> None:
    cid = ctrd.new_id("kill")
    ctrd.run_detached(cid, cmd=SLEEP)
    ctrd.ctr("task", "kill", cid, check=True)  # SIGTERM: pid 1 without a handler ignores it
    time.sleep(1.0)
    assert ctrd.task_status(cid) == "RUNNING"
    ctrd.ctr("task", "kill", "-s", "KILL", cid, check=True)
    ctrd.wait_status(cid, "STOPPED")
    cp = ctrd.ctr("task", "delete", cid, check=True)
    assert "exit code 137" in cp.stderr, cp.stderr
    ctrd.ctr("containers", "rm", cid, check=True)


def test_kill_all(ctrd: Containerd) -> None:
    cid = ctrd.new_id("killall")
    ctrd.run_detached(cid, cmd=SLEEP)
    ctrd.exec(cid, "bg", "sleep", "999", opts=["--detach"])
    ctrd.ctr("task", "kill", "--all", "-s", "KILL", cid, check=True)
    ctrd.wait_status(cid, "STOPPED")
    assert ctrd.container_processes(cid) == []
    ctrd.ctr("task", "delete", cid, check=True)
    ctrd.ctr("containers", "rm", cid, check=True)


def test_pause_resume(ctrd: Containerd) -> None:
    cid = ctrd.new_id("pause")
    ctrd.run_detached(cid, cmd=SLEEP)
    freezer = Path(f"/sys/fs/cgroup/freezer/{ctrd.namespace}/{cid}/freezer.state")
    ctrd.ctr("task", "pause", cid, check=True)
    assert ctrd.task_status(cid) == "PAUSED"
    assert freezer.read_text().strip() == "FROZEN"
    cp = ctrd.exec(cid, "while-paused", "true", timeout=20)
    assert cp.returncode != 0, "exec into a paused task succeeded"
    ctrd.ctr("task", "resume", cid, check=True)
    assert ctrd.task_status(cid) == "RUNNING"
    assert freezer.read_text().strip() == "THAWED"
    assert ctrd.exec(cid, "after-resume", "true").returncode == 0
    _kill_and_delete(ctrd, cid)


def test_metrics(ctrd: Containerd) -> None:
    cid = ctrd.new_id("metrics")
    limit = 256 << 20
    ctrd.run_detached(cid, "--memory-limit", str(limit),
                      cmd=["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; "
                                       "exec sleep 1000"])
    time.sleep(0.5)
    cp = ctrd.ctr("task", "metrics", "--format", "json", cid, check=True)
    m = json.loads(cp.stdout)
    assert m["memory"]["usage"]["usage"] > 0, m["memory"]
    assert m["memory"]["usage"]["limit"] == limit, m["memory"]["usage"]
    assert m["cpu"]["usage"]["total"] > 0, m["cpu"]
    assert m["pids"]["current"] >= 1, m["pids"]
    table = ctrd.ctr("task", "metrics", cid, check=True).stdout
    assert re.search(rf"^memory\.limit_in_bytes\s+{limit}\s*$", table, re.M), table
    _kill_and_delete(ctrd, cid)


def test_update_resources(ctrd: Containerd) -> None:
    """containerd's Tasks.Update -> shim -> ``RUNTIME update --resources - ID`` (stdin)."""
    cid = ctrd.new_id("update")
    ctrd.run_detached(cid, cmd=SLEEP)
    mem = Path(f"/sys/fs/cgroup/memory/{ctrd.namespace}/{cid}/memory.limit_in_bytes")
    pids = Path(f"/sys/fs/cgroup/pids/{ctrd.namespace}/{cid}/pids.max")
    assert int(mem.read_text()) > 1 << 40  # unlimited before
    ctrd.update_resources(cid, {"memory": {"limit": 64 << 20}, "pids": {"limit": 77}})
    assert int(mem.read_text()) == 64 << 20
    assert pids.read_text().strip() == "77"
    m = json.loads(ctrd.ctr("task", "metrics", "--format", "json", cid, check=True).stdout)
    assert m["memory"]["usage"]["limit"] == 64 << 20
    assert m["pids"]["limit"] == 77
    assert ctrd.task_status(cid) == "RUNNING"
    _kill_and_delete(ctrd, cid)


def test_update_refused_readable_error(ctrd: Containerd) -> None:
    """A memory limit below usage: the kernel refuses; Update fails, the task runs on and
    the runtime's error (which the shim returns to the client) says why."""
    cid = ctrd.new_id("updbad")
    ctrd.run_detached(cid, cmd=SLEEP)
    mem = Path(f"/sys/fs/cgroup/memory/{ctrd.namespace}/{cid}/memory.limit_in_bytes")
    before = mem.read_text()
    err = ctrd.update_resources(cid, {"memory": {"limit": 4096}}, check=False)
    assert err is not None, "Tasks.Update with a 4096-byte memory limit succeeded"
    assert "memory" in err.lower() and "4096" in err, err
    assert mem.read_text() == before
    assert ctrd.task_status(cid) == "RUNNING"
    _kill_and_delete(ctrd, cid)


def test_delete_and_container_rm_leave_nothing(ctrd: Containerd) -> None:
    cid = ctrd.new_id("delete")
    ctrd.run_detached(cid, cmd=SLEEP)
    state = ctrd.runtime_state_root() / cid
    assert state.is_dir(), f"no runtime state at {state} (was --root <runc-root>/<ns> used?)"
    assert ctrd.cgroup_dirs(cid), "no cgroup at /<namespace>/<id>"
    cp = ctrd.ctr("task", "delete", cid)
    assert cp.returncode != 0, "deleting a running task succeeded"
    assert ctrd.task_status(cid) == "RUNNING"
    ctrd.ctr("task", "kill", "-s", "KILL", cid, check=True)
    ctrd.wait_status(cid, "STOPPED")
    ctrd.ctr("task", "delete", cid, check=True)
    assert cid not in ctrd.tasks()
    assert not state.exists(), f"runtime state left after task delete: {state}"
    assert ctrd.cgroup_dirs(cid) == []
    ctrd.ctr("containers", "rm", cid, check=True)
    assert cid not in ctrd.container_ids()


def test_annotation_reaches_runtime_state(ctrd: Containerd) -> None:
    cid = ctrd.new_id("annot")
    ctrd.run_detached(cid, "--annotation", "dev.agentsh.mode=audit", cmd=SLEEP)
    cp = subprocess.run(
        [ctrd.runtime, "--root", str(ctrd.runtime_state_root()), "state", cid],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )
    assert cp.returncode == 0, cp.stderr
    st = json.loads(cp.stdout)
    assert st["id"] == cid and st["status"] == "running", st
    assert st.get("annotations", {}).get("dev.agentsh.mode") == "audit", st
    _kill_and_delete(ctrd, cid)


# -- errors in create reach the ctr user readably (from log.json) ---------------------------
def test_create_error_missing_executable(ctrd: Containerd) -> None:
    cid = ctrd.new_id("noexec")
    cp = ctrd.run(cid, "--rm", cmd=["/no/such/binary"])
    msg = _create_error(cp)
    assert re.search(r"no such file or directory|executable file not found", msg, re.I), msg
    assert "/no/such/binary" in msg, msg
    assert not re.match(r"exit status \d+", msg), msg
    assert cid not in ctrd.container_ids()


def test_create_error_missing_runtime_binary(ctrd: Containerd) -> None:
    cid = ctrd.new_id("nobin")
    missing = ctrd.base / "no-such-dir" / "agentsh-runtime"
    cp = ctrd.run(cid, "--rm", cmd=["true"], runtime=str(missing))
    msg = _create_error(cp)
    assert str(missing) in msg and "no such file or directory" in msg, msg
    assert cid not in ctrd.container_ids()


def test_create_error_bad_namespace_path(ctrd: Containerd) -> None:
    cid = ctrd.new_id("badns")
    cp = ctrd.run(cid, "--rm", "--with-ns", "pid:/nonexistent/ns/pid", cmd=["true"])
    msg = _create_error(cp)
    assert "/nonexistent/ns/pid" in msg, msg
    assert re.search(r"no such file or directory", msg, re.I), msg
    assert cid not in ctrd.container_ids()


def test_create_error_memory_limit_below_usage(ctrd: Containerd) -> None:
    """A limit the kernel refuses: runc says why ("unable to set memory limit ...")."""
    cid = ctrd.new_id("lowmem")
    cp = ctrd.run(cid, "--rm", "--memory-limit", "4096", cmd=["true"])
    msg = _create_error(cp)
    assert "memory" in msg.lower(), msg
    assert cid not in ctrd.container_ids()


# -- Kubernetes RuntimeClass: the packaged containerd config ------------------------------
def test_runtimeclass_manifest_matches_config() -> None:
    packaged = tomllib.loads(PACKAGED_CONFIG.read_text())
    runtimes = packaged["plugins"][CRI]["containerd"]["runtimes"]
    rc = yaml.safe_load(RUNTIMECLASS.read_text())
    assert rc["apiVersion"] == "node.k8s.io/v1" and rc["kind"] == "RuntimeClass", rc
    assert rc["handler"] in runtimes, (rc["handler"], list(runtimes))
    agentsh = runtimes[rc["handler"]]
    assert agentsh["runtime_type"] == SHIM
    assert agentsh["pod_annotations"] == ["dev.agentsh.*"]
    assert agentsh["options"]["BinaryName"] == "/usr/bin/agentsh-runtime"
    # containerd 1.6 replaces its default runtimes map with ours: runc must stay defined
    default = packaged["plugins"][CRI]["containerd"].get("default_runtime_name", "runc")
    assert default in runtimes, f"default runtime {default!r} not in {list(runtimes)}"


def test_runtimeclass_config(runtime_path: str) -> None:
    """A containerd whose config is ours merged with packaging/containerd/config.toml
    (BinaryName -> the runtime under test, Root -> a private dir) accepts it, and a
    container runs through the options that config names."""
    runtime = resolve_runtime(runtime_path)
    try:
        require_tools(runtime)
    except Missing as e:
        pytest.fail(str(e), pytrace=False)
    handler = yaml.safe_load(RUNTIMECLASS.read_text())["handler"]
    packaged = tomllib.loads(PACKAGED_CONFIG.read_text())
    base = Path(tempfile.mkdtemp(prefix="agentsh-ctrd-rc-"))
    private_root = base / "agentsh-root"
    override = {"plugins": {CRI: {"containerd": {"runtimes": {handler: {"options": {
        "BinaryName": runtime, "Root": str(private_root)}}}}}}}
    extra = deep_merge({k: v for k, v in packaged.items() if k != "version"}, override)
    c = _start(base, runtime, namespace="agentsh-ctrd-rc", cri=True, extra_config=extra)
    try:
        plugins = c.ctr("plugins", "ls", check=True).stdout
        cri_rows = [row for row in (ln.split() for ln in plugins.splitlines())
                    if row[:2] == ["io.containerd.grpc.v1", "cri"]]
        assert cri_rows and cri_rows[0][-1] == "ok", \
            f"CRI plugin not ok:\n{plugins}\n{c.log_tail(20)}"
        dump = subprocess.run(["containerd", "--config", str(c.config), "config", "dump"],
                              capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)
        assert dump.returncode == 0, dump.stderr
        effective = tomllib.loads(dump.stdout)["plugins"][CRI]["containerd"]
        rt = effective["runtimes"][handler]
        assert rt["pod_annotations"] == ["dev.agentsh.*"], rt
        assert rt["options"]["BinaryName"] == runtime, rt["options"]
        assert effective["default_runtime_name"] in effective["runtimes"]
        # run through exactly what the config names
        cid = c.new_id("rc")
        cp = c.run(cid, "--rm", "--annotation", "dev.agentsh.mode=audit",
                   cmd=["sh", "-c", "echo via runtime class; exit 2"],
                   runtime=rt["options"]["BinaryName"], runtime_type=rt["runtime_type"],
                   runc_root=rt["options"].get("Root") or c.runc_root)
        assert cp.returncode == 2, cp.stderr
        assert cp.stdout == "via runtime class\n"
        assert (private_root / c.namespace).is_dir(), "the config's Root was not used"
        problems = _wait_clean(c, c.seen_ids)
        problems += [f"runtime state left: {p}" for p in (private_root / c.namespace).iterdir()]
        assert not problems, problems
    finally:
        _teardown(c)
