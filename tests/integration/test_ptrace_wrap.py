"""ptrace mode (`agentsh-runtime wrap`): the policy enforced by a real tracer on real
programs, as root and as the Fargate situation: a process whose only capability is
CAP_SYS_PTRACE (uid 0 with that bounding set, and uid 65534 with it ambient), with
no_new_privs. Each test also tries the ways around its check."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.bundle import REPO_ROOT, pid_alive
from tests.support.policy import compiled
from tests.support.ptprobe import ptprobe

WRAP = str(REPO_ROOT / ".venv" / "bin" / "agentsh-runtime")
NOBODY = 65534
AS = {
    "root": [],
    "ptrace-only": ["setpriv", "--bounding-set=-all,+sys_ptrace", "--inh-caps=-all",
                    "--no-new-privs", "--"],
    "nobody": ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
               "--inh-caps=-all,+sys_ptrace", "--ambient-caps=-all,+sys_ptrace",
               "--bounding-set=-all,+sys_ptrace", "--no-new-privs", "--"],
}
SYSTEM_RO = {"name": "system-ro", "paths": ["/", "/usr/**", "/etc/**", "/bin/**", "/lib/**",
                                              "/proc/**", "/sys/**", "/dev/**", "/var/**"],
             "operations": ["write", "create", "delete", "rmdir", "mkdir", "rename", "link",
                            "symlink", "chmod", "chown", "mknod"], "decision": "deny"}
DEV = {"name": "dev", "paths": ["/dev/null", "/dev/tty", "/dev/pts/**", "/dev/urandom"],
       "operations": ["*"], "decision": "allow"}


NAME_OPS = ["delete", "rmdir", "rename", "create", "mkdir", "symlink", "link"]


def fixed_names(lab_dir: Path) -> dict:
    """No name may change in lab_dir/fx (nor the lab dir's or /tmp's own): the tracer
    treats paths there as stable (remembered resolution, no exit check, maybe no exec
    stop)."""
    return {"name": "fixed-names", "paths": ["/tmp", str(lab_dir), f"{lab_dir}/fx",
                                             f"{lab_dir}/fx/**"],
            "operations": NAME_OPS, "decision": "deny"}


def lab_allowed(lab_dir: Path) -> dict:
    return {"name": "lab", "paths": [f"{lab_dir}/**"], "operations": ["*"],
            "decision": "allow"}


class Lab:
    """A world-readable work dir (the nobody runs need it), a policy file, events."""

    def __init__(self, who: str) -> None:
        self.who = who
        self.dir = Path(tempfile.mkdtemp(prefix="agentsh-pt-"))
        os.chmod(self.dir, 0o755)
        self.events = self.dir / "events.jsonl"
        self.policy_file = self.dir / "policy.yaml"
        self.procs: list[subprocess.Popen] = []

    def path(self, rel: str) -> Path:
        return self.dir / rel

    def own(self) -> None:
        """Everything under dir belongs to the user the tracer runs as."""
        if self.who == "nobody":
            for root, dirs, files in os.walk(self.dir):
                for n in [*dirs, *files]:
                    os.lchown(os.path.join(root, n), NOBODY, NOBODY)
            os.chown(self.dir, NOBODY, NOBODY)

    def policy(self, **sections: object) -> Path:
        doc = {"version": 1, "name": "pt-test"}
        doc.update(sections)
        self.policy_file.write_text(yaml.safe_dump(doc, sort_keys=False))
        return self.policy_file

    def argv(self, cmd: list[str], *extra: str) -> list[str]:
        return [*AS[self.who], WRAP, "wrap", "--policy", str(self.policy_file), "--events",
                str(self.events), *extra, "--", *cmd]

    def run(self, cmd: list[str], *extra: str, timeout: float = 60,
            **kw: object) -> subprocess.CompletedProcess:
        self.own()
        kw.setdefault("cwd", str(self.dir))
        return subprocess.run(self.argv(cmd, *extra), capture_output=True, text=True,
                              timeout=timeout, **kw)  # type: ignore[call-overload]

    def popen(self, cmd: list[str], *extra: str, **kw: object) -> subprocess.Popen:
        self.own()
        kw.setdefault("cwd", str(self.dir))
        p = subprocess.Popen(self.argv(cmd, *extra), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, **kw)  # type: ignore[call-overload]
        self.procs.append(p)
        return p

    def read_events(self) -> list[dict]:
        if not self.events.exists():
            return []
        return [json.loads(line) for line in self.events.read_text().splitlines() if line]

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        reap_orphans()
        shutil.rmtree(self.dir, ignore_errors=True)


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, uid) of a process, None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return rest[0], int(rest[1]), os.stat(f"/proc/{pid}").st_uid
    except (OSError, ValueError, IndexError):
        return None


def reap_orphans() -> None:
    """Tracees the tracer's exit killed are re-parented to us when the suite made this
    process a subreaper (tests/support/reaper.py): reap those zombies (only zombies,
    only children nobody else waits for: subprocess reaped its own)."""
    me = os.getpid()
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None and st[0] == "Z" and st[1] == me:
                try:
                    os.waitpid(int(name), os.WNOHANG)
                except ChildProcessError:
                    pass


def live_processes_of(uid: int) -> list[str]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None and st[2] == uid and st[0] not in ("Z", "X"):
                out.append(f"{name} {st[0]}")
    return out


@pytest.fixture(params=list(AS))
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    if shutil.which("setpriv") is None:
        pytest.fail("setpriv is missing (apt-get install util-linux)")
    lab = Lab(request.param)
    yield lab
    lab.close()


@pytest.fixture
def root_lab() -> Iterator[Lab]:
    lab = Lab("root")
    yield lab
    lab.close()


def _probe(lab: Lab) -> str:
    dest = lab.path("ptprobe")
    shutil.copy2(ptprobe(), dest)
    return str(dest)


def _prog(lab: Lab, name: str) -> str:
    """A test program copied where the tracer's user can run it."""
    dest = lab.path(name)
    shutil.copy2(compiled(name), dest)
    return str(dest)


