"""JSON without the `json` package: its import pulls in `re` (~5 ms here).

The C accelerator `_json` parses and escapes on its own; the lifecycle
commands read and write small documents, so this is all they need.
"""

from __future__ import annotations

import _json


class _ScanContext:
    # The attributes _json.make_scanner reads; numbers are parsed in C.
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = None
    memo: dict = {}

    def __init__(self) -> None:
        self.memo = {}
        self.parse_constant = _bad_constant


def _bad_constant(name: str) -> object:
    raise ValueError(f"invalid JSON constant {name}")


class JSONError(ValueError):
    """Text that is not one JSON document."""


def loads(text: str | bytes) -> object:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    scan = _json.make_scanner(_ScanContext())
    i = _skip_ws(text, 0)
    try:
        value, end = scan(text, i)
    except Exception:  # noqa: BLE001 - the C scanner's error path needs json.decoder
        _explain(text)
        raise JSONError("invalid JSON") from None
    end = _skip_ws(text, end)
    if end != len(text):
        raise JSONError(f"extra data at line {text.count(chr(10), 0, end) + 1}")
    return value


def _explain(text: str) -> None:
    """Bad input only: let the json package word the error (it imports re; fine here)."""
    import json

    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        raise JSONError(f"{e.msg} at line {e.lineno} column {e.colno}") from None


def _skip_ws(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in " \t\n\r":
        i += 1
    return i


def _default(obj: object) -> object:
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


def _float_repr(obj: float) -> str:
    if obj != obj or obj in (float("inf"), float("-inf")):
        raise ValueError("cannot encode a non-finite float as JSON")
    return float.__repr__(obj)


# the C encoder json.dumps itself uses (markers, default, encoder, indent, key separator,
# item separator, sort_keys, skipkeys, allow_nan): ~10x the Python fallback below
_c_encode = _json.make_encoder({}, _default, _json.encode_basestring_ascii, None, ":", ",",
                               False, False, False) if hasattr(_json, "make_encoder") else None


def dumps(obj: object) -> str:
    """Compact JSON (no spaces), key order kept."""
    if _c_encode is not None:
        try:
            return "".join(_c_encode(obj, 0))
        except ValueError as e:
            if "Circular" in str(e):
                raise
            # a non-finite float: the Python path below words the error
    parts: list[str] = []
    _encode(obj, parts.append)
    return "".join(parts)


def _encode(obj: object, out) -> None:  # noqa: ANN001 - out is list.append
    if isinstance(obj, str):
        out(_json.encode_basestring_ascii(obj))
    elif obj is None:
        out("null")
    elif obj is True:
        out("true")
    elif obj is False:
        out("false")
    elif isinstance(obj, int):
        out(int.__repr__(obj))
    elif isinstance(obj, float):
        if obj != obj or obj in (float("inf"), float("-inf")):
            raise ValueError("cannot encode a non-finite float as JSON")
        out(float.__repr__(obj))
    elif isinstance(obj, dict):
        out("{")
        first = True
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"JSON object keys must be strings, not {type(k).__name__}")
            if not first:
                out(",")
            first = False
            out(_json.encode_basestring_ascii(k))
            out(":")
            _encode(v, out)
        out("}")
    elif isinstance(obj, (list, tuple)):
        out("[")
        for i, v in enumerate(obj):
            if i:
                out(",")
            _encode(v, out)
        out("]")
    else:
        raise TypeError(f"cannot encode {type(obj).__name__} as JSON")
