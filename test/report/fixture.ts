// A realistic Report for the renderer tests: the numbers of a real `octet quantize` run of ResNet-20 (CIFAR-10) on a
// 2-core AMD EPYC without VNNI, trimmed, plus one layer and one kept op whose names try to break out of Markdown
// tables and HTML. Not engine output: a rendering input.
import { Report, REPORT_SCHEMA_VERSION } from '../../src/common/report';

/** A node name a hostile or odd model could carry. */
export const NASTY_NODE = '/evil|node/<script>alert("x")</script>&amp;';

export function realisticReport(): Report {
  const dataset = { path: '/work/shared/assets/images/cifar10-test', kind: 'image-folder' as const, count: 2000, labelled: true, labelsSource: 'class subfolders' };
  const io = { inputs: [{ name: 'input', shape: ['N', 3, 32, 32], type: 'float' }], outputs: [{ name: 'logits', shape: ['N', 10], type: 'float' }] };
  const layer = (node: string, opType: string, tensor: string, shape: number[], sqnrDb: number, cosine: number, maxAbsError: number,
    clippedRatio: number, scale: number, zeroPoint: number) => ({ node, opType, tensor, shape, sqnrDb, cosine, maxAbsError, clippedRatio, scale, zeroPoint, method: 'mse' as const });
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    octetVersion: '0.1.0',
    createdAt: '2026-11-27T18:26:32.200Z',
    fp32Model: { path: '/work/shared/assets/models/cifar10/resnet20_cifar10_akamaster.onnx', bytes: 1094520, opset: 13, irVersion: 7,
      producer: 'pytorch 1.13.0', ...io, opHistogram: { Conv: 19, Relu: 19, Add: 9, Constant: 37, Slice: 6, Pad: 2, GlobalAveragePool: 1, Reshape: 5, Gemm: 1 } },
    int8Model: { path: '/tmp/r20/r20.int8.onnx', bytes: 328978, opset: 13, irVersion: 7, producer: 'octet 0.1.0', ...io,
      opHistogram: { QuantizeLinear: 34, DequantizeLinear: 74, Conv: 19, Add: 9, Slice: 4, Pad: 2, GlobalAveragePool: 1, Reshape: 1, Gemm: 1 } },
    optimizedFp32Ops: { Conv: 19, Relu: 19, Add: 9, Slice: 4, Pad: 2, GlobalAveragePool: 1, Reshape: 1, Gemm: 1 },
    settings: { method: 'mse', percentile: 99.999, perChannel: true, activations: 'u8', weightRange: 'pair-safe', calibCount: 100,
      calibBatch: 8, opTypes: [], exclude: [], preprocess: 'torch', resize: null, crop: null, layout: 'NCHW', methodRequested: 'mse',
      equalize: true, maxDrop: null, biasCorrection: true, biasCorrectionRequested: 'auto' },
    calibration: { dataset, images: 100, seconds: 3.318, peakRssMb: 163, methodScores: null,
      biasCorrection: { layers: 20, samples: 32, seconds: 0.41, outputSqnrDb: { off: 26.5, on: 28.07 } }, tensors: [
      { tensor: 'input', min: -2.1179039478302, max: 2.640000104904175, rangeMin: -2.1096308855339885, rangeMax: 2.629687604494393, scale: 0.018585562705993652, zeroPoint: 114 },
    ] },
    quantizedNodes: [{ node: '/conv1/Conv', opType: 'Conv' }, { node: '/layer1/layer1.0/conv1/Conv', opType: 'Conv' }, { node: '/fc/Gemm', opType: 'Gemm' }],
    keptFloat: [
      { node: '/layer2/layer2.0/shortcut/Slice', opType: 'Slice', reason: 'no int8 kernel for this op type' },
      { node: '/layer2/layer2.0/shortcut/Pad', opType: 'Pad', reason: 'no int8 kernel for this op type' },
      { node: 'pad|<b>2</b>', opType: 'Pad', reason: 'excluded by --exclude' },
    ],
    int8RuntimeOps: { QuantizeLinear: 3, Transpose: 2, QLinearConv: 19, QLinearAdd: 9, Slice: 4, DequantizeLinear: 3, Pad: 2, QLinearGlobalAveragePool: 1, Reshape: 1, QGemm: 1 },
    accuracy: { n: 400, labelled: true, fp32: { top1: 0.8025, top5: 0.985 }, int8: { top1: 0.815, top5: 0.9875 }, agreement: 0.9675,
      top1DropPoints: -1.25, outputSqnrDb: 28.07281494885355, outputCosine: 0.9990009443603093 },
    evaluation: { dataset, skip: 100, limit: 400 },
    bench: [
      { threads: 1, batch: 1, fp32: { medianMs: 2.047, p90Ms: 5.1, minMs: 1.655, meanMs: 3.177, runs: 20 },
        int8: { medianMs: 1.623, p90Ms: 2.784, minMs: 1.148, meanMs: 2.674, runs: 20 }, speedup: 1.2612446087492298 },
      { threads: 2, batch: 1, fp32: { medianMs: 11.13, p90Ms: 38.54, minMs: 1.32, meanMs: 15.2, runs: 20 },
        int8: { medianMs: 1.83, p90Ms: 21.25, minMs: 0.97, meanMs: 6.1, runs: 20 }, speedup: 6.081967213114754 },
    ],
    layers: [
      layer('/layer3/layer3.2/conv1/Conv', 'Conv', '/layer3/layer3.2/Relu_output_0', [1, 64, 8, 8], 23.433, 0.99773, 0.401853, 0.00004578, 0.015197224915027618, 0),
      { ...layer('/layer3/layer3.2/conv2/Conv', 'Conv', '/layer3/layer3.2/conv2/Conv_output_0', [1, 64, 8, 8], 24.298, 0.998142, 2.184034, 0.00006104, 0.08515390008687973, 90),
        ownSqnrDb: 31.62, localSqnrDb: 38.07, weightSqnrDb: 41.3 },
      layer(NASTY_NODE, 'Add', '/evil|tensor', [1, 32, 16, 16], 17.25, 0.99101, 1.5, 0.0012, 0.031, 7),
      layer('/layer2/layer2.2/conv1/Conv', 'Conv', '/layer2/layer2.2/Relu_output_0', [1, 32, 16, 16], 24.637, 0.998281, 0.329043, 0, 0.014755308628082275, 0),
      layer('/layer3/layer3.2/Add', 'Add', '/layer3/layer3.2/Relu_1_output_0', [1, 64, 8, 8], 25.912, 0.998712, 1.95, 0.0000305, 0.0611, 0),
      layer('/avgpool/GlobalAveragePool', 'GlobalAveragePool', '/avgpool/GlobalAveragePool_output_0', [1, 64, 1, 1], 29.87, 0.999485, 0.21, 0, 0.0177, 0),
      layer('/fc/Gemm', 'Gemm', 'logits', [1, 10], 28.07, 0.999001, 0.6123, 0, 0.0722, 131),
      layer('/conv1/Conv', 'Conv', '/Relu_output_0', [1, 16, 32, 32], 38.91, 0.999936, 0.0712, 0.00001, 0.01761881820857525, 0),
    ],
    tuning: null,
    warnings: ["This CPU has no VNNI: ONNX Runtime's U8S8 kernels add pairs of int8 products in saturating 16-bit sums here."],
    machine: { cpu: 'AMD EPYC', cores: 2, vnni: false, avx512: false, avx2: true, ortVersion: '1.30.0', nodeVersion: 'v20.20.2', platform: 'linux-x64' },
  };
}

