"""linux.resources -> cgroup writes: the pure v1/v2/hybrid plans."""

import pytest

from agentsh_runtime.cgroups import resources as rs
from agentsh_runtime.errors import ConfigError, SetupError

P = "linux.resources"


class FakeHost:
    """has/read answers for the planner; files absent unless listed when `only` is set."""

    def __init__(self, files=None, only=False):
        self.files = files or {}
        self.only = only

    def has(self, key, name):
        return (key, name) in self.files if self.only else self.files.get((key, name), "") \
            is not None

    def read(self, key, name):
        return self.files.get((key, name))


def writes(plan, key=None):
    return [tuple(w) for w in plan.writes if key is None or w.key == key]


def files(plan, key=None):
    return [(w.file, w.value) for w in plan.writes if key is None or w.key == key]


# ---- conversions --------------------------------------------------------------------

@pytest.mark.parametrize("shares,weight", [
    (0, 0), (2, 1), (1024, 39), (512, 20), (262144, 10000), (100, 4), (10000, 382)])
def test_shares_to_weight_linear_like_runc_1_1(shares, weight):
    assert rs.shares_to_weight(shares) == weight


@pytest.mark.parametrize("shares,weight", [
    (0, 0), (1, 1), (2, 1), (1024, 100), (262144, 10000), (300000, 10000)])
def test_shares_to_weight_quadratic_like_newer_runc(shares, weight):
    assert rs.shares_to_weight_quadratic(shares) == weight


@pytest.mark.parametrize("weight,io", [(0, 0), (10, 1), (1000, 10000), (500, 4950), (100, 910)])
def test_blkio_weight_to_io_weight(weight, io):
    assert rs.blkio_weight_to_io_weight(weight) == io


def test_swap_to_v2():
    assert rs.swap_to_v2(0, -1) == -1
    assert rs.swap_to_v2(-1, 100) == -1
    assert rs.swap_to_v2(0, 100) == 0
    assert rs.swap_to_v2(300, 100) == 200
    assert rs.swap_to_v2(100, 100) == 0
    for swap, mem in ((200, 0), (200, -1), (50, 100)):
        with pytest.raises(ConfigError) as e:
            rs.swap_to_v2(swap, mem)
        assert e.value.field == f"{P}.memory.swap"


# ---- v1 ------------------------------------------------------------------------------

def test_v1_memory_fresh_cgroup_limit_before_memsw():
    p = rs.plan_v1({"memory": {"limit": 100, "swap": 200, "reservation": 50, "swappiness": 10,
                               "disableOOMKiller": True}}, devices=False)
    assert writes(p) == [
        ("memory", "memory.limit_in_bytes", "100", f"{P}.memory.limit"),
        ("memory", "memory.memsw.limit_in_bytes", "200", f"{P}.memory.swap"),
        ("memory", "memory.soft_limit_in_bytes", "50", f"{P}.memory.reservation"),
        ("memory", "memory.oom_control", "1", f"{P}.memory.disableOOMKiller"),
        ("memory", "memory.swappiness", "10", f"{P}.memory.swappiness"),
    ]
    assert p.warnings == []


def test_v1_memory_raise_writes_memsw_first():
    # current limit 100 < new memory+swap 400: memsw must grow first or the kernel says EINVAL
    host = FakeHost({("memory", "memory.limit_in_bytes"): "100\n"})
    p = rs.plan_v1({"memory": {"limit": 300, "swap": 400}}, host=host, devices=False)
    assert files(p) == [("memory.memsw.limit_in_bytes", "400"),
                        ("memory.limit_in_bytes", "300")]


def test_v1_memory_lower_writes_limit_first():
    host = FakeHost({("memory", "memory.limit_in_bytes"): "500\n"})
    p = rs.plan_v1({"memory": {"limit": 100, "swap": 200}}, host=host, devices=False)
    assert files(p) == [("memory.limit_in_bytes", "100"),
                        ("memory.memsw.limit_in_bytes", "200")]


def test_v1_memory_unlimited_also_unlimits_swap():
    p = rs.plan_v1({"memory": {"limit": -1}}, devices=False)
    assert files(p) == [("memory.memsw.limit_in_bytes", "-1"), ("memory.limit_in_bytes", "-1")]
    # without swap accounting there is no memsw file: only the limit
    host = FakeHost({("memory", "memory.memsw.limit_in_bytes"): None})
    p = rs.plan_v1({"memory": {"limit": -1}}, host=host, devices=False)
    assert files(p) == [("memory.limit_in_bytes", "-1")]


