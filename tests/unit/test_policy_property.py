"""Property tests: random policies and queries never crash; allow-all allows and a
deny-all policy denies everything, of every kind; globs agree with a reference."""

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentsh_runtime.policy.engine import (
    Engine,
    EnvQuery,
    ExecQuery,
    FileQuery,
    NetQuery,
    SignalQuery,
    UnixQuery,
)
from agentsh_runtime.policy.errors import PolicyError
from agentsh_runtime.policy.glob import Glob
from agentsh_runtime.policy.load import loads, validate
from agentsh_runtime.policy.model import FILE_OPS, STRICTNESS, UNIX_OPS
from agentsh_runtime.policy.resolve import builtin_text

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
VARS = {"HOME": "/root", "PROJECT_ROOT": "/workspace", "GIT_ROOT": "/workspace"}
TARGETS = ["self", "children", "descendants", "siblings", "session", "parent", "external",
           "user", "system", "process", "pid_range", "bogus"]

# ---- strategies -----------------------------------------------------------------------

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
path_seg = st.sampled_from(["a", "b", "ws", ".env", "x.py", "..", "é", "a b", "*", "\n", "ssh"])
paths = st.lists(path_seg, max_size=5).map(lambda parts: "/" + "/".join(parts))
glob_tok = st.sampled_from(["a", "b", "/", ".", "*", "**", "?", "[ab]", "[!a]", "[a-c]",
                            "{a,b}", "{a/b,}", "\\*", "${HOME}", "${X:-/x}", "é", "["])
globs = st.lists(glob_tok, min_size=1, max_size=6).map("".join)
domains = st.lists(st.sampled_from(["a", "b", "github", "com", "*", "**", "x-y"]), min_size=1,
                   max_size=4).map(".".join)
decisions = st.sampled_from(["allow", "deny", "audit", "approve", "redirect", "soft_delete",
                             "absorb", "Deny", "bogus"])
ops = st.lists(st.sampled_from(sorted(FILE_OPS | UNIX_OPS) + ["*", "READ", "bogus"]),
               max_size=3)
ports = st.lists(st.integers(min_value=-1, max_value=70000), max_size=3)
cidrs = st.lists(st.sampled_from(["10.0.0.0/8", "::1/128", "fc00::/7", "1.2.3.4", "bad/99",
                                  "::ffff:10.0.0.0/104"]), max_size=2)
signals = st.lists(st.one_of(st.integers(min_value=-1, max_value=66),
                             st.sampled_from(["KILL", "SIGTERM", "@all", "@fatal", "@job",
                                              "@reload", "@ignore", "RTMIN+1", "NOPE"])),
                   max_size=3)


def _rule(**fields):
    return st.fixed_dictionaries({}, optional=fields)


file_rule = _rule(name=text, paths=st.lists(globs, max_size=3), operations=ops,
                  decision=decisions, redirect_to=st.sampled_from(["/trash", "rel", "/t/"]),
                  preserve_tree=st.booleans(), timeout=st.sampled_from(["5m", "1h", "x", 0]),
                  message=text)
network_rule = _rule(name=text, domains=st.lists(domains, max_size=2), ports=ports,
                     cidrs=cidrs, decision=decisions)
command_rule = _rule(
    name=text, commands=st.lists(st.sampled_from(["ls", "rm", "/usr/bin/*", "py*", "[", "**",
                                                  "env", "busybox"]), max_size=3),
    args_patterns=st.lists(st.sampled_from(["-rf", "^x", "(a", "push.*", "\\s/$"]), max_size=2),
    decision=decisions, context=st.sampled_from([["direct"], ["nested"], {"min_depth": 1},
                                                 {"min_depth": 2, "max_depth": 1}, "bad"]),
    redirect_to=st.sampled_from([{"command": "/bin/true"}, {"args": []}]),
    env_allow=st.lists(st.sampled_from(["PATH", "A*"]), max_size=2))
unix_rule = _rule(name=text, paths=st.lists(st.sampled_from(["/run/*.sock", "@x*", "**"]),
                                            max_size=2), operations=ops, decision=decisions)
