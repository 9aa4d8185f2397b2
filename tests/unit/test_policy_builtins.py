"""The built-in policies behave as POLICY.md "Built-in policies" says; resolution."""

import os

import pytest

from agentsh_runtime.policy.engine import Engine, ExecQuery, FileQuery, NetQuery, SignalQuery
from agentsh_runtime.policy.errors import PolicyError
from agentsh_runtime.policy.load import loads
from agentsh_runtime.policy.resolve import BUILTINS, builtin_text, policy_files, resolve_policy

VARS = {"HOME": "/root", "PROJECT_ROOT": "/workspace", "GIT_ROOT": "/workspace"}


def builtin(name: str) -> Engine:
    return Engine(loads(builtin_text(name), origin=f"builtin:{name}"), VARS)


@pytest.mark.parametrize("name", ["default", "strict", "audit-only", "allow-all"])
def test_builtins_load_cleanly(name):
    e = builtin(name)
    assert e.policy.name == name
    assert e.policy.not_enforced == () and e.policy.warnings == ()
    assert e.policy.description


def f(e, op, path):
    d = e.decide("file", FileQuery(op, path))
    return d.decision


def x(e, *argv, path=None, resolved=None, depth=1):
    return e.decide("command", ExecQuery(path or f"/usr/bin/{argv[0]}", argv, resolved,
                                         depth)).decision


def test_default_files():
    e = builtin("default")
    assert f(e, "write", "/workspace/src/main.py") == "allow"
    assert f(e, "create", "/workspace/new") == "allow"
    assert f(e, "delete", "/workspace/src/main.py") == "approve"
    assert f(e, "rmdir", "/workspace/build") == "approve"
    for path in ["/tmp/x", "/dev/null", "/dev/zero", "/dev/tty", "/dev/pts/0", "/dev/shm/sem"]:
        assert f(e, "write", path) == "allow", path
    for path in ["/usr/bin/ls", "/etc/passwd", "/lib/x86_64-linux-gnu/libc.so.6"]:
        assert f(e, "read", path) == "allow", path
        assert f(e, "write", path) == "deny", path
    for path in ["/root/.ssh/id_ed25519", "/root/.aws/credentials",
                 "/root/.config/gcloud/credentials.db", "/workspace/.env",
                 "/workspace/app/.env.local", "/proc/1/environ", "/proc/self/mem"]:
        assert f(e, "read", path) == "deny", path
    assert f(e, "write", "/root/.cache/pip/x") == "allow"


def test_default_network():
    e = builtin("default")
    ok = [("pypi.org", 443), ("files.pythonhosted.org", 443), ("registry.npmjs.org", 443),
          ("github.com", 443), ("github.com", 22), ("objects.githubusercontent.com", 443),
          ("proxy.golang.org", 443), ("crates.io", 443), ("gitlab.com", 443)]
    for host, port in ok:
        assert e.connect(host, "203.0.113.7", port).decision == "allow", host
    for host, port in [("example.com", 443), ("evil.test", 80), ("github.com.evil.test", 443)]:
        assert e.connect(host, "203.0.113.7", port).decision == "deny", host
    assert e.connect(None, "169.254.169.254", 80).decision == "deny"
    assert e.connect(None, "1.1.1.1", 443).decision == "deny"
    assert e.dns("anything.example").decision == "allow"  # forwarded; connects decide


def test_default_commands():
    e = builtin("default")
    for argv in [("ls", "-la"), ("git", "status"), ("python3", "-m", "pytest"), ("make",),
                 ("npm", "install"), ("cargo", "build"), ("grep", "-r", "x", "."),
                 ("rm", "-rf", "build"), ("rm", "file")]:
        assert x(e, *argv) == "allow", argv
    assert x(e, "python3", resolved="/usr/bin/python3.11") == "allow"
    assert x(e, "sh", "-c", "x", path="/bin/sh", resolved="/usr/bin/dash") == "allow"
    for argv in [("rm", "-rf", "/"), ("rm", "-fr", "/"), ("rm", "-r", "-f", "/"),
                 ("rm", "-rf", "/*"), ("rm", "--no-preserve-root", "-rf", "/"),
                 ("mkfs.ext4", "/dev/sda1"), ("mkfs", "-t", "ext4", "/dev/sda"),
                 ("dd", "if=/dev/zero", "of=/dev/sda"), ("shutdown", "-h", "now"),
                 ("reboot",), ("systemctl", "poweroff")]:
        assert x(e, *argv) == "deny", argv
    assert x(e, "dd", "if=/dev/zero", "of=/tmp/x") == "allow"
    # the dynamic loader trick and wrappers do not hide a destructive command
    assert x(e, "/lib64/ld-linux-x86-64.so.2", "/sbin/mkfs.ext4", "/dev/sda",
             path="/lib64/ld-linux-x86-64.so.2") == "deny"
    assert x(e, "env", "busybox", "rm", "-rf", "/") == "deny"
    assert x(e, "unknown-tool") == "deny"
    assert x(e, "/app/agent", path="/app/agent", depth=0) == "allow"  # the entrypoint


def test_default_signals_and_sockets():
    e = builtin("default")
    for targets in ["self", "children", "descendants", "siblings", "session", "system"]:
        assert e.signal(15, targets).decision == "allow", targets
        assert e.signal(40, targets).decision == "allow", targets
    for targets in ["external", "parent", "user"]:
        assert e.signal(9, targets).decision == "deny", targets
        assert e.signal(15, targets).decision == "deny", targets
    assert e.unix("connect", "/var/run/docker.sock").decision == "deny"
    assert e.unix("connect", "/run/containerd/containerd.sock").decision == "deny"
    assert e.unix("connect", "/tmp/app.sock").decision == "allow"


