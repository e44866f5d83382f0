// Photos are downscaled and re-encoded on the phone before upload, sized to what the school sees:
// the server's 1600 px display copy (config PHOTO_DISPLAY_SIZE). Chosen by measurement
// (bench/photo_sizing.py, docs/PERFORMANCE.md): at 2048 px and quality 0.6 a 12 MP photo is ~220 kB
// (2048 px at 0.85 was ~520 kB on the same photos) and the display copy the server makes from it is
// closer to the one made from the full original than a 1600 px upload at 0.8 (262 kB), with the
// same smallest legible label text. The camera's EXIF (capture time: evidence) is copied into the
// re-encoded JPEG; a JPEG already small enough is kept byte-for-byte.
export const MAX_SIDE = 2048;
export const QUALITY = 0.6;
// A JPEG within MAX_SIDE is sent as it is unless it is much heavier per pixel than our encode
// (~0.07 bytes a pixel on a camera photo at QUALITY; a camera's own JPEG is ~0.3-0.5).
export const KEEP_BYTES_PER_PIXEL = 0.1;

async function decode(file) {
  if ('createImageBitmap' in window) {
    try {
      return await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch (e) { /* fall back to <img> (older Safari, HEIC) */ }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}

// The school keeps the camera's own files as evidence (config PHOTO_CAMERA_ORIGINALS; the page says
// so on <body data-camera-originals>): the file the user picked is kept beside its downscaled photo
// and sent last, on Wi-Fi or when charging (sync.js). Null: not kept, or the photo is that file.
export function cameraFile(file, blob) {
  return document.body.dataset.cameraOriginals === '1' && file !== blob ? file : null;
}

export async function downscale(file, maxSide = MAX_SIDE, quality = QUALITY) {
  const image = await decode(file);
  const w = image.width || image.naturalWidth;
  const h = image.height || image.naturalHeight;
  const scale = Math.min(1, maxSide / Math.max(w, h));
  const jpeg = file.type === 'image/jpeg';
  if (scale === 1 && jpeg && file.size <= w * h * KEEP_BYTES_PER_PIXEL) return file;
  const cw = Math.max(1, Math.round(w * scale));
  const ch = Math.max(1, Math.round(h * scale));
  const canvas = document.createElement('canvas');
  canvas.width = cw;
  canvas.height = ch;
  canvas.getContext('2d').drawImage(image, 0, 0, cw, ch);
  if (image.close) image.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
  if (!blob) throw new Error('encode failed');
  if (!jpeg) return blob;
  if (scale === 1 && blob.size >= file.size) return file; // re-encoding saved nothing
  return withExifOf(file, blob);
}

// ---- EXIF: the camera's APP1 segment copied into the canvas's JPEG (which has none) ----------

const SOI = 0xffd8;
const SOS = 0xffda;
const APP1 = 0xffe1;

// The original's EXIF APP1 segment (marker to end), or null. It comes before the image data, in
// the first 64 kB + a little (a segment is at most 64 kB).
async function exifSegment(file) {
  const bytes = new Uint8Array(await file.slice(0, 256 * 1024).arrayBuffer());
  const v = new DataView(bytes.buffer);
  if (bytes.length < 4 || v.getUint16(0) !== SOI) return null;
  let pos = 2;
  while (pos + 4 <= bytes.length && bytes[pos] === 0xff) {
    const marker = v.getUint16(pos);
    if (marker === SOS) break; // the image data: no metadata after it
    const end = pos + 2 + v.getUint16(pos + 2);
    if (end > bytes.length) break;
    // "Exif\0\0" after the length
    if (marker === APP1 && String.fromCharCode(...bytes.subarray(pos + 4, pos + 10)) === 'Exif\0\0') {
      return bytes.slice(pos, end);
    }
    pos = end;
  }
  return null;
}

// The segment fixed for the new image: Orientation (0x0112) set to 1, since the canvas drew the
// picture upright already; the embedded thumbnail (IFD1, often 10-60 kB) unlinked, and its bytes
// cut when they end the segment (as cameras write it). Answers null when the TIFF structure is
// not as expected: then no EXIF is copied rather than a broken one.
function fixExif(seg) {
  const TIFF = 10; // marker (2), length (2), "Exif\0\0" (6)
  const v = new DataView(seg.buffer, seg.byteOffset, seg.byteLength);
  const order = v.getUint16(TIFF);
  if (order !== 0x4949 && order !== 0x4d4d) return null;
  const le = order === 0x4949; // "II": little-endian
  const u16 = (o) => v.getUint16(TIFF + o, le);
  const u32 = (o) => v.getUint32(TIFF + o, le);
  const size = seg.length - TIFF;
  const ifd0 = u32(4);
  if (ifd0 + 2 > size) return null;
  const n = u16(ifd0);
  const next = ifd0 + 2 + n * 12; // where IFD0 says which IFD follows (IFD1: the thumbnail)
  if (next + 4 > size) return null;
  for (let i = 0; i < n; i += 1) {
    const e = ifd0 + 2 + i * 12;
    if (u16(e) === 0x0112 && u16(e + 2) === 3) v.setUint16(TIFF + e + 8, 1, le); // SHORT, inline
  }
  let length = seg.length;
  const ifd1 = u32(next);
  if (ifd1 && ifd1 + 2 <= size) {
    const m = u16(ifd1);
    let at = 0;
    let len = 0;
    for (let i = 0; i < m && ifd1 + 2 + (i + 1) * 12 <= size; i += 1) {
      const e = ifd1 + 2 + i * 12;
      if (u16(e) === 0x0201) at = u32(e + 8); // JPEGInterchangeFormat: where the thumbnail starts
      if (u16(e) === 0x0202) len = u32(e + 8); // ...and its length
    }
    // Cut only when nothing follows the thumbnail, so no other offset can point past the cut.
    if (at > ifd1 && len && at + len <= size && size - (at + len) < 16) length = TIFF + at;
  }
  v.setUint32(TIFF + next, 0, le); // no IFD1
  const out = seg.slice(0, length);
  new DataView(out.buffer).setUint16(2, length - 2); // the segment's length field
  return out;
}

export async function withExifOf(original, encoded) {
  try {
    const seg = await exifSegment(original);
    const fixed = seg && fixExif(seg);
    if (!fixed) return encoded;
    // SOI, the camera's APP1, then the canvas's JPEG after its SOI (JFIF APP0, tables, data).
    return new Blob([encoded.slice(0, 2), fixed, encoded.slice(2)], { type: 'image/jpeg' });
  } catch (e) {
    return encoded; // unreadable EXIF: the picture still goes, without it
  }
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
