// Statistics of tensors whose channels are rescaled part-way through the statistics pass. Activation equalization
// (quant/equalize.ts) needs the channel ranges of the tensors between convolution pairs before it rescales them.
// Instead of a pass of its own over the first samples, the statistics pass measures those ranges there, on the model as
// it is, and keeps what the statistics of the tensors to rescale need from those samples: each channel's extent (min,
// max), and the values their histograms count — the half probe's picks in float32 (a pick's channel follows from its
// position), or the whole tensor for one exposed whole. Once the scales are known, the kept values are handed to the
// reductions to be divided by their channel's scale, as the rescaled model would have given them (picks as float16,
// rounded as the probe's Cast rounds them) — on the reducing thread, while this one opens the rescaled model's session
// (ResNet-50: 0.14 s of dividing off the critical path) — and the pass goes on over the other samples with the rescaled
// model. The statistics equal those of a pass over the rescaled model up to float rounding (x / s here, the rescaled
// weights there). ResNet-50 no longer runs its 32 samples twice.
import type * as ort from 'onnxruntime-node';
import { Graph, opsetVersion } from '../../onnx/graph';
import type { ModelProto, NodeProto, TensorProto } from '../../onnx/proto';
import { reduceNode } from '../../onnx/build';
import { makeTensor } from '../../onnx/tensor';
import type { ChannelDivision } from '../../quant/channel-division';
import { HalfExposure, halfExposureStride } from './half-exposure';

/** A rescaling of channels the statistics pass applies after its first samples. */
export interface Rescaling {
  /** Samples measured on the model as it is (the first ones of the pass). */
  samples: number;
  /** Measured tensors whose channels (dim 1) the rescaling divides; their dims are known, rank ≥ 2. */
  tensors: ReadonlySet<string>;
  /**
   * Given the per-channel max |x| of `tensors` over those samples: rescales the model and returns the probe the other
   * samples run on (built like the first one, from the rescaled model) and the factors each tensor's channels were
   * divided by (a tensor left as it was has none).
   */
  rescale(maxima: ReadonlyMap<string, Float32Array>): { model: ModelProto; scales: ReadonlyMap<string, Float32Array> };
}

/** A value the reductions take as if a run had exposed it: once divided as `divide` says, when it says. */
export interface RescaledUpdate { tensor: string; data: Float32Array; dims: number[]; divide?: ChannelDivision }

interface KeptTensor {
  rank: number;
  channels: number;
  /** Values per channel of one sample. */
  inner: number;
  perSample: number;
  lows: Float32Array;
  highs: Float32Array;
  low: string;
  high: string;
  half: HalfExposure | null;
  /** Picks with the position of the first (half-exposed tensors), or whole runs with their dims. */
  runs: { data: Float32Array; start: number; dims: number[] }[];
}

/** Bytes the kept values of a tensor of `dims` (one probe run) take over `samples` runs (see halfPrecisionProbe). */
export function keptBytes(dims: readonly number[], samples: number): number {
  const values = dims.reduce((a, b) => a * b, 1);
  const stride = halfExposureStride(values);
  return 4 * samples * (stride === null ? values : Math.ceil(values / stride) + 1);
}

export class RescaledTensors {
  private readonly kept = new Map<string, KeptTensor>();
  /** Output name → the kept tensor it belongs to and what it holds. */
  private readonly outputs = new Map<string, { tensor: string; role: 'low' | 'high' | 'values' }>();

  constructor(tensors: ReadonlySet<string>, dimsOf: (tensor: string) => readonly number[] | undefined,
    half: ReadonlyMap<string, HalfExposure>) {
    for (const t of tensors) {
      const dims = dimsOf(t);
      if (!dims || dims.length < 2) throw new RangeError(`rescaled tensor '${t}': its dims are not known`);
      const channels = dims[1];
      const perSample = dims.slice(1).reduce((a, b) => a * b, 1);
      const exposure = half.get(t) ?? null;
      this.kept.set(t, { rank: dims.length, channels, inner: perSample / channels, perSample, lows: new Float32Array(channels).fill(Infinity),
        highs: new Float32Array(channels).fill(-Infinity), low: '', high: '', half: exposure, runs: [] });
      this.outputs.set(exposure?.values ?? t, { tensor: t, role: 'values' });
    }
  }

  /** The extents the probe of the first samples does not compute (see halfPrecisionProbe's floatPicks). */
  get unexposed(): Set<string> {
    return new Set([...this.kept.values()].flatMap((k) => (k.half ? [k.half.extent] : [])));
  }