# -- commands ---------------------------------------------------------------------------

def test_exec_allow_deny_and_events(lab: Lab) -> None:
    lab.policy(command_rules=[
        {"name": "no-rm", "commands": ["rm"], "decision": "deny", "message": "no rm"},
        {"name": "rest", "commands": ["*"], "decision": "allow"}])
    victim = lab.path("victim")
    victim.write_text("x")
    r = lab.run(["/bin/sh", "-c", f"echo before; rm -f {victim}; echo rc=$?; "
                                  f"/bin/rm {victim}; echo rc2=$?"])
    assert r.returncode == 0, r.stderr
    assert "before" in r.stdout and "rc=126" in r.stdout and "rc2=126" in r.stdout, r.stdout
    assert victim.exists(), "rm ran under a deny rule"
    ev = lab.read_events()
    denied = [e for e in ev if e["type"] == "execve" and e["effective_action"] == "blocked"]
    assert len(denied) >= 2 and {e["policy"]["rule"] for e in denied} == {"no-rm"}, denied
    assert denied[0]["argv"][0] == "rm" and denied[0]["fields"]["mode"] == "ptrace"
    exits = [e for e in ev if e["type"] == "process_exit"]
    root_pid = [e for e in ev if e["type"] == "wrap_started"][0]["pid"]
    root_exit = [e for e in exits if e["pid"] == root_pid]
    assert root_exit and root_exit[0]["fields"]["exit_code"] == 0, exits
    for k in ("cpu_user_ms", "cpu_system_ms", "memory_peak_kb", "duration_ms"):
        assert k in root_exit[0]["fields"], root_exit
    assert root_exit[0]["fields"]["memory_peak_kb"] > 0


def test_first_command_is_checked_and_exit_status_passes_through(lab: Lab) -> None:
    lab.policy(command_rules=[{"name": "only-sh", "commands": ["sh", "dash"],
                               "decision": "allow"}])
    r = lab.run(["/bin/true"])
    assert r.returncode == 126, (r.returncode, r.stderr)  # the command itself is denied
    r = lab.run(["/bin/sh", "-c", "exit 7"])
    assert r.returncode == 7, r.stderr
    r = lab.run(["/bin/sh", "-c", "kill -TERM $$"])
    assert r.returncode == 128 + signal.SIGTERM


def test_exec_redirect_runs_the_other_program(lab: Lab) -> None:
    root_lab = lab
    root_lab.policy(command_rules=[
        {"name": "curl-to-echo", "commands": ["wget"], "decision": "redirect",
         "redirect_to": {"command": "/bin/echo", "args": ["redirected"]}},
        {"name": "rest", "commands": ["*"], "decision": "allow"}])
    r = root_lab.run(["/bin/sh", "-c", "wget http://example.invalid/; echo rc=$?"])
    assert "redirected" in r.stdout and "rc=0" in r.stdout, (r.stdout, r.stderr)
    ev = [e for e in root_lab.read_events() if e["type"] == "command_redirect"]
    assert ev and ev[0]["policy"]["rule"] == "curl-to-echo", ev


def _deny_program(lab: Lab, denied: Path) -> None:
    lab.policy(command_rules=[
        {"name": "no-b", "commands": [str(denied)], "decision": "deny"},
        {"name": "rest", "commands": ["*"], "decision": "allow"}],
        file_rules=[fixed_names(lab.dir), lab_allowed(lab.dir), DEV, SYSTEM_RO])


@pytest.mark.parametrize("tree", ["workspace", "fixed"])
def test_exec_race_a_thread_flipping_the_path_never_runs_the_denied_program(
        lab: Lab, tree: str) -> None:
    """The path is read at the syscall stop and the kernel reads it again: a second
    thread flips it in between. The exec stop compares /proc/PID/exe with the file
    that was checked and kills a mismatch before its first instruction. In a tree
    whose names nobody may change ("fixed") an exec may run without its exec stop,
    but only when nothing else can write the caller's memory: not here."""
    marker = compiled("marker")
    race = _prog(lab, "race")
    lab.path("fx").mkdir()
    a, b = (lab.path("a"), lab.path("b")) if tree == "workspace" else \
        (lab.path("fx/a"), lab.path("fx/b"))
    shutil.copy2(marker, b)  # the denied program: creates PWNED when it runs
    shutil.copy2("/bin/true", a)
    pwned = lab.path("PWNED")
    _deny_program(lab, b)
    for who in ("main", "thread"):
        r = lab.run([race, "1", str(a), str(b), str(pwned), who], timeout=60)
        assert "attempts=" in r.stdout, (r.stdout, r.stderr)
        assert not pwned.exists(), f"the denied program ran ({who}): {r.stdout}"


