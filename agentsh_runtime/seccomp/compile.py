"""OCI `linux.seccomp` -> a seccomp BPF program, with libseccomp (pyseccomp).

The cold path: importing pyseccomp costs ~12 ms and building podman's profile
tens of ms, so `plan.prepare` caches what this module returns and only comes
here on a cache miss.

Semantics follow runc 1.1 (libcontainer/specconv SetupSeccomp, seccomp_linux.go,
patchbpf):
- no defaultAction and no syscalls: no filter at all;
- an unknown action, operator, architecture or flag is an error naming the field;
- SCMP_ACT_NOTIFY cannot be the default action nor used on `write`, and needs
  listenerPath;
- a syscall name this libseccomp does not know is skipped (a debug note), not an error;
- a rule whose action equals the default action is skipped (libseccomp refuses it);
- errnoRet defaults to EPERM for SCMP_ACT_ERRNO and SCMP_ACT_TRACE and is an error
  on any other action (the spec's MUST; runc 1.1.5 ignores it); defaultErrnoRet
  likewise for the default action;
- args: if two conditions name the same argument index, each condition becomes
  its own rule (OR); otherwise all conditions go in one rule (AND);
- more than 32 syscall names: libseccomp's binary-tree optimisation;
- `flags` absent: SECCOMP_FILTER_FLAG_SPEC_ALLOW if the kernel has it (what runc sets);
  an empty list: none; a flag the kernel lacks is an error; SECCOMP_FILTER_FLAG_TSYNC
  is accepted and ignored; WAIT_KILLABLE_RECV is dropped when there is no listener;
- unless the default action is permissive (ALLOW, LOG, TRACE), runc's -ENOSYS stub
  is prepended (see bpf.py).
"""

from __future__ import annotations

import os

from ..errors import ConfigError
from . import bpf as _bpf
from .profile import (
    ACT_ALLOW,
    ACT_LOG,
    ACT_NOTIFY,
    ACTIONS,
    ARCHES,
    FLAG_NEW_LISTENER,
    FLAG_SPEC_ALLOW,
    FLAG_WAIT_KILLABLE_RECV,
    FLAGS,
    NOTIFY_FORBIDDEN,
    OPERATORS,
    PERMISSIVE,
    action_value,
)

F = "linux.seccomp"
_U64 = (1 << 64) - 1
_ALLOWING = (ACT_ALLOW, ACT_LOG)  # actions a notify rule may take the place of


class Rule:
    """One libseccomp rule: syscall, action, AND-ed conditions (index, op, a, b)."""

    __slots__ = ("name", "nr", "action", "conds", "field")

    def __init__(self, name: str, nr: int, action: int, conds: tuple, field: str) -> None:
        self.name = name
        self.nr = nr
        self.action = action
        self.conds = conds
        self.field = field

    def __repr__(self) -> str:
        return f"Rule({self.name!r}, {self.action:#x}, {self.conds!r})"


class Translated:
    """A profile checked and turned into libseccomp calls (no libseccomp state yet)."""

    __slots__ = ("default_action", "arches", "flags", "rules", "skipped", "notes",
                 "names", "profile_notify", "needs_listener", "optimize")

    def __init__(self) -> None:
        self.default_action = ACT_ALLOW
        self.arches: list[int] = []
        self.flags = 0
        self.rules: list[Rule] = []
        self.skipped: list[str] = []
        self.notes: list[str] = []
        self.names: list[str] = []  # every syscall name the filter refers to (-ENOSYS stub)
        self.profile_notify = False  # the profile itself uses SCMP_ACT_NOTIFY
        self.needs_listener = False
        self.optimize = False


class Compiled:
    __slots__ = ("bpf", "flags", "needs_listener", "profile_notify", "skipped", "notes",
                 "libseccomp")

    def __init__(self, bpf: bytes, flags: int, needs_listener: bool, profile_notify: bool,
                 skipped: list[str], notes: list[str], libseccomp: str = "") -> None:
        self.libseccomp = libseccomp
        self.bpf = bpf
        self.flags = flags
        self.needs_listener = needs_listener
        self.profile_notify = profile_notify
        self.skipped = skipped
        self.notes = notes


