"""resource_limits merged into linux.resources: the stricter wins."""

import pytest

from agentsh_runtime.policy.errors import PolicyError
from agentsh_runtime.policy.limits import merge_into_linux_resources, unapplied
from agentsh_runtime.policy.model import ResourceLimits

MIB = 1 << 20


def test_empty_limits_change_nothing():
    res = {"memory": {"limit": 5}, "devices": [{"allow": False, "access": "rwm"}]}
    out = merge_into_linux_resources(res, ResourceLimits())
    assert out == res and out is not res


@pytest.mark.parametrize("config,policy_mb,expected", [
    (None, 512, 512 * MIB),
    ({"memory": {"limit": 256 * MIB}}, 512, 256 * MIB),  # the config is stricter
    ({"memory": {"limit": 1024 * MIB}}, 512, 512 * MIB),
    ({"memory": {"limit": -1}}, 512, 512 * MIB),  # -1: unlimited
    ({"memory": {"limit": 0}}, 512, 512 * MIB),  # 0: not set
])
def test_memory_limit(config, policy_mb, expected):
    out = merge_into_linux_resources(config, ResourceLimits(max_memory_mb=policy_mb))
    assert out["memory"]["limit"] == expected


def test_swap_is_memory_plus_swap():
    out = merge_into_linux_resources({}, ResourceLimits(max_memory_mb=512, memory_swap_max_mb=0))
    assert out["memory"] == {"limit": 512 * MIB, "swap": 512 * MIB}  # no swap
    out = merge_into_linux_resources({"memory": {"limit": 256 * MIB, "swap": -1}},
                                     ResourceLimits(max_memory_mb=512, memory_swap_max_mb=100))
    assert out["memory"] == {"limit": 256 * MIB, "swap": 356 * MIB}
    out = merge_into_linux_resources({"memory": {"limit": 256 * MIB, "swap": 300 * MIB}},
                                     ResourceLimits(memory_swap_max_mb=100))
    assert out["memory"]["swap"] == 300 * MIB  # the config's is stricter
    with pytest.raises(PolicyError) as info:
        merge_into_linux_resources({}, ResourceLimits(memory_swap_max_mb=100))
    assert info.value.field == "resource_limits.memory_swap_max_mb"
    out = merge_into_linux_resources({}, ResourceLimits(memory_swap_max_mb=100, best_effort=True))
    assert "memory" not in out


@pytest.mark.parametrize("config,percent,expected", [
    (None, 50, (50_000, 100_000)),
    (None, 150, (150_000, 100_000)),
    (None, 0.5, (1_000, 100_000)),  # at least the kernel's minimum quota
    ({"cpu": {"quota": 20_000, "period": 100_000}}, 50, (20_000, 100_000)),  # config stricter
    ({"cpu": {"quota": 80_000, "period": 50_000}}, 100, (100_000, 100_000)),  # 160% vs 100%
    ({"cpu": {"quota": -1}}, 80, (80_000, 100_000)),
    ({"cpu": {"shares": 512}}, 80, (80_000, 100_000)),
])
def test_cpu_quota(config, percent, expected):
    out = merge_into_linux_resources(config, ResourceLimits(cpu_quota_percent=percent))
    assert (out["cpu"]["quota"], out["cpu"]["period"]) == expected
    if config and "shares" in config.get("cpu", {}):
        assert out["cpu"]["shares"] == 512


def test_pids():
    assert merge_into_linux_resources(None, ResourceLimits(pids_max=64))["pids"] == {"limit": 64}
    out = merge_into_linux_resources({"pids": {"limit": 32}}, ResourceLimits(pids_max=64))
    assert out["pids"]["limit"] == 32


def test_disk_throttles_per_device():
    config = {"blockIO": {"weight": 10, "throttleReadBpsDevice": [
        {"major": 8, "minor": 0, "rate": 1000}]}}
    out = merge_into_linux_resources(config, ResourceLimits(disk_read_bps_max=5000,
                                                            disk_write_bps_max=2000),
                                     devices=[(8, 0), (253, 1), (8, 0)])
    assert out["blockIO"]["weight"] == 10
    assert out["blockIO"]["throttleReadBpsDevice"] == [
        {"major": 8, "minor": 0, "rate": 1000}, {"major": 253, "minor": 1, "rate": 5000}]
    assert out["blockIO"]["throttleWriteBpsDevice"] == [
        {"major": 8, "minor": 0, "rate": 2000}, {"major": 253, "minor": 1, "rate": 2000}]
    assert config["blockIO"]["throttleReadBpsDevice"] == [
        {"major": 8, "minor": 0, "rate": 1000}]  # the input is not changed
    with pytest.raises(PolicyError) as info:
        merge_into_linux_resources({}, ResourceLimits(disk_write_bps_max=1))
    assert info.value.field == "resource_limits.disk_write_bps_max"
    assert merge_into_linux_resources({}, ResourceLimits(disk_write_bps_max=1,
                                                         best_effort=True)) == {}


def test_unapplied_fields_are_listed():
    lim = ResourceLimits(max_memory_mb=1, net_bandwidth_mbps=10, command_timeout=60,
                         idle_timeout=5)
    assert unapplied(lim) == ["net_bandwidth_mbps", "command_timeout", "idle_timeout"]
