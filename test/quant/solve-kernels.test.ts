// The rounding solve's WebAssembly kernels against its JavaScript loops on the same problems: the inverse factor of a
// block and GPTQ's codes and errors are the same to the bit (the kernels do the same operations per element in the same
// order), and the quadratic forms
// agree to 1e-12 relative (their lanes add in another order), for tiles whose row counts are and are not multiples of
// four, blocks of even and odd sizes, and a kernel object reused across sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussian, rng } from '../../src/common/random';
import { solveKernels } from '../../src/quant/solve-kernels';
import { gptqTile, inverseUpperFactor, prepareBlock, quadraticForms } from '../../src/quant/weight-rounding-solve';

/** A second moment of `size` correlated inputs from `samples` random vectors, row-major. */
function moments(size: number, samples: number, r: () => number): Float64Array {
  const mix = Float64Array.from({ length: size * size }, () => gaussian(r) * 0.3);
  const h = new Float64Array(size * size);
  const x = new Float64Array(size);
  for (let s = 0; s < samples; s++) {
    const z = Float64Array.from({ length: size }, () => gaussian(r));
    for (let i = 0; i < size; i++) { let v = z[i]; for (let j = 0; j < size; j++) v += mix[i * size + j] * z[j]; x[i] = Math.max(0, v); }
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) h[i * size + j] += x[i] * x[j] / samples;
  }
  return h;
}

test('WebAssembly kernels: the inverse factor, GPTQ codes and errors equal the JavaScript loops; quadratic forms to 1e-12', () => {
  const kernels = solveKernels();
  assert.ok(kernels, 'WebAssembly SIMD runs on Node 20');
  const r = rng(17);
  for (const [size, rows] of [[48, 16], [33, 7], [64, 5], [17, 1], [48, 16]]) {
    const solver = prepareBlock(moments(size, 4 * size, r), size, 0.01);
    assert.ok(solver.factor, `${size}: positive definite`);
    assert.deepEqual(inverseUpperFactor(solver.damped, size, kernels), inverseUpperFactor(solver.damped, size, null), `${size}: the factor, to the bit`);
    const w = Float64Array.from({ length: rows * size }, () => gaussian(r) * 0.1);
    const scales = Float64Array.from({ length: rows }, () => 0.002 + r() * 0.002);
    const limits = { qmin: -127, qmax: 127 };
    const [qJs, qWasm] = [new Int32Array(rows * size), new Int32Array(rows * size)];
    const errorsJs = gptqTile(solver, w, scales, limits, qJs, null);
    const errorsWasm = gptqTile(solver, w, scales, limits, qWasm, kernels);
    assert.deepEqual(qWasm, qJs, `${size}×${rows}: codes`);
    assert.deepEqual(errorsWasm, errorsJs, `${size}×${rows}: errors`);
    assert.ok(qJs.some((c, i) => c !== Math.round(w[i] / scales[Math.floor(i / size)])), 'GPTQ moved some codes off nearest');
    const formsJs = quadraticForms(solver.exact, size, w, null);
    const formsWasm = quadraticForms(solver.exact, size, w, kernels);
    for (let i = 0; i < rows; i++) assert.ok(Math.abs(formsWasm[i] - formsJs[i]) <= 1e-12 * Math.abs(formsJs[i]), `${size}×${rows} row ${i}: ${formsWasm[i]} vs ${formsJs[i]}`);
  }
});
