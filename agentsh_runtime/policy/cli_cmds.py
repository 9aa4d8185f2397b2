"""`agentsh-runtime policy check | explain | list | plan`: plain functions returning
(exit_code, text) for the CLI to print. Exit 0: fine; 1: the policy (or the
question) is bad, and the text says which field.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

from .errors import PolicyError

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "data" / "policy.schema.json"

__all__ = ["check", "explain", "list_policies", "schema_errors", "plan"]


def _read_policy(path: str) -> tuple[str, str]:
    """(text, origin): a file, or a built-in name when no such file exists."""
    from .resolve import BUILTINS, builtin_text

    if not os.path.exists(path) and path in BUILTINS:
        return builtin_text(path), f"builtin:{path}"
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read(), path
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise PolicyError(f"cannot read policy: {reason}", path) from None


def schema_errors(doc: Any) -> list[PolicyError]:
    """The JSON schema's verdict on a parsed policy, one PolicyError per bad field."""
    import jsonschema

    from .load import format_path

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    out: list[PolicyError] = []
    flat = [e for top in validator.iter_errors(doc) for e in _flatten(top)]
    for err in sorted(flat, key=lambda e: list(map(str, e.absolute_path))):
        base = list(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            known = set(err.schema.get("properties", {}))
            for key in err.instance:
                if key not in known:
                    out.append(PolicyError("unknown key", format_path(base + [key])))
        elif err.validator == "required" and isinstance(err.instance, dict):
            for key in err.validator_value:
                if key not in err.instance:
                    out.append(PolicyError("required", format_path(base + [key])))
        elif err.validator == "not" and base == ["services"]:
            out.append(PolicyError("the top-level 'services' key was renamed: use "
                                   "http_services", "services"))
        else:
            msg = err.message if len(err.message) <= 200 else err.message[:197] + "..."
            out.append(PolicyError(msg, format_path(base) or "(top level)"))
    return out


def _flatten(err: Any) -> Any:
    """anyOf/oneOf errors (`null` or a mapping...): the errors of the one branch whose
    type fits, so the field named is the bad one inside, not its parent."""
    if err.validator in ("anyOf", "oneOf") and err.context:
        branches: dict[Any, list] = {}
        for sub in err.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        fitting = [errs for errs in branches.values()
                   if not any(e.validator in ("type", "const") and not e.relative_path
                              for e in errs)]
        if len(fitting) == 1:
            for sub in fitting[0]:
                yield from _flatten(sub)
            return
    if err.validator == "$ref" and err.context:  # pragma: no cover - older jsonschema
        for sub in err.context:
            yield from _flatten(sub)
        return
    yield err


def check(path: str, strict: bool = False) -> tuple[int, str]:
    """Load `path`, validate it with the JSON schema and the semantic checks, list what
    is not enforced. Exit 1 with one line per bad field."""
    from .load import parse_yaml, validate

    try:
        text, origin = _read_policy(path)
        doc = parse_yaml(text, origin)
    except PolicyError as exc:
        return 1, f"{path}: {exc}"
    from .model import NOT_ENFORCED_SECTIONS

    policy, errors = validate(doc, strict=strict, origin=origin)
    seen = [e.field or "" for e in errors]
    try:
        extra = [e for e in schema_errors(doc)
                 if not any(f == e.field or f.startswith((e.field + ".", e.field + "["))
                            for f in seen)]
    except ImportError:  # pragma: no cover - jsonschema is a dev dependency
        extra = []
    errors = errors + extra
    if errors:
        lines = [f"{path}: {e.field}: {e.reason}" if e.field else f"{path}: {e.reason}"
                 for e in errors]
        if isinstance(doc, dict) and not strict:
            lines.extend(f"{path}: {s}: not enforced (accepted for compatibility)"
                         for s in NOT_ENFORCED_SECTIONS if s in doc)
        lines.append(f"{path}: {len(errors)} error{'s' if len(errors) > 1 else ''}")
        return 1, "\n".join(lines)
    assert policy is not None
    counts = ", ".join(f"{len(getattr(policy, s))} {s}" for s in (
        "file_rules", "network_rules", "command_rules", "unix_socket_rules", "signal_rules",
        "dns_redirects", "connect_redirects") if getattr(policy, s))
    lines = [f"{path}: ok: policy {policy.name!r} (version {policy.version})"
             + (f": {counts}" if counts else "")]
    if not policy.filters_signals:
        lines.append(f"{path}: no signal_rules: signals are not filtered")
    for item in policy.not_enforced:
        lines.append(f"{path}: {item}: not enforced (accepted for compatibility)")
    for w in policy.warnings:
        lines.append(f"{path}: warning: {w}")
    if policy.variables:
        lines.append(f"{path}: variables: {', '.join(sorted(policy.variables))}")
    return 0, "\n".join(lines)


def _default_variables() -> dict[str, str]:
    values = dict(os.environ)
    cwd = os.getcwd()
    values.setdefault("HOME", "/root")
    values["PROJECT_ROOT"] = values.get("PROJECT_ROOT") or cwd
    values["GIT_ROOT"] = values.get("GIT_ROOT") or values["PROJECT_ROOT"]
    return values


def _parse_hostport(text: str) -> tuple[str, int]:
    text = text.strip()
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise PolicyError(f"{text!r} is not host:port", "connect")
    return host, int(port)


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def explain(path: str, file_op: tuple[str, ...] | None = None, exec: str | None = None,  # noqa: A002
            connect: str | None = None, signal: tuple[str | int, str] | None = None,
            unix: tuple[str, str] | None = None, dns: str | None = None,
            variables: dict[str, str] | None = None, depth: int = 1,
            strict: bool = False) -> tuple[int, str]:
    """The decision for one operation and the rule that made it.
    file_op=(op, path[, path2]) | exec="cmd line" | connect="host:port" |
    signal=(sig, target_type) | unix=(op, path) | dns=name. `depth`: exec depth
    (0: the container's first process)."""
    from .engine import Engine, ExecQuery, FileQuery, NetQuery, SignalQuery, UnixQuery
    from .load import loads
    from .signals import SignalError, parse_signal

    asked = [q for q in (file_op, exec, connect, signal, unix, dns) if q is not None]
    if len(asked) != 1:
        return 1, "explain: give exactly one of --file-op, --exec, --connect, --signal, " \
                  "--unix, --dns"
    try:
        text, origin = _read_policy(path)
        policy = loads(text, origin=origin, strict=strict)
        values = variables if variables is not None else _default_variables()
        engine = Engine(policy, values, cache_size=0)
        lines = [f"policy: {policy.name} ({origin})"]
        if file_op is not None:
            if len(file_op) not in (2, 3):
                raise PolicyError("give an operation and a path (and a second path for "
                                  "rename or link)", "file-op")
            op = file_op[0].lower()
            q: Any = FileQuery(op, *file_op[1:])
            kind, section = "file", "file_rules"
            lines.append(f"query: file {op} {' -> '.join(file_op[1:])}")
        elif exec is not None:
            argv = tuple(shlex.split(exec))
            if not argv:
                raise PolicyError("empty command line", "exec")
            q = ExecQuery(argv[0], argv, None, depth)
            kind, section = "command", "command_rules"
            lines.append(f"query: exec {shlex.join(argv)} (depth {depth})")
        elif connect is not None:
            host, port = _parse_hostport(connect)
            ip = host if _is_ip(host) else None
            q = NetQuery("connect", None if ip else host, ip, port)
            kind, section = "network", "network_rules"
            lines.append(f"query: connect {host}:{port}"
                         + ("" if ip else " (by name; CIDR rules need the address)"))
        elif dns is not None:
            q = NetQuery("dns", dns, None, 53)
            kind, section = "network", "network_rules"
            lines.append(f"query: dns {dns}")
        elif unix is not None:
            q = UnixQuery(unix[0].lower(), unix[1])
            kind, section = "unix_socket", "unix_socket_rules"
            lines.append(f"query: unix socket {unix[0]} {unix[1]}")
        else:
            assert signal is not None
            try:
                num = parse_signal(signal[0])
            except SignalError as exc:
                raise PolicyError(str(exc), "signal") from None
            q = SignalQuery(num, frozenset((signal[1].lower(),)))
            kind, section = "signal", "signal_rules"
            lines.append(f"query: signal {signal[0]} ({num}) to target type {signal[1]}")
        d = engine.decide(kind, q)
    except PolicyError as exc:
        return 1, f"{path}: {exc}"
    lines.append(f"decision: {d.decision}")
    if d.spec is not None:
        lines.append(f"rule: {d.rule} ({section}[{d.spec.index}])")
    else:
        lines.append(f"rule: {d.rule} (no rule matched: the default)")
    if d.detail:
        lines.append(f"decided by: {d.detail}")
    if d.message:
        lines.append(f"message: {d.message}")
    if d.timeout:
        lines.append(f"timeout: {d.timeout:g}s")
    if d.redirect is not None:
        target = d.redirect
        if hasattr(target, "argv"):
            target = shlex.join(target.argv(getattr(q, "argv", ())))
        lines.append(f"redirect: {target}")
    if kind == "command":
        cands = engine.candidates(q) or []
        lines.append("checked as: " + "; ".join(
            f"{label} {w}" + ("" if strong else " (counts when a rule names it)")
            for w, _, label, strong in cands))
        if engine.candidates(q) is None:
            lines.append("checked as: (wrappers nest too deep)")
    lines.append("enforce mode: " + ("blocks" if d.decision == "deny" else
                                     "holds for approval" if d.decision == "approve" else
                                     "does not block"))
    for w in engine.warnings:
        lines.append(f"warning: {w}")
    return 0, "\n".join(lines)


def list_policies(dirs: list[str] | tuple[str, ...] | None = None) -> tuple[int, str]:
    """The built-in policies, then NAME.yaml in `dirs` (default /etc/agentsh/policies),
    each with its description (or why it does not load)."""
    from .load import loads
    from .resolve import BUILTINS, DEFAULT_DIRS, builtin_text, policy_files

    dirs = DEFAULT_DIRS if dirs is None else dirs
    rows: list[tuple[str, str, str]] = []
    for name in BUILTINS:
        try:
            p = loads(builtin_text(name), origin=f"builtin:{name}")
            rows.append((name, "built-in", _first_line(p.description)))
        except PolicyError as exc:  # pragma: no cover - the built-ins are tested
            rows.append((name, "built-in", f"INVALID: {exc}"))
    for name, path in policy_files(dirs):
        shadow = " (shadowed by the built-in)" if name in BUILTINS else ""
        try:
            p = loads(Path(path).read_bytes(), origin=path)
            desc = _first_line(p.description)
        except (PolicyError, OSError) as exc:
            desc = f"INVALID: {exc}"
        rows.append((name, path, desc + shadow))
    width = max(len(r[0]) for r in rows)
    wsrc = max(len(r[1]) for r in rows)
    lines = [f"{n:<{width}}  {s:<{wsrc}}  {d}".rstrip() for n, s, d in rows]
    return 0, "\n".join(lines)


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


# ---- policy plan ----------------------------------------------------------------------

def _mount_kinds(spec: Any) -> tuple[dict[str, str], list[str]]:
    """destination -> "file" / "other" for bind mounts whose host source is not a
    directory (stat, following symlinks as the bind does); warnings for missing ones."""
    import stat

    from .mountplan import FILE_KIND, OTHER, _is_bind, _norm

    kinds: dict[str, str] = {}
    notes: list[str] = []
    for mnt in spec.mounts:
        if mnt.type != "bind" and not _is_bind(mnt.options):
            continue
        src = mnt.source if mnt.source.startswith("/") else os.path.join(spec.bundle,
                                                                          mnt.source)
        try:
            mode = os.stat(src).st_mode
        except OSError as exc:
            notes.append(f"{mnt.field}.source: {src}: {exc.strerror}: planned as a directory")
            continue
        if stat.S_ISREG(mode):
            kinds[_norm(mnt.destination)] = FILE_KIND
        elif not stat.S_ISDIR(mode):
            kinds[_norm(mnt.destination)] = OTHER
    return kinds, notes


def _spec_variables(spec: Any) -> dict[str, str]:
    """${VAR} values as `create` builds them."""
    from ..container.policy_setup import container_variables

    return container_variables(spec)


def plan(path: str, bundle: str, as_json: bool = False, strict: bool = False,
         native_ro: bool = True) -> tuple[int, str]:
    """The mount plan of policy `path` (a file or a built-in name) for the container of
    `bundle` (its config.json: mounts, root, process env and cwd, annotations
    dev.agentsh.workspace and dev.agentsh.mode)."""
    from ..errors import ConfigError
    from ..spec.load import load_bundle
    from .engine import Engine
    from .load import loads
    from .mountplan import FUSE, KERNEL, NATIVE_RO, compile_plan, mounts_from_spec

    try:
        text, origin = _read_policy(path)
        policy = loads(text, origin=origin, strict=strict)
    except PolicyError as exc:
        return 1, f"{path}: {exc}"
    try:
        spec = load_bundle(bundle)
    except ConfigError as exc:
        return 1, f"{os.path.join(bundle, 'config.json')}: {exc}"
    mode = spec.annotations.get("dev.agentsh.mode", "enforce")
    if mode not in ("enforce", "audit", "off"):
        return 1, (f"{os.path.join(bundle, 'config.json')}: annotations.dev.agentsh.mode: "
                   f"must be enforce, audit or off, not {mode!r}")
    kinds, notes = _mount_kinds(spec)
    try:
        engine = Engine(policy, _spec_variables(spec),
                        mode="audit" if mode == "audit" else "enforce", cache_size=0)
    except PolicyError as exc:
        return 1, f"{path}: {exc}"
    result = compile_plan(engine, mounts_from_spec(spec, kinds), native_ro=native_ro)
    warnings = list(engine.warnings) + notes + list(result.warnings)
    if mode == "off":
        warnings.insert(0, "annotations.dev.agentsh.mode is off: create applies no policy; "
                           "this is the plan it would apply in enforce mode")
    if as_json:
        doc = result.to_dict()
        doc.update(origin=origin, bundle=bundle, annotation_mode=mode, warnings=warnings)
        return 0, json.dumps(doc, indent=2)
    rows = [(e.path, e.treatment + ("" if e.wanted in (e.treatment, "") else
                                    f" (wants {e.wanted})"),
             e.mount + (f" ({e.fstype}{', ro' if e.readonly else ''})"),
             ", ".join(e.reasons) or "-") for e in result.entries]
    head = ("PATH", "TREATMENT", "MOUNT", "REASONS")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(3)]
    lines = [f"policy: {policy.name} ({origin}), mode {mode}, bundle {bundle}"]
    for r in [head] + rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True))
                     + "  " + r[3])
    roots = result.fuse_roots()
    lines.append("fuse mounts: " + (" ".join(roots) if roots else "none"))
    ro = [e.path for e in result.entries if e.treatment == NATIVE_RO]
    lines.append("read-only binds (denied writes get EROFS, not EACCES): "
                 + (" ".join(ro) if ro else "none"))
    sealed = result.sealed()
    lines.append("kernel mounts made read-only (unlink, rename, mkdir, chmod... there get "
                 "EROFS): " + (" ".join(sealed) if sealed else "none"))
    layers = result.layers()
    lines.append("layers, in order: " + ("; ".join(f"{x.action} {x.path}" for x in layers)
                                         if layers else "none"))
    unmediated = [e.path for e in result.entries if e.treatment == KERNEL and e.wanted == FUSE]
    if unmediated:
        lines.append("kernel filesystems the policy would mediate: " + " ".join(unmediated))
    lines.extend(f"warning: {w}" for w in warnings)
    return 0, "\n".join(lines)
