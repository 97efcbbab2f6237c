# /// script
# requires-python = ">=3.10"
# dependencies = ["tomli>=1.1; python_version < '3.11'", "pyyaml>=6"]
# ///
"""Diagnose a dlt-on-Dagster project: versions, virtual env, defs folder, `dg check defs`.

In a classic code location ([tool.dagster], workspace.yaml, setup.py) or a bare module that
builds a Definitions, it says so and validates with `dagster definitions validate -m MODULE`
(or `-w workspace.yaml`) instead, mapping known errors the same way.

    uv run python doctor.py [--project-dir DIR] [--skip-check] [--log FILE] [--json]

Run it with the project's own interpreter (`uv run python ...` inside the project) so it
sees the project's packages. Known error texts in the `dg check defs` output are mapped to
the entry of references/troubleshooting.md that explains them; so are those in --log FILE
(the saved output of a failed `dg launch`, say: `uv run dg launch ... 2>&1 | tee launch.log`).
Exit codes: 0 healthy; 1 problems found; 2 --log cannot be read; 3 not a Dagster project.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from needs import require  # noqa: E402 (the script's own folder)

if sys.version_info < (3, 11):
    require(Path(__file__), {"tomli": "tomli"})

import project_kind  # noqa: E402
from dg_project import ProjectError  # noqa: E402

TROUBLESHOOTING = "references/troubleshooting.md"
PACKAGES = ("dagster", "dagster-dlt", "dlt", "dagster-dg-cli", "duckdb")
CHECK_TIMEOUT = 300

# Exact error texts (as printed by dg / dagster / dlt / duckdb) -> troubleshooting heading.
KNOWN_ERRORS: tuple[tuple[str, str], ...] = (
    (r"Duplicate asset key", "Duplicate asset key"),
    (
        r"Detected conflicting node definitions with the same name",
        "Detected conflicting node definitions with the same name",
    ),
    (
        r"'DltSourceFactoryWrapper' object has no attribute 'selected_resources'",
        "'DltSourceFactoryWrapper' object has no attribute 'selected_resources'",
    ),
    (
        r"PipelineConfigMissing|destination.*is not configured|Please provide `destination`",
        "PipelineConfigMissing ... destination",
    ),
    (r"Could not set lock on file", "Could not set lock on file"),
    (r"Ambiguous reference to catalog or schema", "Ambiguous reference to catalog or schema"),
    (
        r"\.duckdb\": No such file or directory",
        "Cannot open file ... No such file or directory",
    ),
    (
        r"resource with key '[^']+' required by op '[^']+' was not provided",
        "resource with key ... required by op ... was not provided",
    ),
    (
        r"Definitions objects \d+ and \d+ have different resources with same key",
        "Definitions objects 1 and 2 have different resources with same key",
    ),
    (r"password authentication failed for user", "password authentication failed for user"),
    (
        r"connection to server at .* failed: Connection refused",
        "connection to server at ... failed: Connection refused",
    ),
    (r"No module named 'psycopg'", "No module named 'psycopg'"),
    (r"permission denied for database", "permission denied for database"),
    (r"ConfigFieldMissingException|Missing \d+ field\(s\) in configuration", "ConfigFieldMissingException"),
    (r"Relations no longer have fetchmany\(\)", "Relations no longer have fetchmany()"),
    (r"No module named 'pandas'", "No module named 'pandas'"),
    (r"Could not resolve host: github\.com", "Could not resolve host: github.com"),
    (r"No module named '(dagster_dlt|dlt)'", "No module named 'dagster_dlt'"),
    (r"Cannot annotate `context` parameter with type", "Cannot annotate `context` parameter with type ..."),
    (r"KeyError: 'name'", "KeyError: 'name'"),
    (
        r"object of type <class 'str'> cannot be converted to int"
        r"|'>' not supported between instances of 'str' and 'datetime\.date(time)?'",
        "object of type <class 'str'> cannot be converted to int",
    ),
    (r"Asset key \S+ not found in AssetsDefinition", "Asset key ... not found in AssetsDefinition"),
)


@dataclass
class Finding:
    ok: bool
    what: str
    detail: str = ""
    see: list[str] = field(default_factory=list)


def anchor(heading: str) -> str:
    """GitHub-style anchor of a Markdown heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
    return f"{TROUBLESHOOTING}#{slug}"


def known_errors(output: str) -> list[str]:
    return [anchor(heading) for pattern, heading in KNOWN_ERRORS if re.search(pattern, output)]


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def version_findings(found: dict[str, str | None], needs_dg: bool = True) -> list[Finding]:
    findings = [Finding(sys.version_info >= (3, 10), "python", sys.version.split()[0])]
    for name in ("dagster", "dagster-dlt", "dlt", "dagster-dg-cli"):
        if found[name] is None and name == "dagster-dg-cli" and not needs_dg:
            findings.append(Finding(True, name, "not installed (not needed: this project runs on `dagster`)"))
        elif found[name] is None:
            findings.append(
                Finding(False, name, "not installed: uv add dagster-dlt 'dlt[duckdb]' dagster-dg-cli")
            )
        else:
            findings.append(Finding(True, name, found[name]))
    if found["dagster"] and found["dagster-dlt"]:
        pins = [r for r in metadata.requires("dagster-dlt") or [] if re.match(r"dagster\s*(==|>=|<|~=)", r)]
        pinned = next((re.search(r"==\s*([\w.]+)", p) for p in pins if "==" in p), None)
        if pinned and pinned.group(1) != found["dagster"]:
            findings.append(
                Finding(
                    False,
                    "dagster-dlt vs dagster",
                    f"dagster-dlt {found['dagster-dlt']} needs dagster=={pinned.group(1)}, "
                    f"found {found['dagster']}: uv add dagster-dlt (uv picks a matching pair)",
                )
            )
    if found["dagster"] and found["dagster-dg-cli"] and found["dagster"] != found["dagster-dg-cli"]:
        findings.append(
            Finding(
                False,
                "dagster-dg-cli vs dagster",
                f"dg {found['dagster-dg-cli']} and dagster {found['dagster']} differ; "
                "they are released together: pin both to one version",
            )
        )
    return findings


