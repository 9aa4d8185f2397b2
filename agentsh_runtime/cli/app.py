"""The full CLI (click): help for every command, and the commands off the hot path."""

from __future__ import annotations

import json
import os
import sys

import click

from .. import __version__
from ..errors import AgentshError

_PASS = {"ignore_unknown_options": True, "allow_extra_args": True,
         "help_option_names": ["-h", "--help"]}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", help="state directory (default /run/agentsh-runtime)")
@click.option("--log", help="runtime log file (default stderr)")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text")
@click.option("--debug", is_flag=True, help="debug logging")
@click.option("--systemd-cgroup", is_flag=True,
              help="cgroupsPath is slice:prefix:name (translated to cgroupfs without systemd)")
@click.option("--criu", hidden=True)
@click.option("--rootless", hidden=True)
@click.option("--cgroup-manager", hidden=True)
@click.option("--default-policy", help="agentsh policy for containers without annotations")
@click.option("--admin-config", help="admin config file (default /etc/agentsh-runtime/"
              "config.yaml)")
@click.version_option(__version__, "-v", "--version", message="%(version)s")
@click.pass_context
def cli(ctx: click.Context, **kwargs: object) -> None:
    """agentsh-runtime: an OCI runtime (use it where runc is used) that enforces agentsh
    policies."""
    ctx.obj = kwargs


def _fast(name: str, summary: str, usage: str) -> None:
    @cli.command(name, context_settings=_PASS, help=f"{summary}\n\n{usage}")
    @click.pass_context
    def _cmd(ctx: click.Context) -> None:
        from .entry import main

        sys.exit(main(sys.argv[1:]))


_fast("create", "Create a container (its init waits for `start`).",
      "create [--bundle DIR] [--pid-file F] [--console-socket S] [--no-pivot] "
      "[--no-new-keyring] [--preserve-fds N] ID")
_fast("start", "Run the user process of a created container.", "start ID")
_fast("state", "Print the runtime-spec state JSON of a container.", "state ID")
_fast("kill", "Send a signal (default TERM) to the init, or all processes with --all.",
      "kill [--all] ID [SIGNAL]")
_fast("delete", "Remove a container and everything it holds on the host.",
      "delete [--force] ID")
_fast("exec", "Run a process inside a running container.",
      "exec [--process F | [--cwd D] [--env K=V]... [--tty] [--user U[:G]] [--cap C]...] "
      "[--detach] [--pid-file F] [--console-socket S] [--preserve-fds N] ID [CMD ARGS...]")
_fast("run", "create + start, then wait and delete (unless --detach / --keep).",
      "run [create flags] [--detach] [--keep] ID")
_fast("ps", "List the container's processes.", "ps [--format table|json] ID [ps args]")
_fast("list", "List containers.", "list [--format table|json] [--quiet]")
_fast("pause", "Freeze every process of the container.", "pause ID")
_fast("resume", "Thaw a paused container.", "resume ID")
_fast("update", "Change the container's cgroup resources.",
      "update [--resources FILE|-] [--memory N] [--memory-swap N] [--memory-reservation N] "
      "[--cpu-shares N] [--cpu-quota N] [--cpu-period N] [--cpu-rt-runtime N] "
      "[--cpu-rt-period N] [--cpuset-cpus S] [--cpuset-mems S] [--blkio-weight N] "
      "[--pids-limit N] ID")
_fast("events", "Print cgroup stats (--stats once, else every --interval) and OOM events.",
      "events [--stats] [--interval 5s] ID")


@cli.command("spec")
@click.option("-b", "--bundle", default=".", help="where to write config.json")
@click.option("--rootless", is_flag=True, help="a spec for a rootless container")
def spec_cmd(bundle: str, rootless: bool) -> None:
    """Write a default config.json, as `runc spec` does."""
    from ..spec.default import default_spec

    path = os.path.join(bundle, "config.json")
    if os.path.exists(path):
        raise click.ClickException("File config.json exists. Remove it first")
    with open(path, "w") as f:
        json.dump(default_spec(rootless), f, indent="\t")
        f.write("\n")


@cli.command("features")
def features_cmd() -> None:
    """Print the runtime-spec features JSON (what this build supports)."""
    from ..spec.features import features

    click.echo(json.dumps(features(), indent=2))


@cli.command("install")
@click.option("--engine", required=True, type=click.Choice(["podman", "containerd", "docker"]),
              help="which engine's config to register agentsh-runtime in")
@click.option("--config", "config_path", help="the config file (default: the engine's "
              "system file)")
@click.option("--binary", help="the agentsh-runtime executable to register (default: this "
              "one)")
@click.option("--default-policy", "policy", help="docker: pass --default-policy in "
              "runtimeArgs (Docker 20.10 cannot set annotations)")