# -- files ------------------------------------------------------------------------------

def _file_lab(lab: Lab) -> None:
    for d in ("deny/d", "ok"):
        lab.path(d).mkdir(parents=True, exist_ok=True)
    lab.path("deny/f").write_text("secret\n")
    lab.path("ok/y").write_text("fine\n")
    os.symlink(str(lab.path("deny/f")), lab.path("ok/link-to-f"))
    os.symlink(str(lab.path("deny")), lab.path("ok/link-to-deny"))
    os.symlink(str(lab.path("deny/created-through-link")), lab.path("ok/dangling"))
    lab.policy(file_rules=[
        {"name": "no-deny", "paths": [str(lab.path("deny")), str(lab.path("deny")) + "/**"],
         "operations": ["*"], "decision": "deny"},
        {"name": "ok", "paths": [str(lab.dir), str(lab.dir) + "/**"], "operations": ["*"],
         "decision": "allow"}, DEV, SYSTEM_RO])


def test_file_deny_through_every_syscall_and_other_names(lab: Lab) -> None:
    _file_lab(lab)
    probe = _probe(lab)
    before = {p: (p.stat().st_mode, p.read_text() if p.is_file() else None)
              for p in (lab.path("deny/f"), lab.path("deny/d"))}
    r = lab.run([probe, "files", str(lab.dir)])
    got = dict(line.split() for line in r.stdout.splitlines() if line.count(" ") == 1)
    allowed = {"allowed-open", "allowed-write", "fchmod-allowed"}
    expected = {"open", "open-write", "openat", "openat-dirfd", "openat2", "creat",
                "truncate", "unlink", "unlinkat", "unlinkat-dir", "rmdir", "mkdir",
                "mkdirat", "rename-from", "rename-to", "renameat", "renameat2", "link-from",
                "link-to", "linkat", "symlink", "symlinkat", "chmod", "fchmodat", "fchmodat2",
                "chown", "lchown", "fchownat", "mknod", "mknodat", "via-symlink",
                "via-symlink-write", "via-dir-symlink", "via-dotdot", "via-dangling-create",
                "via-proc-fd", "via-relative", "via-proc-cwd"}
    assert set(got) >= expected | allowed, (r.stdout, r.stderr)
    wrong = {k: v for k, v in got.items() if k in expected and v != "13"}
    assert not wrong, f"not refused with EACCES: {wrong}\n{r.stderr}"
    assert all(got[k] == "0" for k in allowed), got
    after = {p: (p.stat().st_mode, p.read_text() if p.is_file() else None)
             for p in (lab.path("deny/f"), lab.path("deny/d"))}
    assert after == before
    assert sorted(os.listdir(lab.path("deny"))) == ["d", "f"], "something was created"
    blocked = [e for e in lab.read_events() if e.get("effective_action") == "blocked"
               and e["type"].startswith(("file_", "dir_"))]
    assert len(blocked) >= len(expected) and all(e["policy"]["rule"] == "no-deny"
                                                 for e in blocked), blocked[:3]


def test_multithreaded_tracee_threads_are_checked(lab: Lab) -> None:
    _file_lab(lab)
    probe = _probe(lab)
    r = lab.run([probe, "thread", str(lab.path("deny/f"))])
    assert "thread 13" in r.stdout, (r.stdout, r.stderr)
    r = lab.run([probe, "thread", str(lab.path("ok/y"))])
    assert "thread 0" in r.stdout, (r.stdout, r.stderr)


def test_open_race_a_thread_flipping_the_name_never_opens_the_denied_file(
        lab: Lab) -> None:
    """flip: one thread rewrites the name between an allowed and a denied file while
    another opens it; every open whose check saw the allowed name must open that one."""
    _file_lab(lab)
    lab.path("deny/f").write_text("AGENT_MARK secret\n")
    r = lab.run([_prog(lab, "flip"), str(lab.path("ok/y")), str(lab.path("deny/f")),
                 "3000"], timeout=120)
    assert "hits=" in r.stdout, (r.stdout, r.stderr)
    hits = int(r.stdout.split("hits=")[1].split()[0])
    assert hits == 0, f"the denied file was opened: {r.stdout}"


def _never_read_the_denied_file(lab: Lab, r: subprocess.CompletedProcess) -> None:
    """No "HIT" from a racing probe; a probe killed for a race, only with an event
    saying why (the open's exit check)."""
    assert "HIT" not in r.stdout, "the denied file was read"
    assert r.returncode in (0, 128 + signal.SIGKILL), (r.returncode, r.stdout, r.stderr)
    if r.returncode:
        killed = [e for e in lab.read_events()
                  if e.get("policy", {}).get("rule") == "opened-other-file"]
        assert killed, "killed without saying why"


