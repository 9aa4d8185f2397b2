"""config.json validation on the hot path.

Two layers, both raising ConfigError(reason, field) with the field in our
notation (`process.args`, `mounts[2].destination`, `annotations["dev.agentsh.mode"]`):

1. the schema (config.json.schema), run as code generated at build time by
   tools/gen_validator.py (fastjsonschema's compile_to_code, stdlib only), so no
   jsonschema import on `create`; tests check it agrees with jsonschema;
2. rules a schema cannot say: the ociVersion major, root present, absolute
   paths, a non-empty args list, duplicate namespaces, empty id ranges.

Imports: the standard library and the generated module only.
"""

from __future__ import annotations

from ..errors import ConfigError
from . import _generated_validator as _gen

__all__ = ["validate_config", "validate_process"]

_UINT32_END = 1 << 32  # one past the largest uint32


def validate_config(cfg: dict) -> None:
    """Check a parsed config.json; raise ConfigError naming the first bad field."""
    _check_schema(cfg, cfg)
    _check_semantics(cfg)


def validate_process(proc: dict) -> None:
    """Check the JSON of `exec --process FILE` (a `process` object on its own).

    Fields are named as in a config (`process.args`, `process.env[2]`).
    """
    wrapper = {"ociVersion": "1.0.0", "process": proc}
    _check_schema(wrapper, wrapper)
    _check_process(proc)


# ---------------------------------------------------------------- schema layer


def _check_schema(data: object, root: object) -> None:
    try:
        _gen.validate(data)
    except _gen.JsonSchemaValueException as exc:
        raise _translate(exc, root) from None


def _translate(exc: _gen.JsonSchemaValueException, root: object) -> ConfigError:
    """fastjsonschema's (`data.mounts[2]`, `... must contain ['destination'] properties`)
    into ConfigError("is required", "mounts[2].destination")."""
    name = exc.name or "data"
    message = exc.message or "is invalid"
    reason = message[len(name) + 1 :] if message.startswith(name + " ") else message
    parts = _split_name(name, root)

    if exc.rule == "required":
        missing = _listed_keys(reason)
        if missing:
            parts.append(missing[0])
        reason = "is required"
    elif exc.rule == "minLength" and exc.value == "":
        reason = "must not be empty"
    elif exc.rule == "type":
        reason = f"{reason}, not {_json_type(exc.value)}"
    elif exc.rule in ("enum", "pattern", "minimum", "maximum", "minLength", "minItems"):
        shown = _show(exc.value)
        if shown:
            reason = f"{reason}, got {shown}"

    field = _join(parts)
    if not field:
        return ConfigError(f"config.json {reason}")
    return ConfigError(reason, field)


def _split_name(name: str, root: object) -> list[str | int]:
    """Split `data.annotations.dev.agentsh.mode` into ["annotations", "dev.agentsh.mode"].

    Dots inside keys make the name ambiguous; walking the data resolves it: at an
    object the longest key that fits wins.
    """
    rest = name[4:] if name.startswith("data") else name
    node: object = root
    parts: list[str | int] = []
    while rest:
        if rest[0] == "[":
            end = rest.find("]")
            if end < 0:
                break
            token = rest[1:end]
            rest = rest[end + 1 :]
            if token.isdigit():
                idx = int(token)
                parts.append(idx)
                node = node[idx] if isinstance(node, list) and idx < len(node) else None
            else:
                parts.append(token)
                node = None
            continue
        if rest[0] == ".":
            rest = rest[1:]
        key = None
        if isinstance(node, dict):
            for k in node:
                if (
                    isinstance(k, str)
                    and rest.startswith(k)
                    and (len(rest) == len(k) or rest[len(k)] in ".[")
                    and (key is None or len(k) > len(key))
                ):
                    key = k
        if key is None:  # not in the data (a required member): up to the next separator
            cut = [i for i in (rest.find("."), rest.find("[")) if i >= 0]
            key = rest[: min(cut)] if cut else rest
        parts.append(key)
        rest = rest[len(key) :]
        node = node.get(key) if isinstance(node, dict) else None
    return parts


