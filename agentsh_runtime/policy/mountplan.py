"""The mount plan: which subtrees of the container's filesystem file_rules need a FUSE
mount for, and which can stay native (kernel speed). Pure: no syscalls, no I/O.

Input: the compiled `Engine` (its file_rules, variables, mode, and the policy's `audit`
settings) and the container's mounts (`MountPoint`: the root "/" and config.json's
`mounts[]`, each with its type, options and whether it is a directory).

Treatments, per subtree (a container path and everything below it that no deeper entry
of the plan governs):

- `native`: every operation on every path of the subtree is allowed with no event wanted
  (decision allow with `audit.log_allowed: false`). Left as config.json has it.
- `native_ro`: every read-like operation (`open, read, stat, list, readlink, access`)
  allowed and every other operation denied, with no event wanted (allow without
  `log_allowed`, deny without `log_denied`): a read-only bind.
- `fuse`: everything else: a read denied, `approve`, `audit`, `redirect`,
  `soft_delete`, a mix of allowed and denied writes, events wanted (`log_allowed`,
  `log_denied`), or rules the plan cannot tell apart inside the subtree.
- `kernel`: `/proc`, `/sys`, `/dev` and everything below them, and every kernel
  filesystem (proc, sysfs, devpts, mqueue, cgroup, ...). Never FUSE-mediated (FUSE cannot
  pass a device open, /proc's magic links or sysfs' semantics through); the monitor
  decides the opens there at the seccomp notification (monitor/kernelopen.py). The
  operations on names (unlink, rename, mkdir, link, symlink, chmod, chown, mknod) never
  reach the monitor: a writable kernel mount of config.json's where the policy lets none
  of them (nor, outside the /dev tmpfs, a write or create) through is `sealed`, mounted
  read-only, so the kernel refuses them with EROFS and no event (the /dev tmpfs after its
  nodes are in: device nodes stay writable on a read-only mount, and the opens stay the
  monitor's to decide, with EACCES). Where the policy allows some of them, the others are
  listed as not enforced (warnings).

**Errno of a denied write (the decision).** POLICY.md: "Denied by a rule: EACCES.
**Ours**: a subtree the plan makes a native read-only mount answers writes with EROFS;
the plan says which subtrees those are." So a `native_ro` subtree answers writes with
EROFS, and this plan is where that is stated: every `native_ro` entry (and only those)
gives EROFS; every denied operation anywhere else goes through FUSE and gets EACCES. A
subtree whose denied writes must log (`log_denied: true`, as in every built-in policy)
is never `native_ro`: a read-only mount writes no event. `compile_plan(...,
native_ro=False)` turns `native_ro` off altogether (such subtrees become `fuse`), for a
caller that wants EACCES everywhere. Caveat: the kernel's read-only check covers regular
files, directories and symlinks only: a FIFO, socket or device node inside a `native_ro`
subtree can still be written (mount those binds `nodev`; FIFOs and sockets in the image
stay writable).

**How subtrees are found (symbolically, conservatively).** Each rule glob (after
`${VAR}` expansion and brace expansion) is reduced to its literal prefix, the text before
its first wildcard. A glob with no wildcard reaches one path; otherwise it reaches only
paths strictly below the directory part of that prefix (`/a/b*/c` and `/a/**/b`: below
`/a`); a glob starting with `**` (or any wildcard that can produce `/`) reaches every
path. Leading single `*`s can only match the empty string of an absolute path and are
skipped; a glob that then starts with anything but `/` (`*.env`, `foo/**`) matches no
path the engine is ever asked about (paths are absolute) and reaches nothing (a
warning says so). The tree is split at every such directory, at the parent of every
single-path glob, at every mount point and at /proc, /sys, /dev. Each split point X
governs X itself (decided exactly, by asking the engine) and the paths strictly below it
that no deeper split point governs; for those, per operation, the possible decisions are
those of every rule that reaches them, in order, up to the first rule that covers all of
them (a glob `D/**` with D at or above X, or `**`), else the no-match default
(`default-allow-reads` for read-like operations, `default-deny-files` for the rest).
First match wins: `allow /a/**` before `deny /a/b/**` leaves /a/b allowed; the other way
round /a/b is decided by the deny. Adjacent split points with the same treatment are
merged.

Mount points: each mount is its own backing: a FUSE mount at / does not serve a
volume mounted at /workspace, so every mount destination is an entry of its own.
Single-file bind mounts (`kind="file"`) may be `native` or `native_ro`; when they would
need `fuse` they stay native with a warning. Sockets, FIFOs and devices bind-mounted
(`kind="other"`) always stay native (a FUSE inode cannot carry a socket connection),
with a warning when a rule would want them mediated. A mount with the `ro` option stays
read-only whatever the plan says (writes there: EROFS, as config.json asks).

Split points are directories that hold a mount on top of their parent, so renaming or
removing one of them from inside the container fails with EBUSY whatever the policy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import model as m
from .glob import GlobError, scan
from .variables import VariableError, expand

NATIVE, NATIVE_RO, FUSE, KERNEL = "native", "native_ro", "fuse", "kernel"
TREATMENTS = (NATIVE, NATIVE_RO, FUSE, KERNEL)
DIR, FILE_KIND, OTHER = "dir", "file", "other"
KERNEL_PATHS = ("/proc", "/sys", "/dev")
KERNEL_TYPES = frozenset(("proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2",
                          "securityfs", "debugfs", "tracefs", "bpf", "hugetlbfs", "configfs",
                          "fusectl", "pstore", "binfmt_misc", "efivarfs", "selinuxfs",
                          "nsfs", "devtmpfs"))
MAX_ALTERNATIVES = 256  # brace expansions beyond this are treated as a wildcard
_OPS = tuple(sorted(m.FILE_OPS))
_WRITE_OPS = tuple(op for op in _OPS if op not in m.READ_OPS)
# Operations on names, not contents: the monitor decides opens in kernel subtrees (and so
# `write` and `create`), never these; a read-only mount refuses them all (EROFS).
_NAME_OPS = ("delete", "rmdir", "mkdir", "rename", "link", "symlink", "chmod", "chown",
             "mknod")
# Writable kernel mounts a read-only remount keeps working: opens stay the monitor's to
# decide, device nodes stay writable on a read-only mount (the kernel's read-only check
# covers regular files, directories and symlinks only).
_SEALABLE = frozenset(("tmpfs", "sysfs", "cgroup", "cgroup2", "mqueue"))
_SLASHES = re.compile(r"/{2,}")

__all__ = ["MountPoint", "PlanEntry", "PlanLayer", "MountPlan", "compile_plan",
           "mounts_from_spec", "TREATMENTS", "NATIVE", "NATIVE_RO", "FUSE", "KERNEL",
           "KERNEL_TYPES", "KERNEL_PATHS"]


# ---- input ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class MountPoint:
    """One mount of the container's view. `kind`: `dir`, `file` (a regular file bind
    mounted alone) or `other` (a socket, FIFO or device node bind mounted)."""

    destination: str
    type: str = "bind"
    options: tuple[str, ...] = ()
    kind: str = DIR

    @property
    def readonly(self) -> bool:
        ro = False
        for o in self.options:
            if o in ("ro", "rro"):
                ro = True
            elif o in ("rw", "rrw"):
                ro = False
        return ro


def mounts_from_spec(spec: Any, kinds: dict[str, str] | None = None) -> list[MountPoint]:
    """The root and config.json's mounts as MountPoints (a `spec.model.Spec`). `kinds`:
    destination -> `file` / `other` for the mounts that are not directories (the caller
    knows: it can stat the source); the rest are directories."""
    kinds = kinds or {}
    out = [MountPoint("/", "rootfs", ("ro",) if spec.root_readonly else (), DIR)]
    for mnt in spec.mounts:
        dest = _norm(mnt.destination)
        out.append(MountPoint(dest, mnt.type or ("bind" if _is_bind(mnt.options) else ""),
                              tuple(mnt.options), kinds.get(dest, kinds.get(mnt.destination,
                                                                            DIR))))
    return out


def _is_bind(options: Iterable[str]) -> bool:
    return any(o in ("bind", "rbind") for o in options)


# ---- output ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PlanEntry:
    """A subtree: `path` and everything below it that no deeper entry governs."""

    path: str
    treatment: str  # native, native_ro, fuse, kernel
    reasons: tuple[str, ...]  # rule names, default-*, audit.log_allowed, audit.log_denied
    mount: str  # destination of the mount the subtree lives in ("/": the rootfs)
    fstype: str = "bind"
    readonly: bool = False  # the mount is read-only in config.json
    kind: str = DIR
    wanted: str = ""  # what the policy needs here (differs for kernel and non-directories)
    sealed: bool = False  # a writable kernel mount this plan makes read-only (see `_sealable`)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "treatment": self.treatment, "wanted": self.wanted,
                "reasons": list(self.reasons), "mount": self.mount, "fstype": self.fstype,
                "readonly": self.readonly, "kind": self.kind, "sealed": self.sealed}


@dataclass(frozen=True, slots=True)
class PlanLayer:
    """One mount to make, in order, after the container's mount `mount` is in place and
    before the mounts config.json nests below it: `fuse` (the monitor's FUSE server
    over that path's backing), `bind` (the backing bound read-write on top of what its
    parent entry mounted), `bind_ro` (the same, read-only)."""

    path: str
    action: str  # fuse, bind, bind_ro
    mount: str
    readonly: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "action": self.action, "mount": self.mount,
                "readonly": self.readonly}


@dataclass(frozen=True, slots=True)
class MountPlan:
    """Entries in preorder (parents first); `entry_for(path)` answers for any path."""

    entries: tuple[PlanEntry, ...]  # parents before children
    warnings: tuple[str, ...] = ()
    policy: str = ""
    mode: str = "enforce"
    _index: dict[str, PlanEntry] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update((e.path, e) for e in self.entries)

    def entry_for(self, path: str) -> PlanEntry:
        """The entry governing `path` (absolute, normalized): the deepest entry at or
        above it."""
        p = _norm(path)
        while True:
            e = self._index.get(p)
            if e is not None:
                return e
            if p == "/":
                raise KeyError("the plan has no root entry")  # pragma: no cover
            p = _parent(p)

    def treatment(self, path: str) -> str:
        return self.entry_for(path).treatment

    def _parent_entry(self, e: PlanEntry) -> PlanEntry | None:
        if e.path == "/":
            return None
        return self.entry_for(_parent(e.path))

    def fuse_roots(self) -> tuple[str, ...]:
        """The top-most FUSE subtrees, one FUSE mount each: a fuse entry whose parent
        entry is fuse too and lives in the same mount is served by the parent's mount.
        A native entry below a fuse one is a bind on top of it (see `layers`), so a fuse
        entry below that is a root again."""
        out = []
        for e in self.entries:
            if e.treatment != FUSE:
                continue
            parent = self._parent_entry(e)
            if parent is None or parent.treatment != FUSE or parent.mount != e.mount:
                out.append(e.path)
        return tuple(out)

    def layers(self) -> tuple[PlanLayer, ...]:
        """The mounts to make on top of the container's own, parents first. Per mount of
        config.json (and the rootfs), its layers go right after it is mounted: a FUSE
        mount at a fuse root, a bind of the backing where a native subtree sits inside a
        fuse or read-only one, a read-only bind for native_ro, and a native bind for a
        kernel path that is a plain directory inside a mediated parent (a rootfs /dev
        without a tmpfs on it)."""
        out = []
        for e in self.entries:
            parent = self._parent_entry(e)
            if parent is not None and parent.mount != e.mount:
                parent = None  # the mount's own root: its parent is another backing
            if e.treatment == KERNEL:
                # a kernel path that is no mount of its own (a rootfs /dev directory) must
                # not be served by its parent's FUSE mount: bind it back natively on top
                if parent is not None and parent.treatment not in (NATIVE, KERNEL):
                    out.append(PlanLayer(e.path, "bind_ro" if e.readonly else "bind",
                                         e.mount, e.readonly))
                continue
            if e.treatment == FUSE:
                if e.path in self.fuse_roots():
                    out.append(PlanLayer(e.path, "fuse", e.mount, e.readonly))
                continue
            if parent is None:
                if e.treatment == NATIVE_RO and not e.readonly:
                    out.append(PlanLayer(e.path, "bind_ro", e.mount, True))
                continue
            if parent.treatment == e.treatment:
                continue
            ro = e.readonly or e.treatment == NATIVE_RO
            out.append(PlanLayer(e.path, "bind_ro" if ro else "bind", e.mount, ro))
        return tuple(out)

    def sealed(self) -> tuple[str, ...]:
        """Mount destinations of config.json to mount read-only (kernel mounts where the
        policy allows no operation the kernel would let through there)."""
        return tuple(e.path for e in self.entries if e.sealed)

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "mode": self.mode,
                "entries": [e.to_dict() for e in self.entries],
                "sealed": list(self.sealed()),
                "fuse_roots": list(self.fuse_roots()),
                "layers": [x.to_dict() for x in self.layers()],
                "warnings": list(self.warnings)}


# ---- paths ----------------------------------------------------------------------------

def _norm(path: str) -> str:
    p = _SLASHES.sub("/", "/" + path.strip())
    if len(p) > 1:
        p = p.rstrip("/") or "/"
    parts: list[str] = []
    for c in p.split("/"):
        if c in ("", "."):
            continue
        if c == "..":
            if parts:
                parts.pop()
            continue
        parts.append(c)
    return "/" + "/".join(parts)


def _parent(p: str) -> str:
    i = p.rfind("/")
    return p[:i] if i > 0 else "/"


def _at_or_below(p: str, top: str) -> bool:
    """p is top or below it ("" as top: everything)."""
    return top in ("", "/") or p == top or p.startswith(top + "/")


def _key(p: str) -> tuple[str, ...]:
    return tuple(c for c in p.split("/") if c)


def _normalized(p: str) -> bool:
    """An absolute path the engine can be asked about: no empty, `.` or `..` part."""
    if p == "/":
        return True
    if not p.startswith("/") or p.endswith("/"):
        return False
    return all(c not in ("", ".", "..") for c in p[1:].split("/"))


# ---- globs, symbolically --------------------------------------------------------------

_STAR, _DSTAR, _ONE, _WILD = ("*",), ("**",), ("?",), ("~",)  # _WILD: may produce "/"


def _tokens(toks: list[tuple]) -> list[tuple]:
    """glob.scan's tokens as the plan reads them: ("L", char), _STAR, _DSTAR, _ONE (one
    character, never "/": `?` and [!...]), _WILD ([...]: may hold "/"), ("{", [alts])."""
    out: list[tuple] = []
    for t in toks:
        kind = t[0]
        if kind == "lit":
            out.append(("L", t[1]))
        elif kind == "star":
            out.append(_STAR)
        elif kind == "dstar":
            out.append(_DSTAR)
        elif kind == "one" or (kind == "class" and t[1]):
            out.append(_ONE)
        elif kind == "class":
            out.append(_WILD)
        else:
            out.append(("{", [_tokens(alt) for alt in t[1]]))
    return out


def _alternatives(toks: list[tuple]) -> list[list[tuple]] | None:
    """Brace-free token lists, one per alternative; None past MAX_ALTERNATIVES."""
    results: list[list[tuple]] = [[]]
    for t in toks:
        if t[0] == "{":
            opts: list[list[tuple]] = []
            for alt in t[1]:
                sub = _alternatives(alt)
                if sub is None:
                    return None
                opts.extend(sub)
            results = [r + o for r in results for o in opts]
            if len(results) > MAX_ALTERNATIVES:
                return None
        else:
            results = [r + [t] for r in results]
    return results


@dataclass(frozen=True, slots=True)
class _Reach:
    kind: str  # "node" (exactly `path`) or "below" (strictly below `path`; "" = every path)
    path: str
    covers: bool = False  # "below" only: matches every path strictly below `path`


def _reach_of(alt: list[tuple]) -> _Reach | None:
    """What one brace-free glob can match among normalized absolute paths; None: none."""
    k = 0
    while k < len(alt) and alt[k] is _STAR:
        k += 1  # a `*` before the leading "/" can only match the empty string
    alt = alt[k:]
    if not alt:
        return None
    first = alt[0]
    if first is _ONE:
        return None  # one character that is not "/": never an absolute path
    if first is _DSTAR or first is _WILD or first[0] == "{":
        covers = len(alt) == 1 and first is _DSTAR
        return _Reach("below", "", covers)
    lit: list[str] = []
    for t in alt:
        if t[0] != "L":
            break
        lit.append(t[1])
    run = "".join(lit)
    if not run.startswith("/"):
        return None
    if len(lit) == len(alt):
        return _Reach("node", run) if _normalized(run) else None
    top = run[:run.rindex("/")]  # every match starts with top + "/"
    if top == "/" or (top and not _normalized(top)):
        return None  # an empty, `.` or `..` part: no normalized path matches
    covers = len(alt) == len(lit) + 1 and alt[-1] is _DSTAR and run.endswith("/")
    return _Reach("below", top, covers)


def _reaches(glob: str) -> list[_Reach] | None:
    """The reaches of one (expanded, normalized) glob; None when it matches nothing."""
    try:
        toks = _tokens(scan(glob))
    except GlobError:
        return [_Reach("below", "")]
    alts = _alternatives(toks)
    if alts is None:  # too many alternatives: braces as wildcards (prefix still holds)
        alts = [[_WILD if t[0] == "{" else t for t in toks]]
    out = [r for r in map(_reach_of, alts) if r is not None]
    return out or None


# ---- the plan -------------------------------------------------------------------------

@dataclass(slots=True)
class _Rule:
    index: int
    name: str
    decision: str
    ops: frozenset[str] | None
    reaches: list[_Reach]


def _rule_globs(engine: Any, rule: m.FileRule) -> list[str]:
    """The rule's globs as the engine compiled them: variables expanded, slashes folded."""
    from .engine import _norm_glob_path

    values = getattr(engine, "_values", {})
    out = []
    for g in rule.paths:
        try:
            text = expand(g, values) if "${" in g else g
        except VariableError:  # the engine refused it already; be safe: reach everything
            text = "**"
        out.append(_norm_glob_path(text))
    return out


