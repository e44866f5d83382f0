"""The lab page's open-tickets card: the tickets domain's, shown once, states in tickets' labels."""
from __future__ import annotations

from tests.factories import login
from tests.factories.inspections import make_small_world
from tests.factories.tickets import make_ticket


def test_lab_page_shows_the_open_tickets_card_once(app, client):
    w = make_small_world()
    general = make_ticket(w.lab_a, title="通风橱故障")
    major = make_ticket(w.lab_a, title="危化品超量", severity="major")
    login(client, w.officer_a)
    html = client.get(f"/labs/{w.lab_a.id}").get_data(as_text=True)
    assert html.count('class="card lab-tickets"') == 1
    for t in (general, major):
        assert f'href="/tickets/{t.id}"' in html and t.title in html
    assert html.count("重大隐患") == 1  # the major one's tag
    assert html.count("· 待整改") == 2  # each ticket's state, as tickets label it (labels.state_label)
