// Comparing a model's outputs with FP32, output by output, with the measure that fits each kind of output:
//  - classification [N, C] (or [N, C, 1, 1]): same top-1 class; top-1/top-5 against labels for the first output;
//  - map [N, C, H, W] with H×W > 1 (segmentation, probability maps): share of pixels with the same argmax over C, or
//    on the same side of the threshold when C = 1 (0.5 for probabilities in [0, 1], else 0 for logits);
//  - sequence [N, T, C] with T ≤ C (CTC / attention recognizers): share of steps with the same argmax over C;
//  - other (detection heads of many rows of few mixed attributes, regressions): no agreement, only SQNR/cosine/error.
// Accumulates batch by batch, so nothing is kept per sample.
import type { AccuracyResult, AgreementMeasure, Layout, OutputScore, TopK } from '../../common/report';
import { classifyOutput, type OutputShapeKind } from '../../data/output-kind';

export interface OutputArray { data: Float32Array; dims: readonly number[] }

export { classifyOutput, type OutputShapeKind } from '../../data/output-kind';

function argmaxAt(data: Float32Array, base: number, classes: number, stride: number): number {
  let best = 0;
  let bestValue = data[base];
  for (let k = 1; k < classes; k++) {
    const v = data[base + k * stride];
    if (v > bestValue) { bestValue = v; best = k; }
  }
  return best;
}

/** Indices of the k largest values, largest first. */
export function topK(values: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (best.length < k || values[i] > values[best[best.length - 1]]) {
      let pos = best.length < k ? best.length : k - 1;
      if (best.length < k) best.push(i);
      while (pos > 0 && values[best[pos - 1]] < values[i]) { best[pos] = best[pos - 1]; pos--; }
      best[pos] = i;
    }
  }
  return best;
}

interface Accumulator {
  name: string;
  shape: OutputShapeKind | null;
  dims: number[];
  samples: number;
  sqnrSum: number;
  cosineSum: number;
  maxAbs: number;
  agree: number;
  compared: number;
  /** Threshold of a one-class map (decided on the first batch). */
  threshold: number | null;
}

const round = (v: number, digits = 6) => Math.round(v * 10 ** digits) / 10 ** digits;

/** Label offset for classifiers with a background class (1001 outputs for 1000 labels, TF-slim style). */
function labelOffset(classes: number, maxLabel: number): number {
  return classes === 1001 && maxLabel < 1000 ? 1 : 0;
}

/**
 * FP32 vs INT8 scores, batch by batch. `add` takes both models' outputs for the same samples (same names) and the
 * samples' labels; `result` gives the Report's AccuracyResult with one OutputScore per output.
 */
export class OutputScorer {
  private readonly outputs: Accumulator[];
  private n = 0;
  private labels: (number | null)[] = [];
  private readonly pendingTop: { fp32: number[]; int8: number[] }[] = [];

  constructor(names: readonly string[], private readonly layout: Layout) {
    this.outputs = names.map((name) => ({ name, shape: null, dims: [], samples: 0, sqnrSum: 0, cosineSum: 0, maxAbs: 0, agree: 0, compared: 0, threshold: null }));
  }

  add(fp32: Record<string, OutputArray>, int8: Record<string, OutputArray>, labels: readonly (number | null)[], count: number): void {
    this.outputs.forEach((acc, index) => {
      const f = fp32[acc.name];
      const q = int8[acc.name];
      if (!f || !q || f.data.length !== q.data.length) {
        throw new Error(`output '${acc.name}': FP32 and INT8 disagree on its size (${f?.data.length} vs ${q?.data.length})`);
      }
      // Kind from the first batch; classes and positions from each batch (samples of their own size give maps of their own size).
      const shape = classifyOutput(f.dims, this.layout);
      acc.shape ??= shape;
      acc.dims = [...f.dims];
      const per = f.data.length / count;
      if (acc.shape.kind === 'map' && acc.shape.classes === 1 && acc.threshold === null) {
        let inUnit = true;
        for (let i = 0; i < f.data.length && inUnit; i++) inUnit = f.data[i] >= 0 && f.data[i] <= 1;
        acc.threshold = inUnit ? 0.5 : 0;
      }
      for (let s = 0; s < count; s++) {
        const base = s * per;
        let signal = 0, noise = 0, dot = 0, nq = 0;
        for (let i = base; i < base + per; i++) {
          const a = f.data[i];
          const b = q.data[i];
          const d = a - b;
          signal += a * a; noise += d * d; dot += a * b; nq += b * b;
          const ad = d < 0 ? -d : d;
          if (ad > acc.maxAbs) acc.maxAbs = ad;
        }
        acc.sqnrSum += noise === 0 ? 200 : signal === 0 ? -200 : Math.min(200, 10 * Math.log10(signal / noise));
        acc.cosineSum += signal === 0 || nq === 0 ? (signal === nq ? 1 : 0) : dot / Math.sqrt(signal * nq);
        acc.samples++;
        if (shape.kind === acc.shape.kind) this.compareArgmax(acc, shape, f.data, q.data, base, per);
        if (index === 0 && acc.shape.kind === 'classification') {
          const k = Math.min(5, acc.shape.classes);
          this.pendingTop.push({ fp32: topK(f.data.subarray(base, base + per), k), int8: topK(q.data.subarray(base, base + per), k) });
        }
      }
    });
    this.labels.push(...labels.slice(0, count));
    this.n += count;
  }

