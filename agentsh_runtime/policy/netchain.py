"""network_rules -> the `AGENTSH` chains of one address family, as `iptables-restore
--noflush` input for the container's network namespace. Pure: no syscalls, no I/O.

nat `AGENTSH` (from OUTPUT; only a connection's first packet passes nat): the proxy's own
packets (marked) and loopback pass; TCP and UDP to port 53 go to the DNS proxy; then the
rules that need no name, in policy order, up to the first rule with `domains` (from there
a name may decide, which only the proxy knows): a TCP connection a deny matches first is
left alone (RETURN: the filter chain rejects it), one any other decision matches first
goes to the proxy, which decides again and writes the event (a plain allow goes straight
out instead, at the kernel's speed, when the policy logs no allowed connection and has
no connect_redirects); when every rule needs no
name the no-match default (deny) is compiled the same way; every other TCP connection
goes to the transparent proxy (REDIRECT to 127.0.0.1 or ::1 at the proxy's port; the
proxy reads the original destination with SO_ORIGINAL_DST).

filter `AGENTSH` (from OUTPUT, after nat):

1. the proxy's own packets, replies of connections made to the container, related
   ICMP errors, everything through `lo` (loopback, the container's own addresses) and
   what nat redirected to the proxies (conntrack state DNAT) pass;
2. the static TCP decisions, in the same order (a straight-out allow passes); a deny: an
   NFLOG entry (the monitor turns it into
   the `net_connect` event, named by the rule) and a REJECT with a reset at the SYN, so
   connect() fails at once (ECONNREFUSED). A connection the nat chain left alone was
   matched first by a deny there, so the first deny here is the same rule;
3. UDP: the allow rules that need no name pass (a datagram carries no name), in policy
   order, so an earlier deny shadows a later allow; IPv6 neighbour discovery passes;
4. everything else (other UDP, ICMP, other protocols) is REJECTed after an NFLOG entry.

In audit mode nothing is rejected: all TCP goes to the proxy (which logs what it would
have denied) and the rest passes with an NFLOG entry.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from . import model as m

CHAIN = "AGENTSH"
MARK = 0x41475348  # "AGSH": the proxy's and DNS proxy's upstream sockets
NFLOG_GROUP = 4147
# cidrs x ports lines of one rule beyond which it is left to the proxy
MAX_RULE_LINES = 256
# a rule number in the NFLOG prefix; the default and the catch-all have names of their own
PREFIX_DEFAULT = "agentsh:default"
PREFIX_OTHER = "agentsh:other"

_LOOPBACK = {4: "127.0.0.0/8", 6: "::1/128"}
# router solicitation/advertisement, neighbour solicitation/advertisement, MLDv2 report
_ND_TYPES = (133, 134, 135, 136, 143)


@dataclass(frozen=True, slots=True)
class ChainPorts:
    proxy: int  # the transparent proxy's port (TCP)
    dns: int  # the DNS proxy's port (UDP and TCP)


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose chains: `chain` (the name, in both tables), `group` (the NFLOG group its
    refusals are logged to), `cgroup` (a cgroup v2 path: only that cgroup's processes
    jump to the chain; None: every process of the namespace). Containers sharing a
    network namespace (a pod) each get a chain of their own, scoped to their cgroup."""

    chain: str = CHAIN
    group: int = NFLOG_GROUP
    cgroup: str | None = None

    def jump(self) -> str:
        where = f"-m cgroup --path {self.cgroup} " if self.cgroup else ""
        return f"{where}-j {self.chain}"


DEFAULT = Scope()


def scope_for(container_id: str, cgroup: str | None, group: int) -> Scope:
    """The scope of a container in a namespace it may share: a chain name of its own
    (iptables allows 28 characters)."""
    from hashlib import sha256

    return Scope(f"AGENTSH-{sha256(container_id.encode()).hexdigest()[:10]}", group, cgroup)


def rule_prefix(index: int) -> str:
    return f"agentsh:r{index}"


