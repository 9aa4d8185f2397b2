"""The ADDFD open path (monitor/openfast.c, issue 6 "Speed"): read-only opens of files
under FUSE-mediated subtrees are answered by the monitor with the backing file's fd,
the FUSE mount staying the enforcement of record for everything else. These tests show
the path is taken, keeps the caller's permissions, and cannot be raced or tricked into
handing out a file the policy denies.

Policy as test_policy_files: /secret denied for every operation; /workspace (a bind
volume) and /tmp writable; reads allowed elsewhere."""

from __future__ import annotations

import os

import pytest

from tests.integration import test_policy_files as pf
from tests.integration.test_policy_files import SECRET, file_events, run
from tests.support.policy import ANN_INLINE, BIN_DIR, install_programs, policy_text, symlink_in

prt = pf.prt  # the fixtures of the file policy tests (same policy, same bundle)
fbundle = pf.fbundle


def fast_opens(prt, cid: str) -> list[dict]:  # noqa: ANN001
    return [e for e in file_events(prt, cid)
            if e.get("type") == "file_open" and (e.get("fields") or {}).get("via") == "addfd"]


def test_reads_are_answered_with_backing_fds(prt, fbundle, cid):
    out, err = run(prt, fbundle, cid, "cat /pub.txt /workspace/notes.txt; echo rc=$?")
    assert out.splitlines() == ["public", "notes", "rc=0"], (out, err)
    ev = fast_opens(prt, cid)
    paths = {e["path"] for e in ev}
    assert {"/pub.txt", "/workspace/notes.txt"} <= paths, file_events(prt, cid)
    one = next(e for e in ev if e["path"] == "/pub.txt")
    assert one["comm"] == "cat" and one["operation"] == "read"
    assert one["policy"]["rule"] == "default-allow-reads"
    assert one["effective_action"] == "allowed"


def test_relative_and_dirfd_opens_take_the_path_too(prt, fbundle, cid):
    install_programs(fbundle, ["fops"])
    out, err = run(prt, fbundle, cid, "cd /workspace && cat notes.txt && "
                   f"{BIN_DIR}/fops openat /workspace notes.txt; echo rc=$?")
    assert "notes" in out and "ok: notes" in out and "rc=0" in out, (out, err)
    assert sum(e["path"] == "/workspace/notes.txt" for e in fast_opens(prt, cid)) >= 2


def test_written_data_is_read_back_at_once(prt, fbundle, cid, tmp_path):
    """Writes go through FUSE (no writeback cache then), reads to the backing file."""
    out, err = run(prt, fbundle, cid,
                   "echo one > /workspace/f; cat /workspace/f; echo two >> /workspace/f; "
                   "cat /workspace/f; (echo a; sleep 0.5; echo b) > /workspace/log & "
                   "sleep 0.25; cat /workspace/log; wait; cat /workspace/log")
    assert out.splitlines() == ["one", "one", "two", "a", "a", "b"], (out, err)
    assert any(e["path"] == "/workspace/f" for e in fast_opens(prt, cid))


def test_caller_permissions_hold(prt, fbundle, cid, tmp_path):
    """The monitor opens as the caller: a non-root user cannot read a 0600 root file
    nor pass a 0700 directory, and gets EACCES as it would without the path."""
    ws = tmp_path / "ws"
    (ws / "private").write_text("private\n")
    os.chmod(ws / "private", 0o600)
    (ws / "closed").mkdir(mode=0o700)
    (ws / "closed" / "inner").write_text("inner\n")
    os.chmod(ws / "closed" / "inner", 0o644)
    (ws / "open").write_text("open\n")
    fbundle.update(user={"uid": 1000, "gid": 1000})
    out, err = run(prt, fbundle, cid, "cat /workspace/private; echo rc=$?; "
                   "cat /workspace/closed/inner; echo rc=$?; cat /workspace/open; echo rc=$?")
    assert out.splitlines() == ["rc=1", "rc=1", "open", "rc=0"], (out, err)
    assert err.count("Permission denied") == 2, err
    paths = {e["path"] for e in fast_opens(prt, cid)}
    assert "/workspace/open" in paths and "/workspace/private" not in paths


def test_root_without_dac_capabilities_is_held_to_the_modes(prt, fbundle, cid, tmp_path):
    ws = tmp_path / "ws"
    (ws / "theirs").write_text("theirs\n")
    os.chown(ws / "theirs", 1234, 1234)
    os.chmod(ws / "theirs", 0o600)
    fbundle.update(capabilities=["CAP_CHOWN", "CAP_FOWNER", "CAP_SETUID", "CAP_SETGID",
                                 "CAP_KILL"])
    out, err = run(prt, fbundle, cid, "cat /workspace/theirs; echo rc=$?")
    assert out.splitlines() == ["rc=1"] and "Permission denied" in err, (out, err)


