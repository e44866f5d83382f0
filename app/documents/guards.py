"""Issued documents are never changed or deleted (art. 30): the bytes and hash are what was issued
and sent; a re-issue is a new document. ORM guards on every session and row triggers refusing
UPDATE and DELETE in the database itself, on SQLite and PostgreSQL alike (app.db.kept; migration
0015 installs the same triggers; app.models imports this module, so create_all does too)."""
from __future__ import annotations

from app.db.kept import keep

from .models import IssuedDocument


class DocumentChangeRefused(RuntimeError):
    """Raised when anything tries to change or delete an issued document."""


keep((IssuedDocument,), refused=DocumentChangeRefused, frozen=True)
