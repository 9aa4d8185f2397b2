"""podman 4.3 + agentsh-runtime in ptrace mode (`--annotation dev.agentsh.ptrace=on`): the
container runs in the host's namespaces, chrooted into podman's rootfs, its commands
decided by the tracer; `podman run --rm` gets the exit code and the output, and nothing
of ours is left."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.podman import AGENTSH_STATE_ROOT, Podman
from tests.e2e.test_podman_policy import PolicyPodman
from tests.support.policy import DENY_RM, command_policy


@pytest.fixture
def ppm(engine: Podman, tmp_path: Path) -> PolicyPodman:
    return PolicyPodman(engine, tmp_path, command_policy(DENY_RM))


def test_podman_run_in_ptrace_mode(ppm: PolicyPodman) -> None:
    cp = ppm.run("--rm", "--annotation", "dev.agentsh.ptrace=on",
                 cmd=["sh", "-c", "touch /tmp/v; /bin/rm /tmp/v; echo rc=$?; ls /tmp; exit 3"])
    assert cp.returncode == 3, cp.stderr
    assert cp.stdout.split() == ["rc=126", "v"], (cp.stdout, cp.stderr)
    cid = ppm.last_id
    assert cid and ppm.pm.container_ids() == []
    assert not (AGENTSH_STATE_ROOT / cid).exists()
    types = {e["type"] for e in ppm.audit(cid)}
    assert {"ptrace_fallback", "execve", "process_exit"} <= types, types
    denied = ppm.audit(cid, "--type", "execve", "--decision", "deny")
    assert any(e["policy"]["rule"] == "no-rm" for e in denied), denied


def test_podman_exec_and_rm_of_a_traced_container(ppm: PolicyPodman) -> None:
    cid = ppm.run_detached("--annotation", "dev.agentsh.ptrace=on", cmd=["sleep", "1000"])
    tracer = ppm.monitor_pid(cid)
    cp = ppm("exec", cid, "sh", "-c", "touch /tmp/x; /bin/rm /tmp/x; echo rc=$?")
    assert cp.returncode == 0 and "rc=126" in cp.stdout, (cp.stdout, cp.stderr)
    cp = ppm("rm", "-f", "-t", "2", cid)
    assert cp.returncode == 0, cp.stderr
    assert not Path(f"/proc/{tracer}").exists() or \
        Path(f"/proc/{tracer}/status").read_text().find("State:\tZ") >= 0
    assert not (AGENTSH_STATE_ROOT / cid).exists()
