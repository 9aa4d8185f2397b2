"""Choosing and applying a policy at create (agentsh-runtime only; see POLICY.md):
annotations, the admin config (--admin-config), modes, env filtering, resource limits,
capability drops, sandbox containers, lifecycle events and `audit`.

Every test passes --admin-config with events_dir inside its tmp_path.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.bundle import (
    Bundle,
    assert_error,
    cap_mask,
    only_ours,
    processes_in,
    runtime_binary,
)
from tests.support.policy import (
    ANN_CRI_TYPE,
    ANN_EVENTS,
    ANN_INLINE,
    ANN_MODE,
    ANN_POLICY,
    DENY_RM,
    PolicyRuntime,
    cgroup_of,
    command_policy,
    in_rootfs,
    is_exec,
    of_type,
    processes_with_arg,
    status_mask,
    write_admin_config,
)

RM_VICTIM = "touch /tmp/victim; /bin/rm /tmp/victim; echo rm-rc=$?"


@pytest.fixture
def admin(tmp_path: Path) -> Path:
    return write_admin_config(tmp_path)


@pytest.fixture
def prt(tmp_path: Path, _tracker, admin: Path) -> Iterator[PolicyRuntime]:  # noqa: ANN001
    """The runtime under test with --admin-config; after the test: every container
    force-deleted, and every monitor it recorded gone."""
    only_ours("agentsh policies")
    rt = PolicyRuntime(runtime_binary(), tmp_path / "pstate", admin)
    _tracker.runtimes.append(rt)
    yield rt
    rt.cleanup()
    deadline = time.monotonic() + 3
    while rt.live_monitors() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = rt.live_monitors()
    assert not left, f"monitors alive after delete --force: {left}"


def assert_nothing_left(rt: PolicyRuntime, bundle: Bundle, cid: str) -> None:
    """After a refused create: no state, no process (monitor included), no events file."""
    assert rt.container_dirs() == [], "a refused create left state in --root"
    assert processes_in(bundle.path) == []
    deadline = time.monotonic() + 2
    while processes_with_arg(cid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with_arg(cid) == [], "a refused create left a process (monitor?)"
    assert bundle.foreign_mounts() == []
    assert not (rt.events_dir / f"{cid}.jsonl").exists(), "a refused create wrote events"


# -- a bad policy --------------------------------------------------------------------

BAD_POLICIES = {
    "unknown-key": (
        "version: 1\nname: t\ncommand_rules:\n"
        "  - name: a\n    commands: [rm]\n    decison: deny\n",
        "command_rules[0].decison"),
    "bad-regex": (
        "version: 1\nname: t\ncommand_rules:\n"
        "  - name: a\n    commands: [rm]\n    args_patterns: ['(']\n    decision: deny\n",
        "command_rules[0].args_patterns[0]"),
    "undefined-variable": (
        "version: 1\nname: t\nfile_rules:\n"
        "  - name: a\n    paths: ['${NO_SUCH_VAR}/x']\n    operations: [read]\n"
        "    decision: deny\n",
        "file_rules[0].paths[0]"),
    "unknown-decision": (
        "version: 1\nname: t\ncommand_rules:\n"
        "  - name: a\n    commands: [rm]\n    decision: maybe\n",
        "command_rules[0].decision"),
    "missing-version": ("name: t\n", "version"),
}


@pytest.mark.parametrize("case", sorted(BAD_POLICIES))
def test_bad_policy_fails_create_naming_the_field(prt, bundle, cid, case):
    text, field = BAD_POLICIES[case]
    bundle.update(args=["true"], annotations={ANN_INLINE: text})
    res = prt.create(bundle, cid)
    assert_error(res, field)
    assert_nothing_left(prt, bundle, cid)


def test_bad_mode_annotation_fails_create(prt, bundle, cid):
    bundle.update(args=["true"], annotations={ANN_INLINE: command_policy(DENY_RM),
                                              ANN_MODE: "sometimes"})
    assert_error(prt.create(bundle, cid), ANN_MODE)
    assert_nothing_left(prt, bundle, cid)


def test_bad_policy_file_from_admin_dir_fails_create(prt, bundle, cid, tmp_path):
    pdir = tmp_path / "policies"
    pdir.mkdir()
    (pdir / "broken.yaml").write_text(BAD_POLICIES["unknown-key"][0])
    write_admin_config(tmp_path, policy_dirs=[str(pdir)])
    bundle.update(args=["true"], annotations={ANN_POLICY: "broken"})
    assert_error(prt.create(bundle, cid), "command_rules[0].decison")
    assert_nothing_left(prt, bundle, cid)


# -- modes ---------------------------------------------------------------------------


def test_mode_off_starts_no_monitor_and_enforces_nothing(prt, bundle, cid):
    bundle.update(args=["sh", "-c", RM_VICTIM],
                  annotations={ANN_INLINE: command_policy(DENY_RM), ANN_MODE: "off"})
    out, err, state = prt.run_to_end(bundle, cid)
    assert "monitor" not in state, f"mode off must not start a monitor: {state.get('monitor')}"
    assert "rm-rc=0" in out, (out, err)
    assert not in_rootfs(bundle, "/tmp/victim").exists()


def test_mode_audit_runs_denied_command_and_logs_it(prt, bundle, cid):
    bundle.update(args=["sh", "-c", RM_VICTIM],
                  annotations={ANN_INLINE: command_policy(DENY_RM), ANN_MODE: "audit"})
    out, err, state = prt.run_to_end(bundle, cid)
    assert state.get("monitor"), "mode audit needs the monitor"
    assert "rm-rc=0" in out, (out, err)
    assert not in_rootfs(bundle, "/tmp/victim").exists(), "audit mode must not block"
    ev = prt.wait_event(cid, is_exec("deny", rule="no-rm", argv0="/bin/rm"),
                        what="execve deny event")
    assert ev["policy"]["effective_decision"] == "allow"
    assert ev["effective_action"] == "allowed"


def test_mode_enforce_is_the_default(prt, bundle, cid):
    bundle.update(args=["sh", "-c", RM_VICTIM], annotations={ANN_INLINE: command_policy(DENY_RM)})
    out, err, _ = prt.run_to_end(bundle, cid)
    assert "rm-rc=126" in out, (out, err)
    assert "Permission denied" in err
    assert in_rootfs(bundle, "/tmp/victim").exists()


@pytest.mark.parametrize("mode", ["audit", "off"])
def test_mode_not_allowed_by_admin_is_refused(prt, bundle, cid, tmp_path, mode):
    write_admin_config(tmp_path, allow_modes=["enforce"])
    bundle.update(args=["true"], annotations={ANN_INLINE: command_policy(DENY_RM),
                                              ANN_MODE: mode})
    assert_error(prt.create(bundle, cid), ANN_MODE)
    assert_nothing_left(prt, bundle, cid)


# -- which policy: admin control ------------------------------------------------------


def test_policy_name_outside_allowed_policies_is_refused(prt, bundle, cid, tmp_path):
    write_admin_config(tmp_path, allowed_policies=["strict"])
    bundle.update(args=["true"], annotations={ANN_POLICY: "default"})
    err = assert_error(prt.create(bundle, cid), ANN_POLICY)
    assert "default" in err
    assert_nothing_left(prt, bundle, cid)


def test_inline_policy_outside_allowed_policies_is_refused(prt, bundle, cid, tmp_path):
    write_admin_config(tmp_path, allowed_policies=["strict"])
    bundle.update(args=["true"], annotations={ANN_INLINE: command_policy(DENY_RM)})
    assert_error(prt.create(bundle, cid), ANN_INLINE)
    assert_nothing_left(prt, bundle, cid)


def test_policy_name_inside_allowed_policies_is_used(prt, bundle, cid, tmp_path):
    write_admin_config(tmp_path, allowed_policies=["strict", "default"])
    bundle.update(args=["true"], annotations={ANN_POLICY: "default"})
    res = prt.create(bundle, cid)
    assert res.returncode == 0, res.stderr
    st = prt.state_file(cid)
    assert st["monitor"] and st["policy"]["name"] == "default"
    assert prt.delete(cid, force=True).returncode == 0
    assert prt.monitor_gone(cid)


def _policy_dirs(tmp_path: Path) -> tuple[Path, Path]:
    good, other = tmp_path / "policies", tmp_path / "elsewhere"
    good.mkdir()
    other.mkdir()
    text = command_policy(DENY_RM, name="fromfile")
    (good / "mine.yaml").write_text(text)
    (other / "evil.yaml").write_text(text)
    (good / "link.yaml").symlink_to(other / "evil.yaml")
    write_admin_config(tmp_path, policy_dirs=[str(good)])
    return good, other


@pytest.mark.parametrize("which", ["outside", "symlink-out", "dotdot"])
def test_policy_path_outside_policy_dirs_is_refused(prt, bundle, cid, tmp_path, which):
    good, other = _policy_dirs(tmp_path)
    path = {"outside": str(other / "evil.yaml"), "symlink-out": str(good / "link.yaml"),
            "dotdot": f"{good}/../elsewhere/evil.yaml"}[which]
    bundle.update(args=["true"], annotations={ANN_POLICY: path})
    assert_error(prt.create(bundle, cid), "outside")
    assert_nothing_left(prt, bundle, cid)


@pytest.mark.parametrize("ref", ["path", "name"])
def test_policy_from_policy_dirs_is_used(prt, bundle, cid, tmp_path, ref):
    good, _ = _policy_dirs(tmp_path)
    bundle.update(args=["sh", "-c", RM_VICTIM],
                  annotations={ANN_POLICY: str(good / "mine.yaml") if ref == "path" else "mine"})
    out, err, state = prt.run_to_end(bundle, cid)
    assert state.get("monitor")
    assert "rm-rc=126" in out, (out, err)


@pytest.mark.parametrize("name", ["../x", "../../etc/evil", "/tmp/x", "a/b", "..", "."])
def test_events_annotation_escaping_events_dir_is_refused(prt, bundle, cid, name):
    bundle.update(args=["true"], annotations={ANN_INLINE: command_policy(DENY_RM),
                                              ANN_EVENTS: name})
    assert_error(prt.create(bundle, cid), ANN_EVENTS)
    assert_nothing_left(prt, bundle, cid)


def test_events_annotation_adds_a_file_in_events_dir(prt, bundle, cid):
    bundle.update(args=["sh", "-c", RM_VICTIM],
                  annotations={ANN_INLINE: command_policy(DENY_RM), ANN_EVENTS: f"extra-{cid}"})
    prt.run_to_end(bundle, cid)
    extra = prt.events_dir / f"extra-{cid}.jsonl"
    assert extra.exists(), sorted(p.name for p in prt.events_dir.iterdir())
    evs = [json.loads(ln) for ln in extra.read_text().splitlines() if ln.strip()]
    assert any(is_exec("deny", rule="no-rm")(e) for e in evs), evs


def test_annotations_none_ignores_annotations(prt, bundle, cid, tmp_path):
    """admin `annotations: none`: the pod's annotations cannot choose the policy."""
    write_admin_config(tmp_path, annotations="none")
    bundle.update(args=["sh", "-c", RM_VICTIM], annotations={ANN_INLINE: command_policy(DENY_RM)})
    out, err, state = prt.run_to_end(bundle, cid)
    assert "monitor" not in state
    assert "rm-rc=0" in out, (out, err)


