"""file_rules on /proc, /sys and /dev (issue 6, "every path the container sees"): these
are never FUSE-mediated; the monitor decides their opens at the seccomp notification
(monitor/kernelopen.py, with openfast.c placing the common ones natively). Every way
to name the same kernel file reaches the same decision: procfs's self and thread-self,
relative names, directory fds, symlinks, /proc/PID/root and cwd, O_PATH reopens.

Policy as test_policy_files: /proc/*/environ and /proc/*/mem denied; the usual /dev
nodes writable; other writes denied (the default for files); reads allowed."""

from __future__ import annotations

import pytest

from tests.integration import test_policy_files as pf
from tests.integration.test_policy_files import file_events, run
from tests.support.policy import (
    ANN_INLINE,
    ANN_MODE,
    BIN_DIR,
    install_programs,
    policy_text,
    symlink_in,
)

prt = pf.prt
fbundle = pf.fbundle


def denied(prt, cid: str, rule: str = "proc-secrets") -> list[dict]:  # noqa: ANN001
    return [e for e in file_events(prt, cid, rule)
            if e["policy"]["effective_decision"] == "deny"]


ENVIRON_WAYS = {
    "pid-1": "cat /proc/1/environ",
    "self": "cat /proc/self/environ",
    "thread-self": "cat /proc/thread-self/environ",
    "task": "cat /proc/1/task/1/environ",
    "relative": "cd /proc/1 && cat environ",
    "dotdot": "cd /proc/self/fd && cat ../environ",
    "root-link": "cat /proc/self/root/proc/1/environ",
    "cwd-link": "cd /proc/1 && cat /proc/self/cwd/environ",
    "symlink": "cat /etc/e",  # symlinks already in the image (FUSE refuses new ones)
    "symlink-to-self": "cat /etc/me/environ",
    "symlink-relative": "cat /etc/up/proc/1/environ",
    "dirfd": f"{BIN_DIR}/fops openat /proc/1 environ",
    "openat2-in-root": f"{BIN_DIR}/fops openat2 / proc/1/environ",
    "opath-reopen": f"{BIN_DIR}/fops opath /proc/1/environ",
    "mem": "dd if=/proc/self/mem bs=1 count=1 skip=4096",
    "write-open": "echo x >> /proc/1/environ",
    "i386-syscall": f"{BIN_DIR}/fops int80 /proc/1/environ",
}


@pytest.mark.parametrize("way", sorted(ENVIRON_WAYS))
def test_process_secrets_are_denied_every_way(prt, fbundle, cid, way):
    install_programs(fbundle, ["fops"])
    symlink_in(fbundle, "/etc/e", "/proc/1/environ")
    symlink_in(fbundle, "/etc/me", "/proc/self")
    symlink_in(fbundle, "/etc/up", "..")
    fbundle.update(env=["AGENT_MARK=hunter2", "PATH=/usr/bin:/bin"])
    out, err = run(prt, fbundle, cid, ENVIRON_WAYS[way] + "; echo rc=$?")
    assert "hunter2" not in out and "ok:" not in out, (out, err)
    assert "rc=0" not in out, (out, err)
    ev = denied(prt, cid)
    assert ev, (way, out, err, file_events(prt, cid))
    kernel = [e for e in ev if (e.get("fields") or {}).get("via") == "seccomp"]
    assert kernel, ev
    assert kernel[0]["path"].startswith("/proc/") and \
        kernel[0]["path"].endswith(("/environ", "/mem"))


