"""`create`: set the container up and leave its init blocked before the user's program."""

from __future__ import annotations

import _socket
import os

from .. import OCI_VERSION
from ..cgroups.manager import CgroupSet
from ..errors import ConfigError, ContainerError
from ..hooks.runner import run_hooks, run_hooks_logged
from ..linux import ns, proc
from ..spec.load import load_bundle
from ..spec.model import Spec
from ..spec.unapplied import unapplied_fields
from . import notify
from . import state as st
from .launch import LaunchPlan, launch
from .options import CreateOptions, GlobalOptions
from .pidfile import write_pid_file


def check_spec(spec: Spec, opts: CreateOptions) -> None:
    """What runc refuses before touching the host."""
    proc_ = spec.process
    if proc_ is None:
        raise ConfigError("process is required to create a container", "process")
    if not proc_.args:
        raise ConfigError("args must not be empty", "process.args")
    if proc_.terminal and not opts.console_socket and opts.console_fd < 0:
        raise ContainerError("cannot allocate tty if runc will detach without setting "
                             "console socket", "--console-socket")
    if opts.console_socket and not proc_.terminal:
        raise ContainerError("cannot use console socket if runc will not detach or "
                             "allocate tty", "--console-socket")
    if not os.path.isdir(spec.root_path):
        raise ConfigError(f"rootfs ({spec.root_path}) does not exist", "root.path")
    nss = spec.linux.namespaces
    if "mount" not in nss:
        raise ConfigError("a mount namespace is required", "linux.namespaces")
    if spec.hostname and nss.get("uts") is None:
        raise ConfigError("unable to set hostname without a private UTS namespace", "hostname")
    if spec.domainname and nss.get("uts") is None:
        raise ConfigError("unable to set domainname without a private UTS namespace",
                          "domainname")
    if "user" in nss and not nss["user"] and not (spec.linux.uid_mappings and
                                                  spec.linux.gid_mappings):
        raise ConfigError("user namespaces need uidMappings and gidMappings",
                          "linux.uidMappings")
    if "time" in nss and nss["time"] and spec.linux.time_offsets:
        raise ConfigError("timeOffsets cannot be set when joining a time namespace",
                          "linux.timeOffsets")
    from ..init.sequence import check_sysctl

    check_sysctl(spec)
    if proc_.oom_score_adj is not None and not -1000 <= int(proc_.oom_score_adj) <= 1000:
        raise ConfigError("must be between -1000 and 1000", "process.oomScoreAdj")


def _connect_console(path: str) -> int:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as e:
        sock.close()
        raise ContainerError(f"cannot connect to console socket {path}: {e.strerror}",
                             "--console-socket") from e
    return sock.detach()


def _listen_fds_env(preserve_fds: int) -> tuple[int, list[str]]:
    """runc passes $LISTEN_FDS sockets through, and tells the container about them."""
    listen = os.environ.get("LISTEN_FDS", "")
    if listen.isdigit() and int(listen) > 0:
        n = int(listen)
        return preserve_fds + n, [f"LISTEN_FDS={n}", "LISTEN_PID=1"]
    return preserve_fds, []


