"""The marker fields troubleshooting entries use: `fixes`, `keep_executor`, `export`, `uv add`."""

from __future__ import annotations

import textwrap

from evals import snippets
from evals.cases import Launch

BROKEN_AND_FIXED = """
### An entry

<!-- eval: {group: broken, file: crm/loads.py, case: {without_packages: [pandas], env: {A: "1"}}} -->
```python
broken = True
```

<!-- eval: {group: broken, file: crm/defs.yaml, case: {check: {fails_with: "boom"}}} -->
```yaml
type: x
```

<!-- eval: {group: fixed, fixes: broken, file: crm/loads.py} -->
```python
broken = False
```

<!-- eval: {group: fixed, commands: true, keep_executor: true,
  expect: {tables: [{database: a.duckdb, table: s.t, rows: 1}]}} -->
```bash
uv add pandas
uv run dg check defs
uv run dg launch --assets '*'
```
"""


def write(tmp_path, text: str):
    doc = tmp_path / "troubleshooting.md"
    doc.write_text(textwrap.dedent(text), encoding="utf-8")
    return doc


def test_a_fix_group_is_the_broken_project_after_the_fix(tmp_path):
    result = snippets.plan([write(tmp_path, BROKEN_AND_FIXED)])
    assert result.coverage.failed == []
    fixed = next(c for c in result.cases if c.name.endswith("-fixed"))
    assert fixed.files == {"crm/loads.py": "broken = False\n", "crm/defs.yaml": "type: x\n"}
    assert fixed.env == {"A": "1"}  # kept: the project's own setting
    assert fixed.check_fails_with is None and fixed.without_packages == ()  # the failure is not
    (launch,) = [s for s in fixed.steps if isinstance(s, Launch)]
    assert launch.config == {} and launch.assets == "*"  # keep_executor: no in-process override


def test_fixes_must_name_a_group_of_the_same_document(tmp_path):
    text = BROKEN_AND_FIXED.replace("fixes: broken", "fixes: nowhere")
    result = snippets.plan([write(tmp_path, text)])
    assert any("fixes: no group 'nowhere'" in why for _, why in result.coverage.failed)


def test_uv_add_of_a_package_the_harness_lacks_is_refused(tmp_path):
    text = BROKEN_AND_FIXED.replace("uv add pandas", "uv add no-such-package-xyz")
    result = snippets.plan([write(tmp_path, text)])
    assert any("no-such-package-xyz is not installed here" in why for _, why in result.coverage.failed)


def test_an_export_needs_its_value_in_the_case_env(tmp_path):
    text = BROKEN_AND_FIXED.replace("uv add pandas", "export B=/path/for/the/user")
    result = snippets.plan([write(tmp_path, text)])
    assert any("`export B=...` needs the value" in why for _, why in result.coverage.failed)
    with_value = text.replace('env: {A: "1"}', 'env: {A: "1", B: "{data_dir}/b"}')
    assert snippets.plan([write(tmp_path, with_value)]).coverage.failed == []
