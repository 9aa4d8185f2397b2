"""command_rules enforced by the per-container monitor (seccomp user notification on
execve/execveat), approvals, the post-exec identity check, fail-closed when the monitor
dies, `exec` into a policy container, io_uring blocked. agentsh-runtime only.

The rootfs is busybox. Debian's static busybox runs applets in-process for
`sh -c 'rm x'` (no exec happens, so there is nothing to check): the tests exec
programs by path (`/bin/rm`, or `sh -c '/bin/rm ...'`, which execs a path).

The dynamic-loader trick (`/lib64/ld-linux-x86-64.so.2 /bin/denied`) is not covered
here: the busybox rootfs is fully static and has no loader. The engine side of it
(ld-linux* as a wrapper) is the unit tests' business.

Every test passes --admin-config with events_dir inside its tmp_path.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bundle import Bundle, only_ours, runtime_binary, wait_for
from tests.support.policy import (
    ANN_INLINE,
    BIN_DIR,
    DENY_MARKER,
    DENY_RM,
    PolicyRuntime,
    command_policy,
    in_rootfs,
    install_programs,
    is_exec,
    of_type,
    symlink_in,
    write_admin_config,
    write_in,
)

MARKER = f"{BIN_DIR}/marker"
XEXEC = f"{BIN_DIR}/xexec"
PWNED = "/tmp/pwned"  # what the denied marker program would create
VICTIM = "/tmp/victim"  # what a denied rm would remove


@pytest.fixture
def admin(tmp_path: Path) -> Path:
    return write_admin_config(tmp_path)


@pytest.fixture
def prt(tmp_path: Path, _tracker, admin: Path) -> Iterator[PolicyRuntime]:  # noqa: ANN001
    only_ours("agentsh policies")
    rt = PolicyRuntime(runtime_binary(), tmp_path / "pstate", admin)
    _tracker.runtimes.append(rt)
    yield rt
    rt.cleanup()
    deadline = time.monotonic() + 3
    while rt.live_monitors() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = rt.live_monitors()
    assert not left, f"monitors alive after delete --force: {left}"


@pytest.fixture
def pbundle(bundle: Bundle) -> Bundle:
    """The busybox bundle with the test programs, /tmp/victim, and the deny-rm +
    deny-marker policy (everything else allowed)."""
    install_programs(bundle, ["marker", "xexec", "race", "iouring"])
    write_in(bundle, VICTIM, "precious\n")
    bundle.update(annotations={ANN_INLINE: command_policy(DENY_RM, DENY_MARKER)})
    return bundle


@pytest.fixture
def running(prt: PolicyRuntime, pbundle: Bundle, cid: str) -> str:
    """A running policy container (init: sleep 1000); its id."""
    prt.start_idle(pbundle, cid)
    assert prt.monitor(cid), "no monitor recorded in state.json"
    return cid


def sh(prt: PolicyRuntime, cid: str, script: str, timeout: float = 30
       ) -> subprocess.CompletedProcess[str]:
    """`exec ID sh -c 'SCRIPT; echo rc=$?'`"""
    return prt.exec(cid, "sh", "-c", f"{script}; echo rc=$?", timeout=timeout)


def in_container(prt: PolicyRuntime, bundle: Bundle, cid: str, script: str, via: str
                 ) -> subprocess.CompletedProcess[str]:
    """SCRIPT; echo rc=$? in a policy container: as its init (`init`) or through the
    runtime's `exec` into a running one (`exec`: depth counts from the exec)."""
    if via == "init":
        bundle.update(args=["sh", "-c", f"{script}; echo rc=$?"])
        out, err, state = prt.run_to_end(bundle, cid)
        assert state.get("monitor"), "no monitor recorded in state.json"
        return subprocess.CompletedProcess(["init"], 0, out, err)
    prt.start_idle(bundle, cid)
    assert prt.monitor(cid), "no monitor recorded in state.json"
    return sh(prt, cid, script)


VIA = pytest.mark.parametrize("via", ["init", "exec"])


def assert_denied(res: subprocess.CompletedProcess[str], bundle: Bundle) -> None:
    out = res.stdout + res.stderr
    assert "rc=126" in res.stdout, out
    assert "Permission denied" in res.stderr, out
    assert in_rootfs(bundle, VICTIM).read_text() == "precious\n"
    assert not in_rootfs(bundle, PWNED).exists(), f"the denied program ran: {out}"


