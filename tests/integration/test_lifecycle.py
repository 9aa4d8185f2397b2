"""Container lifecycle through the runc CLI: create/start/state/kill/delete/list/ps/run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import pytest

from tests.support import reaper
from tests.support.bundle import (
    Bundle,
    Runtime,
    assert_error,
    pid_alive,
    until_stop_file,
    wait_for,
)

SLEEP = ["sleep", "1000"]


def created(runtime: Runtime, bundle: Bundle, cid: str, **kw: object) -> dict:
    res = runtime.create(bundle, cid, **kw)  # type: ignore[arg-type]
    assert res.returncode == 0, res.stderr
    st = runtime.state_json(cid)
    assert st is not None
    return st


def running(runtime: Runtime, bundle: Bundle, cid: str, **kw: object) -> dict:
    created(runtime, bundle, cid, **kw)
    res = runtime.start(cid)
    assert res.returncode == 0, res.stderr
    return runtime.wait_status(cid, "running")


def stopped(runtime: Runtime, bundle: Bundle, cid: str) -> dict:
    bundle.update(args=["true"])
    assert created(runtime, bundle, cid)["status"] == "created"
    assert runtime.start(cid).returncode == 0
    return runtime.wait_status(cid, "stopped")


# -- the state machine ---------------------------------------------------------


def test_create_start_exit_walks_created_running_stopped(runtime, bundle, cid):
    bundle.update(args=until_stop_file())
    st = created(runtime, bundle, cid)
    assert st["status"] == "created"
    assert isinstance(st["pid"], int) and st["pid"] > 0
    assert pid_alive(st["pid"])

    assert runtime.start(cid).returncode == 0
    st2 = runtime.wait_status(cid, "running")
    assert st2["pid"] == st["pid"]

    (bundle.rootfs / "stop").touch()
    runtime.wait_status(cid, "stopped")
    assert runtime.delete(cid).returncode == 0
    assert runtime.container_dirs() == []


def test_state_json_fields(runtime, bundle, cid):
    annotations = {"org.example.key": "value", "com.example/other": "x y"}
    bundle.update(args=SLEEP, annotations=annotations)
    st = created(runtime, bundle, cid)
    assert isinstance(st["ociVersion"], str) and re.match(r"^1\.\d+\.\d+", st["ociVersion"])
    assert st["id"] == cid
    assert st["status"] == "created"
    assert st["bundle"] == str(bundle.path)
    assert os.path.isabs(st["bundle"])
    assert st["annotations"] == annotations
    # state prints one JSON document on stdout
    raw = runtime.state(cid)
    assert raw.returncode == 0
    assert json.loads(raw.stdout)["id"] == cid


def test_state_bundle_is_absolute_for_relative_bundle_arg(runtime, bundle, cid, tmp_path):
    bundle.update(args=SLEEP)
    bundle.write()
    argv = runtime.global_args() + ["create", "--bundle", f"./{bundle.path.name}", cid]
    with open(bundle.file("create.out"), "w") as f:
        p = subprocess.run(argv, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=f, stderr=f,
                           timeout=30)
    assert p.returncode == 0, bundle.file("create.out").read_text()
    st = runtime.state_json(cid)
    assert st and st["bundle"] == str(bundle.path)
    runtime.record_pid(st["pid"])


def test_bundle_defaults_to_cwd(runtime, bundle, cid):
    bundle.update(args=SLEEP)
    bundle.write()
    argv = runtime.global_args() + ["create", cid]
    with open(bundle.file("create.out"), "w") as f:
        p = subprocess.run(argv, cwd=bundle.path, stdin=subprocess.DEVNULL, stdout=f, stderr=f,
                           timeout=30)
    assert p.returncode == 0, bundle.file("create.out").read_text()
    st = runtime.state_json(cid)
    assert st and st["bundle"] == str(bundle.path)
    runtime.record_pid(st["pid"])


def test_state_of_unknown_container(runtime):
    assert_error(runtime.state("nosuchcontainer"), "does not exist")


def test_pid_file_holds_host_pid_without_newline(runtime, bundle, cid):
    bundle.update(args=SLEEP)
    pid_file = bundle.file("init.pid")
    st = created(runtime, bundle, cid, pid_file=pid_file)
    raw = pid_file.read_bytes()
    assert raw == str(st["pid"]).encode(), raw
    assert not raw.endswith(b"\n")
    # host pid: visible in our /proc and in another pid namespace than ours
    pid = int(raw)
    assert os.readlink(f"/proc/{pid}/ns/pid") != os.readlink("/proc/self/ns/pid")


def test_create_holds_user_process_until_start(runtime, bundle, cid):
    bundle.update(args=until_stop_file("echo started > /marker"))
    created(runtime, bundle, cid)
    time.sleep(0.3)
    assert not (bundle.rootfs / "marker").exists(), "user process ran before start"
    assert runtime.status(cid) == "created"
    assert runtime.start(cid).returncode == 0
    wait_for(lambda: (bundle.rootfs / "marker").exists(), what="marker after start")
    assert (bundle.rootfs / "marker").read_text() == "started\n"
    (bundle.rootfs / "stop").touch()
    runtime.wait_status(cid, "stopped")


def test_init_is_reparented_to_callers_subreaper(runtime, bundle, cid):
    """create exits and leaves the init to the caller's subreaper (conmon, the shim)."""
    assert reaper.is_subreaper()
    bundle.update(args=SLEEP)
    st = created(runtime, bundle, cid)
    assert reaper.parent_of(st["pid"]) == os.getpid()


