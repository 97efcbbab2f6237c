"""SKILL.md's compatibility line names exactly the version sets the matrix measures
(evals/matrix.py VERSION_SETS), and the newest set is what the harness has installed."""

from __future__ import annotations

import re
from importlib.metadata import version

import yaml

from evals.matrix import VERSION_SETS
from evals.skill import SKILL_ROOT

PACKAGE = re.compile(r"\b(dagster-dg-cli|dagster-dlt|dagster|dlt) (\d+\.\d+\.\d+)\b")
# The line's clauses, in order: tested with; every example also with; templates down to.
CLAUSES = ("newest", "oldest", "oldest-templates")


def compatibility_sets(text: str) -> dict[str, dict[str, str]]:
    clauses = [clause for clause in text.split(";") if PACKAGE.search(clause)]
    assert len(clauses) == len(CLAUSES), f"expected {len(CLAUSES)} version clauses in: {text}"
    sets = {}
    for name, clause in zip(CLAUSES, clauses, strict=True):
        named = dict(PACKAGE.findall(clause))
        named.setdefault("dagster-dg-cli", named.get("dagster", ""))  # dg moves with dagster
        sets[name] = named
    return sets


def skill_compatibility() -> str:
    text = (SKILL_ROOT / "SKILL.md").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---")[1])["compatibility"]


def test_compatibility_line_matches_the_measured_sets():
    assert compatibility_sets(skill_compatibility()) == VERSION_SETS


def test_the_newest_set_is_what_the_harness_runs():
    installed = {name: version(name) for name in VERSION_SETS["newest"]}
    assert installed == VERSION_SETS["newest"]


def test_a_stale_compatibility_line_is_caught():
    stale = skill_compatibility().replace("dlt 1.23.0", "dlt 1.22.0")
    assert compatibility_sets(stale) != VERSION_SETS
