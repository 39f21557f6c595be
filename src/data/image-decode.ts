// Encoded image -> 8-bit RGB pixels, no native image library: JPEG via libjpeg-turbo compiled to WebAssembly
// (jpeg-turbo.ts: Pillow's decoder, so the pixels are exactly what PIL, so torchvision, sees), or — for what it does
// not decode (CMYK, damaged files) — jpeg-js with libjpeg's chroma upsampling and YCbCr conversion (equal to PIL up to
// the IDCT's rounding) and jpeg-js's errors; EXIF orientation applied either way. PNG via pngjs, alpha dropped. Other
// formats are recognised by their header and refused by name.
import { decode as decodeJpegBytes } from 'jpeg-js';
import { PNG } from 'pngjs';
import { OctetError } from '../common/errors';
import { decodeJpegTurbo } from './jpeg-turbo';

/** 8-bit pixels, interleaved (HWC), no alpha. */
export interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The pixel budget for every format, checked from the header before decoding (8000 x 8000; jpeg-js gets it too). */
export const MAX_IMAGE_PIXELS = 64_000_000;

/** An image whose header declares more pixels than MAX_IMAGE_PIXELS (data sets skip it with a warning). */
export class ImageTooLargeError extends OctetError {
  constructor(name: string, size: string) {
    super(name, `is ${size}, more than Octet decodes (${MAX_IMAGE_PIXELS / 1e6} megapixels)`);
    this.name = 'ImageTooLargeError';
  }
}

function checkPixelBudget(name: string, width: number, height: number): void {
  if (width * height > MAX_IMAGE_PIXELS) throw new ImageTooLargeError(name, `${width}x${height} pixels (${(width * height / 1e6).toFixed(1)} megapixels)`);
}

/** Width and height from a PNG's IHDR chunk (always the first), or 0 x 0 when it is missing. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ihdr = bytes.length >= 24 && String.fromCharCode(...bytes.subarray(12, 16)) === 'IHDR';
  return ihdr ? { width: view.getUint32(16, false), height: view.getUint32(20, false) } : { width: 0, height: 0 };
}

/** 'JPEG', 'PNG', the name of another image format recognised by its header, or null. */
function sniffFormat(bytes: Uint8Array): string | null {
  const has = (signature: readonly number[], at = 0): boolean => signature.every((v, i) => bytes[at + i] === v);
  const text = (at: number, length: number): string => String.fromCharCode(...bytes.subarray(at, at + length));
  if (has([0xff, 0xd8, 0xff])) return 'JPEG';
  if (has(PNG_SIGNATURE)) return 'PNG';
  if (text(0, 4) === 'RIFF' && text(8, 4) === 'WEBP') return 'WebP';
  if (text(0, 4) === 'GIF8') return 'GIF';
  if (text(0, 2) === 'BM') return 'BMP';
  if (has([0x49, 0x49, 0x2a, 0x00]) || has([0x4d, 0x4d, 0x00, 0x2a])) return 'TIFF';
  if (text(4, 4) === 'ftyp') {
    const brand = text(8, 4);
    if (/^avi[fs]$/.test(brand)) return 'AVIF';
    if (/^(hei[cx]|hev[cx]|mif1|msf1)$/.test(brand)) return 'HEIF';
  }
  if (has([0xff, 0x0a]) || text(4, 4) === 'JXL ') return 'JPEG XL';
  if (text(4, 8) === 'jP  \r\n\x87\n' || has([0xff, 0x4f, 0xff, 0x51])) return 'JPEG 2000';
  if (/^P[1-7]\s$/.test(text(0, 3))) return 'PNM';
  return null;
}