def test_stdio_pass_through(runtime, bundle, cid):
    bundle.update(args=["sh", "-c", "echo to-stdout; echo to-stderr >&2"])
    created(runtime, bundle, cid)
    assert runtime.start(cid).returncode == 0
    runtime.wait_status(cid, "stopped")
    out, err = runtime.output(bundle, cid)
    assert out == "to-stdout\n"
    assert err == "to-stderr\n"


# -- delete ----------------------------------------------------------------------


def test_delete_created_container(runtime, bundle, cid):
    bundle.update(args=SLEEP)
    st = created(runtime, bundle, cid)
    res = runtime.delete(cid)
    assert res.returncode == 0, res.stderr
    wait_for(lambda: not pid_alive(st["pid"]), what="init killed by delete")
    assert_error(runtime.state(cid), "does not exist")
    assert runtime.container_dirs() == []


def test_delete_stopped_container(runtime, bundle, cid):
    stopped(runtime, bundle, cid)
    res = runtime.delete(cid)
    assert res.returncode == 0, res.stderr
    assert_error(runtime.state(cid), "does not exist")
    assert runtime.container_dirs() == []


def test_delete_running_without_force_fails(runtime, bundle, cid):
    bundle.update(args=SLEEP)
    st = running(runtime, bundle, cid)
    assert_error(runtime.delete(cid), "not stopped")
    assert runtime.status(cid) == "running"
    assert pid_alive(st["pid"])


def test_delete_force_running(runtime, bundle, cid):
    bundle.update(args=SLEEP)
    st = running(runtime, bundle, cid)
    res = runtime.delete(cid, force=True)
    assert res.returncode == 0, res.stderr
    wait_for(lambda: not pid_alive(st["pid"]), what="init killed by delete --force")
    assert_error(runtime.state(cid), "does not exist")
    assert runtime.container_dirs() == []


def test_delete_force_unknown_id_exits_zero(runtime):
    res = runtime.delete("neverexisted", force=True)
    assert res.returncode == 0, res.stderr


def test_second_delete_fails(runtime, bundle, cid):
    stopped(runtime, bundle, cid)
    assert runtime.delete(cid).returncode == 0
    assert_error(runtime.delete(cid), "does not exist")


# -- bad lifecycle requests --------------------------------------------------------


def test_duplicate_id_fails_and_keeps_first(runtime, make_bundle, cid):
    b1 = make_bundle(args=SLEEP)
    st = created(runtime, b1, cid)
    b2 = make_bundle(args=SLEEP)
    res = runtime.create(b2, cid)
    assert_error(res, "exists")
    st2 = runtime.state_json(cid)
    assert st2 is not None
    assert st2["pid"] == st["pid"] and st2["bundle"] == str(b1.path)
    assert st2["status"] == "created"


@pytest.mark.parametrize("bad_id", ["a/b", "../escape", "/abs"])
def test_id_with_slash_fails(runtime, bundle, bad_id, tmp_path):
    bundle.update(args=["true"])
    res = runtime.create(bundle, bad_id)
    assert_error(res)
    assert runtime.container_dirs() == []
    assert not (tmp_path / "escape").exists()


