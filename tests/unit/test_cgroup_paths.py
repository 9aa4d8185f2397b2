import pytest

from agentsh_runtime.cgroups.layout import detect
from agentsh_runtime.cgroups.paths import expand_slice, resolve, systemd_to_fs
from agentsh_runtime.errors import ConfigError


def test_expand_slice():
    assert expand_slice("machine.slice", "f") == "/machine.slice"
    assert expand_slice("a-b-c.slice", "f") == "/a.slice/a-b.slice/a-b-c.slice"
    assert expand_slice("-.slice", "f") == "/"
    for bad in ("a--b.slice", "-a.slice", "nope", "a/b.slice"):
        with pytest.raises(ConfigError):
            expand_slice(bad, "f")


def test_systemd_path():
    assert systemd_to_fs("machine.slice:libpod:abc", "x") == "/machine.slice/libpod-abc.scope"
    assert systemd_to_fs("system.slice:docker:x", "x") == "/system.slice/docker-x.scope"
    assert systemd_to_fs(":pfx:n", "x") == "/system.slice/pfx-n.scope"
    with pytest.raises(ConfigError):
        systemd_to_fs("just-a-path", "x")


def test_resolve():
    assert resolve("", "c1", False) == ("/agentsh-runtime/c1", False)
    assert resolve("/a/b", "c1", False) == ("/a/b", False)
    assert resolve("a/b", "c1", False) == ("a/b", True)
    assert resolve("machine.slice:libpod:c1", "c1", True) == (
        "/machine.slice/libpod-c1.scope", False)
    with pytest.raises(ConfigError):
        resolve("../escape", "c1", False)


def test_detect_hybrid_layout(tmp_path):
    mi = tmp_path / "mountinfo"
    mi.write_text(
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n")
    lay = detect(str(mi))
    assert lay.kind == "hybrid" and lay.v2 == "/sys/fs/cgroup/unified"
    assert lay.v1["cpu"] == lay.v1["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct"
    assert lay.v1["systemd"] == "/sys/fs/cgroup/systemd" and "xattr" in lay.v1
    assert lay.v1_mountpoints() == ["/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/systemd"]


def test_detect_pure_v2(tmp_path):
    mi = tmp_path / "mountinfo"
    mi.write_text("41 23 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
    lay = detect(str(mi))
    assert lay.kind == "v2" and not lay.v1
