import pytest

from agentsh_runtime.cli import argv as a
from agentsh_runtime.errors import UsageError


def test_globals_both_forms_and_stop_at_command():
    vals, rest = a.parse(["--root", "/r", "--log=/l", "--log-format", "json", "--debug",
                          "--systemd-cgroup", "create", "--bundle", "b", "x"], a.GLOBAL_FLAGS)
    assert vals["root"] == "/r" and vals["log"] == "/l" and vals["log_format"] == "json"
    assert vals["debug"] is True and vals["systemd_cgroup"] is True
    assert rest == ["create", "--bundle", "b", "x"]


def test_tolerated_globals_take_values():
    vals, rest = a.parse(["--criu", "/c", "--rootless=true", "--cgroup-manager", "disabled",
                          "state", "x"], a.GLOBAL_FLAGS)
    assert vals["rootless"] == "true" and rest == ["state", "x"]


def test_create_flags_short_long_go_style():
    t = a.COMMAND_FLAGS["create"]
    vals, pos = a.parse(["-b", "/b", "--pid-file=/p", "-console-socket", "/s", "--no-pivot",
                         "--preserve-fds", "2", "id1"], t)
    assert vals["bundle"] == "/b" and vals["pid_file"] == "/p" and vals["console_socket"] == "/s"
    assert vals["no_pivot"] is True and vals["preserve_fds"] == "2" and pos == ["id1"]


def test_bool_with_value():
    vals, _ = a.parse(["--detach=false", "x"], a.COMMAND_FLAGS["run"])
    assert vals["detach"] is False
    with pytest.raises(UsageError):
        a.parse(["--detach=maybe", "x"], a.COMMAND_FLAGS["run"])


def test_exec_command_after_id_is_not_parsed():
    vals, pos = a.parse(["-e", "A=1", "--env=B=2", "-t", "c1", "sh", "-c", "echo -e x"],
                        a.COMMAND_FLAGS["exec"])
    assert vals["env"] == ["A=1", "B=2"] and vals["tty"] is True
    assert pos == ["c1", "sh", "-c", "echo -e x"]


def test_double_dash():
    _, pos = a.parse(["c1", "--", "-x"], a.COMMAND_FLAGS["exec"], stop_at_positional=False)
    assert pos == ["c1", "-x"]


def test_unknown_flag_names_it():
    with pytest.raises(UsageError) as e:
        a.parse(["--bogus", "x"], a.COMMAND_FLAGS["create"])
    assert "bogus" in str(e.value) and e.value.field == "--bogus"


def test_missing_value():
    with pytest.raises(UsageError, match="needs an argument"):
        a.parse(["--bundle"], a.COMMAND_FLAGS["create"])


def test_int_value():
    assert a.int_value("3", "preserve-fds") == 3
    for bad in ("x", "-1"):
        with pytest.raises(UsageError):
            a.int_value(bad, "preserve-fds")
