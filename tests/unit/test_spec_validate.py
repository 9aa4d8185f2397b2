"""config.json validation: generated validator vs jsonschema, field names, semantics.

tests/unit/data/podman-config.json is a real config.json written by podman 4.3
on the build machine (`podman run` with a --runtime wrapper that copied the
bundle's config.json before calling runc; options: a bind volume, pids/memory/cpu
limits, --device /dev/fuse, --sysctl, --tmpfs, --user, --cap-drop ALL,
no-new-privileges, --ulimit, agentsh annotations). Storage paths were rewritten
to the usual /var/lib/containers ones and cgroupsPath to the systemd form
podman sends with --cgroup-manager systemd.
"""

from __future__ import annotations

import ast
import copy
import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from agentsh_runtime.errors import ConfigError
from agentsh_runtime.spec import _generated_validator as gen
from agentsh_runtime.spec.validate import _split_name, validate_config, validate_process

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "config.json.schema"
DATA = Path(__file__).resolve().parent / "data"
SCHEMA = json.loads(SCHEMA_PATH.read_text())
JS = Draft7Validator(SCHEMA)

UINT64_MAX = 18446744073709551615


# ------------------------------------------------------------------ corpus


def podman() -> dict:
    return json.loads((DATA / "podman-config.json").read_text())


def _runc_spec(tmp_path: Path, *flags: str) -> dict:
    runc = shutil.which("runc")
    if runc is None:
        pytest.skip("runc not installed")
    out = tmp_path / ("spec" + "".join(flags))
    out.mkdir()
    subprocess.run([runc, "spec", *flags], cwd=out, check=True, capture_output=True)
    return json.loads((out / "config.json").read_text())


@pytest.fixture
def runc_config(tmp_path: Path) -> dict:
    return _runc_spec(tmp_path)


@pytest.fixture
def runc_rootless_config(tmp_path: Path) -> dict:
    return _runc_spec(tmp_path, "--rootless")


