"""A source's configuration, in dlt's own vocabulary, for scaffold.py and the templates.

One file (YAML or JSON) describes the source, whatever its kind:

- rest_api: a dlt `RESTAPIConfig` (client, resource_defaults, resources), validated with
  dlt's own `validate_dict` against dlt's TypedDicts;
- sql_database and filesystem: the formats of assets/templates/source-config/*.schema.json;
- any kind may add a `dagster:` block (assets/templates/source-config/dagster.schema.json):
  partitions, and the format in which the incremental window reaches the API.

`prepare()` checks the config, takes every secret out (the generated code reads it from
dlt config/env, `SOURCES__<SOURCE>__<KEY>`) and returns what the templates render: the
config as Python source, the env vars the code reads, the packages it needs. The
shorthand flags (--base-url, --resources, --incremental-cursor) build the same config
(`from_shorthand`), so both paths write the same code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from schema_problems import Problem, schema_problems  # a sibling: scripts/ is on sys.path

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "assets" / "templates" / "source-config"
KINDS = ("rest_api", "sql_database", "filesystem")
# The auth keys dlt masks as secrets (dlt.sources.rest_api.SENSITIVE_KEYS), and the ones
# each auth type needs, so a config that leaves them out still reads them from env.
SENSITIVE_KEYS = (
    "api_key", "access_token", "client_secret", "apikey", "access-token", "pwd", "token",
    "password", "secret", "key", "api-key", "username", "client_id",
)  # fmt: skip
REQUIRED_SECRETS = {
    "bearer": ("token",),
    "api_key": ("api_key",),
    "http_basic": ("username", "password"),
    "oauth2_client_credentials": ("client_id", "client_secret"),
}
WINDOW_FORMATS = ("datetime", "date", "naive", "unix")
# A cursor_path whose column name dlt keeps as is, nested fields joined by "__"
PLAIN_CURSOR_PATH = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$")
DEFAULT_SQL_BACKEND = "pyarrow"  # when the config names none, into FAST_ARROW (Prepared.sql_backend)
FAST_ARROW = ("duckdb", "postgres")  # destinations where the benchmark measured Arrow faster
READERS = {"csv": "read_csv", "jsonl": "read_jsonl", "parquet": "read_parquet"}
READER_PACKAGES = {"csv": ["pandas"], "parquet": ["pyarrow"], "jsonl": []}
# A SQL cursor's data_type -> (the dlt.common.time function the generated code parses the
# window's strings with, how scaffold.py checks an initial_value, an example value).
CURSOR_PARSERS = {
    "timestamp": (
        "ensure_pendulum_datetime",
        lambda value: datetime.fromisoformat(value.replace("Z", "+00:00")),
        '"2026-01-01T00:00:00Z"',
    ),
    "date": ("ensure_pendulum_date", date.fromisoformat, '"2026-01-01"'),
}


class SourceConfigError(Exception):
    """The config is unusable; the message is one line naming the file and the field."""


class Code(str):
    """Python source written into the generated file as is (a name, a call), not quoted."""


@dataclass
class Prepared:
    """What the templates render for a config-driven source."""

    kind: str
    config: dict[str, Any]  # with Code where the generated code computes a value
    secrets: list[str] = field(default_factory=list)  # env vars the code reads secrets from
    incremental: bool = False  # some resource has an incremental cursor
    backfill: bool = False  # an end value is offered (only on resources merged on a primary key)
    window_format: str = "datetime"
    partitions: dict[str, Any] | None = None
    packages: list[str] = field(default_factory=list)
    cursor_parsers: list[str] = field(default_factory=list)  # dlt.common.time functions the code calls
    notes: list[str] = field(default_factory=list)  # what scaffold.py tells the user about the config
    newest_wins: bool = False  # some resource got dedup_sort desc on its cursor column (_newest_wins)

    @staticmethod
    def cursor_parser(incremental: dict[str, Any]) -> str | None:
        """The dlt function that turns the window's strings into the cursor column's type."""
        return CURSOR_PARSERS.get(incremental.get("data_type"), (None, None))[0]

    @property
    def signature(self) -> str:
        """The source function's parameters: the window it loads, the static partition key."""
        parameters = []
        if self.incremental and self.kind != "filesystem":
            parameters.append("start=INITIAL_VALUE")
            if self.backfill:
                parameters.append("end=END_VALUE")
        if self.partitions and self.partitions["type"] == "static":
            parameters.append("partition=None")
        return ", ".join(parameters)

    def sql_backend(self, destination: str) -> str | None:
        """sql_database's backend: the config's; else pyarrow where it was measured faster with
        the same rows and types (DuckDB, PostgreSQL: references/fast-loads.md); else dlt's own
        default (None)."""
        return self.config.get("backend") or (DEFAULT_SQL_BACKEND if destination in FAST_ARROW else None)

    def arrow_tables(self, destination: str) -> bool:
        """Whether the source hands dlt Arrow tables (which lack _dlt_load_id/_dlt_id unless asked)."""
        if self.kind == "sql_database":
            return self.sql_backend(destination) not in (None, "sqlalchemy")
        return destination == "duckdb" and "read_parquet" in self.readers

    @property
    def readers(self) -> list[str]:
        """The dlt filesystem readers the code calls (read_csv, ...)."""
        if self.kind != "filesystem":
            return []
        names = [READERS[r.get("reader", "csv")] for r in self.config["resources"]]
        return sorted(set(names))


