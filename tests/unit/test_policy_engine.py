"""Engine.decide: matching semantics per kind (POLICY.md "Matching", "Decisions")."""

import textwrap

import pytest

from agentsh_runtime.policy.engine import (
    Decision,
    Engine,
    ExecQuery,
    FileQuery,
    NetQuery,
    SignalQuery,
    UnixQuery,
    stricter,
)
from agentsh_runtime.policy.errors import PolicyError
from agentsh_runtime.policy.load import loads

VARS = {"HOME": "/home/u", "PROJECT_ROOT": "/workspace", "GIT_ROOT": "/workspace"}


def engine(body: str, variables=VARS, **kw) -> Engine:
    return Engine(loads("version: 1\nname: t\n" + textwrap.dedent(body)), variables, **kw)


def dec(e: Engine, kind: str, q) -> tuple[str, str]:
    d = e.decide(kind, q)
    return d.decision, d.rule


# ---- files ----------------------------------------------------------------------------

FILES = engine("""\
    file_rules:
      - {name: secrets, paths: ["${HOME}/.ssh/**", "**/.env"], operations: ["*"], decision: deny}
      - {name: ws-delete, paths: ["${PROJECT_ROOT}/**"], operations: [delete, rmdir],
         decision: approve, timeout: 2m, message: ask}
      - {name: ws, paths: ["${PROJECT_ROOT}", "${PROJECT_ROOT}/**"], operations: ["*"],
         decision: allow}
      - {name: etc-write, paths: ["/etc/**"], operations: [write, create], decision: redirect,
         redirect_to: /workspace/.scratch, preserve_tree: true}
      - {name: var-write, paths: ["/var/log/*"], operations: [write], decision: redirect,
         redirect_to: /tmp/redir/}
      - {name: trash, paths: ["/data/**"], operations: [delete], decision: soft_delete}
      - {name: audit-opt, paths: ["/opt/**"], operations: [], decision: audit}
      - {name: shadow, paths: [/etc/shadow], operations: [read], decision: deny}
""")


@pytest.mark.parametrize("op,path,expected", [
    ("read", "/home/u/.ssh/id_rsa", ("deny", "secrets")),
    ("read", "/workspace/.env", ("deny", "secrets")),  # first match wins over ws
    ("write", "/workspace/src/a.py", ("allow", "ws")),
    ("delete", "/workspace/src/a.py", ("approve", "ws-delete")),
    ("delete", "/workspace", ("allow", "ws")),  # /workspace/** does not match /workspace
    ("mkdir", "/workspace", ("allow", "ws")),
    ("write", "/etc/passwd", ("redirect", "etc-write")),
    ("delete", "/data/x", ("soft_delete", "trash")),
    ("chown", "/opt/tool/x", ("audit", "audit-opt")),  # empty operations: every operation
    ("read", "/etc/shadow", ("deny", "shadow")),
    # defaults: read-like ops allowed, the rest denied
    ("read", "/usr/lib/libc.so", ("allow", "default-allow-reads")),
    ("open", "/x", ("allow", "default-allow-reads")),
    ("stat", "/x", ("allow", "default-allow-reads")),
    ("list", "/x", ("allow", "default-allow-reads")),
    ("readlink", "/x", ("allow", "default-allow-reads")),
    ("access", "/x", ("allow", "default-allow-reads")),
    ("write", "/usr/lib/libc.so", ("deny", "default-deny-files")),
    ("create", "/x", ("deny", "default-deny-files")),
    ("chmod", "/x", ("deny", "default-deny-files")),
    ("mknod", "/x", ("deny", "default-deny-files")),
    ("symlink", "/x", ("deny", "default-deny-files")),
    ("WRITE", "/workspace/a", ("allow", "ws")),  # operations are lower-cased
])
def test_file_rules(op, path, expected):
    assert dec(FILES, "file", FileQuery(op, path)) == expected


def test_file_redirect_targets():
    d = FILES.decide("file", FileQuery("write", "/etc/app/conf.yaml"))
    assert d.redirect == "/workspace/.scratch/etc/app/conf.yaml"  # preserve_tree
    d = FILES.decide("file", FileQuery("write", "/var/log/syslog"))
    assert d.redirect == "/tmp/redir/syslog"  # basename
    d = FILES.decide("file", FileQuery("delete", "/workspace/a"))
    assert (d.timeout, d.message, d.spec.index) == (120.0, "ask", 1)


