// Per-layer error: the INT8 model keeps the FP32 tensor names for its dequantized activations, so running both
// models with those tensors exposed compares, point by point, what INT8 computes against FP32 (the accumulated
// error at each point of the INT8 model). Also per tensor: the local error of its own Q/DQ pair on FP32 values, and
// the SQNR each node loses between its inputs and its output (the error it adds itself). Ranked by SQNR, worst first.
import type { CalibrationMethod, LayerError } from '../../common/report';
import { Graph } from '../../onnx/graph';
import { encodeSplit, ModelProto } from '../../onnx/proto';
import type { QParams } from '../../quant/qparams';
import type { ModelInput } from '../../data/model-input';
import { planExposure } from './exposure';
import { withExtraOutputs } from './prepare';
import { SampleSet, splitBatch } from './sample-set';
import { openSession, runFloat } from './session';
import { roundTo, sqnrDbOf } from '../../common/numbers';
import { elementCount } from '../../onnx/tensor';

interface Accumulator { signal: number; noise: number; localNoise: number; dot: number; normF: number; normQ: number; maxAbs: number; clipped: number; count: number }

export interface LayerErrorOptions {
  /** Activation tensor -> scale/zero point used in the INT8 model. */
  params: Map<string, QParams>;
  activationRange: (p: QParams) => { lo: number; hi: number };
  /** Calibration method whose range each tensor uses. */
  methodOf: (tensor: string) => CalibrationMethod;
  /** Weight SQNR of weighted nodes, by node name. */
  weightSqnrOf?: (node: string) => number | undefined;
  /** How many evaluation samples to compare (a few are enough). */
  samples: number;
  shapes: Map<string, number[]>;
}

/** Node of the INT8 graph that computes `tensor` (looking through its Q/DQ pair). */
function producingNode(int8: Graph, tensor: string): { name: string; opType: string; inputs: string[] } | null {
  const dq = int8.producers.get(tensor);
  if (dq?.op_type !== 'DequantizeLinear') return null;
  const q = int8.producers.get(dq.input[0]);
  const producer = q?.op_type === 'QuantizeLinear' ? int8.producers.get(q.input[0]) : undefined;
  if (!producer) return null;
  return { name: producer.name || producer.output[0], opType: producer.op_type ?? '', inputs: producer.input };
}

export async function measureLayerErrors(fp32: ModelProto, int8: ModelProto, set: SampleSet, input: ModelInput,
  options: LayerErrorOptions, labels: [string, string]): Promise<LayerError[]> {
  const int8Graph = new Graph(int8.graph!);
  const fp32Graph = new Graph(fp32.graph!);
  const tensors = [...options.params.keys()].filter((t) => fp32Graph.producers.has(t) && producingNode(int8Graph, t));
  if (tensors.length === 0) return [];
  const acc = new Map<string, Accumulator>(tensors.map((t) => [t, { signal: 0, noise: 0, localNoise: 0, dot: 0, normF: 0, normQ: 0, maxAbs: 0, clipped: 0, count: 0 }]));
  // Both models expose the tensors: half the exposure budget each.
  const bytesPerSample = (t: string) => { const d = options.shapes.get(t); return d ? d.slice(1).reduce((a, b) => a * b, 4) : undefined; };
  const plan = planExposure(tensors, (t) => { const b = bytesPerSample(t); return b === undefined ? b : 2 * b; }, set.batch);
  const subset = set.slice(0, options.samples);
  for (const group of plan.groups) await compareGroup(group);
  async function compareGroup(group: string[]): Promise<void> {
    const sessions = [
      await openSession(encodeSplit(withExtraOutputs(fp32, group)), { threads: 0, level: 'basic', lowMemory: true }, labels[0]),
      await openSession(encodeSplit(withExtraOutputs(int8, group)), { threads: 0, level: 'basic', lowMemory: true }, labels[1]),
    ];
    try {
      for await (const b of subset.batches()) {
        for (const run of splitBatch(b, plan.batch, input)) {
          accumulate(group, await runFloat(sessions[0], input.name, run.data, run.shape, group),
            await runFloat(sessions[1], input.name, run.data, run.shape, group));
        }
      }
    } finally {
      for (const s of sessions) await s.release();
    }
  }
  function accumulate(group: string[], outF: Record<string, { data: unknown }>, outQ: Record<string, { data: unknown }>): void {
    for (const t of group) {
      const f = outF[t].data as Float32Array;
      const q = outQ[t].data as Float32Array;
      const a = acc.get(t)!;
      const p = options.params.get(t)!;
      const { lo, hi } = options.activationRange(p);
      const [codeLo, codeHi] = [Math.round(lo / p.scale), Math.round(hi / p.scale)];
      // A tensor the INT8 model pads with channels for ORT's kernels (kernel-alignment.ts) holds more values per
      // sample: its first channels are FP32's.
      const dims = options.shapes.get(t) ?? [];
      const perSample = dims.length > 1 ? elementCount(dims.slice(1)) : 0;
      const int8PerSample = q.length > f.length && perSample > 0 && f.length % perSample === 0 ? q.length / (f.length / perSample) : perSample;
      for (let i = 0; i < f.length; i++) {
        const code = Math.round(f[i] / p.scale);
        const local = f[i] - (code < codeLo ? codeLo : code > codeHi ? codeHi : code) * p.scale;
        a.localNoise += local * local;
        const at = int8PerSample === perSample ? i : Math.floor(i / perSample) * int8PerSample + (i % perSample);
        const d = f[i] - q[at];
        a.signal += f[i] * f[i]; a.noise += d * d; a.dot += f[i] * q[at]; a.normF += f[i] * f[i]; a.normQ += q[at] * q[at];
        const ad = Math.abs(d);
        if (ad > a.maxAbs) a.maxAbs = ad;
        if (f[i] < lo || f[i] > hi) a.clipped++;
      }
      a.count += f.length;
    }
  }
  const layers: LayerError[] = [];
  const accumulated = new Map(tensors.map((t) => [t, sqnrDbOf(acc.get(t)!.signal, acc.get(t)!.noise)] as const));
  for (const t of tensors) {
    const a = acc.get(t)!;
    const node = producingNode(int8Graph, t)!;
    const p = options.params.get(t)!;
    const relative = (db: number) => 10 ** (-db / 10);
    const inputNoise = Math.max(0, ...node.inputs.map((i) => accumulated.get(i)).filter((v): v is number => v !== undefined).map(relative));
    const added = relative(accumulated.get(t)!) - inputNoise;
    layers.push({
      node: node.name, opType: node.opType, tensor: t, shape: options.shapes.get(t) ?? [],
      sqnrDb: accumulated.get(t)!, localSqnrDb: sqnrDbOf(a.signal, a.localNoise), ownSqnrDb: added > 1e-20 ? roundTo(-10 * Math.log10(added)) : 200,
      cosine: a.normF === 0 || a.normQ === 0 ? 1 : roundTo(a.dot / Math.sqrt(a.normF * a.normQ), 6),
      maxAbsError: roundTo(a.maxAbs, 6), clippedRatio: a.count ? roundTo(a.clipped / a.count, 8) : 0,
      scale: p.scale, zeroPoint: p.zeroPoint, method: options.methodOf(t),
      ...(options.weightSqnrOf?.(node.name) !== undefined ? { weightSqnrDb: options.weightSqnrOf(node.name) } : {}),
    });
  }
  return layers.sort((x, y) => x.sqnrDb - y.sqnrDb);
}
