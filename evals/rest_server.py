"""A small, real JSON API served over HTTP on loopback, for dlt's rest_api source.

GET /<resource>?page=N[&updated_since=ISO][&updated_until=ISO] answers (the window is
half-open, since <= updated_at < until, like dlt's incremental ranges)
    {"data": [records...], "next": "<absolute URL of the next page>" | null}
Records look like {"id": 1, "name": "items-1", "updated_at": "2026-01-01T01:00:00+00:00"}.
Tests add records between runs with add_records() and read what clients asked for in
requests (path and query of every GET), e.g. to prove an incremental cursor was sent.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


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
class RestApiServer:
    """Start with `with RestApiServer({"items": 5}) as api:`; api.url is the base URL."""

    counts: dict[str, int]
    page_size: int = 2
    host: str = "127.0.0.1"
    requests: list[LoggedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._records = {
            name: [make_record(name, i) for i in range(1, count + 1)] for name, count in self.counts.items()
        }
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
            start = len(records) + 1
            records.extend(make_record(resource, i) for i in range(start, start + n))

    def page(self, resource: str, query: dict[str, str]) -> dict | None:
        with self._lock:
            if resource not in self._records:
                return None
            records = list(self._records[resource])
        if "updated_since" in query:
            since = datetime.fromisoformat(query["updated_since"])
            records = [r for r in records if datetime.fromisoformat(r["updated_at"]) >= since]
        if "updated_until" in query:
            until = datetime.fromisoformat(query["updated_until"])
            records = [r for r in records if datetime.fromisoformat(r["updated_at"]) < until]
        page = int(query.get("page", "1"))
        start = (page - 1) * self.page_size
        chunk = records[start : start + self.page_size]
        next_url = None
        if start + self.page_size < len(records):
            next_url = f"{self.url}{resource}?{urlencode({**query, 'page': page + 1})}"
        return {"data": chunk, "next": next_url}

    def start(self) -> RestApiServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                parsed = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
                resource = parsed.path.strip("/")
                with server._lock:
                    server.requests.append(LoggedRequest(parsed.path, query))
                try:
                    body = server.page(resource, query)
                    status = 200 if body is not None else 404
                except ValueError as exc:  # a malformed page or cursor parameter
                    body, status = {"error": str(exc)}, 400
                payload = json.dumps(body if body is not None else {"error": "not found"})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
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
