"""podman 4.3 and network_rules (issue 7), with the real podman.

The container joins a network namespace the test makes (tests/support/netlab.py:
`--network ns:/run/netns/NAME`, as podman gives a namespace by path); the lab's server
namespace answers HTTP on 80 and 8080 and DNS for web.test and evil.test. No traffic
leaves the lab. `netc` (a static client, tests/support/netlab.py) and the lab's
resolv.conf are bind-mounted into the busybox image.

Two ways podman users get network_rules:
- agentsh-runtime as podman's runtime, the policy in the `dev.agentsh.policy.inline`
  annotation and the admin config through `--runtime-flag admin-config=FILE`;
- runc as the runtime with our createRuntime hook (hooks/agentsh-network.json in a
  `--hooks-dir`), the hook given the admin config. The hook refuses a container that
  keeps CAP_NET_RAW, which podman grants by default: `--cap-drop NET_RAW`.

The policy: web.test allowed on 80 (an HTTP 200 from the lab), evil.test denied by name
(the proxy resets it), port 8080 denied by a rule without names (the kernel refuses the
connect). After each test no AGENTSH chain is left in the lab's namespace.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.podman import DEFAULT_RUNTIME, IMAGE, STATE_ROOTS, Podman
from tests.e2e.test_podman_policy import PolicyPodman, podman_annotation
from tests.support.bundle import is_runc, wait_for
from tests.support.netlab import NetLab
from tests.support.policy import (
    ANN_INLINE,
    compiled,
    policy_text,
    read_events,
    write_admin_config,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
HOOK_TEMPLATE = REPO_ROOT / "hooks" / "agentsh-network.json"
NAMES = {"web.test": "v4", "evil.test": "v4"}
NETC = "/usr/local/bin/netc"
CHAINS_GRACE = 10.0  # seconds for a monitor to take its chains with it
RUNC_ROOT = STATE_ROOTS["runc"]  # podman passes runc no --root


def net_policy() -> str:
    return policy_text(
        network_rules=[
            {"name": "no-8080", "ports": [8080], "decision": "deny",
             "message": "not that port"},
            {"name": "evil", "domains": ["evil.test"], "ports": [80, 443],
             "decision": "deny"},
            {"name": "web", "domains": ["web.test"], "ports": [80, 443],
             "decision": "allow"},
        ],
        command_rules=[{"name": "all", "commands": ["*"], "decision": "allow"}],
        audit={"log_allowed": True, "log_denied": True},
    )


def http(host: str, port: int = 80) -> str:
    return f"{NETC} tcp {host} {port} 'GET /small HTTP/1.0\\r\\nHost: {host}\\r\\n\\r\\n'"


# each netc prints one line: label it, so a missing line cannot shift the others
SCRIPT = "; ".join([
    f"printf 'allowed: '; {http('web.test')}",
    f"printf 'denied: '; {http('evil.test')}",
    f"printf 'port: '; {http('web.test', 8080)}",
    "exit 0",
])


def results(out: str) -> dict[str, str]:
    found = {}
    for line in out.splitlines():
        label, sep, rest = line.partition(": ")
        if sep and label in ("allowed", "denied", "port"):
            found[label] = rest
    return found


def check_outputs(cp: subprocess.CompletedProcess[str]) -> None:
    """The three connections of SCRIPT: allowed, reset by the proxy, refused."""
    got = results(cp.stdout)
    where = f"podman exited {cp.returncode}\nstdout:\n{cp.stdout}\nstderr:\n{cp.stderr}"
    assert cp.returncode == 0, where
    assert set(got) == {"allowed", "denied", "port"}, where
    allowed = got["allowed"]
    assert allowed.startswith("connected bytes=") and "bytes=0 " not in allowed, where
    assert "head=HTTP/1.0 200 OK" in allowed and "host=web.test" in allowed, where
    # a name decided at the proxy: accepted by the kernel, then reset
    assert ("Connection reset by peer" in got["denied"] or "bytes=0 " in got["denied"]), where
    assert "host=web.test" not in got["denied"] and "200 OK" not in got["denied"], where
    # a rule without names: refused by the kernel at connect
    assert got["port"] == "connect: Connection refused", where


def net_connects(events_dir: Path, cid: str) -> list[dict[str, Any]]:
    return [e for e in read_events(events_dir, cid) if e.get("type") == "net_connect"]


def check_events(events_dir: Path, cid: str, lab: NetLab) -> None:
    """net_connect events for the three connections, with their rules (the monitor
    writes in batches, and as it leaves: wait for them)."""
    web = f"{lab.srv_ip}:80"
    port = f"{lab.srv_ip}:8080"
    wanted = {
        "web.test:80 (allowed by the proxy)":
            lambda e: e.get("remote") == web and e.get("domain") == "web.test",
        "evil.test:80 (reset by the proxy)":
            lambda e: e.get("remote") == web and e.get("domain") == "evil.test",
        f"{port} (refused by the kernel, an NFLOG entry)":
            lambda e: e.get("remote") == port,
    }

    def missing() -> list[str]:
        ev = net_connects(events_dir, cid)
        return [what for what, pred in wanted.items() if not any(pred(e) for e in ev)]

    deadline = time.monotonic() + 10
    while missing() and time.monotonic() < deadline:
        time.sleep(0.1)
    if missing():
        f = events_dir / f"{cid}.jsonl"
        shown = "\n".join(json.dumps(x) for x in net_connects(events_dir, cid))
        raise AssertionError(f"no net_connect event in {f} for: {', '.join(missing())}; "
                             f"the net_connect events there:\n{shown}")
    ev = net_connects(events_dir, cid)
    allowed = [e for e in ev if wanted["web.test:80 (allowed by the proxy)"](e)]
    assert allowed[0]["policy"]["rule"] == "web", allowed
    assert allowed[0]["effective_action"] == "allowed", allowed
    evil = [e for e in ev if wanted["evil.test:80 (reset by the proxy)"](e)]
    assert evil[0]["policy"]["rule"] == "evil", evil
    assert evil[0]["effective_action"] == "blocked", evil
    refused = [e for e in ev if e.get("remote") == port]
    assert refused[0]["policy"]["rule"] == "no-8080", refused
    assert refused[0]["effective_action"] == "blocked", refused
    assert refused[0]["fields"]["via"] == "kernel", refused


def no_chains(lab: NetLab) -> bool:
    return "AGENTSH" not in lab.chains()


def wait_no_chains(lab: NetLab, timeout: float = CHAINS_GRACE) -> None:
    deadline = time.monotonic() + timeout
    while not no_chains(lab):
        if time.monotonic() > deadline:
            raise AssertionError(f"AGENTSH chains still in {lab.ctr} {timeout}s after the "
                                 f"container left:\n{lab.chains()}")
        time.sleep(0.1)


@pytest.fixture
def lab(engine: Podman, tmp_path: Path) -> Iterator[NetLab]:
    """The lab, up for the test; after it: no chain left, namespaces deleted."""
    lab = NetLab(tmp_path / "lab").up(NAMES)
    chains = ""
    try:
        yield lab
    finally:
        deadline = time.monotonic() + CHAINS_GRACE
        while True:
            chains = lab.chains()
            if "AGENTSH" not in chains or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        lab.down()
    assert "AGENTSH" not in chains, f"chains left in the container's namespace:\n{chains}"


@pytest.fixture
def mounts(lab: NetLab, tmp_path: Path) -> list[str]:
    """`-v` arguments: netc and the lab's resolv.conf."""
    netc = compiled("netc")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(lab.resolv_conf())
    return ["-v", f"{netc}:{NETC}:ro", "-v", f"{resolv}:/etc/resolv.conf:ro"]