signal_rule = _rule(
    name=text, signals=signals, decision=decisions, redirect_to=st.sampled_from(["TERM", 99]),
    target=st.one_of(
        st.fixed_dictionaries({"type": st.sampled_from(TARGETS)},
                              optional={"pattern": st.sampled_from(["w*", "["]),
                                        "min": st.integers(-1, 5), "max": st.integers(-1, 9)})))

policy_docs = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 2, 0, "1"]), "name": st.sampled_from(["p", "", None])},
    optional={
        "file_rules": st.lists(file_rule, max_size=4),
        "network_rules": st.lists(network_rule, max_size=4),
        "command_rules": st.lists(command_rule, max_size=4),
        "unix_socket_rules": st.lists(unix_rule, max_size=3),
        "signal_rules": st.lists(signal_rule, max_size=3),
        "env_policy": st.fixed_dictionaries({}, optional={
            "allow": st.lists(st.sampled_from(["PATH", "*", "LC_*"]), max_size=2),
            "deny": st.lists(st.sampled_from(["*SECRET*", "X"]), max_size=2),
            "max_keys": st.integers(-1, 5)}),
        "package_rules": st.just([]),
        "bogus_key": st.just(1),
    })

# mostly-valid policies, so that engines get built and rules get matched
valid_file_rule = st.builds(
    lambda name, paths_, ops_, dec, redirect: {
        "name": name, "paths": paths_, "operations": ops_, "decision": dec,
        **({"redirect_to": redirect} if dec == "redirect" else {})},
    st.sampled_from(["f1", "f2", "f3"]), st.lists(globs, min_size=1, max_size=3),
    st.lists(st.sampled_from(sorted(FILE_OPS) + ["*"]), max_size=3),
    st.sampled_from(["allow", "deny", "audit", "approve", "redirect", "soft_delete"]),
    st.sampled_from(["/trash", "/t/"]))
valid_network_rule = st.fixed_dictionaries(
    {"name": st.just("n"), "decision": st.sampled_from(["allow", "deny", "audit", "approve"])},
    optional={"domains": st.lists(domains, min_size=1, max_size=2),
              "ports": st.lists(st.integers(0, 65535), max_size=2),
              "cidrs": st.lists(st.sampled_from(["10.0.0.0/8", "::1/128", "fc00::/7",
                                                 "1.2.3.4", "0.0.0.0/0"]), max_size=2)})
valid_command_rule = st.fixed_dictionaries(
    {"name": st.just("c"), "decision": st.sampled_from(["allow", "deny", "audit", "approve"])},
    optional={"commands": st.lists(st.sampled_from(["ls", "rm", "/usr/bin/*", "py*", "[", "**",
                                                    "env", "busybox", "/bin/*"]), max_size=3),
              "args_patterns": st.lists(st.sampled_from(["-rf", "^x", "push.*", "\\s/$"]),
                                        max_size=2),
              "context": st.sampled_from([["direct"], ["nested"], {"min_depth": 1},
                                          {"min_depth": 0, "max_depth": 2}])})
valid_unix_rule = st.fixed_dictionaries(
    {"name": st.just("u"), "paths": st.lists(st.sampled_from(["/run/*.sock", "@x*", "**"]),
                                             min_size=1, max_size=2),
     "decision": st.sampled_from(["allow", "deny", "approve"])},
    optional={"operations": st.lists(st.sampled_from(sorted(UNIX_OPS) + ["*"]), max_size=2)})
valid_signal_rule = st.fixed_dictionaries(
    {"name": st.just("s"),
     "signals": st.lists(st.one_of(st.integers(1, 64), st.sampled_from(
         ["KILL", "SIGTERM", "@all", "@fatal", "@job", "@reload", "@ignore"])), min_size=1,
         max_size=3),
     "decision": st.sampled_from(["allow", "deny", "audit", "approve", "absorb"])},
    optional={"target": st.one_of(
        st.fixed_dictionaries({"type": st.sampled_from(TARGETS[:9])}),
        st.just({"type": "process", "pattern": "w*"}),
        st.just({"type": "pid_range", "min": 2, "max": 9}))})
