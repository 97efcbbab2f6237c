"""Where the skill lives, and its templating module (scripts/templating.py), for the harness."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SKILL_ROOT = Path(__file__).resolve().parent.parent


def _load_templating():
    spec = importlib.util.spec_from_file_location("templating", SKILL_ROOT / "scripts" / "templating.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("templating", module)
    spec.loader.exec_module(module)
    return module


templating = _load_templating()
