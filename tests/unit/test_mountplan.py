"""The mount plan (policy/mountplan.py): table-driven cases, the built-in policies over a
podman-like mount list, a property test (the plan is never looser than the engine) and
`agentsh-runtime policy plan`."""

import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from agentsh_runtime.cli.app import cli
from agentsh_runtime.policy import model as m
from agentsh_runtime.policy.engine import FILE, Engine, FileQuery
from agentsh_runtime.policy.errors import PolicyError
from agentsh_runtime.policy.load import loads
from agentsh_runtime.policy.mountplan import (
    FUSE,
    KERNEL,
    NATIVE,
    NATIVE_RO,
    MountPlan,
    MountPoint,
    compile_plan,
)
from agentsh_runtime.policy.resolve import builtin_text

VARS = {"HOME": "/root", "PROJECT_ROOT": "/workspace", "GIT_ROOT": "/workspace"}
PODMAN = [
    MountPoint("/", "rootfs"),
    MountPoint("/proc", "proc", ("nosuid", "noexec", "nodev")),
    MountPoint("/dev", "tmpfs", ("nosuid", "strictatime", "mode=755")),
    MountPoint("/dev/pts", "devpts", ("nosuid", "noexec")),
    MountPoint("/dev/shm", "bind", ("bind", "nosuid", "noexec", "nodev")),
    MountPoint("/dev/mqueue", "mqueue", ("nosuid", "noexec", "nodev")),
    MountPoint("/sys", "sysfs", ("nosuid", "noexec", "nodev", "ro")),
    MountPoint("/sys/fs/cgroup", "cgroup", ("nosuid", "noexec", "nodev", "ro")),
    MountPoint("/etc/hosts", "bind", ("bind", "rprivate"), "file"),
    MountPoint("/etc/resolv.conf", "bind", ("bind", "rprivate"), "file"),
    MountPoint("/workspace", "bind", ("rbind", "rprivate")),
]
KERNEL_DIRS = ("/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys",
               "/sys/fs/cgroup")
QUIET = {"log_allowed": False, "log_denied": False, "log_approved": False}


def policy_yaml(rules, audit=None):
    doc = {"version": 1, "name": "t", "file_rules": rules}
    if audit is not None:
        doc["audit"] = audit
    return json.dumps(doc)


ROOT_ONLY = (MountPoint("/"),)


def build(rules, audit=QUIET, mounts=ROOT_ONLY, variables=VARS, mode="enforce",
          **kw) -> tuple[MountPlan, Engine]:
    engine = Engine(loads(policy_yaml(rules, audit)), variables, mode=mode)
    return compile_plan(engine, mounts, **kw), engine


def plan_of(*args, **kw) -> MountPlan:
    return build(*args, **kw)[0]


def allow(paths, ops=("*",), name=None):
    return {"name": name or f"allow {paths[0]}", "paths": list(paths), "operations": list(ops),
            "decision": "allow"}


def deny(paths, ops=("*",), name=None):
    return {"name": name or f"deny {paths[0]}", "paths": list(paths), "operations": list(ops),
            "decision": "deny"}


READ = sorted(m.READ_OPS)

# ---- the built-in policies over a podman-like mount list ------------------------------

BUILTIN_EXPECT = {
    # log_allowed is on in default, strict and audit-only: every allowed open is an event
    "default": {"/": FUSE, "/workspace": FUSE, "/etc": FUSE, "/etc/hosts": NATIVE,
                "/etc/resolv.conf": NATIVE, **dict.fromkeys(KERNEL_DIRS, KERNEL)},
    "strict": {"/": FUSE, "/workspace": FUSE, "/tmp": FUSE, "/etc/hosts": NATIVE,
               **dict.fromkeys(KERNEL_DIRS, KERNEL)},
    "audit-only": {"/": FUSE, "/workspace": FUSE, "/etc/hosts": NATIVE,
                   **dict.fromkeys(KERNEL_DIRS, KERNEL)},
    "allow-all": {"/": NATIVE, "/workspace": NATIVE, "/etc/hosts": NATIVE,
                  "/usr/bin": NATIVE, **dict.fromkeys(KERNEL_DIRS, KERNEL)},
}


