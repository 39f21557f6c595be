// Image -> model input tensor: decode (JPEG via jpeg-js, PNG via pngjs: pure JavaScript, no native image library),
// EXIF orientation, geometry (resize shorter side + centre crop, or plain resize for small inputs; Pillow's antialiased
// bilinear, bit for bit, as torchvision applies it), colour (RGB/BGR/greyscale) and the normalization presets. Pure
// pixel math lives in pixelsToTensor so it can be tested exactly.
import { decode as decodeJpegBytes } from 'jpeg-js';
import { PNG } from 'pngjs';
import { OctetError } from '../common/errors';
import type { PreprocessPreset } from '../common/report';
import type { InputSpec } from './dataset';

export interface PreprocessOptions {
  preset: PreprocessPreset;
  /** Shorter-side target before the centre crop; null/undefined = round(crop / 0.875) (or plain resize for inputs < 64 px). */
  resize?: number | null;
  /** Square centre-crop size; null/undefined = the model's H x W. */
  crop?: number | null;
}

/** 8-bit pixels, interleaved (HWC), no alpha. */
export interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

/** value = (pixel / divisor - mean[c]) / std[c], with mean/std in the model's channel order. */
export interface Normalization {
  /** True when the model's 3 channels are B, G, R. */
  bgr: boolean;
  divisor: number;
  mean: number[];
  std: number[];
}

/** Where the resize and centre crop land, in pixels of the (EXIF-oriented) source image. */
export interface GeometryPlan {
  /** Size the whole image is resized to (bilinear). */
  resizeWidth: number;
  resizeHeight: number;
  /** Crop taken from the resized image (the whole resized image in plain-resize mode). */
  cropLeft: number;
  cropTop: number;
  cropWidth: number;
  cropHeight: number;
  /** True when the crop is not the model's H x W and has to be resized once more (a `crop` override). */
  finalResize: boolean;
}

/** Model inputs at least this many pixels on their shorter side get resize + centre crop; smaller ones a plain resize. */
export const CENTRE_CROP_MIN_SIZE = 64;
/** The classic ImageNet ratio: crop 224 from a 256 resize. */
export const CROP_RATIO = 0.875;

const TORCH_MEAN = [0.485, 0.456, 0.406];
const TORCH_STD = [0.229, 0.224, 0.225];
/** Caffe means in B, G, R order. */
const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68];

const average = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** The normalization a preset applies for a model with `channels` (1 = greyscale: single mean/std, the average). */
export function normalizationFor(preset: PreprocessPreset, channels: number): Normalization {
  const grey = channels === 1;
  const perChannel = (values: number[]): number[] => (grey ? [average(values)] : values);
  const constant = (value: number): number[] => new Array<number>(grey ? 1 : 3).fill(value);
  switch (preset) {
    case 'torch': return { bgr: false, divisor: 255, mean: perChannel(TORCH_MEAN), std: perChannel(TORCH_STD) };
    case 'tf': return { bgr: false, divisor: 127.5, mean: constant(1), std: constant(1) };
    case 'caffe': return { bgr: !grey, divisor: 1, mean: perChannel(CAFFE_MEAN_BGR), std: constant(1) };
    case 'unit': return { bgr: false, divisor: 255, mean: constant(0), std: constant(1) };
    // 'none' means "no normalization": on images that is the raw 0..255 values.
    case 'raw': case 'none': return { bgr: false, divisor: 1, mean: constant(0), std: constant(1) };
  }
}

/** Python's round() (half to even), which torchvision's centre crop uses for its offsets. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function checkSize(setting: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new OctetError(setting, `must be a positive whole number of pixels, got ${value}`);
}

/**
 * Geometry for one source image. Models of at least CENTRE_CROP_MIN_SIZE px (or any model when `resize`/`crop` is set):
 * resize the shorter side to `resize` (default round(crop / 0.875)), the longer side in proportion (truncated, as
 * torchvision does), then take a centre crop of `crop` x `crop` (default the model's H x W). Smaller models: plain resize
 * to H x W, aspect ratio not kept (CIFAR/MNIST images are already square).
 */
