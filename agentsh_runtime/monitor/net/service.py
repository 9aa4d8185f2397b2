"""network_rules at run time: the transparent TCP proxy, the DNS proxy and the NFLOG
reader of one container's network namespace, on trio in a thread of the monitor.

The thread enters the container's network namespace (setns on that thread only) before
it makes any socket, so the listeners, the upstream sockets (marked: the chain lets them
through) and the NFLOG socket all live there: the container's routes, addresses and tc
shaping apply to what the proxy sends. The chain (policy/netchain.py) sends every TCP
connection but loopback, and every DNS query, here.

A connection: its original destination (SO_ORIGINAL_DST), the names our DNS answers
gave that address (names.py); with two or more, the TLS SNI or HTTP Host peeked from the
first bytes picks among them (a name the client sends counts only when it is one of
them); then the engine decides. deny: reset. approve: held (nothing is read, nothing
connected) until answered. allow: connect to the address checked (never a new lookup),
or where a connect_redirect says, and splice both ways (kernel to kernel through a
pipe). Events: net_connect at the decision, net_close with the bytes each way.
"""

from __future__ import annotations

import errno
import fcntl
import ipaddress
import os
import socket
import struct
import threading
import time

from ...linux import netif
from ...policy import model as m
from ...policy.engine import Decision, Engine, stricter
from ...policy.netchain import MARK, NFLOG_GROUP, parse_prefix
from ..heldops import HeldQueue
from . import dnswire, hello
from .names import NameMap

PEEK_TIMEOUT = 0.3  # a server-first protocol sends nothing: IP rules then
CONNECT_TIMEOUT = 15.0
DNS_TIMEOUT = 5.0
CHUNK = 1 << 20
_F_SETPIPE_SZ = 1031
_SPLICE = os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK
_LINGER_RESET = struct.pack("ii", 1, 0)