@click.option("--make-default", is_flag=True, help="docker: make it the default runtime")
@click.option("--dry-run", is_flag=True, help="print the change, write nothing")
def install_cmd(engine: str, config_path: str | None, binary: str | None, policy: str | None,
                make_default: bool, dry_run: bool) -> None:
    """Register agentsh-runtime (as `agentsh`) in an engine's config: shows the diff,
    keeps a backup of the old file."""
    from ..install import apply

    path = config_path or apply.DEFAULT_PATHS[engine]
    exe = binary or os.path.realpath(sys.argv[0])
    old, new = apply.plan(engine, path, exe, policy, make_default)
    if old == new:
        click.echo(f"{path}: already registered, nothing to change")
        return
    click.echo(apply.diff(path, old, new), nl=False)
    if dry_run:
        click.echo("(dry run: nothing written)")
        return
    backup = apply.write(path, old, new)
    click.echo(f"wrote {path}" + (f" (backup: {backup})" if backup else ""))
    click.echo(f"next: {apply.NEXT_STEPS[engine]}")


@cli.group("hook")
def hook_group() -> None:
    """OCI hooks for containers another runtime runs (hooks/ has their hooks.d JSON)."""


@hook_group.command("network")
@click.pass_context
def hook_network(ctx: click.Context) -> None:
    """createRuntime hook: network_rules from the container's annotations, enforced in its
    network namespace by a monitor of ours (the container's state JSON on stdin)."""
    from ..container.nethook import run_network_hook
    from ..container.options import GlobalOptions
    from ..container.state import default_root
    from ..runtimelog import RuntimeLog

    o = ctx.obj
    g = GlobalOptions(o.get("root") or default_root(), RuntimeLog(o.get("log")),
                      default_policy=o.get("default_policy"),
                      admin_config=o.get("admin_config"))
    try:
        click.echo(run_network_hook(g, sys.stdin.read()), err=True)
    except AgentshError as e:
        raise click.ClickException(str(e)) from None


@cli.group("policy")
def policy_group() -> None:
    """Check, explain, list and plan agentsh policies."""


@policy_group.command("check")
@click.argument("path")
@click.option("--strict", is_flag=True, help="sections agentsh has but we do not enforce "
              "are errors")
def policy_check(path: str, strict: bool) -> None:
    """Load and validate a policy; list the sections not enforced."""
    from ..policy.cli_cmds import check

    code, text = check(path, strict=strict)
    click.echo(text, err=code != 0)
    sys.exit(code)


@policy_group.command("explain")
@click.argument("path")
@click.option("--file-op", nargs=2, metavar="OP PATH", help="e.g. --file-op write /etc/passwd")
@click.option("--exec", "exec_", metavar="CMDLINE", help='e.g. --exec "rm -rf /"')
@click.option("--connect", metavar="HOST:PORT")
@click.option("--signal", nargs=2, metavar="SIG TARGET", help="e.g. --signal KILL external")
def policy_explain(path: str, file_op: tuple[str, str] | None, exec_: str | None,
                   connect: str | None, signal: tuple[str, str] | None) -> None:
    """Print the decision a policy makes and the rule that makes it."""
    from ..policy.cli_cmds import explain

    code, text = explain(path, file_op=file_op, exec=exec_, connect=connect, signal=signal)
    click.echo(text, err=code != 0)
    sys.exit(code)


@policy_group.command("plan")
@click.argument("path")
@click.option("-b", "--bundle", default=".", help="the bundle whose config.json gives the "
              "mounts (default: .)")
@click.option("--json", "as_json", is_flag=True, help="print the plan as JSON")
@click.option("--no-native-ro", is_flag=True, help="never plan read-only binds (denied writes "
              "then get EACCES through FUSE, never EROFS)")
def policy_plan(path: str, bundle: str, as_json: bool, no_native_ro: bool) -> None:
    """Print which subtrees of the container stay native and which FUSE mediates."""
    from ..policy.cli_cmds import plan

    code, text = plan(path, bundle, as_json=as_json, native_ro=not no_native_ro)
    click.echo(text, err=code != 0)
    sys.exit(code)


@policy_group.command("list")
@click.option("--dir", "dirs", multiple=True, help="policy directories (default "
              "/etc/agentsh/policies)")
def policy_list(dirs: tuple[str, ...]) -> None:
    """The built-in policies and those in the policy directories."""
    from ..policy.cli_cmds import list_policies

    code, text = list_policies(list(dirs) or None)
    click.echo(text)
    sys.exit(code)


