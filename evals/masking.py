"""Mask secret values in everything the harness prints or writes.

An env var is secret when its name contains TOKEN, PASSWORD, SECRET, KEY or CREDENTIALS
(case-insensitive); its value is replaced by *** wherever it appears.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|KEY|CREDENTIALS", re.IGNORECASE)
MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values (e.g. "1") would mask innocent text everywhere


def secret_values(*envs: Mapping[str, str]) -> list[str]:
    values = {
        value
        for env in envs
        for name, value in env.items()
        if SECRET_NAME.search(name) and len(value) >= MIN_SECRET_LENGTH
    }
    return sorted(values, key=len, reverse=True)  # longest first: a secret may contain another


def mask(text: str, secrets: Iterable[str]) -> str:
    for value in secrets:
        text = text.replace(value, MASK)
    return text