def test_v1_memory_zero_means_unset_and_kernel_is_a_warning():
    p = rs.plan_v1({"memory": {"limit": 0, "kernel": 1 << 20, "kernelTCP": 1 << 20}},
                   devices=False)
    assert writes(p) == []
    assert len(p.warnings) == 2
    assert p.warnings[0].startswith(f"{P}.memory.kernel is ignored")
    assert p.warnings[1].startswith(f"{P}.memory.kernelTCP is ignored")


def test_v1_swappiness_range_and_minus_one():
    assert writes(rs.plan_v1({"memory": {"swappiness": (1 << 64) - 1}}, devices=False)) == []
    assert writes(rs.plan_v1({"memory": {"swappiness": -1}}, devices=False)) == []
    with pytest.raises(ConfigError) as e:
        rs.plan_v1({"memory": {"swappiness": 101}}, devices=False)
    assert e.value.field == f"{P}.memory.swappiness"
    assert "0-100" in e.value.reason


def test_v1_cpu_every_field_in_runc_order():
    p = rs.plan_v1({"cpu": {"shares": 512, "quota": 50000, "period": 100000, "burst": 1000,
                            "idle": 1, "realtimeRuntime": 950, "realtimePeriod": 1000,
                            "cpus": "0-1", "mems": "0"}}, devices=False)
    assert writes(p) == [
        ("cpuset", "cpuset.cpus", "0-1", f"{P}.cpu.cpus"),
        ("cpuset", "cpuset.mems", "0", f"{P}.cpu.mems"),
        ("cpu", "cpu.shares", "512", f"{P}.cpu.shares"),
        ("cpu", "cpu.cfs_period_us", "100000", f"{P}.cpu.period"),
        ("cpu", "cpu.cfs_burst_us", "1000", f"{P}.cpu.burst"),
        ("cpu", "cpu.cfs_quota_us", "50000", f"{P}.cpu.quota"),
        ("cpu", "cpu.idle", "1", f"{P}.cpu.idle"),
        ("cpu", "cpu.rt_period_us", "1000", f"{P}.cpu.realtimePeriod"),
        ("cpu", "cpu.rt_runtime_us", "950", f"{P}.cpu.realtimeRuntime"),
    ]
    by_file = {w.file: w for w in p.writes}
    assert by_file["cpu.shares"].flags & rs.VERIFY
    assert by_file["cpu.cfs_period_us"].after == "cpu.cfs_quota_us"
    assert by_file["cpu.cfs_burst_us"].after == "cpu.cfs_quota_us"
    assert by_file["cpu.cfs_burst_us"].flags & rs.OPTIONAL
    assert by_file["cpu.rt_period_us"].after == "cpu.rt_runtime_us"


def test_v1_cpu_idle_needs_the_file():
    host = FakeHost({("cpu", "cpu.idle"): None})
    p = rs.plan_v1({"cpu": {"idle": 1}}, host=host, devices=False)
    assert writes(p) == []
    assert "cpu.idle" in p.warnings[0]


def test_v1_quota_minus_one_is_written():
    p = rs.plan_v1({"cpu": {"quota": -1}}, devices=False)
    assert files(p) == [("cpu.cfs_quota_us", "-1")]


@pytest.mark.parametrize("limit,value", [(10, "10"), (0, "max"), (-1, "max")])
def test_pids(limit, value):
    p = rs.plan_v1({"pids": {"limit": limit}}, devices=False)
    assert writes(p) == [("pids", "pids.max", value, f"{P}.pids.limit")]
    p = rs.plan_v2({"pids": {"limit": limit}}, devices=False)
    assert writes(p) == [("unified", "pids.max", value, f"{P}.pids.limit")]


