"""network_rules at create and delete: which network namespace the container has, the
monitor's proxies and chains in it, and what is left to remove afterwards.

- own namespace (the init makes it): the monitor installs the chains in it after the
  init exists; they go with the namespace.
- joined by path (podman, CNI, a pod): the same, with chains of the container's own
  that only the processes of its cgroup (v2) jump to, so containers sharing the
  namespace each meet their own policy and monitor; `delete` removes them, since the
  namespace outlives the container. A registry under the runtime root
  (`netns/DEV-INO/ID`, holding the cgroup) refuses a second container when either has
  no cgroup v2 path of its own to tell them apart.
- the host's (no network namespace): refused when the policy has network rules, since
  enforcing would change the host's own rules.
"""

from __future__ import annotations

import os
import socket

from ..errors import ConfigError, ContainerError
from ..spec.model import Spec

REGISTRY = "netns"


def netns_of(spec: Spec) -> str | None:
    """"" for a namespace of its own, its path when joined, None for the host's."""
    return spec.linux.namespaces.get("network")


def has_network_rules(policy) -> bool:  # noqa: ANN001 - a policy.model.Policy
    return bool(policy.network_rules or policy.dns_redirects or policy.connect_redirects)


def check(spec: Spec, policy) -> bool:  # noqa: ANN001 - a policy.model.Policy
    """Whether to enforce network_rules (the container has a network namespace);
    refuses the host's network with network rules."""
    where = netns_of(spec)
    if where is None:
        if has_network_rules(policy):
            raise ConfigError("network_rules need the container's own network namespace "
                              "(with the host's network, enforcing them would change the "
                              "host's firewall rules)", "linux.namespaces")
        return False
    return True


def _registry_dir(root: str, path: str) -> str:
    st = os.stat(path)
    return os.path.join(root, REGISTRY, f"{st.st_dev:x}-{st.st_ino:x}")


def claim(root: str, cid: str, path: str, cgroup: str | None) -> str:
    """Register container `cid` (processes in cgroup v2 `cgroup`) as enforcing in the
    namespace at `path`; refused when it cannot be told apart from one already there."""
    d = _registry_dir(root, path)
    os.makedirs(d, 0o700, exist_ok=True)
    mine = cgroup or ""
    for other in os.listdir(d):
        if other == cid:
            continue
        if not os.path.isdir(os.path.join(root, other)):
            _unlink(os.path.join(d, other))  # its container is gone: a stale entry
            continue
        try:
            with open(os.path.join(d, other)) as f:
                theirs = f.read().strip()
        except FileNotFoundError:
            continue
        if not mine or not theirs or mine == theirs:
            raise ContainerError(
                f"network_rules: the network namespace {path} is already enforced by "
                f"container {other}, and without a cgroup v2 path of each their own the "
                "two cannot be told apart", "linux.namespaces")
    entry = os.path.join(d, cid)
    with open(entry, "w") as f:
        f.write(mine)
    return entry


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def resolv_conf_of(spec: Spec) -> str:
    """The host file the container will see as /etc/resolv.conf (before its rootfs is
    in place: a hook runs then): config.json's bind mount of it, else the rootfs's."""
    for mnt in reversed(spec.mounts):
        if os.path.normpath(mnt.destination) == "/etc/resolv.conf" and mnt.source:
            src = mnt.source
            return src if src.startswith("/") else os.path.join(spec.bundle, src)
    return os.path.join(spec.root_path, "etc/resolv.conf")


def start(handoff: socket.socket, pid: int, joined: str,
          resolv_conf: str | None = None, remove_at_exit: bool = False) -> dict:
    """Have the monitor serve the proxies in the init's network namespace and install
    the chains; its answer (ports, resolvers). `resolv_conf`: where to read the
    container's resolvers (default: its /etc/resolv.conf through /proc/PID/root);
    `remove_at_exit`: the monitor removes the chains as it leaves (a hook's: no `delete`
    of ours follows)."""
    from ..monitor.start import ask_monitor

    fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        return ask_monitor(handoff, {"op": "net", "pid": pid, "joined": joined,
                                     "resolv_conf": resolv_conf,
                                     "remove_at_exit": remove_at_exit}, [fd], 20.0,
                           "network_rules")
    finally:
        os.close(fd)


def cleanup(net: dict | None) -> None:
    """At delete: the chains in a joined namespace, and its registry entry."""
    if not net:
        return
    path = net.get("joined") or ""
    if path and os.path.exists(path) and net.get("chain"):
        import subprocess

        from ..linux.iptables import restore, tool
        from ..policy.netchain import Scope, remove_text

        text = remove_text(Scope(net["chain"], cgroup=net.get("cgroup")))
        restore({4: text, 6: text}, netns_path=path, check=False)
        for dev in net.get("shaped") or ():
            subprocess.run([tool("nsenter"), f"--net={path}", "--", tool("tc"), "qdisc",
                            "del", "dev", dev, "root"], capture_output=True, timeout=10)
    entry = net.get("registry")
    if entry:
        _unlink(entry)
        for d in (os.path.dirname(entry), os.path.dirname(os.path.dirname(entry))):
            try:
                os.rmdir(d)
            except OSError:
                break  # others still enforce there
