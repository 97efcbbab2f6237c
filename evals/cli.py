"""dlt-dagster-evals: discover cases -> render -> check -> materialize -> assert -> report.

Fast mode (the default) runs every `dg` command in a fork of a warm process and cases in
parallel; --faithful runs the real `dg` executable per command, one case at a time, as a
user would. Both run the same cases through the same stages.

Subcommands (`dlt-dagster-evals NAME --help` for each; without one, the evals run):
  run          the evals (the default)
  walkthrough  SKILL.md's quick start, command by command as written (evals/walkthrough.py)
  matrix       the evals with an older set of versions (evals/matrix.py)
  bench        a benchmark of benchmarks/ (default fast_vs_faithful)
  summary      Markdown of pytest's JUnit XML and the walkthrough's JSON, for CI
  shards       record case durations, or merge the reports of shards (evals/shards.py)
  links        every relative Markdown link under a folder resolves
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from evals import changed, report, scenarios, shards, snippets, troubleshooting
from evals.cases import CASES_DIR, Case, CaseError, discover
from evals.commands import DEFAULT_MAX_FILE_BYTES
from evals.options import RunOptions
from evals.runner import CaseResult, Interrupted, run_cases
from evals.selection import Selection, select
from evals.skill import SKILL_ROOT, templating


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="dlt-dagster-evals [run]",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-k", dest="select", help="run only cases whose name contains this")
    parser.add_argument(
        "--skip", action="append", default=[], metavar="NAME", help="leave out the case of this exact name"
    )
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
    summary = report.write_reports(results, args.json_path, args.junit, args.summary)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:
            handle.write(summary)


def run_options(args: argparse.Namespace) -> RunOptions:
    """The run's options, chosen once from the command line."""
    return RunOptions(
        faithful=args.faithful,
        jobs=args.jobs or (1 if args.faithful else os.cpu_count() or 1),
        timeout=args.timeout,
        keep=args.keep,
        max_file_bytes=args.max_file_mb << 20,
        templates_dir=args.templates,
    )


def bench(argv: list[str]) -> int:
    """Run benchmarks/NAME.py (default fast_vs_faithful) with the remaining arguments."""
    import runpy

    name = argv[0] if argv and not argv[0].startswith("-") else "fast_vs_faithful"
    rest = argv[1:] if argv and argv[0] == name else argv
    script = SKILL_ROOT / "benchmarks" / f"{name}.py"
    if not script.is_file():
        known = ", ".join(sorted(p.stem for p in script.parent.glob("*.py")))
        print(f"error: no benchmark {name!r} (known: {known})", file=sys.stderr)
        return 2
    saved = sys.argv
    sys.argv = [str(script), *rest]
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.argv = saved
    return 0


def _subcommands() -> dict[str, Callable[[list[str]], int]]:
    from evals import matrix, shards, walkthrough
    from evals.tools import ci_summary, links

    return {
        "run": run,
        "walkthrough": walkthrough.main,
        "matrix": matrix.main,
        "bench": bench,
        "summary": ci_summary.main,
        "shards": shards.main,
        "links": links.main,
    }


def main(argv: list[str] | None = None) -> int:
    """`dlt-dagster-evals [SUBCOMMAND] ...`: without a subcommand, the evals run."""
    argv = list(sys.argv[1:] if argv is None else argv)
    subcommands = _subcommands()
    if argv and argv[0] in subcommands:
        return subcommands[argv[0]](argv[1:])
    return run(argv)


def run(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    selection = Selection(name_contains=args.select, skipped=frozenset(args.skip))
    try:
        cases = discover(args.cases)
        docs = None if args.no_docs else snippets.plan()
    except CaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.agent_cmd:
        return run_agent_scenarios(args, selection)
    if docs is not None:
        cases += docs.cases
    if not args.no_scenarios:
        cases += scenarios.load_cases()
    cases = select(cases, selection)
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
        print(f"error: no cases found in {args.cases}{selection.describe()}", file=sys.stderr)
        return 2
    options = run_options(args)
    mode = "faithful (real dg CLI per command)" if options.faithful else "fast (warm forks)"
    print(f"running {len(cases)} case(s), {options.jobs} at a time, {mode}", flush=True)
    progress = Progress(len(cases))
    try:
        results = run_cases(cases, options, on_start=progress.started, on_result=progress.finished)
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
        coverage = snippets.account(docs, results, check_schemas_too=check)
        print()
        print(snippets.coverage_report(coverage))
        print(troubleshooting.coverage_line(docs, {r.name for r in results if r.passed}))
        docs_ok = not coverage.failed
    return 0 if all(r.passed for r in results) and docs_ok else 1


def run_agent_scenarios(args: argparse.Namespace, selection: Selection) -> int:
    from evals.agent_runner import run_agents

    chosen = select(scenarios.load_cases(), selection)
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


if __name__ == "__main__":
    sys.exit(main())
