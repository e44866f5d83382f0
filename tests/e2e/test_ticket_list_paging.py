"""The PWA's ticket list in pages: the first 50, then "更多整改单 / More tickets" fetches the page the
API announced in its `Link: rel="next"` header, and disappears on the last page."""
from __future__ import annotations

from datetime import datetime, timedelta

from tests.factories import make_ticket

from .test_inspector_flow import _open, _world


def test_more_tickets_follows_the_link_header_to_the_last_page(phone, live_server):
    w = _world()
    base = datetime(2030, 1, 1)
    made = [make_ticket(w["lab"], deadline=base + timedelta(hours=i)) for i in range(53)]
    page = phone().new_page()
    api_calls = []
    page.on("request", lambda r: api_calls.append(r.url) if "/api/tickets" in r.url else None)
    _open(page, "/app/tickets", w["leader"])
    page.wait_for_url("**/app/tickets")
    items = page.locator("#ticket-list > li.ticket")
    page.wait_for_selector("#tickets-more:not([hidden])")
    assert items.count() == 50
    assert [a.get_attribute("href") for a in page.locator("#ticket-list > li.ticket a").all()] == \
        [f"/app/tickets/{t.id}" for t in made[:50]]
    page.locator("#tickets-more").click()
    page.wait_for_selector("#tickets-more", state="hidden")
    page.wait_for_selector(f'#ticket-list a[href="/app/tickets/{made[52].id}"]')
    hrefs = [a.get_attribute("href") for a in page.locator("#ticket-list > li.ticket a").all()]
    assert hrefs == [f"/app/tickets/{t.id}" for t in made]
    # Pages of exactly 50 (no extra ticket asked for), the second one the URL of the Link header.
    assert len(api_calls) == 2 and "limit=50" in api_calls[0] and "offset" not in api_calls[0]
    assert "limit=50" in api_calls[1] and "offset=50" in api_calls[1]


def test_a_filter_change_starts_again_without_a_more_button_when_all_fit(phone, live_server):
    w = _world()
    made = [make_ticket(w["lab"], deadline=datetime(2030, 1, 1) + timedelta(hours=i)) for i in range(51)]
    make_ticket(w["lab"], severity="major")  # college level
    page = phone().new_page()
    _open(page, "/app/tickets", w["leader"])
    page.wait_for_url("**/app/tickets")
    page.wait_for_selector("#tickets-more:not([hidden])")
    page.locator('#ticket-filters [name="level"]').select_option("college")
    page.wait_for_selector("#ticket-list > li.ticket:nth-child(2)", state="detached")  # the filtered list
    assert page.locator("#ticket-list > li.ticket").count() == 1
    assert page.locator("#tickets-more").is_hidden()
    assert page.locator(f'#ticket-list a[href="/app/tickets/{made[0].id}"]').count() == 0
