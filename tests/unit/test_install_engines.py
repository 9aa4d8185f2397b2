import json
import tomllib

import pytest

from agentsh_runtime.errors import ConfigError
from agentsh_runtime.install import apply, engines

BIN = "/usr/bin/agentsh-runtime"


def test_podman_keeps_admin_text_and_is_idempotent():
    old = ('# site config\n[containers]\nlog_size_max = 10\n\n[engine]\n'
           'runtime_supports_json = ["crun", "runc", "mine"]\n\n[engine.runtimes]\n'
           'mine = ["/opt/mine"]\n')
    new = engines.podman_conf(old, BIN)
    doc = tomllib.loads(new)
    assert new.startswith("# site config")
    assert doc["containers"]["log_size_max"] == 10
    assert doc["engine"]["runtime_supports_json"] == ["crun", "runc", "mine",
                                                      "agentsh-runtime", "agentsh"]
    assert doc["engine"]["runtimes"] == {"mine": ["/opt/mine"], "agentsh": [BIN]}
    assert engines.podman_conf(new, BIN) == new


def test_podman_empty_file_gets_defaults():
    doc = tomllib.loads(engines.podman_conf("", BIN))
    assert doc["engine"]["runtime_supports_json"][:5] == engines.PODMAN_JSON_DEFAULTS
    assert doc["engine"]["runtimes"]["agentsh"] == [BIN]


def test_containerd_new_and_existing():
    doc = tomllib.loads(engines.containerd_conf("", BIN))
    rt = doc["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]["agentsh"]
    assert doc["version"] == 2 and rt["runtime_type"] == "io.containerd.runc.v2"
    assert rt["pod_annotations"] == ["dev.agentsh.*"] and rt["options"]["BinaryName"] == BIN
    old = 'version = 2\nroot = "/var/lib/containerd"\n'
    new = engines.containerd_conf(old, BIN)
    assert tomllib.loads(new)["root"] == "/var/lib/containerd"
    assert engines.containerd_conf(new, BIN) == new
    with pytest.raises(ConfigError, match="version 2"):
        engines.containerd_conf("version = 1\n", BIN)
    with pytest.raises(ConfigError, match="not valid TOML"):
        engines.containerd_conf("version = = 2", BIN)


def test_docker_merge():
    old = json.dumps({"log-driver": "local", "runtimes": {"other": {"path": "/x"}}})
    doc = json.loads(engines.docker_daemon_json(old, BIN, "strict", make_default=True))
    assert doc["log-driver"] == "local" and doc["runtimes"]["other"] == {"path": "/x"}
    assert doc["runtimes"]["agentsh"] == {"path": BIN,
                                          "runtimeArgs": ["--default-policy", "strict"]}
    assert doc["default-runtime"] == "agentsh"
    with pytest.raises(ConfigError):
        engines.docker_daemon_json("[1]", BIN)
    with pytest.raises(ConfigError):
        engines.docker_daemon_json("{bad", BIN)


def test_apply_writes_backup_and_keeps_mode(tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text("{}\n")
    path.chmod(0o600)
    old, new = apply.plan("docker", str(path), BIN)
    assert "+" in apply.diff(str(path), old, new)
    backup = apply.write(str(path), old, new)
    assert backup and open(backup).read() == "{}\n"
    assert json.loads(path.read_text())["runtimes"]["agentsh"]["path"] == BIN
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(ConfigError, match="unknown engine"):
        apply.plan("lxc", str(path), BIN)
