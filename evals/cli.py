"""dlt-dagster-evals: discover cases -> render -> check -> materialize -> assert -> report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evals import report
from evals.cases import CASES_DIR, CaseError, discover
from evals.runner import run_cases
from evals.skill import templating


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dlt-dagster-evals", description=__doc__)
    parser.add_argument("-k", dest="select", help="run only cases whose name contains this")
    parser.add_argument("--cases", type=Path, default=CASES_DIR, help="folder of case YAML files")
    parser.add_argument("--templates", type=Path, default=templating.TEMPLATES_DIR, help="templates folder")
    parser.add_argument("--json", type=Path, dest="json_path", help="also write a JSON report here")
    parser.add_argument("--jobs", type=int, default=1, help="cases to run at once (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep each case's temp folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cases = discover(args.cases, args.select)
    except CaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not cases:
        print(
            f"error: no cases found in {args.cases}" + (f" matching {args.select!r}" if args.select else ""),
            file=sys.stderr,
        )
        return 2
    print(f"running {len(cases)} case(s)", flush=True)
    results = run_cases(
        cases,
        templates_dir=args.templates,
        keep=args.keep,
        jobs=args.jobs,
        on_result=lambda r: print(report.result_line(r), flush=True),
    )
    print()
    print(report.text_report(results))
    if args.json_path:
        report.write_json(results, args.json_path)
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
