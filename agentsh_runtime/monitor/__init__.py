"""The per-container monitor: seccomp notifications, approvals, events (policy issues)."""
