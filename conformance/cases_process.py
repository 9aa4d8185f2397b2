"""config.md#process: args, env, cwd, user, umask, capabilities, rlimits,
noNewPrivileges, oomScoreAdj, terminal through the console socket."""

from __future__ import annotations

import os
import resource
import select
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from conformance.framework import (
    Ctx,
    Fail,
    NotApplicable,
    case,
    check,
    expect_eq,
    kv,
    runtime_error,
    sh,
)
from tests.support.bundle import CAP_NUMBERS, DEFAULT_PATH, cap_mask

STATUS_CAPS = sh("grep -E '^(Cap|NoNewPrivs|Uid|Gid|Groups)' /proc/self/status")


def _caps(out: str) -> dict[str, int | str]:
    d: dict[str, int | str] = {}
    for k, v in kv(out, ":").items():
        d[k] = int(v, 16) if k.startswith("Cap") else v
    return d


def _names(mask: int) -> list[str]:
    return sorted(n[4:] for n, i in CAP_NUMBERS.items() if mask >> i & 1)


def _expect_caps(got: dict[str, int | str], field: str, want: list[str]) -> None:
    g = got.get(field)
    if g != cap_mask(want):
        have = _names(g) if isinstance(g, int) else g
        raise Fail(f"{field}: got {have}, want {sorted(c[4:] for c in want)}")


@case("process.args",
      "`args` MUST be the process argv, argv[0] included", "config.md#process")
def args(ctx: Ctx) -> None:
    # `; exit` keeps the shell from exec'ing cat: /proc/$$ stays the shell itself
    argv = ["/bin/sh", "-c", "cat /proc/$$/cmdline; exit 0", "zero", "x y", "", "*"]
    out = ctx.run(ctx.bundle(argv)).out
    expect_eq(out.split("\0")[:-1], argv, "argv")


@case("process.args_path_lookup",
      "args[0] MUST resolve like execvp (PATH from `env`)", "config.md#process")
def args_path(ctx: Ctx) -> None:
    b = ctx.bundle(["hello-conformance"], env=["PATH=/opt/tools:/bin", "HOME=/root"])
    tools = b.rootfs / "opt" / "tools"
    tools.mkdir(parents=True)
    (tools / "hello-conformance").write_text("#!/bin/sh\necho found-on-path\n")
    (tools / "hello-conformance").chmod(0o755)
    expect_eq(ctx.run(b).out.strip(), "found-on-path", "output")


@case("process.env_exact",
      "the process environment MUST be exactly `env`", "config.md#process")
def env_exact(ctx: Ctx) -> None:
    env = [f"PATH={DEFAULT_PATH}", "HOME=/root", "A=1", "SPACED=two words", "EMPTY="]
    out = ctx.run(ctx.bundle(sh("cat /proc/$$/environ; exit 0"), env=env)).out
    expect_eq(sorted(x for x in out.split("\0") if x), sorted(env), "environment")


@case("process.cwd",
      "the process MUST start in `cwd`", "config.md#process")
def cwd(ctx: Ctx) -> None:
    out = ctx.run(ctx.bundle(["pwd"], cwd="/home/tester")).out
    expect_eq(out.strip(), "/home/tester", "working directory")


@case("process.user_uid_gid",
      "the process MUST run as user.uid / user.gid", "config.md#posix-platform-user")
def user_ids(ctx: Ctx) -> None:
    b = ctx.bundle(STATUS_CAPS, user={"uid": 1000, "gid": 1001})
    got = kv(ctx.run(b).out, ":")
    expect_eq(got.get("Uid", "").split(), ["1000"] * 4, "Uid (real, effective, saved, fs)")
    expect_eq(got.get("Gid", "").split(), ["1001"] * 4, "Gid (real, effective, saved, fs)")


@case("process.additional_gids",
      "user.additionalGids MUST be supplementary groups",
      "config.md#posix-platform-user")
def additional_gids(ctx: Ctx) -> None:
    b = ctx.bundle(STATUS_CAPS, user={"uid": 1000, "gid": 1000, "additionalGids": [10, 2000]})
    got = kv(ctx.run(b).out, ":")
    groups = set(got.get("Groups", "").split())
    check({"10", "2000"} <= groups, f"Groups {sorted(groups)} lack 10 and 2000")


@case("process.umask",
      "user.umask MUST be the process umask", "config.md#posix-platform-user")
def umask(ctx: Ctx) -> None:
    b = ctx.bundle(sh("umask"), user={"uid": 0, "gid": 0, "umask": 0o027})
    expect_eq(ctx.run(b).out.strip(), "0027", "umask")


@case("process.caps_bounding",
      "capabilities.bounding MUST be the bounding set", "config.md#linux-process")