/** TIFF orientation (tag 0x0112 of IFD0) in bytes [tiff, end), or 1. */
function tiffOrientation(bytes: Uint8Array, tiff: number, end: number): number {
  if (tiff + 8 > end) return 1;
  const little = bytes[tiff] === 0x49 && bytes[tiff + 1] === 0x49;
  if (!little && !(bytes[tiff] === 0x4d && bytes[tiff + 1] === 0x4d)) return 1;
  const u16 = (p: number): number => (little ? bytes[p] | (bytes[p + 1] << 8) : (bytes[p] << 8) | bytes[p + 1]);
  const u32 = (p: number): number => (little ? u16(p) + u16(p + 2) * 0x10000 : u16(p) * 0x10000 + u16(p + 2));
  if (u16(tiff + 2) !== 42) return 1;
  const ifd = tiff + u32(tiff + 4);
  if (ifd + 2 > end) return 1;
  const entries = u16(ifd);
  for (let e = 0; e < entries; e++) {
    const entry = ifd + 2 + e * 12;
    if (entry + 12 > end) return 1;
    if (u16(entry) !== 0x0112) continue;
    const type = u16(entry + 2);
    const value = type === 3 ? u16(entry + 8) : type === 4 ? u32(entry + 8) : 0; // SHORT (the standard) or LONG
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/**
 * Pixels as displayed under an EXIF orientation: 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise,
 * 7 transverse, 8 rotate 90 anticlockwise (5..8 swap width and height).
 */
function applyOrientation(pixels: Pixels, orientation: number): Pixels {
  if (orientation < 2 || orientation > 8) return pixels;
  const { data, width: w, height: h, channels } = pixels;
  const swap = orientation >= 5;
  const width = swap ? h : w;
  const height = swap ? w : h;
  // Stored pixel shown at (x, y): base + x * dx + y * dy.
  const [base, dx, dy] = ({
    2: [w - 1, -1, w], 3: [w * h - 1, -1, -w], 4: [(h - 1) * w, 1, -w],
    5: [0, w, 1], 6: [(h - 1) * w, -w, 1], 7: [w * h - 1, -w, -1], 8: [w - 1, w, -1],
  } as Record<number, [number, number, number]>)[orientation];
  const out = new Uint8Array(data.length);
  let o = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0, s = base + y * dy; x < width; x++, s += dx) {
      for (let c = 0, p = s * channels; c < channels; c++) out[o++] = data[p + c];
    }
  }
  return { data: out, width, height, channels };
}

/** What decoding needs from a JPEG's header segments (everything before the first scan). */
interface JpegHeader {
  /** EXIF orientation 1..8 (1 = as stored). */
  orientation: number;
  jfif: boolean;
  /** Offset of the Adobe APP14 segment's colour transform byte, or -1 without one. */
  adobeTransformAt: number;
  /** Frame components in order: id and sampling factors. */
  components: { id: number; h: number; v: number }[];
  /** Frame size from the SOF segment (0 when none was found). */
  width: number;
  height: number;
}

/** Reads the header segments of a JPEG (after SOI, up to the first SOS); tolerant: stops at anything unexpected. */
function readJpegHeader(bytes: Uint8Array): JpegHeader {
  const header: JpegHeader = { orientation: 1, jfif: false, adobeTransformAt: -1, components: [], width: 0, height: 0 };
  let exifSeen = false;
  const startsWith = (at: number, text: string): boolean => [...text].every((ch, i) => bytes[at + i] === ch.charCodeAt(0));
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) break;
    const marker = bytes[offset + 1];
    if (marker === 0xff) { offset++; continue; } // fill byte
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { offset += 2; continue; } // markers without a length
    if (marker === 0xda || marker === 0xd9) break; // the image data (or the end) begins
    const length = (bytes[offset + 2] << 8) | bytes[offset + 3];
    const start = offset + 4;
    const end = offset + 2 + length;
    if (length < 2 || end > bytes.length) break;
    if (marker === 0xe0 && startsWith(start, 'JFIF\0')) header.jfif = true;
    if (marker === 0xe1 && !exifSeen && startsWith(start, 'Exif\0\0')) {
      exifSeen = true; // the first Exif block counts
      header.orientation = tiffOrientation(bytes, start + 6, end);
    }
    if (marker === 0xee && length >= 14 && startsWith(start, 'Adobe')) header.adobeTransformAt = start + 11;
    // SOF0..SOF15 except DHT (c4), JPG (c8) and DAC (cc).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc && header.components.length === 0) {
      header.height = (bytes[start + 1] << 8) | bytes[start + 2];
      header.width = (bytes[start + 3] << 8) | bytes[start + 4];
      const count = bytes[start + 5];
      for (let c = 0, p = start + 6; c < count && p + 3 <= end; c++, p += 3) {
        header.components.push({ id: bytes[p], h: bytes[p + 1] >> 4, v: bytes[p + 1] & 15 });
      }
    }
    offset = end;
  }
  return header;
}