  private compareArgmax(acc: Accumulator, shape: OutputShapeKind, f: Float32Array, q: Float32Array, base: number, per: number): void {
    if (shape.kind === 'other') return;
    if (shape.classes === 1) {
      const t = acc.threshold ?? 0.5;
      for (let p = 0; p < per; p++) if ((f[base + p] > t) === (q[base + p] > t)) acc.agree++;
      acc.compared += per;
      return;
    }
    for (let p = 0; p < shape.positions; p++) {
      // Classes innermost ([N, T, C], NHWC maps, classification) or planes of H×W (NCHW maps).
      const at = shape.classStride === 1 ? base + p * shape.classes : base + p;
      if (argmaxAt(f, at, shape.classes, shape.classStride) === argmaxAt(q, at, shape.classes, shape.classStride)) acc.agree++;
    }
    acc.compared += shape.positions;
  }

  result(): AccuracyResult {
    const n = this.n;
    const first = this.outputs[0];
    const classifier = first?.shape?.kind === 'classification';
    const labelled = classifier && n > 0 && this.labels.every((l) => l !== null);
    let fp32Acc: TopK | null = null;
    let int8Acc: TopK | null = null;
    if (labelled) {
      const classes = first.shape!.classes;
      const offset = labelOffset(classes, Math.max(-1, ...this.labels.map((l) => l ?? -1)));
      const hits = { fp32: [0, 0], int8: [0, 0] };
      this.pendingTop.forEach((top, s) => {
        const target = (this.labels[s] as number) + offset;
        if (top.fp32[0] === target) hits.fp32[0]++;
        if (top.fp32.includes(target)) hits.fp32[1]++;
        if (top.int8[0] === target) hits.int8[0]++;
        if (top.int8.includes(target)) hits.int8[1]++;
      });
      const k = Math.min(5, classes);
      const acc = (h: number[]): TopK => ({ top1: h[0] / n, top5: k >= 5 ? h[1] / n : null });
      [fp32Acc, int8Acc] = [acc(hits.fp32), acc(hits.int8)];
    }
    const outputs = this.outputs.map((a) => this.score(a));
    const mean = (f: (o: OutputScore) => number) => (outputs.length ? outputs.reduce((s, o) => s + f(o), 0) / outputs.length : 0);
    return {
      n, labelled, fp32: fp32Acc, int8: int8Acc,
      agreement: classifier ? outputs[0].agreement : null,
      top1DropPoints: fp32Acc && int8Acc ? round((fp32Acc.top1 - int8Acc.top1) * 100) : null,
      outputSqnrDb: mean((o) => o.sqnrDb), outputCosine: mean((o) => o.cosine), outputs,
    };
  }

  private score(a: Accumulator): OutputScore {
    const kind = a.shape?.kind ?? 'other';
    const measure: AgreementMeasure | null = kind === 'classification' ? 'top-1 class'
      : kind === 'map' ? (a.shape!.classes === 1 ? 'pixels on the same side of the threshold' : 'pixels with the same class')
        : kind === 'sequence' ? 'steps with the same class' : null;
    return {
      name: a.name, kind, shape: a.dims.slice(1),
      sqnrDb: a.samples ? round(a.sqnrSum / a.samples, 3) : 0, cosine: a.samples ? round(a.cosineSum / a.samples) : 0,
      maxAbsError: round(a.maxAbs), agreement: measure && a.compared ? round(a.agree / a.compared) : null, agreementMeasure: measure,
      ...(a.threshold !== null ? { threshold: a.threshold } : {}),
    };
  }
}
