"""exec into a running container: --process JSON, the flag-only form, exit status,
--detach/--pid-file, namespaces, tty."""

from __future__ import annotations

import json
import os
import re
import signal

import pytest

from tests.support import reaper
from tests.support.bundle import (
    Bundle,
    Runtime,
    assert_error,
    cap_mask,
    pid_alive,
    wait_for,
)


@pytest.fixture
def container(runtime: Runtime, bundle: Bundle, cid: str) -> dict:
    """A running container: `sleep 1000` as init, hostname exechost, env from config."""
    bundle.update(args=["sleep", "1000"], hostname="exechost",
                  add_env=["FROM_CONFIG=yes"])
    res = runtime.create(bundle, cid)
    assert res.returncode == 0, res.stderr
    assert runtime.start(cid).returncode == 0
    return runtime.wait_status(cid, "running")


def process_json(bundle: Bundle, **proc: object) -> str:
    p = {"terminal": False, "user": {"uid": 0, "gid": 0}, "cwd": "/",
         "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}
    p.update(proc)
    f = bundle.file("process.json")
    f.write_text(json.dumps(p))
    return str(f)


def test_exec_process_json(runtime, bundle, cid, container):
    pf = process_json(bundle, args=["sh", "-c", "echo $FOO; pwd; id -u; id -g; id -G; exit 4"],
                      env=["FOO=from-json", "PATH=/bin"], cwd="/tmp",
                      user={"uid": 1000, "gid": 1000, "additionalGids": [10]})
    res = runtime.exec(cid, opts=["--process", pf])
    assert res.returncode == 4, res.stderr
    lines = res.stdout.splitlines()
    assert lines[:4] == ["from-json", "/tmp", "1000", "1000"]
    assert "10" in lines[4].split()


def test_exec_process_json_is_authoritative(runtime, bundle, cid, container):
    """With --process, runc ignores --env/--cwd/--user flags."""
    pf = process_json(bundle, args=["sh", "-c", "echo x$EXTRA; pwd; id -u"], cwd="/tmp")
    res = runtime.exec(cid, opts=["--process", pf, "--env", "EXTRA=flag", "--cwd", "/",
                                  "--user", "1000"])
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["x", "/tmp", "0"]


def test_exec_process_json_capabilities_and_rlimits(runtime, bundle, cid, container):
    caps = ["CAP_KILL", "CAP_CHOWN"]
    pf = process_json(bundle, args=["sh", "-c", "grep ^CapBnd /proc/self/status; ulimit -n"],
                      capabilities={s: caps for s in ("bounding", "effective", "permitted")},
                      rlimits=[{"type": "RLIMIT_NOFILE", "soft": 300, "hard": 300}])
    res = runtime.exec(cid, opts=["--process", pf])
    assert res.returncode == 0, res.stderr
    bnd, nofile = res.stdout.splitlines()
    assert int(bnd.split()[1], 16) == cap_mask(caps)
    assert nofile == "300"


def test_exec_flag_form(runtime, cid, container):
    res = runtime.exec(cid, "sh", "-c", "echo $A; pwd; echo $FROM_CONFIG",
                       opts=["--env", "A=B", "--cwd", "/tmp"])
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["B", "/tmp", "yes"]


def test_exec_flag_form_user(runtime, cid, container):
    res = runtime.exec(cid, "sh", "-c", "id -u; id -g", opts=["--user", "1000:10"])
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["1000", "10"]


def test_exec_flag_form_cap(runtime, cid, container):
    res = runtime.exec(cid, "sh", "-c", "grep ^CapEff /proc/self/status",
                       opts=["--cap", "CAP_SYS_ADMIN"])
    assert res.returncode == 0, res.stderr
    eff = int(res.stdout.split()[1], 16)
    assert eff & cap_mask(["CAP_SYS_ADMIN"])
    assert eff & cap_mask(["CAP_KILL"])  # the config's caps stay


@pytest.mark.parametrize("code", [0, 1, 5, 77])
def test_exec_exit_status(runtime, cid, container, code):
    res = runtime.exec(cid, "sh", "-c", f"exit {code}")
    assert res.returncode == code


def test_exec_killed_by_signal(runtime, cid, container):
    res = runtime.exec(cid, "sh", "-c", "kill -KILL $$")
    assert res.returncode == 128 + signal.SIGKILL


def test_exec_stdio(runtime, cid, container):
    res = runtime.cmd("exec", cid, "sh", "-c", "read x; echo out:$x; echo err:$x >&2",
                      input="data\n")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "out:data\n"
    assert res.stderr == "err:data\n"


def test_exec_detach_pid_file(runtime, bundle, cid, container):
    pid_file = bundle.file("exec.pid")
    res = runtime.exec_detached(cid, "sh", "-c", "echo detached-output; sleep 1000",
                                out=bundle.file("exec.out"), pid_file=pid_file)
    assert res.returncode == 0, res.stdout
    raw = pid_file.read_bytes()
    assert re.fullmatch(rb"[0-9]+", raw), raw
    pid = int(raw)
    assert pid_alive(pid)
    # host pid of the process that exec'd, in the container's pid namespace
    assert os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(f"/proc/{container['pid']}/ns/pid")
    assert reaper.parent_of(pid) == os.getpid(), "exec --detach must leave it to our subreaper"
    assert pid in json.loads(runtime.ps(cid, "json").stdout)
    # its stdio is the exec command's: here a file
    wait_for(lambda: "detached-output" in bundle.file("exec.out").read_text(),
             what="output of the detached process")


def test_exec_joins_container_namespaces(runtime, cid, container):
    init = container["pid"]
    res = runtime.exec(cid, "sh", "-c", "hostname; ps -o pid,comm; "
                                        "for n in pid net ipc uts mnt; do "
                                        "readlink /proc/self/ns/$n; done")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "exechost"
    assert lines[2].split() == ["1", "sleep"], "the init is pid 1 in the exec's pid namespace"
    ns = lines[-5:]
    for got, name in zip(ns, ["pid", "net", "ipc", "uts", "mnt"], strict=True):
        assert got == os.readlink(f"/proc/{init}/ns/{name}"), name


def test_exec_sees_container_rootfs(runtime, bundle, cid, container):
    (bundle.rootfs / "etc/only-in-container").write_text("rootfs\n")
    res = runtime.exec(cid, "cat", "/etc/only-in-container")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "rootfs\n"


def test_exec_into_created_container(runtime, bundle, cid):
    bundle.update(args=["sleep", "1000"])
    assert runtime.create(bundle, cid).returncode == 0
    res = runtime.exec(cid, "echo", "hi")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "hi\n"
    assert runtime.status(cid) == "created"


def test_exec_into_stopped_container_fails(runtime, bundle, cid):
    bundle.update(args=["true"])
    assert runtime.create(bundle, cid).returncode == 0
    assert runtime.start(cid).returncode == 0
    runtime.wait_status(cid, "stopped")
    assert_error(runtime.exec(cid, "true"), "stopped")


def test_exec_into_unknown_container_fails(runtime):
    assert_error(runtime.exec("nosuch", "true"), "does not exist")


def test_exec_missing_binary_fails(runtime, cid, container):
    res = runtime.exec(cid, "/no/such/bin")
    assert res.returncode != 0
    assert "/no/such/bin" in res.stderr
    assert runtime.status(cid) == "running"


def test_exec_without_command_fails(runtime, cid, container):
    assert_error(runtime.exec(cid), "args")


def test_exec_tty_console_socket(runtime, cid, container, console_socket):
    res = runtime.exec(cid, "sh", "-c", "tty; read x; echo got:$x",
                       opts=["--tty", "--console-socket", str(console_socket.path), "--detach"])
    assert res.returncode == 0, res.stderr
    console_socket.wait()
    assert len(console_socket.fds) == 1
    text = console_socket.read_until(b"/dev/pts/").decode()
    console_socket.write(b"typed\n")
    text += console_socket.read_until(b"got:typed").decode()
    lines = text.replace("\r", "").splitlines()
    assert re.fullmatch(r"/dev/pts/\d+", lines[0]), text
    assert "got:typed" in lines


def test_exec_process_json_terminal(runtime, bundle, cid, container, console_socket):
    pf = process_json(bundle, args=["sh", "-c", "tty; stty size; echo done"], terminal=True,
                      consoleSize={"height": 40, "width": 120})
    res = runtime.exec(cid, opts=["--process", pf, "--console-socket",
                                  str(console_socket.path), "--detach"])
    assert res.returncode == 0, res.stderr
    console_socket.wait()
    text = console_socket.read_until(b"done").decode().replace("\r", "")
    lines = text.splitlines()
    assert re.fullmatch(r"/dev/pts/\d+", lines[0]), text
    assert lines[1] == "40 120"


def test_exec_tty_without_console_socket_detached_fails(runtime, cid, container):
    res = runtime.exec(cid, "true", opts=["--tty", "--detach"])
    assert_error(res, "console socket")
