"""Render the skill's Jinja2 templates (assets/templates) into file contents.

Shared by scripts/scaffold.py and the eval harness, so what the evals prove is what an
agent writes. Pure: it returns {relative path: text} and writes nothing.

Needs jinja2, pyyaml and jsonschema; a Dagster project with dagster-dg-cli has all three.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import source_config  # a sibling: scripts/ is on sys.path (a script's own folder; evals/skill.py)
import yaml
from schema_problems import Problem, schema_problems  # a sibling too

SKILL_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = SKILL_ROOT / "assets" / "templates"
APPROACHES = ("component", "pythonic", "asset")


class TemplateError(Exception):
    """A template or its variables are wrong; the message names what and where.

    `problems` holds each schema violation of the variables, for callers that word them.
    """

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()):
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class RenderedFile:
    path: str  # relative to the project's defs folder
    text: str
    template: Path  # the template file it came from


def load_manifest(approach: str, templates_dir: Path = TEMPLATES_DIR) -> dict[str, Any]:
    if approach not in APPROACHES:
        raise TemplateError(f"unknown approach {approach!r}; choose one of {', '.join(APPROACHES)}")
    manifest_path = templates_dir / approach / "template.yaml"
    try:
        manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"{manifest_path}: cannot read template manifest: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise TemplateError(f"{manifest_path}: expected a mapping with a 'files' list")
    return manifest


def resolve_variables(given: dict[str, Any], templates_dir: Path = TEMPLATES_DIR) -> dict[str, Any]:
    """Validate variables against variables.schema.json and fill in the defaults."""
    schema_path = templates_dir / "variables.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    problems = schema_problems(schema, given, root="(variables)")
    if problems:
        lines = "\n  ".join(map(str, problems))
        raise TemplateError(f"invalid template variables:\n  {lines}", tuple(problems))
    resolved = {name: prop["default"] for name, prop in schema["properties"].items() if "default" in prop}
    resolved.update(given)
    pipeline_name = resolved["pipeline_name"]
    resolved.setdefault("defs_name", pipeline_name)
    resolved.setdefault("source_name", pipeline_name)
    resolved.setdefault("group_name", resolved["defs_name"])
    resolved.setdefault("duckdb_file", f"{pipeline_name}.duckdb")
    resolved.setdefault("env_prefix", pipeline_name.upper())
    for optional in ("incremental_cursor", "schedule", "parallel"):
        resolved.setdefault(optional, None)
    resolved["src"] = _prepared_source(resolved)
    return resolved


def _prepared_source(variables: dict[str, Any]):
    """The config-driven source to render (scripts/source_config.py), None for custom and module.

    scaffold.py has already checked a --source-config file with dlt; a config the shorthand
    variables build is known good, so neither is validated with dlt again here."""
    kind = variables["source_kind"]
    if kind in ("custom", "module"):
        return None
    config = variables.get("source_config") or source_config.from_shorthand(variables)
    try:
        return source_config.prepare(
            config, kind, variables["source_name"], Path("source_config"), validate_with_dlt=False
        )
    except source_config.SourceConfigError as exc:
        raise TemplateError(str(exc)) from exc


def _environment(templates_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["py"] = lambda value, indent=0: source_config.literal(value, indent)
    return env


def render(approach: str, given: dict[str, Any], templates_dir: Path = TEMPLATES_DIR) -> list[RenderedFile]:
    """Render every file of one approach's template with the given variables."""
    manifest = load_manifest(approach, templates_dir)
    variables = resolve_variables(given, templates_dir)
    if variables["destination"] == "duckdb":
        stems = [Path(variables["duckdb_file"]).stem]
        if variables["parallel"]:
            stems = [f"{stems[0]}_{resource}" for resource in variables["resources"]]
        if variables["dataset_name"] in stems:
            raise TemplateError(
                f"dataset_name {variables['dataset_name']!r} equals the DuckDB file's name: DuckDB fails "
                "with 'Ambiguous reference to catalog or schema'; choose another dataset_name or duckdb_file"
            )
    if variables["parallel"] and variables["src"] and variables["src"].partitions:
        raise TemplateError("parallel and partitions: choose one (a partitioned load runs all its resources)")
    if approach == "asset" and variables["parallel"]:
        raise TemplateError(
            "parallel needs dlt assets (component or pythonic): one asset runs every resource"
        )
    env = _environment(templates_dir)
    rendered = []
    for entry in manifest["files"]:
        template_name = entry["template"]
        if "when" in entry and not env.compile_expression(entry["when"])(**variables):
            continue
        try:
            path = env.from_string(entry["path"]).render(variables)
            text = env.get_template(template_name).render(variables)
        except jinja2.TemplateError as exc:
            where = getattr(exc, "filename", None) or template_name
            line = getattr(exc, "lineno", None)
            raise TemplateError(f"{where}{':' + str(line) if line else ''}: {exc}") from exc
        rendered_file = RenderedFile(path=path, text=_tidy(text), template=templates_dir / template_name)
        _check_syntax(rendered_file, template_name)
        rendered.append(rendered_file)
    return rendered


def _check_syntax(rendered: RenderedFile, template_name: str) -> None:
    """Refuse output that is not valid Python or YAML, naming the template and the line."""
    if rendered.path.endswith(".py"):
        try:
            compile(rendered.text, rendered.path, "exec", dont_inherit=True)
        except SyntaxError as exc:
            problem = f"{exc.msg} (line {exc.lineno})"
            raise TemplateError(
                f"{template_name}: rendered {rendered.path} is not valid Python: {problem}"
            ) from exc
    elif rendered.path.endswith((".yaml", ".yml")):
        try:
            list(yaml.safe_load_all(rendered.text))
        except yaml.YAMLError as exc:
            raise TemplateError(
                f"{template_name}: rendered {rendered.path} is not valid YAML: {exc}"
            ) from exc


def _tidy(text: str) -> str:
    """Collapse the runs of blank lines that conditional blocks leave behind."""
    lines: list[str] = []
    for line in text.splitlines():
        if not line.strip() and len(lines) >= 2 and not lines[-1].strip() and not lines[-2].strip():
            continue
        lines.append(line.rstrip())
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines).rstrip() + "\n"
