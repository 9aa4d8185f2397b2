"""Namespaces: new ones per linux.namespaces, joining by path, user-namespace mappings."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bundle import assert_error, until_stop_file, wait_for

# OCI namespace type -> /proc/self/ns entry
NS_FILES = {
    "pid": "pid",
    "network": "net",
    "ipc": "ipc",
    "uts": "uts",
    "mount": "mnt",
    "cgroup": "cgroup",
    "user": "user",
}

USERNS_MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def host_ns(name: str) -> str:
    return os.readlink(f"/proc/self/ns/{name}")


def ns_inside(runtime, bundle, cid) -> dict[str, str]:
    bundle.update(args=["sh", "-c", "for n in pid net ipc uts mnt cgroup user; do "
                                    "echo $n $(readlink /proc/self/ns/$n); done"])
    res = runtime.run(bundle, cid)
    assert res.returncode == 0, res.stderr
    return dict(ln.split(" ", 1) for ln in res.stdout.strip().splitlines())


def with_userns(bundle) -> None:
    bundle.add_namespace("user")
    bundle.update(uid_mappings=USERNS_MAP, gid_mappings=USERNS_MAP)
    bundle.make_traversable()


@pytest.mark.parametrize("ns_type", ["pid", "network", "ipc", "uts", "mount", "cgroup"])
def test_requested_namespace_is_new(runtime, bundle, cid, ns_type):
    bundle.add_namespace(ns_type)
    inside = ns_inside(runtime, bundle, cid)
    name = NS_FILES[ns_type]
    assert inside[name] != host_ns(name), f"{ns_type} namespace was not unshared"


def test_default_namespaces_all_new(runtime, bundle, cid):
    inside = ns_inside(runtime, bundle, cid)
    for name in ("pid", "net", "ipc", "uts", "mnt"):
        assert inside[name] != host_ns(name), name
    # not requested: shared with the host
    assert inside["user"] == host_ns("user")


@pytest.mark.parametrize("ns_type", ["ipc", "uts", "network", "cgroup"])
def test_namespace_not_requested_is_shared(runtime, bundle, cid, ns_type):
    bundle.remove_namespace(ns_type)
    if ns_type == "uts":
        bundle.config.pop("hostname", None)  # a hostname needs its own uts namespace
    inside = ns_inside(runtime, bundle, cid)
    name = NS_FILES[ns_type]
    assert inside[name] == host_ns(name)


def test_pid_namespace_init_is_pid_1(runtime, bundle, cid):
    bundle.update(args=["sh", "-c", "echo $$; ps -o pid,comm; true"])
    res = runtime.run(bundle, cid)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0] == "1"
    pids = [int(ln.split()[0]) for ln in lines[2:]]
    # only the container's own processes (sh and ps), numbered from 1
    assert pids[0] == 1 and len(pids) == 2, pids


def test_network_namespace_has_only_loopback(runtime, bundle, cid):
    bundle.update(args=["sh", "-c", "ls /sys/class/net"])
    res = runtime.run(bundle, cid)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["lo"]


@pytest.fixture
def netns_file(tmp_path: Path) -> Iterator[Path]:
    """A persistent network namespace bound on a file (unshare --net=FILE), loopback up."""
    f = tmp_path / "netns-holder"
    f.touch()
    subprocess.run(["unshare", f"--net={f}", "ip", "link", "set", "lo", "up"], check=True,
                   timeout=10)
    try:
        yield f
    finally:
        subprocess.run(["umount", str(f)], check=False, timeout=10)


def test_join_network_namespace_by_path(runtime, bundle, cid, netns_file):
    bundle.add_namespace("network", str(netns_file))
    bundle.update(args=["sh", "-c", "readlink /proc/self/ns/net; cat /sys/class/net/lo/operstate;"
                                    "cat /sys/class/net/lo/flags"])
    res = runtime.run(bundle, cid)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.split()
    assert lines[0] == f"net:[{os.stat(netns_file).st_ino}]"
    assert int(lines[2], 16) & 1, "lo is not up: not the namespace we prepared"


def test_join_another_containers_namespaces(runtime, make_bundle, cid):
    """Like podman pods: a second container joins the first's net, ipc and uts via /proc."""
    first = make_bundle(args=["sleep", "1000"], hostname="podhost")
    assert runtime.create(first, cid + "a").returncode == 0
    pid = runtime.state_json(cid + "a")["pid"]
    second = make_bundle()
    for t in ("network", "ipc", "uts"):
        second.add_namespace(t, f"/proc/{pid}/ns/{NS_FILES[t]}")
    second.config.pop("hostname", None)
    second.update(args=["sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; "
                                    "readlink /proc/self/ns/uts; hostname"])
    res = runtime.run(second, cid + "b")
    assert res.returncode == 0, res.stderr
    net, ipc, uts, hostname = res.stdout.split()
    assert net == os.readlink(f"/proc/{pid}/ns/net")
    assert ipc == os.readlink(f"/proc/{pid}/ns/ipc")
    assert uts == os.readlink(f"/proc/{pid}/ns/uts")
    assert hostname == "podhost"