def maximal() -> dict:
    """Every field the schema names, with legal edge values, plus extensions."""
    hook = {"path": "/usr/bin/hook", "args": ["hook", "x"], "env": ["A=1"], "timeout": 5}
    dev = {"major": 8, "minor": 0}
    return {
        "ociVersion": "1.2.0",
        "x-extension": {"anything": [1, 2]},
        "root": {"path": "rootfs", "readonly": True},
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/data", "type": "bind", "source": "/srv", "options": ["rbind", "ro"],
             "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
             "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]},
        ],
        "process": {
            "terminal": True,
            "consoleSize": {"height": 24, "width": 80},
            "user": {"uid": 4294967295, "gid": 0, "umask": 18, "additionalGids": [5, 6],
                     "username": "root"},
            "args": ["/bin/sh", "-c", "true"],
            "commandLine": "sh -c true",
            "env": ["PATH=/bin", "EMPTY="],
            "cwd": "/",
            "capabilities": {k: ["CAP_KILL"] for k in
                             ("bounding", "effective", "inheritable", "permitted", "ambient")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": UINT64_MAX},
                        {"type": "RLIMIT_RTTIME", "soft": 0, "hard": 0}],
            "noNewPrivileges": True,
            "apparmorProfile": "unconfined",
            "oomScoreAdj": -1000,
            "selinuxLabel": "system_u:system_r:container_t:s0",
            "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
            "scheduler": {"policy": "SCHED_DEADLINE", "nice": -5, "priority": 0,
                          "flags": ["SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_UTIL_CLAMP_MAX"],
                          "runtime": 10000, "deadline": 20000, "period": 30000},
            "execCPUAffinity": {"initial": "0", "final": "0-3, 7"},
            "x-process-extension": True,
        },
        "hostname": "agent",
        "domainname": "example.org",
        "hooks": {k: [dict(hook)] for k in ("prestart", "createRuntime", "createContainer",
                                       "startContainer", "poststart", "poststop")},
        "annotations": {
            "dev.agentsh.policy": "default",
            "dev.agentsh.policy.inline": "version: 1\n",
            "dev.agentsh.mode": "audit",
            "dev.agentsh.events": "run-1",
            "dev.agentsh.workspace": "/workspace",
            "dev.agentsh.ptrace": "auto",
            "org.example.other": "",
        },
        "linux": {
            "namespaces": [{"type": t} for t in
                           ("pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time")],
            "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
            "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
            "timeOffsets": {"monotonic": {"secs": -86400, "nanosecs": 0},
                            "boottime": {"secs": 1, "nanosecs": 999999999}},
            "devices": [
                {"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 8630,
                 "uid": 0, "gid": 0},
                {"type": "p", "path": "/dev/fifo"},
            ],
            "cgroupsPath": "/libpod_parent/libpod-0123",
            "resources": {
                "devices": [{"allow": False, "access": "rwm"},
                            {"allow": True, "type": "c", "major": 10, "minor": 229,
                             "access": "rw"}],
                "memory": {"limit": -1, "reservation": -1, "swap": -1, "kernel": -1,
                           "kernelTCP": -1, "swappiness": 0, "disableOOMKiller": False,
                           "useHierarchy": True, "checkBeforeUpdate": True},
                "cpu": {"shares": UINT64_MAX, "quota": -1, "burst": 0, "period": 100000,
                        "realtimeRuntime": -9223372036854775808, "realtimePeriod": 0,
                        "cpus": "0-1", "mems": "0", "idle": 1},
                "pids": {"limit": -1},
                "blockIO": {
                    "weight": 500, "leafWeight": 10,
                    "weightDevice": [dict(dev, weight=500, leafWeight=300)],
                    "throttleReadBpsDevice": [dict(dev, rate=600)],
                    "throttleWriteBpsDevice": [dict(dev, rate=600)],
                    "throttleReadIOPSDevice": [dict(dev, rate=300)],
                    "throttleWriteIOPSDevice": [dict(dev, rate=300)],
                },
                "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}],
                "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
                "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
                "unified": {"memory.high": "max", "io.max": "8:0 rbps=2097152"},
                "x-resource-extension": 1,
            },
            "rootfsPropagation": "rslave",
            "seccomp": {
                "defaultAction": "SCMP_ACT_ERRNO",
                "defaultErrnoRet": 38,
                "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_RISCV64"],
                "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
                "listenerPath": "/run/agentsh/seccomp.sock",
                "listenerMetadata": "container=1",
                "syscalls": [
                    {"names": ["execve", "execveat"], "action": "SCMP_ACT_NOTIFY"},
                    {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                     "args": [{"index": 0, "value": 4294967295, "valueTwo": 0,
                               "op": "SCMP_CMP_MASKED_EQ"}]},
                    {"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                ],
            },
            "sysctl": {"net.ipv4.ip_forward": "1"},
            "maskedPaths": ["/proc/kcore"],
            "readonlyPaths": ["/proc/sys"],
            "mountLabel": "system_u:object_r:container_file_t:s0",
            "intelRdt": {"closID": "guaranteed", "l3CacheSchema": "L3:0=7f0",
                         "memBwSchema": "MB:0=20", "enableCMT": True, "enableMBM": False},
            "personality": {"domain": "LINUX32", "flags": []},
            "netDevices": {"eth1": {"name": "net1"}, "eth2": {}},
        },
    }


def podman_tty() -> dict:
    cfg = podman()
    cfg["process"]["terminal"] = True
    cfg["process"]["consoleSize"] = {"height": 50, "width": 120}
    return cfg


def podman_libpod_cgroupfs() -> dict:
    cfg = podman()
    cfg["linux"]["cgroupsPath"] = "/libpod_parent/libpod-208107f29c9e"
    return cfg


VALID_BUILDERS: dict[str, Callable[[], dict]] = {
    "podman": podman,
    "podman-tty": podman_tty,
    "podman-cgroupfs-path": podman_libpod_cgroupfs,
    "maximal": maximal,
}


def _at(cfg: dict, path: str):
    """Resolve 'a.b[2].c' in cfg (keys here have no dots)."""
    node = cfg
    for part in path.replace("]", "").replace("[", ".").split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def setv(path: str, value) -> Callable[[dict], None]:
    parent, _, key = path.rpartition(".")
    if key.endswith("]"):
        parent, _, idx = path.rpartition("[")

        def mutate_item(cfg: dict) -> None:
            _at(cfg, parent)[int(idx[:-1])] = value
        return mutate_item

    def mutate(cfg: dict) -> None:
        (_at(cfg, parent) if parent else cfg)[key] = value
    return mutate