def test_root_with_dac_override_still_reads_other_users_files(prt, fbundle, cid, tmp_path):
    ws = tmp_path / "ws"
    (ws / "theirs").write_text("theirs\n")
    os.chown(ws / "theirs", 1234, 1234)
    os.chmod(ws / "theirs", 0o600)
    fbundle.update(capabilities=["CAP_DAC_OVERRIDE", "CAP_KILL"])
    out, err = run(prt, fbundle, cid, "cat /workspace/theirs; echo rc=$?")
    assert out.splitlines() == ["theirs", "rc=0"], (out, err)


@pytest.mark.parametrize("mode", ["string", "link"])
def test_racing_the_path_never_reads_the_denied_file(prt, fbundle, cid, mode):
    """A second thread swaps the path string (or a symlink) between an allowed file
    and the denied one while the first opens in a loop: whatever the monitor decided
    on, the caller never gets the denied file's bytes."""
    install_programs(fbundle, ["openrace"])
    symlink_in(fbundle, "/tmp/racelink", "/pub.txt")
    symlink_in(fbundle, "/tmp/raceother", SECRET)
    out, err = run(prt, fbundle, cid, f"{BIN_DIR}/openrace {mode} /pub.txt {SECRET} 3000")
    assert "LEAK" not in out and "topsecret" not in out, (out, err)
    assert "opens=3000" in out, (out, err, [e for e in prt.events(cid) if e.get("type")
                                            not in ("file_stat", "file_open", "file_read")])
    assert any(e["path"] == "/pub.txt" for e in fast_opens(prt, cid)), \
        "the fast path was never taken"


@pytest.mark.parametrize("i", range(6))
def test_a_threaded_program_exec_right_after_an_exec_is_not_killed(prt, fbundle, cid, i):
    """sh execs the program in its own process right after sh's own exec, and the
    program starts a thread at once: the exec check (process connector, which reports
    later) must not take sh's exec for one that ran another program (it did, 2 in 8)."""
    install_programs(fbundle, ["openrace"])
    fbundle.update(args=["sh", "-c", f"{BIN_DIR}/openrace string /pub.txt {SECRET} 300"])
    out, err, _ = prt.run_to_end(fbundle, cid)
    killed = [e for e in prt.events(cid)
              if (e.get("policy") or {}).get("rule") == "exec-changed-after-check"]
    assert not killed and "opens=300" in out, (out, err, killed)


def test_nofollow_and_directories_keep_their_errors(prt, fbundle, cid):
    out, err = run(prt, fbundle, cid, "ln -s /workspace/notes.txt /tmp/l; cat /tmp/l; "
                   "cat /workspace; echo rc=$?")
    assert out.splitlines()[0] == "notes" and "rc=1" in out, (out, err)
    assert "Is a directory" in err, err


def test_other_user_namespace_gets_no_more_than_its_ids(prt, fbundle, cid, tmp_path):
    """`unshare -U -r` makes the caller root with every capability in a new user
    namespace; the monitor's open still uses only its kernel ids, so a 0600 root file
    stays unreadable to it (as FUSE's own check says)."""
    ws = tmp_path / "ws"
    (ws / "private").write_text("private\n")
    os.chmod(ws / "private", 0o600)
    # unshare -r writes its id maps: a policy must allow that (kernel paths are decided)
    maps = {"name": "id-maps", "paths": ["/proc/*/uid_map", "/proc/*/gid_map",
                                         "/proc/*/setgroups"],
            "operations": ["open", "write"], "decision": "allow"}
    fbundle.update(user={"uid": 1000, "gid": 1000},
                   annotations={ANN_INLINE: policy_text(file_rules=[maps, *pf.RULES],
                                                        command_rules=pf.ALLOW_COMMANDS)})
    out, err = run(prt, fbundle, cid, "unshare -U -r cat /workspace/private; echo rc=$?; "
                   "unshare -U -r cat /workspace/notes.txt; echo rc=$?")
    assert "private" not in out.replace("/workspace/private", ""), (out, err)
    assert "notes" in out, (out, err)


def test_off_switch_sends_every_open_through_fuse(prt, fbundle, cid, monkeypatch):
    monkeypatch.setenv("AGENTSH_NO_FAST_OPEN", "1")
    out, err = run(prt, fbundle, cid, "cat /pub.txt; echo rc=$?")
    assert out.splitlines() == ["public", "rc=0"], (out, err)
    assert not fast_opens(prt, cid)
    assert any(e.get("type") == "file_open" and e["path"] == "/pub.txt"
               for e in file_events(prt, cid))
