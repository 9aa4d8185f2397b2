"""network_rules in a container (issue 7): the AGENTSH chains in the container's network
namespace, the monitor's transparent proxy and DNS proxy. Traffic goes only between
namespaces the test makes (tests/support/netlab.py): the container joins the lab's
"container" namespace by path, as podman and CNI give it; the lab's server namespace
answers HTTP, TLS, DNS and UDP echo on test addresses.

The policy: the metadata address and port 8080 denied by rules without names (so the
kernel refuses them at connect), a UDP echo allowed on IPv4 only; web.test, six.test
(IPv6) and the other allowed names on 80 and 443; evil.test denied on 80 and 443 (its
DNS answers still come); refused.test denied on every port (so its DNS query is
refused); ask.test needs approval; a DNS redirect and a connect redirect with an SNI
rewrite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration import test_policy_files as pf
from tests.support.bundle import Bundle, only_ours, runtime_binary, wait_for
from tests.support.netlab import NetLab
from tests.support.policy import (
    ANN_INLINE,
    ANN_MODE,
    BIN_DIR,
    PolicyRuntime,
    install_programs,
    policy_text,
    write_admin_config,
    write_in,
)


@pytest.fixture
def prt(lab: NetLab, tmp_path: Path, _tracker) -> Iterator[PolicyRuntime]:  # noqa: ANN001
    """As test_policy_files' prt, set up after the lab so its containers are deleted
    before the lab checks that no chain was left."""
    only_ours("agentsh policies")
    rt = PolicyRuntime(runtime_binary(), tmp_path / "pstate", write_admin_config(tmp_path))
    _tracker.runtimes.append(rt)
    yield rt
    rt.cleanup()
NETC = f"{BIN_DIR}/netc"
NAMES = {"web.test": "v4", "evil.test": "v4", "alias.test": "v4", "six.test": "v6",
         "refused.test": "v4", "ask.test": "v4", "moved.test": "v4", "plain.test": "v4"}


def rules(lab: NetLab) -> dict:
    return {
        "network_rules": [
            {"name": "metadata", "cidrs": ["169.254.169.254/32"], "decision": "deny"},
            {"name": "no-8080", "ports": [8080], "decision": "deny",
             "message": "not that port"},
            {"name": "udp-echo", "cidrs": [f"{lab.srv_ip}/32"], "ports": [7],
             "decision": "allow"},
            {"name": "evil", "domains": ["evil.test"], "ports": [80, 443],
             "decision": "deny"},
            {"name": "refused", "domains": ["refused.test"], "decision": "deny"},
            {"name": "ask", "domains": ["ask.test"], "ports": [80], "decision": "approve",
             "timeout": "4s"},
            {"name": "web", "domains": ["web.test", "alias.test", "six.test", "moved.test",
                                        "redir.test"],
             "ports": [80, 443], "decision": "allow"},
        ],
        "dns_redirects": [{"name": "redir", "match": r"^redir\.test$",
                           "resolve_to": lab.srv_ip}],
        "connect_redirects": [{"name": "moved", "match": r"^moved\.test:443$",
                               "redirect_to": f"{lab.srv_ip}:443",
                               "tls": {"mode": "rewrite_sni", "sni": "real.test"}}],
        "command_rules": pf.ALLOW_COMMANDS,
        "audit": {"log_allowed": True, "log_denied": True},
    }


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[NetLab]:
    lab = NetLab(tmp_path / "lab").up(NAMES)
    try:
        yield lab
    finally:
        chains = lab.chains()
        lab.down()
    assert "AGENTSH" not in chains, f"chains left in the container's namespace:\n{chains}"


@pytest.fixture
def nbundle(bundle: Bundle, lab: NetLab) -> Bundle:
    install_programs(bundle, ["netc"])
    write_in(bundle, "/etc/resolv.conf", lab.resolv_conf())
    bundle.update(namespaces=["pid", {"type": "network", "path": lab.ctr_path}, "ipc", "uts",
                              "mount"],
                  annotations={ANN_INLINE: policy_text(**rules(lab))})
    return bundle


def run(prt: PolicyRuntime, bundle: Bundle, cid: str, script: str) -> str:
    bundle.update(args=["sh", "-c", script])
    out, err, _ = prt.run_to_end(bundle, cid, timeout=60)
    return out + err


def net_events(prt: PolicyRuntime, cid: str, etype: str = "net_connect") -> list[dict]:
    return [e for e in prt.events(cid) if e.get("type") == etype]


def by_remote(events: list[dict], remote: str) -> list[dict]:
    return [e for e in events if e.get("remote") == remote]


def http(host: str, path: str = "/small", port: int = 80, six: bool = False) -> str:
    mode = "tcp6" if six else "tcp"
    return f"{NETC} {mode} {host} {port} 'GET {path} HTTP/1.0\\r\\nHost: {host}\\r\\n\\r\\n'"


def test_allowed_domain_transfers_100_mb_intact(prt, nbundle, cid, lab):
    out = run(prt, nbundle, cid, http("web.test", "/big?mb=100"))
    pattern = bytes(range(256)) * 4096
    fnv = 1469598103934665603
    head = b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % (100 << 20)
    # the FNV-1a of what the server sent, computed the same way as netc
    for chunk in [head] + [pattern] * 100:
        for b in chunk:
            fnv = ((fnv ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    assert f"bytes={len(head) + (100 << 20)} fnv={fnv:016x}" in out, out
    ev = by_remote(net_events(prt, cid), f"{lab.srv_ip}:80")
    assert ev and ev[0]["domain"] == "web.test" and ev[0]["policy"]["rule"] == "web"
    assert ev[0]["effective_action"] == "allowed"
    closed = by_remote(net_events(prt, cid, "net_close"), f"{lab.srv_ip}:80")
    assert closed and closed[0]["fields"]["bytes_received"] == len(head) + (100 << 20)
    dns = [e for e in prt.events(cid) if e.get("type") == "dns_query"]
    assert any(e.get("domain") == "web.test" and lab.srv_ip in e["fields"]["answers"]
               for e in dns), dns


def test_denials_by_name_by_address_and_by_port(prt, nbundle, cid, lab):
    out = run(prt, nbundle, cid,
              f"{http('evil.test')}; echo; {NETC} tcp 169.254.169.254 80; "
              f"{http('web.test', port=8080)}; {http(lab.bare_ip)}")
    lines = out.splitlines()
    # a name decided at the proxy: accepted by the kernel, then reset
    assert "Connection reset by peer" in lines[0] or "bytes=0" in lines[0], out
    # rules without names: refused by the kernel at connect
    assert lines[2] == "connect: Connection refused", out
    assert lines[3] == "connect: Connection refused", out
    # an address never resolved through our DNS has no name: IP rules only, no match
    assert "reset" in lines[4] or "bytes=0" in lines[4], out
    ev = net_events(prt, cid)
    evil = by_remote(ev, f"{lab.srv_ip}:80")
    assert any(e.get("domain") == "evil.test" and e["policy"]["rule"] == "evil" and
               e["effective_action"] == "blocked" for e in evil), evil
    bare = by_remote(ev, f"{lab.bare_ip}:80")
    assert any(e.get("domain") is None and e["policy"]["rule"] == "default-deny-network"
               and e["effective_action"] == "blocked" for e in bare), bare
    meta = by_remote(ev, "169.254.169.254:80")
    assert meta and meta[0]["policy"]["rule"] == "metadata" and \
        meta[0]["fields"]["via"] == "kernel"
    port = by_remote(ev, f"{lab.srv_ip}:8080")
    assert port and port[0]["policy"]["rule"] == "no-8080"


def test_ipv6_the_same(prt, nbundle, cid, lab):
    out = run(prt, nbundle, cid, f"{http('six.test', six=True)}; "
                                 f"{http('six.test', port=8080, six=True)}; "
                                 f"{NETC} tcp6 {lab.bare_ip6} 80")
    lines = out.splitlines()
    assert lines[0].startswith("connected bytes=") and "host=six.test" in lines[0], out
    assert lines[1] == "connect: Connection refused", out
    assert "bytes=0" in lines[2] or "reset" in lines[2], out
    ev = by_remote(net_events(prt, cid), f"[{lab.srv_ip6}]:80")
    assert any(e.get("domain") == "six.test" and e["effective_action"] == "allowed" for e in ev)
    bare = by_remote(net_events(prt, cid), f"[{lab.bare_ip6}]:80")
    assert bare and bare[0]["effective_action"] == "blocked", bare


def test_sni_picks_among_the_names_of_an_address(prt, nbundle, cid, lab):
    """web.test and evil.test resolve to the same address: the ClientHello's SNI says
    which; a name the client never resolved through us counts for nothing."""
    import ssl

    def hello(name: str) -> str:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname=name)
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        data = out.read()
        write_in(nbundle, f"/hello-{name}", "")
        (nbundle.rootfs / f"hello-{name}").write_bytes(data)
        return f"/hello-{name}"

    good, bad, other = hello("web.test"), hello("evil.test"), hello("plain.test")
    out = run(prt, nbundle, cid,
              f"{NETC} resolve web.test; {NETC} resolve evil.test; "
              f"{NETC} tcp {lab.srv_ip} 443 @{good}; "
              f"{NETC} tcp {lab.srv_ip} 443 @{bad}; "
              f"{NETC} tcp {lab.srv_ip} 443 @{other}")
    lines = out.splitlines()
    assert lines[2].startswith("connected bytes=") and "bytes=0" not in lines[2], out
    assert "bytes=0" in lines[3] or "reset" in lines[3], out
    assert "bytes=0" in lines[4] or "reset" in lines[4], out  # plain.test: not resolved
    ev = by_remote(net_events(prt, cid), f"{lab.srv_ip}:443")
    assert [(e.get("domain"), e["effective_action"]) for e in ev][:3] == [
        ("web.test", "allowed"), ("evil.test", "blocked"), ("evil.test", "blocked")], ev
    assert ev[0]["fields"]["named_by"] == "sni"
    assert "web.test" in lab.sni_log()


def test_dns_refused_redirected_and_still_proxied_after_resolv_conf_changes(prt, nbundle,
                                                                           cid, lab):
    out = run(prt, nbundle, cid,
              f"{NETC} resolve refused.test; {NETC} resolve redir.test; "
              "echo nameserver 10.255.255.1 > /etc/resolv.conf; "
              f"{NETC} resolve web.test")
    lines = out.splitlines()
    assert lines[0].startswith("rcode=5"), out
    assert lines[1] == f"rcode=0 {lab.srv_ip}", out
    assert lines[2] == f"rcode=0 {lab.srv_ip}", out  # through the DNS proxy regardless
    ev = prt.events(cid)
    assert any(e["type"] == "dns_query" and e.get("domain") == "refused.test" and
               e["effective_action"] == "blocked" for e in ev)
    assert any(e["type"] == "dns_redirect" and e.get("domain") == "redir.test" for e in ev)


def test_connect_redirect_rewrites_the_sni(prt, nbundle, cid, lab):
    import ssl

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="moved.test")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    (nbundle.rootfs / "hello").write_bytes(out.read())
    res = run(prt, nbundle, cid, f"{NETC} tcp moved.test 443 @/hello")
    assert "connected bytes=" in res and "bytes=0" not in res, res
    assert "real.test" in lab.sni_log(), lab.sni_log()
    ev = [e for e in net_events(prt, cid) if e.get("domain") == "moved.test"]
    assert ev and ev[0]["fields"]["redirect_rule"] == "moved"


@pytest.mark.parametrize("answer", ["approve", "deny", "timeout"])
def test_approval_holds_the_connection(prt, nbundle, cid, lab, answer):
    nbundle.update(args=["sh", "-c", f"{http('ask.test')}; echo done"])
    assert prt.create(nbundle, cid).returncode == 0
    assert prt.start(cid).returncode == 0
    if answer != "timeout":
        pending = wait_for(lambda: prt.pending(cid), 15, "a pending approval")
        assert pending[0]["operation"] == "connect" and "ask.test" in pending[0]["path"]
        assert prt.approvals(answer, cid, pending[0]["id"]).returncode == 0
    prt.wait_status(cid, "stopped", 30)
    out, err = prt.output(nbundle, cid)
    assert prt.delete(cid).returncode == 0
    if answer == "approve":
        assert "host=ask.test" in out, (out, err)
    else:
        assert "host=ask.test" not in out and "done" in out, (out, err)


def test_udp_icmp_and_raw(prt, nbundle, cid, lab):
    out = run(prt, nbundle, cid,
              f"{NETC} udp {lab.srv_ip} 7; {NETC} udp {lab.srv_ip6} 7; "
              f"{NETC} udp {lab.srv_ip} 9999; {NETC} icmp {lab.srv_ip}; "
              f"{NETC} raw; {NETC} packet")
    lines = out.splitlines()
    assert lines[0] == "udp reply=echo:ping", out
    for line in lines[1:4]:
        assert "reply" not in line.replace("no reply", ""), out
    assert lines[4] == "raw socket: Operation not permitted", out
    assert lines[5] == "packet socket: Operation not permitted", out
    ev = net_events(prt, cid)
    assert any(e["fields"]["protocol"] == "udp" and e["remote"] == f"{lab.srv_ip}:9999" and
               e["effective_action"] == "blocked" for e in ev), ev
    # the allowed flow is an event too (the policy logs allowed connections)
    assert any(e["fields"]["protocol"] == "udp" and e["remote"] == f"{lab.srv_ip}:7" and
               e["effective_action"] == "allowed" and e["policy"]["rule"] == "udp-echo"
               for e in ev), ev


def test_monitor_killed_connections_fail(prt, nbundle, cid, lab):
    # no command_rules: execs are not the monitor's then, so the shell goes on without it
    doc = {k: v for k, v in rules(lab).items() if k != "command_rules"}
    nbundle.update(annotations={ANN_INLINE: policy_text(**doc)})
    nbundle.update(args=["sh", "-c", f"{http('web.test')}; while [ ! -e /go ]; do sleep 0.1; "
                                     f"done; {http(lab.srv_ip)}; {NETC} resolve web.test"])
    assert prt.create(nbundle, cid).returncode == 0
    assert prt.start(cid).returncode == 0
    mon = prt.monitor(cid)
    assert mon is not None
    wait_for(lambda: net_events(prt, cid), 15, "the first connection's event")
    os.kill(mon[0], signal.SIGKILL)
    time.sleep(0.2)
    (nbundle.rootfs / "go").write_text("")
    prt.wait_status(cid, "stopped", 30)
    out, err = prt.output(nbundle, cid)
    assert prt.delete(cid).returncode == 0
    lines = (out + err).splitlines()
    assert lines[0].startswith("connected bytes="), (out, err)
    assert lines[1] == "connect: Connection refused", (out, err)
    assert not lines[2].startswith("rcode=0"), (out, err)


def test_nothing_left_after_delete(prt, nbundle, cid, lab):
    pol_text = policy_text(**dict(rules(lab), resource_limits={"net_bandwidth_mbps": 50}))
    nbundle.update(annotations={ANN_INLINE: pol_text})
    nbundle.update(args=["sh", "-c", f"{http('web.test')}; sleep 30"])
    assert prt.create(nbundle, cid).returncode == 0
    assert prt.start(cid).returncode == 0
    wait_for(lambda: net_events(prt, cid), 15, "a connection")
    during = lab.chains()
    assert "-j AGENTSH-" in during, during  # its own chain: the namespace is joined
    qd = lab.in_ctr("tc", "qdisc", "show").stdout
    assert "tbf" in qd, qd
    listeners = lab.in_ctr("ss", "-Hltnu").stdout
    assert "127.0.0.1" in listeners, listeners
    assert prt.kill(cid, "KILL").returncode == 0
    prt.wait_status(cid, "stopped", 10)
    assert prt.delete(cid).returncode == 0
    assert "AGENTSH" not in lab.chains()
    assert "tbf" not in lab.in_ctr("tc", "qdisc", "show").stdout
    assert lab.in_ctr("ss", "-Hltnu").stdout.strip() == ""
    assert not (prt.root / "netns").exists()


def test_host_network_with_network_rules_is_refused(prt, bundle, cid, lab):
    bundle.update(namespaces=["pid", "ipc", "uts", "mount"],
                  annotations={ANN_INLINE: policy_text(**rules(lab))})
    before = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    res = prt.create(bundle, cid)
    assert res.returncode != 0
    assert "network_rules need the container's own network namespace" in res.stderr
    assert "linux.namespaces" in res.stderr
    assert not (prt.root / cid).exists()
    after = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    assert "AGENTSH" not in after and before.count("\n-A") == after.count("\n-A")


def test_two_containers_share_a_namespace(prt, nbundle, cid, lab, make_bundle):
    """A pod: two policy containers in one network namespace, each with chains of its
    own scoped to its cgroup, so each meets its own policy and its own events; the
    chains of one go with it, the other's stay."""
    other_rules = rules(lab)
    other_rules["network_rules"] = [{"name": "evil-ok", "domains": ["evil.test"],
                                     "ports": [80], "decision": "allow"}]
    go = "while [ ! -e /go ]; do sleep 0.05; done; "
    nbundle.update(args=["sh", "-c", go + f"{http('web.test')}; {http('evil.test')}"])
    other = make_bundle()
    install_programs(other, ["netc"])
    write_in(other, "/etc/resolv.conf", lab.resolv_conf())
    other.update(namespaces=["pid", {"type": "network", "path": lab.ctr_path}, "ipc", "uts",
                             "mount"],
                 annotations={ANN_INLINE: policy_text(**other_rules)},
                 args=["sh", "-c", go + f"{http('web.test')}; {http('evil.test')}; "
                                   "while [ ! -e /end ]; do sleep 0.05; done"])
    cid2 = cid + "b"
    assert prt.create(nbundle, cid).returncode == 0
    res = prt.create(other, cid2)
    assert res.returncode == 0, res.stderr
    chains = lab.chains()
    # a jump per table and family and container
    assert chains.count("-m cgroup --path") == 8, chains
    for b, c in ((nbundle, cid), (other, cid2)):
        (b.rootfs / "go").write_text("")
        assert prt.start(c).returncode == 0
    prt.wait_status(cid, "stopped", 30)
    out1, _ = prt.output(nbundle, cid)
    assert prt.delete(cid).returncode == 0
    wait_for(lambda: len(prt.output(other, cid2)[0].splitlines()) >= 2, 30,
             "the other container's connections")
    left = lab.chains()
    assert left.count("-m cgroup --path") == 4, left  # the other container's, still on
    (other.rootfs / "end").write_text("")
    prt.wait_status(cid2, "stopped", 30)
    out2, _ = prt.output(other, cid2)
    assert prt.delete(cid2).returncode == 0
    l1, l2 = out1.splitlines(), out2.splitlines()
    assert "host=web.test" in l1[0] and ("bytes=0" in l1[1] or "reset" in l1[1]), out1
    assert ("bytes=0" in l2[0] or "reset" in l2[0]) and "host=evil.test" in l2[1], out2
    e1 = {(e.get("domain"), e["effective_action"]) for e in net_events(prt, cid)}
    e2 = {(e.get("domain"), e["effective_action"]) for e in net_events(prt, cid2)}
    assert e1 == {("web.test", "allowed"), ("evil.test", "blocked")}, e1
    assert e2 == {("web.test", "blocked"), ("evil.test", "allowed")}, e2
    assert not (prt.root / "netns").exists()


