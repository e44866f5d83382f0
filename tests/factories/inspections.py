"""Factories for inspections and photos: checklist versions built from models directly (so these
tests do not depend on the checklist files), real image bytes made with Pillow, and inspections
submitted through the service as the API would."""
from __future__ import annotations

import base64
import io
import itertools
import uuid as _uuid
from datetime import UTC, datetime, timedelta

from PIL import Image, ImageDraw

from app.checklists.models import Checklist, ChecklistItem, ChecklistKind, ChecklistVersion, Severity
from app.extensions import db

_seq = itertools.count(1)

DEFAULT_ITEMS = (
    {"article": "23", "text": "灭火器在位且在有效期内", "severity": "general"},
    {"article": "16(2)", "text": "剧毒化学品双人双锁保管", "severity": "major", "photo_required": True,
     "hazard_tags": ["highly_toxic"]},
    {"article": "24(6)", "text": "实验室内无饮食", "severity": "general"},
    {"article": "19", "text": "病原微生物在相应级别实验室操作", "severity": "major", "hazard_tags": ["pathogens"]},
)


def make_checklist_version(kind: str = "full", items=DEFAULT_ITEMS, key: str | None = None) -> ChecklistVersion:
    """A checklist with one current version; items apply as their categories/hazard_tags say."""
    n = next(_seq)
    checklist = Checklist(key=key or f"list{n}", kind=ChecklistKind(kind), title=f"检查表{n}", title_en=f"List {n}")
    db.session.add(checklist)
    db.session.flush()
    version = ChecklistVersion(
        checklist_id=checklist.id, number=1, content_hash=f"{n:064x}", title=checklist.title,
        title_en=checklist.title_en, source_file=f"{checklist.key}.toml",
    )
    db.session.add(version)
    db.session.flush()
    for position, spec in enumerate(items, start=1):
        db.session.add(
            ChecklistItem(
                version_id=version.id,
                item_key=spec.get("item_key", f"item{position}"),
                position=position,
                article=spec["article"],
                text=spec["text"],
                text_en=spec.get("text_en", f"Item {position}"),
                categories=list(spec.get("categories", [])),
                hazard_tags=list(spec.get("hazard_tags", [])),
                severity=Severity(spec.get("severity", "general")),
                photo_required=bool(spec.get("photo_required", False)),
                department_code=spec.get("department"),
            )
        )
    checklist.current_version = version
    db.session.commit()
    return version


def applicable_items(version: ChecklistVersion, lab) -> list[ChecklistItem]:
    from app.checklists.services import item_applies

    return [i for i in version.items if item_applies(i, lab)]