def caps_bounding(ctx: Ctx) -> None:
    bnd = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID"]
    b = ctx.bundle(STATUS_CAPS, capabilities={"bounding": bnd, "permitted": ["CAP_KILL"],
                                              "effective": ["CAP_KILL"]})
    _expect_caps(_caps(ctx.run(b).out), "CapBnd", bnd)


@case("process.caps_root_sets",
      "uid 0: eff/prm/inh/bnd capability sets MUST be as given",
      "config.md#linux-process")
def caps_root(ctx: Ctx) -> None:
    caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL"]
    b = ctx.bundle(STATUS_CAPS, capabilities=caps)
    got = _caps(ctx.run(b).out)
    for f in ("CapBnd", "CapPrm", "CapEff", "CapInh"):
        _expect_caps(got, f, caps)


@case("process.caps_nonroot_ambient",
      "uid 1000: amb/inh/bnd capability sets MUST be as given",
      "config.md#linux-process")
def caps_nonroot(ctx: Ctx) -> None:
    bnd = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETGID"]
    prm = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    inh = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
    amb = ["CAP_NET_BIND_SERVICE"]
    b = ctx.bundle(STATUS_CAPS, user={"uid": 1000, "gid": 1000},
                   capabilities={"bounding": bnd, "permitted": prm, "effective": prm,
                                 "inheritable": inh, "ambient": amb})
    got = _caps(ctx.run(b).out)
    _expect_caps(got, "CapBnd", bnd)
    _expect_caps(got, "CapInh", inh)
    _expect_caps(got, "CapAmb", amb)
    # after execve a non-root process keeps exactly its ambient set
    _expect_caps(got, "CapPrm", amb)
    _expect_caps(got, "CapEff", amb)


@case("process.caps_enforced",
      "a capability not granted MUST NOT work (chown w/o CHOWN)",
      "config.md#linux-process")
def caps_enforced(ctx: Ctx) -> None:
    script = "touch /tmp/f; chown 1000 /tmp/f 2>/dev/null && echo chown-ok || echo chown-denied"
    with_cap = ctx.bundle(sh(script), capabilities=["CAP_CHOWN", "CAP_KILL"])
    without = ctx.bundle(sh(script), capabilities=["CAP_KILL"])
    expect_eq(ctx.run(with_cap).out.strip(), "chown-ok", "with CAP_CHOWN")
    expect_eq(ctx.run(without).out.strip(), "chown-denied", "without CAP_CHOWN")


@case("process.rlimits",
      "each rlimit MUST be set on the process (soft and hard)", "config.md#posix-process")
def rlimits(ctx: Ctx) -> None:
    b = ctx.bundle(sh("cat /proc/self/limits"), rlimits=[
        {"type": "RLIMIT_NOFILE", "soft": 300, "hard": 400},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096},
        {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600},
    ])
    got = {}
    for ln in ctx.run(b).out.splitlines():
        for name in ("Max open files", "Max core file size", "Max processes"):
            if ln.startswith(name):
                got[name] = ln[len(name):].split()[:2]
    expect_eq(got.get("Max open files"), ["300", "400"], "RLIMIT_NOFILE")
    expect_eq(got.get("Max core file size"), ["0", "4096"], "RLIMIT_CORE")
    expect_eq(got.get("Max processes"), ["500", "600"], "RLIMIT_NPROC")


@case("process.rlimit_unknown_type",
      "an rlimit type with no kernel mapping MUST make create error", "config.md#posix-process")
def rlimit_unknown(ctx: Ctx) -> None:
    b = ctx.bundle(["true"], rlimits=[{"type": "RLIMIT_CONFORMANCE", "soft": 1, "hard": 1}])
    p = ctx.create_raw(b, ctx.cid())
    check(p.returncode != 0, "create with an unknown rlimit type succeeded")


@case("process.rlimit_unsettable",
      "an unsettable rlimit MUST error; process MUST NOT run",
      "config.md#posix-process")
def rlimit_unsettable(ctx: Ctx) -> None:
    # raising a hard limit needs CAP_SYS_RESOURCE, which this host's root does not have
    cur_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if cur_hard == resource.RLIM_INFINITY:
        raise NotApplicable("the hard RLIMIT_NOFILE is unlimited here")
    want = cur_hard * 4 + 1024
    b = ctx.bundle(sh("echo ran > /ran"),
                   rlimits=[{"type": "RLIMIT_NOFILE", "soft": want, "hard": want}])
    probe = subprocess.run(
        [sys.executable, "-c", "import resource as r; "
         f"r.setrlimit(r.RLIMIT_NOFILE, ({want}, {want}))"], capture_output=True)
    if probe.returncode == 0:
        raise NotApplicable("this host lets root raise the hard limit")
    cid = ctx.cid()
    p = ctx.create_raw(b, cid)
    if p.returncode == 0:
        sp = ctx.rt.start(cid)
        time.sleep(0.2)
        check(sp.returncode != 0 and not (b.rootfs / "ran").exists(),
              f"NOFILE {want} (above the host hard limit) accepted and the process ran")


