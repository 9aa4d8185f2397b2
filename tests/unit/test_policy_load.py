"""Loading and validation: every error names its field (POLICY.md "Loading")."""

import textwrap
from pathlib import Path

import pytest

from agentsh_runtime.errors import ConfigError
from agentsh_runtime.policy import cli_cmds
from agentsh_runtime.policy.errors import PolicyError
from agentsh_runtime.policy.load import load, loads, parse_duration, parse_yaml, validate

DATA = Path(__file__).parent / "data"
HEAD = "version: 1\nname: t\n"


def errors_of(body: str, strict: bool = False) -> dict[str, str]:
    doc = parse_yaml(HEAD + textwrap.dedent(body))
    policy, errors = validate(doc, strict=strict)
    assert (policy is None) == bool(errors)
    return {e.field: e.reason for e in errors}


# (yaml body, field named, a word of the reason)
BAD = [
    ("file_rules:\n  - {paths: [/a], operatons: [read], decision: allow}\n",
     "file_rules[0].operatons", "unknown key"),
    ("file_rules:\n  - {paths: [/a], decision: allow}\n  - {paths: [/b], decision: allow}\n"
     "  - {paths: [/c], decision: allow}\n  - {paths: [/d], operatons: [x], decision: deny}\n",
     "file_rules[3].operatons", "unknown key"),
    ("file_rules:\n  - {paths: [/a], operations: [wirte], decision: allow}\n",
     "file_rules[0].operations[0]", "unknown file operation"),
    ("file_rules:\n  - {paths: [/a], decision: alow}\n", "file_rules[0].decision",
     "unknown decision"),
    ("file_rules:\n  - {paths: [/a]}\n", "file_rules[0].decision", "required"),
    ("file_rules:\n  - {decision: allow}\n", "file_rules[0].paths", "required"),
    ("file_rules:\n  - {paths: ['/a/{b,c'], decision: allow}\n", "file_rules[0].paths[0]",
     "bad glob"),
    ("file_rules:\n  - {paths: ['${HOME'], decision: allow}\n", "file_rules[0].paths[0]",
     "unclosed"),
    ("file_rules:\n  - {paths: ['${1X}/a'], decision: allow}\n", "file_rules[0].paths[0]",
     "bad variable name"),
    ("file_rules:\n  - {paths: [/a], decision: redirect}\n", "file_rules[0].redirect_to",
     "required with decision redirect"),
    ("file_rules:\n  - {paths: [/a], decision: redirect, redirect_to: relative/dir}\n",
     "file_rules[0].redirect_to", "absolute"),
    ("file_rules:\n  - {paths: [/a], decision: allow, timeout: 5}\n", "file_rules[0].timeout",
     "needs a unit"),
    ("file_rules:\n  - {paths: [/a], decision: allow, preserve_tree: yes}\n",
     "file_rules[0].preserve_tree", "true or false"),
    ("file_rules:\n  - {paths: /a, decision: allow}\n", "file_rules[0].paths", "must be a list"),
    ("network_rules:\n  - {ports: [70000], decision: deny}\n", "network_rules[0].ports[0]",
     "at most 65535"),
    ("network_rules:\n  - {ports: ['443'], decision: deny}\n", "network_rules[0].ports[0]",
     "integer"),
    ("network_rules:\n  - {cidrs: [10.0.0.0/33], decision: deny}\n", "network_rules[0].cidrs[0]",
     "not a CIDR"),
    ("network_rules:\n  - {decision: redirect}\n", "network_rules[0].decision",
     "unknown decision"),
    ("network_rules:\n  - {domains: ['${X:-${Y}}'], decision: deny}\n",
     "network_rules[0].domains[0]", "fallback"),
    ("command_rules:\n  - {commands: [ls], args_patterns: ['(a'], decision: deny}\n",
     "command_rules[0].args_patterns[0]", "RE2"),
    ("command_rules:\n  - {commands: [ls], args_patterns: ['(?<=x)y'], decision: deny}\n",
     "command_rules[0].args_patterns[0]", "RE2"),
    ("command_rules:\n  - {commands: [curl], decision: redirect}\n",
     "command_rules[0].redirect_to", "required"),
    ("command_rules:\n  - {commands: [curl], decision: redirect, redirect_to: {args: [x]}}\n",
     "command_rules[0].redirect_to.command", "required"),
    ("command_rules:\n  - {commands: [curl], decision: redirect, redirect_to: {command: x, "
     "argz: [1]}}\n", "command_rules[0].redirect_to.argz", "unknown key"),
    ("command_rules:\n  - {commands: [ls], context: [inner], decision: allow}\n",
     "command_rules[0].context[0]", "unknown context"),
    ("command_rules:\n  - {commands: [ls], context: {min_depth: 3, max_depth: 1}, "
     "decision: allow}\n", "command_rules[0].context.max_depth", "at least min_depth"),
    ("command_rules:\n  - {commands: ['${HOME}/bin/x'], decision: allow}\n",
     "command_rules[0].commands[0]", "variables"),
    ("unix_socket_rules:\n  - {paths: [/run/x.sock], operations: [accept], decision: allow}\n",
     "unix_socket_rules[0].operations[0]", "unknown unix socket operation"),
    ("unix_socket_rules:\n  - {paths: [/run/x.sock], decision: audit}\n",
     "unix_socket_rules[0].decision", "unknown decision"),
    ("signal_rules:\n  - {signals: [SIGFOO], decision: deny}\n", "signal_rules[0].signals[0]",
     "unknown signal"),
    ("signal_rules:\n  - {signals: [65], decision: deny}\n", "signal_rules[0].signals[0]",
     "out of range"),
    ("signal_rules:\n  - {signals: ['@everything'], decision: deny}\n",
     "signal_rules[0].signals[0]", "unknown signal group"),
    ("signal_rules:\n  - {signals: [], decision: deny}\n", "signal_rules[0].signals",
     "required"),
    ("signal_rules:\n  - {signals: [KILL], target: {type: outside}, decision: deny}\n",
     "signal_rules[0].target.type", "unknown target type"),
    ("signal_rules:\n  - {signals: [KILL], target: {type: process}, decision: deny}\n",
     "signal_rules[0].target.pattern", "required"),
    ("signal_rules:\n  - {signals: [KILL], target: {type: pid_range, min: 10, max: 5}, "
     "decision: deny}\n", "signal_rules[0].target.max", "at least min"),
    ("signal_rules:\n  - {signals: [KILL], target: {type: self, pattern: x}, decision: deny}\n",
     "signal_rules[0].target.pattern", "only used with type process"),
    ("signal_rules:\n  - {signals: [KILL], decision: redirect}\n",
     "signal_rules[0].redirect_to", "required"),
    ("signal_rules:\n  - {signals: [KILL], decision: redirect, redirect_to: '@fatal'}\n",
     "signal_rules[0].redirect_to", "one signal"),
    ("signal_rules:\n  - {signals: [KILL], decision: deny, fallback: maybe}\n",
     "signal_rules[0].fallback", "unknown decision"),
    ("dns_redirects:\n  - {name: x, match: '(', resolve_to: 10.0.0.1}\n",
     "dns_redirects[0].match", "RE2"),
    ("dns_redirects:\n  - {name: x, match: a, resolve_to: gateway}\n",
     "dns_redirects[0].resolve_to", "IP address"),
    ("dns_redirects:\n  - {match: a, resolve_to: 10.0.0.1}\n", "dns_redirects[0].name",
     "required"),
    ("dns_redirects:\n  - {name: x, match: a, resolve_to: 10.0.0.1, visibility: loud}\n",
     "dns_redirects[0].visibility", "unknown visibility"),
    ("connect_redirects:\n  - {name: x, match: a}\n", "connect_redirects[0].redirect_to",
     "exactly one"),
    ("connect_redirects:\n  - {name: x, match: a, redirect_to: 'gw:99999'}\n",
     "connect_redirects[0].redirect_to", "host:port"),
    ("connect_redirects:\n  - {name: x, match: a, redirect_to: 'gw:443', tls: {mode: "
     "rewrite_sni}}\n", "connect_redirects[0].tls.sni", "required"),
    ("resource_limits: {max_memory_mb: -1}\n", "resource_limits.max_memory_mb", "at least 0"),
    ("resource_limits: {max_memory: 10}\n", "resource_limits.max_memory", "unknown key"),
    ("resource_limits: {session_timeout: 4 hours}\n", "resource_limits.session_timeout",
     "not a duration"),
    ("resource_limits: {cpu_quota_percent: fifty}\n", "resource_limits.cpu_quota_percent",
     "number"),
    ("env_policy: {allow: [PATH], max_keys: many}\n", "env_policy.max_keys", "integer"),
    ("env_policy: {alow: [PATH]}\n", "env_policy.alow", "unknown key"),
    ("env_inject: {'A=B': x}\n", "env_inject.A=B", "not a valid variable name"),
    ("audit: {log_allowed: 1}\n", "audit.log_allowed", "true or false"),
    ("transparent_commands: {add: [/usr/bin/x]}\n", "transparent_commands.add[0]", "basename"),
    ("services: []\n", "services", "http_services"),
    ("file_rulez: []\n", "file_rulez", "unknown key"),
]


