"""config.md#mounts: order, bind and tmpfs mounts, and the ro/nosuid/nodev/noexec options."""

from __future__ import annotations

from conformance.framework import (
    Ctx,
    case,
    check,
    expect_eq,
    kv,
    sh,
)


def _mount_opts_script(path: str) -> str:
    # per-mount options of the last mount at path, from the container's own view
    return f"awk '$5 == \"{path}\" {{ o = $6 }} END {{ print o }}' /proc/self/mountinfo"


@case("mounts.order",
      "mounts MUST be applied in the listed order", "config.md#mounts")
def order(ctx: Ctx) -> None:
    host = ctx.host_dir("src")
    (host / "from-bind").write_text("bind\n")
    b = ctx.bundle(sh("cat /data/sub/from-bind; ls /data"))
    b.mount("/data", "tmpfs", "tmpfs", ["mode=755"])
    b.mount("/data/sub", str(host), "bind", ["rbind"])
    out = ctx.run(b).out.split()
    expect_eq(out, ["bind", "sub"], "content of /data")


@case("mounts.later_shadows_earlier",
      "a later mount on the same path MUST cover an earlier one", "config.md#mounts")
def later_shadows(ctx: Ctx) -> None:
    a = ctx.host_dir("a")
    bdir = ctx.host_dir("b")
    (a / "which").write_text("a\n")
    (bdir / "which").write_text("b\n")
    b = ctx.bundle(["cat", "/m/which"])
    b.mount("/m", str(a), "bind", ["bind"])
    b.mount("/m", str(bdir), "bind", ["bind"])
    expect_eq(ctx.run(b).out.strip(), "b", "/m/which")


@case("mounts.bind_rw",
      "a bind mount MUST show the host dir and write through", "config.md#mounts")
def bind_rw(ctx: Ctx) -> None:
    host = ctx.host_dir("shared")
    (host / "in").write_text("from-host\n")
    b = ctx.bundle(sh("cat /shared/in; echo from-container > /shared/out"))
    b.mount("/shared", str(host), "bind", ["rbind", "rw"])
    expect_eq(ctx.run(b).out.strip(), "from-host", "host file read inside")
    check((host / "out").exists(), "container write did not reach the host dir")
    expect_eq((host / "out").read_text().strip(), "from-container", "written file")


@case("mounts.bind_file",
      "a bind mount of a single file MUST appear at destination", "config.md#mounts")
def bind_file(ctx: Ctx) -> None:
    host = ctx.host_dir("files")
    (host / "conf").write_text("one-file\n")
    b = ctx.bundle(["cat", "/etc/conformance.conf"])
    b.mount("/etc/conformance.conf", str(host / "conf"), "bind", ["bind", "ro"])
    expect_eq(ctx.run(b).out.strip(), "one-file", "content")


@case("mounts.option_ro",
      "option `ro` MUST make the mount read-only", "config.md#mounts")
def option_ro(ctx: Ctx) -> None:
    host = ctx.host_dir("ro")
    b = ctx.bundle(sh("touch /ro/x 2>/dev/null && echo wrote || echo refused; "
                      + _mount_opts_script("/ro")))
    b.mount("/ro", str(host), "bind", ["rbind", "ro"])
    out = ctx.run(b).out.split()
    expect_eq(out[:1], ["refused"], "write to the ro mount")
    check(not (host / "x").exists(), "file created through a ro mount")
    check(len(out) > 1 and "ro" in out[1].split(","), f"mount options {out[1:]} lack ro")


def _flag_case(flag: str) -> None:
    @case(f"mounts.option_{flag}",
          f"option `{flag}` MUST be set on the mount", "config.md#mounts")
    def flag_case(ctx: Ctx) -> None:
        b = ctx.bundle(sh(_mount_opts_script("/flagged")))
        b.mount("/flagged", "tmpfs", "tmpfs", [flag, "mode=755"])
        opts = ctx.run(b).out.strip().split(",")
        check(flag in opts, f"mount options {opts} lack {flag}")


for _f in ("nosuid", "nodev", "noexec"):
    _flag_case(_f)


@case("mounts.noexec_enforced",
      "`noexec`: executing a file from the mount MUST fail", "config.md#mounts")
def noexec_enforced(ctx: Ctx) -> None:
    b = ctx.bundle(sh("cp /bin/busybox /nx/bb && /nx/bb true && echo ran || echo refused"))
    b.mount("/nx", "tmpfs", "tmpfs", ["noexec", "mode=755"])
    expect_eq(ctx.run(b).out.strip().splitlines()[-1:], ["refused"], "exec from noexec mount")


@case("mounts.tmpfs_options",
      "tmpfs data options (size, mode) MUST be passed to the kernel", "config.md#mounts")
def tmpfs_options(ctx: Ctx) -> None:
    b = ctx.bundle(sh("stat -c mode=%a /t; stat -f -c blocks=%b,bsize=%S /t; "
                      "awk '$2 == \"/t\" { print \"type=\" $3 }' /proc/mounts"))
    b.mount("/t", "tmpfs", "tmpfs", ["size=1m", "mode=700", "nosuid"])
    got = kv(ctx.run(b).out.replace(",", "\n"))
    expect_eq(got.get("type"), "tmpfs", "filesystem type")
    expect_eq(got.get("mode"), "700", "mode")
    size = int(got.get("blocks", 0)) * int(got.get("bsize", 0))
    expect_eq(size, 1024 * 1024, "size in bytes")

