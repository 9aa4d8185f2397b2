"""Device rules: the v1 emulator, v1 transitions, and the v2 BPF program's instructions."""

import struct

import pytest

from agentsh_runtime.cgroups.devices import (
    DEFAULT_RULES,
    Emulator,
    program,
    rule_string,
    rules_from_spec,
)
from agentsh_runtime.errors import ConfigError
from agentsh_runtime.linux import bpf

# opcodes, spelled out here independently of the module under test
LDXW, AND32, RSH32, MOV32, MOV32X, JNE, JNEX, EXIT = 0x61, 0x54, 0x74, 0xB4, 0xBC, 0x55, 0x5D, \
    0x95

PROLOGUE = [(LDXW, 2, 1, 0, 0), (AND32, 2, 0, 0, 0xFFFF), (LDXW, 3, 1, 0, 0),
            (RSH32, 3, 0, 0, 16), (LDXW, 4, 1, 4, 0), (LDXW, 5, 1, 8, 0)]


def decode(code: bytes) -> list[tuple[int, int, int, int, int]]:
    out = []
    for i in range(0, len(code), 8):
        op, regs, off, imm = struct.unpack_from("<BBhi", code, i)
        out.append((op, regs & 0xF, regs >> 4, off, imm))
    return out


def insns(rules):
    return decode(bpf.encode(program(Emulator.build(rules))))


