// Layer-wise weight rounding from calibration data (no gradients): the int8 codes of a Conv/Gemm/MatMul weight are
// chosen to minimise the error of the layer's output on calibration inputs, Σ over rows o of (w_o − s_o·q_o)ᵀ H
// (w_o − s_o·q_o) with H the inputs' second moment (im2col patches for convolutions), instead of rounding each
// weight to nearest. Scales stay the ones Octet chose (per channel or per tensor); codes stay within the layer's
// range (−127..127, or −63..63 with 7-bit weights) and, for pair-safe layers, no pair of neighbouring same-sign codes
// may exceed 128 (ONNX Runtime's non-VNNI U8S8 kernels saturate there). H may be block-diagonal: grouped and
// depthwise convolutions have one H per group (kh·kw inputs for depthwise), and layers with too many inputs for a
// dense H are split into blocks of whole input channels. A row keeps its round-to-nearest codes whenever the search
// does not lower its error on the calibration statistics, so the layer's error never rises.
import { BlockSolver, gptqTile, prepareBlock, quadraticForms, refineTile, RowLimits } from './weight-rounding-solve';

/** How weight values map to rows (output channels) × inputs: conv [O, I/g, kh, kw]; rows [N, K]; columns [K, N]. */
export type WeightLayout = 'conv' | 'rows' | 'columns';

/** Sums over calibration samples of a layer's input vectors, in blocks (a block-diagonal second moment). */
export interface InputMoments {
  /** Convolution groups (1 for Gemm/MatMul): output row o reads group ⌊o / (rows / groups)⌋. */
  groups: number;
  /** Each group's inputs are split into this many consecutive blocks of `size` inputs. */
  blocksPerGroup: number;
  size: number;
  /** Σ x xᵀ of each block: groups·blocksPerGroup matrices of size×size, row-major. */
  secondMoments: Float64Array;
  /** Σ x of each block: groups·blocksPerGroup vectors of `size`. */
  sums: Float64Array;
  /** How many input vectors were summed. */
  count: number;
}

export interface WeightRoundingOptions {
  /** λ: H + λ·mean(diag H)·I. */
  dampening: number;
  /** Coordinate-descent sweeps after GPTQ. */
  refinePasses: number;
  /** Use the covariance (H − μμᵀ) instead of the second moment: the mean error is left to bias correction. */
  centered: boolean;
}

export const DEFAULT_ROUNDING: WeightRoundingOptions = { dampening: 0.01, refinePasses: 0, centered: false };

export interface LayerLimits {
  /** Largest code magnitude: 127, or 63 for 7-bit weights. */
  qmax: number;
  /** Keep neighbouring same-sign code pairs within 128 (in both NCHW and NHWC input order for convolutions). */
  pairSafe: boolean;
}

export interface RoundedLayer {
  codes: Int8Array;
  /** Σ over rows of wᵀHw (the layer's output energy on calibration inputs) and the error of each rounding. */
  signal: number;
  nearestError: number;
  error: number;
  /** Rows whose codes changed from round-to-nearest. */
  rowsChanged: number;
}


/** Largest |q_a| + |q_b| over neighbouring same-sign codes must stay ≤ 128: shrinks codes towards their values. */
export function repairPairs(q: Int32Array, w: Float64Array, scale: number, order: ArrayLike<number>): void {
  for (let guard = 0; guard < q.length * 4; guard++) {
    let fixed = false;
    for (let n = 0; n + 1 < order.length; n++) {
      const a = order[n];
      const b = order[n + 1];
      if (!((q[a] > 0 && q[b] > 0) || (q[a] < 0 && q[b] < 0)) || Math.abs(q[a]) + Math.abs(q[b]) <= 128) continue;
      // Shrink the code rounded furthest away from zero relative to its value.
      const over = (i: number) => Math.abs(q[i]) - Math.abs(w[i] / scale);
      const i = over(a) >= over(b) ? a : b;
      q[i] -= Math.sign(q[i]);
      fixed = true;
    }
    if (!fixed) return;
  }
}

