"""The CSP allows no inline script or style: no template may carry one.

Two checks: every template file under templates/ (grep), and every HTML page the app renders
for an administrator (the GET routes of the access matrix with the shared world's ids).
"""
from __future__ import annotations

import re
from pathlib import Path

from tests.access.world import build_world, case_modules
from tests.factories import login

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# A JSON data block (<script type="application/json">) is never executed, so the CSP allows it. The
# import map (base.html) is allowed by its SHA-256 in the page's CSP: checked on every rendered page.
INLINE_SCRIPT = re.compile(
    r"<script\b(?![^>]*\bsrc\s*=)(?![^>]*\btype\s*=\s*[\"']?(application/(ld\+)?json|importmap\b))[^>]*>", re.I
)
IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.S)


def _import_map_allowed(resp) -> bool:
    import base64
    import hashlib

    m = IMPORT_MAP.search(resp.get_data(as_text=True))
    if not m:
        return True
    digest = base64.b64encode(hashlib.sha256(m.group(1).encode()).digest()).decode()
    return f"'sha256-{digest}'" in resp.headers["Content-Security-Policy"]
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I | re.S)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)
INLINE_STYLE = re.compile(r"<style\b|<[a-z][^>]*\sstyle\s*=", re.I | re.S)


def _problems(text: str) -> list[str]:
    found = []
    for name, rx in (("inline <script>", INLINE_SCRIPT), ("on*= handler", EVENT_HANDLER),
                     ("javascript: URL", JS_URL), ("inline style", INLINE_STYLE)):
        for m in rx.finditer(text):
            found.append(f"{name}: {m.group(0)[:80]!r}")
    return found


def test_no_template_file_has_inline_script_or_style():
    bad = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for p in _problems(path.read_text(encoding="utf-8")):
            bad.append(f"{path.relative_to(TEMPLATES)}: {p}")
    assert not bad, "CSP violations in templates:\n" + "\n".join(bad)


def test_every_rendered_html_page_has_no_inline_script_or_style(app):
    world = build_world()
    client = app.test_client()
    login(client, world.users["admin"])
    seen, bad = set(), []
    for mod in case_modules():
        for case in mod.CASES:
            if case.method != "GET" or case.rule.startswith("/api/"):
                continue
            path = case.path.format(**world.ids)
            if path in seen:
                continue
            seen.add(path)
            resp = client.get(path, follow_redirects=True)
            if not resp.mimetype == "text/html":
                continue
            for p in _problems(resp.get_data(as_text=True)):
                bad.append(f"GET {path}: {p}")
            if not _import_map_allowed(resp):
                bad.append(f"GET {path}: import map without its hash in the CSP")
    assert seen, "no HTML routes were walked"
    assert not bad, "CSP violations in rendered pages:\n" + "\n".join(bad)
