"""The seccomp API the container lifecycle calls: `prepare` before fork, `install` in
the container right before execve.

    prepared = prepare(spec.linux.seccomp, cache_dir)      # parent, before fork
    ...
    listener = install(prepared)                            # container process

Where `install` goes (runc 1.1's standard_init order; DESIGN.md "The lifecycle"):
- without process.noNewPrivileges: loading a filter needs CAP_SYS_ADMIN, so call it
  while the init still holds it: before the capability drop and the switch to the
  container's uid/gid (runc loads it right before finalizeNamespace, which does both).
  The filter then also sees those setuid/capset calls;
- with noNewPrivileges: after prctl(PR_SET_NO_NEW_PRIVS), as late as possible, so the
  profile sees as few of our own syscalls as possible. runc does it after
  finalizeNamespace but *before* waiting on the exec fifo, because the listener fd
  must still reach `runc create` over the init pipe; loading after the fifo (as
  DESIGN.md says) means the hand-off happens after create returned (see below).
Every syscall the init makes after `install` passes through the filter (runc has the
same constraint: profiles allow what execve needs).

With `needs_listener`, `install` returns the notify listener fd (close-on-exec).
It must reach the agent at `listener_path` before the container runs anything the
profile notifies on, or that syscall blocks until someone reads the listener. The
hand-off must not itself use a notified syscall. runc's way, which needs only
write(2) in the container (so the profile may not notify on `write`): the init
writes the fd number on its sync channel, the parent takes the fd with
linux.seccomp.pidfd_getfd and calls agent.send_state from the host side.

Speed: a cache hit costs hashing the profile, reading one file and a few stat(2)
calls; neither pyseccomp nor json, re, typing is imported. The key is the sha256 of
the canonical JSON of the profile's filter fields, the notify names and the machine;
the entry records the libseccomp library, pyseccomp and our compiler files it was
built with, and is used only while they are unchanged (see the cache section below).
Entries are files `<sha256>.bpf` in `cache_dir` (created 0700), written atomically
(temp file + rename); a file not owned by us, writable by others, or inconsistent
is ignored and rewritten.

`install` imports nothing: it also runs after pivot_root, where our modules are no
longer reachable.
"""

from __future__ import annotations

import os
from _json import encode_basestring_ascii as _enc

from ..errors import ConfigError
from ..jsonio import JSONError, dumps, loads
from ..linux.seccomp import load_filter

DEFAULT_CACHE_DIR = "/var/cache/agentsh-runtime/seccomp"
# Bump when the compiler's output changes for the same input (entries also record the
# compiler files' stats, so a development checkout never serves stale programs).
COMPILER_VERSION = 1
MAX_CACHE_ENTRIES = 256

_MAGIC = b"AGENTSH-SECCOMP-1\n"
_FILTER_KEYS = ("architectures", "defaultAction", "defaultErrnoRet", "flags", "syscalls")


class Prepared:
    """What the container process needs to load the filter (picklable, plain data)."""

    __slots__ = ("bpf", "flags", "needs_listener", "listener_path", "metadata", "skipped",
                 "notes", "cache_hit", "key")

    def __init__(self, bpf: bytes, flags: int, needs_listener: bool,
                 listener_path: str | None, metadata: str | None, skipped: list[str],
                 notes: list[str], cache_hit: bool, key: str) -> None:
        self.bpf = bpf  # struct sock_filter[] in host byte order
        self.flags = flags  # SECCOMP_FILTER_FLAG_* (NEW_LISTENER included when needed)
        self.needs_listener = needs_listener  # install() returns a listener fd
        self.listener_path = listener_path  # the profile's listenerPath (OCI agent)
        self.metadata = metadata  # the profile's listenerMetadata
        self.skipped = skipped  # syscall names this libseccomp does not know
        self.notes = notes  # debug messages (skipped names, ignored flags)
        self.cache_hit = cache_hit
        self.key = key

    def __repr__(self) -> str:
        return (f"Prepared({len(self.bpf) // 8} insns, flags={self.flags:#x}, "
                f"listener={self.needs_listener}, skipped={self.skipped}, "
                f"cache_hit={self.cache_hit})")