# -- the container's own process --------------------------------------------------


def test_rm_denied_in_the_container_init(prt, pbundle, cid):
    pbundle.update(args=["sh", "-c", f"/bin/rm {VICTIM}; echo rc=$?"])
    out, err, state = prt.run_to_end(pbundle, cid)
    assert state.get("monitor")
    assert "rc=126" in out, (out, err)
    assert "/bin/rm: Permission denied" in err
    assert in_rootfs(pbundle, VICTIM).exists()
    ev = prt.wait_event(cid, is_exec("deny", rule="no-rm", argv0="/bin/rm"))
    assert ev["policy"]["effective_decision"] == "deny"
    assert ev["effective_action"] == "blocked"
    assert ev["path"] == "/bin/rm" and ev["argv"] == ["/bin/rm", VICTIM]
    assert ev["fields"]["depth"] == 1
    assert ev["pid"] > 0 and isinstance(ev.get("latency_us"), int)


def test_allowed_command_runs_and_is_logged(prt, pbundle, cid):
    pbundle.update(args=["sh", "-c", "/bin/echo hello-allowed"])
    out, err, _ = prt.run_to_end(pbundle, cid)
    assert out.strip() == "hello-allowed", (out, err)
    prt.wait_event(cid, is_exec("allow", rule="allow-rest", argv0="/bin/echo"))


def test_denied_init_fails_start_or_exits_126(prt, pbundle, cid):
    """The container's first process itself is denied: it must not run."""
    pbundle.update(args=[MARKER, PWNED])
    res = prt.create(pbundle, cid)
    if res.returncode == 0:
        prt.start(cid)
        prt.wait_status(cid, "stopped")
    assert not in_rootfs(pbundle, PWNED).exists()
    prt.wait_event(cid, is_exec("deny", rule="no-marker"))


# -- the same denied program under many names ---------------------------------------

RM_DISGUISES = {
    "absolute": f"/bin/rm {VICTIM}",
    "relative": f"cd /bin && ./rm {VICTIM}",
    "symlink-named-rm": f"ln -s /bin/busybox /tmp/rm && /tmp/rm {VICTIM}",
    "busybox-multicall": f"/bin/busybox rm {VICTIM}",
    "env-wrapper": f"/bin/env rm {VICTIM}",
    "env-wrapper-opts": f"/bin/env -i FOO=1 /bin/rm -f {VICTIM}",
    "nice-wrapper": f"/bin/nice -n 5 rm {VICTIM}",
    "timeout-wrapper": f"/bin/timeout 5 rm {VICTIM}",
    "nested-wrappers": f"/bin/nice /bin/env /bin/timeout 5 rm {VICTIM}",
    "xexec-execve": f"{XEXEC} execve /bin/rm rm {VICTIM}",
    "xexec-execve-argv0-hidden": f"{XEXEC} execve /bin/rm cat {VICTIM}",
    "xexec-execveat": f"{XEXEC} execveat /bin/rm rm {VICTIM}",
    "xexec-execveat-dirfd": f"{XEXEC} execveat-dirfd /bin/rm rm {VICTIM}",
    "xexec-fexecve": f"{XEXEC} fexecve /bin/rm rm {VICTIM}",
    "shebang-interpreter": (f"printf '#!/bin/rm\\n' > /tmp/s && chmod +x /tmp/s && "
                            f"/tmp/s {VICTIM}"),
}


@VIA
@pytest.mark.parametrize("case", sorted(RM_DISGUISES))
def test_rm_denied_however_it_is_run(prt, pbundle, cid, case, via):
    res = in_container(prt, pbundle, cid, RM_DISGUISES[case], via)
    assert_denied(res, pbundle)
    ev = prt.wait_event(cid, is_exec("deny", rule="no-rm"), what="execve deny no-rm")
    assert ev["policy"]["effective_decision"] == "deny"