def test_symlink_swap_by_another_process_never_yields_the_denied_file(
        lab: Lab) -> None:
    """Another process (not a thread: nothing to freeze) swaps a directory of the checked
    path for a symlink to the denied tree between the check and the kernel's walk. The
    file an open really got is checked at the syscall's exit: a denied one kills the
    process before it returns to user space."""
    _file_lab(lab)
    lab.path("deny/f").write_text("AGENT_MARK secret\n")
    lab.path("ok/real").mkdir()
    lab.path("ok/real/f").write_text("fine\n")
    probe = _probe(lab)
    r = lab.run([probe, "swaprace", str(lab.dir), "4000"], timeout=180)
    _never_read_the_denied_file(lab, r)


def test_symlink_swap_by_another_process_never_unlinks_the_denied_file(
        lab: Lab) -> None:
    """The same swap against unlink, which no after-check can undo: calls that change
    names run one at a time, each checked while no other is in the kernel, so the
    swap cannot land between an unlink's check and its walk."""
    _file_lab(lab)
    lab.path("ok/real").mkdir()
    lab.path("ok/real/f").write_text("fine\n")
    probe = _probe(lab)
    r = lab.run([probe, "swapunlink", str(lab.dir), "3000"], timeout=180)
    assert "HIT" not in r.stdout and lab.path("deny/f").exists(), \
        "the denied file was unlinked"
    assert r.returncode in (0, 128 + signal.SIGKILL), (r.returncode, r.stdout, r.stderr)
    if r.returncode == 0:
        assert "unlinked=" in r.stdout, (r.stdout, r.stderr)


def test_fixed_symlink_through_a_writable_dir_is_resolved_again(lab: Lab) -> None:
    """A symlink in a tree whose names nobody may change, pointing through a directory
    the tracee may change: its resolution is not remembered (StablePaths), so after the
    tracee swaps that directory for a symlink into the denied tree, the same path is
    denied (and its open checked again at the exit) rather than read."""
    for d in ("fx", "w/sub", "secret/a/b", "secret/fx"):
        lab.path(d).mkdir(parents=True)
    lab.path("fx/x").write_text("public\n")
    lab.path("secret/fx/x").write_text("AGENT_MARK secret\n")
    os.symlink(f"{lab.dir}/w/sub/../../fx/x", lab.path("fx/l"))
    lab.policy(file_rules=[
        {"name": "no-secret", "paths": [f"{lab.dir}/secret", f"{lab.dir}/secret/**"],
         "operations": ["*"], "decision": "deny"},
        fixed_names(lab.dir), lab_allowed(lab.dir), DEV, SYSTEM_RO],
        audit={"log_allowed": False})  # allowed opens with nothing to log are remembered
    script = (f"cat fx/l {lab.dir}/fx/l; rmdir w/sub; ln -s {lab.dir}/secret/a/b w/sub; "
              f"cat {lab.dir}/fx/l; echo rc=$?")
    r = lab.run(["/bin/sh", "-c", script])
    assert r.stdout.count("public") == 2, (r.stdout, r.stderr)
    assert "AGENT_MARK" not in r.stdout, "the denied file was read"
    assert "rc=1" in r.stdout, (r.stdout, r.stderr)
    assert lab.path("w/sub").is_symlink(), "the swap itself was refused"
    denied = [e for e in lab.read_events() if e.get("effective_action") == "blocked"]
    assert denied and denied[-1]["policy"]["rule"] == "no-secret", denied


def _fixed_tree_lab(lab: Lab, **extra: object) -> tuple[Path, Path]:
    """fx/a (allowed) and fx/b (denied) in a tree whose names nobody may change: paths
    the tracer treats as stable (no re-resolution, no check at an open's exit)."""
    lab.path("fx").mkdir()
    lab.policy(file_rules=[
        {"name": "no-b", "paths": [f"{lab.dir}/fx/b"], "operations": ["*"],
         "decision": "deny"},
        fixed_names(lab.dir), lab_allowed(lab.dir), DEV, SYSTEM_RO],
        audit={"log_allowed": False}, **extra)
    return lab.path("fx/a"), lab.path("fx/b")


@pytest.mark.parametrize("memory", ["open", "open-file"])
def test_shared_memory_flip_by_another_process_never_opens_the_denied_file(
        lab: Lab, memory: str) -> None:
    """The path string sits in a MAP_SHARED page another process keeps rewriting, or
    in a private mapping of a file another process keeps writing (nothing to freeze):
    at a stable path too, an open whose string is not in memory only the caller can
    change is checked again at its exit."""
    a, b = _fixed_tree_lab(lab)
    a.write_text("public\n")
    b.write_text("AGENT_MARK secret\n")
    r = lab.run([_prog(lab, "shmflip"), memory, "3", str(a), str(b)], timeout=120)
    _never_read_the_denied_file(lab, r)
    assert r.returncode or "attempts=" in r.stdout, (r.stdout, r.stderr)


