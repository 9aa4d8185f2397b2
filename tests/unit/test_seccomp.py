"""OCI seccomp profile -> rules -> BPF, checked without loading (a BPF interpreter runs it)."""

from __future__ import annotations

import copy
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentsh_runtime.errors import ConfigError
from agentsh_runtime.jsonio import dumps
from agentsh_runtime.linux import seccomp as lsc
from agentsh_runtime.seccomp import agent, bpf, plan, prepare
from agentsh_runtime.seccomp import compile as comp
from agentsh_runtime.seccomp.profile import (
    ACT_ALLOW,
    ACT_ERRNO,
    ACT_KILL_PROCESS,
    ACT_NOTIFY,
    ACT_TRACE,
    ARCHES,
    AUDIT_ARCH_X86_64,
)

REPO = Path(__file__).resolve().parents[2]
PODMAN = json.loads((REPO / "tests/unit/data/podman-config.json").read_text())["linux"]["seccomp"]
X86_64 = AUDIT_ARCH_X86_64
I386 = ARCHES["SCMP_ARCH_X86"]
NR = {"read": 0, "write": 1, "socket": 41, "mkdir": 83, "getppid": 110, "personality": 135,
      "mkdirat": 258, "clone3": 435}


def run(program: bytes, name_or_nr: str | int, *args: int, arch: int = X86_64) -> int:
    nr = NR[name_or_nr] if isinstance(name_or_nr, str) else name_or_nr
    full = tuple(args) + (0,) * (6 - len(args))
    return bpf.run(bpf.unpack(program), nr, arch, full)


def deny_mkdir(**extra: object) -> dict:
    return {"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", **extra}]}


# --- errors name the field -------------------------------------------------------------

@pytest.mark.parametrize("profile, field", [
    ({"defaultAction": "SCMP_ACT_NOPE"}, "linux.seccomp.defaultAction"),
    ({"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/x"}, "linux.seccomp.defaultAction"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1},
     "linux.seccomp.defaultErrnoRet"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"]},
     "linux.seccomp.architectures[1]"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_BOGUS"]},
     "linux.seccomp.flags[0]"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["write"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["open"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["close"], "action": "SCMP_ACT_EXPLODE"}]},
     "linux.seccomp.syscalls[3].action"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                  {"index": 1, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]},
     "linux.seccomp.syscalls[0].args[1].op"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
     "linux.seccomp.syscalls[0].args[0].index"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": "EPERM"}]},
     "linux.seccomp.syscalls[0].errnoRet"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["read", ""], "action": "SCMP_ACT_ERRNO"}]},
     "linux.seccomp.syscalls[0].names[1]"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x", "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_NOTIFY"}]},
     "linux.seccomp.syscalls[0].names[1]"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]},
     "linux.seccomp.listenerPath"),
])
def test_errors_name_the_field(profile, field):
    with pytest.raises(ConfigError) as exc:
        prepare(profile, None)
    assert exc.value.field == field, str(exc.value)


def test_unknown_action_message_names_it():
    with pytest.raises(ConfigError, match="SCMP_ACT_EXPLODE") as exc:
        comp.translate({"defaultAction": "SCMP_ACT_EXPLODE"})
    assert str(exc.value).startswith("linux.seccomp.defaultAction: ")


# --- translation (runc's rules) --------------------------------------------------------

def test_disabled_profiles():
    assert prepare(None, None) is None
    assert prepare({}, None) is None
    assert prepare({"architectures": ["SCMP_ARCH_X86_64"]}, None) is None


def test_unknown_syscall_skipped_with_a_note():
    t = comp.translate({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "no_such_syscall_xyz"], "action": "SCMP_ACT_ERRNO"}]})
    assert t.skipped == ["no_such_syscall_xyz"]
    assert any("no_such_syscall_xyz" in n for n in t.notes)
    assert [r.name for r in t.rules] == ["mkdir"]
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "no_such_syscall_xyz"], "action": "SCMP_ACT_ERRNO"}]}, None)
    assert p.skipped == ["no_such_syscall_xyz"]
    assert run(p.bpf, "mkdir") == ACT_ERRNO | errno.EPERM


