import pytest

from agentsh_runtime.errors import UsageError
from agentsh_runtime.spec.signals import parse_signal, signal_name


@pytest.mark.parametrize("text,num", [
    ("9", 9), ("KILL", 9), ("SIGKILL", 9), ("kill", 9), ("sigterm", 15), ("TERM", 15),
    ("HUP", 1), ("USR1", 10), ("SIGUSR2", 12), ("WINCH", 28), ("RTMIN", 34),
    ("RTMIN+3", 37), ("RTMAX-1", 63), ("64", 64), ("1", 1), (" 15 ", 15),
])
def test_parse(text, num):
    assert parse_signal(text) == num


@pytest.mark.parametrize("text", ["0", "65", "SIGFOO", "", "RTMIN+40", "-9", "9x"])
def test_unknown(text):
    with pytest.raises(UsageError, match="unknown signal"):
        parse_signal(text)


def test_name():
    assert signal_name(9) == "SIGKILL" and signal_name(40) == "SIG40"
