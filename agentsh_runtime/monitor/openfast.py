"""The configuration of the native open path (openfast.c) for one container: which
container subtrees are FUSE roots (and their backing directories) and which are kernel
subtrees, the FUSE mount's device, and the policy's read rules compiled to the native
glob program (policy/globprog.py). None when the policy's globs do not
compile (too many alternatives): opens then all go through FUSE."""

from __future__ import annotations

import struct

from ..policy.engine import Engine
from ..policy.globprog import ACCEPT, ONE, SET, GlobTooComplex, compile_globs

MAGIC = 0x3143464F
FLAG_LOG, FLAG_KERNEL, FLAG_NO_RULES, FLAG_WRITES = 1, 2, 4, 8
ROOT_FUSE, ROOT_KERNEL = 1, 2
RULE_OTHER, RULE_ALLOW, RULE_AUDIT = 0, 1, 2
_KIND = {"allow": RULE_ALLOW, "audit": RULE_AUDIT}


def _str(b: bytes) -> bytes:
    return struct.pack("<I", len(b)) + b


def rule_program(engine: Engine) -> tuple[bytes, bytes, bytes] | None:
    """(rules, instructions, starts) blob parts for reads, or None (too complex)."""
    items, decisions = engine.file_globs_for("read")
    return program_parts(items, [_KIND.get(d.decision, RULE_OTHER) for d in decisions])


def program_parts(items: list[tuple[str, int]], kinds: list[int]
                  ) -> tuple[bytes, bytes, bytes] | None:
    try:
        prog, starts = compile_globs(items)
    except GlobTooComplex:
        return None
    rules = struct.pack("<I", len(kinds)) + b"".join(struct.pack("<I", k) for k in kinds)
    out = [struct.pack("<I", len(prog))]
    for op, arg in prog:
        if op in (SET, ONE):  # arg: the byte set
            out.append(struct.pack("<II", op, 0) + arg.to_bytes(32, "little"))
        elif op == ACCEPT:  # arg: the rule
            out.append(struct.pack("<Ii", op, arg) + bytes(32))
        else:  # BYTE: arg is the byte
            out.append(struct.pack("<II", op | (arg << 8), 0) + bytes(32))
    return (rules, b"".join(out),
            struct.pack("<I", len(starts)) + b"".join(struct.pack("<I", s) for s in starts))


def build_config(engine: Engine, fuse_roots: list[tuple[str, str]], fuse_dev: int,
                 log_allowed: bool, kernel: list[str] | None = None) -> bytes | None:
    """fuse_roots: (container path, backing directory). Native mounts need no entry:
    a file on them is not on `fuse_dev`, and the native side leaves it to the kernel.
    kernel: the kernel subtrees (/proc, /sys, /dev...) whose opens the monitor decides
    in Python (kernelopen.py); with any, opens the native side cannot place go there."""
    kernel = kernel or []
    prog = rule_program(engine)
    flags = (FLAG_LOG if log_allowed else 0) | (FLAG_KERNEL if kernel else 0)
    if prog is None:
        if not kernel:
            return None
        # no native decisions: no fast reads, and every kernel-subtree open to Python
        prog = (struct.pack("<I", 0), struct.pack("<I", 0), struct.pack("<I", 0))
        flags |= FLAG_NO_RULES
    parts = [struct.pack("<IIQQ", MAGIC, flags, fuse_dev, 0),
             struct.pack("<I", len(fuse_roots) + len(kernel))]
    for path, backing in fuse_roots:
        parts.append(struct.pack("<I", ROOT_FUSE) + _str(_norm(path).encode()) +
                     _str(backing.encode()))
    for path in kernel:
        parts.append(struct.pack("<I", ROOT_KERNEL) + _str(_norm(path).encode()) + _str(b""))
    parts.extend(prog)
    if kernel and not flags & FLAG_NO_RULES:
        wprog = write_program(engine)
        if wprog is not None:
            parts.extend(wprog)
            parts[0] = struct.pack("<IIQQ", MAGIC, flags | FLAG_WRITES, fuse_dev, 0)
    return b"".join(parts)


def write_program(engine: Engine) -> tuple[bytes, bytes, bytes] | None:
    items, decisions = engine.file_globs_for("write")
    return program_parts(items, [_KIND.get(d.decision, RULE_OTHER) for d in decisions])


def open_event(rec, read_rules: list, write_rules: list) -> dict:  # noqa: ANN001
    """The file_open event fields of an open the native side settled (an execfast
    FILE_OPEN record): answered with a backing fd (rec.error >= 0: that fd), or a
    kernel subtree's read (-1) or write (-2) it let the kernel make."""
    writes = rec.error == -2
    rules = write_rules if writes else read_rules
    if 0 <= rec.tag < len(rules):
        d = rules[rec.tag]
        decision, rule, message = d.decision, d.rule, d.message
    else:
        decision, rule, message = "allow", "default-allow-reads", None
    fields = {"flags": rec.depth, "via": "addfd" if rec.error >= 0 else "seccomp"}
    if rec.error >= 0:
        fields["fd"] = rec.error
    return {"operation": "write" if writes else "read", "path": rec.resolved,
            "pid": rec.pid, "comm": rec.key.decode("utf-8", "replace") or None,
            "policy": {"decision": decision, "effective_decision": "allow", "rule": rule,
                       "message": message},
            "effective_action": "allowed", "latency_us": rec.latency_ns // 1000,
            "fields": fields}


def rules_only(engine: Engine | None = None,
               items: list[tuple[str, int]] | None = None) -> bytes | None:
    """A configuration with no roots, for testing the glob program (execfast.match_files):
    an engine's read rules, or `items` [(glob, rule)] (every rule an allow)."""
    if engine is not None:
        prog = rule_program(engine)
    else:
        items = items or []
        prog = program_parts(items, [RULE_ALLOW] * (max((i for _, i in items), default=-1) + 1))
    if prog is None:
        return None
    return b"".join([struct.pack("<IIQQI", MAGIC, 0, 0, 0, 0), *prog])


def _norm(path: str) -> str:
    return "/" + path.strip("/") if path.strip("/") else "/"
