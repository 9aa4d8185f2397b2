"""bpf(2) through ctypes: instruction encoding, program load, cgroup attach/detach/query.

Only what a cgroup device filter needs. The attribute unions are packed by hand
with struct (no ctypes Structure classes), as the rest of `linux` does.
"""

from __future__ import annotations

import ctypes
import os
import struct

from .libc import libc

SYS_bpf = 321  # x86_64

# commands
BPF_PROG_LOAD = 5
BPF_PROG_ATTACH = 8
BPF_PROG_DETACH = 9
BPF_PROG_GET_FD_BY_ID = 13
BPF_OBJ_GET_INFO_BY_FD = 15
BPF_PROG_QUERY = 16

BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6  # attach type
BPF_F_ALLOW_MULTI = 1 << 1
BPF_F_REPLACE = 1 << 2

# struct bpf_cgroup_dev_ctx: access_type = (access << 16) | type
BPF_DEVCG_ACC_MKNOD = 1
BPF_DEVCG_ACC_READ = 2
BPF_DEVCG_ACC_WRITE = 4
BPF_DEVCG_DEV_BLOCK = 1
BPF_DEVCG_DEV_CHAR = 2

# instruction classes, sizes, modes, operations, sources
BPF_LDX = 0x01
BPF_ALU = 0x04
BPF_JMP = 0x05
BPF_W = 0x00
BPF_MEM = 0x60
BPF_AND = 0x50
BPF_RSH = 0x70
BPF_MOV = 0xB0
BPF_JNE = 0x50
BPF_EXIT = 0x90
BPF_K = 0x00
BPF_X = 0x08

R0, R1, R2, R3, R4, R5 = range(6)

_INSN = struct.Struct("<BBhi")
_ATTR_SIZE = 128  # zero tail: the kernel accepts any size with zeroed unknown bytes


class Insn:
    """One eBPF instruction; `off` of a jump may be a label name until resolved."""

    __slots__ = ("code", "dst", "src", "off", "imm")

    def __init__(self, code: int, dst: int = 0, src: int = 0, off: int | str = 0,
                 imm: int = 0) -> None:
        self.code, self.dst, self.src, self.off, self.imm = code, dst, src, off, imm

    def encode(self) -> bytes:
        if isinstance(self.off, str):
            raise ValueError(f"unresolved jump label {self.off!r}")
        return _INSN.pack(self.code, (self.src << 4) | self.dst, self.off, self.imm)

    def __repr__(self) -> str:
        return f"Insn({self.code:#04x}, dst={self.dst}, src={self.src}, off={self.off}, " \
               f"imm={self.imm})"


def ldx_w(dst: int, src: int, off: int) -> Insn:
    """dst = *(u32 *)(src + off)"""
    return Insn(BPF_LDX | BPF_W | BPF_MEM, dst, src, off)


def and32_imm(dst: int, imm: int) -> Insn:
    return Insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm)


def rsh32_imm(dst: int, imm: int) -> Insn:
    return Insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm)


def mov32_imm(dst: int, imm: int) -> Insn:
    return Insn(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm)


def mov32_reg(dst: int, src: int) -> Insn:
    return Insn(BPF_ALU | BPF_MOV | BPF_X, dst, src)


def jne_imm(dst: int, imm: int, label: int | str) -> Insn:
    return Insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, label, imm)


def jne_reg(dst: int, src: int, label: int | str) -> Insn:
    return Insn(BPF_JMP | BPF_JNE | BPF_X, dst, src, label)


def exit_insn() -> Insn:
    return Insn(BPF_JMP | BPF_EXIT)


def resolve(insns: list[Insn], labels: dict[str, int]) -> list[Insn]:
    """Turn label jumps into relative offsets (target - (pc + 1))."""
    for pc, insn in enumerate(insns):
        if isinstance(insn.off, str):
            insn.off = labels[insn.off] - (pc + 1)
    return insns


def encode(insns: list[Insn]) -> bytes:
    return b"".join(i.encode() for i in insns)


# ---- syscalls ----------------------------------------------------------------