def test_admin_default_policy_applies_without_annotations(prt, bundle, cid, tmp_path):
    pdir = tmp_path / "policies"
    pdir.mkdir()
    (pdir / "site.yaml").write_text(command_policy(DENY_RM, name="site"))
    write_admin_config(tmp_path, default_policy="site", policy_dirs=[str(pdir)])
    bundle.update(args=["sh", "-c", RM_VICTIM])
    out, err, state = prt.run_to_end(bundle, cid)
    assert state.get("monitor"), "the admin config's default_policy was not applied"
    assert "rm-rc=126" in out, (out, err)


def test_global_default_policy_flag_applies_without_annotations(prt, bundle, cid, tmp_path):
    pdir = tmp_path / "policies"
    pdir.mkdir()
    (pdir / "site.yaml").write_text(command_policy(DENY_RM, name="site"))
    write_admin_config(tmp_path, policy_dirs=[str(pdir)])
    bundle.update(args=["sh", "-c", RM_VICTIM])
    bundle.write()
    prt.ids.add(cid)
    res = prt.cmd("--default-policy", "site", "run", "--bundle", bundle.path, cid)
    assert res.returncode == 0, res.stderr
    assert "rm-rc=126" in res.stdout, (res.stdout, res.stderr)


# -- environment ---------------------------------------------------------------------

