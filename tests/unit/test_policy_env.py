"""env_policy, per-command env_allow/env_deny, limits, env_inject (POLICY.md)."""

import textwrap

import pytest

from agentsh_runtime.policy.engine import Engine, EnvQuery
from agentsh_runtime.policy.env import BUILTIN_SECRETS
from agentsh_runtime.policy.errors import PolicyError
from agentsh_runtime.policy.load import loads


def engine(body: str = "") -> Engine:
    return Engine(loads("version: 1\nname: t\n" + textwrap.dedent(body)), {})


@pytest.mark.parametrize("name", [
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "GOOGLE_APPLICATION_CREDENTIALS",
    "AZURE_CLIENT_SECRET", "GITHUB_TOKEN", "GH_TOKEN", "NPM_TOKEN", "MY_SECRET_THING",
    "DB_PASSWORD", "OPENAI_API_KEY", "SSH_AUTH_SOCK", "KUBECONFIG", "DOCKER_HOST", "LD_PRELOAD",
    "LD_LIBRARY_PATH", "LD_AUDIT", "PYTHONPATH", "PYTHONSTARTUP", "NODE_OPTIONS", "PERL5OPT",
    "RUBYOPT", "BASH_ENV", "ENV", "PROMPT_COMMAND", "GIT_ASKPASS", "GIT_SSH_COMMAND",
    "github_token", "Aws_Region"])  # the built-in list ignores case
def test_builtin_secret_list_with_empty_allow(name):
    e = engine()
    d = e.decide("env", EnvQuery(name))
    assert (d.decision, d.rule) == ("deny", "builtin-secret-env")


@pytest.mark.parametrize("name", ["PATH", "HOME", "LANG", "TERM", "LC_ALL", "HOSTNAME",
                                  "TOKENIZER", "PWD", "USER", "SHELL", "CARGO_HOME"])
def test_ordinary_variables_pass(name):
    assert engine().env(name).decision == "allow"


def test_allow_deny_globs_deny_wins():
    e = engine("env_policy: {allow: [PATH, HOME, 'LC_*', 'AWS_REGION', 'APP_*'], "
               "deny: ['*SECRET*', 'app_debug']}\n")
    assert e.env("PATH").decision == "allow"
    assert e.env("LC_CTYPE").decision == "allow"
    assert e.env("AWS_REGION").decision == "allow"  # named in allow: the built-in list is off
    assert (e.env("TERM").decision, e.env("TERM").rule) == ("deny", "env_policy.allow")
    assert (e.env("APP_SECRET").decision, e.env("APP_SECRET").rule) == ("deny",
                                                                        "env_policy.deny")
    assert e.env("APP_DEBUG").decision == "deny"  # deny globs ignore case
    assert e.env("path").decision == "deny"  # allow globs do not


def test_filter_env_removes_names_and_injects_after():
    e = engine("env_policy: {deny: ['DEBUG*']}\nenv_inject: {BASH_ENV: /etc/agentsh/rc, "
               "PATH: /safe/bin, N: 3}\n")
    env = ["PATH=/usr/bin", "HOME=/root", "GITHUB_TOKEN=ghp_x", "DEBUG=1", "AWS_REGION=x",
           "NOEQUALS", "EMPTY="]
    kept, removed = e.filter_env(env)
    assert removed == ["GITHUB_TOKEN", "DEBUG", "AWS_REGION"]
    assert kept == ["HOME=/root", "NOEQUALS", "EMPTY=", "BASH_ENV=/etc/agentsh/rc",
                    "PATH=/safe/bin", "N=3"]
    assert not any("ghp_x" in r for r in removed)  # names only, never values
    kept, _ = e.filter_env(env, inject=False)
    assert "PATH=/usr/bin" in kept and not any(k.startswith("BASH_ENV=") for k in kept)


def test_command_rule_env_applies_on_top():
    e = engine("""\
        env_policy: {allow: [PATH, HOME, 'GIT_*', TERM], max_keys: 10}
        command_rules:
          - {name: git, commands: [git], decision: allow, env_allow: [PATH, 'GIT_*'],
             env_deny: [GIT_TRACE], env_max_keys: 2}
    """)
    rule = e.policy.command_rules[0]
    kept, removed = e.filter_env(["PATH=/b", "HOME=/h", "GIT_DIR=/g", "GIT_TRACE=1", "X=1"],
                                 rule)
    assert kept == ["PATH=/b", "GIT_DIR=/g"]
    assert removed == ["HOME", "GIT_TRACE", "X"]
    with pytest.raises(PolicyError) as info:
        e.filter_env(["PATH=/b", "GIT_DIR=/g", "GIT_WORK_TREE=/w"], rule)
    assert info.value.field == "command_rules[0].env_max_keys"


@pytest.mark.parametrize("body,env,field", [
    ("env_policy: {max_keys: 2}\n", ["A=1", "B=2", "C=3"], "env_policy.max_keys"),
    ("env_policy: {max_bytes: 10}\n", ["A=12345", "B=12"], "env_policy.max_bytes"),
])
def test_env_limits_are_errors(body, env, field):
    with pytest.raises(PolicyError) as info:
        engine(body).filter_env(env)
    assert info.value.field == field
    assert "over the limit" in info.value.reason


def test_env_limits_count_what_is_kept():
    # 3 entries, one removed as a secret: 2 kept, within max_keys 2; bytes = 4 + 4 = 8
    e = engine("env_policy: {max_keys: 2, max_bytes: 8}\n")
    kept, removed = e.filter_env(["A=1", "B=2", "AWS_KEY=zzzzzzzzzzzz"])
    assert kept == ["A=1", "B=2"] and removed == ["AWS_KEY"]


def test_builtin_list_is_nonempty_and_valid():
    assert len(BUILTIN_SECRETS) > 40
    allow_all = engine("env_policy: {allow: ['*']}\n")
    assert all(allow_all.env(n.replace("*", "X")).decision == "allow" for n in BUILTIN_SECRETS)
