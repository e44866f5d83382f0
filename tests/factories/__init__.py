"""Factories: build exactly the rows a test needs, with sensible defaults.

One module per domain; import from here.
"""
from . import reports as report_factories  # noqa: F401  (raw rows for the monthly summary)
from .auth import DEFAULT_PASSWORD, login, make_user  # noqa: F401
from .checklists import checklist_toml, load_shipped_checklists, make_checklist  # noqa: F401
from .inspections import make_checklist_version, make_inspection, photo_bytes  # noqa: F401
from .notifications import make_college_robot, set_channels  # noqa: F401
from .org import make_college, make_department, make_lab  # noqa: F401
from .tickets import backdate_lab, make_daily_check, make_photo_row, make_ticket  # noqa: F401
