"""The command line itself: --version, global flags in both forms, usage errors, spec,
run --keep."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.support.bundle import Runtime, assert_error, only_ours


def raw(runtime: Runtime, *args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([runtime.binary, *args], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL, cwd=cwd)


def test_version_layout(runtime):
    """Docker and go-runc parse `NAME version X` then `commit:`; `spec:` follows."""
    for flag in ("--version", "-v"):
        res = raw(runtime, flag)
        assert res.returncode == 0, res.stderr
        lines = res.stdout.splitlines()
        assert re.fullmatch(r"\S+ version \S+", lines[0]), lines[0]
        assert any(ln.startswith("commit:") for ln in lines)
        spec = [ln for ln in lines if ln.startswith("spec:")]
        assert spec and re.match(r"spec: 1\.\d+\.\d+", spec[0])


def test_unknown_command_fails(runtime):
    res = runtime.cmd("frobnicate", "x")
    assert res.returncode != 0


def test_missing_container_id_fails(runtime):
    for cmd in ("state", "start", "delete", "kill"):
        res = runtime.cmd(cmd)
        assert res.returncode != 0, cmd


@pytest.mark.parametrize("flags", [["--debug"], ["--criu", "/usr/sbin/criu"],
                                   ["--rootless", "false"], ["--rootless=auto"],
                                   ["--log-format", "text"], ["--log-format=json"]])
def test_tolerated_global_flags(runtime, flags):
    res = subprocess.run([runtime.binary, *flags, "--root", str(runtime.root), "list"],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr


def test_cgroup_manager_flag_tolerated(runtime):
    only_ours("runc 1.1.5 rejects crun's --cgroup-manager flag")
    res = subprocess.run([runtime.binary, "--cgroup-manager", "disabled", "--root",
                          str(runtime.root), "list"], capture_output=True, text=True,
                         timeout=30)
    assert res.returncode == 0, res.stderr


def test_equals_form_of_options(runtime, bundle, cid):
    """podman passes --log-format=json; both --opt value and --opt=value must work, for
    global and command options."""
    bundle.update(args=["sleep", "1000"])
    bundle.write()
    pid_file = bundle.file("p.pid")
    argv = [runtime.binary, f"--root={runtime.root}", "create", f"--bundle={bundle.path}",
            f"--pid-file={pid_file}", cid]
    with open(bundle.file("c.out"), "w") as f:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=f, timeout=30)
    assert p.returncode == 0, bundle.file("c.out").read_text()
    st = runtime.state_json(cid)
    assert st and st["status"] == "created"
    runtime.record_pid(st["pid"])
    assert pid_file.read_text() == str(st["pid"])
    res = subprocess.run([runtime.binary, f"--root={runtime.root}", "list", "--format=json"],
                         capture_output=True, text=True, timeout=30)
    assert [c["id"] for c in json.loads(res.stdout)] == [cid]


def test_short_options(runtime, bundle, cid):
    bundle.update(args=["sleep", "1000"])
    bundle.write()
    argv = runtime.global_args() + ["create", "-b", str(bundle.path), cid]
    with open(bundle.file("c.out"), "w") as f:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=f, timeout=30)
    assert p.returncode == 0, bundle.file("c.out").read_text()
    runtime.record_pid(runtime.state_json(cid)["pid"])
    assert runtime.cmd("list", "-f", "json").returncode == 0
    assert runtime.cmd("delete", "-f", cid).returncode == 0
    assert runtime.container_dirs() == []


def test_root_separates_instances(make_runtime, bundle, cid):
    a: Runtime = make_runtime()
    b: Runtime = make_runtime()
    bundle.update(args=["sleep", "1000"])
    assert a.create(bundle, cid).returncode == 0
    assert a.status(cid) == "created"
    assert_error(b.state(cid), "does not exist")
    assert json.loads(b.list("json").stdout) in (None, [])


def test_spec_writes_runnable_default(runtime, bundle, cid, tmp_path):
    d = tmp_path / "specdir"
    d.mkdir()
    res = raw(runtime, "spec", cwd=d)
    assert res.returncode == 0, res.stderr
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["ociVersion"].startswith("1.")
    assert cfg["root"]["path"] == "rootfs"
    assert cfg["process"]["args"]
    assert {n["type"] for n in cfg["linux"]["namespaces"]} >= {"pid", "mount", "network"}
    # refuses to overwrite
    again = raw(runtime, "spec", cwd=d)
    assert_error(again, "exists")
    # the generated spec runs our rootfs (with a non-tty process)
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["echo", "from-spec"]
    bundle.config = cfg
    out = runtime.run(bundle, cid)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "from-spec\n"


def test_spec_bundle_option(runtime, tmp_path):
    d = tmp_path / "b"
    d.mkdir()
    res = raw(runtime, "spec", "--bundle", str(d))
    assert res.returncode == 0, res.stderr
    assert json.loads((d / "config.json").read_text())["root"]["path"] == "rootfs"


def test_run_keep_leaves_stopped_container(runtime, bundle, cid):
    bundle.update(args=["sh", "-c", "exit 2"])
    res = runtime.run(bundle, cid, "--keep")
    assert res.returncode == 2
    assert runtime.status(cid) == "stopped"
    assert runtime.delete(cid).returncode == 0
    assert runtime.container_dirs() == []