@case("process.no_new_privileges",
      "noNewPrivileges true/false MUST set/not set no_new_privs",
      "config.md#linux-process")
def nnp(ctx: Ctx) -> None:
    on = kv(ctx.run(ctx.bundle(STATUS_CAPS, no_new_privileges=True)).out, ":")
    off = kv(ctx.run(ctx.bundle(STATUS_CAPS, no_new_privileges=False)).out, ":")
    expect_eq(on.get("NoNewPrivs"), "1", "NoNewPrivs with noNewPrivileges true")
    expect_eq(off.get("NoNewPrivs"), "0", "NoNewPrivs with noNewPrivileges false")


@case("process.oom_score_adj",
      "oomScoreAdj MUST be written to the process's oom_score_adj", "config.md#linux-process")
def oom_adj(ctx: Ctx) -> None:
    b = ctx.bundle(["cat", "/proc/self/oom_score_adj"], oom_score_adj=512)
    expect_eq(ctx.run(b).out.strip(), "512", "oom_score_adj")


@case("process.oom_score_adj_unset",
      "no oomScoreAdj: runtime MUST NOT change oom_score_adj",
      "config.md#linux-process")
def oom_adj_unset(ctx: Ctx) -> None:
    b = ctx.bundle(["cat", "/proc/self/oom_score_adj"])
    b.write()
    cid = ctx.cid()
    out, err = b.file(f"{cid}.out"), b.file(f"{cid}.err")

    def raise_adj() -> None:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("321")

    argv = ctx.rt.global_args() + ["create", "--bundle", str(b.path), cid]
    with open(out, "w") as fo, open(err, "w") as fe:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                           timeout=20, preexec_fn=raise_adj)
    if p.returncode != 0:
        raise Fail(f"create failed: {err.read_text().strip()[-120:]}")
    ctx.start(cid)
    ctx.wait_status(cid, "stopped")
    expect_eq(out.read_text().strip(), "321", "oom_score_adj (caller had 321)")


class ConsoleSocket:
    """The caller side of --console-socket: accept one connection, receive the pty master."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.sock.settimeout(20)
        self.master: int | None = None
        self.error: str = ""
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        try:
            conn, _ = self.sock.accept()
            with conn:
                _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
                if fds:
                    self.master = fds[0]
                else:
                    self.error = "no fd received"
        except OSError as e:
            self.error = str(e)

    def read_all(self, timeout: float = 10.0) -> str:
        self.thread.join(timeout)
        if self.master is None:
            raise Fail(f"no pty master received on the console socket ({self.error})")
        buf = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if not r:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: every slave fd closed
                break
            if not chunk:
                break
            buf += chunk
            if b"END" in buf:
                break
        return buf.decode(errors="replace").replace("\r", "")

    def close(self) -> None:
        if self.master is not None:
            os.close(self.master)
            self.master = None
        self.sock.close()


def _terminal_run(ctx: Ctx, script: str, **kw: Any) -> str:
    b = ctx.bundle(sh(script), terminal=True, **kw)
    cs = ConsoleSocket(str(ctx.dir / "console.sock"))
    ctx.on_cleanup(cs.close)
    cid = ctx.cid()
    p = ctx.create_raw(b, cid, console_socket=cs.path)
    if p.returncode != 0:
        raise Fail(f"create failed: {runtime_error(p)}")
    ctx.start(cid)
    text = cs.read_all()
    ctx.wait_status(cid, "stopped")
    return text


@case("process.terminal",
      "terminal: stdio MUST be a pty (master on console socket)",
      "config.md#process")
def terminal(ctx: Ctx) -> None:
    text = _terminal_run(ctx, "[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo ISATTY; "
                              "[ -c /dev/console ] && echo CONSOLE; tty; echo END")
    check("ISATTY" in text, f"stdio are not a tty: {text[:80]!r}")
    check("/dev/pts/" in text, f"tty is not a devpts pty: {text[:80]!r}")
    check("CONSOLE" in text, "/dev/console is not a char device")


@case("process.console_size",
      "consoleSize MUST set the pty's rows and columns", "config.md#process")
def console_size(ctx: Ctx) -> None:
    text = _terminal_run(ctx, "stty size; echo END", console_size=(33, 101))
    check("33 101" in text, f"stty size printed {text.strip()[:40]!r}, want '33 101'")
