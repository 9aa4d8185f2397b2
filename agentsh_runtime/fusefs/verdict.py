"""What a decider tells the FUSE server to do with one file operation.

Importing this module is cheap (no pyfuse3, no trio): a policy adapter can build
verdicts without loading the FUSE stack.

    decide(op, path, path2, pid) -> Verdict

`op` is one of POLICY.md's file operations (see OPS), `path` the path as the
container sees it, `path2` the other end of a rename or link (or a symlink's target
text), `pid` the caller's pid as the FUSE kernel reports it (0 when unknown).

`action` is what the server carries out; `decision` and `rule` are what the event
says (audit mode: action "allow" with decision "deny" records a would-be deny);
`log` says whether an event is wanted at all, so a silent allow costs nothing.
"""

from __future__ import annotations

import errno as _errno
from collections.abc import Awaitable, Callable
from typing import Any, Union

ALLOW_A, DENY_A, APPROVE_A, REDIRECT_A, SOFT_DELETE_A = (
    "allow", "deny", "approve", "redirect", "soft_delete")
ACTIONS = frozenset((ALLOW_A, DENY_A, APPROVE_A, REDIRECT_A, SOFT_DELETE_A))

# POLICY.md's file operation names. The server asks about these:
#   read      open without write flags           write   open with write flags, truncate,
#   create    create (O_CREAT of a new file)              utimes
#   delete    unlink        rmdir   rmdir        mkdir   mkdir
#   rename    rename (path=old, path2=new)       link    link (path=old, path2=new)
#   symlink   symlink (path=new link, path2=target text)
#   list      opendir       stat    lookup (a name resolved; also readdirplus entries)
#   chmod     chmod, setxattr, removexattr       chown   chown
#   readlink  readlink      mknod   mknod
# `open` and `access` are never asked: an open is `read` or `write` by its flags, and
# with default_permissions the kernel answers access(2) itself.
OPS = frozenset(("open", "read", "write", "create", "delete", "rmdir", "mkdir", "rename",
                 "link", "symlink", "list", "stat", "chmod", "chown", "readlink", "access",
                 "mknod"))

# the stricter of two verdicts wins (POLICY.md: deny > redirect = soft_delete > approve
# > audit > allow)
STRICTNESS = {ALLOW_A: 0, APPROVE_A: 2, REDIRECT_A: 3, SOFT_DELETE_A: 3, DENY_A: 4}

# what an approval resolves to: a Verdict, or True (allow) / False (deny)
Answer = Union["Verdict", bool]


class Verdict:
    """One decision for one operation. Immutable by convention; build with the helpers.

    action     allow | deny | approve | redirect | soft_delete
    log        emit an event for this operation (and, for opens, at release)
    decision   the policy's decision for the event (allow, audit, deny, approve, ...);
               defaults to the action
    rule       the rule's name for the event
    message    the rule's message for the event
    redirect   redirect: the new path as the container sees it
    answer     approve: an awaitable (or a zero-argument callable returning one) that
               resolves to a Verdict or a bool; the operation is held until then
    errno      deny: the error returned (EACCES unless the decider says otherwise)
    """

    __slots__ = ("action", "log", "decision", "rule", "message", "redirect", "answer",
                 "errno")

    def __init__(self, action: str, *, log: bool = False, decision: str | None = None,
                 rule: str | None = None, message: str | None = None,
                 redirect: str | None = None,
                 answer: Awaitable[Answer] | Callable[[], Awaitable[Answer]] | None = None,
                 errno: int = _errno.EACCES) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown verdict action {action!r}")
        if action == REDIRECT_A and not redirect:
            raise ValueError("a redirect verdict needs the new path")
        if action == APPROVE_A and answer is None:
            raise ValueError("an approve verdict needs an awaitable answer")
        self.action = action
        self.log = log
        self.decision = decision or action
        self.rule = rule
        self.message = message
        self.redirect = redirect
        self.answer = answer
        self.errno = errno

    # -- helpers ----------------------------------------------------------------------
    @classmethod
    def allow(cls, *, log: bool = False, decision: str | None = None,
              rule: str | None = None, message: str | None = None) -> Verdict:
        if not log and decision is None and rule is None and message is None:
            return ALLOW
        return cls(ALLOW_A, log=log, decision=decision, rule=rule, message=message)

    @classmethod
    def deny(cls, *, log: bool = True, rule: str | None = None, message: str | None = None,
             errno: int = _errno.EACCES) -> Verdict:
        return cls(DENY_A, log=log, rule=rule, message=message, errno=errno)

    @classmethod
    def approve(cls, answer: Any, *, log: bool = True, rule: str | None = None,
                message: str | None = None) -> Verdict:
        return cls(APPROVE_A, log=log, rule=rule, message=message, answer=answer)

    @classmethod
    def redirect_to(cls, new_path: str, *, log: bool = True, rule: str | None = None,
                    message: str | None = None) -> Verdict:
        return cls(REDIRECT_A, log=log, rule=rule, message=message, redirect=new_path)

    @classmethod
    def soft_delete(cls, *, log: bool = True, rule: str | None = None,
                    message: str | None = None) -> Verdict:
        return cls(SOFT_DELETE_A, log=log, rule=rule, message=message)

    @property
    def strictness(self) -> int:
        return STRICTNESS[self.action]

    def __repr__(self) -> str:
        extra = f" -> {self.redirect}" if self.redirect else ""
        return (f"Verdict({self.action}{extra}, decision={self.decision}, rule={self.rule}, "
                f"log={self.log})")


ALLOW = Verdict(ALLOW_A)  # the silent allow: shared, costs nothing


def stricter(a: Verdict, b: Verdict) -> Verdict:
    """The stricter of two verdicts (the first on a tie)."""
    return b if STRICTNESS[b.action] > STRICTNESS[a.action] else a


def allow_all(op: str, path: str, path2: str | None, pid: int) -> Verdict:
    """A decider that allows everything silently (a plain passthrough)."""
    return ALLOW
