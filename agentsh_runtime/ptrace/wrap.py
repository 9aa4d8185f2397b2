"""`agentsh-runtime wrap`: a command and everything it starts, under the tracer, with a
policy. The image-entrypoint use of ptrace mode (Fargate): no namespaces, no cgroups,
no seccomp notification; only ptrace."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

from ..errors import AgentshError
from ..policy.errors import PolicyError

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
             signal.SIGUSR2, signal.SIGWINCH)
DEFAULT_EVENTS_DIR = "/var/log/agentsh-runtime"


class WrapError(AgentshError):
    """Bad input to wrap, or a host where it cannot trace: the option and the reason."""


@dataclass
class WrapOptions:
    argv: list[str]
    policy: str = "default"
    events: str | None = None
    mode: str = "enforce"
    approvals_socket: str | None = None
    mask_tracer_pid: bool = False
    workspace: str | None = None
    session: str | None = None


def load_engine(ref: str, env: dict[str, str], workspace: str, mode: str):  # noqa: ANN201
    """The policy named by --policy (a built-in or /etc/agentsh/policies name, or a
    file path: the image's author chooses it, so any readable file will do)."""
    from ..container.policy_setup import load_policy_text
    from ..policy.engine import Engine
    from ..policy.resolve import resolve_policy

    if "/" in ref:
        try:
            with open(ref, encoding="utf-8") as f:
                text, origin = f.read(), os.path.abspath(ref)
        except OSError as e:
            raise PolicyError(f"cannot read {ref}: {e.strerror}", "--policy") from None
    else:
        text, origin = resolve_policy(ref, field="--policy")
    policy = load_policy_text(text, origin)
    values = dict(env)
    values.update(HOME=env.get("HOME") or _home(), PROJECT_ROOT=workspace,
                  GIT_ROOT=_git_root(workspace))
    return Engine(policy, values, mode="audit" if mode == "audit" else "enforce"), origin


def _home() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        return "/"


def _git_root(project: str) -> str:
    cur = project
    while True:
        if os.path.exists(os.path.join(cur, ".git")):
            return cur
        if cur in ("/", ""):
            return project
        cur = os.path.dirname(cur)


def events_writer(path: str | None, session: str):  # noqa: ANN201
    from ..monitor.events import EventWriter

    if path is None:
        path = os.environ.get("AGENTSH_EVENTS") or \
            os.path.join(DEFAULT_EVENTS_DIR if os.access(os.path.dirname(DEFAULT_EVENTS_DIR),
                                                         os.W_OK) else "/tmp/agentsh-runtime",
                         f"{session}.jsonl")
    if path == "-":
        path = "/dev/stderr"
    directory = os.path.dirname(os.path.abspath(path))
    try:
        w = EventWriter(directory, session)
    except OSError as e:
        raise WrapError(f"cannot write events to {path}: {e.strerror}", "--events") from None
    w.paths = [path]
    return w


WRAP_USAGE = """Usage: agentsh-runtime wrap [OPTIONS] -- COMMAND [ARGS]...

  Run COMMAND, and everything it starts, under the ptrace-mode tracer with an agentsh
  policy (for hosts where only ptrace is allowed: AWS Fargate, restricted containers).

Options:
  --policy NAME|PATH        built-in or /etc/agentsh/policies name, or a policy file
                            (default: default)
  --events PATH             JSONL audit events (- for stderr; default:
                            /var/log/agentsh-runtime/wrap-PID.jsonl)
  --mode enforce|audit      audit: decide and log, never block
  --approvals-socket PATH   answer `approve` decisions with
                            `agentsh-runtime approvals --socket PATH ...`
  --workspace DIR           what ${PROJECT_ROOT} means (default: the current directory)
  --mask-tracer-pid         reads of /proc/*/status show TracerPid 0
  --session ID              the events' container_id (default: wrap-PID)
"""

_VALUED = {"--policy": "policy", "--events": "events", "--mode": "mode",
           "--approvals-socket": "approvals_socket", "--workspace": "workspace",
           "--session": "session"}


def parse_args(args: list[str]) -> WrapOptions | None:
    """The wrap command line; None for --help."""
    opts = WrapOptions(argv=[])
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            opts.argv = args[i:]
            return opts
        if arg in ("-h", "--help"):
            return None
        if arg == "--mask-tracer-pid":
            opts.mask_tracer_pid = True
            continue
        name, eq, value = arg.partition("=")
        if name in _VALUED:
            if not eq:
                if i >= len(args):
                    raise WrapError("needs a value", name)
                value = args[i]
                i += 1
            setattr(opts, _VALUED[name], value)
            continue
        if arg.startswith("-"):
            raise WrapError("unknown option (see agentsh-runtime wrap --help)", arg)
        opts.argv = args[i - 1:]
        return opts
    return opts


def run(opts: WrapOptions) -> int:
    """Trace opts.argv under the policy; its exit status."""
    from ..linux import ptrace as _pt  # noqa: F401 - fail early where ctypes cannot
    from .prefilter import build
    from .spawn import spawn
    from .tracer import OPTIONS, Tracer

    if not opts.argv:
        raise WrapError("a command to run is required (after --)", "COMMAND")
    if opts.mode not in ("enforce", "audit"):
        raise WrapError("must be enforce or audit", "--mode")
    workspace = os.path.abspath(opts.workspace or os.getcwd())
    env = dict(os.environ)
    engine, origin = load_engine(opts.policy, env, workspace, opts.mode)
    session = opts.session or f"wrap-{os.getpid()}"
    events = events_writer(opts.events, session)
    events.set_audit(engine.policy.audit.log_allowed, engine.policy.audit.log_denied,
                     engine.policy.audit.log_approved)
    kept, removed = engine.filter_env([f"{k}={v}" for k, v in env.items()])
    child_env = dict(e.split("=", 1) for e in kept if "=" in e)
    tracer = Tracer(engine, opts.mode, events, mask_tracer_pid=opts.mask_tracer_pid)
    approvals = None
    if opts.approvals_socket:
        from .control import ApprovalsSocket

        try:
            approvals = ApprovalsSocket(opts.approvals_socket, tracer)
        except OSError as e:
            tracer.close()
            raise WrapError(f"cannot listen on {opts.approvals_socket}: {e.strerror}",
                            "--approvals-socket") from None
    plan = tracer.filter_plan()
    events.emit("policy_loaded", fields={"policy": origin, "mode": opts.mode,
                                         "enforcement": "ptrace",
                                         "traced_syscalls": list(plan.traced)})
    for w in not_enforced(engine.policy):
        events.emit("policy_section_not_enforced", fields={"message": w})
    for name in removed:
        events.emit("env_blocked", operation="env", path=name,
                    policy={"decision": "deny", "effective_decision": "deny",
                            "rule": "env_policy"}, effective_action="blocked")
    try:
        pid = spawn(opts.argv, child_env, build(plan), OPTIONS)
    except OSError as e:
        tracer.close()
        if approvals:
            approvals.close()
        raise WrapError(f"cannot trace the command: {e.strerror or e} (ptrace needs "
                        "CAP_SYS_PTRACE or a ptrace_scope that allows it)", "ptrace") from None
    events.emit("wrap_started", pid=pid, argv=list(opts.argv),
                fields={"tracer_pid": os.getpid(), "session": session})
    events.flush()
    for sig in FORWARDED:
        signal.signal(sig, lambda s, _f, p=pid: _forward(p, s))
    try:
        return tracer.run(pid)
    finally:
        if approvals:
            approvals.close()
        tracer.close()
        events.flush()


def _forward(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def not_enforced(policy) -> list[str]:  # noqa: ANN001
    """resource_limits needing cgroups: ptrace mode has none (the time limits it keeps)."""
    limits = policy.resource_limits
    if limits is None:
        return []
    names = [f for f in ("max_memory_mb", "memory_swap_max_mb", "cpu_quota_percent",
                         "disk_read_bps_max", "disk_write_bps_max", "net_bandwidth_mbps",
                         "pids_max") if getattr(limits, f) is not None]
    if not names:
        return []
    return [f"resource_limits.{', '.join(names)}: no cgroups in ptrace mode (the "
            "time limits are enforced)"]
