"""Which memory another process can rewrite (ArgMemory), on this process's own pages:
private anonymous memory, a MAP_SHARED page, a private mapping of a file."""

from __future__ import annotations

import ctypes
import mmap
import os
from pathlib import Path

from agentsh_runtime.ptrace.argmemory import ArgMemory, _find


def _addr(m: mmap.mmap) -> int:
    view = ctypes.c_char.from_buffer(m)
    addr = ctypes.addressof(view)
    del view  # the mapping can be closed again
    return addr


def test_private_anonymous_shared_and_file_pages(tmp_path: Path) -> None:
    told: list[str] = []

    def unwritable(path: str) -> bool:
        told.append(path)
        return path.endswith("locked")

    mem = ArgMemory(unwritable)
    me = os.getpid()
    try:
        buf = ctypes.create_string_buffer(b"/some/path" * 10)
        assert mem.private(me, 1, ctypes.addressof(buf), 100)
        assert mem.steady(me, 1, ctypes.addressof(buf), 100)

        shared = mmap.mmap(-1, 4096, flags=mmap.MAP_SHARED)
        shared[:5] = b"/etc\0"
        assert not mem.private(me, 1, _addr(shared), 5)
        assert not mem.steady(me, 1, _addr(shared), 5)

        for name in ("locked", "open"):
            f = tmp_path / name
            f.write_bytes(b"/etc/passwd\0".ljust(4096, b"\0"))
            with open(f, "rb") as fh:
                # writable for ctypes, never written: the page stays the file's
                m = mmap.mmap(fh.fileno(), 4096, flags=mmap.MAP_PRIVATE,
                              prot=mmap.PROT_READ | mmap.PROT_WRITE)
            assert m[0] == ord("/")  # faults the page in, as the file's
            assert not mem.private(me, 1, _addr(m), 12), name
            assert mem.steady(me, 1, _addr(m), 12) is (name == "locked"), name
            assert told[-1] == str(f)
            # a range running past the mapping's end is nobody's file
            assert not mem.steady(me, 1, _addr(m) + 4090, 12)
            m.close()
        shared.close()
    finally:
        mem.close()


def test_find_needs_one_mapping_to_hold_the_range() -> None:
    vmas = [(0x1000, 0x3000, "/a"), (0x3000, 0x4000, "/b"), (0x8000, 0x9000, "/c")]
    assert _find(vmas, 0x1000, 0x1010) == vmas[0]
    assert _find(vmas, 0x2ff0, 0x3000) == vmas[0]
    assert _find(vmas, 0x2ff0, 0x3010) is None  # spans two mappings
    assert _find(vmas, 0x3000, 0x3001) == vmas[1]
    assert _find(vmas, 0x5000, 0x5001) is None
    assert _find(vmas, 0x800, 0x801) is None
    assert _find([], 0x1000, 0x1001) is None
