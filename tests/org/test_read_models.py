"""org's read models (LabRef, NamedLab) read like Lab: each field a column of labs, same type."""
from __future__ import annotations

from app.org.models import Lab, LabRef, NamedLab
from tests.read_models import assert_reads_like


def test_lab_read_models_are_columns_of_lab():
    assert assert_reads_like(LabRef, Lab) == ["id", "college_id", "category", "hazard_tags"]
    assert assert_reads_like(NamedLab, Lab) == ["id", "college_id", "name", "name_en"]
