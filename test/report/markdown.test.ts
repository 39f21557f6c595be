// Report → Markdown (`octet report --format md` and the panel's Export Markdown), and report loading: the numbers the
// panel shows, escaping of names from user models, and clear errors for wrong files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Report, REPORT_SCHEMA_VERSION } from '../../src/common/report';
import { OctetError } from '../../src/common/errors';
import { headlineBench, headlineThroughput } from '../../src/report/format';
import { loadReport, parseReport } from '../../src/report/load-report';
import { toReportView } from '../../src/extension/report/report-view';
import { reportToMarkdown } from '../../src/report/markdown';
import { tempDir } from '../fixtures/models';
import { NASTY_NODE, realisticReport, reportWithThroughput, reportWithTuning } from './fixture';

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
      calibBatch: 8, opTypes: [], exclude: ['fc|last'], preprocess: 'torch', resize: null, crop: null, layout: 'NCHW',
      methodRequested: 'percentile', equalize: false, maxDrop: null },
    calibration: { dataset, images: 32, seconds: 1.25, peakRssMb: 210, tensors: [], methodScores: null },
    quantizedNodes: [{ node: 'conv1', opType: 'Conv' }], keptFloat: [{ node: 'pad|1', opType: 'Pad', reason: 'no int8 kernel' }],
    accuracy: { n: 48, labelled: true, fp32: { top1: 0.8542, top5: 1 }, int8: { top1: 0.8125, top5: 0.99 }, agreement: 0.9375,
      top1DropPoints: 4.17, outputSqnrDb: 16.12, outputCosine: 0.9788 },
    evaluation: { dataset, skip: 32, limit: 80 },
    bench: [{ threads: 1, batch: 1, fp32: stats(2), int8: stats(1), speedup: 2 }, { threads: 2, batch: 1, fp32: stats(1.5), int8: stats(1), speedup: 1.5 }],
    layers: [{ node: 'conv1', opType: 'Conv', tensor: 'c1', shape: [1, 8, 32, 32], sqnrDb: 31.5, cosine: 0.9993, maxAbsError: 0.02,
      clippedRatio: 0.0001, scale: 0.01, zeroPoint: 0, method: 'percentile' }],
    tuning: null,
    warnings: ['no VNNI'], machine: { cpu: 'Test CPU', cores: 2, vnni: false, avx512: false, avx2: true, ortVersion: '1.30.0', nodeVersion: 'v20', platform: 'linux-x64' },
  };
}

