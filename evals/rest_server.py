"""A small, real JSON API served over HTTP on loopback, for dlt's rest_api source.

It serves the shapes real APIs have, one per server (`paginator`):

- `json_link` (default): GET /<resource>?page=N answers {"data": [...], "next": URL | null}
- `none`: a plain JSON list of every record, no pagination
- `header_link`: a JSON list per page, the next page's URL in the `Link: <URL>; rel="next"` header
- `offset`: ?offset=N&limit=M answers {"data": [...], "total": T}
- `page_number`: ?page=N (from 1) answers {"data": [...], "total_pages": P}
- `cursor`: ?cursor=C answers {"data": [...], "next_cursor": C | null}

Records look like {"id": 1, "name": "items-1", "updated_at": "2026-01-01T01:00:00+00:00"}
(record N is updated N hours after 2026-01-01). `since_param` / `until_param` (default
updated_since / updated_until) filter on updated_at, half-open like dlt's incremental
ranges: since <= updated_at < until. `window_format` says which values the API accepts:
`datetime` (ISO 8601 with an offset), `date` (YYYY-MM-DD) or `naive` (ISO 8601 without an
offset, read as UTC); any other value gets 400, as a strict API would answer.
`auth` makes every request need a secret: {"type": "bearer", "token": T} or
{"type": "api_key", "name": "X-API-Key", "location": "header" | "query", "api_key": K};
a missing or wrong one gets 401.

`edited` lists some records twice: {"orders": [2]} serves record 2 again after every
record, as "orders-2-edited" with a later updated_at (an API that lists changes oldest
first, or a record edited while a client pages), so one load holds two versions of a key.

Tests add records between runs with add_records() and read what clients asked for in
requests (path and query of every GET), e.g. to prove an incremental cursor was sent.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
PAGINATORS = ("json_link", "none", "header_link", "offset", "page_number", "cursor")
WINDOW_FORMATS = {
    "datetime": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$"),
    "date": re.compile(r"^\d{4}-\d\d-\d\d$"),
    "naive": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$"),
}


def make_record(resource: str, record_id: int) -> dict:
    return {
        "id": record_id,
        "name": f"{resource}-{record_id}",
        "updated_at": (EPOCH + timedelta(hours=record_id)).isoformat(),
    }


@dataclass
class LoggedRequest:
    path: str
    query: dict[str, str]


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RestApiServer:
    """Start with `with RestApiServer({"items": 5}) as api:`; api.url is the base URL."""

    counts: dict[str, int]
    page_size: int = 2
    host: str = "127.0.0.1"
    paginator: str = "json_link"
    auth: dict[str, str] | None = None
    since_param: str = "updated_since"
    until_param: str = "updated_until"
    window_format: str = "datetime"
    edited: dict[str, list[int]] = field(default_factory=dict)
    requests: list[LoggedRequest] = field(default_factory=list)

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> RestApiServer:
        """A server from a case's `server:` block (evals/case.schema.json)."""
        options = {key: value for key, value in spec.items() if key != "resources"}
        return cls(spec["resources"], **options)

    def __post_init__(self) -> None:
        if self.paginator not in PAGINATORS:
            raise ValueError(f"unknown paginator {self.paginator!r}; choose one of {PAGINATORS}")
        if self.window_format not in WINDOW_FORMATS:
            raise ValueError(f"unknown window_format {self.window_format!r}")
        self._lock = threading.Lock()
        self._records = {
            name: [make_record(name, i) for i in range(1, count + 1)] for name, count in self.counts.items()
        }
        for name, ids in self.edited.items():
            records, last = self._records[name], len(self._records[name])
            for offset, record_id in enumerate(ids, start=1):
                later = (EPOCH + timedelta(hours=last + offset)).isoformat()
                records.append(
                    {**records[record_id - 1], "name": f"{name}-{record_id}-edited", "updated_at": later}
                )
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server is not running")
        return f"http://{self.host}:{self._httpd.server_address[1]}/"

    def add_records(self, resource: str, n: int) -> None:
        with self._lock:
            records = self._records.setdefault(resource, [])
            start = max((r["id"] for r in records), default=0) + 1
            records.extend(make_record(resource, i) for i in range(start, start + n))

    def _window_value(self, name: str, value: str) -> datetime:
        if not WINDOW_FORMATS[self.window_format].match(value):
            raise ValueError(f"{name}={value!r}: this API expects a {self.window_format} value")
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

    def _filtered(self, resource: str, query: dict[str, str]) -> list[dict] | None:
        with self._lock:
            if resource not in self._records:
                return None
            records = list(self._records[resource])
        if self.since_param in query:
            since = self._window_value(self.since_param, query[self.since_param])
            records = [r for r in records if datetime.fromisoformat(r["updated_at"]) >= since]
        if self.until_param in query:
            until = self._window_value(self.until_param, query[self.until_param])
            records = [r for r in records if datetime.fromisoformat(r["updated_at"]) < until]
        return records

    def respond(self, resource: str, query: dict[str, str], headers: dict[str, str]) -> Response:
        if self.auth is not None and not self._authorized(query, headers):
            return Response(401, {"error": "unauthorized: missing or wrong credentials"})
        records = self._filtered(resource, query)
        if records is None:
            return Response(404, {"error": "not found"})
        size = self.page_size
        if self.paginator == "none":
            return Response(200, records)
        if self.paginator == "offset":
            offset, limit = int(query.get("offset", "0")), int(query.get("limit", str(size)))
            return Response(200, {"data": records[offset : offset + limit], "total": len(records)})
        if self.paginator == "cursor":
            start = int(base64.urlsafe_b64decode(query["cursor"]).decode()) if "cursor" in query else 0
            more = start + size < len(records)
            next_cursor = base64.urlsafe_b64encode(str(start + size).encode()).decode() if more else None
            return Response(200, {"data": records[start : start + size], "next_cursor": next_cursor})
        page = int(query.get("page", "1"))
        if page < 1:
            raise ValueError(f"page={page}: pages start at 1")
        start = (page - 1) * size
        chunk = records[start : start + size]
        if self.paginator == "page_number":
            total_pages = max(1, -(-len(records) // size))
            return Response(200, {"data": chunk, "total_pages": total_pages})
        next_url = None
        if start + size < len(records):
            next_url = f"{self.url}{resource}?{urlencode({**query, 'page': page + 1})}"
        if self.paginator == "header_link":
            return Response(200, chunk, {"Link": f'<{next_url}>; rel="next"'} if next_url else {})
        return Response(200, {"data": chunk, "next": next_url})

    def _authorized(self, query: dict[str, str], headers: dict[str, str]) -> bool:
        auth = self.auth
        if auth["type"] == "bearer":
            return headers.get("authorization") == f"Bearer {auth['token']}"
        name = auth.get("name", "Authorization")
        given = query.get(name) if auth.get("location") == "query" else headers.get(name.lower())
        return given == auth["api_key"]

    def start(self) -> RestApiServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                parsed = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
                resource = parsed.path.strip("/")
                with server._lock:
                    server.requests.append(LoggedRequest(parsed.path, query))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    response = server.respond(resource, query, headers)
                except ValueError as exc:  # a malformed page, cursor or window parameter
                    response = Response(400, {"error": str(exc)})
                payload = json.dumps(response.body)
                self.send_response(response.status)
                self.send_header("Content-Type", "application/json")
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self._httpd = ThreadingHTTPServer((self.host, 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> RestApiServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
