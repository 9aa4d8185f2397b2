"""Fixtures for the runtime integration suite (runs against any runc-compatible binary)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import reaper
from tests.support.bundle import (
    Bundle,
    Runtime,
    cgroups_named,
    new_id,
    pid_alive,
    processes_in,
    remove_cgroups,
    runtime_binary,
    stale_test_cgroups,
)
from tests.support.console import ConsoleSocket
from tests.support.rootfs import cached_busybox_rootfs


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def _integration_prereqs() -> None:
    if os.geteuid() != 0:
        pytest.fail("the integration suite needs root")
    cached_busybox_rootfs()
    # a run killed before its teardowns (a timeout) leaves its containers' cgroups: their
    # state dirs went with pytest's old tmp dirs, so no delete can find them any more
    remove_cgroups(stale_test_cgroups())
    # Like conmon and the containerd shim: orphaned container processes come to us.
    reaper.install()


class _Tracker:
    def __init__(self) -> None:
        self.bundles: list[Bundle] = []
        self.runtimes: list[Runtime] = []


@pytest.fixture
def _tracker(_integration_prereqs: None) -> Iterator[_Tracker]:
    t = _Tracker()
    yield t
    # Teardown: force-delete leftovers, then check nothing of the containers survived.
    problems: list[str] = []
    for rt in t.runtimes:
        rt.cleanup()  # tests may leave containers behind: delete --force them all
    for rt in t.runtimes:
        still = rt.container_dirs()
        if still:
            problems.append(f"state dirs left after delete --force in {rt.root}: {still}")
        for pid, start in rt.seen_pids:
            if pid_alive(pid, start):
                problems.append(f"container process {pid} still alive after delete --force")
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
    reaper.reap_orphans(all_children=True)
    for rt in t.runtimes:
        # ids are random per test, so any cgroup named after one is a leftover
        cgs = cgroups_named(i for i in rt.ids if len(i) >= 8)
        if cgs:
            problems.append(f"cgroups left after delete --force: {cgs}")
            remove_cgroups(cgs)  # reported; now removed so the host stays clean
    for b in t.bundles:
        procs = processes_in(b.path)
        if procs:
            problems.append(f"processes inside bundle {b.path}: {procs}")
            for pid, _why in procs:  # reported; now clean up so later tests start clean
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
        mnts = b.foreign_mounts()
        if mnts:
            problems.append(f"host mounts left under bundle {b.path}: {mnts}")
            for m in sorted(mnts, key=len, reverse=True):
                subprocess.run(["umount", "-l", m], check=False)
        problems.extend(b.close())  # our own overlay rootfs
    reaper.reap_orphans(all_children=True)
    assert not problems, "\n".join(problems)


@pytest.fixture
def make_runtime(tmp_path: Path, _tracker: _Tracker) -> Callable[..., Runtime]:
    n = 0

    binary = runtime_binary()
    if not os.access(binary, os.X_OK):
        pytest.fail(f"runtime under test {binary} is not an executable "
                    "(build it, or set AGENTSH_TEST_RUNTIME)")

    def make(**kw: object) -> Runtime:
        nonlocal n
        n += 1
        rt = Runtime(runtime_binary(), tmp_path / f"state{n}", **kw)  # type: ignore[arg-type]
        _tracker.runtimes.append(rt)
        return rt

    return make


@pytest.fixture
def runtime(make_runtime: Callable[..., Runtime]) -> Runtime:
    """The runtime under test with a private --root; leftovers are checked at teardown."""
    return make_runtime()


@pytest.fixture
def make_bundle(tmp_path: Path, _tracker: _Tracker) -> Callable[..., Bundle]:
    n = 0

    def make(**overrides: object) -> Bundle:
        nonlocal n
        n += 1
        b = Bundle(tmp_path / f"bundle{n}", **overrides)
        _tracker.bundles.append(b)
        return b

    return make


@pytest.fixture
def bundle(make_bundle: Callable[..., Bundle]) -> Bundle:
    return make_bundle()


@pytest.fixture
def cid() -> str:
    """A container id unique across the session (cgroup paths are host-global)."""
    return new_id()


@pytest.fixture
def console_socket() -> Iterator[ConsoleSocket]:
    """A listening --console-socket; .wait() gives the pty master the runtime sent."""
    cs = ConsoleSocket()
    yield cs
    cs.close()