def _uint(v: object, hi: int, what: str, field: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= hi:
        raise ConfigError(f"{what} must be an integer from 0 to {hi}, not {v!r}", field)
    return v


def _action(name: object, errno_ret: object, field: str, errno_field: str) -> int:
    if not isinstance(name, str) or name not in ACTIONS:
        raise ConfigError(f"unknown seccomp action {name!r}", field)
    base, takes_errno = ACTIONS[name]
    if errno_ret is not None:
        _uint(errno_ret, 0xFFFF, "errnoRet", errno_field)
        if not takes_errno:
            # runtime-spec: "When the action doesn't support an errno, the runtime MUST
            # print an error and fail."
            raise ConfigError(f"{name} does not take an errno", errno_field)
    return action_value(base, errno_ret if takes_errno else None)  # type: ignore[arg-type]


def _native_resolver():  # noqa: ANN202
    import pyseccomp

    return lambda name: pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)


def _flag_supported(flag: int) -> bool:
    from ..linux.seccomp import flag_supported

    if flag == FLAG_WAIT_KILLABLE_RECV:  # only valid together with NEW_LISTENER
        flag |= FLAG_NEW_LISTENER
    return flag_supported(flag)


def translate(cfg: dict, notify: tuple[str, ...] | list[str] = (),
              resolve=None, flag_supported=_flag_supported) -> Translated:  # noqa: ANN001
    """Check the profile and turn it into rules. `resolve(name) -> nr` (-1: unknown)
    defaults to libseccomp's resolver for the native architecture;
    `flag_supported(bit)` asks the kernel (runc's FlagSupported).

    `notify`: syscall names the agentsh monitor wants to hear about (policy layer).
    They are merged into the same filter (the kernel allows one listener per filter
    chain): a NOTIFY rule takes the place of whatever the profile would allow for
    that syscall, and what the profile denies stays denied without a notification.
    A profile that itself uses SCMP_ACT_NOTIFY cannot be combined with them yet.
    """
    if resolve is None:
        resolve = _native_resolver()
    if not isinstance(cfg, dict):
        raise ConfigError("must be an object", F)
    t = Translated()

    default = _action(cfg.get("defaultAction"), cfg.get("defaultErrnoRet"),
                      f"{F}.defaultAction", f"{F}.defaultErrnoRet")
    if default == ACT_NOTIFY:
        raise ConfigError("SCMP_ACT_NOTIFY cannot be used as the default action",
                          f"{F}.defaultAction")
    t.default_action = default

    arches = cfg.get("architectures") or []
    if not isinstance(arches, list):
        raise ConfigError("must be an array", f"{F}.architectures")
    for i, a in enumerate(arches):
        if not isinstance(a, str) or a not in ARCHES:
            raise ConfigError(f"unknown seccomp architecture {a!r}", f"{F}.architectures[{i}]")
        if ARCHES[a] not in t.arches:
            t.arches.append(ARCHES[a])

    flags = cfg.get("flags")
    if flags is None:
        if flag_supported(FLAG_SPEC_ALLOW):
            t.flags = FLAG_SPEC_ALLOW
    else:
        if not isinstance(flags, list):
            raise ConfigError("must be an array", f"{F}.flags")
        for i, fl in enumerate(flags):
            if not isinstance(fl, str) or fl not in FLAGS:
                raise ConfigError(f"unknown seccomp flag {fl!r}", f"{F}.flags[{i}]")
            if FLAGS[fl] and not flag_supported(FLAGS[fl]):
                raise ConfigError(f"seccomp flag {fl} is not supported by this kernel",
                                  f"{F}.flags[{i}]")
            t.flags |= FLAGS[fl]

    syscalls = cfg.get("syscalls") or []
    if not isinstance(syscalls, list):
        raise ConfigError("must be an array", f"{F}.syscalls")
    cache: dict[str, int] = {}
    for i, call in enumerate(syscalls):
        field = f"{F}.syscalls[{i}]"
        if not isinstance(call, dict):
            raise ConfigError("must be an object", field)
        names = call.get("names") or []
        if not isinstance(names, list):
            raise ConfigError("must be an array", f"{field}.names")
        action = _action(call.get("action"), call.get("errnoRet"), f"{field}.action",
                         f"{field}.errnoRet")
        conds = _conditions(call.get("args") or [], field)
        if action == ACT_NOTIFY:
            t.profile_notify = True
        for j, name in enumerate(names):
            if not isinstance(name, str) or not name:
                raise ConfigError(f"not a syscall name: {name!r}", f"{field}.names[{j}]")
            if action == ACT_NOTIFY and name in NOTIFY_FORBIDDEN:
                raise ConfigError(f"SCMP_ACT_NOTIFY cannot be used for the {name} syscall",
                                  f"{field}.names[{j}]")
            t.names.append(name)
            if action == default:
                continue  # redundant: libseccomp refuses a rule with the default action
            nr = cache.get(name)
            if nr is None:
                nr = cache[name] = resolve(name)
            if nr == -1:
                if name not in t.skipped:
                    t.skipped.append(name)
                    t.notes.append(f"unknown seccomp syscall {name!r} ignored")
                continue
            for group in conds:
                t.rules.append(Rule(name, nr, action, group, field))

    if t.profile_notify and not cfg.get("listenerPath"):
        raise ConfigError("SCMP_ACT_NOTIFY is used but listenerPath is not set",
                          f"{F}.listenerPath")
    # runc counts the profile's syscall entries (one per name) for this.
    t.optimize = len(t.names) > 32

    if notify:
        _merge_notify(t, notify, resolve, cache)

    t.needs_listener = any(r.action == ACT_NOTIFY for r in t.rules)
    if t.needs_listener:
        t.flags |= FLAG_NEW_LISTENER
    elif t.flags & FLAG_WAIT_KILLABLE_RECV:
        # The kernel refuses the flag without a listener; there is nothing to wait on.
        t.flags &= ~FLAG_WAIT_KILLABLE_RECV
        t.notes.append("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: no SCMP_ACT_NOTIFY rule")
    return t


