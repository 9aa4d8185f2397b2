"""Building the container's root filesystem, in runc's order.

Runs in the container's init after it entered its mount namespace and before
pivot_root: propagation, the rootfs bind, every mount in config.json, /dev,
then pivot_root (or MS_MOVE + chroot), masked and read-only paths.
"""

from __future__ import annotations

import os
import stat

from ..errors import ConfigError, SetupError
from ..linux import mount as m
from ..spec import mountopts
from ..spec.model import Mount, Spec
from .securejoin import secure_join

DEFAULT_DEVICES = (  # path, major, minor (all char devices, 0666)
    ("/dev/null", 1, 3), ("/dev/zero", 1, 5), ("/dev/full", 1, 7),
    ("/dev/random", 1, 8), ("/dev/urandom", 1, 9), ("/dev/tty", 5, 0),
)
DEV_SYMLINKS = (("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
                ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr"))

# statvfs f_flag bits -> mount flags, to keep locked flags on a remount.
_ST_TO_MS = ((1, m.MS_RDONLY), (2, m.MS_NOSUID), (4, m.MS_NODEV), (8, m.MS_NOEXEC),
             (1024, m.MS_NOATIME), (2048, m.MS_NODIRATIME), (4096, m.MS_RELATIME))


class RootfsContext:
    """What building the rootfs needs besides config.json."""

    __slots__ = ("cgroup_paths", "new_cgroupns", "no_pivot", "bundle", "mount_label")

    def __init__(self, cgroup_paths: dict[str, str], new_cgroupns: bool, no_pivot: bool,
                 bundle: str) -> None:
        self.cgroup_paths = cgroup_paths
        self.new_cgroupns = new_cgroupns
        self.no_pivot = no_pivot
        self.bundle = bundle
        self.mount_label: str | None = None  # linux.mountLabel, when SELinux is on


def prepare(spec: Spec, ctx: RootfsContext) -> None:
    rootfs = spec.root_path
    prop = mountopts.PROPAGATION.get(spec.linux.rootfs_propagation or "rslave")
    if prop is None:
        raise ConfigError(f"unknown propagation {spec.linux.rootfs_propagation!r}",
                          "linux.rootfsPropagation")
    m.mount(None, "/", None, m.MS_REC | prop)
    _make_parent_private(rootfs)
    m.mount(rootfs, rootfs, "bind", m.MS_BIND | m.MS_REC)
    dev_bound = False
    for mnt in spec.mounts:
        if mnt.destination.rstrip("/") == "/dev" and _is_bind(mnt):
            dev_bound = True
        mount_entry(rootfs, mnt, ctx)
    if not dev_bound:
        create_default_devices(rootfs)
    create_devices(rootfs, spec.linux.devices)
    setup_dev_symlinks(rootfs)
    if spec.process is not None and spec.process.cwd != "/":
        # runc creates a missing cwd (owned by root) rather than failing
        os.makedirs(secure_join(rootfs, spec.process.cwd), 0o755, exist_ok=True)


def _is_bind(mnt: Mount) -> bool:
    return mnt.type == "bind" or "bind" in mnt.options or "rbind" in mnt.options


def _make_parent_private(rootfs: str) -> None:
    # pivot_root refuses a new root whose parent mount is shared.
    best = "/"
    shared = False
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point = fields[4]
            if (rootfs == point or rootfs.startswith(point.rstrip("/") + "/")) and \
                    len(point) >= len(best):
                best = point
                opt_end = fields.index("-")
                shared = any(o.startswith("shared:") for o in fields[6:opt_end])
    if shared:
        m.mount(None, best, None, m.MS_PRIVATE)


def _ensure_target(path: str, is_dir: bool) -> None:
    if is_dir:
        os.makedirs(path, 0o755, exist_ok=True)
        return
    os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
    if not os.path.lexists(path):
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o755))


def _remount(dest: str, flags: int, source: str | None = None) -> None:
    try:
        m.mount(source, dest, None, flags | m.MS_REMOUNT)
    except OSError:
        # In a user namespace, flags locked by the outer mount must be kept.
        f_flag = os.statvfs(dest).f_flag
        extra = 0
        for st, ms in _ST_TO_MS:
            if f_flag & st:
                extra |= ms
        m.mount(source, dest, None, flags | extra | m.MS_REMOUNT)


def mount_entry(rootfs: str, mnt: Mount, ctx: RootfsContext) -> None:
    if not mnt.destination.startswith("/"):
        raise ConfigError(f"mount destination {mnt.destination} is not absolute",
                          f"{mnt.field}.destination")
    if mnt.uid_mappings or mnt.gid_mappings:
        raise ConfigError("idmapped mounts are not supported by this runtime",
                          f"{mnt.field}.uidMappings")
    opts = mountopts.parse(mnt.options, f"{mnt.field}.options")
    dest = secure_join(rootfs, mnt.destination)
    try:
        if _is_bind(mnt):
            _mount_bind(mnt, opts, dest, ctx)
        elif mnt.type == "cgroup":
            _mount_cgroup(mnt, opts, dest, ctx)
        else:
            _mount_fs(mnt, opts, dest, ctx)
        for p in opts.propagation:
            m.mount(None, dest, None, p)
        if opts.attr_set or opts.attr_clr:
            _set_recursive_attrs(dest, opts)
    except OSError as e:
        raise SetupError(f"error mounting {mnt.source or mnt.type!r} to rootfs at "
                         f"{mnt.destination!r}: {e.strerror}", mnt.field) from e