def _events_dir(ctx: click.Context, cid: str) -> str:
    from ..container import state as st
    from ..container.policy_setup import load_admin_config
    from ..container.state import default_root

    root = ctx.obj.get("root") or default_root()
    try:
        data = st.load(root, cid).data
        pol = data.get("policy") or {}
        if pol.get("events_dir"):
            return pol["events_dir"]
    except AgentshError:
        pass  # deleted already: the log outlives the container
    return load_admin_config(ctx.obj.get("admin_config")).events_dir


@cli.command("audit")
@click.argument("container_id")
@click.option("--follow", "-f", is_flag=True, help="keep printing new events")
@click.option("--type", "types", multiple=True, help="only these event types")
@click.option("--decision", "decisions", multiple=True, help="only these decisions")
@click.option("--since", help="RFC 3339 time or a duration back from now (10m, 2h)")
@click.pass_context
def audit_cmd(ctx: click.Context, container_id: str, follow: bool, types: tuple[str, ...],
              decisions: tuple[str, ...], since: str | None) -> None:
    """Print a container's audit events (JSON lines); they outlive `delete`."""
    from ..container import state as st
    from ..container.state import default_root
    from ..monitor.audit_reader import parse_since, read_events

    events_dir = _events_dir(ctx, container_id)
    root = ctx.obj.get("root") or default_root()

    def running() -> bool:
        try:
            return st.load(root, container_id).status() != "stopped"
        except AgentshError:
            return False

    try:
        for ev in read_events(events_dir, container_id, set(types), set(decisions),
                              parse_since(since) if since else None, follow, running):
            click.echo(json.dumps(ev, separators=(",", ":")))
    except FileNotFoundError:
        raise click.ClickException(
            f"no events for container {container_id} in {events_dir}") from None
    except KeyboardInterrupt:
        pass


@cli.group("approvals")
def approvals_group() -> None:
    """Answer operations a policy holds for a person's approval."""


def _monitors(ctx: click.Context, cid: str | None) -> list[tuple[str, str]]:
    from ..container import state as st
    from ..container.state import default_root

    root = ctx.obj.get("root") or default_root()
    ids = [cid] if cid else st.list_ids(root)
    out = []
    for i in ids:
        try:
            s = st.load(root, i)
        except AgentshError as e:
            if cid:
                raise click.ClickException(str(e)) from None
            continue
        if s.data.get("monitor"):
            out.append((i, s.dir))
        elif cid:
            raise click.ClickException(f"container {cid} has no policy monitor")
    return out


def _ask(state_dir: str, req: dict) -> dict:
    from ..monitor.server import request

    try:
        reply = request(state_dir, req)
    except OSError as e:
        raise click.ClickException(f"the policy monitor does not answer: {e}") from None
    if not reply.get("ok"):
        raise click.ClickException(str(reply.get("error")))
    return reply


def _socket_ask(path: str, req: dict) -> dict:
    from ..ptrace.control import request

    try:
        reply = request(path, req)
    except OSError as e:
        raise click.ClickException(f"the tracer does not answer on {path}: {e}") from None
    if not reply.get("ok"):
        raise click.ClickException(str(reply.get("error")))
    return reply


def _ids(args: tuple[str, ...], sock: str | None, what: str) -> tuple[str | None, str]:
    """[CONTAINER_ID] REQUEST_ID, or REQUEST_ID alone with --socket (a wrap tracer)."""
    if sock is not None and len(args) == 1:
        return None, args[0]
    if sock is None and len(args) == 2:
        return args[0], args[1]
    raise click.UsageError(f"{what} takes CONTAINER_ID REQUEST_ID, or --socket PATH "
                           "REQUEST_ID")


SOCKET_HELP = "the approvals socket of `agentsh-runtime wrap --approvals-socket PATH`"


@approvals_group.command("list")
@click.argument("container_id", required=False)
@click.option("--socket", "sock", metavar="PATH", help=SOCKET_HELP)
@click.pass_context
def approvals_list(ctx: click.Context, container_id: str | None, sock: str | None) -> None:
    """Pending approvals (of one container, of all, or of a wrap tracer)."""
    if sock is not None:
        for p in _socket_ask(sock, {"op": "approvals"})["pending"]:
            click.echo(json.dumps(p, separators=(",", ":")))
        return
    for cid, state_dir in _monitors(ctx, container_id):
        for p in _ask(state_dir, {"op": "approvals"})["pending"]:
            click.echo(json.dumps(dict(p, container_id=cid), separators=(",", ":")))


def _answer(ctx: click.Context, args: tuple[str, ...], sock: str | None, op: str,
            reason: str | None) -> None:
    cid, request_id = _ids(args, sock, op)
    req = {"op": op, "req": request_id, "reason": reason}
    if sock is not None:
        _socket_ask(sock, req)
        click.echo(f"{request_id} {op}d")
        return
    (cid, state_dir), = _monitors(ctx, cid)
    _ask(state_dir, req)
    click.echo(f"{cid}: {request_id} {op}d")


