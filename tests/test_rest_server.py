"""The loopback JSON API pages, filters and logs like the evals need."""

from __future__ import annotations

import json
import urllib.error
from urllib.parse import urlencode
from urllib.request import urlopen

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
