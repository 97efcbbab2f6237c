"""references/cloud-deployment.md, run: `dg plus deploy configure` as written, offline, no token.

Each `configure` block of the reference is read from the Markdown (its marker names the
test here) and run with the real `dg` in a fresh project laid out as create-dagster lays it
out, in a fresh git repository, with no Dagster+ login, no DAGSTER_CLOUD_* variables and
the proxies pointed at a closed port. What it writes is then checked with the validators
of the tools that read it: the workflow against the GitHub workflow schema check-jsonschema
vendors, `build.yaml` through dg's own loader, and the `dagster_cloud.yaml` that
`dg plus deploy` generates from them (dg's own function) through dagster-cloud-cli's check,
the one `dg plus deploy` runs before it deploys. The token and env var blocks push to
Dagster+; they run here up to the login check they stop at.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from evals import snippets
from evals.project import Project, create_project, isolated_env
from tests.test_workflow import OFFLINE, validate

DG = str(Path(sys.executable).parent / "dg")
WORKFLOW = Path(".github/workflows/dagster-plus-deploy.yml")
THIS = "tests/test_cloud_deployment.py"


def doc_command(test: str) -> list[str]:
    """The one `uv run dg ...` line of the block whose marker names `test`, as argv for dg."""
    (block,) = snippets.blocks_run_by(f"{THIS}::{test}")
    (line,) = [raw for raw in block.text.splitlines() if raw.strip() and not raw.startswith("#")]
    words = shlex.split(line)
    assert words[:3] == ["uv", "run", "dg"], line
    return words[3:]


def run_dg(args: list[str], project_root: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """The real dg in the project: no login, no DAGSTER_CLOUD_* variables, no network, no prompts."""
    env = {**isolated_env(Project(root=project_root, name=project_root.name), tmp_path), **OFFLINE}
    return subprocess.run(
        [DG, *args],
        cwd=project_root,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def new_project(tmp_path: Path) -> Path:
    project = create_project(tmp_path / "my_project", "my_project")
    subprocess.run(["git", "init", "-q", str(project.root)], check=True)
    return project.root


def configure(tmp_path: Path, test: str) -> tuple[Path, set[str], str]:
    """Run the block in a new project; return the root, the files it wrote and its output."""
    root = new_project(tmp_path)
    before = {p for p in root.rglob("*") if ".git" not in p.parts}
    done = run_dg(doc_command(test), root, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    written = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}
    written -= {str(p.relative_to(root)) for p in before}
    return root, written, done.stdout + done.stderr


def workflow(root: Path) -> dict:
    return yaml.safe_load((root / WORKFLOW).read_text(encoding="utf-8"))


def generated_dagster_cloud_yaml(root: Path, tmp_path: Path) -> tuple[dict, list[str]]:
    """The dagster_cloud.yaml `dg plus deploy` writes for this project, and dagster-cloud-cli's verdict."""
    from dagster_cloud_cli.commands.ci import checks
    from dagster_dg_cli.cli.utils import create_temp_dagster_cloud_yaml_file
    from dagster_dg_core.context import DgContext

    state = tmp_path / "deploy-state"
    state.mkdir()
    context = DgContext.for_workspace_or_project_environment(root, {})
    path = Path(create_temp_dagster_cloud_yaml_file(context, str(state)))
    return yaml.safe_load(path.read_text(encoding="utf-8")), checks.check_dagster_cloud_yaml(path).errors