def delv(path: str) -> Callable[[dict], None]:
    parent, _, key = path.rpartition(".")

    def mutate(cfg: dict) -> None:
        del (_at(cfg, parent) if parent else cfg)[key]
    return mutate


def setkey(path: str, key: str, value) -> Callable[[dict], None]:
    def mutate(cfg: dict) -> None:
        _at(cfg, path)[key] = value
    return mutate


# (id, base builder, mutation, field validate_config must name, words in the reason)
P, M = podman, maximal
SCHEMA_MUTATIONS = [
    ("no-ociVersion", P, delv("ociVersion"), "ociVersion", "is required"),
    ("ociVersion-int", P, setv("ociVersion", 1), "ociVersion", "must be string"),
    ("root-no-path", P, delv("root.path"), "root.path", "is required"),
    ("root-readonly-str", M, setv("root.readonly", "yes"), "root.readonly", "must be boolean"),
    ("mounts-object", P, setv("mounts", {}), "mounts", "must be array"),
    ("mount-not-object", P, setv("mounts[0]", "proc"), "mounts[0]", "must be object"),
    ("mount-no-destination", P, delv("mounts[1].destination"), "mounts[1].destination",
     "is required"),
    ("mount-options-str", P, setv("mounts[1].options", "ro"), "mounts[1].options",
     "must be array"),
    ("mount-option-int", P, setv("mounts[0].options[1]", 5), "mounts[0].options[1]",
     "must be string"),
    ("mount-idmap-no-size", M, setv("mounts[1].uidMappings", [{"containerID": 0, "hostID": 1}]),
     "mounts[1].uidMappings[0].size", "is required"),
    ("args-string", P, setv("process.args", "sh"), "process.args", "must be array"),
    ("no-cwd", P, delv("process.cwd"), "process.cwd", "is required"),
    ("terminal-str", P, setv("process.terminal", "true"), "process.terminal", "must be boolean"),
    ("uid-negative", P, setv("process.user.uid", -1), "process.user.uid", "bigger than or equal"),
    ("gid-too-big", P, setv("process.user.gid", 2**32), "process.user.gid", "smaller than"),
    ("uid-float", P, setv("process.user.uid", 1.5), "process.user.uid", "must be integer"),
    ("uid-bool", P, setv("process.user.uid", True), "process.user.uid", "must be integer"),
    ("additional-gid-str", P, setv("process.user.additionalGids[1]", "10"),
     "process.user.additionalGids[1]", "must be integer"),
    ("caps-string", P, setv("process.capabilities.bounding", "CAP_KILL"),
     "process.capabilities.bounding", "must be array"),
    ("rlimit-type", P, setv("process.rlimits[0].type", "RLIMIT_FOO"), "process.rlimits[0].type",
     "must be one of"),
    ("rlimit-hard-negative", P, setv("process.rlimits[1].hard", -1), "process.rlimits[1].hard",
     "bigger than or equal"),
    ("rlimit-no-soft", P, delv("process.rlimits[0].soft"), "process.rlimits[0].soft",
     "is required"),
    ("console-no-width", P, setv("process.consoleSize", {"height": 24}),
     "process.consoleSize.width", "is required"),
    ("oom-range", P, setv("process.oomScoreAdj", 5000), "process.oomScoreAdj", "smaller than"),
    ("ioprio-class", M, setv("process.ioPriority.class", "IOPRIO_CLASS_X"),
     "process.ioPriority.class", "must be one of"),
    ("sched-policy", M, setv("process.scheduler.policy", "SCHED_FAST"),
     "process.scheduler.policy", "must be one of"),
    ("sched-no-policy", P, setv("process.scheduler", {"nice": 1}), "process.scheduler.policy",
     "is required"),
    ("sched-flag", M, setv("process.scheduler.flags", ["SCHED_FLAG_FAST"]),
     "process.scheduler.flags[0]", "must be one of"),
    ("cpu-affinity", M, setv("process.execCPUAffinity.initial", "0-3;7"),
     "process.execCPUAffinity.initial", "must match pattern"),
    ("nnp-int", P, setv("process.noNewPrivileges", 1), "process.noNewPrivileges",
     "must be boolean"),
    ("hostname-int", P, setv("hostname", 7), "hostname", "must be string"),
    ("hook-no-path", M, setv("hooks.prestart", [{"args": ["x"]}]), "hooks.prestart[0].path",
     "is required"),
    ("hook-timeout-zero", M, setv("hooks.poststop[0].timeout", 0), "hooks.poststop[0].timeout",
     "bigger than or equal"),
    ("mode-annotation", P, setkey("annotations", "dev.agentsh.mode", "block"),
     'annotations["dev.agentsh.mode"]', "must be one of"),
    ("ptrace-annotation", P, setkey("annotations", "dev.agentsh.ptrace", "yes"),
     'annotations["dev.agentsh.ptrace"]', "must be one of"),
    ("policy-annotation-empty", P, setkey("annotations", "dev.agentsh.policy", ""),
     'annotations["dev.agentsh.policy"]', "must not be empty"),
    ("other-annotation-int", P, setkey("annotations", "io.example.count", 1),
     'annotations["io.example.count"]', "must be string"),
    ("linux-array", P, setv("linux", []), "linux", "must be object"),
    ("ns-type", P, setv("linux.namespaces[0].type", "pidd"), "linux.namespaces[0].type",
     "must be one of"),
    ("ns-no-type", P, setv("linux.namespaces[1]", {"path": "/run/netns/x"}),
     "linux.namespaces[1].type", "is required"),
    ("uidmap-host-negative", M, setv("linux.uidMappings[0].hostID", -5),
     "linux.uidMappings[0].hostID", "bigger than or equal"),
    ("device-type", P, setv("linux.devices[0].type", "x"), "linux.devices[0].type",
     "must be one of"),
    ("device-major-str", P, setv("linux.devices[0].major", "10"), "linux.devices[0].major",
     "must be integer"),
    ("cgroup-rule-allow-str", P, setv("linux.resources.devices[1].allow", "yes"),
     "linux.resources.devices[1].allow", "must be boolean"),
    ("cgroup-rule-no-allow", P, delv("linux.resources.devices[0].allow"),
     "linux.resources.devices[0].allow", "is required"),
    ("memory-limit-str", P, setv("linux.resources.memory.limit", "64m"),
     "linux.resources.memory.limit", "must be integer"),
    ("memory-limit-int64", P, setv("linux.resources.memory.limit", 2**63),
     "linux.resources.memory.limit", "smaller than"),
    ("cpu-shares-negative", P, setv("linux.resources.cpu.shares", -1),
     "linux.resources.cpu.shares", "bigger than or equal"),
    ("pids-no-limit", P, setv("linux.resources.pids", {}), "linux.resources.pids.limit",
     "is required"),
    ("blkio-weight", M, setv("linux.resources.blockIO.weight", 70000),
     "linux.resources.blockIO.weight", "smaller than"),
    ("throttle-no-rate", M, setv("linux.resources.blockIO.throttleReadBpsDevice",
                                 [{"major": 8, "minor": 0}]),
     "linux.resources.blockIO.throttleReadBpsDevice[0].rate", "is required"),
    ("hugepage-no-limit", M, setv("linux.resources.hugepageLimits", [{"pageSize": "2MB"}]),
     "linux.resources.hugepageLimits[0].limit", "is required"),
    ("net-prio-negative", M, setv("linux.resources.network.priorities[0].priority", -1),
     "linux.resources.network.priorities[0].priority", "bigger than or equal"),
    ("unified-int", M, setkey("linux.resources.unified", "memory.max", 5),
     'linux.resources.unified["memory.max"]', "must be string"),
    ("rdma-negative", M, setv("linux.resources.rdma", {"mlx5_1": {"hcaHandles": -1}}),
     "linux.resources.rdma.mlx5_1.hcaHandles", "bigger than or equal"),
    ("propagation", M, setv("linux.rootfsPropagation", "sideways"), "linux.rootfsPropagation",
     "must be one of"),
    ("seccomp-no-default", P, delv("linux.seccomp.defaultAction"),
     "linux.seccomp.defaultAction", "is required"),
    ("seccomp-default", P, setv("linux.seccomp.defaultAction", "SCMP_ACT_BLOCK"),
     "linux.seccomp.defaultAction", "must be one of"),
    ("seccomp-arch", P, setv("linux.seccomp.architectures[0]", "SCMP_ARCH_Z80"),
     "linux.seccomp.architectures[0]", "must be one of"),
    ("seccomp-flag", M, setv("linux.seccomp.flags", ["SECCOMP_FILTER_FLAG_FAST"]),
     "linux.seccomp.flags[0]", "must be one of"),
    ("syscall-no-names", P, setv("linux.seccomp.syscalls[0].names", []),
     "linux.seccomp.syscalls[0].names", "at least 1"),
    ("syscall-action", P, setv("linux.seccomp.syscalls[1].action", "ALLOW"),
     "linux.seccomp.syscalls[1].action", "must be one of"),
    ("syscall-errno-negative", P, setv("linux.seccomp.syscalls[0].errnoRet", -1),
     "linux.seccomp.syscalls[0].errnoRet", "bigger than or equal"),
    ("syscall-arg-op", P, setv("linux.seccomp.syscalls[2].args[0].op", "EQ"),
     "linux.seccomp.syscalls[2].args[0].op", "must be one of"),
    ("syscall-arg-no-value", P, delv("linux.seccomp.syscalls[2].args[0].value"),
     "linux.seccomp.syscalls[2].args[0].value", "is required"),
    ("sysctl-int", P, setkey("linux.sysctl", "net.ipv4.ip_forward", 1),
     'linux.sysctl["net.ipv4.ip_forward"]', "must be string"),
    ("masked-string", P, setv("linux.maskedPaths", "/proc/kcore"), "linux.maskedPaths",
     "must be array"),
    ("personality", M, setv("linux.personality.domain", "LINUX64"),
     "linux.personality.domain", "must be one of"),
    ("time-offset-str", M, setv("linux.timeOffsets.monotonic.secs", "1"),
     "linux.timeOffsets.monotonic.secs", "must be integer"),
    ("netdevice-name-int", M, setv("linux.netDevices.eth1.name", 5),
     "linux.netDevices.eth1.name", "must be string"),
    ("intelrdt-bool", M, setv("linux.intelRdt.enableCMT", "yes"), "linux.intelRdt.enableCMT",
     "must be boolean"),
    ("swappiness-negative", M, setv("linux.resources.memory.swappiness", -1),
     "linux.resources.memory.swappiness", "bigger than or equal"),
]


