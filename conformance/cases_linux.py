"""root.readonly, hostname/domainname (config.md) and config-linux.md: devices,
default devices and /dev symlinks, maskedPaths, readonlyPaths, sysctl."""

from __future__ import annotations

from pathlib import Path

from conformance.framework import (
    Ctx,
    NotApplicable,
    case,
    check,
    expect_eq,
    kv,
    sh,
)
from tests.support.bundle import Bundle

DEFAULT_DEVICES = {  # path: (major, minor)
    "/dev/null": (1, 3), "/dev/zero": (1, 5), "/dev/full": (1, 7),
    "/dev/random": (1, 8), "/dev/urandom": (1, 9), "/dev/tty": (5, 0),
}


@case("root.readonly",
      "root.readonly true: the root filesystem MUST be read-only", "config.md#root")
def root_readonly(ctx: Ctx) -> None:
    b = ctx.bundle(sh("touch /written 2>/dev/null && echo wrote || echo refused"),
                   readonly=True)
    expect_eq(ctx.run(b).out.strip(), "refused", "write to /")
    check(not (b.rootfs / "written").exists(), "file created in a read-only root")


@case("uts.hostname",
      "`hostname` MUST be the hostname seen in the container", "config.md#hostname")
def hostname(ctx: Ctx) -> None:
    b = ctx.bundle(["hostname"], hostname="conformance-host")
    expect_eq(ctx.run(b).out.strip(), "conformance-host", "hostname")


@case("uts.domainname",
      "`domainname` MUST be the NIS domain name in the container", "config.md#domainname")
def domainname(ctx: Ctx) -> None:
    ctx.runc_lacks("1.2.0", "no domainname support (added in runc 1.2)")
    b = ctx.bundle(["cat", "/proc/sys/kernel/domainname"], domainname="conformance.example")
    expect_eq(ctx.run(b).out.strip(), "conformance.example", "domainname")


@case("devices.default_nodes",
      "default devices null,zero,full,(u)random,tty MUST exist",
      "config-linux.md#default-devices")
def default_nodes(ctx: Ctx) -> None:
    paths = " ".join(DEFAULT_DEVICES)
    b = ctx.bundle(sh(f"for d in {paths}; do stat -c '%n=%F,%t,%T,%a' $d; done; "
                      "echo x > /dev/null && head -c 4 /dev/zero | od -An -tx1 | tr -d ' \\n'"))
    out = ctx.run(b).out
    got = kv(out)
    for path, (major, minor) in DEFAULT_DEVICES.items():
        want = f"character special file,{major:x},{minor:x},666"
        expect_eq(got.get(path), want, path)
    check(out.strip().endswith("00000000"), "/dev/zero did not read zeros")


@case("devices.ptmx",
      "/dev/ptmx MUST be a bind mount or symlink of /dev/pts/ptmx",
      "config-linux.md#default-devices")
def ptmx(ctx: Ctx) -> None:
    b = ctx.bundle(sh("stat -L -c '%d:%i' /dev/ptmx /dev/pts/ptmx"))
    out = ctx.run(b).out.split()
    check(len(out) == 2 and out[0] == out[1],
          f"/dev/ptmx and /dev/pts/ptmx are different files: {out}")


@case("devices.dev_symlinks",
      "/dev/fd, stdin, stdout, stderr MUST link to /proc/self/fd",
      "runtime-linux.md#dev-symbolic-links")
def dev_symlinks(ctx: Ctx) -> None:
    b = ctx.bundle(sh("for l in fd stdin stdout stderr; do echo $l=$(readlink /dev/$l); done"))
    got = kv(ctx.run(b).out)
    want = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
            "stderr": "/proc/self/fd/2"}
    expect_eq(got, want, "/dev symlinks")


@case("devices.linux_devices",
      "linux.devices node MUST have type, major:minor, mode, owner",
      "config-linux.md#devices")
def linux_devices(ctx: Ctx) -> None:
    b = ctx.bundle(sh("stat -c '%F,%t,%T,%a,%u,%g' /dev/conformance-null; "
                      "echo x > /dev/conformance-null && echo usable"),
                   devices=[{"path": "/dev/conformance-null", "type": "c", "major": 1,
                             "minor": 3, "fileMode": 0o620, "uid": 0, "gid": 1001}])
    b.linux["resources"]["devices"].append({"allow": True, "type": "c", "major": 1,
                                            "minor": 3, "access": "rwm"})
    out = ctx.run(b).out.splitlines()
    expect_eq(out[:1], ["character special file,1,3,620,0,1001"], "device node")
    expect_eq(out[1:], ["usable"], "writing the device")