def test_shared_memory_flip_by_another_process_never_unlinks_the_denied_file(
        lab: Lab) -> None:
    """No check after an unlink can undo it: the kernel gets a private copy of the
    name that was checked, whatever another process writes to the original."""
    for d in ("ok", "dk"):
        lab.path(d).mkdir()
    keep = lab.path("dk/x")
    keep.write_text("keep\n")
    lab.policy(file_rules=[
        {"name": "keep-dk", "paths": [f"{lab.dir}/dk/**"],
         "operations": ["delete", "rename", "write"], "decision": "deny"},
        lab_allowed(lab.dir), DEV, SYSTEM_RO])
    lab.own()
    r = lab.run([_prog(lab, "shmflip"), "unlink", "3", str(lab.path("ok/x")), str(keep)],
                timeout=120)
    assert "HIT" not in r.stdout and keep.exists(), "the denied file was unlinked"
    assert "attempts=" in r.stdout, (r.stdout, r.stderr)


def test_shared_memory_flip_by_another_process_never_runs_the_denied_program(
        lab: Lab) -> None:
    """The same for an exec: a path in shared memory keeps the exec stop, where
    /proc/PID/exe must be the program that was checked."""
    lab.path("fx").mkdir()
    a, b = lab.path("fx/a"), lab.path("fx/b")
    shutil.copy2("/bin/true", a)
    shutil.copy2(compiled("marker"), b)
    pwned = lab.path("PWNED")
    _deny_program(lab, b)
    r = lab.run([_prog(lab, "shmflip"), "exec", "3", str(a), str(b), str(pwned)],
                timeout=120)
    assert "attempts=" in r.stdout, (r.stdout, r.stderr)
    assert not pwned.exists(), f"the denied program ran: {r.stdout}"


def test_file_redirect_and_soft_delete(root_lab: Lab) -> None:
    lab = root_lab
    lab.path("ws").mkdir()
    lab.path("shadow").mkdir()
    lab.path("ws/doc").write_text("keep me\n")
    lab.path("shadow/config").write_text("from the redirect\n")
    lab.policy(file_rules=[
        {"name": "redir", "paths": [str(lab.path("ws/config"))], "operations": ["open", "read"],
         "decision": "redirect", "redirect_to": str(lab.path("shadow"))},
        {"name": "trash", "paths": [str(lab.path("ws")) + "/**"], "operations": ["delete"],
         "decision": "soft_delete"},
        {"name": "all", "paths": [str(lab.dir), str(lab.dir) + "/**"], "operations": ["*"],
         "decision": "allow"}, DEV, SYSTEM_RO], )
    r = lab.run(["/bin/sh", "-c", f"cat {lab.path('ws/config')}; rm {lab.path('ws/doc')}; "
                                  "echo rm=$?"], "--session", "pt-soft")
    assert "from the redirect" in r.stdout, (r.stdout, r.stderr)
    assert "rm=0" in r.stdout and not lab.path("ws/doc").exists()
    trash = Path("/var/lib/agentsh-runtime/trash/pt-soft")
    try:
        kept = [p.read_text() for p in trash.iterdir()]
        assert kept == ["keep me\n"], kept
    finally:
        shutil.rmtree(trash, ignore_errors=True)
    types = {e["type"] for e in lab.read_events()}
    assert "file_soft_deleted" in types


# -- network ----------------------------------------------------------------------------

class TcpServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = socket.socket()
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._t = threading.Thread(target=self._serve, daemon=True)
        self._t.start()

    def _serve(self) -> None:
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            c.sendall(b"hello\n")
            c.close()

    def close(self) -> None:
        self.sock.close()


CONNECT = ("import socket,sys\n"
           "s=socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)\n"
           "try:\n"
           "    s.connect((sys.argv[1], int(sys.argv[2]))); print('got', s.recv(10))\n"
           "except OSError as e: print('errno', e.errno)\n")


def test_connect_deny_allow_and_redirect(lab: Lab) -> None:
    allowed, other, target = TcpServer(), TcpServer(), TcpServer()
    try:
        lab.policy(
            network_rules=[{"name": "allowed", "cidrs": ["127.0.0.1/32"],
                            "ports": [allowed.port, other.port], "decision": "allow"}],
            connect_redirects=[{"name": "move", "match": f"^127\\.0\\.0\\.1:{other.port}$",
                                "redirect_to": f"127.0.0.1:{target.port}"}])
        py = "/usr/bin/python3"  # one the nobody user can run
        r = lab.run([py, "-c", CONNECT, "127.0.0.1", str(allowed.port)])
        assert "got b'hello" in r.stdout, (r.stdout, r.stderr, lab.read_events()[-3:])
        r = lab.run([py, "-c", CONNECT, "127.0.0.2", str(allowed.port)])
        assert "errno 13" in r.stdout, (r.stdout, r.stderr)
        r = lab.run([py, "-c", CONNECT, "::1", str(allowed.port)])
        assert "errno 13" in r.stdout, (r.stdout, r.stderr)
        hits = target.hits
        r = lab.run([py, "-c", CONNECT, "127.0.0.1", str(other.port)])
        assert "got b'hello" in r.stdout, (r.stdout, r.stderr)
        assert target.hits == hits + 1 and other.hits == 0
        types = [e["type"] for e in lab.read_events()]
        assert "connect_redirect" in types and "net_connect" in types
    finally:
        for s in (allowed, other, target):
            s.close()


