"""dlt-dagster-evals: discover cases -> render -> check -> materialize -> assert -> report.

Fast mode (the default) runs every `dg` command in a fork of a warm process and cases in
parallel; --faithful runs the real `dg` executable per command, one case at a time, as a
user would. Both run the same cases through the same stages.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from dataclasses import replace
from pathlib import Path

from evals import changed, report, scenarios, shards, snippets, troubleshooting
from evals.cases import CASES_DIR, Case, CaseError, discover
from evals.commands import DEFAULT_MAX_FILE_BYTES
from evals.project import clean_env
from evals.runner import CaseResult, Interrupted, run_cases
from evals.skill import templating


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="dlt-dagster-evals", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-k", dest="select", help="run only cases whose name contains this")
    parser.add_argument("--faithful", action="store_true", help="run the real dg CLI per command")
    parser.add_argument(
        "--jobs", type=int, help="cases to run at once (default: the CPU count; 1 with --faithful)"
    )
    parser.add_argument("--timeout", type=float, help="seconds per case, overriding each case's own")
    parser.add_argument("--cases", type=Path, default=CASES_DIR, help="folder of case YAML files")
    parser.add_argument("--templates", type=Path, default=templating.TEMPLATES_DIR, help="templates folder")
    parser.add_argument("--json", type=Path, dest="json_path", help="write a JSON report here")
    parser.add_argument("--junit", type=Path, help="write a JUnit XML report here")
    parser.add_argument(
        "--summary", type=Path, help="write a Markdown summary here (also to $GITHUB_STEP_SUMMARY when set)"
    )
    parser.add_argument("--keep", action="store_true", help="keep each case's temp folder")
    parser.add_argument(
        "--no-docs", action="store_true", help="skip the code blocks of SKILL.md and references/*.md"
    )
    parser.add_argument("--no-scenarios", action="store_true", help="skip the scenario evals")
    parser.add_argument(
        "--changed-since",
        metavar="REF",
        help="run only what the changes between REF and the work tree can affect (evals/changed.py)",
    )
    parser.add_argument(
        "--shard", type=_shard, metavar="K/N", help="run part K of N, balanced by recorded durations"
    )
    parser.add_argument(
        "--agent-cmd",
        help="run this coding agent on each scenario ({prompt} and {workdir} are filled in), "
        "with and without the skill, and grade its project; skipped when not given",
    )
    parser.add_argument(
        "--max-file-mb",
        type=int,
        default=DEFAULT_MAX_FILE_BYTES >> 20,
        help="largest file a case's commands may write, in MiB (default %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.max_file_mb < 1:
        parser.error("--max-file-mb must be at least 1")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.timeout is not None and args.timeout <= 0:
        parser.error("--timeout must be positive")
    return args


def _shard(text: str) -> shards.Shard:
    try:
        return shards.parse(text)
    except shards.ShardError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


class Progress:
    """Prints 'started' and 'finished' lines with done/total counts, thread-safely."""

    def __init__(self, total: int):
        self.total, self.done, self.lock = total, 0, threading.Lock()

    def started(self, case: Case) -> None:
        with self.lock:
            print(f"[{self.done:>3}/{self.total}] running {case.name}", flush=True)

    def finished(self, result: CaseResult) -> None:
        with self.lock:
            self.done += 1
            print(f"[{self.done:>3}/{self.total}] {report.result_line(result)}", flush=True)


def write_reports(args: argparse.Namespace, results: list[CaseResult]) -> None:
    if args.json_path:
        report.write(args.json_path, report.json_report(results) + "\n")
    if args.junit:
        report.write(args.junit, report.junit_report(results) + "\n")
    summary = report.markdown_summary(results)
    if args.summary:
        report.write(args.summary, summary)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:
            handle.write(summary)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cases = discover(args.cases, args.select)
        docs = None if args.no_docs else snippets.plan()
    except CaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.agent_cmd:
        return run_agent_scenarios(args)
    if docs is not None:
        cases += [c for c in docs.cases if not args.select or args.select in c.name]
    if not args.no_scenarios:
        cases += [c for c in scenarios.load_cases() if not args.select or args.select in c.name]
    try:
        if args.changed_since:
            cases, docs = changed.apply(args.changed_since, cases, docs)
        if args.shard:
            durations = shards.load_durations()
            chosen = shards.pick(cases, args.shard, durations)
            print(shards.describe(cases, chosen, args.shard, durations), flush=True)
            cases = chosen
    except (changed.ChangeError, shards.ShardError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not cases and not (args.changed_since or args.shard):
        where = f"{args.cases}" + (f" matching {args.select!r}" if args.select else "")
        print(f"error: no cases found in {where}", file=sys.stderr)
        return 2
    if args.timeout is not None:
        cases = [replace(case, timeout=args.timeout) for case in cases]
    jobs = args.jobs or (1 if args.faithful else os.cpu_count() or 1)
    mode = "faithful (real dg CLI per command)" if args.faithful else "fast (warm forks)"
    print(f"running {len(cases)} case(s), {jobs} at a time, {mode}", flush=True)
    progress = Progress(len(cases))
    try:
        results = run_cases(
            cases,
            templates_dir=args.templates,
            keep=args.keep,
            jobs=jobs,
            faithful=args.faithful,
            on_start=progress.started,
            on_result=progress.finished,
            max_file_bytes=args.max_file_mb << 20,
        )
    except Interrupted as interrupted:
        print(f"\ninterrupted: {len(interrupted.results)} of {len(cases)} case(s) finished", file=sys.stderr)
        print(report.text_report(interrupted.results))
        write_reports(args, interrupted.results)
        return 130
    print()
    print(report.text_report(results))
    write_reports(args, results)
    docs_ok = True
    if docs is not None:
        # with shards, schema checks run in shard 1 only, like a case: never twice
        check = not args.select and (args.shard is None or args.shard.index == 1)
        docs_ok = doc_coverage(docs, results, check_schemas=check)
    return 0 if all(r.passed for r in results) and docs_ok else 1


def run_agent_scenarios(args: argparse.Namespace) -> int:
    from evals.agent_runner import run_agents

    chosen = [c for c in scenarios.load_cases() if not args.select or args.select in c.name]
    print(f"running the agent on {len(chosen)} scenario(s), with and without the skill", flush=True)
    results = run_agents(chosen, args.agent_cmd)
    if args.json_path:
        report.write(args.json_path, json.dumps([vars(r) for r in results], indent=2) + "\n")
    with_skill = [r for r in results if r.with_skill]
    print(
        f"\nwith the skill: {sum(r.passed for r in with_skill)}/{len(with_skill)} passed; "
        f"without: {sum(r.passed for r in results if not r.with_skill)}/{len(with_skill)}"
    )
    return 0 if all(r.passed for r in with_skill) else 1


def doc_coverage(docs: snippets.Plan, results: list[CaseResult], check_schemas: bool) -> bool:
    """Account for every doc block: executed (its case passed), schema-checked, skipped or failed."""
    for result in results:
        blocks = docs.blocks_by_case.get(result.name)
        if blocks is None:
            continue
        if result.passed:
            docs.coverage.executed += blocks
        else:
            docs.coverage.failed.append((str(result.path), f"{result.stage}: {result.message}"))
    if check_schemas:
        snippets.check_schemas(docs, clean_env())
    print()
    print(snippets.coverage_report(docs.coverage))
    print(troubleshooting.coverage_line(docs, {r.name for r in results if r.passed}))
    return not docs.coverage.failed


if __name__ == "__main__":
    sys.exit(main())