def create(g: GlobalOptions, opts: CreateOptions) -> st.State:
    st.validate_id(opts.id)
    bundle = os.path.abspath(opts.bundle)
    spec = load_bundle(bundle)
    check_spec(spec, opts)
    policy = None
    from .policy_setup import wants_policy

    if wants_policy(spec, g.default_policy, g.admin_config):
        from .policy_setup import apply_to_spec, resolve

        policy = resolve(spec, g.default_policy, g.admin_config)
        if policy is not None:
            apply_to_spec(policy, spec)
            # `exec` builds its filter from the saved config: save the policy's profile
            spec.raw.setdefault("linux", {})["seccomp"] = spec.linux.seccomp
            for warning in policy.warnings:
                g.log.warning(warning)
    if spec.annotations.get("dev.agentsh.ptrace", "off") != "off":
        from .traced import create_traced, wanted

        why = wanted(spec, policy)
        if why is not None:
            g.log.warning(f"ptrace mode: {why}")
            return create_traced(g, opts, spec, policy, bundle, why)
    net_claim = None  # network_rules: the namespace to enforce in ("" its own)
    if policy is not None:
        from . import netsetup

        if netsetup.check(spec, policy.engine.policy):
            net_claim = netsetup.netns_of(spec)
    from ..init.process import unknown_capabilities

    for warning in unapplied_fields(spec) + unknown_capabilities(spec.process):
        g.log.warning(warning)
    state_dir = st.make_state_dir(g.root, opts.id)
    cgroups: CgroupSet | None = None
    monitor: list = []  # [pid, hand-off socket] once started
    console_fd = -1
    fifo_fd = -1
    pid = 0
    root_path = spec.root_path  # as config.json says, even when FUSE serves it
    net_state: dict | None = None
    try:
        fifo = os.path.join(state_dir, st.FIFO)
        os.mkfifo(fifo, 0o622)
        os.chmod(fifo, 0o622)
        fifo_fd = os.open(fifo, os.O_PATH | os.O_CLOEXEC)
        cgroups = CgroupSet.plan(spec.linux.cgroups_path, opts.id, g.systemd_cgroup)
        cgroups.create()
        g.log.debug(f"cgroups: {' '.join(cgroups.paths.values())}")
        if opts.console_socket:
            console_fd = _connect_console(opts.console_socket)
        elif opts.console_fd >= 0:
            console_fd, opts.console_fd = opts.console_fd, -1
        if notify.host_socket():
            notify.prepare(spec, state_dir)
        preserve, extra_env = _listen_fds_env(opts.preserve_fds)
        if policy is not None:
            from ..monitor.start import start_monitor

            policy.procs_file = os.path.join(
                cgroups.paths.get("pids") or next(iter(cgroups.paths.values())), "cgroup.procs")
            policy.cgroup_paths = dict(cgroups.paths)
            monitor.extend(start_monitor(opts.id, policy, state_dir))
            if policy.engine.policy.file_rules:
                root_path = spec.root_path
                _serve_files(g, spec, policy, state_dir, monitor[1])
        plan = make_plan(spec, opts, cgroups, fifo_fd, console_fd, preserve, extra_env)
        plan.log = g.log

        def apply_limits() -> None:
            for warning in cgroups.apply_resources(spec.linux.resources):
                g.log.warning(warning)

        plan.on_cgroup = apply_limits
        hook_state = {"ociVersion": OCI_VERSION, "id": opts.id, "status": "creating",
                      "pid": 0, "bundle": bundle, "annotations": spec.annotations}
        plan.child_opts.hook_state = hook_state
        if spec.linux.seccomp:
            from ..seccomp import prepare as seccomp_prepare

            prepared = seccomp_prepare(spec.linux.seccomp,
                                       notify=policy.notify if policy else ())
            plan.child_opts.seccomp = prepared
            if prepared is not None and prepared.needs_listener and policy and policy.notify:
                plan.on_seccomp_fd = _to_monitor(monitor)
            elif prepared is not None and prepared.needs_listener:
                from .launch import make_listener_handoff

                plan.on_seccomp_fd = make_listener_handoff(
                    prepared.listener_path, prepared.metadata, hook_state)
        launched: list[int] = []

        def on_mounted(pid_b: int) -> None:
            launched.append(pid_b)
            state = dict(hook_state, pid=pid_b)
            run_hooks(spec.hooks, "prestart", state)
            run_hooks(spec.hooks, "createRuntime", state)

        plan.on_mounted = on_mounted
        try:
            pid = launch(plan)
        except BaseException:
            if launched and spec.hooks.get("poststop"):
                run_hooks_logged(spec.hooks, "poststop",
                                 dict(hook_state, status="stopped", pid=0), g.log.warning)
            raise
        g.log.debug(f"container {opts.id}: init pid {pid}, namespaces "
                    f"{','.join(sorted(spec.linux.namespaces)) or 'none'}, waiting for start")
        data = {
            "ociVersion": OCI_VERSION,
            "id": opts.id,
            "pid": pid,
            "init_start": proc.start_time(pid),
            "bundle": bundle,
            "rootfs": root_path,
            "created": st.rfc3339_now(),
            "annotations": spec.annotations,
            "owner": "",
            "cgroup": cgroups.to_state(),
            "namespaces": dict(spec.linux.namespaces),
            "no_pivot": opts.no_pivot,
        }
        if any(spec.hooks.values()):
            data["hooks"] = spec.hooks
        if policy is not None and net_claim is not None:
            from . import netsetup

            net_state = {"joined": net_claim}
            if net_claim:
                from ..linux.proc import cgroup2_of

                net_state["registry"] = netsetup.claim(g.root, opts.id, net_claim,
                                                       cgroup2_of(pid))
            answer = netsetup.start(monitor[1], pid, net_claim)
            net_state.update(shaped=answer.get("shaped") or [], chain=answer.get("chain"),
                             cgroup=answer.get("cgroup"))
            data["network"] = net_state
        if policy is not None:
            from ..linux.proc import start_time

            mon_pid, handoff = monitor
            if not policy.notify:
                from ..monitor.start import hand_listener

                hand_listener(handoff, None, pid)
                if policy.engine.policy.file_rules:
                    # the FUSE server checks nothing until it knows the container runs:
                    # that must be so before `start` can run the container's program
                    handoff.settimeout(10.0)
                    try:
                        handoff.recv(4096)
                    except OSError as e:
                        raise ContainerError(f"the policy monitor did not answer: {e}",
                                             "annotations") from e
            handoff.close()
            data["policy"] = {"name": policy.name, "mode": policy.mode,
                              "notify": list(policy.notify), "events_dir": policy.events_dir,
                              "allowed_capabilities": list(
                                  policy.admin.allowed_capabilities if policy.admin else [])}
            data["monitor"] = {"pid": mon_pid, "start": start_time(mon_pid)}
            with open(os.path.join(state_dir, "policy.yaml"), "w") as f:
                f.write(policy.text)
        state = st.State(g.root, opts.id, data)
        if policy is not None:
            # ${VAR} values (env, HOME, PROJECT_ROOT, GIT_ROOT) for exec's engine (0600)
            state.save_json("policy-vars.json", policy.variables)
        state.save_config(spec.raw)
        state.save()
        if opts.pid_file:
            write_pid_file(opts.pid_file, pid)
        return state
    except BaseException:
        if pid:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        if monitor:
            try:
                os.kill(monitor[0], 15)
            except OSError:
                pass
            monitor[1].close()
        if net_state is not None:
            from . import netsetup

            _quiet(lambda: netsetup.cleanup(net_state))
        if cgroups is not None:
            # whatever got into the container's cgroups goes with it
            for stray in cgroups.pids():
                try:
                    os.kill(stray, 9)
                except OSError:
                    pass
            _quiet(cgroups.destroy)
        st.remove_state_dir(state_dir)
        raise
    finally:
        for fd in (console_fd, fifo_fd):
            if fd >= 0:
                os.close(fd)


