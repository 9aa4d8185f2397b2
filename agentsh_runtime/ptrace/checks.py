"""What each traced syscall asks, and the policy's answer: exec, files, network, signals,
unix sockets. A handler returns None (run it), an errno (skip it with that error) or
tracer.HELD (it parked or resumed the thread itself)."""

from __future__ import annotations

import errno
import os
import re
import time

from ..linux import procmem, ptrace
from ..monitor.net.names import NameMap
from ..policy import model as m
from ..policy.engine import Decision, ExecQuery, SignalQuery, UnixQuery, stricter
from . import sockaddr as sa
from . import syscalls as sc
from .execargs import read_exec
from .fileargs import PathArg, decode
from .paths import Unresolvable
from .stablepaths import StablePaths
from .tracer import ALLOW, HELD, RED_ZONE

AUDIT_ARCH_X86_64 = 0xC000003E
O_ACCMODE, O_CREAT, O_EXCL, O_TRUNC = 0o3, 0o100, 0o200, 0o1000
O_APPEND, O_DIRECTORY, O_PATH = 0o2000, 0o200000, 0o10000000
O_TMPFILE = 0o20000000 | O_DIRECTORY
_ETYPE = {"open": "file_open", "read": "file_open", "write": "file_write",
          "create": "file_create", "mknod": "file_create", "symlink": "file_create",
          "link": "file_create", "delete": "file_delete", "rmdir": "dir_delete",
          "mkdir": "dir_create", "rename": "file_rename", "chmod": "file_chmod",
          "chown": "file_chmod", "list": "dir_list", "stat": "file_stat"}
_PROC_MEM = re.compile(r"/proc/\d+(/task/\d+)?/mem\Z")
_OPENS = frozenset(("open", "openat", "openat2", "creat"))
_NAME_OPS = ("delete", "rmdir", "rename", "create", "mkdir", "symlink", "link")
_PROC_STATUS = re.compile(r"/proc/\d+(/task/\d+)?/status\Z")
_TRACER_PID = re.compile(rb"TracerPid:\t(\d+)")
QUIET_MAX = 16384
_QUIET_OPENS = {sc.NR["open"]: 0, sc.NR["openat"]: 1}  # -> the path's argument