def test_the_nodes_programs_need_work(prt, fbundle, cid):
    symlink_in(fbundle, "/etc/mtab", "../proc/self/mounts")
    out, err = run(prt, fbundle, cid,
                   "echo a > /dev/null; echo rc=$?; head -c 4 /dev/zero | wc -c; "
                   "echo b > /dev/stderr; echo rc=$?; cat /proc/self/status | head -1; "
                   "grep -c . /etc/mtab >/dev/null; "
                   "echo rc=$?; ls /proc/self/fd >/dev/null; echo rc=$?; "
                   "cat /proc/1/cmdline >/dev/null; echo rc=$?")
    lines = out.splitlines()
    assert lines[0] == "rc=0" and lines[1].strip() == "4" and lines[2] == "rc=0", (out, err)
    assert lines[3].startswith("Name:") and lines[4:] == ["rc=0", "rc=0", "rc=0"], (out, err)
    assert "b" in err
    assert not [e for e in file_events(prt, cid)
                if (e.get("policy") or {}).get("effective_decision") == "deny"]


def test_writes_the_policy_does_not_allow_are_denied(prt, fbundle, cid):
    out, err = run(prt, fbundle, cid, "echo 500 > /proc/self/oom_score_adj; echo rc=$?; "
                   "echo x > /dev/shm/f; echo rc=$?; echo x > /dev/newnode; echo rc=$?")
    assert out.split() == ["rc=1", "rc=1", "rc=1"], (out, err)
    assert err.count("Permission denied") == 3, err
    ev = denied(prt, cid, "default-deny-files")
    got = {(e["path"], e["operation"]) for e in ev}
    assert ("/proc/self/oom_score_adj", "write") not in got  # named by the file it is
    assert any(p.startswith("/proc/") and p.endswith("/oom_score_adj") and op == "write"
               for p, op in got), got
    assert ("/dev/shm/f", "create") in got and ("/dev/newnode", "create") in got, got


NAME_OPS_IN_DEV = {
    "delete": "rm -f /dev/null",
    "rename": "mv /dev/zero /dev/z",
    "mkdir": "mkdir /dev/d",
    "symlink": "ln -s /secret/key /dev/k",
    "hardlink": "ln /dev/full /dev/f2",
    "chmod": "chmod 777 /dev/null",
    "chown": "chown 1:1 /dev/zero",
    "mknod": "mknod /dev/n2 c 1 3",
    "rename-shm": "mv /dev/shm /dev/s2",
}


def test_names_in_dev_cannot_change(prt, fbundle, cid):
    """The monitor decides opens in /dev, never unlink, rename, mkdir, chmod...: the plan
    seals the /dev tmpfs (read-only, the nodes still writable) when the policy lets no
    such operation through there, so they fail with EROFS (no event: the kernel refuses)."""
    script = "; ".join(f"{cmd} 2>/dev/null; echo {name}=$?"
                       for name, cmd in NAME_OPS_IN_DEV.items())
    out, err = run(prt, fbundle, cid, script + "; echo a > /dev/null; echo write=$?; "
                   "ls -ld /dev/null /dev/zero /dev/full | cut -c1-10; "
                   "grep ' /dev ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1")
    got = dict(x.split("=", 1) for x in out.splitlines() if "=" in x)
    assert {k: v for k, v in got.items() if k != "write" and v == "0"} == {}, (out, err)
    assert got["write"] == "0", (out, err)
    lines = [x for x in out.splitlines() if "=" not in x]
    assert lines == ["crw-rw-rw-"] * 3 + ["ro"], (out, err)


def test_audit_mode_lets_it_through_and_logs(prt, fbundle, cid):
    fbundle.update(env=["AGENT_MARK=hunter2", "PATH=/usr/bin:/bin"],
                   annotations={ANN_INLINE: policy_text(file_rules=pf.RULES,
                                                        command_rules=pf.ALLOW_COMMANDS),
                                ANN_MODE: "audit"})
    out, err = run(prt, fbundle, cid, "cat /proc/self/environ; echo; echo rc=$?")
    assert "hunter2" in out and "rc=0" in out, (out, err)
    ev = file_events(prt, cid, "proc-secrets")
    assert ev and ev[0]["policy"]["decision"] == "deny"
    assert ev[0]["effective_action"] == "allowed"