# marker is not a multi-call binary: a symlink with an innocent name and an innocent
# argv[0] leave only the resolved file to find it by
MARKER_DISGUISES = {
    "absolute": f"{MARKER} {PWNED}",
    "symlink-relative": (f"ln -s {MARKER} /tmp/innocent && cd /tmp && "
                         f"{XEXEC} execve innocent innocent {PWNED}"),
    "symlink-relative-dotdot": (f"ln -s {MARKER} /tmp/innocent && cd /usr && "
                                f"{XEXEC} execve ../tmp/innocent innocent {PWNED}"),
    "symlink-execveat": (f"ln -s {MARKER} /tmp/innocent && "
                         f"{XEXEC} execveat /tmp/innocent innocent {PWNED}"),
    "symlink-execveat-dirfd": (f"ln -s {MARKER} /tmp/innocent && "
                               f"{XEXEC} execveat-dirfd /tmp/innocent innocent {PWNED}"),
    "symlink-fexecve": (f"ln -s {MARKER} /tmp/innocent && "
                        f"{XEXEC} fexecve /tmp/innocent innocent {PWNED}"),
    "symlinked-dir": (f"ln -s {BIN_DIR} /tmp/d && {XEXEC} execve /tmp/d/marker x {PWNED}"),
    "shebang-interpreter": (f"printf '#!{MARKER}\\n' > /tmp/s && chmod +x /tmp/s && "
                            f"/tmp/s {PWNED}"),
    "shebang-via-symlink": (f"ln -s {MARKER} /tmp/innocent && "
                            f"printf '#!/tmp/innocent\\n' > /tmp/s && chmod +x /tmp/s && "
                            f"/tmp/s {PWNED}"),
    "env-wrapper": f"/bin/env {MARKER} {PWNED}",
}


@VIA
@pytest.mark.parametrize("case", sorted(MARKER_DISGUISES))
def test_marker_denied_however_it_is_run(prt, pbundle, cid, case, via):
    res = in_container(prt, pbundle, cid, MARKER_DISGUISES[case], via)
    assert_denied(res, pbundle)
    prt.wait_event(cid, is_exec("deny", rule="no-marker"), what="execve deny no-marker")


# -- args_patterns, context -----------------------------------------------------------


def test_args_patterns(prt, pbundle, cid):
    rule = {"name": "no-force", "commands": ["echo"], "args_patterns": ["--force"],
            "decision": "deny"}
    pbundle.update(annotations={ANN_INLINE: command_policy(rule)})
    prt.start_idle(pbundle, cid)
    ok = sh(prt, cid, "/bin/echo ok")
    assert ok.stdout.splitlines() == ["ok", "rc=0"], ok
    for script in ("/bin/echo --force", "/bin/echo a --force b", "/bin/env /bin/echo --force",
                   "/bin/busybox echo x --force"):
        res = sh(prt, cid, script)
        assert "rc=126" in res.stdout and "--force" not in res.stdout, (script, res)
        assert "Permission denied" in res.stderr, (script, res)
    ev = prt.wait_event(cid, is_exec("deny", rule="no-force", argv0="/bin/echo"))
    assert ev["argv"] == ["/bin/echo", "--force"]


def test_args_patterns_are_re2_unanchored_search(prt, pbundle, cid):
    rule = {"name": "push-force", "commands": ["echo"],
            "args_patterns": [r"push\s+(-f|--force)\b"], "decision": "deny"}
    pbundle.update(annotations={ANN_INLINE: command_policy(rule)})
    prt.start_idle(pbundle, cid)
    assert "rc=0" in sh(prt, cid, "/bin/echo push origin").stdout
    assert "rc=0" in sh(prt, cid, "/bin/echo push --forceful").stdout
    assert "rc=126" in sh(prt, cid, "/bin/echo git push -f origin").stdout
    assert "rc=126" in sh(prt, cid, "/bin/echo push --force").stdout


CONTEXT_RULES = [
    {"name": "marker-direct", "commands": ["marker"], "context": ["direct"],
     "decision": "allow"},
    {"name": "marker-nested", "commands": ["marker"], "context": ["nested"], "decision": "deny"},
]


def test_context_direct_allows_the_init(prt, pbundle, cid):
    pbundle.update(args=[MARKER, "/tmp/direct"],
                   annotations={ANN_INLINE: command_policy(*CONTEXT_RULES)})
    out, err, _ = prt.run_to_end(pbundle, cid)
    assert "marker ran" in out, (out, err)
    assert in_rootfs(pbundle, "/tmp/direct").exists()
    ev = prt.wait_event(cid, is_exec("allow", rule="marker-direct"))
    assert ev["fields"]["depth"] == 0