def test_audit_mode_blocks_nothing_and_logs(prt, nbundle, cid, lab):
    nbundle.update(annotations={ANN_INLINE: policy_text(**rules(lab)), ANN_MODE: "audit"})
    out = run(prt, nbundle, cid, f"{http('evil.test')}; {http('web.test', port=8080)}")
    lines = out.splitlines()
    assert all(x.startswith("connected bytes=") and "bytes=0" not in x for x in lines), out
    ev = net_events(prt, cid)
    assert any(e.get("domain") == "evil.test" and e["policy"]["decision"] == "deny" and
               e["effective_action"] == "allowed" for e in ev), ev


def test_events_are_json_with_the_decision(prt, nbundle, cid, lab):
    run(prt, nbundle, cid, http("web.test"))
    for e in net_events(prt, cid) + net_events(prt, cid, "net_close"):
        json.dumps(e)
        assert {"decision", "effective_decision", "rule"} <= set(e["policy"])


# -- runc users: the createRuntime hook (hooks/agentsh-network.json) ------------------------

def test_runc_with_the_network_hook(prt, nbundle, cid, lab, tmp_path):
    """runc runs the container; our hook enforces its network_rules in its namespace."""
    import shutil

    runc = shutil.which("runc")
    assert runc, "runc is missing (apt-get install runc): the hook is for runc users"
    hook_root = tmp_path / "hookroot"
    nbundle.config.setdefault("hooks", {})["createRuntime"] = [{
        "path": runtime_binary(),
        "args": ["agentsh-runtime", "--root", str(hook_root), "--admin-config",
                 str(prt.admin_config), "hook", "network"]}]
    nbundle.update(args=["sh", "-c", f"{http('web.test')}; {http('evil.test')}; "
                                     f"{NETC} tcp 169.254.169.254 80; exit 0"])
    nbundle.write()
    res = subprocess.run([runc, "--root", str(tmp_path / "runc"), "run", "--bundle",
                          str(nbundle.path), cid], capture_output=True, text=True, timeout=60)
    lines = res.stdout.splitlines()
    assert res.returncode == 0 and len(lines) == 3, (res.stdout, res.stderr)
    assert lines[0].startswith("connected bytes=") and "host=web.test" in lines[0], lines
    assert "bytes=0" in lines[1] or "reset" in lines[1], lines
    assert lines[2] == "connect: Connection refused", lines
    # the monitor writes them as it leaves, after the container
    wait_for(lambda: any(e.get("domain") == "evil.test" and
                         e["effective_action"] == "blocked" for e in net_events(prt, cid)),
             10, "the denied connection's event")
    # the hook's monitor leaves with the container, and takes the chains and its state
    wait_for(lambda: "AGENTSH" not in lab.chains(), 10, "the chains to go")
    wait_for(lambda: not any(hook_root.glob("hooks/*")), 10, "the hook's state to go")