class Checks:
    def __init__(self, tracer) -> None:  # noqa: ANN001 - a Tracer (import cycle)
        self.t = tracer
        self.engine = tracer.engine
        self.events = tracer.events
        self.audit = tracer.mode == "audit"
        self.log_allowed = tracer.policy.audit.log_allowed
        self.expect_exec: dict[int, tuple[set, tuple[str, ...]]] = {}
        self.names = NameMap()
        self.dns = None
        self._pidfds: dict[int, int] = {}
        self._comms: dict[int, str | None] = {}
        self._fixed_cache: dict[str, bool] = {}
        # (absolute path bytes, open flags) of opens allowed with nothing to log at
        # stable paths: the policy and the resolution are fixed, so is the answer
        self._quiet: set[tuple[bytes, int]] = set()
        self._unwritable: dict[tuple[str, int, int], bool] = {}
        self.paths = StablePaths(tracer.resolver, self._fixed)

    def handlers(self) -> dict:
        p = self.t.policy
        out: dict = {}

        def add(names: tuple[str, ...], fn) -> None:  # noqa: ANN001
            for name in names:
                out[sc.NR[name]] = fn
        if p.command_rules:
            add(sc.EXEC, self.exec)
        if p.file_rules:
            add(sc.FILE, self.file)
        if p.network_rules or p.dns_redirects or p.connect_redirects:
            from .dnsproxy import DnsProxy

            self.dns = DnsProxy(self.engine, self.t.mode, self.events, self.names)
            add(("connect", "sendto", "sendmsg", "sendmmsg"), self.net)
        if p.unix_socket_rules:
            add(("connect", "sendto", "sendmsg", "sendmmsg", "bind", "listen"), self.net)
        if self.engine.filters_signals:
            add(sc.SIGNAL, self.signal)
        if self.t.mask_tracer_pid:
            add(sc.MASK_READS, self.read)
        return out

    def close(self) -> None:
        if self.dns is not None:
            self.dns.close()
        for fd in self._pidfds.values():
            os.close(fd)

    def comm(self, tid: int) -> str | None:
        """The thread's name, read once per program (an exec renames it)."""
        name = self._comms.get(tid)
        if name is None:
            name = self._comms[tid] = _comm(tid)
        return name

    def born(self, child: int, parent: int) -> None:
        """A new thread or process has its creator's name (until it execs or renames
        itself): no /proc read for its first event."""
        name = self.comm(parent)
        if name is not None:
            self._comms[child] = name

    def forget(self, tid: int) -> None:
        self._comms.pop(tid, None)
        self.expect_exec.pop(tid, None)
        fd = self._pidfds.pop(tid, None)
        if fd is not None:
            os.close(fd)

    # -- shared ---------------------------------------------------------------------------
    def _effective(self, d: Decision) -> str:
        if self.audit or d.decision in (m.ALLOW, m.AUDIT):
            return "allow"
        return d.decision

    def _emit(self, etype: str, tid: int, d: Decision, effective: str, t0: float,
              **fields: object) -> None:
        extra = fields.pop("fields", None) or {}
        extra["mode"] = "ptrace"
        pol = {"decision": d.decision, "effective_decision": effective, "rule": d.rule}
        if d.message:
            pol["message"] = d.message
        self.events.emit(etype, pid=tid, comm=self.comm(tid), policy=pol,
                         effective_action="allowed" if effective == "allow" else "blocked",
                         latency_us=int((time.perf_counter() - t0) * 1e6), fields=extra,
                         **fields)

    def _hold(self, tid: int, d: Decision, event: dict, err: int = errno.EACCES,
              on_allow=None) -> object:  # noqa: ANN001
        what = (event.get("operation"), event.get("path"), event.get("path2"),
                event.get("remote"), tuple(event.get("argv") or ()), event.get("signal"),
                event.get("target_pid"))
        if self.t.approved.get(tid) == what:  # the second look after a person's yes
            if on_allow is not None:
                on_allow(tid)
            return ALLOW
        event = dict(event, rule=d.rule, message=d.message, comm=self.comm(tid))
        regs = ptrace.syscall_info(tid, ptrace.SyscallInfo())
        nr, args = regs.nr, tuple(regs.args)

        def allow() -> None:
            self.t.redo_approved(tid, nr, args, what)

        if self.t.hold(tid, d, event, allow, lambda: self.t.fail(tid, err)):
            return HELD
        return err

    # -- exec -----------------------------------------------------------------------------
    def exec(self, tid: int, nr: int, args: tuple[int, ...]) -> object:
        from ..monitor.execcheck import depth_of

        t0 = time.perf_counter()
        try:
            target, stable, path_len = read_exec(tid, nr, args, self.paths)
        except procmem.TooLong as e:
            d = Decision(m.DENY, "argv-too-long", str(e), kind="command")
            self._emit("execve", tid, d, "deny", t0, operation="exec")
            return errno.E2BIG
        except OSError:
            return errno.EACCES
        if not target.identity:
            return errno.ENOENT  # nothing to run (a PATH search): said without the kernel
        if self.engine.command_uses_depth():
            target.depth = depth_of(tid, self.t.root_pid, _pidns(tid))
        extra: tuple = ()
        if target.interpreter:
            extra = (target.interpreter,)
            if target.interpreter_resolved and \
                    target.interpreter_resolved != target.interpreter[0]:
                extra += ((target.interpreter_resolved, target.interpreter[1]),)
        d = self.engine.decide("command", ExecQuery(target.path, target.argv, target.resolved,
                                                   target.depth, extra))
        effective = self._effective(d)
        ev = {"operation": "exec", "path": target.path, "path2": target.resolved,
              "argv": list(target.argv)}
        verdict: object = ALLOW
        if effective == "allow":
            if stable and nr == sc.NR["execve"] and target.interpreter is None and \
                    self.t.sole_writer(tid) and \
                    self.t.steady_memory(tid, args[0], path_len + 1):
                # nothing can change what runs between here and the kernel: no exec stop
                self.t.unwatch_exec(tid, (set(target.identity), target.argv))
            else:
                self.expect_exec[tid] = (set(target.identity), target.argv)
        elif effective == m.APPROVE:
            def approved(t: int) -> None:
                self.expect_exec[t] = (set(target.identity), target.argv)
            return self._hold(tid, d, ev, on_allow=approved)
        elif effective == m.REDIRECT and d.redirect is not None:
            why = self._redirect_exec(tid, nr, d, target.argv)
            if why is None:
                self._emit("command_redirect", tid, d, "redirect", t0, **ev)
                return HELD
            effective, d = "deny", d._replace(message=f"redirect not possible: {why}")
            verdict = errno.EACCES
        else:
            effective, verdict = "deny", errno.EACCES
        self._emit("execve", tid, d, effective, t0, **ev,
                   fields={"depth": target.depth})
        return verdict

    def _redirect_exec(self, tid: int, nr: int, d: Decision,
                       old_argv: tuple[str, ...]) -> str | None:
        """Point the execve at the redirect's program and argv (strings written below
        the red zone of the thread's stack); the exec that results is checked again."""
        from ..monitor.execcheck import find_in_root

        if nr != sc.NR["execve"]:
            return "only execve can be redirected"
        spec = d.redirect
        path = find_in_root(tid, spec.command)
        if path is None:
            return f"{spec.command} not found"
        argv = list(spec.argv(old_argv))
        identity = _identities(self.t.resolver.root, path)
        if not identity:
            return f"{path} cannot be read"
        regs = ptrace.get_regs(tid)
        blob, offsets = b"", []
        for s in [path, *argv]:
            offsets.append(len(blob))
            blob += s.encode("utf-8", "surrogateescape") + b"\0"
        top = (regs.rsp - RED_ZONE - len(blob) - 8 * (len(argv) + 1)) & ~0xF
        strings = top + 8 * (len(argv) + 1)
        table = b"".join((strings + off).to_bytes(8, "little") for off in offsets[1:])
        ptrace.write_mem(tid, top, table + bytes(8) + blob)
        regs.rdi, regs.rsi = strings + offsets[0], top
        ptrace.set_regs(tid, regs)
        # the kernel re-runs the filter on the changed call but stops it here no more:
        # what runs is checked at its exec stop (exec_done), by the file's identity
        self.expect_exec[tid] = (identity, tuple(argv))
        ptrace.cont(tid)
        return None

    def exec_done(self, tid: int, former: int) -> None:
        """At the exec stop, before the new program's first instruction: it must be
        the file that was checked (another thread may have changed the path since)."""
        expected = self.expect_exec.pop(former, None) or self.expect_exec.pop(tid, None)
        self._now_runs(tid, former, expected[1] if expected else None)
        if expected is None:
            if self.t.policy.command_rules:
                self._kill_exec(tid, "an exec that was not checked")
            return
        identity, _ = expected
        if not identity:
            self._kill_exec(tid, "the program was not there when it was checked")
            return
        try:
            st = os.stat(f"/proc/{tid}/exe")
        except OSError:
            return
        if (st.st_dev, st.st_ino) not in identity:
            self._kill_exec(tid, "the program changed between its check and its exec")

    def exec_settled(self, tid: int, expected: tuple) -> None:
        """The first stop after an exec that ran without its exec stop (unwatch_exec):
        if it did run (the file is the checked one), what the exec stop does now."""
        identity, argv = expected
        try:
            st = os.stat(f"/proc/{tid}/exe")
        except OSError:
            return
        if (st.st_dev, st.st_ino) in identity:
            self._now_runs(tid, tid, argv)

    def _now_runs(self, tid: int, former: int, argv: tuple[str, ...] | None) -> None:
        """tid runs a new program (argv, when it was checked)."""
        self._comms.pop(tid, None)
        self._comms.pop(former, None)
        self.t.limits.exec_started(tid)
        self.t.exec_changed_mm(tid, former)
        if former != tid:
            self.t.resolver.tgid.pop(former, None)
        if argv is None:
            return
        proc = self.t.procs.get(tid)
        if proc is not None:
            proc.argv = argv
        else:
            from .tracer import Proc

            self.t.procs[tid] = Proc(argv)

    def _kill_exec(self, tid: int, reason: str) -> None:
        os.kill(tid, 9)
        d = Decision(m.DENY, "exec-changed-after-check", reason, kind="command")
        self._emit("execve", tid, d, "deny", time.perf_counter(), operation="exec",
                   path=_readlink(f"/proc/{tid}/exe"),
                   fields={"reason": f"{reason}: killed before it ran"})

    # -- files ----------------------------------------------------------------------------
    def file(self, tid: int, nr: int, args: tuple[int, ...]) -> object:
        t0 = time.perf_counter()
        quiet_key = None
        first = None
        if nr in _QUIET_OPENS:  # open(path, flags) / openat(dirfd, path, flags)
            i = _QUIET_OPENS[nr]
            first = ptrace.read_string(tid, args[i])
            if first is not None and first[:1] == b"/" and not args[i + 1] & O_CREAT:
                quiet_key = (first, args[i + 1] & 0xFFFFFFFF)
                if quiet_key in self._quiet and \
                        self.t.steady_memory(tid, args[i], len(first) + 1):
                    return ALLOW
        name = sc.NAME[nr]
        try:
            pargs, flags = decode(name, args, tid)
        except OSError:
            return errno.EFAULT
        if not pargs:
            return ALLOW
        res = self.t.resolver
        if name == "openat2" and not self.audit and \
                not self.t.steady_memory(tid, args[2], 8):
            return self._refuse_shared(tid, t0, "file_open", "file", operation="open",
                                       fields={"syscall": name})
        checked: list[tuple[PathArg, str, str]] = []
        raws: list[tuple[PathArg, bytes]] = []
        stable = True
        raw_len = 0
        try:
            for pa in pargs:
                if pa.ptr is None:  # an fd's own file (fchmod, fchown)
                    try:
                        target = res.base(tid, pa.dirfd)
                    except Unresolvable:
                        return ALLOW  # a socket, pipe or anonymous inode: no path
                    checked.append((pa, target, target))
                    stable = False
                    continue
                raw = first if first is not None and pa is pargs[0] else \
                    ptrace.read_string(tid, pa.ptr)
                if raw is None:
                    return errno.EFAULT if not pa.ptr else errno.ENAMETOOLONG
                if pa is pargs[0]:
                    raw_len = len(raw)
                raws.append((pa, raw))
                lit, joined = res.literal(tid, pa.dirfd, raw)
                real, fixed = self.paths.resolve(joined, pa.follow)
                checked.append((pa, lit, real))
                stable = stable and fixed
        except Unresolvable as e:
            d = Decision(m.DENY, "unresolvable-path", str(e), kind="file")
            self._emit("file_open", tid, d, "deny", t0, operation=pargs[0].op,
                       fields={"syscall": name})
            return errno.EACCES
        op = pargs[0].op
        if op == "open":
            op = _open_op(flags, checked[0][2], res)
        d = self._decide_paths(op, checked)
        effective = self._effective(d)
        path = checked[0][2]
        path2 = checked[1][2] if len(checked) > 1 else None
        if not self.audit and op == "write" and _PROC_MEM.match(path):
            d, effective = Decision(m.DENY, "ptrace-guard",
                                    "writing a process's memory is refused in ptrace mode",
                                    kind="file"), "deny"
        ev = {"operation": op, "path": path, "path2": path2}
        if effective == "allow":
            if self.log_allowed and (not d.is_default or op not in m.READ_OPS):
                self._emit(_ETYPE.get(op, "file_open"), tid, d, "allow", t0, **ev,
                           fields={"syscall": name})
            elif quiet_key is not None and stable and not self.audit:
                # the same call again needs nothing from us: remembered by its bytes
                if len(self._quiet) >= QUIET_MAX:
                    self._quiet.clear()
                self._quiet.add(quiet_key)
            if name in _OPENS and not self.audit and not (
                    stable and self.t.steady_memory(tid, pargs[0].ptr, raw_len + 1)):
                # what the kernel opened is checked again at the syscall's exit: another
                # process may have swapped a directory of the path for a symlink since
                self.t.after_syscall(tid, lambda t: self._opened(t, op, path, t0))
                return HELD
            if name not in _OPENS and not self.audit:
                # no after-check can undo a rename or an unlink: the kernel must read
                # the very names that were checked
                pins = [(pa.arg, raw + b"\0") for pa, raw in raws
                        if not self.t.steady_memory(tid, pa.ptr, len(raw) + 1)]
                if pins and self.t.pin(tid, pins) is None:
                    return self._refuse_shared(tid, t0, _ETYPE.get(op, "file_open"), "file",
                                               **ev, fields={"syscall": name})
            return ALLOW
        if effective == m.APPROVE:
            return self._hold(tid, d, ev)
        if effective == m.REDIRECT and isinstance(d.redirect, str) and len(pargs) == 1:
            new = d.redirect.encode("utf-8", "surrogateescape") + b"\0"
            if self.t.pin(tid, [(pargs[0].arg, new)]) is None:
                return self._refuse_shared(tid, t0, _ETYPE.get(op, "file_open"), "file",
                                           **ev, fields={"syscall": name})
            self._emit(_ETYPE.get(op, "file_open"), tid, d, "redirect", t0, **ev,
                       fields={"syscall": name, "redirect_to": d.redirect})
            return ALLOW
        if effective == m.SOFT_DELETE and op == "delete":
            err = self._soft_delete(checked[0][2])
            self._emit("file_soft_deleted" if not err else "file_delete", tid, d,
                       "allow" if not err else "deny", t0, **ev, fields={"syscall": name})
            if err:
                return err
            self.t.fail(tid, 0, value=0)
            return HELD
        self._emit(_ETYPE.get(op, "file_open"), tid, d, "deny", t0, **ev,
                   fields={"syscall": name})
        return errno.EACCES

    def _decide_paths(self, op: str, checked: list) -> Decision:
        """Every path the call names, both as written and as resolved: the strictest."""
        decide = self.engine.file
        d = None
        ops = ("open", "read") if op == "open" else (op,)
        for _, lit, real in checked:
            for o in ops:
                for p in (real, lit) if lit != real else (real,):
                    got = decide(o, p)
                    d = got if d is None else stricter(d, got)
        assert d is not None
        return d

    def _refuse_shared(self, tid: int, t0: float, etype: str, kind: str,
                       **ev: object) -> int:
        """A call whose checked arguments sit in memory another process can rewrite
        and that could not be copied to private memory: refused (fail closed)."""
        d = Decision(m.DENY, "shared-argument-memory",
                     "the call's arguments are in memory another process can change "
                     "and no private copy could be made", kind=kind)
        self._emit(etype, tid, d, "deny", t0, **ev)
        return errno.EACCES

    def _soft_delete(self, path: str) -> int:
        import shutil

        from ..monitor.trashdir import trash_dir_of

        host = self.t.resolver.root.rstrip("/") + path
        trash = trash_dir_of(self.events.container_id)
        try:
            os.makedirs(trash, 0o700, exist_ok=True)
            dest = os.path.join(trash, f"{int(time.time() * 1e6):x}-{os.path.basename(path)}")
            shutil.move(host, dest)
        except OSError as e:
            return e.errno or errno.EACCES
        return 0

    # -- TracerPid masking ------------------------------------------------------------------
    def read(self, tid: int, nr: int, args: tuple[int, ...]) -> object:
        link = procmem.fd_path(tid, args[0] & 0xFFFFFFFF)
        if link and _PROC_STATUS.match(link):
            buf = args[1]
            self.t.after_syscall(tid, lambda t: self._mask(t, buf))
            return HELD
        return ALLOW

    def unwritable_file(self, host_path: str) -> bool:
        """No tracee can change the bytes of the file at host_path (our view): the
        policy refuses writing it and every change of its names (a stable path), and
        it has no second name. Remembered per path and identity."""
        try:
            st = os.stat(host_path)
        except OSError:
            return False
        key = (host_path, st.st_dev, st.st_ino)
        got = self._unwritable.get(key)
        if got is None:
            got = False
            try:
                inside = self.t.resolver._inside(host_path)
            except Unresolvable:
                inside = None
            if inside is not None and st.st_nlink == 1 and \
                    self.paths.stable(inside, False):
                d = self.engine.file("write", inside)
                got = self.engine.blocks(d) and d.decision == m.DENY
            if len(self._unwritable) > 4096:
                self._unwritable.clear()
            self._unwritable[key] = got
        return got

    def _fixed(self, path: str) -> bool:
        """No tracee can change what `path` names: the policy refuses every operation
        that adds, removes or replaces a name on each of its components (so no race can
        swap one for a symlink; mounts are refused in ptrace mode). StablePaths walks
        a path's names with it. Policy-static: remembered per path."""
        got = self._fixed_cache.get(path)
        if got is None:
            blocks = self.engine.blocks
            decide = self.engine.file
            got = True
            cur = ""
            for part in path.strip("/").split("/"):
                cur += "/" + part
                if not all(blocks(decide(o, cur)) and decide(o, cur).decision == m.DENY
                           for o in _NAME_OPS):
                    got = False
                    break
            if len(self._fixed_cache) > 8192:
                self._fixed_cache.clear()
            self._fixed_cache[path] = got
        return got

    def _opened(self, tid: int, op: str, checked: str, t0: float) -> None:
        """At an allowed open's exit: the file it got must be one the policy allows;
        if not, the path changed under the check (a race) and the process is killed
        before it returns to user space (the fd it would use never reaches it)."""
        regs = ptrace.get_regs(tid)
        fd = regs.rax
        if fd >= 1 << 63:
            return  # the open failed
        link = procmem.fd_path(tid, fd)
        if not link or not link.startswith("/"):
            return
        if link.endswith(" (deleted)"):
            link = link[:-10]
        try:
            got = self.t.resolver._inside(link)
        except Unresolvable:
            got = link
        if got == checked:
            return
        d = self._decide_paths(op, [(None, got, got)])
        if self._effective(d) == "allow":
            return
        os.kill(tid, 9)
        d = Decision(m.DENY, "opened-other-file",
                     f"opened {got}, which the policy denies ({d.rule}), after {checked} "
                     "was checked: killed before it could use it", kind="file")
        self._emit("file_open", tid, d, "deny", t0, operation=op, path=got, path2=checked,
                   fields={"reason": "the path changed between the check and the open"})

    def _mask(self, tid: int, buf: int) -> None:
        regs = ptrace.get_regs(tid)
        n = regs.rax if regs.rax < (1 << 63) else 0
        if not n:
            return
        data = procmem_read(tid, buf, n)
        mt = _TRACER_PID.search(data)
        if mt and mt.group(1) != b"0":
            digits = mt.group(1)
            ptrace.write_mem(tid, buf + mt.start(1), b"0" + b" " * (len(digits) - 1))

    # -- network and unix sockets ---------------------------------------------------------
    def net(self, tid: int, nr: int, args: tuple[int, ...]) -> object:
        name = sc.NAME[nr]
        if name == "listen":
            return self._unix(tid, nr, name, args)
        t0 = time.perf_counter()
        if name in ("connect", "bind", "sendto"):
            i = 4 if name == "sendto" else 1
            ptr, length = args[i], args[i + 1] & 0xFFFFFFFF
            if ptr and length >= 2 and not self.audit and \
                    not self.t.steady_memory(tid, ptr, length):
                # the kernel must read the address that is checked (and rewritten)
                raw = ptrace.read_mem(tid, ptr, length) if length <= 128 else b""
                moved = self.t.pin(tid, [(i, raw)]) if len(raw) == length else None
                if moved is None:
                    return self._refuse_shared(tid, t0, "net_connect", "network",
                                               operation=name)
                ptr = moved[0]
                args = args[:i] + (ptr,) + args[i + 1:]
            addrs = [(ptr, length)]
        else:
            count = 1 if name == "sendmsg" else min(args[2] & 0xFFFFFFFF, 64)
            size = 56 if name == "sendmsg" else 64 * count
            addrs = [_msg_name(tid, args[1] + 64 * i) for i in range(count)]
            if count and not self.audit and not (
                    self.t.steady_memory(tid, args[1], size)
                    and all(self.t.steady_memory(tid, p, n) for p, n in addrs if p and n)):
                return self._refuse_shared(tid, t0, "net_connect", "network",
                                           operation=name)
        verdict: object = ALLOW
        for ptr, length in addrs:
            if not ptr or length < 2:
                continue
            raw = ptrace.read_mem(tid, ptr, min(length, 128))
            fam = sa.family(raw)
            if fam == sa.AF_UNIX:
                if self.t.policy.unix_socket_rules:
                    verdict = self._unix(tid, nr, name, args)
            elif fam in (sa.AF_INET, sa.AF_INET6) and name != "bind" and self.dns is not None:
                verdict = self._inet(tid, name, args[0] & 0xFFFFFFFF, ptr, raw)
            if verdict is not ALLOW:
                return verdict
        return verdict

    def _inet(self, tid: int, name: str, fd: int, ptr: int, raw: bytes) -> object:
        t0 = time.perf_counter()
        parsed = sa.parse_inet(raw)
        if parsed is None:
            return errno.EINVAL
        _, ip, port = parsed
        assert self.dns is not None
        if ip in ("127.0.0.1", "::1") and self.dns.is_proxy(ip, port):
            return ALLOW
        if port == 53 and self._is_udp(tid, fd):
            new = sa.rewrite_inet(raw, *self.dns.address_for((ip, 53)))
            if new is None:
                return errno.EACCES
            ptrace.write_mem(tid, ptr, new)
            return ALLOW
        names = self.names.names(ip)
        d = None
        for n in names or [None]:
            got = self.engine.connect(n, ip, port)
            d = got if d is None else stricter(d, got)
        assert d is not None
        domain = names[0] if len(names) == 1 else None
        remote = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
        ev = {"operation": "connect" if name == "connect" else "sendto", "remote": remote,
              "domain": domain}
        redirect = self.engine.connect_redirect(domain or ip, port)
        effective = self._effective(d)
        if redirect is not None and redirect.redirect_to and effective == "allow":
            host, _, rport = redirect.redirect_to.rpartition(":")
            new = _ip_literal(host.strip("[]"))
            ok = new and rport.isdigit() and 0 < int(rport) < 65536
            moved = sa.rewrite_inet(raw, new, int(rport)) if ok else None
            if moved is None:
                rd = Decision(m.DENY, redirect.name, "connect redirect target not usable "
                              "from this socket", kind="network")
                self._emit("connect_redirect", tid, rd, "deny", t0, **ev)
                return errno.EACCES
            ptrace.write_mem(tid, ptr, moved)
            rd = Decision(m.REDIRECT, redirect.name, redirect.message, kind="network")
            self._emit("connect_redirect", tid, rd, "allow", t0, **ev,
                       fields={"redirect_to": redirect.redirect_to})
            return ALLOW
        if effective == "allow":
            if self.log_allowed:
                self._emit("net_connect", tid, d, "allow", t0, **ev)
            return ALLOW
        if effective == m.APPROVE:
            return self._hold(tid, d, ev)
        self._emit("net_connect", tid, d, "deny", t0, **ev)
        return errno.EACCES

    def _is_udp(self, tid: int, fd: int) -> bool:
        import socket

        from ..linux.seccomp import pidfd_getfd

        try:
            pidfd = self._pidfds.get(tid)
            if pidfd is None:
                pidfd = self._pidfds[tid] = os.pidfd_open(tid)
            dup = pidfd_getfd(pidfd, fd)
        except OSError:
            return True  # unknown: sent to the DNS proxy, which a TCP stream cannot use
        try:
            with socket.socket(fileno=dup) as s:
                return s.type == socket.SOCK_DGRAM
        except OSError:
            os.close(dup)
            return True

    def _unix(self, tid: int, nr: int, name: str, args: tuple[int, ...]) -> object:
        from ..monitor.unixsock import OPS, normalise, unix_targets

        t0 = time.perf_counter()
        try:
            paths = unix_targets(name, tid, AUDIT_ARCH_X86_64, nr, args)
        except (OSError, procmem.TooLong):
            return errno.EACCES
        best, path = None, ""
        for p in paths:
            p = normalise(p, tid)
            d = self.engine.decide("unix_socket", UnixQuery(OPS[name], p))
            if best is None or d.strictness > best.strictness:
                best, path = d, p
        if best is None:
            return ALLOW
        effective = self._effective(best)
        ev = {"operation": OPS[name], "path": path}
        if effective == "allow":
            return ALLOW
        if effective == m.APPROVE:
            return self._hold(tid, best, ev)
        self._emit("unix_socket_op", tid, best, "deny", t0, **ev, fields={"syscall": name})
        return errno.EACCES

    # -- signals --------------------------------------------------------------------------
    def signal(self, tid: int, nr: int, args: tuple[int, ...]) -> object:
        from ..monitor.signals import build_targets, targets_of

        t0 = time.perf_counter()
        name = sc.NAME[nr]
        container = list(self.t.procs)
        res = targets_of(name, args, tid, container, self.t.root_pid)
        if res is None or not res[1]:
            return ALLOW  # no such target: the kernel says ESRCH itself
        sig, pids = res
        targets = build_targets(pids, tid, set(container), self.t.root_pid)
        best, hit = None, None
        for t in targets:
            d = self.engine.decide("signal", SignalQuery(sig, t.types, t.comm, t.host_pid))
            if best is None or d.strictness > best.strictness:
                best, hit = d, t
        assert best is not None and hit is not None
        effective = self._effective(best)
        ev = {"operation": "signal", "signal": sig, "target_pid": hit.host_pid}
        extra = {"target_types": sorted(hit.types), "targets": len(targets), "syscall": name}
        if effective == "allow":
            if self.log_allowed:
                self._emit("signal_sent", tid, best, "allow", t0, **ev, fields=extra)
            return ALLOW
        if effective == m.ABSORB:
            self._emit("signal_absorbed", tid, best, "absorb", t0, **ev, fields=extra)
            self.t.fail(tid, 0, value=0)
            return HELD
        if effective == m.REDIRECT and isinstance(best.redirect, int):
            reg = {"kill": "rsi", "tkill": "rsi", "rt_sigqueueinfo": "rsi",
                   "tgkill": "rdx", "rt_tgsigqueueinfo": "rdx",
                   "pidfd_send_signal": "rsi"}[name]
            regs = ptrace.get_regs(tid)
            setattr(regs, reg, best.redirect)
            ptrace.set_regs(tid, regs)
            self._emit("signal_redirected", tid, best, "redirect", t0, **ev,
                       fields=dict(extra, redirect_to=best.redirect))
            return ALLOW
        if effective == m.APPROVE:
            return self._hold(tid, best, ev, err=errno.EPERM)
        self._emit("signal_blocked", tid, best, "deny", t0, **ev, fields=extra)
        return errno.EPERM


