import os

import pytest


def stored_files(app) -> list[str]:
    """Every file under PHOTO_STORE (temp files included; not the store's lock file, which holds nothing)."""
    out = []
    store = app.config["PHOTO_STORE"]
    for root, _dirs, files in os.walk(store):
        out.extend(os.path.join(root, f) for f in files if not (root == store and f == ".lock"))
    return sorted(out)


@pytest.fixture
def files(app):
    return lambda: stored_files(app)
