"""network_rules -> iptables-restore input (pure); policy/netchain.py."""

from __future__ import annotations

import json

from agentsh_runtime.policy.load import loads
from agentsh_runtime.policy.netchain import (
    CHAIN,
    MARK,
    ChainPorts,
    Scope,
    parse_prefix,
    remove_text,
    restore_text,
    rule_prefix,
    scope_for,
    static_tcp,
    udp_allowed,
)

PORTS = ChainPorts(proxy=40001, dns=40002)


def rules(*items):
    return loads(json.dumps({"version": 1, "name": "t", "network_rules": list(items)})
                 ).network_rules


def rule(name, decision, **sel):
    return {"name": name, "decision": decision, **sel}


def test_every_tcp_connection_goes_to_the_proxy_and_dns_to_the_dns_proxy():
    text = restore_text(rules(rule("web", "allow", domains=["*.test"])), 4, PORTS)
    lines = text.splitlines()
    assert lines[0] == "*nat" and f"-I OUTPUT 1 -j {CHAIN}" in lines
    assert f"-A {CHAIN} -m mark --mark {MARK:#x}/0xffffffff -j RETURN" in lines
    assert f"-A {CHAIN} -p udp --dport 53 -j REDIRECT --to-ports 40002" in lines
    assert f"-A {CHAIN} -p tcp -j REDIRECT --to-ports 40001" in lines
    # a domain rule first: nothing static, the proxy decides every connection
    nat = lines[:lines.index("COMMIT")]
    assert [x for x in nat if "-p tcp" in x and "RETURN" in x] == []
    assert text.count("COMMIT") == 2 and lines[-1] == "COMMIT"
    # the catch-all reject closes the filter chain; IPv6 keeps neighbour discovery
    assert lines[-2] == f"-A {CHAIN} -j REJECT --reject-with icmp-admin-prohibited"
    v6 = restore_text(rules(), 6, PORTS)
    assert "--icmpv6-type 135 -j RETURN" in v6 and "icmp6-adm-prohibited" in v6


def test_static_prefix_stops_at_the_first_rule_with_a_name():
    rs = rules(rule("meta", "deny", cidrs=["169.254.169.254/32"]),
               rule("ssh", "deny", ports=[22]),
               rule("internal", "allow", cidrs=["10.0.0.0/8"], ports=[443]),
               rule("named", "allow", domains=["x.test"]),
               rule("late", "deny", cidrs=["10.9.0.0/16"]))
    nat, flt = static_tcp(rs, 4, PORTS.proxy)
    assert nat == [f"-A {CHAIN} -p tcp -d 169.254.169.254/32 -j RETURN",
                   f"-A {CHAIN} -p tcp --dport 22 -j RETURN",
                   f"-A {CHAIN} -p tcp -d 10.0.0.0/8 --dport 443 -j REDIRECT --to-ports 40001"]
    assert [x for x in flt if "REJECT" in x] == [
        f"-A {CHAIN} -p tcp -d 169.254.169.254/32 -j REJECT --reject-with tcp-reset",
        f"-A {CHAIN} -p tcp --dport 22 -j REJECT --reject-with tcp-reset"]
    assert f"--nflog-prefix {rule_prefix(0)}" in flt[0]
    assert parse_prefix(rule_prefix(12)) == 12 and parse_prefix("agentsh:default") == "default"
    assert parse_prefix("other") is None
    # IPv6: the IPv4 rule does not apply, the port rule does
    nat6, _ = static_tcp(rs, 6, PORTS.proxy)
    assert nat6[0] == f"-A {CHAIN} -p tcp --dport 22 -j RETURN"


def test_all_static_compiles_the_default_deny_and_audit_mode_rejects_nothing():
    rs = rules(rule("lan", "allow", cidrs=["192.168.0.0/16", "::ffff:10.0.0.0/104"]))
    nat, flt = static_tcp(rs, 4, PORTS.proxy)
    assert nat[-1] == f"-A {CHAIN} -p tcp -j RETURN"
    assert f"-A {CHAIN} -p tcp -d 10.0.0.0/8 -j REDIRECT --to-ports 40001" in nat  # v4-mapped
    assert flt[-1] == f"-A {CHAIN} -p tcp -j REJECT --reject-with tcp-reset"
    audit = restore_text(rs, 4, PORTS, audit=True)
    assert "REJECT" not in audit and audit.splitlines()[-2] == f"-A {CHAIN} -j RETURN"


def test_udp_only_by_rules_without_names_in_order():
    rs = rules(rule("no-ntp-here", "deny", cidrs=["10.0.0.1"], ports=[123]),
               rule("ntp", "allow", ports=[123]),
               rule("named", "allow", domains=["x.test"], ports=[5000]))
    lines = udp_allowed(rs, 4)
    assert [x for x in lines if "NFLOG" not in x] == [
        f"-A {CHAIN} -p udp -d 10.0.0.1/32 --dport 123 -j REJECT --reject-with "
        "icmp-admin-prohibited",
        f"-A {CHAIN} -p udp --dport 123 -j RETURN"]


def test_remove_text_names_both_tables():
    text = remove_text()
    assert text.count("COMMIT") == 2 and f"-X {CHAIN}" in text and "*nat" in text


def test_a_plain_allow_can_skip_the_proxy():
    rs = rules(rule("lan", "allow", cidrs=["10.0.0.0/8"], ports=[443]),
               rule("named", "allow", domains=["x.test"]))
    nat, flt = static_tcp(rs, 4, PORTS.proxy, direct_allow=True)
    assert nat == [f"-A {CHAIN} -p tcp -d 10.0.0.0/8 --dport 443 -j RETURN"]
    assert flt == [f"-A {CHAIN} -p tcp -d 10.0.0.0/8 --dport 443 -j RETURN"]
    text = restore_text(rs, 4, PORTS, direct_allow=True)
    assert text.index("--dport 443 -j RETURN") < text.index("-j REDIRECT --to-ports 40001")


def test_a_container_in_a_shared_namespace_gets_chains_of_its_own():
    sc = scope_for("ctr-1", "/kubepods/pod1/ctr-1", 4150)
    assert sc.chain.startswith("AGENTSH-") and len(sc.chain) <= 28
    assert scope_for("ctr-2", None, 1).chain != sc.chain
    text = restore_text(rules(rule("ssh", "deny", ports=[22])), 4, PORTS, sc=sc)
    assert f"-I OUTPUT 1 -m cgroup --path /kubepods/pod1/ctr-1 -j {sc.chain}" in text
    assert f"-A {CHAIN} " not in text and "--nflog-group 4150" in text
    assert f":{sc.chain} - [0:0]" in text
    rm = remove_text(sc)
    assert f"-D OUTPUT -m cgroup --path /kubepods/pod1/ctr-1 -j {sc.chain}" in rm
    assert Scope().jump() == f"-j {CHAIN}"


def test_allowed_udp_is_logged_when_allowed_connections_are():
    rs = rules(rule("ntp", "allow", ports=[123]))
    assert not any("NFLOG" in x for x in udp_allowed(rs, 4))
    lines = udp_allowed(rs, 4, log_allowed=True)
    assert "NFLOG" in lines[0] and lines[1] == f"-A {CHAIN} -p udp --dport 123 -j RETURN"