def _fast_ok(cfg: dict) -> tuple[bool, gen.JsonSchemaValueException | None]:
    try:
        gen.validate(cfg)
    except gen.JsonSchemaValueException as exc:
        return False, exc
    return True, None


# ------------------------------------------------------------ (a) agreement


@pytest.mark.parametrize("name", sorted(VALID_BUILDERS))
def test_valid_corpus_passes_both(name: str) -> None:
    cfg = VALID_BUILDERS[name]()
    before = copy.deepcopy(cfg)
    assert JS.is_valid(cfg), [e.message for e in JS.iter_errors(cfg)]
    assert _fast_ok(cfg)[0]
    validate_config(cfg)
    assert cfg == before, "validation must not change the config"


def test_runc_spec_passes_both(runc_config: dict, runc_rootless_config: dict) -> None:
    for cfg in (runc_config, runc_rootless_config):
        assert JS.is_valid(cfg), [e.message for e in JS.iter_errors(cfg)]
        assert _fast_ok(cfg)[0]
        validate_config(cfg)


def test_podman_fixture_is_realistic() -> None:
    cfg = podman()
    seccomp = cfg["linux"]["seccomp"]
    assert sum(len(s["names"]) for s in seccomp["syscalls"]) > 300
    assert any("args" in s for s in seccomp["syscalls"])
    assert any("errnoRet" in s for s in seccomp["syscalls"])
    assert cfg["linux"]["resources"]["devices"][0] == {"allow": False, "access": "rwm"}
    assert cfg["linux"]["devices"][0]["fileMode"] > 512  # podman sends the S_IFCHR bits
    assert cfg["linux"]["cgroupsPath"].startswith("machine.slice:libpod:")


