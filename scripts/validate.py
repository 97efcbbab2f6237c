# /// script
# requires-python = ">=3.10"
# dependencies = ["pyyaml>=6", "jsonschema>=4", "markdown-it-py>=3"]
# ///
"""Validate a skill folder against the Agent Skills rules and this skill's own budgets.

    python validate.py SKILL_DIR [--json]

Checks: SKILL.md frontmatter against frontmatter.schema.json (name, description <= 1024,
allowed fields) and the folder name equal to the skill name; SKILL.md under 500 lines and
about 5000 tokens (4 characters a token); every relative link in SKILL.md and references/
resolves; every file in references/ is linked from SKILL.md; references/ has no subfolders;
every Markdown file over 100 lines has a table of contents (a "Contents" heading).
Exit codes: 0 valid, 1 problems found, 2 not a skill folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import jsonschema
import yaml
from markdown_it import MarkdownIt

SCHEMA = json.loads((Path(__file__).resolve().parent / "frontmatter.schema.json").read_text(encoding="utf-8"))
MAX_LINES = 500
MAX_TOKENS = 5000
CHARS_PER_TOKEN = 4
TOC_AFTER_LINES = 100


def split_frontmatter(text: str) -> tuple[dict, str]:
    if not text.startswith("---\n"):
        raise ValueError("SKILL.md must start with a '---' frontmatter block")
    end = text.find("\n---", 4)
    if end < 0:
        raise ValueError("SKILL.md frontmatter is not closed with '---'")
    data = yaml.safe_load(text[4:end])
    if not isinstance(data, dict):
        raise ValueError("SKILL.md frontmatter must be a YAML mapping")
    return data, text[end + 4 :]


def frontmatter_problems(meta: dict, skill_dir: Path) -> list[str]:
    problems = [
        f"frontmatter {'/'.join(map(str, e.path)) or '(root)'}: {e.message}"
        for e in sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(meta), key=lambda e: list(e.path))
    ]
    if isinstance(meta.get("name"), str) and skill_dir.resolve().name != meta["name"]:
        problems.append(
            f"folder name {skill_dir.resolve().name!r} must equal the skill name {meta['name']!r}"
        )
    return problems


def budget_problems(text: str) -> list[str]:
    problems = []
    lines = len(text.splitlines())
    if lines >= MAX_LINES:
        problems.append(f"SKILL.md has {lines} lines; keep it under {MAX_LINES}")
    tokens = len(text) // CHARS_PER_TOKEN
    if tokens > MAX_TOKENS:
        problems.append(f"SKILL.md is about {tokens} tokens; keep it under {MAX_TOKENS}")
    return problems


def relative_links(markdown: str) -> list[tuple[str, int]]:
    """(target, line) of every relative link and image in a Markdown text."""
    found = []
    for token in MarkdownIt().parse(markdown):
        for child in token.children or []:
            target = child.attrs.get("href") or child.attrs.get("src") if child.attrs else None
            if target and not urlparse(target).scheme and not target.startswith(("#", "//", "mailto:")):
                found.append((target, (token.map[0] + 1) if token.map else 0))
    return found


def link_problems(skill_dir: Path, files: list[Path]) -> tuple[list[str], set[Path]]:
    problems, targets = [], set()
    for file in files:
        for target, line in relative_links(file.read_text(encoding="utf-8")):
            path = (file.parent / unquote(target.split("#", 1)[0])).resolve()
            targets.add(path)
            if not path.exists():
                problems.append(f"{file.relative_to(skill_dir)}:{line}: link to {target} does not resolve")
    return problems, targets


def has_contents(text: str) -> bool:
    return any(
        line.lstrip("#").strip().lower() in ("contents", "table of contents")
        for line in text.splitlines()
        if line.startswith("#")
    )


def validate(skill_dir: Path) -> list[str]:
    skill_md = skill_dir / "SKILL.md"
    if not skill_md.is_file():
        raise FileNotFoundError(f"{skill_dir}: no SKILL.md, so not a skill folder")
    text = skill_md.read_text(encoding="utf-8")
    try:
        meta, _ = split_frontmatter(text)
    except (ValueError, yaml.YAMLError) as exc:
        return [f"SKILL.md: {exc}"]
    problems = frontmatter_problems(meta, skill_dir) + budget_problems(text)
    references = skill_dir / "references"
    reference_files = sorted(references.glob("*.md")) if references.is_dir() else []
    if references.is_dir():
        problems += [
            f"references/{p.relative_to(references)}: references must be one level deep (no subfolders)"
            for p in sorted(references.iterdir())
            if p.is_dir()
        ]
    found, _ = link_problems(skill_dir, [skill_md, *reference_files])
    problems += found
    _, from_skill = link_problems(skill_dir, [skill_md])
    problems += [
        f"references/{p.name} is not linked from SKILL.md"
        for p in reference_files
        if p.resolve() not in from_skill
    ]
    for file in [skill_md, *reference_files]:
        content = file.read_text(encoding="utf-8")
        if len(content.splitlines()) > TOC_AFTER_LINES and not has_contents(content) and file != skill_md:
            problems.append(
                f"{file.relative_to(skill_dir)} has over {TOC_AFTER_LINES} lines but no Contents section"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="validate.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("skill_dir", type=Path)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    try:
        problems = validate(args.skill_dir)
    except (FileNotFoundError, UnicodeDecodeError) as exc:
        message = str(exc)
        print(json.dumps({"valid": False, "errors": [message]}) if args.json else f"validate.py: {message}")
        return 2
    if args.json:
        print(json.dumps({"valid": not problems, "errors": problems}, indent=2))
    elif problems:
        print("\n".join(f"validate.py: {p}" for p in problems))
    else:
        print(f"valid skill: {args.skill_dir}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
