"""`${VAR}` and `${VAR:-fallback}` in file_rules[].paths and network_rules[].domains.

A variable's value is a literal (its glob characters are escaped); a fallback is
part of the policy and stays a glob. `${VAR:-x}` takes x when VAR is unset or
empty; `${VAR}` with VAR unset or empty is an error (an empty HOME would turn
`${HOME}/.ssh/**` into `/.ssh/**`, silently protecting nothing).
"""

from __future__ import annotations

import re

from .glob import escape

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

__all__ = ["VariableError", "references", "expand", "placeholder_expand"]


class VariableError(ValueError):
    pass


def _scan(text: str):
    """Yield (literal_text, name, fallback|None) pieces; name None for the tail."""
    i, n = 0, len(text)
    while True:
        j = text.find("${", i)
        if j < 0:
            yield text[i:], None, None
            return
        k = text.find("}", j + 2)
        if k < 0:
            raise VariableError(f"unclosed '${{' at {j}")
        body = text[j + 2:k]
        name, sep, fallback = body.partition(":-")
        if not _NAME.match(name):
            raise VariableError(f"bad variable name {name!r} in '${{{body}}}'")
        if sep and "${" in fallback:
            raise VariableError("a fallback cannot hold another variable")
        yield text[i:j], name, (fallback if sep else None)
        i = k + 1
        if i >= n:
            return


def references(text: str) -> list[str]:
    """Names of the variables `text` uses (raises VariableError when malformed)."""
    return [name for _, name, _ in _scan(text) if name is not None]


def expand(text: str, values: dict[str, str]) -> str:
    """`text` with each variable replaced by its (glob-escaped) value."""
    out: list[str] = []
    for lit, name, fallback in _scan(text):
        out.append(lit)
        if name is None:
            continue
        value = values.get(name)
        if value:
            out.append(escape(value))
        elif fallback is not None:
            out.append(fallback)
        else:
            raise VariableError(f"undefined variable ${{{name}}} (and no fallback)")
    return "".join(out)


def placeholder_expand(text: str) -> str:
    """`text` with values stood in by `x` and fallbacks kept: to check a glob's syntax
    before the real values are known."""
    out: list[str] = []
    for lit, name, fallback in _scan(text):
        out.append(lit)
        if name is not None:
            out.append(fallback if fallback else "x")
    return "".join(out)
