"""Root filesystem and mounts: readonly root, mounts and their options, masked and
readonly paths, /dev, custom devices, propagation, sysctl, hostname, --no-pivot."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bundle import (
    Bundle,
    Runtime,
    assert_error,
    mounts_under,
    only_ours,
    until_stop_file,
)


def run_sh(runtime: Runtime, bundle: Bundle, cid: str, script: str, *opts: str,
           ok: bool = True) -> subprocess.CompletedProcess[str]:
    bundle.update(args=["sh", "-c", script])
    res = runtime.run(bundle, cid, *opts)
    if ok:
        assert res.returncode == 0, f"exit {res.returncode}: {res.stderr}"
    return res


def mount_line(mounts_text: str, mountpoint: str) -> list[str]:
    """The /proc/mounts fields of the last mount on mountpoint."""
    found = [ln.split() for ln in mounts_text.splitlines() if ln.split()[1:2] == [mountpoint]]
    assert found, f"{mountpoint} is not a mount point: {mounts_text}"
    return found[-1]


@pytest.fixture
def host_dir(tmp_path: Path) -> Iterator[Path]:
    """A host directory (outside any bundle) with a file and a tmpfs submount."""
    d = tmp_path / "hostdir"
    d.mkdir()
    (d / "file").write_text("from-host\n")
    sub = d / "sub"
    sub.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(sub)], check=True)
    (sub / "inner").write_text("submount\n")
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(sub)], check=False)


# -- root ----------------------------------------------------------------------------


def test_readonly_root(runtime, bundle, cid):
    bundle.update(readonly=True)
    res = run_sh(runtime, bundle, cid,
                 "touch /newfile; echo rc=$?; grep ' / ' /proc/self/mountinfo; touch /dev/shm/ok",
                 ok=False)
    assert res.returncode == 0, res.stderr
    assert "rc=1" in res.stdout
    assert "Read-only file system" in res.stderr
    root_opts = res.stdout.splitlines()[1].split()[5].split(",")
    assert "ro" in root_opts
    assert not (bundle.rootfs / "newfile").exists()


def test_writable_root(runtime, bundle, cid):
    bundle.update(readonly=False)
    run_sh(runtime, bundle, cid, "echo data > /newfile")
    assert (bundle.rootfs / "newfile").read_text() == "data\n"


def test_default_special_filesystems(runtime, bundle, cid):
    res = run_sh(runtime, bundle, cid, "cat /proc/mounts; echo ===; ls /sys/fs/cgroup | wc -l")
    mounts, count = res.stdout.split("===\n")
    assert mount_line(mounts, "/proc")[2] == "proc"
    assert mount_line(mounts, "/dev")[2] == "tmpfs"
    assert mount_line(mounts, "/dev/pts")[2] == "devpts"
    assert mount_line(mounts, "/dev/shm")[2] == "tmpfs"
    assert mount_line(mounts, "/dev/mqueue")[2] == "mqueue"
    sys_line = mount_line(mounts, "/sys")
    assert sys_line[2] == "sysfs"
    assert "ro" in sys_line[3].split(",")
    assert any(ln.split()[1].startswith("/sys/fs/cgroup") for ln in mounts.splitlines())
    assert int(count) > 0
    devpts = mount_line(mounts, "/dev/pts")[3].split(",")
    assert "nosuid" in devpts and "noexec" in devpts and "gid=5" in devpts
    assert "mode=620" in devpts and "ptmxmode=666" in devpts
    shm = mount_line(mounts, "/dev/shm")[3].split(",")
    assert {"nosuid", "nodev", "noexec"} <= set(shm)
    assert "size=65536k" in shm


def test_tmpfs_size_and_mode(runtime, bundle, cid):
    bundle.mount("/scratch", "tmpfs", "tmpfs", ["nosuid", "size=1m", "mode=700"])
    res = run_sh(runtime, bundle, cid, "grep ' /scratch ' /proc/mounts; stat -c %a /scratch")
    line, mode = res.stdout.splitlines()
    opts = line.split()[3].split(",")
    assert line.split()[2] == "tmpfs"
    assert "size=1024k" in opts and "mode=700" in opts and "nosuid" in opts
    assert mode == "700"


def test_mount_destination_created(runtime, bundle, cid):
    bundle.mount("/deep/new/dir", "tmpfs", "tmpfs", ["size=1m"])
    res = run_sh(runtime, bundle, cid, "grep -c ' /deep/new/dir ' /proc/mounts")
    assert res.stdout.strip() == "1"


def test_bind_mount_ro_and_rw(runtime, bundle, cid, host_dir):
    bundle.mount("/ro", str(host_dir), "bind", ["bind", "ro"])
    bundle.mount("/rw", str(host_dir), "bind", ["bind", "rw"])
    res = run_sh(runtime, bundle, cid,
                 "cat /ro/file; echo x > /ro/denied; echo rc=$?; echo written > /rw/new",
                 ok=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["from-host", "rc=1"]
    assert "Read-only file system" in res.stderr
    assert not (host_dir / "denied").exists()
    assert (host_dir / "new").read_text() == "written\n"


def test_bind_vs_rbind_submounts(runtime, bundle, cid, host_dir):
    bundle.mount("/plain", str(host_dir), "bind", ["bind"])
    bundle.mount("/recursive", str(host_dir), "bind", ["rbind"])
    res = run_sh(runtime, bundle, cid, "ls /plain/sub | wc -l; cat /recursive/sub/inner")
    assert res.stdout.splitlines() == ["0", "submount"]


def test_bind_mount_single_file(runtime, bundle, cid, host_dir):
    bundle.mount("/etc/injected.conf", str(host_dir / "file"), "bind", ["bind", "ro"])
    res = run_sh(runtime, bundle, cid, "cat /etc/injected.conf")
    assert res.stdout == "from-host\n"


def test_mount_flags_nosuid_nodev_noexec(runtime, bundle, cid, host_dir):
    (host_dir / "prog").symlink_to("/bin/busybox")
    bundle.mount("/locked", str(host_dir), "bind", ["rbind", "nosuid", "nodev", "noexec"])
    res = run_sh(runtime, bundle, cid,
                 "grep ' /locked ' /proc/mounts; cp /bin/busybox /locked/bb && /locked/bb true;"
                 " echo rc=$?", ok=False)
    assert res.returncode == 0, res.stderr
    opts = res.stdout.splitlines()[0].split()[3].split(",")
    assert {"nosuid", "nodev", "noexec"} <= set(opts)
    assert res.stdout.splitlines()[-1] == "rc=126", "exec on a noexec mount must fail"
    (host_dir / "bb").unlink(missing_ok=True)


# -- masked and readonly paths ---------------------------------------------------------


def test_masked_paths(runtime, bundle, cid):
    (bundle.rootfs / "etc/secret").write_text("top secret\n")
    (bundle.rootfs / "secretdir").mkdir()
    (bundle.rootfs / "secretdir/a").write_text("a\n")
    host_files = [p for p in ("/proc/keys", "/proc/timer_list", "/proc/kcore")
                  if os.path.isfile(p)]
    host_dirs = [p for p in ("/proc/acpi", "/sys/firmware", "/proc/scsi") if os.path.isdir(p)]
    bundle.update(masked_paths=["/etc/secret", "/secretdir", *host_files, *host_dirs])
    checks = ["echo f=$(cat /etc/secret | wc -c)", "echo d=$(ls -A /secretdir | wc -l)"]
    checks += [f"echo f=$(cat {p} | wc -c)" for p in host_files]
    checks += [f"echo d=$(ls -A {p} | wc -l)" for p in host_dirs]
    res = run_sh(runtime, bundle, cid, "; ".join(checks))
    values = res.stdout.split()
    assert values == ["f=0", "d=0"] + ["f=0"] * len(host_files) + ["d=0"] * len(host_dirs)
    # the rootfs itself is untouched
    assert (bundle.rootfs / "etc/secret").read_text() == "top secret\n"


def test_masked_path_missing_is_ignored(runtime, bundle, cid):
    bundle.update(masked_paths=["/does/not/exist"])
    run_sh(runtime, bundle, cid, "true")


def test_readonly_paths(runtime, bundle, cid):
    (bundle.rootfs / "data").mkdir()
    bundle.update(readonly_paths=["/proc/sys", "/data"])
    res = run_sh(runtime, bundle, cid,
                 "echo 1 > /proc/sys/kernel/shm_rmid_forced; echo a=$?; "
                 "echo x > /data/file; echo b=$?; echo y > /writable; echo c=$?; "
                 "cat /proc/sys/kernel/ostype", ok=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["a=1", "b=1", "c=0", "Linux"]
    assert res.stderr.count("Read-only file system") == 2


# -- /dev ----------------------------------------------------------------------------------

DEFAULT_DEVICES = {  # name: (major, minor)
    "null": (1, 3),
    "zero": (1, 5),
    "full": (1, 7),
    "random": (1, 8),
    "urandom": (1, 9),
    "tty": (5, 0),
}


def test_default_devices(runtime, bundle, cid):
    script = "; ".join(f"stat -c '%n %F %t %T %a' /dev/{d}" for d in DEFAULT_DEVICES)
    res = run_sh(runtime, bundle, cid, script)
    for line in res.stdout.strip().splitlines():
        name, rest = line.split(" ", 1)
        kind, major, minor, mode = rest.rsplit(" ", 3)
        dev = name.removeprefix("/dev/")
        assert kind == "character special file", line
        assert (int(major, 16), int(minor, 16)) == DEFAULT_DEVICES[dev], line
        assert mode == "666", line


def test_default_devices_work(runtime, bundle, cid):
    res = run_sh(runtime, bundle, cid,
                 "echo x > /dev/null; echo n=$?; head -c 5 /dev/zero | wc -c; "
                 "head -c 7 /dev/urandom | wc -c; echo x > /dev/full; echo f=$?", ok=False)
    assert res.stdout.split() == ["n=0", "5", "7", "f=1"]
    assert "No space left on device" in res.stderr


def test_dev_symlinks(runtime, bundle, cid):
    links = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
             "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx"}
    res = run_sh(runtime, bundle, cid, "; ".join(f"readlink /dev/{n}" for n in links))
    assert res.stdout.split() == list(links.values())


def test_readonly_dev_tmpfs_gets_its_nodes_first(runtime, bundle, cid):
    # runc mounts a read-only /dev tmpfs read-write and remounts it once the nodes are in
    for mnt in bundle.config["mounts"]:
        if mnt["destination"] == "/dev":
            mnt["options"] = [o for o in mnt["options"] if o != "rw"] + ["ro"]
    res = run_sh(runtime, bundle, cid,
                 "echo x > /dev/null; echo n=$?; readlink /dev/stdout; mkdir /dev/d; "
                 "echo d=$?; grep ' /dev ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1",
                 ok=False)
    assert res.stdout.split() == ["n=0", "/proc/self/fd/1", "d=1", "ro"], res.stderr
    assert "Read-only file system" in res.stderr


def test_custom_device_node(runtime, bundle, cid):
    bundle.update(devices=[
        {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3,
         "fileMode": 0o640, "uid": 1000, "gid": 10},
        {"path": "/dev/myzero", "type": "c", "major": 1, "minor": 5, "fileMode": 0o666},
    ])
    res = run_sh(runtime, bundle, cid,
                 "stat -c '%F %t %T %a %u %g' /dev/mynull; head -c 3 /dev/myzero | wc -c")
    assert res.stdout.splitlines() == ["character special file 1 3 640 1000 10", "3"]


def test_custom_device_in_subdir(runtime, bundle, cid):
    bundle.update(devices=[{"path": "/dev/sub/dir/zero2", "type": "c", "major": 1,
                            "minor": 5}])
    res = run_sh(runtime, bundle, cid, "stat -c '%F %t %T' /dev/sub/dir/zero2")
    assert res.stdout.strip() == "character special file 1 5"


# -- propagation ----------------------------------------------------------------------------


@pytest.mark.parametrize("prop, seen", [(None, True), ("rslave", True), ("private", False),
                                        ("rprivate", False)])
def test_rootfs_propagation(runtime, make_bundle, cid, prop, seen):
    """The rootfs is a shared mount on the host; a host mount made under it after the
    container started reaches the container only with (r)slave (runc's default: rslave)."""
    bundle = make_bundle(rootfs="copy")  # a plain dir: we bind it onto itself, shared
    rootfs = str(bundle.rootfs)
    (bundle.rootfs / "mnt/later").mkdir(parents=True)
    subprocess.run(["mount", "--bind", rootfs, rootfs], check=True)
    later = bundle.rootfs / "mnt/later"
    try:
        subprocess.run(["mount", "--make-shared", rootfs], check=True)
        if prop is not None:
            bundle.update(rootfs_propagation=prop)
        bundle.update(args=until_stop_file())
        assert runtime.create(bundle, cid).returncode == 0, runtime.output(bundle, cid)
        assert runtime.start(cid).returncode == 0
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(later)],
                       check=True)
        (later / "hello").write_text("propagated\n")
        res = runtime.exec(cid, "sh", "-c", "cat /mnt/later/hello 2>/dev/null || echo absent")
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip() == ("propagated" if seen else "absent")
        # nothing the runtime mounted for the container came back to the host
        assert sorted(bundle.foreign_mounts()) == sorted([rootfs, str(later)])
    finally:
        runtime.delete(cid, force=True)
        subprocess.run(["umount", "-l", str(later)], check=False)
        subprocess.run(["umount", "-l", rootfs], check=False)


