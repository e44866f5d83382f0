"""The JSON shape of an issued document (its bytes are served as application/pdf, never in JSON)."""
from __future__ import annotations

from marshmallow import Schema, fields

from app.jsonio import UtcDateTime


class IssuedDocumentSchema(Schema):
    id = fields.Integer(metadata={"description": "The document's id."})
    number = fields.String(metadata={"description": "Its own number, printed on every page, e.g. HZNU-2026-ZG-00012."})
    kind = fields.String(metadata={"description": "inspection_report, rectification_notice, written_report or "
                                                  "monthly_summary."})
    language = fields.String(metadata={"description": "zh_CN or en."})
    sha256 = fields.String(metadata={"description": "SHA-256 of the PDF's bytes, to check a copy against."})
    byte_size = fields.Integer()
    issued_at = UtcDateTime()
    inspection_id = fields.Integer(allow_none=True)
    ticket_id = fields.Integer(allow_none=True)
    replaces_id = fields.Integer(allow_none=True, metadata={"description": "The document this one re-issues."})
    url = fields.String(metadata={"description": "The document's page (its hash, for checking a printed copy)."})
    pdf_url = fields.String(metadata={"description": "The stored PDF, byte for byte as issued."})