@pytest.mark.parametrize("op,src,dst,expected", [
    ("rename", "/workspace/a", "/workspace/b", ("allow", "ws", None)),
    ("rename", "/workspace/a", "/usr/bin/ls", ("deny", "default-deny-files", "path2")),
    ("rename", "/usr/bin/ls", "/workspace/ls", ("deny", "default-deny-files", None)),
    ("rename", "/workspace/x", "/home/u/.ssh/authorized_keys", ("deny", "secrets", "path2")),
    ("link", "/home/u/.ssh/id_rsa", "/workspace/k", ("deny", "secrets", None)),
    ("rename", "/workspace/a", "/etc/x", ("redirect", "etc-write", "path2")),  # stricter
])
def test_rename_and_link_check_both_ends(op, src, dst, expected):
    e = engine("""\
        file_rules:
          - {name: secrets, paths: ["${HOME}/.ssh/**"], decision: deny}
          - {name: ws, paths: ["/workspace/**"], decision: allow}
          - {name: etc-write, paths: ["/etc/**"], decision: redirect, redirect_to: /tmp/r}
    """)
    d = e.decide("file", FileQuery(op, src, dst))
    assert (d.decision, d.rule, d.detail) == expected


# ---- variables -------------------------------------------------------------------------

def test_variables_expand_in_paths_and_domains():
    e = engine("""\
        file_rules:
          - {name: a, paths: ["${PROJECT_ROOT}/**", "${DATA:-/srv/data}/**"], decision: deny}
        network_rules:
          - {name: n, domains: ["${API_HOST}", "*.${ZONE:-Example.COM}"], decision: allow}
    """, {"PROJECT_ROOT": "/p", "API_HOST": "API.internal."})
    assert dec(e, "file", FileQuery("write", "/p/x")) == ("deny", "a")
    assert dec(e, "file", FileQuery("write", "/srv/data/x")) == ("deny", "a")
    assert dec(e, "network", NetQuery("connect", "api.internal", None, 1)) == ("allow", "n")
    assert dec(e, "network", NetQuery("connect", "x.example.com", None, 1)) == ("allow", "n")


def test_variable_values_are_literal_not_globs():
    e = engine("file_rules:\n  - {name: a, paths: ['${PROJECT_ROOT}/**'], decision: deny}\n",
               {"PROJECT_ROOT": "/w[1]*"})
    assert dec(e, "file", FileQuery("write", "/w[1]*/x"))[0] == "deny"
    assert dec(e, "file", FileQuery("write", "/w1x/x")) == ("deny", "default-deny-files")
    assert dec(e, "file", FileQuery("read", "/w1x/x")) == ("allow", "default-allow-reads")


@pytest.mark.parametrize("value", [None, ""])
def test_undefined_variable_is_an_error(value):
    variables = {} if value is None else {"HOME": value}
    with pytest.raises(PolicyError) as info:
        engine("file_rules:\n  - {paths: [/a, '${HOME}/.ssh/**'], decision: deny}\n", variables)
    assert info.value.field == "file_rules[0].paths[1]"
    assert "undefined variable ${HOME}" in info.value.reason


def test_project_root_slash_warns_and_collapses():
    e = engine("file_rules:\n  - {name: ws, paths: ['${PROJECT_ROOT}/**'], decision: allow}\n",
               {"PROJECT_ROOT": "/"})
    assert any("PROJECT_ROOT is '/'" in w for w in e.warnings)
    assert dec(e, "file", FileQuery("write", "/etc/passwd")) == ("allow", "ws")
    e = engine("file_rules:\n  - {name: ws, paths: ['${PROJECT_ROOT}/**'], decision: allow}\n",
               {"PROJECT_ROOT": "/w/"})
    assert not e.warnings
    assert dec(e, "file", FileQuery("write", "/w/x")) == ("allow", "ws")


# ---- network ---------------------------------------------------------------------------

NET = engine("""\
    network_rules:
      - {name: meta, cidrs: [169.254.169.254/32], decision: deny}
      - {name: gh, domains: [github.com, "*.github.com"], ports: [443, 22], decision: allow}
      - {name: private, cidrs: [10.0.0.0/8, "fc00::/7"], decision: deny}
      - {name: any-port-lan, cidrs: [192.168.1.0/24], ports: [0], decision: allow}
      - {name: dns-block, domains: ["*.evil.test"], decision: deny}
      - {name: https-ask, ports: [443], decision: approve, timeout: 1m}
      - {name: and-both, domains: [db.internal], cidrs: [172.16.0.0/12], ports: [5432],
         decision: allow}
""")