def podman_run(pm: Podman, *args: str, global_args: tuple[str, ...] = (),
               lab: NetLab, cmd: list[str]) -> tuple[subprocess.CompletedProcess[str],
                                                     str | None]:
    """podman GLOBAL run --rm --network ns:LAB --pull never --cidfile F ARGS IMAGE CMD;
    the container id (if podman made one) goes to the engine's leftover checks."""
    cidfile = pm._cidfile()
    try:
        cp = pm(*global_args, "run", "--rm", "--network", f"ns:{lab.ctr_path}",
                "--pull", "never", "--cidfile", str(cidfile), *args, IMAGE, *cmd,
                timeout=120)
    finally:
        cid = pm._remember(cidfile)
    if cid and cid in pm.container_ids():
        pm("rm", "-f", "-t", "0", cid)
    return cp, cid


# -- agentsh-runtime as podman's runtime -----------------------------------------------

def test_network_rules_with_agentsh_runtime(engine: Podman, tmp_path: Path, lab: NetLab,
                                            mounts: list[str]) -> None:
    ppm = PolicyPodman(engine, tmp_path, net_policy())  # skips when the runtime is runc
    cp, cid = podman_run(
        engine, "--annotation", podman_annotation(ANN_INLINE, ppm.policy), *mounts,
        global_args=("--runtime-flag", f"admin-config={ppm.admin}"), lab=lab,
        cmd=["sh", "-c", SCRIPT])
    check_outputs(cp)
    assert cid, "podman wrote no container id"
    assert engine.container_ids() == [], "podman run --rm left the container"
    # delete (podman run --rm, done when podman returns) took the chains out of the
    # namespace, which outlives the container
    assert no_chains(lab), f"chains left after podman run --rm:\n{lab.chains()}"
    assert (ppm.events_dir / f"{cid}.jsonl").exists(), \
        f"no events in {ppm.events_dir}: was --runtime-flag admin-config passed?"
    check_events(ppm.events_dir, cid, lab)


