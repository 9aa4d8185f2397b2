"""Run the conformance cases against one or more runtimes, side by side.

    .venv/bin/python -m conformance.run [--runtime PATH ...] [--only PATTERN] [--json]

Default runtimes: this repository's .venv/bin/agentsh-runtime and `runc` from PATH.
Exit status: 0 when no case passes on runc and fails (or errors) on another
runtime; 1 otherwise.  With runc alone: 0 when nothing FAILs or ERRORs.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from conformance import (  # noqa: F401 - imported for their @case registrations
    cases_cgroups,
    cases_hooks,
    cases_lifecycle,
    cases_linux,
    cases_mounts,
    cases_namespaces,
    cases_process,
    cases_seccomp,
)
from conformance.framework import (
    CASES,
    Case,
    Ctx,
    Fail,
    NotApplicable,
    RuntimeUnderTest,
    probe_runtime,
    short,
)
from tests.support import reaper
from tests.support.bundle import DEFAULT_RUNTIME
from tests.support.rootfs import cached_busybox_rootfs

PASS, FAIL, ERROR, NA = "PASS", "FAIL", "ERROR", "n/a"


def run_case(c: Case, rut: RuntimeUnderTest, base: Path) -> dict[str, object]:
    ctx = Ctx(rut, base / rut.label / c.id, c.id)
    t0 = time.monotonic()
    outcome, reason = PASS, ""
    try:
        c.func(ctx)
    except NotApplicable as e:
        outcome, reason = NA, str(e)
    except (Fail, AssertionError) as e:
        outcome, reason = FAIL, str(e) or "assertion failed"
    except Exception as e:  # noqa: BLE001 - every other exception is an ERROR cell
        outcome, reason = ERROR, f"{type(e).__name__}: {e}"
        if os.environ.get("CONFORMANCE_DEBUG"):
            traceback.print_exc()
    try:
        leaks = ctx.finish()
    except Exception as e:  # noqa: BLE001
        leaks = [f"cleanup error {type(e).__name__}: {e}"]
    if leaks and outcome == PASS:
        outcome, reason = FAIL, "leak: " + "; ".join(leaks)
    elif leaks:
        reason += " [leak: " + "; ".join(leaks) + "]"
    reaper.reap_orphans()
    return {"outcome": outcome, "reason": reason, "seconds": round(time.monotonic() - t0, 3)}


def cell(r: dict[str, object], width: int) -> str:
    o = str(r["outcome"])
    if o == PASS:
        return PASS
    text = f"{o} ({r['reason']})" if r["reason"] else o
    return short(text, width)


def print_table(cases: list[Case], ruts: list[RuntimeUnderTest],
                results: dict[str, dict[str, dict[str, object]]], wide: bool) -> None:
    idw = max(len("case"), *(len(c.id) for c in cases))
    mustw = max(len(c.must) for c in cases) if wide else 60
    colw = 34
    if wide:
        colw = max(len(cell(results[c.id][r.label], 10_000)) for c in cases for r in ruts)
    head = f"{'case':<{idw}}  {'spec MUST':<{mustw}}  " + "  ".join(
        f"{r.label:<{colw}}" for r in ruts)
    print(head.rstrip())
    print("-" * min(len(head.rstrip()), 250))
    for c in cases:
        row = f"{c.id:<{idw}}  {short(c.must, mustw):<{mustw}}  " + "  ".join(
            f"{cell(results[c.id][r.label], colw):<{colw}}" for r in ruts)
        print(row.rstrip())


def counts(ruts: list[RuntimeUnderTest], results: dict[str, dict[str, dict[str, object]]],
           ) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in ruts:
        n = {PASS: 0, FAIL: 0, ERROR: 0, NA: 0}
        for res in results.values():
            n[str(res[r.label]["outcome"])] += 1
        out[r.label] = n
    return out


def regressions(ruts: list[RuntimeUnderTest],
                results: dict[str, dict[str, dict[str, object]]]) -> list[tuple[str, str]]:
    """(case, runtime) where runc passes and that other runtime fails or errors."""
    refs = [r for r in ruts if r.is_runc]
    if not refs:
        return []
    ref = refs[0]
    bad = []
    for cid, row in results.items():
        if row[ref.label]["outcome"] != PASS:
            continue
        for r in ruts:
            if r is not ref and row[r.label]["outcome"] in (FAIL, ERROR):
                bad.append((cid, r.label))
    return bad


def labels_for(binaries: list[str]) -> list[str]:
    labels: list[str] = []
    for b in binaries:
        base = Path(b).name
        label, i = base, 2
        while label in labels:
            label, i = f"{base}#{i}", i + 1
        labels.append(label)
    return labels


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m conformance.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runtime", action="append", metavar="PATH",
                    help="runtime binary (repeatable); default: ours and runc")
    ap.add_argument("--only", action="append", metavar="PATTERN",
                    help="case ids to run: a glob (lifecycle.*) or a substring (repeatable)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--wide", action="store_true", help="do not shorten the table cells")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args(argv)

    cases = list(CASES)
    if args.only:
        def wanted(c: Case) -> bool:
            for pat in args.only:
                if any(ch in pat for ch in "*?[") and fnmatch.fnmatchcase(c.id, pat):
                    return True
                if pat in c.id:
                    return True
            return False
        cases = [c for c in cases if wanted(c)]
    if args.list:
        for c in cases:
            print(f"{c.id:<40} {c.spec:<36} {c.must}")
        print(f"{len(cases)} cases")
        return 0
    if not cases:
        print("no case matches", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("the conformance cases need root", file=sys.stderr)
        return 2

    binaries = args.runtime or [str(DEFAULT_RUNTIME), shutil.which("runc") or "runc"]
    binaries = [shutil.which(b) or b for b in binaries]
    missing = [b for b in binaries if not os.access(b, os.X_OK)]
    if missing:
        print(f"not executable: {missing}", file=sys.stderr)
        return 2
    ruts = [probe_runtime(b, lab) for b, lab in zip(binaries, labels_for(binaries), strict=True)]

    cached_busybox_rootfs()
    reaper.install()
    base = Path(tempfile.mkdtemp(prefix="agentsh-conformance-"))
    base.chmod(0o755)  # user-namespace cases: the mapped root must reach the rootfs
    results: dict[str, dict[str, dict[str, object]]] = {}
    t0 = time.monotonic()
    try:
        for c in cases:
            results[c.id] = {}
            for r in ruts:
                results[c.id][r.label] = run_case(c, r, base)
            if not args.json and os.environ.get("CONFORMANCE_PROGRESS"):
                print(c.id, {k: v["outcome"] for k, v in results[c.id].items()},
                      file=sys.stderr)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    elapsed = time.monotonic() - t0
    reaper.reap_orphans(all_children=True)

    n = counts(ruts, results)
    bad = regressions(ruts, results)
    if args.json:
        doc = {
            "runtimes": [{"label": r.label, "binary": r.binary, "runc": r.is_runc,
                          "version": r.version.splitlines()[:1]} for r in ruts],
            "cases": [{"id": c.id, "must": c.must, "spec": c.spec,
                       "results": results[c.id]} for c in cases],
            "counts": n,
            "runc_pass_other_fail": [{"case": a, "runtime": b} for a, b in bad],
            "seconds": round(elapsed, 1),
        }
        print(json.dumps(doc, indent=2))
    else:
        print_table(cases, ruts, results, args.wide)
        print()
        for r in ruts:
            c = n[r.label]
            print(f"{r.label}: {c[PASS]} pass, {c[FAIL]} fail, {c[ERROR]} error, "
                  f"{c[NA]} n/a  ({len(cases)} cases)")
        if bad:
            print(f"runc passes but another runtime does not: {len(bad)} case(s)")
            for a, b in bad:
                print(f"  {a}: {b}")
        print(f"time: {elapsed:.1f}s")
    if any(r.is_runc for r in ruts) and len(ruts) > 1:
        return 1 if bad else 0
    return 1 if any(n[r.label][FAIL] + n[r.label][ERROR] for r in ruts) else 0


if __name__ == "__main__":
    sys.exit(main())
