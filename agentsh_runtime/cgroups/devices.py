"""Device access rules: runc's defaults, a v1-semantics emulator, v1 writes, the v2 BPF program.

The emulator reproduces what the v1 devices controller would hold after the
rules are written in order (an allow-list or a deny-list plus exceptions), as
runc's does. From it come the v1 transition (the fewest devices.allow/deny
writes from what devices.list shows now) and the v2 program (one block per
exception, the default verdict last), so both hierarchies enforce the same set.
"""

from __future__ import annotations

import os

from ..errors import ConfigError

FIELD = "linux.resources.devices"
WILDCARD = -1
RWM = "rwm"

# runc's AllowedDevices, appended after the config's own rules (so a config cannot
# take them away): mknod of anything, the standard character devices, ptys, tun.
DEFAULT_RULES: tuple[tuple[bool, str, int, int, str], ...] = (
    (True, "c", WILDCARD, WILDCARD, "m"),
    (True, "b", WILDCARD, WILDCARD, "m"),
    (True, "c", 1, 3, RWM),     # /dev/null
    (True, "c", 1, 8, RWM),     # /dev/random
    (True, "c", 1, 7, RWM),     # /dev/full
    (True, "c", 5, 0, RWM),     # /dev/tty
    (True, "c", 1, 5, RWM),     # /dev/zero
    (True, "c", 1, 9, RWM),     # /dev/urandom
    (True, "c", 136, WILDCARD, RWM),  # /dev/pts/*
    (True, "c", 5, 2, RWM),     # /dev/ptmx
    (True, "c", 10, 200, RWM),  # /dev/net/tun
)


def _perms(s: str) -> str:
    return "".join(c for c in RWM if c in s)


def _union(a: str, b: str) -> str:
    return _perms(a + b)


def _minus(a: str, b: str) -> str:
    return "".join(c for c in a if c not in b)


def rules_from_spec(devices: list, field: str = FIELD) -> list[tuple[bool, str, int, int, str]]:
    """linux.resources.devices -> (allow, type, major, minor, access) with runc's defaults."""
    out: list[tuple[bool, str, int, int, str]] = []
    for i, d in enumerate(devices or ()):
        f = f"{field}[{i}]"
        if not isinstance(d, dict):
            raise ConfigError("a device rule must be an object", f)
        kind = d.get("type") or "a"
        if kind not in ("a", "b", "c"):
            raise ConfigError(f"invalid cgroup device type {kind!r}", f + ".type")
        access = d.get("access") or ""
        if not access:
            raise ConfigError(f"device access at {i} field cannot be empty", f + ".access")
        bad = [c for c in access if c not in RWM]
        if bad:
            raise ConfigError(f"unknown device access {bad[0]!r}", f + ".access")
        major = d.get("major")
        minor = d.get("minor")
        out.append((bool(d.get("allow")), kind, WILDCARD if major is None else int(major),
                    WILDCARD if minor is None else int(minor), _perms(access)))
    return out


def rule_string(kind: str, major: int, minor: int, perms: str) -> str:
    """The v1 devices.allow/deny line: `c 1:3 rwm`, wildcards as `*`."""
    ma = "*" if major == WILDCARD else str(major)
    mi = "*" if minor == WILDCARD else str(minor)
    return f"{kind} {ma}:{mi} {perms}"


