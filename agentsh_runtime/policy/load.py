"""Policy YAML -> validated `Policy`, every error naming its field.

Checks: unknown keys (and duplicate keys) anywhere we define the shape; types;
`version` int > 0 and `name`; decisions known for the rule kind; operations known;
globs well formed; regexes compile under RE2; CIDRs and IPs parse; ports
0-65535; durations like `5m`; signals and target types valid; fields a decision
needs (`redirect_to` for redirect...). Sections agentsh has that we do not
enforce are accepted and listed in `Policy.not_enforced` (errors when `strict`).

`load(path)` is the only function here that reads a file.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from . import model as m
from .errors import PolicyError, raise_first
from .glob import GlobError, translate
from .regex import check_regex
from .signals import SignalError, parse_signal_spec
from .variables import VariableError, placeholder_expand, references

MAX_POLICY_BYTES = 4 << 20

TOP_KEYS = frozenset((
    "version", "name", "description", "metadata", "file_rules", "network_rules",
    "command_rules", "unix_socket_rules", "signal_rules", "dns_redirects", "connect_redirects",
    "resource_limits", "env_policy", "env_inject", "audit", "transparent_commands",
)) | frozenset(m.NOT_ENFORCED_SECTIONS)

COMMON = ("name", "description", "message", "timeout")
FILE_KEYS = frozenset(COMMON + ("paths", "operations", "decision", "redirect_to",
                                "preserve_tree"))
NETWORK_KEYS = frozenset(COMMON + ("domains", "ports", "cidrs", "decision"))
COMMAND_KEYS = frozenset(COMMON + ("commands", "args_patterns", "decision", "redirect_to",
                                   "context", "env_allow", "env_deny", "env_max_bytes",
                                   "env_max_keys", "env_block_iteration"))
REDIRECT_KEYS = frozenset(("command", "args", "args_append", "environment"))
UNIX_KEYS = frozenset(COMMON + ("paths", "operations", "decision"))
SIGNAL_KEYS = frozenset(COMMON + ("signals", "target", "decision", "fallback", "redirect_to"))
TARGET_KEYS = frozenset(("type", "pattern", "min", "max"))
DNS_KEYS = frozenset(COMMON + ("match", "resolve_to", "visibility", "on_failure"))
CONNECT_KEYS = frozenset(COMMON + ("match", "redirect_to", "redirect_to_unix", "tls",
                                   "visibility", "on_failure"))
TLS_KEYS = frozenset(("mode", "sni"))
LIMIT_KEYS = frozenset(m.LIMIT_FIELDS + ("best_effort",))
ENV_KEYS = frozenset(("allow", "deny", "max_bytes", "max_keys", "block_iteration"))
AUDIT_KEYS = frozenset(("log_allowed", "log_denied", "log_approved", "retention_days",
                        "include_stdout", "include_stderr", "include_file_content"))
TRANSPARENT_KEYS = frozenset(("add", "remove"))
CONTEXT_KEYS = frozenset(("min_depth", "max_depth"))

VISIBILITY = ("silent", "audit_only", "warn")
ON_FAILURE = ("fail_closed", "fail_open", "retry_original")
TLS_MODES = ("passthrough", "rewrite_sni")

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
          "h": 3600.0}
_ENV_NAME = re.compile(r"[^=\x00]+\Z")
_HOSTPORT = re.compile(r"(?:\[([0-9A-Fa-f:.]+)\]|([^:\[\]]+)):(\d+)\Z")

__all__ = ["load", "loads", "parse_yaml", "validate", "parse_duration", "format_path"]


# ---- YAML -----------------------------------------------------------------------------

def _loader_class():
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictLoader(base):  # type: ignore[misc, valid-type]
        """safe_load plus an error on a key given twice (yaml.v3 refuses those too), and
        YAML 1.2 scalars as agentsh's decoder reads them: only true/false are booleans
        (`yes`, `no`, `on`, `off` stay strings: `commands: [yes]`), no timestamps."""

    resolvers = {}
    for first, entries in base.yaml_implicit_resolvers.items():
        kept = [(tag, rx) for tag, rx in entries
                if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
        if kept:
            resolvers[first] = kept
    StrictLoader.yaml_implicit_resolvers = resolvers
    StrictLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"))

    def construct_mapping(loader, node, deep=False):  # noqa: ANN001, ANN202
        seen: set = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                dup = key in seen
            except TypeError:
                dup = False
            if dup:
                line = key_node.start_mark.line + 1
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice (line {line})", key_node.start_mark)
            try:
                seen.add(key)
            except TypeError:
                pass
        return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=deep)

    StrictLoader.add_constructor("tag:yaml.org,2002:map", construct_mapping)
    return StrictLoader, yaml


_LOADER = None


def parse_yaml(text: str | bytes, origin: str = "<inline>") -> Any:
    """The YAML document, or PolicyError naming the line."""
    global _LOADER
    if len(text) > MAX_POLICY_BYTES:
        raise PolicyError(f"policy is larger than {MAX_POLICY_BYTES} bytes", origin)
    if _LOADER is None:
        _LOADER = _loader_class()
    loader_cls, yaml = _LOADER
    try:
        return yaml.load(text, Loader=loader_cls)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise PolicyError(f"not valid YAML: {' '.join(str(exc).split())}", origin) from None


def load(path: str, strict: bool = False) -> m.Policy:
    """Read and validate the policy file at `path`."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError(f"cannot read policy: {exc.strerror or exc}", path) from None
    return loads(data, origin=path, strict=strict)


