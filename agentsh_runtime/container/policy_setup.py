"""Which policy a container gets (annotations, --default-policy, the admin config), and
what it changes at create: env, limits, capabilities, the seccomp filter, the monitor."""

from __future__ import annotations

import os

from ..errors import ConfigError
from ..spec.model import Spec

ANN_POLICY = "dev.agentsh.policy"
ANN_INLINE = "dev.agentsh.policy.inline"
ANN_MODE = "dev.agentsh.mode"
ANN_EVENTS = "dev.agentsh.events"
ANN_WORKSPACE = "dev.agentsh.workspace"
ANN_CRI_TYPE = "io.kubernetes.cri.container-type"
ADMIN_CONFIG = "/etc/agentsh-runtime/config.yaml"
# Capabilities that would let a workload switch enforcement off (mount over FUSE,
# rewrite iptables, raw packets past the chain, trace the monitor, load modules/BPF).
ENFORCEMENT_CAPS = ("CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_PTRACE",
                    "CAP_SYS_MODULE", "CAP_BPF")
EXEC_SYSCALLS = ("execve", "execveat")
UNIX_SYSCALLS = ("connect", "bind", "listen", "sendto", "sendmsg", "sendmmsg")
SIGNAL_SYSCALLS = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
                   "pidfd_send_signal")
# the native open path (monitor/openfast.c): read-only opens of FUSE-mediated files
# answered with the backing file's fd
OPEN_SYSCALLS = ("open", "openat", "openat2")
IO_URING = ("io_uring_setup", "io_uring_enter", "io_uring_register")
# what reads or writes another process's memory without opening /proc/PID/mem
MEMORY_ACCESS = ("ptrace", "process_vm_readv", "process_vm_writev")
ALL_ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]


class AdminConfig:
    __slots__ = ("default_policy", "allowed_policies", "annotations", "allow_modes",
                 "events_dir", "policy_dirs", "allowed_capabilities", "max_pending_approvals")

    def __init__(self, raw: dict | None = None) -> None:
        raw = raw or {}
        known = {"default_policy", "allowed_policies", "annotations", "allow_modes",
                 "events_dir", "policy_dirs", "allowed_capabilities", "max_pending_approvals"}
        for key in raw:
            if key not in known:
                raise ConfigError(f"unknown key {key!r}", f"admin-config.{key}")
        self.default_policy: str | None = raw.get("default_policy")
        self.allowed_policies: list[str] | None = raw.get("allowed_policies")
        # "replace": annotations may choose any allowed policy; "none": they are ignored
        self.annotations: str = raw.get("annotations", "replace")
        if self.annotations not in ("replace", "none"):
            raise ConfigError("must be replace or none", "admin-config.annotations")
        self.allow_modes: list[str] = list(raw.get("allow_modes", ["enforce", "audit", "off"]))
        self.events_dir: str = raw.get("events_dir", "/var/log/agentsh-runtime")
        self.policy_dirs: list[str] = list(raw.get("policy_dirs", ["/etc/agentsh/policies"]))
        self.allowed_capabilities: list[str] = list(raw.get("allowed_capabilities", []))
        pending = raw.get("max_pending_approvals", 16)
        if not isinstance(pending, int) or isinstance(pending, bool) or pending < 0:
            raise ConfigError("must be a whole number >= 0",
                              "admin-config.max_pending_approvals")
        self.max_pending_approvals = pending


YAML_CACHE = "/var/cache/agentsh-runtime/yaml"