def _neighbour_server(first: TcpServer) -> TcpServer:
    """A server on a port that differs from first's in its low byte only."""
    for low in range(256):
        port = (first.port & 0xFF00) | low
        if port != first.port and port >= 1024:
            try:
                return TcpServer(port=port)
            except OSError:
                continue
    raise AssertionError(f"no free port next to {first.port}")


def test_shared_memory_flip_by_another_process_never_connects_past_the_policy(
        lab: Lab) -> None:
    """connect's address in a MAP_SHARED page another process flips between an
    allowed and a denied port: the kernel gets a private copy of the address that was
    checked, so the denied server never sees a connection."""
    allowed = TcpServer()
    denied = _neighbour_server(allowed)
    try:
        lab.policy(network_rules=[{"name": "allowed", "cidrs": ["127.0.0.1/32"],
                                   "ports": [allowed.port], "decision": "allow"}])
        r = lab.run([_prog(lab, "shmflip"), "connect", "3", str(allowed.port),
                     str(denied.port)], timeout=120)
        assert "attempts=" in r.stdout, (r.stdout, r.stderr)
        assert allowed.hits > 0, "nothing connected at all"
        assert denied.hits == 0, f"{denied.hits} connections reached the denied port"
    finally:
        allowed.close()
        denied.close()


class FakeDns:
    """A DNS server on 127.0.0.2:53 answering every A query with 127.0.0.1."""

    def __init__(self) -> None:
        from agentsh_runtime.monitor.net import dnswire

        self.dnswire = dnswire
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.2", 53))
        self.asked: list[str] = []
        self._t = threading.Thread(target=self._serve, daemon=True)
        self._t.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            q = self.dnswire.parse_question(data)
            self.asked.append(q.name)
            self.sock.sendto(self.dnswire.synthetic(data, q, "127.0.0.1"), peer)

    def close(self) -> None:
        self.sock.close()


DNS_THEN_CONNECT = (
    "import socket,sys,struct\n"
    "from agentsh_runtime.monitor.net import dnswire\n"
    "name, port = sys.argv[1], int(sys.argv[2])\n"
    "u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5)\n"
    "u.sendto(dnswire.query(name), ('127.0.0.2', 53))\n"
    "a=dnswire.parse_answer(u.recv(4096))\n"
    "print('rcode', a.rcode, 'answers', [ip for ip,_ in a.addresses])\n"
    "if a.addresses:\n"
    "    s=socket.socket()\n"
    "    try: s.connect((a.addresses[0][0], port)); print('connected')\n"
    "    except OSError as e: print('errno', e.errno)\n")


def test_dns_proxy_names_connections_and_redirects_answers(root_lab: Lab) -> None:
    lab = root_lab
    server = TcpServer()
    try:
        dns = FakeDns()
    except OSError as e:
        server.close()
        pytest.fail(f"cannot bind the fake DNS server on 127.0.0.2:53: {e}")
    try:
        lab.policy(network_rules=[
            {"name": "no-evil", "domains": ["evil.test"], "decision": "deny"},
            {"name": "allowed-name", "domains": ["allowed.test"], "ports": [server.port],
             "decision": "allow"},
            {"name": "dns", "domains": ["*.test", "allowed.test"], "ports": [53],
             "decision": "allow"}],
            dns_redirects=[{"name": "pin", "match": "^pinned\\.test$",
                            "resolve_to": "127.0.0.9"}])
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        py = sys.executable
        r = lab.run([py, "-c", DNS_THEN_CONNECT, "allowed.test", str(server.port)], env=env)
        assert "answers ['127.0.0.1']" in r.stdout and "connected" in r.stdout, \
            (r.stdout, r.stderr)
        assert dns.asked == ["allowed.test"], "the query did not reach its server via us"
        r = lab.run([py, "-c", DNS_THEN_CONNECT, "other.test", str(server.port)], env=env)
        assert "errno 13" in r.stdout, (r.stdout, r.stderr)  # no rule for that name
        r = lab.run([py, "-c", DNS_THEN_CONNECT, "pinned.test", "1"], env=env)
        assert "answers ['127.0.0.9']" in r.stdout, (r.stdout, r.stderr)
        assert "pinned.test" not in dns.asked
        r = lab.run([py, "-c", DNS_THEN_CONNECT, "evil.test", "1"], env=env)
        assert "rcode 5" in r.stdout, (r.stdout, r.stderr)  # REFUSED
        types = [e["type"] for e in lab.read_events()]
        assert "dns_query" in types and "dns_redirect" in types
    finally:
        server.close()
        dns.close()


# -- signals ----------------------------------------------------------------------------

def test_signals_outside_are_refused_inside_allowed(lab: Lab) -> None:
    lab.policy(signal_rules=[
        {"name": "own", "signals": ["@all"], "target": {"type": "children"},
         "decision": "allow"},
        {"name": "self", "signals": ["@all"], "target": {"type": "self"},
         "decision": "allow"},
        {"name": "outside", "signals": ["@all"], "target": {"type": "external"},
         "decision": "deny"}])
    outsider = subprocess.Popen(["sleep", "30"])
    try:
        r = lab.run(["/bin/sh", "-c", f"kill -TERM {outsider.pid}; echo ext=$?; "
                                      "sleep 30 & kill $!; echo child=$?"])
        assert "ext=1" in r.stdout and "child=0" in r.stdout, (r.stdout, r.stderr)
        assert outsider.poll() is None, "a signal got out"
        blocked = [e for e in lab.read_events() if e["type"] == "signal_blocked"]
        assert blocked and blocked[0]["target_pid"] == outsider.pid
    finally:
        outsider.kill()
        outsider.wait()