@pytest.mark.parametrize("q,expected", [
    (NetQuery("connect", "github.com", "140.82.1.1", 443), ("allow", "gh")),
    (NetQuery("connect", "API.GitHub.com.", "140.82.1.1", 22), ("allow", "gh")),
    (NetQuery("connect", "a.b.github.com", "140.82.1.1", 443), ("approve", "https-ask")),
    (NetQuery("connect", "github.com", "140.82.1.1", 80), ("deny", "default-deny-network")),
    (NetQuery("connect", "github.com", "169.254.169.254", 443), ("deny", "meta")),
    (NetQuery("connect", None, "10.1.2.3", 443), ("deny", "private")),
    (NetQuery("connect", None, "::ffff:10.1.2.3", 443), ("deny", "private")),  # v4-mapped
    (NetQuery("connect", None, "fd12::1", 80), ("deny", "private")),
    (NetQuery("connect", None, "192.168.1.9", 6553), ("allow", "any-port-lan")),  # ports: [0]
    (NetQuery("connect", None, "192.168.1.9", 1), ("allow", "any-port-lan")),
    (NetQuery("connect", None, "192.168.2.9", 443), ("approve", "https-ask")),  # no selector
    (NetQuery("connect", None, "8.8.8.8", 80), ("deny", "default-deny-network")),
    (NetQuery("connect", "db.internal", "172.20.0.5", 5432), ("allow", "and-both")),
    (NetQuery("connect", "db.internal", "8.8.8.8", 5432), ("deny", "default-deny-network")),
    (NetQuery("connect", None, "172.20.0.5", 5432), ("deny", "default-deny-network")),
    (NetQuery("connect", None, "not-an-ip", 5432), ("deny", "invalid-query")),
    # DNS: refused only by a rule that matches it explicitly; otherwise forwarded
    (NetQuery("dns", "x.evil.test"), ("deny", "dns-block")),
    (NetQuery("dns", "github.com"), ("allow", "default-dns-forward")),
    (NetQuery("dns", "example.org"), ("allow", "default-dns-forward")),
])
def test_network_rules(q, expected):
    assert dec(NET, "network", q) == expected


def test_network_domain_none_does_not_match_domain_rules():
    e = engine("network_rules:\n  - {name: n, domains: ['**'], decision: allow}\n")
    assert dec(e, "network", NetQuery("connect", None, "1.2.3.4", 443))[0] == "deny"
    assert dec(e, "network", NetQuery("connect", "x.y", "1.2.3.4", 443))[0] == "allow"


def test_redirect_rules():
    e = engine("""\
        dns_redirects:
          - {name: llm, match: '^api\\.openai\\.com$', resolve_to: 10.1.2.3}
        connect_redirects:
          - {name: gw, match: '^api\\.openai\\.com:443$', redirect_to: 'gw.internal:8443',
             tls: {mode: rewrite_sni, sni: gw.internal}}
          - {name: sock, match: ':6379$', redirect_to_unix: /run/redis.sock}
    """)
    assert e.dns_redirect("API.openai.com.").name == "llm"
    assert e.dns_redirect("openai.com") is None
    r = e.connect_redirect("api.openai.com", 443)
    assert (r.name, r.redirect_to, r.tls_mode, r.tls_sni) == ("gw", "gw.internal:8443",
                                                              "rewrite_sni", "gw.internal")
    assert e.connect_redirect("cache", 6379).redirect_to_unix == "/run/redis.sock"
    assert e.connect_redirect("api.openai.com", 80) is None


# ---- commands --------------------------------------------------------------------------

CMDS = engine("""\
    transparent_commands: {add: [myrun]}
    command_rules:
      - {name: no-rm-rf, commands: [rm], args_patterns: ['(^|\\s)-[a-zA-Z]*r[a-zA-Z]*f'],
         decision: deny}
      - {name: no-mkfs, commands: ["mkfs*", "/sbin/**"], decision: deny}
      - {name: curl-redirect, commands: [curl], decision: redirect,
         redirect_to: {command: /usr/bin/safe-fetch, args: [--audit], args_append: [--end]}}
      - {name: nested-push, commands: [git], args_patterns: [push], context: [nested],
         decision: approve}
      - {name: deep, commands: [make], context: {min_depth: 2, max_depth: 3}, decision: audit}
      - {name: tools, commands: [LS, cat, git, make, sh, dash, busybox, env, nice, nohup, timeout,
         time, xargs, sudo, strace, "ld-linux*", "ld-*.so*", myrun, rm, python3, "/opt/bin/*"],
         decision: allow}
""")