def _mount_bind(mnt: Mount, opts: mountopts.MountOptions, dest: str,
                ctx: RootfsContext) -> None:
    source = mnt.source
    if not source.startswith("/"):
        source = os.path.join(ctx.bundle, source)
    try:
        st = os.stat(source)
    except OSError as e:
        raise SetupError(f"bind mount source {mnt.source!r}: {e.strerror}",
                         f"{mnt.field}.source") from e
    _ensure_target(dest, stat.S_ISDIR(st.st_mode))
    flags = opts.flags | m.MS_BIND
    m.mount(source, dest, "bind", flags & (m.MS_BIND | m.MS_REC))
    if flags & ~(m.MS_BIND | m.MS_REC | m.MS_REMOUNT):
        _remount(dest, flags & ~m.MS_REC | m.MS_BIND, None)


def _mount_fs(mnt: Mount, opts: mountopts.MountOptions, dest: str,
              ctx: RootfsContext) -> None:
    _ensure_target(dest, True)
    if ctx.mount_label and mnt.type in ("tmpfs", "devpts", "mqueue", "shm"):
        opts.data.append(ctx.mount_label)
    copy_fd = -1
    if mnt.type == "tmpfs" and opts.tmpcopyup:
        copy_fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    flags = opts.flags
    if _is_dev(mnt):
        flags &= ~m.MS_RDONLY  # the device nodes go in first: finalize_root seals it
    try:
        source = mnt.source or mnt.type
        m.mount(source, dest, mnt.type or None, flags, opts.data_str)
        if copy_fd >= 0:
            _copy_up(copy_fd, dest)
    finally:
        if copy_fd >= 0:
            os.close(copy_fd)


def _copy_up(src_fd: int, dest: str) -> None:
    # The directory fd still sees what the tmpfs now covers.
    import shutil

    src = f"/proc/self/fd/{src_fd}"
    for entry in os.scandir(src):
        target = os.path.join(dest, entry.name)
        if entry.is_dir(follow_symlinks=False):
            shutil.copytree(entry.path, target, symlinks=True)
        else:
            shutil.copy2(entry.path, target, follow_symlinks=False)
    st = os.stat(src)
    os.chmod(dest, stat.S_IMODE(st.st_mode))
    os.chown(dest, st.st_uid, st.st_gid)


def _mount_cgroup(mnt: Mount, opts: mountopts.MountOptions, dest: str,
                  ctx: RootfsContext) -> None:
    from ..cgroups.layout import detect

    layout = detect()
    _ensure_target(dest, True)
    flags = opts.flags & ~m.MS_RDONLY
    if not layout.v1:
        # pure v2: with a cgroup namespace the fresh mount shows the container's own tree.
        if ctx.new_cgroupns:
            m.mount("cgroup2", dest, "cgroup2", opts.flags)
        else:
            m.mount(ctx.cgroup_paths.get("unified", "/sys/fs/cgroup"), dest, "bind",
                    m.MS_BIND | m.MS_REC)
            _remount(dest, opts.flags | m.MS_BIND)
        return
    m.mount("tmpfs", dest, "tmpfs", flags, "mode=755")
    by_mount: dict[str, list[str]] = {}
    for ctrl, mp in layout.v1.items():
        by_mount.setdefault(mp, []).append(ctrl)
    hierarchies = [(os.path.basename(mp), ctrls) for mp, ctrls in sorted(by_mount.items())]
    if layout.v2:
        hierarchies.append((os.path.basename(layout.v2), ["unified"]))
    for name, ctrls in hierarchies:
        target = os.path.join(dest, name)
        os.makedirs(target, 0o755, exist_ok=True)
        key = ctrls[0]
        if ctx.new_cgroupns:
            if key == "unified":
                m.mount("cgroup2", target, "cgroup2", opts.flags)
            else:
                data = ",".join(("name=" + c) if c == "systemd" else c for c in ctrls)
                m.mount("cgroup", target, "cgroup", opts.flags, data)
        else:
            src = ctx.cgroup_paths.get(key)
            if not src:
                continue
            m.mount(src, target, "bind", m.MS_BIND | m.MS_REC)
            _remount(target, opts.flags | m.MS_BIND)
    if opts.flags & m.MS_RDONLY:
        _remount(dest, opts.flags)


def _set_recursive_attrs(dest: str, opts: mountopts.MountOptions) -> None:
    m.mount_setattr_recursive(dest, opts.attr_set, opts.attr_clr)


