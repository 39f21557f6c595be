// Adapters for ops whose attributes became inputs on the way to opset 13, with the same meaning: Slice and TopK
// (opset 10), Clip and Pad (11), Squeeze, Unsqueeze, Split and ReduceSum (13). The attribute values become int64 (or
// element-typed scalar) initializers with fresh names.
import { attrInts, attrString } from '../graph';
import { NodeProto } from '../proto';
import { Adapter, baseName, presentFloat, presentInt, rebuilt, Rewriter } from './rewriter';

/** Clip-6's bounds when an attribute is absent: the float range (ONNX Runtime's Clip-6 clamps to it). */
const FLOAT_MAX = 3.4028234663852886e38;

function requiredInts(node: NodeProto, rw: Rewriter, name: string): number[] {
  const values = attrInts(node, name);
  if (!values) return rw.fail(node, `its required attribute '${name}' is missing`);
  return values;
}

/** Moves the optional ints attribute `name` to input `index` (absent stays absent). */
function intsAttributeToInput(name: string, index: number, change: string, until: number): Adapter {
  return (node, rw) => {
    if (rw.from >= until) return null;
    const values = attrInts(node, name);
    const inputs = [...node.input];
    if (values) {
      while (inputs.length < index) inputs.push('');
      inputs[index] = rw.int64s(`${baseName(node)}_${name}`, values);
    }
    rw.note(change);
    return [rebuilt(node, { inputs, drop: [name] })];
  };
}

export const squeezeAxes = intsAttributeToInput('axes', 1, 'Squeeze axes → input', 13);
export const unsqueezeAxes = intsAttributeToInput('axes', 1, 'Unsqueeze axes → input', 13);
export const reduceSumAxes = intsAttributeToInput('axes', 1, 'ReduceSum axes → input', 13);
export const splitSizes = intsAttributeToInput('split', 1, 'Split sizes → input', 13);

export const sliceToInputs: Adapter = (node, rw) => {
  if (rw.from >= 10) return null;
  const base = baseName(node);
  const starts = rw.int64s(`${base}_starts`, requiredInts(node, rw, 'starts'));
  const ends = rw.int64s(`${base}_ends`, requiredInts(node, rw, 'ends'));
  const axes = attrInts(node, 'axes');
  rw.note('Slice attributes → inputs');
  return [rebuilt(node, { inputs: [node.input[0], starts, ends, ...(axes ? [rw.int64s(`${base}_axes`, axes)] : [])],
    drop: ['starts', 'ends', 'axes'] })];
};

export const topKToInput: Adapter = (node, rw) => {
  if (rw.from >= 10) return null;
  const k = presentInt(node, 'k');
  if (k === undefined) return rw.fail(node, "its required attribute 'k' is missing");
  rw.note('TopK k → input');
  return [rebuilt(node, { inputs: [node.input[0], rw.int64s(`${baseName(node)}_k`, [k])], drop: ['k'] })];
};

export const clipToInputs: Adapter = (node, rw) => {
  if (rw.from >= 11) return null;
  const x = node.input[0];
  const base = baseName(node);
  const min = rw.scalarLike(`${base}_min`, x, presentFloat(node, 'min') ?? -FLOAT_MAX, node, "'min'");
  const max = rw.scalarLike(`${base}_max`, x, presentFloat(node, 'max') ?? FLOAT_MAX, node, "'max'");
  rw.note('Clip attributes → inputs');
  return [rebuilt(node, { inputs: [x, min, max], drop: ['min', 'max'] })];
};

export const padToInputs: Adapter = (node, rw) => {
  if (rw.from >= 11) return null;
  const base = baseName(node);
  const pads = attrInts(node, 'pads') ?? attrInts(node, 'paddings');
  if (!pads) return rw.fail(node, "its required attribute 'pads' is missing");
  const inputs = [node.input[0], rw.int64s(`${base}_pads`, pads)];
  const value = presentFloat(node, 'value') ?? 0;
  const mode = attrString(node, 'mode') ?? 'constant';
  if (mode === 'constant' && value !== 0) inputs.push(rw.scalarLike(`${base}_value`, node.input[0], value, node, "'value'"));
  rw.note('Pad attributes → inputs');
  return [rebuilt(node, { inputs, drop: ['pads', 'paddings', 'value'] })];
};
