"""--shard K/N: split the cases into N deterministic, balanced parts, and merge their reports.

Balance comes from recorded durations (evals/durations.json: case name -> seconds of a
fast-mode run, refreshed from a run's JSON report with `record`). A case with no recorded
duration is weighed by its expected cost (Case.expected_cost: launches, a fresh
environment) times the median seconds per cost unit of the recorded ones; with nothing
recorded, by expected cost alone. Cases go, longest first, to the part with the least total
(ties: the lower K), so every shard computes the same split from the same case list.

    dlt-dagster-evals shards record REPORT.json [...]      update evals/durations.json
    dlt-dagster-evals shards merge --shards N REPORT.json ... [--junit X] [--summary MD]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from evals.cases import Case

DURATIONS = Path(__file__).parent / "durations.json"


class ShardError(Exception):
    """A bad --shard value or report set; the message says what."""


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse(text: str) -> Shard:
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match:
        raise ShardError(f"--shard must look like K/N (e.g. 1/2), not {text!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise ShardError(f"--shard {text}: K must be between 1 and N, N at least 1")
    return Shard(index, count)


def load_durations(path: Path = DURATIONS) -> dict[str, float]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ShardError(f"{path}: cannot read recorded durations: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, int | float) for v in data.values()):
        raise ShardError(f"{path}: expected an object of case name -> seconds")
    return {str(name): float(seconds) for name, seconds in data.items()}


def weights(cases: list[Case], durations: dict[str, float]) -> dict[str, float]:
    """Seconds to expect per case: recorded, else estimated from its cost (see module doc)."""

    def cost(case: Case) -> float:
        return float(case.expected_cost or 1)

    ratios = [durations[c.name] / cost(c) for c in cases if c.name in durations]
    per_cost = statistics.median(ratios) if ratios else 1.0
    return {c.name: durations.get(c.name, cost(c) * per_cost) for c in cases}


def split(cases: list[Case], count: int, durations: dict[str, float]) -> list[list[Case]]:
    """All cases in `count` parts; each part keeps the cases' original order."""
    weight = weights(cases, durations)
    order = sorted(range(len(cases)), key=lambda i: (-weight[cases[i].name], cases[i].name))
    totals = [0.0] * count
    part_of: dict[int, int] = {}
    for i in order:
        part = min(range(count), key=lambda p: (totals[p], p))
        part_of[i] = part
        totals[part] += weight[cases[i].name]
    return [[c for i, c in enumerate(cases) if part_of[i] == p] for p in range(count)]


def pick(cases: list[Case], shard: Shard, durations: dict[str, float] | None = None) -> list[Case]:
    durations = load_durations() if durations is None else durations
    return split(cases, shard.count, durations)[shard.index - 1]


def describe(cases: list[Case], chosen: list[Case], shard: Shard, durations: dict[str, float]) -> str:
    weight = weights(cases, durations)
    recorded = sum(c.name in durations for c in cases)
    basis = (
        f"recorded durations for {recorded} of {len(cases)} case(s)"
        if recorded
        else "no recorded durations: expected cost (launches, fresh environments)"
    )
    expected = sum(weight[c.name] for c in chosen)
    return f"shard {shard}: {len(chosen)} of {len(cases)} case(s), ~{expected:.0f}s expected ({basis})"


def record(reports: list[Path], path: Path = DURATIONS) -> dict[str, float]:
    """Merge the case times of fast-mode JSON reports into the recorded durations."""
    durations = load_durations(path)
    for report in reports:
        for case in json.loads(report.read_text(encoding="utf-8"))["cases"]:
            if case["passed"]:  # a failed case stops early: its time says little
                durations[case["name"]] = round(case["seconds"], 1)
    path.write_text(json.dumps(dict(sorted(durations.items())), indent=2) + "\n", encoding="utf-8")
    return durations


def merge(reports: list[Path], count: int) -> list[dict]:
    """The case entries of N shard reports as one list; refuses a missing shard or a case
    reported twice."""
    if len(reports) != count:
        names = ", ".join(str(r) for r in reports) or "none"
        raise ShardError(f"expected {count} shard report(s), found {len(reports)}: {names}")
    cases, seen = [], {}
    for report in reports:
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ShardError(f"{report}: unreadable shard report: {exc}") from exc
        for case in data["cases"]:
            if case["name"] in seen:
                raise ShardError(f"case {case['name']} ran twice: in {seen[case['name']]} and {report}")
            seen[case["name"]] = report
            cases.append(case)
    return cases


def _results(cases: list[dict]):
    from evals.runner import CaseResult

    return [
        CaseResult(
            name=c["name"],
            path=Path(c["case_file"]),
            passed=c["passed"],
            stage=c["stage"],
            message=c["message"],
            output=c["output"],
            seconds=c["seconds"],
            stage_seconds=c["stage_seconds"],
        )
        for c in cases
    ]


def main(argv: list[str] | None = None) -> int:
    from evals import report

    parser = argparse.ArgumentParser(prog="dlt-dagster-evals shards", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record", help="update evals/durations.json from JSON reports")
    rec.add_argument("reports", type=Path, nargs="+")
    mer = commands.add_parser("merge", help="merge shard JSON reports into one JUnit/Markdown report")
    mer.add_argument("reports", type=Path, nargs="*")
    mer.add_argument("--shards", type=int, required=True, help="how many shards ran")
    mer.add_argument("--junit", type=Path)
    mer.add_argument("--summary", type=Path)
    mer.add_argument("--json", type=Path, dest="json_path")
    args = parser.parse_args(argv)
    if args.command == "record":
        durations = record(args.reports)
        print(f"{DURATIONS}: {len(durations)} case duration(s)")
        return 0
    try:
        results = _results(merge(args.reports, args.shards))
    except ShardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.write_reports(results, args.json_path, args.junit, args.summary))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
