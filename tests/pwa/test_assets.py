"""Static files by content hash: hashed URLs are immutable for a year, plain ones revalidated."""
from __future__ import annotations

import base64
import hashlib
import json
import re

from app.auth.models import Role
from app.pwa import assets
from tests.factories import login, make_user

IMMUTABLE = "public, max-age=31536000, immutable"


def _sha12(app, rel: str) -> str:
    with open(f"{app.static_folder}/{rel}", "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def test_pages_link_static_files_by_their_content_hash(client, app):
    login(client, make_user(Role.inspector))
    body = client.get("/app").get_data(as_text=True)
    assert f'/static/css/app.css?v={_sha12(app, "css/app.css")}"' in body
    assert f'/static/js/app.js?v={_sha12(app, "js/app.js")}"' in body
    assert f'/static/js/home.js?v={_sha12(app, "js/home.js")}"' in body


def test_hashed_url_is_immutable_and_plain_or_stale_url_is_revalidated(client, app):
    digest = _sha12(app, "js/outbox.js")
    hashed = client.get(f"/static/js/outbox.js?v={digest}")
    assert hashed.status_code == 200 and hashed.headers["Cache-Control"] == IMMUTABLE
    again = client.get(f"/static/js/outbox.js?v={digest}", headers={"If-None-Match": hashed.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Cache-Control"] == IMMUTABLE
    plain = client.get("/static/js/outbox.js")
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "no-cache"
    assert plain.data == hashed.data
    # A page from before a deploy asks for the old hash: the new content, but not kept for a year.
    stale = client.get("/static/js/outbox.js?v=000000000000")
    assert stale.status_code == 200 and stale.headers["Cache-Control"] == "no-cache"
    assert client.get(f"/static/js/no-such.js?v={digest}").status_code == 404


def test_hash_follows_the_file(app, tmp_path):
    (tmp_path / "a.js").write_text("one")
    first = assets.file_hash("a.js", str(tmp_path))
    assert first == assets.file_hash("a.js", str(tmp_path))
    (tmp_path / "a.js").write_text("two, longer")
    assert assets.file_hash("a.js", str(tmp_path)) != first
    assert assets.file_hash("missing.js", str(tmp_path)) is None


def test_import_map_maps_every_module_to_its_hashed_url_and_the_csp_allows_it(client, app):
    login(client, make_user(Role.inspector))
    resp = client.get("/app/shell/lab")
    body = resp.get_data(as_text=True)
    m = re.search(r'<script type="importmap">(.*?)</script>', body, re.S)
    assert m and body.index('type="importmap"') < body.index('type="module"')  # before any module
    imports = json.loads(m.group(1))["imports"]
    assert imports["/static/js/outbox.js"] == f"/static/js/outbox.js?v={_sha12(app, 'js/outbox.js')}"
    assert set(imports) >= {"/static/js/api.js", "/static/js/ui.js", "/static/js/bundle.js", "/static/js/lab.js"}
    digest = base64.b64encode(hashlib.sha256(m.group(1).encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in resp.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]


def test_pages_tell_the_app_which_pages_cache_they_belong_to(client):
    from app.pwa.views import SHELL_PAGES

    login(client, make_user(Role.inspector))
    body = client.get("/app").get_data(as_text=True)
    sw = client.get("/sw.js").get_data(as_text=True)
    version = re.search(r"const VERSION = '([0-9a-f]+)';", sw).group(1)
    assert f'data-shell-version="{version}"' in body
    assert f'data-shell-pages="{len(SHELL_PAGES)}"' in body
