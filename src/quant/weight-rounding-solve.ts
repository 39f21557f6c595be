// The numerical core of layer-wise weight rounding: for one block of B inputs with second moment H (B×B, the mean
// of x xᵀ over calibration inputs), choose integer codes q for a weight row w with a fixed scale s that minimise the
// layer's output error  f(q) = (w − s·q)ᵀ H (w − s·q)  instead of rounding each weight to nearest.
//   1. GPTQ (Frantar et al. 2022, after Optimal Brain Quantization): round inputs one at a time in order of falling
//      H_ii ("act order"), spreading each rounding error over the inputs not yet rounded through the upper Cholesky
//      factor U of H⁻¹ (H⁻¹ = UᵀU).
//   2. Coordinate descent on f itself: move single codes by ±1 while that lowers f (keeps r = H(w − s·q) current,
//      so each try costs O(1) and each accepted move O(B)).
// H is dampened (λ·mean(diag H) added to the diagonal) so that few samples or dead inputs cannot make it singular.
import { SolveKernels, solveKernels } from './solve-kernels';

/** Blocks with fewer inputs run the JavaScript loops: a call into WebAssembly costs more than 9 or 27 products. */
export const KERNEL_MIN_SIZE = 16;

/** The WebAssembly kernels for blocks of `size` inputs (null: the JavaScript loops; see solve-kernels.ts). */
function kernelsFor(size: number): SolveKernels | null {
  return size >= KERNEL_MIN_SIZE ? solveKernels() : null;
}

/** A block's matrices, prepared once and shared by every weight row that reads the block. */
export interface BlockSolver {
  size: number;
  /** Inputs in the order GPTQ rounds them (falling H_ii). */
  order: Int32Array;
  /** Dampened H, permuted to `order`, row-major: exact + lambda·I. */
  damped: Float64Array;
  lambda: number;
  /** Undampened H (the true objective), permuted to `order`. */
  exact: Float64Array;
  /** Upper Cholesky factor of the dampened H⁻¹ (permuted), row-major; null when H is all zeros (dead inputs). */
  factor: Float64Array | null;
}

/** In-place lower Cholesky factor of a symmetric n×n matrix (row-major). False when it is not positive definite.
 *  Column j below the diagonal is computed four rows at a time (dot products with row j, loaded once per four). */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let d = a[rowJ + j];
    for (let k = 0; k < j; k++) d -= a[rowJ + k] * a[rowJ + k];
    if (!(d > 0)) return false;
    const diag = Math.sqrt(d);
    a[rowJ + j] = diag;
    let i = j + 1;
    for (; i + 4 <= n; i += 4) {
      const [r0, r1, r2, r3] = [i * n, (i + 1) * n, (i + 2) * n, (i + 3) * n];
      let [s0, s1, s2, s3] = [a[r0 + j], a[r1 + j], a[r2 + j], a[r3 + j]];
      for (let k = 0; k < j; k++) {
        const v = a[rowJ + k];
        s0 -= a[r0 + k] * v;
        s1 -= a[r1 + k] * v;
        s2 -= a[r2 + k] * v;
        s3 -= a[r3 + k] * v;
      }
      [a[r0 + j], a[r1 + j], a[r2 + j], a[r3 + j]] = [s0 / diag, s1 / diag, s2 / diag, s3 / diag];
    }
    for (; i < n; i++) {
      const rowI = i * n;
      let s = a[rowI + j];
      for (let k = 0; k < j; k++) s -= a[rowI + k] * a[rowJ + k];
      a[rowI + j] = s / diag;
    }
    for (let k = j + 1; k < n; k++) a[rowJ + k] = 0;
  }
  return true;
}

/** Inverse of a lower-triangular n×n matrix (row-major), as a new lower-triangular matrix: row i of L⁻¹ is
 *  (e_i − Σ_{k<i} L_ik·row k of L⁻¹) / L_ii, built from whole rows (contiguous, cache-friendly). */
export function invertLower(l: Float64Array, n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    for (let k = 0; k < i; k++) {
      const coef = l[rowI + k];
      if (coef === 0) continue;
      const rowK = k * n;
      for (let j = 0; j <= k; j++) m[rowI + j] -= coef * m[rowK + j];
    }
    const inv = 1 / l[rowI + i];
    for (let j = 0; j < i; j++) m[rowI + j] *= inv;
    m[rowI + i] = inv;
  }
  return m;
}

/**
 * Upper U with UᵀU = H⁻¹, from the Cholesky factor of H with its order reversed: if J·H·J = L·Lᵀ (J reverses), then
 * H⁻¹ = (J·L⁻¹·J)ᵀ(J·L⁻¹·J) and J·L⁻¹·J is upper triangular. Null when H is not positive definite.
 */
