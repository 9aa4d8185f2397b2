"""`create` in ptrace mode: annotation dev.agentsh.ptrace on, auto (falls back when the
host refuses namespaces: here, a runtime without CAP_SYS_ADMIN), off (fails closed)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bundle import Bundle, only_ours, pid_alive, runtime_binary, wait_for
from tests.support.policy import (
    ANN_INLINE,
    DENY_RM,
    PolicyRuntime,
    command_policy,
    write_admin_config,
    write_in,
)

ANN_PTRACE = "dev.agentsh.ptrace"
ANN_ACTIVE = "dev.agentsh.ptrace.active"
NO_SYS_ADMIN = ["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-all", "--"]


@pytest.fixture
def prt(tmp_path: Path, _tracker) -> Iterator[PolicyRuntime]:  # noqa: ANN001
    only_ours("ptrace mode")
    rt = PolicyRuntime(runtime_binary(), tmp_path / "pstate", write_admin_config(tmp_path))
    _tracker.runtimes.append(rt)
    yield rt
    rt.cleanup()


def _bundle(bundle: Bundle, mode: str, script: str) -> Bundle:
    write_in(bundle, "/tmp/victim", "precious\n")
    bundle.update(args=["sh", "-c", script],
                  annotations={ANN_INLINE: command_policy(DENY_RM), ANN_PTRACE: mode})
    return bundle


def _create_as(prt: PolicyRuntime, bundle: Bundle, cid: str,
               prefix: list[str]) -> subprocess.CompletedProcess[str]:
    """create with an argv prefix (setpriv), stdio to files as Runtime.create does."""
    bundle.write()
    prt.ids.add(cid)
    out, err = bundle.file(f"{cid}.out"), bundle.file(f"{cid}.err")
    argv = prefix + prt.global_args() + ["create", "--bundle", str(bundle.path), cid]
    with open(out, "w") as fo, open(err, "w") as fe:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, timeout=60)
    res = subprocess.CompletedProcess(argv, p.returncode, out.read_text(), err.read_text())
    if res.returncode == 0:
        prt.monitor(cid)
    return res


def _run_to_end(prt: PolicyRuntime, bundle: Bundle, cid: str) -> tuple[str, dict]:
    st = prt.state_json(cid)
    assert st and st["status"] == "created", st
    assert prt.start(cid).returncode == 0
    prt.wait_status(cid, "stopped", timeout=20)
    out, _ = prt.output(bundle, cid)
    return out, st


def _assert_gone(prt: PolicyRuntime, cid: str, tracer: tuple[int, int | None]) -> None:
    assert prt.delete(cid).returncode == 0
    wait_for(lambda: not pid_alive(*tracer), 5, "the tracer to exit")
    assert not (prt.root / cid).exists()


def test_on_runs_the_process_traced_with_the_policy(prt: PolicyRuntime, bundle: Bundle,
                                                    cid: str) -> None:
    _bundle(bundle, "on", "echo traced; /bin/rm /tmp/victim; echo rc=$?; cat /tmp/victim")
    res = prt.create(bundle, cid)
    assert res.returncode == 0, res.stderr
    tracer = prt.monitor(cid)
    assert tracer is not None and pid_alive(*tracer)
    out, st = _run_to_end(prt, bundle, cid)
    assert st["annotations"][ANN_ACTIVE] == "dev.agentsh.ptrace: on"
    assert "traced" in out and "rc=126" in out and "precious" in out, out
    ev = prt.events(cid)
    assert any(e["type"] == "ptrace_fallback" for e in ev)
    blocked = [e for e in ev if e["type"] == "execve" and e["effective_action"] == "blocked"]
    assert blocked and blocked[0]["policy"]["rule"] == "no-rm", blocked
    assert any(e["type"] == "process_exit" and e["pid"] == st["pid"] for e in ev)
    _assert_gone(prt, cid, tracer)


def test_auto_falls_back_where_namespaces_are_refused(prt: PolicyRuntime, bundle: Bundle,
                                                      cid: str) -> None:
    _bundle(bundle, "auto", "echo fell back; /bin/rm /tmp/victim; echo rc=$?")
    res = _create_as(prt, bundle, cid, NO_SYS_ADMIN)
    assert res.returncode == 0, res.stderr
    assert "ptrace mode" in res.stderr and "namespaces refused" in res.stderr
    tracer = prt.monitor(cid)
    assert tracer is not None
    out, st = _run_to_end(prt, bundle, cid)
    assert "namespaces refused" in st["annotations"][ANN_ACTIVE]
    assert "fell back" in out and "rc=126" in out, out
    _assert_gone(prt, cid, tracer)


def test_auto_uses_namespaces_where_it_can(prt: PolicyRuntime, bundle: Bundle,
                                           cid: str) -> None:
    _bundle(bundle, "auto", "echo pid=$$")
    assert prt.create(bundle, cid).returncode == 0
    out, st = _run_to_end(prt, bundle, cid)
    assert ANN_ACTIVE not in st["annotations"]
    assert "pid=1" in out, out  # its own pid namespace
    assert prt.delete(cid).returncode == 0


def test_off_fails_closed_where_namespaces_are_refused(prt: PolicyRuntime, bundle: Bundle,
                                                       cid: str) -> None:
    _bundle(bundle, "off", "echo must not run")
    res = _create_as(prt, bundle, cid, NO_SYS_ADMIN)
    assert res.returncode != 0
    assert "not permitted" in res.stderr.lower(), res.stderr
    assert not (prt.root / cid).exists()


def test_kill_and_forced_delete_of_a_running_traced_container(
        prt: PolicyRuntime, bundle: Bundle, cid: str) -> None:
    _bundle(bundle, "on", "exec sleep 60")  # no /dev/null: no mounts in ptrace mode
    assert prt.create(bundle, cid).returncode == 0
    tracer = prt.monitor(cid)
    assert tracer is not None
    assert prt.start(cid).returncode == 0
    st = prt.wait_status(cid, "running")
    pid = int(st["pid"])
    assert prt.kill(cid, "KILL").returncode == 0
    prt.wait_status(cid, "stopped", timeout=10)
    _assert_gone(prt, cid, tracer)
    assert not pid_alive(pid)
    cid2 = cid + "b"
    assert prt.create(bundle, cid2).returncode == 0
    tracer2 = prt.monitor(cid2)
    assert tracer2 is not None
    assert prt.start(cid2).returncode == 0
    pid2 = int(prt.wait_status(cid2, "running")["pid"])
    time.sleep(0.3)
    assert prt.delete(cid2, force=True).returncode == 0
    wait_for(lambda: not pid_alive(pid2) and not pid_alive(*tracer2), 10,
             "the container process and its tracer to go")


def test_exec_into_a_traced_container_is_traced_too(prt: PolicyRuntime, bundle: Bundle,
                                                    cid: str) -> None:
    _bundle(bundle, "on", "exec sleep 60")
    assert prt.create(bundle, cid).returncode == 0
    tracer = prt.monitor(cid)
    assert tracer is not None
    assert prt.start(cid).returncode == 0
    prt.wait_status(cid, "running")
    ok = prt.exec(cid, "sh", "-c", "echo inside; cat /tmp/victim")
    assert ok.returncode == 0 and "inside" in ok.stdout and "precious" in ok.stdout, ok
    denied = prt.exec(cid, "/bin/rm", "/tmp/victim")
    assert denied.returncode != 0, denied
    assert (bundle.rootfs / "tmp" / "victim").exists()
    assert any(e["type"] == "execve" and e["effective_action"] == "blocked"
               and e["argv"][0] == "/bin/rm" for e in prt.events(cid))
    assert prt.delete(cid, force=True).returncode == 0
    wait_for(lambda: not pid_alive(*tracer), 10, "the tracer to exit")


def test_runtime_side_hooks_run(prt: PolicyRuntime, bundle: Bundle, cid: str,
                                tmp_path: Path) -> None:
    seen = {k: tmp_path / f"{k}.json" for k in ("prestart", "createRuntime", "poststart",
                                                "poststop")}
    _bundle(bundle, "on", "exit 0")
    bundle.config["hooks"] = {k: [{"path": "/bin/sh", "args": ["sh", "-c", f"cat > {f}"]}]
                              for k, f in seen.items()}
    assert prt.create(bundle, cid).returncode == 0
    assert seen["prestart"].exists() and seen["createRuntime"].exists()
    assert json.loads(seen["createRuntime"].read_text())["id"] == cid
    assert prt.start(cid).returncode == 0
    prt.wait_status(cid, "stopped", timeout=10)
    assert seen["poststart"].exists()
    assert prt.delete(cid).returncode == 0
    assert json.loads(seen["poststop"].read_text())["status"] == "stopped"


def test_approvals_of_a_traced_container(prt: PolicyRuntime, bundle: Bundle,
                                         cid: str) -> None:
    write_in(bundle, "/tmp/victim", "precious\n")
    bundle.update(args=["sh", "-c", "/bin/rm /tmp/victim; echo rc=$?"],
                  annotations={ANN_INLINE: command_policy(
                      {"name": "ask-rm", "commands": ["rm"], "decision": "approve",
                       "timeout": "30s"}), ANN_PTRACE: "on"})
    assert prt.create(bundle, cid).returncode == 0
    assert prt.start(cid).returncode == 0
    pending = wait_for(lambda: prt.pending(cid), 10, "a pending approval")
    assert pending[0]["argv"] == ["/bin/rm", "/tmp/victim"], pending
    assert (bundle.rootfs / "tmp" / "victim").exists()
    assert prt.approvals("approve", cid, pending[0]["id"]).returncode == 0
    prt.wait_status(cid, "stopped", timeout=10)
    out, _ = prt.output(bundle, cid)
    assert "rc=0" in out and not (bundle.rootfs / "tmp" / "victim").exists(), out
    assert prt.delete(cid).returncode == 0
