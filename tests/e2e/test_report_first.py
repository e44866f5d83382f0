"""Report first, evidence after (issue 21): an offline inspection's report reaches the server
before its photos, its ticket opens at once, and the photo attaches itself when it lands.

The server is the real app behind a gate that, while closed, answers photo uploads as a dropped
signal would leave them: 503, so the phone keeps them queued and tries again later.
"""
from __future__ import annotations

import pytest

from app.inspections.models import Inspection
from app.photos.models import Photo
from app.tickets.models import RectificationTicket

from .conftest import serving
from .test_inspector_flow import _count, _queue_offline_inspection, _world


class PhotoGate:
    """WSGI middleware: while closed, photo uploads get 503; everything else passes untouched."""

    def __init__(self):
        self.app = None  # set by serving()
        self.closed = False
        self.log: list[str] = []  # "METHOD path" of every write, in arrival order

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if method in ("POST", "PUT", "PATCH") and path.startswith("/api/"):
            self.log.append(f"{method} {path}")
            if self.closed and path.startswith("/api/photos/"):
                start_response("503 Service Unavailable", [("Content-Type", "application/json")])
                return [b'{"error": {"status": 503, "code": "busy", "message": "signal lost"}}']
        return self.app(environ, start_response)


@pytest.fixture
def gate():
    return PhotoGate()


@pytest.fixture
def live_server(app, gate):
    with serving(app, gate) as port:
        yield f"http://127.0.0.1:{port}"


def test_the_report_reaches_the_server_before_its_photos_and_the_photo_attaches_when_it_lands(phone, live_server, gate):
    w = _world()
    ctx = phone()
    page = ctx.new_page()
    _queue_offline_inspection(ctx, page, w, note="通风橱未开启")
    page.wait_for_selector('#done-photos li[data-state="waiting"]')

    # The signal returns, but too weak for the photo: the report goes anyway, and its ticket opens.
    gate.closed = True
    ctx.set_offline(False)
    page.wait_for_selector('#done[data-state="submitted"]')
    assert _count(Inspection) == 1 and _count(RectificationTicket) == 1
    assert _count(Photo) == 0
    assert page.locator("#done-photos-box").get_attribute("data-done") == "0"
    assert page.locator("#done-tickets a").count() == 1
    page.wait_for_selector('#outbox-badge[data-count="1"]')  # only the photo waits

    # The ticket it opened says its evidence is arriving, not a broken image.
    ticket_page = ctx.new_page()
    ticket_page.goto(page.locator("#done-tickets a").get_attribute("href"))
    ticket_page.wait_for_selector(".photo-arriving")
    assert ticket_page.locator("img[src*='/photos/']").count() == 0

    # A better signal: the photo lands and attaches itself to the answer it was taken for.
    gate.closed = False
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector('#done-photos-box[data-done="1"]')
    page.wait_for_selector('#outbox-badge[data-count="0"]')
    assert _count(Photo) == 1 and _count(Inspection) == 1 and _count(RectificationTicket) == 1
    ticket_page.reload()
    ticket_page.wait_for_selector("img[src*='/photos/']")
    assert ticket_page.locator(".photo-arriving").count() == 0
    writes = [line for line in gate.log if line.startswith(("POST /api/inspections", "PUT /api/photos", "PATCH /api/photos"))]
    assert writes[0] == "POST /api/inspections", writes
