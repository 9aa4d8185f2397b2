"""Pure edits of engine config files: old text in, new text out (no I/O).

Text edits rather than a TOML writer, so comments and layout the admin wrote
survive; tomllib checks the input parses and the output says what we meant.
"""

from __future__ import annotations

import json
import tomllib

from ..errors import ConfigError

NAME = "agentsh"
# podman's built-in runtime_supports_json (containers/common): setting the list
# replaces it, so the defaults are carried over.
PODMAN_JSON_DEFAULTS = ["crun", "runc", "kata", "runsc", "krun"]


def _toml(text: str, path: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}", path) from None


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def _section_bounds(lines: list[str], header: str) -> tuple[int, int] | None:
    """(index of the header line, index after the section's last line)."""
    start = None
    for i, line in enumerate(lines):
        s = line.strip()
        if start is None:
            if s == header:
                start = i
        elif s.startswith("[") and not s.startswith("[["):
            return start, i
    return None if start is None else (start, len(lines))


def _set_key(lines: list[str], header: str, key: str, value: str) -> list[str]:
    """Set `key = value` in [header], adding the section or the key as needed."""
    bounds = _section_bounds(lines, header)
    new_line = f"{key} = {value}"
    if bounds is None:
        out = list(lines)
        if out and out[-1].strip():
            out.append("")
        return out + [header, new_line]
    start, end = bounds
    for i in range(start + 1, end):
        s = lines[i].strip()
        if s.split("=", 1)[0].strip() == key and "=" in s:
            return lines[:i] + [new_line] + lines[i + 1:]
    insert = end
    while insert > start + 1 and not lines[insert - 1].strip():
        insert -= 1
    return lines[:insert] + [new_line] + lines[insert:]


def podman_conf(text: str, binary: str, path: str = "containers.conf") -> str:
    """Register `agentsh` in containers.conf and let podman read our JSON log."""
    doc = _toml(text, path)
    engine = doc.get("engine") or {}
    supports = list(engine.get("runtime_supports_json") or PODMAN_JSON_DEFAULTS)
    for name in ("agentsh-runtime", NAME):
        if name not in supports:
            supports.append(name)
    lines = text.splitlines()
    lines = _set_key(lines, "[engine]", "runtime_supports_json", _toml_list(supports))
    lines = _set_key(lines, "[engine.runtimes]", NAME, _toml_list([binary]))
    out = "\n".join(lines) + "\n"
    check = _toml(out, path)
    assert check["engine"]["runtimes"][NAME] == [binary]
    return out


def containerd_conf(text: str, binary: str, path: str = "config.toml") -> str:
    """Add the `agentsh` CRI runtime (runc v2 shim, our binary) to containerd's config."""
    doc = _toml(text, path) if text.strip() else {}
    version = doc.get("version", 2 if not text.strip() else 1)
    if version != 2:
        raise ConfigError(f"{path}: only containerd config version 2 is supported "
                          f"(found version {version})", path)
    base = 'plugins."io.containerd.grpc.v1.cri".containerd.runtimes.' + NAME
    lines = text.splitlines()
    if not text.strip():
        lines = ["version = 2"]
    lines = _set_key(lines, f"[{base}]", "runtime_type", '"io.containerd.runc.v2"')
    lines = _set_key(lines, f"[{base}]", "pod_annotations", '["dev.agentsh.*"]')
    lines = _set_key(lines, f"[{base}.options]", "BinaryName", json.dumps(binary))
    out = "\n".join(lines) + "\n"
    check = _toml(out, path)
    rt = check["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"][NAME]
    assert rt["options"]["BinaryName"] == binary
    return out


def docker_daemon_json(text: str, binary: str, default_policy: str | None = None,
                       make_default: bool = False, path: str = "daemon.json") -> str:
    try:
        doc = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path} is not valid JSON: {e}", path) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path} must hold a JSON object", path)
    entry: dict = {"path": binary}
    if default_policy:
        entry["runtimeArgs"] = ["--default-policy", default_policy]
    runtimes = doc.setdefault("runtimes", {})
    if not isinstance(runtimes, dict):
        raise ConfigError(f"{path}: `runtimes` must be an object", f"{path}:runtimes")
    runtimes[NAME] = entry
    if make_default:
        doc["default-runtime"] = NAME
    return json.dumps(doc, indent=2) + "\n"
