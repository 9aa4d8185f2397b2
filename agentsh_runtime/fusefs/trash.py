"""soft_delete: deleted files go to a trash directory on the host, outside the mount.

Layout of a trash directory (owned by the runtime, mode 0700):

    TRASH/index.jsonl     one JSON object per line, appended:
                          {"op": "delete", "id", "path" (as the container saw it),
                           "type" (file, dir, symlink, other), "size", "mode", "uid",
                           "gid", "mtime_ns", "deleted_at", "pid", "comm"}
                          {"op": "restore" | "purge", "id", "at"}
    TRASH/files/ID        the deleted file itself (same inode when the trash is on the
                          backing file system, a copy otherwise)

`entries()` lists what is still in the trash, `restore()` puts one back, `purge()`
removes entries. Nothing here follows a symlink of the backing tree: the file to
trash is named by a directory fd and a name.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import time

INDEX = "index.jsonl"
FILES = "files"


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "other"


class Trash:
    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.join(path, FILES), 0o700, exist_ok=True)
        self._dfd = os.open(os.path.join(path, FILES), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        self._seq = 0

    def close(self) -> None:
        if self._dfd >= 0:
            os.close(self._dfd)
            self._dfd = -1

    def _new_id(self) -> str:
        self._seq += 1
        return f"{time.time_ns():x}-{os.getpid()}-{self._seq}"

    def put(self, dirfd: int, name: bytes, container_path: str, pid: int = 0,
            comm: str | None = None) -> dict:
        """Move dirfd/name into the trash (rename, or copy then remove across file
        systems) and record it. Returns the index record."""
        st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
        tid = self._new_id()
        try:
            os.rename(name, tid, src_dir_fd=dirfd, dst_dir_fd=self._dfd)
        except OSError as e:
            if e.errno != errno.EXDEV:
                raise
            _copy(dirfd, name, self._dfd, tid.encode(), st)
            if stat.S_ISDIR(st.st_mode):
                os.rmdir(name, dir_fd=dirfd)
            else:
                os.unlink(name, dir_fd=dirfd)
        rec = {"op": "delete", "id": tid, "path": container_path, "type": _kind(st.st_mode),
               "size": st.st_size, "mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid,
               "gid": st.st_gid, "mtime_ns": st.st_mtime_ns, "deleted_at": time.time(),
               "pid": pid, "comm": comm}
        _append_to(self.path, rec)
        return rec

    def entries(self) -> list[dict]:
        """What is still in the trash, oldest first."""
        return entries(self.path)

    def restore(self, entry_id: str, dest: str) -> None:
        restore(self.path, entry_id, dest)


def _read_index(path: str) -> list[dict]:
    try:
        with open(os.path.join(path, INDEX), "rb") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a torn last line
    return out


def entries(path: str) -> list[dict]:
    live: dict[str, dict] = {}
    for rec in _read_index(path):
        if rec.get("op") == "delete":
            live[rec["id"]] = rec
        else:
            live.pop(rec.get("id"), None)
    return [r for r in live.values() if os.path.lexists(os.path.join(path, FILES, r["id"]))]


def restore(path: str, entry_id: str, dest: str) -> None:
    """Put entry `entry_id` back at host path `dest` (which must not exist; its parent
    must). Same file system: rename; otherwise copy then remove."""
    if "/" in entry_id or entry_id in (".", ".."):
        raise ValueError(f"bad trash id {entry_id!r}")
    src_dir = os.open(os.path.join(path, FILES), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    parent, base = os.path.split(os.path.abspath(dest))
    dst_dir = os.open(parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if os.path.lexists(dest):
            raise FileExistsError(errno.EEXIST, "restore target exists", dest)
        st = os.stat(entry_id, dir_fd=src_dir, follow_symlinks=False)
        try:
            os.rename(entry_id, base, src_dir_fd=src_dir, dst_dir_fd=dst_dir)
        except OSError as e:
            if e.errno != errno.EXDEV:
                raise
            _copy(src_dir, entry_id.encode(), dst_dir, base.encode(), st)
            _remove_tree(src_dir, entry_id)
    finally:
        os.close(src_dir)
        os.close(dst_dir)
    _append_to(path, {"op": "restore", "id": entry_id, "at": time.time(), "dest": dest})


def purge(path: str, entry_ids: list[str] | None = None, older_than_s: float | None = None
          ) -> list[str]:
    """Remove entries for good: the given ids, or those deleted longer ago than
    `older_than_s`, or (neither given) everything."""
    now = time.time()
    removed = []
    dfd = os.open(os.path.join(path, FILES), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for rec in entries(path):
            if entry_ids is not None and rec["id"] not in entry_ids:
                continue
            if older_than_s is not None and now - rec.get("deleted_at", now) < older_than_s:
                continue
            _remove_tree(dfd, rec["id"])
            _append_to(path, {"op": "purge", "id": rec["id"], "at": now})
            removed.append(rec["id"])
    finally:
        os.close(dfd)
    return removed


def _append_to(path: str, record: dict) -> None:
    data = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    fd = os.open(os.path.join(path, INDEX), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _remove_tree(dirfd: int, name: str) -> None:
    st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(name, dir_fd=dirfd)
        return
    sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                  dir_fd=dirfd)
    try:
        for child in os.listdir(sub):
            _remove_tree(sub, child)
    finally:
        os.close(sub)
    os.rmdir(name, dir_fd=dirfd)


def _copy(sdir: int, sname: bytes, ddir: int, dname: bytes, st: os.stat_result) -> None:
    """Copy one entry (not recursive: a soft-deleted directory is empty) with its mode,
    owner, times and user xattrs."""
    mode = st.st_mode
    if stat.S_ISREG(mode):
        src = os.open(sname, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=sdir)
        try:
            dst = os.open(dname, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600,
                          dir_fd=ddir)
            try:
                left = st.st_size
                while left > 0:
                    try:
                        n = os.copy_file_range(src, dst, min(left, 1 << 30))
                    except OSError as e:
                        if e.errno not in (errno.EXDEV, errno.EINVAL, errno.ENOSYS,
                                           errno.EOPNOTSUPP):
                            raise
                        n = os.sendfile(dst, src, None, min(left, 1 << 30))
                    if n == 0:
                        break
                    left -= n
                _copy_xattrs(src, dst)
                os.fchown(dst, st.st_uid, st.st_gid)
                os.fchmod(dst, stat.S_IMODE(mode))
                os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
            finally:
                os.close(dst)
        finally:
            os.close(src)
        return
    if stat.S_ISDIR(mode):
        os.mkdir(dname, 0o700, dir_fd=ddir)
    elif stat.S_ISLNK(mode):
        os.symlink(os.readlink(sname, dir_fd=sdir), dname, dir_fd=ddir)
    else:
        os.mknod(dname, mode, st.st_rdev, dir_fd=ddir)
    os.chown(dname, st.st_uid, st.st_gid, dir_fd=ddir, follow_symlinks=False)
    if not stat.S_ISLNK(mode):
        os.chmod(dname, stat.S_IMODE(mode), dir_fd=ddir)
    os.utime(dname, ns=(st.st_atime_ns, st.st_mtime_ns), dir_fd=ddir, follow_symlinks=False)


def _copy_xattrs(src: int, dst: int) -> None:
    try:
        names = os.listxattr(src)
    except OSError:
        return
    for n in names:
        if not n.startswith("user."):
            continue
        try:
            os.setxattr(dst, n, os.getxattr(src, n))
        except OSError:
            pass