/** Are a 3-component JPEG's samples YCbCr (else RGB)? libjpeg's rule: JFIF, else Adobe's transform flag, else the ids. */
function isYCbCr(header: JpegHeader, bytes: Uint8Array): boolean {
  if (header.jfif) return true;
  if (header.adobeTransformAt >= 0) return bytes[header.adobeTransformAt] !== 0;
  const [a, b, c] = header.components.map((comp) => comp.id);
  return !(a === 0x52 && b === 0x47 && c === 0x42); // 'R', 'G', 'B'
}

const CENTRE = 128;
const SCALE_BITS = 16;
const fix = (x: number): number => Math.trunc(x * (1 << SCALE_BITS) + 0.5);
/** libjpeg's YCbCr -> RGB tables (jdcolor.c): R = Y + crR[cr], G = Y + ((cbG[cb] + crG[cr]) >> 16), B = Y + cbB[cb]. */
const YCC_TABLES = (() => {
  const crR = new Int32Array(256), cbB = new Int32Array(256), crG = new Int32Array(256), cbG = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    const x = i - CENTRE;
    crR[i] = (fix(1.402) * x + (1 << (SCALE_BITS - 1))) >> SCALE_BITS;
    cbB[i] = (fix(1.772) * x + (1 << (SCALE_BITS - 1))) >> SCALE_BITS;
    crG[i] = -fix(0.71414) * x;
    cbG[i] = -fix(0.34414) * x + (1 << (SCALE_BITS - 1));
  }
  return { crR, cbB, crG, cbG };
})();

/** Writes one component's samples for output row `y` into `row`. */
type RowSource = (y: number, row: Uint8Array) => void;

/**
 * Component `c` of the interleaved `raw` samples, upsampled the way libjpeg(-turbo) does when jpeg-js replicated it
 * `rx` x `ry` times: libjpeg's "fancy" triangle filters for h2v1, h2v2 and h1v2 subsampling (h2 only when the
 * downsampled width exceeds 2). null when libjpeg replicates too (no subsampling, other ratios): read `raw` as it is.
 */
function fancyUpsampler(raw: Uint8Array, width: number, height: number, c: number, rx: number, ry: number): RowSource | null {
  const planeWidth = Math.ceil(width / rx);
  const planeHeight = Math.ceil(height / ry);
  const h2 = rx === 2 && planeWidth > 2;
  if (!((h2 && (ry === 1 || ry === 2)) || (rx === 1 && ry === 2))) return null;
  // The downsampled plane back from the replicated samples.
  const plane = new Uint8Array(planeWidth * planeHeight);
  for (let j = 0; j < planeHeight; j++) {
    for (let i = 0, s = j * ry * width * 3 + c; i < planeWidth; i++, s += rx * 3) plane[j * planeWidth + i] = raw[s];
  }
  const last = planeWidth - 1;
  if (ry === 1) {
    // h2v1: 3/4 nearer + 1/4 further sample; the rounding bias alternates (+1, +2) as in libjpeg.
    return (y, row) => {
      const p = y * planeWidth;
      row[0] = plane[p];
      for (let i = 0; i < planeWidth; i++) {
        const near = plane[p + i] * 3;
        if (i > 0) row[2 * i] = (near + plane[p + i - 1] + 1) >> 2;
        if (2 * i + 1 < width) row[2 * i + 1] = i < last ? (near + plane[p + i + 1] + 2) >> 2 : plane[p + i];
      }
    };
  }
  // Vertical neighbour: the plane row above for even output rows, below for odd ones; the edge rows repeat.
  const farRow = (y: number): number => Math.min(Math.max((y >> 1) + (y & 1 ? 1 : -1), 0), planeHeight - 1) * planeWidth;
  if (rx === 1) {
    // h1v2
    return (y, row) => {
      const near = (y >> 1) * planeWidth;
      const far = farRow(y);
      const bias = y & 1 ? 2 : 1;
      for (let x = 0; x < width; x++) row[x] = (plane[near + x] * 3 + plane[far + x] + bias) >> 2;
    };
  }
  // h2v2: column sums (3 x nearer row + further row), then 3/4 nearer + 1/4 further column.
  const sums = new Int32Array(planeWidth);
  return (y, row) => {
    const near = (y >> 1) * planeWidth;
    const far = farRow(y);
    for (let i = 0; i < planeWidth; i++) sums[i] = plane[near + i] * 3 + plane[far + i];
    row[0] = (sums[0] * 4 + 8) >> 4;
    for (let i = 0; i < planeWidth; i++) {
      const s = sums[i] * 3;
      if (i > 0) row[2 * i] = (s + sums[i - 1] + 8) >> 4;
      if (2 * i + 1 < width) row[2 * i + 1] = i < last ? (s + sums[i + 1] + 7) >> 4 : (sums[i] * 4 + 7) >> 4;
    }
  };
}

