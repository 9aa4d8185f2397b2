"""The FUSE server of file_rules: a pyfuse3 passthrough of a backing directory with a
policy hook, run under trio.

    from agentsh_runtime.fusefs import Verdict            # cheap: no pyfuse3, no trio
    from agentsh_runtime.fusefs.passthrough import Passthrough
    from agentsh_runtime.fusefs.mount import serve, serve_async
    from agentsh_runtime.fusefs.kmount import mount_fuse_fd

`Passthrough`, `serve`, `serve_async` and `mount_fuse_fd` are also reachable as
attributes of this package; they are imported on first use.
"""

from __future__ import annotations

from typing import Any

from .verdict import ALLOW, OPS, Verdict, allow_all, stricter

__all__ = ["ALLOW", "OPS", "Verdict", "allow_all", "stricter", "Passthrough", "serve",
           "serve_async", "mount_fuse_fd", "scan_hardlinks"]

_LAZY = {"Passthrough": "passthrough", "scan_hardlinks": "passthrough", "serve": "mount",
         "serve_async": "mount", "mount_fuse_fd": "kmount"}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)