@pytest.mark.parametrize("name", sorted(BUILTIN_EXPECT))
def test_builtin_policies_on_podman_mounts(name):
    engine = Engine(loads(builtin_text(name)), VARS)
    plan = compile_plan(engine, PODMAN)
    for path, want in BUILTIN_EXPECT[name].items():
        assert plan.treatment(path) == want, (name, path, plan.entry_for(path))
    assert [e.path for e in plan.entries][0] == "/"
    # every mount is an entry of its own, parents first
    paths = [e.path for e in plan.entries]
    for mp in PODMAN:
        assert mp.destination in paths
    assert paths == sorted(paths, key=lambda p: [c for c in p.split("/") if c])
    if name == "allow-all":
        assert plan.fuse_roots() == () and plan.layers() == () and plan.warnings == ()
    else:
        assert plan.fuse_roots() == ("/", "/workspace")
        assert [(x.path, x.action) for x in plan.layers()] == [("/", "fuse"),
                                                               ("/workspace", "fuse")]
        # the single-file binds stay native, with a warning; kernel filesystems too
        assert any(w.startswith("/etc/hosts: a single file") for w in plan.warnings)
        assert any(w.startswith("/proc (proc): a kernel filesystem") for w in plan.warnings)


def test_default_policy_reasons_name_the_rules():
    plan = compile_plan(Engine(loads(builtin_text("default")), VARS), PODMAN)
    ws = plan.entry_for("/workspace/src/x.py")
    assert ws.path == "/workspace" and ws.mount == "/workspace"
    assert "workspace-delete-needs-approval" in ws.reasons
    assert "deny-secrets" in ws.reasons  # **/.env reaches into every directory
    root = plan.entry_for("/usr/bin/ls")
    assert {"deny-secrets", "system-read-only", "audit.log_allowed"} <= set(root.reasons)
    proc = plan.entry_for("/proc/1/environ")
    assert proc.treatment == KERNEL and proc.wanted == FUSE and "deny-secrets" in proc.reasons
    w = next(w for w in plan.warnings if w.startswith("/proc (proc)"))
    assert "deny-secrets" in w and "not enforced" in w


def test_default_policy_quiet_audit_still_mediates_what_it_must():
    """The default policy with every event off: the system paths become read-only binds
    where nothing else reaches; the secrets and approvals keep FUSE."""
    from agentsh_runtime.policy.load import parse_yaml

    doc = parse_yaml(builtin_text("default"), "default")
    doc["audit"] = dict(QUIET)
    engine = Engine(loads(json.dumps(doc)), VARS)
    plan = compile_plan(engine, PODMAN)
    # **/.env (deny-secrets) can match below any directory: everything stays mediated
    assert plan.treatment("/usr") == FUSE
    assert plan.treatment("/workspace") == FUSE
    doc["file_rules"][0]["paths"] = [p for p in doc["file_rules"][0]["paths"]
                                     if not p.startswith("**")]
    plan = compile_plan(Engine(loads(json.dumps(doc)), VARS), PODMAN)
    assert plan.treatment("/usr/lib") == NATIVE_RO  # read-only by system-read-only
    assert plan.treatment("/tmp/x") == NATIVE  # temp: everything allowed
    assert plan.treatment("/root/.ssh/id_rsa") == FUSE  # denied reads
    assert plan.treatment("/workspace/x") == FUSE  # deletes need approval
    # "/" and what no rule names below it: reads by default, writes denied
    assert plan.treatment("/") == NATIVE_RO and plan.treatment("/opt/x") == NATIVE_RO
    assert plan.treatment("/etc/hosts") == NATIVE_RO  # a read-only bind of a file
    # /root: tool caches allowed inside a read-only parent, secrets denied beside them
    assert plan.treatment("/root") == FUSE
    assert plan.treatment("/root/.cache/pip") == NATIVE
    assert plan.treatment("/root/.config/gcloud/x") == FUSE
    assert plan.treatment("/root/.config/fish") == NATIVE_RO
    assert plan.treatment("/dev/shm") == KERNEL and plan.entry_for("/dev/shm").reasons == ()
    assert plan.fuse_roots() == ("/root", "/root/.config/gcloud", "/root/.config/gh",
                                 "/workspace")
    layers = [(x.path, x.action) for x in plan.layers()]
    assert layers[:2] == [("/", "bind_ro"), ("/etc/hosts", "bind_ro")]
    assert layers.index(("/root", "fuse")) < layers.index(("/root/.cache", "bind")) \
        < layers.index(("/root/.config", "bind_ro")) \
        < layers.index(("/root/.config/gcloud", "fuse"))
    assert ("/tmp", "bind") in layers and ("/workspace", "fuse") in layers