export function inverseUpperFactor(h: Float64Array, n: number, kernels: SolveKernels | null = kernelsFor(n)): Float64Array | null {
  const reversed = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) reversed[i * n + j] = h[(n - 1 - i) * n + (n - 1 - j)];
  if (!choleskyInPlace(reversed, n)) return null;
  const m = kernels ? kernels.invertLower(reversed, n) : invertLower(reversed, n);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) u[i * n + j] = m[(n - 1 - i) * n + (n - 1 - j)];
  return u;
}

/** Prepares a block: `h` is its (mean) second moment, row-major B×B; `dampening` is λ. */
export function prepareBlock(h: Float64Array, size: number, dampening: number): BlockSolver {
  let trace = 0;
  for (let i = 0; i < size; i++) trace += h[i * size + i];
  const order = Int32Array.from({ length: size }, (_, i) => i).sort((a, b) => h[b * size + b] - h[a * size + a]);
  const exact = new Float64Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) exact[i * size + j] = h[order[i] * size + order[j]];
  if (!(trace > 0)) return { size, order, damped: exact, lambda: 0, exact, factor: null };
  let lambda = dampening * (trace / size);
  for (let attempt = 0; attempt < 6; attempt++, lambda *= 10) {
    const damped = Float64Array.from(exact);
    for (let i = 0; i < size; i++) {
      // A dead input (never active) gets the full dampening, like any other: its weight then barely matters.
      damped[i * size + i] += lambda;
    }
    const factor = inverseUpperFactor(damped, size);
    if (factor) return { size, order, damped, lambda, exact, factor };
  }
  return { size, order, damped: exact, lambda: 0, exact, factor: null };
}

export interface RowLimits { qmin: number; qmax: number }

// Rows are processed in tiles: R rows that read the same block, stored row after row (value of input i for tile row r
// at r·B + i), so each row of H or U is loaded once per tile while it is still in cache.

function clampCode(x: number, limits: RowLimits): number {
  const r = Math.round(x);
  return r < limits.qmin ? limits.qmin : r > limits.qmax ? limits.qmax : r;
}

/** H·x for every row x of a tile (R×B); returns R×B. */
export function multiplyTile(h: Float64Array, size: number, x: Float64Array): Float64Array {
  const rows = x.length / size;
  const out = new Float64Array(x.length);
  for (let j = 0; j < size; j++) {
    const hRow = j * size;
    for (let r = 0; r < rows; r++) {
      const xRow = r * size;
      let acc = 0;
      for (let i = 0; i < size; i++) acc += h[hRow + i] * x[xRow + i];
      out[xRow + j] = acc;
    }
  }
  return out;
}

/**
 * GPTQ rounding of a tile of rows (weights w, R×B, in the block's order) into codes q. Returns each row's error on
 * the dampened H, Σ over inputs of (rounding error / U_ii)² (Optimal Brain Quantization's loss, exact for the codes
 * chosen), or zeros without a factor.
 */
export function gptqTile(solver: BlockSolver, w: Float64Array, scales: Float64Array, limits: RowLimits, q: Int32Array,
  kernels: SolveKernels | null = kernelsFor(solver.size)): Float64Array {
  const { size, factor } = solver;
  const rows = scales.length;
  const tile = kernels && factor ? kernels.tile(w, size, factor) : null;
  const work = tile ? tile.view : Float64Array.from(w);
  const errors = new Float64Array(rows);
  const err = new Float64Array(rows);
  for (let i = 0; i < size; i++) {
    const uRow = i * size;
    for (let r = 0; r < rows; r++) {
      const base = r * size;
      const code = clampCode(work[base + i] / scales[r], limits);
      q[base + i] = code;
      err[r] = factor ? (work[base + i] - code * scales[r]) / factor[uRow + i] : 0;
      errors[r] += err[r] * err[r];
    }
    if (!factor) continue;
    if (tile) {
      tile.spread(i, err);
      continue;
    }
    // Spread the errors over the inputs not yet rounded, four rows per load of U's row.
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const [e0, e1, e2, e3] = [err[r], err[r + 1], err[r + 2], err[r + 3]];
      const [b0, b1, b2, b3] = [r * size, (r + 1) * size, (r + 2) * size, (r + 3) * size];
      for (let j = i + 1; j < size; j++) {
        const u = factor[uRow + j];
        work[b0 + j] -= e0 * u;
        work[b1 + j] -= e1 * u;
        work[b2 + j] -= e2 * u;
        work[b3 + j] -= e3 * u;
      }
    }
    for (; r < rows; r++) {
      const e = err[r];
      const base = r * size;
      for (let j = i + 1; j < size; j++) work[base + j] -= e * factor[uRow + j];
    }
  }
  return errors;
}

