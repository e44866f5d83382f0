"""Photo JSON shapes (contract: PUT /api/photos/<uuid>)."""
from __future__ import annotations

from marshmallow import Schema, fields


class PhotoSchema(Schema):
    uuid = fields.String(required=True)
    sha256 = fields.String(required=True, metadata={"description": "SHA-256 of the original bytes"})
    media_type = fields.String(required=True, metadata={"description": "decided by decoding the file"})
    width = fields.Integer(required=True, metadata={"description": "as displayed (EXIF orientation applied)"})
    height = fields.Integer(required=True)
    byte_size = fields.Integer()
    captured_at = fields.DateTime(allow_none=True, metadata={"description": "from EXIF, UTC"})
    uploaded_at = fields.DateTime()
    thumb_url = fields.String(required=True)
    display_url = fields.String(required=True)
    camera_original_url = fields.String(
        allow_none=True, metadata={"description": "the camera's own file, once it arrived (PHOTO_CAMERA_ORIGINALS)"})
    camera_original_bytes = fields.Integer(allow_none=True)


PHOTO_UPLOAD = {
    "type": "object",
    "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "JPEG, PNG, WebP or HEIC"}},
}


class UploadStatusSchema(PhotoSchema):
    """How far a resumable upload is (GET/PATCH /api/photos/<uuid>/upload). Once complete it is
    also the photo's body (the fields of PhotoSchema); before that only the three below."""

    offset = fields.Integer(required=True, metadata={"description": "bytes the server has"})
    total = fields.Integer(required=True, allow_none=True,
                           metadata={"description": "the upload's declared length; null: not started"})
    complete = fields.Boolean(required=True, metadata={"description": "the photo is stored"})
    # Present only when complete.
    uuid = fields.String()
    sha256 = fields.String()
    media_type = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    thumb_url = fields.String()
    display_url = fields.String()
