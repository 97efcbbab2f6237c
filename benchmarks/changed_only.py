"""Benchmark: a change to one paragraph and one example of one reference, validated with
--changed-since, against the full eval run, in one run of this script.

    uv run python benchmarks/changed_only.py [--reference references/NAME.md ...] [--jobs N]

It runs the whole suite (fast mode) in a clone of HEAD; then, for each reference that has
doc cases (or each --reference), makes another clone, appends a sentence to the first
prose paragraph of that reference and a comment line to its first Python block of a doc
case, and runs `--changed-since HEAD` there (which runs that block's case, and the case
that fixes it where it shows an error). (Clones, so that
edits in this checkout during the run neither trip the evals' stray-write guard nor count.) Each pass is a
fresh `python -m evals.cli` process, so its wall time includes everything a pull request
waits for (interpreter start, warm-up, the schema checks of the changed file). It prints
each reference's changed-only time / full time, then `changed-only ratio R` (the median
reference) and the worst one. Target (issue 19): R <= 0.20. Not a test: it prints.
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
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_pass(label: str, cwd: Path, extra: list[str], report_path: Path) -> tuple[float, dict, str]:
    print(f"{label} ...", flush=True)
    args = [sys.executable, "-m", "evals.cli", "--json", str(report_path), *extra]
    start = time.monotonic()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if not report_path.exists():
        sys.exit(
            f"{label} wrote no report (exit {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    report = json.loads(report_path.read_text())
    print(f"  {seconds:7.1f}s  {report['passed']} passed, {report['failed']} failed", flush=True)
    return seconds, report, done.stdout


def references_with_cases() -> Counter:
    sys.path.insert(0, str(ROOT))
    from evals import snippets

    return Counter(
        blocks[0].doc.relative_to(ROOT).as_posix() for blocks in snippets.plan().blocks_by_case.values()
    )


HEAD = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def clone_of_head(target: Path) -> Path:
    """A clone of the commit this run started at (every pass measures the same content)."""
    subprocess.run(
        ["git", "clone", "--quiet", "--shared", "--no-checkout", str(ROOT), str(target)], check=True
    )
    subprocess.run(["git", "checkout", "--quiet", HEAD], cwd=target, check=True)
    return target


def edit_paragraph_and_block(path: Path) -> None:
    """Append a sentence to the first prose paragraph (not a heading, list, marker or code) and
    a comment line to the first Python block of a doc case: a change to one example."""
    from evals import snippets

    text = path.read_text(encoding="utf-8")
    paragraph = next((p for p in text.split("\n\n") if p[:1].isalpha()), None)
    block = next(
        (b for b in snippets.extract(path) if b.lang == "python" and b.marker and "group" in b.marker), None
    )
    if paragraph is None or block is None:
        sys.exit(f"{path}: no prose paragraph or Python doc block to edit")
    text = text.replace(paragraph, paragraph + " (Edited.)", 1)
    path.write_text(text.replace(block.text, block.text + "# (edited)\n", 1), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--reference", action="append", help="a Markdown file to edit (default: each with doc cases)"
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--full-report", type=Path, help="keep the full pass's JSON report here")
    args = parser.parse_args()
    counts = references_with_cases()
    references = args.reference or sorted(counts)
    jobs = ["--jobs", str(args.jobs)]
    print(f"fast mode with {args.jobs} jobs on {os.cpu_count()} CPUs, commit {HEAD[:12]}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="dlt-dagster-bench-changed-") as scratch:
        scratch_dir = Path(scratch)
        full_report = args.full_report or scratch_dir / "full.json"
        full_s, full, _ = run_pass("full suite", clone_of_head(scratch_dir / "full"), jobs, full_report)
        for number, reference in enumerate(references):
            clone = clone_of_head(scratch_dir / f"clone{number}")
            edit_paragraph_and_block(clone / reference)
            seconds, report, _ = run_pass(
                f"changed-only: a paragraph and a block of {reference}",
                clone,
                [*jobs, "--changed-since", "HEAD"],
                scratch_dir / f"changed{number}.json",
            )
            rows.append((seconds / full_s, seconds, reference, report))
    print()
    print(f"full            {full_s:8.1f}s   {len(full['cases'])} cases, {full['failed']} failed")
    for ratio, seconds, reference, report in rows:
        print(f"  {reference:<40} {seconds:6.1f}s  {len(report['cases']):>2} cases  ratio {ratio:.3f}")
    ratios = sorted(row[0] for row in rows)
    worst = max(rows)
    print(f"changed-only ratio {statistics.median(ratios):.3f}  (median reference; target <= 0.20)")
    print(f"worst reference  {worst[0]:.3f}  ({worst[2]}, {len(worst[3]['cases'])} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
