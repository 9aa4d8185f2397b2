"""network_rules at create and delete: which network namespace the container has, the
monitor's proxies and chains in it, and what is left to remove afterwards.

- own namespace (the init makes it): the monitor installs the chains in it after the
  init exists; they go with the namespace.
- joined by path (podman, CNI, a pod): the same, and `delete` removes the chains,
  since the namespace outlives the container. One enforcing container per namespace:
  a registry entry under the runtime root (`netns/DEV-INO`) refuses a second one.
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


def _registry_entry(root: str, path: str) -> str:
    st = os.stat(path)
    return os.path.join(root, REGISTRY, f"{st.st_dev:x}-{st.st_ino:x}")


def claim(root: str, cid: str, path: str) -> str:
    """Register container `cid` as the one enforcing in the namespace at `path`."""
    entry = _registry_entry(root, path)
    os.makedirs(os.path.dirname(entry), 0o700, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(entry, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            try:
                with open(entry) as f:
                    owner = f.read().strip()
            except FileNotFoundError:
                continue
            if owner and owner != cid and os.path.isdir(os.path.join(root, owner)):
                raise ContainerError(
                    f"network_rules: the network namespace {path} is already enforced by "
                    f"container {owner}; sharing one between policy containers is not "
                    "supported", "linux.namespaces") from None
            os.unlink(entry)  # its container is gone: a stale entry
            continue
        with os.fdopen(fd, "w") as f:
            f.write(cid)
        return entry
    raise ContainerError(f"network_rules: cannot register {path}", "linux.namespaces")


def resolv_conf_of(spec: Spec) -> str:
    """The host file the container will see as /etc/resolv.conf (before its rootfs is
    in place: a hook runs then): config.json's bind mount of it, else the rootfs's."""
    for mnt in reversed(spec.mounts):
        if os.path.normpath(mnt.destination) == "/etc/resolv.conf" and mnt.source:
            src = mnt.source
            return src if src.startswith("/") else os.path.join(spec.bundle, src)
    return os.path.join(spec.root_path, "etc/resolv.conf")


def start(handoff: socket.socket, pid: int, joined: str,
          resolv_conf: str | None = None) -> dict:
    """Have the monitor serve the proxies in the init's network namespace and install
    the chains; its answer (ports, resolvers). `resolv_conf`: where to read the
    container's resolvers (default: its /etc/resolv.conf through /proc/PID/root)."""
    from .. import jsonio

    fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        msg = jsonio.dumps({"op": "net", "pid": pid, "joined": joined,
                            "resolv_conf": resolv_conf}) + "\n"
        socket.send_fds(handoff, [msg.encode()], [fd])
    finally:
        os.close(fd)
    handoff.settimeout(20.0)
    try:
        reply = handoff.recv(65536)
    except OSError as e:
        raise ContainerError(f"network_rules: the monitor did not answer: {e}",
                             "annotations") from e
    finally:
        handoff.settimeout(None)
    answer = jsonio.loads(reply.decode().strip() or "{}") if reply else {}
    if not isinstance(answer, dict) or not answer.get("ok"):
        err = answer.get("error") if isinstance(answer, dict) else None
        raise ContainerError(f"network_rules: {err or 'the monitor did not start them'}",
                             "annotations")
    return answer


def cleanup(net: dict | None) -> None:
    """At delete: the chains in a joined namespace, and its registry entry."""
    if not net:
        return
    path = net.get("joined") or ""
    if path and os.path.exists(path):
        import subprocess

        from ..linux.iptables import restore
        from ..policy.netchain import remove_text

        restore({4: remove_text(), 6: remove_text()}, netns_path=path, check=False)
        for dev in net.get("shaped") or ():
            subprocess.run(["nsenter", f"--net={path}", "--", "tc", "qdisc", "del", "dev",
                            dev, "root"], capture_output=True, timeout=10)
    entry = net.get("registry")
    if entry:
        try:
            os.unlink(entry)
        except FileNotFoundError:
            pass
