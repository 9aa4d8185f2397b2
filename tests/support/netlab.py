"""A test network for network_rules (issue 7): namespaces the test creates and nothing
else. A "server" namespace joined to the container's namespace by a veth pair, with
IPv4 and IPv6 test addresses, running tests/support/netserver.py (HTTP, TLS with a
self-signed certificate made here, a DNS server answering the test's names, a TCP
sink/source, a UDP echo). The container joins its namespace by path, as podman and CNI
give it. `netc` is the client run inside the container (a static C program: busybox's
own clients resolve names through NSS, which a static rootfs lacks)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import policy as pol

NETC_C = r"""
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/if_ether.h>

/* netc MODE ...: network clients for the container side of the tests.
   resolve NAME [a|aaaa]        own DNS query to resolv.conf's first nameserver (UDP)
   tcp HOST PORT [SEND]         connect, send SEND (\r\n escapes; @FILE: its bytes),
                                read to EOF
   tcp6 HOST PORT [SEND]        the same over IPv6 (AAAA)
   udp IP PORT                  one datagram, wait 1 s for the echo
   icmp IP                      an echo request from a ping socket
   raw | packet                 open a raw IP / AF_PACKET socket
   mark                         set SO_MARK to the proxy's mark on a socket
   Prints one line: what happened. */

static uint64_t fnv = 1469598103934665603ULL;
static void hash(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) { fnv ^= p[i]; fnv *= 1099511628211ULL; }
}

static int nameserver(char *out, size_t n) {
    FILE *f = fopen("/etc/resolv.conf", "r");
    char line[256];
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "nameserver %200s", out) == 1) { fclose(f); return 0; }
    }
    fclose(f);
    (void)n;
    return -1;
}

/* name -> first A (4) or AAAA (6) record; 0 ok, else the rcode (or -1) */
static int resolve(const char *name, int fam, void *addr, int verbose) {
    char ns[256];
    unsigned char q[512], r[1500];
    if (nameserver(ns, sizeof ns)) { printf("no nameserver\n"); return -1; }
    int len = 12;
    memset(q, 0, 12);
    q[0] = 0x42; q[1] = 0x24; q[2] = 1; q[5] = 1;
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        int l = dot ? (int)(dot - p) : (int)strlen(p);
        q[len++] = (unsigned char)l;
        memcpy(q + len, p, l);
        len += l;
        p += l + (dot ? 1 : 0);
    }
    q[len++] = 0;
    q[len++] = 0; q[len++] = fam == 6 ? 28 : 1; q[len++] = 0; q[len++] = 1;
    struct sockaddr_in6 s6 = {0};
    struct sockaddr_in s4 = {0};
    struct sockaddr *sa;
    socklen_t sl;
    int s;
    if (strchr(ns, ':')) {
        s6.sin6_family = AF_INET6; s6.sin6_port = htons(53);
        inet_pton(AF_INET6, ns, &s6.sin6_addr);
        sa = (struct sockaddr *)&s6; sl = sizeof s6; s = socket(AF_INET6, SOCK_DGRAM, 0);
    } else {
        s4.sin_family = AF_INET; s4.sin_port = htons(53);
        inet_pton(AF_INET, ns, &s4.sin_addr);
        sa = (struct sockaddr *)&s4; sl = sizeof s4; s = socket(AF_INET, SOCK_DGRAM, 0);
    }
    struct timeval tv = {3, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (sendto(s, q, len, 0, sa, sl) < 0) { printf("dns send: %s\n", strerror(errno)); return -1; }
    ssize_t n = recv(s, r, sizeof r, 0);
    close(s);
    if (n < 12) { printf("dns: no answer (%s)\n", strerror(errno)); return -1; }
    int rcode = r[3] & 15, an = r[6] << 8 | r[7];
    int off = len, found = 0;
    char text[64];
    if (verbose) printf("rcode=%d", rcode);
    for (int i = 0; i < an && off + 12 <= n; i++) {
        while (off < n && r[off] && (r[off] & 0xc0) != 0xc0) off += r[off] + 1;
        off += (off < n && r[off]) ? 2 : 1;
        int type = r[off] << 8 | r[off + 1];
        int rdl = r[off + 8] << 8 | r[off + 9];
        off += 10;
        if ((type == 1 && rdl == 4) || (type == 28 && rdl == 16)) {
            inet_ntop(type == 1 ? AF_INET : AF_INET6, r + off, text, sizeof text);
            if (verbose) printf(" %s", text);
            if (!found && ((fam == 4 && type == 1) || (fam == 6 && type == 28))) {
                memcpy(addr, r + off, rdl);
                found = 1;
            }
        }
        off += rdl;
    }
    if (verbose) printf("\n");
    return rcode ? rcode : (found ? 0 : -1);
}

