"""`agentsh-runtime install --engine podman` registers the runtime by name."""

from __future__ import annotations

import copy
import re
import subprocess

import pytest

from tests.e2e.podman import Podman


def _registered_by_install(engine: Podman, tmp_path) -> Podman:
    conf = engine.conf.read_text()
    # start from the harness's config without any agentsh registration in it
    conf = re.sub(r"runtime_supports_json = .*\n", "", conf)
    conf = conf.split("\n[engine.runtimes]")[0] + "\n"
    path = tmp_path / "containers.conf"
    path.write_text(conf)
    out = subprocess.run([engine.runtime, "install", "--engine", "podman", "--config",
                          str(path), "--binary", engine.runtime],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "[engine.runtimes]" in out.stdout and "backup" in out.stdout
    pm = copy.copy(engine)
    pm.conf = path
    pm.runtime = "agentsh"  # by name, resolved through [engine.runtimes]
    return pm


def test_podman_runs_agentsh_by_name(engine, tmp_path):
    if "runc" in engine.runtime:
        pytest.skip("the install command is agentsh-runtime's (validation run against runc)")
    pm = _registered_by_install(engine, tmp_path)
    res = pm.run("--rm", cmd=["sh", "-c", "echo by-name"])
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "by-name"
    info = pm("info", "--format", "{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}")
    assert info.returncode == 0, info.stderr
    assert info.stdout.split()[0] == "agentsh"


def test_podman_shows_our_json_log_error(engine, tmp_path):
    if "runc" in engine.runtime:
        pytest.skip("the install command is agentsh-runtime's (validation run against runc)")
    pm = _registered_by_install(engine, tmp_path)
    res = pm.run("--rm", cmd=["/no/such/program"])
    assert res.returncode != 0
    assert "no such file or directory" in res.stderr.lower(), res.stderr
