// Report → Markdown export and report loading: the numbers the panel shows, and clear errors for wrong files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Report, REPORT_SCHEMA_VERSION } from '../../src/common/report';
import { OctetError } from '../../src/common/errors';
import { headlineBench } from '../../src/extension/report/format';
import { loadReport, parseReport, toReportView } from '../../src/extension/report/loadReport';
import { reportToMarkdown } from '../../src/extension/report/reportMarkdown';
import { tempDir } from '../fixtures/models';

/** A hand-written Report (a rendering input, not engine output). */
function sampleReport(): Report {
  const stats = (ms: number) => ({ medianMs: ms, p90Ms: ms * 1.1, meanMs: ms, minMs: ms * 0.9, runs: 20 });
  const model = (path: string, bytes: number) => ({ path, bytes, opset: 13, irVersion: 7, producer: 'pytorch', inputs: [], outputs: [], opHistogram: {} });
  const dataset = { path: '/d/calib', kind: 'image-folder' as const, count: 80, labelled: true, labelsSource: 'class subfolders' };
  return {
    schemaVersion: REPORT_SCHEMA_VERSION, octetVersion: '0.1.0', createdAt: '2026-01-01T00:00:00.000Z',
    fp32Model: model('/m/resnet.onnx', 4_000_000), int8Model: model('resnet.int8.onnx', 1_100_000),
    optimizedFp32Ops: { Conv: 20 }, int8RuntimeOps: { QLinearConv: 20 },
    settings: { method: 'percentile', percentile: 99.999, perChannel: true, activations: 'u8', weightRange: 'pair-safe', calibCount: 32,
      calibBatch: 8, opTypes: [], exclude: ['fc|last'], preprocess: 'torch', resize: null, crop: null, layout: 'NCHW' },
    calibration: { dataset, images: 32, seconds: 1.25, peakRssMb: 210, tensors: [] },
    quantizedNodes: [{ node: 'conv1', opType: 'Conv' }], keptFloat: [{ node: 'pad|1', opType: 'Pad', reason: 'no int8 kernel' }],
    accuracy: { n: 48, labelled: true, fp32: { top1: 0.8542, top5: 1 }, int8: { top1: 0.8125, top5: 0.99 }, agreement: 0.9375,
      top1DropPoints: 4.17, outputSqnrDb: 16.12, outputCosine: 0.9788 },
    evaluation: { dataset, skip: 32, limit: 80 },
    bench: [{ threads: 1, batch: 1, fp32: stats(2), int8: stats(1), speedup: 2 }, { threads: 2, batch: 1, fp32: stats(1.5), int8: stats(1), speedup: 1.5 }],
    layers: [{ node: 'conv1', opType: 'Conv', tensor: 'c1', shape: [1, 8, 32, 32], sqnrDb: 31.5, cosine: 0.9993, maxAbsError: 0.02,
      clippedRatio: 0.0001, scale: 0.01, zeroPoint: 0, method: 'percentile' }],
    warnings: ['no VNNI'], machine: { cpu: 'Test CPU', cores: 2, vnni: false, avx512: false, avx2: true, ortVersion: '1.30.0', nodeVersion: 'v20', platform: 'linux-x64' },
  };
}

test('markdown holds accuracy, latency, size, layers, kept ops and settings', () => {
  const md = reportToMarkdown(sampleReport());
  assert.match(md, /^# Octet INT8 report — resnet\.onnx/);
  assert.match(md, /\| Top-1 \| 85\.42% \| 81\.25% \| 4\.17 pts \|/);
  assert.match(md, /Batch 1: 2\.00× faster with 1 thread, 1\.50× faster with 2 threads\./);
  assert.match(md, /FP32 3\.81 MB → INT8 1\.05 MB \(27\.5% of FP32\)/);
  assert.match(md, /\| conv1 \| Conv \| 31\.5 dB \|/);
  assert.match(md, /\| pad\\\|1 \| Pad \| no int8 kernel \|/, 'pipes in cells are escaped');
  assert.match(md, /\| Excluded nodes \| fc\\\|last \|/);
  assert.match(md, /- no VNNI/);
});

test('headline latency is batch 1 with one thread and with the most threads', () => {
  const { singleThread, allThreads } = headlineBench(sampleReport());
  assert.equal(singleThread?.threads, 1);
  assert.equal(allThreads?.threads, 2);
  assert.deepEqual(headlineBench({ ...sampleReport(), bench: [] }), { singleThread: null, allThreads: null });
});

test('loading: relative model paths resolve against the report folder; wrong files are explained', () => {
  const dir = tempDir();
  const path = join(dir, 'resnet.int8.report.json');
  writeFileSync(path, JSON.stringify(sampleReport()));
  const view = toReportView(loadReport(path), path);
  assert.equal(view.int8ModelPath, join(dir, 'resnet.int8.onnx'));
  assert.equal(view.fp32ModelPath, '/m/resnet.onnx');
  const rejects = (text: string, message: RegExp) =>
    assert.throws(() => parseReport(text, 'r.json'), (e: unknown) => e instanceof OctetError && message.test(e.message));
  rejects('not json', /not valid JSON/);
  rejects('{"hello": 1}', /not an Octet report/);
  rejects(JSON.stringify({ ...sampleReport(), schemaVersion: 99 }), /newer Octet/);
  rejects(JSON.stringify({ ...sampleReport(), layers: null }), /'layers' is not a list/);
  assert.throws(() => loadReport(join(dir, 'missing.json')), /no such file/);
});