def test_rule_with_the_default_action_is_skipped():
    t = comp.translate({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
        {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
        {"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})
    assert [(r.name, r.action) for r in t.rules] == [
        ("rmdir", ACT_ERRNO | 38), ("read", ACT_ALLOW)]
    assert t.skipped == []
    # runc's -ENOSYS stub still counts the skipped names
    assert t.names == ["mkdir", "mkdirat", "rmdir", "read"]


def test_default_errno_ret_and_trace():
    t = comp.translate({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38})
    assert t.default_action == ACT_ERRNO | 38
    t = comp.translate({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir"], "action": "SCMP_ACT_TRACE"},
        {"names": ["rmdir"], "action": "SCMP_ACT_TRACE", "errnoRet": 5},
        {"names": ["read"], "action": "SCMP_ACT_KILL_PROCESS"}]})
    assert [r.action for r in t.rules] == [ACT_TRACE | errno.EPERM, ACT_TRACE | 5,
                                           ACT_KILL_PROCESS]
    # the spec: an errnoRet on an action without an errno MUST fail
    with pytest.raises(ConfigError) as e:
        comp.translate({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_KILL_PROCESS", "errnoRet": 5}]})
    assert e.value.field == "linux.seccomp.syscalls[0].errnoRet"


def test_args_same_index_become_separate_rules():
    same = [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
            {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]
    t = comp.translate({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": same}]})
    assert [r.conds for r in t.rules] == [((0, 4, 1, 0),), ((0, 4, 2, 0),)]
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": same}]}, None)
    assert run(p.bpf, "personality", 1) == ACT_ERRNO | 1  # OR
    assert run(p.bpf, "personality", 2) == ACT_ERRNO | 1
    assert run(p.bpf, "personality", 3) == ACT_ALLOW

    both = [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
            {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]
    t = comp.translate({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": both}]})
    assert [r.conds for r in t.rules] == [((0, 4, 1, 0), (1, 4, 2, 0))]
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": both}]}, None)
    assert run(p.bpf, "socket", 1, 2) == ACT_ERRNO | 1  # AND
    assert run(p.bpf, "socket", 1, 3) == ACT_ALLOW
    assert run(p.bpf, "socket", 2, 2) == ACT_ALLOW


@pytest.mark.parametrize("op, value, two, hits, misses", [
    ("SCMP_CMP_EQ", 10, 0, [10], [9, 11]),
    ("SCMP_CMP_NE", 10, 0, [9, 11], [10]),
    ("SCMP_CMP_LT", 10, 0, [0, 9], [10, 11]),
    ("SCMP_CMP_LE", 10, 0, [9, 10], [11]),
    ("SCMP_CMP_GT", 10, 0, [11, 1 << 40], [10, 0]),
    ("SCMP_CMP_GE", 10, 0, [10, 11], [9]),
    ("SCMP_CMP_MASKED_EQ", 0xF0, 0x20, [0x20, 0x2F, 0x120], [0x10, 0x30]),
    ("SCMP_CMP_EQ", 0xFFFFFFFF, 0, [0xFFFFFFFF], [0xFFFFFFFE, (1 << 64) - 1]),
])
def test_operators(op, value, two, hits, misses):
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
         "args": [{"index": 0, "value": value, "valueTwo": two, "op": op}]}]}, None)
    for v in hits:
        assert run(p.bpf, "personality", v) == ACT_ERRNO | 22, hex(v)
    for v in misses:
        assert run(p.bpf, "personality", v) == ACT_ALLOW, hex(v)


def test_actions_in_the_program():
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock",
                 "syscalls": [
                     {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                     {"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"},
                     {"names": ["personality"], "action": "SCMP_ACT_LOG"},
                     {"names": ["rmdir"], "action": "SCMP_ACT_TRAP"},
                     {"names": ["mkdirat"], "action": "SCMP_ACT_NOTIFY"},
                     {"names": ["socket"], "action": "SCMP_ACT_KILL"}]}, None)
    assert run(p.bpf, "mkdir") == ACT_ERRNO | 38
    assert run(p.bpf, "getppid") == ACT_KILL_PROCESS
    assert run(p.bpf, "personality") == 0x7FFC0000
    assert run(p.bpf, 84) == 0x00030000  # rmdir
    assert run(p.bpf, "mkdirat") == ACT_NOTIFY
    assert run(p.bpf, "socket") == 0  # KILL_THREAD
    assert run(p.bpf, "read") == ACT_ALLOW
    assert p.needs_listener and p.flags & lsc.SECCOMP_FILTER_FLAG_NEW_LISTENER
    assert p.listener_path == "/run/agent.sock"
    # another architecture than the filter's: libseccomp's bad-arch action (kill)
    assert run(p.bpf, "read", arch=I386) == 0


def test_flags():
    assert comp.translate({"defaultAction": "SCMP_ACT_ALLOW"}).flags == \
        lsc.SECCOMP_FILTER_FLAG_SPEC_ALLOW  # runc's default when `flags` is absent
    assert comp.translate({"defaultAction": "SCMP_ACT_ALLOW", "flags": []}).flags == 0
    t = comp.translate({"defaultAction": "SCMP_ACT_ALLOW", "flags": [
        "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]})
    assert t.flags == lsc.SECCOMP_FILTER_FLAG_LOG  # TSYNC ignored, WAIT_KILLABLE needs notify
    assert any("WAIT_KILLABLE_RECV" in n for n in t.notes)
    t = comp.translate({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x",
                        "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
                        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})
    assert t.flags == (lsc.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
                       | lsc.SECCOMP_FILTER_FLAG_NEW_LISTENER)


# --- runc's -ENOSYS stub ------------------------------------------------------------------

def test_enosys_stub_for_deny_by_default():
    p = prepare({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                 "syscalls": [{"names": ["read", "mkdir", "getppid"],
                               "action": "SCMP_ACT_ALLOW"}]}, None)
    assert run(p.bpf, "getppid") == ACT_ALLOW
    assert run(p.bpf, 100) == ACT_ERRNO | errno.EPERM  # known to the profile's era
    assert run(p.bpf, 111) == ACT_ERRNO | errno.ENOSYS  # newer than anything named
    assert run(p.bpf, "clone3") == ACT_ERRNO | errno.ENOSYS
    # x32 calls skip the x86_64 section and get the filter's answer
    assert run(p.bpf, 0x40000000 | 300) == 0  # x32 not in the filter: bad arch (kill)


def test_no_stub_for_permissive_default():
    allow = prepare({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                     "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}, None)
    assert run(allow.bpf, "clone3") == ACT_ALLOW
    first = bpf.unpack(allow.bpf)[:3]
    assert first[0] == (bpf.LD_W_ABS, 0, 0, bpf.OFF_ARCH) and first[1][3] == X86_64


def test_enosys_stub_multiarch():
    p = prepare({"defaultAction": "SCMP_ACT_ERRNO",
                 "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                 "syscalls": [{"names": ["read", "getppid"], "action": "SCMP_ACT_ALLOW"}]},
                None)
    assert run(p.bpf, "getppid") == ACT_ALLOW
    assert run(p.bpf, 111) == ACT_ERRNO | errno.ENOSYS
    assert run(p.bpf, 64, arch=I386) == ACT_ALLOW  # getppid on i386
    assert run(p.bpf, 65, arch=I386) == ACT_ERRNO | errno.ENOSYS
    assert run(p.bpf, 3, arch=I386) == ACT_ALLOW  # read on i386
    assert run(p.bpf, 0x40000000 | 110) == ACT_ALLOW  # x32 getppid
    assert run(p.bpf, 0x40000000 | 111) == ACT_ERRNO | errno.ENOSYS


def test_enosys_stub_long_jumps():
    # Many architectures make the jumps to the shared ENOSYS return exceed 255.
    last = {0x100 + i: {0x100 + i: 5} for i in range(90)}
    prog = bpf.enosys_stub(last)
    prog += [(bpf.RET_K, 0, 0, ACT_ALLOW)]  # "the filter"
    for native in (0x100, 0x100 + 45, 0x100 + 89):
        assert bpf.run(prog, 5, native) == ACT_ALLOW
        assert bpf.run(prog, 6, native) == bpf.RET_ENOSYS
    assert bpf.run(prog, 6, 0x99) == ACT_ALLOW
    bpf.pack(prog)  # every jump fits


def test_podman_profile():
    p = prepare(PODMAN, None)
    assert p.skipped == [] and not p.needs_listener
    assert 0 < len(p.bpf) // 8 <= 4096
    assert run(p.bpf, "mkdir") == ACT_ALLOW
    assert run(p.bpf, 425) == ACT_ERRNO | errno.ENOSYS  # io_uring_setup: not allowed
    assert run(p.bpf, 161) == ACT_ERRNO | errno.EPERM  # chroot: errnoRet 1
    assert run(p.bpf, "personality", 0xFFFFFFFF) == ACT_ALLOW
    assert run(p.bpf, "personality", 0x1234) == ACT_ERRNO | errno.ENOSYS


# --- notify merge for the policy layer ---------------------------------------------------

def test_notify_merge():
    t = comp.translate({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}, notify=("execve", "mkdir"))
    assert [(r.name, r.action) for r in t.rules] == [
        ("mkdir", ACT_ERRNO | 1), ("execve", ACT_NOTIFY)]
    assert t.needs_listener and not t.profile_notify
    # deny by default: notify takes the place of the allow rules only
    t = comp.translate({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve", "kill"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]}]},
        notify=("execve", "personality", "connect"))
    assert [(r.name, r.action) for r in t.rules] == [
        ("execve", ACT_NOTIFY), ("kill", ACT_ALLOW), ("personality", ACT_NOTIFY)]
    p = prepare(None, None, notify=("execve",))
    assert p.needs_listener and p.listener_path is None
    assert run(p.bpf, 59) == ACT_NOTIFY and run(p.bpf, "read") == ACT_ALLOW


def test_notify_merge_refusals():
    with pytest.raises(ConfigError) as exc:
        prepare({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x", "syscalls": [
            {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}, None, notify=("execve",))
    assert exc.value.field == "linux.seccomp.syscalls[0].action"
    with pytest.raises(ConfigError) as exc:
        prepare({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["execve"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]}]}, None,
            notify=("execve",))
    assert exc.value.field == "linux.seccomp.syscalls[0].args"
    with pytest.raises(ValueError):
        prepare(None, None, notify=("write",))


# --- the cache ----------------------------------------------------------------------------

def test_cache_roundtrip(tmp_path):
    d = str(tmp_path / "cache")
    cold = prepare(PODMAN, d)
    assert not cold.cache_hit
    assert oct(os.stat(d).st_mode & 0o777) == "0o700"
    hot = prepare(PODMAN, d)
    assert hot.cache_hit and hot.bpf == cold.bpf and hot.flags == cold.flags
    assert hot.key == cold.key
    # key order and listener fields do not matter; the filter fields and notify do
    shuffled = dict(reversed(list(copy.deepcopy(PODMAN).items())))
    shuffled["listenerMetadata"] = "x"
    assert plan.cache_key(shuffled) == hot.key
    assert plan.cache_key(PODMAN, ("execve",)) != hot.key
    changed = copy.deepcopy(PODMAN)
    changed["syscalls"][0]["names"].append("mkdir")
    assert plan.cache_key(changed) != hot.key


def test_cache_checks_listener_path(tmp_path):
    d = str(tmp_path)
    prof = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x",
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}
    assert prepare(prof, d).needs_listener
    del prof["listenerPath"]
    with pytest.raises(ConfigError) as exc:
        prepare(prof, d)
    assert exc.value.field == "linux.seccomp.listenerPath"


def test_cache_ignores_bad_entries(tmp_path):
    d = tmp_path / "c"
    prof = deny_mkdir()
    first = prepare(prof, str(d))
    entry = d / f"{first.key}.bpf"
    good = entry.read_bytes()

    entry.write_bytes(good[:-8])  # truncated
    assert not prepare(prof, str(d)).cache_hit
    assert entry.read_bytes() == good  # rewritten

    os.chmod(entry, 0o666)  # writable by others: not trusted
    assert not prepare(prof, str(d)).cache_hit
    assert entry.stat().st_mode & 0o777 == 0o600

    # a dependency changed (libseccomp, pyseccomp, our compiler): recompile
    raw = entry.read_bytes()
    head_end = raw.index(b"\n", len(plan._MAGIC))
    head = json.loads(raw[len(plan._MAGIC):head_end])
    assert any("libseccomp" in p for p, _ in head["deps"])
    assert any(p.endswith("pyseccomp.py") for p, _ in head["deps"])
    head["deps"][0][1] = "0:0:0:0"
    entry.write_bytes(plan._MAGIC + json.dumps(head).encode() + raw[head_end:])
    assert not prepare(prof, str(d)).cache_hit
    assert prepare(prof, str(d)).cache_hit


def test_cache_trim(tmp_path, monkeypatch):
    monkeypatch.setattr(plan, "MAX_CACHE_ENTRIES", 3)
    for i in range(5):
        prepare(deny_mkdir(errnoRet=i + 2), str(tmp_path))
    assert len(list(tmp_path.glob("*.bpf"))) == 3


def test_canonical_json_matches_jsonio():
    def canon(o):
        if isinstance(o, dict):
            return {k: canon(o[k]) for k in sorted(o)}
        if isinstance(o, list):
            return [canon(v) for v in o]
        return o
    for doc in (PODMAN, {}, [], {"b": [], "a": {}}, [1, "x", None, True, [2, {"z": 1}]]):
        assert plan._canon_json(doc) == dumps(canon(doc))


def test_cache_hit_imports_nothing_heavy(tmp_path):
    """A cache hit must not import pyseccomp (nor json, re, typing, ...): run it in a
    bare interpreter (-S: no site, whose .pth files import re and more)."""
    d = str(tmp_path / "cache")
    prepare(PODMAN, d)
    code = f"""
import sys, time
sys.path.insert(0, {str(REPO)!r})
from agentsh_runtime.jsonio import loads
prof = loads(open({str(REPO / 'tests/unit/data/podman-config.json')!r}).read())["linux"]["seccomp"]
from agentsh_runtime.seccomp import prepare
t = time.perf_counter()
p = prepare(prof, {d!r})
dt = time.perf_counter() - t
assert p.cache_hit, p
heavy = sorted(m for m in ("pyseccomp", "json", "re", "typing", "dataclasses", "enum",
                           "socket", "logging", "hashlib", "agentsh_runtime.seccomp.compile")
               if m in sys.modules)
print(heavy, int(dt * 1e6))
"""
    out = subprocess.run([sys.executable, "-S", "-c", code], check=True, capture_output=True,
                         text=True).stdout.split()
    assert out[0] == "[]", out


# --- linux/seccomp.py and agent.py pieces ------------------------------------------------

def test_ioctl_numbers_and_sizes():
    # values from <linux/seccomp.h> on x86_64
    assert lsc.SECCOMP_IOCTL_NOTIF_RECV == 0xC0502100
    assert lsc.SECCOMP_IOCTL_NOTIF_SEND == 0xC0182101
    assert lsc.SECCOMP_IOCTL_NOTIF_ID_VALID == 0x40082102
    assert lsc.SECCOMP_IOCTL_NOTIF_ADDFD == 0x40182103
    assert lsc.notif_sizes() == (80, 24, 64)
    assert lsc.FILTER_FLAGS["SECCOMP_FILTER_FLAG_NEW_LISTENER"] == 8
    assert lsc.action_available(lsc.SECCOMP_RET_USER_NOTIF)
    assert lsc.action_available(lsc.SECCOMP_RET_KILL_PROCESS)
    assert lsc.flag_supported(lsc.SECCOMP_FILTER_FLAG_SPEC_ALLOW)
    assert not lsc.flag_supported(1 << 20)


def test_load_filter_rejects_garbage():
    with pytest.raises(ValueError):
        lsc.load_filter(b"\0" * 7)
    with pytest.raises(ValueError):
        lsc.load_filter(b"")


def test_process_state_message():
    state = {"ociVersion": "1.2.0", "id": "c1", "status": "creating", "pid": 42,
             "bundle": "/b", "annotations": {"a": "b"}}
    msg = json.loads(agent.process_state(state, 42, "meta"))
    assert msg == {"ociVersion": "1.2.0", "fds": ["seccompFd"], "pid": 42,
                   "metadata": "meta", "state": state}
    assert "metadata" not in json.loads(agent.process_state(state, 42, None))


def test_flag_the_kernel_lacks():
    def no_log(bit):
        return bit != lsc.SECCOMP_FILTER_FLAG_LOG

    with pytest.raises(ConfigError) as exc:
        comp.translate({"defaultAction": "SCMP_ACT_ALLOW",
                        "flags": ["SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_LOG"]},
                       flag_supported=no_log)
    assert exc.value.field == "linux.seccomp.flags[1]"
    # absent flags: SPEC_ALLOW only where the kernel has it
    t = comp.translate({"defaultAction": "SCMP_ACT_ALLOW"}, flag_supported=lambda bit: False)
    assert t.flags == 0


def test_not_an_object():
    with pytest.raises(ConfigError) as exc:
        prepare(["SCMP_ACT_ALLOW"], None)  # type: ignore[arg-type]
    assert exc.value.field == "linux.seccomp"
    with pytest.raises(ConfigError) as exc:
        prepare({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": {"index": 0}}]}, None)
    assert exc.value.field == "linux.seccomp.syscalls[0].args"
