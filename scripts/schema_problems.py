"""JSON Schema violations as structured problems: the one formatter the scripts and the evals use.

Each problem keeps what jsonschema found (the path in the document, the failing keyword,
the offending value and the keyword's value in the schema), so a caller can word it for its
reader without parsing jsonschema's sentences back out of text. str(problem) is
"path: jsonschema's message".

Needs jsonschema only, so every script can import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema


@dataclass(frozen=True)
class Problem:
    where: str  # the path in the document, "a/0/b", or the root's label
    message: str  # jsonschema's own message
    keyword: str  # the schema keyword that failed: "pattern", "enum", "not", "required", ...
    value: Any  # the offending value in the document
    expected: Any  # that keyword's value in the schema (the pattern, the choices, ...)
    path: tuple[str | int, ...] = ()  # the path in the document, as keys and indexes

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def schema_problems(schema: dict, document: Any, root: str = "(root)") -> list[Problem]:
    """Every violation of `schema` (JSON Schema 2020-12) in `document`, ordered by path."""
    errors = jsonschema.Draft202012Validator(schema).iter_errors(document)
    return [
        Problem(
            "/".join(map(str, e.path)) or root,
            e.message,
            str(e.validator),
            e.instance,
            e.validator_value,
            tuple(e.path),
        )
        for e in sorted(errors, key=lambda e: [str(part) for part in e.path])
    ]
