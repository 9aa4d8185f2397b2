"""The native glob matcher (openfast.c, programs from policy/globprog.py) against the
Python one (policy/glob.py, RE2): the same answer for every glob and path tried."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentsh_runtime.monitor import execfast
from agentsh_runtime.monitor.openfast import rules_only
from agentsh_runtime.policy.engine import Engine
from agentsh_runtime.policy.glob import Glob, GlobError
from agentsh_runtime.policy.globprog import GlobTooComplex, alternatives
from agentsh_runtime.policy.load import loads
from agentsh_runtime.policy.resolve import builtin_text

if not execfast.available():
    pytest.fail("the native library is not built: run `make native` (needs gcc)",
                pytrace=False)

GLOB_PARTS = ["a", "b", "é", "/", ".", "*", "**", "?", "[ab]", "[!a]", "[a-c]", "[é]",
              "[aé]", "{a,b}", "{x/,**/}", "\\*", "\\[", "[", "-", "{é,?}", "[/]"]
TEXT_PARTS = ["a", "b", "c", "é", "ü", "/", ".", "*", "[", "-", "x/", "\xff", "ab/",
              "\udcff"]


def native(glob: str, text: str) -> bool:
    blob = rules_only(items=[(glob, 0)])
    assert blob is not None
    return execfast.match_files(blob, text) == 0


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(GLOB_PARTS), min_size=1, max_size=7),
       st.lists(st.lists(st.sampled_from(TEXT_PARTS), max_size=8), min_size=1, max_size=6))
def test_native_matcher_agrees_with_glob(gparts: list[str], texts: list[list[str]]) -> None:
    glob = "".join(gparts)
    try:
        py = Glob(glob, "/")
    except GlobError:
        with pytest.raises(GlobError):
            alternatives(glob)
        return
    for parts in texts:
        text = "".join(parts)
        assert native(glob, text) == py.match(text), (glob, text)


def test_text_from_glob_alternatives_matches() -> None:
    # texts built to match: the matcher must not only say no
    for glob, text in [("/a/**/b", "/a/x/y/b"), ("**/.env", "/w/.env"), ("/é?/x", "/éü/x"),
                       ("/{a,b}*", "/bzz"), ("/[!a]", "/é"), ("/x\\*", "/x*")]:
        assert native(glob, text), (glob, text)
        assert Glob(glob, "/").match(text)


def test_too_many_alternatives_is_refused() -> None:
    with pytest.raises(GlobTooComplex):
        alternatives("{a,b}" * 9)


@pytest.mark.parametrize("name", ["default", "strict", "allow-all", "audit-only"])
def test_builtin_policies_decide_reads_alike(name: str) -> None:
    text = builtin_text(name)
    values = {"HOME": "/home/u", "PROJECT_ROOT": "/work", "GIT_ROOT": "/work"}
    engine = Engine(loads(text, origin=name), values)
    blob = rules_only(engine)
    assert blob is not None
    items, decisions = engine.file_globs_for("read")
    paths = ["/work/x.py", "/work/.env", "/work/a/.env.prod", "/home/u/.ssh/id_ed25519",
             "/home/u/.aws/credentials", "/etc/shadow", "/etc/passwd", "/proc/1/environ",
             "/proc/self/mem", "/dev/null", "/dev/tty", "/tmp/x", "/usr/lib/libc.so.6",
             "/home/u/.netrc", "/", "/work", "/work/", "/root/.kube/config"]
    for p in paths:
        r = execfast.match_files(blob, p)
        d = engine.file("read", p)
        if r < 0:
            assert d.rule == "default-allow-reads", p
        else:
            assert decisions[r].rule == d.rule and decisions[r].decision == d.decision, p
