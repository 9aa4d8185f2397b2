"""agentsh policies: load, validate, compile, decide. Pure: no I/O but reading policy
files (`load`, `resolve_policy`), no process or OS knowledge.

    policy = load("/etc/agentsh/policies/dev.yaml")        # or loads(text, origin)
    engine = Engine(policy, variables={"HOME": "/root", "PROJECT_ROOT": "/work"})
    engine.decide("file", FileQuery("write", "/etc/passwd")).decision  # 'deny'

Submodules load on first use (re2 and yaml are not free to import).
"""

from __future__ import annotations

from typing import Any

from .errors import PolicyError

_EXPORTS = {
    "load": "load", "loads": "load", "validate": "load", "parse_yaml": "load",
    "parse_duration": "load",
    "Engine": "engine", "Decision": "engine", "FileQuery": "engine", "NetQuery": "engine",
    "ExecQuery": "engine", "UnixQuery": "engine", "SignalQuery": "engine",
    "EnvQuery": "engine", "stricter": "engine", "KINDS": "engine",
    "Policy": "model", "ResourceLimits": "model", "CommandRule": "model",
    "merge_into_linux_resources": "limits", "unapplied": "limits",
    "resolve_policy": "resolve", "builtin_names": "resolve", "BUILTINS": "resolve",
    "BUILTIN_SECRETS": "env",
}

__all__ = ["PolicyError", *_EXPORTS]


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value