/**
 * The realistic report as the current engine writes its benchmark: a throughput on every row, and a batch-8 row with
 * all (2) cores after the batch-1 rows. The batch-8 speedup (2.5×) differs from both batch-1 ones on purpose.
 */
export function reportWithThroughput(): Report {
  const base = realisticReport();
  const rate = (batch: number, ms: number) => Math.round((batch * 1000 / ms) * 100) / 100;
  const bench = base.bench.map((b) => ({ ...b, throughput: { fp32: rate(b.batch, b.fp32.medianMs), int8: rate(b.batch, b.int8.medianMs) } }));
  bench.push({ threads: 2, batch: 8, fp32: { medianMs: 10.4, p90Ms: 12.9, minMs: 9.8, meanMs: 10.9, runs: 5 },
    int8: { medianMs: 4.16, p90Ms: 5.02, minMs: 3.9, meanMs: 4.3, runs: 5 }, speedup: 2.5, throughput: { fp32: 769.23, int8: 1923.08 } });
  return { ...base, bench };
}

/** The realistic report (with throughput) and a `tuning` section (accuracy-aware mode), including a hostile name in a trial. */
export function reportWithTuning(): Report {
  const trial = (changed: string, method: 'minmax' | 'mse', excluded: string[], top1DropPoints: number | null, agreement: number,
    outputSqnrDb: number, speedup: number | null, meetsBound: boolean, kept: boolean) =>
    ({ changed, method, excluded, top1DropPoints, agreement, outputSqnrDb, speedup, meetsBound, kept });
  return {
    ...reportWithThroughput(),
    tuning: {
      maxDrop: 0.5,
      metric: 'top1-drop-points',
      trials: [
        trial('baseline (minmax)', 'minmax', [], 2.75, 0.9225, 22.4, 1.24, false, false),
        trial('method=mse', 'mse', [], -1.25, 0.9675, 28.07, 1.26, true, true),
        trial('exclude <b>|fc</b>', 'mse', ['<b>|fc</b>'], null, 0.97, 29.1, null, true, false),
      ],
      stoppedBy: 'bound-met',
      boundMet: true,
      seconds: 41.26,
      note: null,
    },
    sensitivity: [{ node: '/conv1/Conv', outputSqnrGainDb: 12.537 }, { node: '<b>|fc</b>', outputSqnrGainDb: 1.9 }, { node: '/layer1/Add', outputSqnrGainDb: -0.2 }],
  };
}
