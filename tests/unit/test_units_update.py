import pytest

from agentsh_runtime.container.update import merge_resources
from agentsh_runtime.errors import UsageError
from agentsh_runtime.spec.units import parse_duration, parse_size
from agentsh_runtime.spec.update_flags import resources_from_flags


@pytest.mark.parametrize("text,value", [("1024", 1024), ("512k", 512 << 10), ("1.5g", 3 << 29),
                                        ("64M", 64 << 20), ("2gb", 2 << 30), ("-1", -1)])
def test_sizes(text, value):
    assert parse_size(text, "--memory") == value


@pytest.mark.parametrize("text", ["", "x", "1q", "1..2m", "--1"])
def test_bad_sizes(text):
    with pytest.raises(UsageError):
        parse_size(text, "--memory")


@pytest.mark.parametrize("text,value", [("5s", 5), ("100ms", 0.1), ("1m30s", 90), ("1h", 3600),
                                        ("1.5s", 1.5)])
def test_durations(text, value):
    assert parse_duration(text, "--interval") == pytest.approx(value)


@pytest.mark.parametrize("text", ["5", "", "s", "5x", "0s"])
def test_bad_durations(text):
    with pytest.raises(UsageError):
        parse_duration(text, "--interval")


def test_flags_to_resources():
    r = resources_from_flags({"memory": "256m", "memory_swap": "-1", "cpu_shares": "512",
                              "cpuset_cpus": "0-1", "pids_limit": "20", "blkio_weight": "300"})
    assert r == {"memory": {"limit": 256 << 20, "swap": -1},
                 "cpu": {"shares": 512, "cpus": "0-1"}, "pids": {"limit": 20},
                 "blockIO": {"weight": 300}}
    with pytest.raises(UsageError):
        resources_from_flags({"cpu_quota": "lots"})
    with pytest.raises(UsageError):
        resources_from_flags({"l3_cache_schema": "L3:0=f"})


def test_merge_one_level():
    cur = {"memory": {"limit": 1, "swap": 2}, "pids": {"limit": 5}, "devices": [{"a": 1}]}
    new = merge_resources(cur, {"memory": {"limit": 9}, "devices": []})
    assert new == {"memory": {"limit": 9, "swap": 2}, "pids": {"limit": 5}, "devices": []}
    assert cur["memory"]["limit"] == 1
