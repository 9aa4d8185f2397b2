import pytest

from agentsh_runtime.errors import UsageError
from agentsh_runtime.spec.exec_process import process_from_flags

BASE = {"terminal": True, "consoleSize": {"height": 1, "width": 2}, "cwd": "/",
        "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0},
        "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                         "permitted": ["CAP_KILL"]}}


def flags(**kw):
    args = dict(args=["sh"], cwd=None, env=[], tty=False, user=None, additional_gids=[],
                caps=[], no_new_privs=False, apparmor=None, process_label=None)
    args.update(kw)
    return process_from_flags(BASE, **args)


def test_layering():
    p = flags(args=["id", "-u"], cwd="/tmp", env=["A=1"], user="1000:100",
              additional_gids=["5", "6"], caps=["CAP_CHOWN"], no_new_privs=True)
    assert p["args"] == ["id", "-u"] and p["cwd"] == "/tmp" and p["terminal"] is False
    assert p["env"] == ["PATH=/bin", "A=1"]
    assert p["user"] == {"uid": 1000, "gid": 100, "additionalGids": [5, 6]}
    assert p["capabilities"]["bounding"] == ["CAP_KILL", "CAP_CHOWN"]
    assert p["noNewPrivileges"] is True and "consoleSize" not in p
    assert BASE["capabilities"]["bounding"] == ["CAP_KILL"]  # base untouched


def test_bad_user_and_missing_args():
    with pytest.raises(UsageError):
        flags(user="root")
    with pytest.raises(UsageError):
        flags(args=[])
