"""Bad input: each is a one-line error, a non-zero exit and no change on the host."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime

import pytest

from tests.support.bundle import (
    Bundle,
    Runtime,
    assert_error,
    only_ours,
    processes_in,
)


def _break_args_not_list(b: Bundle) -> None:
    b.process["args"] = "sh -c true"


def _break_args_empty(b: Bundle) -> None:
    b.process["args"] = []


def _break_uid_string(b: Bundle) -> None:
    b.process["user"] = {"uid": "root", "gid": 0}


def _break_cwd_relative(b: Bundle) -> None:
    b.process["cwd"] = "relative/dir"


def _break_missing_rootfs(b: Bundle) -> None:
    b.remove_rootfs()


def _break_root_path_elsewhere(b: Bundle) -> None:
    b.config["root"]["path"] = "no-such-rootfs"


# (breakage, words the error must contain: the field or the cause it names)
BAD_CONFIGS = {
    "args-not-a-list": (_break_args_not_list, ["args"]),
    "args-empty": (_break_args_empty, ["args"]),
    "uid-not-a-number": (_break_uid_string, ["uid"]),
    "cwd-relative": (_break_cwd_relative, ["cwd"]),
    "missing-rootfs": (_break_missing_rootfs, ["rootfs"]),
    "root-path-missing": (_break_root_path_elsewhere, ["no-such-rootfs"]),
}


def assert_host_unchanged(runtime: Runtime, bundle: Bundle) -> None:
    assert runtime.container_dirs() == [], "a failed create left state in --root"
    assert processes_in(bundle.path) == []
    assert bundle.foreign_mounts() == []


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
@pytest.mark.parametrize("command", ["create", "run"])
def test_bad_config_fails_cleanly(runtime, bundle, cid, case, command):
    breakage, words = BAD_CONFIGS[case]
    bundle.update(args=["true"])
    breakage(bundle)
    if command == "create":
        res = runtime.create(bundle, cid)
    else:
        res = runtime.run(bundle, cid)
    assert_error(res, *words)
    assert_host_unchanged(runtime, bundle)
    assert_error(runtime.state(cid), "does not exist")


def test_malformed_json_fails_cleanly(runtime, bundle, cid):
    bundle.write("{ this is not json")
    res = runtime.create(bundle, cid, write_config=False)
    assert_error(res)
    assert_host_unchanged(runtime, bundle)


def test_missing_config_json_fails_cleanly(runtime, bundle, cid):
    res = runtime.create(bundle, cid, write_config=False)
    assert_error(res, "config.json")
    assert_host_unchanged(runtime, bundle)


def test_executable_not_found_fails_create(runtime, bundle, cid):
    """runc checks process.args[0] at create time; the error names the file."""
    bundle.update(args=["/no/such/binary"])
    res = runtime.create(bundle, cid)
    assert_error(res, "/no/such/binary")
    assert_host_unchanged(runtime, bundle)


def test_unknown_annotations_are_fine(runtime, bundle, cid):
    bundle.update(args=["true"], annotations={"io.unknown.thing": "whatever"})
    res = runtime.run(bundle, cid)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("version", ["2.0.0", "0.9.0"])
def test_wrong_oci_version_major_rejected(runtime, bundle, cid, version):
    only_ours("runc 1.1.5 runs a config with any ociVersion")
    bundle.update(args=["true"], oci_version=version)
    res = runtime.create(bundle, cid)
    assert_error(res, "version")
    assert_host_unchanged(runtime, bundle)


@pytest.mark.parametrize("version", ["1.0.0", "1.0.2-dev", "1.1.0", "1.2.0"])
def test_oci_versions_1x_accepted(runtime, bundle, cid, version):
    bundle.update(args=["true"], oci_version=version)
    res = runtime.run(bundle, cid)
    assert res.returncode == 0, res.stderr


# -- the JSON runtime log ----------------------------------------------------------


def _log_lines(path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]


def _check_error_record(rec: dict, stderr: str) -> None:
    assert rec["level"] == "error"
    assert isinstance(rec["msg"], str) and rec["msg"]
    # RFC 3339 time
    datetime.fromisoformat(rec["time"].replace("Z", "+00:00"))
    assert rec["msg"] in stderr, "the error must also be printed on stderr"


@pytest.mark.parametrize("form", ["separate", "equals"])
def test_json_log_on_failed_create(make_runtime, bundle, cid, tmp_path, form):
    log = tmp_path / "runtime-log.json"
    rt: Runtime = make_runtime()
    bundle.update(args=["true"])
    bundle.remove_rootfs()
    bundle.write()
    if form == "separate":  # containerd: --log F --log-format json
        glob = ["--root", str(rt.root), "--log", str(log), "--log-format", "json"]
    else:  # podman: --log-format=json --log F
        glob = ["--root=" + str(rt.root), "--log-format=json", "--log", str(log)]
    p = subprocess.run([rt.binary, *glob, "create", "--bundle", str(bundle.path), cid],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    recs = _log_lines(log)
    assert len(recs) == 1, f"want exactly one JSON line, got {recs}"
    _check_error_record(recs[0], p.stderr)
    assert "rootfs" in recs[0]["msg"]
    assert rt.container_dirs() == []


def test_json_log_on_failed_kill(make_runtime, tmp_path):
    log = tmp_path / "log.json"
    rt: Runtime = make_runtime(log=log, log_format="json")
    res = rt.kill("nosuch", "KILL")
    assert res.returncode != 0
    recs = _log_lines(log)
    assert len(recs) == 1
    _check_error_record(recs[0], res.stderr)
    assert "does not exist" in recs[0]["msg"]


def test_json_log_has_no_error_on_success(make_runtime, bundle, cid, tmp_path):
    log = tmp_path / "log.json"
    rt: Runtime = make_runtime(log=log, log_format="json")
    bundle.update(args=["true"])
    res = rt.run(bundle, cid)
    assert res.returncode == 0, res.stderr
    assert [r for r in _log_lines(log) if r.get("level") == "error"] == []


def test_json_log_appends(make_runtime, tmp_path):
    log = tmp_path / "log.json"
    log.write_text('{"level":"info","msg":"earlier","time":"2024-01-01T00:00:00Z"}\n')
    rt: Runtime = make_runtime(log=log, log_format="json")
    assert rt.state("nosuch").returncode != 0
    recs = _log_lines(log)
    assert recs[0]["msg"] == "earlier"
    assert recs[-1]["level"] == "error"
