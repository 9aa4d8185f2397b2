"""OCI seccomp profiles: compile (libseccomp, cached), load, hand the listener over.

- `prepare(cfg, cache_dir) -> Prepared | None`: in the parent, before fork.
- `install(prepared) -> int | None`: in the container process (see plan.py for where).
- `agent.send_state(...)`: the runtime-spec listenerPath hand-off of the listener fd.

Importing this package is cheap (no pyseccomp, json, re, typing); the compiler
(`compile.py`) is imported only on a cache miss.
"""

from __future__ import annotations

from .plan import DEFAULT_CACHE_DIR, Prepared, install, prepare

__all__ = ["DEFAULT_CACHE_DIR", "Prepared", "install", "prepare"]