SECRETS = {"AWS_SECRET_ACCESS_KEY": "aws-value-1234", "GITHUB_TOKEN": "ghp_value5678",
           "LD_PRELOAD": "/preload-value.so"}


@pytest.mark.parametrize("how", ["inline", "builtin-default", "admin-default"])
def test_env_secrets_removed_and_reported_by_name(prt, bundle, cid, tmp_path, how):
    bundle.update(args=["sh", "-c", "env"], add_env={**SECRETS, "KEEP_ME": "kept-value"})
    if how == "inline":
        bundle.update(annotations={ANN_INLINE: command_policy(DENY_RM, env_policy={"allow": []})})
    elif how == "builtin-default":
        bundle.update(annotations={ANN_POLICY: "default"})
    else:
        write_admin_config(tmp_path, default_policy="default")
    out, err, state = prt.run_to_end(bundle, cid)
    assert state.get("monitor"), "no policy was applied"
    env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert env.get("KEEP_ME") == "kept-value", out
    for name in SECRETS:
        assert name not in env, f"{name} visible in the container:\n{out}"
    ev = prt.wait_event(cid, of_type("env_blocked"), what="env_blocked event")
    names = (ev.get("fields") or {}).get("names") or []
    assert set(SECRETS) <= set(names), ev
    text = (prt.events_dir / f"{cid}.jsonl").read_text()
    for value in SECRETS.values():
        assert value not in text, f"the value {value!r} was written to the events"