def _open_op(flags: int, path: str, res) -> str:  # noqa: ANN001
    if flags & O_PATH:
        return "stat"
    if (flags & O_TMPFILE) == O_TMPFILE:
        return "create"
    if flags & O_CREAT:
        if flags & O_EXCL or not _exists(res, path):
            return "create"
        return "write"
    if (flags & O_ACCMODE) != 0 or flags & (O_TRUNC | O_APPEND):
        return "write"
    return "list" if flags & O_DIRECTORY else "open"


def _exists(res, path: str) -> bool:  # noqa: ANN001
    return os.path.lexists(res.root.rstrip("/") + path)


def _identities(root: str, path: str) -> set[tuple[int, int]]:
    """(dev, ino) of the program and of its #! interpreter: what /proc/PID/exe may be."""
    from ..init.securejoin import secure_join
    from ..monitor.execcheck import _shebang

    out = set()
    host = secure_join(root, path)
    try:
        st = os.stat(host)
    except OSError:
        return out
    out.add((st.st_dev, st.st_ino))
    shebang = _shebang(host)
    if shebang:
        try:
            ist = os.stat(secure_join(root, shebang[0]))
            out.add((ist.st_dev, ist.st_ino))
        except OSError:
            pass
    return out


def _msg_name(tid: int, hdr: int) -> tuple[int, int]:
    raw = ptrace.read_mem(tid, hdr, 12)
    if len(raw) < 12:
        return 0, 0
    return int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:12], "little")


def _ip_literal(host: str) -> str | None:
    import ipaddress

    if host == "localhost":
        return "127.0.0.1"
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def procmem_read(tid: int, addr: int, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = ptrace.read_mem(tid, addr + len(out), min(4096, n - len(out)))
        if not chunk:
            break
        out += chunk
    return out


def _comm(tid: int) -> str | None:
    from ..linux.proc import comm_of

    return comm_of(tid)


def _pidns(tid: int) -> int:
    try:
        return os.stat(f"/proc/{tid}/ns/pid").st_ino
    except OSError:
        return 0


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None
