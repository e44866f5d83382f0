"""Static files named by their content: ``url_for('static', filename=f)`` gives ``/static/f?v=<hash>``.

A URL that carries the hash of the file it names never changes meaning, so it is served
``Cache-Control: public, max-age=31536000, immutable``: a phone on one bar of signal asks for it once
per change of the file, not once per page. A URL without the hash, or with an old one (a page loaded
before a deploy), is served ``no-cache`` as before (revalidated with its ETag).

ES modules import each other by relative URL ('./outbox.js' resolves to /static/js/outbox.js, without
the hash); the import map in base.html maps each module's plain URL to its hashed one. An inline
import map is an inline script for the CSP, so the pages that carry it allow exactly its SHA-256.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from functools import lru_cache
from pathlib import Path

from flask import current_app, g, request, url_for

from app.security import CONTENT_SECURITY_POLICY

IMMUTABLE = "public, max-age=31536000, immutable"
HASH_PARAM = "v"

_lock = threading.Lock()
# Absolute path -> (mtime_ns, size, hash): a file is hashed again only when it changes on disk.
_hashes: dict[str, tuple[int, int, str]] = {}


def file_hash(filename: str, static_folder: str | None = None) -> str | None:
    """The first 12 hex digits of the SHA-256 of a static file, or None when there is no such file."""
    folder = static_folder or current_app.static_folder
    path = os.path.join(folder, filename)
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    known = _hashes.get(path)
    if known and known[0] == st.st_mtime_ns and known[1] == st.st_size:
        return known[2]
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    except OSError:
        return None
    with _lock:
        _hashes[path] = (st.st_mtime_ns, st.st_size, digest)
    return digest


def add_hash(endpoint: str, values: dict) -> None:
    """url_defaults hook: every static URL the app builds names the content it expects."""
    if endpoint != "static" or HASH_PARAM in values:
        return
    filename = values.get("filename")
    if not filename or ".." in filename:
        return
    digest = file_hash(filename)
    if digest:
        values[HASH_PARAM] = digest


def cache_headers(response):
    """after_request hook: immutable for a static URL whose hash is the file's current one."""
    if request.endpoint == "static":
        wanted = request.args.get(HASH_PARAM)
        filename = (request.view_args or {}).get("filename")
        if wanted and response.status_code in (200, 206, 304) and filename and wanted == file_hash(filename):
            response.headers["Cache-Control"] = IMMUTABLE
        else:
            response.headers["Cache-Control"] = "no-cache"
    elif g.get("import_map_csp") and response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = g.import_map_csp
    return response


def _module_files(static_folder: str) -> list[str]:
    return sorted(p.name for p in (Path(static_folder) / "js").glob("*.js"))


def import_map() -> str:
    """The page's import map (JSON): each module's plain URL -> its hashed URL. Marks the response so
    its CSP allows this map's SHA-256 (the map is the page's only inline script). Built once per
    deploy (the files do not change under a running server), again on every page in debug."""
    if current_app.debug:
        _built_map.cache_clear()
    body, csp = _built_map(current_app.static_folder, request.script_root)
    g.import_map_csp = csp
    return body


@lru_cache(maxsize=4)
def _built_map(static_folder: str, script_root: str) -> tuple[str, str]:
    imports = {}
    for name in _module_files(static_folder):
        hashed = url_for("static", filename=f"js/{name}")
        imports[hashed.split("?", 1)[0]] = hashed
    body = json.dumps({"imports": imports}, separators=(",", ":"), sort_keys=True)
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    return body, CONTENT_SECURITY_POLICY.replace("script-src 'self'", f"script-src 'self' 'sha256-{digest}'", 1)