def test_context_nested_denies_below_the_init(prt, pbundle, cid):
    pbundle.update(args=["sh", "-c", f"{MARKER} /tmp/nested; echo rc=$?"],
                   annotations={ANN_INLINE: command_policy(*CONTEXT_RULES)})
    out, err, _ = prt.run_to_end(pbundle, cid)
    assert "rc=126" in out, (out, err)
    assert not in_rootfs(pbundle, "/tmp/nested").exists()
    ev = prt.wait_event(cid, is_exec("deny", rule="marker-nested"))
    assert ev["fields"]["depth"] == 1


def test_context_depth_counts_from_exec(prt, pbundle, cid):
    """POLICY.md: processes started by `exec` are held to the same rules; their depth
    counts from the exec."""
    pbundle.update(annotations={ANN_INLINE: command_policy(*CONTEXT_RULES)})
    prt.start_idle(pbundle, cid)
    res = prt.exec(cid, MARKER, "/tmp/e-direct")
    assert res.returncode == 0 and "marker ran" in res.stdout, res
    assert in_rootfs(pbundle, "/tmp/e-direct").exists()
    res = sh(prt, cid, f"{MARKER} /tmp/e-nested")
    assert "rc=126" in res.stdout, res
    assert not in_rootfs(pbundle, "/tmp/e-nested").exists()
    d = prt.wait_event(cid, is_exec("allow", rule="marker-direct", argv0=MARKER))
    n = prt.wait_event(cid, is_exec("deny", rule="marker-nested", argv0=MARKER))
    assert d["fields"]["depth"] == 0 and n["fields"]["depth"] == 1


def test_context_min_max_depth(prt, pbundle, cid):
    rule = {"name": "depth-two", "commands": ["marker"],
            "context": {"min_depth": 2, "max_depth": 2}, "decision": "deny"}
    pbundle.update(annotations={ANN_INLINE: command_policy(rule)})
    prt.start_idle(pbundle, cid)
    # exec'd sh: depth 0; marker under it: 1; /bin/sh under it: 1, marker below: 2
    res = sh(prt, cid, f"{MARKER} /tmp/d1; /bin/sh -c '{MARKER} /tmp/d2; echo inner=$?'")
    assert "inner=126" in res.stdout, res
    assert in_rootfs(pbundle, "/tmp/d1").exists()
    assert not in_rootfs(pbundle, "/tmp/d2").exists()
    ev = prt.wait_event(cid, is_exec("deny", rule="depth-two"))
    assert ev["fields"]["depth"] == 2


# -- time of check vs time of use -------------------------------------------------------


@pytest.mark.parametrize("who", ["main", "thread"])
def test_racing_thread_cannot_swap_the_exec_path(prt, pbundle, running, who):
    """A thread flips the path buffer between an allowed program (/tmp/a -> busybox
    true) and the denied marker (/tmp/b) while another execs it, for about a second.
    After the monitor's check the kernel reads the path again, so a swap can win the
    race: the post-exec identity check must kill the marker before it does anything,
    so /tmp/pwned never appears. `thread`: the exec comes from a non-leader thread
    (it takes over the leader's pid)."""
    symlink_in(pbundle, "/tmp/a", "/bin/true")
    symlink_in(pbundle, "/tmp/b", MARKER)
    res = prt.exec(running, f"{BIN_DIR}/race", "1", "/tmp/a", "/tmp/b", PWNED, who,
                   timeout=60)
    assert res.returncode == 0, res
    counts = dict(kv.split("=") for kv in res.stdout.split())
    counts = {k: int(v) for k, v in counts.items()}
    assert counts["attempts"] >= 20, counts
    assert counts["denied"] > 0, f"the monitor never saw the denied path: {counts}"
    assert counts["exit0"] > 0, f"the allowed path never ran: {counts}"
    killed = [e for e in prt.events(running)
              if (e.get("policy") or {}).get("rule") == "exec-changed-after-check"]
    assert not in_rootfs(pbundle, PWNED).exists(), (
        f"the denied program ran after a swap ({counts}; "
        f"{len(killed)} exec-changed-after-check kills logged)")


# -- approvals ---------------------------------------------------------------------------

APPROVE = {"name": "marker-needs-approval", "commands": ["marker"], "decision": "approve",
           "timeout": "2s", "message": "marker needs a person's OK"}


