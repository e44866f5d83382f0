"""HTML to PDF with WeasyPrint: A4, the school's CJK font (fonts-noto-cjk), nothing fetched from the
network. The documents' own templates inline their CSS and photos (data: URIs); a page of the app
rendered as a document (the monthly summary) gets its stylesheets from the static folder on disk."""
from __future__ import annotations

import base64
import logging
import mimetypes
from pathlib import Path

import weasyprint
from flask import current_app
from PIL import ImageFile
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Importing WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process. The documents embed
# only display copies the photo pipeline made, so Pillow's default is put back here too; the pipeline
# itself insists on it before it decodes an upload (app/photos/pipeline.py).
ImageFile.LOAD_TRUNCATED_IMAGES = False

# WeasyPrint reports each step of each document at INFO: noise in a server's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# The base URL pages are rendered under: "/static/..." resolves to it, and only it is served.
BASE_URL = "http://labsafe.invalid/"


class _StaticOnly(URLFetcher):
    """Serves data: URIs and the app's own static files; refuses everything else (no network)."""

    def __init__(self, static_folder: str):
        super().__init__(allowed_protocols=("data", "http"))
        self.static = Path(static_folder).resolve()

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        prefix = BASE_URL + "static/"
        if not url.startswith(prefix):
            raise ValueError(f"documents fetch nothing from outside: {url}")
        path = (self.static / url[len(prefix):].split("?")[0]).resolve()
        if self.static not in path.parents or not path.is_file():
            raise ValueError(f"no such static file: {url}")
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": media_type})


def to_pdf(html: str, stylesheet: str | None = None) -> bytes:
    fetcher = _StaticOnly(current_app.static_folder)
    sheets = [weasyprint.CSS(string=stylesheet, url_fetcher=fetcher)] if stylesheet else None
    return weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf(stylesheets=sheets)


def data_uri(data: bytes, media_type: str = "image/jpeg") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"
