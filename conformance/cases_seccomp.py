"""config-linux.md#seccomp: filters from linux.seccomp applied to the container process."""

from __future__ import annotations

from typing import Any

from conformance.framework import (
    Ctx,
    case,
    check,
    expect_eq,
    kv,
    sh,
)
from tests.support.bundle import Bundle


def _seccomp(b: Bundle, syscalls: list[dict[str, Any]],
             default: str = "SCMP_ACT_ALLOW") -> Bundle:
    b.linux["seccomp"] = {"defaultAction": default,
                          "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
                                            "SCMP_ARCH_X32"],
                          "syscalls": syscalls}
    return b


MKDIR = ["mkdir", "mkdirat"]
TRY_MKDIR = "mkdir /tmp/made 2>&1; echo rc=$?"


@case("seccomp.errno_default_eperm",
      "SCMP_ACT_ERRNO without errnoRet MUST return EPERM (mkdir)",
      "config-linux.md#seccomp")
def errno_eperm(ctx: Ctx) -> None:
    b = _seccomp(ctx.bundle(sh(TRY_MKDIR)), [{"names": MKDIR, "action": "SCMP_ACT_ERRNO"}])
    out = ctx.run(b).out
    check("Operation not permitted" in out, f"mkdir did not fail with EPERM: {out.strip()!r}")
    check(not (b.rootfs / "tmp" / "made").exists(), "the directory was created")


@case("seccomp.errno_ret",
      "SCMP_ACT_ERRNO with errnoRet MUST return that errno", "config-linux.md#seccomp")
def errno_ret(ctx: Ctx) -> None:
    b = _seccomp(ctx.bundle(sh(TRY_MKDIR)),
                 [{"names": MKDIR, "action": "SCMP_ACT_ERRNO", "errnoRet": 28}])
    out = ctx.run(b).out
    check("No space left on device" in out, f"mkdir did not fail with ENOSPC: {out.strip()!r}")


@case("seccomp.kill",
      "SCMP_ACT_KILL: the calling process MUST be killed", "config-linux.md#seccomp")
def kill(ctx: Ctx) -> None:
    b = _seccomp(ctx.bundle(sh(TRY_MKDIR)), [{"names": MKDIR, "action": "SCMP_ACT_KILL"}])
    out = ctx.run(b).out
    check(not (b.rootfs / "tmp" / "made").exists(), "the directory was created")
    # busybox runs mkdir in the shell or in a child: either nothing more is printed,
    # or the child died of SIGSYS (128 + 31)
    rc = kv(out).get("rc")
    check(rc in (None, "159"), f"mkdir was not killed: {out.strip()!r}")


@case("seccomp.arg_filter",
      "syscall `args` conditions MUST select which calls match",
      "config-linux.md#seccomp")
def arg_filter(ctx: Ctx) -> None:
    rule = {"names": ["kill"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]}
    script = "kill -0 1 2>/dev/null; echo sig0=$?; kill -CONT 1; echo sigcont=$?"
    b = _seccomp(ctx.bundle(sh(script)), [rule])
    expect_eq(kv(ctx.run(b).out), {"sig0": "1", "sigcont": "0"},
              "kill(1, 0) blocked, kill(1, SIGCONT) allowed")


@case("seccomp.filter_mode",
      "with linux.seccomp the process MUST run under a filter",
      "config-linux.md#seccomp")
def filter_mode(ctx: Ctx) -> None:
    b = _seccomp(ctx.bundle(sh("grep ^Seccomp: /proc/self/status")),
                 [{"names": ["acct"], "action": "SCMP_ACT_ERRNO"}])
    expect_eq(kv(ctx.run(b).out, ":").get("Seccomp"), "2", "Seccomp mode")


@case("seccomp.without_no_new_privs",
      "the filter MUST apply with noNewPrivileges false too", "config-linux.md#seccomp")
def without_nnp(ctx: Ctx) -> None:
    b = _seccomp(ctx.bundle(sh(TRY_MKDIR), no_new_privileges=False),
                 [{"names": MKDIR, "action": "SCMP_ACT_ERRNO"}])
    out = ctx.run(b).out
    check("Operation not permitted" in out, f"mkdir did not fail with EPERM: {out.strip()!r}")


@case("seccomp.errno_ret_needs_errno_action",
      "errnoRet on an action without errno MUST make create fail",
      "config-linux.md#seccomp")
def errno_ret_invalid(ctx: Ctx) -> None:
    ctx.runc_lacks("1.2.0", "errnoRet is not validated against the action")
    b = _seccomp(ctx.bundle(["true"]),
                 [{"names": MKDIR, "action": "SCMP_ACT_KILL", "errnoRet": 5}])
    p = ctx.create_raw(b, ctx.cid())
    check(p.returncode != 0, "create accepted errnoRet with SCMP_ACT_KILL")
