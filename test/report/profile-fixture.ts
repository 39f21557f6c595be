// A Report with a time profile and a speed-aware choice, for the renderer and webview tests: ResNet-50 (torchvision
// export names) at batch 1 on one thread. Each conv's FP32 time follows from its multiply-adds at ~65 GMAC/s (0.2–2.4
// ms, as ONNX Runtime's FusedConv runs them on an AVX-512 EPYC); INT8 (QLinearConv) is 2.2–3.4× faster with VNNI and
// slower than FP32 without it. One region (layer4's last Add, its Relu and the average pool) is kept in float by the
// speed-aware choice; a second one was tried and not kept. Not engine output: a rendering input.
import type { NodeTiming, Report, SpeedReport, TimeProfile } from '../../src/common/report';
import { reportWithThroughput } from './fixture';

/** The region kept in float by the speed-aware choice. */
export const KEPT_FLOAT_REGION = ['/layer4/layer4.2/Add', '/layer4/layer4.2/relu_2/Relu', '/avgpool/GlobalAveragePool'];

const round = (ms: number) => Math.round(ms * 10000) / 10000;

interface ConvSpec { name: string; macs: number; kernel: 1 | 3 | 7; relu: boolean }

/** Every node of torchvision's ResNet-50 after ONNX Runtime's basic optimizations (BN folded), in graph order. */
function resnet50Nodes(): ({ conv: ConvSpec } | { op: string; name: string })[] {
  const out: ({ conv: ConvSpec } | { op: string; name: string })[] = [];
  const conv = (name: string, cin: number, cout: number, k: 1 | 3 | 7, hw: number, relu: boolean) =>
    out.push({ conv: { name, macs: cin * cout * k * k * hw * hw, kernel: k, relu } });
  conv('/conv1/Conv', 3, 64, 7, 112, true);
  out.push({ op: 'Relu', name: '/relu/Relu' }, { op: 'MaxPool', name: '/maxpool/MaxPool' });
  let cin = 64;
  [[3, 64, 56], [4, 128, 28], [6, 256, 14], [3, 512, 7]].forEach(([blocks, width, hw], stage) => {
    for (let b = 0; b < blocks; b++) {
      const p = `/layer${stage + 1}/layer${stage + 1}.${b}`;
      conv(`${p}/conv1/Conv`, cin, width, 1, b === 0 && stage > 0 ? hw * 2 : hw, true);
      out.push({ op: 'Relu', name: `${p}/relu/Relu` });
      conv(`${p}/conv2/Conv`, width, width, 3, hw, true);
      out.push({ op: 'Relu', name: `${p}/relu_1/Relu` });
      conv(`${p}/conv3/Conv`, width, width * 4, 1, hw, false);
      if (b === 0) conv(`${p}/downsample/downsample.0/Conv`, cin, width * 4, 1, hw, false);
      out.push({ op: 'Add', name: `${p}/Add` }, { op: 'Relu', name: `${p}/relu_2/Relu` });
      cin = width * 4;
    }
  });
  out.push({ op: 'GlobalAveragePool', name: '/avgpool/GlobalAveragePool' }, { op: 'Flatten', name: '/Flatten' }, { op: 'Gemm', name: '/fc/Gemm' });
  return out;
}

/** Gain of QLinearConv over FusedConv: with VNNI 2.2× (first conv) to 3.4× (1×1); without, 3×3 convs lose. */
function convGain(spec: ConvSpec, vnni: boolean): number {
  if (spec.kernel === 7) return vnni ? 2.2 : 0.8;
  if (spec.kernel === 3) return vnni ? 3.0 : 0.85;
  return vnni ? 3.4 : 1.1;
}

function timing(node: string, opType: string, fp32Ms: number, fp32Kernels: string[], int8Ms: number, int8Kernels: string[], overheadMs = 0): NodeTiming {
  return { node, opType, fp32Ms: round(fp32Ms), int8Ms: round(int8Ms), fp32Kernels, int8Kernels, overheadMs: round(overheadMs) };
}