# ---- table-driven cases ---------------------------------------------------------------

CASES = [
    # (id, rules, audit, expectations)
    ("allow-all quiet", [allow(["**"])], QUIET, {"/": NATIVE, "/a/b": NATIVE}),
    ("log_allowed makes everything fuse", [allow(["**"])], {"log_allowed": True},
     {"/": FUSE, "/a/b": FUSE}),
    ("deny of reads under /secret", [deny(["/secret/**"]), allow(["/**"])], QUIET,
     {"/": NATIVE, "/secret/key": FUSE, "/secrets": NATIVE, "/etc": NATIVE}),
    ("allow before deny: the deny never decides /a/b",
     [allow(["/a/**"]), deny(["/a/b/**"]), allow(["/**"])], QUIET,
     {"/": NATIVE, "/a": NATIVE, "/a/b/c": NATIVE}),
    ("deny before allow: it decides /a/b only",
     [deny(["/a/b/**"]), allow(["/a/**"]), allow(["/**"])], QUIET,
     {"/": NATIVE, "/a": NATIVE, "/a/c": NATIVE, "/a/b/c": FUSE}),
    ("** at the start reaches everything", [deny(["**/.env"]), allow(["**"])], QUIET,
     {"/": FUSE, "/a/b": FUSE}),
    ("/a/**/b reaches below /a", [deny(["/a/**/b"]), allow(["/**"])], QUIET,
     {"/": NATIVE, "/a": FUSE, "/a/x/y": FUSE, "/c": NATIVE}),
    ("*.env without / never matches", [deny(["*.env"]), allow(["/**"])], QUIET,
     {"/": NATIVE, "/a/.env": NATIVE}),
    ("*/etc/** is /etc/**", [deny(["*/etc/**"]), allow(["/**"])], QUIET,
     {"/": NATIVE, "/etc/passwd": FUSE, "/usr": NATIVE}),
    ("?etc/** never matches", [deny(["?etc/**"]), allow(["/**"])], QUIET, {"/": NATIVE}),
    ("[/]etc/** may: conservative", [deny(["[/]etc/**"]), allow(["/**"])], QUIET,
     {"/": FUSE}),
    ("[!/]etc/** never matches", [deny(["[!/]etc/**"]), allow(["/**"])], QUIET,
     {"/": NATIVE}),
    ("braces split", [deny(["{/x,/y/z}/**"]), allow(["/**"])], QUIET,
     {"/": NATIVE, "/x/1": FUSE, "/y": NATIVE, "/y/z/1": FUSE, "/y/q": NATIVE}),
    ("a glob mid-name: the directory above", [deny(["/a/b*"]), allow(["/**"])], QUIET,
     {"/": NATIVE, "/a": FUSE, "/a/c": FUSE}),
    ("a partial glob covers nothing", [allow(["/a", "/a/b*"]), deny(["/**"])], QUIET,
     {"/": FUSE, "/a": FUSE, "/a/bc": FUSE, "/a/c": FUSE}),
    ("/a/** covers below /a", [allow(["/a", "/a/**"]), deny(["/**"])], QUIET,
     {"/": FUSE, "/a": NATIVE, "/a/c/d": NATIVE}),
    ("one file denied: its directory", [deny(["/etc/shadow"]), allow(["/**"])], QUIET,
     {"/": NATIVE, "/etc": FUSE, "/usr": NATIVE}),
    ("/** covers / itself", [deny(["/secret"]), allow(["/**"])], QUIET,
     {"/": FUSE, "/usr": FUSE}),
    ("reads only: read-only bind", [allow(["/**"], READ)], QUIET, {"/": NATIVE_RO}),
    ("reads only, denials logged", [allow(["/**"], READ)], {**QUIET, "log_denied": True},
     {"/": FUSE}),
    ("writable /tmp inside read-only /", [allow(["/**"], READ), allow(["/tmp", "/tmp/**"])],
     QUIET, {"/": NATIVE_RO, "/tmp": NATIVE, "/tmp/x": NATIVE, "/usr": NATIVE_RO}),
    ("a write allowed somewhere unknown: mixed", [allow(["/**"], READ),
                                                  allow(["/**/*.log"], ["write"])],
     QUIET, {"/": FUSE}),
    ("no rules: the defaults", [], QUIET, {"/": NATIVE_RO}),
    ("approve", [{"paths": ["/w/**"], "decision": "approve"}, allow(["/**"])], QUIET,
     {"/": NATIVE, "/w/x": FUSE}),
    ("audit", [{"paths": ["/w/**"], "decision": "audit"}, allow(["/**"])], QUIET,
     {"/": NATIVE, "/w/x": FUSE}),
    ("redirect", [{"paths": ["/w/**"], "decision": "redirect", "redirect_to": "/r"},
                  allow(["/**"])], QUIET, {"/": NATIVE, "/w/x": FUSE, "/r": NATIVE}),
    ("soft_delete", [{"paths": ["/w/**"], "operations": ["delete"], "decision": "soft_delete"},
                     allow(["/**"])], QUIET, {"/": NATIVE, "/w/x": FUSE}),
    ("variables", [deny(["${HOME}/.ssh/**"]), allow(["/**"])], QUIET,
     {"/": NATIVE, "/root": NATIVE, "/root/.ssh/k": FUSE}),
]


