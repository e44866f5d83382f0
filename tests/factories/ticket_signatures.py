"""Reply-slip signatures as the phone and the web page send them (app/tickets/signatures.py)."""
from __future__ import annotations

from tests.factories.inspections import signature_data_url


def signed(name: str = "张整改", seed: int = 3, signed_at: str = "2026-10-20T08:00:00Z") -> dict:
    return {"name": name, "image": signature_data_url(seed=seed), "signed_at": signed_at}


def refused(reason: str = "不同意验收结论", name: str = "") -> dict:
    return {"refused": True, "reason": reason, "name": name}