def _serve_files(g: GlobalOptions, spec, policy, state_dir: str,  # noqa: ANN001
                 handoff: _socket.socket) -> None:
    """file_rules: the mount plan's FUSE roots are served by the monitor; config.json's
    root and mounts (in memory) are rewritten so the init mounts them."""
    from ..monitor.files import FUSE_DIR
    from ..policy.mountplan import compile_plan, mounts_from_spec
    from .fileplan import apply as apply_fileplan

    kinds = {}
    for mnt in spec.mounts:
        src = mnt.source
        if src.startswith("/") and os.path.lexists(src) and not os.path.isdir(src):
            kinds[mnt.destination] = "file" if os.path.isfile(src) else "other"
    mplan = compile_plan(policy.engine, mounts_from_spec(spec, kinds))
    fplan = apply_fileplan(spec, mplan, os.path.join(state_dir, FUSE_DIR),
                           os.path.join(state_dir, "fuse-scratch"))
    for w in list(mplan.warnings) + fplan.warnings:
        g.log.debug(f"file_rules: {w}")
    kernel = kernel_subtrees(mplan)
    if not fplan.roots and not kernel:
        return
    from ..monitor.start import ask_monitor
    from ..monitor.trashdir import trash_dir_of
    from .policy_setup import OPEN_SYSCALLS, fast_open_possible

    trash = trash_dir_of(os.path.basename(state_dir))
    fast_open = fast_open_possible(spec)
    if fast_open or kernel:
        policy.notify = tuple(dict.fromkeys(policy.notify + OPEN_SYSCALLS))
    msg = {"op": "files", "roots": [[r.index, r.path, r.backing] for r in fplan.roots],
           "trash": trash, "fast_open": fast_open, "kernel": kernel}
    ask_monitor(handoff, msg, [], 15.0, "file_rules: the FUSE server")


