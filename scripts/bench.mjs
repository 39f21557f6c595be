// `npm run bench`: the benchmark of record. For MobileNet-V1 0.75 and ResNet-50 (built into .cache/ by
// ../shared/scripts/make-resnet50.sh), quantize with default settings on 100 ImageNet sample images, evaluate on the
// other 400, and time FP32 vs INT8 side by side at batch 1 (1 thread and all cores) and batch 8 (throughput). Prints one table with the
// published PaddlePaddle reference beside it. Not part of `npm test`: figures, not assertions.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = process.cwd();
const shared = resolve(root, '../shared');
const cache = resolve(root, '.cache');
const out = resolve(root, '.cache/bench');
mkdirSync(out, { recursive: true });
if (!existsSync(join(shared, 'assets'))) {
  console.error('bench: ../shared/assets not found; the benchmark needs the real models and ImageNet sample images.');
  process.exit(1);
}
const extraArgs = process.argv.slice(2);
const resnet50 = join(cache, 'resnet50.onnx');
if (!existsSync(resnet50)) {
  console.error('bench: building ResNet-50 with ../shared/scripts/make-resnet50.sh (once, cached in .cache/)');
  const r = spawnSync('bash', [join(shared, 'scripts/make-resnet50.sh'), resnet50], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const images = join(shared, 'assets/images/imagenet-sample');
const models = [
  { name: 'MobileNet-V1 0.75', path: join(shared, 'assets/models/imagenet/mobilenet_v1_0.75_224_keras_fp32.onnx'), preprocess: 'tf',
    seed: { drop: 0.31, speedup: '2.2-2.79x (MobileNet-V1 1.0)' }, target: { drop: 0.3, speedup: 2.2 } },
  { name: 'ResNet-50', path: resnet50, preprocess: 'caffe', seed: { drop: 0.40, speedup: '2.2-2.79x' }, target: { drop: 0.3, speedup: 3.0 } },
];
const rows = [];
for (const m of models) {
  const report = join(out, `${m.name.replace(/\W+/g, '_')}.report.json`);
  const args = [join(root, 'dist/engine.js'), 'quantize', m.path, '--calib', images, '--calib-count', '100', '--eval-count', '400',
    '--preprocess', m.preprocess, '--bench-runs', '50', '--out', join(out, `${m.name.replace(/\W+/g, '_')}.int8.onnx`), '--report', report,
    '--progress', 'none', ...extraArgs];
  const t0 = Date.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], { encoding: 'utf8' });
  if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
  const peakKb = Number(r.stderr.trim().split('\n').pop());
  const rep = JSON.parse(readFileSync(report, 'utf8'));
  const b1 = rep.bench.find((b) => b.threads === 1 && b.batch === 1);
  const bAll = rep.bench.find((b) => b.threads !== 1 && b.batch === 1) ?? b1;
  const b8 = rep.bench.find((b) => b.batch === 8);
  rows.push({ m, rep, b1, bAll, b8, seconds: (Date.now() - t0) / 1000, peakMb: Math.round(peakKb / 1024) });
}
const f2 = (v) => v.toFixed(2);
const pct = (v) => (v * 100).toFixed(2);
console.log(`\nOctet benchmark — ${rows[0].rep.machine.cpu}, ${rows[0].rep.machine.cores} cores, VNNI ${rows[0].rep.machine.vnni ? 'yes' : 'no'}, onnxruntime ${rows[0].rep.machine.ortVersion}`);
console.log('calibration 100 ImageNet sample images, evaluation on the other 400; latency batch 1, medians of 50 interleaved runs\n');
console.log('| model | FP32 top-1 | INT8 top-1 | drop (pts) | target | seed drop | FP32 ms (1T) | INT8 ms (1T) | speedup 1T | target | seed speedup | speedup all cores | calib s | peak RSS MB | FP32 MB | INT8 MB |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const { m, rep, b1, bAll, peakMb } of rows) {
  const a = rep.accuracy;
  console.log(`| ${m.name} | ${pct(a.fp32.top1)}% | ${pct(a.int8.top1)}% | ${f2(a.top1DropPoints)} | ≤ ${m.target.drop} | ${m.seed.drop} | ${f2(b1.fp32.medianMs)} | ${f2(b1.int8.medianMs)} | ${f2(b1.speedup)}x | ≥ ${m.target.speedup}x | ${m.seed.speedup} | ${f2(bAll.speedup)}x (${bAll.threads}T) | ${f2(rep.calibration.seconds)} | ${peakMb} | ${f2(rep.fp32Model.bytes / 2 ** 20)} | ${f2(rep.int8Model.bytes / 2 ** 20)} |`);
}
for (const { m, rep, b8 } of rows) {
  const bias = rep.calibration.biasCorrection;
  if (b8?.throughput) console.log(`\n${m.name}: batch 8, ${b8.threads} threads: FP32 ${f2(b8.throughput.fp32)} img/s, INT8 ${f2(b8.throughput.int8)} img/s (${f2(b8.speedup)}x)`);
  if (bias) console.log(`${m.name}: bias correction ${rep.settings.biasCorrection ? 'kept' : 'not kept'} (${bias.layers} layers, ${f2(bias.seconds)} s; output SQNR on calibration samples ${bias.outputSqnrDb ? `${f2(bias.outputSqnrDb.on)} dB with, ${f2(bias.outputSqnrDb.off)} dB without` : 'not compared'})`);
  console.log(`${m.name}: agreement ${pct(rep.accuracy.agreement)}%, top-5 FP32 ${pct(rep.accuracy.fp32.top5)}% INT8 ${pct(rep.accuracy.int8.top5)}%, output SQNR ${f2(rep.accuracy.outputSqnrDb)} dB; runtime ops ${JSON.stringify(rep.int8RuntimeOps)}`);
  for (const w of rep.warnings) console.log(`  warning: ${w}`);
}