def create_default_devices(rootfs: str) -> None:
    for path, major, minor in DEFAULT_DEVICES:
        make_device(rootfs, path, "c", major, minor, 0o666, 0, 0)


def create_devices(rootfs: str, devices: list[dict]) -> None:
    for i, dev in enumerate(devices):
        field = f"linux.devices[{i}]"
        path = dev.get("path", "")
        if not path.startswith("/"):
            raise ConfigError(f"device path {path!r} is not absolute", f"{field}.path")
        kind = dev.get("type", "c")
        mode = dev.get("fileMode")
        make_device(rootfs, path, kind, int(dev.get("major", 0)), int(dev.get("minor", 0)),
                    0o666 if mode is None else int(mode) & 0o7777,
                    int(dev.get("uid", 0)), int(dev.get("gid", 0)), field)


def make_device(rootfs: str, path: str, kind: str, major: int, minor: int, mode: int,
                uid: int, gid: int, field: str = "linux.devices") -> None:
    dest = secure_join(rootfs, path)
    os.makedirs(os.path.dirname(dest), 0o755, exist_ok=True)
    type_bits = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK,
                 "p": stat.S_IFIFO}.get(kind)
    if type_bits is None:
        raise ConfigError(f"unknown device type {kind!r}", f"{field}.type")
    if os.path.lexists(dest):
        os.unlink(dest)
    old = os.umask(0)
    try:
        try:
            os.mknod(dest, type_bits | mode, os.makedev(major, minor))
            os.chown(dest, uid, gid)
            return
        except PermissionError:
            pass  # a user namespace may not mknod: bind the host's node instead
        if kind == "p":
            raise SetupError(f"cannot create fifo {path}", field)
        os.close(os.open(dest, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o000))
        m.mount(path, dest, "bind", m.MS_BIND)
    except OSError as e:
        raise SetupError(f"cannot create device {path}: {e.strerror}", field) from e
    finally:
        os.umask(old)


def setup_dev_symlinks(rootfs: str) -> None:
    dev = secure_join(rootfs, "/dev")
    for target, link in DEV_SYMLINKS:
        path = os.path.join(dev, os.path.basename(link))
        if not os.path.lexists(path):
            os.symlink(target, path)
    if os.path.exists("/proc/kcore"):
        core = os.path.join(dev, "core")
        if not os.path.lexists(core):
            os.symlink("/proc/kcore", core)
    ptmx = os.path.join(dev, "ptmx")
    if os.path.isdir(os.path.join(dev, "pts")):
        if os.path.lexists(ptmx):
            os.unlink(ptmx)
        os.symlink("pts/ptmx", ptmx)


def pivot(rootfs: str, no_pivot: bool) -> None:
    if no_pivot:
        os.chdir(rootfs)
        m.mount(rootfs, "/", None, m.MS_MOVE)
        os.chroot(".")
        os.chdir("/")
        return
    old = os.open("/", os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    new = os.open(rootfs, os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fchdir(new)
        m.pivot_root(".", ".")
        os.fchdir(old)
        # The old root must not propagate its unmount to the host.
        m.mount(None, ".", None, m.MS_SLAVE | m.MS_REC)
        m.umount(".", m.MNT_DETACH)
        os.chdir("/")
    finally:
        os.close(old)
        os.close(new)


def mask_paths(paths: list[str]) -> None:
    for p in paths:
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                m.mount("tmpfs", p, "tmpfs", m.MS_RDONLY)
            else:
                m.mount("/dev/null", p, "bind", m.MS_BIND)
        except FileNotFoundError:
            continue
        except OSError as e:
            if e.errno in (2, 20):  # ENOENT, ENOTDIR
                continue
            raise SetupError(f"cannot mask {p}: {e.strerror}", "linux.maskedPaths") from e


def readonly_paths(paths: list[str]) -> None:
    for p in paths:
        try:
            m.mount(p, p, "bind", m.MS_BIND | m.MS_REC)
        except OSError as e:
            if e.errno in (2, 20):
                continue
            raise SetupError(f"cannot make {p} read-only: {e.strerror}",
                             "linux.readonlyPaths") from e
        _remount(p, m.MS_BIND | m.MS_RDONLY | m.MS_REC)


def _is_dev(mnt: Mount) -> bool:
    return os.path.normpath(mnt.destination) == "/dev" and not _is_bind(mnt)


def finalize_root(spec: Spec) -> None:
    for mnt in spec.mounts:
        if not _is_dev(mnt):
            continue
        flags = mountopts.parse(mnt.options, f"{mnt.field}.options").flags
        if flags & m.MS_RDONLY:
            # as runc: a read-only /dev is made so once its nodes and symlinks are in
            _remount("/dev", flags & ~m.MS_REC | m.MS_BIND)
    if spec.root_readonly:
        _remount("/", m.MS_BIND | m.MS_RDONLY)
    if spec.linux.rootfs_propagation:
        m.mount(None, "/", None, mountopts.PROPAGATION[spec.linux.rootfs_propagation])
