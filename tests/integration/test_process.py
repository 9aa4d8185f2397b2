"""process: args, env, cwd, user, capabilities, rlimits, noNewPrivileges, oomScoreAdj,
terminal and console socket, --preserve-fds and LISTEN_FDS."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.support.bundle import (
    Bundle,
    Runtime,
    assert_error,
    cap_mask,
    processes_in,
)


def run_sh(runtime: Runtime, bundle: Bundle, cid: str, script: str, *opts: str,
           **kw: object) -> subprocess.CompletedProcess[str]:
    bundle.update(args=["sh", "-c", script])
    res = runtime.run(bundle, cid, *opts, **kw)  # type: ignore[arg-type]
    assert res.returncode == 0, f"exit {res.returncode}: {res.stderr}"
    return res


def status_fields(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def assert_failed_cleanly(runtime: Runtime, bundle: Bundle, res) -> None:
    assert res.returncode != 0
    assert res.stderr.strip()
    assert runtime.container_dirs() == []
    assert processes_in(bundle.path) == []
    assert bundle.foreign_mounts() == []


# -- args, env, cwd ---------------------------------------------------------------------


def test_args_passed_verbatim(runtime, bundle, cid):
    bundle.update(args=["/bin/sh", "-c", 'for a in "$@"; do echo "[$a]"; done', "argv0",
                        "two words", "", "*", "$HOME"])
    res = runtime.run(bundle, cid)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["[two words]", "[]", "[*]", "[$HOME]"]


def test_args_resolved_via_path(runtime, bundle, cid):
    bundle.update(args=["echo", "found-on-path"], env=["PATH=/usr/bin:/bin"])
    res = runtime.run(bundle, cid)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "found-on-path\n"


def test_env_exact(runtime, bundle, cid):
    bundle.update(args=["env"], env=["PATH=/bin", "FOO=bar baz", "EMPTY=", "HOME=/custom",
                                     "EQ=a=b"])
    res = runtime.run(bundle, cid)
    assert res.returncode == 0, res.stderr
    assert sorted(res.stdout.splitlines()) == sorted(
        ["PATH=/bin", "FOO=bar baz", "EMPTY=", "HOME=/custom", "EQ=a=b"])


@pytest.mark.parametrize("uid, home", [(0, "/root"), (1000, "/home/tester")])
def test_home_from_passwd_when_unset(runtime, bundle, cid, uid, home):
    bundle.update(args=["sh", "-c", "echo $HOME"], env=["PATH=/bin"], user=uid)
    res = runtime.run(bundle, cid)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == home


def test_cwd(runtime, bundle, cid):
    (bundle.rootfs / "work/dir").mkdir(parents=True)
    bundle.update(cwd="/work/dir")
    res = run_sh(runtime, bundle, cid, "pwd")
    assert res.stdout == "/work/dir\n"


def test_cwd_created_when_missing(runtime, bundle, cid):
    bundle.update(cwd="/not/yet/there")
    res = run_sh(runtime, bundle, cid, "pwd")
    assert res.stdout == "/not/yet/there\n"


# -- user ---------------------------------------------------------------------------------


def test_user_uid_gid_additional_gids_umask(runtime, bundle, cid):
    bundle.update(user={"uid": 1000, "gid": 1000, "additionalGids": [10, 20], "umask": 0o027})
    res = run_sh(runtime, bundle, cid,
                 "id -u; id -g; id -G; umask; touch /tmp/f; stat -c '%a %u %g' /tmp/f; "
                 "grep -E '^(Uid|Gid|Groups):' /proc/self/status")
    lines = res.stdout.splitlines()
    assert lines[0] == "1000"
    assert lines[1] == "1000"
    assert set(lines[2].split()) >= {"10", "20"}
    assert lines[3] == "0027"
    assert lines[4] == "640 1000 1000"
    st = status_fields("\n".join(lines[5:]))
    assert st["Uid"].split() == ["1000"] * 4
    assert st["Gid"].split() == ["1000"] * 4
    assert set(st["Groups"].split()) >= {"10", "20"}


def test_user_without_additional_gids_has_no_extra_groups(runtime, bundle, cid):
    bundle.update(user={"uid": 1000, "gid": 1000})
    res = run_sh(runtime, bundle, cid, "grep '^Groups:' /proc/self/status")
    groups = res.stdout.split(":", 1)[1].split()
    assert set(groups) <= {"1000"}, "host groups must not leak into the container"


def test_uid_not_in_passwd(runtime, bundle, cid):
    bundle.update(user={"uid": 4242, "gid": 4343})
    res = run_sh(runtime, bundle, cid, "id -u; id -g")
    assert res.stdout.split() == ["4242", "4343"]


# -- capabilities ---------------------------------------------------------------------------

CAP_LINES = {"CapInh": "inheritable", "CapPrm": "permitted", "CapEff": "effective",
             "CapBnd": "bounding", "CapAmb": "ambient"}


def caps_of(runtime, bundle, cid) -> dict[str, int]:
    res = run_sh(runtime, bundle, cid, "grep ^Cap /proc/self/status")
    return {k: int(v, 16) for k, v in status_fields(res.stdout).items()}


def test_capabilities_all_sets_as_root(runtime, bundle, cid):
    caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_SETUID"]
    bundle.update(capabilities=caps)  # all five sets
    got = caps_of(runtime, bundle, cid)
    want = cap_mask(caps)
    for line in CAP_LINES:
        assert got[line] == want, f"{line}: {got[line]:#x} != {want:#x}"


def test_capabilities_distinct_sets_as_non_root(runtime, bundle, cid):
    """For a non-root user execve leaves permitted = effective = ambient; bounding and
    inheritable stay as set."""
    sets = {
        "bounding": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW", "CAP_SETUID"],
        "permitted": ["CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN"],
        "effective": ["CAP_KILL", "CAP_NET_RAW"],
        "inheritable": ["CAP_KILL", "CAP_NET_RAW"],
        "ambient": ["CAP_KILL"],
    }
    bundle.update(capabilities=sets, user={"uid": 1000, "gid": 1000})
    got = caps_of(runtime, bundle, cid)
    assert got["CapBnd"] == cap_mask(sets["bounding"])
    assert got["CapInh"] == cap_mask(sets["inheritable"])
    assert got["CapAmb"] == cap_mask(sets["ambient"])
    assert got["CapPrm"] == cap_mask(sets["ambient"])
    assert got["CapEff"] == cap_mask(sets["ambient"])


def test_capabilities_runc_spec_default(runtime, bundle, cid):
    got = caps_of(runtime, bundle, cid)
    want = cap_mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
    assert got["CapBnd"] == want
    assert got["CapEff"] == want
    assert got["CapPrm"] == want
    assert got["CapInh"] == 0


def test_capabilities_empty(runtime, bundle, cid):
    bundle.update(capabilities=[])
    got = caps_of(runtime, bundle, cid)
    assert all(v == 0 for v in got.values()), got


def test_capability_is_effective(runtime, bundle, cid):
    """Without CAP_CHOWN root cannot chown; with it, it can."""
    bundle.update(capabilities=["CAP_KILL"])
    bundle.update(args=["sh", "-c", "touch /tmp/f && chown 1000 /tmp/f"])
    assert runtime.run(bundle, cid).returncode != 0
    bundle.update(capabilities=["CAP_CHOWN"])
    assert runtime.run(bundle, cid + "b").returncode == 0
    assert (bundle.rootfs / "tmp/f").stat().st_uid == 1000


def test_unknown_capability_is_a_warning(runtime, bundle, cid):
    """runc ignores a capability it does not know, with a warning naming it."""
    bundle.update(args=["sh", "-c", "grep ^CapBnd /proc/self/status"],
                  capabilities=["CAP_NOT_A_THING", "CAP_KILL"])
    res = runtime.run(bundle, cid)
    assert res.returncode == 0, res.stderr
    assert "CAP_NOT_A_THING" in res.stderr
    assert int(res.stdout.split()[1], 16) == cap_mask(["CAP_KILL"])


# -- rlimits, noNewPrivileges, oomScoreAdj --------------------------------------------------


def test_rlimits(runtime, bundle, cid):
    bundle.update(rlimits=[
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 2048},
        {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
    ])
    res = run_sh(runtime, bundle, cid, "ulimit -n; ulimit -Hn; cat /proc/self/limits")
    lines = res.stdout.splitlines()
    assert lines[:2] == ["512", "2048"]
    limits = {ln[:26].strip(): ln[26:].split()[:2] for ln in lines[3:]}
    assert limits["Max open files"] == ["512", "2048"]
    assert limits["Max processes"] == ["300", "400"]
    assert limits["Max core file size"] == ["0", "0"]


def test_rlimit_above_host_hard_limit_fails(runtime, bundle, cid):
    host_hard = int(subprocess.run(["sh", "-c", "ulimit -Hn"], capture_output=True,
                                   text=True).stdout)
    want = 1048576
    if want <= host_hard:
        want = host_hard * 2
    bundle.update(args=["true"],
                  rlimits=[{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": want}])
    res = runtime.create(bundle, cid)
    assert_error(res, "rlimit")
    assert_failed_cleanly(runtime, bundle, res)


@pytest.mark.parametrize("nnp, want", [(True, "1"), (False, "0")])
def test_no_new_privileges(runtime, bundle, cid, nnp, want):
    bundle.update(no_new_privileges=nnp)
    res = run_sh(runtime, bundle, cid, "grep ^NoNewPrivs: /proc/self/status")
    assert res.stdout.split() == ["NoNewPrivs:", want]


def test_oom_score_adj_positive(runtime, bundle, cid):
    bundle.update(oom_score_adj=500)
    res = run_sh(runtime, bundle, cid, "cat /proc/self/oom_score_adj")
    assert res.stdout.strip() == "500"


def test_oom_score_adj_negative_fails_without_cap_sys_resource(runtime, bundle, cid):
    with open("/proc/self/status") as f:
        eff = int(status_fields(f.read())["CapEff"], 16)
    if eff & cap_mask(["CAP_SYS_RESOURCE"]):
        pytest.fail("this test expects a host without CAP_SYS_RESOURCE (see MACHINE.md)")
    bundle.update(args=["true"], oom_score_adj=-500)
    res = runtime.create(bundle, cid)
    assert res.returncode != 0
    assert re.search(r"oom.?score.?adj", res.stderr, re.I), res.stderr
    assert_failed_cleanly(runtime, bundle, res)


# -- terminal --------------------------------------------------------------------------------


def test_terminal_with_console_socket(runtime, bundle, cid, console_socket):
    bundle.update(terminal=True, console_size=(33, 101),
                  args=["sh", "-c", "tty; stty size; read line; echo got:$line"])
    res = runtime.create(bundle, cid, console_socket=console_socket.path)
    assert res.returncode == 0, res.stderr
    master = console_socket.wait()
    assert len(console_socket.fds) == 1, "exactly one fd in the SCM_RIGHTS message"
    assert console_socket.payload, "the fd message carries the pty name as data"
    assert os.isatty(master)
    assert runtime.start(cid).returncode == 0
    out = console_socket.read_until(b"101")
    console_socket.write(b"hello\n")
    out += console_socket.read_until(b"got:hello")
    text = out.decode().replace("\r", "")
    lines = [ln for ln in text.splitlines() if ln and ln != "hello"]
    assert lines[0] == "/dev/pts/0"
    assert lines[1] == "33 101"
    assert "got:hello" in lines
    runtime.wait_status(cid, "stopped")


def test_terminal_is_controlling_tty_and_console(runtime, bundle, cid, console_socket):
    bundle.update(terminal=True,
                  args=["sh", "-c", "ls -l /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2;"
                                    " stat -c '%t %T' /dev/console; echo end"])
    assert runtime.create(bundle, cid, console_socket=console_socket.path).returncode == 0
    console_socket.wait()
    assert runtime.start(cid).returncode == 0
    text = console_socket.read_until(b"end").decode().replace("\r", "")
    fds = [ln.split("->")[1].strip() for ln in text.splitlines() if "->" in ln]
    assert fds == ["/dev/pts/0"] * 3, text
    major_minor = [ln for ln in text.splitlines() if re.fullmatch(r"[0-9a-f]+ [0-9a-f]+", ln)]
    assert major_minor and int(major_minor[0].split()[0], 16) == 136, text  # a pts device


def test_terminal_without_console_socket_fails(runtime, bundle, cid):
    bundle.update(terminal=True, args=["true"])
    res = runtime.create(bundle, cid)
    assert_error(res, "console socket")
    assert_failed_cleanly(runtime, bundle, res)


def test_console_socket_without_terminal_fails(runtime, bundle, cid, console_socket):
    bundle.update(terminal=False, args=["true"])
    res = runtime.create(bundle, cid, console_socket=console_socket.path)
    assert_error(res, "console socket")
    assert_failed_cleanly(runtime, bundle, res)


# -- extra fds -------------------------------------------------------------------------------


def _pipe_with(data: bytes) -> int:
    r, w = os.pipe()
    os.write(w, data)
    os.close(w)
    return r


def test_preserve_fds(runtime, bundle, cid):
    r = _pipe_with(b"through-fd-3\n")
    try:
        bundle.update(args=["sh", "-c", "cat <&3"])
        res = runtime.run(bundle, cid, "--preserve-fds", "1", child_fds={3: r})
    finally:
        os.close(r)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "through-fd-3\n"


def test_extra_fds_closed_without_preserve_fds(runtime, bundle, cid):
    r = _pipe_with(b"must-not-arrive\n")
    try:
        bundle.update(args=["sh", "-c", "cat <&3"])
        res = runtime.run(bundle, cid, child_fds={3: r})
    finally:
        os.close(r)
    assert res.returncode != 0
    assert "must-not-arrive" not in res.stdout


def test_listen_fds(runtime, bundle, cid):
    """systemd socket activation: LISTEN_FDS fds go to the container, which sees
    LISTEN_FDS=n and LISTEN_PID=1.  (runc honours it only when LISTEN_PID is its own
    pid, as sd_listen_fds does: exec the runtime from a shell that sets LISTEN_PID=$$.)"""
    r = _pipe_with(b"activated\n")
    bundle.update(args=["sh", "-c", 'echo "fds=$LISTEN_FDS pid=$LISTEN_PID"; cat <&3'])
    prefix = ["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"', "sh"]
    try:
        res = runtime.run(bundle, cid, child_fds={3: r}, argv_prefix=prefix)
    finally:
        os.close(r)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["fds=1 pid=1", "activated"]