def test_instruction_encoding():
    assert bpf.ldx_w(bpf.R2, bpf.R1, 0).encode() == bytes([0x61, 0x12, 0, 0, 0, 0, 0, 0])
    assert bpf.and32_imm(bpf.R2, 0xFFFF).encode() == bytes([0x54, 0x02, 0, 0, 0xFF, 0xFF, 0, 0])
    assert bpf.rsh32_imm(bpf.R3, 16).encode() == bytes([0x74, 0x03, 0, 0, 16, 0, 0, 0])
    assert bpf.mov32_reg(bpf.R1, bpf.R3).encode() == bytes([0xBC, 0x31, 0, 0, 0, 0, 0, 0])
    assert bpf.mov32_imm(bpf.R0, 1).encode() == bytes([0xB4, 0x00, 0, 0, 1, 0, 0, 0])
    assert bpf.jne_imm(bpf.R4, 136, 3).encode() == bytes([0x55, 0x04, 3, 0, 136, 0, 0, 0])
    assert bpf.jne_reg(bpf.R1, bpf.R3, -1).encode() == bytes([0x5D, 0x31, 0xFF, 0xFF, 0, 0, 0,
                                                             0])
    assert bpf.exit_insn().encode() == bytes([0x95, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(ValueError):
        bpf.jne_imm(bpf.R2, 1, "nowhere").encode()


def test_no_rules_rejects_everything():
    # runc's TestDeviceFilter_Nil
    assert insns([]) == PROLOGUE + [(MOV32, 0, 0, 0, 0), (EXIT, 0, 0, 0, 0)]


def test_allow_all_accepts_everything():
    # runc's TestDeviceFilter_Privileged
    assert insns([(True, "a", -1, -1, "rwm")]) == PROLOGUE + [(MOV32, 0, 0, 0, 1),
                                                              (EXIT, 0, 0, 0, 0)]


def test_allow_all_except_one_block_device():
    # runc's TestDeviceFilter_PrivilegedExceptSingleDevice
    got = insns([(True, "a", -1, -1, "rwm"), (False, "b", 8, 0, "rwm")])
    assert got == PROLOGUE + [
        (JNE, 2, 0, 4, 1),   # type != block -> next block (pc 11)
        (JNE, 4, 0, 3, 8),   # major != 8
        (JNE, 5, 0, 2, 0),   # minor != 0
        (MOV32, 0, 0, 0, 0), (EXIT, 0, 0, 0, 0),
        (MOV32, 0, 0, 0, 1), (EXIT, 0, 0, 0, 0)]


def test_rules_before_an_a_rule_are_forgotten():
    # runc's TestDeviceFilter_Weird: 8:1 is allowed again after `a`, 8:2 is not
    got = insns([(False, "b", 8, 1, "rwm"), (True, "a", -1, -1, "rwm"),
                 (False, "b", 8, 2, "rwm")])
    assert got[6:9] == [(JNE, 2, 0, 4, 1), (JNE, 4, 0, 3, 8), (JNE, 5, 0, 2, 2)]
    assert len(got) == 13


def test_runc_default_allow_list_program():
    # runc's TestDeviceFilter_BuiltInAllowList: same blocks, same order, same jumps
    got = insns(list(DEFAULT_RULES))
    assert got[:6] == PROLOGUE
    mknod_b = [(JNE, 2, 0, 5, 1), (MOV32X, 1, 3, 0, 0), (AND32, 1, 0, 0, 1),
               (JNEX, 1, 3, 2, 0), (MOV32, 0, 0, 0, 1), (EXIT, 0, 0, 0, 0)]
    mknod_c = [(JNE, 2, 0, 5, 2)] + mknod_b[1:]
    assert got[6:12] == mknod_b
    assert got[12:18] == mknod_c

    def dev(major, minor):
        return [(JNE, 2, 0, 4, 2), (JNE, 4, 0, 3, major), (JNE, 5, 0, 2, minor),
                (MOV32, 0, 0, 0, 1), (EXIT, 0, 0, 0, 0)]

    pc = 18
    for major, minor in ((1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 2), (10, 200)):
        assert got[pc:pc + 5] == dev(major, minor), (major, minor)
        pc += 5
    assert got[pc:pc + 4] == [(JNE, 2, 0, 3, 2), (JNE, 4, 0, 2, 136), (MOV32, 0, 0, 0, 1),
                              (EXIT, 0, 0, 0, 0)]
    assert got[pc + 4:] == [(MOV32, 0, 0, 0, 0), (EXIT, 0, 0, 0, 0)]
    assert len(got) == 64


def test_partial_access_check():
    got = insns([(True, "c", 1, 5, "r")])
    # R1 = R3 & READ; if R1 != R3 (asked for more than read) -> next
    assert got[6:12] == [(JNE, 2, 0, 7, 2), (MOV32X, 1, 3, 0, 0), (AND32, 1, 0, 0, 2),
                         (JNEX, 1, 3, 4, 0), (JNE, 4, 0, 3, 1), (JNE, 5, 0, 2, 5)]


# ---- emulator ------------------------------------------------------------------------

def test_rules_from_spec_defaults_and_errors():
    assert rules_from_spec([{"allow": False, "access": "rwm"}]) == [
        (False, "a", -1, -1, "rwm")]
    assert rules_from_spec([{"allow": True, "type": "c", "major": 1, "access": "mr"}]) == [
        (True, "c", 1, -1, "rm")]
    with pytest.raises(ConfigError):
        rules_from_spec([{"allow": True, "type": "c"}])


def test_emulator_whitelist_semantics():
    emu = Emulator.build([(False, "a", -1, -1, "rwm"), (True, "c", 1, 3, "rw"),
                          (True, "c", 1, 3, "m"), (False, "c", 1, 3, "w")])
    assert not emu.default_allow
    assert emu.rules == {("c", 1, 3): "rm"}
    assert emu.allows("c", 1, 3, "r") and not emu.allows("c", 1, 3, "w")
    assert not emu.allows("b", 8, 0, "r")


def test_emulator_refuses_to_punch_holes_in_wildcards():
    with pytest.raises(ConfigError):
        Emulator.build([(False, "a", -1, -1, "rwm"), (True, "c", 1, -1, "rwm"),
                        (False, "c", 1, 3, "w")])


def test_emulator_from_list():
    assert Emulator.from_list("a *:* rwm\n").default_allow
    emu = Emulator.from_list("c 1:3 rwm\nc 136:* rw\n")
    assert not emu.default_allow
    assert emu.rules == {("c", 1, 3): "rwm", ("c", 136, -1): "rw"}
    assert Emulator.from_list(None).default_allow


def test_transition_from_fresh_cgroup_resets_first():
    target = Emulator.build([(False, "a", -1, -1, "rwm"), (True, "c", 1, 3, "rwm")])
    assert Emulator(True).transition(target) == [(False, "a *:* rwm"), (True, "c 1:3 rwm")]


def test_transition_between_allow_lists_is_a_diff():
    current = Emulator.from_list("c 1:3 rwm\nc 1:5 rwm\n")
    target = Emulator.build([(False, "a", -1, -1, "rwm"), (True, "c", 1, 3, "r"),
                             (True, "c", 1, 9, "rwm")])
    assert current.transition(target) == [(False, "c 1:3 wm"), (False, "c 1:5 rwm"),
                                          (True, "c 1:9 rwm")]
    assert target.transition(target) == []


def test_transition_to_deny_list():
    target = Emulator.build([(True, "a", -1, -1, "rwm"), (False, "b", 8, 0, "w")])
    assert Emulator.from_list("c 1:3 rwm\n").transition(target) == [
        (True, "a *:* rwm"), (False, "b 8:0 w")]


def test_rule_string():
    assert rule_string("c", -1, -1, "m") == "c *:* m"
    assert rule_string("b", 8, -1, "rw") == "b 8:* rw"
