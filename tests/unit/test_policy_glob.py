"""Globs (POLICY.md "Matching"): separators, `**` edges, classes, braces, bytes."""

import pytest

from agentsh_runtime.policy.glob import Glob, GlobError, GlobSet, escape, literal, translate
from agentsh_runtime.policy.regex import Regex, RegexError, RegexSet, check_regex

PATH, DOMAIN, NONE = "/", ".", None


@pytest.mark.parametrize("glob,sep,text,expected", [
    # `*`: a run without the separator
    ("/tmp/*", PATH, "/tmp/a", True),
    ("/tmp/*", PATH, "/tmp/", True),
    ("/tmp/*", PATH, "/tmp/a/b", False),
    ("/tmp/*.py", PATH, "/tmp/x.py", True),
    ("/tmp/*.py", PATH, "/tmp/d/x.py", False),
    # `**`: anything, separators included; `/workspace/**` is not `/workspace`
    ("/workspace/**", PATH, "/workspace", False),
    ("/workspace/**", PATH, "/workspace/", True),
    ("/workspace/**", PATH, "/workspace/a", True),
    ("/workspace/**", PATH, "/workspace/a/b/c", True),
    ("/workspace/**", PATH, "/workspacex/a", False),
    ("/workspace", PATH, "/workspace/a", False),
    ("**/.env", PATH, "/a/b/.env", True),
    ("**/.env", PATH, "/.env", True),
    ("**/.env", PATH, "/a/b/.envrc", False),
    ("/a/**/z", PATH, "/a/z", False),
    ("/a/**/z", PATH, "/a/b/z", True),
    ("/a/**/z", PATH, "/a/b/c/z", True),
    ("**", PATH, "", True),
    ("**", PATH, "/anything/at/all", True),
    ("/**", PATH, "/", True),
    # `?`: one character, not the separator
    ("/a/?", PATH, "/a/b", True),
    ("/a/?", PATH, "/a/bc", False),
    ("/a/?", PATH, "/a/", False),
    ("/a?b", PATH, "/a/b", False),
    ("/a/?", PATH, "/a/é", True),  # one UTF-8 character, two bytes
    # classes
    ("/a/[abc]", PATH, "/a/b", True),
    ("/a/[abc]", PATH, "/a/d", False),
    ("/a/[a-c]x", PATH, "/a/bx", True),
    ("/a/[!a]", PATH, "/a/b", True),
    ("/a/[!a]", PATH, "/a/a", False),
    ("/a[!b]c", PATH, "/a/c", False),  # a negated class never matches the separator
    ("/a/[é]", PATH, "/a/é", True),
    # braces
    ("/a/{b,c}", PATH, "/a/b", True),
    ("/a/{b,c}", PATH, "/a/c", True),
    ("/a/{b,c}", PATH, "/a/d", False),
    ("/a/{b,c/**}", PATH, "/a/c/d/e", True),
    ("/a/{x,y{1,2}}z", PATH, "/a/y2z", True),
    ("/a/{,x}z", PATH, "/a/z", True),
    # escapes and literal specials
    ("/a/\\*", PATH, "/a/*", True),
    ("/a/\\*", PATH, "/a/b", False),
    ("/a,b}", PATH, "/a,b}", True),
    ("[", NONE, "[", True),  # the command `[` (an unclosed class is itself)
    ("/x[y", PATH, "/x[y", True),
    # domains: `.` separates
    ("*.github.com", DOMAIN, "api.github.com", True),
    ("*.github.com", DOMAIN, "a.b.github.com", False),
    ("*.github.com", DOMAIN, "github.com", False),
    ("**.github.com", DOMAIN, "a.b.github.com", True),
    ("*", DOMAIN, "localhost", True),
    ("*", DOMAIN, "example.com", False),
    # no separator: commands and env names
    ("*", NONE, "a/b.c", True),
    ("python3*", NONE, "python3.11", True),
    ("*_TOKEN", NONE, "GITHUB_TOKEN", True),
    ("*_TOKEN", NONE, "TOKEN", False),
])
def test_glob_semantics(glob, sep, text, expected):
    assert Glob(glob, sep).match(text) is expected
    # the set gives the same answer as the single glob
    assert bool(GlobSet([(glob, 0)], sep).mask(text)) is expected


@pytest.mark.parametrize("text", [
    "/tmp/\udcff\udcfe",  # not UTF-8 (surrogateescape'd bytes)
    "/tmp/a\nb",  # a newline
    "/tmp/\x00",
])
def test_any_bytes_match_star_star(text):
    # a path that is not valid UTF-8 or holds a newline must not slip past `**`
    assert Glob("/tmp/**", PATH).match(text)
    assert Glob("/tmp/*", PATH).match(text)


@pytest.mark.parametrize("glob", ["/a/{b,c", "/a/b\\", "/a/[]", "/a/[z-a]", "{" * 20 + "}" * 20])
def test_malformed_globs(glob):
    with pytest.raises(GlobError):
        translate(glob, PATH)


def test_case_folding_only_when_asked():
    assert not Glob("LS", NONE).match("ls")
    assert Glob("LS", NONE, fold=True).match("ls")
    assert Glob("[A-Z]s", NONE, fold=True).match("Ls")


def test_literal_and_escape():
    assert literal("/a/b") == "/a/b"
    assert literal("/a/\\*") == "/a/*"
    assert literal("/a/*") is None
    assert literal("[") == "["
    for text in ["/home/a*b", "/x/{y,z}", "/p[1]", "a\\b", "c,d"]:
        assert Glob(escape(text), PATH).match(text)
        assert literal(escape(text)) == text


def test_globset_owners_and_first_match_bits():
    gs = GlobSet([("/a/**", 0), ("/a/b", 1), ("/a/*", 2), ("/c", 3), ("/a/b", 4)], PATH)
    assert gs.mask("/a/b") == 0b10111
    assert gs.mask("/a/x/y") == 0b00001
    assert gs.mask("/c") == 0b01000
    assert gs.mask("/d") == 0
    assert GlobSet([], PATH).mask("/x") == 0


def test_regexset_confirms_an_empty_answer(monkeypatch):
    rs = RegexSet([r"/a/.*", r"/b"])
    assert sorted(rs.matches(b"/a/x")) == [0]
    assert rs.matches(b"/c") == []
    # an RE2::Set whose DFA ran out of memory answers "no match": never trusted alone
    rs._set = lambda text: []
    assert rs.matches(b"/a/x") == [0]
    assert rs.matches(b"/b") == [1]
    assert rs.matches(b"/c") == []


def test_regex_is_re2():
    assert check_regex(r"(a") is not None
    assert check_regex(r"(?<=a)b") is not None  # lookbehind: not RE2
    assert check_regex(r"\bpush\b") is None
    with pytest.raises(RegexError):
        Regex("(a", anchored=False, latin1=False)
    # an argv cannot make a match run for long: linear time on a nasty pattern
    rx = Regex(r"(a+)+$", anchored=False, latin1=False)
    assert not rx.test(b"a" * 50000 + b"b")
