"""Applying config.json's `process` to the calling process, in runc's order.

Shared by the container's init and by exec'd processes; everything here runs
in the forked child just before execve.
"""

from __future__ import annotations

import os
import resource

from ..errors import ConfigError, SetupError
from ..linux import caps as c
from ..linux import misc
from ..spec.model import Process

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_UNLIMITED = 0xFFFFFFFFFFFFFFFF


def _cap_number(name: str) -> int | None:
    upper = name.upper()
    return c.CAP_NUMBERS.get(upper if upper.startswith("CAP_") else "CAP_" + upper)


def cap_set(names: list[str] | None, field: str) -> set[int]:
    """Numbers of the named capabilities; unknown names and caps this kernel lacks are
    skipped, as runc does (unknown_capabilities() words the warning)."""
    out: set[int] = set()
    last = c.last_cap()
    for name in names or []:
        num = _cap_number(name)
        if num is not None and num <= last:
            out.add(num)
    return out


def unknown_capabilities(proc: Process, field: str = "process") -> list[str]:
    out = []
    for kind, names in proc.capabilities.items():
        for name in names or []:
            if _cap_number(name) is None:
                out.append(f"{field}.capabilities.{kind}: unknown capability {name!r} "
                           "ignored")
    return out


def set_rlimits(proc: Process, field: str = "process") -> None:
    for i, rl in enumerate(proc.rlimits):
        soft = resource.RLIM_INFINITY if rl.soft == _UNLIMITED else rl.soft
        hard = resource.RLIM_INFINITY if rl.hard == _UNLIMITED else rl.hard
        try:
            resource.setrlimit(rl.resource, (soft, hard))
        except (OSError, ValueError) as e:
            reason = os.strerror(e.errno) if isinstance(e, OSError) and e.errno else str(e)
            raise SetupError(f"error setting rlimit type {rl.name}: {reason.lower()}",
                             f"{field}.rlimits[{i}]") from e


def set_oom_score_adj(value: int | None, field: str = "process.oomScoreAdj") -> None:
    if value is None:
        return
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(value))
    except OSError as e:
        raise SetupError(f"write /proc/self/oom_score_adj: {e.strerror.lower()}"
                         f" (setting {value} needs CAP_SYS_RESOURCE)" if value < 0 else
                         f"write /proc/self/oom_score_adj: {e.strerror.lower()}", field) from e


def set_scheduling(proc: Process, field: str = "process") -> None:
    if proc.scheduler:
        s = proc.scheduler
        policy = misc.SCHED_POLICIES.get(s.get("policy", ""))
        if policy is None:
            raise ConfigError(f"unknown scheduler policy {s.get('policy')!r}",
                              f"{field}.scheduler.policy")
        flags = 0
        for fl in s.get("flags") or []:
            if fl not in misc.SCHED_FLAGS:
                raise ConfigError(f"unknown scheduler flag {fl!r}", f"{field}.scheduler.flags")
            flags |= misc.SCHED_FLAGS[fl]
        try:
            misc.sched_setattr(policy, flags, int(s.get("nice", 0)), int(s.get("priority", 0)),
                               int(s.get("runtime", 0)), int(s.get("deadline", 0)),
                               int(s.get("period", 0)))
        except OSError as e:
            raise SetupError(f"sched_setattr: {e.strerror}", f"{field}.scheduler") from e
    if proc.io_priority:
        klass = misc.IOPRIO_CLASSES.get(proc.io_priority.get("class", ""))
        if klass is None:
            raise ConfigError(f"unknown I/O priority class {proc.io_priority.get('class')!r}",
                              f"{field}.ioPriority.class")
        try:
            misc.ioprio_set(klass, int(proc.io_priority.get("priority", 0)))
        except OSError as e:
            raise SetupError(f"ioprio_set: {e.strerror}", f"{field}.ioPriority") from e


def home_of(uid: int, passwd: str = "/etc/passwd", default: str = "/") -> str:
    """The home directory /etc/passwd (or another passwd file) gives uid."""
    try:
        with open(passwd) as f:
            for line in f:
                parts = line.rstrip("\n").split(":")
                if len(parts) >= 6 and parts[2] == str(uid):
                    return parts[5] or "/"
    except OSError:
        pass
    return default


def build_env(proc: Process) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in proc.env:
        k, sep, v = item.partition("=")
        if sep:
            env[k] = v
    if "HOME" not in env:
        env["HOME"] = home_of(proc.uid)
    return env


def lookpath(cmd: str, env: dict[str, str]) -> str:
    def executable(p: str) -> bool:
        return os.path.isfile(p) and os.access(p, os.X_OK)

    if "/" in cmd:
        if executable(cmd):
            return cmd
        if not os.path.exists(cmd):
            raise SetupError(f'exec: "{cmd}": stat {cmd}: no such file or directory',
                             "process.args")
        raise SetupError(f'exec: "{cmd}": permission denied', "process.args")
    for d in env.get("PATH", DEFAULT_PATH).split(":"):
        candidate = os.path.join(d or ".", cmd)
        if executable(candidate):
            return candidate
    raise SetupError(f'exec: "{cmd}": executable file not found in $PATH', "process.args")


def switch_user_and_caps(proc: Process, field: str = "process") -> list[str]:
    """Bounding set, user, cwd, then the other capability sets (runc's finalizeNamespace).

    Returns warnings: ambient capabilities that could not be raised (runc only warns).
    """
    warnings: list[str] = []
    sets = {k: cap_set(v, f"{field}.capabilities.{k}") for k, v in proc.capabilities.items()}
    try:
        os.chdir(proc.cwd)
        chdir_done = True
    except OSError:
        chdir_done = False
    try:
        c.drop_bounding(sets["bounding"])
        c.set_keepcaps(True)
    except OSError as e:
        raise SetupError(str(e), f"{field}.capabilities.bounding") from e
    try:
        os.setgroups(proc.additional_gids)
    except PermissionError:
        if proc.additional_gids:  # setgroups is denied in some user namespaces
            raise
    except OSError as e:
        raise SetupError(f"setgroups: {e.strerror}", f"{field}.user.additionalGids") from e
    try:
        os.setresgid(proc.gid, proc.gid, proc.gid)
        os.setresuid(proc.uid, proc.uid, proc.uid)
    except OSError as e:
        raise SetupError(f"cannot switch to uid {proc.uid} gid {proc.gid}: {e.strerror}",
                         f"{field}.user") from e
    if not chdir_done:
        try:
            os.chdir(proc.cwd)
        except OSError as e:
            raise SetupError(f"chdir to cwd ({proc.cwd!r}) set in config.json failed: "
                             f"{e.strerror.lower()}", f"{field}.cwd") from e
    try:
        c.set_keepcaps(False)
        c.capset(sets["effective"], sets["permitted"], sets["inheritable"])
        if proc.capabilities["ambient"] is not None:
            for name in c.set_ambient(sets["ambient"]):
                warnings.append(f"can't raise ambient capability {name}: operation not "
                                "permitted (it is not in the inheritable set)")
    except OSError as e:
        raise SetupError(str(e), f"{field}.capabilities") from e
    os.umask(0o022 if proc.umask is None else int(proc.umask))
    return warnings


def finish(proc: Process, field: str = "process") -> None:
    if proc.no_new_privileges:
        try:
            c.set_no_new_privs()
        except OSError as e:
            raise SetupError(str(e), f"{field}.noNewPrivileges") from e