export function planGeometry(srcWidth: number, srcHeight: number, input: InputSpec, options: PreprocessOptions): GeometryPlan {
  const { height, width } = input;
  const resize = options.resize ?? null;
  const crop = options.crop ?? null;
  if (resize !== null) checkSize('resize', resize);
  if (crop !== null) checkSize('crop', crop);
  const centreCrop = resize !== null || crop !== null || Math.min(height, width) >= CENTRE_CROP_MIN_SIZE;
  if (!centreCrop) {
    return { resizeWidth: width, resizeHeight: height, cropLeft: 0, cropTop: 0, cropWidth: width, cropHeight: height, finalResize: false };
  }
  const cropHeight = crop ?? height;
  const cropWidth = crop ?? width;
  const shorterTarget = resize ?? Math.round(Math.min(cropHeight, cropWidth) / CROP_RATIO);
  let resizeWidth: number;
  let resizeHeight: number;
  if (srcWidth <= srcHeight) {
    resizeWidth = shorterTarget;
    resizeHeight = Math.floor((shorterTarget * srcHeight) / srcWidth);
  } else {
    resizeHeight = shorterTarget;
    resizeWidth = Math.floor((shorterTarget * srcWidth) / srcHeight);
  }
  if (resizeWidth < cropWidth || resizeHeight < cropHeight) {
    throw new OctetError('resize', `${shorterTarget} px is smaller than the ${cropWidth}x${cropHeight} crop; use a resize of at least the crop size`);
  }
  return {
    resizeWidth, resizeHeight,
    cropLeft: roundHalfEven((resizeWidth - cropWidth) / 2),
    cropTop: roundHalfEven((resizeHeight - cropHeight) / 2),
    cropWidth, cropHeight,
    finalResize: cropWidth !== width || cropHeight !== height,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Resampling: Pillow's BILINEAR resize (what torchvision's Resize does to PIL images), reproduced bit for bit.

/** Pillow's fixed-point precision for 8-bit resampling (32 - 8 - 2 bits). */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** One direction of a resize: output i reads `count[i]` source samples from `first[i]` with `weights[i * stride + k]`. */
interface Taps {
  first: Int32Array;
  count: Int32Array;
  /** Fixed point, ONE = 1.0. */
  weights: Int32Array;
  stride: number;
}

/**
 * Taps for outputs [from, from + n) of a bilinear resize from `inSize` to `outSize` samples, as Pillow's
 * precompute_coeffs + normalize_coeffs_8bpc make them: a triangle filter widened by the scale when shrinking (every
 * source pixel contributes: antialiased, area-aware), normalized, in 22-bit fixed point. Triangle weights are >= 0.
 */
function bilinearTaps(inSize: number, outSize: number, from: number, n: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle's support (1) times the filter scale
  const inverse = 1 / filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(n);
  const count = new Int32Array(n);
  const weights = new Int32Array(n * stride);
  const k = new Float64Array(stride);
  for (let i = 0; i < n; i++) {
    const centre = (from + i + 0.5) * scale;
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const taps = Math.min(Math.trunc(centre + support + 0.5), inSize) - lo;
    let sum = 0;
    for (let x = 0; x < taps; x++) {
      const distance = Math.abs((x + lo - centre + 0.5) * inverse);
      k[x] = distance < 1 ? 1 - distance : 0;
      sum += k[x];
    }
    for (let x = 0; x < taps; x++) weights[i * stride + x] = Math.trunc(0.5 + (sum !== 0 ? k[x] / sum : k[x]) * ONE);
    first[i] = lo;
    count[i] = taps;
  }
  return { first, count, weights, stride };
}

/** A fixed-point sum back to an 8-bit sample (Pillow's clip8). */
function clip8(sum: number): number {
  const value = sum >> PRECISION_BITS;
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/** Horizontal pass over source rows [rowFirst, rowFirst + rowCount): each row becomes taps.first.length pixels. */
function resampleRows(src: Pixels, taps: Taps, rowFirst: number, rowCount: number): Uint8Array {
  const { first, count, weights, stride } = taps;
  const channels = src.channels;
  const data = src.data;
  const n = first.length;
  const srcRow = src.width * channels;
  const out = new Uint8Array(rowCount * n * channels);
  let o = 0;
  for (let y = 0; y < rowCount; y++) {
    const row = (rowFirst + y) * srcRow;
    if (channels === 3) {
      for (let i = 0; i < n; i++) {
        const end = i * stride + count[i];
        let s0 = HALF, s1 = HALF, s2 = HALF;
        for (let k = i * stride, p = row + first[i] * 3; k < end; k++, p += 3) {
          const w = weights[k];
          s0 += data[p] * w;
          s1 += data[p + 1] * w;
          s2 += data[p + 2] * w;
        }
        out[o++] = clip8(s0);
        out[o++] = clip8(s1);
        out[o++] = clip8(s2);
      }
    } else {
      for (let i = 0; i < n; i++) {
        const end = i * stride + count[i];
        for (let c = 0; c < channels; c++) {
          let s = HALF;
          for (let k = i * stride, p = row + first[i] * channels + c; k < end; k++, p += channels) s += data[p] * weights[k];
          out[o++] = clip8(s);
        }
      }
    }
  }
  return out;
}

/**
 * Vertical pass: output row j blends rows taps.first[j].. of `rows`, where source row r's `rowLength` samples start
 * at rows[start + (r - rowFirst) * rowStride].
 */
function resampleColumns(rows: Uint8Array, start: number, rowStride: number, rowFirst: number, taps: Taps, rowLength: number): Uint8Array {
  const { first, count, weights, stride } = taps;
  const out = new Uint8Array(first.length * rowLength);
  let o = 0;
  for (let j = 0; j < first.length; j++) {
    const kFirst = j * stride;
    const kEnd = kFirst + count[j];
    const base = start + (first[j] - rowFirst) * rowStride;
    for (let x = 0; x < rowLength; x++) {
      let s = HALF;
      for (let k = kFirst, p = base + x; k < kEnd; k++, p += rowStride) s += rows[p] * weights[k];
      out[o++] = clip8(s);
    }
  }
  return out;
}

/**
 * Resizes `src` to `width` x `height` (bilinear, antialiased when shrinking; Pillow's two passes, horizontal first
 * with an 8-bit intermediate) and returns the `cropWidth` x `cropHeight` window at (`left`, `top`) of the result.
 * Only that window is computed: the same pixels as resizing everything and cropping after, for less work.
 */
function resample(src: Pixels, width: number, height: number, left: number, top: number, cropWidth: number, cropHeight: number): Pixels {
  const channels = src.channels;
  const rowLength = cropWidth * channels;
  const vertical = height === src.height ? null : bilinearTaps(src.height, height, top, cropHeight);
  // Source rows the window needs.
  const rowFirst = vertical ? vertical.first[0] : top;
  const rowEnd = vertical ? vertical.first[cropHeight - 1] + vertical.count[cropHeight - 1] : top + cropHeight;
  // Window columns of those rows: source row r starts at rows[start + (r - rowFirst) * rowStride].
  let rows: Uint8Array;
  let start: number;
  let rowStride: number;
  if (width !== src.width) {
    rows = resampleRows(src, bilinearTaps(src.width, width, left, cropWidth), rowFirst, rowEnd - rowFirst);
    start = 0;
    rowStride = rowLength;
    if (!vertical) return { data: rows, width: cropWidth, height: cropHeight, channels };
  } else {
    rows = src.data;
    rowStride = src.width * channels;
    start = rowFirst * rowStride + left * channels;
  }
  let data: Uint8Array;
  if (vertical) {
    data = resampleColumns(rows, start, rowStride, rowFirst, vertical, rowLength);
  } else {
    data = new Uint8Array(rowLength * cropHeight);
    for (let y = 0; y < cropHeight; y++) data.set(rows.subarray(start + y * rowStride, start + y * rowStride + rowLength), y * rowLength);
  }
  return { data, width: cropWidth, height: cropHeight, channels };
}

/** Applies the plan's resize + centre crop (and a `crop` override's final resize) to oriented source pixels. */
function applyPlan(pixels: Pixels, plan: GeometryPlan, input: InputSpec): Pixels {
  const untouched = plan.resizeWidth === pixels.width && plan.resizeHeight === pixels.height
    && plan.cropWidth === pixels.width && plan.cropHeight === pixels.height;
  const cropped = untouched ? pixels
    : resample(pixels, plan.resizeWidth, plan.resizeHeight, plan.cropLeft, plan.cropTop, plan.cropWidth, plan.cropHeight);
  return plan.finalResize ? resample(cropped, input.width, input.height, 0, 0, input.width, input.height) : cropped;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding: JPEG (jpeg-js) and PNG (pngjs), pure JavaScript.

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

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
}

/** Reads the header segments of a JPEG (after SOI, up to the first SOS); tolerant: stops at anything unexpected. */
function readJpegHeader(bytes: Uint8Array): JpegHeader {
  const header: JpegHeader = { orientation: 1, jfif: false, adobeTransformAt: -1, components: [] };
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
 * JPEG -> 8-bit RGB (grey replicated) with its EXIF orientation applied. jpeg-js does the entropy decoding and IDCT;
 * 3-component images come out of it unconverted and get libjpeg's colour handling here (see finishComponents).
 */
function decodeJpeg(bytes: Uint8Array): Pixels {
  const header = readJpegHeader(bytes);
  const three = header.components.length === 3 && header.components.every((comp) => comp.h > 0 && comp.v > 0);
  let input = bytes;
  if (three && header.adobeTransformAt >= 0 && bytes[header.adobeTransformAt] !== 0) {
    // jpeg-js converts colour itself whenever the Adobe segment asks for it: clear the flag on a copy to get raw samples.
    input = Uint8Array.from(bytes);
    input[header.adobeTransformAt] = 0;
  }
  const image = decodeJpegBytes(input, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024, ...(three ? { colorTransform: false } : {}) });
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
function decodePixels(bytes: Uint8Array, name: string): Pixels {
  if (bytes.length === 0) throw new OctetError(name, 'cannot decode image: the file is empty');
  const format = sniffFormat(bytes);
  if (format !== 'JPEG' && format !== 'PNG') {
    if (format !== null) throw new OctetError(name, `unsupported image format; use JPEG or PNG (this file is ${format})`);
    throw new OctetError(name, 'cannot decode image: not a JPEG or PNG file (unrecognised header); use JPEG or PNG');
  }
  try {
    return format === 'JPEG' ? decodeJpeg(bytes) : decodePng(bytes);
  } catch (err) {
    let cause = err instanceof Error ? err.message.trim() : String(err);
    if (/read requests wait/.test(cause)) cause = 'the file ends early (truncated)'; // pngjs's wording
    throw new OctetError(name, `cannot decode image (corrupt, truncated or unsupported ${format}): ${cause}`);
  }
}

/**
 * Decodes an encoded JPEG or PNG to 8-bit RGB, EXIF orientation applied (JPEG), alpha dropped, 16-bit PNG rounded
 * to 8 bits, then resized and cropped to the model's H x W. Always 3 channels (grey sources are replicated);
 * pixelsToTensor makes grey. Other formats and corrupt files are OctetErrors naming `name` (the file).
 */
export async function decodeImage(bytes: Uint8Array, name: string, input: InputSpec, options: PreprocessOptions): Promise<Pixels> {
  const pixels = decodePixels(bytes, name);
  return applyPlan(pixels, planGeometry(pixels.width, pixels.height, input, options), input);
}

/** Resizes/crops already-decoded pixels (IDX digits) to the model's H x W with the same geometry rules. */
export async function resizePixels(pixels: Pixels, input: InputSpec, options: PreprocessOptions): Promise<Pixels> {
  return applyPlan(pixels, planGeometry(pixels.width, pixels.height, input, options), input);
}

/** value lookup per (model channel, 8-bit pixel value): exact float32 of the preset formula, no per-pixel arithmetic. */
function lookupTable(norm: Normalization): Float32Array[] {
  return norm.mean.map((mean, c) => {
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = (v / norm.divisor - mean) / norm.std[c];
    return table;
  });
}

/** ITU-R 601-2 luma in PIL's integer form (PIL `convert('L')`, torchvision Grayscale); exact for grey pixels. */
function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/**
 * 8-bit pixels of exactly the model's H x W -> one sample in the model's layout and channel order, normalized by
 * `preset`. Grey pixels feed a 3-channel model by replication; colour pixels feed a 1-channel model through luma
 * (`convertedToGrey` tells the caller, who warns).
 */
export function pixelsToTensor(pixels: Pixels, input: InputSpec, preset: PreprocessPreset): { data: Float32Array; convertedToGrey: boolean } {
  const { height, width, channels, layout } = input;
  if (channels !== 1 && channels !== 3) {
    throw new OctetError(`input '${input.name}'`, `has ${channels} channels; images can feed only 1- or 3-channel inputs`);
  }
  if (pixels.width !== width || pixels.height !== height) {
    throw new Error(`pixelsToTensor: got ${pixels.width}x${pixels.height} pixels for a ${width}x${height} input`);
  }
  const norm = normalizationFor(preset, channels);
  const tables = lookupTable(norm);
  const plane = height * width;
  const out = new Float32Array(plane * channels);
  const src = pixels.data;
  const srcChannels = pixels.channels;
  let convertedToGrey = false;
  if (channels === 1) {
    const table = tables[0];
    for (let p = 0; p < plane; p++) {
      if (srcChannels === 1) {
        out[p] = table[src[p]];
      } else {
        const r = src[p * 3], g = src[p * 3 + 1], b = src[p * 3 + 2];
        if (r !== g || g !== b) convertedToGrey = true;
        out[p] = table[luma(r, g, b)];
      }
    }
    return { data: out, convertedToGrey };
  }
  // Source channel feeding model channel 0, 1, 2 (grey sources feed all three).
  const [s0, s1, s2] = srcChannels === 1 ? [0, 0, 0] : norm.bgr ? [2, 1, 0] : [0, 1, 2];
  const [t0, t1, t2] = tables;
  // Where model channel c of pixel p goes: p * step + c * stride.
  const step = layout === 'NCHW' ? 1 : 3;
  const stride = layout === 'NCHW' ? plane : 1;
  for (let p = 0, i = 0, o = 0; p < plane; p++, i += srcChannels, o += step) {
    out[o] = t0[src[i + s0]];
    out[o + stride] = t1[src[i + s1]];
    out[o + 2 * stride] = t2[src[i + s2]];
  }
  return { data: out, convertedToGrey };
}

/** Encoded image -> one normalized sample in model layout (decodeImage + pixelsToTensor). */
export async function imageToTensor(bytes: Uint8Array, name: string, input: InputSpec, options: PreprocessOptions): Promise<{ data: Float32Array; convertedToGrey: boolean }> {
  const pixels = await decodeImage(bytes, name, input, options);
  return pixelsToTensor(pixels, input, options.preset);
}

export interface ModelHints {
  /** ModelProto.producer_name, e.g. "pytorch", "tf2onnx", "CNTK". */
  producer?: string;
  /** ModelProto.metadata_props. A key containing "preprocess" whose value is a preset name wins outright. */
  metadata?: Record<string, string>;
  inputName?: string;
  /** Model file or graph name, e.g. "resnet50_keras.onnx" (used to tell Keras ResNet/VGG, which want caffe). */
  modelName?: string;
}

const PRESET_NAMES: readonly PreprocessPreset[] = ['torch', 'tf', 'caffe', 'raw', 'unit', 'none'];
const TF_PRODUCER = /keras|tf2onnx|tensorflow|tfjs|onnx-tf|tflite/i;

/**
 * A GUESS at the preprocessing a model was trained with, from what the ONNX file says about itself. ONNX does not
 * record preprocessing, so this is a heuristic and the reason says why; users override it with --preprocess.
 *  - metadata naming a preset (key containing "preprocess") -> that preset;
 *  - 1-channel input of at most 32 px (MNIST-like): CNTK exports (ONNX model zoo MNIST) -> raw, otherwise -> unit;
 *  - Keras/TensorFlow producers -> tf, except ResNet/VGG by name -> caffe (keras.applications conventions);
 *  - anything else (PyTorch and unknown) -> torch.
 */
export function guessPreset(input: InputSpec, modelHints: ModelHints): { preset: PreprocessPreset; reason: string } {
  for (const [key, value] of Object.entries(modelHints.metadata ?? {})) {
    const named = value.trim().toLowerCase();
    if (/preprocess/i.test(key) && (PRESET_NAMES as readonly string[]).includes(named)) {
      return { preset: named as PreprocessPreset, reason: `model metadata ${key}=${value}` };
    }
  }
  const producer = modelHints.producer?.trim() ?? '';
  const producerText = producer ? `producer '${producer}'` : 'no producer recorded';
  const size = `${input.channels}x${input.height}x${input.width}`;
  if (input.channels === 1 && Math.max(input.height, input.width) <= 32) {
    if (/cntk/i.test(producer)) {
      return { preset: 'raw', reason: `guess: ${size} greyscale input and ${producerText} (ONNX model zoo MNIST takes 0..255)` };
    }
    return { preset: 'unit', reason: `guess: ${size} greyscale digit-sized input, ${producerText}; assuming x/255` };
  }
  if (TF_PRODUCER.test(producer)) {
    const name = modelHints.modelName ?? '';
    if (/resnet|vgg/i.test(name) && !/v2/i.test(name)) {
      return { preset: 'caffe', reason: `guess: ${producerText} and model name '${name}' (Keras ResNet/VGG use caffe BGR mean subtraction)` };
    }
    return { preset: 'tf', reason: `guess: ${producerText} (Keras/TensorFlow models usually take x/127.5-1)` };
  }
  return { preset: 'torch', reason: `guess: ${producerText}; assuming ImageNet mean/std normalization (torchvision)` };
}
