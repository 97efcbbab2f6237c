"""--shard K/N: the shards together run the whole suite, no case twice, balanced; reports merge."""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from evals import cli, scenarios, shards, snippets
from evals.cases import case_from_data, discover

TABLE = {"database": "x.duckdb", "table": "raw.x", "rows": 1}


def _case(name: str, launches: int = 1):
    data = {
        "name": name,
        "files": {"x.py": "import dagster\n"},
        "steps": [{"launch": {}}] * launches + [{"expect": {"tables": [TABLE]}}],
    }
    return case_from_data(data, Path(f"{name}.yaml"))


@pytest.fixture(scope="module")
def suite():
    return discover() + snippets.plan().cases + scenarios.load_cases()


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("recorded", ["committed", "none", "some"])
def test_shards_cover_the_whole_suite_and_no_case_twice(suite, count, recorded):
    committed = shards.load_durations()
    durations = {
        "committed": committed,
        "none": {},
        "some": dict(list(committed.items())[::3]) or {suite[0].name: 5.0},
    }[recorded]
    parts = [shards.pick(suite, shards.Shard(k, count), durations) for k in range(1, count + 1)]
    names = [c.name for part in parts for c in part]
    assert len(names) == len(set(names)), "a case is in two shards"
    assert sorted(names) == sorted(c.name for c in suite), "a case is in no shard"


def test_the_split_is_deterministic_whatever_the_order_of_the_cases(suite):
    durations = shards.load_durations()
    first = [{c.name for c in part} for part in shards.split(suite, 3, durations)]
    shuffled = list(suite)
    random.Random(7).shuffle(shuffled)
    assert [{c.name for c in part} for part in shards.split(shuffled, 3, durations)] == first


def test_shards_are_balanced_by_recorded_durations():
    cases = [_case(f"c{i:02d}") for i in range(12)]
    durations = {
        c.name: float(seconds)
        for c, seconds in zip(cases, [30, 1, 1, 1, 10, 10, 2, 2, 2, 9, 8, 4], strict=True)
    }
    parts = shards.split(cases, 3, durations)
    totals = sorted(sum(durations[c.name] for c in part) for part in parts)
    # longest first onto the lightest shard: no shard is more than the longest case above another
    assert totals[-1] - totals[0] <= max(durations.values())
    assert totals == [25.0, 25.0, 30.0]
    # the naive split (consecutive thirds) would put 33 s against 18 s
    naive = [sum(durations[c.name] for c in cases[i : i + 4]) for i in range(0, 12, 4)]
    assert max(naive) - min(naive) > totals[-1] - totals[0]


def test_without_recorded_durations_expected_cost_balances(suite):
    cases = [_case("long", launches=6), *[_case(f"short{i}") for i in range(6)]]
    parts = shards.split(cases, 2, {})
    assert [c.name for c in parts[0]] == ["long"]
    assert len(parts[1]) == 6


def test_an_unrecorded_case_is_weighed_like_the_recorded_ones_per_launch():
    cases = [_case("a"), _case("b"), _case("new", launches=3)]
    weights = shards.weights(cases, {"a": 4.0, "b": 6.0})
    assert weights["new"] == pytest.approx(15.0)  # 3 launches x median 5 s per launch


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "a/b", "1-2", ""])
def test_a_bad_shard_is_one_clear_error(text, capsys):
    with pytest.raises(shards.ShardError, match="--shard"):
        shards.parse(text)
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(["--shard", text])
    assert exit_info.value.code == 2
    assert "--shard" in capsys.readouterr().err


def _report(path: Path, names: list[str], failed: str | None = None) -> Path:
    cases = [
        {
            "name": name,
            "case_file": f"evals/cases/{name}.yaml",
            "passed": name != failed,
            "stage": "assert" if name != failed else "check",
            "message": "" if name != failed else "dg check defs failed",
            "output": "" if name != failed else "Traceback\nValueError: boom",
            "seconds": 1.5,
            "stage_seconds": {"render": 0.1},
        }
        for name in names
    ]
    path.write_text(json.dumps({"passed": 0, "failed": 0, "cases": cases}), encoding="utf-8")
    return path


def test_merged_reports_hold_every_shard_case_once(tmp_path):
    one = _report(tmp_path / "1.json", ["a", "b"])
    two = _report(tmp_path / "2.json", ["c"], failed="c")
    junit, summary = tmp_path / "all.xml", tmp_path / "all.md"
    code = shards.main(
        ["merge", "--shards", "2", str(one), str(two), "--junit", str(junit), "--summary", str(summary)]
    )
    assert code == 1  # a case failed
    suite = ET.parse(junit).getroot()
    assert [c.get("name") for c in suite.iter("testcase")] == ["a", "b", "c"]
    assert suite.get("failures") == "1"
    text = summary.read_text(encoding="utf-8")
    assert "2 passed, 1 failed" in text and "ValueError: boom" in text


def test_merge_refuses_a_case_reported_twice_or_a_missing_shard(tmp_path, capsys):
    one = _report(tmp_path / "1.json", ["a", "b"])
    two = _report(tmp_path / "2.json", ["b"])
    assert shards.main(["merge", "--shards", "2", str(one), str(two)]) == 2
    assert "case b ran twice" in capsys.readouterr().err
    assert shards.main(["merge", "--shards", "2", str(one)]) == 2
    assert "expected 2 shard report(s), found 1" in capsys.readouterr().err


def test_record_keeps_passed_cases_times(tmp_path):
    durations = tmp_path / "durations.json"
    durations.write_text(json.dumps({"old": 3.0}), encoding="utf-8")
    report = _report(tmp_path / "r.json", ["a", "c"], failed="c")
    assert shards.record([report], durations) == {"a": 1.5, "old": 3.0}
    assert json.loads(durations.read_text(encoding="utf-8")) == {"a": 1.5, "old": 3.0}