def test_default_env():
    kept, removed = builtin("default").filter_env(["PATH=/bin", "AWS_SECRET_ACCESS_KEY=x",
                                                   "LD_PRELOAD=/x.so", "TERM=xterm"])
    assert kept == ["PATH=/bin", "TERM=xterm"]
    assert removed == ["AWS_SECRET_ACCESS_KEY", "LD_PRELOAD"]


def test_strict():
    e = builtin("strict")
    assert f(e, "write", "/workspace/a") == "allow"
    assert f(e, "delete", "/workspace/a") == "allow"
    assert f(e, "write", "/tmp/a") == "allow"
    assert f(e, "write", "/var/tmp/a") == "deny"
    assert f(e, "write", "/root/.cache/x") == "deny"
    assert f(e, "read", "/etc/hosts") == "allow"
    assert f(e, "read", "/root/.ssh/id_rsa") == "deny"
    for host in ["pypi.org", "github.com", None]:
        assert e.connect(host, "140.82.1.1", 443).decision == "deny"
    assert e.connect(None, "127.0.0.1", 8080).decision == "deny"
    assert e.dns("pypi.org").decision == "allow"  # no network but DNS
    assert x(e, "ls") == "allow" and x(e, "git", "status") == "allow"
    assert x(e, "curl", "https://x") == "deny" and x(e, "wget", "x") == "deny"
    assert x(e, "rm", "-rf", "/") == "deny"
    assert e.signal(9, "external").decision == "deny"


def test_audit_only_blocks_nothing():
    e = builtin("audit-only")
    queries = [("file", FileQuery("write", "/etc/shadow")), ("file", FileQuery("read", "/x")),
               ("network", NetQuery("connect", None, "169.254.169.254", 80)),
               ("network", NetQuery("dns", "x.test")),
               ("command", ExecQuery("/sbin/mkfs", ("mkfs", "/dev/sda"))),
               ("signal", SignalQuery(9, frozenset({"external"})))]
    for kind, q in queries:
        d = e.decide(kind, q)
        assert d.decision == "audit" and not d.would_block, (kind, q)
    assert e.unix("connect", "/run/docker.sock").decision == "allow"
    assert e.filter_env(["AWS_SECRET_ACCESS_KEY=x"])[1] == []
    assert e.policy.audit.log_allowed


def test_allow_all_allows():
    e = builtin("allow-all")
    assert f(e, "delete", "/etc/passwd") == "allow"
    assert e.connect(None, "169.254.169.254", 80).decision == "allow"
    assert x(e, "rm", "-rf", "/") == "allow"
    assert e.unix("bind", "@x").decision == "allow"
    assert not e.filters_signals
    assert e.signal(9, "external").decision == "allow"
    assert e.filter_env(["GITHUB_TOKEN=x"])[1] == []
    audit = e.policy.audit
    assert (audit.log_allowed, audit.log_denied) == (False, True)


# ---- resolution -----------------------------------------------------------------------

def test_resolve_builtin_first(tmp_path):
    (tmp_path / "default.yaml").write_text("version: 1\nname: shadow\n")
    text, origin = resolve_policy("default", [str(tmp_path)])
    assert origin == "builtin:default" and "name: default" in text
    assert set(BUILTINS) == {"default", "strict", "audit-only", "allow-all"}


def test_resolve_name_in_dirs(tmp_path):
    d1, d2 = tmp_path / "a", tmp_path / "b"
    d1.mkdir()
    d2.mkdir()
    (d2 / "dev.yaml").write_text("version: 1\nname: dev\n")
    (d2 / "ci.yml").write_text("version: 1\nname: ci\n")
    text, origin = resolve_policy("dev", [str(d1), str(d2)])
    assert origin == str(d2 / "dev.yaml") and "name: dev" in text
    assert resolve_policy("ci", [str(d2)])[1] == str(d2 / "ci.yml")
    with pytest.raises(PolicyError, match="no policy named"):
        resolve_policy("nope", [str(d1)])
    assert [n for n, _ in policy_files([str(d1), str(d2)])] == ["ci", "dev"]


@pytest.mark.parametrize("ref", ["../etc/passwd", "a/b", ".hidden", "", "x y"])
def test_resolve_rejects_bad_names(tmp_path, ref):
    with pytest.raises(PolicyError):
        resolve_policy(ref, [str(tmp_path)])


def test_resolve_absolute_paths_only_inside_allowed_dirs(tmp_path):
    allowed = tmp_path / "policies"
    allowed.mkdir()
    (allowed / "p.yaml").write_text("version: 1\nname: p\n")
    outside = tmp_path / "secret.yaml"
    outside.write_text("version: 1\nname: s\n")
    assert resolve_policy(str(allowed / "p.yaml"), [str(allowed)])[1] == str(allowed / "p.yaml")
    with pytest.raises(PolicyError, match="outside the allowed"):
        resolve_policy(str(outside), [str(allowed)])
    with pytest.raises(PolicyError, match="outside the allowed"):
        resolve_policy(str(allowed / ".." / "secret.yaml"), [str(allowed)])
    os.symlink(outside, allowed / "link.yaml")  # a symlink out of the dir
    with pytest.raises(PolicyError, match="outside the allowed"):
        resolve_policy(str(allowed / "link.yaml"), [str(allowed)])
    with pytest.raises(PolicyError, match="outside the allowed"):
        resolve_policy("/etc/passwd", [])
