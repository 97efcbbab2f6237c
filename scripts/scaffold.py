# /// script
# requires-python = ">=3.10"
# dependencies = ["jinja2>=3.1", "pyyaml>=6", "jsonschema>=4", "tomli>=1.1; python_version < '3.11'"]
# ///
"""Write tested dlt-on-Dagster definitions into a Dagster project.

Renders the skill's templates (assets/templates, the same ones its evals run) into the
defs folder of the project at --project-dir (default: the current directory). Run it
with the project's own interpreter (`uv run python scaffold.py ...`: dagster and
dagster-dg-cli bring jinja2, pyyaml and jsonschema) or standalone with `uv run scaffold.py`.

--source-config PATH (YAML or JSON) describes the source in dlt's own vocabulary: a dlt
RESTAPIConfig, or the SQL and filesystem formats of assets/templates/source-config/, with
an optional `dagster:` block for partitions (scripts/source_config.py checks it first).

--source-module MODULE:FUNCTION imports the user's own @dlt.source instead of writing one
(scripts/source_module.py checks it first, reading the file without importing it).

It never overwrites a file unless --force, and then keeps a .bak copy; --dry-run prints
the plan and writes nothing. It writes no secrets: it prints the env vars to set.

Exit codes: 0 written (or planned, with --dry-run); 2 invalid choices; 3 not a Dagster
project; 4 a file exists (use --force); 5 the choice needs something offline use cannot
give (a verified source); 6 the choice belongs to another skill (external compute); 7 this
Python lacks a package the script needs (the line says what to run); 8 a classic code
location's Definitions cannot be edited safely (the lines to add by hand are printed).

In a classic code location ([tool.dagster], workspace.yaml, setup.py) or a bare module that
builds a Definitions, pythonic and asset modules go beside that module and are wired into
its Definitions with one import and one `defs = Definitions.merge(defs, ...)` line (a .bak
copy is kept; --dry-run shows the diff).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from needs import require  # noqa: E402 (the script's own folder, added just above)

require(Path(__file__), {"jinja2": "jinja2", "yaml": "pyyaml", "jsonschema": "jsonschema"})

import classic_scaffold  # noqa: E402
import project_kind  # noqa: E402
import source_config  # noqa: E402
import source_module  # noqa: E402
import templating  # noqa: E402
from dg_project import ProjectError  # noqa: E402

EXIT_INVALID, EXIT_NOT_PROJECT, EXIT_EXISTS, EXIT_NEEDS_NETWORK, EXIT_OTHER_SKILL = 2, 3, 4, 5, 6
EXIT_CANNOT_WIRE = 8
CORE_SOURCES = ("custom", "rest_api", "sql_database", "filesystem")

# Env vars the generated code reads for a destination (a source's come from source_config.py).
DESTINATION_ENV = {
    "duckdb": [],
    "motherduck": ["DESTINATION__MOTHERDUCK__CREDENTIALS"],
    "postgres": ["DESTINATION__POSTGRES__CREDENTIALS"],
    "snowflake": [
        "DESTINATION__SNOWFLAKE__CREDENTIALS__DATABASE",
        "DESTINATION__SNOWFLAKE__CREDENTIALS__USERNAME",
        "DESTINATION__SNOWFLAKE__CREDENTIALS__PASSWORD",
        "DESTINATION__SNOWFLAKE__CREDENTIALS__HOST",
        "DESTINATION__SNOWFLAKE__CREDENTIALS__WAREHOUSE",
        "DESTINATION__SNOWFLAKE__CREDENTIALS__ROLE",
    ],
    "bigquery": [
        "DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID",
        "DESTINATION__BIGQUERY__CREDENTIALS__PRIVATE_KEY",
        "DESTINATION__BIGQUERY__CREDENTIALS__CLIENT_EMAIL",
    ],
    "redshift": ["DESTINATION__REDSHIFT__CREDENTIALS"],
    "databricks": [
        "DESTINATION__DATABRICKS__CREDENTIALS__SERVER_HOSTNAME",
        "DESTINATION__DATABRICKS__CREDENTIALS__HTTP_PATH",
        "DESTINATION__DATABRICKS__CREDENTIALS__ACCESS_TOKEN",
    ],
    "mssql": ["DESTINATION__MSSQL__CREDENTIALS"],
    "clickhouse": ["DESTINATION__CLICKHOUSE__CREDENTIALS"],
    "filesystem": ["DESTINATION__FILESYSTEM__BUCKET_URL"],
}
GITIGNORE_LINES = (".dlt/secrets.toml", "*.duckdb", "*.duckdb.wal", ".env")


class ScaffoldError(Exception):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


@dataclass
class Plan:
    defs_dir: Path
    writes: list[tuple[Path, str]] = field(default_factory=list)  # (path, text)
    backups: list[Path] = field(default_factory=list)
    env_vars: list[str] = field(default_factory=list)
    gitignore: tuple[Path, str] | None = None
    packages: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the user should know or move
    project: str = ""  # which kind of project was found, and from what
    edits: list[tuple[Path, str]] = field(default_factory=list)  # (existing file, its diff)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scaffold.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--compute",
        choices=("dagster", "external"),
        default="dagster",
        help="dagster: Dagster's run workers run it (default); external: refused, see dagster-expert",
    )
    parser.add_argument(
        "--approach",
        required=True,
        choices=templating.APPROACHES,
        help="component (defs.yaml + loads.py), pythonic (@dlt_assets), asset (one @asset)",
    )
    parser.add_argument("--pipeline-name", required=True, help="dlt pipeline name (a Python identifier)")
    parser.add_argument("--dataset-name", required=True, help="dlt dataset name (a Python identifier)")
    parser.add_argument("--defs-name", help="folder/module under the defs folder (default: pipeline name)")
    parser.add_argument(
        "--source",
        default="custom",
        help="custom, rest_api, sql_database, filesystem, or a verified source name (e.g. github)",
    )
    parser.add_argument(
        "--resources", help="comma-separated resource names (endpoints, tables, CSV prefixes)"
    )
    parser.add_argument(
        "--source-config",
        type=Path,
        metavar="PATH",
        help="YAML or JSON: a dlt RESTAPIConfig, or the sql_database / filesystem format "
        "(assets/templates/source-config/); replaces --source, --resources, --base-url, --incremental-cursor",
    )
    parser.add_argument(
        "--source-module",
        metavar="MODULE:FUNCTION",
        help="your own @dlt.source, importable by the project (e.g. my_project.sources.crm:crm_source)",
    )
    parser.add_argument("--base-url", help="rest_api: the API's base URL")
    parser.add_argument("--destination", default="duckdb", help="dlt destination (default duckdb)")
    parser.add_argument("--duckdb-file", help="duckdb: file path relative to the project root")
    parser.add_argument("--incremental-cursor", help="custom/rest_api: field to load incrementally on")
    parser.add_argument("--initial-value", help="incremental: cursor value for the first run")
    parser.add_argument("--schedule", help="cron expression: adds an asset job and a schedule")
    parser.add_argument(
        "--parallel",
        type=int,
        metavar="N",
        help="one pipeline per resource, run by a job at most N at a time",
    )
    parser.add_argument("--group-name", help="Dagster asset group (default: defs name)")
    parser.add_argument(
        "--project-dir", type=Path, default=Path("."), help="the Dagster project (default: .)"
    )
    parser.add_argument("--force", action="store_true", help="replace existing files, keeping .bak copies")
    parser.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser.parse_args(argv)


def variables_from(args: argparse.Namespace) -> dict:
    if args.source_module is not None:
        return _module_variables(args)
    if args.source_config is not None:
        return _config_variables(args)
    if args.source not in CORE_SOURCES:
        # Validate the names first, so a bad name is reported before the network problem.
        check = argparse.Namespace(**{**vars(args), "source": "custom", "base_url": None})
        try:
            templating.resolve_variables(variables_from(check))
        except templating.TemplateError as exc:
            raise ScaffoldError(_one_line_per_problem(exc), EXIT_INVALID) from exc
        raise ScaffoldError(
            f"verified source {args.source!r}: dlt init clones it from GitHub, which needs network access. "
            f"With network, run: uv run dg scaffold defs dagster_dlt.DltLoadCollectionComponent "
            f"{args.defs_name or args.pipeline_name} --source {args.source} --destination {args.destination} "
            "and point loads.py at the source function it creates. "
            f"Offline, use one of: {', '.join(CORE_SOURCES)}",
            EXIT_NEEDS_NETWORK,
        )
    given = {
        "pipeline_name": args.pipeline_name,
        "dataset_name": args.dataset_name,
        "source_kind": args.source,
        "destination": args.destination,
    }
    optional = {
        "defs_name": args.defs_name,
        "base_url": args.base_url,
        "duckdb_file": args.duckdb_file,
        "incremental_cursor": args.incremental_cursor,
        "initial_value": args.initial_value,
        "schedule": args.schedule,
        "parallel": args.parallel,
        "group_name": args.group_name,
    }
    given.update({k: v for k, v in optional.items() if v is not None})
    if args.resources is not None:
        given["resources"] = [r.strip() for r in args.resources.split(",")]
    return given


SHORTHAND_FLAGS = ("resources", "base_url", "incremental_cursor", "initial_value")


def _config_variables(args: argparse.Namespace) -> dict:
    """Variables from --source-config (checked with dlt's own validation for REST)."""
    given = [f"--{name.replace('_', '-')}" for name in SHORTHAND_FLAGS if getattr(args, name) is not None]
    if given:
        raise ScaffoldError(
            f"{', '.join(given)}: give these in the --source-config file, not as flags", EXIT_INVALID
        )
    shorthand = argparse.Namespace(**{**vars(args), "source_config": None, "source": "custom"})
    variables = variables_from(shorthand)
    try:
        from_config, _ = source_config.from_file(
            args.source_config, None if args.source == "custom" else args.source, args.pipeline_name
        )
    except source_config.SourceConfigError as exc:
        raise ScaffoldError(str(exc), EXIT_INVALID) from exc
    return {**variables, **from_config}


def _module_variables(args: argparse.Namespace) -> dict:
    """Variables for --source-module: the source is imported, so the source flags do not apply."""
    source_flags = ("source_config", "base_url", "incremental_cursor", "initial_value")
    given = [f"--{name.replace('_', '-')}" for name in source_flags if getattr(args, name) is not None]
    if args.source != "custom":
        given.insert(0, "--source")
    if given:
        raise ScaffoldError(
            f"{', '.join(given)}: not with --source-module (its source says all that)", EXIT_INVALID
        )
    if (args.resources is None) != (args.parallel is None):
        raise ScaffoldError(
            "--parallel and --resources go together with --source-module: --resources names the "
            "source's resources that --parallel gives a pipeline each",
            EXIT_INVALID,
        )
    try:
        source_module.parse(args.source_module)
    except source_module.SourceModuleError as exc:
        raise ScaffoldError(str(exc), EXIT_INVALID) from exc
    plain = argparse.Namespace(**{**vars(args), "source_module": None})
    return {**variables_from(plain), "source_kind": "module", "source_module": args.source_module}


def plan(args: argparse.Namespace) -> Plan:
    if args.compute == "external":
        raise ScaffoldError(
            "external compute (ECS, Fargate, Kubernetes jobs, Databricks) is not what this skill scaffolds: "
            "Dagster schedules the work and another engine runs it. Use the dagster-expert skill "
            "(npx skills add dagster-io/skills --skill dagster-expert, with the user's approval).",
            EXIT_OTHER_SKILL,
        )
    try:
        project = project_kind.detect(args.project_dir)
        given = variables_from(args)
        if project.kind != project_kind.DG:
            given.update(classic_scaffold.template_variables(project))
    except (ProjectError, classic_scaffold.ClassicError) as exc:
        raise ScaffoldError(str(exc), EXIT_NOT_PROJECT) from exc
    try:
        rendered = templating.render(args.approach, given)
    except templating.TemplateError as exc:
        raise ScaffoldError(_one_line_per_problem(exc), EXIT_INVALID) from exc
    variables = templating.resolve_variables(given)
    vetted = None
    if args.source_module is not None:
        try:
            vetted = source_module.vet(args.source_module, project.root, project.kind == project_kind.DG)
        except source_module.SourceModuleError as exc:
            raise ScaffoldError(str(exc), EXIT_INVALID) from exc
    if project.kind != project_kind.DG:
        return _with_module(_classic(args, project, rendered, variables), vetted)
    defs_dir = project.defs_dir
    result = Plan(defs_dir=defs_dir, gitignore=gitignore_update(args.project_dir), project=project.describe())
    for file in rendered:
        target = defs_dir / file.path
        if not target.resolve().is_relative_to(defs_dir.resolve()):
            raise ScaffoldError(f"{file.path}: would be written outside the defs folder", EXIT_INVALID)
        if target.exists() or target.is_symlink():
            if not args.force:
                raise ScaffoldError(
                    f"{target} exists; rerun with --force to replace it (a .bak copy is kept)", EXIT_EXISTS
                )
            result.backups.append(target)
        result.writes.append((target, file.text))
    _needs(args, variables, result)
    result.next_steps = ["uv run dg check defs", "uv run dg launch --assets '*'"]
    return _with_module(result, vetted)


def _with_module(result: Plan, vetted: source_module.Vetted | None) -> Plan:
    """The env vars and notes of the user's own source (--source-module)."""
    if vetted is not None:
        result.env_vars = vetted.env_vars + result.env_vars
        result.notes += vetted.notes
    return result


def _needs(args: argparse.Namespace, variables: dict, result: Plan) -> None:
    """The env vars (names only: values are never written) and packages the code needs."""
    source = variables["src"]  # the config-driven source (scripts/source_config.py), or None
    result.env_vars = (source.secrets if source else []) + DESTINATION_ENV[args.destination]
    result.notes += source.notes if source else []
    prefix = variables["env_prefix"]
    if variables["incremental_cursor"] or (source and source.incremental and source.kind != "filesystem"):
        result.env_vars.append(f"{prefix}_INITIAL_VALUE (optional)")
    if (variables["incremental_cursor"] and not source) or (source and source.backfill):
        result.env_vars.append(f"{prefix}_END_VALUE (optional, backfills)")
    extra = source.packages if source else []
    fast = source and (args.destination == "duckdb" or source.arrow_tables(args.destination))
    if fast and "pyarrow" not in extra:
        # parquet load files of DuckDB pipelines, Arrow tables (references/fast-loads.md)
        extra = [*extra, "pyarrow"]
    result.packages = ["dagster-dlt", f"dlt[{args.destination}]", *extra]


def _classic(
    args: argparse.Namespace, project: project_kind.Project, rendered: list, variables: dict
) -> Plan:
    """Plan for a classic code location or bare module (scripts/classic_scaffold.py)."""
    try:
        found = classic_scaffold.plan(project, args.approach, rendered, args.force)
    except classic_scaffold.ClassicError as exc:
        code = EXIT_EXISTS if " exists; rerun with --force" in str(exc) else EXIT_CANNOT_WIRE
        raise ScaffoldError(str(exc), code) from exc
    result = Plan(defs_dir=found.package_dir, gitignore=gitignore_update(args.project_dir))
    result.project, result.writes, result.backups = project.describe(), found.writes, found.backups
    result.edits = [(found.wiring.path, found.wiring.diff())] if found.wiring else []
    _needs(args, variables, result)
    result.next_steps = found.next_steps
    return result


NAME_RULE = "use lowercase letters, digits and _, starting with a letter or _ (no '/', '.', '-' or '..')"


def _one_line_per_problem(error: templating.TemplateError) -> str:
    """One readable line per problem: the variables' schema violations, worded for a user."""
    if not error.problems:
        return str(error)
    readable = []
    for problem in error.problems:
        name, value = problem.where, repr(problem.value)
        if problem.keyword == "pattern" and str(problem.expected).startswith("^[a-z_][a-z0-9_]"):
            readable.append(f"{name} {value} is not a valid name: {NAME_RULE}")
        elif problem.keyword == "not" and "enum" in problem.expected:
            readable.append(f"{name} {value} is a Python keyword: choose another name")
        elif problem.keyword == "enum":
            readable.append(
                f"{name} {value} is not supported; choose one of: {', '.join(map(repr, problem.expected))}"
            )
        else:
            readable.append(str(problem))
    return "\n".join(readable)


def backup_path(path: Path) -> Path:
    candidate = path.with_name(path.name + ".bak")
    number = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.bak{number}")
        number += 1
    return candidate


def write(result: Plan, project_dir: Path) -> list[Path]:
    """All or nothing: stage every file first, then back up and move them into place."""
    writes = list(result.writes)
    gitignore = result.gitignore
    if gitignore is not None:
        writes.append(gitignore)
    created_dirs: list[Path] = []
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in writes:
            for parent in reversed(path.parents):
                if not parent.exists():
                    parent.mkdir()
                    created_dirs.append(parent)
            temp = path.with_name(f".{path.name}.scaffold-tmp")
            temp.write_text(text, encoding="utf-8")
            staged.append((temp, path))
    except OSError:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        for folder in reversed(created_dirs):
            folder.rmdir()
        raise
    backups = []
    for path in result.backups:
        backup = backup_path(path)
        shutil.copy2(path, backup)
        backups.append(backup)
    for temp, path in staged:
        temp.replace(path)
    return backups


def gitignore_update(project_dir: Path) -> tuple[Path, str] | None:
    """The project's .gitignore plus the lines that keep secrets and databases out of git."""
    gitignore = project_dir.resolve() / ".gitignore"
    try:
        existing = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    except UnicodeDecodeError as exc:
        problem = f"{gitignore}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise ScaffoldError(problem, EXIT_INVALID) from exc
    missing = [line for line in GITIGNORE_LINES if line not in existing.splitlines()]
    if not missing:
        return None
    separator = "\n" if existing and not existing.endswith("\n") else ""
    block = "# dlt-dagster: secrets and local databases\n" + "\n".join(missing) + "\n"
    return gitignore, existing + separator + block


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = plan(args)
        backups = [] if args.dry_run else write(result, args.project_dir)
    except ScaffoldError as exc:
        if args.json:
            print(json.dumps({"ok": False, "errors": str(exc).splitlines(), "exit_code": exc.code}))
        else:
            for line in str(exc).splitlines():  # indented lines are code to copy, kept bare
                print(line if line.startswith("    ") else f"scaffold.py: {line}", file=sys.stderr)
        return exc.code
    except OSError as exc:
        message = f"cannot write: {exc}"
        if args.json:
            print(json.dumps({"ok": False, "errors": [message], "exit_code": 1}))
        else:
            print(f"scaffold.py: {message}", file=sys.stderr)
        return 1
    summary = {
        "ok": True,
        "dry_run": args.dry_run,
        "project": result.project,
        "defs_dir": str(result.defs_dir),
        "edits": {str(path): diff for path, diff in result.edits},
        "files": [str(path) for path, _ in result.writes],
        "backups": [str(b) for b in backups],
        "env_vars": result.env_vars,
        "packages": result.packages,
        "next_steps": result.next_steps,
        "notes": result.notes,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    verb = "would write" if args.dry_run else "wrote"
    print(f"found: {result.project}")
    edits = dict(result.edits)
    for path, text in result.writes:
        print(f"{verb} {path}" + (" (this edit)" if path in edits else ""))
        if args.dry_run:
            print(edits[path].rstrip() if path in edits else "    " + text.replace("\n", "\n    ").rstrip())
    for backup in backups:
        print(f"kept a copy: {backup}")
    print(f"packages: uv add {' '.join(repr(p) if '[' in p else p for p in result.packages)}")
    if result.env_vars:
        print("set these env vars (values never go into files):")
        for name in result.env_vars:
            print(f"  {name}")
    for note in result.notes:
        print(f"note: {note}")
    print("then: " + " && ".join(result.next_steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