@pytest.mark.parametrize("rules,audit,expect", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cases(rules, audit, expect):
    plan, engine = build(rules, audit)
    for path, want in expect.items():
        assert plan.treatment(path) == want, (path, plan.entries)
    _check_never_looser(plan, list(expect) + [e.path for e in plan.entries], engine)


def test_reasons_and_warnings():
    plan = plan_of([deny(["*.env"], name="relative"), deny(["/s/**"], READ, name="secret"),
                    allow(["/**"], name="all")])
    assert plan.entry_for("/s/k").reasons == ("secret",)
    assert plan.entry_for("/usr").reasons == ("all",)
    assert any("relative" in w and "matches no path" in w for w in plan.warnings)
    ro = plan_of([allow(["/**"], READ, name="reads")])
    assert ro.entry_for("/").reasons == ("reads", "default-deny-files")
    logged = plan_of([allow(["**"])], {"log_allowed": True})
    assert logged.entry_for("/").reasons == ("audit.log_allowed",)


def test_native_ro_can_be_switched_off():
    plan = plan_of([allow(["/**"], READ)], native_ro=False)
    assert plan.treatment("/") == FUSE
    assert plan.entry_for("/").reasons == ("default-deny-files",)


def test_audit_mode_logs_denials_instead_of_blocking():
    rules = [deny(["/s/**"]), allow(["/**"])]
    assert plan_of(rules, {**QUIET, "log_denied": True}, mode="audit").treatment("/s/x") == FUSE
    # nothing blocked and nothing logged: plain native
    assert plan_of(rules, QUIET, mode="audit").treatment("/s/x") == NATIVE


def test_mount_boundaries_and_layers():
    mounts = [MountPoint("/"), MountPoint("/ws", "bind", ("rbind",)),
              MountPoint("/ws/cache", "bind", ("rbind",)),
              MountPoint("/data", "bind", ("rbind", "ro"))]
    plan = plan_of([deny(["/ws/secret/**"]), allow(["/ws", "/ws/**"], READ),
                    deny(["/ws", "/ws/**"]), allow(["/**"])], mounts=mounts)
    assert plan.treatment("/") == NATIVE
    assert plan.treatment("/ws/x") == NATIVE_RO
    assert plan.treatment("/ws/secret/k") == FUSE
    assert plan.treatment("/ws/cache/x") == NATIVE_RO  # its own mount, the same rules
    assert plan.treatment("/data") == NATIVE
    assert plan.entry_for("/ws/secret/k").mount == "/ws"
    assert plan.entry_for("/data").readonly
    assert plan.fuse_roots() == ("/ws/secret",)
    assert [(x.path, x.action) for x in plan.layers()] == [
        ("/ws", "bind_ro"), ("/ws/cache", "bind_ro"), ("/ws/secret", "fuse")]


def test_native_inside_fuse_is_a_bind_on_top():
    # first match wins: the allow of /a/b comes before the deny of writes below /a
    plan = plan_of([allow(["/a/b/**", "/a/b"]), deny(["/a/**"], ["write"]), allow(["/**"])],
                   {**QUIET, "log_denied": True})
    assert plan.treatment("/a/x") == FUSE and plan.treatment("/a/b/c") == NATIVE
    assert plan.fuse_roots() == ("/a",)
    assert [(x.path, x.action) for x in plan.layers()] == [("/a", "fuse"), ("/a/b", "bind")]
    # a fuse subtree below that native bind needs its own FUSE mount again
    plan = plan_of([deny(["/a/b/c/**"], ["write"]), allow(["/a/b/**", "/a/b"]),
                    deny(["/a/**"], ["write"]), allow(["/**"])], {**QUIET, "log_denied": True})
    assert plan.fuse_roots() == ("/a", "/a/b/c")
    assert [(x.path, x.action) for x in plan.layers()] == [
        ("/a", "fuse"), ("/a/b", "bind"), ("/a/b/c", "fuse")]


def test_non_directory_mounts():
    mounts = [MountPoint("/"), MountPoint("/run/app.sock", "bind", ("bind",), "other"),
              MountPoint("/etc/hosts", "bind", ("bind",), "file"),
              MountPoint("/etc/motd", "bind", ("bind",), "file")]
    plan = plan_of([deny(["/run/**"]), deny(["/etc/hosts"], ["read"]),
                    allow(["/etc/motd"], READ), deny(["/etc/motd"]), allow(["/**"])],
                   mounts=mounts)
    sock = plan.entry_for("/run/app.sock")
    assert sock.treatment == NATIVE and sock.wanted == FUSE and sock.kind == "other"
    assert plan.treatment("/etc/hosts") == NATIVE
    assert plan.entry_for("/etc/hosts").wanted == FUSE
    assert plan.treatment("/etc/motd") == NATIVE_RO  # a read-only bind of a file works
    assert any(w.startswith("/run/app.sock: a socket") for w in plan.warnings)
    assert any(w.startswith("/etc/hosts: a single file") for w in plan.warnings)
    assert not any(w.startswith("/etc/motd") for w in plan.warnings)
    assert plan.treatment("/run/other") == FUSE


def test_kernel_paths_without_mounts_and_kernel_types_elsewhere():
    mounts = [MountPoint("/"), MountPoint("/mnt/cg", "cgroup2")]
    plan = plan_of([deny(["/dev/sda"]), allow(["/**"])], mounts=mounts)
    assert plan.treatment("/dev/sda") == KERNEL
    assert plan.treatment("/proc/1") == KERNEL and plan.treatment("/mnt/cg/x") == KERNEL
    assert plan.treatment("/") == NATIVE
    assert any(w.startswith("/dev (bind): under /proc, /sys or /dev") and "deny /dev/sda" in w
               for w in plan.warnings)
    # /dev is a directory of the rootfs here: under a fuse / it is bound back natively
    plan = plan_of([deny(["/s/**"]), allow(["/dev/**"]), deny(["/**"], ["read"])],
                   mounts=mounts)
    assert plan.treatment("/") == FUSE and plan.treatment("/dev/x") == KERNEL
    assert plan.treatment("/mnt/cg") == KERNEL
    assert [(x.path, x.action) for x in plan.layers()] == [
        ("/", "fuse"), ("/dev", "bind"), ("/proc", "bind"), ("/sys", "bind")]
    # a read-only kernel mount already gives EROFS: a read-only wish is no warning
    ro = plan_of([allow(["/**"], READ)], mounts=[MountPoint("/"),
                                                 MountPoint("/sys", "sysfs", ("ro",))])
    assert ro.treatment("/sys") == KERNEL and ro.entry_for("/sys").reasons == ()


def test_to_dict_round_trip():
    plan = plan_of([deny(["/s/**"]), allow(["/**"])])
    doc = json.loads(json.dumps(plan.to_dict()))
    assert doc["fuse_roots"] == ["/s"]
    assert doc["entries"][0] == {"path": "/", "treatment": "native", "wanted": "native",
                                 "reasons": ["allow /**"], "mount": "/", "fstype": "bind",
                                 "readonly": False, "kind": "dir", "sealed": False}
    assert doc["layers"] == [{"path": "/s", "action": "fuse", "mount": "/", "readonly": False}]


# ---- property: the plan is never looser than the engine -------------------------------

def _check_never_looser(plan: MountPlan, paths, engine: Engine):
    audit = engine.policy.audit
    for p in paths:
        e = plan.entry_for(p)
        if e.treatment not in (NATIVE, NATIVE_RO):
            continue
        for op in sorted(m.FILE_OPS):
            d = engine.evaluate(FILE, FileQuery(op, p))
            if e.treatment == NATIVE or op in m.READ_OPS:
                assert d.decision == m.ALLOW and not audit.log_allowed, (p, op, d, e)
            else:
                assert d.decision == m.DENY and not audit.log_denied, (p, op, d, e)


SEGMENTS = ["a", "b", "ws", ".env", "ab", "x.py", "é", "*", "[", "a b"]
glob_tok = st.sampled_from(["/", "/", "/", "a", "b", "ws", "*", "**", "?", "[ab]", "[!a]",
                            "[/]", "{a,b}", "{a/b,}", "{/a,/b}", "\\*", ".env", "[", "${HOME}",
                            ".", "é"])
globs = st.lists(glob_tok, min_size=1, max_size=6).map("".join)
# a literal directory and a wildcard below it, often with the directory itself
lit_dir = st.lists(st.sampled_from(["a", "b", "ws"]), min_size=1, max_size=3).map(
    lambda parts: "/" + "/".join(parts))
suffix = st.sampled_from(["", "/**", "/*", "*", "/b*", "/**/b", "/{a,b}/**", "/*.env", "/?",
                          "/[ab]/**", "/a/**"])
structured = st.builds(lambda pre, d, sfx, both: [pre + d + sfx, d] if both else [pre + d + sfx],
                       st.sampled_from(["", "", "*", "**"]), lit_dir, suffix, st.booleans())
rule_paths = st.one_of(
    st.lists(st.one_of(globs, globs.map(lambda g: "/" + g)), min_size=1, max_size=3),
    structured)
rule = st.fixed_dictionaries({
    "paths": rule_paths,
    "operations": st.one_of(st.just(["*"]), st.just(READ),
                            st.lists(st.sampled_from(sorted(m.FILE_OPS)), min_size=1,
                                     max_size=4)),
    "decision": st.sampled_from(["allow", "allow", "allow", "deny", "deny", "audit",
                                 "approve"]),
})
# a catch-all last rule makes native and read-only subtrees likely
tail = st.sampled_from([[], [allow(["**"])], [allow(["/**"], READ)],
                        [allow(["/**"], READ), deny(["/**"])]])
segment = st.sampled_from(SEGMENTS)
norm_path = st.lists(segment, max_size=4).map(lambda parts: "/" + "/".join(parts))
mostly_off = st.sampled_from([False, False, False, True])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.lists(rule, max_size=4), last=tail, log_allowed=mostly_off,
       log_denied=mostly_off, paths=st.lists(norm_path, min_size=1, max_size=8),
       ws_mount=st.booleans())