function profileNodes(vnni: boolean): NodeTiming[] {
  return resnet50Nodes().map((n, i) => {
    const jitter = 1 + 0.04 * Math.sin(i * 1.7);
    if ('conv' in n) {
      const fp32 = (n.conv.macs / 65e6) * jitter;
      return timing(n.conv.name, 'Conv', fp32, [n.conv.relu ? 'FusedConv' : 'Conv'], fp32 / convGain(n.conv, vnni), ['QLinearConv']);
    }
    const kept = KEPT_FLOAT_REGION.includes(n.name);
    switch (n.op) {
      // The Relu after a conv runs inside FusedConv (FP32) and QLinearConv (INT8); after an Add it is its own kernel in FP32.
      case 'Relu': return n.name.includes('relu_2')
        ? timing(n.name, 'Relu', 0.021 * jitter, ['Relu'], kept ? 0.019 : 0, kept ? ['Relu'] : []) : timing(n.name, 'Relu', 0, [], 0, []);
      case 'MaxPool': return timing(n.name, 'MaxPool', 0.212, ['MaxPool'], 0.061, ['MaxPool']);
      case 'Add': return kept ? timing(n.name, 'Add', 0.018, ['Add'], 0.017, ['Add'], 0.024)
        : timing(n.name, 'Add', 0.034 * jitter, ['Add'], 0.029 * jitter, ['QLinearAdd']);
      case 'GlobalAveragePool': return timing(n.name, 'GlobalAveragePool', 0.016, ['GlobalAveragePool'], 0.015, ['GlobalAveragePool'], 0.006);
      case 'Flatten': return timing(n.name, 'Flatten', 0.002, ['Flatten'], 0.002, ['Flatten'], 0.003);
      default: return timing(n.name, 'Gemm', 0.512, ['Gemm'], 0.148, ['QGemm'], 0.004);
    }
  });
}

/** Totals as the engine sums them: per run, per FP32 op type (most FP32 time first). */
function profileOf(nodes: NodeTiming[], unattributedInt8Ms: number): TimeProfile {
  const sum = (pick: (n: NodeTiming) => number, list = nodes) => round(list.reduce((total, n) => total + pick(n), 0));
  const opTypes = [...new Set(nodes.map((n) => n.opType))];
  const byOpType = opTypes.map((opType) => {
    const of = nodes.filter((n) => n.opType === opType);
    return { opType, count: of.length, fp32Ms: sum((n) => n.fp32Ms, of), int8Ms: sum((n) => n.int8Ms, of), overheadMs: sum((n) => n.overheadMs, of) };
  }).sort((a, b) => b.fp32Ms - a.fp32Ms);
  return {
    runs: 20, batch: 1, threads: 1, fp32TotalMs: sum((n) => n.fp32Ms), int8TotalMs: round(sum((n) => n.int8Ms + n.overheadMs) + unattributedInt8Ms),
    nodes, byOpType, unattributedInt8Ms,
  };
}

function speedOf(profile: TimeProfile): SpeedReport {
  // End-to-end medians run a little above the summed kernel time (session overhead).
  const fp32Ms = round(profile.fp32TotalMs * 1.03);
  const before = round(profile.int8TotalMs * 1.05 + 0.045);
  const after = round(before - 0.05);
  return {
    mode: 'auto',
    decisions: [
      { nodes: KEPT_FLOAT_REGION, action: 'keep-float', reason: 'int8 + Q/DQ 0.109 ms vs float 0.061 ms in the profile', beforeMs: before, afterMs: after, kept: true },
      { nodes: ['/maxpool/MaxPool'], action: 'keep-float', reason: 'int8 + Q/DQ 0.073 ms vs float 0.212 ms with its Q/DQ pair', beforeMs: after, afterMs: round(after + 0.08), kept: false },
    ],
    fp32Ms, int8Ms: after, fasterThanFp32: after < fp32Ms, seconds: 14.2,
  };
}

/** The realistic report made a profiled ResNet-50 run (`vnni: false`: INT8 ends up slower than FP32). */
export function profiledReport(options: { vnni?: boolean } = {}): Report {
  const vnni = options.vnni ?? true;
  const base = reportWithThroughput();
  const profile = profileOf(profileNodes(vnni), 0.094);
  const speed = speedOf(profile);
  const stats = (ms: number) => ({ medianMs: ms, p90Ms: round(ms * 1.06), minMs: round(ms * 0.97), meanMs: round(ms * 1.02), runs: 20 });
  return {
    ...base,
    fp32Model: { ...base.fp32Model, path: '/work/shared/assets/models/imagenet/resnet50-torchvision.onnx', bytes: 102_146_000 },
    int8Model: { ...base.int8Model, path: '/tmp/r50/resnet50-torchvision.int8.onnx', bytes: 25_791_000 },
    bench: [{ threads: 1, batch: 1, fp32: stats(speed.fp32Ms), int8: stats(speed.int8Ms), speedup: speed.fp32Ms / speed.int8Ms }],
    machine: { ...base.machine, cpu: 'AMD EPYC 9R14', vnni, avx512: vnni },
    warnings: vnni ? [] : base.warnings,
    profile,
    speed,
  };
}