@pytest.mark.parametrize("path,argv,resolved,depth,expected", [
    ("/bin/ls", ("ls", "-l"), None, 1, ("allow", "tools")),  # basenames case-insensitive
    ("/bin/LS", ("LS",), None, 1, ("allow", "tools")),
    ("/usr/bin/rm", ("rm", "-rf", "x"), None, 1, ("deny", "no-rm-rf")),
    ("/usr/bin/rm", ("rm", "-r", "x"), None, 1, ("allow", "tools")),
    ("/usr/bin/rm", ("rm", "x", "-fr"), None, 1, ("allow", "tools")),
    ("/usr/bin/vim", ("vim",), None, 1, ("deny", "default-deny-commands")),
    ("/opt/bin/tool", ("tool",), None, 1, ("allow", "tools")),  # full-path glob
    ("/opt/bin/sub/tool", ("tool",), None, 1, ("deny", "default-deny-commands")),
    ("/sbin/mkfs.ext4", ("mkfs.ext4", "/dev/sda"), None, 1, ("deny", "no-mkfs")),
    ("/usr/bin/curl", ("curl", "x"), None, 1, ("redirect", "curl-redirect")),
    # context
    ("/usr/bin/git", ("git", "push"), None, 0, ("allow", "tools")),
    ("/usr/bin/git", ("git", "push"), None, 1, ("approve", "nested-push")),
    ("/usr/bin/git", ("git", "status"), None, 1, ("allow", "tools")),
    ("/usr/bin/make", ("make",), None, 1, ("allow", "tools")),
    ("/usr/bin/make", ("make",), None, 2, ("audit", "deep")),
    ("/usr/bin/make", ("make",), None, 3, ("audit", "deep")),
    ("/usr/bin/make", ("make",), None, 4, ("allow", "tools")),
])
def test_command_rules(path, argv, resolved, depth, expected):
    assert dec(CMDS, "command", ExecQuery(path, argv, resolved, depth)) == expected


def test_command_redirect_carries_the_target():
    d = CMDS.decide("command", ExecQuery("/usr/bin/curl", ("curl", "x"), None, 1))
    assert d.redirect.argv() == ["/usr/bin/safe-fetch", "--audit", "--end"]
    assert d.redirect.argv(("curl", "x")) == ["/usr/bin/safe-fetch", "--audit", "x", "--end"]