def _assert_fast_error_is_a_jsonschema_error(cfg: dict) -> None:
    ok, exc = _fast_ok(cfg)
    js_errors = list(JS.iter_errors(cfg))
    assert not ok and js_errors
    fast_path = _split_name(exc.name, cfg)
    js_paths = [list(e.absolute_path) for e in js_errors]
    assert fast_path in js_paths, (exc.message, js_paths)


@pytest.mark.parametrize(
    "case", SCHEMA_MUTATIONS, ids=[c[0] for c in SCHEMA_MUTATIONS]
)
def test_mutation_rejected_by_both(case) -> None:
    _, base, mutate, _, _ = case
    cfg = base()
    mutate(cfg)
    _assert_fast_error_is_a_jsonschema_error(cfg)


def test_enough_mutations() -> None:
    assert len(SCHEMA_MUTATIONS) >= 25
    assert len({c[3] for c in SCHEMA_MUTATIONS}) >= 25


def test_runc_spec_mutations_rejected_by_both(runc_config: dict) -> None:
    for mutate in (setv("process.rlimits[0].soft", "1024"), delv("root.path"),
                   setv("linux.namespaces[2].type", "net"),
                   setv("linux.resources.devices[0].access", 7)):
        cfg = copy.deepcopy(runc_config)
        mutate(cfg)
        _assert_fast_error_is_a_jsonschema_error(cfg)