def venv_finding(project_dir: Path) -> Finding:
    project_venv = (project_dir / ".venv").resolve()
    running = Path(sys.prefix).resolve()
    active = os.environ.get("VIRTUAL_ENV")
    if project_venv.is_dir() and running != project_venv:
        return Finding(
            False,
            "virtual env",
            f"running {running}, but the project's env is {project_venv}: run "
            "`uv run python doctor.py` inside the project (or activate its .venv)",
        )
    if active and Path(active).resolve() != running:
        return Finding(False, "virtual env", f"VIRTUAL_ENV={active} is active but {running} runs")
    return Finding(True, "virtual env", str(running))


def check_defs(project_dir: Path) -> Finding:
    dg = Path(sys.executable).parent / "dg"
    if not dg.exists():
        return Finding(False, "dg check defs", "dg is not installed in this env: uv add --dev dagster-dg-cli")
    try:
        done = subprocess.run(
            [str(dg), "check", "defs"],
            cwd=project_dir,
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return Finding(False, "dg check defs", f"timed out after {CHECK_TIMEOUT}s")
    output = done.stdout + done.stderr
    if done.returncode == 0 and "All definitions loaded successfully." in output:
        return Finding(True, "dg check defs", "all definitions loaded")
    tail = "\n".join(output.strip().splitlines()[-25:])
    return Finding(False, "dg check defs", f"failed (exit {done.returncode}):\n{tail}", known_errors(output))


def validate_definitions(project: project_kind.Project) -> Finding:
    """`dagster definitions validate` for a classic code location, from its root."""
    what = f"dagster definitions validate {' '.join(project.validate_args())}"
    dagster = Path(sys.executable).parent / "dagster"
    if not dagster.exists():
        return Finding(False, what, "dagster is not installed in this env: uv add dagster")
    try:
        done = subprocess.run(
            [str(dagster), "definitions", "validate", *project.validate_args()],
            cwd=project.root,
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return Finding(False, what, f"timed out after {CHECK_TIMEOUT}s")
    output = done.stdout + done.stderr
    if done.returncode == 0 and "All code locations passed validation." in output:
        return Finding(True, what, "all definitions loaded")
    tail = "\n".join(output.strip().splitlines()[-25:])
    return Finding(False, what, f"failed (exit {done.returncode}):\n{tail}", known_errors(output))


def log_finding(log: Path, text: str) -> Finding:
    """Known error texts in a saved command output (a failed launch, say)."""
    see = known_errors(text)
    if see:
        return Finding(False, f"log {log}", "known error text found", see)
    return Finding(
        True, f"log {log}", f"no known error text; search {TROUBLESHOOTING} for the message itself"
    )


def diagnose(project_dir: Path, run_check: bool, log: tuple[Path, str] | None = None) -> list[Finding]:
    project = project_kind.detect(project_dir)  # raises ProjectError
    findings = version_findings(versions(), needs_dg=project.kind == project_kind.DG)
    findings.append(venv_finding(project_dir))
    findings.append(Finding(True, "project", project.describe()))
    if project.kind == project_kind.DG:
        findings.append(Finding(True, "defs folder", str(project.defs_dir)))
        if run_check:
            findings.append(check_defs(project_dir))
    elif run_check:
        findings.append(validate_definitions(project))
    if log is not None:
        findings.append(log_finding(*log))
    return findings


class LogError(Exception):
    """The --log file cannot be read."""


def read_log(path: Path) -> tuple[Path, str]:
    if str(path) == "-":
        return path, sys.stdin.read()
    try:
        return path, path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise LogError(f"--log {path}: cannot read it ({exc.strerror})") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="doctor.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--project-dir", type=Path, default=Path("."))
    parser.add_argument(
        "--skip-check", action="store_true", help="do not run dg check defs (dagster definitions validate)"
    )
    parser.add_argument(
        "--log",
        type=Path,
        metavar="FILE",
        help="also map the known error texts in FILE ('-' for stdin) to troubleshooting entries",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    try:
        log = read_log(args.log) if args.log is not None else None
    except LogError as exc:
        print(json.dumps({"healthy": False, "error": str(exc)}) if args.json else f"doctor.py: {exc}")
        return 2
    try:
        findings = diagnose(args.project_dir.resolve(), not args.skip_check, log)
    except ProjectError as exc:
        print(json.dumps({"healthy": False, "error": str(exc)}) if args.json else f"doctor.py: {exc}")
        return 3
    healthy = all(f.ok for f in findings)
    if args.json:
        print(json.dumps({"healthy": healthy, "findings": [asdict(f) for f in findings]}, indent=2))
    else:
        for f in findings:
            print(f"{'ok  ' if f.ok else 'FAIL'} {f.what}: {f.detail}")
            for see in f.see:
                print(f"     see {see}")
        print("healthy" if healthy else "problems found")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