@pytest.fixture
def approving(prt: PolicyRuntime, pbundle: Bundle, cid: str) -> str:
    pbundle.update(annotations={ANN_INLINE: command_policy(APPROVE)})
    prt.start_idle(pbundle, cid)
    return cid


def _start_held_exec(prt: PolicyRuntime, cid: str, target: str
                     ) -> tuple[subprocess.Popen[str], dict]:
    p = prt.popen("exec", cid, "sh", "-c", f"{MARKER} {target}; echo rc=$?")
    try:
        pending = wait_for(lambda: prt.pending(cid), timeout=10, what="a pending approval")
    except BaseException:
        p.kill()
        p.communicate()
        raise
    assert len(pending) == 1, pending
    return p, pending[0]


def test_approval_approved_runs_the_command(prt, pbundle, approving):
    cid = approving
    p, req = _start_held_exec(prt, cid, "/tmp/approved")
    assert req.get("id") and req.get("container_id") == cid, req
    assert MARKER in (req.get("argv") or []) or req.get("path") == MARKER, req
    res = prt.approvals("approve", cid, req["id"], "--reason", "looks fine")
    assert res.returncode == 0, res.stderr
    out, err = p.communicate(timeout=15)
    assert "marker ran" in out and "rc=0" in out, (out, err)
    assert in_rootfs(pbundle, "/tmp/approved").exists()
    assert prt.pending(cid) == []
    asked = prt.wait_event(cid, of_type("approval_requested"))
    done = prt.wait_event(cid, of_type("approval_resolved"))
    assert asked["policy"]["approval"]["id"] == req["id"] == done["policy"]["approval"]["id"]
    assert asked["policy"]["rule"] == "marker-needs-approval"
    assert done["policy"]["effective_decision"] == "allow"
    assert done["effective_action"] == "allowed"
    assert "looks fine" in str(done.get("fields"))


def test_approval_denied_is_eacces(prt, pbundle, approving):
    cid = approving
    p, req = _start_held_exec(prt, cid, "/tmp/refused")
    res = prt.approvals("deny", cid, req["id"])
    assert res.returncode == 0, res.stderr
    out, err = p.communicate(timeout=15)
    assert "rc=126" in out and "Permission denied" in err, (out, err)
    assert not in_rootfs(pbundle, "/tmp/refused").exists()
    done = prt.wait_event(cid, of_type("approval_resolved"))
    assert done["policy"]["effective_decision"] == "deny"
    assert done["effective_action"] == "blocked"


def test_approval_unanswered_is_denied_after_timeout(prt, pbundle, approving):
    cid = approving
    t0 = time.monotonic()
    p = prt.popen("exec", cid, "sh", "-c", f"{MARKER} /tmp/late; echo rc=$?")
    out, err = p.communicate(timeout=30)
    elapsed = time.monotonic() - t0
    assert "rc=126" in out and "Permission denied" in err, (out, err)
    assert 1.8 <= elapsed < 10, f"denied after {elapsed:.1f}s, the rule's timeout is 2s"
    assert not in_rootfs(pbundle, "/tmp/late").exists()
    prt.wait_event(cid, of_type("approval_requested"))
    done = prt.wait_event(cid, of_type("approval_resolved"))
    assert done["policy"]["effective_decision"] == "deny"


def test_approvals_of_unknown_request_fail(prt, approving):
    res = prt.approvals("approve", approving, "r999")
    assert res.returncode != 0 and "r999" in res.stderr, res


# -- the monitor dies: closed -------------------------------------------------------------


def test_monitor_killed_fails_closed_and_delete_cleans_up(prt, pbundle, cid):
    loop = ("while [ ! -e /stop ]; do "
            "if /bin/true; then echo ok; else echo fail; fi >> /tmp/log; "
            "usleep 100000; done")
    pbundle.update(args=["sh", "-c", loop])
    assert prt.create(pbundle, cid).returncode == 0
    assert prt.start(cid).returncode == 0
    log = in_rootfs(pbundle, "/tmp/log")
    wait_for(lambda: log.exists() and "ok" in log.read_text(), what="execs working")
    pid, _start = prt.monitor(cid)
    os.kill(pid, signal.SIGKILL)
    assert prt.monitor_gone(cid), "monitor survived SIGKILL"
    size = len(log.read_text())
    # a process inside the container: its exec fails, nothing is let through
    wait_for(lambda: "fail" in log.read_text()[size:], what="an exec failing after the "
             "monitor died")
    time.sleep(0.5)
    assert "ok" not in log.read_text()[size:].split(), "an exec succeeded without a monitor"
    # `exec` into the container fails too, and runs nothing
    res = prt.exec(cid, MARKER, PWNED)
    assert res.returncode != 0, res
    assert not in_rootfs(pbundle, PWNED).exists()
    res = prt.delete(cid, force=True)
    assert res.returncode == 0, res.stderr
    assert not (prt.root / cid).exists()


