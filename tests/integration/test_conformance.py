"""The conformance suite (conformance/) as part of the test run: no case where runc
passes and we fail, and none of ours failing at all."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.bundle import is_runc, runtime_binary

REPO = Path(__file__).resolve().parents[2]


def test_conformance_against_runc():
    runc = shutil.which("runc")
    if not runc:
        pytest.fail("runc is missing (apt-get install runc): it is the reference")
    if is_runc():
        pytest.fail("run this with AGENTSH_TEST_RUNTIME pointing at agentsh-runtime")
    out = subprocess.run(
        [sys.executable, "-m", "conformance.run", "--json", "--runtime", runtime_binary(),
         "--runtime", runc], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert out.stdout, out.stderr
    report = json.loads(out.stdout)
    assert report["runc_pass_other_fail"] == [], report["runc_pass_other_fail"]
    ours = report["runtimes"][0]["label"]
    bad = [(c["id"], c["results"][ours]) for c in report["cases"]
           if c["results"][ours]["outcome"] not in ("PASS", "n/a")]
    assert not bad, bad
    assert report["counts"][ours]["PASS"] >= 100
