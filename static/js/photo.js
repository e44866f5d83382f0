// Photos are downscaled on the phone to at most 2048 px on the long side before upload, to save
// mobile data; a JPEG already small enough is kept byte-for-byte (its EXIF is evidence).
export const MAX_SIDE = 2048;

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

export async function downscale(file, maxSide = MAX_SIDE, quality = 0.85) {
  const image = await decode(file);
  const w = image.width || image.naturalWidth;
  const h = image.height || image.naturalHeight;
  const scale = Math.min(1, maxSide / Math.max(w, h));
  if (scale === 1 && file.type === 'image/jpeg') return file;
  const cw = Math.max(1, Math.round(w * scale));
  const ch = Math.max(1, Math.round(h * scale));
  const canvas = document.createElement('canvas');
  canvas.width = cw;
  canvas.height = ch;
  canvas.getContext('2d').drawImage(image, 0, 0, cw, ch);
  if (image.close) image.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
  if (!blob) throw new Error('encode failed');
  return blob;
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