# -- the ways around the tracer ---------------------------------------------------------

def test_escapes_are_refused(lab: Lab) -> None:
    lab.policy(file_rules=[{"name": "all", "paths": ["/**"], "operations": ["*"],
                            "decision": "allow"}])
    probe = _probe(lab)
    tracer_probe = lab.popen(["sleep", "30"])
    time.sleep(0.5)
    expect = {"ptraceme": "1", "untraced": "1", "clone3": "38", "int80": "38",
              "iouring": "1", "rawsock": "1", "packet": "1"}
    for mode, err in expect.items():
        r = lab.run([probe, mode])
        assert f"{mode} {err}" in r.stdout, (mode, r.stdout, r.stderr)
    for mode, target in (("attach", tracer_probe.pid), ("vmwrite", tracer_probe.pid)):
        r = lab.run([probe, mode, str(target)])
        assert r.stdout.split()[1] in ("1", "13"), (mode, r.stdout)  # EPERM
    tracer_probe.kill()
    tracer_probe.wait()


def test_vfork_child_is_traced(lab: Lab) -> None:
    lab.policy(command_rules=[{"name": "no-id", "commands": ["id"], "decision": "deny"},
                              {"name": "rest", "commands": ["*"], "decision": "allow"}])
    probe = _probe(lab)
    r = lab.run([probe, "vfork", "/usr/bin/id"])
    assert "vfork 126" in r.stdout, (r.stdout, r.stderr)
    r = lab.run([probe, "vfork", "/bin/true"])
    assert "vfork 0" in r.stdout, (r.stdout, r.stderr)


def test_tracer_killed_takes_its_tracees(lab: Lab) -> None:
    lab.policy(command_rules=[{"name": "all", "commands": ["*"], "decision": "allow"}])
    pidfile = lab.path("pids")
    p = lab.popen(["/bin/sh", "-c", f"sleep 60 & echo $$ $! > {pidfile}; wait"])
    deadline = time.monotonic() + 10
    while not (pidfile.exists() and pidfile.read_text().strip()):
        assert time.monotonic() < deadline, "the traced shell did not start"
        time.sleep(0.05)
    pids = [int(x) for x in pidfile.read_text().split()]
    p.kill()  # SIGKILL the tracer (setpriv execs it: same pid)
    p.wait(10)
    deadline = time.monotonic() + 10
    while any(pid_alive(x) for x in pids):
        assert time.monotonic() < deadline, f"tracees outlived their tracer: {pids}"
        time.sleep(0.05)


def test_fork_bomb_under_rlimit_nproc(root_lab: Lab) -> None:
    lab = root_lab
    lab.who = "nobody"
    lab.policy(command_rules=[{"name": "all", "commands": ["*"], "decision": "allow"}])
    # the root shell starts the bomb, outlives the storm (forks fail with EAGAIN past the
    # limit), and when it exits every tracee goes with the tracer
    bomb = "b(){ b | b & }; b; sleep 3; echo alive"
    r = lab.run(["prlimit", "--nproc=60", "/bin/sh", "-c", bomb], timeout=60)
    assert r.returncode == 0 and "alive" in r.stdout, (r.returncode, r.stderr[-500:])
    deadline = time.monotonic() + 10
    while left := live_processes_of(NOBODY):
        assert time.monotonic() < deadline, f"processes left: {left}"
        time.sleep(0.1)
    reap_orphans()


def test_tracer_pid_masked_on_request(lab: Lab) -> None:
    lab.policy(file_rules=[{"name": "all", "paths": ["/**"], "operations": ["*"],
                            "decision": "allow"}])
    cmd = ["/bin/sh", "-c", "grep TracerPid /proc/self/status; "
                            "grep TracerPid /proc/$$/task/$$/status"]
    r = lab.run(cmd)
    assert "TracerPid:\t0" not in r.stdout, r.stdout  # traced, and it shows
    r = lab.run(cmd, "--mask-tracer-pid")
    lines = [x for x in r.stdout.splitlines() if x.startswith("TracerPid")]
    assert len(lines) == 2 and all(x.split()[1] == "0" for x in lines), r.stdout


def test_events_reach_the_log_while_the_session_is_quiet(root_lab: Lab) -> None:
    """A session that acts and then waits: its events are in the log within a second,
    not at its next burst of activity or its end."""
    lab = root_lab
    _file_lab(lab)
    p = lab.popen(["/bin/sh", "-c", f"cat {lab.path('deny/f')}; exec sleep 30"])
    deadline = time.monotonic() + 5
    blocked: list[dict] = []
    while time.monotonic() < deadline and not blocked:
        time.sleep(0.1)
        blocked = [e for e in lab.read_events() if e.get("effective_action") == "blocked"
                   and e["type"] == "file_open"]
    assert p.poll() is None, "the session ended early"
    assert blocked and blocked[0]["path"] == str(lab.path("deny/f")), lab.read_events()


