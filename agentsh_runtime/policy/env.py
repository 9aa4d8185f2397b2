"""env_policy, per-command env_allow/env_deny, env_inject: filtering process.env.

- `deny` wins. A deny glob and the built-in secret list match regardless of case
  (`github_token` is as secret as `GITHUB_TOKEN`); allow globs match exactly.
- With an empty `allow` everything passes but the built-in secret and injection
  list; with a non-empty `allow` only allowed names pass (the built-in list does
  not apply then: naming a variable in `allow` is a decision to pass it, unless a
  `deny` also names it).
- A command rule's env_allow/env_deny apply on top of the policy's (a name must
  pass both), its env_max_* tighten the policy's.
- Over max_keys or max_bytes (sum of len("K=V") + 1 over the variables kept,
  before env_inject) is an error naming the limit.
- env_inject is added last (replacing a variable of the same name), unfiltered.
"""

from __future__ import annotations

from .errors import PolicyError
from .glob import GlobSet
from .model import CommandRule, EnvPolicy

# secret and injection variables, removed when env_policy.allow is empty
BUILTIN_SECRETS: tuple[str, ...] = (
    # cloud credentials
    "AWS_*", "AMAZON_*", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CREDENTIALS",
    "GOOGLE_API_KEY", "GCLOUD_*", "CLOUDSDK_AUTH_*", "GCP_*", "AZURE_*", "ARM_CLIENT_SECRET",
    "ARM_ACCESS_KEY", "DIGITALOCEAN_*", "HCLOUD_TOKEN", "ALIBABA_CLOUD_*", "ALICLOUD_*",
    "OCI_CLI_*", "IBMCLOUD_*",
    # tokens, keys, passwords
    "*_TOKEN", "*_TOKEN_*", "TOKEN", "*_SECRET*", "SECRET*", "*_PASSWORD*", "PASSWORD*",
    "*_PASSWD*", "*_API_KEY", "*_APIKEY", "*_PRIVATE_KEY*", "*_ACCESS_KEY*", "*_CREDENTIALS",
    "GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "NPM_TOKEN", "NPM_CONFIG__AUTH*",
    "VAULT_TOKEN", "CONSUL_HTTP_TOKEN", "KRB5CCNAME", "PGPASSWORD", "MYSQL_PWD",
    # host access
    "SSH_AUTH_SOCK", "SSH_AGENT_PID", "GPG_AGENT_INFO", "KUBECONFIG", "DOCKER_HOST",
    "DOCKER_CONFIG", "DOCKER_CERT_PATH", "CONTAINER_HOST", "XDG_RUNTIME_DIR",
    "DBUS_SESSION_BUS_ADDRESS",
    # code injection into the programs the container runs
    "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "LD_DEBUG_OUTPUT", "LD_PROFILE",
    "DYLD_*", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONINSPECT",
    "NODE_OPTIONS", "NODE_PATH", "PERL5OPT", "PERL5LIB", "PERLLIB", "PERL5DB", "RUBYOPT",
    "RUBYLIB", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
    "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PROMPT_COMMAND", "PS4", "CDPATH",
    "GLOBIGNORE", "MAILPATH", "BASH_FUNC_*", "IFS",
    "GIT_ASKPASS", "SSH_ASKPASS", "SUDO_ASKPASS", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_EXEC_PATH",
    "GIT_CONFIG_*", "GIT_EXTERNAL_DIFF", "GIT_PROXY_COMMAND", "GIT_TEMPLATE_DIR",
    "LESSOPEN", "LESSCLOSE",
)

__all__ = ["BUILTIN_SECRETS", "EnvFilter", "split_env"]


def split_env(entry: str) -> tuple[str, str]:
    name, _, value = entry.partition("=")
    return name, value


class EnvFilter:
    """A compiled env_policy (+ optional command rule)."""

    def __init__(self, policy: EnvPolicy, inject: tuple[tuple[str, str], ...] = (),
                 rule: CommandRule | None = None) -> None:
        self.policy = policy
        self.inject = inject
        self.rule = rule
        self._allow = GlobSet([(g, 0) for g in policy.allow], None) if policy.allow else None
        self._deny = GlobSet([(g, 0) for g in policy.deny], None, fold=True)
        self._secrets = _secrets()
        self._r_allow = self._r_deny = None
        if rule is not None:
            if rule.env_allow:
                self._r_allow = GlobSet([(g, 0) for g in rule.env_allow], None)
            if rule.env_deny:
                self._r_deny = GlobSet([(g, 0) for g in rule.env_deny], None, fold=True)

    def check(self, name: str) -> tuple[bool, str]:
        """(passes, why): why names the part of the policy that decided."""
        if self._deny.mask(name):
            return False, "env_policy.deny"
        if self._allow is not None:
            if not self._allow.mask(name):
                return False, "env_policy.allow"
        elif self._secrets.mask(name):
            return False, "builtin-secret-env"
        if self.rule is not None:
            where = f"command_rules[{self.rule.index}]"
            if self._r_deny is not None and self._r_deny.mask(name):
                return False, where + ".env_deny"
            if self._r_allow is not None and not self._r_allow.mask(name):
                return False, where + ".env_allow"
        return True, "env_policy.allow" if self._allow is not None else "default-allow-env"

    def limits(self) -> tuple[int | None, int | None, str, str]:
        keys, kfield = self.policy.max_keys, "env_policy.max_keys"
        size, sfield = self.policy.max_bytes, "env_policy.max_bytes"
        r = self.rule
        if r is not None:
            where = f"command_rules[{r.index}]"
            if r.env_max_keys is not None and (keys is None or r.env_max_keys < keys):
                keys, kfield = r.env_max_keys, where + ".env_max_keys"
            if r.env_max_bytes is not None and (size is None or r.env_max_bytes < size):
                size, sfield = r.env_max_bytes, where + ".env_max_bytes"
        return keys, size, kfield, sfield

    def filter(self, env: list[str], inject: bool = True) -> tuple[list[str], list[str]]:
        """(the entries kept, plus env_inject; the names removed, never the values)."""
        kept: list[str] = []
        removed: list[str] = []
        for entry in env:
            name, _ = split_env(entry)
            ok, _why = self.check(name)
            if ok:
                kept.append(entry)
            elif name not in removed:
                removed.append(name)
        max_keys, max_bytes, kfield, sfield = self.limits()
        if max_keys is not None and len(kept) > max_keys:
            raise PolicyError(f"the environment has {len(kept)} variables, over the limit of "
                              f"{max_keys}", kfield)
        if max_bytes is not None:
            size = sum(len(e.encode("utf-8", "surrogateescape")) + 1 for e in kept)
            if size > max_bytes:
                raise PolicyError(f"the environment is {size} bytes, over the limit of "
                                  f"{max_bytes}", sfield)
        if inject and self.inject:
            names = {n for n, _ in self.inject}
            kept = [e for e in kept if split_env(e)[0] not in names]
            kept.extend(f"{n}={v}" for n, v in self.inject)
        return kept, removed


_SECRETS: GlobSet | None = None


def _secrets() -> GlobSet:
    global _SECRETS
    if _SECRETS is None:
        _SECRETS = GlobSet([(g, 0) for g in BUILTIN_SECRETS], None, fold=True)
    return _SECRETS