def test_start_running_container_fails(runtime, bundle, cid):
    bundle.update(args=SLEEP)
    running(runtime, bundle, cid)
    assert_error(runtime.start(cid), "already running")
    assert runtime.status(cid) == "running"


def test_start_stopped_container_fails(runtime, bundle, cid):
    stopped(runtime, bundle, cid)
    assert_error(runtime.start(cid), "stopped")
    assert runtime.status(cid) == "stopped"


def test_start_unknown_container_fails(runtime):
    assert_error(runtime.start("nosuch"), "does not exist")


def test_kill_stopped_container_fails(runtime, bundle, cid):
    stopped(runtime, bundle, cid)
    assert_error(runtime.kill(cid, "KILL"), "container not running")


def test_kill_unknown_container_fails(runtime):
    assert_error(runtime.kill("nosuch", "KILL"), "does not exist")


@pytest.mark.parametrize("sig", ["FOO", "SIGFOO", "99999", "-1"])
def test_kill_unknown_signal_fails(runtime, bundle, cid, sig):
    bundle.update(args=SLEEP)
    st = running(runtime, bundle, cid)
    res = runtime.cmd("kill", cid, sig)
    assert_error(res)
    assert runtime.status(cid) == "running"
    assert pid_alive(st["pid"])


# -- kill ----------------------------------------------------------------------


@pytest.mark.parametrize("sig", ["9", "KILL", "SIGKILL", "kill", "SigKill"])
def test_kill_sigkill_forms(runtime, bundle, cid, sig):
    bundle.update(args=SLEEP)
    st = running(runtime, bundle, cid)
    res = runtime.kill(cid, sig)
    assert res.returncode == 0, res.stderr
    runtime.wait_status(cid, "stopped")
    assert not pid_alive(st["pid"])


@pytest.mark.parametrize("sig", ["USR1", "SIGUSR1", "usr1", str(int(signal.SIGUSR1))])
def test_kill_delivers_named_signal(runtime, bundle, cid, sig):
    """A pid-1 init only gets signals it handles: trap USR1 and check it arrived."""
    bundle.update(args=["sh", "-c", "trap 'echo usr1 > /got; exit 0' USR1; "
                                    "echo ready > /ready; while :; do usleep 20000; done"])
    running(runtime, bundle, cid)
    wait_for(lambda: (bundle.rootfs / "ready").exists(), what="trap installed")
    res = runtime.kill(cid, sig)
    assert res.returncode == 0, res.stderr
    runtime.wait_status(cid, "stopped")
    assert (bundle.rootfs / "got").read_text() == "usr1\n"


def test_kill_default_signal_is_sigterm(runtime, bundle, cid):
    bundle.update(args=["sh", "-c", "trap 'echo term > /got; exit 0' TERM; "
                                    "echo ready > /ready; while :; do usleep 20000; done"])
    running(runtime, bundle, cid)
    wait_for(lambda: (bundle.rootfs / "ready").exists(), what="trap installed")
    res = runtime.kill(cid)
    assert res.returncode == 0, res.stderr
    runtime.wait_status(cid, "stopped")
    assert (bundle.rootfs / "got").read_text() == "term\n"


def test_kill_created_container(runtime, bundle, cid):
    bundle.update(args=SLEEP)
    st = created(runtime, bundle, cid)
    assert runtime.kill(cid, "KILL").returncode == 0
    runtime.wait_status(cid, "stopped")
    assert not pid_alive(st["pid"])


def test_kill_all_signals_every_process(runtime, bundle, cid):
    bundle.update(args=SLEEP)
    st = running(runtime, bundle, cid)
    pid_file = bundle.file("exec.pid")
    res = runtime.exec_detached(cid, "sleep", "1000", out=bundle.file("exec.out"),
                                pid_file=pid_file)
    assert res.returncode == 0, res.stdout
    exec_pid = int(pid_file.read_text())
    assert pid_alive(exec_pid)
    res = runtime.kill(cid, "KILL", all=True)
    assert res.returncode == 0, res.stderr
    wait_for(lambda: not pid_alive(exec_pid), what="exec'd process killed by kill --all")
    runtime.wait_status(cid, "stopped")
    assert not pid_alive(st["pid"])


# -- list / ps ------------------------------------------------------------------------


