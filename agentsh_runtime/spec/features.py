"""The runtime-spec `features` document: what this build supports (fixed, not probed)."""

from __future__ import annotations

from .. import OCI_VERSION, __version__
from ..linux.caps import CAP_NAMES
from . import mountopts

SECCOMP_ACTIONS = ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                   "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                   "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"]
SECCOMP_OPERATORS = ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
                     "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"]
SECCOMP_ARCHS = ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
                 "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
                 "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
                 "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
                 "SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"]
SECCOMP_FLAGS = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                 "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
AGENTSH_ANNOTATIONS = ["dev.agentsh.policy", "dev.agentsh.policy.inline", "dev.agentsh.mode",
                       "dev.agentsh.events", "dev.agentsh.workspace", "dev.agentsh.ptrace"]


def features() -> dict:
    mount_options = sorted(set(mountopts._FLAGS) | set(mountopts.PROPAGATION)
                           | set(mountopts.RECURSIVE) | mountopts.RUNTIME_OPTIONS)
    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer",
                  "poststart", "poststop"],
        "mountOptions": mount_options,
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "time", "user",
                           "uts"],
            "capabilities": list(CAP_NAMES),
            "cgroup": {"v1": True, "v2": True, "systemd": True, "systemdUser": False,
                       "rdma": True},
            "seccomp": {"enabled": True, "actions": SECCOMP_ACTIONS,
                        "operators": SECCOMP_OPERATORS, "archs": SECCOMP_ARCHS,
                        "knownFlags": SECCOMP_FLAGS, "supportedFlags": SECCOMP_FLAGS},
            "apparmor": {"enabled": True},
            "selinux": {"enabled": True},
            "intelRdt": {"enabled": False},
            "mountExtensions": {"idmap": {"enabled": False}},
        },
        "annotations": {
            "dev.agentsh.runtime.version": __version__,
            "dev.agentsh.runtime.annotations": ",".join(AGENTSH_ANNOTATIONS),
        },
        "potentiallyUnsafeConfigAnnotations": [],
    }
