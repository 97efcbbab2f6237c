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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

if str(Path(__file__).resolve().parent) not in sys.path:  # run as a script from elsewhere
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from schema_problems import schema_problems  # noqa: E402 (a sibling in scripts/)

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
    problems = [f"frontmatter {problem}" for problem in schema_problems(SCHEMA, meta)]
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


@dataclass(frozen=True)
class Link:
    source: Path  # the Markdown file that holds the link
    line: int  # 1-based line of the link
    target: str  # as written

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.target}"


def _walk(tokens: list[Token], line: int = 0) -> Iterator[tuple[Token, int]]:
    """Each token with the 1-based line of the nearest block before it that has a map."""
    for token in tokens:
        if token.map:
            line = token.map[0] + 1
        yield token, line
        if token.children:
            yield from _walk(token.children, line)


def links_in(markdown_file: Path) -> list[Link]:
    """Every inline link, image and reference-style link (not link-like text inside code)."""
    text = markdown_file.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = []
    for token, line in _walk(MarkdownIt("commonmark").parse(text)):
        if token.type == "link_open":
            target = str(token.attrs.get("href", ""))
        elif token.type == "image":
            target = str(token.attrs.get("src", ""))
        else:
            continue
        # blocks such as table rows carry no line of their own: find the link's line
        exact = next((n for n in range(max(line, 1), len(lines) + 1) if target in lines[n - 1]), line)
        found.append(Link(markdown_file, exact, target))
    return found


def local_target(link: Link, root: Path) -> Path | None:
    """The file a relative link points at (a leading "/" means `root`); None for a URL (a scheme
    or host: not fetched) or a bare #fragment. A link's #fragment is ignored."""
    parts = urlsplit(link.target)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = unquote(parts.path)
    base = root if path.startswith("/") else link.source.parent
    return (base / path.lstrip("/")).resolve()


def broken_links(root: Path, files: list[Path]) -> list[tuple[Link, str]]:
    """(link, why) for each relative link in `files` whose target is missing or outside `root`."""
    root = root.resolve()
    broken = []
    for file in files:
        for link in links_in(file):
            target = local_target(link, root)
            if target is None:
                continue
            if not target.exists():
                broken.append((link, "does not resolve"))
            elif not target.is_relative_to(root):
                broken.append((link, f"points outside {root.name}/"))
    return broken


def link_problems(skill_dir: Path, files: list[Path]) -> list[str]:
    return [
        f"{link.source.relative_to(skill_dir)}:{link.line}: link to {link.target} {why}"
        for link, why in broken_links(skill_dir, files)
    ]


def linked_files(skill_dir: Path, files: list[Path]) -> set[Path]:
    targets = (local_target(link, skill_dir.resolve()) for file in files for link in links_in(file))
    return {target for target in targets if target is not None}


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
    problems += link_problems(skill_dir, [skill_md, *reference_files])
    from_skill = linked_files(skill_dir, [skill_md])
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