def test_env_allow_list_passes_only_allowed(prt, bundle, cid):
    bundle.update(args=["sh", "-c", "env"], add_env={**SECRETS, "KEEP_ME": "x", "DROP_ME": "y"})
    bundle.update(annotations={ANN_INLINE: command_policy(
        DENY_RM, env_policy={"allow": ["PATH", "KEEP_*", "GITHUB_TOKEN"], "deny": ["GITHUB_*"]})})
    out, _, _ = prt.run_to_end(bundle, cid)
    names = {line.split("=", 1)[0] for line in out.splitlines() if "=" in line}
    assert "KEEP_ME" in names and "PATH" in names, out
    assert "DROP_ME" not in names and "AWS_SECRET_ACCESS_KEY" not in names, out
    assert "GITHUB_TOKEN" not in names, "deny wins over allow"


@pytest.mark.parametrize(("limit", "field"), [({"max_keys": 3}, "max_keys"),
                                              ({"max_bytes": 64}, "max_bytes")])
def test_env_over_limit_fails_create(prt, bundle, cid, limit, field):
    bundle.update(args=["true"], add_env={f"V{i}": "x" * 20 for i in range(6)},
                  annotations={ANN_INLINE: command_policy(DENY_RM, env_policy=limit)})
    assert_error(prt.create(bundle, cid), field)
    assert_nothing_left(prt, bundle, cid)


def test_env_inject_added_after_filtering(prt, bundle, cid):
    bundle.update(args=["sh", "-c", "env"], add_env={"GITHUB_TOKEN": "original"},
                  annotations={ANN_INLINE: command_policy(
                      DENY_RM, env_inject={"INJECTED": "from-policy", "GITHUB_TOKEN": "fake"})})
    out, _, _ = prt.run_to_end(bundle, cid)
    env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert env.get("INJECTED") == "from-policy", out
    assert env.get("GITHUB_TOKEN") == "fake", "env_inject comes after filtering"


# -- resource limits -----------------------------------------------------------------

MIB = 1 << 20


