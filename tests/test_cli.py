"""One `dlt-dagster-evals` CLI: the evals by default, the other tools as subcommands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from evals.cli import main
from evals.skill import SKILL_ROOT


def test_without_a_subcommand_the_evals_run_and_name_what_matched_nothing(capsys):
    assert main(["-k", "no-case-is-named-this", "--no-scenarios"]) == 2
    assert "no cases found" in capsys.readouterr().err
    assert main(["run", "-k", "no-case-is-named-this", "--no-docs"]) == 2


def test_links_and_summary_are_subcommands(tmp_path, capsys):
    (tmp_path / "ok.md").write_text("[self](ok.md)\n", encoding="utf-8")
    assert main(["links", str(tmp_path)]) == 0
    (tmp_path / "bad.md").write_text("[gone](gone.md)\n", encoding="utf-8")
    assert main(["links", str(tmp_path)]) == 1
    assert f"broken link: {tmp_path / 'bad.md'}:1: gone.md" in capsys.readouterr().err
    assert main(["summary", "--junit", str(tmp_path / "missing.xml")]) == 0
    assert "No JUnit report at" in capsys.readouterr().out


def test_an_unknown_benchmark_is_refused_naming_the_known_ones(capsys):
    assert main(["bench", "no_such_benchmark"]) == 2
    assert "fast_vs_faithful" in capsys.readouterr().err


def test_the_installed_script_and_old_module_paths_still_work():
    script = [str(Path(sys.executable).parent / "dlt-dagster-evals"), "walkthrough", "--help"]
    for command in (script, [sys.executable, "-m", "evals.walkthrough", "--help"]):
        done = subprocess.run(command, capture_output=True, text=True, cwd=SKILL_ROOT, timeout=120)
        assert done.returncode == 0 and "quick start" in done.stdout.lower(), done.stderr