@pytest.mark.parametrize("body,field,word", BAD, ids=[b[1] for b in BAD])
def test_validation_errors_name_the_field(body, field, word):
    errs = errors_of(body)
    assert field in errs, errs
    assert word in errs[field]


@pytest.mark.parametrize("text,field", [
    ("name: t\n", "version"),
    ("version: 0\nname: t\n", "version"),
    ("version: '1'\nname: t\n", "version"),
    ("version: true\nname: t\n", "version"),
    ("version: 1\n", "name"),
    ("version: 1\nname: ''\n", "name"),
    ("version: 1\nname: [a]\n", "name"),
])
def test_version_and_name_required(text, field):
    _, errors = validate(parse_yaml(text))
    assert field in {e.field for e in errors}


def test_loads_raises_the_first_error_with_all_of_them():
    with pytest.raises(PolicyError) as info:
        loads(HEAD + "file_rules:\n  - {paths: [/a], decision: x}\n  - {paths: [/b], "
              "operations: [y], decision: allow}\n")
    exc = info.value
    assert isinstance(exc, ConfigError)
    assert exc.field == "file_rules[0].decision"
    assert [e.field for e in exc.all] == ["file_rules[0].decision",
                                          "file_rules[1].operations[0]"]
    assert "and 1 more error" in str(exc)