def _join(parts: list[str | int]) -> str:
    out: list[str] = []
    for p in parts:
        if isinstance(p, int):
            out.append(f"[{p}]")
        elif p.isidentifier():
            out.append(f".{p}" if out else p)
        else:
            out.append('["' + p.replace("\\", "\\\\").replace('"', '\\"') + '"]')
    return "".join(out)


def _listed_keys(reason: str) -> list[str]:
    """The keys of `must contain ['a', 'b'] properties`."""
    start, end = reason.find("["), reason.rfind("]")
    if start < 0 or end < start:
        return []
    return [k.strip().strip("'\"") for k in reason[start + 1 : end].split(",") if k.strip()]


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return '"' + (value if len(value) <= 60 else value[:57] + "...") + '"'
    return ""


# ------------------------------------------------------------- semantic layer


def _check_semantics(cfg: dict) -> None:
    _check_oci_version(cfg["ociVersion"])

    root = cfg.get("root")
    if root is None:
        raise ConfigError("is required", "root.path")
    if not root["path"]:
        raise ConfigError("must not be empty", "root.path")

    process = cfg.get("process")
    if process is not None:
        _check_process(process)

    for i, mount in enumerate(cfg.get("mounts") or ()):
        dest = mount["destination"]
        if not dest.startswith("/"):
            raise ConfigError(
                f"must be an absolute path, got {_show(dest)}", f"mounts[{i}].destination"
            )
        _check_mappings(mount.get("uidMappings"), f"mounts[{i}].uidMappings")
        _check_mappings(mount.get("gidMappings"), f"mounts[{i}].gidMappings")

    linux = cfg.get("linux")
    if linux is None:
        return
    seen: dict[str, int] = {}
    for i, ns in enumerate(linux.get("namespaces") or ()):
        kind = ns["type"]
        if kind in seen:
            raise ConfigError(
                f'duplicate namespace "{kind}" (also linux.namespaces[{seen[kind]}])',
                f"linux.namespaces[{i}].type",
            )
        seen[kind] = i
        path = ns.get("path")
        if path and not path.startswith("/"):
            raise ConfigError(
                f"must be an absolute path, got {_show(path)}", f"linux.namespaces[{i}].path"
            )
    _check_mappings(linux.get("uidMappings"), "linux.uidMappings")
    _check_mappings(linux.get("gidMappings"), "linux.gidMappings")
    seccomp = linux.get("seccomp")
    if seccomp is not None and "listenerMetadata" in seccomp and not seccomp.get("listenerPath"):
        raise ConfigError(
            "is set without linux.seccomp.listenerPath", "linux.seccomp.listenerMetadata"
        )


def _check_oci_version(version: str) -> None:
    core = version.split("+", 1)[0].split("-", 1)[0].split(".")
    if len(core) != 3 or not all(p.isascii() and p.isdigit() for p in core):
        raise ConfigError(
            f"invalid ociVersion {_show(version)}: want SemVer such as 1.2.0", "ociVersion"
        )
    if int(core[0]) != 1:
        raise ConfigError(
            f"unsupported ociVersion {version}: this runtime implements 1.x", "ociVersion"
        )


def _check_process(proc: dict) -> None:
    args = proc.get("args")
    if args is None:
        raise ConfigError("is required", "process.args")
    if not args:
        raise ConfigError("must not be empty", "process.args")
    cwd = proc["cwd"]
    if not cwd.startswith("/"):
        raise ConfigError(f"must be an absolute path, got {_show(cwd)}", "process.cwd")
    for i, pair in enumerate(proc.get("env") or ()):
        name, sep, _ = pair.partition("=")
        if not sep or not name or "\0" in pair:
            raise ConfigError(
                f"must have the form NAME=value, got {_show(pair)}", f"process.env[{i}]"
            )


def _check_mappings(mappings: list | None, field: str) -> None:
    for i, m in enumerate(mappings or ()):
        size = m["size"]
        if size == 0:
            raise ConfigError("must be greater than 0 (an empty id range)", f"{field}[{i}].size")
        if m["containerID"] + size > _UINT32_END or m["hostID"] + size > _UINT32_END:
            raise ConfigError("the id range runs past 4294967295", f"{field}[{i}].size")
