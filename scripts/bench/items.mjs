// One benchmark item end to end: quantize with Octet and each peer on the same calibration folder, measure every
// INT8 model with Octet's eval and bench, pick ORT's best method and compare everyone's INT8 speed with it. Returns a
// plain result object (written to the JSON, rendered by tables.mjs); failures are recorded, never thrown.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ORT_METHODS, ZOO_DYNAMIC_SIZE } from './suite.mjs';

/** Calibration and evaluation folders of an item's data kind. */
function foldersOf(item, data) {
  if (item.data === 'imagenet') return { calib: data.imagenetCalib, eval: data.imagenetEval };
  if (item.data === 'cifar') return { calib: data.cifarCalib, eval: data.cifarEval };
  return { calib: data.zooCalib, eval: data.zooEval };
}

/** The size to pass for models with dynamic H/W (null for fixed ones), from `octet inspect`. */
async function sizeOf(ctx, item, fallbackSize) {
  const info = await ctx.octet.inputOf(item.model);
  if (info.error) return { error: `octet inspect failed: ${info.error}` };
  if (info.input) return { fixed: { height: info.input.height, width: info.input.width }, size: null };
  if (info.dynamic) return { fixed: null, size: fallbackSize };
  return { error: `octet inspect: ${info.problem}` };
}

/** ORT's best x86 method: highest agreement then SQNR (classifiers with labels), or highest SQNR (random weights). */
function pickOrtBest(methods, byAgreement) {
  const scored = methods.filter((m) => m.kind === 'ort' && m.eval?.ok);
  const key = (m) => (byAgreement ? [m.eval.agreement, m.eval.sqnr_db] : [m.eval.sqnr_db]);
  scored.sort((a, b) => { const ka = key(a), kb = key(b); for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return kb[i] - ka[i]; return 0; });
  return scored[0] ?? null;
}

function log(item, message) {
  console.error(`bench: [${item.id}] ${message}`);
}

/**
 * Quantizes `item` with Octet and the peers, measures each INT8 model. options: { withNncf, benchAllPeers,
 * fallbackSize }. Result: { id, name, kind, preset, size, calibCount, evalCount, error, methods[], ortBest, throughput }.
 */
export async function compareMethods(ctx, item, kind, options) {
  const result = { id: item.id, name: item.name, kind, preset: item.preset, model: item.model, targets: item.targets, size: null,
    inputSize: null, calibCount: 0, evalCount: 0, error: null, methods: [], ortBest: null, throughput: null };
  const work = join(ctx.workRoot, item.id);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  if (!item.model) { result.error = item.missing ?? 'model not available'; return result; }
  const shape = await sizeOf(ctx, item, options.fallbackSize ?? ZOO_DYNAMIC_SIZE);
  if (shape.error) { result.error = shape.error; return result; }
  result.size = shape.size;
  const geometry = shape.size ?? shape.fixed;
  result.inputSize = `${geometry.height}x${geometry.width}${shape.size ? ' (dynamic H/W)' : ''}`;
  const folders = foldersOf(item, ctx.data);
  result.calibCount = folders.calib.count;
  result.evalCount = folders.eval.count;
  const common = { model: item.model, calib: folders.calib.dir, count: folders.calib.count, preset: item.preset };

  log(item, 'Octet quantize');
  const octetQ = await ctx.octet.quantize({ ...common, size: shape.size, out: join(work, 'octet.int8.onnx') });
  const octet = { method: 'Octet', kind: 'octet', quantize: octetQ, path: octetQ.path };
  result.methods.push(octet);
  if (ctx.peers.available.ort) {
    for (const method of ORT_METHODS) {
      log(item, `ORT tool, ${method}`);
      const q = await ctx.peers.quantize('ort', { ...common, size: geometry, method, out: join(work, `ort-${method}.int8.onnx`) });
      result.methods.push({ method: `ORT ${method}`, kind: 'ort', quantize: q, path: q.path });
    }
  }
  if (options.withNncf && ctx.peers.available.nncf) {
    log(item, 'NNCF');
    const q = await ctx.peers.quantize('nncf', { ...common, size: geometry, out: join(work, 'nncf.int8.onnx') });
    result.methods.push({ method: 'NNCF', kind: 'nncf', quantize: q, path: q.path });
  }

  for (const m of result.methods.filter((x) => x.path)) {
    log(item, `eval ${m.method}`);
    m.eval = await ctx.octet.evaluate(item.model, m.path, { data: folders.eval.dir, preset: item.preset, size: shape.size });
  }
  const best = pickOrtBest(result.methods, kind === 'shared');
  if (best) { best.best = true; result.ortBest = best.method; }
  for (const m of result.methods.filter((x) => x.path && (options.benchAllPeers || x.kind === 'octet' || x === best))) {
    log(item, `bench ${m.method} vs FP32`);
    m.speed = await ctx.octet.bench(item.model, m.path, { size: shape.size });
    if (best && m !== best && (options.benchAllPeers || m.kind === 'octet')) {
      log(item, `bench ${m.method} vs ${best.method}`);
      m.vsOrt = await ctx.octet.bench(best.path, m.path, { size: shape.size });
    }
  }
  if (options.throughput && octet.path) {
    log(item, 'throughput, batch 8, all cores');
    result.throughput = await ctx.octet.bench(item.model, octet.path, { size: shape.size, threads: 0, batch: 8, runs: Math.max(5, Math.round(ctx.runs / 2)) });
  }
  return result;
}

/** Item 4: Octet's calibration of the detector at 640x640 on the ImageNet calibration folder, and ORT's tool (minmax) beside it. */
export async function detectorMemory(ctx, item) {
  const work = join(ctx.workRoot, item.id);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const folder = ctx.data.imagenetCalib;
  const common = { model: item.model, calib: folder.dir, count: folder.count, preset: item.preset };
  log(item, `Octet quantize at ${item.size.height}x${item.size.width} (memory cap ${(ctx.limits.memCapMb / 1024).toFixed(1)} GB)`);
  const octet = await ctx.octet.quantize({ ...common, size: item.size, out: join(work, 'octet.int8.onnx') });
  let ort = null;
  if (ctx.peers.available.ort) {
    log(item, 'ORT tool, minmax');
    ort = await ctx.peers.quantize('ort', { ...common, size: item.size, method: 'minmax', out: join(work, 'ort-minmax.int8.onnx') });
  }
  return { id: item.id, name: item.name, kind: 'detector', targets: item.targets, calibCount: folder.count, octet, ort };
}