def test_v1_blkio_every_field():
    bio = {"weight": 500, "leafWeight": 300,
           "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 200}],
           "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1000}],
           "throttleWriteBpsDevice": [{"major": 8, "minor": 16, "rate": 2000}],
           "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 30}],
           "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 40}]}
    p = rs.plan_v1({"blockIO": bio}, devices=False)
    assert writes(p) == [
        ("blkio", "blkio.weight", "500", f"{P}.blockIO.weight"),
        ("blkio", "blkio.leaf_weight", "300", f"{P}.blockIO.leafWeight"),
        ("blkio", "blkio.weight_device", "8:0 600", f"{P}.blockIO.weightDevice[0].weight"),
        ("blkio", "blkio.leaf_weight_device", "8:0 200",
         f"{P}.blockIO.weightDevice[0].leafWeight"),
        ("blkio", "blkio.throttle.read_bps_device", "8:0 1000",
         f"{P}.blockIO.throttleReadBpsDevice[0]"),
        ("blkio", "blkio.throttle.write_bps_device", "8:16 2000",
         f"{P}.blockIO.throttleWriteBpsDevice[0]"),
        ("blkio", "blkio.throttle.read_iops_device", "8:0 30",
         f"{P}.blockIO.throttleReadIOPSDevice[0]"),
        ("blkio", "blkio.throttle.write_iops_device", "8:0 40",
         f"{P}.blockIO.throttleWriteIOPSDevice[0]"),
    ]


def test_v1_blkio_bfq_when_cfq_is_gone():
    host = FakeHost({("blkio", "blkio.weight"): None})
    p = rs.plan_v1({"blockIO": {"weight": 500,
                                "weightDevice": [{"major": 8, "minor": 0, "weight": 7}]}},
                   host=host, devices=False)
    assert files(p) == [("blkio.bfq.weight", "500"), ("blkio.bfq.weight_device", "8:0 7")]


def test_v1_hugetlb_network_rdma():
    p = rs.plan_v1({"hugepageLimits": [{"pageSize": "2MB", "limit": 1 << 21}],
                    "network": {"classID": 0x100001,
                                "priorities": [{"name": "eth0", "priority": 5}]},
                    "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000},
                             "mlx4_0": {"hcaObjects": 7}}}, devices=False)
    assert writes(p) == [
        ("hugetlb", "hugetlb.2MB.limit_in_bytes", "2097152", f"{P}.hugepageLimits[0]"),
        ("hugetlb", "hugetlb.2MB.rsvd.limit_in_bytes", "2097152", f"{P}.hugepageLimits[0]"),
        ("net_cls", "net_cls.classid", "1048577", f"{P}.network.classID"),
        ("net_prio", "net_prio.ifpriomap", "eth0 5", f"{P}.network.priorities[0]"),
        ("rdma", "rdma.max", "mlx5_1 hca_handle=3 hca_object=10000", f"{P}.rdma.mlx5_1"),
        ("rdma", "rdma.max", "mlx4_0 hca_object=7", f"{P}.rdma.mlx4_0"),
    ]
    assert p.writes[1].flags & rs.OPTIONAL


def test_v1_unified_is_an_error_naming_the_field():
    with pytest.raises(SetupError) as e:
        rs.plan_v1({"unified": {"memory.high": "1"}}, devices=False)
    assert e.value.field == f"{P}.unified"


def test_v1_devices_fresh_cgroup_deny_all_then_allows():
    p = rs.plan_v1({"devices": [{"allow": False, "access": "rwm"},
                                {"allow": True, "type": "c", "major": 4, "minor": 1,
                                 "access": "rw"}]})
    got = files(p, "devices")
    assert got[0] == ("devices.deny", "a *:* rwm")
    assert ("devices.allow", "c 4:1 rw") in got
    assert ("devices.allow", "c 1:3 rwm") in got  # runc's defaults are always added
    assert ("devices.allow", "c *:* m") in got
    assert all(f == "devices.allow" for f, _ in got[1:])


def test_v1_devices_unchanged_writes_nothing():
    listing = "b *:* m\nc *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\n" \
              "c 5:0 rwm\nc 5:2 rwm\nc 10:200 rwm\nc 136:* rwm\n"
    host = FakeHost({("devices", "devices.list"): listing})
    p = rs.plan_v1({"devices": [{"allow": False, "access": "rwm"}]}, host=host)
    assert writes(p) == []
    # dropping /dev/tty: one deny, nothing disruptive
    p = rs.plan_v1({"devices": [{"allow": False, "access": "rwm"},
                                {"allow": False, "type": "c", "major": 5, "minor": 0,
                                 "access": "rwm"}]}, host=host)
    assert files(p) == []  # runc's defaults come after and allow it again
    listing2 = listing + "c 4:1 rw\n"
    host = FakeHost({("devices", "devices.list"): listing2})
    p = rs.plan_v1({"devices": [{"allow": False, "access": "rwm"}]}, host=host)
    assert files(p) == [("devices.deny", "c 4:1 rw")]


def test_update_without_devices_leaves_them():
    p = rs.plan_v1({"pids": {"limit": 5}}, devices=False)
    assert [w.key for w in p.writes] == ["pids"]


# ---- v2 ------------------------------------------------------------------------------

