// What kind of output a tensor is, from its shape (batch first): classification [N, C] (or [N, C, 1, 1]); map
// [N, C, H, W] with H×W > 1; sequence [N, T, C] with T ≤ C; other. Pure: the model description (src/data) names each
// output's kind from its declared shape, and evaluation (src/engine/runtime/output-scores.ts) picks the measure.
import type { Layout, OutputKind } from '../common/report';

export interface OutputShapeKind {
  kind: OutputKind;
  /** Classes (C) for classification, map, sequence. */
  classes: number;
  /** Positions per sample compared by argmax: 1 (classification), H×W (map), T (sequence). */
  positions: number;
  /** Distance between two classes of one position in the flat sample (1 when classes are innermost). */
  classStride: number;
}

/** What kind of output a tensor of these dims (batch first) is, for a model whose input has `layout`. */
export function classifyOutput(dims: readonly number[], layout: Layout): OutputShapeKind {
  const other: OutputShapeKind = { kind: 'other', classes: 0, positions: 0, classStride: 1 };
  const [, a, b, c] = dims;
  if (dims.length === 2) return a > 1 ? { kind: 'classification', classes: a, positions: 1, classStride: 1 } : other;
  if (dims.length === 3) return a <= b && b > 1 ? { kind: 'sequence', classes: b, positions: a, classStride: 1 } : other;
  if (dims.length === 4) {
    const [channels, h, w] = layout === 'NHWC' ? [c, a, b] : [a, b, c];
    if (h * w === 1) return channels > 1 ? { kind: 'classification', classes: channels, positions: 1, classStride: 1 } : other;
    return layout === 'NHWC'
      ? { kind: 'map', classes: channels, positions: h * w, classStride: 1 }
      : { kind: 'map', classes: channels, positions: h * w, classStride: h * w };
  }
  return other;
}

/**
 * The kind of a declared output shape: a 4-D output whose height or width is free is a map; otherwise free dims
 * (names, '?') decide nothing, so an output whose kind depends on them is 'other' until evaluation sees real dims.
 */
export function outputKindOfShape(shape: readonly (number | string)[] | null, layout: Layout): OutputKind {
  if (!shape) return 'other';
  const dims = shape.map((d) => (typeof d === 'number' && d > 0 ? d : NaN));
  if (dims.length === 4) {
    const [h, w] = layout === 'NHWC' ? [dims[1], dims[2]] : [dims[2], dims[3]];
    if (Number.isNaN(h) || Number.isNaN(w)) return 'map';
  }
  return classifyOutput(dims, layout).kind;
}