def prepare(seccomp_cfg: dict | None, cache_dir: str | None = DEFAULT_CACHE_DIR,
            notify: tuple[str, ...] | list[str] = ()) -> Prepared | None:
    """Compile (or fetch from the cache) the filter for an OCI `linux.seccomp` object.

    Returns None when there is nothing to load (no profile, or one with neither
    defaultAction nor syscalls, as runc). `notify` (for the policy layer): syscall
    names to route to our monitor through the same filter; see compile.translate.
    `cache_dir=None` disables the cache. Raises ConfigError naming the field.
    """
    if seccomp_cfg is not None and not isinstance(seccomp_cfg, dict):
        raise ConfigError("must be an object", "linux.seccomp")
    has_profile = bool(seccomp_cfg) and bool(
        seccomp_cfg.get("defaultAction") or seccomp_cfg.get("syscalls"))
    if not has_profile and not notify:
        return None
    profile = seccomp_cfg if has_profile else {"defaultAction": "SCMP_ACT_ALLOW"}
    listener_path = profile.get("listenerPath") or None
    metadata = profile.get("listenerMetadata") or None

    key = cache_key(profile, notify)
    entry = _read(cache_dir, key) if cache_dir else None
    if entry is not None:
        bpf, head = entry
        if head["profile_notify"] and not listener_path:
            raise ConfigError("SCMP_ACT_NOTIFY is used but listenerPath is not set",
                              "linux.seccomp.listenerPath")
        return Prepared(bpf, head["flags"], head["listener"], listener_path, metadata,
                        head["skipped"], head["notes"], True, key)

    from .compile import compile_profile

    c = compile_profile(profile, notify)
    notes = list(c.notes)
    if cache_dir:
        try:
            _write(cache_dir, key, c.bpf, {
                "flags": c.flags, "listener": c.needs_listener,
                "profile_notify": c.profile_notify, "skipped": c.skipped, "notes": c.notes,
                "libseccomp": c.libseccomp, "deps": dependencies()})
        except OSError as e:
            notes.append(f"seccomp cache not written: {e}")
    return Prepared(c.bpf, c.flags, c.needs_listener, listener_path, metadata, c.skipped,
                    notes, False, key)


def install(prepared: Prepared) -> int | None:
    """Load the filter on the calling process; the listener fd when one was asked for.

    Needs no_new_privs or CAP_SYS_ADMIN (see the module docstring for where to call it).
    """
    return load_filter(prepared.bpf, prepared.flags, prepared.needs_listener)


# --- the cache -----------------------------------------------------------------------
#
# key = sha256 of the canonical JSON of [COMPILER_VERSION, machine, kernel release,
# LD_LIBRARY_PATH, notify names, the profile's filter fields]. What the program also
# depends on, the libseccomp library, pyseccomp and this package's compiler, is
# recorded in the entry as files with their (dev, inode, size, mtime) and checked
# with one stat(2) each on a hit: a changed file is a miss, and the recompile
# overwrites the entry. Asking libseccomp its version instead means a dlopen
# (~0.15 ms); a libseccomp upgrade or a new copy in the loader's path changes the
# library file or /etc/ld.so.cache (ldconfig), which is what is checked.

_LD_CACHE = "/etc/ld.so.cache"


def _canon_json(obj: object) -> str:
    """JSON with sorted keys, compact: jsonio.dumps's output for sorted input, in one pass."""
    parts: list[str] = []
    _cj(obj, parts.append)
    return "".join(parts)


def _cj(obj: object, out) -> None:  # noqa: ANN001 - out is list.append
    if isinstance(obj, dict):
        sep = "{"
        for k in sorted(obj):
            if not isinstance(k, str):
                raise TypeError(f"JSON object keys must be strings, not {type(k).__name__}")
            out(sep)
            out(_enc(k))
            out(":")
            _cj(obj[k], out)
            sep = ","
        out("}" if sep == "," else "{}")
    elif isinstance(obj, list):
        try:  # the common case, a list of syscall names, in C
            out("[" + ",".join(map(_enc, obj)) + "]")
        except TypeError:
            sep = "["
            for v in obj:
                out(sep)
                _cj(v, out)
                sep = ","
            out("]" if sep == "," else "[]")
    elif isinstance(obj, str):
        out(_enc(obj))
    else:
        out(dumps(obj))


