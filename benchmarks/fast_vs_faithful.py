"""Benchmark: the same eval cases in faithful and fast mode, in one run.

    uv run python benchmarks/fast_vs_faithful.py [-k NAME] [--jobs N]

Prints wall time per mode, the fast/faithful ratio, per-stage medians, and how close fast
mode comes to its floor: one import of dagster/dg/dlt (the warm-up) plus the in-process
work of every case (measured by a one-at-a-time fast pass) divided by the cores used.
Targets (issue 7): ratio >= 10 and fast <= 1.5 x floor. Not a test: it prints, it does not
assert, so a loaded machine cannot make CI flaky.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from evals.cases import discover
from evals.runner import CaseResult, run_cases
from evals.stages import STAGES


def timed(label: str, **kwargs) -> tuple[float, list[CaseResult]]:
    print(f"{label} ...", flush=True)
    start = time.monotonic()
    results = run_cases(**kwargs)
    seconds = time.monotonic() - start
    failed = [r.name for r in results if not r.passed]
    print(f"  {seconds:7.1f}s  {len(results) - len(failed)} passed, {len(failed)} failed {failed or ''}")
    return seconds, results


def import_seconds() -> float:
    code = "import dagster, dagster_dg_cli.cli, dagster_dlt, dlt, duckdb"
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.monotonic() - start


def stage_medians(results: list[CaseResult]) -> str:
    parts = []
    for stage in STAGES:
        values = [r.stage_seconds[stage] for r in results if stage in r.stage_seconds]
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
    cases = discover(select=args.select)
    print(f"{len(cases)} cases, {args.jobs} jobs for fast mode, {os.cpu_count()} CPUs")

    warm = import_seconds()
    faithful_s, faithful = timed("faithful (real dg per command, 1 at a time)", cases=cases, faithful=True)
    serial_s, serial = timed("fast, 1 at a time (measures in-process work)", cases=cases, jobs=1)
    fast_s, fast = timed(f"fast, {args.jobs} at a time", cases=cases, jobs=args.jobs)

    in_process = sum(r.seconds for r in serial)
    floor = warm + in_process / args.jobs
    disagree = [
        a.name for a, b in zip(faithful, fast, strict=True) if (a.passed, a.stage) != (b.passed, b.stage)
    ]
    print()
    print(f"faithful        {faithful_s:8.1f}s   per-stage medians: {stage_medians(faithful)}")
    print(f"fast            {fast_s:8.1f}s   per-stage medians: {stage_medians(fast)}")
    print(f"ratio           {faithful_s / fast_s:8.1f}x  (target >= 10)")
    print(f"floor           {floor:8.1f}s   = import {warm:.1f}s + work {in_process:.1f}s / {args.jobs}")
    print(f"fast / floor    {fast_s / floor:8.2f}   (target <= 1.5)")
    print(f"mode agreement  {'all cases agree' if not disagree else 'DISAGREE: ' + ', '.join(disagree)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