valid_policy_docs = st.fixed_dictionaries(
    {"version": st.just(1), "name": st.just("p")},
    optional={"file_rules": st.lists(valid_file_rule, max_size=5),
              "network_rules": st.lists(valid_network_rule, max_size=5),
              "command_rules": st.lists(valid_command_rule, max_size=5),
              "unix_socket_rules": st.lists(valid_unix_rule, max_size=3),
              "signal_rules": st.lists(valid_signal_rule, max_size=3),
              "env_policy": st.fixed_dictionaries({}, optional={
                  "allow": st.lists(st.sampled_from(["PATH", "*", "LC_*"]), max_size=2),
                  "deny": st.lists(st.sampled_from(["*SECRET*", "X"]), max_size=2)})})

file_q = st.builds(FileQuery, st.sampled_from(sorted(FILE_OPS) + ["WRITE", "bogus"]), paths,
                   st.one_of(st.none(), paths))
net_q = st.builds(NetQuery, st.sampled_from(["connect", "dns"]),
                  st.one_of(st.none(), domains),
                  st.one_of(st.none(), st.sampled_from(["10.1.2.3", "::1", "::ffff:10.0.0.1",
                                                        "8.8.8.8", "fd00::5", "nonsense"])),
                  st.integers(min_value=0, max_value=65535))
argv_word = st.sampled_from(["ls", "rm", "-rf", "/", "env", "busybox", "nice", "-n", "5",
                             "timeout", "sudo", "/lib64/ld-linux-x86-64.so.2", "xargs", "A=1",
                             "--", "-S", "rm -rf /", "python3", "", "é"])
exec_q = st.builds(ExecQuery, st.sampled_from(["/bin/ls", "/usr/bin/env", "/bin/busybox", "rm",
                                               "/opt/x", ""]),
                   st.lists(argv_word, max_size=8).map(tuple),
                   st.one_of(st.none(), st.sampled_from(["/usr/bin/dash", "/bin/busybox"])),
                   st.integers(min_value=-1, max_value=6),
                   st.lists(st.tuples(st.sampled_from(["/bin/sh", "/usr/bin/env"]),
                                      st.lists(argv_word, max_size=3).map(tuple)),
                            max_size=1).map(tuple))
unix_q = st.builds(UnixQuery, st.sampled_from(sorted(UNIX_OPS) + ["bogus"]),
                   st.one_of(paths, st.sampled_from(["@x1", "@", ""])))
signal_q = st.builds(SignalQuery, st.integers(min_value=-2, max_value=70),
                     st.frozensets(st.sampled_from(TARGETS), max_size=3),
                     st.one_of(st.none(), st.sampled_from(["worker1", "x"])),
                     st.one_of(st.none(), st.integers(0, 20)))
env_q = st.builds(EnvQuery, st.sampled_from(["PATH", "AWS_SECRET", "x", "", "LD_PRELOAD"]))
queries = st.one_of(file_q.map(lambda q: ("file", q)), net_q.map(lambda q: ("network", q)),
                    exec_q.map(lambda q: ("command", q)),
                    unix_q.map(lambda q: ("unix_socket", q)),
                    signal_q.map(lambda q: ("signal", q)), env_q.map(lambda q: ("env", q)))


# ---- properties -----------------------------------------------------------------------

@SETTINGS
@given(doc=st.one_of(valid_policy_docs, policy_docs), qs=st.lists(queries, max_size=12))
def test_random_policies_and_queries_never_crash(doc, qs):
    policy, errors = validate(doc)
    assert all(isinstance(e, PolicyError) and e.field for e in errors)
    if policy is None:
        return
    try:
        engine = Engine(policy, VARS)
    except PolicyError:
        return  # an expanded glob can be bad: a clear error, not a crash
    for kind, q in qs:
        d = engine.decide(kind, q)
        assert d.decision in STRICTNESS
        assert d.rule
        assert engine.evaluate(kind, q) == d  # the cache never changes an answer


@SETTINGS
@given(doc=st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), text),
                        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                st.dictionaries(text, inner, max_size=3)),
                        max_leaves=20))
def test_random_documents_are_errors_not_crashes(doc):
    _, errors = validate(doc)
    assert all(isinstance(e, PolicyError) for e in errors)


ALLOW_ALL = Engine(loads(builtin_text("allow-all")), VARS)

