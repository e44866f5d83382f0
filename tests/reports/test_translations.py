"""The school reads the summary and the plates in Chinese: every reports string has a zh_CN translation."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app.auth.models import Role
from tests.factories import login, make_user

from . import scenario

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "app/reports/translations/zh_CN/LC_MESSAGES/messages.po"
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None}


def _msgids() -> set[str]:
    ids = set()
    for folder, method in ((ROOT / "app/reports", [("**.py", "python")]),
                           (ROOT / "templates/reports", [("**.html", "jinja2")])):
        for _file, _line, msg, _comments, _ctx in extract_from_dir(str(folder), method, keywords=KEYWORDS):
            ids.add(msg if isinstance(msg, str) else msg[0])
    return ids


def _catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="zh_CN")


def test_every_string_is_translated():
    cat = _catalog()
    translated = {m.id for m in cat if m.id and m.string and "fuzzy" not in m.flags}
    missing = _msgids() - translated
    assert not missing, f"untranslated in {PO}: {sorted(missing)}"


def test_pages_render_in_chinese_by_default(app, client):
    labs = scenario.build()
    login(client, make_user(Role.school_admin))
    html = client.get("/reports/monthly?month=2026-10").get_data(as_text=True)
    for zh in ("安全检查月度汇总", "日查完成率", "全校", "第23条", "隐患整改（第二十九、三十条）"):
        assert zh in html
    plate = client.get(f"/labs/{labs['b1'].id}/nameplate").get_data(as_text=True)
    for zh in ("安全责任人", "危险源", "病原微生物", "扫码在 LabSafe 中打开本实验室"):
        assert zh in plate
