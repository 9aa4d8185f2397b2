"""Reading a bundle's config.json into the model, validated."""

from __future__ import annotations

import os

from .. import jsonio
from ..errors import ConfigError
from .model import Process, Spec


def read_json(path: str, field: str) -> dict:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file or directory", field) from None
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror}", field) from e
    try:
        doc = jsonio.loads(raw)
    except ValueError as e:
        raise ConfigError(f"{path} is not valid JSON: {e}", field) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path} must hold a JSON object", field)
    return doc


def load_bundle(bundle: str) -> Spec:
    from .validate import validate_config

    raw = read_json(os.path.join(bundle, "config.json"), "config.json")
    validate_config(raw)
    return Spec(raw, bundle)


def load_process(path: str) -> Process:
    from .validate import validate_process

    raw = read_json(path, "--process")
    validate_process(raw)
    return Process(raw)