def test_v2_memory_runc_mapping():
    p = rs.plan_v2({"memory": {"limit": 100, "swap": 300, "reservation": 50}}, devices=False)
    assert writes(p) == [
        ("unified", "memory.swap.max", "200", f"{P}.memory.swap"),
        ("unified", "memory.max", "100", f"{P}.memory.limit"),
        ("unified", "memory.low", "50", f"{P}.memory.reservation"),
    ]
    assert files(rs.plan_v2({"memory": {"limit": 100, "swap": 100}}, devices=False)) == [
        ("memory.swap.max", "0"), ("memory.max", "100")]
    assert files(rs.plan_v2({"memory": {"limit": -1}}, devices=False)) == [
        ("memory.swap.max", "max"), ("memory.max", "max")]
    assert files(rs.plan_v2({"memory": {"limit": 100, "swap": -1}}, devices=False)) == [
        ("memory.swap.max", "max"), ("memory.max", "100")]


def test_v2_memory_ignored_fields_warn():
    p = rs.plan_v2({"memory": {"swappiness": 20, "disableOOMKiller": True}}, devices=False)
    assert writes(p) == []
    assert len(p.warnings) == 2


def test_v2_memory_swap_without_limit_is_a_config_error():
    with pytest.raises(ConfigError) as e:
        rs.plan_v2({"memory": {"swap": 100}}, devices=False)
    assert e.value.field == f"{P}.memory.swap"


def test_v2_cpu():
    p = rs.plan_v2({"cpu": {"shares": 1024, "quota": 50000, "period": 200000, "burst": 10,
                            "idle": 0, "cpus": "1", "mems": "0"}}, devices=False)
    assert writes(p) == [
        ("unified", "cpu.idle", "0", f"{P}.cpu.idle"),
        ("unified", "cpu.weight", "39", f"{P}.cpu.shares"),
        ("unified", "cpu.max.burst", "10", f"{P}.cpu.burst"),
        ("unified", "cpu.max", "50000 200000", f"{P}.cpu.quota"),
        ("unified", "cpuset.cpus", "1", f"{P}.cpu.cpus"),
        ("unified", "cpuset.mems", "0", f"{P}.cpu.mems"),
    ]
    assert p.writes[2].after == "cpu.max"
    assert files(rs.plan_v2({"cpu": {"quota": -1}}, devices=False)) == [
        ("cpu.max", "max 100000")]
    assert files(rs.plan_v2({"cpu": {"period": 50000}}, devices=False)) == [
        ("cpu.max", "max 50000")]
    assert files(rs.plan_v2({"cpu": {"quota": 20000}}, devices=False)) == [
        ("cpu.max", "20000 100000")]
    p = rs.plan_v2({"cpu": {"realtimeRuntime": 5, "realtimePeriod": 10}}, devices=False)
    assert writes(p) == [] and "realtime" in p.warnings[0]


def test_v2_io():
    bio = {"weight": 500, "leafWeight": 10,
           "weightDevice": [{"major": 8, "minor": 0, "weight": 300}],
           "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1000}],
           "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2000},
                                      {"major": 8, "minor": 16, "rate": 5}],
           "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 30}],
           "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 40}]}
    host = FakeHost({("unified", "io.bfq.weight"): "default 100\n"})
    p = rs.plan_v2({"blockIO": bio}, host=host, devices=False)
    assert writes(p) == [
        ("unified", "io.bfq.weight", "500", f"{P}.blockIO.weight"),
        ("unified", "io.bfq.weight", "8:0 300", f"{P}.blockIO.weightDevice[0].weight"),
        ("unified", "io.max", "8:0 rbps=1000 wbps=2000 riops=30 wiops=40",
         f"{P}.blockIO.throttleReadBpsDevice[0]"),
        ("unified", "io.max", "8:16 wbps=5", f"{P}.blockIO.throttleWriteBpsDevice[1]"),
    ]
    assert "leafWeight" in p.warnings[0]
    # no BFQ: io.weight with runc's conversion, device weights cannot be set
    p = rs.plan_v2({"blockIO": {"weight": 500,
                                "weightDevice": [{"major": 8, "minor": 0, "weight": 3}]}},
                   host=FakeHost({}, only=True), devices=False)
    assert files(p) == [("io.weight", "4950")]
    assert "weightDevice[0].weight is ignored" in p.warnings[0]