def test_property_plan_never_looser_than_engine(rules, last, log_allowed, log_denied, paths,
                                                ws_mount):
    text = policy_yaml(rules + last, {"log_allowed": log_allowed, "log_denied": log_denied})
    try:
        engine = Engine(loads(text), {"HOME": "/ws"})
    except PolicyError:
        assume(False)
    mounts = [MountPoint("/")] + ([MountPoint("/ws", "bind", ("rbind",))] if ws_mount else [])
    plan = compile_plan(engine, mounts)
    # the split points and their children are the likeliest places for a mistake
    probes = list(paths)
    for e in plan.entries:
        base = e.path.rstrip("/")
        probes.append(e.path)
        probes += [f"{base}/{s}" for s in SEGMENTS]
        probes += [f"{base}/{s}/{t}" for s in SEGMENTS[:3] for t in SEGMENTS]
        probes += [base + p for p in paths[:3] if p != "/"]
    _check_never_looser(plan, probes, engine)


# ---- the CLI --------------------------------------------------------------------------

def _bundle(tmp_path, edit=None, name="b"):
    runner = CliRunner()
    bundle = tmp_path / name
    bundle.mkdir()
    assert runner.invoke(cli, ["spec", "--bundle", str(bundle)]).exit_code == 0
    cfg = json.loads((bundle / "config.json").read_text())
    if edit:
        edit(cfg)
    (bundle / "config.json").write_text(json.dumps(cfg))
    return bundle


