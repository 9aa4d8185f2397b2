"""Fixtures for e2e tests that drive the real podman with the runtime under test.

The runtime is ``$AGENTSH_TEST_RUNTIME`` or ``<repo>/.venv/bin/agentsh-runtime``;
run the suite against runc with ``AGENTSH_TEST_RUNTIME=$(which runc)``.
A missing prerequisite (podman, conmon, /bin/busybox, the runtime binary) is a
failure naming it, never a skip.
"""

from __future__ import annotations

import glob
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.podman import (
    Missing,
    Podman,
    processes_mentioning,
    require_tools,
    runtime_under_test,
    state_root_for,
)

LEFTOVER_GRACE = 10.0  # seconds for podman's cleanup processes to finish


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def runtime_path() -> str:
    return runtime_under_test()


@pytest.fixture(scope="session")
def engine(runtime_path: str) -> Iterator[Podman]:
    """A podman with a private store/config and the busybox image imported."""
    missing = None
    try:
        require_tools(runtime_path)
    except Missing as e:
        missing = str(e)
    if missing:
        pytest.fail(missing, pytrace=False)
    base = Path(tempfile.mkdtemp(prefix="agentsh-e2e-"))
    pm = Podman(base, runtime_path)
    try:
        pm.ensure_image()
    except BaseException:
        pm.destroy()
        raise
    yield pm
    ids = list(pm.seen_ids)
    state_root = state_root_for(runtime_path)
    pm.destroy()  # raises if mounts are left under base
    problems = _leftovers(ids, state_root, [str(base)], base)
    if problems:
        pytest.fail("after the e2e session:\n" + "\n".join(problems), pytrace=False)


def _leftovers(
    ids: list[str], state_root: Path, needles: list[str], base: Path
) -> list[str]:
    """What our containers left on the host: state dirs, processes, mounts, cgroups."""
    problems: list[str] = []
    for cid in ids:
        if (state_root / cid).exists():
            problems.append(f"runtime state dir left: {state_root / cid}")
        for d in glob.glob(f"/sys/fs/cgroup/*/libpod_parent/libpod-{cid}*") + glob.glob(
            f"/sys/fs/cgroup/*/*{cid}*"
        ):
            problems.append(f"cgroup left: {d}")
    for pid, cmd in processes_mentioning(ids + needles):
        problems.append(f"process left: pid {pid}: {cmd[:200]}")
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mnt = line.split()[4]
            if any(cid in line for cid in ids):
                problems.append(f"mount left: {mnt}")
            elif mnt.startswith(str(base) + "/") and mnt.endswith("/merged"):
                problems.append(f"rootfs mount left: {mnt}")
    return problems


@pytest.fixture(autouse=True)
def no_leftovers(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each e2e test: no containers, state dirs, processes or mounts of its own."""
    if "engine" not in request.fixturenames:
        yield
        return
    pm: Podman = request.getfixturevalue("engine")
    first = len(pm.seen_ids)
    yield
    pm.collect_pending()
    problems: list[str] = []
    still = pm.container_ids()
    if still:
        problems.append(f"containers left (podman ps -a): {[c[:12] for c in still]}")
        pm.remove_all()
    ids = pm.seen_ids[first:]
    deadline = time.monotonic() + LEFTOVER_GRACE
    while True:
        found = _leftovers(ids, state_root_for(pm.runtime), [], pm.base)
        if not found or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    problems += found
    tmp_path = request.node.funcargs.get("tmp_path")
    if tmp_path is not None and pm.mounts_under(Path(tmp_path)):
        problems.append(f"host mounts left under {tmp_path}: {pm.mounts_under(Path(tmp_path))}")
    if problems:
        pytest.fail(f"after {request.node.name}:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def script_bin() -> str:
    path = shutil.which("script")
    if path is None:
        pytest.fail("`script` (util-linux) is not installed: apt-get install util-linux",
                    pytrace=False)
    return path
