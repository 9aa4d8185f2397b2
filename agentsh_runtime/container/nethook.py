"""`agentsh-runtime hook network`: network_rules for containers another runtime (runc,
crun) runs, as an OCI createRuntime hook (hooks/agentsh-network.json for podman's
hooks.d): podman + runc users get the same chains and proxies without switching
runtimes.

The hook reads the container's state on stdin (id, pid, bundle; the runtime-spec's
hook contract), resolves the policy from config.json's annotations exactly as `create`
does, and starts a monitor for the network part alone: it binds the proxies in the
container's network namespace, installs the chains, and answers before the hook
returns, so the container's program never runs unfiltered. The monitor follows the
container's init and leaves with it, removing the chains from a namespace that outlives
the container; its state (the control socket) is under `<root>/hooks/<id>` and goes
with it.

Limits compared with the runtime (README): only network_rules (no file, command,
signal or environment rules: those need the runtime); capabilities are the engine's
(CAP_NET_ADMIN or CAP_NET_RAW in the container could undo the chains: the hook refuses
such a container); approvals are answered with `approvals --root <root>/hooks`.
"""

from __future__ import annotations

import json
import os

from ..errors import ConfigError
from .options import GlobalOptions

HOOKS_DIR = "hooks"
UNSAFE_CAPS = ("CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_ADMIN")


def run_network_hook(g: GlobalOptions, state_text: str) -> str:
    """What was done, for the engine's log."""
    from ..spec.load import load_bundle
    from . import netsetup
    from .policy_setup import resolve

    try:
        state = json.loads(state_text)
        cid, pid, bundle = str(state["id"]), int(state["pid"]), str(state["bundle"])
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"the hook needs the container's state JSON on stdin: {e}",
                          "stdin") from e
    spec = load_bundle(bundle)
    policy = resolve(spec, g.default_policy, g.admin_config)
    if policy is None:
        return f"{cid}: no policy"
    if not netsetup.check(spec, policy.engine.policy):
        return f"{cid}: host network, no network_rules: nothing to enforce"
    caps: set[str] = set()
    if spec.process is not None:
        for kind in ("bounding", "effective", "permitted"):
            caps.update(spec.process.capabilities.get(kind) or ())
    unsafe = sorted(caps & set(UNSAFE_CAPS))
    if unsafe:
        raise ConfigError(f"the container keeps {', '.join(unsafe)}, which could undo the "
                          "network chains: drop them (--cap-drop) or use agentsh-runtime "
                          "as the runtime", "process.capabilities")
    from ..monitor.start import hand_listener, start_monitor

    state_dir = os.path.join(g.root, HOOKS_DIR, cid)
    os.makedirs(state_dir, 0o700, exist_ok=True)
    policy.notify = ()
    policy.hook = True
    mon_pid, handoff = start_monitor(cid, policy, state_dir)
    try:
        netsetup.start(handoff, pid, netsetup.netns_of(spec) or "",
                       netsetup.resolv_conf_of(spec), remove_at_exit=True)
        hand_listener(handoff, None, pid)  # then it follows the container's init
    except BaseException:
        try:
            os.kill(mon_pid, 9)
        except OSError:
            pass
        import shutil

        shutil.rmtree(state_dir, ignore_errors=True)
        raise
    finally:
        handoff.close()
    return f"{cid}: network_rules enforced by monitor {mon_pid}"