# -- runc with the hook (hooks/agentsh-network.json) ------------------------------------

def agentsh_binary(runtime_path: str) -> str:
    """The agentsh-runtime the hook runs: the runtime under test, unless that is runc."""
    return str(DEFAULT_RUNTIME) if is_runc(runtime_path) else runtime_path


class HookedPodman:
    """podman with runc as the runtime and `--hooks-dir DIR`, DIR holding the hook of
    hooks/agentsh-network.json pointed at our binary, an admin config and a state root
    in the test's tmp_path."""

    def __init__(self, engine: Podman, tmp_path: Path, agentsh: str) -> None:
        runc = shutil.which("runc")
        assert runc, "runc is missing (apt-get install runc): the hook is for runc users"
        assert HOOK_TEMPLATE.is_file(), f"{HOOK_TEMPLATE} is missing"
        self.pm = engine.with_runtime(runc)
        self.admin = write_admin_config(tmp_path)
        self.events_dir = tmp_path / "events"
        self.hook_root = tmp_path / "hookroot"
        self.hooks_dir = tmp_path / "hooks.d"
        self.hooks_dir.mkdir()
        hook = json.loads(HOOK_TEMPLATE.read_text())
        assert hook["hook"]["args"][-2:] == ["hook", "network"], hook
        hook["hook"]["path"] = agentsh
        hook["hook"]["args"] = [hook["hook"]["args"][0], "--root", str(self.hook_root),
                                "--admin-config", str(self.admin),
                                *hook["hook"]["args"][1:]]
        (self.hooks_dir / "agentsh-network.json").write_text(json.dumps(hook, indent=2))
        self.policy = net_policy()

    def run(self, *args: str, lab: NetLab, cmd: list[str],
            ) -> tuple[subprocess.CompletedProcess[str], str | None]:
        return podman_run(self.pm, "--annotation",
                          podman_annotation(ANN_INLINE, self.policy), *args,
                          global_args=("--hooks-dir", str(self.hooks_dir)), lab=lab,
                          cmd=cmd)

    def hook_states(self) -> list[Path]:
        return sorted((self.hook_root / "hooks").glob("*"))


@pytest.fixture
def hpm(engine: Podman, tmp_path: Path, runtime_path: str) -> HookedPodman:
    return HookedPodman(engine, tmp_path, agentsh_binary(runtime_path))


def test_network_rules_with_runc_and_the_hook(hpm: HookedPodman, lab: NetLab,
                                              mounts: list[str]) -> None:
    cp, cid = hpm.run("--cap-drop", "NET_RAW", *mounts, lab=lab, cmd=["sh", "-c", SCRIPT])
    check_outputs(cp)
    assert cid, "podman wrote no container id"
    assert hpm.pm.container_ids() == [], "podman run --rm left the container"
    # the hook's monitor leaves with the container, and takes the chains and its state
    wait_no_chains(lab)
    wait_for(lambda: not hpm.hook_states(), CHAINS_GRACE,
             f"the hook's state under {hpm.hook_root}/hooks to go")
    assert not (RUNC_ROOT / cid).exists(), f"runc's state left: {RUNC_ROOT / cid}"
    check_events(hpm.events_dir, cid, lab)


def test_the_hook_refuses_podmans_default_net_raw(hpm: HookedPodman, lab: NetLab,
                                                  mounts: list[str]) -> None:
    """podman grants CAP_NET_RAW by default: without --cap-drop the hook fails the
    container before its program runs, naming the capability."""
    cp, cid = hpm.run(*mounts, lab=lab, cmd=["sh", "-c", SCRIPT])
    where = f"podman exited {cp.returncode}\nstdout:\n{cp.stdout}\nstderr:\n{cp.stderr}"
    assert cp.returncode != 0, where
    assert "CAP_NET_RAW" in cp.stderr, where
    assert "--cap-drop" in cp.stderr, where
    assert "connected" not in cp.stdout and "allowed:" not in cp.stdout, where
    assert no_chains(lab), lab.chains()
    assert not hpm.hook_states(), hpm.hook_states()
    assert not read_events(hpm.events_dir, cid or "none"), "the refused hook wrote events"
    assert hpm.pm.container_ids() == [], "the failed container was left"
    if cid:
        assert not (RUNC_ROOT / cid).exists(), f"runc's state left: {RUNC_ROOT / cid}"