class NetService:
    def __init__(self, engine: Engine, mode: str, events, netns_fd: int,  # noqa: ANN001
                 resolvers: list[str], chains=None, mbps: float | None = None) -> None:  # noqa: ANN001
        """`chains(ports, nflog_group)`: the iptables-restore inputs ({family: text}) to
        apply in the namespace once the proxies listen; `mbps`: the egress limit."""
        self.engine = engine
        self.mode = mode
        self.events = events
        self.netns_fd = netns_fd
        self.resolvers = [r for r in resolvers if _is_ip(r)]
        self.names = NameMap()
        self.ports: dict[str, list[int]] = {}
        self._log_allowed = engine.policy.audit.log_allowed
        self._redirects = bool(engine.policy.connect_redirects)
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._token = None
        self._cancel = None
        self.held = HeldQueue()  # approvals: taken by the monitor's loop
        self._socks: list[socket.socket] = []
        self._chains = chains
        self._mbps = mbps
        self.shaped: list[str] = []
        self._nflog = None
        self.nflog_group = NFLOG_GROUP  # the next free one when another container has it
        self._stopping = False
        self._listen: dict[str, tuple[socket.socket, socket.socket, socket.socket]] = {}
        self.connections = 0

    # -- life ------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> dict[str, list[int]]:
        """Listen, apply the chains and the shaping, then serve (trio comes up after this
        returns: until then the kernel queues what arrives); {"4": [proxy port, dns
        port], "6": [...]} (no "6" without IPv6)."""
        self._thread = threading.Thread(target=self._run, name="netproxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise OSError(errno.ETIMEDOUT, "the network proxy did not come up")
        if self._error is not None:
            raise OSError(errno.EIO, f"the network proxy failed: {self._error}")
        return self.ports

    def stop(self) -> None:
        self._stopping = True
        if self._cancel is not None and self._token is not None:
            import trio

            try:
                trio.from_thread.run_sync(self._cancel.cancel, trio_token=self._token)
            except (RuntimeError, trio.RunFinishedError):
                pass
        if self._thread is not None:
            self._thread.join(2.0)
        if self._thread is None or not self._thread.is_alive():
            # what the kernel refused last, read here once the loop is gone (it may not
            # have come up at all for a container that ended that fast)
            try:
                self._nflog_events()
            except OSError:
                pass
        self.held.close()
        for s in self._socks:
            s.close()

    def _run(self) -> None:
        try:
            from ...linux import ns

            ns.setns_fd(self.netns_fd, "network")  # this thread only, for good
            os.close(self.netns_fd)
            self.netns_fd = -1
            netif.set_up("lo")  # REDIRECT delivers to 127.0.0.1 / ::1
            self._bind()
            self._open_nflog()  # before the rules that log to it
            if self._chains is not None:
                from ...linux.iptables import restore

                # children of this thread: in the netns
                restore(self._chains(self.ports, self.nflog_group))
            if self._mbps:
                from ...linux.tc import limit_egress

                self.shaped = limit_egress(self._mbps)
            self._ready.set()
            import trio

            if not self._stopping:
                trio.run(self._main)
        except BaseException as e:  # noqa: BLE001 - reported by start() or as an event
            self._error = e
            if self._ready.is_set():
                self.events.emit("monitor_warning", fields={
                    "message": f"the network proxy stopped: {type(e).__name__}: {e}"})
            self._ready.set()

    def _open_nflog(self) -> None:
        from ...linux.nflog import NflogReader

        for group in range(NFLOG_GROUP, NFLOG_GROUP + 64):
            try:
                self._nflog = NflogReader(group)
            except OSError as e:
                if e.errno == errno.EBUSY:
                    continue  # another container's, in this shared namespace
                self.events.emit("monitor_warning", fields={
                    "message": f"no NFLOG ({e.strerror}): kernel-rejected packets get no "
                               "event"})
                return
            self.nflog_group = group
            self._socks.append(self._nflog.sock)
            return

    def _bind(self) -> None:
        for fam, host in (("4", "127.0.0.1"), ("6", "::1")):
            try:
                self._bind_family(fam, host)
            except OSError:
                if fam == "6":
                    continue  # IPv6 off in this namespace (no ::1): its chain rejects all
                raise

    def _bind_family(self, fam: str, host: str) -> None:
        af = socket.AF_INET if fam == "4" else socket.AF_INET6
        tcp = self._sock(af, socket.SOCK_STREAM)
        tcp.bind((host, 0))
        tcp.listen(1024)
        for _ in range(20):
            udp = self._sock(af, socket.SOCK_DGRAM)
            udp.bind((host, 0))
            dns_port = udp.getsockname()[1]
            dtcp = self._sock(af, socket.SOCK_STREAM)
            try:
                dtcp.bind((host, dns_port))
                break
            except OSError:
                self._socks.remove(udp)
                self._socks.remove(dtcp)
                udp.close()
                dtcp.close()
        else:
            raise OSError(errno.EADDRINUSE, "no free port pair for the DNS proxy")
        dtcp.listen(128)
        self._listen[fam] = (tcp, udp, dtcp)
        self.ports[fam] = [tcp.getsockname()[1], dns_port]

    def _sock(self, af: int, kind: int) -> socket.socket:
        s = socket.socket(af, kind | socket.SOCK_CLOEXEC)
        self._socks.append(s)
        if kind == socket.SOCK_STREAM:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if af == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        return s

    async def _main(self) -> None:
        import trio

        self._token = self.held.trio_token = trio.lowlevel.current_trio_token()
        nflog = self._nflog
        with trio.CancelScope() as scope:
            self._cancel = scope
            async with trio.open_nursery() as nursery:
                for tcp, udp, dtcp in self._listen.values():
                    nursery.start_soon(self._accept_loop, nursery, tcp, self._connection)
                    nursery.start_soon(self._dns_udp_loop, nursery, udp)
                    nursery.start_soon(self._accept_loop, nursery, dtcp, self._dns_tcp)
                if nflog is not None:
                    nursery.start_soon(self._nflog_loop, nflog)
                nursery.start_soon(self._flusher)
                if self._stopping:
                    scope.cancel()

    async def _flusher(self) -> None:
        import trio

        while True:
            await trio.sleep(0.5)
            self.events.maybe_flush()

    async def _accept_loop(self, nursery, listener: socket.socket, handler) -> None:  # noqa: ANN001
        import trio

        listener.setblocking(False)
        while True:
            await trio.lowlevel.wait_readable(listener)
            while True:
                try:
                    conn, peer = listener.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as e:
                    if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                        await trio.sleep(0.05)
                        break
                    continue
                conn.setblocking(False)
                nursery.start_soon(self._guarded, handler, conn)

    async def _guarded(self, fn, *args) -> None:  # noqa: ANN001, ANN002
        """One connection's or query's task: its failure is an event, never the end of
        the service (that would leave every later connection refused)."""
        try:
            await fn(*args)
        except Exception as e:  # noqa: BLE001
            import traceback

            where = traceback.extract_tb(e.__traceback__)[-1]
            self.events.emit("monitor_warning", fields={
                "message": f"network proxy: {type(e).__name__}: {e} "
                           f"({os.path.basename(where.filename)}:{where.lineno})"})

    # -- TCP ---------------------------------------------------------------------------
    def _blocks(self, d: Decision) -> bool:
        return self.mode != "audit" and d.decision in (m.DENY, m.APPROVE)

    async def _connection(self, client: socket.socket) -> None:
        t0 = time.perf_counter()
        upstream = None
        try:
            upstream = await self._open(client, t0)
            if upstream is None:
                return
            await self._splice(client, upstream, t0)
        except OSError:
            _reset(client)
        finally:
            client.close()
            if upstream is not None:
                upstream[0].close()

    async def _open(self, client: socket.socket, t0: float):  # noqa: ANN202
        orig = netif.original_dst(client)
        if orig is None or _is_local(orig[0]):
            _reset(client)  # a direct connection to the proxy port: nothing to proxy
            return None
        ip, port = orig
        names = self.names.names(ip)
        first = b""
        via = "dns" if names else ""
        domain = names[0] if len(names) == 1 else None
        if len(names) > 1 or self._redirects:
            first = await self._peek(client)
            said, how = hello.name_of(first)
            if said and said in names:
                domain, via = said, how
        if domain is None and len(names) > 1:
            d = None
            for n in names:
                got = self.engine.connect(n, ip, port)
                d = got if d is None else stricter(d, got)
                if d is got:
                    domain = n
            assert d is not None
        else:
            d = self.engine.connect(domain, ip, port)
        remote = _hostport(ip, port)
        ev = {"operation": "connect", "path": remote, "remote": remote, "domain": domain,
              "fields": {"protocol": "tcp", "named_by": via or None}}
        if d.decision == m.APPROVE and self.mode != "audit":
            allowed = await self.held.hold("connect", f"{domain or ip}:{port}", 0, d).wait()
            if not allowed:
                self._emit("net_connect", ev, d, "deny", t0)
                _reset(client)
                return None
        elif self._blocks(d):
            self._emit("net_connect", ev, d, "deny", t0)
            _reset(client)
            return None
        target = (ip, port)
        redirect = self.engine.connect_redirect(domain or ip, port) if self._redirects else None
        if redirect is not None:
            target, first = await self._redirect(client, redirect, target, first)
            ev["fields"]["redirected_to"] = redirect.redirect_to or redirect.redirect_to_unix
            ev["fields"]["redirect_rule"] = redirect.name
        try:
            up = await self._connect_upstream(target)
        except OSError as e:
            ev["fields"]["error"] = e.strerror or str(e)
            self._emit("net_connect", ev, d, "allow", t0)
            _reset(client)
            return None
        if first and redirect is not None:
            up.sendall(first)  # the rewritten ClientHello, consumed from the client
        self.connections += 1
        self._emit("net_connect", ev, d, "allow", t0)
        return up, ev, d

    async def _peek(self, client: socket.socket) -> bytes:
        import trio

        data = b""
        with trio.move_on_after(PEEK_TIMEOUT):
            while True:
                await trio.lowlevel.wait_readable(client)
                try:
                    data = client.recv(hello.MAX_PEEK, socket.MSG_PEEK)
                except BlockingIOError:
                    continue
                if not data or not hello.wants_more(data):
                    break
                await trio.sleep(0.002)  # more of the ClientHello is on its way
        return data

    async def _redirect(self, client: socket.socket, r: m.ConnectRedirect,
                        target: tuple[str, int], first: bytes):  # noqa: ANN202
        if r.redirect_to_unix:
            return r.redirect_to_unix, b""
        host, _, port_s = (r.redirect_to or "").rpartition(":")
        host = host.strip("[]")
        new = (host, int(port_s)) if _is_ip(host) else (await self._lookup(host), int(port_s))
        if r.tls_mode == "rewrite_sni" and first and hello.looks_like_tls(first):
            rewritten = hello.rewrite_sni(first, r.tls_sni or host)
            if rewritten is not None:
                client.recv(len(first))  # consumed: the rewritten copy goes up instead
                return new, rewritten
        return new, b""

    async def _lookup(self, name: str) -> str:
        """An address for a connect_redirect's host name, through the container's own
        resolver (never the host's)."""
        for qtype in (dnswire.A, dnswire.AAAA):
            reply = await self._forward_udp(dnswire.query(name, qtype, os.getpid() & 0xFFFF))
            if reply:
                ans = dnswire.parse_answer(reply)
                if ans.addresses:
                    return ans.addresses[0][0]
        raise OSError(errno.EHOSTUNREACH, f"cannot resolve {name}")

    async def _connect_upstream(self, target) -> socket.socket:  # noqa: ANN001
        import trio

        if isinstance(target, str):
            up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        else:
            af = socket.AF_INET6 if ":" in target[0] else socket.AF_INET
            up = socket.socket(af, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
            netif.set_mark(up, MARK)
            up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        up.setblocking(False)
        try:
            err = up.connect_ex(target)
            if err not in (0, errno.EINPROGRESS, errno.EAGAIN):
                raise OSError(err, os.strerror(err))
            if err:
                with trio.fail_after(CONNECT_TIMEOUT):
                    await trio.lowlevel.wait_writable(up)
                err = up.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise OSError(err, os.strerror(err))
        except trio.TooSlowError:
            up.close()
            raise OSError(errno.ETIMEDOUT, "connect timed out") from None
        except BaseException:
            up.close()
            raise
        return up

    async def _splice(self, client: socket.socket, opened, t0: float) -> None:  # noqa: ANN001
        import trio

        up, ev, d = opened
        counts = [0, 0]  # client -> upstream, upstream -> client
        failed = []
        async with trio.open_nursery() as n:
            n.start_soon(_pump, client, up, counts, 0, failed)
            n.start_soon(_pump, up, client, counts, 1, failed)
        if failed:
            _reset(client)
            _reset(up)
        fields = dict(ev["fields"], bytes_sent=counts[0], bytes_received=counts[1],
                      duration_ms=int((time.perf_counter() - t0) * 1000))
        self._emit("net_close", dict(ev, fields=fields), d, "allow", None)

    def _emit(self, etype: str, ev: dict, d: Decision, effective: str,
              t0: float | None) -> None:
        if self.mode == "audit":
            effective = "allow"
        out = dict(ev)
        out["policy"] = {"decision": d.decision, "effective_decision": effective,
                         "rule": d.rule, "message": d.message}
        out["effective_action"] = "allowed" if effective == "allow" else "blocked"
        if t0 is not None:
            out["latency_us"] = int((time.perf_counter() - t0) * 1e6)
        self.events.emit(etype, **out)

    # -- DNS ---------------------------------------------------------------------------
    async def _dns_udp_loop(self, nursery, sock: socket.socket) -> None:  # noqa: ANN001
        import trio

        sock.setblocking(False)
        while True:
            await trio.lowlevel.wait_readable(sock)
            while True:
                try:
                    data, peer = sock.recvfrom(4096)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    continue
                nursery.start_soon(self._guarded, self._dns_udp_one, sock, data, peer)

    async def _dns_udp_one(self, sock: socket.socket, data: bytes, peer) -> None:  # noqa: ANN001
        reply = await self._answer(data, "udp")
        if reply is not None:
            try:
                sock.sendto(reply, peer)
            except OSError:
                pass

    async def _dns_tcp(self, conn: socket.socket) -> None:
        import trio

        try:
            with trio.move_on_after(30):
                while True:
                    head = await _recv_exact(conn, 2)
                    if len(head) < 2:
                        return
                    msg = await _recv_exact(conn, struct.unpack("!H", head)[0])
                    reply = await self._answer(msg, "tcp")
                    if reply is None:
                        return
                    await _send_all(conn, struct.pack("!H", len(reply)) + reply)
        except OSError:
            pass
        finally:
            conn.close()

    async def _answer(self, data: bytes, proto: str) -> bytes | None:
        t0 = time.perf_counter()
        try:
            q = dnswire.parse_question(data)
        except dnswire.DnsError:
            return None
        ev = {"operation": "dns", "path": q.name, "domain": q.name,
              "fields": {"qtype": q.qtype, "protocol": proto}}
        redirect = self.engine.dns_redirect(q.name)
        if redirect is not None:
            reply = dnswire.synthetic(data, q, redirect.resolve_to)
            self.names.record([q.name], [(redirect.resolve_to, 60)])
            d = Decision(m.ALLOW, redirect.name, redirect.message, kind="network")
            ev["fields"]["resolve_to"] = redirect.resolve_to
            self._emit("dns_redirect", ev, d, "allow", t0)
            return reply
        d = self.engine.dns(q.name)
        if d.decision == m.APPROVE and self.mode != "audit":
            if not await self.held.hold("dns", q.name, 0, d).wait():
                self._emit("dns_query", ev, d, "deny", t0)
                return dnswire.refused(data, q)
        elif self._blocks(d):
            self._emit("dns_query", ev, d, "deny", t0)
            return dnswire.refused(data, q)
        reply = await (self._forward_tcp(data) if proto == "tcp" else self._forward_udp(data))
        if reply is None:
            ev["fields"]["error"] = "no answer from the resolver"
            self._emit("dns_query", ev, d, "allow", t0)
            return dnswire.refused(data, q, dnswire.SERVFAIL)
        try:
            ans = dnswire.parse_answer(reply)
            self.names.record(ans.names or [q.name], ans.addresses)
            ev["fields"]["answers"] = [ip for ip, _ in ans.addresses]
            ev["fields"]["rcode"] = ans.rcode
        except dnswire.DnsError:
            pass
        self._emit("dns_query", ev, d, "allow", t0)
        return reply

    async def _forward_udp(self, data: bytes) -> bytes | None:
        import trio

        for server in self.resolvers:
            af = socket.AF_INET6 if ":" in server else socket.AF_INET
            s = socket.socket(af, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            try:
                netif.set_mark(s, MARK)
                s.setblocking(False)
                s.connect((server, 53))
                s.send(data)
                with trio.move_on_after(DNS_TIMEOUT):
                    while True:
                        await trio.lowlevel.wait_readable(s)
                        try:
                            reply = s.recv(65535)
                        except BlockingIOError:
                            continue
                        if reply[:2] == data[:2]:
                            return reply
            except OSError:
                continue
            finally:
                s.close()
        return None

    async def _forward_tcp(self, data: bytes) -> bytes | None:
        import trio

        for server in self.resolvers:
            try:
                s = await self._connect_upstream((server, 53))
            except OSError:
                continue
            try:
                with trio.move_on_after(DNS_TIMEOUT):
                    await _send_all(s, struct.pack("!H", len(data)) + data)
                    head = await _recv_exact(s, 2)
                    if len(head) == 2:
                        reply = await _recv_exact(s, struct.unpack("!H", head)[0])
                        if reply:
                            return reply
            except OSError:
                continue
            finally:
                s.close()
        return None

    # -- packets the kernel rejected ----------------------------------------------------
    async def _nflog_loop(self, reader) -> None:  # noqa: ANN001
        import trio

        while True:
            await trio.lowlevel.wait_readable(reader)
            self._nflog_events()

    def _nflog_events(self) -> None:
        reader = self._nflog
        if reader is None:
            return
        rules = self.engine.policy.network_rules
        for p in reader.read():
            which = parse_prefix(p.prefix)
            if which is None:
                continue
            if isinstance(which, int) and 0 <= which < len(rules):
                r = rules[which]
                d = Decision(r.decision, r.name, r.message, kind="network", spec=r)
            else:
                d = Decision(m.DENY, "default-deny-network", None, kind="network")
            # an allowed UDP flow is logged on its way out; everything else was refused
            effective = "allow" if d.decision in (m.ALLOW, m.AUDIT) else "deny"
            remote = _hostport(p.dst, p.port) if p.port else p.dst
            ev = {"operation": "connect", "path": remote, "remote": remote,
                  "domain": None, "fields": {"protocol": p.protocol, "uid": p.uid,
                                             "via": "kernel"}}
            self._emit("net_connect", ev, d, effective, None)


def resolvers_of(path: str) -> list[str]:
    """The nameservers of a resolv.conf (the container's, as it sees the file)."""
    out = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver" and _is_ip(parts[1]):
                    out.append(parts[1].split("%")[0])
    except OSError:
        pass
    return out


async def _pump(src: socket.socket, dst: socket.socket, counts: list[int], i: int,
                failed: list) -> None:  # noqa: ANN001
    import trio

    r, w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        try:
            fcntl.fcntl(w, _F_SETPIPE_SZ, CHUNK)
        except OSError:
            pass
        sfd, dfd = src.fileno(), dst.fileno()
        spins = 0
        while True:
            try:
                n = os.splice(sfd, w, CHUNK, flags=_SPLICE)
            except BlockingIOError:
                await trio.lowlevel.wait_readable(sfd)
                continue
            if n == 0:
                break
            counts[i] += n
            while n:
                try:
                    n -= os.splice(r, dfd, n, flags=_SPLICE)
                except BlockingIOError:
                    await trio.lowlevel.wait_writable(dfd)
            spins += 1
            if spins % 16 == 0:
                await trio.lowlevel.checkpoint()
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    except OSError:
        failed.append(i)
        try:
            src.shutdown(socket.SHUT_RDWR)
            dst.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    finally:
        os.close(r)
        os.close(w)


async def _recv_exact(s: socket.socket, n: int) -> bytes:
    import trio

    buf = b""
    while len(buf) < n:
        try:
            got = s.recv(n - len(buf))
        except BlockingIOError:
            await trio.lowlevel.wait_readable(s)
            continue
        if not got:
            break
        buf += got
    return buf


async def _send_all(s: socket.socket, data: bytes) -> None:
    import trio

    view = memoryview(data)
    while view:
        try:
            view = view[s.send(view):]
        except BlockingIOError:
            await trio.lowlevel.wait_writable(s)


def _reset(s: socket.socket) -> None:
    """Close with a RST (the client sees ECONNRESET), not a FIN."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    except OSError:
        pass


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _is_local(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return True


def _hostport(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