/**
 * The 3 components as jpeg-js leaves them with colorTransform off (interleaved, subsampled ones replicated) -> RGB in
 * place, with libjpeg's upsampling and, for YCbCr (`ycc`), its integer colour conversion: pixels then match
 * libjpeg-turbo's (what PIL, so torchvision, sees) up to the IDCT's rounding. jpeg-js's own conversion
 * replicates chroma and truncates (about -0.4 on every colour value).
 */
function finishComponents(raw: Uint8Array, width: number, height: number, components: JpegHeader['components'], ycc: boolean): void {
  const maxH = Math.max(...components.map((comp) => comp.h));
  const maxV = Math.max(...components.map((comp) => comp.v));
  const upsamplers = components.map((comp, c) => {
    const integral = maxH % comp.h === 0 && maxV % comp.v === 0;
    return integral ? fancyUpsampler(raw, width, height, c, maxH / comp.h, maxV / comp.v) : null;
  });
  if (!ycc && upsamplers.every((u) => u === null)) return;
  // Each component's samples for the current row: upsampled, or (full size) copied from raw.
  const rows = upsamplers.map((upsampler, c): RowSource => upsampler ?? ((y, row) => {
    for (let x = 0, i = y * width * 3 + c; x < width; x++, i += 3) row[x] = raw[i];
  }));
  const row0 = new Uint8Array(width), row1 = new Uint8Array(width), row2 = new Uint8Array(width);
  const { crR, cbB, crG, cbG } = YCC_TABLES;
  for (let y = 0; y < height; y++) {
    rows[0](y, row0);
    rows[1](y, row1);
    rows[2](y, row2);
    let o = y * width * 3;
    if (!ycc) {
      for (let x = 0; x < width; x++, o += 3) {
        raw[o] = row0[x];
        raw[o + 1] = row1[x];
        raw[o + 2] = row2[x];
      }
      continue;
    }
    for (let x = 0; x < width; x++, o += 3) {
      const luma = row0[x], cb = row1[x], cr = row2[x];
      const r = luma + crR[cr], g = luma + ((cbG[cb] + crG[cr]) >> SCALE_BITS), b = luma + cbB[cb];
      raw[o] = r < 0 ? 0 : r > 255 ? 255 : r;
      raw[o + 1] = g < 0 ? 0 : g > 255 ? 255 : g;
      raw[o + 2] = b < 0 ? 0 : b > 255 ? 255 : b;
    }
  }
}

/**
 * JPEG -> 8-bit RGB (grey replicated) with its EXIF orientation applied: libjpeg-turbo's pixels when it decodes the
 * file cleanly, else jpeg-js's (entropy decoding and IDCT; 3-component images come out of it unconverted and get
 * libjpeg's colour handling here, see finishComponents), whose errors name what is wrong.
 */