def test_yaml_errors_and_duplicate_keys():
    with pytest.raises(PolicyError, match="not valid YAML"):
        loads("version: 1\nname: [\n")
    with pytest.raises(PolicyError, match="given twice"):
        loads("version: 1\nname: a\nname: b\n")
    with pytest.raises(PolicyError, match="must be a mapping"):
        loads("- a\n- b\n")
    with pytest.raises(PolicyError, match="empty"):
        loads("")


def test_yaml_1_2_scalars_as_agentsh_reads_them():
    # yes/no/on/off are strings (the `yes` command), not booleans; no timestamps
    p = loads(HEAD + "command_rules:\n  - {commands: [yes, no, on, 2024-01-01], "
              "decision: allow}\n")
    assert p.command_rules[0].commands == ("yes", "no", "on", "2024-01-01")


def test_agentsh_only_sections_are_reported_not_enforced():
    body = ("package_rules:\n  - {match: {ecosystem: npm}, action: block}\n"
            "http_services: []\nmcp_rules: {x: 1}\nregistry_rules: []\n"
            "audit: {include_stdout: true}\nenv_policy: {block_iteration: true}\n")
    p = loads(HEAD + body)
    assert set(p.not_enforced) == {"package_rules", "http_services", "mcp_rules",
                                   "registry_rules", "audit.include_stdout",
                                   "env_policy.block_iteration"}
    errs = errors_of(body, strict=True)
    assert "package_rules" in errs and "not enforced" in errs["package_rules"]
    assert "audit.include_stdout" in errs


def test_accepted_without_effect():
    p = loads(HEAD + textwrap.dedent("""\
        description: a policy
        metadata: [{rule_name: x, source: y}]
        transparent_commands: {add: [MyRunner], remove: [sudo]}
        file_rules:
          - {name: a, description: d, paths: [/a], decision: approve, message: "{{.Path}}",
             timeout: 1h30m}
        network_rules:
          - {name: n, description: d, decision: deny, message: m, timeout: 2m}
        unix_socket_rules:
          - {name: u, description: d, paths: ["@x"], decision: deny, message: m, timeout: 1s}
    """))
    assert p.description == "a policy"
    assert p.transparent_add == ("myrunner",)
    assert p.file_rules[0].timeout == 5400.0
    assert p.file_rules[0].message == "{{.Path}}"
    assert any("transparent_commands.remove" in w for w in p.warnings)


def test_rule_defaults_and_normalisation():
    p = loads(HEAD + textwrap.dedent("""\
        file_rules:
          - {paths: [/a], operations: [READ, Write], decision: DENY}
          - {paths: [/b], operations: ["*", read], decision: allow}
          - {paths: [/c], decision: allow}
        command_rules:
          - {decision: audit}
        signal_rules:
          - {signals: [KILL, SIGTERM, 1, "@reload"], decision: deny}
    """))
    r0, r1, r2 = p.file_rules
    assert r0.name == "file_rules[0]" and r0.decision == "deny"
    assert r0.operations == frozenset({"read", "write"})
    assert r1.operations is None and r2.operations is None  # every operation
    assert p.command_rules[0].commands == ()
    assert p.signal_rules[0].signals == frozenset({9, 15, 1, 10, 12})
    assert p.signal_rules[0].target is None


