"""Which commands an exec runs: the payloads of wrappers and multi-call binaries.

POLICY.md (ours): an exec is matched on its path as given, its resolved path and
argv[0]; for multi-call binaries (busybox, toybox) and wrappers (env, nice,
nohup, timeout, time, xargs, sudo, doas, strace, ltrace, the dynamic loader
ld-linux*, plus transparent_commands.add) the payload command is checked too.

A wrapper is recognised by the basename of any of path, resolved path and
argv[0] (`execve("/usr/bin/env", ["ls", "rm", ...])` runs rm: the name in argv[0]
does not hide it). Options are skipped as each program parses them; when a
parse is unsure it errs toward finding a payload, which can only add a check.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable

Argv = tuple[str, ...]
MAX_DEPTH = 8  # wrapper levels followed; deeper is denied
MAX_CANDIDATES = 64

__all__ = ["basename", "payloads", "is_loader", "is_multicall", "WRAPPERS", "MAX_DEPTH"]


def basename(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def is_multicall(base: str) -> bool:
    return base.startswith("busybox") or base.startswith("toybox")


def is_loader(base: str) -> bool:
    """The dynamic loader, glibc's or musl's, by its file name."""
    return (base.startswith(("ld-linux", "ld64.so", "ld.so", "ld-musl-", "libc.musl-"))
            or (base.startswith("ld-") and ".so" in base))


def _skip(args: Argv, i: int, short_arg: str = "", long_arg: Iterable[str] = (),
          short_attached: str = "") -> int:
    """Index of the first operand at or after i (getopt_long style, stops at the first
    non-option). `short_arg`: letters taking a value (attached or next word);
    `short_attached`: letters whose optional value must be attached; `long_arg`: long
    names taking a value (`--name value` or `--name=value`; unique prefixes too)."""
    longs = tuple(long_arg)
    n = len(args)
    while i < n:
        a = args[i]
        if a == "--":
            return i + 1
        if a.startswith("--"):
            name = a[2:]
            if "=" not in name and name and any(ln.startswith(name) for ln in longs):
                i += 2
            else:
                i += 1
            continue
        if a.startswith("-") and len(a) > 1:
            j = 1
            i += 1
            while j < len(a):
                ch = a[j]
                if ch in short_arg:
                    if j + 1 == len(a):
                        i += 1  # value is the next word
                    break
                if ch in short_attached:
                    break
                j += 1
            continue
        return i
    return n


def _env(args: Argv) -> list[Argv]:
    args = list(args)
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            i += 1
            break
        if a == "-":
            i += 1
            continue
        split = None
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            if name and "split-string".startswith(name) and len(name) >= 2:
                if eq:
                    split, i = val, i + 1
                else:
                    split, i = (args[i + 1] if i + 1 < len(args) else ""), i + 2
            elif not eq and name and any(ln.startswith(name) for ln in
                                         ("unset", "chdir", "argv0")):
                i += 2
                continue
            else:
                i += 1
                continue
        elif a.startswith("-") and len(a) > 1:
            j = 1
            i += 1
            while j < len(a):
                ch = a[j]
                if ch == "S":
                    if j + 1 < len(a):
                        split = a[j + 1:]
                    else:
                        split = args[i] if i < len(args) else ""
                        i += 1
                    break
                if ch in "uCPa":
                    if j + 1 == len(a):
                        i += 1
                    break
                j += 1
            if split is None:
                continue
        else:
            break
        if split is not None:
            try:
                words = shlex.split(split)
            except ValueError:
                words = split.split()
            args[i:i] = words
    while i < len(args) and "=" in args[i] and not args[i].startswith("="):
        i += 1
    return [tuple(args[i:])] if i < len(args) else []


def _nice(args: Argv) -> list[Argv]:
    i, n = 0, len(args)
    while i < n:
        a = args[i]
        if a == "--":
            i += 1
            break
        if len(a) > 1 and a[0] == "-" and (a[1:].lstrip("+-").isdigit()):
            i += 1  # -10, --5, -+3
            continue
        if a.startswith("--"):
            name = a[2:]
            i += 2 if "=" not in name and name and "adjustment".startswith(name) else 1
            continue
        if a.startswith("-") and len(a) > 1:
            i += 2 if a == "-n" else 1
            continue
        break
    return [args[i:]] if i < n else []


def _simple(short_arg: str = "", long_arg: Iterable[str] = (), short_attached: str = "",
            operands_before: int = 0, default: Argv | None = None,
            no_payload_flags: str = "") -> Callable[[Argv], list[Argv]]:
    longs = tuple(long_arg)

    def parse(args: Argv) -> list[Argv]:
        if no_payload_flags:
            for a in args:
                if a == "--" or not a.startswith("-") or a.startswith("--"):
                    break
                if any(ch in no_payload_flags for ch in a[1:]):
                    return []
        i = _skip(args, 0, short_arg, longs, short_attached)
        i += operands_before
        if i < len(args):
            return [args[i:]]
        return [default] if default else []

    return parse


def _sudo(args: Argv) -> list[Argv]:
    i = _skip(args, 0, "CDghpRrTtUuc", ("close-from", "chdir", "group", "host", "prompt",
                                        "chroot", "role", "type", "command-timeout",
                                        "other-user", "user", "login-class"))
    for a in args[:i]:
        if a == "--edit":
            return []  # sudoedit: edits files, runs no command
        if a.startswith("-") and not a.startswith("--"):
            for ch in a[1:]:
                if ch in "CDghpRrTtUuc":
                    break
                if ch == "e":
                    return []
    while i < len(args) and "=" in args[i] and not args[i].startswith("="):
        i += 1
    return [args[i:]] if i < len(args) else []


def _loader(args: Argv) -> list[Argv]:
    with_arg = ("--library-path", "--inhibit-rpath", "--audit", "--preload", "--argv0",
                "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask")
    i, n = 0, len(args)
    argv0 = None
    while i < n and args[i].startswith("--"):
        a = args[i]
        if a == "--":
            i += 1
            break
        if a in with_arg:
            if a == "--argv0" and i + 1 < n:
                argv0 = args[i + 1]
            i += 2
        else:
            i += 1
    if i >= n:
        return []
    out = [args[i:]]
    if argv0 is not None:
        out.append((argv0,) + args[i + 1:])
    return out


def _generic(args: Argv) -> list[Argv]:
    i = _skip(args, 0)
    return [args[i:]] if i < len(args) else []


WRAPPERS: dict[str, Callable[[Argv], list[Argv]]] = {
    "env": _env,
    "nice": _nice,
    "nohup": _simple(),
    "timeout": _simple("sk", ("signal", "kill-after"), operands_before=1),
    "time": _simple("fo", ("format", "output")),
    "xargs": _simple("adEILnPs", ("arg-file", "delimiter", "max-args", "max-procs",
                                  "max-chars", "process-slot-var"), "eil", default=("echo",)),
    "sudo": _sudo,
    "doas": _simple("u", no_payload_flags="C"),
    "strace": _simple("abeEIoOpPsSuXU", ("output", "attach", "trace", "signal", "status",
                                          "string-limit", "summary-sort-by", "user", "env",
                                          "columns", "trace-path", "interruptible", "expr",
                                          "abbrev", "verbose", "raw", "read", "write",
                                          "fault", "inject", "quiet", "silent")),
    "ltrace": _simple("aADeFlnopsuwx", ("output", "indent", "align", "library")),
    "setsid": _simple(),
    "stdbuf": _simple("ioe", ("input", "output", "error")),
}


def payloads(names: Iterable[str], argv: Argv,
             extra_wrappers: frozenset[str] = frozenset()) -> list[Argv]:
    """The argv of each command that an exec of `argv` runs as its payload, given the
    lower-cased basenames `names` the exec goes by (path, resolved path, argv[0])."""
    out: list[Argv] = []
    if not argv:
        return out
    rest = tuple(argv[1:])
    seen_kinds: set[str] = set()
    for name in names:
        if is_multicall(name):
            if "multicall" in seen_kinds:
                continue
            seen_kinds.add("multicall")
            # the applet is argv[0]'s basename, or the first argument after `busybox`
            if is_multicall(basename(argv[0]).lower()):
                if rest and not rest[0].startswith("-"):
                    out.append(rest)
            else:
                out.append(tuple(argv))  # argv[0] names the applet that runs
        elif name in WRAPPERS:
            if name in seen_kinds:
                continue
            seen_kinds.add(name)
            out.extend(WRAPPERS[name](rest))
        elif is_loader(name):
            if "loader" in seen_kinds:
                continue
            seen_kinds.add("loader")
            out.extend(_loader(rest))
        elif name in extra_wrappers:
            if name in seen_kinds:
                continue
            seen_kinds.add(name)
            out.extend(_generic(rest))
    uniq: list[Argv] = []
    for p in out:
        if p and p[0] and p not in uniq:
            uniq.append(p)
    return uniq
