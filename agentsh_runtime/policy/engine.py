"""Engine: a compiled policy answering `decide(kind, query) -> Decision`.

Per kind, rules are ordered and the first match wins. Each selector of every rule
is compiled once into a lookup that answers for all rules at once with a bitmask
(bit i: rule i matches that selector): globs through one RE2 set per kind,
operations and ports through dicts, CIDRs through one dict per prefix length.
The rules matching a query are the AND of its selectors' masks; the first is the
lowest set bit. So a decision costs a few lookups whatever the number of rules.

No-match defaults (POLICY.md): files: read-like operations allowed, the rest
denied; network: denied (a DNS query: forwarded); commands, unix sockets, signals:
denied; no signal_rules at all: signals are not filtered. Env: see env.py.

Mode `audit`: decisions are what enforce mode would do; `blocks()` says whether
to block in this mode, `Decision.would_block` what enforce would do.
"""

from __future__ import annotations

import re
import socket
from collections import OrderedDict
from typing import Any, NamedTuple

from . import model as m
from .commands import MAX_CANDIDATES, MAX_DEPTH, basename, payloads
from .env import EnvFilter
from .errors import PolicyError, raise_first
from .glob import GlobError, GlobSet
from .regex import Regex
from .variables import VariableError, expand

FILE, NETWORK, COMMAND, UNIX_SOCKET, SIGNAL, ENV = (
    "file", "network", "command", "unix_socket", "signal", "env")
KINDS = (FILE, NETWORK, COMMAND, UNIX_SOCKET, SIGNAL, ENV)
_ALIASES = {"exec": COMMAND, "execve": COMMAND, "unix": UNIX_SOCKET, "connect": NETWORK,
            "dns": NETWORK, "net": NETWORK}

ENFORCE, AUDIT_MODE = "enforce", "audit"
DEFAULT_CACHE = 4096

# a process classified as one target type is also these (the caller may pass one)
TARGET_IMPLIES = {
    "self": ("session",), "children": ("descendants", "session"),
    "descendants": ("session",), "siblings": ("session",), "system": ("session",),
    "parent": ("external",), "user": ("external",),
}

__all__ = ["Engine", "Decision", "FileQuery", "NetQuery", "ExecQuery", "UnixQuery",
           "SignalQuery", "EnvQuery", "KINDS", "FILE", "NETWORK", "COMMAND", "UNIX_SOCKET",
           "SIGNAL", "ENV", "stricter"]


# ---- queries (hashable: they are the cache keys) --------------------------------------

class FileQuery(NamedTuple):
    op: str  # one of model.FILE_OPS, lower case
    path: str  # absolute, as the container sees it, `..` and symlinks resolved
    path2: str | None = None  # rename/link: the other end (both are checked)


class NetQuery(NamedTuple):
    op: str  # "connect" or "dns"
    domain: str | None = None  # the name (DNS: the queried name)
    ip: str | None = None  # the remote address (DNS: may be None)
    port: int = 0  # DNS: 53 when 0


class ExecQuery(NamedTuple):
    path: str  # as given to execve (absolute when the caller resolved a dirfd)
    argv: tuple[str, ...]
    resolved: str | None = None  # the fully resolved path of the file executed
    depth: int = 0  # 0: the container's first process (or an exec'd one), 1+: below
    # more (path, argv) execs to check with this one: a script's #! interpreter
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()


class UnixQuery(NamedTuple):
    op: str  # connect, bind, listen, sendto
    path: str  # the socket path, or "@name" for an abstract socket


class SignalQuery(NamedTuple):
    signal: int  # 0 (probe: matched by every rule whose target matches) .. 64
    targets: frozenset[str]  # what the target process is: self, children, external...
    comm: str | None = None  # the target's comm (for target type process)
    pid: int | None = None  # the target's pid (for target type pid_range)


class EnvQuery(NamedTuple):
    name: str


