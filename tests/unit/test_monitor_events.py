import json
import os
import time

from agentsh_runtime.monitor.events import EventWriter, remove_older_than, safe_extra_name


def _read(path):
    return [json.loads(x) for x in open(path)]


def test_events_are_batched_and_filtered_by_audit_settings(tmp_path):
    w = EventWriter(str(tmp_path), "c1")
    w.set_audit(log_allowed=False, log_denied=True, log_approved=True)
    w.emit("execve", policy={"decision": "allow", "effective_decision": "allow"},
           effective_action="allowed")
    w.emit("execve", policy={"decision": "deny", "effective_decision": "deny"},
           effective_action="blocked", argv=["rm"])
    w.emit("container_created")
    assert not (tmp_path / "c1.jsonl").exists()  # nothing written before a flush
    w.flush()
    evs = _read(tmp_path / "c1.jsonl")
    assert [e["type"] for e in evs] == ["execve", "container_created"]
    assert evs[0]["argv"] == ["rm"] and evs[0]["container_id"] == "c1"
    assert evs[0]["timestamp"].endswith("Z") and evs[0]["id"] != evs[1]["id"]


def test_rotation_caps_the_files(tmp_path):
    w = EventWriter(str(tmp_path), "c2", max_file_bytes=2000, keep=2)
    for i in range(200):
        w.emit("execve", argv=["x" * 50, str(i)])
        w.flush()
    names = sorted(os.listdir(tmp_path))
    assert names == ["c2.jsonl", "c2.jsonl.1", "c2.jsonl.2"]
    assert all(os.path.getsize(tmp_path / n) <= 2000 for n in names)


def test_extra_name_stays_inside_and_retention(tmp_path):
    assert safe_extra_name("team-a") == "team-a.jsonl"
    for bad in ("../x", "/etc/passwd", "a/b", "", ".."):
        assert safe_extra_name(bad) is None
    old = tmp_path / "old.jsonl"
    old.write_text("{}\n")
    past = time.time() - 3 * 86400
    os.utime(old, (past, past))
    (tmp_path / "new.jsonl").write_text("{}\n")
    assert remove_older_than(str(tmp_path), 2) == [str(old)]
    assert os.listdir(tmp_path) == ["new.jsonl"]