def test_container_mounts_do_not_leak_to_host(runtime, bundle, cid, host_dir):
    bundle.mount("/scratch", "tmpfs", "tmpfs", ["size=1m"])
    bundle.mount("/hd", str(host_dir), "bind", ["rbind"])
    bundle.update(args=until_stop_file())
    assert runtime.create(bundle, cid).returncode == 0
    assert bundle.foreign_mounts() == []
    assert runtime.start(cid).returncode == 0
    assert bundle.foreign_mounts() == []
    assert mounts_under(host_dir) == [str(host_dir / "sub")]


# -- sysctl, hostname ------------------------------------------------------------------


def test_sysctl(runtime, bundle, cid):
    host_fwd = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    host_shm = Path("/proc/sys/kernel/shm_rmid_forced").read_text()
    want_shm = "0" if host_shm.strip() == "1" else "1"
    bundle.update(sysctl={"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": want_shm})
    res = run_sh(runtime, bundle, cid,
                 "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced")
    assert res.stdout.split() == ["1", want_shm]
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == host_fwd
    assert Path("/proc/sys/kernel/shm_rmid_forced").read_text() == host_shm


def test_sysctl_outside_container_namespaces_rejected(runtime, bundle, cid):
    before = Path("/proc/sys/vm/swappiness").read_text()
    bundle.update(args=["true"], sysctl={"vm.swappiness": "1" if before != "1\n" else "2"})
    res = runtime.run(bundle, cid)
    assert_error(res, "sysctl")
    assert Path("/proc/sys/vm/swappiness").read_text() == before
    assert runtime.container_dirs() == []


