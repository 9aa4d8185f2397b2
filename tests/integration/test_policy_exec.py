"""command_rules enforced by the per-container monitor (seccomp user notification on
execve/execveat), approvals, the post-exec identity check, fail-closed when the monitor
dies, `exec` into a policy container, io_uring blocked. agentsh-runtime only.

The rootfs is busybox. Debian's static busybox runs applets in-process for
`sh -c 'rm x'` (no exec happens, so there is nothing to check): the tests exec
programs by path (`/bin/rm`, or `sh -c '/bin/rm ...'`, which execs a path).

The dynamic-loader trick (`/lib64/ld-linux-x86-64.so.2 /bin/denied`) is not covered
here: the busybox rootfs is fully static and has no loader. The engine side of it
(ld-linux* as a wrapper) is the unit tests' business.

Wrappers: this busybox has env, timeout, time, setsid and xargs applets (no nice, nohup,
stdbuf): the wrapper cases use those. Note the exec syscall is notified before the kernel
looks the file up, so a wrapper that does not exist is denied too: each case here names
an existing program, so that the denial is the policy's.

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


# config.json's own seccomp profile (podman and docker always pass one); the runtime
# combines it with the policy's notify rules, in the init and in exec'd processes
ALLOW_PROFILE = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                 "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}]}


def start_idle(prt: PolicyRuntime, bundle: Bundle, cid: str, profile: str) -> str:
    """A running policy container (init: sleep 1000), with config.json's seccomp
    profile or without one; its id."""
    if profile == "profile":
        bundle.linux["seccomp"] = ALLOW_PROFILE
    prt.start_idle(bundle, cid)
    assert prt.monitor(cid), "no monitor recorded in state.json"
    return cid


@pytest.fixture(params=["no-profile", "profile"])
def profile(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def running(prt: PolicyRuntime, pbundle: Bundle, cid: str, profile: str) -> str:
    """A running policy container (init: sleep 1000); its id."""
    return start_idle(prt, pbundle, cid, profile)


def sh(prt: PolicyRuntime, cid: str, script: str, timeout: float = 30
       ) -> subprocess.CompletedProcess[str]:
    """`exec ID sh -c 'SCRIPT; echo rc=$?'`"""
    return prt.exec(cid, "sh", "-c", f"{script}; echo rc=$?", timeout=timeout)


def in_container(prt: PolicyRuntime, bundle: Bundle, cid: str, script: str, via: str
                 ) -> subprocess.CompletedProcess[str]:
    """SCRIPT; echo rc=$? in a policy container: as its init (`init`) or through the
    runtime's `exec` into a running one (depth counts from the exec), whose config.json
    has no seccomp profile (`exec`) or has one (`exec-profile`)."""
    if via == "init":
        bundle.update(args=["sh", "-c", f"{script}; echo rc=$?"])
        out, err, state = prt.run_to_end(bundle, cid)
        assert state.get("monitor"), "no monitor recorded in state.json"
        return subprocess.CompletedProcess(["init"], 0, out, err)
    start_idle(prt, bundle, cid, "profile" if via == "exec-profile" else "no-profile")
    return sh(prt, cid, script)


VIA = pytest.mark.parametrize("via", ["init", "exec", "exec-profile"])


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


@pytest.mark.parametrize("path", ["native", "python"])
def test_repeated_execs_are_decided_the_same_on_either_path(prt, pbundle, cid, path,
                                                             monkeypatch):
    """The native fast path (execfast.c) answers an exec it has seen decided; the
    Python path (AGENTSH_NO_FAST_EXEC=1, or no native library) answers every one.
    Either way: the same decisions, one event each, and a denied program stays denied
    the 2nd and 3rd time (a remembered deny)."""
    if path == "python":
        monkeypatch.setenv("AGENTSH_NO_FAST_EXEC", "1")
    script = "; ".join([f"/bin/echo ok{i}" for i in range(3)]
                       + [f"/bin/rm {VICTIM}; echo rc=$?"] * 3)
    pbundle.update(args=["sh", "-c", script])
    out, err, _ = prt.run_to_end(pbundle, cid)
    assert out.splitlines() == ["ok0", "ok1", "ok2"] + ["rc=126"] * 3, (out, err)
    assert in_rootfs(pbundle, VICTIM).exists()
    denied = wait_for(lambda: (lambda d: d if len(d) >= 3 else None)(
        [e for e in prt.events(cid) if is_exec("deny", rule="no-rm")(e)]),
        timeout=10, what="three deny events")
    assert len(denied) == 3
    allowed = [e for e in prt.events(cid) if is_exec("allow", argv0="/bin/echo")(e)]
    assert len(allowed) == 3 and all(e["comm"] for e in allowed), allowed
    warnings = [e for e in prt.events(cid) if e.get("type") == "monitor_warning"]
    assert not warnings, warnings


@pytest.mark.parametrize("path", ["native", "python"])
def test_a_process_that_execs_again_at_once_is_not_mistaken(prt, pbundle, cid, path,
                                                            monkeypatch):
    """Each exec of one pid is checked again when the process connector reports it; its
    reports lag behind our answers, so a process that execs again at once (sh -c exec
    ...) must not be taken for one that ran another program than the one allowed."""
    if path == "python":
        monkeypatch.setenv("AGENTSH_NO_FAST_EXEC", "1")
    in_rootfs(pbundle, "/chain.sh").write_text(
        'if [ "$1" -gt 0 ]; then exec /bin/sh /chain.sh $(($1 - 1)); fi\n'
        "exec /bin/echo done\n")
    script = "; ".join(["/bin/sh /chain.sh 6"] * 10)
    pbundle.update(args=["sh", "-c", script])
    out, err, _ = prt.run_to_end(pbundle, cid)
    assert out.split() == ["done"] * 10, (out, err)
    killed = [e for e in prt.events(cid)
              if (e.get("policy") or {}).get("rule") == "exec-changed-after-check"]
    assert not killed, killed


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
    "timeout-wrapper": f"/bin/timeout 5 rm {VICTIM}",
    "time-wrapper": f"/bin/time rm {VICTIM}",
    "setsid-wrapper": f"/bin/setsid rm {VICTIM}",
    "xargs-wrapper": f"echo {VICTIM} | /bin/xargs rm",
    "nested-wrappers": f"/bin/setsid /bin/env /bin/timeout 5 rm {VICTIM}",
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


@VIA
def test_args_patterns(prt, pbundle, cid, via):
    rule = {"name": "no-force", "commands": ["echo"], "args_patterns": ["--force"],
            "decision": "deny"}
    pbundle.update(annotations={ANN_INLINE: command_policy(rule)})
    script = ("/bin/echo ok; echo a=$?; /bin/echo --force; echo b=$?; "
              "/bin/echo x --force y; echo c=$?; /bin/env /bin/echo --force; echo d=$?; "
              "/bin/busybox echo z --force; echo e=$?")
    res = in_container(prt, pbundle, cid, script, via)
    lines = res.stdout.split()
    assert lines == ["ok", "a=0", "b=126", "c=126", "d=126", "e=126", "rc=0"], res
    assert res.stderr.count("Permission denied") == 4, res.stderr
    ev = prt.wait_event(cid, is_exec("deny", rule="no-force", argv0="/bin/echo"))
    assert ev["argv"] == ["/bin/echo", "--force"]


@VIA
def test_args_patterns_are_re2_unanchored_search(prt, pbundle, cid, via):
    rule = {"name": "push-force", "commands": ["echo"],
            "args_patterns": [r"push\s+(-f|--force)\b"], "decision": "deny"}
    pbundle.update(annotations={ANN_INLINE: command_policy(rule)})
    script = ("/bin/echo push origin >/dev/null; echo a=$?; "
              "/bin/echo push --forceful >/dev/null; echo b=$?; "
              "/bin/echo git push -f origin; echo c=$?; /bin/echo push --force; echo d=$?")
    res = in_container(prt, pbundle, cid, script, via)
    assert res.stdout.split() == ["a=0", "b=0", "c=126", "d=126", "rc=0"], res


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


def test_context_depth_counts_from_exec(prt, pbundle, cid, profile):
    """POLICY.md: processes started by `exec` are held to the same rules; their depth
    counts from the exec."""
    pbundle.update(annotations={ANN_INLINE: command_policy(*CONTEXT_RULES)})
    start_idle(prt, pbundle, cid, profile)
    res = prt.exec(cid, MARKER, "/tmp/e-direct")
    assert res.returncode == 0 and "marker ran" in res.stdout, res
    assert in_rootfs(pbundle, "/tmp/e-direct").exists()
    res = sh(prt, cid, f"{MARKER} /tmp/e-nested")
    assert "rc=126" in res.stdout, res
    assert not in_rootfs(pbundle, "/tmp/e-nested").exists()
    d = prt.wait_event(cid, is_exec("allow", rule="marker-direct", argv0=MARKER))
    n = prt.wait_event(cid, is_exec("deny", rule="marker-nested", argv0=MARKER))
    assert d["fields"]["depth"] == 0 and n["fields"]["depth"] == 1


@VIA
def test_context_min_max_depth(prt, pbundle, cid, via):
    rule = {"name": "depth-two", "commands": ["marker"],
            "context": {"min_depth": 2, "max_depth": 2}, "decision": "deny"}
    pbundle.update(annotations={ANN_INLINE: command_policy(rule)})
    # sh: depth 0 (the init, or the exec'd process); marker under it: 1; /bin/sh under
    # it: 1, marker below that: 2
    res = in_container(prt, pbundle, cid,
                       f"{MARKER} /tmp/d1; /bin/sh -c '{MARKER} /tmp/d2; echo inner=$?'", via)
    assert "inner=126" in res.stdout, res
    assert in_rootfs(pbundle, "/tmp/d1").exists()
    assert not in_rootfs(pbundle, "/tmp/d2").exists()
    ev = prt.wait_event(cid, is_exec("deny", rule="depth-two"))
    assert ev["fields"]["depth"] == 2


# -- time of check vs time of use -------------------------------------------------------


def _race(prt, pbundle, cid, who):
    symlink_in(pbundle, "/tmp/a", "/bin/true")
    symlink_in(pbundle, "/tmp/b", MARKER)
    pbundle.update(args=[f"{BIN_DIR}/race", "1", "/tmp/a", "/tmp/b", PWNED, who])
    out, err, state = prt.run_to_end(pbundle, cid, timeout=60)
    assert state.get("monitor")
    summary = [ln for ln in out.splitlines() if ln.startswith("attempts=")]
    assert summary, (out, err)
    counts = {k: int(v) for k, v in (kv.split("=") for kv in summary[-1].split())}
    counts["marker-ran"] = out.count("marker ran")
    killed = [e for e in prt.events(cid)
              if (e.get("policy") or {}).get("rule") == "exec-changed-after-check"]
    return counts, killed


@pytest.mark.parametrize("who", ["main", "thread"])
def test_racing_swaps_are_caught_and_killed(prt, pbundle, cid, who):
    """The closer we built: every swap that wins is seen by the post-exec identity check
    and the process is killed (SIGKILL) with an event, from the main thread and from a
    non-leader thread alike."""
    counts, killed = _race(prt, pbundle, cid, who)
    assert counts["attempts"] >= 20 and counts["denied"] > 0 and counts["exit0"] > 0, counts
    assert killed, f"no swapped exec was caught: {counts}"
    assert counts["killed"] >= len(killed) * 0.9, (counts, len(killed))
    # every marker that started was stopped or finished: none is left running
    assert counts["marker-ran"] <= counts["killed"] + counts["other"] + counts["exit0"]


@pytest.mark.parametrize("who", ["main", "thread"])
def test_racing_thread_cannot_swap_the_exec_path(prt, pbundle, cid, who):
    """A thread flips the path buffer between an allowed program (/tmp/a -> busybox
    true) and the denied marker (/tmp/b) while another execs it, for about a second.
    After the monitor's check the kernel reads the path again, so a swap can win the
    race: the post-exec identity check must stop the marker before it does anything,
    so /tmp/pwned never appears. `thread`: the exec comes from a non-leader thread
    (it takes over the leader's pid). Run as the container's init (see the exec tests
    for `exec`)."""
    symlink_in(pbundle, "/tmp/a", "/bin/true")
    symlink_in(pbundle, "/tmp/b", MARKER)
    pbundle.update(args=[f"{BIN_DIR}/race", "1", "/tmp/a", "/tmp/b", PWNED, who])
    out, err, state = prt.run_to_end(pbundle, cid, timeout=60)
    assert state.get("monitor")
    summary = [ln for ln in out.splitlines() if ln.startswith("attempts=")]
    assert summary, (out, err)
    counts = {k: int(v) for k, v in (kv.split("=") for kv in summary[-1].split())}
    counts["marker-ran"] = out.count("marker ran")  # printed by the marker when it ran
    assert counts["attempts"] >= 20, (out, err)
    assert counts["denied"] > 0, f"the monitor never saw the denied path: {counts}"
    assert counts["exit0"] > 0, f"the allowed path never ran: {counts}"
    killed = [e for e in prt.events(cid)
              if (e.get("policy") or {}).get("rule") == "exec-changed-after-check"]
    assert not in_rootfs(pbundle, PWNED).exists(), (
        f"the denied program ran after a swap ({counts}; "
        f"{len(killed)} exec-changed-after-check kills logged)")


# -- redirect ----------------------------------------------------------------------------

REDIRECT_RM = {"name": "rm-to-echo", "commands": ["rm"], "decision": "redirect",
               "redirect_to": {"command": "/bin/echo", "args": ["instead-of-rm:"],
                               "args_append": ["(kept)"]}}


@VIA
def test_redirect_runs_the_target_with_args_around_the_original(prt, pbundle, cid, via):
    """`rm X` runs `/bin/echo instead-of-rm: X (kept)` in its place: same process, the
    caller sees the target's output and exit status; the victim is untouched."""
    pbundle.update(annotations={ANN_INLINE: command_policy(REDIRECT_RM, DENY_MARKER)})
    res = in_container(prt, pbundle, cid, f"/bin/rm {VICTIM}", via)
    assert f"instead-of-rm: {VICTIM} (kept)" in res.stdout, (res.stdout, res.stderr)
    assert "rc=0" in res.stdout
    assert in_rootfs(pbundle, VICTIM).read_text() == "precious\n"
    ev = prt.wait_event(cid, lambda e: e.get("type") == "command_redirect")
    assert ev["policy"]["rule"] == "rm-to-echo"
    assert ev["argv"] == ["/bin/rm", VICTIM]
    assert ev["fields"]["redirect_to"]["argv"] == ["/bin/echo", "instead-of-rm:", VICTIM,
                                                   "(kept)"]
    prt.wait_event(cid, is_exec("redirect", rule="redirect-target", effective="allow",
                                argv0="/bin/echo"))


def test_redirect_sets_the_environment_and_finds_a_bare_command(prt, pbundle, cid):
    rule = {"name": "marker-to-env", "commands": ["marker"], "decision": "redirect",
            "redirect_to": {"command": "env", "environment": {"REDIRECTED": "yes",
                                                              "HOME": "/nowhere"}}}
    pbundle.update(annotations={ANN_INLINE: command_policy(rule)})
    pbundle.update(args=["sh", "-c", f"{MARKER}; echo rc=$?"])
    out, err, _ = prt.run_to_end(pbundle, cid)
    lines = out.splitlines()
    assert "REDIRECTED=yes" in lines and "HOME=/nowhere" in lines, (out, err)
    assert not any(ln.startswith("HOME=") and ln != "HOME=/nowhere" for ln in lines)
    assert "rc=0" in out
    assert not in_rootfs(pbundle, PWNED).exists()


def test_redirect_from_a_threaded_caller_and_from_threads(prt, pbundle, cid):
    """The racing program execs the redirected name from a non-leader thread while its
    main thread flips the path: every exec either runs the redirect target or is
    refused; the marker never runs."""
    rule = {"name": "marker-to-true", "commands": ["marker"], "decision": "redirect",
            "redirect_to": {"command": "/bin/true"}}
    pbundle.update(annotations={ANN_INLINE: command_policy(rule)})
    symlink_in(pbundle, "/tmp/a", "/bin/true")
    symlink_in(pbundle, "/tmp/b", MARKER)
    pbundle.update(args=[f"{BIN_DIR}/race", "1", "/tmp/a", "/tmp/b", PWNED, "thread"])
    out, err, _ = prt.run_to_end(pbundle, cid, timeout=60)
    summary = [ln for ln in out.splitlines() if ln.startswith("attempts=")]
    assert summary, (out, err)
    assert "marker ran" not in out
    assert not in_rootfs(pbundle, PWNED).exists()
    assert prt.wait_event(cid, lambda e: e.get("type") == "command_redirect")


def test_redirect_to_a_missing_command_is_denied(prt, pbundle, cid):
    rule = {"name": "rm-to-nothing", "commands": ["rm"], "decision": "redirect",
            "redirect_to": {"command": "/no/such/tool"}}
    pbundle.update(annotations={ANN_INLINE: command_policy(rule)})
    pbundle.update(args=["sh", "-c", f"/bin/rm {VICTIM}; echo rc=$?"])
    out, err, _ = prt.run_to_end(pbundle, cid)
    assert "rc=126" in out, (out, err)
    assert in_rootfs(pbundle, VICTIM).exists()
    ev = prt.wait_event(cid, is_exec("redirect", rule="rm-to-nothing", effective="deny"))
    assert "not found" in ev["policy"]["message"]


# -- approvals ---------------------------------------------------------------------------

APPROVE = {"name": "marker-needs-approval", "commands": ["marker"], "decision": "approve",
           "timeout": "2s", "message": "marker needs a person's OK"}


class Held:
    """A container whose init runs `MARKER TARGET; echo rc=$?` under the approve rule:
    the marker's exec is held until answered."""

    def __init__(self, prt: PolicyRuntime, bundle: Bundle, cid: str, target: str) -> None:
        self.prt, self.bundle, self.cid = prt, bundle, cid
        bundle.update(args=["sh", "-c", f"{MARKER} {target}; echo rc=$?"],
                      annotations={ANN_INLINE: command_policy(APPROVE)})
        res = prt.create(bundle, cid)
        assert res.returncode == 0, res.stderr
        self.t0 = time.monotonic()
        assert prt.start(cid).returncode == 0

    def request(self) -> dict:
        pending = wait_for(lambda: self.prt.pending(self.cid), timeout=10,
                           what="a pending approval")
        assert len(pending) == 1, pending
        return pending[0]

    def finish(self) -> tuple[str, str, float]:
        self.prt.wait_status(self.cid, "stopped", timeout=20)
        elapsed = time.monotonic() - self.t0
        out, err = self.prt.output(self.bundle, self.cid)
        assert self.prt.delete(self.cid).returncode == 0
        return out, err, elapsed


def test_approval_approved_runs_the_command(prt, pbundle, cid):
    held = Held(prt, pbundle, cid, "/tmp/approved")
    req = held.request()
    assert req.get("id") and req.get("container_id") == cid, req
    assert MARKER in (req.get("argv") or []) or req.get("path") == MARKER, req
    assert not in_rootfs(pbundle, "/tmp/approved").exists(), "ran before the answer"
    res = prt.approvals("approve", cid, req["id"], "--reason", "looks fine")
    assert res.returncode == 0, res.stderr
    out, err, _ = held.finish()
    assert "marker ran" in out and "rc=0" in out, (out, err)
    assert in_rootfs(pbundle, "/tmp/approved").exists()
    asked = prt.wait_event(cid, of_type("approval_requested"))
    done = prt.wait_event(cid, of_type("approval_resolved"))
    assert asked["policy"]["approval"]["id"] == req["id"] == done["policy"]["approval"]["id"]
    assert asked["policy"]["rule"] == "marker-needs-approval"
    assert done["policy"]["effective_decision"] == "allow"
    assert done["effective_action"] == "allowed"
    assert "looks fine" in str(done.get("fields"))


def test_approval_denied_is_eacces(prt, pbundle, cid):
    held = Held(prt, pbundle, cid, "/tmp/refused")
    req = held.request()
    res = prt.approvals("deny", cid, req["id"])
    assert res.returncode == 0, res.stderr
    out, err, _ = held.finish()
    assert "rc=126" in out and "Permission denied" in err, (out, err)
    assert not in_rootfs(pbundle, "/tmp/refused").exists()
    done = prt.wait_event(cid, of_type("approval_resolved"))
    assert done["policy"]["effective_decision"] == "deny"
    assert done["effective_action"] == "blocked"


def test_approval_unanswered_is_denied_after_timeout(prt, pbundle, cid):
    held = Held(prt, pbundle, cid, "/tmp/late")
    out, err, elapsed = held.finish()
    assert "rc=126" in out and "Permission denied" in err, (out, err)
    assert 1.8 <= elapsed < 10, f"denied after {elapsed:.1f}s, the rule's timeout is 2s"
    assert not in_rootfs(pbundle, "/tmp/late").exists()
    prt.wait_event(cid, of_type("approval_requested"))
    done = prt.wait_event(cid, of_type("approval_resolved"))
    assert done["policy"]["effective_decision"] == "deny"


def test_approval_of_an_exec_into_the_container(prt, pbundle, cid, profile):
    """The exec'd process's exec is held like the init's."""
    pbundle.update(annotations={ANN_INLINE: command_policy(APPROVE)})
    start_idle(prt, pbundle, cid, profile)
    p = prt.popen("exec", cid, "sh", "-c", f"{MARKER} /tmp/via-exec; echo rc=$?")
    try:
        req = wait_for(lambda: prt.pending(cid), timeout=10, what="a pending approval")[0]
        assert prt.approvals("approve", cid, req["id"]).returncode == 0
    finally:
        out, err = p.communicate(timeout=30)
    assert "marker ran" in out and "rc=0" in out, (out, err)


def test_approvals_of_unknown_request_fail(prt, pbundle, cid):
    pbundle.update(annotations={ANN_INLINE: command_policy(APPROVE)})
    prt.start_idle(pbundle, cid)
    assert prt.pending(cid) == []
    res = prt.approvals("approve", cid, "r999")
    assert res.returncode != 0 and "r999" in res.stderr, res


# -- the monitor dies: closed -------------------------------------------------------------


def _kill_monitor_of_looping_container(prt: PolicyRuntime, bundle: Bundle, cid: str,
                                       profile: str = "no-profile") -> Path:
    """A container whose init execs /bin/true every 0.1 s and logs ok/fail to /tmp/log;
    once execs work, its monitor is SIGKILLed. Returns the log (host path)."""
    loop = ("while [ ! -e /stop ]; do "
            "if /bin/true; then echo ok; else echo fail; fi >> /tmp/log; "
            "usleep 100000; done")
    bundle.update(args=["sh", "-c", loop])
    if profile == "profile":
        bundle.linux["seccomp"] = ALLOW_PROFILE
    assert prt.create(bundle, cid).returncode == 0
    assert prt.start(cid).returncode == 0
    log = in_rootfs(bundle, "/tmp/log")
    wait_for(lambda: log.exists() and "ok" in log.read_text(), what="execs working")
    pid, _start = prt.monitor(cid)
    os.kill(pid, signal.SIGKILL)
    assert prt.monitor_gone(cid), "monitor survived SIGKILL"
    return log


def test_monitor_killed_execs_inside_fail_and_delete_cleans_up(prt, pbundle, cid):
    log = _kill_monitor_of_looping_container(prt, pbundle, cid)
    size = len(log.read_text())
    wait_for(lambda: "fail" in log.read_text()[size:],
             what="an exec failing after the monitor died")
    time.sleep(0.5)
    assert "ok" not in log.read_text()[size:].split(), "an exec succeeded without a monitor"
    res = prt.delete(cid, force=True)
    assert res.returncode == 0, res.stderr
    assert not (prt.root / cid).exists()


def test_monitor_killed_exec_into_container_fails(prt, pbundle, cid, profile):
    _kill_monitor_of_looping_container(prt, pbundle, cid, profile)
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


def test_exec_into_container_with_builtin_default_policy(prt, pbundle, cid, profile):
    """The built-in default policy uses ${HOME} and ${PROJECT_ROOT}: exec must resolve
    them as create did, and hold the exec'd process to the policy."""
    pbundle.update(annotations={"dev.agentsh.policy": "default"})
    start_idle(prt, pbundle, cid, profile)
    res = prt.exec(cid, "sh", "-c", "/bin/echo hi; /bin/chroot / /bin/echo no; echo rc=$?")
    assert res.returncode == 0, res
    assert res.stdout.split() == ["hi", "rc=126"], res


# -- io_uring ----------------------------------------------------------------------------


@VIA
def test_io_uring_setup_blocked_under_policy(prt, pbundle, cid, via):
    res = in_container(prt, pbundle, cid, f"{BIN_DIR}/iouring", via)
    assert "errno=1 " in res.stdout, res  # EPERM


def test_io_uring_setup_works_without_policy(prt, pbundle, cid):
    """The control: the block comes from the policy, not from the host."""
    pbundle.update(annotations={}, args=[f"{BIN_DIR}/iouring"])
    out, err, state = prt.run_to_end(pbundle, cid)
    assert "monitor" not in state
    assert "io_uring_setup: ok" in out, (out, err)