def test_join_namespace_bad_path_fails(runtime, bundle, cid, tmp_path):
    bundle.add_namespace("network", str(tmp_path / "no-such-netns"))
    bundle.update(args=["true"])
    res = runtime.create(bundle, cid)
    assert_error(res, one_line=False)
    assert runtime.container_dirs() == []


def test_user_namespace_mappings(runtime, bundle, cid):
    with_userns(bundle)
    bundle.update(args=until_stop_file(
        "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; touch /tmp/owned"))
    assert runtime.create(bundle, cid).returncode == 0, runtime.output(bundle, cid)
    pid = runtime.state_json(cid)["pid"]
    # the host view of the init: uid 0 inside is 100000 outside
    status = Path(f"/proc/{pid}/status").read_text()
    uid_line = next(ln for ln in status.splitlines() if ln.startswith("Uid:"))
    gid_line = next(ln for ln in status.splitlines() if ln.startswith("Gid:"))
    assert uid_line.split()[1:] == ["100000"] * 4
    assert gid_line.split()[1:] == ["100000"] * 4
    assert os.readlink(f"/proc/{pid}/ns/user") != host_ns("user")

    assert runtime.start(cid).returncode == 0
    wait_for(lambda: (bundle.rootfs / "tmp/owned").exists(), what="file written in userns")
    out, err = runtime.output(bundle, cid)
    lines = out.splitlines()
    assert lines[0].split() == ["0", "100000", "65536"]
    assert lines[1].split() == ["0", "100000", "65536"]
    assert lines[2:4] == ["0", "0"]
    st = (bundle.rootfs / "tmp/owned").stat()
    assert (st.st_uid, st.st_gid) == (100000, 100000)
    (bundle.rootfs / "stop").touch()
    runtime.wait_status(cid, "stopped")


def test_user_namespace_mount_and_proc_work(runtime, bundle, cid):
    """With a userns the default mounts (proc, sysfs, devpts, mqueue, cgroup) still work."""
    with_userns(bundle)
    bundle.update(args=["sh", "-c", "cat /proc/self/uid_map; ls /sys/class/net; "
                                    "grep -c ' /dev/pts ' /proc/mounts"])
    res = runtime.run(bundle, cid)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["0", "100000", "65536"]
    assert lines[1] == "lo"
    assert lines[2] == "1"


def test_user_namespace_unmapped_uid_fails(runtime, bundle, cid):
    with_userns(bundle)
    bundle.update(args=["true"], user={"uid": 70000, "gid": 0})  # outside the 65536 range
    res = runtime.run(bundle, cid)
    assert res.returncode != 0
    assert runtime.container_dirs() == []
