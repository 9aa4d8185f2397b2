"""podman 4.3 driving the runtime under test (AGENTSH_TEST_RUNTIME) with conmon.

Every container runs with ``--network none`` from a busybox image built offline.
The fixtures in conftest.py check after each test that nothing is left behind.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.e2e.podman import Podman

SLEEP = ["sleep", "1000"]


def _cap_eff(status: str) -> int:
    m = re.search(r"^CapEff:\s*([0-9a-f]+)$", status, re.M)
    assert m, f"no CapEff line in:\n{status}"
    return int(m.group(1), 16)


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


def _host_pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


# -- run --rm, exit codes -------------------------------------------------
def test_run_rm_prints_output(engine: Podman) -> None:
    cp = engine.run("--rm", cmd=["sh", "-c", "echo hello from agentsh-runtime"])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "hello from agentsh-runtime\n"
    assert engine.container_ids() == []


def test_run_rm_stdout_and_stderr_separate(engine: Podman) -> None:
    cp = engine.run("--rm", cmd=["sh", "-c", "echo out; echo err >&2"])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "out\n"
    assert cp.stderr == "err\n"


@pytest.mark.parametrize(
    ("cmd", "code"),
    [(["true"], 0), (["sh", "-c", "exit 3"], 3), (["false"], 1)],
)
def test_exit_code(engine: Podman, cmd: list[str], code: int) -> None:
    cp = engine.run("--rm", cmd=cmd)
    assert cp.returncode == code, cp.stderr


def test_exit_code_137_after_kill(engine: Podman) -> None:
    cid = engine.run_detached(cmd=SLEEP)
    engine.wait_running(cid)
    engine("kill", cid, check=True)
    assert engine.wait_exit(cid) == 137
    assert engine.inspect(cid)["State"]["ExitCode"] == 137
    engine("rm", cid, check=True)


def test_stdin_is_passed_with_i(engine: Podman) -> None:
    cp = engine.run("--rm", "-i", cmd=["sh", "-c", "tr a-z A-Z"], input="piped in\n")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "PIPED IN\n"


# -- terminals --------------------------------------------------------------
def test_run_it_has_a_tty(engine: Podman, script_bin: str) -> None:
    probe = "tty; stty size; [ -t 0 ] && echo stdin-tty; [ -t 1 ] && echo stdout-tty"
    argv = engine.run_argv("-it", "--rm", cmd=["sh", "-c", probe])
    # script(1) gives podman a pty; size it so the container's console size is checkable.
    inner = "stty rows 37 cols 101; " + shlex.join(argv)
    # stdin: a pipe kept open (no data, no EOF) so script forwards nothing to the tty
    r, w = os.pipe()
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        p = subprocess.Popen(
            [script_bin, "-qec", inner, "/dev/null"],
            env=engine.env, stdin=r, stdout=out_f, stderr=err_f,
        )
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
    assert p.returncode is not None and p.returncode != -9, f"podman run -it hung: {out!r}"
    text = out.decode(errors="replace").replace("\r", "")
    assert p.returncode == 0, (text, err)
    lines = text.splitlines()
    assert re.fullmatch(r"/dev/pts/\d+", lines[0]), text
    assert "37 101" in lines, text
    assert "stdin-tty" in lines and "stdout-tty" in lines, text


# -- detached containers: exec, stop, kill, ps, top, logs, rm -f ------------
def test_detached_then_exec(engine: Podman) -> None:
    cid = engine.run_detached("--hostname", "exec-host", cmd=SLEEP)
    engine.wait_running(cid)
    cp = engine("exec", cid, "sh", "-c", "echo in-exec $(hostname); exit 5")
    assert cp.returncode == 5, cp.stderr
    assert cp.stdout == "in-exec exec-host\n"
    cp = engine("exec", cid, "cat", "/proc/1/cmdline")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split("\0")[:2] == ["sleep", "1000"]
    cp = engine("exec", "-t", cid, "sh", "-c", "tty; [ -t 1 ] && echo stdout-tty")
    assert cp.returncode == 0, cp.stderr
    lines = cp.stdout.replace("\r", "").splitlines()
    assert re.fullmatch(r"/dev/pts/\d+", lines[0]), cp.stdout
    assert "stdout-tty" in lines
    cp = engine("exec", "--user", "1000:1000", "--workdir", "/tmp", "--env", "X=y", cid,
                "sh", "-c", 'echo $(id -u):$(id -g) $(pwd) "$X"')
    assert cp.stdout == "1000:1000 /tmp y\n", cp.stderr
    engine("rm", "-f", "-t", "0", cid, check=True)


def test_exec_missing_binary_fails(engine: Podman) -> None:
    cid = engine.run_detached(cmd=SLEEP)
    engine.wait_running(cid)
    cp = engine("exec", cid, "/no/such/binary")
    assert cp.returncode != 0
    assert engine.inspect(cid)["State"]["Status"] == "running"
    engine("rm", "-f", "-t", "0", cid, check=True)


def test_stop_sends_term(engine: Podman) -> None:
    cid = engine.run_detached(
        cmd=["sh", "-c",
             'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done']
    )
    _wait_for_log(engine, cid, "ready")
    t0 = time.monotonic()
    engine("stop", "--time", "20", cid, check=True, timeout=40)
    elapsed = time.monotonic() - t0
    assert elapsed < 10, f"stop took {elapsed:.1f}s: TERM was not delivered"
    assert engine.inspect(cid)["State"]["ExitCode"] == 7
    assert "got-term" in _wait_for_log(engine, cid, "got-term")
    engine("rm", cid, check=True)


def test_stop_kills_after_timeout_when_term_ignored(engine: Podman) -> None:
    cid = engine.run_detached(cmd=["sh", "-c", "trap '' TERM; echo ready; sleep 1000"])
    _wait_for_log(engine, cid, "ready")
    t0 = time.monotonic()
    engine("stop", "--time", "1", cid, check=True, timeout=40)
    elapsed = time.monotonic() - t0
    assert 0.9 <= elapsed < 15, f"stop --time 1 took {elapsed:.1f}s"
    st = engine.inspect(cid)["State"]
    assert st["Status"] == "exited"
    assert st["ExitCode"] == 137
    engine("rm", cid, check=True)


def test_kill_with_signal(engine: Podman) -> None:
    cid = engine.run_detached(
        cmd=["sh", "-c",
             'trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.1; done']
    )
    _wait_for_log(engine, cid, "ready")
    engine("kill", "-s", "USR1", cid, check=True)
    _wait_for_log(engine, cid, "got-usr1")
    assert engine.inspect(cid)["State"]["Status"] == "running"
    engine("kill", "--signal", "SIGKILL", cid, check=True)
    assert engine.wait_exit(cid) == 137
    engine("rm", cid, check=True)


def test_ps_and_top(engine: Podman) -> None:
    cid = engine.run_detached(cmd=SLEEP)
    engine.wait_running(cid)
    cp = engine("ps", "--no-trunc", "--format", "{{.ID}} {{.Status}}", check=True)
    rows = dict(line.split(" ", 1) for line in cp.stdout.splitlines())
    assert cid in rows, cp.stdout
    assert rows[cid].startswith("Up"), rows[cid]
    cp = engine("top", cid, check=True)
    assert re.search(r"^root\s+1\s+0\s.*sleep 1000", cp.stdout, re.M), cp.stdout
    cp = engine("top", cid, "pid", "args", check=True)
    assert "sleep 1000" in cp.stdout
    engine("rm", "-f", "-t", "0", cid, check=True)
    cp = engine("ps", "-a", "--no-trunc", "--format", "{{.ID}}", check=True)
    assert cid not in cp.stdout


def test_logs(engine: Podman) -> None:
    cid = engine.run_detached(
        cmd=["sh", "-c", "echo line-one; echo line-two >&2; echo done; sleep 1000"]
    )
    _wait_for_log(engine, cid, "done")
    cp = engine("logs", cid, check=True)
    assert cp.stdout.splitlines() == ["line-one", "done"]
    assert cp.stderr.splitlines() == ["line-two"]
    engine("rm", "-f", "-t", "0", cid, check=True)


def test_logs_after_exit(engine: Podman) -> None:
    cid = engine.run_detached(cmd=["sh", "-c", "echo finished; exit 4"])
    assert engine.wait_exit(cid) == 4
    assert engine("logs", cid, check=True).stdout == "finished\n"
    engine("rm", cid, check=True)


def test_rm_force_running(engine: Podman) -> None:
    cid = engine.run_detached(cmd=SLEEP)
    engine.wait_running(cid)
    pid = engine.inspect(cid)["State"]["Pid"]
    assert pid > 0 and _host_pid_alive(pid)
    engine("rm", "-f", cid, check=True, timeout=60)
    assert engine.container_ids() == []
    deadline = time.monotonic() + 10
    while _host_pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _host_pid_alive(pid), f"container init {pid} survived rm -f"


# -- run options -------------------------------------------------------------
def test_read_only_rootfs(engine: Podman) -> None:
    cp = engine.run("--rm", "--read-only", cmd=["sh", "-c", "touch /probe; echo rc=$?"])
    assert cp.returncode == 0, cp.stderr
    assert "rc=1" in cp.stdout
    assert "Read-only file system" in cp.stderr
    # podman's default read_only_tmpfs keeps /tmp writable
    cp = engine.run("--rm", "--read-only", cmd=["sh", "-c", "echo x > /tmp/f && cat /tmp/f"])
    assert cp.stdout == "x\n", cp.stderr
    # without --read-only the same write works
    cp = engine.run("--rm", cmd=["sh", "-c", "touch /probe && echo ok"])
    assert cp.stdout == "ok\n", cp.stderr


def test_user(engine: Podman) -> None:
    cp = engine.run("--rm", "--user", "1000:1000", cmd=["id"])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.startswith("uid=1000(tester) gid=1000(tester)"), cp.stdout
    cp = engine.run("--rm", "--user", "1000:1000", cmd=["sh", "-c", "touch /root/x"])
    assert cp.returncode != 0
    assert "Permission denied" in cp.stderr
    cp = engine.run("--rm", cmd=["id", "-u"])
    assert cp.stdout == "0\n"


def test_cap_drop_all(engine: Podman) -> None:
    cp = engine.run("--rm", "--cap-drop", "all", cmd=["cat", "/proc/self/status"])
    assert cp.returncode == 0, cp.stderr
    for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert re.search(rf"^{field}:\s*0{{16}}$", cp.stdout, re.M), (field, cp.stdout)


def test_cap_drop_chown(engine: Podman) -> None:
    default = engine.run("--rm", cmd=["cat", "/proc/self/status"])
    dropped = engine.run("--rm", "--cap-drop", "chown", cmd=["cat", "/proc/self/status"])
    assert default.returncode == 0 and dropped.returncode == 0, dropped.stderr
    d, x = _cap_eff(default.stdout), _cap_eff(dropped.stdout)
    assert d & 1, f"CAP_CHOWN missing by default: {d:#x}"
    assert x == d & ~1, f"--cap-drop chown: {x:#x}, default {d:#x}"
    # chown is exec'd directly (not a shell builtin) so the kernel check applies
    ok = engine.run("--rm", cmd=["chown", "1000", "/tmp"])
    assert ok.returncode == 0, ok.stderr
    denied = engine.run("--rm", "--cap-drop", "chown", cmd=["chown", "1000", "/tmp"])
    assert denied.returncode != 0
    assert "Operation not permitted" in denied.stderr


def test_tmpfs(engine: Podman) -> None:
    cp = engine.run(
        "--rm", "--tmpfs", "/scratch",
        cmd=["sh", "-c", "grep ' /scratch ' /proc/mounts; echo data > /scratch/f; cat /scratch/f"],
    )
    assert cp.returncode == 0, cp.stderr
    lines = cp.stdout.splitlines()
    assert lines[0].split()[:3] == ["tmpfs", "/scratch", "tmpfs"], cp.stdout
    assert lines[-1] == "data"


def test_bind_mount_rw(engine: Podman, tmp_path: Path) -> None:
    host = tmp_path / "shared"
    host.mkdir()
    (host / "from-host").write_text("host says hi\n")
    cp = engine.run(
        "--rm", "-v", f"{host}:/data",
        cmd=["sh", "-c", "cat /data/from-host && echo container says hi > /data/from-ctr"],
    )
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "host says hi\n"
    assert (host / "from-ctr").read_text() == "container says hi\n"


def test_bind_mount_ro(engine: Podman, tmp_path: Path) -> None:
    host = tmp_path / "shared"
    host.mkdir()
    (host / "from-host").write_text("read me\n")
    cp = engine.run(
        "--rm", "-v", f"{host}:/data:ro",
        cmd=["sh", "-c", "cat /data/from-host; touch /data/nope; echo rc=$?"],
    )
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "read me\nrc=1\n"
    assert "Read-only file system" in cp.stderr
    assert sorted(p.name for p in host.iterdir()) == ["from-host"]


def test_hostname(engine: Podman) -> None:
    cp = engine.run("--rm", "--hostname", "agentsh-e2e", cmd=["hostname"])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "agentsh-e2e\n"


def test_env(engine: Podman) -> None:
    cp = engine.run(
        "--rm", "--env", "FOO=bar", "--env", "SPACED=a b  c",
        cmd=["sh", "-c", 'echo "$FOO|$SPACED"'],
    )
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "bar|a b  c\n"


def test_workdir(engine: Podman) -> None:
    cp = engine.run("--rm", "--workdir", "/home/tester", cmd=["pwd"])
    assert cp.stdout == "/home/tester\n", cp.stderr
    cp = engine.run("--rm", "--workdir", "/etc", cmd=["sh", "-c", "pwd; cat ./group"])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.startswith("/etc\nroot:x:0:"), cp.stdout
    # podman itself refuses a workdir missing from the image (not the runtime's business)
    cp = engine.run("--rm", "--workdir", "/no/such/dir", cmd=["pwd"])
    assert cp.returncode != 0


def test_network_none(engine: Podman) -> None:
    cp = engine.run("--rm", cmd=["cat", "/proc/net/dev"])
    assert cp.returncode == 0, cp.stderr
    ifaces = [ln.split(":")[0].strip() for ln in cp.stdout.splitlines()[2:]]
    assert ifaces == ["lo"], cp.stdout