def test_the_hook_refuses_network_capabilities(prt, nbundle, cid, lab, tmp_path):
    state = json.dumps({"ociVersion": "1.2.0", "id": cid, "pid": os.getpid(),
                        "bundle": str(nbundle.path), "status": "creating"})
    nbundle.update(capabilities=["CAP_NET_RAW", "CAP_KILL"])
    nbundle.write()
    res = subprocess.run([runtime_binary(), "--root", str(tmp_path / "hr"), "--admin-config",
                          str(prt.admin_config), "hook", "network"], input=state,
                         capture_output=True, text=True, timeout=30)
    assert res.returncode != 0 and "CAP_NET_RAW" in res.stderr, res.stderr
    assert "AGENTSH" not in lab.chains()


def test_a_plain_allow_goes_straight_out_when_nothing_is_logged(prt, nbundle, cid, lab):
    """An address rule's allow, with no allowed connection to log and no redirect: the
    kernel lets it out, the proxy never sees it; the rest is still decided."""
    doc = {"network_rules": [{"name": "lan", "cidrs": [f"{lab.srv_ip}/32"], "ports": [80],
                              "decision": "allow"}],
           "command_rules": pf.ALLOW_COMMANDS,
           "audit": {"log_allowed": False, "log_denied": True}}
    nbundle.update(annotations={ANN_INLINE: policy_text(**doc)})
    out = run(prt, nbundle, cid, f"{http(lab.srv_ip)}; {http(lab.srv_ip, port=8080)}")
    lines = out.splitlines()
    assert lines[0].startswith("connected bytes=") and "bytes=0" not in lines[0], out
    assert lines[1] == "connect: Connection refused", out  # the default, in the kernel
    ev = net_events(prt, cid)
    assert not by_remote(ev, f"{lab.srv_ip}:80"), ev
    assert by_remote(ev, f"{lab.srv_ip}:8080")[0]["policy"]["rule"] == "default-deny-network"