  /** `model` with each tensor's per-channel min and max over a run as new nodes; returns it and their outputs. */
  probe(model: ModelProto): { model: ModelProto; outputs: string[] } {
    const graph = new Graph(model.graph!);
    const opset = opsetVersion(model);
    const nodes: NodeProto[] = [];
    const initializers: TensorProto[] = [];
    for (const [t, kept] of this.kept) {
      const axes = [0, ...Array.from({ length: kept.rank - 2 }, (_, i) => i + 2)];
      // From opset 18 on the axes are an input: one initializer serves the tensor's ReduceMin and ReduceMax.
      let axesName: string | null = null;
      const axesInput = () => {
        if (!axesName) {
          axesName = graph.uniqueName(`${t}_channel_axes`);
          initializers.push(makeTensor(axesName, [axes.length], BigInt64Array.from(axes.map(BigInt))));
        }
        return axesName;
      };
      kept.low = graph.uniqueName(`${t}_channel_min`);
      kept.high = graph.uniqueName(`${t}_channel_max`);
      nodes.push(reduceNode('ReduceMin', t, kept.low, graph.uniqueName(`${kept.low}_ReduceMin`), axes, false, opset, axesInput),
        reduceNode('ReduceMax', t, kept.high, graph.uniqueName(`${kept.high}_ReduceMax`), axes, false, opset, axesInput));
      this.outputs.set(kept.low, { tensor: t, role: 'low' }).set(kept.high, { tensor: t, role: 'high' });
    }
    const g = model.graph!;
    return { model: { ...model, graph: { ...g, node: [...g.node, ...nodes], initializer: [...g.initializer, ...initializers] } },
      outputs: [...this.kept.values()].flatMap((k) => [k.low, k.high]) };
  }

  /**
   * Keeps a run's `value` of output `name` when it belongs to a rescaled tensor (true), else leaves it to the caller
   * (false). `startOf` gives where the run's first pick of a half-exposed tensor falls.
   */
  take(name: string, value: ort.Tensor, startOf: (tensor: string) => number): boolean {
    const role = this.outputs.get(name);
    if (!role) return false;
    const kept = this.kept.get(role.tensor)!;
    const data = value.data as Float32Array;
    if (role.role === 'low') for (let c = 0; c < kept.channels; c++) kept.lows[c] = Math.min(kept.lows[c], data[c]);
    else if (role.role === 'high') for (let c = 0; c < kept.channels; c++) kept.highs[c] = Math.max(kept.highs[c], data[c]);
    else kept.runs.push({ data, start: kept.half ? startOf(role.tensor) : 0, dims: [...value.dims] });
    return true;
  }

  /** Each tensor's per-channel max |x| over the samples kept. */
  maxima(): Map<string, Float32Array> {
    return new Map([...this.kept].map(([t, k]) => [t, k.highs.map((high, c) => Math.max(high, -k.lows[c], 0))] as const));
  }

  /**
   * What the rescaled model would have exposed over the samples kept, for the reductions of the pass (each tensor's
   * runs in order, to be divided by their channels' factors where they are folded — a half-exposed tensor's picks then
   * rounded to float16 —, and a half-exposed tensor's extent as [min, max]); the kept values are released.
   */
  updates(scales: ReadonlyMap<string, Float32Array>): RescaledUpdate[] {
    const updates: RescaledUpdate[] = [];
    for (const [t, kept] of this.kept) {
      const s = scales.get(t) ?? new Float32Array(kept.channels).fill(1);
      const { channels, inner, perSample } = kept;
      for (const run of kept.runs) {
        if (kept.half) {
          const picks = { offset: run.start % perSample, stride: kept.half.walk.stride };
          updates.push({ tensor: kept.half.values, data: run.data, dims: [run.data.length], divide: { factors: s, channels, inner, picks } });
        } else {
          updates.push({ tensor: t, data: run.data, dims: run.dims, divide: { factors: s, channels, inner } });
        }
      }
      if (kept.half && kept.runs.length > 0) {
        let [min, max] = [Infinity, -Infinity];
        for (let c = 0; c < kept.channels; c++) {
          min = Math.min(min, kept.lows[c] / s[c]);
          max = Math.max(max, kept.highs[c] / s[c]);
        }
        updates.push({ tensor: kept.half.extent, data: Float32Array.of(min, max), dims: [2] });
      }
      kept.runs = [];
    }
    return updates;
  }
}