def test_empty_signal_rules_means_not_filtered():
    assert not loads(HEAD).filters_signals
    assert not loads(HEAD + "signal_rules: []\n").filters_signals
    assert loads(HEAD + "signal_rules:\n  - {signals: [KILL], decision: deny}\n").filters_signals


@pytest.mark.parametrize("text,secs", [
    ("5m", 300), ("4h", 14400), ("1h30m", 5400), ("300ms", 0.3), ("1.5h", 5400), ("10s", 10),
    ("0", 0), (0, 0), ("2us", 2e-6), ("1µs", 1e-6), ("+3s", 3)])
def test_durations(text, secs):
    assert parse_duration(text) == pytest.approx(secs)


@pytest.mark.parametrize("text", ["5", 5, "-5m", "5 m", "m", "", "1d", True, [1]])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_resource_limits_typed():
    p = loads(HEAD + textwrap.dedent("""\
        resource_limits:
          max_memory_mb: 512
          memory_swap_max_mb: 0
          cpu_quota_percent: 150
          disk_read_bps_max: 1000
          net_bandwidth_mbps: 10.5
          pids_max: 64
          command_timeout: 10m
          session_timeout: 4h
          idle_timeout: 30m
          best_effort: true
    """))
    lim = p.resource_limits
    assert (lim.max_memory_mb, lim.memory_swap_max_mb, lim.cpu_quota_percent) == (512, 0, 150.0)
    assert (lim.disk_read_bps_max, lim.disk_write_bps_max) == (1000, None)
    assert (lim.net_bandwidth_mbps, lim.pids_max) == (10.5, 64)
    assert (lim.command_timeout, lim.session_timeout, lim.idle_timeout) == (600, 14400, 1800)
    assert lim.best_effort


def test_variables_are_recorded():
    p = loads(HEAD + "file_rules:\n  - {paths: ['${HOME}/.ssh/**', '${PROJECT_ROOT}/**', "
              "'${X:-/x}'], decision: deny}\nnetwork_rules:\n  - {domains: ['${DOM}'], "
              "decision: allow}\n")
    assert p.variables == {"HOME", "PROJECT_ROOT", "X", "DOM"}


def test_load_reads_a_file(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(HEAD)
    assert load(str(f)).origin == str(f)
    with pytest.raises(PolicyError, match="cannot read"):
        load(str(tmp_path / "missing.yaml"))


def test_agentsh_default_like_fixture_loads():
    p = load(str(DATA / "agentsh-default-like.yaml"))
    assert p.name == "agentsh-default-like"
    assert len(p.file_rules) == 20 and len(p.command_rules) == 7
    assert p.not_enforced == ("audit.include_stderr",)
    assert p.resource_limits.memory_swap_max_mb == 0
    assert not p.filters_signals


# ---- the JSON schema (policy check) agrees with the code ------------------------------

SCHEMA_CASES = [b for b in BAD if not any(w in b[2] for w in (
    "bad glob", "unclosed", "bad variable", "RE2", "not a CIDR", "unknown signal", "out of range",
    "needs a unit", "IP address", "variables", "fallback", "at least min", "one signal",
    "host:port", "not a duration", "basename"))]


@pytest.mark.parametrize("body,field,word", SCHEMA_CASES, ids=[b[1] for b in SCHEMA_CASES])
def test_schema_flags_the_same_field(body, field, word):
    doc = parse_yaml(HEAD + textwrap.dedent(body))
    fields = {e.field for e in cli_cmds.schema_errors(doc)}
    assert any(f == field or field.startswith(f + ".") or field.startswith(f + "[")
               or f.startswith(field) for f in fields), (field, fields)


@pytest.mark.parametrize("name", ["default", "strict", "audit-only", "allow-all"])
def test_schema_accepts_the_builtins(name):
    from agentsh_runtime.policy.resolve import builtin_text

    assert cli_cmds.schema_errors(parse_yaml(builtin_text(name))) == []


def test_schema_accepts_the_fixture():
    doc = parse_yaml((DATA / "agentsh-default-like.yaml").read_text())
    assert cli_cmds.schema_errors(doc) == []