def test_ways_around_the_chain_are_closed(prt, nbundle, cid, lab):
    """The proxy's own port straight from inside (no original destination to proxy to),
    the proxy's mark on one's own socket, and network capabilities asked for in
    config.json (dropped under a policy): raw and packet sockets."""
    nbundle.update(capabilities=["CAP_NET_RAW", "CAP_NET_ADMIN", "CAP_KILL"],
                   args=["sh", "-c", "while [ ! -e /port ]; do sleep 0.05; done; "
                         f"{NETC} tcp 127.0.0.1 $(cat /port) 'GET / HTTP/1.0\\r\\n\\r\\n'; "
                         f"{NETC} mark; {NETC} raw; {NETC} packet; "
                         "grep CapEff /proc/self/status"])
    assert prt.create(nbundle, cid).returncode == 0
    applied = wait_for(lambda: [e for e in prt.events(cid)
                                if e["type"] == "network_policy_applied"], 10, "the ports")
    (nbundle.rootfs / "port").write_text(str(applied[0]["fields"]["ports"]["4"][0]))
    assert prt.start(cid).returncode == 0
    prt.wait_status(cid, "stopped", 30)
    out, err = prt.output(nbundle, cid)
    assert prt.delete(cid).returncode == 0
    lines = out.splitlines()
    assert "bytes=0" in lines[0] or "reset" in lines[0], (out, err)
    assert lines[1] == "mark: Operation not permitted", (out, err)
    assert lines[2] == "raw socket: Operation not permitted", (out, err)
    assert lines[3] == "packet socket: Operation not permitted", (out, err)
    caps = int(lines[4].split()[1], 16)
    assert not caps & ((1 << 12) | (1 << 13)), lines[4]  # CAP_NET_ADMIN, CAP_NET_RAW
