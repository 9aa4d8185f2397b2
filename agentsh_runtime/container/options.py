"""What the CLI hands to the lifecycle functions."""

from __future__ import annotations

from ..runtimelog import RuntimeLog


class GlobalOptions:
    __slots__ = ("root", "log", "systemd_cgroup", "debug", "default_policy", "admin_config")

    def __init__(self, root: str, log: RuntimeLog, systemd_cgroup: bool = False,
                 debug: bool = False, default_policy: str | None = None,
                 admin_config: str | None = None) -> None:
        self.root = root
        self.log = log
        self.systemd_cgroup = systemd_cgroup
        self.debug = debug
        self.default_policy = default_policy
        self.admin_config = admin_config


class CreateOptions:
    __slots__ = ("id", "bundle", "pid_file", "console_socket", "no_pivot", "no_new_keyring",
                 "preserve_fds", "console_fd")

    def __init__(self, cid: str, bundle: str = ".", pid_file: str | None = None,
                 console_socket: str | None = None, no_pivot: bool = False,
                 no_new_keyring: bool = False, preserve_fds: int = 0) -> None:
        self.id = cid
        self.bundle = bundle
        self.pid_file = pid_file
        self.console_socket = console_socket
        self.no_pivot = no_pivot
        self.no_new_keyring = no_new_keyring
        self.preserve_fds = preserve_fds
        self.console_fd = -1  # an already connected console socket (foreground run)
