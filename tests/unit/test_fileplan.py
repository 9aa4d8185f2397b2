"""container.fileplan: config.json rewritten so the init mounts the plan's FUSE roots
and binds (pure: Spec objects in memory)."""

from __future__ import annotations

import json

from agentsh_runtime.container.fileplan import apply
from agentsh_runtime.policy.engine import Engine
from agentsh_runtime.policy.load import loads
from agentsh_runtime.policy.mountplan import compile_plan, mounts_from_spec
from agentsh_runtime.spec.model import Spec

VARS = {"HOME": "/root", "PROJECT_ROOT": "/workspace", "GIT_ROOT": "/workspace"}


def _spec(tmp_path, mounts):
    cfg = {"ociVersion": "1.2.0", "root": {"path": "rootfs"},
           "process": {"args": ["sh"], "cwd": "/"}, "mounts": mounts}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    return Spec(cfg, str(tmp_path))


def _plan(spec, rules, log_allowed=False):
    doc = {"version": 1, "name": "t", "file_rules": rules,
           "audit": {"log_allowed": log_allowed, "log_denied": True}}
    return compile_plan(Engine(loads(json.dumps(doc)), VARS), mounts_from_spec(spec))


VOLUME = {"destination": "/workspace", "type": "bind", "source": "/srv/proj",
          "options": ["rbind", "rw"]}
PROC = {"destination": "/proc", "type": "proc", "source": "proc"}
ALLOW_ALL = {"name": "all", "paths": ["/**"], "operations": ["*"], "decision": "allow"}


def test_nothing_to_mediate_leaves_the_spec_alone(tmp_path):
    spec = _spec(tmp_path, [PROC, VOLUME])
    before = (spec.root_path, [(m.destination, m.source) for m in spec.mounts])
    fp = apply(spec, _plan(spec, [ALLOW_ALL]), "/run/x/fuse", "/run/x/scratch")
    assert fp.roots == []
    assert (spec.root_path, [(m.destination, m.source) for m in spec.mounts]) == before


def test_a_denied_subtree_in_the_volume_is_bound_from_the_fuse_mount(tmp_path):
    spec = _spec(tmp_path, [PROC, VOLUME])
    rules = [{"name": "secret", "paths": ["/workspace/secret/**"], "operations": ["*"],
              "decision": "deny"}, ALLOW_ALL]
    fp = apply(spec, _plan(spec, rules), "/run/x/fuse", "/run/x/scratch")
    assert [(r.index, r.path, r.backing) for r in fp.roots] == [
        (0, "/workspace/secret", "/srv/proj/secret")]
    dests = [(m.destination, m.source, m.options) for m in spec.mounts]
    assert dests[:2] == [("/proc", "proc", []), ("/workspace", "/srv/proj", ["rbind", "rw"])]
    assert dests[2] == ("/workspace/secret", "/run/x/fuse/0", ["rbind", "nosuid", "nodev"])
    assert spec.root_path == str(tmp_path / "rootfs")


def test_fuse_at_the_root_and_at_a_volume_replace_their_sources(tmp_path):
    spec = _spec(tmp_path, [PROC, VOLUME])
    fp = apply(spec, _plan(spec, [ALLOW_ALL], log_allowed=True), "/run/x/fuse",
               "/run/x/scratch")
    assert [(r.path, r.backing) for r in fp.roots] == [
        ("/", str(tmp_path / "rootfs")), ("/workspace", "/srv/proj")]
    assert spec.root_path == "/run/x/fuse/0"
    ws = [m for m in spec.mounts if m.destination == "/workspace"]
    assert len(ws) == 1 and ws[0].source == "/run/x/fuse/1"
    # /proc stays a kernel mount, mounted on top of the FUSE root by the init; a /dev
    # that is a plain rootfs directory is bound back from the rootfs, not served by FUSE
    by_dest = {m.destination: m for m in spec.mounts}
    assert by_dest["/proc"].type == "proc"
    assert by_dest["/dev"].source == str(tmp_path / "rootfs" / "dev")
    assert [m.destination for m in spec.mounts].index("/dev") < \
        [m.destination for m in spec.mounts].index("/proc")


def test_a_tmpfs_that_needs_fuse_gets_a_disk_backing(tmp_path):
    tmp = {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
           "options": ["nosuid", "size=64m"]}
    spec = _spec(tmp_path, [tmp])
    rules = [{"name": "s", "paths": ["/scratch/**"], "operations": ["write"],
              "decision": "deny"}, ALLOW_ALL]
    fp = apply(spec, _plan(spec, rules), "/run/x/fuse", "/run/x/scratch")
    assert [(r.path, r.backing) for r in fp.roots] == [("/scratch", "/run/x/scratch/0")]
    assert fp.scratch == ["/run/x/scratch/0"] and fp.warnings
    m = spec.mounts[0]
    assert (m.type, m.source, m.options) == ("bind", "/run/x/fuse/0", ["rbind", "nosuid"])
