import pytest

from tests.factories import photo_bytes
from tests.factories.inspections import make_inspection, make_small_world


@pytest.fixture
def w(app):
    return make_small_world()


@pytest.fixture
def failed(app, w):
    """A college inspection of lab A1 whose first item failed, with a photo (its ticket opened)."""
    inspection, _photo = make_inspection(w.inspector_a, w.lab_a, w.full, fail_with_photo=photo_bytes(seed=3))
    return inspection


from tests.test_migrations import migrated_app  # noqa: E402,F401  (a database built by `flask db upgrade` only)