def parse_prefix(prefix: str) -> int | str | None:
    """An NFLOG prefix of ours -> the rule index, "default" or "other"; None if not ours."""
    if prefix == PREFIX_DEFAULT:
        return "default"
    if prefix == PREFIX_OTHER:
        return "other"
    if prefix.startswith("agentsh:r") and prefix[9:].isdigit():
        return int(prefix[9:])
    return None


def _nets(rule: m.NetworkRule, family: int) -> list[str] | None:
    """The rule's cidrs of this family ([""]: any address); None: none of this family,
    so the rule never matches here."""
    if not rule.cidrs:
        return [""]
    out = []
    for text in rule.cidrs:
        net = ipaddress.ip_network(text, strict=False)
        if net.version == 6 and family == 4 and net.prefixlen >= 96 and \
                int(net.network_address) >> 32 == 0xFFFF:
            net = ipaddress.ip_network((int(net.network_address) & 0xFFFFFFFF,
                                        net.prefixlen - 96))
        if net.version == family:
            out.append(str(net))
    return out or None


def _ports(rule: m.NetworkRule) -> list[int]:
    """[0]: any port."""
    if not rule.ports or 0 in rule.ports:
        return [0]
    return sorted(rule.ports)


def _match(proto: str, net: str, port: int) -> str:
    parts = [f"-p {proto}"]
    if net:
        parts.append(f"-d {net}")
    if port:
        parts.append(f"--dport {port}")
    return " ".join(parts)


def _reject(family: int, tcp: bool) -> str:
    if tcp:
        return "-j REJECT --reject-with tcp-reset"
    return "-j REJECT" + (" --reject-with icmp6-adm-prohibited" if family == 6
                          else " --reject-with icmp-admin-prohibited")


def _nflog(match: str, prefix: str, sc: Scope = DEFAULT) -> str:
    return " ".join(x for x in (
        f"-A {sc.chain}", match, "-m conntrack --ctstate NEW -j NFLOG",
        f"--nflog-group {sc.group} --nflog-prefix {prefix}") if x)


def static_tcp(rules: Iterable[m.NetworkRule], family: int, proxy_port: int,
               direct_allow: bool = False, sc: Scope = DEFAULT
               ) -> tuple[list[str], list[str]]:
    """(nat lines, filter lines) for the TCP decisions no name can change.
    `direct_allow`: a plain allow goes straight out, not through the proxy (nothing to
    log, nothing to redirect: the kernel's speed)."""
    nat: list[str] = []
    flt: list[str] = []
    to_proxy = f"-j REDIRECT --to-ports {proxy_port}"
    for r in rules:
        if r.domains:
            return nat, flt
        nets = _nets(r, family)
        if nets is None:
            continue
        ports = _ports(r)
        if len(nets) * len(ports) > MAX_RULE_LINES:
            return nat, flt
        for net in nets:
            for port in ports:
                match = _match("tcp", net, port)
                if r.decision == m.DENY:
                    nat.append(f"-A {sc.chain} {match} -j RETURN")
                    flt.append(_nflog(match, rule_prefix(r.index), sc))
                    flt.append(f"-A {sc.chain} {match} {_reject(family, True)}")
                elif r.decision == m.ALLOW and direct_allow:
                    nat.append(f"-A {sc.chain} {match} -j RETURN")
                    flt.append(f"-A {sc.chain} {match} -j RETURN")
                else:
                    nat.append(f"-A {sc.chain} {match} {to_proxy}")
        if nets == [""] and ports == [0]:
            return nat, flt  # matches everything: nothing after it is reached
    nat.append(f"-A {sc.chain} -p tcp -j RETURN")
    flt.append(_nflog("-p tcp", PREFIX_DEFAULT, sc))
    flt.append(f"-A {sc.chain} -p tcp {_reject(family, True)}")
    return nat, flt


