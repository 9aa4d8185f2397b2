import os

from agentsh_runtime.init.securejoin import secure_join


def test_plain_and_dotdot(tmp_path):
    root = str(tmp_path)
    assert secure_join(root, "/a/b") == f"{root}/a/b"
    assert secure_join(root, "/../../etc") == f"{root}/etc"
    assert secure_join(root, "/") == root


def test_symlinks_stay_inside(tmp_path):
    root = str(tmp_path)
    os.makedirs(f"{root}/real")
    os.symlink("/etc", f"{root}/abs")            # absolute: re-rooted
    os.symlink("../../../../tmp", f"{root}/rel")  # climbs: clamped at root
    os.symlink("real", f"{root}/ok")
    assert secure_join(root, "/abs/passwd") == f"{root}/etc/passwd"
    assert secure_join(root, "/rel/x") == f"{root}/tmp/x"
    assert secure_join(root, "/ok/file") == f"{root}/real/file"


def test_symlink_loop_is_an_error(tmp_path):
    root = str(tmp_path)
    os.symlink("b", f"{root}/a")
    os.symlink("a", f"{root}/b")
    try:
        secure_join(root, "/a/x")
    except OSError as e:
        assert e.errno == 40
    else:
        raise AssertionError("a symlink loop must fail")