# -- exec into a policy container ------------------------------------------------------


def test_exec_of_denied_program_fails(prt, pbundle, running):
    res = prt.exec(running, "/bin/rm", VICTIM)
    assert res.returncode != 0, res
    assert "permission denied" in res.stderr.lower(), res.stderr
    assert in_rootfs(pbundle, VICTIM).exists()
    ev = prt.wait_event(running, is_exec("deny", rule="no-rm", argv0="/bin/rm"))
    assert ev["fields"]["depth"] == 0


def test_exec_filters_env_and_drops_caps(prt, pbundle, running):
    res = prt.exec(running, "sh", "-c", "env; grep ^CapEff /proc/self/status",
                   opts=["--env", "AWS_SECRET_ACCESS_KEY=exec-secret", "--env", "KEEP=1",
                         "--cap", "CAP_SYS_ADMIN", "--cap", "CAP_KILL"])
    assert res.returncode == 0, res
    assert "KEEP=1" in res.stdout
    assert "AWS_SECRET_ACCESS_KEY" not in res.stdout, res.stdout
    eff = int(res.stdout.split("CapEff:")[1].split()[0], 16)
    assert not eff & (1 << 21), "CAP_SYS_ADMIN granted to an exec under a policy"
    assert eff & (1 << 5), "CAP_KILL (not an enforcement capability) was dropped"


def test_exec_with_process_json_is_held_too(prt, pbundle, running):
    import json

    pf = pbundle.file("process.json")
    pf.write_text(json.dumps({"terminal": False, "user": {"uid": 0, "gid": 0}, "cwd": "/",
                              "args": ["sh", "-c", f"/bin/rm {VICTIM}; echo rc=$?"],
                              "env": ["PATH=/bin"]}))
    res = prt.exec(running, opts=["--process", str(pf)])
    assert "rc=126" in res.stdout, res
    assert in_rootfs(pbundle, VICTIM).exists()


def test_exec_detached_is_held_too(prt, pbundle, running):
    out = pbundle.file("detached.out")
    res = prt.exec_detached(running, "sh", "-c", f"/bin/rm {VICTIM}; echo rc=$?", out=out)
    assert res.returncode == 0, res
    wait_for(lambda: "rc=" in out.read_text(), what="the detached exec's output")
    assert "rc=126" in out.read_text()
    assert in_rootfs(pbundle, VICTIM).exists()


def test_exec_into_container_with_builtin_default_policy(prt, pbundle, cid):
    """The built-in default policy uses ${HOME} and ${PROJECT_ROOT}: exec must resolve
    them as create did, and hold the exec'd process to the policy."""
    pbundle.update(annotations={"dev.agentsh.policy": "default"})
    prt.start_idle(pbundle, cid)
    res = prt.exec(cid, "sh", "-c", "/bin/echo hi; /bin/chroot / /bin/echo no; echo rc=$?")
    assert res.returncode == 0, res
    assert res.stdout.split() == ["hi", "rc=126"], res


# -- io_uring ----------------------------------------------------------------------------


def test_io_uring_setup_blocked_under_policy(prt, pbundle, running):
    res = prt.exec(running, f"{BIN_DIR}/iouring")
    assert "errno=1 " in res.stdout, res  # EPERM


def test_io_uring_setup_works_without_policy(prt, pbundle, cid):
    """The control: the block comes from the policy, not from the host."""
    pbundle.update(annotations={}, args=[f"{BIN_DIR}/iouring"])
    out, err, state = prt.run_to_end(pbundle, cid)
    assert "monitor" not in state
    assert "io_uring_setup: ok" in out, (out, err)
