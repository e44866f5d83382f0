"""Reading a PDF's page count in the benchmarks (pypdf, a dev requirement)."""
from __future__ import annotations

import io


def page_count(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)
