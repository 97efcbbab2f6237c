"""Every relative link in a folder's Markdown files resolves to a file or folder inside it.

    dlt-dagster-evals links DIR

The rules are scripts/validate.py's (one link checker: links, images and reference-style
links read with markdown-it-py; URLs with a scheme or host are not fetched; a #fragment is
ignored); this applies them to every Markdown file under DIR, e.g. an installed copy.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from evals.skill import validate

SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache"}


def markdown_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.md")):
        if not SKIPPED_DIRS.intersection(path.relative_to(root).parts):
            yield path


def broken_links(root: Path) -> list[validate.Link]:
    """Relative links in root's Markdown files whose target is missing or lies outside root."""
    return [link for link, _ in validate.broken_links(root, list(markdown_files(root)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlt-dagster-evals links", description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="folder whose Markdown files to check")
    args = parser.parse_args(argv)
    broken = validate.broken_links(args.root, list(markdown_files(args.root)))
    for link, why in broken:
        print(f"broken link: {link} ({why})", file=sys.stderr)
    print(f"{len(broken)} broken link(s) in {args.root}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
