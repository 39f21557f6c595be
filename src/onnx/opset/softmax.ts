// Softmax, LogSoftmax and Hardmax before opset 13 "coerce the input to 2-D": the input is flattened at `axis`
// (default 1) and the op runs over everything from `axis` to the end. From opset 13 the op runs over one axis
// (default -1). When `axis` is the last one the two meanings agree; otherwise the old meaning is written out exactly
// as Flatten(axis) → op(axis -1) → Reshape back to the input's shape (a constant shape when every dim is known, the
// input's Shape at run time when not).
import { intAttribute, makeNode } from '../graph';
import { Adapter, baseName, presentInt, rebuilt } from './rewriter';

export const coercedTo2d: Adapter = (node, rw) => {
  if (rw.from >= 13) return null;
  const op = node.op_type ?? '';
  const axis = presentInt(node, 'axis') ?? 1;
  const x = node.input[0];
  const dims = rw.factsOf(x).dims;
  const rank = dims?.length;
  const normalized = rank !== undefined && axis < 0 ? axis + rank : axis;
  if (axis === -1 || (rank !== undefined && normalized === rank - 1)) {
    // Same meaning at 13; the axis is written explicitly because the default changed from 1 to -1.
    return [rebuilt(node, { drop: ['axis'], add: [intAttribute('axis', -1)] })];
  }
  const base = baseName(node);
  const flat = rw.unique(`${base}_2d`);
  const result2d = rw.unique(`${base}_2d_out`);
  const nodes = [
    makeNode('Flatten', [x], [flat], rw.unique(`${base}_flatten`), [intAttribute('axis', axis)]),
    { ...rebuilt(node, { inputs: [flat], drop: ['axis'], add: [intAttribute('axis', -1)] }), output: [result2d] },
  ];
  let shape: string;
  if (dims && dims.every((d) => d !== undefined)) {
    shape = rw.int64s(`${base}_shape`, dims as number[]);
  } else {
    shape = rw.unique(`${base}_input_shape`);
    nodes.push(makeNode('Shape', [x], [shape], rw.unique(`${base}_shape`)));
  }
  nodes.push(makeNode('Reshape', [result2d, shape], [node.output[0]], rw.unique(`${base}_reshape`)));
  rw.note(`${op} coerced 2-D → Flatten+${op}+Reshape`);
  return nodes;
};