# Values whose verdict we pin for both validators.
EDGE_CASES = [
    ("uid-integral-float", setv("process.user.uid", 1000.0), True),  # draft-07 integer
    ("rlimit-uint64-max", setv("process.rlimits[0].hard", UINT64_MAX), True),
    ("rlimit-past-uint64", setv("process.rlimits[0].hard", UINT64_MAX + 1), False),
    ("memory-limit-minus-one", setv("linux.resources.memory.limit", -1), True),
    ("annotations-null", setv("annotations", None), False),
    ("unknown-namespace-member", setv("linux.namespaces[0].x-ext", 1), True),
    ("unknown-top-level-object", setv("vm", {"hypervisor": {"path": "/bin/qemu"}}), True),
    ("empty-annotation-value", setkey("annotations", "dev.agentsh.policy.inline", ""), True),
    ("unknown-agentsh-annotation", setkey("annotations", "dev.agentsh.future", "x"), True),
]


@pytest.mark.parametrize("case", EDGE_CASES, ids=[c[0] for c in EDGE_CASES])
def test_edge_cases_agree(case) -> None:
    _, mutate, expected = case
    cfg = podman()
    mutate(cfg)
    assert JS.is_valid(cfg) is expected
    assert _fast_ok(cfg)[0] is expected


# --------------------------------------------------- (b) generated file is current


