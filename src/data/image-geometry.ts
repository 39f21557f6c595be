// Image geometry: where an image lands in its sample for each fit (src/common/report.ts ImageFit) — torchvision's
// resize + centre crop, a stretch, a letterbox, a text line padded on the right, or a size of its own rounded to a
// multiple — and Pillow's antialiased bilinear resize, bit for bit, computed for the window that is used only.
import { InternalError, OctetError } from '../common/errors';
import type { Preprocessing } from '../common/report';
import type { Pixels } from './image-decode';
import { ownSizeBound } from './preprocessing';

/** Where the image goes, in pixels of the (EXIF-oriented) source image and of the sample. */
export interface GeometryPlan {
  /** Size the whole image is resized to (bilinear). */
  resizeWidth: number;
  resizeHeight: number;
  /** Window taken from the resized image (the whole resized image except with the crop fit). */
  cropLeft: number;
  cropTop: number;
  cropWidth: number;
  cropHeight: number;
  /** Crop fit with a `crop` window other than the size: the window is resized once more, to the canvas. */
  finalResize: boolean;
  /** The sample: canvasWidth x canvasHeight, the (final) window placed at (placeLeft, placeTop), the rest padded. */
  canvasWidth: number;
  canvasHeight: number;
  placeLeft: number;
  placeTop: number;
}

/** The classic ImageNet ratio: crop 224 from a 256 resize. */
export const CROP_RATIO = 0.875;

/** Python's round() (half to even), which torchvision's centre crop uses for its offsets. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The resized image as the sample, at (left, top) of a canvas (no crop). */
function placed(width: number, height: number, canvasWidth: number, canvasHeight: number, placeLeft = 0, placeTop = 0): GeometryPlan {
  return {
    resizeWidth: width, resizeHeight: height, cropLeft: 0, cropTop: 0, cropWidth: width, cropHeight: height, finalResize: false,
    canvasWidth, canvasHeight, placeLeft, placeTop,
  };
}

/**
 * torchvision's Resize(shorter side) + CenterCrop: the shorter side to `resize` (default round(crop / 0.875)), the
 * longer in proportion (truncated, as torchvision does), then the centre `crop` window (default the size). A window
 * that is not square and not covered by that resize gets a larger resize (only when `resize` is not given).
 */
function planCrop(srcWidth: number, srcHeight: number, height: number, width: number, p: Preprocessing): GeometryPlan {
  const cropHeight = p.crop ?? height;
  const cropWidth = p.crop ?? width;
  const resized = (shorter: number): [number, number] => (srcWidth <= srcHeight
    ? [shorter, Math.floor((shorter * srcHeight) / srcWidth)] : [Math.floor((shorter * srcWidth) / srcHeight), shorter]);
  let shorterTarget = p.resize ?? Math.round(Math.min(cropHeight, cropWidth) / CROP_RATIO);
  let [resizeWidth, resizeHeight] = resized(shorterTarget);
  if (p.resize === null && (resizeWidth < cropWidth || resizeHeight < cropHeight)) {
    shorterTarget = Math.max(shorterTarget, Math.ceil(Math.max(cropWidth / srcWidth, cropHeight / srcHeight) * Math.min(srcWidth, srcHeight)));
    [resizeWidth, resizeHeight] = resized(shorterTarget);
    while (resizeWidth < cropWidth || resizeHeight < cropHeight) [resizeWidth, resizeHeight] = resized(++shorterTarget);
  }
  if (resizeWidth < cropWidth || resizeHeight < cropHeight) {
    throw new OctetError('--resize', `${shorterTarget} px is smaller than the ${cropWidth}x${cropHeight} crop; use a resize of at least the crop size`);
  }
  return {
    resizeWidth, resizeHeight,
    cropLeft: roundHalfEven((resizeWidth - cropWidth) / 2),
    cropTop: roundHalfEven((resizeHeight - cropHeight) / 2),
    cropWidth, cropHeight,
    finalResize: cropWidth !== width || cropHeight !== height,
    canvasWidth: width, canvasHeight: height, placeLeft: 0, placeTop: 0,
  };
}