static int unescape(const char *in, char *out) {
    int n = 0;
    for (; *in; in++) {
        if (in[0] == '\\' && in[1] == 'r') { out[n++] = '\r'; in++; }
        else if (in[0] == '\\' && in[1] == 'n') { out[n++] = '\n'; in++; }
        else out[n++] = *in;
    }
    return n;
}

static int tcp(int fam, const char *host, int port, const char *send_text) {
    unsigned char addr[16];
    if (inet_pton(fam == 6 ? AF_INET6 : AF_INET, host, addr) != 1) {
        int rc = resolve(host, fam, addr, 0);
        if (rc) { printf("resolve %s: rcode %d\n", host, rc); return 1; }
    }
    int s = socket(fam == 6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in s4 = {0};
    struct sockaddr_in6 s6 = {0};
    int rc;
    if (fam == 6) {
        s6.sin6_family = AF_INET6; s6.sin6_port = htons(port); memcpy(&s6.sin6_addr, addr, 16);
        rc = connect(s, (struct sockaddr *)&s6, sizeof s6);
    } else {
        s4.sin_family = AF_INET; s4.sin_port = htons(port); memcpy(&s4.sin_addr, addr, 4);
        rc = connect(s, (struct sockaddr *)&s4, sizeof s4);
    }
    if (rc) { printf("connect: %s\n", strerror(errno)); return 1; }
    if (send_text) {
        static char buf[65536];
        int n;
        if (send_text[0] == '@') {  /* @FILE: send the file's bytes */
            FILE *f = fopen(send_text + 1, "rb");
            if (!f) { printf("open %s: %s\n", send_text + 1, strerror(errno)); return 1; }
            n = (int)fread(buf, 1, sizeof buf, f);
            fclose(f);
        } else {
            n = unescape(send_text, buf);
        }
        if (write(s, buf, n) != n) { printf("send: %s\n", strerror(errno)); return 1; }
    }
    static unsigned char buf[1 << 16];
    long long total = 0;
    char head[81] = {0};
    for (;;) {
        ssize_t n = read(s, buf, sizeof buf);
        if (n < 0) { printf("connected recv-error=%s bytes=%lld head=%s\n", strerror(errno),
                            total, head); return 1; }
        if (n == 0) break;
        if (total < 80) {
            size_t k = strlen(head);
            for (ssize_t i = 0; i < n && k < 80; i++)
                head[k++] = (buf[i] >= 32 && buf[i] < 127) ? buf[i] : '.';
        }
        hash(buf, n);
        total += n;
    }
    printf("connected bytes=%lld fnv=%016llx head=%s\n", total, (unsigned long long)fnv, head);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, 0, _IONBF, 0);
    if (argc < 2) return 2;
    const char *m = argv[1];
    if (!strcmp(m, "resolve") && argc >= 3) {
        unsigned char a[16];
        int rc = resolve(argv[2], argc > 3 && !strcmp(argv[3], "aaaa") ? 6 : 4, a, 1);
        return rc ? 1 : 0;
    }
    const char *payload = argc > 4 ? argv[4] : 0;
    if (!strcmp(m, "tcp") && argc >= 4) return tcp(4, argv[2], atoi(argv[3]), payload);
    if (!strcmp(m, "tcp6") && argc >= 4) return tcp(6, argv[2], atoi(argv[3]), payload);
    if (!strcmp(m, "udp") && argc >= 4) {
        int v6 = strchr(argv[2], ':') != 0;
        int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in s4 = {0};
        struct sockaddr_in6 s6 = {0};
        int rc;
        if (v6) { s6.sin6_family = AF_INET6; s6.sin6_port = htons(atoi(argv[3]));
                  inet_pton(AF_INET6, argv[2], &s6.sin6_addr);
                  rc = connect(s, (struct sockaddr *)&s6, sizeof s6); }
        else { s4.sin_family = AF_INET; s4.sin_port = htons(atoi(argv[3]));
               inet_pton(AF_INET, argv[2], &s4.sin_addr);
               rc = connect(s, (struct sockaddr *)&s4, sizeof s4); }
        if (rc) { printf("udp connect: %s\n", strerror(errno)); return 1; }
        if (send(s, "ping", 4, 0) < 0) { printf("udp send: %s\n", strerror(errno)); return 1; }
        struct pollfd p = {s, POLLIN, 0};
        if (poll(&p, 1, 1000) <= 0) { printf("udp: no reply\n"); return 1; }
        char b[64];
        ssize_t n = recv(s, b, sizeof b - 1, 0);
        if (n < 0) { printf("udp recv: %s\n", strerror(errno)); return 1; }
        b[n] = 0;
        printf("udp reply=%s\n", b);
        return 0;
    }
    if (!strcmp(m, "icmp") && argc >= 3) {
        int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
        if (s < 0) { printf("icmp socket: %s\n", strerror(errno)); return 1; }
        struct sockaddr_in s4 = {0};
        s4.sin_family = AF_INET;
        inet_pton(AF_INET, argv[2], &s4.sin_addr);
        struct icmphdr h = {0};
        h.type = ICMP_ECHO;
        if (sendto(s, &h, sizeof h, 0, (struct sockaddr *)&s4, sizeof s4) < 0) {
            printf("icmp send: %s\n", strerror(errno)); return 1; }
        struct pollfd p = {s, POLLIN, 0};
        if (poll(&p, 1, 1000) <= 0) { printf("icmp: no reply\n"); return 1; }
        printf("icmp reply\n");
        return 0;
    }
    if (!strcmp(m, "mark")) {  /* the proxy's mark on our own socket */
        int s = socket(AF_INET, SOCK_STREAM, 0);
        unsigned mark = 0x41475348;
        if (setsockopt(s, SOL_SOCKET, SO_MARK, &mark, sizeof mark))
            printf("mark: %s\n", strerror(errno));
        else
            printf("mark set\n");
        return 0;
    }
    if (!strcmp(m, "raw")) {
        int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
        if (s < 0) printf("raw socket: %s\n", strerror(errno));
        else printf("raw socket opened\n");
        return s < 0;
    }
    if (!strcmp(m, "packet")) {
        int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
        if (s < 0) printf("packet socket: %s\n", strerror(errno));
        else printf("packet socket opened\n");
        return s < 0;
    }
    return 2;
}
"""

pol.PROGRAMS["netc"] = NETC_C

V4_NET = "10.203"  # 10.203.N.1 the container, 10.203.N.2 the server
V6_NET = "fd00:203"
SERVER = Path(__file__).with_name("netserver.py")


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(list(argv), capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: {p.stderr.strip() or p.returncode}")
    return p


@dataclass
class NetLab:
    """Two namespaces and a veth pair; `ctr_path` is what the bundle joins."""

    tmp: Path
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    n: int = field(default_factory=lambda: 1 + int.from_bytes(os.urandom(1), "big") % 250)
    server: subprocess.Popen | None = None

    @property
    def ctr(self) -> str:
        return f"agt-c-{self.tag}"

    @property
    def srv(self) -> str:
        return f"agt-s-{self.tag}"

    @property
    def ctr_path(self) -> str:
        return f"/run/netns/{self.ctr}"

    @property
    def ctr_ip(self) -> str:
        return f"{V4_NET}.{self.n}.1"

    @property
    def srv_ip(self) -> str:
        return f"{V4_NET}.{self.n}.2"

    @property
    def bare_ip(self) -> str:
        """A second server address no DNS name leads to."""
        return f"{V4_NET}.{self.n}.3"

    @property
    def bare_ip6(self) -> str:
        return f"{V6_NET}:{self.n:x}::3"

    @property
    def ctr_ip6(self) -> str:
        return f"{V6_NET}:{self.n:x}::1"

    @property
    def srv_ip6(self) -> str:
        return f"{V6_NET}:{self.n:x}::2"

    def up(self, names: dict[str, str] | None = None) -> NetLab:
        """`names`: what the lab's DNS server answers (name -> "v4" or "v6" server
        address, or an address)."""
        for ns in (self.ctr, self.srv):
            _run("ip", "netns", "add", ns)
        a, b = f"agv{self.tag}a", f"agv{self.tag}b"
        _run("ip", "link", "add", a, "netns", self.ctr, "type", "veth", "peer", "name", b,
             "netns", self.srv)
        for ns, dev, ip4, ip6 in ((self.ctr, a, self.ctr_ip, self.ctr_ip6),
                                  (self.srv, b, self.srv_ip, self.srv_ip6)):
            ex = ("ip", "netns", "exec", ns)
            _run(*ex, "ip", "addr", "add", f"{ip4}/24", "dev", dev)
            _run(*ex, "ip", "addr", "add", f"{ip6}/64", "dev", dev, "nodad")
            _run(*ex, "ip", "link", "set", dev, "up")
            _run(*ex, "ip", "link", "set", "lo", "up")
        for addr in (f"{self.bare_ip}/24", f"{self.bare_ip6}/64"):
            _run("ip", "netns", "exec", self.srv, "ip", "addr", "add", addr, "dev", b,
                 *(["nodad"] if ":" in addr else []))
        # every other address routes to the server's namespace, which forwards nothing:
        # a connection the chain lets out still ends inside the lab
        _run("ip", "netns", "exec", self.ctr, "ip", "route", "add", "default", "via",
             self.srv_ip)
        _run("ip", "netns", "exec", self.ctr, "ip", "-6", "route", "add", "default", "via",
             self.srv_ip6)
        _run("ip", "netns", "exec", self.ctr, "sysctl", "-qw",
             "net.ipv4.ping_group_range=0 2147483647")
        self.tmp.mkdir(parents=True, exist_ok=True)
        cert, key = self.tmp / "cert.pem", self.tmp / "key.pem"
        _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=lab.test", "-keyout", str(key), "-out", str(cert))
        table = {k: (self.srv_ip if v == "v4" else self.srv_ip6 if v == "v6" else v)
                 for k, v in (names or {}).items()}
        ready = self.tmp / "server.ready"
        log = open(self.tmp / "server.log", "w")
        self.server = subprocess.Popen(
            ["ip", "netns", "exec", self.srv, sys.executable, str(SERVER),
             "--cert", str(cert), "--key", str(key), "--ready", str(ready),
             "--sni-log", str(self.tmp / "sni.log"),
             *[x for k, v in table.items() for x in ("--name", f"{k}={v}")]],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while not ready.exists():
            if self.server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the lab's server did not start: "
                                     + (self.tmp / "server.log").read_text())
            time.sleep(0.05)
        return self

    def resolv_conf(self, v6: bool = False) -> str:
        return f"nameserver {self.srv_ip6 if v6 else self.srv_ip}\n"

    def sni_log(self) -> list[str]:
        p = self.tmp / "sni.log"
        return p.read_text().split() if p.exists() else []

    def in_ctr(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return _run("ip", "netns", "exec", self.ctr, *argv, check=False)

    def down(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(5)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        for ns in (self.ctr, self.srv):
            _run("ip", "netns", "del", ns, check=False)

    def chains(self) -> str:
        """iptables-save of the container's namespace, both families."""
        return (self.in_ctr("iptables-save").stdout + self.in_ctr("ip6tables-save").stdout)
