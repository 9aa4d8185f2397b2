"""Finding a policy by name or path: built-ins first, then NAME.yaml in the policy dirs.

An absolute path is read only when it lies inside one of the directories the
caller allows (after resolving symlinks), so an annotation cannot make the
runtime read an arbitrary host file. Names are `[A-Za-z0-9_.-]+` (no `/`, not
starting with a dot).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import PolicyError
from .load import MAX_POLICY_BYTES

DEFAULT_DIRS = ("/etc/agentsh/policies",)
BUILTIN_DIR = Path(__file__).resolve().parent.parent / "data" / "policies"
BUILTINS = ("default", "strict", "audit-only", "allow-all")
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*\Z")

__all__ = ["resolve_policy", "builtin_names", "builtin_text", "BUILTINS", "DEFAULT_DIRS",
           "policy_files"]


def builtin_names() -> list[str]:
    return list(BUILTINS)


def builtin_text(name: str) -> str:
    with open(BUILTIN_DIR / f"{name}.yaml", encoding="utf-8") as fh:
        return fh.read()


def _read(path: str, field: str) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError(f"cannot read policy {path}: {exc.strerror or exc}", field) from None
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(f"policy {path} is larger than {MAX_POLICY_BYTES} bytes", field)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"policy {path} is not UTF-8", field) from None


def _inside(path: str, dirs: list[str] | tuple[str, ...]) -> bool:
    real = os.path.realpath(path)
    for d in dirs:
        base = os.path.realpath(d)
        if real.startswith(base.rstrip("/") + "/"):
            return True
    return False


def resolve_policy(name_or_path: str, policy_dirs: list[str] | tuple[str, ...] = DEFAULT_DIRS,
                   field: str = "policy") -> tuple[str, str]:
    """(YAML text, origin) for a built-in name, NAME(.yaml|.yml) under `policy_dirs`, or
    an absolute path inside one of `policy_dirs`. origin: `builtin:NAME` or the path."""
    ref = name_or_path.strip()
    if not ref:
        raise PolicyError("empty policy name", field)
    if ref.startswith("/"):
        if not _inside(ref, policy_dirs):
            raise PolicyError(f"policy path {ref} is outside the allowed policy directories "
                              f"({', '.join(policy_dirs) or 'none'})", field)
        return _read(os.path.realpath(ref), field), ref
    if "/" in ref or not _NAME.match(ref):
        raise PolicyError(f"bad policy name {ref!r}: a name ([A-Za-z0-9_.-]) or an absolute "
                          "path", field)
    if ref in BUILTINS:
        return builtin_text(ref), f"builtin:{ref}"
    for d in policy_dirs:
        for suffix in (".yaml", ".yml"):
            path = os.path.join(d, ref + suffix)
            if os.path.isfile(path):
                return _read(path, field), path
    raise PolicyError(f"no policy named {ref!r} (built-ins: {', '.join(BUILTINS)}; looked in "
                      f"{', '.join(policy_dirs) or 'no directory'})", field)


def policy_files(dirs: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, path) of every NAME.yaml / NAME.yml in `dirs`, first dir winning."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for d in dirs:
        try:
            entries = sorted(os.listdir(d))
        except OSError:
            continue
        for entry in entries:
            for suffix in (".yaml", ".yml"):
                if entry.endswith(suffix):
                    name = entry[:-len(suffix)]
                    path = os.path.join(d, entry)
                    if name not in seen and _NAME.match(name) and os.path.isfile(path):
                        seen.add(name)
                        out.append((name, path))
    return out
