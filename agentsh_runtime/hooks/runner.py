"""Running one OCI hook: the state on stdin, env exactly as given, timeout honoured."""

from __future__ import annotations

from .. import jsonio
from ..errors import SetupError

KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop")


def run_hook(hook: dict, state: dict, field: str) -> None:
    """Run the hook; SetupError(field) if it fails, times out or cannot start."""
    import subprocess

    path = hook.get("path", "")
    args = list(hook.get("args") or [path])
    env = {}
    for item in hook.get("env") or []:
        k, _, v = item.partition("=")
        env[k] = v
    timeout = hook.get("timeout")
    try:
        proc = subprocess.run(args, executable=path, env=env, input=jsonio.dumps(state).encode(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout, check=False, close_fds=True,
                              start_new_session=True)
    except subprocess.TimeoutExpired as e:
        out = (e.output or b"").decode(errors="replace").strip()
        raise SetupError(f"hook {path} ran past specified timeout of {timeout}s"
                         + (f": {out}" if out else ""), field) from None
    except OSError as e:
        raise SetupError(f"cannot run hook {path}: {e.strerror}", field) from None
    if proc.returncode != 0:
        out = proc.stdout.decode(errors="replace").strip()
        how = (f"exit status {proc.returncode}" if proc.returncode > 0
               else f"killed by signal {-proc.returncode}")
        raise SetupError(f"hook {path} failed ({how})" + (f": {out}" if out else ""), field)


def run_hooks(hooks: dict, kind: str, state: dict) -> None:
    for i, hook in enumerate(hooks.get(kind) or []):
        run_hook(hook, state, f"hooks.{kind}[{i}]")


def run_hooks_logged(hooks: dict, kind: str, state: dict, warn) -> None:  # noqa: ANN001
    """For the kinds whose failure is only a warning (poststart in spec 1.2, poststop)."""
    for i, hook in enumerate(hooks.get(kind) or []):
        try:
            run_hook(hook, state, f"hooks.{kind}[{i}]")
        except SetupError as e:
            warn(str(e))


def wants_os_import() -> None:
    """Import what run_hook needs now: the container init calls it after pivot_root,
    where our modules and the standard library's files are out of reach."""
    import subprocess  # noqa: F401