def udp_allowed(rules: Iterable[m.NetworkRule], family: int,
                sc: Scope = DEFAULT, log_allowed: bool = False) -> list[str]:
    """Filter lines for UDP by the rules that need no name (rules with `domains` never
    match a datagram), in policy order: allow passes, deny is rejected; what no rule
    matches falls to the catch-all reject."""
    lines: list[str] = []
    for r in rules:
        if r.domains:
            continue
        nets = _nets(r, family)
        if nets is None:
            continue
        ports = _ports(r)
        if len(nets) * len(ports) > MAX_RULE_LINES:
            continue  # too large to compile: its datagrams stay rejected
        for net in nets:
            for port in ports:
                match = _match("udp", net, port)
                if r.decision in (m.ALLOW, m.AUDIT):
                    if log_allowed or r.decision == m.AUDIT:  # an event per new flow
                        lines.append(_nflog(match, rule_prefix(r.index), sc))
                    lines.append(f"-A {sc.chain} {match} -j RETURN")
                else:
                    lines.append(_nflog(match, rule_prefix(r.index), sc))
                    lines.append(f"-A {sc.chain} {match} {_reject(family, False)}")
        if nets == [""] and ports == [0]:
            break
    return lines


def restore_text(rules: Iterable[m.NetworkRule], family: int, ports: ChainPorts,
                 audit: bool = False, direct_allow: bool = False,
                 sc: Scope = DEFAULT, log_allowed: bool = False) -> str:
    """`iptables-restore --noflush` (family 4) or `ip6tables-restore --noflush` (6)
    input installing both chains and their jumps from OUTPUT. `direct_allow`: see
    `static_tcp` (when the policy logs no allowed connection and redirects none)."""
    rules = list(rules)
    mark = f"-m mark --mark {MARK:#x}/0xffffffff -j RETURN"
    nat_static, flt_static = ([], []) if audit else static_tcp(rules, family, ports.proxy,
                                                                direct_allow, sc)
    nat = [
        "*nat",
        f":{sc.chain} - [0:0]",
        f"-I OUTPUT 1 {sc.jump()}",
        f"-A {sc.chain} {mark}",
        f"-A {sc.chain} -o lo -j RETURN",
        f"-A {sc.chain} -d {_LOOPBACK[family]} -j RETURN",
        f"-A {sc.chain} -p udp --dport 53 -j REDIRECT --to-ports {ports.dns}",
        f"-A {sc.chain} -p tcp --dport 53 -j REDIRECT --to-ports {ports.dns}",
        *nat_static,
        f"-A {sc.chain} -p tcp -j REDIRECT --to-ports {ports.proxy}",
        "COMMIT",
    ]
    flt = [
        "*filter",
        f":{sc.chain} - [0:0]",
        f"-I OUTPUT 1 {sc.jump()}",
        f"-A {sc.chain} {mark}",
        f"-A {sc.chain} -m conntrack --ctdir REPLY -j RETURN",
        f"-A {sc.chain} -m conntrack --ctstate RELATED -j RETURN",
        f"-A {sc.chain} -o lo -j RETURN",
        # what nat redirected to the proxies: the hook still names the first route's
        # device, so `-o lo` misses it; only our chain makes DNAT entries here
        f"-A {sc.chain} -m conntrack --ctstate DNAT -j RETURN",
        *flt_static,
    ]
    if audit:
        flt.append(_nflog("", PREFIX_OTHER, sc))
        flt.append(f"-A {sc.chain} -j RETURN")
    else:
        flt += udp_allowed(rules, family, sc, log_allowed)
        if family == 6:
            flt += [f"-A {sc.chain} -p ipv6-icmp --icmpv6-type {t} -j RETURN"
                    for t in _ND_TYPES]
        flt.append(_nflog("", PREFIX_OTHER, sc))
        flt.append(f"-A {sc.chain} {_reject(family, False)}")
    flt.append("COMMIT")
    return "\n".join(nat + flt) + "\n"


def remove_text(sc: Scope = DEFAULT) -> str:
    """Input removing both chains and their jumps (for a namespace that outlives us)."""
    out = []
    for table in ("nat", "filter"):
        out += [f"*{table}", f"-D OUTPUT {sc.jump()}", f"-F {sc.chain}", f"-X {sc.chain}",
                "COMMIT"]
    return "\n".join(out) + "\n"
