"""payload_hash writes its canonical JSON with orjson; stored hashes are compared on replay, so its
bytes must be exactly those json.dumps wrote before, for any content a submission can carry."""
from __future__ import annotations

import hashlib
import json
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from app.inspections.models import AnswerResult, InspectionLevel
from app.inspections.services import _iso_utc, payload_hash

CHARS = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]  # every code point but surrogates


def reference(data: dict) -> str:
    """payload_hash as it was written with the standard library (commit 13f3310)."""
    canonical = {
        "uuid": str(data["uuid"]),
        "lab_id": data["lab_id"],
        "checklist_version_id": data["checklist_version_id"],
        "level": InspectionLevel(data["level"]).value,
        "started_at": _iso_utc(data["started_at"]),
        "finished_at": _iso_utc(data["finished_at"]),
        "note": data.get("note") or "",
        "answers": sorted(
            (
                {
                    "item_id": a["item_id"],
                    "result": AnswerResult(a["result"]).value,
                    "note": a.get("note") or "",
                    "photos": [str(p) for p in a.get("photos") or []],
                }
                for a in data["answers"]
            ),
            key=lambda a: a["item_id"],
        ),
    }
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def submission(note="", answers=None, **over) -> dict:
    finished = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    data = {
        "uuid": uuid.UUID("5b0c6a34-1d7e-4d55-9d3c-2f1e0c9a7b61"), "lab_id": 17, "checklist_version_id": 4,
        "level": InspectionLevel.college, "started_at": finished - timedelta(minutes=20), "finished_at": finished,
        "note": note,
        "answers": answers if answers is not None else [
            {"item_id": 9, "result": AnswerResult.failed, "note": "灭火器过期", "photos": [uuid.UUID(int=7)]},
            {"item_id": 3, "result": AnswerResult.passed, "note": "", "photos": []},
            {"item_id": 5, "result": AnswerResult.not_applicable, "note": "", "photos": []},
        ],
    }
    data.update(over)
    return data


@pytest.mark.parametrize("note", ["", "月查", 'quote " backslash \\ slash /', "\x00\x01\x1f\x7f\x80\u2028\u2029\ufeff",
                                  "\b\f\n\r\t", "😀 emoji and \U0010ffff", "é" * 4000])
def test_same_bytes_as_json_dumps(note):
    data = submission(note, [{"item_id": 3, "result": AnswerResult.failed, "note": note, "photos": []}])
    assert payload_hash(data) == reference(data)


def test_same_bytes_for_every_code_point():
    # Both encoders escape a character alone (no context), so one code point per answer covers all
    # text; a long note of all of them checks the string as a whole.
    step = 4096
    notes = ["".join(CHARS[i:i + step]) for i in range(0, len(CHARS), step)]
    data = submission(
        "".join(CHARS[::97]),
        [{"item_id": n + 1, "result": "pass", "note": note, "photos": []} for n, note in enumerate(notes)],
    )
    assert payload_hash(data) == reference(data)
    for ch in CHARS[:0x3000]:
        one = submission(ch, [{"item_id": 1, "result": "na", "note": ch}])
        assert payload_hash(one) == reference(one), hex(ord(ch))


def test_same_for_raw_values_answers_in_any_order_and_what_orjson_refuses():
    # The demo data passes plain strings (uuid, level, results, photos), not loaded values.
    raw = submission("", [{"item_id": 2, "result": "fail", "photos": [str(uuid.UUID(int=1))]},
                          {"item_id": 1, "result": "pass"}, {"item_id": 1, "result": "na", "note": None}],
                     uuid="5b0c6a34-1d7e-4d55-9d3c-2f1e0c9a7b61", level="school")
    assert payload_hash(raw) == reference(raw)
    big = submission(lab_id=2**70)  # beyond orjson's integers: the standard library writes it
    assert payload_hash(big) == reference(big)
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate fails as it did (json.loads lets one in)
        payload_hash(submission("\ud800"))
    with pytest.raises(ValueError):
        payload_hash(submission(answers=[{"item_id": 1, "result": "maybe"}]))