class Emulator:
    """What a v1 devices cgroup holds: the default verdict and its exceptions."""

    __slots__ = ("default_allow", "rules")

    def __init__(self, default_allow: bool = False) -> None:
        self.default_allow = default_allow
        self.rules: dict[tuple[str, int, int], str] = {}

    @classmethod
    def build(cls, rules: list[tuple[bool, str, int, int, str]], field: str = FIELD) -> Emulator:
        emu = cls(False)  # like runc: an allow-list unless the rules say otherwise
        for rule in rules:
            emu.apply(*rule, field=field)
        return emu

    def apply(self, allow: bool, kind: str, major: int, minor: int, perms: str,
              field: str = FIELD) -> None:
        if kind == "a":
            # like the kernel: an `a` rule resets the whole cgroup whatever else it says
            self.default_allow = allow
            self.rules = {}
            return
        meta = (kind, major, minor)
        if allow == self.default_allow:
            self._remove(meta, perms, field)
        else:
            self.rules[meta] = _union(self.rules.get(meta, ""), perms)

    def _remove(self, meta: tuple[str, int, int], perms: str, field: str) -> None:
        kind, major, minor = meta
        for partial in ((kind, WILDCARD, minor), (kind, major, WILDCARD),
                        (kind, WILDCARD, WILDCARD)):
            if partial == meta:
                continue
            overlap = [c for c in self.rules.get(partial, "") if c in perms]
            if overlap:
                # v1 silently ignores this; runc refuses it rather than mislead, and so do we
                raise ConfigError(
                    f"rule {rule_string(kind, major, minor, perms)} cannot punch a hole in "
                    f"the wildcard rule {rule_string(*partial, self.rules[partial])}", field)
        left = _minus(self.rules.get(meta, ""), perms)
        if left:
            self.rules[meta] = left
        else:
            self.rules.pop(meta, None)

    def ordered(self) -> list[tuple[str, int, int, str]]:
        """Exceptions sorted by (major, minor, type), wildcards first, as runc orders them."""
        items = sorted(self.rules.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0]))
        return [(k, ma, mi, p) for (k, ma, mi), p in items]

    @classmethod
    def from_list(cls, text: str | None) -> Emulator:
        """Parse devices.list. None (unknown) reads as a fresh cgroup: allow everything."""
        if text is None:
            return cls(True)
        emu = cls(False)
        for line in text.splitlines():
            parts = line.split()
            if len(parts) != 3:
                continue
            kind, nums, perms = parts
            if kind == "a":
                emu.default_allow = True
                emu.rules = {}
                continue
            ma, _, mi = nums.partition(":")
            meta = (kind, WILDCARD if ma == "*" else int(ma), WILDCARD if mi == "*" else int(mi))
            emu.rules[meta] = _union(emu.rules.get(meta, ""), perms)
        return emu

    def transition(self, target: Emulator) -> list[tuple[bool, str]]:
        """The v1 writes that turn this cgroup into `target`: (allow?, rule line).

        devices.list cannot show the exceptions of a deny-list cgroup, so from one
        (a fresh cgroup is one) or across a change of default the first write resets
        everything with an `a` rule; otherwise only the differences are written, so an
        update with the same rules writes nothing and never blocks a running process.
        """
        out: list[tuple[bool, str]] = []
        old = self.rules
        if self.default_allow or self.default_allow != target.default_allow:
            out.append((target.default_allow, "a *:* rwm"))
            old = {}
        for kind, ma, mi, perms in Emulator._sorted(old):
            dropped = _minus(perms, target.rules.get((kind, ma, mi), ""))
            if dropped:
                out.append((target.default_allow, rule_string(kind, ma, mi, dropped)))
        for kind, ma, mi, perms in target.ordered():
            gained = _minus(perms, old.get((kind, ma, mi), ""))
            if gained:
                out.append((not target.default_allow, rule_string(kind, ma, mi, gained)))
        return out

    @staticmethod
    def _sorted(rules: dict[tuple[str, int, int], str]) -> list[tuple[str, int, int, str]]:
        items = sorted(rules.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0]))
        return [(k, ma, mi, p) for (k, ma, mi), p in items]

    def allows(self, kind: str, major: int, minor: int, access: str) -> bool:
        """Would this cgroup let a process do `access` on the device? (for tests)"""
        for (k, ma, mi), perms in self.rules.items():
            if k == kind and ma in (WILDCARD, major) and mi in (WILDCARD, minor) \
                    and all(c in perms for c in access):
                return not self.default_allow
        return self.default_allow


