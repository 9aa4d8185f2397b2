"""podman 4.3 + agentsh-runtime with a policy: `--annotation dev.agentsh.policy.inline=...`.

podman calls the runtime without our flags: the global `--runtime-flag
admin-config=FILE` makes it pass `--admin-config=FILE` to every runtime call, and the
admin config puts the events in the test's tmp_path (never /var/log).

podman parses `--annotation` values as CSV (a comma or a quote needs the whole
`key=value` quoted, quotes doubled); an unquoted newline ends the value. podman_annotation()
does that quoting, so a multi-line YAML policy arrives intact.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.podman import AGENTSH_STATE_ROOT, IMAGE, Podman
from tests.support.bundle import only_ours
from tests.support.policy import (
    DENY_RM,
    DEV_NODES,
    cgroup_of,
    command_policy,
    is_exec,
    of_type,
    policy_text,
    read_events,
    wait_event,
    write_admin_config,
)

SLEEP = ["sleep", "1000"]


def podman_annotation(key: str, value: str) -> str:
    """A `--annotation` argument podman 4.3 reads back as exactly key=value."""
    field = f"{key}={value}"
    return '"' + field.replace('"', '""') + '"'


class PolicyPodman:
    """podman calls with `--runtime-flag admin-config=FILE` and a policy annotation."""

    def __init__(self, pm: Podman, tmp_path: Path, policy: str, **admin: object) -> None:
        only_ours("agentsh policies")
        self.pm = pm
        self.admin = write_admin_config(tmp_path, **admin)
        self.events_dir = tmp_path / "events"
        self.policy = policy

    def __call__(self, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        return self.pm("--runtime-flag", f"admin-config={self.admin}", *args, **kw)

    def run(self, *args: str, cmd: list[str], timeout: float | None = None,
            ) -> subprocess.CompletedProcess[str]:
        """podman run --network none --pull never --cidfile F --annotation POLICY ARGS
        IMAGE CMD; the id goes to the engine's list of ids checked for leftovers."""
        cidfile = self.pm._cidfile()
        try:
            return self("run", "--network", "none", "--pull", "never", "--cidfile",
                        str(cidfile), "--annotation",
                        podman_annotation("dev.agentsh.policy.inline", self.policy),
                        *args, IMAGE, *cmd, timeout=timeout)
        finally:
            self.last_id = self.pm._remember(cidfile)

    def run_detached(self, *args: str, cmd: list[str]) -> str:
        cp = self.run("-d", *args, cmd=cmd)
        assert cp.returncode == 0, cp.stderr
        cid = cp.stdout.strip().splitlines()[-1]
        self.pm.wait_running(cid)
        return cid

    def runtime(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The runtime's own CLI, as podman runs it (default --root), with our admin
        config."""
        return subprocess.run([self.pm.runtime, "--admin-config", str(self.admin), *args],
                              capture_output=True, text=True, timeout=30)

    def audit(self, cid: str, *filters: str) -> list[dict]:
        cp = self.runtime("audit", cid, *filters)
        assert cp.returncode == 0, cp.stderr
        return [json.loads(ln) for ln in cp.stdout.splitlines() if ln.strip()]

    def monitor_pid(self, cid: str) -> int:
        state = json.loads((AGENTSH_STATE_ROOT / cid / "state.json").read_text())
        assert state.get("monitor"), f"no monitor in state.json of {cid[:12]}"
        return int(state["monitor"]["pid"])


@pytest.fixture
def ppm(engine: Podman, tmp_path: Path) -> PolicyPodman:
    return PolicyPodman(engine, tmp_path, command_policy(DENY_RM))


def test_annotation_reaches_config_intact(ppm: PolicyPodman) -> None:
    cp = ppm("create", "--network", "none", "--annotation",
             podman_annotation("dev.agentsh.policy.inline", ppm.policy), IMAGE, "true")
    assert cp.returncode == 0, cp.stderr
    cid = cp.stdout.strip()
    try:
        ann = ppm.pm.inspect(cid)["Config"]["Annotations"]
        assert ann["dev.agentsh.policy.inline"] == ppm.policy
    finally:
        ppm("rm", "-f", cid)


def test_denied_command_fails_and_is_audited(ppm: PolicyPodman) -> None:
    cp = ppm.run("--rm", cmd=["sh", "-c", "touch /tmp/v; /bin/rm /tmp/v; echo rc=$?; ls /tmp"])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["rc=126", "v"], cp.stdout
    assert "/bin/rm: Permission denied" in cp.stderr
    cid = ppm.last_id
    assert cid and ppm.pm.container_ids() == []
    # the container is gone (--rm): the events outlive it, in the admin's events dir
    assert (ppm.events_dir / f"{cid}.jsonl").exists(), \
        "events not in the --admin-config events_dir: was --runtime-flag passed?"
    denied = ppm.audit(cid, "--type", "execve", "--decision", "deny")
    assert any(e["policy"]["rule"] == "no-rm" and e["argv"] == ["/bin/rm", "/tmp/v"]
               for e in denied), denied
    types = {e["type"] for e in ppm.audit(cid)}
    assert {"container_created", "container_started", "container_stopped"} <= types, types


def test_allowed_command_runs(ppm: PolicyPodman) -> None:
    cp = ppm.run("--rm", cmd=["sh", "-c", "/bin/echo fine; /bin/true && echo ok"])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["fine", "ok"]


def test_podman_exec_held_to_the_same_rules(ppm: PolicyPodman) -> None:
    cid = ppm.run_detached(cmd=SLEEP)
    try:
        cp = ppm("exec", cid, "sh", "-c", "touch /tmp/v; /bin/rm /tmp/v; echo rc=$?; ls /tmp")
        assert cp.stdout.split() == ["rc=126", "v"], (cp.stdout, cp.stderr)
        assert "Permission denied" in cp.stderr
        cp = ppm("exec", cid, "/bin/rm", "/tmp/v")
        assert cp.returncode != 0, cp
        assert "permission denied" in cp.stderr.lower(), (cp.returncode, cp.stderr)
        cp = ppm("exec", cid, "ls", "/tmp")
        assert cp.stdout.split() == ["v"], cp
        ev = wait_event(ppm.events_dir, cid, is_exec("deny", rule="no-rm", argv0="/bin/rm",
                                                      argv_has="/tmp/v"))
        assert ev["policy"]["effective_decision"] == "deny"
        direct = [e for e in read_events(ppm.events_dir, cid)
                  if is_exec("deny", rule="no-rm")(e) and e["fields"].get("depth") == 0]
        assert direct, "the exec'd /bin/rm (depth 0 from the exec) was not logged"
    finally:
        ppm("rm", "-f", "-t", "0", cid)


def test_env_secrets_not_visible(ppm: PolicyPodman) -> None:
    cp = ppm.run("--rm", "-e", "AWS_SECRET_ACCESS_KEY=x-aws", "-e", "GITHUB_TOKEN=x-gh",
                 "-e", "KEEP_ME=yes", cmd=["env"])
    assert cp.returncode == 0, cp.stderr
    names = {ln.split("=", 1)[0] for ln in cp.stdout.splitlines()}
    assert "KEEP_ME" in names, cp.stdout
    assert "AWS_SECRET_ACCESS_KEY" not in names and "GITHUB_TOKEN" not in names, cp.stdout
    ev = wait_event(ppm.events_dir, ppm.last_id, of_type("env_blocked"))
    assert {"AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"} <= set(ev["fields"]["names"])
    assert "x-aws" not in (ppm.events_dir / f"{ppm.last_id}.jsonl").read_text()


def test_env_secrets_not_visible_in_podman_exec(ppm: PolicyPodman) -> None:
    cid = ppm.run_detached(cmd=SLEEP)
    try:
        cp = ppm("exec", "-e", "AWS_SECRET_ACCESS_KEY=x-aws", "-e", "KEEP_ME=yes", cid, "env")
        assert cp.returncode == 0, cp.stderr
        assert "KEEP_ME=yes" in cp.stdout
        assert "AWS_SECRET_ACCESS_KEY" not in cp.stdout, cp.stdout
    finally:
        ppm("rm", "-f", "-t", "0", cid)


def test_policy_memory_limit(engine: Podman, tmp_path: Path) -> None:
    ppm = PolicyPodman(engine, tmp_path,
                       command_policy(DENY_RM, resource_limits={"max_memory_mb": 64}))
    cid = ppm.run_detached("--memory", "512m", cmd=SLEEP)
    try:
        pid = engine.inspect(cid)["State"]["Pid"]
        limit = Path(cgroup_of(pid, "memory"), "memory.limit_in_bytes").read_text()
        assert int(limit) == 64 << 20
    finally:
        ppm("rm", "-f", "-t", "0", cid)


def test_approval_over_podman_exec(engine: Podman, tmp_path: Path) -> None:
    rule = {"name": "echo-needs-ok", "commands": ["echo"], "decision": "approve",
            "timeout": "20s"}
    ppm = PolicyPodman(engine, tmp_path, command_policy(rule))
    cid = ppm.run_detached(cmd=SLEEP)
    p = subprocess.Popen(ppm.pm.argv("--runtime-flag", f"admin-config={ppm.admin}", "exec",
                                     cid, "/bin/echo", "approved-run"),
                         env=ppm.pm.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        pending: list[dict] = []
        while time.monotonic() < deadline and not pending:
            cp = ppm.runtime("approvals", "list", cid)
            pending = [json.loads(ln) for ln in cp.stdout.splitlines() if ln.strip()]
            time.sleep(0.1)
        assert pending, f"no pending approval: {cp.stderr}"
        cp = ppm.runtime("approvals", "approve", cid, pending[0]["id"])
        assert cp.returncode == 0, cp.stderr
        out, err = p.communicate(timeout=30)
        assert out.strip() == "approved-run", (p.returncode, out, err)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
        ppm("rm", "-f", "-t", "0", cid)


def test_monitor_killed_exec_fails_and_rm_cleans_up(ppm: PolicyPodman) -> None:
    cid = ppm.run_detached(cmd=SLEEP)
    try:
        assert ppm("exec", cid, "/bin/true").returncode == 0
        mon = ppm.monitor_pid(cid)
        os.kill(mon, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while os.path.exists(f"/proc/{mon}") and time.monotonic() < deadline:
            try:
                with open(f"/proc/{mon}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break
            except FileNotFoundError:
                break
            time.sleep(0.05)
        cp = ppm("exec", cid, "sh", "-c", "/bin/echo should-not-run")
        assert "should-not-run" not in cp.stdout, cp
        assert cp.returncode != 0 or "sh:" in cp.stderr, cp
        cp = ppm("exec", cid, "/bin/echo", "should-not-run")
        assert cp.returncode != 0 and "should-not-run" not in cp.stdout, cp
    finally:
        cp = ppm("rm", "-f", "-t", "0", cid)
    assert cp.returncode == 0, cp.stderr
    assert not (AGENTSH_STATE_ROOT / cid).exists()


FILE_POLICY_RULES = [
    {"name": "no-secret", "paths": ["/secret", "/secret/**"], "operations": ["*"],
     "decision": "deny"},
    {"name": "workspace", "paths": ["/workspace/**", "/tmp/**"], "operations": ["*"],
     "decision": "allow"},
    DEV_NODES,
]


def _file_policy_setup(engine: Podman, tmp_path: Path) -> tuple[Path, Path, PolicyPodman]:
    """/secret (a volume with key "topsecret") denied, /workspace (an empty volume)
    writable, every command allowed."""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key").write_text("topsecret\n")
    ws = tmp_path / "ws"
    ws.mkdir()
    policy = policy_text(file_rules=FILE_POLICY_RULES,
                         command_rules=[{"name": "all", "commands": ["*"],
                                         "decision": "allow"}])
    return secret, ws, PolicyPodman(engine, tmp_path, policy)


def test_file_rules_under_podman(engine: Podman, tmp_path: Path) -> None:
    """file_rules through podman: the rootfs (podman's overlay) and two volumes served by
    the monitor's FUSE mount; a denied read is "Permission denied" with an event, the
    workspace is writable, writes elsewhere are refused, nothing is left mounted."""
    secret, ws, ppm = _file_policy_setup(engine, tmp_path)
    cp = ppm.run("--rm", "-v", f"{secret}:/secret", "-v", f"{ws}:/workspace",
                 cmd=["sh", "-c", "cat /secret/key; echo rc=$?; "
                      "echo made > /workspace/f && cat /workspace/f; "
                      "echo x > /etc/evil; echo rc=$?"])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["rc=1", "made", "rc=1"], (cp.stdout, cp.stderr)
    assert "Permission denied" in cp.stderr
    assert (ws / "f").read_text() == "made\n"
    events = ppm.audit(ppm.last_id)
    assert any((e.get("policy") or {}).get("rule") == "no-secret" and
               e.get("path", "").startswith("/secret") for e in events), events
    with open("/proc/self/mountinfo") as f:
        assert ppm.last_id not in f.read()


def test_git_in_an_allowed_workspace_under_podman(engine: Podman, tmp_path: Path) -> None:
    """Issue 6's e2e: `git init && git commit` in the allowed workspace works under the
    file policy (creates, renames, links, chmods, fsyncs, mmap reads through FUSE and
    the ADDFD open path), and `cat /secret/key` is still denied. The image has no git:
    the host's git, its libraries and templates are bound in read-only."""
    import shutil

    git = shutil.which("git")
    assert git, "git is missing on the host (scripts/setup.sh installs it)"
    secret, ws, ppm = _file_policy_setup(engine, tmp_path)
    binds = []
    for src in ("/usr/bin/git", "/lib/x86_64-linux-gnu", "/lib64", "/usr/share/git-core"):
        real = os.path.realpath(src)
        assert os.path.exists(real), f"{src} missing on the host"
        binds += ["-v", f"{real}:{src}:ro"]
    script = ("cd /workspace && git init -q && echo hello > a.txt && git add a.txt && "
              "git -c user.email=t@example.com -c user.name=t commit -qm first && "
              "echo more >> a.txt && git -c user.email=t@example.com -c user.name=t "
              "commit -qam second && git log --oneline | wc -l && git status --short | "
              "wc -l; cat /secret/key; echo rc=$?")
    cp = ppm.run("--rm", "-e", "HOME=/tmp", "-v", f"{secret}:/secret", "-v",
                 f"{ws}:/workspace", *binds, cmd=["sh", "-c", script])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["2", "0", "rc=1"], (cp.stdout, cp.stderr)
    assert "Permission denied" in cp.stderr
    log = subprocess.run(["git", "-C", str(ws), "log", "--format=%s"], capture_output=True,
                         text=True)
    assert log.stdout.split() == ["second", "first"], log
    events = ppm.audit(ppm.last_id)
    assert any((e.get("policy") or {}).get("rule") == "no-secret" for e in events), events


def test_default_policy_guards_proc_and_keeps_the_dev_nodes(engine: Podman,
                                                            tmp_path: Path) -> None:
    """The built-in default policy under podman: /proc/*/environ denied with an event
    (kernel subtree, decided at the open notification), /dev/null writable, /proc
    readable; no FUSE or agentsh mount left after --rm."""
    from agentsh_runtime.policy.resolve import builtin_text

    ppm = PolicyPodman(engine, tmp_path, builtin_text("default"))
    cp = ppm.run("--rm", "-e", "AGENT_MARK=hunter2",
                 cmd=["sh", "-c", "echo a > /dev/null; echo rc=$?; cat /proc/1/environ; "
                      "echo rc=$?; head -1 /proc/self/status"])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split("\n")[:2] == ["rc=0", "rc=1"], (cp.stdout, cp.stderr)
    assert "hunter2" not in cp.stdout and "Name:" in cp.stdout, (cp.stdout, cp.stderr)
    assert "Permission denied" in cp.stderr
    denied = [e for e in ppm.audit(ppm.last_id)
              if e.get("type") == "file_open" and e.get("path") == "/proc/1/environ"]
    assert denied and denied[0]["policy"]["effective_decision"] == "deny", denied
    assert not [m for m in Path("/proc/self/mountinfo").read_text().splitlines()
                if "agentsh" in m or " fuse" in m], "a mount was left behind"
