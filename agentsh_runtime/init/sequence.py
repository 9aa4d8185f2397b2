"""The container init (B): everything between the namespaces and the user's execve."""

from __future__ import annotations

import os

from ..container.channel import Channel
from ..container.launch import handoff_listener
from ..errors import ConfigError, SetupError
from ..linux import misc
from ..seccomp import install as seccomp_install
from ..spec.model import Spec
from . import common, console, lsm, process, rootfs

_SYSCTL_NS = (  # prefix -> namespace that must be private for it
    ("net.", "network"), ("kernel.msg", "ipc"), ("kernel.sem", "ipc"), ("kernel.shm", "ipc"),
    ("fs.mqueue.", "ipc"), ("kernel.hostname", "uts"), ("kernel.domainname", "uts"),
)


class InitOptions:
    __slots__ = ("spec", "container_id", "fifo_fd", "console_fd", "preserve_fds",
                 "no_new_keyring", "rootfs_ctx", "extra_env", "hook_state", "seccomp")

    def __init__(self, spec: Spec, container_id: str, fifo_fd: int, console_fd: int,
                 preserve_fds: int, no_new_keyring: bool, rootfs_ctx: rootfs.RootfsContext,
                 extra_env: list[str]) -> None:
        self.spec = spec
        self.container_id = container_id
        self.fifo_fd = fifo_fd
        self.console_fd = console_fd
        self.preserve_fds = preserve_fds
        self.no_new_keyring = no_new_keyring
        self.rootfs_ctx = rootfs_ctx
        self.extra_env = extra_env
        self.hook_state: dict = {}  # the state document hooks get (status set per kind)
        self.seccomp = None  # seccomp.Prepared, loaded just before execve


def check_sysctl(spec: Spec) -> None:
    for key in spec.linux.sysctl:
        for prefix, nstype in _SYSCTL_NS:
            if key.startswith(prefix):
                if spec.linux.namespaces.get(nstype) is None:
                    raise ConfigError(f"sysctl {key!r} is not in a separate kernel namespace",
                                      f"linux.sysctl.{key}")
                break
        else:
            raise ConfigError(f"sysctl {key!r} is not allowed in a container",
                              f"linux.sysctl.{key}")


def run_init(opts: InitOptions, chan: Channel) -> None:
    spec = opts.spec
    proc = spec.process
    assert proc is not None
    os.setsid()
    common.reset_signals()
    if not opts.no_new_keyring:
        try:
            misc.join_session_keyring(f"_ses.{opts.container_id}")
        except OSError as e:
            if e.errno not in (38, 122):  # ENOSYS, EDQUOT: as runc, go on without one
                raise SetupError(str(e), "keyring") from e
    process.set_oom_score_adj(proc.oom_score_adj)
    rootfs.prepare(spec, opts.rootfs_ctx)
    hooks = spec.hooks
    if any(hooks.get(k) for k in ("prestart", "createRuntime", "createContainer")):
        chan.send({"type": "mounted"})
        msg = chan.recv()
        if not msg or msg.get("type") != "continue":
            raise SetupError("the runtime went away while running hooks", "hooks")
        state = dict(opts.hook_state, status="creating", pid=int(msg["pid"]))
        from ..hooks.runner import run_hooks

        run_hooks(hooks, "createContainer", state)
    if hooks.get("startContainer"):
        from ..hooks import runner

        runner.wants_os_import()  # it runs after pivot_root, where our modules are gone
    rootfs.pivot(spec.root_path, opts.rootfs_ctx.no_pivot)
    if proc.terminal:
        console.setup(opts.console_fd, proc.console_height, proc.console_width, True)
    if spec.hostname is not None and spec.hostname != "":
        _sethostname(spec.hostname)
    if spec.domainname:
        misc.setdomainname(spec.domainname)
    for key, value in spec.linux.sysctl.items():  # before readonlyPaths covers /proc/sys
        try:
            with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
                f.write(value)
        except OSError as e:
            raise SetupError(f"cannot set sysctl {key}={value}: {e.strerror}",
                             f"linux.sysctl.{key}") from e
    rootfs.mask_paths(spec.linux.masked_paths)
    rootfs.readonly_paths(spec.linux.readonly_paths)
    rootfs.finalize_root(spec)
    if spec.linux.personality:
        domain = misc.PERSONALITY_DOMAINS[spec.linux.personality["domain"]]
        misc.personality(domain)
    process.set_rlimits(proc)
    process.set_scheduling(proc)
    env = process.build_env(proc)
    for item in opts.extra_env:
        k, _, v = item.partition("=")
        env[k] = v
    if opts.seccomp is not None and not proc.no_new_privileges:
        # loading needs CAP_SYS_ADMIN without no_new_privs: before the caps go
        handoff_listener(chan, seccomp_install(opts.seccomp))
    for w in process.switch_user_and_caps(proc):
        chan.send({"type": "debug", "msg": w})
    process.finish(proc)
    if opts.seccomp is not None and proc.no_new_privileges:
        handoff_listener(chan, seccomp_install(opts.seccomp))
    lsm.apply_exec_labels(proc.apparmor_profile, proc.selinux_label)
    path = process.lookpath(proc.args[0], env)
    common.close_fds_from(3 + opts.preserve_fds)
    chan.send({"type": "ready"})
    fifo = os.open(f"/proc/self/fd/{opts.fifo_fd}", os.O_WRONLY | os.O_CLOEXEC)
    if hooks.get("startContainer"):
        # `start` is reading the fifo now: a failure reaches it instead of "0".
        from ..hooks.runner import run_hooks

        try:
            run_hooks(hooks, "startContainer", dict(opts.hook_state, status="created"))
        except SetupError as e:
            os.write(fifo, b"E" + str(e).encode())
            os._exit(1)
    os.write(fifo, b"0")
    os.close(fifo)
    os.close(opts.fifo_fd)
    common.execve(path, proc.args, env)


def _sethostname(name: str) -> None:
    from ..linux.libc import check, libc

    raw = name.encode()
    check(libc.sethostname(raw, len(raw)), "sethostname")