def _conditions(args: object, field: str) -> list[tuple]:
    """The profile's `args` as groups of AND-ed conditions (several groups: OR)."""
    if not isinstance(args, list):
        raise ConfigError("must be an array", f"{field}.args")
    conds = []
    seen: set[int] = set()
    repeated = False
    for k, arg in enumerate(args):
        af = f"{field}.args[{k}]"
        if not isinstance(arg, dict):
            raise ConfigError("must be an object", af)
        index = _uint(arg.get("index"), 5, "index", f"{af}.index")
        op = arg.get("op")
        if not isinstance(op, str) or op not in OPERATORS:
            raise ConfigError(f"unknown seccomp operator {op!r}", f"{af}.op")
        value = _uint(arg.get("value", 0), _U64, "value", f"{af}.value")
        value2 = _uint(arg.get("valueTwo", 0), _U64, "valueTwo", f"{af}.valueTwo")
        repeated |= index in seen
        seen.add(index)
        conds.append((index, OPERATORS[op], value, value2))
    if not conds:
        return [()]
    if repeated:
        # runc: two conditions on one argument cannot be AND-ed by libseccomp; fall
        # back to one rule per condition.
        return [(c,) for c in conds]
    return [tuple(conds)]


def _merge_notify(t: Translated, notify, resolve, cache: dict) -> None:  # noqa: ANN001
    if t.profile_notify:
        i = next(i for i, r in enumerate(t.rules) if r.action == ACT_NOTIFY)
        raise ConfigError(
            "a profile that uses SCMP_ACT_NOTIFY cannot be combined with an agentsh policy "
            "yet (one listener per filter)", f"{t.rules[i].field}.action")
    allow_default = t.default_action in _ALLOWING
    for name in dict.fromkeys(notify):
        if name in NOTIFY_FORBIDDEN:
            raise ValueError(f"notification on {name} would deadlock the listener hand-off")
        nr = cache.get(name)
        if nr is None:
            nr = cache[name] = resolve(name)
        if nr == -1:
            t.notes.append(f"unknown syscall {name!r} for notification ignored")
            continue
        t.names.append(name)
        mine = [r for r in t.rules if r.name == name]
        if allow_default:
            deny_uncond = [r for r in mine if r.action not in _ALLOWING and not r.conds]
            if deny_uncond:
                continue  # the profile denies it outright: nothing to decide
            deny_cond = [r for r in mine if r.action not in _ALLOWING]
            if deny_cond:
                raise ConfigError(
                    f"the profile's conditional rule for {name} cannot be combined with an "
                    f"agentsh notification on it", f"{deny_cond[0].field}.args")
            t.rules = [r for r in t.rules if r.name != name]
            t.rules.append(Rule(name, nr, ACT_NOTIFY, (), "agentsh"))
        else:
            for r in mine:
                if r.action in _ALLOWING:
                    r.action = ACT_NOTIFY