/** Each image at its own size: scaled down (never up) so its longer side is at most maxSide, sides multiples of N. */
function planOwnSize(srcWidth: number, srcHeight: number, p: Preprocessing & { sizeMultiple: number; maxSide: number }): GeometryPlan {
  const n = p.sizeMultiple;
  const bound = ownSizeBound(p) ?? n;
  const scale = Math.min(1, p.maxSide / Math.max(srcWidth, srcHeight));
  if (p.fit === 'stretch') {
    // Each side rounded to the nearest multiple (the ratio changes by less than N/2 pixels a side).
    const side = (v: number) => Math.min(bound, Math.max(n, Math.round((v * scale) / n) * n));
    const [width, height] = [side(srcWidth), side(srcHeight)];
    return placed(width, height, width, height);
  }
  // Letterbox / pad-right: the exact ratio, padded up to the next multiple.
  const width = Math.max(1, Math.round(srcWidth * scale));
  const height = Math.max(1, Math.round(srcHeight * scale));
  const canvasWidth = Math.ceil(width / n) * n;
  const canvasHeight = Math.ceil(height / n) * n;
  return p.fit === 'letterbox'
    ? placed(width, height, canvasWidth, canvasHeight, Math.floor((canvasWidth - width) / 2), Math.floor((canvasHeight - height) / 2))
    : placed(width, height, canvasWidth, canvasHeight);
}

/**
 * Where an image of srcWidth x srcHeight goes in its sample (`p.size`, or its own size with `p.sizeMultiple`):
 *  - crop: shorter side to `resize` (default crop / 0.875), centre `crop` window (default the size);
 *  - stretch: resized to the size, ratio not kept;
 *  - letterbox: the largest size that keeps the ratio and fits (sides rounded), centred (offsets floored), padded;
 *  - pad-right: height = the size's, width in proportion (rounded up, at most the size's), at the left, padded right.
 */
export function planGeometry(srcWidth: number, srcHeight: number, p: Preprocessing): GeometryPlan {
  if (p.sizeMultiple !== null && p.maxSide !== null) return planOwnSize(srcWidth, srcHeight, { ...p, sizeMultiple: p.sizeMultiple, maxSide: p.maxSide });
  if (!p.size) throw new InternalError('planGeometry: no sample size (the data set checks for one before decoding)');
  const [height, width] = p.size;
  switch (p.fit) {
    case 'crop': return planCrop(srcWidth, srcHeight, height, width, p);
    case 'stretch': return placed(width, height, width, height);
    case 'letterbox': {
      const scale = Math.min(width / srcWidth, height / srcHeight);
      const w = Math.min(width, Math.max(1, Math.round(srcWidth * scale)));
      const h = Math.min(height, Math.max(1, Math.round(srcHeight * scale)));
      return placed(w, h, width, height, Math.floor((width - w) / 2), Math.floor((height - h) / 2));
    }
    case 'pad-right': {
      const w = Math.min(width, Math.max(1, Math.ceil((height * srcWidth) / srcHeight)));
      return placed(w, height, width, height);
    }
  }
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

/** The plan's window of oriented source pixels: resized, cropped (and resized once more for a `crop` override). */
export function applyPlan(pixels: Pixels, plan: GeometryPlan): Pixels {
  const untouched = plan.resizeWidth === pixels.width && plan.resizeHeight === pixels.height
    && plan.cropWidth === pixels.width && plan.cropHeight === pixels.height;
  const cropped = untouched ? pixels
    : resample(pixels, plan.resizeWidth, plan.resizeHeight, plan.cropLeft, plan.cropTop, plan.cropWidth, plan.cropHeight);
  return plan.finalResize ? resample(cropped, plan.canvasWidth, plan.canvasHeight, 0, 0, plan.canvasWidth, plan.canvasHeight) : cropped;
}

/** Resizes/crops already-decoded pixels as `p` says: the image part of the sample (padding is added with the values). */
export function resizePixels(pixels: Pixels, p: Preprocessing): Pixels {
  return applyPlan(pixels, planGeometry(pixels.width, pixels.height, p));
}