def _load_generator():
    path = REPO / "tools" / "gen_validator.py"
    spec = importlib.util.spec_from_file_location("gen_validator", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_module_is_up_to_date(tmp_path: Path) -> None:
    tool = _load_generator()
    assert tool.main(["--out-dir", str(tmp_path)]) == 0
    checked_in = REPO / "agentsh_runtime" / "spec" / "_generated_validator.py"
    assert (tmp_path / checked_in.name).read_text() == checked_in.read_text(), (
        "run .venv/bin/python tools/gen_validator.py"
    )


def test_data_copy_equals_schema() -> None:
    copy_path = REPO / "agentsh_runtime" / "data" / "config.json.schema"
    assert copy_path.read_bytes() == SCHEMA_PATH.read_bytes()


def test_schema_is_valid_draft7() -> None:
    Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"].startswith("http://json-schema.org/draft-07/")


def test_generated_module_imports_nothing() -> None:
    tree = ast.parse((REPO / "agentsh_runtime" / "spec" / "_generated_validator.py").read_text())
    top = [s for s in tree.body if isinstance(s, ast.Import | ast.ImportFrom)]
    assert top == []
    lazy = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert lazy == ["import re"]  # inside _LazyPatterns.__missing__


def test_hot_path_does_not_import_schema_libraries() -> None:
    """Validating a podman config loads no jsonschema, fastjsonschema, decimal, json or re
    (the lifecycle path parses JSON with agentsh_runtime.jsonio to avoid the last two).
    -S: in a development install, site's editable-install finder imports re itself."""
    code = (
        "import sys\n"
        "from agentsh_runtime.spec.validate import validate_config\n"
        f"validate_config({podman()!r})\n"
        "heavy = ('jsonschema', 'fastjsonschema', 'decimal', 'json', 're')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=REPO, check=True, capture_output=True, text=True
    )
    assert out.stdout.strip() == "[]"


def test_patterns_compile_on_first_use() -> None:
    cfg = podman()
    cfg["process"]["execCPUAffinity"] = {"initial": "0-1", "final": "0"}
    validate_config(cfg)
    cfg["process"]["execCPUAffinity"]["final"] = "all"
    with pytest.raises(ConfigError, match=r"process\.execCPUAffinity\.final: must match"):
        validate_config(cfg)


# ------------------------------------------------------ (c) errors name the field


@pytest.mark.parametrize(
    "case", SCHEMA_MUTATIONS, ids=[c[0] for c in SCHEMA_MUTATIONS]
)
def test_error_names_field(case) -> None:
    _, base, mutate, field, words = case
    cfg = base()
    mutate(cfg)
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    assert err.value.field == field
    assert words in err.value.reason
    assert str(err.value).startswith(field + ": ")


def test_error_messages_read_well() -> None:
    cfg = podman()
    del cfg["mounts"][1]["destination"]
    with pytest.raises(ConfigError, match=r"^mounts\[1\]\.destination: is required$"):
        validate_config(cfg)

    cfg = podman()
    cfg["linux"]["namespaces"][0]["type"] = "pidd"
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    assert err.value.field == "linux.namespaces[0].type"
    assert "must be one of ['pid', 'network'" in err.value.reason
    assert err.value.reason.endswith('got "pidd"')

    cfg = podman()
    cfg["process"]["user"]["uid"] = "1000"
    with pytest.raises(ConfigError, match=r"process\.user\.uid: must be integer, not string"):
        validate_config(cfg)


def test_non_object_config() -> None:
    with pytest.raises(ConfigError) as err:
        validate_config([])  # type: ignore[arg-type]
    assert err.value.field is None
    assert "must be object" in err.value.reason


# ------------------------------------------------------------ (d) semantics


SEMANTIC_CASES = [
    ("oci-major-2", setv("ociVersion", "2.0.0"), "ociVersion", "unsupported ociVersion 2.0.0"),
    ("oci-major-0", setv("ociVersion", "0.5.0-dev"), "ociVersion", "unsupported ociVersion"),
    ("oci-not-semver", setv("ociVersion", "1.0"), "ociVersion", "invalid ociVersion"),
    ("oci-garbage", setv("ociVersion", "latest"), "ociVersion", "invalid ociVersion"),
    ("no-root", delv("root"), "root.path", "is required"),
    ("empty-root-path", setv("root.path", ""), "root.path", "must not be empty"),
    ("empty-args", setv("process.args", []), "process.args", "must not be empty"),
    ("no-args", delv("process.args"), "process.args", "is required"),
    ("relative-cwd", setv("process.cwd", "tmp"), "process.cwd", "absolute path"),
    ("relative-mount", setv("mounts[3].destination", "dev"), "mounts[3].destination",
     "absolute path"),
    ("duplicate-ns", lambda c: c["linux"]["namespaces"].append({"type": "ipc"}),
     "linux.namespaces[5].type", 'duplicate namespace "ipc" (also linux.namespaces[2])'),
    ("relative-ns-path", setv("linux.namespaces[1].path", "netns/x"), "linux.namespaces[1].path",
     "absolute path"),
    ("uidmap-empty-range", setv("linux.uidMappings", [{"containerID": 0, "hostID": 1000,
                                                       "size": 0}]),
     "linux.uidMappings[0].size", "greater than 0"),
    ("gidmap-overflow", setv("linux.gidMappings", [{"containerID": 0, "hostID": 4294967000,
                                                    "size": 65536}]),
     "linux.gidMappings[0].size", "past 4294967295"),
    ("mount-idmap-empty", setv("mounts[0].uidMappings", [{"containerID": 0, "hostID": 1,
                                                          "size": 0}]),
     "mounts[0].uidMappings[0].size", "greater than 0"),
    ("env-no-equals", setv("process.env[1]", "TERM"), "process.env[1]", "NAME=value"),
    ("env-empty-name", setv("process.env[0]", "=x"), "process.env[0]", "NAME=value"),
    ("listener-metadata-alone", setv("linux.seccomp.listenerMetadata", "x"),
     "linux.seccomp.listenerMetadata", "without linux.seccomp.listenerPath"),
]


@pytest.mark.parametrize("case", SEMANTIC_CASES, ids=[c[0] for c in SEMANTIC_CASES])
def test_semantic_checks(case) -> None:
    _, mutate, field, words = case
    cfg = podman()
    mutate(cfg)
    # the schema alone accepts these: they are the semantic layer's job
    assert JS.is_valid(cfg) and _fast_ok(cfg)[0]
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    assert err.value.field == field
    assert words in err.value.reason


def test_semantics_accept_what_engines_send() -> None:
    cfg = podman()
    for version in ("1.0.0", "1.0.2-dev", "1.1.0-rc.1", "1.2.0", "1.3.0+build.5"):
        cfg["ociVersion"] = version
        validate_config(cfg)
    del cfg["process"]  # a config without process is valid (runtime-spec: OPTIONAL)
    validate_config(cfg)
    cfg = podman()
    cfg["linux"]["namespaces"][1]["path"] = ""  # empty path means "create", as runc does
    validate_config(cfg)


def test_validate_process() -> None:
    proc = podman()["process"]
    validate_process(proc)
    validate_process(maximal()["process"])

    bad = copy.deepcopy(proc)
    bad["user"]["uid"] = -1
    with pytest.raises(ConfigError) as err:
        validate_process(bad)
    assert err.value.field == "process.user.uid"

    for mutate, field, words in (
        (delv("cwd"), "process.cwd", "is required"),
        (setv("args", []), "process.args", "must not be empty"),
        (setv("cwd", "relative"), "process.cwd", "absolute path"),
        (setv("env[0]", "NOEQUALS"), "process.env[0]", "NAME=value"),
        (setv("rlimits[0].type", "NOFILE"), "process.rlimits[0].type", "must be one of"),
    ):
        bad = copy.deepcopy(proc)
        mutate(bad)
        with pytest.raises(ConfigError) as err:
            validate_process(bad)
        assert err.value.field == field
        assert words in err.value.reason

    with pytest.raises(ConfigError) as err:
        validate_process(["sh"])  # type: ignore[arg-type]
    assert err.value.field == "process"
    assert "must be object" in err.value.reason


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    if path:
        yield path


def test_every_field_replaced_by_junk_agrees() -> None:
    """Each member of the maximal config (objects and arrays too) swapped for junk
    values: the generated validator and jsonschema give the same verdict."""
    base = maximal()
    checked = rejected = 0
    for path in list(_leaves(base)):
        node = base
        for p in path:
            node = node[p]
        # a string everywhere; numbers also get a negative, containers a null
        junks = ["x", -1] if isinstance(node, int) else ["x", None] if node else ["x"]
        for junk in junks:
            cfg = copy.deepcopy(base)
            node = cfg
            for p in path[:-1]:
                node = node[p]
            node[path[-1]] = junk
            js_paths = [list(e.absolute_path) for e in JS.iter_errors(cfg)]
            fast_ok, exc = _fast_ok(cfg)
            assert fast_ok == (not js_paths), (path, junk, exc and exc.message)
            if not fast_ok:
                rejected += 1
                assert _split_name(exc.name, cfg) in js_paths, (path, junk, exc.message)
            checked += 1
    assert checked > 400 and rejected > checked // 2
