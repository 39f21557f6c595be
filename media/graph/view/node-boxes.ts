// What each node box says (op type, weights with shapes, kernel/stride, subgraphs) and how big it is.
import type { Dim, ViewNode } from '../../../src/graphmodel/types';

export const HEADER_HEIGHT = 22;
export const LINE_HEIGHT = 15;
export const PAD_X = 8;
export const MAX_WEIGHT_LINES = 4;
export const HEADER_FONT_PX = 12;
export const BODY_FONT_PX = 11;

export interface NodeBox {
  title: string;
  /** "int8" for nodes computing on quantized values. */
  badge?: string;
  lines: string[];
  width: number;
  height: number;
  /** Inputs and outputs are drawn as pills. */
  pill: boolean;
}

export function formatShape(shape: readonly Dim[] | undefined): string {
  if (!shape) return '';
  return shape.length === 0 ? 'scalar' : shape.join('×');
}

function shortName(name: string): string {
  const tail = name.split(/[/:]/).pop() ?? name;
  return tail.length > 18 ? `${tail.slice(0, 16)}…` : tail;
}

function attributeInts(node: ViewNode, name: string): number[] | undefined {
  const a = node.attributes.find((x) => x.name === name);
  if (!a) return undefined;
  const nums = a.value.match(/-?\d+/g);
  return nums ? nums.map(Number) : undefined;
}

function windowLine(node: ViewNode): string | undefined {
  const kernel = attributeInts(node, 'kernel_shape');
  if (!kernel) return undefined;
  const strides = attributeInts(node, 'strides');
  const group = attributeInts(node, 'group')?.[0];
  let text = kernel.join('×');
  if (strides && strides.some((s) => s !== 1)) text += ` /${strides.every((s) => s === strides[0]) ? strides[0] : strides.join(',')}`;
  if (group && group > 1) text += ` g${group}`;
  return text;
}

export function nodeLines(node: ViewNode): { title: string; badge?: string; lines: string[]; pill: boolean } {
  if (node.kind !== 'op') {
    const ref = node.kind === 'input' ? node.outputs[0] : node.inputs[0];
    const type = ref ? `${ref.dtype ?? ''}${ref.shape ? `[${ref.shape.join(',')}]` : ''}` : '';
    return { title: node.label, lines: type ? [type] : [], pill: true };
  }
  const lines: string[] = [];
  const window = windowLine(node);
  if (window) lines.push(window);
  const weights = node.inputs.filter((i) => i.constant && i.name);
  for (const w of weights.slice(0, MAX_WEIGHT_LINES)) {
    const label = w.param ?? shortName(w.name);
    const shape = formatShape(w.shape);
    lines.push(`${label}${shape ? ` ⟨${shape}⟩` : ''}${w.quant ? ` ${w.quant.storage}` : ''}`);
  }
  if (weights.length > MAX_WEIGHT_LINES) lines.push(`+${weights.length - MAX_WEIGHT_LINES} more`);
  if (node.subgraphs.length) lines.push(`▸ ${node.subgraphs.map((s) => s.attribute).join(', ')}`);
  const box: { title: string; badge?: string; lines: string[]; pill: boolean } = { title: node.opType, lines, pill: false };
  if (node.int8) box.badge = 'int8';
  return box;
}

export type Measure = (text: string, bold: boolean) => number;

/** A text measurer for node tests and workers: average glyph widths of the fonts used. */
export const estimateText: Measure = (text, bold) => text.length * (bold ? 7.2 : 6.6);

export function nodeBox(node: ViewNode, measure: Measure): NodeBox {
  const { title, badge, lines, pill } = nodeLines(node);
  let width = measure(title, true) + (badge ? measure(badge, false) + 14 : 0);
  for (const line of lines) width = Math.max(width, measure(line, false));
  width = Math.min(320, Math.max(pill ? 70 : 80, Math.ceil(width + 2 * PAD_X)));
  const height = pill ? HEADER_HEIGHT + (lines.length ? LINE_HEIGHT : 0) + 4 : HEADER_HEIGHT + lines.length * LINE_HEIGHT + (lines.length ? 5 : 0);
  const box: NodeBox = { title, lines, width, height, pill };
  if (badge) box.badge = badge;
  return box;
}

/** A canvas-backed measurer with a cache (op types and shapes repeat a lot). */
export function canvasMeasure(ctx: CanvasRenderingContext2D, headerFont: string, bodyFont: string): Measure {
  const cache = new Map<string, number>();
  return (text, bold) => {
    const key = `${bold ? 'b' : 'n'}${text}`;
    let w = cache.get(key);
    if (w === undefined) {
      ctx.font = bold ? headerFont : bodyFont;
      w = ctx.measureText(text).width;
      cache.set(key, w);
    }
    return w;
  };
}