def test_v2_hugetlb_rdma_unified_devices():
    p = rs.plan_v2({"hugepageLimits": [{"pageSize": "1GB", "limit": 0}],
                    "rdma": {"mlx5_1": {"hcaHandles": 1}},
                    "unified": {"memory.high": "1000", "cgroup.max.descendants": "5"}})
    assert writes(p) == [
        ("unified", rs.BPF_DEVICES, "", f"{P}.devices"),
        ("unified", "hugetlb.1GB.max", "0", f"{P}.hugepageLimits[0]"),
        ("unified", "hugetlb.1GB.rsvd.max", "0", f"{P}.hugepageLimits[0]"),
        ("unified", "rdma.max", "mlx5_1 hca_handle=1", f"{P}.rdma.mlx5_1"),
        ("unified", "memory.high", "1000", f'{P}.unified["memory.high"]'),
        ("unified", "cgroup.max.descendants", "5", f'{P}.unified["cgroup.max.descendants"]'),
    ]
    assert p.devices is not None and not p.devices.default_allow
    assert p.v2_controllers == {"hugetlb", "rdma", "memory"}


def test_v2_unified_key_with_slash_is_refused():
    with pytest.raises(ConfigError) as e:
        rs.plan_v2({"unified": {"../memory.max": "1"}}, devices=False)
    assert e.value.field == f'{P}.unified["../memory.max"]'


def test_v2_network_is_ignored_with_a_warning_like_runc():
    p = rs.plan_v2({"network": {"classID": 1, "priorities": [{"name": "lo", "priority": 1}]}},
                   devices=False)
    assert writes(p) == []
    assert len(p.warnings) == 2


# ---- hybrid ---------------------------------------------------------------------------

HYBRID_V1 = frozenset({"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio",
                       "pids", "systemd"})


def test_hybrid_routes_hugetlb_and_unified_to_cgroup2():
    res = {"memory": {"limit": 100}, "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
           "unified": {"hugetlb.2MB.max": "0"}, "pids": {"limit": 3}}
    p = rs.plan(res, HYBRID_V1, {"hugetlb"}, devices=True)
    keys = [(w.key, w.file) for w in p.writes if w.key != "devices"]
    assert keys == [("memory", "memory.limit_in_bytes"), ("pids", "pids.max"),
                    ("unified", "hugetlb.2MB.max"), ("unified", "hugetlb.2MB.rsvd.max"),
                    ("unified", "hugetlb.2MB.max")]
    assert any(w.key == "devices" for w in p.writes)  # v1 devices, not BPF
    assert p.devices is None
    assert rs.needed_v2(res, HYBRID_V1, {"hugetlb"}) == {"hugetlb"}


def test_hybrid_missing_controller_names_the_field():
    for res, field in (({"network": {"classID": 1}}, f"{P}.network.classID"),
                       ({"network": {"priorities": [{"name": "lo", "priority": 1}]}},
                        f"{P}.network.priorities"),
                       ({"rdma": {"x": {"hcaHandles": 1}}}, f"{P}.rdma")):
        with pytest.raises(SetupError) as e:
            rs.plan(res, HYBRID_V1, {"hugetlb"}, devices=False)
        assert e.value.field == field
        assert "not available" in e.value.reason


def test_hybrid_without_hugetlb_anywhere_is_an_error():
    with pytest.raises(SetupError) as e:
        rs.plan({"hugepageLimits": [{"pageSize": "2MB", "limit": 0}]}, HYBRID_V1, set(),
                devices=False)
    assert e.value.field == f"{P}.hugepageLimits"


def test_bad_input_names_the_field():
    cases = [({"memory": {"limit": "lots"}}, f"{P}.memory.limit"),
             ({"pids": 5}, f"{P}.pids"),
             ({"blockIO": {"throttleReadBpsDevice": [{"rate": 1}]}},
              f"{P}.blockIO.throttleReadBpsDevice[0]"),
             ({"hugepageLimits": [{"limit": 1}]}, f"{P}.hugepageLimits[0]"),
             ({"devices": [{"allow": True, "access": ""}]}, f"{P}.devices[0].access"),
             ({"devices": [{"allow": True, "type": "x", "access": "r"}]},
              f"{P}.devices[0].type"),
             ({"devices": [{"allow": True, "access": "rwx"}]}, f"{P}.devices[0].access")]
    for res, field in cases:
        with pytest.raises(ConfigError) as e:
            rs.plan_v1(res)
        assert e.value.field == field, res


def test_write_unpacks_as_a_4_tuple():
    w = rs.Write("memory", "memory.max", "1", "f", rs.OPTIONAL)
    key, name, value, field = w
    assert (key, name, value, field) == ("memory", "memory.max", "1", "f")
    assert w == ("memory", "memory.max", "1", "f")