/**
 * Coordinate descent on each row's f with the dampened H, from codes `q` (changed in place): tries ±1 on each code,
 * keeps moves that lower f, for at most `passes` sweeps or until none helps. Returns each row's error on the
 * undampened H at the end (H·e = H_damped·e − λ·e comes for free).
 */
export function refineTile(solver: BlockSolver, w: Float64Array, scales: Float64Array, limits: RowLimits, q: Int32Array, passes: number): Float64Array {
  const { size, damped: h, lambda } = solver;
  const rows = scales.length;
  const e = new Float64Array(size * rows);
  for (let i = 0; i < e.length; i++) e[i] = w[i] - scales[Math.floor(i / size)] * q[i];
  const residual = multiplyTile(h, size, e);
  for (let pass = 0; pass < passes; pass++) {
    let moved = false;
    for (let r = 0; r < rows; r++) {
      const s = scales[r];
      const base = r * size;
      for (let i = 0; i < size; i++) {
        // Changing q_i by δ changes e_i by −s·δ: Δf = s²δ²·H_ii − 2sδ·(H e)_i.
        const curvature = s * s * h[i * size + i];
        const gain = 2 * s * residual[base + i];
        let delta = 0;
        if (curvature - gain < -1e-12 * curvature && q[base + i] + 1 <= limits.qmax) delta = 1;
        else if (curvature + gain < -1e-12 * curvature && q[base + i] - 1 >= limits.qmin) delta = -1;
        if (delta === 0) continue;
        q[base + i] += delta;
        e[base + i] -= s * delta;
        const step = s * delta;
        const hRow = i * size;
        for (let j = 0; j < size; j++) residual[base + j] -= step * h[hRow + j];
        moved = true;
      }
    }
    if (!moved) break;
  }
  const errors = new Float64Array(rows);
  for (let i = 0; i < e.length; i++) errors[Math.floor(i / size)] += e[i] * (residual[i] - lambda * e[i]);
  return errors;
}

/** Per tile row: xᵀ·(H·x) given x and H·x (both R×B). */
export function quadraticTile(x: Float64Array, hx: Float64Array, size: number): Float64Array {
  const out = new Float64Array(x.length / size);
  for (let i = 0; i < x.length; i++) out[Math.floor(i / size)] += x[i] * hx[i];
  return out;
}

/**
 * Per tile row x (R×B): xᵀHx for a symmetric H, from its upper triangle (half the work of H·x), four rows per load of
 * H's row: Σ_i x_i·(H_ii·x_i + 2·Σ_{j>i} H_ij·x_j).
 */
export function quadraticForms(h: Float64Array, size: number, x: Float64Array, kernels: SolveKernels | null = kernelsFor(size)): Float64Array {
  if (kernels) return kernels.quadraticForms(h, size, x);
  const rows = x.length / size;
  const out = new Float64Array(rows);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const [b0, b1, b2, b3] = [r * size, (r + 1) * size, (r + 2) * size, (r + 3) * size];
    let [t0, t1, t2, t3] = [0, 0, 0, 0];
    for (let i = 0; i < size; i++) {
      const hRow = i * size;
      let [a0, a1, a2, a3] = [0, 0, 0, 0];
      for (let j = i + 1; j < size; j++) {
        const v = h[hRow + j];
        a0 += v * x[b0 + j];
        a1 += v * x[b1 + j];
        a2 += v * x[b2 + j];
        a3 += v * x[b3 + j];
      }
      const d = h[hRow + i];
      t0 += x[b0 + i] * (d * x[b0 + i] + 2 * a0);
      t1 += x[b1 + i] * (d * x[b1 + i] + 2 * a1);
      t2 += x[b2 + i] * (d * x[b2 + i] + 2 * a2);
      t3 += x[b3 + i] * (d * x[b3 + i] + 2 * a3);
    }
    [out[r], out[r + 1], out[r + 2], out[r + 3]] = [t0, t1, t2, t3];
  }
  for (; r < rows; r++) {
    const base = r * size;
    let t = 0;
    for (let i = 0; i < size; i++) {
      const hRow = i * size;
      let a = 0;
      for (let j = i + 1; j < size; j++) a += h[hRow + j] * x[base + j];
      t += x[base + i] * (h[hRow + i] * x[base + i] + 2 * a);
    }
    out[r] = t;
  }
  return out;
}