@pytest.mark.parametrize(("config_mb", "expect_mb"), [(None, 64), (32, 32), (256, 64)])
def test_policy_memory_limit_merged_stricter_wins(prt, bundle, cid, config_mb, expect_mb):
    bundle.update(annotations={ANN_INLINE: command_policy(
        DENY_RM, resource_limits={"max_memory_mb": 64})})
    if config_mb is not None:
        bundle.linux.setdefault("resources", {})["memory"] = {"limit": config_mb * MIB}
    st = prt.start_idle(bundle, cid)
    limit = Path(cgroup_of(st["pid"], "memory"), "memory.limit_in_bytes").read_text()
    assert int(limit) == expect_mb * MIB
    assert prt.delete(cid, force=True).returncode == 0


def test_policy_pids_limit_applied(prt, bundle, cid):
    bundle.update(annotations={ANN_INLINE: command_policy(
        DENY_RM, resource_limits={"pids_max": 37})})
    st = prt.start_idle(bundle, cid)
    assert Path(cgroup_of(st["pid"], "pids"), "pids.max").read_text().strip() == "37"
    assert prt.delete(cid, force=True).returncode == 0


# -- capabilities --------------------------------------------------------------------

ENFORCEMENT = ["CAP_SYS_ADMIN", "CAP_NET_RAW"]
BASE_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"]


@pytest.mark.parametrize("case", ["no-policy", "policy", "policy-admin-allows"])
def test_enforcement_capabilities_dropped_under_policy(prt, bundle, cid, tmp_path, case):
    bundle.update(args=["sh", "-c", "grep -E '^Cap(Eff|Bnd|Prm)' /proc/self/status"],
                  capabilities=BASE_CAPS + ENFORCEMENT)
    bundle.process["capabilities"].pop("ambient")
    if case != "no-policy":
        bundle.update(annotations={ANN_INLINE: command_policy(DENY_RM)})
    if case == "policy-admin-allows":
        write_admin_config(tmp_path, allowed_capabilities=ENFORCEMENT)
    out, err, _ = prt.run_to_end(bundle, cid)
    kept = case != "policy"
    for field in ("CapEff", "CapBnd", "CapPrm"):
        mask = status_mask(out, field)
        assert mask & cap_mask(BASE_CAPS) == cap_mask(BASE_CAPS), (field, out, err)
        for cap in ENFORCEMENT:
            assert bool(mask & cap_mask([cap])) == kept, f"{case}: {cap} in {field}: {out}"


# -- sandbox containers --------------------------------------------------------------


def test_sandbox_container_gets_no_monitor(prt, bundle, cid):
    bundle.update(args=["sh", "-c", RM_VICTIM],
                  annotations={ANN_INLINE: command_policy(DENY_RM), ANN_CRI_TYPE: "sandbox"})
    out, err, state = prt.run_to_end(bundle, cid)
    assert "monitor" not in state
    assert "rm-rc=0" in out, (out, err)


def test_cri_container_type_container_is_enforced(prt, bundle, cid):
    bundle.update(args=["sh", "-c", RM_VICTIM],
                  annotations={ANN_INLINE: command_policy(DENY_RM), ANN_CRI_TYPE: "container"})
    out, err, state = prt.run_to_end(bundle, cid)
    assert state.get("monitor")
    assert "rm-rc=126" in out, (out, err)


# -- lifecycle events, audit ----------------------------------------------------------

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d)$")


