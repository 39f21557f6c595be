// `npm run demo`: the main job on a bundled default. With ../shared beside the repo: MobileNet-V1 0.75 on the
// ImageNet sample (100 calibration images, 400 evaluation images, top-1 drop). Without it: the generated sample CNN
// on generated images (agreement and SQNR). Prints accuracy, speedup, and where the report is.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { quantizeModel } from '../engine/commands/quantize';
import type { QuantizeRequest } from '../engine/request';
import { formatQuantizeSummary } from '../report/terminal-summary';
import { encodeModel } from '../onnx/proto';
import { sampleCnn, writeSampleImages } from './sample-model';

async function main(): Promise<void> {
  const root = process.cwd();
  const outDir = resolve(root, 'octet-demo');
  mkdirSync(outDir, { recursive: true });
  const shared = resolve(root, '../shared/assets');
  const mobilenet = join(shared, 'models/imagenet/mobilenet_v1_0.75_224_keras_fp32.onnx');
  const base = {
    calibBatch: 8, method: 'mse', percentile: 99.999, perChannel: true, activations: 'u8', weightRange: 'auto', equalize: true, equalizeStrength: 0.5, biasCorrection: 'auto',
    evaluate: true, benchmark: true, benchRuns: 30, threads: 0, maxDrop: null, tuneTimeout: 600,
    onEvent: (e) => { if (e.type === 'progress' && e.done === e.total) process.stderr.write(`[${e.stage}] ${e.message}\n`); },
  } satisfies Partial<QuantizeRequest>;
  let request: QuantizeRequest;
  if (existsSync(mobilenet)) {
    process.stderr.write(`demo: MobileNet-V1 0.75 (ImageNet) from ${shared}\n`);
    request = { ...base, model: mobilenet, calib: join(shared, 'images/imagenet-sample'), calibCount: 100, evalCount: 400,
      preprocess: 'tf', out: join(outDir, 'mobilenet_v1_0.75.int8.onnx') };
  } else {
    process.stderr.write('demo: ../shared not found; using the generated sample CNN and generated images (agreement/SQNR, no labels)\n');
    const model = join(outDir, 'sample-cnn.onnx');
    writeFileSync(model, encodeModel(sampleCnn()));
    const images = join(outDir, 'images');
    if (!existsSync(images)) await writeSampleImages(images, 200);
    request = { ...base, model, calib: images, calibCount: 100, evalCount: 100, preprocess: 'torch' };
  }
  const outcome = await quantizeModel(request);
  process.stdout.write(formatQuantizeSummary(outcome.report, outcome.modelPath, outcome.reportPath) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
