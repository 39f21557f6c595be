// Octet's side of the benchmark: `octet quantize --no-eval --no-bench` (the calibration wall time and peak RSS the
// issues set targets for), and the one way every INT8 model — Octet's and the peers' — is measured: `octet eval` and
// `octet bench` (vs FP32, and INT8 vs INT8 against ORT's tool). Each call returns { ok, error, ... } and never throws.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonOf, runChild } from './run.mjs';
import { octetSizeFlags } from './suite.mjs';

export class OctetRunner {
  /** root: the project (dist/engine.js); limits: { memCapMb, timeoutS }; runs: bench runs per comparison. */
  constructor(root, limits, runs) {
    this.engine = join(root, 'dist/engine.js');
    this.limits = limits;
    this.runs = runs;
  }

  run(args) {
    return runChild(process.execPath, [this.engine, ...args], this.limits);
  }

  /** `octet inspect --json`: { input: {height, width} | null, dynamic: bool } or { error }. */
  async inputOf(model) {
    const r = await this.run(['inspect', model, '--json']);
    const info = jsonOf(r);
    if (!info) return { error: r.error };
    // An image input with free height/width (inspect gives them as null) is dynamic: the bench passes a size.
    const sized = info.input && Number.isInteger(info.input.height) && Number.isInteger(info.input.width);
    const free = info.input && !sized && info.input.channels !== null;
    return { input: sized ? info.input : null, dynamic: free || (!info.input && /dynamic/.test(info.inputProblem ?? '')), problem: info.inputProblem };
  }

  /** Octet with default settings on `calib` (all its images): wall time, peak RSS, the written model and its Report. */
  async quantize({ model, calib, count, preset, size, out }) {
    const report = out.replace(/\.onnx$/, '.report.json');
    const r = await this.run(['quantize', model, '--calib', calib, '--calib-count', String(count), '--preprocess', preset,
      ...octetSizeFlags(size), '--no-eval', '--no-bench', '--out', out, '--report', report, '--progress', 'none']);
    let parsed = null;
    if (r.ok && existsSync(report)) parsed = JSON.parse(readFileSync(report, 'utf8'));
    return { ok: r.ok, error: r.error, wallS: r.seconds, peakMb: r.peakMb, path: r.ok ? out : null, report: parsed };
  }

  /** `octet eval FP32 INT8 --data DIR --json` (the JSON documented in docs/cli.md). */
  async evaluate(fp32, int8, { data, preset, size }) {
    const r = await this.run(['eval', fp32, int8, '--data', data, '--preprocess', preset, ...octetSizeFlags(size), '--json']);
    const json = jsonOf(r);
    return json ? { ok: true, ...json } : { ok: false, error: r.error };
  }

  /** `octet bench A B --json`: B's speedup over A (A's median / B's median) in one interleaved run. */
  async bench(a, b, { size, threads = 1, batch = 1, runs = this.runs }) {
    const r = await this.run(['bench', a, b, '--threads', String(threads), '--batch', String(batch), '--runs', String(runs),
      ...octetSizeFlags(size), '--json']);
    const json = jsonOf(r);
    return json ? { ok: true, ...json } : { ok: false, error: r.error };
  }
}
