// Calibration with its work on other threads gives what doing it all here gives: the statistics folded on the reducing
// thread equal those folded here (histograms, channel maxima, channel sums — also with runs of one sample and the
// tensors split into several passes by a tiny exposure budget); samples decoded by the decoding threads equal
// imageToTensor's, each decoded once however many passes and slices read a kept set; streamed sets count their
// re-decoding; a corrupt image fails every pass naming the file; cancelling stops the background decoding; the whole
// run writes the same INT8 model with one decoding thread or several, and reports how the samples were decoded; SIGTERM
// while images decode in the background still exits 130 at once.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import type * as ort from 'onnxruntime-node';
import { OctetError } from '../../src/common/errors';
import { openDataset, splitIndices } from '../../src/data/dataset';
import { closeDecodePool, setDecodeWorkers } from '../../src/data/decode-pool';
import { describeInput } from '../../src/data/model-input';
import { imageToTensor } from '../../src/data/preprocess';
import { CancelledError } from '../../src/engine/cancel';
import { quantizeModel } from '../../src/engine/commands/quantize';
import { collectStatistics, forEachBatch, reduceTensors } from '../../src/engine/runtime/calibrate';
import { openSampleSet, SampleSet } from '../../src/engine/runtime/sample-set';
import { encodeModel } from '../../src/onnx/proto';
import { newReduction, ReductionKind, ReductionResult } from '../../src/quant/tensor-reductions';
import { TensorStats } from '../../src/quant/histogram';
import { presetPreprocessing, smallCnn, tempDir, writeImageNpy } from '../fixtures/models';

after(() => closeDecodePool());

const model = smallCnn(5);
const input = describeInput(model, 'cnn.onnx');
const TORCH = presetPreprocessing('torch', [16, 16]);
const TENSORS = ['image', 'c1', 'r1', 'c2', 'r2', 's1', 'p1', 'c4', 'cat', 'logits'];

/** `count` JPEGs of 20x20 (resized and cropped to the model's 16x16), named in order, the `corrupt`-th one cut short. */
function imageFolder(count: number, corrupt = -1): string {
  const dir = join(tempDir(), 'images');
  mkdirSync(dir);
  for (let i = 0; i < count; i++) {
    const rgba = Buffer.alloc(20 * 20 * 4);
    for (let p = 0; p < rgba.length; p++) rgba[p] = p % 4 === 3 ? 255 : ((p >> 2) * (7 + i) + (p % 4) * 50 + i * 31) & 255;
    const bytes = encodeJpeg({ width: 20, height: 20, data: rgba }, 90).data;
    writeFileSync(join(dir, `img${String(i).padStart(3, '0')}.jpg`), i === corrupt ? bytes.subarray(0, 200) : bytes);
  }
  return dir;
}

async function imageSamples(dir: string, count: number, options: { passes?: number; cacheBytes?: number; signal?: AbortSignal } = {}): Promise<SampleSet> {
  const set = await openDataset(dir, { input, preprocessing: TORCH });
  return openSampleSet(set, splitIndices(set.size, count, 0), input, 4, options);
}

/** Folds every exposed tensor here, as calibration did before it had a reducing thread. */
async function foldHere(samples: SampleSet, kind: ReductionKind, budget?: number): Promise<Map<string, ReductionResult>> {
  const reductions = new Map<string, ReturnType<typeof newReduction>>();
  await forEachBatch(model, TENSORS, samples, input, { threads: 1, exposureBudget: budget }, 'cnn.onnx', (t, value: ort.Tensor) => {
    let r = reductions.get(t);
    if (!r) reductions.set(t, r = newReduction(kind));
    r.update(value.data as Float32Array, value.dims);
  });
  return new Map([...reductions].map(([t, r]) => [t, r.result()]));
}

test('the reducing thread folds exactly what folding here gives: histograms, channel maxima, channel sums', async () => {
  const set = await openDataset(writeImageNpy(tempDir(), 24), { input, preprocessing: presetPreprocessing('raw', null) });
  const samples = await openSampleSet(set, splitIndices(set.size, 24, 0), input, 8, { passes: 2 });
  for (const kind of ['histogram', 'channel-max', 'channel-sum'] as ReductionKind[]) {
    const here = await foldHere(samples, kind);
    const there = await reduceTensors(model, TENSORS, kind, samples, input, { threads: 1 }, 'cnn.onnx');
    assert.deepEqual(there.results, here, kind);
    assert.equal(there.samples, 24);
    // Runs of one sample, tensors split over several passes (many tensors waiting on the reducing thread): the same.
    const tiny = await reduceTensors(model, TENSORS, kind, samples, input, { threads: 1, exposureBudget: 6000, tensorBytes: () => 1024 }, 'cnn.onnx');
    assert.ok(tiny.passes > 1, `${kind}: several passes (${tiny.passes})`);
    assert.deepEqual(tiny.results, here, `${kind}, tiny budget`);
  }
  const { stats } = await collectStatistics(model, TENSORS, samples, input, { threads: 1 }, 'cnn.onnx');
  const here = await foldHere(samples, 'histogram');
  for (const t of TENSORS) {
    const expected = here.get(t)!;
    assert.ok(expected.kind === 'histogram');
    assert.deepEqual(stats.get(t)!.state(), expected.stats, t);
    assert.deepEqual(stats.get(t)!.bins, TensorStats.fromState(expected.stats).bins);
  }
});

