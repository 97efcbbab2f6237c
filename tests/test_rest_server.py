"""The loopback JSON API pages, filters and logs like the evals need."""

from __future__ import annotations

import json
import urllib.error
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest

from evals.rest_server import RestApiServer


def get(url: str) -> dict:
    with urlopen(url, timeout=5) as response:
        return json.load(response)


def test_pages_follow_next_links_until_exhausted():
    with RestApiServer({"items": 5}, page_size=2) as api:
        url, ids = f"{api.url}items", []
        while url:
            body = get(url)
            ids += [r["id"] for r in body["data"]]
            url = body["next"]
        assert ids == [1, 2, 3, 4, 5]
        assert [r.query.get("page", "1") for r in api.requests] == ["1", "2", "3"]


def test_records_added_later_are_served_and_filterable_by_cursor():
    with RestApiServer({"items": 2}, page_size=10) as api:
        first = get(f"{api.url}items")["data"]
        api.add_records("items", 3)
        cursor = urlencode({"updated_since": first[-1]["updated_at"]})
        newer = get(f"{api.url}items?{cursor}")["data"]
        assert [r["id"] for r in newer] == [2, 3, 4, 5]  # since is inclusive
        assert api.requests[-1].query == {"updated_since": first[-1]["updated_at"]}


@pytest.mark.parametrize(("path", "status"), [("nope", 404), ("items?updated_since=yesterday", 400)])
def test_bad_requests_get_an_error_status(path, status):
    with RestApiServer({"items": 1}) as api:
        with pytest.raises(urllib.error.HTTPError) as info:
            get(f"{api.url}{path}")
        assert info.value.code == status


def get_full(url: str, headers: dict[str, str] | None = None):
    request = Request(url, headers=headers or {})
    with urlopen(request, timeout=5) as response:
        return json.load(response), dict(response.headers)


def ids_of(records: list[dict]) -> list[int]:
    return [r["id"] for r in records]


def test_plain_list_has_every_record_in_one_answer():
    with RestApiServer({"items": 5}, paginator="none") as api:
        body, _ = get_full(f"{api.url}items")
        assert ids_of(body) == [1, 2, 3, 4, 5]


def test_header_link_pages_through_the_link_header():
    with RestApiServer({"items": 5}, paginator="header_link", page_size=2) as api:
        url, ids = f"{api.url}items", []
        while url:
            body, headers = get_full(url)
            ids += ids_of(body)
            link = headers.get("Link")
            url = link[1 : link.index(">")] if link else None
        assert ids == [1, 2, 3, 4, 5]


def test_offset_page_number_and_cursor_shapes():
    with RestApiServer({"items": 5}, paginator="offset", page_size=2) as api:
        body, _ = get_full(f"{api.url}items?offset=3&limit=2")
        assert ids_of(body["data"]) == [4, 5] and body["total"] == 5
    with RestApiServer({"items": 5}, paginator="page_number", page_size=2) as api:
        body, _ = get_full(f"{api.url}items?page=3")
        assert ids_of(body["data"]) == [5] and body["total_pages"] == 3
    with RestApiServer({"items": 5}, paginator="cursor", page_size=2) as api:
        cursor, ids = None, []
        for _ in range(5):
            body, _ = get_full(f"{api.url}items" + (f"?cursor={cursor}" if cursor else ""))
            ids += ids_of(body["data"])
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert ids == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("auth", "good", "bad"),
    [
        ({"type": "bearer", "token": "t0k"}, {"Authorization": "Bearer t0k"}, {"Authorization": "Bearer no"}),
        ({"type": "api_key", "name": "X-API-Key", "api_key": "k3y"}, {"X-API-Key": "k3y"}, {}),
    ],
)
def test_auth_needs_the_right_secret(auth, good, bad):
    with RestApiServer({"items": 1}, auth=auth) as api:
        body, _ = get_full(f"{api.url}items", good)
        assert ids_of(body["data"]) == [1]
        with pytest.raises(urllib.error.HTTPError) as info:
            get_full(f"{api.url}items", bad)
        assert info.value.code == 401


def test_api_key_in_the_query():
    auth = {"type": "api_key", "name": "key", "location": "query", "api_key": "k3y"}
    with RestApiServer({"items": 1}, auth=auth) as api:
        assert ids_of(get_full(f"{api.url}items?key=k3y")[0]["data"]) == [1]
        with pytest.raises(urllib.error.HTTPError):
            get_full(f"{api.url}items?key=nope")


def test_custom_window_params_in_the_format_the_api_expects():
    with RestApiServer({"items": 30}, since_param="since", until_param="until", window_format="date") as api:
        body, _ = get_full(f"{api.url}items?since=2026-01-02&until=2026-01-03")
        assert body["data"][0]["id"] == 24  # 2026-01-02T00:00 is record 24
        with pytest.raises(urllib.error.HTTPError) as info:  # a datetime where a date is expected
            get_full(f"{api.url}items?since=2026-01-02T00:00:00%2B00:00")
        assert info.value.code == 400


def test_an_edited_record_is_listed_again_after_every_record_with_a_later_cursor():
    with RestApiServer({"orders": 3}, page_size=10, paginator="none", edited={"orders": [2]}) as api:
        body = get(f"{api.url}orders")
        assert [(r["id"], r["name"]) for r in body] == [
            (1, "orders-1"),
            (2, "orders-2"),
            (3, "orders-3"),
            (2, "orders-2-edited"),
        ]
        assert body[-1]["updated_at"] > body[2]["updated_at"]
        since = get(f"{api.url}orders?{urlencode({'updated_since': body[2]['updated_at']})}")
        assert [r["name"] for r in since] == ["orders-3", "orders-2-edited"]
        api.add_records("orders", 1)
        assert get(f"{api.url}orders")[-1]["id"] == 4  # the next id, not a second 4th entry