@pytest.mark.parametrize("path,argv,resolved,expected,detail", [
    # argv[0] cannot loosen: ls's name on rm's binary is still rm (no rm -rf)
    ("/usr/bin/rm", ("ls", "-rf", "/x"), None, ("deny", "no-rm-rf"), None),
    # argv[0] counts when a rule names it (it can only tighten) ...
    ("/opt/bin/tool", ("rm", "-rf", "/"), None, ("deny", "no-rm-rf"), "argv0"),
    # ... and does not deny by default when none does (a full-path rule still allows)
    ("/opt/bin/tool", ("tool", "x"), None, ("allow", "tools"), None),
    # nor can the path given: the resolved path counts
    ("/tmp/innocent", ("cat", "x"), "/usr/sbin/mkfs", ("deny", "no-mkfs"), "resolved"),
    # multi-call binaries: the applet from argv[0] or after `busybox`
    ("/bin/busybox", ("busybox", "rm", "-rf", "/"), None, ("deny", "no-rm-rf"), "payload"),
    ("/bin/rm", ("rm", "-rf", "/"), "/bin/busybox", ("deny", "no-rm-rf"), None),
    ("/bin/busybox", ("busybox", "ls"), None, ("allow", "tools"), None),
    ("/bin/busybox", ("vi", "x"), None, ("deny", "default-deny-commands"), "payload"),
    ("/bin/vi", ("vi", "x"), "/bin/busybox", ("deny", "default-deny-commands"), None),
    ("/bin/busybox", ("busybox", "vi"), None, ("deny", "default-deny-commands"), "payload"),
    # wrappers
    ("/usr/bin/env", ("env", "-i", "A=1", "rm", "-rf", "/"), None, ("deny", "no-rm-rf"),
     "payload"),
    ("/usr/bin/env", ("env", "-S", "rm -rf /"), None, ("deny", "no-rm-rf"), "payload"),
    ("/usr/bin/nice", ("nice", "-n", "5", "mkfs", "/dev/x"), None, ("deny", "no-mkfs"),
     "payload"),
    ("/usr/bin/timeout", ("timeout", "-s", "KILL", "5", "curl", "x"), None,
     ("redirect", "curl-redirect"), "payload"),
    ("/usr/bin/nohup", ("nohup", "ls"), None, ("allow", "tools"), None),
    ("/usr/bin/time", ("time", "-f", "%e", "vim"), None, ("deny", "default-deny-commands"),
     "payload"),
    ("/usr/bin/xargs", ("xargs", "-0", "-n1", "rm", "-rf"), None, ("deny", "no-rm-rf"),
     "payload"),
    ("/usr/bin/sudo", ("sudo", "-u", "root", "vim"), None, ("deny", "default-deny-commands"),
     "payload"),
    ("/usr/bin/strace", ("strace", "-f", "-o", "/tmp/t", "ls"), None, ("allow", "tools"), None),
    ("/usr/bin/myrun", ("myrun", "--fast", "vim"), None, ("deny", "default-deny-commands"),
     "payload"),  # transparent_commands.add
    # nested wrappers
    ("/usr/bin/env", ("env", "nice", "timeout", "5", "busybox", "rm", "-rf", "/"), None,
     ("deny", "no-rm-rf"), "payload"),
    # the dynamic loader
    ("/lib64/ld-linux-x86-64.so.2", ("/lib64/ld-linux-x86-64.so.2", "/sbin/mkfs.ext4", "/d"),
     None, ("deny", "no-mkfs"), "payload"),
    ("/lib64/ld-linux-x86-64.so.2", ("ld", "--library-path", "/l", "/bin/ls"),
     "/lib/x86_64-linux-gnu/ld-2.31.so", ("allow", "tools"), None),
    # a wrapper known by its path, whatever argv[0] says
    ("/usr/bin/env", ("ls", "rm", "-rf", "/"), None, ("deny", "no-rm-rf"), "payload"),
    # the wrapper itself is checked too: strictest wins
    ("/usr/bin/stdbuf", ("stdbuf", "-o0", "ls"), None, ("deny", "default-deny-commands"), None),
])
def test_command_candidates_strictest_wins(path, argv, resolved, expected, detail):
    d = CMDS.decide("command", ExecQuery(path, argv, resolved, 1))
    assert (d.decision, d.rule) == expected
    assert (d.detail or "").split(" ")[0] == (detail or "")


def test_the_resolved_path_must_be_allowed_too():
    e = engine("command_rules:\n  - {name: sh, commands: [sh], decision: allow}\n")
    q = ExecQuery("/bin/sh", ("sh", "-c", "true"), "/usr/bin/dash", 1)
    assert dec(e, "command", q) == ("deny", "default-deny-commands")
    assert e.decide("command", q).detail == "resolved /usr/bin/dash"
    e = engine("command_rules:\n  - {name: sh, commands: [sh, dash], decision: allow}\n")
    assert dec(e, "command", q) == ("allow", "sh")


def test_interpreter_is_another_candidate():
    # a script: the caller passes the #! interpreter as an extra exec
    q = ExecQuery("/workspace/run.sh", ("/workspace/run.sh",), None, 1,
                  (("/bin/sh", ("/bin/sh", "/workspace/run.sh")),))
    assert dec(CMDS, "command", q) == ("deny", "default-deny-commands")  # run.sh itself
    e = engine("command_rules:\n  - {name: all-but-perl, commands: [perl], decision: deny}\n"
               "  - {name: rest, decision: allow}\n")
    q = ExecQuery("/w/x.pl", ("/w/x.pl",), None, 1, (("/usr/bin/perl", ("/usr/bin/perl",
                                                                         "/w/x.pl")),))
    d = e.decide("command", q)
    assert (d.decision, d.rule, d.detail) == ("deny", "all-but-perl", "interpreter /usr/bin/perl")
    q = ExecQuery("/w/x", ("/w/x",), None, 1,
                  (("/usr/bin/env", ("/usr/bin/env", "perl", "/w/x")),))
    assert dec(e, "command", q) == ("deny", "all-but-perl")