# -- approvals, env, bad input ----------------------------------------------------------

def test_approval_through_the_socket(root_lab: Lab) -> None:
    lab = root_lab
    sock = lab.path("approvals.sock")
    victim = lab.path("victim")
    victim.write_text("x")
    lab.policy(file_rules=[
        {"name": "ask", "paths": [str(victim)], "operations": ["delete"],
         "decision": "approve", "timeout": "30s"},
        {"name": "all", "paths": ["/**"], "operations": ["*"], "decision": "allow"}])
    p = lab.popen(["/bin/rm", str(victim)], "--approvals-socket", str(sock))
    deadline = time.monotonic() + 15
    pending: list = []
    while not pending:
        assert time.monotonic() < deadline, "no pending approval"
        time.sleep(0.1)
        if sock.exists():
            out = subprocess.run([WRAP, "approvals", "list", "--socket", str(sock)],
                                 capture_output=True, text=True)
            pending = [json.loads(x) for x in out.stdout.splitlines()]
    assert victim.exists() and pending[0]["path"] == str(victim)
    out = subprocess.run([WRAP, "approvals", "approve", "--socket", str(sock),
                          pending[0]["id"]], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert p.wait(15) == 0
    assert not victim.exists()
    assert not sock.exists(), "the socket outlived the tracer"
    resolved = [e for e in lab.read_events() if e["type"] == "approval_resolved"]
    assert resolved and resolved[0]["policy"]["effective_decision"] == "allow"


def test_env_policy_filters_the_environment(lab: Lab) -> None:
    lab.policy(env_policy={"deny": ["SECRET_*"]})
    r = lab.run(["/bin/sh", "-c", "echo [$SECRET_TOKEN] [$KEEP]"],
                env=dict(os.environ, SECRET_TOKEN="s3cr3t", KEEP="yes"))
    assert "[] [yes]" in r.stdout, (r.stdout, r.stderr)


@pytest.mark.parametrize("args,field", [
    (["--policy", "/nonexistent.yaml", "--", "true"], "--policy"),
    (["--bogus", "--", "true"], "--bogus"),
    (["--mode", "loud", "--", "true"], "--mode"),
    (["--policy", "default"], "COMMAND"),
])
def test_bad_input_one_clear_error(args: list[str], field: str, tmp_path: Path) -> None:
    r = subprocess.run([WRAP, "wrap", "--events", str(tmp_path / "e.jsonl"), *args],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 125, (r.returncode, r.stderr)
    assert field in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_bad_policy_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("version: 1\nname: x\nfile_rules:\n  - name: r\n    paths: [/x]\n"
                   "    decision: maybe\n")
    r = subprocess.run([WRAP, "wrap", "--policy", str(bad), "--", "true"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 125 and "decision" in r.stderr, r.stderr


def test_audit_mode_decides_and_logs_but_never_blocks(lab: Lab) -> None:
    _file_lab(lab)
    lab.policy(command_rules=[{"name": "no-cat", "commands": ["cat"], "decision": "deny"},
                              {"name": "rest", "commands": ["*"], "decision": "allow"}],
               file_rules=[{"name": "no-deny", "paths": [str(lab.path("deny")) + "/**"],
                            "operations": ["*"], "decision": "deny"},
                           {"name": "rest", "paths": ["/**"], "operations": ["*"],
                            "decision": "allow"}])
    r = lab.run(["/bin/sh", "-c", f"cat {lab.path('deny/f')}"], "--mode", "audit")
    assert r.returncode == 0 and "secret" in r.stdout, (r.stdout, r.stderr)
    ev = lab.read_events()
    execs = [e for e in ev if e["type"] == "execve" and e["policy"]["rule"] == "no-cat"]
    assert execs and execs[0]["policy"]["decision"] == "deny"
    assert execs[0]["policy"]["effective_decision"] == "allow"
    files = [e for e in ev if e.get("policy", {}).get("rule") == "no-deny"]
    assert files and all(e["effective_action"] == "allowed" for e in files)


def test_time_limits(lab: Lab) -> None:
    lab.policy(resource_limits={"command_timeout": "1s"})
    t0 = time.monotonic()
    r = lab.run(["/bin/sh", "-c", "sleep 20; echo rc=$?"])
    assert time.monotonic() - t0 < 10 and "rc=137" in r.stdout, (r.stdout, r.stderr)
    killed = [e for e in lab.read_events() if e["type"] == "command_killed"]
    assert killed and killed[0]["fields"]["limit"] == "command_timeout", killed
    lab.events.unlink()
    lab.policy(resource_limits={"session_timeout": "1s", "max_memory_mb": 64})
    t0 = time.monotonic()
    r = lab.run(["/bin/sh", "-c", "sleep 20; echo not reached"])
    assert time.monotonic() - t0 < 10 and r.returncode == 137, (r.returncode, r.stdout)
    ev = lab.read_events()
    assert any(e["type"] == "command_killed" and e["fields"]["limit"] == "session_timeout"
               for e in ev)
    assert any(e["type"] == "policy_section_not_enforced" and "max_memory_mb" in
               e["fields"]["message"] for e in ev)