class Decision(NamedTuple):
    decision: str  # allow, deny, audit, approve, redirect, soft_delete, absorb
    rule: str  # the rule's name, or default-* when no rule matched
    message: str | None = None
    timeout: float | None = None  # approve: seconds to wait (None: the caller's default)
    redirect: Any = None  # file: new path; command: CommandRedirect; signal: number
    kind: str = ""
    spec: Any = None  # the rule object (None for a default decision)
    detail: str | None = None  # which end / candidate decided (rename path2, payload ...)

    @property
    def would_block(self) -> bool:
        """What enforce mode does: deny blocks, approve holds (and may block)."""
        return self.decision == m.DENY or self.decision == m.APPROVE

    @property
    def is_default(self) -> bool:
        return self.spec is None

    @property
    def strictness(self) -> int:
        return m.STRICTNESS.get(self.decision, 4)


def stricter(a: Decision, b: Decision) -> Decision:
    """The stricter of two decisions (the first on a tie)."""
    return b if m.STRICTNESS.get(b.decision, 4) > m.STRICTNESS.get(a.decision, 4) else a


_STRICT = m.STRICTNESS


def _low_bit(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


def _parse_ip(text: str) -> tuple[int, int] | None:
    """(4 or 6, address as int); IPv4-mapped IPv6 addresses count as IPv4."""
    try:
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, TypeError):
        pass
    try:
        v6 = int.from_bytes(socket.inet_pton(socket.AF_INET6, text.split("%", 1)[0]), "big")
    except (OSError, TypeError):
        return None
    if v6 >> 32 == 0xFFFF:
        return 4, v6 & 0xFFFFFFFF
    return 6, v6


_SLASHES = re.compile(r"/{2,}")


def _norm_glob_path(glob: str) -> str:
    glob = _SLASHES.sub("/", glob)
    if len(glob) > 1 and glob.endswith("/") and not glob.endswith("\\/"):
        glob = glob[:-1]
    return glob


