"""Issued documents, JSON (documented in /api/openapi.json)."""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user, login_required

from app.apidoc import doc
from app.org.services import get_lab
from app.policy import Action, authorize

from . import services
from .schemas import IssuedDocumentSchema
from .views import readable_lab_documents

bp = Blueprint("documents_api", __name__, url_prefix="/api")


@bp.get("/labs/<int:lab_id>/documents")
@login_required
@doc("One lab's issued documents (inspection records, rectification notices, written reports), newest first: "
     "number, kind, SHA-256, when issued, and where to read them. A written report is listed to those who may "
     "read its ticket.", response=IssuedDocumentSchema, many=True)
def lab_documents(lab_id: int):
    lab = get_lab(lab_id)
    authorize(current_user, Action.LIST_LAB_DOCUMENTS, lab)
    docs = readable_lab_documents(lab)
    return jsonify(IssuedDocumentSchema(many=True).dump([services.listed(d) for d in docs]))