test('markdown holds accuracy, latency, size, layers, kept ops and settings', () => {
  const md = reportToMarkdown(sampleReport());
  assert.match(md, /^# Octet INT8 report — resnet\.onnx/);
  assert.match(md, /\| Top-1 \| 85\.42% \| 81\.25% \| 4\.17 pts \|/);
  assert.match(md, /Batch 1: 2\.00× faster with 1 thread, 1\.50× faster with 2 threads\./);
  assert.match(md, /FP32 3\.81 MB → INT8 1\.05 MB \(27\.5% of FP32\)/);
  assert.match(md, /\| conv1 \| Conv \| c1 \| 1×8×32×32 \| 31\.5 dB \| — \| — \| — \| 0\.99930 \| 0\.0200 \| 0\.010% \| 0\.0100 \| 0 \| [a-z]+ \|/);
  assert.match(md, /\| pad\\\|1 \| Pad \| no int8 kernel \|/, 'pipes in cells are escaped');
  assert.match(md, /\| Excluded nodes \| fc\\\|last \|/);
  assert.match(md, /- no VNNI/);
});

test('headline latency is batch 1 with one thread and with the most threads', () => {
  const { singleThread, allThreads } = headlineBench(sampleReport());
  assert.equal(singleThread?.threads, 1);
  assert.equal(allThreads?.threads, 2);
  assert.deepEqual(headlineBench({ ...sampleReport(), bench: [] }), { singleThread: null, allThreads: null });
  // a batch-8 throughput run with more threads and a larger speedup does not replace the batch-1 headline
  const stats = (ms: number) => ({ medianMs: ms, p90Ms: ms, meanMs: ms, minMs: ms, runs: 5 });
  const withBatch8 = { ...sampleReport() };
  withBatch8.bench = [...withBatch8.bench, { threads: 4, batch: 8, fp32: stats(12), int8: stats(4), speedup: 3, throughput: { fp32: 666.67, int8: 2000 } }];
  const headline = headlineBench(withBatch8);
  assert.deepEqual([headline.singleThread?.batch, headline.singleThread?.speedup], [1, 2]);
  assert.deepEqual([headline.allThreads?.batch, headline.allThreads?.threads, headline.allThreads?.speedup], [1, 2, 1.5]);
  assert.equal(headlineThroughput(withBatch8)?.batch, 8);
  assert.equal(headlineThroughput(sampleReport()), null, 'no throughput headline without a batch above 1');
});

test('markdown shows throughput at batch 8 beside batch-1 latency', () => {
  const md = reportToMarkdown(reportWithThroughput());
  // the headline speedups are still batch 1's (1.26× and 6.08×), not batch 8's 2.50×
  assert.match(md, /Batch 1: 1\.26× faster with 1 thread, 6\.08× faster with 2 threads\./);
  assert.match(md, /Throughput at batch 8 with 2 threads: FP32 769 img\/s → INT8 1923 img\/s \(2\.50×\)\./);
  assert.match(md, /\| Threads \| Batch \| .* \| Runs \| Speedup \| FP32 throughput \| INT8 throughput \|/);
  assert.match(md, /\| 1 \| 1 \| 2\.05 ms \| .* \| 20 \| 1\.26× \| 489 img\/s \| 616 img\/s \|/);
  assert.match(md, /\| 2 \| 1 \| 11\.1 ms \| .* \| 20 \| 6\.08× \| 89\.8 img\/s \| 546 img\/s \|/);
  assert.match(md, /\| 2 \| 8 \| 10\.4 ms \| 12\.9 ms \| 10\.9 ms \| 9\.80 ms \| 4\.16 ms \| 5\.02 ms \| 4\.30 ms \| 3\.90 ms \| 5 \| 2\.50× \| 769 img\/s \| 1923 img\/s \|/);
  // a malformed throughput renders as missing, never throws
  const odd = reportWithThroughput();
  Object.assign(odd.bench[2], { throughput: { fp32: 'fast', int8: null } });
  const oddMd = reportToMarkdown(odd);
  assert.doesNotMatch(oddMd, /Throughput at batch/);
  assert.match(oddMd, /\| 5 \| 2\.50× \| — \| — \|/);
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
  rejects(JSON.stringify({ ...sampleReport(), layers: null }), /layers: expected an array of objects, got null/);
  assert.throws(() => loadReport(join(dir, 'missing.json')), /no such file/);
});

test('markdown of a realistic report has every section and its numbers', () => {
  const md = reportToMarkdown(realisticReport());
  for (const heading of ['Warnings', 'Accuracy', 'Latency', 'Model', 'Per-layer error', 'Kept in FP32', 'Ops ONNX Runtime runs', 'Settings', 'Machine']) {
    assert.match(md, new RegExp(`^## ${heading}$`, 'm'), heading);
  }
  assert.doesNotMatch(md, /^## Tuning/m, 'no tuning section without tuning data');
  // accuracy, with a gain shown as a negative drop
  assert.match(md, /\| Top-1 \| 80\.25% \| 81\.50% \| −1\.25 pts \|/);
  assert.match(md, /\| Top-5 \| 98\.50% \| 98\.75% \| −0\.25 pts \|/);
  assert.match(md, /\| Top-1 agreement \(same class\) \| 96\.75% \|/);
  assert.match(md, /\| Output SQNR \| 28\.1 dB \|/);
  assert.match(md, /\| Output cosine \| 0\.99900 \|/);
  // latency per thread count: median, p90, mean, min, runs, speedup
  assert.match(md, /Batch 1: 1\.26× faster with 1 thread, 6\.08× faster with 2 threads\./);
  // (a report from before throughput was measured: those cells are empty)
  assert.match(md, /\| 1 \| 1 \| 2\.05 ms \| 5\.10 ms \| 3\.18 ms \| 1\.66 ms \| 1\.62 ms \| 2\.78 ms \| 2\.67 ms \| 1\.15 ms \| 20 \| 1\.26× \| — \| — \|/);
  assert.match(md, /\| 2 \| 1 \| 11\.1 ms \| 38\.5 ms \| 15\.2 ms \| 1\.32 ms \| 1\.83 ms \| 21\.3 ms \| 6\.10 ms \| 0\.97 ms \| 20 \| 6\.08× \| — \| — \|/);
  assert.doesNotMatch(md, /Throughput at batch/);
  // model info
  assert.match(md, /FP32 1\.04 MB → INT8 321\.3 KB \(30\.1% of FP32\)\./);
  assert.match(md, /\| Opset \| 13 \| 13 \|/);
  assert.match(md, /\| Producer \| pytorch 1\.13\.0 \| octet 0\.1\.0 \|/);
  assert.match(md, /\| Inputs \| input \(float, N×3×32×32\) \| input \(float, N×3×32×32\) \|/);
  // per-layer table: worst first whatever the file order, all columns
  const layerRows = md.split('\n').filter((l) => / \| \d+(\.\d+)? dB \| /.test(l) && /^\| /.test(l) && !/Output SQNR/.test(l));
  assert.equal(layerRows.length, 8);
  assert.match(layerRows[0], /17\.3 dB/, 'the worst layer first');
  assert.match(reportToMarkdown({ ...realisticReport(), layers: [{ ...realisticReport().layers[0], ownSqnrDb: 200 }] }), /\| adds none \|/);
  assert.match(layerRows[1], /^\| \/layer3\/layer3\.2\/conv1\/Conv \| Conv \| \/layer3\/layer3\.2\/Relu\\_output\\_0 \| 1×64×8×8 \| 23\.4 dB \| — \| — \| — \| 0\.99773 \| 0\.4019 \| 0\.005% \| 0\.0152 \| 0 \| mse \|$/);
  assert.match(md, /\| \/layer3\/layer3\.2\/conv2\/Conv \| Conv \| .* \| 24\.3 dB \| 31\.6 dB \| 38\.1 dB \| 41\.3 dB \| 0\.99814 \| 2\.1840 \| 0\.006% \| 0\.0852 \| 90 \| mse \|/);
  // kept ops, the runtime op histogram, machine
  assert.match(md, /\| \/layer2\/layer2\.0\/shortcut\/Slice \| Slice \| no int8 kernel for this op type \|/);
  assert.match(md, /\| QLinearConv \| 19 \| 0 \| int8 \|/);
  assert.match(md, /\| Conv \| 0 \| 19 \| float \|/);
  assert.match(md, /\| QuantizeLinear \| 3 \| 0 \| conversion \|/);
  assert.match(md, /\| CPU \| AMD EPYC \(2 cores\) \|/);
  assert.match(md, /\| VNNI \| no \|/);
  assert.match(md, /\| ONNX Runtime \| 1\.30\.0 \|/);
  assert.match(md, /\| Method \| mse \|/);
  assert.match(md, /\| Weight range \| pair-safe \|/);
  assert.match(md, /\| Bias correction \| yes, 20 layers \(auto: output SQNR 28\.1 dB with, 26\.5 dB without\) \|/);
});

test('markdown escapes names from user models: no table break, no raw HTML', () => {
  const md = reportToMarkdown(realisticReport());
  assert.ok(!NASTY_NODE.includes('\n'));
  assert.doesNotMatch(md, /<script>|<\/script>|<b>/i, 'no raw HTML from node names');
  assert.ok(md.includes('| /evil\\|node/&lt;script&gt;alert("x")&lt;/script&gt;&amp;amp; | Add | /evil\\|tensor | 1×32×16×16 | 17.3 dB |'), 'escaped node name');
  assert.ok(md.includes('| pad\\|&lt;b&gt;2&lt;/b&gt; | Pad | excluded by --exclude |'));
  // every table row still has its column count: escaped pipes do not split cells
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    if (!lines[i].startsWith('| ') || !lines[i + 1]?.startsWith('| ---')) continue;
    const columns = (line: string) => line.replace(/\\\|/g, '').split('|').length;
    for (let j = i + 2; j < lines.length && lines[j].startsWith('|'); j += 1) assert.equal(columns(lines[j]), columns(lines[i]), lines[j]);
  }
});

test('markdown for an unlabelled, unbenchmarked run and a tuning section', () => {
  const base = realisticReport();
  const md = reportToMarkdown({ ...base, bench: [], layers: [], keptFloat: [], warnings: [],
    accuracy: { ...base.accuracy!, labelled: false, fp32: null, int8: null, top1DropPoints: null } });
  assert.match(md, /no labels: INT8 is compared with FP32 outputs only/);
  assert.match(md, /\| Top-1 agreement \(same class\) \| 96\.75% \|/);
  assert.doesNotMatch(md, /\| Top-1 \| /);
  assert.match(md, /Not benchmarked\./);
  assert.match(md, /No per-layer measurements\./);
  assert.match(md, /Every quantizable op was quantized\./);
  assert.doesNotMatch(md, /## Warnings/);
  assert.match(reportToMarkdown({ ...base, accuracy: null }), /## Accuracy\n\nNot evaluated\./);

  const tuned = reportToMarkdown(reportWithTuning());
  assert.match(tuned, /## Tuning/);
  assert.match(tuned, /\| Bound \| top-1 drop ≤ 0\.50 pts \|/);
  assert.match(tuned, /\| Bound met \| yes \|/);
  assert.match(tuned, /\| Stopped by \| bound met \|/);
  assert.match(tuned, /\| Time \| 41\.3 s \|/);
  assert.match(tuned, /\| 1 \| baseline \(minmax\) \| minmax \| none \| 2\.75 pts \| 92\.25% \| 22\.4 dB \| 1\.24× \| no \| no \|/);
  assert.match(tuned, /\| 2 \| method=mse \| mse \| none \| −1\.25 pts \| 96\.75% \| 28\.1 dB \| 1\.26× \| yes \| yes \|/);
  assert.match(tuned, /\| 3 \| exclude &lt;b&gt;\\\|fc&lt;\/b&gt; \| mse \| &lt;b&gt;\\\|fc&lt;\/b&gt; \| — \| 97\.00% \| 29\.1 dB \| — \| yes \| no \|/);
  assert.match(tuned, /Effect on the output, measured: output SQNR gained when each layer alone returns to FP32 \(3 most sensitive of 3 measured\)/);
  assert.match(tuned, /\| \/conv1\/Conv \| \+12\.5 dB \|\n\| &lt;b&gt;\\\|fc&lt;\/b&gt; \| \+1\.9 dB \|\n\| \/layer1\/Add \| −?-?0\.2 dB \|/);
  // a malformed tuning section is rendered as far as it makes sense, never thrown on
  for (const tuning of [null, 3, 'x', [], { trials: 'no' }, { trials: [null, 5, { changed: 7, kept: 'yes' }] }]) {
    assert.doesNotThrow(() => reportToMarkdown(Object.assign(realisticReport(), { tuning })));
  }
});
