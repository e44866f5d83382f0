"""Reports without an account (HAZARD_ANONYMOUS_REPORTS): off by default; on, bounded per address and in
size, through the door's QR token only, and the reporter's receipt shows that report's outcome alone."""
from __future__ import annotations

import io
import re
import uuid

from sqlalchemy import func, select

from app.extensions import db
from app.hazards.models import HazardReport
from tests.factories import login, photo_bytes


def door_post(client, lab, text="楼道堆放了气瓶", files=(), client_uuid=None):
    data = {"text": text, "client_uuid": client_uuid or str(uuid.uuid4())}
    if files:
        data["photos"] = [(io.BytesIO(b), f"p{i}.jpg") for i, b in enumerate(files)]
    return client.post(f"/hazards/door/{lab.qr_token}", data=data, content_type="multipart/form-data")


def count():
    return db.session.scalar(select(func.count()).select_from(HazardReport))


def test_off_by_default_the_door_asks_for_a_login(client, w):
    assert "/login" in client.get(f"/l/{w.lab.qr_token}").headers["Location"]
    assert "/login" in door_post(client, w.lab).headers["Location"]
    assert count() == 0


def test_on_a_report_without_an_account_and_its_receipt(app, client, w):
    app.config["HAZARD_ANONYMOUS_REPORTS"] = True
    assert client.get(f"/l/{w.lab.qr_token}").headers["Location"].endswith(f"/hazards/door/{w.lab.qr_token}")
    form = client.get(f"/hazards/door/{w.lab.qr_token}").get_data(as_text=True)
    assert w.lab.name in form
    same = str(uuid.uuid4())
    resp = door_post(client, w.lab, files=[photo_bytes()], client_uuid=same)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    receipt = resp.headers["Location"]
    assert door_post(client, w.lab, files=[photo_bytes()], client_uuid=same).headers["Location"] == receipt
    assert count() == 1  # the form sent twice: one report
    r = db.session.scalar(select(HazardReport))
    assert r.reporter_id is None and r.anonymous and len(r.photos) == 1
    page = client.get(receipt).get_data(as_text=True)
    assert "receipt-outcome" in page and r.text not in page  # the outcome, nothing else
    # The receipt opens nothing else: no report, no list, no lab.
    assert client.get(f"/api/hazard-reports/{r.id}").status_code == 401
    assert client.get(f"/hazards/{r.id}").status_code == 302
    assert client.get("/hazards/receipt/" + re.sub(r"[0-9a-f]", "0", receipt.rsplit("/", 1)[1])).status_code == 404
    # The college closes it; the receipt says why.
    login(client, w.leader)
    assert client.post(f"/api/hazard-reports/{r.id}/close", json={"reason": "已清理"}).status_code == 200
    client.post("/api/logout")
    assert "已清理" in client.get(receipt).get_data(as_text=True)


def test_on_bounded_in_size_and_per_address(app, client, w):
    app.config.update(HAZARD_ANONYMOUS_REPORTS=True, HAZARD_ANONYMOUS_RATE_LIMIT="3 per hour",
                      HAZARD_ANONYMOUS_PHOTO_BYTES=2000)
    assert door_post(client, w.lab, text="").status_code == 400
    assert door_post(client, w.lab, text="x" * (app.config["HAZARD_TEXT_MAX"] + 1)).status_code == 400
    big = photo_bytes(size=(640, 480), noise=True)
    assert len(big) > 2000
    resp = door_post(client, w.lab, files=[big])
    assert resp.status_code == 400 and 'id="door-error"' in resp.get_data(as_text=True)
    resp = door_post(client, w.lab)  # the fourth from this address this hour
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    assert count() == 0
    # Too many photos, from another address (the limit counts per address).
    app.config.update(HAZARD_ANONYMOUS_PHOTO_BYTES=3 * 1024 * 1024)
    other = app.test_client()
    many = [photo_bytes()] * (app.config["HAZARD_ANONYMOUS_MAX_PHOTOS"] + 1)
    resp = other.post(f"/hazards/door/{w.lab.qr_token}", environ_base={"REMOTE_ADDR": "127.0.0.9"},
                      data={"text": "x", "client_uuid": str(uuid.uuid4()),
                            "photos": [(io.BytesIO(b), f"p{i}.jpg") for i, b in enumerate(many)]},
                      content_type="multipart/form-data")
    assert resp.status_code == 400 and 'id="door-error"' in resp.get_data(as_text=True)
    assert count() == 0


def test_an_unknown_or_retired_door_token_is_a_clear_page(app, client):
    app.config["HAZARD_ANONYMOUS_REPORTS"] = True
    assert client.get("/hazards/door/nonsense").status_code in (404, 410)