def test_an_exec_without_a_path_is_denied():
    e = engine("command_rules:\n  - {name: all, decision: allow}\n")
    # argv[0] alone only tightens: with nothing that runs to check, deny
    assert dec(e, "command", ExecQuery("", ("ls",))) == ("deny", "invalid-query")
    assert dec(e, "command", ExecQuery("", ())) == ("deny", "invalid-query")


def test_wrappers_nesting_too_deep_is_denied():
    e = engine("command_rules:\n  - {name: all, decision: allow}\n")
    argv = ("env",) * 12 + ("ls",)
    assert dec(e, "command", ExecQuery("/usr/bin/env", argv, None, 1)) == (
        "deny", "wrapper-depth-exceeded")
    argv = ("env",) * 5 + ("ls",)
    assert dec(e, "command", ExecQuery("/usr/bin/env", argv, None, 1)) == ("allow", "all")


def test_strictness_order():
    order = ["allow", "audit", "approve", "redirect", "deny"]
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            assert stricter(Decision(a, "x"), Decision(b, "y")).decision == b
            assert stricter(Decision(b, "y"), Decision(a, "x")).decision == b
    # redirect = soft_delete: the first one stays
    assert stricter(Decision("redirect", "a"), Decision("soft_delete", "b")).rule == "a"


# ---- unix sockets ----------------------------------------------------------------------

def test_unix_socket_rules():
    e = engine("""\
        unix_socket_rules:
          - {name: docker, paths: [/run/docker.sock], decision: deny}
          - {name: abstract, paths: ["@dbus-*"], operations: [connect], decision: approve}
          - {name: tmp, paths: ["/tmp/*.sock"], operations: [bind, listen], decision: allow}
    """)
    assert dec(e, "unix_socket", UnixQuery("connect", "/run/docker.sock")) == ("deny", "docker")
    assert dec(e, "unix_socket", UnixQuery("connect", "@dbus-x")) == ("approve", "abstract")
    assert dec(e, "unix_socket", UnixQuery("bind", "@dbus-x")) == ("deny", "default-deny-unix")
    assert dec(e, "unix_socket", UnixQuery("bind", "/tmp/a.sock")) == ("allow", "tmp")
    assert dec(e, "unix_socket", UnixQuery("connect", "/tmp/a.sock")) == (
        "deny", "default-deny-unix")
    assert dec(e, "unix_socket", UnixQuery("bind", "/tmp/d/a.sock")) == (
        "deny", "default-deny-unix")


# ---- signals ---------------------------------------------------------------------------

SIGS = engine("""\
    signal_rules:
      - {name: kill-children-softly, signals: [SIGKILL], target: {type: children},
         decision: redirect, redirect_to: TERM}
      - {name: own-tree, signals: ["@all"], target: {type: descendants}, decision: allow}
      - {name: self, signals: ["@all", 64], target: {type: self}, decision: allow}
      - {name: reload-workers, signals: ["@reload"], target: {type: process, pattern: "worker*"},
         decision: audit}
      - {name: range, signals: [USR1], target: {type: pid_range, min: 100, max: 200},
         decision: absorb}
      - {name: jobs, signals: ["@job"], target: {type: session}, decision: allow}
      - {name: protect-host, signals: ["@fatal"], target: {type: external}, decision: deny,
         fallback: audit}
      - {name: rt, signals: [34, RTMIN+1], decision: allow}
""")


