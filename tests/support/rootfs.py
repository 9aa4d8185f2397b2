"""Busybox root filesystems for tests, built offline from busybox-static."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

BUSYBOX = Path("/bin/busybox")
CACHE = Path(__file__).resolve().parent.parent / ".cache"


def _applets() -> list[str]:
    out = subprocess.run([str(BUSYBOX), "--list"], check=True, capture_output=True, text=True)
    return [a for a in out.stdout.split() if a and a != "busybox"]


def build_busybox_rootfs(dest: Path) -> Path:
    """Lay out a minimal rootfs at dest: /bin/busybox plus a link per applet."""
    if not BUSYBOX.exists():
        raise RuntimeError("missing /bin/busybox: apt-get install busybox-static")
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp",
              "root", "home", "var", "run"):
        (dest / d).mkdir(parents=True, exist_ok=True)
    os.chmod(dest / "tmp", 0o1777)
    shutil.copy2(BUSYBOX, dest / "bin" / "busybox")
    for applet in _applets():
        link = dest / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")
    (dest / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
        "tester:x:1000:1000:tester:/home/tester:/bin/sh\n"
    )
    (dest / "etc" / "group").write_text(
        "root:x:0:\ndaemon:x:1:\nwheel:x:10:tester\nnogroup:x:65534:\ntester:x:1000:\n"
    )
    (dest / "home" / "tester").mkdir(exist_ok=True)
    os.chown(dest / "home" / "tester", 1000, 1000)
    return dest


def cached_busybox_rootfs() -> Path:
    """A read-mostly shared rootfs; copy it (copy_rootfs) before a test writes to it."""
    root = CACHE / "busybox-rootfs"
    stamp = root / ".complete"
    if not stamp.exists():
        if root.exists():
            shutil.rmtree(root)
        build_busybox_rootfs(root)
        stamp.write_text("ok")
    return root


def copy_rootfs(dest: Path) -> Path:
    """A private copy of the cached rootfs (symlinks kept)."""
    shutil.copytree(cached_busybox_rootfs(), dest, symlinks=True)
    return dest