def kernel_subtrees(mplan) -> list[str]:  # noqa: ANN001 - a mountplan.MountPlan
    """The plan's kernel subtrees the policy has something to say about: their opens
    are decided by the monitor (monitor/kernelopen.py)."""
    from ..policy.mountplan import KERNEL

    return [e.path for e in mplan.entries if e.treatment == KERNEL and e.reasons]


def _to_monitor(monitor: list):  # noqa: ANN202
    """on_seccomp_fd for a policy: the listener goes to our monitor, not to an agent."""

    def take(pid: int, fd_number: int) -> None:
        from ..linux.seccomp import copy_fd_from
        from ..monitor.start import hand_listener

        fd = copy_fd_from(pid, fd_number)
        try:
            hand_listener(monitor[1], fd, pid)
        finally:
            os.close(fd)

    return take


def _quiet(fn) -> None:  # noqa: ANN001
    try:
        fn()
    except Exception:  # noqa: BLE001 - cleanup after a failure already being reported
        pass


def make_plan(spec: Spec, opts: CreateOptions, cgroups: CgroupSet, fifo_fd: int,
              console_fd: int, preserve: int, extra_env: list[str]) -> LaunchPlan:
    from ..init.rootfs import RootfsContext
    from ..init.sequence import InitOptions, run_init

    nss = spec.linux.namespaces
    flags = 0
    join: list[tuple[str, str]] = []
    for nstype in ns.JOIN_ORDER:
        if nstype not in nss:
            continue
        if nss[nstype]:
            join.append((nstype, nss[nstype]))
        elif nstype not in ("user", "cgroup"):
            flags |= ns.NAMESPACES[nstype][0]
    new_userns = "user" in nss and not nss["user"]
    ctx = RootfsContext(cgroups.paths, "cgroup" in nss and not nss["cgroup"], opts.no_pivot,
                        spec.bundle)
    from ..init.lsm import mount_label_option

    ctx.mount_label = mount_label_option(spec.linux.mount_label)
    init_opts = InitOptions(spec, opts.id, fifo_fd, console_fd, preserve, opts.no_new_keyring,
                            ctx, extra_env)
    plan = LaunchPlan(
        child_main=lambda chan: run_init(init_opts, chan),
        join=join,
        unshare=flags,
        new_userns=new_userns,
        uid_maps="".join(mp.line() for mp in spec.linux.uid_mappings),
        gid_maps="".join(mp.line() for mp in spec.linux.gid_mappings),
        cgroups=cgroups,
        time_offsets=spec.linux.time_offsets if "time" in nss and not nss["time"] else None,
    )
    plan.cgroupns_in_child = "cgroup" in nss and not nss["cgroup"]
    plan.child_opts = init_opts
    return plan