test('a kept image set: the decoding threads\' samples, each decoded once over passes and slices', async () => {
  const dir = imageFolder(10);
  const samples = await imageSamples(dir, 10, { passes: 3 });
  assert.ok(samples.inMemory);
  const files = readdirSync(dir).sort();
  const first = await samples.first();
  const expected = await Promise.all(files.map(async (f) => imageToTensor(readFileSync(join(dir, f)), f, input, TORCH).data));
  assert.deepEqual(first.data, expected[0]);
  assert.deepEqual(first.shape, [3, 16, 16]);
  for (let pass = 0; pass < 3; pass++) {
    const seen: Float32Array[] = [];
    for await (const b of samples.batches()) {
      for (let i = 0; i < b.count; i++) seen.push(b.data.subarray(i * 768, (i + 1) * 768));
      assert.deepEqual(b.shape, [b.count, 3, 16, 16]);
    }
    assert.deepEqual(seen, expected, `pass ${pass}: the same values as imageToTensor, in order`);
  }
  for await (const b of samples.slice(3, 5).batches()) assert.ok(b.count > 0);
  assert.equal(samples.decoded, 10, 'each sample decoded once');
  assert.ok(samples.decodeSeconds > 0);
  const streamed = await imageSamples(dir, 10, { cacheBytes: 0 });
  assert.ok(!streamed.inMemory);
  for (let pass = 0; pass < 2; pass++) for await (const b of streamed.batches()) assert.ok(b.count > 0);
  assert.equal(streamed.decoded, 20, 'a streamed set decodes on every pass');
});

test('a corrupt image fails every pass of a kept set, naming the file; cancelling stops the decoding', async () => {
  const broken = await imageSamples(imageFolder(12, 6), 12);
  for (let pass = 0; pass < 2; pass++) {
    const err = await (async () => { for await (const b of broken.batches()) assert.ok(b.count > 0); })().then(() => null, (e: Error) => e);
    assert.ok(err instanceof OctetError, `pass ${pass}: ${err}`);
    assert.match(err.message, /img006\.jpg: cannot decode image/);
  }
  assert.equal((await broken.first()).data.length, 768, 'the first sample is fine');

  const controller = new AbortController();
  const samples = await imageSamples(imageFolder(40), 40, { signal: controller.signal });
  controller.abort();
  await assert.rejects(async () => { for await (const b of samples.batches(controller.signal)) assert.ok(b); }, CancelledError);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(samples.decoded < 40, `decoding stopped early (${samples.decoded} of 40 read)`);
});

test('a kept set\'s first sample is its own: data when a later sample fails first, its own error when it fails', async () => {
  const real = await openDataset(writeImageNpy(tempDir(), 8), { input, preprocessing: presetPreprocessing('raw', null) });
  // Sample `slow` is read only after sample `bad` has failed, as when decoding threads finish out of order.
  const outOfOrder = (bad: number, slow: number): typeof real => {
    let failedBad!: () => void;
    const badFailed = new Promise<void>((done) => { failedBad = done; });
    return { ...real, read: async (index, signal) => {
      if (index === bad) { setImmediate(failedBad); throw new OctetError(`sample ${bad}`, 'cannot decode'); }
      if (index === slow) await badFailed;
      return real.read(index, signal);
    } };
  };
  const later = await openSampleSet(outOfOrder(5, 0), splitIndices(8, 8, 0), input, 4, { passes: 2 });
  assert.deepEqual((await later.first()).data, (await real.read(0)).data);
  await assert.rejects(async () => { for await (const b of later.batches()) assert.ok(b); }, /sample 5: cannot decode/);
  const own = await openSampleSet(outOfOrder(0, 3), splitIndices(8, 8, 0), input, 4, { passes: 2 });
  await assert.rejects(own.first(), /sample 0: cannot decode/);
});

test('quantize: the same INT8 model with one decoding thread or two; the Report says how samples were decoded', async () => {
  const dir = tempDir();
  const modelPath = join(dir, 'cnn.onnx');
  writeFileSync(modelPath, encodeModel(model));
  const calib = imageFolder(24);
  const run = async (workers: number, name: string) => {
    await closeDecodePool();
    setDecodeWorkers(workers);
    return quantizeModel({ model: modelPath, calib, out: join(dir, `${name}.onnx`), calibCount: 20, calibBatch: 8, preprocess: 'torch',
      evaluate: false, benchmark: false, threads: 1, speedAware: 'off' });
  };
  const one = await run(1, 'one');
  const two = await run(2, 'two');
  assert.deepEqual(readFileSync(one.modelPath), readFileSync(two.modelPath));
  assert.deepEqual(one.report.calibration.decode, { samples: 20, seconds: one.report.calibration.decode!.seconds, workers: 1 });
  assert.equal(two.report.calibration.decode!.workers, 2);
  assert.equal(two.report.calibration.decode!.samples, 20, 'every calibration sample decoded once');
  assert.ok(two.report.calibration.decode!.seconds > 0);
});

test('CLI: SIGTERM while images decode in the background exits 130 at once, writing nothing', async () => {
  const dir = tempDir();
  const modelPath = join(dir, 'cnn.onnx');
  writeFileSync(modelPath, encodeModel(model));
  const calib = imageFolder(1500);
  const child = spawn(process.execPath, [resolve('dist/engine.js'), 'quantize', modelPath, '--calib', calib, '--calib-count', '1000',
    '--eval-count', '400', '--preprocess', 'torch', '--progress', 'json'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let signalledAt = 0;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr += text;
    if (!signalledAt && stderr.includes('"stage":"calibrate"')) {
      signalledAt = performance.now();
      child.kill('SIGTERM');
    }
  });
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  assert.ok(signalledAt > 0, `the run reached calibration:\n${stderr}`);
  assert.equal(code, 130, stderr);
  assert.ok(performance.now() - signalledAt < 5000, 'no decoding thread kept the process alive');
  assert.deepEqual(readdirSync(dir), ['cnn.onnx'], 'nothing written');
});
