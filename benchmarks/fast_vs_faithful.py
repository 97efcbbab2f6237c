"""Benchmark: the same eval cases in faithful and fast mode, in one run.

    uv run python benchmarks/fast_vs_faithful.py [-k NAME] [--jobs N]

Each pass is a fresh `python -m evals.cli` process, so its wall time includes everything a
user waits for (interpreter start, fast mode's warm-up). It prints wall time per mode, the
fast/faithful ratio, per-stage medians, and how close fast mode comes to its floor: one
import of dagster/dg/dlt (the warm-up) plus the in-process work of every case (the sum of
case times in a one-at-a-time fast pass) divided by the cores used.
Targets (issue 7): ratio >= 10 and fast <= 1.5 x floor. Not a test: it prints, it does not
assert, so a loaded machine cannot make CI flaky.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evals.cases import Stage

ROOT = Path(__file__).resolve().parent.parent


def run_pass(label: str, extra: list[str], select: str | None) -> tuple[float, dict]:
    print(f"{label} ...", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "report.json"
        args = [sys.executable, "-m", "evals.cli", "--json", str(report_path), *extra]
        if select:
            args += ["-k", select]
        start = time.monotonic()
        done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
        seconds = time.monotonic() - start
        if not report_path.exists():
            output = done.stdout[-3000:] + done.stderr[-3000:]
            sys.exit(f"{label} wrote no report (exit {done.returncode}):\n{output}")
        report = json.loads(report_path.read_text())
    print(f"  {seconds:7.1f}s  {report['passed']} passed, {report['failed']} failed")
    return seconds, report


def import_seconds() -> float:
    code = "import dagster, dagster_dg_cli.cli, dagster_dlt, dlt, duckdb"
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.monotonic() - start


def stage_medians(report: dict) -> str:
    parts = []
    for stage in Stage:
        values = [c["stage_seconds"][stage] for c in report["cases"] if stage in c["stage_seconds"]]
        if values:
            parts.append(f"{stage} {statistics.median(values):.2f}s")
    return ", ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-k", dest="select")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    print(f"fast mode with {args.jobs} jobs on {os.cpu_count()} CPUs")

    warm = import_seconds()
    faithful_s, faithful = run_pass(
        "faithful (real dg per command, 1 at a time)", ["--faithful"], args.select
    )
    _, serial = run_pass("fast, 1 at a time (measures in-process work)", ["--jobs", "1"], args.select)
    fast_s, fast = run_pass(f"fast, {args.jobs} at a time", ["--jobs", str(args.jobs)], args.select)

    work = sum(c["seconds"] for c in serial["cases"])
    floor = warm + work / args.jobs
    fast_by_name = {c["name"]: c for c in fast["cases"]}
    faithful_by_name = {c["name"]: c for c in faithful["cases"]}
    disagree = [
        name
        for name, case in faithful_by_name.items()
        if (case["passed"], case["stage"]) != (fast_by_name[name]["passed"], fast_by_name[name]["stage"])
    ]
    print()
    print(f"cases           {len(fast['cases'])}")
    print(f"faithful        {faithful_s:8.1f}s   per-stage medians: {stage_medians(faithful)}")
    print(f"fast            {fast_s:8.1f}s   per-stage medians: {stage_medians(fast)}")
    print(f"ratio           {faithful_s / fast_s:8.1f}x  (target >= 10)")
    print(f"floor           {floor:8.1f}s   = import {warm:.1f}s + work {work:.1f}s / {args.jobs}")
    print(f"fast / floor    {fast_s / floor:8.2f}   (target <= 1.5)")
    print(f"mode agreement  {'all cases agree' if not disagree else 'DISAGREE: ' + ', '.join(disagree)}")
    for name in disagree:
        for label, case in (("faithful", faithful_by_name[name]), ("fast", fast_by_name[name])):
            verdict = "pass" if case["passed"] else "FAIL"
            print(f"  {name} {label}: {verdict} at {case['stage']}: {case['message'][:300]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
