"""Error types. Every error names what was wrong (the field) and why."""

from __future__ import annotations


class AgentshError(Exception):
    """Base of every error the runtime reports to its caller."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


class UsageError(AgentshError):
    """Bad command-line flags or arguments."""


class ConfigError(AgentshError):
    """config.json (or a process.json) breaks the schema or asks for the impossible."""


class ContainerError(AgentshError):
    """A lifecycle operation is not possible (wrong state, unknown id, ...).

    Printed without the field: engines match runc's exact wording ("does not exist").
    """

    def __str__(self) -> str:
        return self.reason


class SetupError(AgentshError):
    """The host refused part of the container's setup (a syscall failed)."""