def parse_yaml_cached(text: str, field: str) -> object:
    """YAML -> plain data, remembered as JSON by the text's sha256: importing yaml costs
    ~15 ms here, and every container of a host usually carries the same policy."""
    from _sha256 import sha256

    from .. import jsonio

    path = os.path.join(YAML_CACHE, sha256(text.encode()).hexdigest() + ".json")
    try:
        with open(path, "rb") as f:
            return jsonio.loads(f.read())
    except (OSError, ValueError):
        pass
    from ..policy.load import parse_yaml  # the policy format's YAML rules (1.2 booleans)

    doc = parse_yaml(text, field)
    try:
        data = jsonio.dumps(doc).encode()
    except (TypeError, ValueError):
        return doc  # dates, non-string keys...: not cached, validation will say what
    try:
        os.makedirs(YAML_CACHE, 0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        pass
    return doc


def load_admin_config(path: str | None) -> AdminConfig:
    path = path or ADMIN_CONFIG
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return AdminConfig()
    raw = parse_yaml_cached(text, "admin-config") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping", "admin-config")
    return AdminConfig(raw)


def load_policy_text(text: str, origin: str):  # noqa: ANN201 - a policy.model.Policy
    """Like policy.load.loads, with the YAML parse cached (the checks always run)."""
    from ..policy.errors import raise_first
    from ..policy.load import validate

    doc = parse_yaml_cached(text, "policy")
    policy, errors = validate(doc, origin=origin)
    raise_first(errors)
    return policy


class PolicyPlan:
    __slots__ = ("engine", "mode", "name", "text", "events_dir", "extra_events", "notify",
                 "removed_env", "warnings", "admin", "resources", "procs_file", "variables",
                 "cgroup_paths", "hook")

    def __init__(self) -> None:
        self.engine = None
        self.mode = "enforce"
        self.name = ""
        self.text = ""
        self.events_dir = ""
        self.extra_events: str | None = None
        self.notify: tuple[str, ...] = ()
        self.removed_env: list[str] = []
        self.warnings: list[str] = []
        self.admin: AdminConfig | None = None
        self.resources: dict = {}
        self.procs_file = ""
        self.variables: dict[str, str] = {}
        self.cgroup_paths: dict[str, str] = {}
        self.hook = False  # the monitor of `hook network` (another runtime's container)


def wants_policy(spec: Spec, default_policy: str | None, admin_path: str | None = None) -> bool:
    """Cheap test on the hot path: without any of these, nothing of the policy layer loads."""
    ann = spec.annotations
    return bool(default_policy or ANN_POLICY in ann or ANN_INLINE in ann or ANN_MODE in ann
                or os.path.exists(admin_path or ADMIN_CONFIG))


def container_variables(spec: Spec) -> dict[str, str]:
    """The ${VAR} values a policy is expanded with: the process's environment, then
    HOME, PROJECT_ROOT (the dev.agentsh.workspace annotation, else the cwd), GIT_ROOT."""
    proc = spec.process
    values = dict(e.split("=", 1) for e in (proc.env if proc else []) if "=" in e)
    project = spec.annotations.get(ANN_WORKSPACE) or (proc.cwd if proc else "/")
    values.update(HOME=_home(spec), PROJECT_ROOT=project, GIT_ROOT=_git_root(spec, project))
    return values


def _home(spec: Spec) -> str:
    from ..init.process import home_of

    uid = spec.process.uid if spec.process else 0
    return home_of(uid, os.path.join(spec.root_path, "etc/passwd"),
                   "/root" if uid == 0 else "/")


def _git_root(spec: Spec, project: str) -> str:
    cur = project
    while True:
        if os.path.exists(os.path.join(spec.root_path, cur.lstrip("/"), ".git")):
            return cur
        if cur in ("/", ""):
            return project
        cur = os.path.dirname(cur)


def resolve(spec: Spec, default_policy: str | None, admin_path: str | None) -> PolicyPlan | None:
    admin = load_admin_config(admin_path)
    ann = spec.annotations
    if ann.get(ANN_CRI_TYPE) == "sandbox":
        return None  # the pod's pause container: nothing to enforce in it
    mode = ann.get(ANN_MODE, "enforce")
    if mode not in ("enforce", "audit", "off"):
        raise ConfigError("must be enforce, audit or off", f"annotations.{ANN_MODE}")
    if mode not in admin.allow_modes:
        raise ConfigError(f"mode {mode!r} is not allowed by the admin config",
                          f"annotations.{ANN_MODE}")
    if mode == "off":
        return None
    use_ann = admin.annotations == "replace"
    inline = ann.get(ANN_INLINE) if use_ann else None
    name = (ann.get(ANN_POLICY) if use_ann else None) or default_policy or admin.default_policy
    if not inline and not name:
        return None
    # only now that a policy applies: the policy package costs ~20 ms to import
    from ..monitor.events import safe_extra_name
    from ..policy.engine import Engine
    from ..policy.resolve import resolve_policy

    plan = PolicyPlan()
    plan.admin = admin
    plan.mode = mode
    if inline:
        if admin.allowed_policies is not None and "inline" not in admin.allowed_policies:
            raise ConfigError("inline policies are not allowed by the admin config",
                              f"annotations.{ANN_INLINE}")
        plan.text, plan.name = inline, "inline"
    else:
        if admin.allowed_policies is not None and name not in admin.allowed_policies:
            raise ConfigError(f"policy {name!r} is not allowed by the admin config",
                              f"annotations.{ANN_POLICY}")
        plan.text, origin = resolve_policy(name, admin.policy_dirs)
        plan.name = name
    policy = load_policy_text(plan.text, plan.name)
    variables = container_variables(spec)
    plan.variables = variables
    plan.engine = Engine(policy, variables, mode="audit" if mode == "audit" else "enforce")
    plan.warnings = list(plan.engine.warnings)
    plan.events_dir = admin.events_dir
    if ANN_EVENTS in ann:
        plan.extra_events = safe_extra_name(ann[ANN_EVENTS])
        if plan.extra_events is None:
            raise ConfigError("must be a file name inside the events directory",
                              f"annotations.{ANN_EVENTS}")
    notify: list[str] = []
    if policy.command_rules:
        notify += EXEC_SYSCALLS
    if plan.engine.filters_signals:
        notify += SIGNAL_SYSCALLS
    if policy.unix_socket_rules:
        notify += UNIX_SYSCALLS
    plan.notify = tuple(notify)
    return plan


def fast_open_possible(spec: Spec) -> bool:
    """Can the monitor answer reads of FUSE-mediated files with backing fds? Needs the
    native library and x86_64; not with an AppArmor profile or SELinux label (the
    monitor's own open would not be checked against them)."""
    if os.environ.get("AGENTSH_NO_FAST_EXEC") == "1" or \
            os.environ.get("AGENTSH_NO_FAST_OPEN") == "1":
        return False
    if os.uname().machine != "x86_64":
        return False
    proc = spec.process
    if proc is not None and (proc.apparmor_profile or proc.selinux_label):
        from ..init.lsm import apparmor_enabled, selinux_enabled

        if (proc.apparmor_profile and apparmor_enabled()) or \
                (proc.selinux_label and selinux_enabled()):
            return False
    lib = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "monitor", "_execfast.so")
    return os.path.exists(lib)