def test_without_rules_there_kernel_paths_are_not_decided(prt, fbundle, cid):
    """A policy whose rules allow everything under /proc, /sys and /dev (and that does
    not log allowed operations) leaves their opens to the kernel: no kernel subtree in
    the plan."""
    rules = [dict(r) for r in pf.RULES if r["name"] in ("no-secret", "workspace")]
    rules.append({"name": "kernel", "paths": ["/proc", "/proc/**", "/sys", "/sys/**",
                                              "/dev", "/dev/**"],
                  "operations": ["*"], "decision": "allow"})
    fbundle.update(env=["AGENT_MARK=hunter2", "PATH=/usr/bin:/bin"],
                   annotations={ANN_INLINE: policy_text(file_rules=rules,
                                                        command_rules=pf.ALLOW_COMMANDS,
                                                        audit={"log_allowed": False})})
    out, err = run(prt, fbundle, cid, "cat /proc/self/environ; echo; echo x > /dev/null; "
                   "echo rc=$?")
    assert "hunter2" in out and "rc=0" in out, (out, err)
    assert not any(e.get("type") == "file_policy_kernel_paths" for e in prt.events(cid))


def test_other_ways_to_process_memory_are_refused(prt, fbundle, cid):
    """A policy that denies /proc/PID/mem and environ also refuses the syscalls that read
    process memory without them (ptrace, process_vm_readv/writev)."""
    install_programs(fbundle, ["fops"])
    out, err = run(prt, fbundle, cid, f"{BIN_DIR}/fops vmself probe; echo rc=$?")
    assert "ok: probe" not in out and "errno=1" in out, (out, err)


def test_without_a_memory_deny_process_memory_is_reachable(prt, fbundle, cid):
    rules = [dict(r) for r in pf.RULES if r["name"] != "proc-secrets"]
    install_programs(fbundle, ["fops"])
    fbundle.update(annotations={ANN_INLINE: policy_text(file_rules=rules,
                                                        command_rules=pf.ALLOW_COMMANDS)})
    out, err = run(prt, fbundle, cid, f"{BIN_DIR}/fops vmself probe; echo rc=$?")
    assert "ok: probe" in out, (out, err)


def test_the_32_bit_open_is_decided_too(prt, fbundle, cid):
    install_programs(fbundle, ["fops"])
    out, err = run(prt, fbundle, cid, f"{BIN_DIR}/fops int80 /pub.txt; "
                   f"{BIN_DIR}/fops int80 /proc/self/status")
    assert "ok: public" in out and "ok: Name:" in out, (out, err)


FLIP_FROM = {
    "allowed-proc-read": ("/proc/1/status", ""),
    "fuse-read": ("/pub.txt", ""),
    "workspace-read-write": ("/workspace/notes.txt", "rw"),
    "dev-null-read-write": ("/dev/null", "rw"),
    "proc-self-read": ("/proc/self/status", ""),
    "missing-name": ("/tmp/no-such-file", ""),
}


@pytest.mark.parametrize("case", sorted(FLIP_FROM))
def test_a_racing_thread_never_gets_a_denied_kernel_file(prt, fbundle, cid, case):
    """A second thread rewrites the name between an allowed one and /proc/1/environ
    while the first opens it in a loop: the monitor opens what it decided on and hands
    the fd over (openself.c), so the kernel never reads the rewritten name."""
    install_programs(fbundle, ["flip"])
    fbundle.update(env=["AGENT_MARK=hunter2", "PATH=/usr/bin:/bin"])
    name, mode = FLIP_FROM[case]
    # reads race to another process's environment, writes to a /proc file the policy
    # lets the container read but not write
    target = "/proc/1/oom_score_adj" if mode == "rw" else "/proc/1/environ"
    out, err = run(prt, fbundle, cid, f"{BIN_DIR}/flip {name} {target} 2000 {mode}")
    assert "hits=0" in out, (out, err)
    opens = int(out.split("opens=")[1].split()[0])
    assert opens > 0 or case == "missing-name", (out, err)