def program(emu: Emulator) -> list:
    """The BPF_PROG_TYPE_CGROUP_DEVICE instructions enforcing `emu` (runc's layout).

    R2 = device type, R3 = requested access, R4 = major, R5 = minor; one block per
    exception that jumps to the next block on any mismatch and otherwise returns
    the exception's verdict; the last block returns the default verdict.
    """
    from ..linux import bpf

    insns = [
        bpf.ldx_w(bpf.R2, bpf.R1, 0),
        bpf.and32_imm(bpf.R2, 0xFFFF),
        bpf.ldx_w(bpf.R3, bpf.R1, 0),
        bpf.rsh32_imm(bpf.R3, 16),
        bpf.ldx_w(bpf.R4, bpf.R1, 4),
        bpf.ldx_w(bpf.R5, bpf.R1, 8),
    ]
    labels: dict[str, int] = {}
    verdict = 0 if emu.default_allow else 1
    for n, (kind, major, minor, perms) in enumerate(emu.ordered()):
        labels[f"b{n}"] = len(insns)
        nxt = f"b{n + 1}"
        dev = bpf.BPF_DEVCG_DEV_CHAR if kind == "c" else bpf.BPF_DEVCG_DEV_BLOCK
        insns.append(bpf.jne_imm(bpf.R2, dev, nxt))
        access = 0
        for c in perms:
            access |= {"r": bpf.BPF_DEVCG_ACC_READ, "w": bpf.BPF_DEVCG_ACC_WRITE,
                       "m": bpf.BPF_DEVCG_ACC_MKNOD}[c]
        if perms != RWM:
            # the request must be a subset of the rule's access: (R3 & access) == R3
            insns += [bpf.mov32_reg(bpf.R1, bpf.R3), bpf.and32_imm(bpf.R1, access),
                      bpf.jne_reg(bpf.R1, bpf.R3, nxt)]
        if major != WILDCARD:
            insns.append(bpf.jne_imm(bpf.R4, major, nxt))
        if minor != WILDCARD:
            insns.append(bpf.jne_imm(bpf.R5, minor, nxt))
        insns += [bpf.mov32_imm(bpf.R0, verdict), bpf.exit_insn()]
    labels[f"b{len(emu.rules)}"] = len(insns)
    insns += [bpf.mov32_imm(bpf.R0, 1 if emu.default_allow else 0), bpf.exit_insn()]
    return bpf.resolve(insns, labels)


PROG_NAME = "agentsh_devices"  # 15 characters: the kernel keeps 15 and a NUL


def attach_program(cgroup_dir: str, emu: Emulator) -> None:
    """Load the program for `emu` and attach it to a cgroup2 directory, replacing ours.

    The new program is attached (BPF_F_ALLOW_MULTI) before the old one of ours is
    detached: while both are attached a device must pass both, so an update never
    opens a window wider than either rule set. Programs someone else attached stay.
    """
    from ..linux import bpf

    code = bpf.encode(program(emu))
    dirfd = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        old: list[int] = []
        try:
            for prog_id in bpf.prog_query(dirfd, bpf.BPF_CGROUP_DEVICE):
                try:
                    fd = bpf.prog_get_fd_by_id(prog_id)
                except OSError:
                    continue
                if bpf.prog_info(fd)[2] == PROG_NAME:
                    old.append(fd)
                else:
                    os.close(fd)
            prog = bpf.prog_load(bpf.BPF_PROG_TYPE_CGROUP_DEVICE, code, "Apache", PROG_NAME)
            try:
                bpf.prog_attach(dirfd, prog, bpf.BPF_CGROUP_DEVICE, bpf.BPF_F_ALLOW_MULTI)
            finally:
                os.close(prog)
            for fd in old:
                bpf.prog_detach(dirfd, fd, bpf.BPF_CGROUP_DEVICE)
        finally:
            for fd in old:
                os.close(fd)
    finally:
        os.close(dirfd)


def detach_programs(cgroup_dir: str) -> int:
    """Detach every device program of ours from a cgroup2 directory; how many."""
    from ..linux import bpf

    n = 0
    dirfd = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for prog_id in bpf.prog_query(dirfd, bpf.BPF_CGROUP_DEVICE):
            try:
                fd = bpf.prog_get_fd_by_id(prog_id)
            except OSError:
                continue
            try:
                if bpf.prog_info(fd)[2] == PROG_NAME:
                    bpf.prog_detach(dirfd, fd, bpf.BPF_CGROUP_DEVICE)
                    n += 1
            finally:
                os.close(fd)
    finally:
        os.close(dirfd)
    return n