def build(t: Translated) -> bytes:
    """libseccomp filter for `t`, exported as BPF, with runc's -ENOSYS stub when due."""
    import errno

    import pyseccomp as sc

    f = sc.SyscallFilter(t.default_action)
    for tok in t.arches:
        try:
            f.add_arch(tok)
        except OSError as e:
            if e.errno != errno.EEXIST:  # the native arch is already there
                raise ConfigError(f"libseccomp refused architecture {tok:#x}: {e.strerror}",
                                  f"{F}.architectures") from None
    if t.optimize:
        try:
            f.set_attr(sc.Attr.CTL_OPTIMIZE, 2)
        except OSError:  # pragma: no cover - libseccomp < 2.5
            pass
    for r in t.rules:
        try:
            f.add_rule(r.action, r.nr, *(sc.Arg(*c) for c in r.conds))
        except OSError as e:
            raise ConfigError(f"libseccomp refused the rule for syscall {r.name}: "
                              f"{e.strerror}", r.field) from None
    fd = os.memfd_create("agentsh-seccomp-bpf", os.MFD_CLOEXEC)
    try:
        with os.fdopen(fd, "w+b", closefd=False) as fo:
            f.export_bpf(fo)
        size = os.lseek(fd, 0, os.SEEK_END)
        program = os.pread(fd, size, 0)
    finally:
        os.close(fd)

    if t.default_action not in PERMISSIVE:
        last = _last_syscalls(t, sc)
        program = _bpf.pack(_bpf.enosys_stub(last)) + program
    n = len(program) // 8
    if n > 4096:
        raise ConfigError(f"the filter has {n} BPF instructions; the kernel's limit is 4096", F)
    return program


def _last_syscalls(t: Translated, sc) -> dict[int, dict[int, int]]:  # noqa: ANN001
    """runc's findLastSyscalls: the largest syscall number named, per architecture."""
    last: dict[int, dict[int, int]] = {}
    names = list(dict.fromkeys(t.names))
    for tok in t.arches:
        native = _bpf.native_arch(tok)
        largest = 0
        for name in names:
            nr = sc.resolve_syscall(tok, name)
            if nr > largest:
                largest = nr
        if largest:
            last.setdefault(native, {})[tok] = largest
        else:
            t.notes.append(f"no syscall of the profile is known on arch {tok:#x}")
    return last


def compile_profile(cfg: dict, notify: tuple[str, ...] | list[str] = ()) -> Compiled:
    """Translate and build; ConfigError (naming the field) on a bad profile."""
    t = translate(cfg, notify)
    program = build(t)
    return Compiled(program, t.flags, t.needs_listener, t.profile_notify, t.skipped, t.notes,
                    libseccomp_version())


def libseccomp_version() -> str:
    """The version of the libseccomp pyseccomp loaded, e.g. "2.5.4"."""
    import ctypes

    import pyseccomp

    fn = pyseccomp._libseccomp.seccomp_version
    fn.restype = ctypes.POINTER(ctypes.c_uint * 3)
    v = fn().contents
    return f"{v[0]}.{v[1]}.{v[2]}"
