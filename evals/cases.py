"""Discover eval cases: YAML files under evals/cases, validated against case.schema.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

CASES_DIR = Path(__file__).parent / "cases"
SCHEMA = json.loads((Path(__file__).parent / "case.schema.json").read_text(encoding="utf-8"))


class CaseError(Exception):
    """A case file is malformed; the message names the file."""


@dataclass(frozen=True)
class TableExpectation:
    database: str
    table: str
    rows: int


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    template: str
    vars: dict[str, Any]
    tables: tuple[TableExpectation, ...]
    asset_keys: tuple[tuple[str, ...], ...] | None = None
    server: dict[str, Any] | None = None
    launch_assets: str = "*"
    timeout: float = 300
    description: str = ""


def load_case(path: Path) -> Case:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CaseError(f"{path}: cannot read case: {exc}") from exc
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.path)) or '(case)'}: {e.message}" for e in errors)
        raise CaseError(f"{path}: invalid case: {details}")
    expect = data["expect"]
    return Case(
        name=data.get("name", path.stem),
        path=path,
        template=data["template"],
        vars=data["vars"],
        tables=tuple(TableExpectation(**t) for t in expect["tables"]),
        asset_keys=tuple(tuple(k) for k in expect["asset_keys"]) if "asset_keys" in expect else None,
        server=data.get("server"),
        launch_assets=data.get("launch", {}).get("assets", "*"),
        timeout=data.get("timeout", 300),
        description=data.get("description", ""),
    )


def discover(cases_dir: Path = CASES_DIR, select: str | None = None) -> list[Case]:
    """All cases in cases_dir (sorted by file name); `select` keeps names containing it."""
    cases = [load_case(p) for p in sorted(cases_dir.glob("*.yaml"))]
    names = [c.name for c in cases]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise CaseError(f"{cases_dir}: duplicate case names: {', '.join(duplicated)}")
    if select:
        cases = [c for c in cases if select in c.name]
    return cases
