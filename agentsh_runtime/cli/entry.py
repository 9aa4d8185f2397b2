"""The `agentsh-runtime` entry point.

The lifecycle commands engines call (create, start, state, kill, delete, exec,
run, ps, list) are parsed here without importing click; everything else, and
--help, goes to the click application in cli/app.py.
"""

from __future__ import annotations

import sys

from .. import OCI_VERSION, __version__
from ..errors import AgentshError, UsageError
from . import argv as a

FAST = {"create", "start", "state", "kill", "delete", "exec", "run", "ps", "list", "pause",
        "resume", "update", "events"}


def version_text() -> str:
    return (f"agentsh-runtime version {__version__}\ncommit: v{__version__}\n"
            f"spec: {OCI_VERSION}\n")


def _print(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from ..runtimelog import RuntimeLog

    log = _early_log(args)
    try:
        gvals, rest = a.parse(args, a.GLOBAL_FLAGS)
        log = RuntimeLog(gvals["log"], gvals["log_format"] or "text",  # type: ignore[arg-type]
                         bool(gvals["debug"]))
        if gvals["log_format"] not in ("text", "json"):
            raise UsageError(f"invalid log format {gvals['log_format']!r}", "--log-format")
        if gvals["version"]:
            _print(version_text())
            return 0
        if rest and rest[0] == "wrap":
            return _wrap(rest[1:])
        if not rest or gvals["help"] or rest[0] not in FAST or "-h" in rest[1:2] \
                or "--help" in rest:
            from .app import click_main

            return click_main(args)
        log.debug(f"agentsh-runtime {__version__}: {' '.join(args)}")
        code = dispatch(gvals, rest[0], rest[1:], log)
        log.debug(f"{rest[0]} done: exit {code}")
        return code
    except AgentshError as e:
        log.error(str(e) if not isinstance(e, UsageError) else e.reason)
        return 1
    except OSError as e:
        log.error(f"{e.strerror or e}" + (f": {e.filename}" if e.filename else ""))
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - one line for the engine, the trace with --debug
        if log.min_level <= 10:
            import traceback

            log.debug(traceback.format_exc())
        log.error(f"internal error: {type(e).__name__}: {e}")
        return 1


def _wrap(args: list[str]) -> int:
    """`wrap` parsed here too: it starts every traced command, so no click import."""
    from ..ptrace.wrap import WRAP_USAGE, parse_args, run

    try:
        opts = parse_args(args)
        if opts is None:
            _print(WRAP_USAGE)
            return 0
        return run(opts)
    except AgentshError as e:
        # 125, as env(1) and timeout(1): not a status the command itself could give
        sys.stderr.write(f"agentsh-runtime wrap: {e}\n")
        return 125


def _early_log(args: list[str]):  # noqa: ANN202
    """The log the caller asked for, found before the full parse can fail: a bad flag
    must reach --log too (the shim reports only what is in log.json)."""
    from ..runtimelog import RuntimeLog

    path, fmt, debug = None, "text", False
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        name, eq, value = arg.partition("=")
        if name in ("--log", "-log", "--log-format", "-log-format"):
            if not eq:
                value = args[i] if i < len(args) else ""
                i += 1
            if name.endswith("format"):
                fmt = value if value in ("text", "json") else "text"
            else:
                path = value or None
        elif arg in ("--debug", "-debug"):
            debug = True
        elif not arg.startswith("-"):
            break  # the command: global flags end here
    return RuntimeLog(path, fmt, debug)


def _globals(gvals: dict, log):  # noqa: ANN001, ANN202
    from ..container.options import GlobalOptions
    from ..container.state import default_root

    return GlobalOptions(root=gvals["root"] or default_root(), log=log,
                         systemd_cgroup=bool(gvals["systemd_cgroup"]),
                         debug=bool(gvals["debug"]), default_policy=gvals["default_policy"],
                         admin_config=gvals["admin_config"])


def _one_id(cmd: str, pos: list[str]) -> str:
    if len(pos) != 1:
        raise UsageError(f'"{cmd}" requires exactly 1 argument (the container id)', "id")
    return pos[0]


def dispatch(gvals: dict, cmd: str, args: list[str], log) -> int:  # noqa: ANN001
    vals, pos = a.parse(args, a.COMMAND_FLAGS[cmd])
    g = _globals(gvals, log)
    if cmd in ("create", "run"):
        from ..container.options import CreateOptions

        opts = CreateOptions(_one_id(cmd, pos), vals["bundle"], vals["pid_file"],
                             vals["console_socket"], bool(vals["no_pivot"]),
                             bool(vals["no_new_keyring"]),
                             a.int_value(vals["preserve_fds"], "preserve-fds"))
        if cmd == "create":
            from ..container.create import create

            create(g, opts)
            return 0
        from ..container.run import run

        return run(g, opts, detach=bool(vals["detach"]), keep=bool(vals["keep"]))
    if cmd == "start":
        from ..container.start import start

        start(g, _one_id(cmd, pos))
        return 0
    if cmd == "state":
        from .. import jsonio
        from ..container.query import state_of

        _print(jsonio.dumps(state_of(g, _one_id(cmd, pos))) + "\n")
        return 0
    if cmd == "kill":
        return _kill(g, vals, pos)
    if cmd == "delete":
        from ..container.delete import delete

        delete(g, _one_id(cmd, pos), force=bool(vals["force"]))
        return 0
    if cmd == "exec":
        return _exec(g, vals, pos)
    if cmd == "ps":
        return _ps(g, vals, pos)
    if cmd in ("pause", "resume"):
        from ..container import pause as p

        getattr(p, cmd)(g, _one_id(cmd, pos))
        return 0
    if cmd == "update":
        return _update(g, vals, pos)
    if cmd == "events":
        return _events(g, vals, pos)
    if cmd == "list":
        return _list(g, vals)
    raise UsageError(f"unknown command {cmd!r}", "command")


def _kill(g, vals: dict, pos: list[str]) -> int:  # noqa: ANN001
    from ..container.kill import kill
    from ..spec.signals import SIGTERM, parse_signal

    if not pos or len(pos) > 2:
        raise UsageError('"kill" requires 1 or 2 arguments (id [signal])', "id")
    sig_text = pos[1] if len(pos) == 2 else vals["signal"]
    sig = parse_signal(sig_text) if sig_text else SIGTERM
    kill(g, pos[0], sig, all_processes=bool(vals["all"]))
    return 0


def _exec(g, vals: dict, pos: list[str]) -> int:  # noqa: ANN001
    from ..container import state as st
    from ..container.exec import ExecOptions, exec_process
    from ..container.wait import wait_forwarding
    from ..spec.model import Process

    if not pos:
        raise UsageError('"exec" requires a container id', "id")
    cid, cmd = pos[0], pos[1:]
    if vals["process"]:
        from ..spec.load import load_process

        proc = load_process(vals["process"])  # type: ignore[arg-type]
    else:
        from ..spec.exec_process import process_from_flags

        base = st.load(g.root, cid).config().get("process") or {}
        proc = Process(process_from_flags(
            base, cmd, vals["cwd"], vals["env"], bool(vals["tty"]), vals["user"],
            vals["additional_gids"], vals["cap"], bool(vals["no_new_privs"]),
            vals["apparmor"], vals["process_label"]))
    opts = ExecOptions(cid, proc, vals["console_socket"], bool(vals["detach"]),
                       vals["pid_file"], a.int_value(vals["preserve_fds"], "preserve-fds"),
                       bool(vals["ignore_paused"]))
    pid = exec_process(g, opts)
    if opts.detach:
        return 0
    return wait_forwarding(pid)


def _update(g, vals: dict, pos: list[str]) -> int:  # noqa: ANN001
    from ..container.update import update

    cid = _one_id("update", pos)
    source = vals["resources"]
    if source:
        from .. import jsonio

        try:
            if source == "-":
                text = sys.stdin.read()
            else:
                with open(source) as f:  # type: ignore[arg-type]
                    text = f.read()
            change = jsonio.loads(text)
        except (OSError, ValueError) as e:
            raise UsageError(f"cannot read resources from {source}: {e}", "--resources") from e
        if not isinstance(change, dict):
            raise UsageError("resources must be a JSON object (LinuxResources)",
                             "--resources")
    else:
        from ..spec.update_flags import resources_from_flags

        change = resources_from_flags(vals)
    update(g, cid, change)
    return 0


def _events(g, vals: dict, pos: list[str]) -> int:  # noqa: ANN001
    from .. import jsonio
    from ..container.events import events
    from ..spec.units import parse_duration

    interval = parse_duration(str(vals["interval"]), "--interval")
    events(g, _one_id("events", pos), interval, bool(vals["stats"]),
           lambda ev: _print(jsonio.dumps(ev) + "\n"))
    return 0


def _ps(g, vals: dict, pos: list[str]) -> int:  # noqa: ANN001
    from ..container.query import pids_of

    if not pos:
        raise UsageError('"ps" requires a container id', "id")
    pids = pids_of(g, pos[0])
    if vals["format"] == "json":
        from .. import jsonio

        _print(jsonio.dumps(pids) + "\n")
        return 0
    if vals["format"] != "table":
        raise UsageError(f"invalid format option {vals['format']!r}", "--format")
    import subprocess

    ps_args = pos[1:] or ["-ef"]
    out = subprocess.run(["ps", *ps_args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise UsageError(f"ps failed: {out.stderr.strip()}", "ps-args")
    lines = out.stdout.splitlines()
    if not lines:
        return 0
    header = lines[0]
    try:
        col = header.split().index("PID")
    except ValueError:
        raise UsageError("ps output has no PID column", "ps-args") from None
    keep = set(pids)
    _print(header + "\n")
    for line in lines[1:]:
        fields = line.split()
        if len(fields) > col and fields[col].isdigit() and int(fields[col]) in keep:
            _print(line + "\n")
    return 0


def _list(g, vals: dict) -> int:  # noqa: ANN001
    from ..container.query import list_all

    items = list_all(g)
    if vals["quiet"]:
        _print("".join(i["id"] + "\n" for i in items))
        return 0
    if vals["format"] == "json":
        from .. import jsonio

        _print(jsonio.dumps(items) + "\n")
        return 0
    if vals["format"] != "table":
        raise UsageError(f"invalid format option {vals['format']!r}", "--format")
    rows = [("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")]
    rows += [(i["id"], str(i["pid"]), i["status"], i["bundle"], i["created"], i["owner"])
             for i in items]
    widths = [max(len(r[c]) for r in rows) for c in range(6)]
    for r in rows:
        _print("   ".join(v.ljust(widths[c]) for c, v in enumerate(r)).rstrip() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
