"""podman 4.3 exercising resources, seccomp, pause/update/stats/top and OCI hooks
with the runtime under test (AGENTSH_TEST_RUNTIME), on this host's hybrid cgroup layout.

Every value is checked where the runtime put it: the container's own cgroup, found
from the host through /proc/PID/cgroup (not from what podman asked for), and the
same files read inside the container. Each test was first run against runc 1.1.5,
whose behaviour is the reference. The fixtures in conftest.py check after each test
that nothing is left behind.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.e2e.podman import IMAGE, Podman

SLEEP = ["sleep", "1000"]
MiB = 1024 * 1024
CG = "/sys/fs/cgroup"

# A static probe: calls each syscall number with zero arguments, prints NR=ret/errno.
SYSPROBE_C = r"""
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        long nr = strtol(argv[i], NULL, 10);
        errno = 0;
        long r = syscall(nr, 0L, 0L, 0L, 0L, 0L, 0L);
        printf("%ld=%ld/%d\n", nr, r, r == -1 ? errno : 0);
    }
    return 0;
}
"""
NR_ADD_KEY = 248  # x86_64; absent from podman's default allow list -> defaultErrnoRet
NR_KCMP = 312  # x86_64; podman's default profile: SCMP_ACT_ERRNO errnoRet 1
ENOSYS, EPERM = 38, 1


# -- helpers -----------------------------------------------------------------
def _host_cgroup_dir(pid: int, controller: str) -> Path:
    """The v1 cgroup directory of a host pid for one controller (hybrid host)."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _num, ctrls, path = line.rstrip("\n").split(":", 2)
            if controller in ctrls.split(","):
                return Path(f"{CG}/{controller}{path}")
    table = Path(f"/proc/{pid}/cgroup").read_text()
    raise AssertionError(f"pid {pid} has no {controller} cgroup:\n{table}")


def _read(path: Path) -> str:
    return path.read_text().strip()


def _init_pid(pm: Podman, cid: str) -> int:
    pid = pm.inspect(cid)["State"]["Pid"]
    assert pid > 0, f"container {cid[:12]} has no pid"
    return pid


