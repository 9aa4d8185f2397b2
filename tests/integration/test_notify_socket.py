"""NOTIFY_SOCKET (podman --sdnotify=container) is passed through as runc does."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

import pytest

SDNOTIFY_C = r"""
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
int main(void) {
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path) return 2;
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    const char msg[] = "READY=1";
    return sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a) < 0 ? 3 : 0;
}
"""


@pytest.fixture(scope="module")
def sdnotify_binary(tmp_path_factory) -> str:
    gcc = shutil.which("gcc")
    if not gcc:
        pytest.fail("gcc is missing: the README's setup installs it")
    d = tmp_path_factory.mktemp("sdnotify")
    (d / "sdnotify.c").write_text(SDNOTIFY_C)
    subprocess.run([gcc, "-static", "-O2", "-o", str(d / "sdnotify"), str(d / "sdnotify.c")],
                   check=True, capture_output=True, timeout=120)
    return str(d / "sdnotify")


def test_ready_and_mainpid_reach_the_callers_socket(runtime, bundle, cid, sdnotify_binary,
                                                    tmp_path):
    shutil.copy2(sdnotify_binary, bundle.path / "rootfs" / "sdnotify")
    bundle.update(args=["sh", "-c", "echo $NOTIFY_SOCKET > /tmp/ns; /sdnotify; sleep 1000"],
                  readonly=False)
    host_path = str(tmp_path / "host-notify.sock")
    host = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    host.bind(host_path)
    host.settimeout(20)
    env = dict(os.environ, NOTIFY_SOCKET=host_path)
    try:
        res = runtime.create(bundle, cid, env=env)
        assert res.returncode == 0, res.stderr
        start = runtime.cmd("start", cid, env=env, timeout=30)
        assert start.returncode == 0, start.stderr
        got = b""
        while b"MAINPID=" not in got:
            got += host.recv(4096) + b"\n"
    finally:
        host.close()
    st = runtime.state_json(cid)
    assert b"READY=1" in got
    assert f"MAINPID={st['pid']}".encode() in got
    inside = (bundle.path / "rootfs" / "tmp" / "ns").read_text().strip()
    assert inside and inside != host_path  # the container sees its own socket path