def loads(text: str | bytes, origin: str = "<inline>", strict: bool = False) -> m.Policy:
    """Validate policy YAML `text`; raises the first PolicyError (with `.all`)."""
    doc = parse_yaml(text, origin)
    policy, errors = validate(doc, strict=strict, origin=origin)
    raise_first(errors)
    assert policy is not None
    return policy


# ---- helpers --------------------------------------------------------------------------

def format_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """['file_rules', 3, 'operatons'] -> 'file_rules[3].operatons'."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def parse_duration(value: Any) -> float:
    """Go-style duration (`5m`, `1h30m`, `300ms`, `1.5h`, `0`) -> seconds."""
    if isinstance(value, bool):
        raise ValueError("must be a duration like 5m or 4h")
    if isinstance(value, (int, float)):
        if value == 0:
            return 0.0
        raise ValueError(f"{value!r} needs a unit: a duration like 5m, 4h or 30s")
    if not isinstance(value, str):
        raise ValueError("must be a duration like 5m or 4h")
    text = value.strip()
    if text.startswith("+"):
        text = text[1:]
    if text.startswith("-"):
        raise ValueError(f"{value!r}: a duration cannot be negative")
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    if not text:
        raise ValueError("empty duration")
    while pos < len(text):
        mt = _DURATION.match(text, pos)
        if mt is None:
            raise ValueError(f"{value!r} is not a duration (like 5m, 4h, 1h30m, 300ms)")
        total += float(mt.group(1)) * _UNITS[mt.group(2)]
        pos = mt.end()
    return total


class _Checker:
    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.errors: list[PolicyError] = []
        self.not_enforced: list[str] = []
        self.warnings: list[str] = []
        self.variables: set[str] = set()

    # errors
    def err(self, path: list, reason: str) -> None:
        self.errors.append(PolicyError(reason, format_path(path)))

    def unenforced(self, path: list, what: str) -> None:
        where = format_path(path)
        if self.strict:
            self.err(path, f"{what}: not enforced by agentsh-runtime (refused with strict)")
        else:
            self.not_enforced.append(where)

    # shapes
    def mapping(self, value: Any, path: list, known: frozenset[str]) -> dict | None:
        if not isinstance(value, dict):
            self.err(path, f"must be a mapping, not {_kind(value)}")
            return None
        for key in value:
            if not isinstance(key, str):
                self.err(path, f"keys must be strings, not {key!r}")
            elif key not in known:
                self.err(path + [key], "unknown key")
        return value

    def seq(self, value: Any, path: list) -> list | None:
        if value is None:
            return []
        if not isinstance(value, list):
            self.err(path, f"must be a list, not {_kind(value)}")
            return None
        return value

    def string(self, value: Any, path: list, required: bool = False,
               nonempty: bool = False) -> str | None:
        if value is None:
            if required:
                self.err(path, "required")
            return None
        if not isinstance(value, str):
            self.err(path, f"must be a string, not {_kind(value)}")
            return None
        if nonempty and not value.strip():
            self.err(path, "must not be empty")
            return None
        return value

    def strings(self, value: Any, path: list) -> list[str]:
        items = self.seq(value, path)
        out: list[str] = []
        for i, item in enumerate(items or ()):
            s = self.string(item, path + [i])
            if s is not None:
                if not s:
                    self.err(path + [i], "must not be empty")
                else:
                    out.append(s)
        return out

    def boolean(self, value: Any, path: list) -> bool | None:
        if value is None:
            return None
        if not isinstance(value, bool):
            self.err(path, f"must be true or false, not {_kind(value)}")
            return None
        return value

    def integer(self, value: Any, path: list, lo: int | None = None,
                hi: int | None = None) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.err(path, f"must be an integer, not {_kind(value)}")
            return None
        if lo is not None and value < lo:
            self.err(path, f"must be at least {lo}")
            return None
        if hi is not None and value > hi:
            self.err(path, f"must be at most {hi}")
            return None
        return value

    def number(self, value: Any, path: list, lo: float = 0.0) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.err(path, f"must be a number, not {_kind(value)}")
            return None
        if value != value or value < lo or value == float("inf"):
            self.err(path, f"must be a number of at least {lo}")
            return None
        return float(value)

    def duration(self, value: Any, path: list) -> float | None:
        if value is None:
            return None
        try:
            secs = parse_duration(value)
        except ValueError as exc:
            self.err(path, str(exc))
            return None
        return secs or None

    def decision(self, value: Any, path: list, allowed: frozenset[str], kind: str) -> str | None:
        if value is None:
            self.err(path, "required")
            return None
        if not isinstance(value, str):
            self.err(path, f"must be a string, not {_kind(value)}")
            return None
        d = value.strip().lower()
        if d not in allowed:
            self.err(path, f"unknown decision {value!r} for {kind} (one of "
                     f"{', '.join(sorted(allowed))})")
            return None
        return d

    def operations(self, value: Any, path: list, vocab: frozenset[str],
                   kind: str) -> frozenset[str] | None:
        ops = self.strings(value, path)
        out: set[str] = set()
        every = not ops
        for i, op in enumerate(ops):
            low = op.strip().lower()
            if low == "*":
                every = True
            elif low in vocab:
                out.add(low)
            else:
                self.err(path + [i], f"unknown {kind} operation {op!r} (one of "
                         f"{', '.join(sorted(vocab))}, or \"*\")")
        return None if every else frozenset(out)

    def globs(self, value: Any, path: list, sep: str | None, variables: bool,
              required: bool = True) -> list[str]:
        items = self.strings(value, path)
        if required and (value is None or value == []):
            self.err(path, "required: at least one pattern")
        for i, g in enumerate(items):
            probe = g
            if variables:
                try:
                    self.variables.update(references(g))
                    probe = placeholder_expand(g)
                except VariableError as exc:
                    self.err(path + [i], str(exc))
                    continue
            elif "${" in g:
                self.err(path + [i], "variables are expanded only in file_rules[].paths and "
                         "network_rules[].domains")
                continue
            try:
                translate(probe, sep)
            except GlobError as exc:
                self.err(path + [i], f"bad glob {g!r}: {exc}")
        return items

    def regex(self, value: Any, path: list, required: bool = False) -> str | None:
        s = self.string(value, path, required=required)
        if s is None:
            return None
        reason = check_regex(s)
        if reason is not None:
            self.err(path, f"bad regular expression {s!r} (RE2 syntax): {reason}")
            return None
        return s

    def common(self, rule: dict, path: list) -> tuple[str | None, str | None, float | None]:
        name = self.string(rule.get("name"), path + ["name"])
        self.string(rule.get("description"), path + ["description"])
        message = self.string(rule.get("message"), path + ["message"])
        timeout = self.duration(rule.get("timeout"), path + ["timeout"])
        return name, message, timeout

    def absolute(self, value: Any, path: list, required: bool = False) -> str | None:
        s = self.string(value, path, required=required)
        if s is None:
            return None
        if "${" in s:
            self.err(path, "variables are expanded only in file_rules[].paths and "
                     "network_rules[].domains")
            return None
        if not s.startswith("/"):
            self.err(path, f"must be an absolute path, not {s!r}")
            return None
        return s


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def _rules(c: _Checker, doc: dict, section: str) -> list[tuple[int, dict, list]]:
    items = c.seq(doc.get(section), [section])
    return [(i, r, [section, i]) for i, r in enumerate(items or ())]


# ---- sections -------------------------------------------------------------------------

def _file_rules(c: _Checker, doc: dict) -> list[m.FileRule]:
    out = []
    for i, raw, path in _rules(c, doc, "file_rules"):
        r = c.mapping(raw, path, FILE_KEYS)
        if r is None:
            continue
        name, message, timeout = c.common(r, path)
        paths = c.globs(r.get("paths"), path + ["paths"], "/", variables=True)
        ops = c.operations(r.get("operations"), path + ["operations"], m.FILE_OPS, "file")
        decision = c.decision(r.get("decision"), path + ["decision"], m.FILE_DECISIONS,
                              "file_rules")
        redirect_to = c.absolute(r.get("redirect_to"), path + ["redirect_to"])
        preserve = c.boolean(r.get("preserve_tree"), path + ["preserve_tree"])
        if decision == m.REDIRECT and redirect_to is None and "redirect_to" not in r:
            c.err(path + ["redirect_to"], "required with decision redirect")
        elif decision not in (m.REDIRECT, None) and r.get("redirect_to") is not None:
            c.warnings.append(f"{format_path(path)}.redirect_to: has no effect with decision "
                              f"{decision}")
        if decision is None:
            continue
        out.append(m.FileRule(i, name or f"file_rules[{i}]", tuple(paths), ops, decision,
                              message, timeout, redirect_to, bool(preserve), r.get("description")))
    return out


def _network_rules(c: _Checker, doc: dict) -> list[m.NetworkRule]:
    out = []
    for i, raw, path in _rules(c, doc, "network_rules"):
        r = c.mapping(raw, path, NETWORK_KEYS)
        if r is None:
            continue
        name, message, timeout = c.common(r, path)
        domains = c.globs(r.get("domains"), path + ["domains"], ".", variables=True,
                          required=False)
        ports: set[int] = set()
        for j, p in enumerate(c.seq(r.get("ports"), path + ["ports"]) or ()):
            v = c.integer(p, path + ["ports", j], 0, 65535)
            if v is not None:
                ports.add(v)
        cidrs = []
        for j, text in enumerate(c.strings(r.get("cidrs"), path + ["cidrs"])):
            try:
                ipaddress.ip_network(text.strip(), strict=False)
            except ValueError:
                c.err(path + ["cidrs", j], f"not a CIDR or IP address: {text!r}")
                continue
            cidrs.append(text.strip())
        decision = c.decision(r.get("decision"), path + ["decision"], m.NETWORK_DECISIONS,
                              "network_rules")
        if decision is None:
            continue
        out.append(m.NetworkRule(i, name or f"network_rules[{i}]", tuple(domains),
                                 frozenset(ports), tuple(cidrs), decision, message, timeout,
                                 r.get("description")))
    return out


def _context(c: _Checker, value: Any, path: list) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, list):
        kinds = set()
        for j, item in enumerate(value):
            s = c.string(item, path + [j])
            if s is None:
                continue
            low = s.strip().lower()
            if low not in ("direct", "nested"):
                c.err(path + [j], f"unknown context {s!r} (direct or nested)")
            kinds.add(low)
        if not kinds or kinds >= {"direct", "nested"}:
            return None
        return (0, 0) if "direct" in kinds else (1, -1)
    if isinstance(value, dict):
        r = c.mapping(value, path, CONTEXT_KEYS)
        if r is None:
            return None
        lo = c.integer(r.get("min_depth"), path + ["min_depth"], -1)
        hi = c.integer(r.get("max_depth"), path + ["max_depth"], -1)
        lo = 0 if lo is None or lo < 0 else lo
        hi = -1 if hi is None else hi
        if hi != -1 and hi < lo:
            c.err(path + ["max_depth"], f"must be at least min_depth ({lo}), or -1")
        return (lo, hi)
    c.err(path, "must be a list ([direct], [nested]) or {min_depth, max_depth}")
    return None


def _command_rules(c: _Checker, doc: dict) -> list[m.CommandRule]:
    out = []
    for i, raw, path in _rules(c, doc, "command_rules"):
        r = c.mapping(raw, path, COMMAND_KEYS)
        if r is None:
            continue
        name, message, timeout = c.common(r, path)
        commands = c.strings(r.get("commands"), path + ["commands"])
        for j, cmd in enumerate(commands):
            if "${" in cmd:
                c.err(path + ["commands", j], "variables are expanded only in "
                      "file_rules[].paths and network_rules[].domains")
                continue
            try:
                translate(cmd, "/" if "/" in cmd else None)
            except GlobError as exc:
                c.err(path + ["commands", j], f"bad glob {cmd!r}: {exc}")
        args = []
        for j, pat in enumerate(c.strings(r.get("args_patterns"), path + ["args_patterns"])):
            if c.regex(pat, path + ["args_patterns", j]) is not None:
                args.append(pat)
        decision = c.decision(r.get("decision"), path + ["decision"], m.COMMAND_DECISIONS,
                              "command_rules")
        redirect = None
        if r.get("redirect_to") is not None:
            redirect = _command_redirect(c, r["redirect_to"], path + ["redirect_to"])
            if decision not in (m.REDIRECT, None):
                c.warnings.append(f"{format_path(path)}.redirect_to: has no effect with "
                                  f"decision {decision}")
        elif decision == m.REDIRECT:
            c.err(path + ["redirect_to"], "required with decision redirect")
        depth = _context(c, r.get("context"), path + ["context"])
        env_allow = c.globs(r.get("env_allow"), path + ["env_allow"], None, False, False)
        env_deny = c.globs(r.get("env_deny"), path + ["env_deny"], None, False, False)
        max_bytes = c.integer(r.get("env_max_bytes"), path + ["env_max_bytes"], 0)
        max_keys = c.integer(r.get("env_max_keys"), path + ["env_max_keys"], 0)
        block = c.boolean(r.get("env_block_iteration"), path + ["env_block_iteration"])
        if block:
            c.unenforced(path + ["env_block_iteration"], "env_block_iteration (needs the "
                         "LD_PRELOAD shim)")
        if decision is None:
            continue
        out.append(m.CommandRule(i, name or f"command_rules[{i}]", tuple(commands), tuple(args),
                                 decision, message, timeout, redirect, depth, tuple(env_allow),
                                 tuple(env_deny), max_bytes or None, max_keys or None,
                                 bool(block), r.get("description")))
    return out


def _command_redirect(c: _Checker, value: Any, path: list) -> m.CommandRedirect | None:
    r = c.mapping(value, path, REDIRECT_KEYS)
    if r is None:
        return None
    command = c.string(r.get("command"), path + ["command"], required=True, nonempty=True)
    args = c.seq(r.get("args"), path + ["args"]) or []
    append = c.seq(r.get("args_append"), path + ["args_append"]) or []
    for key, items in (("args", args), ("args_append", append)):
        for j, a in enumerate(items):
            if not isinstance(a, str):
                c.err(path + [key, j], f"must be a string, not {_kind(a)}")
    env: list[tuple[str, str]] = []
    raw_env = r.get("environment")
    if raw_env is not None:
        if not isinstance(raw_env, dict):
            c.err(path + ["environment"], f"must be a mapping, not {_kind(raw_env)}")
        else:
            for k, v in raw_env.items():
                if not isinstance(k, str) or not _ENV_NAME.match(k):
                    c.err(path + ["environment", str(k)], "not a valid variable name")
                elif not isinstance(v, (str, int, float)) or isinstance(v, bool):
                    c.err(path + ["environment", k], f"must be a string, not {_kind(v)}")
                else:
                    env.append((k, str(v)))
    if command is None:
        return None
    return m.CommandRedirect(command, tuple(a for a in args if isinstance(a, str)),
                             tuple(a for a in append if isinstance(a, str)), tuple(env))


def _unix_rules(c: _Checker, doc: dict) -> list[m.UnixSocketRule]:
    out = []
    for i, raw, path in _rules(c, doc, "unix_socket_rules"):
        r = c.mapping(raw, path, UNIX_KEYS)
        if r is None:
            continue
        name, message, timeout = c.common(r, path)
        paths = c.globs(r.get("paths"), path + ["paths"], "/", variables=False)
        ops = c.operations(r.get("operations"), path + ["operations"], m.UNIX_OPS,
                           "unix socket")
        decision = c.decision(r.get("decision"), path + ["decision"], m.UNIX_DECISIONS,
                              "unix_socket_rules")
        if decision is None:
            continue
        out.append(m.UnixSocketRule(i, name or f"unix_socket_rules[{i}]", tuple(paths), ops,
                                    decision, message, timeout, r.get("description")))
    return out


def _signal(c: _Checker, value: Any, path: list) -> frozenset[int] | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        c.err(path, f"must be a signal name, number or @group, not {_kind(value)}")
        return None
    try:
        return parse_signal_spec(value)
    except SignalError as exc:
        c.err(path, str(exc))
        return None


def _signal_rules(c: _Checker, doc: dict) -> list[m.SignalRule]:
    out = []
    for i, raw, path in _rules(c, doc, "signal_rules"):
        r = c.mapping(raw, path, SIGNAL_KEYS)
        if r is None:
            continue
        name, message, timeout = c.common(r, path)
        signals: set[int] = set()
        items = c.seq(r.get("signals"), path + ["signals"])
        if r.get("signals") is None or r.get("signals") == []:
            c.err(path + ["signals"], "required: at least one signal")
        for j, s in enumerate(items or ()):
            got = _signal(c, s, path + ["signals", j])
            if got:
                signals |= got
        target = None
        if r.get("target") is not None:
            target = _signal_target(c, r["target"], path + ["target"])
        decision = c.decision(r.get("decision"), path + ["decision"], m.SIGNAL_DECISIONS,
                              "signal_rules")
        fallback = None
        if r.get("fallback") is not None:
            fallback = c.decision(r.get("fallback"), path + ["fallback"], m.SIGNAL_DECISIONS,
                                  "signal_rules")
        redirect_to = None
        if r.get("redirect_to") is not None:
            got = _signal(c, r["redirect_to"], path + ["redirect_to"])
            if got is not None:
                if len(got) != 1:
                    c.err(path + ["redirect_to"], "must be one signal, not a group")
                else:
                    redirect_to = next(iter(got))
            if decision not in (m.REDIRECT, None):
                c.warnings.append(f"{format_path(path)}.redirect_to: has no effect with "
                                  f"decision {decision}")
        elif decision == m.REDIRECT:
            c.err(path + ["redirect_to"], "required with decision redirect")
        if decision is None:
            continue
        out.append(m.SignalRule(i, name or f"signal_rules[{i}]", frozenset(signals), target,
                                decision, fallback, redirect_to, message, timeout,
                                r.get("description")))
    return out


def _signal_target(c: _Checker, value: Any, path: list) -> m.SignalTarget | None:
    r = c.mapping(value, path, TARGET_KEYS)
    if r is None:
        return None
    ttype = c.string(r.get("type"), path + ["type"], required=True)
    if ttype is None:
        return None
    ttype = ttype.strip().lower()
    if ttype not in m.SIGNAL_TARGETS:
        c.err(path + ["type"], f"unknown target type {r.get('type')!r} (one of "
              f"{', '.join(sorted(m.SIGNAL_TARGETS))})")
        return None
    pattern = None
    lo = hi = None
    if ttype == "process":
        pattern = c.string(r.get("pattern"), path + ["pattern"], required=True, nonempty=True)
        if pattern is not None:
            try:
                translate(pattern, None)
            except GlobError as exc:
                c.err(path + ["pattern"], f"bad glob {pattern!r}: {exc}")
    elif r.get("pattern") is not None:
        c.err(path + ["pattern"], "only used with type process")
    if ttype == "pid_range":
        lo = c.integer(r.get("min"), path + ["min"], 1)
        hi = c.integer(r.get("max"), path + ["max"], 1)
        if r.get("min") is None:
            c.err(path + ["min"], "required with type pid_range")
        if r.get("max") is None:
            c.err(path + ["max"], "required with type pid_range")
        if lo is not None and hi is not None and hi < lo:
            c.err(path + ["max"], f"must be at least min ({lo})")
    else:
        for key in ("min", "max"):
            if r.get(key) is not None:
                c.err(path + [key], "only used with type pid_range")
    return m.SignalTarget(ttype, pattern, lo, hi)


def _visibility(c: _Checker, r: dict, path: list) -> tuple[str, str]:
    vis = c.string(r.get("visibility"), path + ["visibility"]) or "audit_only"
    if vis not in VISIBILITY:
        c.err(path + ["visibility"], f"unknown visibility {vis!r} (one of "
              f"{', '.join(VISIBILITY)})")
    fail = c.string(r.get("on_failure"), path + ["on_failure"]) or "fail_closed"
    if fail not in ON_FAILURE:
        c.err(path + ["on_failure"], f"unknown on_failure {fail!r} (one of "
              f"{', '.join(ON_FAILURE)})")
    return vis, fail


def _dns_redirects(c: _Checker, doc: dict) -> list[m.DnsRedirect]:
    out = []
    for i, raw, path in _rules(c, doc, "dns_redirects"):
        r = c.mapping(raw, path, DNS_KEYS)
        if r is None:
            continue
        name, message, _ = c.common(r, path)
        if name is None and "name" not in r:
            c.err(path + ["name"], "required")
        match = c.regex(r.get("match"), path + ["match"], required=True)
        resolve = c.string(r.get("resolve_to"), path + ["resolve_to"], required=True)
        if resolve is not None:
            try:
                ipaddress.ip_address(resolve.strip())
            except ValueError:
                c.err(path + ["resolve_to"], f"must be an IP address, not {resolve!r}")
                resolve = None
        vis, fail = _visibility(c, r, path)
        if match is None or resolve is None:
            continue
        out.append(m.DnsRedirect(i, name or f"dns_redirects[{i}]", match, resolve.strip(), vis,
                                 fail, message))
    return out


def _connect_redirects(c: _Checker, doc: dict) -> list[m.ConnectRedirect]:
    out = []
    for i, raw, path in _rules(c, doc, "connect_redirects"):
        r = c.mapping(raw, path, CONNECT_KEYS)
        if r is None:
            continue
        name, message, _ = c.common(r, path)
        if name is None and "name" not in r:
            c.err(path + ["name"], "required")
        match = c.regex(r.get("match"), path + ["match"], required=True)
        to = c.string(r.get("redirect_to"), path + ["redirect_to"])
        to_unix = c.absolute(r.get("redirect_to_unix"), path + ["redirect_to_unix"])
        if (r.get("redirect_to") is None) == (r.get("redirect_to_unix") is None):
            c.err(path + ["redirect_to"], "exactly one of redirect_to (host:port) and "
                  "redirect_to_unix (a path) is required")
        if to is not None:
            mt = _HOSTPORT.match(to.strip())
            if mt is None or not 0 < int(mt.group(3)) <= 65535:
                c.err(path + ["redirect_to"], f"must be host:port, not {to!r}")
                to = None
        mode, sni = "passthrough", None
        if r.get("tls") is not None:
            t = c.mapping(r["tls"], path + ["tls"], TLS_KEYS)
            if t is not None:
                mode = c.string(t.get("mode"), path + ["tls", "mode"]) or "passthrough"
                if mode not in TLS_MODES:
                    c.err(path + ["tls", "mode"], f"unknown tls mode {mode!r} (one of "
                          f"{', '.join(TLS_MODES)})")
                sni = c.string(t.get("sni"), path + ["tls", "sni"])
                if mode == "rewrite_sni" and not sni:
                    c.err(path + ["tls", "sni"], "required with mode rewrite_sni")
        vis, fail = _visibility(c, r, path)
        if match is None:
            continue
        out.append(m.ConnectRedirect(i, name or f"connect_redirects[{i}]", match, to, to_unix,
                                     mode, sni, vis, fail, message))
    return out


def _limits(c: _Checker, doc: dict) -> m.ResourceLimits:
    raw = doc.get("resource_limits")
    if raw is None:
        return m.ResourceLimits()
    path = ["resource_limits"]
    r = c.mapping(raw, path, LIMIT_KEYS)
    if r is None:
        return m.ResourceLimits()

    def pos_int(key: str, lo: int = 0) -> int | None:
        v = c.integer(r.get(key), path + [key], lo)
        return v or None  # 0: not set

    swap = c.integer(r.get("memory_swap_max_mb"), path + ["memory_swap_max_mb"], 0)
    cpu = c.number(r.get("cpu_quota_percent"), path + ["cpu_quota_percent"])
    net = c.number(r.get("net_bandwidth_mbps"), path + ["net_bandwidth_mbps"])
    return m.ResourceLimits(
        max_memory_mb=pos_int("max_memory_mb"),
        memory_swap_max_mb=swap,
        cpu_quota_percent=cpu or None,
        disk_read_bps_max=pos_int("disk_read_bps_max"),
        disk_write_bps_max=pos_int("disk_write_bps_max"),
        net_bandwidth_mbps=net or None,
        pids_max=pos_int("pids_max"),
        command_timeout=c.duration(r.get("command_timeout"), path + ["command_timeout"]),
        session_timeout=c.duration(r.get("session_timeout"), path + ["session_timeout"]),
        idle_timeout=c.duration(r.get("idle_timeout"), path + ["idle_timeout"]),
        best_effort=bool(c.boolean(r.get("best_effort"), path + ["best_effort"])),
    )


def _env_policy(c: _Checker, doc: dict) -> m.EnvPolicy:
    raw = doc.get("env_policy")
    if raw is None:
        return m.EnvPolicy()
    path = ["env_policy"]
    r = c.mapping(raw, path, ENV_KEYS)
    if r is None:
        return m.EnvPolicy()
    allow = c.globs(r.get("allow"), path + ["allow"], None, False, False)
    deny = c.globs(r.get("deny"), path + ["deny"], None, False, False)
    block = c.boolean(r.get("block_iteration"), path + ["block_iteration"])
    if block:
        c.unenforced(path + ["block_iteration"], "block_iteration (needs the LD_PRELOAD shim)")
    return m.EnvPolicy(tuple(allow), tuple(deny),
                       c.integer(r.get("max_bytes"), path + ["max_bytes"], 0) or None,
                       c.integer(r.get("max_keys"), path + ["max_keys"], 0) or None,
                       bool(block))


def _env_inject(c: _Checker, doc: dict) -> list[tuple[str, str]]:
    raw = doc.get("env_inject")
    if raw is None:
        return []
    if not isinstance(raw, dict):
        c.err(["env_inject"], f"must be a mapping, not {_kind(raw)}")
        return []
    out = []
    for k, v in raw.items():
        if not isinstance(k, str) or not _ENV_NAME.match(k):
            c.err(["env_inject", str(k)], "not a valid variable name")
        elif isinstance(v, bool):
            out.append((k, "true" if v else "false"))
        elif isinstance(v, (str, int, float)):
            out.append((k, str(v)))
        else:
            c.err(["env_inject", k], f"must be a string, not {_kind(v)}")
    return out


def _audit(c: _Checker, doc: dict) -> m.AuditSettings:
    raw = doc.get("audit")
    if raw is None:
        return m.AuditSettings()
    path = ["audit"]
    r = c.mapping(raw, path, AUDIT_KEYS)
    if r is None:
        return m.AuditSettings()
    vals = {}
    for key in ("log_allowed", "log_denied", "log_approved", "include_stdout", "include_stderr",
                "include_file_content"):
        v = c.boolean(r.get(key), path + [key])
        if v is not None:
            vals[key] = v
    for key in ("include_stdout", "include_stderr", "include_file_content"):
        if vals.get(key):
            c.unenforced(path + [key], key)
    retention = c.integer(r.get("retention_days"), path + ["retention_days"], 0)
    return m.AuditSettings(retention_days=retention or None, **vals)


def _transparent(c: _Checker, doc: dict) -> tuple[list[str], list[str]]:
    raw = doc.get("transparent_commands")
    if raw is None:
        return [], []
    path = ["transparent_commands"]
    r = c.mapping(raw, path, TRANSPARENT_KEYS)
    if r is None:
        return [], []
    add = c.strings(r.get("add"), path + ["add"])
    remove = c.strings(r.get("remove"), path + ["remove"])
    for j, name in enumerate(add):
        if "/" in name:
            c.err(path + ["add", j], "a command basename, without '/'")
    return [a.lower() for a in add], [a.lower() for a in remove]


def validate(doc: Any, strict: bool = False,
             origin: str = "<inline>") -> tuple[m.Policy | None, list[PolicyError]]:
    """Check the parsed YAML `doc`: (the Policy, or None when the errors leave none;
    every error found)."""
    c = _Checker(strict)
    if doc is None:
        c.err(["version"], "required (the policy is empty)")
        return None, c.errors
    if not isinstance(doc, dict):
        c.errors.append(PolicyError(f"a policy must be a mapping, not {_kind(doc)}", origin))
        return None, c.errors
    if "services" in doc:
        c.err(["services"], "the top-level 'services' key was renamed: use http_services")
    c.mapping({k: v for k, v in doc.items() if k != "services"}, [], TOP_KEYS)
    version = doc.get("version")
    if version is None:
        c.err(["version"], "required")
    else:
        version = c.integer(version, ["version"], 1)
    name = c.string(doc.get("name"), ["name"], required=True, nonempty=True)
    description = c.string(doc.get("description"), ["description"])
    for section in m.NOT_ENFORCED_SECTIONS:
        if section in doc:
            c.unenforced([section], f"section {section}")

    file_rules = _file_rules(c, doc)
    network_rules = _network_rules(c, doc)
    command_rules = _command_rules(c, doc)
    unix_rules = _unix_rules(c, doc)
    signal_rules = _signal_rules(c, doc)
    dns = _dns_redirects(c, doc)
    connect = _connect_redirects(c, doc)
    limits = _limits(c, doc)
    env_policy = _env_policy(c, doc)
    env_inject = _env_inject(c, doc)
    audit = _audit(c, doc)
    t_add, t_remove = _transparent(c, doc)
    if t_remove:
        c.warnings.append("transparent_commands.remove: the built-in wrappers are always "
                          "unwrapped (removing one would only weaken the check)")
    if c.errors:
        return None, c.errors
    policy = m.Policy(
        version=version, name=name, description=description,
        file_rules=tuple(file_rules), network_rules=tuple(network_rules),
        command_rules=tuple(command_rules), unix_socket_rules=tuple(unix_rules),
        signal_rules=tuple(signal_rules), dns_redirects=tuple(dns),
        connect_redirects=tuple(connect), resource_limits=limits, env_policy=env_policy,
        env_inject=tuple(env_inject), audit=audit, transparent_add=tuple(t_add),
        transparent_remove=tuple(t_remove), not_enforced=tuple(c.not_enforced),
        warnings=tuple(c.warnings), variables=frozenset(c.variables), origin=origin)
    return policy, []
