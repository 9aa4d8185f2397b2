"""pause/resume, update, events, features, kill --all and ps through the cgroup."""

from __future__ import annotations

import json
import os
import subprocess
import time

from tests.support.bundle import is_runc

COUNTER = ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; "
           "usleep 20000; done"]


def _running(runtime, bundle, cid, args):
    bundle.update(args=args)
    res = runtime.create(bundle, cid)
    assert res.returncode == 0, res.stderr
    assert runtime.start(cid).returncode == 0
    return runtime.wait_status(cid, "running")


def _count(bundle) -> int:
    path = bundle.path / "rootfs" / "tmp" / "count"
    for _ in range(100):
        try:
            # an empty read is the shell's `>` truncating it between writes: read again
            return int(path.read_text().strip())
        except (FileNotFoundError, ValueError):
            time.sleep(0.02)
    raise AssertionError("the counter never wrote")


def _host_cgroup(pid: int, controller: str) -> str:
    for line in open(f"/proc/{pid}/cgroup"):
        _, ctrls, path = line.rstrip("\n").split(":", 2)
        if controller in ctrls.split(","):
            return f"/sys/fs/cgroup/{controller}{path}"
    raise AssertionError(f"no {controller} cgroup for {pid}")


def test_pause_stops_and_resume_restarts(runtime, bundle, cid):
    st = _running(runtime, bundle, cid, COUNTER)
    time.sleep(0.2)
    res = runtime.cmd("pause", cid)
    assert res.returncode == 0, res.stderr
    assert runtime.status(cid) == "paused"
    a = _count(bundle)
    time.sleep(0.4)
    assert _count(bundle) == a, "the counter advanced while paused"
    assert "container not running" in runtime.cmd("pause", cid).stderr or is_runc()
    res = runtime.cmd("resume", cid)
    assert res.returncode == 0, res.stderr
    assert runtime.status(cid) == "running"
    deadline = time.monotonic() + 5  # a loaded machine schedules the counter late
    while _count(bundle) <= a and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _count(bundle) > a, "the counter did not resume"
    assert runtime.cmd("resume", cid).returncode != 0  # not paused any more
    # delete --force of a paused container works too
    assert runtime.cmd("pause", cid).returncode == 0
    assert runtime.delete(cid, force=True).returncode == 0
    assert st["pid"] and not os.path.exists(f"/proc/{st['pid']}/cmdline")


def test_update_flags_and_resources_json(runtime, bundle, cid):
    st = _running(runtime, bundle, cid, ["sleep", "1000"])
    res = runtime.cmd("update", "--memory", "96m", "--pids-limit", "42", "--cpu-share",
                      "300", cid)
    assert res.returncode == 0, res.stderr
    pid = st["pid"]
    mem = _host_cgroup(pid, "memory")
    assert int(open(f"{mem}/memory.limit_in_bytes").read()) == 96 << 20
    assert open(f"{_host_cgroup(pid, 'pids')}/pids.max").read().strip() == "42"
    assert open(f"{_host_cgroup(pid, 'cpu')}/cpu.shares").read().strip() == "300"
    res = runtime.cmd("update", "--resources", "-", cid,
                      input=json.dumps({"memory": {"limit": 128 << 20}, "pids": {"limit": 7}}))
    assert res.returncode == 0, res.stderr
    assert int(open(f"{mem}/memory.limit_in_bytes").read()) == 128 << 20
    assert open(f"{_host_cgroup(pid, 'pids')}/pids.max").read().strip() == "7"
    bad = runtime.cmd("update", "--memory", "lots", cid)
    assert bad.returncode != 0 and bad.stderr.strip()


def test_events_stats_shape(runtime, bundle, cid):
    bundle.update(args=["sleep", "1000"])
    bundle.linux["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 50}}
    res = runtime.create(bundle, cid)
    assert res.returncode == 0, res.stderr
    assert runtime.start(cid).returncode == 0
    res = runtime.cmd("events", "--stats", cid)
    assert res.returncode == 0, res.stderr
    ev = json.loads(res.stdout)
    assert ev["type"] == "stats" and ev["id"] == cid
    data = ev["data"]
    assert data["pids"]["current"] >= 1 and data["pids"]["limit"] == 50
    assert data["memory"]["usage"]["limit"] == 64 << 20
    assert data["memory"]["usage"]["usage"] > 0
    assert data["cpu"]["usage"]["total"] > 0


def test_kill_all_and_ps_use_the_cgroup(runtime, bundle, cid):
    st = _running(runtime, bundle, cid,
                  ["sh", "-c", "trap '' TERM; sleep 1000 & sleep 1000 & wait"])
    for _ in range(100):
        pids = json.loads(runtime.cmd("ps", "--format", "json", cid).stdout)
        if len(pids) >= 3:
            break
        time.sleep(0.02)
    assert st["pid"] in pids and len(pids) == 3
    assert runtime.cmd("kill", "--all", cid, "KILL").returncode == 0
    runtime.wait_status(cid, "stopped")
    for pid in pids:
        deadline = time.monotonic() + 5
        while os.path.exists(f"/proc/{pid}/status"):
            state = open(f"/proc/{pid}/status").read()
            if "State:\tZ" in state:
                break
            assert time.monotonic() < deadline, f"{pid} survived kill --all"
            time.sleep(0.02)


def test_features_document(runtime):
    res = runtime.cmd("features")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["ociVersionMin"].startswith("1.") and doc["ociVersionMax"].startswith("1.")
    assert set(doc["hooks"]) >= {"prestart", "createRuntime", "createContainer",
                                 "startContainer", "poststart", "poststop"}
    linux = doc["linux"]
    assert "pid" in linux["namespaces"] and "CAP_SYS_ADMIN" in linux["capabilities"]
    assert "SCMP_ACT_NOTIFY" in linux["seccomp"]["actions"]
    assert linux["cgroup"]["v1"] and linux["cgroup"]["v2"]
    if not is_runc():
        assert "time" in linux["namespaces"]
        assert "dev.agentsh.policy" in doc["annotations"]["dev.agentsh.runtime.annotations"]


def test_events_stream_reports_oom(runtime, bundle, cid):
    # a child hogs memory past the limit and is OOM-killed; the init lives on
    bundle.update(args=["sh", "-c", "sleep 0.5; (x=$(head -c 64m /dev/zero | tr '\\0' a)); "
                                    "sleep 1000"])
    bundle.linux["resources"] = {"memory": {"limit": 16 << 20, "swap": 16 << 20}}
    res = runtime.create(bundle, cid)
    assert res.returncode == 0, res.stderr
    argv = runtime.global_args() + ["events", "--interval", "200ms", cid]
    out = bundle.file("events.out")
    with open(out, "w") as f:
        ev = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT)
    try:
        assert runtime.start(cid).returncode == 0
        deadline = time.monotonic() + 20
        while True:
            # polled before reading: an OOM kill that ended the container is written
            # before the stream exits
            ended = ev.poll() is not None
            text = out.read_text()
            if '"type":"oom"' in text.replace(" ", ""):
                break
            assert not ended, text[-2000:]
            assert time.monotonic() < deadline, text[-2000:]
            time.sleep(0.1)
        lines = [json.loads(x) for x in out.read_text().splitlines() if x.strip()]
        assert any(x["type"] == "stats" and x["id"] == cid for x in lines)
        assert any(x["type"] == "oom" and x["id"] == cid for x in lines)
    finally:
        ev.kill()
        ev.wait()