# ---------------------------------------------------------------- reading


class _StringDatesLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: `initial_value: 2026-01-01` stays the string the
    user wrote (the API and the cursor compare strings; a date object would not render)."""


_StringDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(path: Path) -> dict[str, Any]:
    """Read a YAML or JSON config; every problem is one line naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceConfigError(f"{path}: cannot read the source config: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SourceConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        data = yaml.load(text, Loader=_StringDatesLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourceConfigError(f"{path}{where}: not valid YAML or JSON: {problem}") from exc
    if not isinstance(data, dict):
        raise SourceConfigError(
            f"{path}: expected a mapping (a dlt RESTAPIConfig, or the SQL or filesystem format)"
        )
    return data


def detect_kind(config: dict[str, Any], given: str | None, path: Path) -> str:
    """The source kind a config describes; `given` (--source) must agree with it."""
    if "client" in config:
        kind = "rest_api"
    elif "tables" in config:
        kind = "sql_database"
    elif "resources" in config:
        kind = "filesystem"
    else:
        raise SourceConfigError(
            f"{path}: cannot tell the source kind: a REST config has `client`, a SQL config `tables`, "
            "a filesystem config `resources` with file globs"
        )
    if given not in (None, "custom", kind):
        raise SourceConfigError(f"{path}: --source {given} but the config describes a {kind} source")
    return kind


# ---------------------------------------------------------------- shorthand flags


def from_shorthand(variables: dict[str, Any]) -> dict[str, Any]:
    """The config the shorthand variables stand for (rest_api, sql_database, filesystem)."""
    kind, resources = variables["source_kind"], variables["resources"]
    cursor = variables.get("incremental_cursor")
    if kind == "rest_api":
        endpoint: dict[str, Any] = {"data_selector": "data"}
        if cursor:
            endpoint["incremental"] = {
                "cursor_path": cursor,
                "start_param": variables["start_param"],
                "end_param": variables["end_param"],
                "initial_value": variables["initial_value"],
            }
        return {
            "client": {
                "base_url": variables["base_url"],
                "paginator": {"type": "json_link", "next_url_path": "next"},
            },
            "resource_defaults": {"primary_key": "id", "write_disposition": "merge", "endpoint": endpoint},
            "resources": list(resources),
        }
    if kind == "sql_database":
        return {"tables": [{"name": name} for name in resources]}
    return {"resources": [{"name": name, "file_glob": f"{name}*.csv", "reader": "csv"} for name in resources]}


# ---------------------------------------------------------------- validation


def _schema_errors(kind: str, config: dict[str, Any]) -> list[Problem]:
    schema = json.loads((SCHEMAS_DIR / f"{kind}.schema.json").read_text(encoding="utf-8"))
    return schema_problems(schema, config)


def _field(path_parts) -> str:
    text = ""
    for part in path_parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(config)"


def _check_schema(kind: str, config: dict[str, Any], path: Path) -> None:
    errors = _schema_errors(kind, config)
    if errors:
        best = min(errors, key=lambda e: (-len(e.path), len(e.message)))
        raise SourceConfigError(f"{path}: {_field(best.path)}: {best.message}")


def _dlt_leaves(exc) -> list:
    nested = getattr(exc, "nested_exceptions", None)
    if not nested:
        return [exc]
    return [leaf for inner in nested for leaf in _dlt_leaves(inner)]


def _check_rest(config: dict[str, Any], path: Path) -> None:
    """dlt's own validation of a RESTAPIConfig (secrets already replaced by '***')."""
    try:
        from dlt.common.exceptions import DictValidationException
        from dlt.common.validation import validate_dict
        from dlt.sources.rest_api.typing import RESTAPIConfig
    except ImportError as exc:
        raise SourceConfigError(
            f"{path}: checking a REST config needs dlt: run scaffold.py with the project's interpreter "
            "(uv run python scaffold.py ...) after `uv add dagster-dlt dlt`"
        ) from exc
    try:
        validate_dict(RESTAPIConfig, config, path=".")
    except DictValidationException as exc:
        # A union (paginator, auth, resource) fails once per member: the deepest, shortest
        # complaint is the one that names the field the user got wrong.
        leaves = _dlt_leaves(exc)
        best = min(leaves, key=lambda e: (-e.path.count("/") - e.path.count("["), len(e.msg)))
        where = best.path.lstrip("./").replace("/", ".") or "(config)"
        raise SourceConfigError(f"{path}: {where}: {best.msg}") from exc


# ---------------------------------------------------------------- preparing


def _resource_dicts(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in config.get("resources", []) if isinstance(r, dict)]


def _take_secrets(auth: Any, source_name: str, found: list[str]) -> Any:
    """Replace the secrets of an auth block with dlt.secrets lookups; note their env vars."""
    if isinstance(auth, str) or not isinstance(auth, dict):
        return auth
    auth = dict(auth)
    auth_type = auth.get("type", "bearer")
    keys = [k for k in SENSITIVE_KEYS if k in auth]
    keys += [k for k in REQUIRED_SECRETS.get(auth_type, ()) if k not in keys]
    for key in keys:
        name = key.replace("-", "_")
        auth[key] = Code(f'dlt.secrets["sources.{source_name}.{name}"]')
        variable = f"SOURCES__{source_name.upper()}__{name.upper()}"
        if variable not in found:
            found.append(variable)
    return auth


def _masked(config: dict[str, Any]) -> dict[str, Any]:
    """A copy to validate, with every Code value as a plain placeholder string."""
    if isinstance(config, dict):
        return {k: _masked(v) for k, v in config.items()}
    if isinstance(config, list):
        return [_masked(v) for v in config]
    return "***" if isinstance(config, Code) else config


def _merges_on_key(resource: dict[str, Any], defaults: dict[str, Any]) -> bool:
    disposition = resource.get("write_disposition", defaults.get("write_disposition", "append"))
    if isinstance(disposition, dict):
        disposition = disposition.get("disposition")
    return disposition == "merge" and bool(resource.get("primary_key", defaults.get("primary_key")))


def _deduplicates(resource: dict[str, Any], defaults: dict[str, Any]) -> bool:
    """Whether dlt's default merge (delete-insert) runs, which keeps one row per key."""
    disposition = resource.get("write_disposition", defaults.get("write_disposition"))
    strategy = (
        disposition.get("strategy", "delete-insert") if isinstance(disposition, dict) else "delete-insert"
    )
    return _merges_on_key(resource, defaults) and strategy == "delete-insert"


def _newest_wins(resource: dict[str, Any], defaults: dict[str, Any], cursor_path: Any) -> str | None:
    """Make the newest version of a key win a merge: `dedup_sort: desc` on the cursor column.

    Without it dlt keeps an arbitrary row per key of one load (the first one read, on
    DuckDB): the older version, for an API read oldest first (references/
    incremental-backfill-parallel.md). Returns a note when it cannot set the hint itself."""
    if not _deduplicates(resource, defaults):
        return None
    name = resource.get("name", "resource_defaults")
    if not isinstance(cursor_path, str) or not PLAIN_CURSOR_PATH.match(cursor_path):
        return (
            f"{name}: set the dedup_sort: desc hint on the column of cursor_path {cursor_path!r} "
            "yourself (columns: {COLUMN: {dedup_sort: desc}}), so that a merge keeps the newest "
            "version of a key that comes twice in one load"
        )
    column = cursor_path.replace(".", "__")
    columns = resource.setdefault("columns", {})
    if not isinstance(columns, dict):
        return f"{name}: columns is not a mapping; add dedup_sort: desc to column {column!r} yourself"
    if not any(isinstance(hints, dict) and "dedup_sort" in hints for hints in columns.values()):
        columns[column] = {**(columns.get(column) or {}), "dedup_sort": "desc"}
    return None


def _window(incremental: dict[str, Any], safe: bool, convert: bool) -> dict[str, Any]:
    """The incremental block with its window from the source function's start/end."""
    incremental = dict(incremental)
    initial = incremental.get("initial_value")
    incremental["initial_value"] = Code(f"start or {literal(initial)}" if initial is not None else "start")
    if safe:
        end = incremental.get("end_value")
        incremental["end_value"] = Code(f"end or {literal(end)}" if end is not None else "end")
    if convert:
        incremental["convert"] = Code("to_api_window")
    return incremental


def _prepare_rest(
    config: dict[str, Any], source_name: str, path: Path, options: dict[str, Any], validate_with_dlt: bool
) -> Prepared:
    config = json.loads(json.dumps(config))  # a deep copy of plain data
    secrets: list[str] = []
    client = config.get("client")
    if isinstance(client, dict) and "auth" in client:
        client["auth"] = _take_secrets(client["auth"], source_name, secrets)
    for resource in [config.get("resource_defaults") or {}, *_resource_dicts(config)]:
        endpoint = resource.get("endpoint")
        if isinstance(endpoint, dict) and "auth" in endpoint:
            endpoint["auth"] = _take_secrets(endpoint["auth"], source_name, secrets)
    if validate_with_dlt:
        _check_rest(_masked(config), path)
    window_format = options.get("window_format", "datetime")
    convert = window_format != "datetime"
    defaults = config["resource_defaults"] = config.get("resource_defaults") or {}
    # Endpoints extracted side by side, in threads: the skill's speed default (references/fast-loads.md)
    defaults.setdefault("parallelized", True)
    prepared = Prepared(kind="rest_api", config=config, secrets=secrets, window_format=window_format)
    unsafe = []
    for resource in [defaults, *_resource_dicts(config)]:
        endpoint = resource.get("endpoint")
        if isinstance(endpoint, dict) and isinstance(endpoint.get("incremental"), dict):
            inherited = defaults if resource is not defaults else {}
            safe = _merges_on_key(resource, inherited)
            columns_before = json.dumps(resource.get("columns"))
            note = _newest_wins(resource, inherited, endpoint["incremental"].get("cursor_path"))
            prepared.notes += [note] if note else []
            prepared.newest_wins |= json.dumps(resource.get("columns")) != columns_before
            endpoint["incremental"] = _window(endpoint["incremental"], safe, convert)
            prepared.incremental = True
            prepared.backfill = prepared.backfill or safe
            if not safe:
                unsafe.append(resource.get("name", "resource_defaults"))
    partitions = options.get("partitions")
    if partitions:
        if partitions["type"] == "static" and prepared.incremental:
            raise SourceConfigError(
                f"{path}: dagster.partitions: static partitions and an incremental cursor would share "
                "one stored cursor across keys; use time partitions, or drop the incremental"
            )
        if partitions["type"] != "static" and not prepared.incremental:
            raise SourceConfigError(
                f"{path}: dagster.partitions: {partitions['type']} partitions bound an incremental "
                "window: give a resource (or resource_defaults) an endpoint.incremental with "
                "start_param and end_param"
            )
        if unsafe:
            raise SourceConfigError(
                f"{path}: dagster.partitions: {', '.join(map(str, unsafe))} appends: re-running a partition "
                "would duplicate its rows; set write_disposition: merge and a primary_key"
            )
        if partitions["type"] == "static":
            _bind_static_partition(config, partitions)
        prepared.partitions = partitions
    return prepared


def _bind_static_partition(config: dict[str, Any], partitions: dict[str, Any]) -> None:
    """Every resource sends the partition key as the `param` query parameter."""
    defaults = config.setdefault("resource_defaults", {})
    endpoint = defaults.setdefault("endpoint", {})
    if isinstance(endpoint, str):
        endpoint = defaults["endpoint"] = {"path": endpoint}
    endpoint.setdefault("params", {})[partitions["param"]] = Code("partition")


def _check_typed_cursor(table: dict[str, Any], path: Path) -> None:
    """A typed cursor's initial_value must parse, or the first run would fail on it."""
    incremental = table["incremental"]
    value = incremental.get("initial_value")
    data_type = incremental.get("data_type")
    if data_type not in CURSOR_PARSERS or value is None:
        return
    parse, example = CURSOR_PARSERS[data_type][1:]
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        parse(value)
    except ValueError:
        raise SourceConfigError(
            f"{path}: tables.{table['name']}.incremental.initial_value: {value!r} is not an ISO 8601 "
            f"{data_type} (data_type {data_type}), e.g. {example}"
        ) from None


def _prepare_sql(config: dict[str, Any], path: Path) -> Prepared:
    if "credentials" in config:  # named without its value, which may hold a password
        raise SourceConfigError(
            f"{path}: credentials: never put credentials in the config; "
            "set SOURCES__SQL_DATABASE__CREDENTIALS (a SQLAlchemy URL) in the environment"
        )
    _check_schema("sql_database", config, path)
    prepared = Prepared(kind="sql_database", config=config, secrets=["SOURCES__SQL_DATABASE__CREDENTIALS"])
    for table in config["tables"]:
        if "incremental" in table:
            prepared.incremental = True
            prepared.backfill = prepared.backfill or _merges_on_key(table, {})
            _check_typed_cursor(table, path)
            parser = Prepared.cursor_parser(table["incremental"])
            if parser and parser not in prepared.cursor_parsers:
                prepared.cursor_parsers.append(parser)
    if config.get("backend") in ("pyarrow", "connectorx"):
        prepared.packages = ["pyarrow"] if config["backend"] == "pyarrow" else ["connectorx", "pyarrow"]
    elif config.get("backend") == "pandas":
        prepared.packages = ["pandas"]
    return prepared


def _prepare_filesystem(config: dict[str, Any], path: Path) -> Prepared:
    _check_schema("filesystem", config, path)
    prepared = Prepared(kind="filesystem", config=config)
    if "bucket_url" not in config:
        prepared.secrets.append("SOURCES__FILESYSTEM__BUCKET_URL")
    packages: list[str] = []
    for resource in config["resources"]:
        prepared.incremental = prepared.incremental or bool(resource.get("incremental"))
        packages += [p for p in READER_PACKAGES[resource.get("reader", "csv")] if p not in packages]
    prepared.packages = packages
    return prepared


def prepare(
    config: dict[str, Any], kind: str, source_name: str, path: Path, validate_with_dlt: bool = True
) -> Prepared:
    """Check a config of `kind` and make it ready to render; raises SourceConfigError.

    validate_with_dlt=False skips dlt's own check of a REST config (it imports dlt): for
    configs the shorthand flags built, and for rendering what scaffold.py already checked."""
    config = dict(config)
    options = config.pop("dagster", None) or {}
    if options:
        errors = _schema_errors("dagster", options)
        if errors:
            best = min(errors, key=lambda e: (-len(e.path), len(e.message)))
            raise SourceConfigError(f"{path}: {_field(['dagster', *best.path])}: {best.message}")
        if kind != "rest_api":
            raise SourceConfigError(
                f"{path}: dagster: partitions and window_format apply to rest_api sources"
            )
    if kind == "rest_api":
        return _prepare_rest(config, source_name, path, options, validate_with_dlt)
    if kind == "sql_database":
        return _prepare_sql(config, path)
    return _prepare_filesystem(config, path)


# ---------------------------------------------------------------- rendering


def literal(value: Any, indent: int = 0) -> str:
    """`value` as a Python literal, 4-space indented from `indent` levels; Code as is."""
    pad, inner = "    " * indent, "    " * (indent + 1)
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        flat = "{" + ", ".join(f"{json.dumps(k)}: {literal(v)}" for k, v in value.items()) + "}"
        if all(not isinstance(v, (dict, list)) for v in value.values()) and len(flat) + len(inner) <= 90:
            return flat
        items = [f"{inner}{json.dumps(k)}: {literal(v, indent + 1)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        flat = "[" + ", ".join(literal(v) for v in value) + "]"
        if all(not isinstance(v, (dict, list)) for v in value) and len(flat) + len(inner) <= 100:
            return flat
        return "[\n" + "\n".join(f"{inner}{literal(v, indent + 1)}," for v in value) + f"\n{pad}]"
    if isinstance(value, str):
        return json.dumps(value)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    raise SourceConfigError(f"cannot write {value!r} ({type(value).__name__}) into Python code")


# ---------------------------------------------------------------- scaffold.py


def resource_names(kind: str, config: dict[str, Any]) -> list[str]:
    if kind == "sql_database":
        return [table["name"] for table in config["tables"]]
    return [r if isinstance(r, str) else r.get("name") for r in config["resources"]]


def from_file(path: Path, given_kind: str | None, source_name: str) -> tuple[dict[str, Any], Prepared]:
    """Template variables for a --source-config file, and the checked source they render."""
    config = load(path)
    kind = detect_kind(config, given_kind, path)
    prepared = prepare(config, kind, source_name, path)
    names = resource_names(kind, {k: v for k, v in config.items() if k != "dagster"})
    return {"source_kind": kind, "source_config": config, "resources": names}, prepared
