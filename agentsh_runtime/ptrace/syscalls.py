"""x86_64 syscall numbers ptrace mode traces or refuses, grouped by what decides them."""

from __future__ import annotations

NR = {
    "read": 0, "open": 2, "pread64": 17, "socket": 41, "connect": 42, "sendto": 44,
    "sendmsg": 46, "bind": 49, "listen": 50, "clone": 56, "execve": 59, "kill": 62,
    "truncate": 76, "rename": 82, "mkdir": 83, "rmdir": 84, "creat": 85, "link": 86,
    "unlink": 87, "symlink": 88, "chmod": 90, "fchmod": 91, "chown": 92, "fchown": 93,
    "lchown": 94, "ptrace": 101, "rt_sigqueueinfo": 129, "mknod": 133,
    "pivot_root": 155, "chroot": 161, "mount": 165, "umount2": 166, "tkill": 200,
    "tgkill": 234, "openat": 257, "mkdirat": 258, "mknodat": 259, "fchownat": 260,
    "unlinkat": 263, "renameat": 264, "linkat": 265, "symlinkat": 266, "fchmodat": 268,
    "rt_tgsigqueueinfo": 297, "open_by_handle_at": 304, "sendmmsg": 307,
    "process_vm_writev": 311, "renameat2": 316, "execveat": 322,
    "pidfd_send_signal": 424, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430,
    "fsconfig": 431, "fsmount": 432, "fspick": 433, "clone3": 435, "openat2": 437,
    "fchmodat2": 452,
}
NAME = {v: k for k, v in NR.items()}

EXEC = ("execve", "execveat")
FILE = ("open", "openat", "openat2", "creat", "truncate", "rename", "renameat", "renameat2",
        "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "link", "linkat", "symlink",
        "symlinkat", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown",
        "fchownat", "mknod", "mknodat")
NET = ("connect", "sendto", "sendmsg", "sendmmsg", "bind")
SIGNAL = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
          "pidfd_send_signal")
UNIX_ONLY = ("listen",)  # unix_socket_rules: listen has no address of its own
# Refused with EPERM in ptrace mode, whatever the policy: each one reaches files or
# processes around the tracer's checks (another tracer, writing a tracee's memory while
# its checked syscall runs, opening by handle, mounts over checked paths, io_uring's
# operations that never pass a syscall stop).
REFUSED = ("ptrace", "process_vm_writev", "open_by_handle_at", "mount", "umount2",
           "pivot_root", "chroot", "open_tree", "move_mount", "fsopen", "fsconfig",
           "fsmount", "fspick", "io_uring_setup", "io_uring_enter", "io_uring_register")
MASK_READS = ("read", "pread64")  # --mask-tracer-pid: reads of /proc/*/status
