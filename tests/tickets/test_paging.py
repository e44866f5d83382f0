"""The ticket list in pages: 50 by default, a Link rel="next" header on the API, previous / next links on the page."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from tests.factories import login, make_ticket


def _next_link(resp) -> str | None:
    m = re.fullmatch(r'<([^>]+)>; rel="next"', resp.headers.get("Link", ""))
    return m.group(1) if m else None


def test_default_page_is_50_and_the_next_page_is_announced(client, w):
    base = datetime(2030, 1, 1)
    made = [make_ticket(w.lab, deadline=base + timedelta(hours=i)) for i in range(51)]
    login(client, w.leader)
    resp = client.get("/api/tickets")
    first = resp.get_json()
    assert isinstance(first, list) and [t["id"] for t in first] == [t.id for t in made[:50]]
    nxt = _next_link(resp)
    assert nxt and nxt.startswith("/api/tickets?") and "offset=50" in nxt and "limit=50" in nxt
    resp = client.get(nxt)
    assert [t["id"] for t in resp.get_json()] == [made[50].id] and "Link" not in resp.headers
    # The HTML list: 50 tickets and a next link, then the last one with a previous link only.
    page = client.get("/tickets").get_data(as_text=True)
    assert page.count('<li class="ticket') == 50 and 'href="/tickets?offset=50" rel="next"' in page
    assert 'rel="prev"' not in page
    page = client.get("/tickets?offset=50").get_data(as_text=True)
    assert page.count('<li class="ticket') == 1 and 'rel="next"' not in page
    assert 'href="/tickets" rel="prev"' in page


def test_api_pages_keep_the_filters_and_offset(client, w):
    base = datetime(2030, 1, 1)
    made = [make_ticket(w.lab, deadline=base + timedelta(hours=i)) for i in range(5)]
    make_ticket(w.lab, severity="major")  # college level: filtered out below
    login(client, w.leader)
    seen, url = [], "/api/tickets?level=lab&limit=2&_=x"
    while url:
        resp = client.get(url)
        assert resp.status_code == 200
        seen += [t["id"] for t in resp.get_json()]
        url = _next_link(resp)
        if url:
            assert "level=lab" in url and "limit=2" in url and "_=x" in url
    assert seen == [t.id for t in made]
    assert [t["id"] for t in client.get("/api/tickets?level=lab&limit=2&offset=4").get_json()] == [made[4].id]
    # Exactly a full page: no next page announced.
    assert "Link" not in client.get("/api/tickets?level=lab&limit=5").headers
    # The lab's list pages the same way; its next link stays on the lab's path.
    resp = client.get(f"/api/labs/{w.lab.id}/tickets?limit=3")
    assert len(resp.get_json()) == 3 and _next_link(resp).startswith(f"/api/labs/{w.lab.id}/tickets?")
    assert "offset=3" in _next_link(resp)


def test_html_list_links_only_when_there_is_another_page(client, w):
    made = [make_ticket(w.lab, deadline=datetime(2020, 1, 1) + timedelta(hours=i)) for i in range(3)]
    login(client, w.leader)
    page = client.get("/tickets").get_data(as_text=True)
    assert 'rel="next"' not in page and 'rel="prev"' not in page and 'class="list-nav"' not in page
    page = client.get("/tickets?overdue=1&level=lab&limit=2").get_data(as_text=True)
    assert page.count('<li class="ticket') == 2
    nxt = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    assert "overdue=1" in nxt and "level=lab" in nxt and "limit=2" in nxt and "offset=2" in nxt
    page = client.get(nxt).get_data(as_text=True)
    assert f"/tickets/{made[2].id}" in page and 'rel="next"' not in page
    prev = re.search(r'href="([^"]+)" rel="prev"', page).group(1).replace("&amp;", "&")
    assert "overdue=1" in prev and "offset" not in prev
    # Labels translated (zh-CN is the default language).
    assert "上一页" in page


def test_home_style_query_still_works(client, w):
    make_ticket(w.lab)
    login(client, w.leader)
    resp = client.get("/api/tickets?state=open&limit=20")
    assert resp.status_code == 200 and len(resp.get_json()) == 1 and "Link" not in resp.headers
    assert client.get("/api/tickets?limit=501").status_code == 400