DENY_ALL = Engine(loads(yaml.safe_dump({
    "version": 1, "name": "deny-all",
    "file_rules": [{"name": "no-files", "paths": ["**"], "operations": ["*"],
                    "decision": "deny"}],
    "network_rules": [{"name": "no-network", "decision": "deny"}],
    "command_rules": [{"name": "no-commands", "decision": "deny"}],
    "unix_socket_rules": [{"name": "no-sockets", "paths": ["**"], "decision": "deny"}],
    "signal_rules": [{"name": "no-signals", "signals": ["@all"] + list(range(32, 65)),
                      "decision": "deny"}],
    "env_policy": {"deny": ["*"]},
})), VARS)


@SETTINGS
@given(q=queries)
def test_allow_all_allows_everything(q):
    kind, query = q
    d = ALLOW_ALL.decide(kind, query)
    if kind == "network" and query.ip == "nonsense":
        assert d.decision == "deny"  # not an address: refused whatever the policy
        return
    if kind == "signal" and not (isinstance(query.signal, int) and 0 <= query.signal <= 64):
        return  # not filtered at all: the policy has no signal_rules
    if kind == "command" and not query.path:
        assert (d.decision, d.rule) == ("deny", "invalid-query")
        return
    assert d.decision == "allow", (q, d)
    assert not d.would_block


@SETTINGS
@given(q=queries)
def test_deny_all_denies_everything(q):
    kind, query = q
    d = DENY_ALL.decide(kind, query)
    assert d.decision == "deny", (q, d)
    assert d.would_block and DENY_ALL.blocks(d)


# ---- globs against a reference matcher ------------------------------------------------

def _expand_braces(g: str) -> list[str]:
    depth, start = 0, None
    i = 0
    while i < len(g):
        c = g[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                body, alts, d, last = g[start + 1:i], [], 0, 0
                for j, ch in enumerate(body):
                    d += ch == "{"
                    d -= ch == "}"
                    if ch == "," and d == 0:
                        alts.append(body[last:j])
                        last = j + 1
                alts.append(body[last:])
                return [x for a in alts for x in _expand_braces(g[:start] + a + g[i + 1:])]
        i += 1
    return [g]


def _ref(g: str, i: int, t: str, j: int, sep: str | None) -> bool:
    if i == len(g):
        return j == len(t)
    c = g[i]
    if c == "*":
        k = i
        while k < len(g) and g[k] == "*":
            k += 1
        sup = k - i >= 2 or sep is None
        for end in range(j, len(t) + 1):
            if _ref(g, k, t, end, sep):
                return True
            if end < len(t) and not sup and t[end] == sep:
                return False
        return False
    if c == "?":
        return j < len(t) and t[j] != sep and _ref(g, i + 1, t, j + 1, sep)
    if c == "[" and "]" in g[i + 1:]:
        k = i + 1
        neg = g[k] == "!"
        k += neg
        items = []
        while g[k] != "]":
            if k + 2 < len(g) and g[k + 1] == "-" and g[k + 2] != "]":
                items.append((g[k], g[k + 2]))
                k += 3
            else:
                items.append((g[k], g[k]))
                k += 1
        if j >= len(t):
            return False
        hit = any(lo <= t[j] <= hi for lo, hi in items)
        ok = (not hit and t[j] != sep) if neg else hit
        return ok and _ref(g, k + 1, t, j + 1, sep)
    if c == "\\":
        c, i = g[i + 1], i + 1
    return j < len(t) and t[j] == c and _ref(g, i + 1, t, j + 1, sep)


ref_tok = st.sampled_from(["a", "b", "/", ".", "*", "**", "?", "[ab]", "[!a]", "[a-c]", "{a,b}",
                           "{a/b,}", "{x,{a,b}c}", "\\*"])


@settings(max_examples=400, deadline=None)
@given(glob=st.lists(ref_tok, min_size=1, max_size=6).map("".join),
       texts=st.lists(st.text(alphabet="ab/.c*", max_size=8), min_size=1, max_size=8),
       sep=st.sampled_from(["/", ".", None]))
def test_globs_agree_with_a_reference_matcher(glob, texts, sep):
    compiled = Glob(glob, sep)
    for t in texts:
        expected = any(_ref(alt, 0, t, 0, sep) for alt in _expand_braces(glob))
        assert compiled.match(t) is expected, (glob, t, sep)