def _bpf(cmd: int, attr: ctypes.Array, what: str) -> int:
    ret = libc.syscall(SYS_bpf, cmd, attr, len(attr))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def prog_load(prog_type: int, code: bytes, license: str = "Apache", name: str = "",
              expected_attach_type: int = 0) -> int:
    """BPF_PROG_LOAD; returns the program fd. On refusal the verifier log is in the error."""
    insns = ctypes.create_string_buffer(code, len(code))
    lic = ctypes.create_string_buffer(license.encode())
    attr = ctypes.create_string_buffer(_ATTR_SIZE)

    def fill(log_level: int, log: ctypes.Array | None) -> None:
        ctypes.memset(attr, 0, _ATTR_SIZE)
        struct.pack_into("<IIQQIIQII", attr, 0, prog_type, len(code) // 8,
                         ctypes.addressof(insns), ctypes.addressof(lic), log_level,
                         len(log) if log is not None else 0,
                         ctypes.addressof(log) if log is not None else 0, 0, 0)
        struct.pack_into("16s", attr, 48, name.encode()[:15])
        struct.pack_into("<I", attr, 68, expected_attach_type)

    fill(0, None)
    try:
        return _bpf(BPF_PROG_LOAD, attr, "BPF_PROG_LOAD")
    except OSError as e:
        if e.errno not in (1, 13, 22):  # EPERM, EACCES, EINVAL: ask the verifier why
            raise
        log = ctypes.create_string_buffer(1 << 16)
        fill(1, log)
        try:
            return _bpf(BPF_PROG_LOAD, attr, "BPF_PROG_LOAD")
        except OSError as e2:
            text = log.value.decode(errors="replace").strip()
            msg = f"BPF_PROG_LOAD: {os.strerror(e2.errno)}"
            raise OSError(e2.errno, f"{msg}: {text}" if text else msg) from None


def _attach_attr(target_fd: int, prog_fd: int, attach_type: int, flags: int,
                 replace_fd: int = 0) -> ctypes.Array:
    attr = ctypes.create_string_buffer(_ATTR_SIZE)
    struct.pack_into("<IIIII", attr, 0, target_fd, prog_fd, attach_type, flags, replace_fd)
    return attr


def prog_attach(target_fd: int, prog_fd: int, attach_type: int, flags: int = 0,
                replace_fd: int = 0) -> None:
    _bpf(BPF_PROG_ATTACH, _attach_attr(target_fd, prog_fd, attach_type, flags, replace_fd),
         "BPF_PROG_ATTACH")


def prog_detach(target_fd: int, prog_fd: int, attach_type: int) -> None:
    _bpf(BPF_PROG_DETACH, _attach_attr(target_fd, prog_fd, attach_type, 0), "BPF_PROG_DETACH")


def prog_query(target_fd: int, attach_type: int) -> list[int]:
    """Ids of the programs attached directly to target_fd for attach_type."""
    count = 8
    while True:
        ids = (ctypes.c_uint32 * count)()
        attr = ctypes.create_string_buffer(_ATTR_SIZE)
        struct.pack_into("<IIIIQI", attr, 0, target_fd, attach_type, 0, 0,
                         ctypes.addressof(ids), count)
        try:
            _bpf(BPF_PROG_QUERY, attr, "BPF_PROG_QUERY")
        except OSError as e:
            if e.errno != 28:  # ENOSPC: the array was too small; prog_cnt says how big
                raise
            count = struct.unpack_from("<I", attr, 24)[0] or count * 2
            continue
        got = struct.unpack_from("<I", attr, 24)[0]
        return [ids[i] for i in range(min(got, count))]


def prog_get_fd_by_id(prog_id: int) -> int:
    attr = ctypes.create_string_buffer(_ATTR_SIZE)
    struct.pack_into("<I", attr, 0, prog_id)
    return _bpf(BPF_PROG_GET_FD_BY_ID, attr, "BPF_PROG_GET_FD_BY_ID")


def prog_info(prog_fd: int) -> tuple[int, int, str]:
    """(type, id, name) of a loaded program."""
    info = ctypes.create_string_buffer(80)  # struct bpf_prog_info up to name[16]
    attr = ctypes.create_string_buffer(_ATTR_SIZE)
    struct.pack_into("<IIQ", attr, 0, prog_fd, len(info), ctypes.addressof(info))
    _bpf(BPF_OBJ_GET_INFO_BY_FD, attr, "BPF_OBJ_GET_INFO_BY_FD")
    ptype, pid = struct.unpack_from("<II", info, 0)
    name = bytes(info[64:80]).split(b"\0", 1)[0].decode(errors="replace")
    return ptype, pid, name