def _with_workspace(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")

    def edit(cfg):
        cfg["mounts"] += [
            {"destination": "/workspace", "type": "bind", "source": str(ws),
             "options": ["rbind", "rw"]},
            {"destination": "/etc/hosts", "type": "bind", "source": str(hosts),
             "options": ["bind", "ro"]}]
        cfg["annotations"] = {"dev.agentsh.workspace": "/workspace"}
    return edit


def test_cli_plan_text_and_json(tmp_path):
    bundle = _bundle(tmp_path, _with_workspace(tmp_path))
    runner = CliRunner()
    res = runner.invoke(cli, ["policy", "plan", "default", "--bundle", str(bundle)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("policy: default (builtin:default), mode enforce")
    assert any(line.startswith("/workspace ") and " fuse " in line for line in lines)
    assert any(line.startswith("/etc/hosts ") and "native (wants fuse)" in line
               for line in lines)
    assert "fuse mounts: / /workspace" in lines
    assert any(line.startswith("warning: /proc (proc)") for line in lines)
    assert not any("PROJECT_ROOT is '/'" in line for line in lines)  # the annotation counts
    res = runner.invoke(cli, ["policy", "plan", "allow-all", "-b", str(bundle), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["policy"] == "allow-all" and doc["fuse_roots"] == []
    kinds = {e["path"]: e["kind"] for e in doc["entries"]}
    assert kinds["/etc/hosts"] == "file" and kinds["/workspace"] == "dir"
    assert {e["path"]: e["treatment"] for e in doc["entries"]}["/workspace"] == "native"


def test_cli_plan_policy_file_and_no_native_ro(tmp_path):
    bundle = _bundle(tmp_path)
    pol = tmp_path / "p.yaml"
    pol.write_text("version: 1\nname: ro\naudit: {log_allowed: false, log_denied: false}\n"
                   "file_rules:\n  - {paths: ['/**'], operations: [read, open, stat, list, "
                   "readlink, access], decision: allow}\n")
    runner = CliRunner()
    res = runner.invoke(cli, ["policy", "plan", str(pol), "--bundle", str(bundle)])
    assert res.exit_code == 0, res.output
    assert "read-only binds (denied writes get EROFS, not EACCES): /" in res.output
    res = runner.invoke(cli, ["policy", "plan", str(pol), "--bundle", str(bundle),
                              "--no-native-ro"])
    assert "read-only binds (denied writes get EROFS, not EACCES): none" in res.output
    assert "fuse mounts: /" in res.output


def test_cli_plan_bad_input(tmp_path):
    runner = CliRunner()
    bundle = _bundle(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: bad\nfile_rules:\n  - {paths: [/a], decison: deny}\n")
    res = runner.invoke(cli, ["policy", "plan", str(bad), "--bundle", str(bundle)])
    assert res.exit_code == 1 and "file_rules[0].decison: unknown key" in res.output
    res = runner.invoke(cli, ["policy", "plan", "default", "--bundle", str(tmp_path / "nope")])
    assert res.exit_code == 1 and "config.json" in res.output
    broken = _bundle(tmp_path, lambda c: c["mounts"][0].pop("destination"), "broken")
    res = runner.invoke(cli, ["policy", "plan", "default", "--bundle", str(broken)])
    assert res.exit_code == 1 and "mounts[0]" in res.output, res.output
    mode = _bundle(tmp_path, lambda c: c.setdefault("annotations", {}).update(
        {"dev.agentsh.mode": "loud"}), "mode")
    res = runner.invoke(cli, ["policy", "plan", "default", "--bundle", str(mode)])
    assert res.exit_code == 1 and "dev.agentsh.mode" in res.output and "loud" in res.output
    undefined = tmp_path / "u.yaml"
    undefined.write_text("version: 1\nname: u\nfile_rules:\n"
                         "  - {paths: ['${NOPE}/x'], decision: deny}\n")
    res = runner.invoke(cli, ["policy", "plan", str(undefined), "--bundle", str(bundle)])
    assert res.exit_code == 1 and "file_rules[0].paths[0]" in res.output
    assert "NOPE" in res.output


# ---- sealed kernel mounts: name operations the monitor never sees ----------------------

@pytest.mark.parametrize("name,sealed", [("default", ("/dev",)),
                                         ("strict", ("/dev", "/dev/mqueue"))])
def test_builtin_policies_seal_the_dev_tmpfs(name, sealed):
    # /dev/shm (and under default /dev/mqueue): the policies allow everything there; /proc
    # cannot be sealed (its writes are the monitor's to decide); /sys is read-only already
    plan = compile_plan(Engine(loads(builtin_text(name)), VARS), PODMAN)
    assert plan.sealed() == sealed
    assert plan.entry_for("/dev/null").sealed
    assert any(w.startswith("/dev (tmpfs)") and "EROFS" in w for w in plan.warnings)
    assert compile_plan(Engine(loads(builtin_text("allow-all")), VARS), PODMAN).sealed() == ()


def test_a_name_operation_the_policy_allows_keeps_the_mount_writable():
    mounts = [MountPoint("/"), MountPoint("/dev", "tmpfs"), MountPoint("/dev/shm", "tmpfs"),
              MountPoint("/sys", "sysfs"), MountPoint("/proc", "proc")]
    base = [allow(["/dev/null"], ("open", "read", "write")), allow(["/**"], READ)]
    assert plan_of(base, mounts=mounts).sealed() == ("/dev", "/dev/shm", "/sys")
    # device writes do not keep /dev writable; a create, symlink or delete there does
    for rule in (allow(["/dev/x"], ("create",)), allow(["/dev/d/**"], ("symlink",)),
                 allow(["/dev/**"], ("delete",))):
        assert "/dev" not in plan_of([rule] + base, mounts=mounts).sealed(), rule
    # below /dev and in sysfs a write of a file keeps the mount writable too
    got = plan_of([allow(["/dev/shm/**"], ("write",)), allow(["/sys/kernel/x"], ("write",))]
                  + base, mounts=mounts).sealed()
    assert got == ("/dev",)
    # approve is no deny; audit mode blocks nothing
    assert plan_of([{"name": "ask", "paths": ["/dev/y"], "operations": ["delete"],
                     "decision": "approve"}] + base, mounts=mounts).sealed() == (
        "/dev/shm", "/sys")
    assert plan_of(base, mounts=mounts, mode="audit").sealed() == ()
    # a read-only mount is left as it is, and a bind mount at /dev is never remounted
    ro = [MountPoint("/"), MountPoint("/dev", "tmpfs", ("ro",)), MountPoint("/sys", "bind")]
    assert plan_of(base, mounts=ro).sealed() == ()