def assert_common_workflow(root: Path, output: str) -> dict:
    done = validate(root / WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr
    flow = workflow(root)
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["branches"] == ["main", "master"]
    assert triggers["pull_request"]["types"] == ["opened", "synchronize", "reopened", "closed"]
    assert flow["env"]["DAGSTER_CLOUD_ORGANIZATION"] == "my-org"
    assert flow["env"]["DAGSTER_CLOUD_API_TOKEN"] == "${{ secrets.DAGSTER_CLOUD_API_TOKEN }}"
    (steps,) = [job["steps"] for job in flow["jobs"].values()]
    (init,) = [s for s in steps if "dg-deploy-init" in s.get("uses", "")]
    assert init["with"]["deployment"] == "prod"  # the base of each pull request's branch deployment
    assert any("prerun" in s.get("uses", "") for s in steps)  # closes the branch deployment of a closed PR
    assert (
        "dg plus create ci-api-token --description 'Used in my_project GitHub Actions' "
        "| gh secret set DAGSTER_CLOUD_API_TOKEN"
    ) in output
    assert any("uv sync" in str(s.get("run", "")) for s in steps)  # from uv.lock: commit it
    return flow


@pytest.mark.slow
def test_python_version_sets_the_dockerfile_but_not_the_serverless_workflow(tmp_path):
    root = new_project(tmp_path)
    args = doc_command("test_serverless_docker_configure_writes_dockerfile_and_build_yaml")
    done = run_dg([*args, "--python-version", "3.12"], root, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim AS builder" in (root / "Dockerfile").read_text()
    )
    assert workflow(root)["env"]["PYTHON_VERSION"] == "3.10"


@pytest.mark.slow
def test_without_the_options_configure_asks_and_stops_on_no_answer(tmp_path):
    root = new_project(tmp_path)
    done = run_dg(["plus", "deploy", "configure", "serverless", "--git-provider", "github"], root, tmp_path)
    assert done.returncode != 0
    assert "Dagster Plus organization name" in done.stdout + done.stderr
    assert not (root / WORKFLOW).exists()


@pytest.mark.slow
def test_serverless_configure_writes_only_the_workflow(tmp_path):
    root, written, output = configure(tmp_path, "test_serverless_configure_writes_only_the_workflow")
    assert written == {str(WORKFLOW)}
    flow = assert_common_workflow(root, output)
    assert flow["env"]["ENABLE_FAST_DEPLOYS"] == "true"
    # dg writes 3.10 here whatever the project runs (the reference says to edit it)
    assert flow["env"]["PYTHON_VERSION"] == "3.10"
    build = " ".join(
        str(s.get("with", {}).get("command", "")) for s in next(iter(flow["jobs"].values()))["steps"]
    )
    assert (
        "--build-strategy=${{ env.ENABLE_FAST_DEPLOYS == 'true' && 'python-executable' || 'docker' }}"
        in build
    )
    cloud_yaml, errors = generated_dagster_cloud_yaml(root, tmp_path)
    assert errors == []
    assert cloud_yaml == {
        "locations": [
            {"location_name": "my_project", "code_source": {"module_name": "my_project.definitions"}}
        ]
    }


@pytest.mark.slow
def test_serverless_docker_configure_writes_dockerfile_and_build_yaml(tmp_path):
    root, written, output = configure(
        tmp_path, "test_serverless_docker_configure_writes_dockerfile_and_build_yaml"
    )
    assert written == {str(WORKFLOW), "build.yaml", "Dockerfile"}
    flow = assert_common_workflow(root, output)
    assert flow["env"]["ENABLE_FAST_DEPLOYS"] == "false"
    # the PEX workflow differs in that one value only: switching later is editing it
    pex_root, _, _ = configure(tmp_path / "pex", "test_serverless_configure_writes_only_the_workflow")
    docker_lines = (root / WORKFLOW).read_text().splitlines()
    pex_lines = (pex_root / WORKFLOW).read_text().splitlines()
    assert [(a, b) for a, b in zip(pex_lines, docker_lines, strict=True) if a != b] == [
        ('  ENABLE_FAST_DEPLOYS: "true"', '  ENABLE_FAST_DEPLOYS: "false"')
    ]
    assert_dockerfile(root)
    cloud_yaml, errors = generated_dagster_cloud_yaml(root, tmp_path)
    assert errors == []
    assert cloud_yaml["locations"][0]["build"]["directory"] == str(root)


@pytest.mark.slow
def test_hybrid_configure_writes_dockerfile_build_yaml_and_container_context(tmp_path):
    root, written, output = configure(
        tmp_path, "test_hybrid_configure_writes_dockerfile_build_yaml_and_container_context"
    )
    assert written == {str(WORKFLOW), "build.yaml", "Dockerfile", "container_context.yaml"}
    flow = assert_common_workflow(root, output)
    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-repo"
    assert yaml.safe_load((root / "build.yaml").read_text())["registry"] == registry
    assert yaml.safe_load((root / "container_context.yaml").read_text()) is None  # every line a comment
    (steps,) = [job["steps"] for job in flow["jobs"].values()]
    assert any(s.get("uses") == "aws-actions/amazon-ecr-login@v2" for s in steps)
    for secret in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        assert f"gh secret set {secret} --body" in output
    (push,) = [s for s in steps if str(s.get("uses", "")).startswith("docker/build-push-action@")]
    assert push["with"]["push"] is True and push["with"]["tags"].startswith(f"{registry}:")
    # the hybrid workflow sets up Python ${{ env.PYTHON_VERSION }} but defines no PYTHON_VERSION
    assert "${{ env.PYTHON_VERSION }}" in (root / WORKFLOW).read_text()
    assert "PYTHON_VERSION" not in flow["env"]
    assert_dockerfile(root)
    cloud_yaml, errors = generated_dagster_cloud_yaml(root, tmp_path)
    assert errors == []
    assert cloud_yaml["locations"][0]["build"] == {"directory": str(root), "registry": registry}


def assert_dockerfile(root: Path) -> None:
    """The generated image builds from uv.lock with dg's Python and insists on `dagster-cloud`."""
    text = (root / "Dockerfile").read_text()
    assert f"FROM ghcr.io/astral-sh/uv:python3.{sys.version_info.minor}-bookworm-slim AS builder" in text
    assert "source=uv.lock,target=uv.lock" in text and "uv sync --frozen" in text
    assert "if ! dagster-cloud --version; then" in text


def test_a_hand_written_dagster_cloud_yaml_is_not_what_dg_plus_deploy_uses(tmp_path):
    root = new_project(tmp_path)
    (root / "dagster_cloud.yaml").write_text(
        "locations:\n  - location_name: hand_written\n    code_source:\n      module_name: elsewhere\n"
    )
    cloud_yaml, errors = generated_dagster_cloud_yaml(root, tmp_path)
    assert errors == []
    assert [loc["location_name"] for loc in cloud_yaml["locations"]] == ["my_project"]


def test_generated_dagster_cloud_yaml_check_rejects_a_broken_build_yaml(tmp_path):
    """The check above can fail: a build directory that does not exist is refused."""
    root = new_project(tmp_path)
    (root / "build.yaml").write_text("directory: ./no-such-folder\nregistry: example.com/repo\n")
    _, errors = generated_dagster_cloud_yaml(root, tmp_path)
    assert len(errors) == 1 and "Build directory" in errors[0] and "not found" in errors[0]


def block_argv(test: str) -> list[str]:
    """argv of the dg part of a skipped (pushing) block that names `test` in its reason."""
    blocks = [
        b
        for doc in snippets.documents()
        for b in snippets.extract(doc)
        if b.marker and f"{THIS}::{test}" in str(b.marker.get("skip", ""))
    ]
    (block,) = blocks
    (line,) = [raw for raw in block.text.splitlines() if raw.strip()]
    words = shlex.split(line.split(" | ")[0])
    assert words[:3] == ["uv", "run", "dg"], line
    return words[3:]


@pytest.mark.slow
def test_ci_api_token_block_stops_at_the_login_offline(tmp_path):
    root = new_project(tmp_path)
    args = block_argv("test_ci_api_token_block_stops_at_the_login_offline")
    assert args[:3] == ["plus", "create", "ci-api-token"] and "--description" in args
    done = run_dg(args, root, tmp_path)
    assert done.returncode != 0
    assert "requires authentication with Dagster Plus. Run `dg plus login` to authenticate." in done.stderr


@pytest.mark.slow
def test_create_env_block_reads_the_project_env_file_then_stops_at_the_login(tmp_path):
    root = new_project(tmp_path)
    args = block_argv("test_create_env_block_reads_the_project_env_file_then_stops_at_the_login")
    name = args[3]
    (root / ".env").write_text(f"{name}=from-dot-env\n")
    done = run_dg(args, root, tmp_path)
    assert done.returncode != 0
    assert f"Reading environment variable {name} from project .env file" in done.stdout
    assert "`dg plus` commands require authentication with Dagster Plus." in done.stderr


@pytest.mark.parametrize(
    ("command", "options"),
    [
        (["plus", "create", "env"], {"--from-local-env", "--scope", "--global", "--deployment", "--yes"}),
        (["plus", "create", "ci-api-token"], {"--description"}),
        (
            ["plus", "deploy", "configure", "serverless"],
            {"--git-provider", "--pex-deploy", "--python-version"},
        ),
        (
            ["plus", "deploy", "configure", "hybrid"],
            {"--agent-platform", "--registry-url", "--python-version"},
        ),
    ],
)
def test_options_the_reference_names_exist(command, options):
    """`dg ... --help` lists no options with typer 0.29 (it renders only typer's own), so read click's."""
    from dagster_dg_cli.cli.plus import plus_group

    found = plus_group
    for name in command[1:]:
        found = found.commands[name]
    assert options <= {opt for param in found.params for opt in param.opts}
    if command[-1] == "env":
        (scope,) = [p for p in found.params if p.name == "scope"]
        assert list(scope.type.choices) == ["full", "branch", "local"] and scope.multiple
        assert "Defaults to all scopes." in scope.help