def test_lifecycle_events_survive_delete_and_audit_filters(prt, bundle, cid):
    bundle.update(args=["sh", "-c", "/bin/true; touch /tmp/victim; /bin/rm /tmp/victim; exit 3"],
                  annotations={ANN_INLINE: command_policy(DENY_RM)})
    res = prt.create(bundle, cid)
    assert res.returncode == 0, res.stderr
    mon = prt.monitor(cid)
    assert mon is not None, "no monitor recorded in state.json"
    assert prt.start(cid).returncode == 0
    prt.wait_status(cid, "stopped")
    prt.wait_event(cid, of_type("container_stopped"), what="container_stopped")
    assert prt.delete(cid).returncode == 0
    assert prt.monitor_gone(cid), f"monitor {mon} still alive after delete"

    log = prt.events_dir / f"{cid}.jsonl"
    assert log.exists(), "the events file must outlive delete"
    evs = prt.events(cid)
    types = [e["type"] for e in evs]
    for t in ("container_created", "container_started", "execve", "command_finished",
              "container_stopped"):
        assert t in types, f"no {t} event: {types}"
    assert types.index("container_created") < types.index("container_started") \
        < types.index("container_stopped")
    for e in evs:
        assert e["container_id"] == cid and e.get("id"), e
        assert RFC3339.match(e["timestamp"]), e["timestamp"]
        datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))
    assert len({e["id"] for e in evs}) == len(evs), "event ids must be unique"
    stopped = next(e for e in evs if e["type"] == "container_stopped")
    assert stopped["fields"]["exit_code"] == 3
    finished = [e for e in evs if e["type"] == "command_finished"]
    true_done = [e for e in finished if (e.get("argv") or [""])[0] == "/bin/true"]
    assert true_done and true_done[0]["fields"]["exit_code"] == 0, finished
    init_done = [e for e in finished if e["fields"].get("exit_code") == 3]
    assert init_done, finished

    # audit reads the log back after delete, filtered
    denied = prt.audit_events(cid, "--type", "execve", "--decision", "deny")
    assert denied, "audit --type execve --decision deny found nothing"
    assert all(e["type"] == "execve" and e["policy"]["decision"] == "deny" for e in denied)
    assert any(e["policy"]["rule"] == "no-rm" and e["argv"][0] == "/bin/rm" for e in denied)
    allowed = prt.audit_events(cid, "--type", "execve", "--decision", "allow")
    assert allowed and all(e["policy"]["decision"] == "allow" for e in allowed)
    assert not {e["id"] for e in allowed} & {e["id"] for e in denied}
    started = prt.audit_events(cid, "--type", "container_started")
    assert len(started) == 1, started
    everything = prt.audit_events(cid)
    assert len(everything) == len(evs)
    future = prt.audit_events(cid, "--since", "2999-01-01T00:00:00Z")
    assert future == []


def test_command_finished_has_duration_cpu_and_memory(prt, bundle, cid):
    """POLICY.md: command_finished carries exit code, duration, cpu user/system ms and
    peak memory (agentsh's fields)."""
    bundle.update(args=["sh", "-c", "/bin/true; exit 3"],
                  annotations={ANN_INLINE: command_policy(DENY_RM)})
    prt.run_to_end(bundle, cid)
    ev = prt.wait_event(cid, lambda e: e["type"] == "command_finished"
                        and (e.get("fields") or {}).get("exit_code") == 3)
    fields = ev["fields"]
    assert any("duration" in k for k in fields), fields
    assert any("cpu" in k and "user" in k for k in fields), f"no cpu user time: {fields}"
    assert any("cpu" in k and "sys" in k for k in fields), f"no cpu system time: {fields}"
    assert any("mem" in k for k in fields), f"no peak memory: {fields}"


def test_audit_of_unknown_container_fails(prt):
    res = prt.audit("no-such-container-xyz")
    assert_error(res, "no-such-container-xyz")


def test_policy_loaded_event_names_the_policy(prt, bundle, cid):
    bundle.update(args=["true"], annotations={ANN_INLINE: command_policy(DENY_RM, name="pname")})
    prt.run_to_end(bundle, cid)
    ev = prt.wait_event(cid, of_type("policy_loaded"))
    assert "pname" in json.dumps(ev) or "inline" in json.dumps(ev), ev


def test_delete_of_running_policy_container_stops_monitor(prt, bundle, cid):
    bundle.update(annotations={ANN_INLINE: command_policy(DENY_RM)})
    prt.start_idle(bundle, cid)
    assert prt.monitor(cid)
    assert prt.kill(cid, "KILL").returncode == 0
    prt.wait_status(cid, "stopped")
    assert prt.delete(cid).returncode == 0
    assert prt.monitor_gone(cid), "monitor alive after delete"
    assert not (prt.root / cid).exists()


def test_no_policy_no_monitor(prt, bundle, cid):
    """Without any policy source: plain runc behaviour, no monitor, no events file."""
    bundle.update(args=["sh", "-c", RM_VICTIM])
    out, _, state = prt.run_to_end(bundle, cid)
    assert "monitor" not in state and "policy" not in state
    assert "rm-rc=0" in out
    assert not (prt.events_dir / f"{cid}.jsonl").exists()