function decodeJpeg(bytes: Uint8Array, header: JpegHeader): Pixels {
  const turbo = decodeJpegTurbo(bytes);
  if (turbo) return applyOrientation({ ...turbo, channels: 3 }, header.orientation);
  const three = header.components.length === 3 && header.components.every((comp) => comp.h > 0 && comp.v > 0);
  let input = bytes;
  if (three && header.adobeTransformAt >= 0 && bytes[header.adobeTransformAt] !== 0) {
    // jpeg-js converts colour itself whenever the Adobe segment asks for it: clear the flag on a copy to get raw samples.
    input = Uint8Array.from(bytes);
    input[header.adobeTransformAt] = 0;
  }
  const image = decodeJpegBytes(input, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
    ...(three ? { colorTransform: false } : {}) });
  if (three) finishComponents(image.data, image.width, image.height, header.components, isYCbCr(header, bytes));
  return applyOrientation({ data: image.data, width: image.width, height: image.height, channels: 3 }, header.orientation);
}

/**
 * The PNG without a tRNS chunk when its colour type is grey (0) or RGB (2): pngjs would zero the colour of the
 * "transparent" pixels, where dropping alpha should keep it. Palette tRNS (alpha per palette entry) is harmless.
 */
function withoutTransparentColour(bytes: Buffer): Buffer {
  const colourType = bytes[25];
  if (colourType !== 0 && colourType !== 2) return bytes;
  for (let offset = 8; offset + 12 <= bytes.length;) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const next = offset + 12 + length;
    if (type === 'tRNS') return Buffer.concat([bytes.subarray(0, offset), bytes.subarray(next)]);
    if (type === 'IDAT' || type === 'IEND') return bytes; // tRNS comes before the image data
    offset = next;
  }
  return bytes;
}

/** PNG (any bit depth, palette, grey, alpha, interlaced) -> 8-bit RGB: grey replicated, alpha dropped, 16 bits rounded. */
function decodePng(bytes: Uint8Array): Pixels {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const png = PNG.sync.read(withoutTransparentColour(buffer));
  const { width, height } = png;
  const rgba = png.data;
  if (rgba.length < width * height * 4) throw new Error(`decoded ${rgba.length} bytes for ${width}x${height} RGBA`);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, o = 0; o < data.length; i += 4, o += 3) {
    data[o] = rgba[i];
    data[o + 1] = rgba[i + 1];
    data[o + 2] = rgba[i + 2];
  }
  return { data, width, height, channels: 3 };
}

/** Encoded JPEG/PNG -> oriented 8-bit RGB; any other format or a broken file is an OctetError naming `name`. */
export function decodePixels(bytes: Uint8Array, name: string): Pixels {
  if (bytes.length === 0) throw new OctetError(name, 'cannot decode image: the file is empty');
  const format = sniffFormat(bytes);
  if (format !== 'JPEG' && format !== 'PNG') {
    if (format !== null) throw new OctetError(name, `unsupported image format; use JPEG or PNG (this file is ${format})`);
    throw new OctetError(name, 'cannot decode image: not a JPEG or PNG file (unrecognised header); use JPEG or PNG');
  }
  const jpeg = format === 'JPEG' ? readJpegHeader(bytes) : null;
  const { width, height } = jpeg ?? pngSize(bytes);
  checkPixelBudget(name, width, height);
  try {
    return jpeg ? decodeJpeg(bytes, jpeg) : decodePng(bytes);
  } catch (err) {
    let cause = err instanceof Error ? err.message.trim() : String(err);
    if (/maxResolutionInMP/.test(cause)) throw new ImageTooLargeError(name, 'larger than its header said'); // jpeg-js's own check
    if (/read requests wait/.test(cause)) cause = 'the file ends early (truncated)'; // pngjs's wording
    throw new OctetError(name, `cannot decode image (corrupt, truncated or unsupported ${format}): ${cause}`);
  }
}
