"""Run a Passthrough under pyfuse3 and trio: on a mount point (libfuse mounts it), or on
an already mounted /dev/fuse fd (see kmount.mount_fuse_fd).

    serve(backing, mountpoint_or_fd, ops=None, options=None)      blocking, trio.run
    await serve_async(ops, mountpoint_or_fd, options, task_status=...)   in a nursery

pyfuse3 keeps its session in module globals: one FUSE session per process. To serve
several subtrees from one monitor, either run one server process per mount, or serve
one backing directory that contains them and bind-mount subdirectories of the FUSE
mount where they belong.

Caches and their tradeoff (Passthrough arguments):
- entry_timeout / attr_timeout / negative_timeout (1 s): the kernel answers lookups and
  stat from its cache for that long. Changes made to the backing directory from outside
  the mount (the host, another container) can be seen up to 1 s late. Policy decisions
  are not cached by this: opens, creates, deletes... always reach the server. (A name
  resolved with `stat` allowed stays resolvable for the entry timeout.)
- writeback_cache (on): writes go to the page cache and reach the server in batches of
  up to max_write (1 MiB, libfuse 3's default with the kernel's max_pages); the kernel
  owns file sizes and mtimes while it caches, so outside changes to a file's size can be
  missed while the file is cached here.
- keep_cache (on): page cache kept across opens; the kernel drops it when it sees mtime
  or size change at an attribute refresh (auto_inval_data).
- readdirplus: always on in pyfuse3 (readdir returns attributes, one round trip for ls).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable

import pyfuse3
import trio

from . import kmount
from .passthrough import Passthrough

# libfuse options (fuse_session_new + fuse_session_mount). "dev" and "suid" are needed
# when the mount serves device nodes or setuid programs (libfuse defaults to nodev,nosuid).
DEFAULT_OPTIONS = ("default_permissions", "allow_other", "fsname=agentsh", "subtype=agentsh")
READ_AHEAD_KB = 1024


def _mountpoint(mp: str | int) -> str:
    if isinstance(mp, int):
        # libfuse >= 3.3: "/dev/fd/N" means N is a mounted /dev/fuse fd; it does not
        # mount (and does not unmount); the session closes the fd at the end
        return f"/dev/fd/{mp}"
    return os.fspath(mp)


async def serve_async(ops: Passthrough, mountpoint: str | int,
                      options: Iterable[str] | None = None, *, max_tasks: int = 64,
                      read_ahead_kb: int | None = READ_AHEAD_KB, bdi: str | None = None,
                      task_status=trio.TASK_STATUS_IGNORED) -> None:  # noqa: ANN001
    """Serve `ops` until the file system is unmounted or this task is cancelled. With a
    path, libfuse mounts it (as root: mount(2)) and it is unmounted at the end (lazy).
    With an int, the fd must be a /dev/fuse fd already mounted (kmount.mount_fuse_fd);
    it is owned by the session from now on (closed at the end) and nothing is
    unmounted: the mount's owner unmounts it. `task_status.started()` is called once the
    session is set up (for a path: mounted).

    read_ahead_kb: set on the mount's bdi once the kernel has the INIT reply (the reply
    caps read-ahead to the kernel's proposal, 128 KiB); `bdi` ("0:NN", the mount's
    st_dev) is found from mountinfo for a path; for an fd pass it or it is skipped."""
    opts = set(DEFAULT_OPTIONS if options is None else options)
    raise_nofile()
    mp = _mountpoint(mountpoint)
    if isinstance(mountpoint, int):
        os.set_inheritable(mountpoint, False)
    pyfuse3.init(ops, mp, opts)
    try:
        if read_ahead_kb and bdi is None and not isinstance(mountpoint, int):
            bdi = kmount.mount_dev(mp)
        async with trio.open_nursery() as nursery:
            if read_ahead_kb and bdi:
                nursery.start_soon(_read_ahead_after_init, ops, bdi, read_ahead_kb)
            task_status.started()
            await pyfuse3.main(min_tasks=1, max_tasks=max_tasks)
            nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            try:
                pyfuse3.close(unmount=not isinstance(mountpoint, int))
            finally:
                ops.close()


def raise_nofile(want: int = 1 << 20) -> int:
    """The server keeps one O_PATH fd per inode the kernel knows (the kernel may know
    hundreds of thousands after a `find /`): raise RLIMIT_NOFILE as far as allowed
    (process-wide). Returns the new soft limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        with open("/proc/sys/fs/nr_open") as f:
            want = min(want, int(f.read()))
    except (OSError, ValueError):
        pass
    if hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (OSError, ValueError):
            want = hard
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard if hard >= want else want))
    return max(soft, want)


async def _read_ahead_after_init(ops: Passthrough, bdi: str, kb: int) -> None:
    # INIT is answered synchronously inside the session loop: once ops.init() ran and
    # the loop yielded, the kernel has applied the reply
    while not ops.initialized:
        await trio.sleep(0.005)
    await trio.sleep(0)
    kmount.set_read_ahead_bdi(bdi, kb)


def serve(backing: str | int | None, mountpoint_or_fd: str | int,
          ops: Passthrough | None = None, options: Iterable[str] | None = None, *,
          on_ready: Callable[[], object] | None = None,
          **passthrough_args: object) -> None:
    """Blocking: serve `ops` (or a plain Passthrough of `backing`) on a mount point or a
    mounted /dev/fuse fd until unmounted or SIGTERM/SIGINT (then unmount and return).
    `on_ready()` is called once mounted."""
    if ops is None:
        if backing is None:
            raise ValueError("serve needs a backing directory or an Operations instance")
        ops = Passthrough(backing, **passthrough_args)  # type: ignore[arg-type]

    async def main() -> None:
        async with trio.open_nursery() as nursery:

            async def on_signal() -> None:
                with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as sigs:
                    async for _ in sigs:
                        nursery.cancel_scope.cancel()
                        return

            async def run(task_status=trio.TASK_STATUS_IGNORED) -> None:  # noqa: ANN001
                try:
                    await serve_async(ops, mountpoint_or_fd, options, task_status=task_status)
                finally:
                    nursery.cancel_scope.cancel()

            nursery.start_soon(on_signal)
            await nursery.start(run)
            if on_ready is not None:
                on_ready()

    trio.run(main)
