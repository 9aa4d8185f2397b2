"""Docker 20.10 (dockerd on a private containerd 1.6) driving the runtime under test.

The runtime (AGENTSH_TEST_RUNTIME, else .venv/bin/agentsh-runtime) is registered in
a private daemon.json as ``agentsh`` (``runtimeArgs: ["--debug"]``) and under the
other names tests/e2e/docker.py describes; a second dockerd has
``"default-runtime": "agentsh"``. Docker reaches the runtime only through
containerd's io.containerd.runc.v2 shim (BinaryName = Docker's wrapper script
``<data-root>/runtimes/agentsh``, root ``<exec-root>/runtime-runc/<namespace>``).

Every container runs with ``--network none`` from a busybox image imported offline.
Each test was first run with runc registered under the same names
(``AGENTSH_TEST_RUNTIME=$(which runc)``). After each test nothing may be left: no
container in ``docker ps -a``, no runtime state, no containerd bundle, task or shim,
no container process, mount or cgroup.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.docker import (
    REPO_ROOT,
    RUNTIME_NAME,
    Dockerd,
    DockerLab,
    Missing,
    recorded_calls,
    recording_wrapper,
    require_tools,
    runtime_under_test,
)

SLEEP = ["sleep", "1000"]
PACKAGED_DAEMON_JSON = REPO_ROOT / "packaging" / "docker" / "daemon.json"
LEFTOVER_GRACE = 10.0
MiB = 1024 * 1024


# -- fixtures -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def docker_lab() -> Iterator[DockerLab]:
    """A private containerd (own mount namespace) for the dockerds of this module."""
    runtime = runtime_under_test()
    missing = None
    try:
        require_tools(runtime)
    except Missing as e:
        missing = str(e)
    if missing:
        pytest.fail(missing, pytrace=False)
    lab = DockerLab(runtime)
    try:
        lab.start()
    except BaseException:
        lab.close()
        raise
    yield lab
    problems = lab.close()
    if problems:
        pytest.fail("after the docker e2e tests:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def docker(docker_lab: DockerLab) -> Dockerd:
    """dockerd with the runtime registered as `agentsh` (and friends); default runc."""
    return docker_lab.engine("main")


@pytest.fixture(scope="module")
def docker_default(docker_lab: DockerLab) -> Dockerd:
    """dockerd whose default runtime is `agentsh` (through a recording wrapper)."""
    rec = recording_wrapper(docker_lab.base / "bin" / "agentsh-default", docker_lab.runtime,
                    docker_lab.base / "argv-agentsh-default.log")
    runtimes = {RUNTIME_NAME: {"path": str(rec), "runtimeArgs": ["--debug"]}}
    return docker_lab.engine("default", default_runtime=RUNTIME_NAME, runtimes=runtimes)


@pytest.fixture(scope="module")
def docker_packaged(docker_lab: DockerLab) -> Dockerd:
    """dockerd configured by packaging/docker/daemon.json, its path set to the runtime."""
    doc = json.loads(PACKAGED_DAEMON_JSON.read_text())
    runtimes = json.loads(json.dumps(doc["runtimes"]))
    runtimes[RUNTIME_NAME]["path"] = docker_lab.runtime
    return docker_lab.engine("packaged", runtimes=runtimes,
                             default_runtime=doc.get("default-runtime"))


ENGINE_FIXTURES = ("docker", "docker_default", "docker_packaged")


@pytest.fixture(autouse=True)
def docker_no_leftovers(request: pytest.FixtureRequest) -> Iterator[None]:
    names = [n for n in ENGINE_FIXTURES if n in request.fixturenames]
    if not names:
        yield
        return
    engines: list[Dockerd] = [request.getfixturevalue(n) for n in names]
    firsts = [len(e.seen_ids) for e in engines]
    yield
    problems: list[str] = []
    for e, first in zip(engines, firsts, strict=True):
        e.collect_pending()
        still = e.container_ids()
        if still:
            problems.append(f"{e.name}: containers left (docker ps -a): {[c[:12] for c in still]}")
            e.remove_all()
        ids = e.seen_ids[first:]
        deadline = time.monotonic() + LEFTOVER_GRACE
        while True:
            found = e.leftovers(ids)
            if not found or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        problems += [f"{e.name}: {p}" for p in found]
    if problems:
        pytest.fail(f"after {request.node.name}:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def script_bin() -> str:
    import shutil

    path = shutil.which("script")
    if path is None:
        pytest.fail("`script` (util-linux) is not installed: apt-get install util-linux",
                    pytrace=False)
    return path


# -- helpers ------------------------------------------------------------------------
def _host_pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _size(text: str) -> float:
    """Docker's human sizes ("1.125MiB", "0B", "3.2kB") in bytes."""
    m = re.fullmatch(r"([0-9.]+)\s*([KMGT]i?B|[kKMGT]B|B)", text.strip())
    assert m, f"not a size: {text!r}"
    units = {"B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
             "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
    return float(m.group(1)) * units[m.group(2)]


def _daemon_error(stderr: str) -> str:
    """The one line Docker prints for a failed run/exec ("docker: Error response ...")."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    errs = [ln for ln in lines if "Error response from daemon" in ln or "OCI runtime" in ln]
    assert errs, f"no daemon error line in: {stderr!r}"
    return errs[0]


def _read_counter(pid: int) -> int:
    return int(Path(f"/proc/{pid}/root/tmp/c").read_text().strip() or 0)


def _version_lines(runtime: str) -> tuple[str, str]:
    """(version, commit) as Docker parses `RUNTIME --version`."""
    out = subprocess.run([runtime, "--version"], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    version = commit = ""
    for line in out.splitlines():
        if " version " in line and not version:
            version = line.split(" version ", 1)[1].strip()
        if line.startswith("commit:"):
            commit = line.split(":", 1)[1].strip()
    assert version and commit, f"{runtime} --version has no version/commit lines: {out!r}"
    return version, commit


# -- run --rm: output and exit codes -----------------------------------------------------
def test_run_rm_output(docker: Dockerd) -> None:
    cp = docker.run("--rm", cmd=["sh", "-c", "echo hello from agentsh-runtime; echo err >&2"])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "hello from agentsh-runtime\n"
    assert cp.stderr == "err\n"
    assert docker.container_ids() == []


@pytest.mark.parametrize(
    ("cmd", "code"),
    [(["true"], 0), (["sh", "-c", "exit 3"], 3), (["false"], 1)],
)
def test_run_rm_exit_code(docker: Dockerd, cmd: list[str], code: int) -> None:
    cp = docker.run("--rm", cmd=cmd)
    assert cp.returncode == code, cp.stderr


def test_run_stdin_with_i(docker: Dockerd) -> None:
    cp = docker.run("--rm", "-i", cmd=["sh", "-c", "tr a-z A-Z"], input="piped in\n")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "PIPED IN\n"


def test_run_it_has_a_tty(docker: Dockerd, script_bin: str) -> None:
    # Docker 20.10 (API 1.41) sizes the console by a resize after start: wait before stty.
    probe = ("tty; [ -t 0 ] && echo stdin-tty; [ -t 1 ] && echo stdout-tty; "
             "sleep 1; stty size; exit 4")
    argv = docker.run_argv("-it", "--rm", cmd=["sh", "-c", probe])
    inner = "stty rows 37 cols 101; " + shlex.join(argv)
    r, w = os.pipe()  # stdin kept open, no data: script forwards nothing to the tty
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        p = subprocess.Popen([script_bin, "-qec", inner, "/dev/null"],
                             env=docker.env, stdin=r, stdout=out_f, stderr=err_f)
        os.close(r)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
        finally:
            os.close(w)
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read(), err_f.read()
    text = out.decode(errors="replace").replace("\r", "")
    assert p.returncode != -9, f"docker run -it hung: {text!r}"
    assert p.returncode == 4, (p.returncode, text, err)
    lines = text.splitlines()
    assert re.fullmatch(r"/dev/pts/\d+", lines[0]), text
    assert "stdin-tty" in lines and "stdout-tty" in lines, text
    assert "37 101" in lines, text


# -- detached: exec, stop, kill, restart, rm -f -------------------------------------------
def test_detached_then_exec(docker: Dockerd) -> None:
    cid = docker.run_detached("--hostname", "exec-host", cmd=SLEEP)
    docker.wait_running(cid)
    cp = docker("exec", cid, "sh", "-c", "echo in-exec $(hostname); echo to-err >&2; exit 5")
    assert cp.returncode == 5, cp.stderr
    assert cp.stdout == "in-exec exec-host\n"
    assert cp.stderr == "to-err\n"
    cp = docker("exec", cid, "cat", "/proc/1/cmdline")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split("\0")[:2] == ["sleep", "1000"]
    cp = docker("exec", "--user", "1000:1000", "--workdir", "/tmp", "--env", "X=y", cid,
                "sh", "-c", 'echo $(id -u):$(id -g) $(pwd) "$X"')
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "1000:1000 /tmp y\n"
    cp = docker("exec", "-i", cid, "sh", "-c", "tr a-z A-Z", input="exec stdin\n")
    assert cp.stdout == "EXEC STDIN\n", cp.stderr
    docker("rm", "-f", cid, check=True)


def test_exec_t_has_a_tty(docker: Dockerd) -> None:
    cid = docker.run_detached(cmd=SLEEP)
    docker.wait_running(cid)
    cp = docker("exec", "-t", cid, "sh", "-c", "tty; [ -t 1 ] && echo stdout-tty; exit 6")
    assert cp.returncode == 6, cp.stderr
    lines = cp.stdout.replace("\r", "").splitlines()
    assert re.fullmatch(r"/dev/pts/\d+", lines[0]), cp.stdout
    assert "stdout-tty" in lines
    docker("rm", "-f", cid, check=True)


def test_exec_missing_binary(docker: Dockerd) -> None:
    cid = docker.run_detached(cmd=SLEEP)
    docker.wait_running(cid)
    cp = docker("exec", cid, "/no/such/binary")
    # Docker 20.10 prints an exec's start error on stdout and exits 126
    assert cp.returncode == 126, (cp.returncode, cp.stdout, cp.stderr)
    msg = _daemon_error(cp.stdout + cp.stderr)
    assert "/no/such/binary" in msg, msg
    assert "exit status" not in msg, msg
    assert docker.inspect(cid)["State"]["Status"] == "running"
    docker("rm", "-f", cid, check=True)


def test_stop_sends_term(docker: Dockerd) -> None:
    cid = docker.run_detached(
        cmd=["sh", "-c",
             'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done'])
    docker.wait_for_log(cid, "ready")
    t0 = time.monotonic()
    docker("stop", "-t", "20", cid, check=True, timeout=40)
    elapsed = time.monotonic() - t0
    assert elapsed < 10, f"docker stop took {elapsed:.1f}s: TERM was not delivered"
    st = docker.inspect(cid)["State"]
    assert (st["Status"], st["ExitCode"]) == ("exited", 7)
    docker.wait_for_log(cid, "got-term")
    docker("rm", cid, check=True)


def test_stop_kills_after_timeout_when_term_ignored(docker: Dockerd) -> None:
    cid = docker.run_detached(cmd=["sh", "-c", "trap '' TERM; echo ready; sleep 1000"])
    docker.wait_for_log(cid, "ready")
    t0 = time.monotonic()
    docker("stop", "-t", "1", cid, check=True, timeout=40)
    elapsed = time.monotonic() - t0
    assert 0.9 <= elapsed < 15, f"docker stop -t 1 took {elapsed:.1f}s"
    st = docker.inspect(cid)["State"]
    assert (st["Status"], st["ExitCode"]) == ("exited", 137)
    docker("rm", cid, check=True)


def test_kill(docker: Dockerd) -> None:
    cid = docker.run_detached(
        cmd=["sh", "-c", 'trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.1; done'])
    docker.wait_for_log(cid, "ready")
    docker("kill", "-s", "USR1", cid, check=True)
    docker.wait_for_log(cid, "got-usr1")
    assert docker.inspect(cid)["State"]["Status"] == "running"
    docker("kill", cid, check=True)
    assert docker.wait_exit(cid) == 137
    docker("rm", cid, check=True)


def test_restart(docker: Dockerd) -> None:
    cid = docker.run_detached(cmd=["sh", "-c", "echo started; exec sleep 1000"])
    pid1 = docker.wait_running(cid)["Pid"]
    docker("restart", "-t", "1", cid, check=True, timeout=60)
    pid2 = docker.wait_running(cid)["Pid"]
    assert pid2 != pid1
    assert not _host_pid_alive(pid1)
    deadline = time.monotonic() + 10
    while docker.logs(cid)[0].count("started") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert docker.logs(cid)[0] == "started\nstarted\n"
    docker("rm", "-f", cid, check=True)


def test_rm_force_running(docker: Dockerd) -> None:
    cid = docker.run_detached(cmd=SLEEP)
    pid = docker.wait_running(cid)["Pid"]
    assert _host_pid_alive(pid)
    docker("rm", "-f", cid, check=True, timeout=60)
    assert docker.container_ids() == []
    deadline = time.monotonic() + 10
    while _host_pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _host_pid_alive(pid), f"container init {pid} survived docker rm -f"


# -- top, stats, pause/unpause, update -------------------------------------------------------
def test_top(docker: Dockerd) -> None:
    cid = docker.run_detached(cmd=["sh", "-c", "sleep 1000 & exec sleep 2000"])
    pid = docker.wait_running(cid)["Pid"]
    deadline = time.monotonic() + 10
    while True:
        cp = docker("top", cid, "-o", "pid,args", check=True)
        rows = [ln.split(None, 1) for ln in cp.stdout.splitlines()[1:]]
        if len(rows) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    procs = {int(p): a for p, a in rows}
    assert procs.get(pid) == "sleep 2000", cp.stdout
    assert "sleep 1000" in procs.values(), cp.stdout
    assert len(procs) == 2, cp.stdout
    cp = docker("top", cid, check=True)
    assert re.search(rf"^root\s+{pid}\s.*sleep 2000", cp.stdout, re.M), cp.stdout
    docker("rm", "-f", cid, check=True)


def test_stats_no_stream(docker: Dockerd) -> None:
    cid = docker.run_detached(cmd=["sh", "-c", "x=$(head -c 4000000 /dev/zero | tr '\\0' a); "
                                              "echo ready; exec sleep 1000"])
    docker.wait_for_log(cid, "ready")
    cp = docker("stats", "--no-stream", "--format", "{{json .}}", cid, check=True)
    row = json.loads(cp.stdout.strip().splitlines()[-1])
    assert row["ID"] == cid[:12], row
    used, limit = (part.strip() for part in row["MemUsage"].split("/"))
    assert _size(used) > 0, row
    assert _size(limit) > _size(used), row
    assert int(row["PIDs"]) >= 1, row
    docker("rm", "-f", cid, check=True)


def test_pause_unpause(docker: Dockerd) -> None:
    cid = docker.run_detached(
        cmd=["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/c; sleep 0.05; done"])
    pid = docker.wait_running(cid)["Pid"]
    freezer = docker.cgroup_dir(pid, "freezer") / "freezer.state"
    deadline = time.monotonic() + 10
    while _read_counter(pid) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    docker("pause", cid, check=True)
    st = docker.inspect(cid)["State"]
    assert (st["Status"], st["Paused"]) == ("paused", True), st
    assert freezer.read_text().strip() == "FROZEN"
    frozen = _read_counter(pid)
    time.sleep(0.6)
    assert _read_counter(pid) == frozen, "the counter moved while paused"
    cp = docker("exec", cid, "true")
    assert cp.returncode != 0 and "paused" in cp.stderr, cp.stderr
    docker("unpause", cid, check=True)
    st = docker.inspect(cid)["State"]
    assert (st["Status"], st["Paused"]) == ("running", False), st
    assert freezer.read_text().strip() == "THAWED"
    deadline = time.monotonic() + 10
    while _read_counter(pid) <= frozen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _read_counter(pid) > frozen, "the counter did not move after unpause"
    docker("rm", "-f", cid, check=True)


def test_update_resources(docker: Dockerd) -> None:
    cid = docker.run_detached(cmd=SLEEP)
    pid = docker.wait_running(cid)["Pid"]
    mem = docker.cgroup_dir(pid, "memory")
    before = int((mem / "memory.limit_in_bytes").read_text())
    assert before > 256 * MiB
    docker("update", "--memory", "128m", "--memory-swap", "256m", "--cpus", "0.5",
           "--pids-limit", "77", cid, check=True)
    assert int((mem / "memory.limit_in_bytes").read_text()) == 128 * MiB
    assert int((mem / "memory.memsw.limit_in_bytes").read_text()) == 256 * MiB
    cpu = docker.cgroup_dir(pid, "cpu")
    quota = int((cpu / "cpu.cfs_quota_us").read_text())
    period = int((cpu / "cpu.cfs_period_us").read_text())
    assert quota / period == 0.5, (quota, period)
    assert (docker.cgroup_dir(pid, "pids") / "pids.max").read_text().strip() == "77"
    # the container sees its own cgroup's limit as well
    cp = docker("exec", cid, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
    assert cp.stdout.strip() == str(128 * MiB), cp.stderr
    hc = docker.inspect(cid)["HostConfig"]
    assert (hc["Memory"], hc["MemorySwap"], hc["PidsLimit"]) == (128 * MiB, 256 * MiB, 77)
    docker("rm", "-f", cid, check=True)


# -- registration: info, runtimeArgs --------------------------------------------------------
def test_info_lists_the_runtime(docker: Dockerd, docker_lab: DockerLab) -> None:
    info = json.loads(docker("info", "--format", "{{json .}}", check=True).stdout)
    assert info["DefaultRuntime"] == "runc"
    assert info["Runtimes"][RUNTIME_NAME] == {"path": docker_lab.runtime,
                                              "runtimeArgs": ["--debug"]}
    assert "broken" in info["Runtimes"]


def test_info_reports_default_runtime_version(docker_default: Dockerd,
                                              docker_lab: DockerLab) -> None:
    version, commit = _version_lines(docker_lab.runtime)
    info = json.loads(docker_default("info", "--format", "{{json .}}", check=True).stdout)
    assert info["DefaultRuntime"] == RUNTIME_NAME
    assert info["RuncCommit"]["ID"] == commit, info["RuncCommit"]
    assert info["RuncCommit"]["Expected"] == commit, info["RuncCommit"]
    assert not [w for w in info.get("Warnings") or [] if "runtime" in w.lower()], info["Warnings"]
    comps = json.loads(docker_default("version", "--format", "{{json .Server.Components}}",
                                      check=True).stdout)
    by_name = {c["Name"]: c for c in comps}
    assert RUNTIME_NAME in by_name, comps
    assert by_name[RUNTIME_NAME]["Version"] == version
    assert by_name[RUNTIME_NAME]["Details"]["GitCommit"] == commit
    calls = recorded_calls(docker_lab.base, "agentsh-default")
    assert ["--version"] in calls, calls


def test_default_runtime_runs_containers(docker_default: Dockerd,
                                         docker_lab: DockerLab) -> None:
    cp = docker_default.run("--rm", runtime=None, cmd=["sh", "-c", "echo via default; exit 3"])
    assert cp.returncode == 3, cp.stderr
    assert cp.stdout == "via default\n"
    cid = docker_default.seen_ids[-1]
    calls = recorded_calls(docker_lab.base, "agentsh-default")
    creates = [c for c in calls if "create" in c and c[-1] == cid]
    assert creates, calls
    assert creates[0][0] == "--debug", creates[0]


def test_runtime_args_reach_the_runtime(docker: Dockerd, docker_lab: DockerLab) -> None:
    wrapper = docker.wrapper_script("agentsh-traced")
    traced = docker_lab.runtimes["agentsh-traced"]["path"]
    assert wrapper.read_text() == f"#!/bin/sh\n{traced} --debug $@\n", wrapper.read_text()
    cid = docker.run_detached(runtime="agentsh-traced", cmd=SLEEP)
    docker.wait_running(cid)
    opts = json.loads((docker.bundle(cid) / "options.json").read_text())
    assert opts["binary_name"] == str(wrapper), opts
    assert opts["root"] == str(docker.runc_root.parent), opts
    docker("rm", "-f", cid, check=True)
    calls = [c for c in recorded_calls(docker_lab.base, "agentsh-traced") if cid in c]
    commands = []
    for c in calls:
        assert c[0] == "--debug", c  # runtimeArgs first, before the shim's global flags
        assert c[c.index("--root") + 1] == str(docker.runc_root), c
        assert c[c.index("--log") + 1] == str(docker.bundle(cid) / "log.json"), c
        commands.append(next(a for a in c[1:] if a in ("create", "start", "kill", "delete",
                                                       "state", "ps", "exec", "pause",
                                                       "resume", "update")))
    assert commands[:2] == ["create", "start"], calls
    assert "delete" in commands, calls


def test_debug_runtime_arg_writes_debug_log(docker: Dockerd) -> None:
    """`runtimeArgs: ["--debug"]` shows in the runtime's log (the bundle's log.json)."""
    cid = docker.run_detached(cmd=SLEEP)
    docker.wait_running(cid)
    log = docker.bundle(cid) / "log.json"
    text = log.read_text() if log.exists() else ""
    docker("rm", "-f", cid, check=True)
    entries = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
    assert all({"level", "msg", "time"} <= e.keys() for e in entries), text
    assert [e for e in entries if e["level"] == "debug"], (
        f"no debug line in {log} after create+start with --debug: {text!r}")


def test_default_policy_in_runtime_args(docker: Dockerd, docker_lab: DockerLab) -> None:
    cp = docker.run("--rm", runtime="agentsh-policy", cmd=["sh", "-c", "echo policy-ok"])
    calls = recorded_calls(docker_lab.base, "agentsh-policy")
    assert calls and calls[0][:3] == ["--debug", "--default-policy", "default"], calls
    if Path(docker_lab.runtime).name == "runc":
        # runc refuses the unknown flag (before opening its log, so Docker can only say
        # "exit status 1"); the recorded argv above shows the flag reached the binary
        assert cp.returncode != 0
        assert "exit status 1" in _daemon_error(cp.stderr)
        return
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "policy-ok\n"


def test_packaged_daemon_json(docker_packaged: Dockerd, docker_lab: DockerLab) -> None:
    doc = json.loads(PACKAGED_DAEMON_JSON.read_text())
    assert set(doc) == {"runtimes"}, "the example must not change anything else"
    entry = doc["runtimes"][RUNTIME_NAME]
    assert entry["path"] == "/usr/bin/agentsh-runtime"  # the Debian package's binary
    args = entry["runtimeArgs"]
    assert args[args.index("--default-policy") + 1] == "default", args
    info = json.loads(docker_packaged("info", "--format", "{{json .}}", check=True).stdout)
    assert info["Runtimes"][RUNTIME_NAME]["runtimeArgs"] == args
    wrapper = docker_packaged.wrapper_script(RUNTIME_NAME).read_text()
    assert wrapper == f"#!/bin/sh\n{docker_lab.runtime} {' '.join(args)} $@\n", wrapper
    cp = docker_packaged.run("--rm", cmd=["sh", "-c", "echo packaged-ok"])
    if Path(docker_lab.runtime).name == "runc":
        assert cp.returncode != 0  # runc has no --default-policy
        return
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "packaged-ok\n"


# -- bad input ---------------------------------------------------------------------------------
def test_runtime_path_missing(docker: Dockerd, docker_lab: DockerLab) -> None:
    missing = docker_lab.runtimes["broken"]["path"]
    cp = docker.run("--rm", runtime="broken", cmd=["true"])
    assert cp.returncode not in (0, 1), cp.stderr
    msg = _daemon_error(cp.stderr)
    assert missing in msg and "no such file or directory" in msg, msg
    assert docker.container_ids() == []


def test_refused_config_shows_runtime_message(docker: Dockerd) -> None:
    # the hard RLIMIT_NOFILE here is 20000 and CAP_SYS_RESOURCE is missing
    cp = docker.run("--rm", "--ulimit", "nofile=1048576:1048576", cmd=["true"])
    assert cp.returncode == 125, cp.stderr
    msg = _daemon_error(cp.stderr)
    assert "OCI runtime create failed:" in msg, msg
    detail = msg.split("OCI runtime create failed:", 1)[1]
    assert "rlimit" in detail.lower(), msg
    for bare in ("exit status", "unable to retrieve OCI runtime error", "Traceback"):
        assert bare not in detail, msg
    assert docker.container_ids() == []
