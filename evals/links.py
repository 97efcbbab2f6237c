"""Every relative link in a folder's Markdown files resolves to a file or folder inside it.

Links are read with markdown-it-py (inline links, images and reference-style links, not
text that merely looks like a link inside code). External links (with a scheme such as
https: or mailto:) are not fetched: the network reaches no such host here. A link's
`#fragment` is ignored, and so is a link that is only a fragment.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache"}


@dataclass(frozen=True)
class Link:
    source: Path  # the Markdown file that holds the link
    line: int  # 1-based line of the block that holds it
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


def is_local(target: str) -> bool:
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and bool(parts.path)


def broken_links(root: Path) -> list[Link]:
    """Relative links in root's Markdown files whose target is missing or lies outside root."""
    root = root.resolve()
    broken = []
    for markdown_file in sorted(markdown_files(root)):
        for link in links_in(markdown_file):
            if not is_local(link.target):
                continue
            path = unquote(urlsplit(link.target).path)
            target = (root / path.lstrip("/")) if path.startswith("/") else (markdown_file.parent / path)
            target = target.resolve()
            if not target.exists() or not target.is_relative_to(root):
                broken.append(link)
    return broken


def markdown_files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*.md"):
        if not SKIPPED_DIRS.intersection(path.relative_to(root).parts):
            yield path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.links", description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="folder whose Markdown files to check")
    args = parser.parse_args(argv)
    broken = broken_links(args.root)
    for link in broken:
        print(f"broken link: {link}", file=sys.stderr)
    print(f"{len(broken)} broken link(s) in {args.root}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