function blockMatrix(m: InputMoments, block: number, centered: boolean): Float64Array {
  const { size, count } = m;
  const h = new Float64Array(size * size);
  const base = block * size * size;
  const sums = block * size;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      let v = m.secondMoments[base + i * size + j] / count;
      if (centered) v -= (m.sums[sums + i] / count) * (m.sums[sums + j] / count);
      h[i * size + j] = v;
    }
  }
  return h;
}

/** Orders in which ORT's U8S8 kernels may pair a row's inputs (conv: NCHW and NHWC; dense: as stored). */
function pairOrders(layout: WeightLayout, dims: readonly number[], k: number): number[][] {
  const plain = Array.from({ length: k }, (_, i) => i);
  if (layout !== 'conv') return [plain];
  const inputs = dims[1];
  const spatial = k / inputs;
  const nhwc: number[] = [];
  for (let s = 0; s < spatial; s++) for (let i = 0; i < inputs; i++) nhwc.push(i * spatial + s);
  return [plain, nhwc];
}

/** roundLayer's arguments as plain data (a job for a rounding thread, see round-worker.ts). */
export interface RoundLayerJob {
  weights: Float32Array;
  dims: readonly number[];
  layout: WeightLayout;
  scales: Float32Array;
  nearest: Int8Array;
  moments: InputMoments;
  limits: LayerLimits;
  options: WeightRoundingOptions;
}

/** roundLayer on a job (on a rounding thread or here). */
export function roundJob(job: RoundLayerJob): RoundedLayer {
  return roundLayer(job.weights, job.dims, job.layout, job.scales, job.nearest, job.moments, job.limits, job.options);
}

/** Rows processed together per block (see weight-rounding-solve.ts). */
const TILE = 16;

/**
 * Chooses codes for one weight tensor. `scales` has one value per row (per channel) or one (per tensor); `nearest`
 * holds the round-to-nearest codes with those scales (kept for rows the search does not improve).
 */
