// The rounding solve's innermost loops in WebAssembly, two f64 lanes at a time (solve-kernels.wat, assembled at build
// time): GPTQ's error spreading (axpy4) and the inversion of a block's Cholesky factor, the same arithmetic to the bit
// as the JavaScript loops, and the quadratic forms xᵀHx of tile rows. The
// matrices and tiles they read live in the module's memory: SolveKernels copies a block's matrix in once (kept while
// the same array is asked for again) and a tile per call. Null where WebAssembly SIMD is missing: the solve then runs
// its JavaScript loops.
import wasmBytes from './solve-kernels.wat';

interface KernelExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  axpy4(u: number, w0: number, w1: number, w2: number, w3: number, from: number, to: number, e0: number, e1: number, e2: number, e3: number): void;
  quadraticForms4(h: number, size: number, x0: number, x1: number, x2: number, x3: number, out: number): void;
  invertLower(l: number, m: number, n: number): void;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

const PAGE = 65536;
/** Matrices kept in memory at once: a block's inverse factor (GPTQ) and its moments (quadratic forms). */
export type MatrixSlot = 0 | 1;

export class SolveKernels {
  private size = 0;
  private rows = 0;
  private readonly held: (Float64Array | null)[] = [null, null];
  private f64 = new Float64Array(0);

  constructor(private readonly k: KernelExports) {}

  /** Byte offsets: two size×size matrices, then a tile of `rows` rows, a spare row, and 4 results. */
  private matrixAt(slot: MatrixSlot): number { return slot * this.size * this.size * 8; }
  private get tileAt(): number { return 2 * this.size * this.size * 8; }
  private get spareAt(): number { return this.tileAt + this.rows * this.size * 8; }
  private get outAt(): number { return this.spareAt + this.size * 8; }

  /** Room for blocks of `size` inputs and tiles of `rows` rows (memory grows, never shrinks). */
  private fit(size: number, rows: number): void {
    if (size === this.size && rows <= this.rows) return;
    if (size !== this.size) {
      // The matrices move: nothing held is where it was.
      this.size = size;
      this.held[0] = this.held[1] = null;
    }
    this.rows = rows;
    const bytes = this.outAt + 32;
    const have = this.k.memory.buffer.byteLength;
    if (bytes > have) this.k.memory.grow(Math.ceil((bytes - have) / PAGE));
    this.f64 = new Float64Array(this.k.memory.buffer);
  }

  /** The offset of `matrix` (size×size) in `slot`, copied in unless it is the one already there. */
  private matrix(slot: MatrixSlot, matrix: Float64Array): number {
    if (this.held[slot] !== matrix) {
      this.f64.set(matrix, this.matrixAt(slot) / 8);
      this.held[slot] = matrix;
    }
    return this.matrixAt(slot);
  }

  /**
   * The tile (rows × size values, row after row) as a view on the module's memory, after copying `values` into it.
   * Valid until the next call of this object.
   */
  tile(values: Float64Array, size: number, factor: Float64Array): { view: Float64Array; spread(i: number, errors: Float64Array): void } {
    const rows = values.length / size;
    this.fit(size, rows);
    const u = this.matrix(0, factor);
    const at = this.tileAt / 8;
    this.f64.set(values, at);
    const view = this.f64.subarray(at, at + values.length);
    // Each row's offset, padded to a multiple of four with the spare row (its error is 0, so it stays as it is).
    const rowAt = Int32Array.from({ length: Math.ceil(rows / 4) * 4 }, (_, r) => (r < rows ? this.tileAt + r * size * 8 : this.spareAt));
    return {
      view,
      /** GPTQ: row r of the tile −= errors[r] · (row i of U), over the inputs after i. */
      spread: (i: number, errors: Float64Array) => {
        const uRow = u + i * size * 8;
        for (let r = 0; r < rows; r += 4) {
          this.k.axpy4(uRow, rowAt[r], rowAt[r + 1], rowAt[r + 2], rowAt[r + 3], i + 1, size, errors[r], r + 1 < rows ? errors[r + 1] : 0,
            r + 2 < rows ? errors[r + 2] : 0, r + 3 < rows ? errors[r + 3] : 0);
        }
      },
    };
  }

  /** The inverse of a lower-triangular n×n matrix, as a view on the module's memory valid until the next call. */
  invertLower(l: Float64Array, n: number): Float64Array {
    this.fit(n, 1);
    this.held[0] = this.held[1] = null;
    const [lAt, mAt] = [this.matrixAt(0), this.matrixAt(1)];
    this.f64.set(l, lAt / 8);
    this.k.invertLower(lAt, mAt, n);
    return this.f64.subarray(mAt / 8, mAt / 8 + n * n);
  }

  /** xᵀHx of every row x of `x` (rows × size) for a symmetric H (size × size, in `slot` 1). */
  quadraticForms(h: Float64Array, size: number, x: Float64Array): Float64Array {
    const rows = x.length / size;
    this.fit(size, rows);
    const hAt = this.matrix(1, h);
    this.f64.set(x, this.tileAt / 8);
    const out = new Float64Array(rows);
    const rowAt = (r: number) => this.tileAt + Math.min(r, rows - 1) * size * 8;
    for (let r = 0; r < rows; r += 4) {
      this.k.quadraticForms4(hAt, size, rowAt(r), rowAt(r + 1), rowAt(r + 2), rowAt(r + 3), this.outAt);
      const o = this.outAt / 8;
      for (let d = 0; d < 4 && r + d < rows; d++) out[r + d] = this.f64[o + d];
    }
    return out;
  }
}

let kernels: SolveKernels | null | undefined;

/** This thread's kernels (one instance per thread), or null when WebAssembly SIMD cannot run here. */
export function solveKernels(): SolveKernels | null {
  if (kernels !== undefined) return kernels;
  try {
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    kernels = new SolveKernels(new wasm.Instance(new wasm.Module(wasmBytes), {}).exports as KernelExports);
  } catch {
    kernels = null;
  }
  return kernels;
}