@approvals_group.command("approve")
@click.argument("args", nargs=-1, metavar="[CONTAINER_ID] REQUEST_ID")
@click.option("--socket", "sock", metavar="PATH", help=SOCKET_HELP)
@click.option("--reason", help="recorded in the approval_resolved event")
@click.pass_context
def approvals_approve(ctx: click.Context, args: tuple[str, ...], sock: str | None,
                      reason: str | None) -> None:
    """Let a held operation go ahead."""
    _answer(ctx, args, sock, "approve", reason)


@approvals_group.command("deny")
@click.argument("args", nargs=-1, metavar="[CONTAINER_ID] REQUEST_ID")
@click.option("--socket", "sock", metavar="PATH", help=SOCKET_HELP)
@click.option("--reason", help="recorded in the approval_resolved event")
@click.pass_context
def approvals_deny(ctx: click.Context, args: tuple[str, ...], sock: str | None,
                   reason: str | None) -> None:
    """Refuse a held operation (the caller gets EACCES, EPERM for signals)."""
    _answer(ctx, args, sock, "deny", reason)


@cli.group("trash")
def trash_group() -> None:
    """Files a policy's soft_delete rules moved aside (kept after the container)."""


def _trash(container_id: str) -> str:
    from ..container.state import validate_id
    from ..monitor.trashdir import trash_dir_of

    try:
        validate_id(container_id)
    except AgentshError as e:
        raise click.ClickException(str(e)) from None
    path = trash_dir_of(container_id)
    if not os.path.isdir(path):
        raise click.ClickException(f"no trash for container {container_id}")
    return path


@trash_group.command("list")
@click.argument("container_id")
def trash_list(container_id: str) -> None:
    """What is in a container's trash: one JSON object per line."""
    from ..fusefs import trash
    from ..monitor.trashdir import trash_host_path

    path = _trash(container_id)
    for rec in trash.entries(path):
        where = trash_host_path(path, rec["path"])
        out = dict(rec, path=where[0] if where else rec["path"])
        if where:
            out["host_path"] = where[1]
        out.pop("op", None)
        click.echo(json.dumps(out, separators=(",", ":")))


@trash_group.command("restore")
@click.argument("container_id")
@click.argument("entry_id")
@click.option("--to", "dest", help="host path to restore to (default: where it was)")
def trash_restore(container_id: str, entry_id: str, dest: str | None) -> None:
    """Put a soft-deleted file back."""
    from ..fusefs import trash
    from ..monitor.trashdir import trash_host_path

    path = _trash(container_id)
    rec = next((r for r in trash.entries(path) if r["id"] == entry_id), None)
    if rec is None:
        raise click.ClickException(f"no entry {entry_id} in the trash of {container_id}")
    if dest is None:
        where = trash_host_path(path, rec["path"])
        if where is None:
            raise click.ClickException("where it was is not known: give --to")
        dest = where[1]
    try:
        trash.restore(path, entry_id, dest)
    except (OSError, ValueError) as e:
        raise click.ClickException(f"restore {entry_id}: {e}") from None
    click.echo(f"{entry_id} restored to {dest}")


@trash_group.command("purge")
@click.argument("container_id")
@click.option("--older-than", "days", type=float, help="only entries older than DAYS")
def trash_purge(container_id: str, days: float | None) -> None:
    """Remove trash entries for good."""
    from ..fusefs import trash

    path = _trash(container_id)
    removed = trash.purge(path, older_than_s=days * 86400 if days is not None else None)
    click.echo(f"{len(removed)} entries removed")


@cli.command("checkpoint", context_settings=_PASS)
def checkpoint_cmd() -> None:
    """Not supported (CRIU)."""
    raise click.ClickException("checkpoint is not supported by agentsh-runtime")


@cli.command("restore", context_settings=_PASS)
def restore_cmd() -> None:
    """Not supported (CRIU)."""
    raise click.ClickException("restore is not supported by agentsh-runtime")


def click_main(args: list[str]) -> int:
    try:
        cli.main(args=args, prog_name="agentsh-runtime", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as e:
        click.echo(e.ctx.get_help() if e.ctx else str(e))
        return 0
    except click.UsageError as e:
        click.echo(f"agentsh-runtime: {e.format_message()}", err=True)
        return 1
    except click.ClickException as e:
        click.echo(f"agentsh-runtime: {e.format_message()}", err=True)
        return 1
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        return 1
    except AgentshError as e:
        click.echo(f"agentsh-runtime: {e}", err=True)
        return 1
    return 0
