"""Environments without a package: the harness's own versions, minus exactly what a case names."""

from __future__ import annotations

import subprocess
from importlib import metadata

import pytest

from evals import environments
from evals.environments import EnvironmentBuildError, installed_requirements, requirements_without


def test_installed_requirements_pin_index_packages_and_leave_out_the_editable_harness():
    installed = installed_requirements()
    assert installed["dagster-dlt"] == metadata.version("dagster-dlt")
    assert installed["dlt"] == metadata.version("dlt")
    assert "dlt-dagster-skill" not in installed  # installed from this checkout, not an index


def test_requirements_without_drops_the_named_package_under_any_spelling():
    installed = {"dagster-dlt": "0.29.27", "dlt": "1.31.0", "pandas": "3.1.1"}
    assert requirements_without(["Dagster_DLT"], installed) == ["dlt==1.31.0", "pandas==3.1.1"]


def test_leaving_out_a_package_the_harness_lacks_is_refused():
    with pytest.raises(EnvironmentBuildError, match="does not have it, so the case would prove nothing"):
        requirements_without(["not-a-package"], {"dlt": "1.31.0"})


@pytest.mark.slow
def test_the_built_environment_lacks_the_package_and_keeps_the_rest(tmp_path):
    bin_dir = environments.build_without(["pandas"], tmp_path / "venv")
    probe = "import dagster, dagster_dlt, dlt; print(dagster.__version__, dlt.__version__); import pandas"
    done = subprocess.run([str(bin_dir / "python"), "-c", probe], capture_output=True, text=True)
    assert done.stdout.split() == [metadata.version("dagster"), metadata.version("dlt")]
    assert "No module named 'pandas'" in done.stderr
    assert (bin_dir / "dg").is_file()


def test_extra_requirements_are_new_names_pinned_or_not():
    installed = {"dagster": "1.13.27", "dlt": "1.31.0"}
    assert environments.extra_requirements(["Dagster_K8s==0.29.27", "dagster-aws"], installed) == {
        "dagster-k8s": "0.29.27",
        "dagster-aws": None,
    }
    with pytest.raises(EnvironmentBuildError, match="'dagster-k8s>=0.29' is not `name` or `name==version`"):
        environments.extra_requirements(["dagster-k8s>=0.29"], installed)
    with pytest.raises(EnvironmentBuildError, match="has dagster==1.13.27 already"):
        environments.extra_requirements(["dagster==1.13.0"], installed)


@pytest.mark.slow
def test_the_built_environment_adds_the_package_and_moves_nothing_else(tmp_path):
    """dagster-k8s, unpinned, comes as the release paired with the harness's dagster (0.29.27 for
    1.13.27), with its own dependencies (kubernetes), while dagster stays the harness's."""
    bin_dir = environments.build(tmp_path / "venv", with_=["dagster-k8s"])
    probe = (
        "from importlib import metadata\n"
        "import dagster_k8s, kubernetes\n"
        "print(metadata.version('dagster'), metadata.version('dagster-k8s'), metadata.version('dlt'))"
    )
    done = subprocess.run([str(bin_dir / "python"), "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    dagster = metadata.version("dagster")
    _, minor, patch = dagster.split(".")
    paired = f"0.{int(minor) + 16}.{patch}"  # dagster 1.N.P goes with integrations 0.(N+16).P
    assert done.stdout.split() == [dagster, paired, metadata.version("dlt")]