class Engine:
    """The compiled `policy`. `variables`: values for ${VAR} (the container's env,
    HOME, PROJECT_ROOT, GIT_ROOT). Raises PolicyError (with `.all`) when a variable
    is undefined or an expanded glob is malformed."""

    def __init__(self, policy: m.Policy, variables: dict[str, str] | None = None,
                 mode: str = ENFORCE, cache_size: int = DEFAULT_CACHE) -> None:
        if mode not in (ENFORCE, AUDIT_MODE):
            raise PolicyError(f"unknown mode {mode!r} (enforce or audit)", "mode")
        self.policy = policy
        self.mode = mode
        self.warnings: list[str] = list(policy.warnings)
        self._values = dict(variables or {})
        self._errors: list[PolicyError] = []
        self._cache: OrderedDict = OrderedDict()
        self._cache_size = max(0, int(cache_size))
        root = self._values.get("PROJECT_ROOT")
        if "PROJECT_ROOT" in policy.variables and root is not None and root.strip("/") == "":
            self.warnings.append("PROJECT_ROOT is '/': '${PROJECT_ROOT}/**' then means every "
                                 "path in the container")
        self._compile_files()
        self._compile_network()
        self._compile_commands()
        self._compile_unix()
        self._compile_signals()
        self._compile_redirects()
        raise_first(self._errors)
        self._env_filters: dict[int, EnvFilter] = {}
        self._env_default = EnvFilter(policy.env_policy, policy.env_inject)
        self._eval = {FILE: self._file, NETWORK: self._network, COMMAND: self._command,
                      UNIX_SOCKET: self._unix, SIGNAL: self._signal, ENV: self._env}

    # ---- public ---------------------------------------------------------------------

    @property
    def filters_signals(self) -> bool:
        """False when the policy has no signal_rules: install no signal filter."""
        return self.policy.filters_signals

    def blocks(self, decision: Decision) -> bool:
        """Whether to block (or hold) in this engine's mode."""
        return self.mode == ENFORCE and decision.would_block

    def decide(self, kind: str, query: Any) -> Decision:
        """The decision for `query` (a FileQuery, NetQuery, ExecQuery, UnixQuery,
        SignalQuery or EnvQuery, per kind), from the cache when asked before."""
        key = (kind, query)
        cache = self._cache
        try:
            hit = cache.get(key)
        except TypeError:  # an unhashable query (argv as a list): evaluate
            return self.evaluate(kind, query)
        if hit is not None:
            try:
                cache.move_to_end(key)
            except KeyError:  # evicted by another thread meanwhile
                pass
            return hit
        d = self.evaluate(kind, query)
        if self._cache_size:
            cache[key] = d
            if len(cache) > self._cache_size:
                try:
                    cache.popitem(last=False)
                except KeyError:
                    pass
        return d

    def command_uses_depth(self) -> bool:
        """Does any command rule's decision depend on the exec's depth (`context`)?"""
        return any(d is not None for d in self._c_depth)

    def evaluate(self, kind: str, query: Any) -> Decision:
        """`decide` without the cache."""
        fn = self._eval.get(kind) or self._eval.get(_ALIASES.get(kind, ""))
        if fn is None:
            raise ValueError(f"unknown decision kind {kind!r} (one of {', '.join(KINDS)})")
        return fn(query)

    def cache_clear(self) -> None:
        self._cache.clear()

    # convenience wrappers
    def file(self, op: str, path: str, path2: str | None = None) -> Decision:
        return self.decide(FILE, FileQuery(op, path, path2))

    def connect(self, domain: str | None, ip: str | None, port: int) -> Decision:
        return self.decide(NETWORK, NetQuery("connect", domain, ip, port))

    def dns(self, name: str, server_ip: str | None = None) -> Decision:
        return self.decide(NETWORK, NetQuery("dns", name, server_ip, 53))

    def exec(self, path: str, argv: list[str] | tuple[str, ...], resolved: str | None = None,
             depth: int = 0, extra: tuple = ()) -> Decision:
        ext = tuple((p, tuple(a)) for p, a in extra)
        return self.decide(COMMAND, ExecQuery(path, tuple(argv), resolved, depth, ext))

    def unix(self, op: str, path: str) -> Decision:
        return self.decide(UNIX_SOCKET, UnixQuery(op, path))

    def signal(self, sig: int, targets: str | frozenset[str] | tuple[str, ...],
               comm: str | None = None, pid: int | None = None) -> Decision:
        t = frozenset((targets,)) if isinstance(targets, str) else frozenset(targets)
        return self.decide(SIGNAL, SignalQuery(sig, t, comm, pid))

    def env(self, name: str) -> Decision:
        return self.decide(ENV, EnvQuery(name))

    def filter_env(self, env_list: list[str],
                   command_rule: m.CommandRule | None = None,
                   inject: bool = True) -> tuple[list[str], list[str]]:
        """process.env filtered by env_policy (and the command rule's env_allow,
        env_deny, env_max_*), then env_inject: (kept, names removed). PolicyError when
        over max_keys or max_bytes."""
        if command_rule is None:
            return self._env_default.filter(env_list, inject)
        f = self._env_filters.get(command_rule.index)
        if f is None:
            f = EnvFilter(self.policy.env_policy, self.policy.env_inject, command_rule)
            self._env_filters[command_rule.index] = f
        return f.filter(env_list, inject)

    def dns_redirect(self, name: str) -> m.DnsRedirect | None:
        """The first dns_redirects rule whose `match` finds the name (lower-cased,
        without the trailing dot)."""
        text = name.rstrip(".").lower().encode("utf-8", "surrogateescape")
        for rx, rule in self._dns_redirects:
            if rx.test(text):
                return rule
        return None

    def connect_redirect(self, host: str, port: int) -> m.ConnectRedirect | None:
        """The first connect_redirects rule whose `match` finds `host:port`."""
        text = f"{host.rstrip('.').lower()}:{port}".encode("utf-8", "surrogateescape")
        for rx, rule in self._connect_redirects:
            if rx.test(text):
                return rule
        return None

    # ---- compile helpers ------------------------------------------------------------

    def _expand(self, globs: tuple[str, ...], field: str, domain: bool) -> list[str]:
        out = []
        for j, g in enumerate(globs):
            try:
                text = expand(g, self._values) if "${" in g else g
            except VariableError as exc:
                self._errors.append(PolicyError(str(exc), f"{field}[{j}]"))
                continue
            if domain:
                text = text.lower()
                if text.endswith(".") and not text.endswith("\\."):
                    text = text[:-1]
            else:
                text = _norm_glob_path(text)
            out.append(text)
        return out

    def _globset(self, items: list[tuple[str, int]], sep: str | None, fold: bool,
                 field: str, memo: int = 0) -> GlobSet:
        try:
            return GlobSet(items, sep, fold, memo)
        except GlobError:
            # name the bad one
            for g, i in items:
                try:
                    GlobSet([(g, 0)], sep, fold)
                except GlobError as exc:
                    self._errors.append(PolicyError(f"bad glob {g!r} after expansion: {exc}",
                                                    f"{field}[{i}]"))
            return GlobSet([], sep, fold)

    @staticmethod
    def _decision(rule: Any, kind: str, redirect: Any = None) -> Decision:
        return Decision(rule.decision, rule.name, rule.message, rule.timeout, redirect, kind,
                        rule)

    # ---- files ----------------------------------------------------------------------

    def _compile_files(self) -> None:
        rules = self.policy.file_rules
        items: list[tuple[str, int]] = []
        all_ops = 0
        op_masks = dict.fromkeys(m.FILE_OPS, 0)
        for i, r in enumerate(rules):
            for g in self._expand(r.paths, f"file_rules[{i}].paths", domain=False):
                items.append((g, i))
            if r.operations is None:
                all_ops |= 1 << i
            else:
                for op in r.operations:
                    op_masks[op] |= 1 << i
        self._f_items = items
        self._f_globs = self._globset(items, "/", False, "file_rules")
        self._f_ops = {op: mask | all_ops for op, mask in op_masks.items()}
        self._f_other = all_ops
        self._f_dec = [self._decision(r, FILE) for r in rules]
        self._f_allow = Decision(m.ALLOW, "default-allow-reads", None, None, None, FILE)
        self._f_deny = Decision(m.DENY, "default-deny-files", None, None, None, FILE)

    def file_globs_for(self, op: str) -> tuple[list[tuple[str, int]], list[Decision]]:
        """The expanded globs (glob, rule index) of the rules that decide `op`, and every
        rule's decision: what a native matcher needs to decide `op` as `file` does
        (lowest matching index wins; none: allowed for READ_OPS, else denied)."""
        mask = self._f_ops.get(op, self._f_other)
        return ([(g, i) for g, i in self._f_items if mask >> i & 1], list(self._f_dec))

    def _file_one(self, op: str, path: str) -> Decision:
        ops = self._f_ops.get(op)
        if ops is None:
            op = op.lower()
            ops = self._f_ops.get(op, self._f_other)
        if ops:
            hit = ops & self._f_globs.mask(path)
            if hit:
                d = self._f_dec[_low_bit(hit)]
                if d.decision == m.REDIRECT and d.spec.redirect_to:
                    base = d.spec.redirect_to.rstrip("/")
                    target = base + path if d.spec.preserve_tree else (
                        base + "/" + basename(path))
                    d = d._replace(redirect=target)
                return d
        return self._f_allow if op in m.READ_OPS else self._f_deny

    def _file(self, q: FileQuery) -> Decision:
        d = self._file_one(q.op, q.path)
        if q.path2 is None:
            return d
        d2 = self._file_one(q.op, q.path2)
        if _STRICT[d2.decision] > _STRICT[d.decision]:
            return d2._replace(detail="path2")
        return d

    # ---- network --------------------------------------------------------------------

    def _compile_network(self) -> None:
        import ipaddress

        rules = self.policy.network_rules
        items: list[tuple[str, int]] = []
        self._n_no_dom = self._n_no_cidr = self._n_any_port = 0
        self._n_ports: dict[int, int] = {}
        cidr: dict[int, dict[int, dict[int, int]]] = {4: {}, 6: {}}
        for i, r in enumerate(rules):
            bit = 1 << i
            domains = self._expand(r.domains, f"network_rules[{i}].domains", domain=True)
            if not r.domains:
                self._n_no_dom |= bit
            items.extend((g, i) for g in domains)
            if not r.ports or 0 in r.ports:
                self._n_any_port |= bit
            else:
                for p in r.ports:
                    self._n_ports[p] = self._n_ports.get(p, 0) | bit
            if not r.cidrs:
                self._n_no_cidr |= bit
            for text in r.cidrs:
                net = ipaddress.ip_network(text, strict=False)
                ver, plen, addr = net.version, net.prefixlen, int(net.network_address)
                if ver == 6 and plen >= 96 and addr >> 32 == 0xFFFF:
                    ver, plen, addr = 4, plen - 96, addr & 0xFFFFFFFF
                bits = 32 if ver == 4 else 128
                table = cidr[ver].setdefault(plen, {})
                key = addr >> (bits - plen)
                table[key] = table.get(key, 0) | bit
        self._n_doms = self._globset(items, ".", True, "network_rules")
        self._n_has_dom = bool(items) or any(r.domains for r in rules)
        self._n_has_cidr = any(r.cidrs for r in rules)
        self._n_cidr = {ver: sorted(t.items()) for ver, t in cidr.items()}
        self._n_dec = [self._decision(r, NETWORK) for r in rules]
        self._n_deny = Decision(m.DENY, "default-deny-network", None, None, None, NETWORK)
        self._n_dns = Decision(m.ALLOW, "default-dns-forward", None, None, None, NETWORK)
        self._n_bad = Decision(m.DENY, "invalid-query", "not an IP address", None, None,
                               NETWORK)

    def _network(self, q: NetQuery) -> Decision:
        dns = q.op == "dns"
        port = q.port or (53 if dns else 0)
        hit = self._n_any_port | self._n_ports.get(port, 0)
        if hit and self._n_has_dom:
            dm = self._n_no_dom
            if q.domain:
                name = q.domain.lower()
                if name.endswith("."):
                    name = name[:-1]
                dm |= self._n_doms.mask(name)
            hit &= dm
        if hit and self._n_has_cidr:
            cm = self._n_no_cidr
            if q.ip:
                parsed = _parse_ip(q.ip)
                if parsed is None:
                    return self._n_bad
                ver, addr = parsed
                bits = 32 if ver == 4 else 128
                for plen, table in self._n_cidr[ver]:
                    cm |= table.get(addr >> (bits - plen), 0)
            hit &= cm
        elif q.ip and _parse_ip(q.ip) is None:
            return self._n_bad
        if hit:
            return self._n_dec[_low_bit(hit)]
        return self._n_dns if dns else self._n_deny

    # ---- commands -------------------------------------------------------------------

    def _compile_commands(self) -> None:
        rules = self.policy.command_rules
        base_items: list[tuple[str, int]] = []
        path_items: list[tuple[str, int]] = []
        self._c_no_cmd = 0
        self._c_args: list[list[Regex] | None] = []
        self._c_depth: list[tuple[int, int] | None] = []
        for i, r in enumerate(rules):
            if not r.commands:
                self._c_no_cmd |= 1 << i
            for c in r.commands:
                (path_items if "/" in c else base_items).append((c, i))
            self._c_args.append([Regex(p, anchored=False, latin1=False)
                                 for p in r.args_patterns] or None)
            self._c_depth.append(r.depth)
        self._c_base = self._globset(base_items, None, True, "command_rules", memo=1024)
        self._c_path = self._globset(path_items, "/", False, "command_rules")
        self._c_dec = [self._decision(r, COMMAND, r.redirect_to) for r in rules]
        self._c_depth_masks: dict[int, int] = {}
        self._c_wrappers = frozenset(self.policy.transparent_add)
        self._c_deny = Decision(m.DENY, "default-deny-commands", None, None, None, COMMAND)
        self._c_too_deep = Decision(m.DENY, "wrapper-depth-exceeded",
                                    f"more than {MAX_DEPTH} levels of wrappers", None, None,
                                    COMMAND)
        self._c_bad = Decision(m.DENY, "invalid-query", "empty path", None, None, COMMAND)

    def _depth_mask(self, depth: int) -> int:
        mask = self._c_depth_masks.get(depth)
        if mask is None:
            mask = 0
            for i, rng in enumerate(self._c_depth):
                if rng is None or (rng[0] <= depth and (rng[1] < 0 or depth <= rng[1])):
                    mask |= 1 << i
            if len(self._c_depth_masks) < 256:
                self._c_depth_masks[depth] = mask
        return mask

    def _cmd_one(self, word: str, argv: tuple[str, ...], dmask: int) -> Decision:
        hit = self._c_base.mask(basename(word)) | self._c_no_cmd
        if "/" in word:
            hit |= self._c_path.mask(word)
        hit &= dmask
        joined = None
        while hit:
            low = hit & -hit
            i = low.bit_length() - 1
            pats = self._c_args[i]
            if pats is None:
                return self._c_dec[i]
            if joined is None:
                joined = " ".join(argv).encode("utf-8", "surrogateescape")
            for rx in pats:
                if rx.test(joined):
                    return self._c_dec[i]
            hit ^= low
        return self._c_deny

    def candidates(self, q: ExecQuery) -> list[tuple[str, tuple[str, ...], str, bool]] | None:
        """Every (command, argv, label, strong) the exec is checked as; None when wrappers
        nest deeper than MAX_DEPTH or give more than MAX_CANDIDATES.

        Strong candidates are what runs: the path as given, the resolved path, the
        payloads of wrappers and multi-call binaries, a #! interpreter; one that no rule
        matches gets the default (deny). argv[0] is a name the caller chose: it counts
        when a rule matches it (so it can only make the decision stricter)."""
        argv = tuple(q.argv)
        out: list[tuple[str, tuple[str, ...], str, bool]] = []
        index: dict[tuple[str, tuple[str, ...]], int] = {}

        def add(word: str, av: tuple[str, ...], label: str, strong: bool) -> None:
            if not word:
                return
            i = index.get((word, av))
            if i is None:
                index[(word, av)] = len(out)
                out.append((word, av, label, strong))
            elif strong and not out[i][3]:
                out[i] = (word, av, label, True)

        add(q.path, argv, "path", True)
        if q.resolved:
            add(q.resolved, argv, "resolved", True)
        if argv and argv[0]:
            add(argv[0], argv, "argv0", False)
        names = {basename(w).lower() for w in (q.path, q.resolved, argv[0] if argv else "")
                 if w}
        frontier = [(names, argv)]
        for path, av in q.extra:
            av = tuple(av)
            add(path, av, "interpreter", True)
            if av and av[0]:
                add(av[0], av, "interpreter argv0", False)
            frontier.append(({basename(path).lower(), basename(av[0]).lower() if av else ""},
                             av))
        level = 0
        while frontier:
            nxt = []
            for nm, av in frontier:
                for p in payloads(nm, av, self._c_wrappers):
                    if level >= MAX_DEPTH or len(out) >= MAX_CANDIDATES:
                        return None
                    add(p[0], p, "payload", True)
                    nxt.append(({basename(p[0]).lower()}, p))
            frontier = nxt
            level += 1
        return out

    def _command(self, q: ExecQuery) -> Decision:
        cands = self.candidates(q)
        if cands is None:
            return self._c_too_deep
        if not q.path or not cands[0][3]:
            return self._c_bad  # nothing that runs to check (argv[0] alone only tightens)
        dmask = self._depth_mask(q.depth if q.depth is not None and q.depth >= 0 else 0)
        best: Decision | None = None
        best_label = best_word = "path"
        for word, av, label, strong in cands:
            d = self._cmd_one(word, av, dmask)
            if d.spec is None and not strong:
                continue  # argv[0] matched no rule: it neither allows nor denies
            if best is None or _STRICT[d.decision] > _STRICT[best.decision] or (
                    _STRICT[d.decision] == _STRICT[best.decision] and best.spec is None
                    and d.spec is not None):
                best, best_label, best_word = d, label, word
                if d.decision == m.DENY and d.spec is not None:
                    break
        assert best is not None  # the path is a strong candidate
        if best_label != "path":
            best = best._replace(detail=f"{best_label} {best_word}")
        return best

    # ---- unix sockets ---------------------------------------------------------------

    def _compile_unix(self) -> None:
        rules = self.policy.unix_socket_rules
        items = [(g, i) for i, r in enumerate(rules) for g in r.paths]
        all_ops = 0
        op_masks = dict.fromkeys(m.UNIX_OPS, 0)
        for i, r in enumerate(rules):
            if r.operations is None:
                all_ops |= 1 << i
            else:
                for op in r.operations:
                    op_masks[op] |= 1 << i
        self._u_globs = self._globset(items, "/", False, "unix_socket_rules")
        self._u_ops = {op: mask | all_ops for op, mask in op_masks.items()}
        self._u_other = all_ops
        self._u_dec = [self._decision(r, UNIX_SOCKET) for r in rules]
        self._u_deny = Decision(m.DENY, "default-deny-unix", None, None, None, UNIX_SOCKET)

    def _unix(self, q: UnixQuery) -> Decision:
        ops = self._u_ops.get(q.op)
        if ops is None:
            ops = self._u_ops.get(q.op.lower(), self._u_other)
        if ops:
            hit = ops & self._u_globs.mask(q.path)
            if hit:
                return self._u_dec[_low_bit(hit)]
        return self._u_deny

    # ---- signals --------------------------------------------------------------------

    def _compile_signals(self) -> None:
        rules = self.policy.signal_rules
        self._s_sig = [0] * 65
        self._s_no_target = 0
        self._s_types: dict[str, int] = {}
        proc_items: list[tuple[str, int]] = []
        self._s_ranges: list[tuple[int, int, int]] = []
        every = 0
        for i, r in enumerate(rules):
            bit = 1 << i
            every |= bit
            for s in r.signals:
                self._s_sig[s] |= bit
            t = r.target
            if t is None:
                self._s_no_target |= bit
            elif t.type == "process":
                proc_items.append((t.pattern or "", i))
            elif t.type == "pid_range":
                self._s_ranges.append((bit, t.min or 1, t.max or 0))
            else:
                self._s_types[t.type] = self._s_types.get(t.type, 0) | bit
        self._s_sig[0] = every  # signal 0 sends nothing: decided by the target alone
        self._s_procs = self._globset(proc_items, None, False, "signal_rules")
        self._s_has_procs = bool(proc_items)
        self._s_dec = [self._decision(r, SIGNAL, r.redirect_to) for r in rules]
        self._s_deny = Decision(m.DENY, "default-deny-signals", None, None, None, SIGNAL)
        self._s_open = Decision(m.ALLOW, "signals-not-filtered", None, None, None, SIGNAL)
        self._s_bad = Decision(m.DENY, "invalid-query", "signal out of range", None, None,
                               SIGNAL)

    def _signal(self, q: SignalQuery) -> Decision:
        if not self.policy.signal_rules:
            return self._s_open
        sig = q.signal
        if not isinstance(sig, int) or not 0 <= sig <= 64:
            return self._s_bad
        hit = self._s_sig[sig]
        if not hit:
            return self._s_deny
        types = self._s_types
        tm = self._s_no_target
        targets = (q.targets,) if isinstance(q.targets, str) else (q.targets or ())
        for t in targets:
            tm |= types.get(t, 0)
            for implied in TARGET_IMPLIES.get(t, ()):
                tm |= types.get(implied, 0)
        if q.comm is not None and self._s_has_procs:
            tm |= self._s_procs.mask(q.comm)
        if q.pid is not None:
            for bit, lo, hi in self._s_ranges:
                if lo <= q.pid <= hi:
                    tm |= bit
        hit &= tm
        if hit:
            return self._s_dec[_low_bit(hit)]
        return self._s_deny

    # ---- env ------------------------------------------------------------------------

    def _env(self, q: EnvQuery) -> Decision:
        ok, why = self._env_default.check(q.name)
        return Decision(m.ALLOW if ok else m.DENY, why, None, None, None, ENV)

    # ---- redirects ------------------------------------------------------------------

    def _compile_redirects(self) -> None:
        self._dns_redirects = [(Regex(r.match, anchored=False, latin1=False), r)
                               for r in self.policy.dns_redirects]
        self._connect_redirects = [(Regex(r.match, anchored=False, latin1=False), r)
                                   for r in self.policy.connect_redirects]
