"""The Debian package and the wheel: built offline, and the runtime they install works."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.rootfs import copy_rootfs

REPO = Path(__file__).resolve().parents[2]


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.fail(f"{tool} is missing: scripts/setup.sh installs it")
    return path


@pytest.fixture(scope="module")
def deb(tmp_path_factory) -> Path:
    _need("dpkg-deb")
    out = tmp_path_factory.mktemp("deb")
    res = subprocess.run([str(REPO / "packaging/deb/build.sh"), str(out)], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    debs = list(out.glob("agentsh-runtime_*.deb"))
    assert len(debs) == 1, debs
    return debs[0]


def test_deb_metadata_and_contents(deb):
    info = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True,
                          check=True).stdout
    assert "Package: agentsh-runtime" in info and "libseccomp2" in info
    files = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True,
                           check=True).stdout
    for needed in ("./usr/bin/agentsh-runtime",
                   "./usr/lib/agentsh-runtime/site/agentsh_runtime/cli/entry.py",
                   "./usr/lib/agentsh-runtime/site/agentsh_runtime/data/config.json.schema",
                   "./usr/lib/agentsh-runtime/site/pyseccomp.py",
                   "./usr/lib/agentsh-runtime/site/click/",
                   "./usr/lib/agentsh-runtime/site/yaml/",
                   "./usr/lib/agentsh-runtime/site/structlog/",
                   "./usr/share/agentsh-runtime/podman-containers.conf"):
        assert needed in files, f"{needed} missing from the package"
    assert " root/root " in files.splitlines()[1]
    scripts = subprocess.run(["dpkg-deb", "-I", str(deb), "postinst"], capture_output=True,
                             text=True, check=True).stdout
    assert "install --engine" in scripts and "containers.conf" not in scripts.split("echo")[0]


def test_deb_runtime_runs_a_container(deb, tmp_path):
    _need("/usr/bin/python3")
    root = tmp_path / "pkg"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, timeout=60)
    exe = root / "usr/bin/agentsh-runtime"
    ver = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=30)
    assert ver.returncode == 0, ver.stderr
    assert ver.stdout.splitlines()[0].startswith("agentsh-runtime version ")
    # the dependencies the package carries import under Debian's python3
    site = root / "usr/lib/agentsh-runtime/site"
    imp = subprocess.run(["/usr/bin/python3", "-IS", "-c",
                          f"import sys; sys.path.insert(0, {str(site)!r}); "
                          "import click, yaml, structlog, pyseccomp; print('ok')"],
                         capture_output=True, text=True, timeout=60)
    assert imp.stdout.strip() == "ok", imp.stderr
    feats = subprocess.run([str(exe), "features"], capture_output=True, text=True, timeout=30)
    assert json.loads(feats.stdout)["ociVersionMax"].startswith("1.")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    copy_rootfs(bundle / "rootfs")
    subprocess.run([str(exe), "spec", "--bundle", str(bundle)], check=True, timeout=30)
    cfg = json.loads((bundle / "config.json").read_text())
    cfg["process"].update(terminal=False, args=["sh", "-c", "echo from-the-deb"])
    (bundle / "config.json").write_text(json.dumps(cfg))
    run = subprocess.run([str(exe), "--root", str(tmp_path / "state"), "run", "--bundle",
                          str(bundle), f"deb-{tmp_path.name[-8:]}"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "from-the-deb"


def test_wheel_puts_the_command_on_path(tmp_path):
    wheels = tmp_path / "wheels"
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                          "--no-build-isolation", "-w", str(wheels), str(REPO)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    wheel = next(wheels.glob("agentsh_runtime-*.whl"))
    res = subprocess.run([str(venv / "bin/pip"), "install", "-q", "--no-deps", str(wheel)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    ver = subprocess.run([str(venv / "bin/agentsh-runtime"), "--version"],
                         capture_output=True, text=True, timeout=30)
    assert ver.returncode == 0 and ver.stdout.startswith("agentsh-runtime version"), ver.stderr
    schema = list(venv.glob("lib/python3*/site-packages/agentsh_runtime/data/config.json.schema"))
    assert schema, "config.json.schema is not installed with the package"
