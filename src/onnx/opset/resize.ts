// Upsample (opsets 7-9, gone after 9) and Resize-10 become Resize-13 with the coordinate rule they had. Before
// opset 11 both map output pixel x to x / scale ("asymmetric"); in nearest mode ONNX Runtime then rounds down when a
// scale is ≥ 1 and up when it is < 1 (Upsample only allows scales ≥ 1, so always down). Resize-13 names these
// "asymmetric" + nearest_mode "floor"/"ceil". A Resize-10 that shrinks some axes and grows others becomes two Resizes
// (nearest is separable, and each axis keeps its size rule floor(scale × size)); with scales known only at run time
// the split is written with Where, so either case is exact.
import { attrString, makeNode } from '../graph';
import { stringAttribute } from '../build';
import { NodeProto } from '../proto';
import { tensorToFloat32 } from '../tensor';
import { Adapter, baseName, rebuilt, Rewriter } from './rewriter';

const MODE_ATTRIBUTES = ['mode', 'scales', 'coordinate_transformation_mode', 'nearest_mode'];

function resizeNode(node: NodeProto, x: string, scales: string, mode: string, nearest: 'floor' | 'ceil', output: string, name: string): NodeProto {
  const attributes = [stringAttribute('mode', mode), stringAttribute('coordinate_transformation_mode', 'asymmetric')];
  if (mode === 'nearest') attributes.push(stringAttribute('nearest_mode', nearest));
  return { ...rebuilt(node, { op: 'Resize', inputs: [x, '', scales], drop: MODE_ATTRIBUTES, add: attributes }), output: [output], name };
}

function modeOf(node: NodeProto, rw: Rewriter): string {
  const mode = attrString(node, 'mode') ?? 'nearest';
  if (mode === 'nearest' || mode === 'linear') return mode;
  if (mode === 'bilinear') return 'linear';
  return rw.fail(node, `mode '${mode}' has no Resize equivalent`);
}

export const upsampleToResize: Adapter = (node, rw) => {
  const mode = modeOf(node, rw);
  const listed = node.attribute.find((a) => a.name === 'scales');
  const scales = listed ? rw.floats(`${baseName(node)}_scales`, listed.floats) : node.input[1];
  if (!scales) return rw.fail(node, 'it has no scales');
  rw.note(`Upsample (${mode}) → Resize (asymmetric${mode === 'nearest' ? ', floor' : ''})`);
  return [resizeNode(node, node.input[0], scales, mode, 'floor', node.output[0], node.name ?? '')];
};

export const resize10To13: Adapter = (node, rw) => {
  if (rw.from >= 11) return null;
  const mode = modeOf(node, rw);
  const [x, scales] = node.input;
  const base = baseName(node);
  const out = node.output[0];
  if (mode !== 'nearest') {
    rw.note('Resize-10 (linear) → asymmetric');
    return [resizeNode(node, x, scales, mode, 'floor', out, node.name ?? '')];
  }
  const known = rw.constant(scales);
  if (known) {
    const values = Array.from(tensorToFloat32(known));
    if (values.every((s) => s >= 1) || values.every((s) => s <= 1)) {
      const rounding = values.every((s) => s >= 1) ? 'floor' : 'ceil';
      rw.note(`Resize-10 (nearest) → asymmetric, ${rounding}`);
      return [resizeNode(node, x, scales, mode, rounding, out, node.name ?? '')];
    }
    const shrink = rw.floats(`${base}_shrink_scales`, values.map((s) => (s < 1 ? s : 1)));
    const grow = rw.floats(`${base}_grow_scales`, values.map((s) => (s < 1 ? 1 : s)));
    const mid = rw.unique(`${base}_shrunk`);
    rw.note('Resize-10 (nearest, shrink and grow) → 2 Resizes (ceil, floor)');
    return [resizeNode(node, x, shrink, mode, 'ceil', mid, rw.unique(`${base}_shrink`)),
      resizeNode(node, mid, grow, mode, 'floor', out, node.name ?? '')];
  }
  // Scales known only at run time: shrink the axes whose scale is < 1 (rounding up), then grow the rest (down).
  const one = rw.floats(`${base}_one`, [1], []);
  const below = rw.unique(`${base}_scale_below_1`);
  const shrink = rw.unique(`${base}_shrink_scales`);
  const grow = rw.unique(`${base}_grow_scales`);
  const mid = rw.unique(`${base}_shrunk`);
  rw.note('Resize-10 (nearest, run-time scales) → 2 Resizes (ceil, floor)');
  return [
    makeNode('Less', [scales, one], [below], rw.unique(`${base}_less`)),
    makeNode('Where', [below, scales, one], [shrink], rw.unique(`${base}_where_shrink`)),
    makeNode('Where', [below, one, scales], [grow], rw.unique(`${base}_where_grow`)),
    resizeNode(node, x, shrink, mode, 'ceil', mid, rw.unique(`${base}_shrink`)),
    resizeNode(node, mid, grow, mode, 'floor', out, node.name ?? ''),
  ];
};
