"""A small runc-compatible argv parser for the hot commands (click costs ~30 ms to import).

Accepts `--opt value`, `--opt=value`, go-style `-opt value`, short `-b value`,
booleans as `--flag` or `--flag=true|false`; options end at the first
positional argument (as urfave/cli does), or at `--`.
"""

from __future__ import annotations

from ..errors import UsageError


class Flag:
    __slots__ = ("dest", "names", "takes_value", "multiple", "default")

    def __init__(self, dest: str, names: tuple[str, ...], takes_value: bool = False,
                 multiple: bool = False, default: object = None) -> None:
        self.dest = dest
        self.names = names
        self.takes_value = takes_value
        self.multiple = multiple
        self.default = default if default is not None else ([] if multiple else
                                                            (None if takes_value else False))


def flag_table(flags: list[Flag]) -> dict[str, Flag]:
    table: dict[str, Flag] = {}
    for f in flags:
        for n in f.names:
            table[n] = f
    return table


def _bool(value: str, name: str) -> bool:
    low = value.lower()
    if low in ("true", "1", "t", "yes"):
        return True
    if low in ("false", "0", "f", "no"):
        return False
    raise UsageError(f"invalid boolean value {value!r} for flag -{name}", f"--{name}")


def parse(args: list[str], table: dict[str, Flag], stop_at_positional: bool = True
          ) -> tuple[dict[str, object], list[str]]:
    values: dict[str, object] = {}
    for f in table.values():
        values.setdefault(f.dest, list(f.default) if f.multiple else f.default)
    positionals: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            positionals.extend(args[i:])
            break
        if not arg.startswith("-") or arg == "-":
            positionals.append(arg)
            if stop_at_positional:
                positionals.extend(args[i:])
                break
            continue
        name, eq, inline = arg.lstrip("-").partition("=")
        flag = table.get(name)
        if flag is None:
            raise UsageError(f"flag provided but not defined: -{name}", f"--{name}")
        if flag.takes_value:
            if eq:
                value: object = inline
            elif i < len(args):
                value = args[i]
                i += 1
            else:
                raise UsageError(f"flag needs an argument: -{name}", f"--{name}")
        else:
            value = _bool(inline, name) if eq else True
        if flag.multiple:
            values[flag.dest].append(value)  # type: ignore[union-attr]
        else:
            values[flag.dest] = value
    return values, positionals


GLOBAL_FLAGS = flag_table([
    Flag("root", ("root",), True),
    Flag("log", ("log",), True),
    Flag("log_format", ("log-format",), True, default="text"),
    Flag("debug", ("debug",)),
    Flag("systemd_cgroup", ("systemd-cgroup",)),
    Flag("criu", ("criu",), True),
    Flag("rootless", ("rootless",), True),
    Flag("cgroup_manager", ("cgroup-manager",), True),
    Flag("default_policy", ("default-policy",), True),
    Flag("admin_config", ("admin-config",), True),
    Flag("version", ("v", "version")),
    Flag("help", ("h", "help")),
])

_CREATE = [
    Flag("bundle", ("b", "bundle"), True, default="."),
    Flag("console_socket", ("console-socket",), True),
    Flag("pid_file", ("pid-file",), True),
    Flag("no_pivot", ("no-pivot",)),
    Flag("no_new_keyring", ("no-new-keyring",)),
    Flag("preserve_fds", ("preserve-fds",), True, default="0"),
    Flag("pidfd_socket", ("pidfd-socket",), True),
]
_HELP = [Flag("help", ("h", "help"))]

COMMAND_FLAGS: dict[str, dict[str, Flag]] = {
    "create": flag_table(_CREATE + _HELP),
    "run": flag_table(_CREATE + _HELP + [
        Flag("detach", ("d", "detach")), Flag("keep", ("keep",)),
        Flag("no_subreaper", ("no-subreaper",))]),
    "start": flag_table(_HELP),
    "state": flag_table(_HELP),
    "kill": flag_table(_HELP + [Flag("all", ("a", "all")),
                                Flag("signal", ("s", "signal"), True)]),
    "delete": flag_table(_HELP + [Flag("force", ("f", "force"))]),
    "exec": flag_table(_HELP + [
        Flag("process", ("p", "process"), True),
        Flag("console_socket", ("console-socket",), True),
        Flag("cwd", ("cwd",), True),
        Flag("env", ("e", "env"), True, multiple=True),
        Flag("tty", ("t", "tty")),
        Flag("user", ("u", "user"), True),
        Flag("additional_gids", ("g", "additional-gids"), True, multiple=True),
        Flag("detach", ("d", "detach")),
        Flag("pid_file", ("pid-file",), True),
        Flag("process_label", ("process-label",), True),
        Flag("apparmor", ("apparmor",), True),
        Flag("no_new_privs", ("no-new-privs",)),
        Flag("cap", ("c", "cap"), True, multiple=True),
        Flag("preserve_fds", ("preserve-fds",), True, default="0"),
        Flag("cgroup", ("cgroup",), True, multiple=True),
        Flag("ignore_paused", ("ignore-paused",)),
        Flag("no_subreaper", ("no-subreaper",)),
        Flag("pidfd_socket", ("pidfd-socket",), True),
    ]),
    "pause": flag_table(_HELP),
    "resume": flag_table(_HELP),
    "events": flag_table(_HELP + [Flag("stats", ("stats",)),
                                  Flag("interval", ("interval",), True, default="5s")]),
    "update": flag_table(_HELP + [Flag("resources", ("r", "resources"), True),
                                  Flag("cpu_shares", ("cpu-share", "cpu-shares"), True)] + [
        Flag(name.replace("-", "_"), (name,), True) for name in (
            "memory", "memory-swap", "memory-reservation", "kernel-memory",
            "kernel-memory-tcp", "cpu-quota", "cpu-period", "cpu-rt-runtime",
            "cpu-rt-period", "cpuset-cpus", "cpuset-mems", "blkio-weight", "pids-limit",
            "l3-cache-schema", "mem-bw-schema")]),
    "ps": flag_table(_HELP + [Flag("format", ("f", "format"), True, default="table")]),
    "list": flag_table(_HELP + [Flag("format", ("f", "format"), True, default="table"),
                                Flag("quiet", ("q", "quiet"))]),
}


def int_value(value: object, name: str) -> int:
    try:
        n = int(str(value))
    except ValueError:
        raise UsageError(f"invalid value {value!r} for flag --{name}: not a number",
                         f"--{name}") from None
    if n < 0:
        raise UsageError(f"invalid value {value!r} for flag --{name}: negative", f"--{name}")
    return n
