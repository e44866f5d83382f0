"""Access matrix for photos: upload, and the three sizes in and out of scope.

The photos come from tests/inspections/access_cases.py's extend_world (lab A1: uploaded by A's
college inspector; lab B1: by the school inspector).
"""
from __future__ import annotations

from tests.access.matrix import EVERYONE, LAB_A_READERS, LAB_B_READERS, Case

# Anyone signed in: a hazard report may carry photos (art. 30, issue 24).
UPLOADERS = EVERYONE
# Evidence originals: those who judge evidence (policy._can_view_original), not every reader.
ORIGINAL_A = frozenset(
    {"admin", "school_inspector", "dept_officer", "college_inspector", "college_leader", "college_head"}
)
ORIGINAL_B = frozenset({"admin", "school_inspector", "dept_officer"})

CASES = [
    # No file: an uploader gets 400 (the policy let them through), anyone else 403/401.
    Case("PUT", "/api/photos/<uuid:photo_uuid>", "/api/photos/7d1c2a52-0000-4000-8000-000000000001",
         allow=UPLOADERS, data={}),
    # Resumable upload: the status, and a part without its headers (400 for an uploader).
    Case("GET", "/api/photos/<uuid:photo_uuid>/upload", "/api/photos/7d1c2a52-0000-4000-8000-000000000002/upload",
         allow=UPLOADERS),
    Case("PATCH", "/api/photos/<uuid:photo_uuid>/upload", "/api/photos/7d1c2a52-0000-4000-8000-000000000002/upload",
         allow=UPLOADERS, data={}),
    # A camera original of a photo that has not arrived: an uploader gets 404 (the policy let them
    # through; whose photo it is, is the service's check), anyone else 403/401.
    Case("GET", "/api/photos/<uuid:photo_uuid>/camera-original/upload",
         "/api/photos/7d1c2a52-0000-4000-8000-000000000003/camera-original/upload", allow=UPLOADERS),
    Case("PATCH", "/api/photos/<uuid:photo_uuid>/camera-original/upload",
         "/api/photos/7d1c2a52-0000-4000-8000-000000000003/camera-original/upload", allow=UPLOADERS, data={}),
    Case("GET", "/photos/<uuid:photo_uuid>/thumb", "/photos/{insp_photo_a}/thumb", allow=LAB_A_READERS),
    Case("GET", "/photos/<uuid:photo_uuid>/thumb", "/photos/{insp_photo_b}/thumb", allow=LAB_B_READERS,
         note="another college's photo"),
    Case("GET", "/photos/<uuid:photo_uuid>/display", "/photos/{insp_photo_a}/display", allow=LAB_A_READERS),
    Case("GET", "/photos/<uuid:photo_uuid>/display", "/photos/{insp_photo_b}/display", allow=LAB_B_READERS),
    Case("GET", "/photos/<uuid:photo_uuid>/original", "/photos/{insp_photo_a}/original", allow=ORIGINAL_A),
    Case("GET", "/photos/<uuid:photo_uuid>/original", "/photos/{insp_photo_b}/original", allow=ORIGINAL_B),
    # The camera's own file is evidence as the original is (404 to those allowed: none arrived here).
    Case("GET", "/photos/<uuid:photo_uuid>/camera-original", "/photos/{insp_photo_a}/camera-original",
         allow=ORIGINAL_A),
    Case("GET", "/photos/<uuid:photo_uuid>/camera-original", "/photos/{insp_photo_b}/camera-original",
         allow=ORIGINAL_B),
]