def test_list_table_and_json(runtime, make_bundle, cid):
    b1 = make_bundle(args=SLEEP)
    b2 = make_bundle(args=SLEEP)
    c1, c2 = cid + "a", cid + "b"
    st1 = created(runtime, b1, c1)
    st2 = running(runtime, b2, c2)

    table = runtime.list()
    assert table.returncode == 0, table.stderr
    lines = table.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["ID", "PID", "STATUS"]
    rows = {ln.split()[0]: ln.split() for ln in lines[1:]}
    assert rows[c1][1:3] == [str(st1["pid"]), "created"]
    assert rows[c2][1:3] == [str(st2["pid"]), "running"]
    assert rows[c1][3] == str(b1.path)

    js = runtime.list("json")
    assert js.returncode == 0, js.stderr
    items = {c["id"]: c for c in json.loads(js.stdout)}
    assert set(items) == {c1, c2}
    assert items[c1]["status"] == "created" and items[c1]["pid"] == st1["pid"]
    assert items[c2]["status"] == "running" and items[c2]["pid"] == st2["pid"]
    assert items[c2]["bundle"] == str(b2.path)


def test_list_empty(runtime):
    table = runtime.list()
    assert table.returncode == 0
    assert table.stdout.strip().splitlines()[0].split()[:3] == ["ID", "PID", "STATUS"]
    assert len(table.stdout.strip().splitlines()) == 1
    js = runtime.list("json")
    assert js.returncode == 0
    assert json.loads(js.stdout) in (None, [])


def test_ps_json_lists_host_pids(runtime, bundle, cid):
    bundle.update(args=SLEEP)
    st = running(runtime, bundle, cid)
    res = runtime.ps(cid, "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == [st["pid"]]

    pid_file = bundle.file("exec.pid")
    assert runtime.exec_detached(cid, "sleep", "1000", out=bundle.file("x.out"),
                                 pid_file=pid_file).returncode == 0
    exec_pid = int(pid_file.read_text())
    res = runtime.ps(cid, "json")
    assert sorted(json.loads(res.stdout)) == sorted([st["pid"], exec_pid])


def test_ps_table(runtime, bundle, cid):
    bundle.update(args=SLEEP)
    st = running(runtime, bundle, cid)
    res = runtime.ps(cid)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    header = lines[0].split()
    assert "PID" in header and "CMD" in header
    pid_col = header.index("PID")
    assert [int(ln.split()[pid_col]) for ln in lines[1:]] == [st["pid"]]


# -- run ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 3, 42])
def test_run_exit_status(runtime, bundle, cid, code):
    bundle.update(args=["sh", "-c", f"echo out; echo err >&2; exit {code}"])
    res = runtime.run(bundle, cid)
    assert res.returncode == code, res.stderr
    assert res.stdout == "out\n"
    assert res.stderr == "err\n"
    assert runtime.container_dirs() == []


def test_run_passes_stdin(runtime, bundle, cid):
    bundle.update(args=["sh", "-c", "read line; echo got:$line"])
    bundle.write()
    res = runtime.cmd("run", "--bundle", bundle.path, cid, input="hello\n")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "got:hello\n"


def test_run_killed_by_signal_exits_128_plus_signal(runtime, bundle, cid):
    bundle.update(args=SLEEP)
    proc = runtime.run_background(bundle, cid)
    try:
        runtime.wait_status(cid, "running")
        assert runtime.kill(cid, "KILL").returncode == 0
        assert proc.wait(timeout=15) == 128 + signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert runtime.container_dirs() == []


def test_run_sigterm_without_pid_namespace_exits_143(runtime, bundle, cid):
    """Not pid 1 of its own pid namespace, the shell can kill itself with TERM."""
    bundle.remove_namespace("pid")
    bundle.update(args=["sh", "-c", "kill -TERM $$; sleep 5"])
    res = runtime.run(bundle, cid)
    assert res.returncode == 128 + signal.SIGTERM, res.stderr


def test_run_detach_leaves_running_container(runtime, bundle, cid):
    bundle.update(args=SLEEP)
    bundle.write()
    argv = runtime.global_args() + ["run", "--detach", "--bundle", str(bundle.path), cid]
    with open(bundle.file("run.out"), "w") as f:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=f, timeout=30)
    assert p.returncode == 0, bundle.file("run.out").read_text()
    st = runtime.wait_status(cid, "running")
    runtime.record_pid(st["pid"])
    assert reaper.parent_of(st["pid"]) == os.getpid()