def _fuse_bundle(ctx: Ctx, allow: bool) -> Bundle:
    b = ctx.bundle(sh("(exec 3<>/dev/cf-fuse) 2>/dev/null && echo opened || echo denied"),
                   devices=[{"path": "/dev/cf-fuse", "type": "c", "major": 10, "minor": 229,
                             "fileMode": 0o666}])
    if allow:
        b.linux["resources"]["devices"].append({"allow": True, "type": "c", "major": 10,
                                                "minor": 229, "access": "rw"})
    return b


@case("cgroups.devices_deny",
      "devices cgroup deny-all: other devices MUST NOT open",
      "config-linux.md#allowed-device-list")
def devices_deny(ctx: Ctx) -> None:
    if not Path("/dev/fuse").exists():
        raise NotApplicable("no /dev/fuse on this host")
    expect_eq(ctx.run(_fuse_bundle(ctx, allow=False)).out.strip(), "denied",
              "open of a device not in the allow list")


@case("cgroups.devices_allow",
      "resources.devices allow entry MUST make that device usable",
      "config-linux.md#allowed-device-list")
def devices_allow(ctx: Ctx) -> None:
    if not Path("/dev/fuse").exists():
        raise NotApplicable("no /dev/fuse on this host")
    expect_eq(ctx.run(_fuse_bundle(ctx, allow=True)).out.strip(), "opened",
              "open of an allowed device")


@case("paths.masked",
      "maskedPaths MUST be masked: unreadable content, empty dirs",
      "config-linux.md#masked-paths")
def masked(ctx: Ctx) -> None:
    b = ctx.bundle(sh("echo file=$(cat /etc/secret); echo dir=$(ls /etc/secretdir); "
                      "echo kcore=$(head -c 8 /proc/kcore | wc -c)"),
                   masked_paths=["/etc/secret", "/etc/secretdir", "/proc/kcore"])
    (b.rootfs / "etc" / "secret").write_text("top-secret\n")
    (b.rootfs / "etc" / "secretdir").mkdir()
    (b.rootfs / "etc" / "secretdir" / "inside").write_text("hidden\n")
    got = kv(ctx.run(b).out)
    expect_eq(got, {"file": "", "dir": "", "kcore": "0"}, "masked paths as read inside")


@case("paths.readonly",
      "readonlyPaths MUST be read-only in the container", "config-linux.md#readonly-paths")
def readonly_paths(ctx: Ctx) -> None:
    b = ctx.bundle(sh("cat /etc/rodir/f; touch /etc/rodir/new 2>/dev/null && echo wrote "
                      "|| echo refused; echo 1 > /proc/sys/kernel/domainname 2>/dev/null "
                      "&& echo proc-wrote || echo proc-refused"),
                   readonly_paths=["/etc/rodir", "/proc/sys"])
    (b.rootfs / "etc" / "rodir").mkdir()
    (b.rootfs / "etc" / "rodir" / "f").write_text("readable\n")
    expect_eq(ctx.run(b).out.split(), ["readable", "refused", "proc-refused"],
              "read, write, /proc/sys write")
    check(not (b.rootfs / "etc" / "rodir" / "new").exists(), "file created in a readonly path")


@case("sysctl.applied",
      "linux.sysctl MUST be set in the container (net and ipc keys)",
      "config-linux.md#sysctl")
def sysctl(ctx: Ctx) -> None:
    host_fwd = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
    host_msgmax = Path("/proc/sys/kernel/msgmax").read_text().strip()
    want_fwd = "0" if host_fwd == "1" else "1"
    b = ctx.bundle(sh("echo fwd=$(cat /proc/sys/net/ipv4/ip_forward); "
                      "echo msgmax=$(cat /proc/sys/kernel/msgmax)"),
                   sysctl={"net.ipv4.ip_forward": want_fwd, "kernel.msgmax": "12345"})
    got = kv(ctx.run(b).out)
    expect_eq(got, {"fwd": want_fwd, "msgmax": "12345"}, "sysctls inside")
    expect_eq(Path("/proc/sys/net/ipv4/ip_forward").read_text().strip(), host_fwd,
              "host ip_forward (must not change)")
    expect_eq(Path("/proc/sys/kernel/msgmax").read_text().strip(), host_msgmax,
              "host msgmax (must not change)")
