import pytest

from agentsh_runtime.errors import ConfigError
from agentsh_runtime.linux import mount as m
from agentsh_runtime.spec import mountopts


def test_flags_data_and_propagation():
    o = mountopts.parse(["rbind", "ro", "nosuid", "nodev", "rprivate", "size=64k", "mode=755"],
                        "mounts[0].options")
    assert o.flags == m.MS_BIND | m.MS_REC | m.MS_RDONLY | m.MS_NOSUID | m.MS_NODEV
    assert o.propagation == [m.MS_PRIVATE | m.MS_REC]
    assert o.data_str == "size=64k,mode=755" and o.is_bind


def test_later_option_wins():
    o = mountopts.parse(["ro", "rw", "noexec", "exec"], "f")
    assert o.flags & m.MS_RDONLY == 0 and o.flags & m.MS_NOEXEC == 0


def test_recursive_and_runtime_options():
    o = mountopts.parse(["rro", "rnosuid", "tmpcopyup"], "f")
    assert o.attr_set == mountopts.MOUNT_ATTR_RDONLY | mountopts.MOUNT_ATTR_NOSUID
    assert o.tmpcopyup and o.data_str is None


def test_idmap_refused_with_field():
    with pytest.raises(ConfigError) as e:
        mountopts.parse(["idmap"], "mounts[3].options")
    assert e.value.field == "mounts[3].options"
