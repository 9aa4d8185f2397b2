"""Which paths keep their resolution (StablePaths), on a real tree under a root of its
own: the walk must pass every name the kernel passes, symlink targets included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentsh_runtime.ptrace.paths import Resolver
from agentsh_runtime.ptrace.stablepaths import StablePaths


class Counting(Resolver):
    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.calls = 0

    def resolve(self, path: str, follow: bool) -> str:
        self.calls += 1
        return super().resolve(path, follow)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """/fx: names nobody may change; /w: writable. Paths below are the tracee's view."""
    for d in ("fx/d", "w/sub", "secret/a/b", "secret/fx"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "fx/x").write_text("public")
    (tmp_path / "secret/fx/x").write_text("secret")
    os.symlink("d", tmp_path / "fx/rel")                      # stays in /fx
    os.symlink("/fx/x", tmp_path / "fx/abs")                  # stays in /fx
    os.symlink("/w/sub/../../fx/x", tmp_path / "fx/via-w")    # passes through /w/sub
    os.symlink("/w/sub", tmp_path / "fx/to-w")
    os.symlink("loop", tmp_path / "fx/loop")
    return tmp_path


def fixed(path: str) -> bool:
    return path == "/fx" or path.startswith("/fx/")


def paths(tree: Path) -> tuple[StablePaths, Counting]:
    res = Counting(str(tree))
    return StablePaths(res, fixed), res


@pytest.mark.parametrize("path,follow,stable", [
    ("/fx/x", True, True),
    ("/fx/d/missing", True, True),          # cannot be created: stays missing
    ("/fx/nothing/at/all", True, True),
    ("/fx/x/under-a-file", True, True),     # ENOTDIR, for good
    ("/fx/rel/y", True, True),
    ("/fx/abs", True, True),
    ("/fx/./d/../x", True, True),
    ("/fx/via-w", True, False),             # /w/sub may become a symlink anywhere
    ("/fx/to-w/f", True, False),
    ("/fx/to-w", False, True),              # not followed: the link itself is fixed
    ("/fx/loop", True, False),
    ("/w/sub/f", True, False),
    ("/proc/self/fd/0", True, False),
    ("/", True, True),
])
def test_stable_walk(tree: Path, path: str, follow: bool, stable: bool) -> None:
    sp, _ = paths(tree)
    assert sp.stable(path, follow) is stable


def test_stable_resolution_is_kept_the_rest_resolved_each_time(tree: Path) -> None:
    sp, res = paths(tree)
    assert sp.resolve("/fx/abs", True) == ("/fx/x", True)
    assert sp.resolve("/fx/abs", True) == ("/fx/x", True)
    assert res.calls == 1
    assert sp.resolve("/fx/via-w", True) == ("/fx/x", False)
    # the swap a hostile tracee makes in /w: the next resolution sees it
    (tree / "w/sub").rmdir()
    os.symlink("/secret/a/b", tree / "w/sub")
    assert sp.resolve("/fx/via-w", True) == ("/secret/fx/x", False)
    assert res.calls == 3