export function roundLayer(weights: Float32Array, dims: readonly number[], layout: WeightLayout, scales: Float32Array,
  nearest: Int8Array, moments: InputMoments, limits: LayerLimits, options: WeightRoundingOptions = DEFAULT_ROUNDING): RoundedLayer {
  const rows = layout === 'columns' ? dims[1] : dims[0];
  const k = weights.length / rows;
  const { groups, blocksPerGroup, size } = moments;
  if (!Number.isInteger(k) || blocksPerGroup * size !== k || rows % groups !== 0 || moments.count <= 0) {
    throw new RangeError(`roundLayer: moments (${groups} groups × ${blocksPerGroup} blocks × ${size}) do not fit a weight of ${rows} rows × ${k} inputs`);
  }
  const at = layout === 'columns' ? (o: number, i: number) => i * rows + o : (o: number, i: number) => o * k + i;
  const scaleOf = (o: number) => (scales.length === 1 ? scales[0] : scales[o]);
  const rowLimits: RowLimits = { qmin: -limits.qmax, qmax: limits.qmax };
  const rowsPerGroup = rows / groups;
  const chosen = new Int32Array(rows * k);
  const rowChosen = new Float64Array(rows);
  // 1. Search, block by block, tile by tile (each block's inputs in its solver's order).
  const solvers: BlockSolver[] = [];
  const tiles = (g: number, visit: (first: number, count: number, scales: Float64Array) => void) => {
    for (let first = g * rowsPerGroup; first < (g + 1) * rowsPerGroup; first += TILE) {
      const count = Math.min(TILE, (g + 1) * rowsPerGroup - first);
      visit(first, count, Float64Array.from({ length: count }, (_, r) => scaleOf(first + r)));
    }
  };
  for (let g = 0; g < groups; g++) {
    for (let b = 0; b < blocksPerGroup; b++) {
      const solver = prepareBlock(blockMatrix(moments, g * blocksPerGroup + b, options.centered), size, options.dampening);
      solvers.push(solver);
      tiles(g, (first, count, tileScales) => {
        const w = gatherTile((o, i) => weights[at(o, i)], first, count, b * size, solver.order);
        const q = new Int32Array(size * count);
        const damped = gptqTile(solver, w, tileScales, rowLimits, q);
        const errors = options.refinePasses > 0 || !solver.factor
          ? refineTile(solver, w, tileScales, rowLimits, q, options.refinePasses) : undamped(damped, solver.lambda, w, tileScales, q, size);
        for (let r = 0; r < count; r++) {
          rowChosen[first + r] += errors[r];
          for (let i = 0; i < size; i++) chosen[(first + r) * k + b * size + solver.order[i]] = q[r * size + i];
        }
      });
    }
  }
  // 2. Pair-safe layers: no neighbouring same-sign codes above 128 over the whole row (their error is measured again).
  const repaired = new Uint8Array(rows);
  if (limits.pairSafe) {
    const w = new Float64Array(k);
    for (let o = 0; o < rows; o++) {
      for (let i = 0; i < k; i++) w[i] = weights[at(o, i)];
      const q = chosen.subarray(o * k, (o + 1) * k);
      const before = Int32Array.from(q);
      for (const order of pairOrders(layout, dims, k)) repairPairs(q, w, scaleOf(o), order);
      if (q.some((c, i) => c !== before[i])) { repaired[o] = 1; rowChosen[o] = 0; }
    }
  }
  // 3. Signal wᵀHw and round-to-nearest error per row, on the undampened moments.
  const rowSignal = new Float64Array(rows);
  const rowNearest = new Float64Array(rows);
  for (let g = 0; g < groups; g++) {
    for (let b = 0; b < blocksPerGroup; b++) {
      const solver = solvers[g * blocksPerGroup + b];
      tiles(g, (first, count, tileScales) => {
        const w = gatherTile((o, i) => weights[at(o, i)], first, count, b * size, solver.order);
        const errorOf = (codeAt: (o: number, i: number) => number) => {
          const e = gatherTile(codeAt, first, count, b * size, solver.order);
          for (let i = 0; i < e.length; i++) e[i] = w[i] - tileScales[Math.floor(i / size)] * e[i];
          return quadraticForms(solver.exact, size, e);
        };
        const signal = quadraticForms(solver.exact, size, w);
        const nearestErrors = errorOf((o, i) => nearest[at(o, i)]);
        const again = repaired.subarray(first, first + count).some((x) => x === 1) ? errorOf((o, i) => chosen[o * k + i]) : null;
        for (let r = 0; r < count; r++) {
          rowSignal[first + r] += signal[r];
          rowNearest[first + r] += nearestErrors[r];
          if (again && repaired[first + r]) rowChosen[first + r] += again[r];
        }
      });
    }
  }
  // 4. Keep a row's new codes only where they lower its error.
  const codes = Int8Array.from(nearest);
  let signal = 0;
  let nearestError = 0;
  let error = 0;
  let rowsChanged = 0;
  for (let o = 0; o < rows; o++) {
    signal += rowSignal[o];
    nearestError += Math.max(0, rowNearest[o]);
    if (rowChosen[o] < rowNearest[o]) {
      error += Math.max(0, rowChosen[o]);
      let changed = false;
      for (let i = 0; i < k; i++) {
        const c = chosen[o * k + i];
        if (codes[at(o, i)] !== c) { codes[at(o, i)] = c; changed = true; }
      }
      if (changed) rowsChanged++;
    } else {
      error += Math.max(0, rowNearest[o]);
    }
  }
  return { codes, signal, nearestError, error, rowsChanged };
}

/** Errors on the undampened H from those on the dampened one: eᵀHe = eᵀ(H + λI)e − λ·|e|², e = w − s·q per row. */
function undamped(damped: Float64Array, lambda: number, w: Float64Array, scales: Float64Array, q: Int32Array, size: number): Float64Array {
  return damped.map((d, r) => {
    let norm = 0;
    for (let i = r * size; i < (r + 1) * size; i++) { const e = w[i] - scales[r] * q[i]; norm += e * e; }
    return d - lambda * norm;
  });
}

/** A tile of `count` rows from `first` (R×B): inputs offset + order[i] of each row, read through `valueAt`. */
function gatherTile(valueAt: (o: number, i: number) => number, first: number, count: number, offset: number, order: Int32Array): Float64Array {
  const size = order.length;
  const tile = new Float64Array(size * count);
  for (let r = 0; r < count; r++) for (let i = 0; i < size; i++) tile[r * size + i] = valueAt(first + r, offset + order[i]);
  return tile;
}

