import os

import pytest


def stored_files(app) -> list[str]:
    """Every file under PHOTO_STORE (temp files included)."""
    out = []
    for root, _dirs, files in os.walk(app.config["PHOTO_STORE"]):
        out.extend(os.path.join(root, f) for f in files)
    return sorted(out)


@pytest.fixture
def files(app):
    return lambda: stored_files(app)
