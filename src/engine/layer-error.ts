// Per-layer error: the INT8 model keeps the FP32 tensor names for its dequantized activations, so running both
// models with those tensors exposed compares, point by point, what INT8 computes against FP32 (the accumulated
// error at each point of the INT8 model). Reported per producing node, ranked by SQNR (worst first).
import type { CalibrationMethod, LayerError } from '../common/report';
import { Graph } from '../onnx/graph';
import { encodeModel, ModelProto } from '../onnx/proto';
import type { QParams } from '../quant/qparams';
import { EvalSet } from './evaluate';
import { batchShape, ModelInput } from './model-input';
import { withExtraOutputs } from './prepare';
import { openSession, runFloat } from './runtime';

interface Accumulator { signal: number; noise: number; dot: number; normF: number; normQ: number; maxAbs: number; clipped: number; count: number }

export interface LayerErrorOptions {
  /** Activation tensor -> scale/zero point used in the INT8 model. */
  params: Map<string, QParams>;
  activationRange: (p: QParams) => { lo: number; hi: number };
  method: CalibrationMethod;
  /** How many evaluation samples to compare (a few are enough). */
  samples: number;
  shapes: Map<string, number[]>;
}

/** Node of the INT8 graph that computes `tensor` (looking through its Q/DQ pair). */
function producingNode(int8: Graph, tensor: string): { name: string; opType: string } | null {
  const dq = int8.producers.get(tensor);
  if (dq?.op_type !== 'DequantizeLinear') return null;
  const q = int8.producers.get(dq.input[0]);
  const producer = q?.op_type === 'QuantizeLinear' ? int8.producers.get(q.input[0]) : undefined;
  if (!producer) return null;
  return { name: producer.name || producer.output[0], opType: producer.op_type ?? '' };
}

export async function measureLayerErrors(fp32: ModelProto, int8: ModelProto, set: EvalSet, input: ModelInput,
  options: LayerErrorOptions, labels: [string, string]): Promise<LayerError[]> {
  const int8Graph = new Graph(int8.graph!);
  const fp32Graph = new Graph(fp32.graph!);
  const tensors = [...options.params.keys()].filter((t) => fp32Graph.producers.has(t) && producingNode(int8Graph, t));
  if (tensors.length === 0) return [];
  const sessions = [
    await openSession(encodeModel(withExtraOutputs(fp32, tensors)), { threads: 0, level: 'basic', lowMemory: true }, labels[0]),
    await openSession(encodeModel(withExtraOutputs(int8, tensors)), { threads: 0, level: 'basic', lowMemory: true }, labels[1]),
  ];
  const acc = new Map<string, Accumulator>(tensors.map((t) => [t, { signal: 0, noise: 0, dot: 0, normF: 0, normQ: 0, maxAbs: 0, clipped: 0, count: 0 }]));
  try {
    let seen = 0;
    for (const b of set.batches) {
      if (seen >= options.samples) break;
      const shape = batchShape(input, b.count);
      const [outF, outQ] = [await runFloat(sessions[0], input.name, b.data, shape, tensors), await runFloat(sessions[1], input.name, b.data, shape, tensors)];
      for (const t of tensors) {
        const f = outF[t].data as Float32Array;
        const q = outQ[t].data as Float32Array;
        const a = acc.get(t)!;
        const { lo, hi } = options.activationRange(options.params.get(t)!);
        for (let i = 0; i < f.length; i++) {
          const d = f[i] - q[i];
          a.signal += f[i] * f[i]; a.noise += d * d; a.dot += f[i] * q[i]; a.normF += f[i] * f[i]; a.normQ += q[i] * q[i];
          const ad = Math.abs(d);
          if (ad > a.maxAbs) a.maxAbs = ad;
          if (f[i] < lo || f[i] > hi) a.clipped++;
        }
        a.count += f.length;
      }
      seen += b.count;
    }
  } finally {
    for (const s of sessions) await s.release();
  }
  const layers: LayerError[] = [];
  for (const t of tensors) {
    const a = acc.get(t)!;
    const node = producingNode(int8Graph, t)!;
    const p = options.params.get(t)!;
    layers.push({
      node: node.name, opType: node.opType, tensor: t, shape: options.shapes.get(t) ?? [],
      sqnrDb: a.noise === 0 ? 200 : a.signal === 0 ? -200 : round(10 * Math.log10(a.signal / a.noise)),
      cosine: a.normF === 0 || a.normQ === 0 ? 1 : round(a.dot / Math.sqrt(a.normF * a.normQ), 6),
      maxAbsError: round(a.maxAbs, 6), clippedRatio: a.count ? round(a.clipped / a.count, 8) : 0,
      scale: p.scale, zeroPoint: p.zeroPoint, method: options.method,
    });
  }
  return layers.sort((x, y) => x.sqnrDb - y.sqnrDb);
}

function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