class _Planner:
    def __init__(self, engine: Any, mounts: list[MountPoint], native_ro: bool) -> None:
        from .engine import FILE, FileQuery

        self.engine = engine
        self._query = lambda op, p: engine.evaluate(FILE, FileQuery(op, p))
        self.audit = engine.policy.audit
        self.audit_mode = getattr(engine, "mode", "enforce") == "audit"
        self.allow_ro = native_ro
        self.warnings: list[str] = []
        self.rules: list[_Rule] = []
        self.order: dict[str, int] = {}
        for r in engine.policy.file_rules:
            reaches: list[_Reach] = []
            for raw, g in zip(r.paths, _rule_globs(engine, r), strict=True):
                got = _reaches(g)
                if got is None:
                    self.warnings.append(
                        f"file_rules[{r.index}] {r.name}: {raw!r} matches no path (paths "
                        "are absolute: start it with / or **/)")
                else:
                    reaches.extend(got)
            self.rules.append(_Rule(r.index, r.name, r.decision, r.operations, reaches))
            self.order.setdefault(r.name, r.index)
        n = len(self.rules)
        self.order.update({"default-allow-reads": n, "default-deny-files": n + 1,
                           "audit.log_allowed": n + 2, "audit.log_denied": n + 3})
        self.mounts: dict[str, MountPoint] = {}
        for mp in mounts:
            self.mounts[_norm(mp.destination)] = mp  # a later mount at the same place wins
        if "/" not in self.mounts:
            self.mounts["/"] = MountPoint("/", "rootfs")

    # -- where to split

    def candidates(self) -> list[str]:
        cands = set(self.mounts) | set(KERNEL_PATHS) | {"/"}
        for r in self.rules:
            for reach in r.reaches:
                if reach.kind == "below":
                    if reach.path:
                        cands.add(reach.path)
                else:
                    cands.add(_parent(reach.path))
        out = []
        for c in cands:
            mnt = self.mount_of(c)
            if c != mnt.destination and mnt.kind != DIR:
                continue  # nothing lives below a file
            out.append(c)
        return sorted(out, key=_key)

    def mount_of(self, p: str) -> MountPoint:
        while True:
            mp = self.mounts.get(p)
            if mp is not None:
                return mp
            p = _parent(p)

    def is_kernel(self, p: str, mnt: MountPoint) -> bool:
        return mnt.type in KERNEL_TYPES or any(_at_or_below(p, k) for k in KERNEL_PATHS)

    # -- what a region needs

    def _below_sources(self, x: str, op: str, cands: set[str]) -> list[tuple[str, str]]:
        """(decision, source) of every rule that can decide `op` for a path strictly
        below x that no deeper split point governs, up to the first that covers them all,
        then the default."""
        out = []
        for r in self.rules:
            if r.ops is not None and op not in r.ops:
                continue
            reach = cover = False
            for rc in r.reaches:
                if rc.kind == "below":
                    if _at_or_below(x, rc.path):
                        reach = True
                        cover = cover or rc.covers
                elif rc.path != x and _parent(rc.path) == x and rc.path not in cands:
                    reach = True
            if reach:
                out.append((r.decision, r.name))
                if cover:
                    return out
        out.append((m.ALLOW, "default-allow-reads") if op in m.READ_OPS
                   else (m.DENY, "default-deny-files"))
        return out

    def _outcome(self, decision: str) -> tuple[str, tuple[str, ...]]:
        """(allow | deny | mediate, extra reasons) for one decision."""
        a = self.audit
        if decision == m.ALLOW:
            return ("mediate", ("audit.log_allowed",)) if a.log_allowed else ("allow", ())
        if decision == m.DENY:
            if self.audit_mode:  # decided and logged, never blocked
                return ("mediate", ("audit.log_denied",)) if a.log_denied else ("allow", ())
            return ("mediate", ("audit.log_denied",)) if a.log_denied else ("deny", ())
        return "mediate", ()

    def classify(self, x: str, directory: bool, cands: set[str]) -> tuple[str, list[str]]:
        """(treatment the policy wants for x's region, reasons)."""
        per_op: dict[str, list[tuple[str, str]]] = {}
        for op in _OPS:
            d = self._query(op, x)
            srcs = [(d.decision, d.rule)]
            if directory:
                srcs += self._below_sources(x, op, cands)
            per_op[op] = srcs
        allow_names: list[str] = []
        deny_names: list[str] = []
        hard: list[str] = []  # what makes it fuse
        read_ok = write_denied = all_allowed = True
        for op, srcs in per_op.items():
            is_read = op in m.READ_OPS
            for decision, name in srcs:
                kind, extra = self._outcome(decision)
                if kind == "allow":
                    allow_names.append(name)
                    if not is_read:
                        write_denied = False
                elif kind == "deny":
                    deny_names.append(name)
                    all_allowed = False
                    if is_read:
                        read_ok = False
                        hard.append(name)
                else:
                    all_allowed = read_ok = False
                    hard.extend(extra or (name,))
                    if decision != m.ALLOW:
                        hard.append(name)
        if all_allowed:
            return NATIVE, self._sorted(allow_names)
        if read_ok and write_denied and self.allow_ro:
            return NATIVE_RO, self._sorted(deny_names + allow_names)
        if not hard:  # writes partly allowed, partly denied (or native_ro is off)
            hard = deny_names
        return FUSE, self._sorted(hard)

    def allows_change(self, x: str, mnt: MountPoint, directory: bool,
                      cands: set[str]) -> bool:
        """Whether a rule can let a name operation (or, outside the /dev tmpfs, a write)
        through at x or in its region: an allow, approve, redirect, soft_delete or audit
        decision, or audit mode. A denied one that only wants logging counts as denied:
        a sealed mount refuses it without an event."""
        if self.audit_mode:
            return True
        ops = _NAME_OPS + (("create",) if mnt.destination == "/dev" else ("write", "create"))
        for op in ops:
            srcs = [(self._query(op, x).decision, "")]
            if directory:
                srcs += self._below_sources(x, op, cands)
            if any(d != m.DENY for d, _ in srcs):
                return True
        return False

    def _sealable(self, row: dict[str, Any]) -> bool:
        """A kernel mount of config.json's, read-write, that a read-only remount keeps
        working: the /dev tmpfs, tmpfs mounts below /dev, sysfs, cgroup, mqueue."""
        if row["treatment"] != KERNEL or row["path"] != row["mount"] or row["readonly"]:
            return False
        if row["fstype"] == "tmpfs":
            return _at_or_below(row["path"], "/dev")
        return row["fstype"] in _SEALABLE

    def _sorted(self, names: list[str]) -> list[str]:
        big = len(self.order) + 10
        return sorted(set(names), key=lambda s: (self.order.get(s, big), s))

    # -- the whole plan

    def plan(self) -> MountPlan:
        cands = self.candidates()
        cand_set = set(cands)
        rows: list[dict[str, Any]] = []
        changes: dict[str, bool] = {}  # kernel mount -> the policy lets something change
        for x in cands:
            mnt = self.mount_of(x)
            kind = mnt.kind if x == mnt.destination else DIR
            wanted, reasons = self.classify(x, kind == DIR, cand_set)
            treatment = wanted
            if self.is_kernel(x, mnt):
                changes[mnt.destination] = (changes.get(mnt.destination, False)
                                            or self.allows_change(x, mnt, kind == DIR,
                                                                  cand_set))
                treatment = KERNEL
                if wanted == NATIVE or (wanted == NATIVE_RO and mnt.readonly):
                    reasons = []
            elif kind == OTHER:
                treatment = NATIVE
                if wanted == NATIVE:
                    reasons = []
            elif kind == FILE_KIND and wanted == FUSE:
                treatment = NATIVE
            rows.append({"path": x, "treatment": treatment, "wanted": wanted,
                         "reasons": reasons, "mount": mnt.destination,
                         "fstype": mnt.type or "bind", "readonly": mnt.readonly,
                         "kind": kind})
        kept: list[dict[str, Any]] = []
        stack: list[dict[str, Any]] = []
        for row in rows:
            while stack and not _at_or_below(row["path"], stack[-1]["path"]):
                stack.pop()
            parent = stack[-1] if stack else None
            if (parent is None or row["path"] == row["mount"]
                    or row["treatment"] != parent["treatment"]):
                kept.append(row)
                stack.append(row)
            else:  # same treatment as the entry above: one region
                parent["reasons"] = self._sorted(parent["reasons"] + row["reasons"])
                if parent["wanted"] != row["wanted"]:
                    parent["wanted"] = _stricter(parent["wanted"], row["wanted"])
        entries = tuple(PlanEntry(r["path"], r["treatment"], tuple(r["reasons"]), r["mount"],
                                  r["fstype"], r["readonly"], r["kind"], r["wanted"],
                                  self._sealable(r) and not changes.get(r["path"], True))
                        for r in kept)
        sealed = {e.path for e in entries if e.sealed}
        for e in entries:
            if e.treatment == KERNEL and e.reasons:
                what = ("a kernel filesystem" if e.fstype in KERNEL_TYPES else
                        "under /proc, /sys or /dev")
                others = ("made read-only: the other operations fail with EROFS, no event"
                          if e.mount in sealed or e.readonly else
                          "other operations not enforced there")
                self.warnings.append(
                    f"{e.path} ({e.fstype}): {what}, not FUSE-mediated: opens are "
                    f"decided by the monitor (seccomp), {others}: "
                    f"{', '.join(e.reasons)} (wanted: {e.wanted})")
            elif e.kind != DIR and e.treatment != e.wanted:
                what = "a single file" if e.kind == FILE_KIND else "a socket, FIFO or device"
                self.warnings.append(
                    f"{e.path}: {what} bind-mounted, stays native: not enforced there: "
                    f"{', '.join(e.reasons)} (wanted: {e.wanted})")
        return MountPlan(entries, tuple(self.warnings), self.engine.policy.name,
                         getattr(self.engine, "mode", "enforce"))


_RANK = {NATIVE: 0, NATIVE_RO: 1, FUSE: 2, KERNEL: 3}


def _stricter(a: str, b: str) -> str:
    return a if _RANK.get(a, 2) >= _RANK.get(b, 2) else b


def compile_plan(engine: Any, mounts: Iterable[MountPoint] = (), *,
                 native_ro: bool = True) -> MountPlan:
    """The mount plan of `engine`'s file_rules over `mounts` (the root "/" is added,
    read-write, when missing). `native_ro=False`: never plan a read-only bind (every
    denied operation then gets EACCES through FUSE)."""
    return _Planner(engine, list(mounts), native_ro).plan()