@pytest.mark.parametrize("sig,targets,comm,pid,expected", [
    (9, {"children"}, None, None, ("redirect", "kill-children-softly")),
    (15, {"children"}, None, None, ("allow", "own-tree")),  # children are descendants
    (9, {"descendants"}, None, None, ("allow", "own-tree")),
    (64, {"self"}, None, None, ("allow", "self")),
    (64, {"children"}, None, None, ("deny", "default-deny-signals")),
    (1, {"siblings"}, "worker-3", None, ("audit", "reload-workers")),
    (1, {"siblings"}, "nginx", None, ("deny", "default-deny-signals")),
    (10, {"external"}, "x", 150, ("absorb", "range")),
    (10, {"external"}, "x", 250, ("deny", "default-deny-signals")),
    (19, {"siblings"}, None, None, ("allow", "jobs")),  # siblings are in the session
    (19, {"system"}, None, None, ("allow", "jobs")),  # the container's pid 1 too
    (19, {"parent"}, None, None, ("deny", "default-deny-signals")),
    (9, {"parent"}, None, None, ("deny", "protect-host")),  # the parent is external
    (15, {"user"}, None, None, ("deny", "protect-host")),
    (34, {"external"}, None, None, ("allow", "rt")),  # no target: any
    (35, {"external"}, None, None, ("allow", "rt")),
    (36, {"self"}, None, None, ("deny", "default-deny-signals")),
    (0, {"descendants"}, None, None, ("allow", "own-tree")),  # a probe: by target alone
    (65, {"self"}, None, None, ("deny", "invalid-query")),
])
def test_signal_rules(sig, targets, comm, pid, expected):
    assert dec(SIGS, "signal", SignalQuery(sig, frozenset(targets), comm, pid)) == expected


def test_signal_redirect_target_and_fallback():
    d = SIGS.decide("signal", SignalQuery(9, frozenset({"children"})))
    assert d.redirect == 15
    d = SIGS.decide("signal", SignalQuery(9, frozenset({"external"})))
    assert d.spec.fallback == "audit"


def test_no_signal_rules_means_not_filtered():
    e = engine("")
    assert not e.filters_signals
    assert dec(e, "signal", SignalQuery(9, frozenset({"external"}))) == (
        "allow", "signals-not-filtered")
    assert SIGS.filters_signals


# ---- mode, cache, API ------------------------------------------------------------------

def test_audit_mode_reports_what_enforce_would_do():
    e = engine("file_rules:\n  - {name: no, paths: ['/x'], decision: deny}\n"
               "  - {name: ask, paths: ['/y'], decision: approve}\n", mode="audit")
    d = e.decide("file", FileQuery("write", "/x"))
    assert d.decision == "deny" and d.would_block and not e.blocks(d)
    d = e.decide("file", FileQuery("write", "/y"))
    assert d.would_block and not e.blocks(d)
    enforce = engine("file_rules:\n  - {name: no, paths: ['/x'], decision: deny}\n")
    assert enforce.blocks(enforce.decide("file", FileQuery("write", "/x")))
    assert not enforce.blocks(enforce.decide("file", FileQuery("read", "/z")))
    with pytest.raises(PolicyError):
        engine("", mode="permissive")


def test_cache_is_bounded_lru_keyed_by_the_exact_query():
    e = engine("file_rules:\n  - {name: a, paths: ['/a/**'], decision: deny}\n", cache_size=3)
    qs = [FileQuery("write", f"/a/{i}") for i in range(5)]
    for q in qs:
        e.decide("file", q)
    assert len(e._cache) == 3
    assert ("file", qs[0]) not in e._cache and ("file", qs[4]) in e._cache
    e.decide("file", qs[2])  # a hit moves to the end
    e.decide("file", FileQuery("write", "/a/new"))
    assert ("file", qs[2]) in e._cache and ("file", qs[3]) not in e._cache
    d1 = e.decide("file", FileQuery("write", "/a/x"))
    assert e.decide("file", FileQuery("write", "/a/x")) is d1
    # unhashable queries are evaluated, not cached
    assert e.decide("command", ExecQuery("/bin/ls", ["ls"])).decision == "deny"


def test_convenience_methods_and_kind_aliases():
    e = engine("""\
        file_rules: [{name: f, paths: ['/a'], decision: deny}]
        network_rules: [{name: n, ports: [443], decision: allow}]
        command_rules: [{name: c, commands: [ls], decision: allow}]
        unix_socket_rules: [{name: u, paths: ['@x'], decision: allow}]
        signal_rules: [{name: s, signals: [KILL], target: {type: self}, decision: allow}]
    """)
    assert e.file("write", "/a").rule == "f"
    assert e.connect("x.com", "1.1.1.1", 443).rule == "n"
    assert e.dns("x.com").rule == "default-dns-forward"
    assert e.exec("/bin/ls", ["ls"]).rule == "c"
    assert e.unix("connect", "@x").rule == "u"
    assert e.signal(9, "self").rule == "s"
    assert e.decide("exec", ExecQuery("/bin/ls", ("ls",))).rule == "c"
    assert e.decide("unix", UnixQuery("connect", "@x")).rule == "u"
    with pytest.raises(ValueError):
        e.decide("registry", None)