def _wait_for_log(pm: Podman, cid: str, text: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    out = ""
    while time.monotonic() < deadline:
        cp = pm("logs", cid)
        out = cp.stdout + cp.stderr
        if text in out:
            return out
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in logs of {cid[:12]} after {timeout}s: {out!r}")


def _kv(text: str) -> dict[str, str]:
    """'key value' lines (memory.oom_control, cpu.stat, pids.events) as a dict."""
    return dict(line.split(None, 1) for line in text.splitlines() if " " in line)


def _run_with_global(
    pm: Podman, global_args: Sequence[str], run_args: Sequence[str], cmd: Sequence[str],
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """``podman GLOBAL... run ...``: like Podman.run, for options that go before `run`."""
    cidfile = pm.cidfiles / f"{uuid.uuid4().hex}.cid"
    try:
        return pm(*global_args, "run", "--network", "none", "--pull", "never",
                  "--cidfile", str(cidfile), *run_args, IMAGE, *cmd, timeout=timeout)
    finally:
        try:
            cid = cidfile.read_text().strip()
        except FileNotFoundError:
            cid = ""
        if cid and cid not in pm.seen_ids:
            pm.seen_ids.append(cid)


_SIZE = re.compile(r"^\s*([0-9.]+)\s*([kKMGT]?i?B)\s*$")
_UNITS = {"B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
          "KiB": 1024, "kiB": 1024, "MiB": MiB, "GiB": 1024 * MiB}


def _bytes(text: str) -> float:
    m = _SIZE.match(text)
    assert m, f"not a size: {text!r}"
    return float(m.group(1)) * _UNITS[m.group(2)]


# -- memory --------------------------------------------------------------------
def test_memory_limit_in_cgroup(engine: Podman) -> None:
    cid = engine.run_detached("--memory", "64m", cmd=SLEEP)
    engine.wait_running(cid)
    mem = _host_cgroup_dir(_init_pid(engine, cid), "memory")
    assert _read(mem / "memory.limit_in_bytes") == str(64 * MiB)
    # podman asks for swap = 2 x memory when only --memory is given
    assert _read(mem / "memory.memsw.limit_in_bytes") == str(128 * MiB)
    cp = engine("exec", cid, "cat", f"{CG}/memory/memory.limit_in_bytes")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == str(64 * MiB), "container's own cgroup not at /sys/fs/cgroup/memory"
    engine("rm", "-f", "-t", "0", cid, check=True)


def test_memory_limit_oom_kills_init(engine: Podman) -> None:
    # the shell (pid 1) itself holds 200 MiB in a variable: the OOM killer takes it
    cp = engine.run(
        "--rm", "--memory", "64m",
        cmd=["sh", "-c", 'x=$(head -c 200m /dev/zero | tr "\\0" a); echo survived ${#x}'],
        timeout=120,
    )
    assert cp.returncode == 137, (cp.returncode, cp.stdout, cp.stderr)
    assert "survived" not in cp.stdout


def test_memory_limit_oom_kills_child(engine: Podman) -> None:
    script = (
        "sh -c 'x=$(head -c 200m /dev/zero | tr \"\\0\" a); echo survived'; echo rc=$?; "
        f"cat {CG}/memory/memory.oom_control; echo failcnt $(cat {CG}/memory/memory.failcnt)"
    )
    cp = engine.run("--rm", "--memory", "64m", cmd=["sh", "-c", script], timeout=120)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert "survived" not in cp.stdout
    assert "rc=137" in cp.stdout.splitlines(), cp.stdout
    kv = _kv(cp.stdout)
    assert int(kv["oom_kill"]) >= 1, cp.stdout
    assert int(kv["failcnt"]) >= 1, cp.stdout


# -- cpu -----------------------------------------------------------------------
def test_cpus_and_cpu_shares(engine: Podman) -> None:
    # two busy loops for 1 s against a 0.5-CPU quota: the cgroup gets throttled
    script = (
        "for f in cpu.cfs_quota_us cpu.cfs_period_us cpu.shares; do "
        f"echo $f $(cat {CG}/cpu/$f); done; "
        "timeout 1 sh -c 'while :; do :; done' & timeout 1 sh -c 'while :; do :; done'; wait; "
        f"cat {CG}/cpu/cpu.stat"
    )
    cp = engine.run("--rm", "--cpus", "0.5", "--cpu-shares", "512", cmd=["sh", "-c", script])
    assert cp.returncode == 0, cp.stderr
    kv = _kv(cp.stdout)
    assert kv["cpu.cfs_quota_us"] == "50000", cp.stdout
    assert kv["cpu.cfs_period_us"] == "100000", cp.stdout
    assert kv["cpu.shares"] == "512", cp.stdout
    assert int(kv["nr_throttled"]) > 0, f"a 0.5 CPU quota never throttled:\n{cp.stdout}"


def test_cpu_values_on_host(engine: Podman) -> None:
    cid = engine.run_detached("--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0",
                              cmd=SLEEP)
    engine.wait_running(cid)
    pid = _init_pid(engine, cid)
    cpu = _host_cgroup_dir(pid, "cpu")
    assert _read(cpu / "cpu.cfs_quota_us") == "50000"
    assert _read(cpu / "cpu.cfs_period_us") == "100000"
    assert _read(cpu / "cpu.shares") == "512"
    assert _read(_host_cgroup_dir(pid, "cpuset") / "cpuset.cpus") == "0"
    engine("rm", "-f", "-t", "0", cid, check=True)


# -- pids ----------------------------------------------------------------------
def test_pids_limit_stops_fork_loop(engine: Podman) -> None:
    p = f"{CG}/pids"
    # builtins only after the loop (read, echo, kill): no fork is left at the limit.
    # kill -9 0 ends the sleeps; pid 1 itself ignores it.
    script = (
        f"read m < {p}/pids.max; echo max=$m; "
        "sh -c 'for i in $(seq 20); do sleep 1000 & done; echo all-started'; echo rc=$?; "
        f"read c < {p}/pids.current; echo current=$c; "
        f"read e < {p}/pids.events; echo events=$e; "
        "kill -9 0 2>/dev/null; exit 0"
    )
    cp = engine.run("--rm", "--pids-limit", "10", cmd=["sh", "-c", script])
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    out = dict(line.split("=", 1) for line in cp.stdout.splitlines() if "=" in line)
    assert out["max"] == "10", cp.stdout
    assert "all-started" not in cp.stdout
    assert out["rc"] != "0", cp.stdout
    assert "can't fork" in cp.stderr, cp.stderr
    assert 2 <= int(out["current"]) <= 10, cp.stdout
    assert re.fullmatch(r"max [1-9]\d*", out["events"]), cp.stdout


def test_pids_limit_on_host(engine: Podman) -> None:
    cid = engine.run_detached("--pids-limit", "10", cmd=SLEEP)
    engine.wait_running(cid)
    pids = _host_cgroup_dir(_init_pid(engine, cid), "pids")
    assert _read(pids / "pids.max") == "10"
    assert _read(pids / "pids.current") == "1"
    engine("rm", "-f", "-t", "0", cid, check=True)


# -- seccomp -------------------------------------------------------------------
@pytest.fixture(scope="module")
def sysprobe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding a static `sysprobe` binary (gcc -static)."""
    d = tmp_path_factory.mktemp("sysprobe")
    (d / "sysprobe.c").write_text(SYSPROBE_C)
    try:
        cp = subprocess.run(["gcc", "-static", "-O2", "-o", str(d / "sysprobe"),
                             str(d / "sysprobe.c")], capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        pytest.fail("gcc is not installed (apt-get install gcc libc6-dev)", pytrace=False)
    if cp.returncode != 0:
        pytest.fail(f"gcc -static failed: {cp.stderr}", pytrace=False)
    return d


def _probe(text: str) -> dict[int, tuple[int, int]]:
    res = {}
    for line in text.splitlines():
        nr, rest = line.split("=")
        ret, err = rest.split("/")
        res[int(nr)] = (int(ret), int(err))
    return res


def test_seccomp_profile_mkdir_eperm(engine: Podman, tmp_path: Path) -> None:
    profile = tmp_path / "no-mkdir.json"
    profile.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
    }))
    script = ("mkdir /tmp/x; echo mkdir=$?; touch /tmp/y && echo touch=$?; "
              "grep -E '^Seccomp(_filters)?:' /proc/self/status")
    cp = engine.run("--rm", "--security-opt", f"seccomp={profile}", cmd=["sh", "-c", script])
    assert cp.returncode == 0, cp.stderr
    assert "mkdir=1" in cp.stdout, cp.stdout
    assert "touch=0" in cp.stdout, "the profile's defaultAction ALLOW was not honoured"
    assert "Operation not permitted" in cp.stderr, cp.stderr
    assert re.search(r"^Seccomp:\s+2$", cp.stdout, re.M), cp.stdout
    # the same command without the profile creates the directory
    cp = engine.run("--rm", cmd=["sh", "-c", "mkdir /tmp/x && echo made"])
    assert cp.stdout == "made\n", cp.stderr


def test_seccomp_profile_kill_process(engine: Podman, tmp_path: Path) -> None:
    profile = tmp_path / "kill-mkdir.json"
    profile.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}],
    }))
    cp = engine.run("--rm", "--security-opt", f"seccomp={profile}", cmd=["mkdir", "/tmp/x"])
    assert cp.returncode == 128 + 31, (cp.returncode, cp.stderr)  # SIGSYS


def test_seccomp_default_profile(engine: Podman, sysprobe: Path) -> None:
    args = [f"{NR_ADD_KEY}", f"{NR_KCMP}"]
    cp = engine.run("--rm", "-v", f"{sysprobe}:/probe:ro",
                    cmd=["sh", "-c", "grep '^Seccomp:' /proc/self/status; /probe/sysprobe "
                         + " ".join(args)])
    assert cp.returncode == 0, cp.stderr
    assert re.search(r"^Seccomp:\s+2$", cp.stdout, re.M), cp.stdout
    got = _probe(cp.stdout.split("\n", 1)[1])
    assert got[NR_ADD_KEY] == (-1, ENOSYS), f"defaultErrnoRet 38 not applied: {cp.stdout}"
    assert got[NR_KCMP] == (-1, EPERM), f"kcmp rule (errnoRet 1) not applied: {cp.stdout}"
    # unconfined: no filter, and the kernel's own errors come back
    cp = engine.run("--rm", "-v", f"{sysprobe}:/probe:ro", "--security-opt", "seccomp=unconfined",
                    cmd=["sh", "-c", "grep '^Seccomp:' /proc/self/status; /probe/sysprobe "
                         + " ".join(args)])
    assert cp.returncode == 0, cp.stderr
    assert re.search(r"^Seccomp:\s+0$", cp.stdout, re.M), cp.stdout
    got = _probe(cp.stdout.split("\n", 1)[1])
    assert got[NR_ADD_KEY][1] not in (ENOSYS, EPERM), cp.stdout
    assert got[NR_KCMP][1] not in (ENOSYS, EPERM), cp.stdout


# -- pause / unpause -------------------------------------------------------------
def test_pause_unpause(engine: Podman, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    counter = out / "c"
    cid = engine.run_detached(
        "-v", f"{out}:/out",
        cmd=["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /out/c.tmp; "
             "mv /out/c.tmp /out/c; sleep 0.05; done"],
    )
    engine.wait_running(cid)

    def value() -> int:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                return int(counter.read_text())
            except (FileNotFoundError, ValueError):
                time.sleep(0.05)
        raise AssertionError("counter file never written")

    def advancing(window: float = 1.0) -> bool:
        a = value()
        time.sleep(window)
        return value() > a

    freezer = _host_cgroup_dir(_init_pid(engine, cid), "freezer")
    assert advancing(), "counter does not advance before pause"
    engine("pause", cid, check=True)
    st = engine.inspect(cid)["State"]
    assert st["Status"] == "paused" and st["Paused"] is True, st
    assert _read(freezer / "freezer.state") == "FROZEN"
    assert not advancing(), "counter advanced while paused"
    # plain `podman ps` leaves paused containers out; -a lists them as Paused
    cp = engine("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Status}}", check=True)
    assert f"{cid} Paused" in cp.stdout.splitlines(), cp.stdout
    engine("unpause", cid, check=True)
    st = engine.inspect(cid)["State"]
    assert st["Status"] == "running" and st["Paused"] is False, st
    assert _read(freezer / "freezer.state") == "THAWED"
    assert advancing(), "counter does not advance after unpause"
    engine("rm", "-f", "-t", "0", cid, check=True)


# -- update ----------------------------------------------------------------------
def test_update_memory_and_cpu_shares(engine: Podman) -> None:
    cid = engine.run_detached("--memory", "64m", "--cpu-shares", "512", cmd=SLEEP)
    engine.wait_running(cid)
    pid = _init_pid(engine, cid)
    mem, cpu = _host_cgroup_dir(pid, "memory"), _host_cgroup_dir(pid, "cpu")
    assert _read(mem / "memory.limit_in_bytes") == str(64 * MiB)
    assert _read(cpu / "cpu.shares") == "512"
    cp = engine("update", "--memory", "128m", "--cpu-shares", "256", cid)
    assert cp.returncode == 0, cp.stderr
    assert _read(mem / "memory.limit_in_bytes") == str(128 * MiB)
    assert _read(cpu / "cpu.shares") == "256"
    cp = engine("exec", cid, "cat", f"{CG}/memory/memory.limit_in_bytes", f"{CG}/cpu/cpu.shares")
    assert cp.stdout.split() == [str(128 * MiB), "256"], cp.stderr
    cp = engine("update", "--cpus", "0.25", cid)
    assert cp.returncode == 0, cp.stderr
    assert _read(cpu / "cpu.cfs_quota_us") == "25000"
    assert _read(cpu / "cpu.shares") == "256", "an update of the quota reset the shares"
    assert _read(mem / "memory.limit_in_bytes") == str(128 * MiB)
    assert engine.inspect(cid)["State"]["Status"] == "running"
    engine("rm", "-f", "-t", "0", cid, check=True)


# -- stats -----------------------------------------------------------------------
def test_stats_no_stream(engine: Podman) -> None:
    # the shell holds ~20 MB in a variable while sleep runs (a command after sleep keeps
    # busybox from exec'ing it), so the usage must be at least that
    cid = engine.run_detached(
        "--memory", "64m",
        cmd=["sh", "-c",
             'x=$(head -c 20m /dev/zero | tr "\\0" a); echo ready; sleep 1000; echo ${#x}'],
    )
    _wait_for_log(engine, cid, "ready")
    cp = engine("stats", "--no-stream", "--format", "json", cid, check=True)
    rows = json.loads(cp.stdout)
    assert len(rows) == 1 and cid.startswith(rows[0]["id"]), cp.stdout
    used, limit = (s.strip() for s in rows[0]["mem_usage"].split("/"))
    assert _bytes(used) >= 20 * MiB, rows[0]
    assert _bytes(limit) == pytest.approx(64 * MiB, rel=0.01), rows[0]
    assert rows[0]["pids"] == "2", rows[0]  # sh and sleep
    # the table form lists the container too
    cp = engine("stats", "--no-stream", cid, check=True)
    assert cid[:12] in cp.stdout, cp.stdout
    engine("rm", "-f", "-t", "0", cid, check=True)


# -- top -------------------------------------------------------------------------
def test_top_descriptors(engine: Podman) -> None:
    cid = engine.run_detached(cmd=["sh", "-c", "sleep 1000 & wait"])
    engine.wait_running(cid)
    deadline = time.monotonic() + 10
    while True:
        cp = engine("top", cid, "pid", "comm", "args", check=True)
        lines = cp.stdout.splitlines()
        if len(lines) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert lines[0].split() == ["PID", "COMMAND", "COMMAND"], cp.stdout
    rows = [tuple(x.strip() for x in line.split(None, 2)) for line in lines[1:]]
    assert ("1", "sh", "sh -c sleep 1000 & wait") in rows, cp.stdout
    assert any(r[1:] == ("sleep", "sleep 1000") and r[0] != "1" for r in rows), cp.stdout
    # host pids: the container's pid 1 is the init podman recorded
    cp = engine("top", cid, "pid", "hpid", check=True)
    hp = dict(line.split() for line in cp.stdout.splitlines()[1:])
    assert hp["1"] == str(_init_pid(engine, cid)), cp.stdout
    engine("rm", "-f", "-t", "0", cid, check=True)


# -- OCI hooks through --hooks-dir ------------------------------------------------
def test_hooks_dir_prestart_and_poststop(engine: Podman, tmp_path: Path) -> None:
    hooks = tmp_path / "hooks.d"
    hooks.mkdir()
    log = tmp_path / "hook.log"
    script = tmp_path / "hook.sh"
    script.write_text(
        "#!/bin/sh\n"
        "state=$(cat)\n"
        f'printf "%s %s\\n" "$1" "$state" >> {log}\n'
    )
    script.chmod(0o755)
    (hooks / "record.json").write_text(json.dumps({
        "version": "1.0.0",
        "hook": {"path": str(script), "args": ["hook.sh", "recorded"]},
        "when": {"always": True},
        "stages": ["prestart", "poststop"],
    }))
    cp = _run_with_global(engine, ["--hooks-dir", str(hooks)], ["--rm"],
                          ["sh", "-c", "echo in-container"])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "in-container\n"
    cid = engine.seen_ids[-1]
    deadline = time.monotonic() + 10
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines() if log.exists() else []
        if len(lines) >= 2:
            break
        time.sleep(0.1)
    time.sleep(0.3)  # nothing more should come
    lines = log.read_text().splitlines() if log.exists() else []
    assert len(lines) == 2, f"expected one prestart and one poststop record: {lines}"
    states = []
    for line in lines:
        arg, state = line.split(" ", 1)
        assert arg == "recorded", line  # args[0] is argv[0], args[1:] the arguments
        states.append(json.loads(state))
    pre, post = states
    assert pre["id"] == cid and post["id"] == cid, states
    assert pre["status"] == "creating", pre  # runc 1.1.5 at prestart
    assert pre["pid"] > 0, pre
    assert Path(pre["bundle"]).is_absolute(), pre
    assert post["status"] == "stopped", post


def test_hooks_dir_prestart_failure_fails_run(engine: Podman, tmp_path: Path) -> None:
    hooks = tmp_path / "hooks.d"
    hooks.mkdir()
    (hooks / "fail.json").write_text(json.dumps({
        "version": "1.0.0",
        "hook": {"path": "/bin/false"},
        "when": {"always": True},
        "stages": ["prestart"],
    }))
    marker = tmp_path / "ran"
    marker.mkdir()
    cp = _run_with_global(engine, ["--hooks-dir", str(hooks)],
                          ["--rm", "-v", f"{marker}:/m"], ["touch", "/m/ran"])
    assert cp.returncode != 0, cp.stdout
    print(f"prestart failure: exit {cp.returncode}: {cp.stderr.strip()}")
    assert not (marker / "ran").exists(), "the container process ran although prestart failed"
