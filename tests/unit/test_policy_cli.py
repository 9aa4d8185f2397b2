"""policy check / explain / list as plain functions returning (exit code, text)."""

from pathlib import Path

from agentsh_runtime.policy import cli_cmds

DATA = Path(__file__).parent / "data"
VARS = {"HOME": "/root", "PROJECT_ROOT": "/workspace"}


def test_check_ok_and_lists_what_is_not_enforced(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("version: 1\nname: p\npackage_rules: []\nfile_rules:\n"
                 "  - {paths: ['${HOME}/x'], decision: deny}\n")
    code, text = cli_cmds.check(str(p))
    assert code == 0
    assert "ok: policy 'p'" in text
    assert "package_rules: not enforced" in text
    assert "no signal_rules: signals are not filtered" in text
    assert "variables: HOME" in text
    code, text = cli_cmds.check(str(p), strict=True)
    assert code == 1 and "package_rules" in text


def test_check_names_each_bad_field(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("version: 1\nname: bad\nfile_rules:\n"
                 "  - {paths: [/a], decision: allow}\n  - {paths: [/b], decision: allow}\n"
                 "  - {paths: [/c], decision: allow}\n"
                 "  - {paths: [/d], operatons: [read], decision: allow}\n"
                 "network_rules:\n  - {cidrs: [300.0.0.0/8], decision: deny}\n"
                 "resource_limits: {cpu_quota_percent: -5}\n")
    code, text = cli_cmds.check(str(p))
    assert code == 1
    lines = text.splitlines()
    assert f"{p}: file_rules[3].operatons: unknown key" in lines
    assert any(line.startswith(f"{p}: network_rules[0].cidrs[0]: not a CIDR") for line in lines)
    assert any(line.startswith(f"{p}: resource_limits.cpu_quota_percent:") for line in lines)
    assert lines[-1] == f"{p}: 3 errors"


def test_check_yaml_error_and_missing_file(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("version: [\n")
    code, text = cli_cmds.check(str(p))
    assert code == 1 and "not valid YAML" in text
    code, text = cli_cmds.check(str(tmp_path / "missing.yaml"))
    assert code == 1 and "cannot read" in text


def test_check_builtins_and_fixture():
    for name in ["default", "strict", "audit-only", "allow-all"]:
        assert cli_cmds.check(name)[0] == 0
    code, text = cli_cmds.check(str(DATA / "agentsh-default-like.yaml"))
    assert code == 0 and "audit.include_stderr: not enforced" in text


def test_explain_exec():
    code, text = cli_cmds.explain("default", exec="rm -rf /", variables=VARS)
    assert code == 0
    assert "decision: deny" in text
    assert "rule: deny-rm-root (command_rules[0])" in text
    assert "enforce mode: blocks" in text
    code, text = cli_cmds.explain("default", exec="env FOO=1 mkfs.ext4 /dev/sda",
                                  variables=VARS)
    assert "decided by: payload mkfs.ext4" in text
    assert "checked as: path env; argv0 env" not in text  # argv0 == path: one entry


def test_explain_file_connect_signal_dns_unix():
    code, text = cli_cmds.explain("default", file_op=("write", "/etc/passwd"), variables=VARS)
    assert code == 0 and "rule: system-read-only (file_rules[7])" in text
    code, text = cli_cmds.explain("default", file_op=("read", "/srv/data"), variables=VARS)
    assert "rule: default-allow-reads (no rule matched: the default)" in text
    code, text = cli_cmds.explain("default", file_op=("delete", "/workspace/a"),
                                  variables=VARS)
    assert "decision: approve" in text and "timeout: 300s" in text
    code, text = cli_cmds.explain("default", connect="example.com:443", variables=VARS)
    assert "decision: deny" in text and "default-deny-network" in text
    code, text = cli_cmds.explain("default", connect="[::1]:8080", variables=VARS)
    assert "decision: allow" in text and "loopback" in text
    code, text = cli_cmds.explain("default", signal=("KILL", "external"), variables=VARS)
    assert "decision: deny" in text
    code, text = cli_cmds.explain("default", signal=("SIGTERM", "children"), variables=VARS)
    assert "decision: allow" in text and "within-container" in text
    code, text = cli_cmds.explain("default", dns="example.com", variables=VARS)
    assert "default-dns-forward" in text
    code, text = cli_cmds.explain("default", unix=("connect", "/run/docker.sock"),
                                  variables=VARS)
    assert "deny-engine-sockets" in text


def test_explain_errors():
    assert cli_cmds.explain("default")[0] == 1
    assert cli_cmds.explain("default", exec="ls", dns="x")[0] == 1
    assert cli_cmds.explain("default", connect="nohost", variables=VARS)[0] == 1
    assert cli_cmds.explain("default", signal=("SIGNOPE", "self"), variables=VARS)[0] == 1
    code, text = cli_cmds.explain("default", exec="ls", variables={})
    assert code == 1 and "undefined variable" in text


def test_list_policies(tmp_path):
    (tmp_path / "team.yaml").write_text("version: 1\nname: team\ndescription: team rules\n")
    (tmp_path / "broken.yaml").write_text("version: 1\n")
    (tmp_path / "strict.yaml").write_text("version: 1\nname: strict\n")
    code, text = cli_cmds.list_policies([str(tmp_path)])
    assert code == 0
    lines = text.splitlines()
    assert [line.split()[0] for line in lines[:4]] == ["default", "strict", "audit-only",
                                                       "allow-all"]
    assert any(line.startswith("team") and "team rules" in line for line in lines)
    assert any(line.startswith("broken") and "INVALID" in line for line in lines)
    assert any("shadowed by the built-in" in line for line in lines)
    assert cli_cmds.list_policies([str(tmp_path / "none")])[0] == 0
