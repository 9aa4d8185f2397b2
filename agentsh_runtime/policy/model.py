"""The typed, validated policy. Built by `load`; read by `Engine` and the monitor.

Globs are kept as written (variables not yet expanded: that needs the container's
values, see `Engine`). Durations are seconds (float). `None` means "not set".
"""

from __future__ import annotations

from dataclasses import dataclass, field

# decisions, by strictness (combining two: the stricter wins)
ALLOW, AUDIT, APPROVE, REDIRECT, SOFT_DELETE, ABSORB, DENY = (
    "allow", "audit", "approve", "redirect", "soft_delete", "absorb", "deny")
STRICTNESS = {ALLOW: 0, AUDIT: 1, APPROVE: 2, REDIRECT: 3, SOFT_DELETE: 3, ABSORB: 3, DENY: 4}

FILE_DECISIONS = frozenset((ALLOW, DENY, AUDIT, APPROVE, REDIRECT, SOFT_DELETE))
NETWORK_DECISIONS = frozenset((ALLOW, DENY, AUDIT, APPROVE))
COMMAND_DECISIONS = frozenset((ALLOW, DENY, AUDIT, APPROVE, REDIRECT))
UNIX_DECISIONS = frozenset((ALLOW, DENY, APPROVE))
SIGNAL_DECISIONS = frozenset((ALLOW, DENY, AUDIT, APPROVE, REDIRECT, ABSORB))

FILE_OPS = frozenset(("open", "read", "write", "create", "delete", "rmdir", "mkdir", "rename",
                      "link", "symlink", "list", "stat", "chmod", "chown", "readlink", "access",
                      "mknod"))
READ_OPS = frozenset(("open", "read", "stat", "list", "readlink", "access"))
UNIX_OPS = frozenset(("connect", "bind", "listen", "sendto"))

SIGNAL_TARGETS = frozenset(("self", "children", "descendants", "siblings", "session", "parent",
                            "external", "user", "system", "process", "pid_range"))

# sections agentsh has that a Linux runtime does not enforce: accepted, reported
NOT_ENFORCED_SECTIONS = ("registry_rules", "package_rules", "http_services", "providers",
                         "mcp_rules", "process_contexts", "process_identities", "db_services",
                         "database_rules", "database_connection_rules", "policies")


@dataclass(frozen=True, slots=True)
class FileRule:
    index: int
    name: str
    paths: tuple[str, ...]
    operations: frozenset[str] | None  # None: every operation
    decision: str
    message: str | None = None
    timeout: float | None = None
    redirect_to: str | None = None
    preserve_tree: bool = False
    description: str | None = None


@dataclass(frozen=True, slots=True)
class NetworkRule:
    index: int
    name: str
    domains: tuple[str, ...]
    ports: frozenset[int]  # empty: any; 0 in it: any
    cidrs: tuple[str, ...]
    decision: str
    message: str | None = None
    timeout: float | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class CommandRedirect:
    command: str
    args: tuple[str, ...] = ()
    args_append: tuple[str, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()

    def argv(self, original: tuple[str, ...] | list[str] = ()) -> list[str]:
        """What runs in place of `original` (its argv): the command, `args`, the
        original's arguments (argv[1:]), then `args_append`."""
        return [self.command, *self.args, *original[1:], *self.args_append]


@dataclass(frozen=True, slots=True)
class CommandRule:
    index: int
    name: str
    commands: tuple[str, ...]  # empty: every command
    args_patterns: tuple[str, ...]
    decision: str
    message: str | None = None
    timeout: float | None = None
    redirect_to: CommandRedirect | None = None
    depth: tuple[int, int] | None = None  # (min, max), max -1 unbounded; None: any
    env_allow: tuple[str, ...] = ()
    env_deny: tuple[str, ...] = ()
    env_max_bytes: int | None = None
    env_max_keys: int | None = None
    env_block_iteration: bool = False
    description: str | None = None


@dataclass(frozen=True, slots=True)
class UnixSocketRule:
    index: int
    name: str
    paths: tuple[str, ...]
    operations: frozenset[str] | None
    decision: str
    message: str | None = None
    timeout: float | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class SignalTarget:
    type: str
    pattern: str | None = None
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True, slots=True)
class SignalRule:
    index: int
    name: str
    signals: frozenset[int]
    target: SignalTarget | None  # None: any target
    decision: str
    fallback: str | None = None
    redirect_to: int | None = None
    message: str | None = None
    timeout: float | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class DnsRedirect:
    index: int
    name: str
    match: str
    resolve_to: str
    visibility: str = "audit_only"
    on_failure: str = "fail_closed"
    message: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectRedirect:
    index: int
    name: str
    match: str
    redirect_to: str | None = None  # host:port
    redirect_to_unix: str | None = None
    tls_mode: str = "passthrough"
    tls_sni: str | None = None
    visibility: str = "audit_only"
    on_failure: str = "fail_closed"
    message: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceLimits:
    max_memory_mb: int | None = None
    memory_swap_max_mb: int | None = None  # 0: no swap
    cpu_quota_percent: float | None = None
    disk_read_bps_max: int | None = None
    disk_write_bps_max: int | None = None
    net_bandwidth_mbps: float | None = None
    pids_max: int | None = None
    command_timeout: float | None = None
    session_timeout: float | None = None
    idle_timeout: float | None = None
    best_effort: bool = False

    def is_empty(self) -> bool:
        return all(getattr(self, f) is None for f in LIMIT_FIELDS)


LIMIT_FIELDS = ("max_memory_mb", "memory_swap_max_mb", "cpu_quota_percent", "disk_read_bps_max",
                "disk_write_bps_max", "net_bandwidth_mbps", "pids_max", "command_timeout",
                "session_timeout", "idle_timeout")


@dataclass(frozen=True, slots=True)
class EnvPolicy:
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    max_bytes: int | None = None
    max_keys: int | None = None
    block_iteration: bool = False


@dataclass(frozen=True, slots=True)
class AuditSettings:
    log_allowed: bool = True
    log_denied: bool = True
    log_approved: bool = True
    retention_days: int | None = None
    include_stdout: bool = False
    include_stderr: bool = False
    include_file_content: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    version: int
    name: str
    description: str | None = None
    file_rules: tuple[FileRule, ...] = ()
    network_rules: tuple[NetworkRule, ...] = ()
    command_rules: tuple[CommandRule, ...] = ()
    unix_socket_rules: tuple[UnixSocketRule, ...] = ()
    signal_rules: tuple[SignalRule, ...] = ()  # none at all: signals are not filtered
    dns_redirects: tuple[DnsRedirect, ...] = ()
    connect_redirects: tuple[ConnectRedirect, ...] = ()
    resource_limits: ResourceLimits = field(default_factory=ResourceLimits)
    env_policy: EnvPolicy = field(default_factory=EnvPolicy)
    env_inject: tuple[tuple[str, str], ...] = ()
    audit: AuditSettings = field(default_factory=AuditSettings)
    transparent_add: tuple[str, ...] = ()
    transparent_remove: tuple[str, ...] = ()
    # what is accepted but has no effect here: section names and field paths
    not_enforced: tuple[str, ...] = ()
    # non-fatal remarks (a field that has no effect with this decision, ...)
    warnings: tuple[str, ...] = ()
    variables: frozenset[str] = frozenset()  # ${NAME}s the policy uses
    origin: str = "<inline>"

    @property
    def filters_signals(self) -> bool:
        return bool(self.signal_rules)
