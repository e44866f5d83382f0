"""PWA pages: manifest, service worker (scope /), offline page and the app-shell pages.

The app-shell pages carry no lab data in their HTML: the JavaScript fills them from the JSON API
when online and from the offline bundle when not, so the service worker can serve one cached copy
of each page for every lab (an inspector in a basement lab has one bar of signal).
"""
from __future__ import annotations

import hashlib
import json
import time
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, url_for
from flask_login import current_user, login_required

from app.org.services import get_lab
from app.policy import Action, authorize, may
from app.tickets.lifecycle import get_ticket

from . import assets
from .i18n import js_strings

bp = Blueprint("pwa", __name__)
# Every static URL carries its file's hash and such a URL is cached for a year (assets.py).
bp.app_url_defaults(assets.add_hash)
bp.after_app_request(assets.cache_headers)

# The app shell: precached by the service worker at install (no user data in these files).
SHELL_STATIC = [
    "css/app.css",
    "js/app.js",
    "js/api.js",
    "js/db.js",
    "js/outbox.js",
    "js/sync.js",
    "js/photo.js",
    "js/signature.js",
    "js/upload.js",
    "js/bundle.js",
    "js/ui.js",
    "js/home.js",
    "js/scan.js",
    "js/lab.js",
    "js/inspect.js",
    "js/tickets.js",
    "js/hazard.js",
    "js/ticket_signature.js",
    "js/roster.js",
    "js/accident.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "icons/maskable-192.png",
    "icons/maskable-512.png",
]
# Pages cached for offline use (they show the user's name, so they live in a per-user cache).
SHELL_PAGES = ["pwa.home", "pwa.scan", "pwa.lab_shell", "pwa.inspect_shell", "pwa.tickets", "pwa.ticket_shell",
               "accidents.app_new"]


@lru_cache(maxsize=1)
def _asset_version(static_folder: str, templates: str, page_settings: str = "") -> str:
    """A hash of every shell file, the worker template, the pages' templates and their translations: any
    change makes a new cache name, so the new worker fetches the shell pages again (once per deploy).
    `page_settings`: the settings the pages carry (base.html's data-camera-originals), so a changed
    setting reaches the cached pages too."""
    h = hashlib.sha256(page_settings.encode())
    for rel in SHELL_STATIC:
        p = Path(static_folder) / rel
        if p.exists():
            h.update(rel.encode())
            h.update(p.read_bytes())
    for p in sorted(Path(templates).glob("pwa/*")):
        h.update(p.read_bytes())
    base = Path(templates) / "base.html"
    if base.exists():
        h.update(base.read_bytes())
    # The pages' words too: the worker serves its cached pages until the version changes.
    here = Path(__file__).resolve().parent
    for p in [here / "i18n.py", *sorted(here.parent.glob("**/translations/*/LC_MESSAGES/*.po"))]:
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def asset_version() -> str:
    if current_app.debug:
        _asset_version.cache_clear()
    return _asset_version(current_app.static_folder, current_app.template_folder,
                          f"camera-originals={bool(current_app.config.get('PHOTO_CAMERA_ORIGINALS'))}")


@bp.app_context_processor
def _pwa_globals():
    def nav_url(endpoint: str, **values):
        """The URL of another area's page, or None while that area does not exist yet."""
        if endpoint not in current_app.view_functions:
            return None
        try:
            return url_for(endpoint, **values)
        except Exception:  # the endpoint needs arguments we do not have
            return None

    return {"nav_url": nav_url, "js_strings": js_strings, "asset_version": asset_version,
            "import_map": assets.import_map, "shell_page_count": len(SHELL_PAGES),
            "rendered_at": int(time.time())}  # a cached shell page tells its age (app.js: CSRF token)


@bp.get("/manifest.webmanifest")
def manifest():
    body = {
        "name": "实验室安全检查 / LabSafe",
        "short_name": "LabSafe",
        "description": "实验室安全检查：扫码、检查、拍照、整改 / Lab safety inspections",
        "lang": "zh-CN",
        "start_url": url_for("pwa.home") + "?source=pwa",
        "scope": "/",
        "id": "/app",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f5f6f8",
        "theme_color": "#10324f",
        "icons": [
            {"src": url_for("static", filename=f"icons/{name}-{size}.png"), "sizes": f"{size}x{size}",
             "type": "image/png", "purpose": purpose}
            for name, purpose in (("icon", "any"), ("maskable", "maskable"))
            for size in (192, 512)
        ],
        "shortcuts": [{"name": "扫码 / Scan", "url": url_for("pwa.scan")}],
    }
    resp = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/sw.js")
def service_worker():
    version = asset_version()
    static = [url_for("static", filename=rel) for rel in SHELL_STATIC] + [url_for("pwa.offline")]
    pages = [url_for(ep) for ep in SHELL_PAGES]
    body = render_template(
        "pwa/sw.js", version=version, static_urls=json.dumps(static), page_urls=json.dumps(pages),
        offline_url=url_for("pwa.offline"),
    )
    resp = Response(body, mimetype="text/javascript")
    # The worker must be re-checked on every navigation, or a fixed bug lives on in phones.
    resp.headers["Cache-Control"] = "no-cache, no-store, must-revalidate"
    resp.headers["Service-Worker-Allowed"] = "/"
    return resp


@bp.get("/offline")
def offline():
    # Public and user-free: it is precached and shown for any page the device has not cached.
    return render_template("pwa/offline.html", public_page=True)


@bp.get("/app")
@login_required
def home():
    return render_template("pwa/home.html")


@bp.get("/app/scan")
@login_required
def scan():
    return render_template("pwa/scan.html")


@bp.get("/app/labs/<int:lab_id>")
@login_required
def lab_card(lab_id: int):
    lab = get_lab(lab_id)
    # The door QR's page: its readers see the card; anyone signed in may report a hazard there (art. 30).
    if not may(current_user, Action.REPORT_HAZARD, lab):
        authorize(current_user, Action.VIEW_LAB, lab)
    return render_template("pwa/lab.html")


@bp.get("/app/shell/lab")
@login_required
def lab_shell():
    """The same page without a lab: the service worker serves it for /app/labs/<id> offline."""
    return render_template("pwa/lab.html")


@bp.get("/app/labs/<int:lab_id>/inspect/<key>")
@login_required
def inspect(lab_id: int, key: str):
    lab = get_lab(lab_id)
    # Inspectors run college/school checks (art. 27, 28); the lab's officers the daily one (art. 29).
    if not (may(current_user, Action.INSPECT_LAB, lab) or may(current_user, Action.DAILY_CHECK, lab)):
        authorize(current_user, Action.INSPECT_LAB, lab)
    return render_template("pwa/inspect.html")


@bp.get("/app/shell/inspect")
@login_required
def inspect_shell():
    return render_template("pwa/inspect.html")


@bp.get("/app/tickets")
@login_required
def tickets():
    return render_template("pwa/tickets.html")


@bp.get("/app/tickets/<int:ticket_id>")
@login_required
def ticket(ticket_id: int):
    t = get_ticket(ticket_id)
    authorize(current_user, Action.VIEW_TICKET, t)
    return render_template("pwa/ticket.html")


@bp.get("/app/shell/ticket")
@login_required
def ticket_shell():
    return render_template("pwa/ticket.html")