def _sha256(data: bytes) -> str:
    try:
        from _sha256 import sha256  # ~0.1 ms; hashlib costs ~2 ms (it loads OpenSSL)
    except ImportError:  # pragma: no cover
        from hashlib import sha256
    return sha256(data).hexdigest()


def cache_key(profile: dict, notify: tuple[str, ...] | list[str] = ()) -> str:
    u = os.uname()
    subset = {k: profile[k] for k in _FILTER_KEYS if k in profile}
    head = [COMPILER_VERSION, u.machine, u.release, os.environ.get("LD_LIBRARY_PATH", ""),
            list(notify)]
    return _sha256(_canon_json([head, subset]).encode())


def _stamp(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def dependencies() -> list[list[str]]:
    """[path, stamp] of the files a compiled program depends on (after compiling:
    pyseccomp and libseccomp are loaded)."""
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.join(here, n) for n in ("compile.py", "bpf.py", "profile.py")]
    mod = sys.modules.get("pyseccomp")
    if mod is not None and getattr(mod, "__file__", None):
        paths.append(mod.__file__)
    paths.append(_LD_CACHE)
    paths += _loaded_libseccomp()
    return [[p, _stamp(p)] for p in paths]


def _loaded_libseccomp() -> list[str]:
    try:
        with open("/proc/self/maps") as f:
            found = {line.split(None, 5)[5].strip() for line in f
                     if "libseccomp" in line and line.count(" ") >= 5}
    except (OSError, IndexError):
        return []
    return sorted(p for p in found if p.startswith("/"))


def _deps_unchanged(deps: object) -> bool:
    if not isinstance(deps, list) or not deps:
        return False
    for dep in deps:
        if not isinstance(dep, list) or len(dep) != 2 or _stamp(dep[0]) != dep[1]:
            return False
    return True


def _read(cache_dir: str, key: str) -> tuple[bytes, dict] | None:
    try:
        fd = os.open(f"{cache_dir}/{key}.bpf", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if (st.st_uid != os.geteuid() or st.st_mode & 0o022 or (st.st_mode & 0o170000)
                != 0o100000 or st.st_size > 1 << 20):
            return None
        raw = os.read(fd, st.st_size + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if not raw.startswith(_MAGIC):
        return None
    end = raw.find(b"\n", len(_MAGIC))
    if end < 0:
        return None
    try:
        head = loads(raw[len(_MAGIC):end])
    except (JSONError, UnicodeDecodeError):
        return None
    bpf = raw[end + 1:]
    if (not isinstance(head, dict) or head.get("key") != key or head.get("len") != len(bpf)
            or not bpf or len(bpf) % 8 or not _deps_unchanged(head.get("deps"))
            or not all(k in head for k in ("flags", "listener", "profile_notify", "skipped",
                                            "notes"))):
        return None
    return bpf, head


def _write(cache_dir: str, key: str, bpf: bytes, fields: dict) -> None:
    os.makedirs(cache_dir, mode=0o700, exist_ok=True)
    head = dumps({"key": key, "len": len(bpf), **fields})
    data = _MAGIC + head.encode() + b"\n" + bpf
    tmp = f"{cache_dir}/.{key}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.replace(tmp, f"{cache_dir}/{key}.bpf")
    _trim(cache_dir)


def _trim(cache_dir: str) -> None:
    """Keep at most MAX_CACHE_ENTRIES programs (the oldest written go first)."""
    try:
        names = [n for n in os.listdir(cache_dir) if n.endswith(".bpf")]
        if len(names) <= MAX_CACHE_ENTRIES:
            return
        aged = sorted(names, key=lambda n: os.stat(f"{cache_dir}/{n}").st_mtime_ns)
        for n in aged[:len(names) - MAX_CACHE_ENTRIES]:
            os.unlink(f"{cache_dir}/{n}")
    except OSError:
        pass