def test_hostname(runtime, bundle, cid):
    host_name = Path("/proc/sys/kernel/hostname").read_text()
    bundle.update(hostname="box.test")
    res = run_sh(runtime, bundle, cid, "hostname; cat /proc/sys/kernel/hostname")
    assert res.stdout.split() == ["box.test", "box.test"]
    assert Path("/proc/sys/kernel/hostname").read_text() == host_name


def test_domainname(runtime, bundle, cid):
    only_ours("runc 1.1.5 ignores the domainname field (the container shows '(none)')")
    host_domain = Path("/proc/sys/kernel/domainname").read_text()
    bundle.update(hostname="box", domainname="example.org")
    res = run_sh(runtime, bundle, cid, "cat /proc/sys/kernel/domainname")
    assert res.stdout.strip() == "example.org"
    assert Path("/proc/sys/kernel/domainname").read_text() == host_domain


def test_hostname_without_uts_namespace_fails(runtime, bundle, cid):
    bundle.remove_namespace("uts")
    bundle.update(args=["true"], hostname="nope")
    assert_error(runtime.run(bundle, cid), "uts")
    assert runtime.container_dirs() == []


# -- --no-pivot -----------------------------------------------------------------------------


def test_no_pivot(runtime, bundle, cid):
    (bundle.rootfs / "etc/marker").write_text("in-rootfs\n")
    res = run_sh(runtime, bundle, cid,
                 "cat /etc/marker; [ -e /work ] && echo host-visible || echo isolated; "
                 "grep -c ' /proc ' /proc/mounts",
                 "--no-pivot")
    assert res.stdout.split() == ["in-rootfs", "isolated", "1"]


def test_no_pivot_create_start(runtime, bundle, cid):
    bundle.update(args=["sh", "-c", "cat /etc/hostname-marker"])
    (bundle.rootfs / "etc/hostname-marker").write_text("np\n")
    assert runtime.create(bundle, cid, "--no-pivot").returncode == 0
    assert runtime.start(cid).returncode == 0
    runtime.wait_status(cid, "stopped")
    assert runtime.output(bundle, cid)[0] == "np\n"
