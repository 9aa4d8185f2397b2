"""The process of an `exec` given as flags, layered over config.json's (as runc does)."""

from __future__ import annotations

from ..errors import UsageError


def process_from_flags(base: dict, args: list[str], cwd: str | None, env: list[str],
                       tty: bool, user: str | None, additional_gids: list[str],
                       caps: list[str], no_new_privs: bool, apparmor: str | None,
                       process_label: str | None) -> dict:
    proc = {k: v for k, v in base.items()}
    if not args:
        raise UsageError("process.args: no command given: pass one after the container id, "
                         "or --process FILE", "args")
    proc["args"] = list(args)
    proc["terminal"] = tty
    if cwd:
        proc["cwd"] = cwd
    if env:
        proc["env"] = list(base.get("env") or []) + list(env)
    usr = dict(base.get("user") or {})
    if user:
        uid, _, gid = user.partition(":")
        try:
            usr["uid"] = int(uid)
            if gid:
                usr["gid"] = int(gid)
        except ValueError:
            raise UsageError(f"invalid --user {user!r}: want UID[:GID]", "--user") from None
    if additional_gids:
        try:
            usr["additionalGids"] = [int(g) for g in additional_gids]
        except ValueError:
            raise UsageError("invalid --additional-gids: want numbers",
                             "--additional-gids") from None
    proc["user"] = usr
    if caps:
        sets = {k: list(v) for k, v in (base.get("capabilities") or {}).items()}
        for name in caps:
            for s in ("bounding", "effective", "permitted"):
                sets.setdefault(s, [])
                if name not in sets[s]:
                    sets[s].append(name)
        proc["capabilities"] = sets
    if no_new_privs:
        proc["noNewPrivileges"] = True
    if apparmor:
        proc["apparmorProfile"] = apparmor
    if process_label:
        proc["selinuxLabel"] = process_label
    proc.pop("consoleSize", None)
    return proc
