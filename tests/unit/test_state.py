import os

import pytest

from agentsh_runtime.container import state as st
from agentsh_runtime.errors import ContainerError


@pytest.mark.parametrize("cid", ["a", "abc-1_2.3+x", "A" * 64])
def test_valid_ids(cid):
    st.validate_id(cid)


@pytest.mark.parametrize("cid", ["", ".", "..", "a/b", "a b", "x\n", "ü"])
def test_invalid_ids(cid):
    with pytest.raises(ContainerError):
        st.validate_id(cid)


def test_status_from_pid_and_fifo(tmp_path):
    root = str(tmp_path)
    d = st.make_state_dir(root, "c1")
    with pytest.raises(ContainerError, match="exists"):
        st.make_state_dir(root, "c1")
    from agentsh_runtime.linux import proc

    me = os.getpid()
    s = st.State(root, "c1", {"pid": me, "init_start": proc.start_time(me), "bundle": "/b"})
    os.mkfifo(s.fifo_path)
    assert s.status() == "created"
    os.unlink(s.fifo_path)
    assert s.status() == "running"
    s.data["init_start"] += 1  # a reused pid is another process
    assert s.status() == "stopped" and s.oci_state()["pid"] == 0
    s.save()
    loaded = st.load(root, "c1")
    assert loaded.data == s.data and st.list_ids(root) == ["c1"]
    st.remove_state_dir(d)
    with pytest.raises(ContainerError, match="does not exist"):
        st.load(root, "c1")


def test_rfc3339():
    t = st.rfc3339_now()
    assert t.endswith("Z") and "T" in t and len(t.split(".")[1]) == 10
