"""Rendering leaves the rest of the app as it found it."""
from __future__ import annotations


def test_weasyprint_does_not_make_pillow_accept_truncated_photos(app):
    from PIL import ImageFile

    import app.documents.rendering  # noqa: F401  (WeasyPrint's import sets the flag; rendering puts it back)

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_nothing_is_fetched_from_outside(app, monkeypatch):
    from weasyprint.urls import URLFetcher

    from app.documents.rendering import to_pdf
    from tests.documents.helpers import pdf_text

    opened = []
    real = URLFetcher.fetch
    monkeypatch.setattr(URLFetcher, "fetch",
                        lambda self, url, headers=None: opened.append(url) or real(self, url, headers))
    with app.test_request_context("/"):
        pdf = to_pdf('<p>x</p><img src="http://example.com/a.png"><img src="file:///etc/passwd">',
                     '@import url("http://example.com/x.css");')
    assert "x" in pdf_text(pdf) and opened == []  # refused before any opener ran