def photo_bytes(
    size=(64, 48),
    fmt: str = "JPEG",
    *,
    color=(200, 30, 30),
    orientation: int | None = None,
    gps: bool = False,
    taken: str | None = None,
    noise: bool = False,
    seed: int = 0,
) -> bytes:
    """A real image file. The left half is coloured, the right half white, so orientation shows."""
    w, h = size
    if noise:
        im = Image.effect_noise(size, 60).convert("RGB")
    else:
        im = Image.new("RGB", size, (255, 255, 255))
        if seed:  # a visibly different picture per seed (JPEG would quantise a one-pixel change away)
            color = ((seed * 67) % 256, (seed * 131) % 256, (seed * 29) % 256)
        im.paste(color, (0, 0, w // 2, h))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    if gps:
        g = exif.get_ifd(0x8825)
        g[1], g[2], g[3], g[4] = "N", (30.0, 52.0, 12.0), "E", (120.0, 5.0, 30.0)
    out = io.BytesIO()
    kwargs = {"exif": exif.tobytes()} if len(exif) or exif.get_ifd(0x8769) or exif.get_ifd(0x8825) else {}
    if fmt == "PNG" and kwargs:
        kwargs = {"exif": exif}
    im.save(out, fmt, **kwargs)
    return out.getvalue()


def new_uuid() -> str:
    return str(_uuid.uuid4())


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def inspection_payload(lab, version, *, level="college", results=None, photos=None, notes=None,
                       uuid: str | None = None, note: str = "") -> dict:
    """A complete submission answering every applicable item (pass unless told otherwise).

    results / photos / notes: {item_id: value}.
    """
    results, photos, notes = results or {}, photos or {}, notes or {}
    finished = datetime.now(UTC) - timedelta(minutes=1)
    return {
        "uuid": uuid or new_uuid(),
        "lab_id": lab.id,
        "checklist_version_id": version.id,
        "level": level,
        "started_at": iso(finished - timedelta(minutes=20)),
        "finished_at": iso(finished),
        "note": note,
        "answers": [
            {"item_id": i.id, "result": results.get(i.id, "pass"), "note": notes.get(i.id, ""),
             "photos": list(photos.get(i.id, []))}
            for i in applicable_items(version, lab)
        ],
    }


def make_inspection(user, lab, version=None, *, level="college", fail_with_photo: bytes | None = None):
    """Submit an inspection through the service (as the API does); with ``fail_with_photo`` the
    first applicable item fails with that photo uploaded by the same user. Returns (inspection, photo|None)."""
    from flask import current_app

    from app.inspections.schemas import InspectionInSchema
    from app.inspections.services import submit_inspection
    from app.photos.services import store_photo

    version = version or make_checklist_version("daily" if level == "daily" else "full")
    results, photos, photo = {}, {}, None
    if fail_with_photo is not None:
        first = applicable_items(version, lab)[0]
        photo_uuid = new_uuid()
        photo = store_photo(user, photo_uuid, fail_with_photo, current_app.config).photo
        results[first.id] = "fail"
        photos[first.id] = [photo_uuid]
    data = InspectionInSchema().load(inspection_payload(lab, version, level=level, results=results, photos=photos))
    outcome = submit_inspection(user, data, current_app.config)
    return outcome.inspection, photo


def make_small_world():
    """Two colleges, lab A1 (chemistry, highly toxic) and B1 (biology), a user per role."""
    from types import SimpleNamespace

    from app.auth.models import Role

    from .auth import make_user
    from .org import make_college, make_department, make_lab

    w = SimpleNamespace()
    w.college_a, w.college_b = make_college(), make_college()
    w.dept = make_department("lab_management")
    w.lab_a = make_lab(w.college_a, category="chemistry", hazard_tags=["hazardous_chemicals", "highly_toxic"])
    w.lab_b = make_lab(w.college_b, category="biology", hazard_tags=["pathogens"])
    w.admin = make_user(Role.school_admin)
    w.school_inspector = make_user(Role.inspector)
    w.inspector_a = make_user(Role.inspector, college=w.college_a)
    w.inspector_b = make_user(Role.inspector, college=w.college_b)
    w.leader_a = make_user(Role.college_leader, college=w.college_a)
    w.head_a = make_user(Role.college_head, college=w.college_a)
    w.officer_a = make_user(Role.lab_officer, lab=w.lab_a)
    w.officer_b = make_user(Role.lab_officer, lab=w.lab_b)
    w.dept_officer = make_user(Role.dept_officer, department=w.dept)
    w.full = make_checklist_version("full")
    w.daily = make_checklist_version("daily", items=DEFAULT_ITEMS[:3])
    return w


def signature_data_url(size=(300, 120), fmt: str = "PNG", seed: int = 0) -> str:
    """A drawn signature as the phone's canvas gives it: a data URL of a PNG with a stroke on it."""
    im = Image.new("RGBA", size, (255, 255, 255, 0))
    ImageDraw.Draw(im).line([(10, size[1] - 20), (size[0] // 2, 15 + seed), (size[0] - 10, size[1] // 2)],
                            fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    im.convert("RGB" if fmt == "JPEG" else "RGBA").save(out, format=fmt)
    media = "png" if fmt == "PNG" else fmt.lower()
    return f"data:image/{media};base64,{base64.b64encode(out.getvalue()).decode('ascii')}"


def signatures_payload(inspector: str = "王检查", representative: str | None = "李代表",
                       refusal: str | None = None) -> list[dict]:
    """The inspector's signature and the lab representative's (or their refusal with ``refusal``)."""
    signed_at = iso(datetime.now(UTC) - timedelta(minutes=1))
    out = [{"role": "inspector", "name": inspector, "image": signature_data_url(), "signed_at": signed_at}]
    if refusal is not None:
        out.append({"role": "lab_representative", "refused": True, "reason": refusal, "name": representative or ""})
    elif representative is not None:
        out.append({"role": "lab_representative", "name": representative, "image": signature_data_url(seed=9),
                     "signed_at": signed_at})
    return out
