"""PolicyError: a policy that cannot be loaded, compiled or applied, naming the field."""

from __future__ import annotations

from ..errors import ConfigError


class PolicyError(ConfigError):
    """One bad field of a policy: `reason` says what is wrong, `field` where
    (`file_rules[3].operatons`). When loading finds several, the first is raised
    and `all` lists every one, in file order."""

    def __init__(self, reason: str, field: str | None = None,
                 all_errors: list[PolicyError] | None = None) -> None:
        super().__init__(reason, field)
        self.all: list[PolicyError] = all_errors if all_errors is not None else [self]

    def __str__(self) -> str:
        text = super().__str__()
        extra = len(self.all) - 1
        return f"{text} (and {extra} more error{'s' if extra > 1 else ''})" if extra > 0 else text


def raise_first(errors: list[PolicyError]) -> None:
    """Raise the first of `errors` (carrying all of them), if there is any."""
    if errors:
        first = errors[0]
        raise PolicyError(first.reason, first.field, list(errors))