def process_memory_denied(engine) -> bool:  # noqa: ANN001 - a policy.engine.Engine
    """Does the policy deny reading another process's memory or environment?"""
    from ..policy.engine import FileQuery

    if not engine.policy.file_rules:
        return False
    return any(engine.decide("file", FileQuery("read", p)).decision == "deny"
               for p in ("/proc/1/mem", "/proc/1/environ"))


def drop_enforcement_caps(proc, allowed=()) -> None:  # noqa: ANN001 - a spec.model.Process
    """Take away the capabilities that could switch enforcement off, but those the admin
    config allows (`allowed_capabilities`)."""
    keep = set(allowed)
    for kind, names in proc.capabilities.items():
        if names is not None:
            proc.capabilities[kind] = [c for c in names if c not in ENFORCEMENT_CAPS or c in keep]


def apply_to_spec(plan: PolicyPlan, spec: Spec) -> None:
    """env, limits, capabilities and the seccomp profile, in the spec create uses."""
    from ..policy.limits import merge_into_linux_resources

    engine = plan.engine
    proc = spec.process
    if proc is not None:
        kept, removed = engine.filter_env(proc.env)
        proc.env = kept
        plan.removed_env = removed
        drop_enforcement_caps(proc, plan.admin.allowed_capabilities if plan.admin else ())
    devices = []
    for path in [spec.root_path] + [m.source for m in spec.mounts if m.source.startswith("/")]:
        try:
            dev = os.stat(path).st_dev
        except OSError:
            continue
        devices.append((os.major(dev), os.minor(dev)))
    spec.linux.resources = merge_into_linux_resources(spec.linux.resources,
                                                      engine.policy.resource_limits, devices)
    plan.resources = spec.linux.resources
    profile = dict(spec.linux.seccomp or {"defaultAction": "SCMP_ACT_ALLOW"})
    profile.setdefault("architectures", ALL_ARCHES)
    syscalls = list(profile.get("syscalls") or [])
    # io_uring operations do not pass through seccomp notification: no policy rule kind
    # can allow io_uring, so under a policy it is always blocked
    syscalls.append({"names": list(IO_URING), "action": "SCMP_ACT_ERRNO", "errnoRet": 1})
    if plan.mode != "audit" and process_memory_denied(engine):
        # a policy that denies /proc/PID/mem or environ means other processes' memory:
        # the syscalls that reach it without a file are refused too (as agentsh does)
        syscalls.append({"names": list(MEMORY_ACCESS), "action": "SCMP_ACT_ERRNO",
                         "errnoRet": 1})
    profile["syscalls"] = syscalls
    spec.linux.seccomp = profile
