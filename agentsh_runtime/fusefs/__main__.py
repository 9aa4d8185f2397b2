"""python -m agentsh_runtime.fusefs BACKING MOUNTPOINT: a plain passthrough (allow all,
no events), for benchmarks and manual checks. Unmounts on SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m agentsh_runtime.fusefs")
    ap.add_argument("backing")
    ap.add_argument("mountpoint")
    ap.add_argument("--prefix", default="/")
    ap.add_argument("--timeout", type=float, default=1.0, help="entry/attr timeout (s)")
    ap.add_argument("--no-writeback", action="store_true")
    ap.add_argument("--no-keep-cache", action="store_true")
    ap.add_argument("--ready-fd", type=int, help="write one byte here once mounted")
    a = ap.parse_args(argv)

    from .mount import serve
    from .passthrough import Passthrough

    ops = Passthrough(a.backing, prefix=a.prefix, entry_timeout=a.timeout,
                      attr_timeout=a.timeout, negative_timeout=a.timeout,
                      writeback_cache=not a.no_writeback, keep_cache=not a.no_keep_cache)

    def ready() -> None:
        if a.ready_fd is not None:
            os.write(a.ready_fd, b"1")
            os.close(a.ready_fd)

    serve(None, a.mountpoint, ops, on_ready=ready)
    return 0


if __name__ == "__main__":
    sys.exit(main())
