"""file_rules in a container (issue 6): the mount plan's FUSE roots served by the
monitor, bound into the container by the init. agentsh-runtime only; every test passes
--admin-config with events_dir inside its tmp_path.

The policy here: /secret (and all below it) denied for every operation; /workspace (a
bind volume from the host) and /tmp writable; the usual /dev nodes writable; other
processes' environ and mem denied; reads allowed elsewhere; other writes denied (the
engine's default for files).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bundle import Bundle, only_ours, runtime_binary, wait_for
from tests.support.policy import (
    ANN_INLINE,
    ANN_MODE,
    BIN_DIR,
    DEV_NODES,
    PolicyRuntime,
    in_rootfs,
    install_programs,
    policy_text,
    write_admin_config,
    write_in,
)

SECRET = "/secret/key"
RULES = [
    {"name": "no-secret", "paths": ["/secret", "/secret/**"], "operations": ["*"],
     "decision": "deny", "message": "secrets are off limits"},
    {"name": "workspace", "paths": ["/workspace/**", "/tmp/**"], "operations": ["*"],
     "decision": "allow"},
    # rules cover /proc, /sys and /dev too (POLICY.md): the nodes programs write to,
    # and the default policy's process secrets (test_kernel_paths.py)
    DEV_NODES,
    {"name": "proc-secrets", "paths": ["/proc/*/environ", "/proc/*/mem",
                                       "/proc/*/task/*/environ", "/proc/*/task/*/mem"],
     "operations": ["*"], "decision": "deny", "message": "process secrets"},
]
ALLOW_COMMANDS = [{"name": "all", "commands": ["*"], "decision": "allow"}]


@pytest.fixture
def prt(tmp_path: Path, _tracker) -> Iterator[PolicyRuntime]:  # noqa: ANN001
    only_ours("agentsh policies")
    rt = PolicyRuntime(runtime_binary(), tmp_path / "pstate", write_admin_config(tmp_path))
    _tracker.runtimes.append(rt)
    yield rt
    rt.cleanup()


@pytest.fixture
def fbundle(bundle: Bundle, tmp_path: Path) -> Bundle:
    write_in(bundle, SECRET, "topsecret\n")
    write_in(bundle, "/pub.txt", "public\n")
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "notes.txt").write_text("notes\n")
    bundle.update(add_mounts=[{"destination": "/workspace", "type": "bind",
                               "source": str(ws), "options": ["rbind", "rw"]}],
                  annotations={ANN_INLINE: policy_text(file_rules=RULES,
                                                       command_rules=ALLOW_COMMANDS)})
    return bundle


def run(prt: PolicyRuntime, bundle: Bundle, cid: str, script: str) -> tuple[str, str]:
    bundle.update(args=["sh", "-c", script])
    out, err, _ = prt.run_to_end(bundle, cid)
    return out, err


def file_events(prt: PolicyRuntime, cid: str, rule: str | None = None) -> list[dict]:
    return [e for e in prt.events(cid) if str(e.get("type", "")).startswith(("file_", "dir_"))
            and (rule is None or (e.get("policy") or {}).get("rule") == rule)]


BYPASSES = {
    "path": f"cat {SECRET}",
    "dotdot": "cd /tmp && cat ../secret/key",
    "relative": "cd / && cat secret/key",
    "symlink": f"ln -s {SECRET} /tmp/innocent && cat /tmp/innocent",
    "symlink-to-dir": "ln -s /secret /tmp/d && cat /tmp/d/key",
    "proc-self-root": f"cat /proc/self/root{SECRET}",
    "proc-pid-cwd": "cd / && cat /proc/$$/cwd/secret/key",
    "hardlink-now": f"ln {SECRET} /tmp/hl; cat /tmp/hl",
    "list": "ls /secret",
    "cd-and-read": "cd /secret && cat key",
    "rename-dir": "mv /secret /tmp/s && cat /tmp/s/key",
    "copy": f"cp {SECRET} /tmp/c && cat /tmp/c",
}


@pytest.mark.parametrize("case", sorted(BYPASSES))
def test_denied_file_cannot_be_read(prt, fbundle, cid, case):
    out, err = run(prt, fbundle, cid, BYPASSES[case] + "; echo rc=$?")
    assert "topsecret" not in out, (case, out, err)
    assert "rc=0" not in out or case in ("hardlink-now",), (case, out, err)
    assert in_rootfs(fbundle, SECRET).read_text() == "topsecret\n"
    assert file_events(prt, cid, "no-secret"), "no event for the denied operation"


def test_allowed_reads_and_workspace_writes(prt, fbundle, cid, tmp_path):
    out, err = run(prt, fbundle, cid,
                   "cat /pub.txt /workspace/notes.txt && echo made > /workspace/new.txt "
                   "&& echo tmp > /tmp/t && cat /tmp/t && echo rc=$?")
    assert out.splitlines() == ["public", "notes", "tmp", "rc=0"], (out, err)
    assert (tmp_path / "ws" / "new.txt").read_text() == "made\n"


def test_writes_outside_the_allowed_places_are_eacces(prt, fbundle, cid):
    out, err = run(prt, fbundle, cid, "echo x > /etc/evil; echo rc=$?; "
                   "rm /pub.txt; echo rc=$?; mkdir /newdir; echo rc=$?")
    assert out.splitlines() == ["rc=1", "rc=1", "rc=1"], (out, err)
    assert "Permission denied" in err
    assert in_rootfs(fbundle, "/pub.txt").exists()
    assert not in_rootfs(fbundle, "/etc/evil").exists()
    ev = [e for e in file_events(prt, cid) if (e.get("policy") or {}).get(
        "rule") == "default-deny-files"]
    assert {e["path"] for e in ev} >= {"/etc/evil", "/pub.txt", "/newdir"}, ev


def test_audit_mode_logs_but_does_not_block(prt, fbundle, cid):
    fbundle.update(annotations={ANN_INLINE: policy_text(file_rules=RULES,
                                                        command_rules=ALLOW_COMMANDS),
                                ANN_MODE: "audit"})
    out, err = run(prt, fbundle, cid, f"cat {SECRET}; echo rc=$?")
    assert "topsecret" in out and "rc=0" in out, (out, err)
    ev = file_events(prt, cid, "no-secret")
    assert ev and ev[0]["policy"]["decision"] == "deny"
    assert ev[0]["effective_action"] == "allowed"


def test_the_container_cannot_unmount_the_mediation(prt, fbundle, cid):
    out, err = run(prt, fbundle, cid, "umount /secret; umount -l /; echo rc=$?; "
                   f"cat {SECRET}; echo rc=$?")
    assert "topsecret" not in out, (out, err)


def test_monitor_killed_mediated_paths_fail_closed(prt, fbundle, cid):
    fbundle.update(args=["sh", "-c", "while true; do cat /pub.txt > /dev/null 2>&1 "
                         "|| { echo failed-closed; cat " + SECRET + "; sleep 100; }; "
                         "sleep 0.05; done"])
    res = prt.create(fbundle, cid)
    assert res.returncode == 0, res.stderr
    assert prt.start(cid).returncode == 0
    time.sleep(0.5)
    mon = prt.monitor(cid)
    assert mon, "no monitor recorded"
    os.kill(mon[0], signal.SIGKILL)
    # the FUSE connection is aborted: reads fail, and programs whose pages live on the
    # mount die of SIGBUS at their next fault (the shell here usually does)
    deadline = time.monotonic() + 10
    out, stopped = "", False
    while time.monotonic() < deadline:
        out, _ = prt.output(fbundle, cid)
        stopped = (prt.state_json(cid) or {}).get("status") == "stopped"
        if "failed-closed" in out or stopped:
            break
        time.sleep(0.1)
    assert "failed-closed" in out or stopped, out
    assert "topsecret" not in out
    assert prt.delete(cid, force=True).returncode == 0
    state_dir = prt.root / cid
    assert not state_dir.exists()
    with open("/proc/self/mountinfo") as f:
        assert cid not in f.read(), "a FUSE mount or backing bind outlived delete"


def test_hardlink_already_in_the_image_is_denied_too(prt, fbundle, cid):
    """A second name of the denied file, made before the container (in the image),
    that the mount has never looked up: found by the scan at start."""
    os.link(in_rootfs(fbundle, SECRET), in_rootfs(fbundle, "/pre-linked"))
    out, err = run(prt, fbundle, cid, "cat /pre-linked; echo rc=$?")
    assert "topsecret" not in out and "rc=1" in out, (out, err)
    assert file_events(prt, cid, "no-secret")


APPROVE_RULE = {"name": "ask-first", "paths": ["/workspace/held/**"],
                "operations": ["create", "write"], "decision": "approve", "timeout": "3s"}


@pytest.mark.parametrize("answer", ["approve", "deny", "timeout"])
def test_file_approval(prt, fbundle, cid, tmp_path, answer):
    """A write under /workspace/held waits for a person: approved it happens, denied or
    unanswered it is EACCES; the request is in `approvals list` like a held exec."""
    (tmp_path / "ws" / "held").mkdir()
    fbundle.update(annotations={ANN_INLINE: policy_text(
        file_rules=[APPROVE_RULE] + RULES, command_rules=ALLOW_COMMANDS)})
    fbundle.update(args=["sh", "-c", "echo data > /workspace/held/f; echo rc=$?"])
    assert prt.create(fbundle, cid).returncode == 0
    assert prt.start(cid).returncode == 0
    if answer != "timeout":
        pending = wait_for(lambda: prt.pending(cid), timeout=10, what="a pending approval")
        assert len(pending) == 1 and pending[0]["path"] == "/workspace/held/f", pending
        assert prt.approvals(answer, cid, pending[0]["id"]).returncode == 0
    prt.wait_status(cid, "stopped", timeout=20)
    out, err = prt.output(fbundle, cid)
    made = tmp_path / "ws" / "held" / "f"
    if answer == "approve":
        assert "rc=0" in out and made.read_text() == "data\n", (out, err)
    else:
        assert "rc=1" in out and "Permission denied" in err, (out, err)
        assert not made.exists() or made.read_text() == ""
    done = prt.wait_event(cid, lambda e: e.get("type") == "approval_resolved")
    assert done["policy"]["effective_decision"] == ("allow" if answer == "approve"
                                                     else "deny")
    assert prt.delete(cid).returncode == 0


def test_soft_delete_moves_to_the_trash_and_restores(prt, fbundle, cid, tmp_path):
    rule = {"name": "keep-deleted", "paths": ["/workspace/**"], "operations": ["delete"],
            "decision": "soft_delete"}
    fbundle.update(annotations={ANN_INLINE: policy_text(
        file_rules=[rule] + RULES, command_rules=ALLOW_COMMANDS)})
    out, err = run(prt, fbundle, cid, "rm /workspace/notes.txt; echo rc=$?; "
                   "ls /workspace; echo listed")
    assert "rc=0" in out and "notes.txt" not in out, (out, err)
    note = tmp_path / "ws" / "notes.txt"
    assert not note.exists()
    ev = prt.wait_event(cid, lambda e: e.get("type") == "file_soft_deleted")
    assert ev["path"] == "/workspace/notes.txt"
    # the container is deleted (run_to_end): the trash outlives it
    listed = prt.cmd("trash", "list", cid)
    assert listed.returncode == 0, listed.stderr
    import json

    entries = [json.loads(ln) for ln in listed.stdout.splitlines()]
    assert [(e["path"], e["host_path"]) for e in entries] == [
        ("/workspace/notes.txt", str(note))], entries
    res = prt.cmd("trash", "restore", cid, entries[0]["id"])
    assert res.returncode == 0, res.stderr
    assert note.read_text() == "notes\n"
    assert prt.cmd("trash", "list", cid).stdout.strip() == ""
    assert prt.cmd("trash", "purge", cid).returncode == 0
    import shutil

    from agentsh_runtime.monitor.trashdir import trash_dir_of

    shutil.rmtree(trash_dir_of(cid))


FD_BYPASSES = {
    "o-path-then-reopen": f"opath {SECRET}",
    "openat-dirfd": "openat /secret key",
    "openat-dirfd-dotdot": "openat /tmp ../secret/key",
    "openat2-in-root": "openat2 / secret/key",
    "mmap": f"mmap {SECRET}",
    "fd-passed-over-socket": f"sendfd {SECRET}",
    "rename-denied-dir": "rename-parent /secret /tmp/moved",
}


@pytest.mark.parametrize("case", sorted(FD_BYPASSES))
def test_denied_file_cannot_be_reached_through_fds(prt, fbundle, cid, case):
    install_programs(fbundle, ["fops"])
    out, err = run(prt, fbundle, cid, f"{BIN_DIR}/fops {FD_BYPASSES[case]}; echo rc=$?")
    assert "topsecret" not in out, (case, out, err)
    assert "errno=13" in out, (case, out, err, [
        e for e in prt.events(cid) if e.get("type") not in ("file_open", "file_read")])
    assert in_rootfs(fbundle, SECRET).read_text() == "topsecret\n"


def test_file_rules_alone_hold_from_the_first_operation(prt, fbundle, cid):
    """A policy with only file_rules (no seccomp notification at all): the container's
    very first operation is already checked (create waits for the monitor)."""
    fbundle.update(annotations={ANN_INLINE: policy_text(file_rules=RULES)},
                   args=["cat", SECRET])
    for i in range(3):
        out, err, _ = prt.run_to_end(fbundle, f"{cid}{i}")
        assert "topsecret" not in out, (out, err)
        assert "Permission denied" in err, (out, err)


def test_retention_days_purges_old_trash(prt, fbundle, cid, tmp_path):
    """audit.retention_days: a soft-deleted file older than that is purged when the next
    container with a file policy starts."""
    import json

    from agentsh_runtime.fusefs import trash
    from agentsh_runtime.monitor.trashdir import TRASH_ROOT

    old = os.path.join(TRASH_ROOT, f"{cid}-old")
    os.makedirs(os.path.join(old, trash.FILES), exist_ok=True)
    (Path(old) / trash.FILES / "x1").write_text("gone\n")
    (Path(old) / trash.INDEX).write_text(json.dumps(
        {"op": "delete", "id": "x1", "path": "/0/f", "deleted_at": time.time() - 3 * 86400})
        + "\n")
    try:
        fbundle.update(annotations={ANN_INLINE: policy_text(
            file_rules=RULES, command_rules=ALLOW_COMMANDS,
            audit={"retention_days": 1})})
        run(prt, fbundle, cid, "true")
        assert not os.path.exists(old), os.listdir(old)
    finally:
        if os.path.exists(old):
            import shutil

            shutil.rmtree(old)


def test_delete_aborts_a_fuse_connection_whose_server_hangs(tmp_path):
    """A FUSE server that stops answering (here: SIGSTOP; in life: a monitor killed
    while a thread of its own waited on its mount) leaves readers waiting forever;
    the state-dir clean-up aborts the connection, so they get ENOTCONN and go."""
    import subprocess
    import sys

    from agentsh_runtime.container import state as st

    backing = tmp_path / "backing"
    backing.mkdir()
    (backing / "f").write_text("x\n")
    sdir = tmp_path / "state"
    mnt = sdir / "fuse"
    mnt.mkdir(parents=True)
    r, w = os.pipe()
    srv = subprocess.Popen([sys.executable, "-m", "agentsh_runtime.fusefs", str(backing),
                            str(mnt), "--ready-fd", str(w), "--timeout", "0"],
                           pass_fds=(w,))
    os.close(w)
    reader = None
    try:
        assert os.read(r, 1) == b"1", "the FUSE server did not come up"
        os.kill(srv.pid, signal.SIGSTOP)
        reader = subprocess.Popen([sys.executable, "-c",
                                   "import errno, sys\n"
                                   f"try: open({str(mnt / 'f')!r}).read()\n"
                                   "except OSError as e: sys.exit(errno.errorcode[e.errno])"],
                                  stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        assert reader.poll() is None, "the reader did not wait on the stopped server"
        st.remove_state_dir(str(sdir))
        assert reader.wait(timeout=10) != 0
        err = reader.stderr.read()
        assert err.strip() in ("ENOTCONN", "ECONNABORTED"), err  # aborted, not answered
        with open("/proc/self/mountinfo") as f:
            assert str(mnt) not in f.read()
    finally:
        os.close(r)
        if reader is not None and reader.poll() is None:
            reader.kill()
        os.kill(srv.pid, signal.SIGCONT)
        srv.terminate()
        srv.wait(timeout=10)
