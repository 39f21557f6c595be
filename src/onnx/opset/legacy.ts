// Adapters for legacy attributes and renamed ops: BatchNormalization's spatial/is_test/consumed_inputs, Dropout's
// ratio attribute (an input from opset 12) and old mask type, Gemm's broadcast flag, Cast's string `to`, Scatter
// (ScatterElements from opset 11) and the experimental ImageScaler (dropped at opset 10) as Mul + Add.
import { attr, attrString, makeNode } from '../graph';
import { DataType, NodeProto } from '../proto';
import { castTypeFromName } from './facts';
import { Adapter, baseName, presentFloat, presentInt, rebuilt, Rewriter } from './rewriter';

const LEGACY_BN = ['is_test', 'consumed_inputs', 'spatial'];

/** Whether any node or graph output reads `tensor`. */
export type TensorReaders = (tensor: string) => boolean;

export function batchNormalization(isRead: TensorReaders): Adapter {
  return (node, rw) => {
    const present = node.attribute.filter((a) => LEGACY_BN.includes(a.name ?? ''));
    if (present.length === 0) return null;
    if (rw.from < 9 && presentInt(node, 'spatial') === 0) return perActivation(node, rw, isRead);
    rw.note('BatchNormalization legacy attributes dropped');
    return [rebuilt(node, { drop: LEGACY_BN })];
  };
}

/** spatial = 0: statistics per activation (shape C×D1×…), written out as y = (x − mean) / √(var + ε) · scale + B. */
function perActivation(node: NodeProto, rw: Rewriter, isRead: TensorReaders): NodeProto[] {
  if (node.output.slice(1).some((o) => o && isRead(o))) return rw.fail(node, 'its training outputs (mean, variance) are used');
  const [x, scale, bias, mean, variance] = node.input;
  const base = baseName(node);
  const epsilon = rw.scalarLike(`${base}_epsilon`, x, presentFloat(node, 'epsilon') ?? 1e-5, node, 'epsilon');
  const t = (suffix: string) => rw.unique(`${base}_${suffix}`);
  const [centred, varEps, std, normalized, scaled] = ['centred', 'var_eps', 'std', 'normalized', 'scaled'].map(t);
  rw.note('BatchNormalization spatial=0 → Sub/Div/Mul/Add');
  return [
    makeNode('Sub', [x, mean], [centred], t('sub')),
    makeNode('Add', [variance, epsilon], [varEps], t('add_eps')),
    makeNode('Sqrt', [varEps], [std], t('sqrt')),
    makeNode('Div', [centred, std], [normalized], t('div')),
    makeNode('Mul', [normalized, scale], [scaled], t('mul')),
    makeNode('Add', [scaled, bias], [node.output[0]], node.name || t('add')),
  ];
}

export function dropout(isRead: TensorReaders): Adapter {
  return (node, rw) => {
    if (rw.from >= 12) return null;
    const mask = node.output[1];
    let outputs = [...node.output];
    if (mask && rw.from < 10) {
      // Before opset 10 the mask had the data's type; from 10 it is bool.
      if (isRead(mask)) return rw.fail(node, 'its mask output is used, and its type changed from the data type to bool at opset 10');
      outputs = [node.output[0]];
    }
    const ratio = presentFloat(node, 'ratio');
    const legacy = node.attribute.some((a) => a.name === 'is_test' || a.name === 'consumed_inputs');
    if (ratio === undefined && !legacy && outputs.length === node.output.length) return null;
    const inputs = [node.input[0], ...(ratio !== undefined ? [rw.floats(`${baseName(node)}_ratio`, [ratio], [])] : [])];
    rw.note('Dropout ratio → input');
    return [{ ...rebuilt(node, { inputs, drop: ['ratio', 'is_test', 'consumed_inputs'] }), output: outputs }];
  };
}

export const gemmBroadcast: Adapter = (node, rw) => {
  if (!attr(node, 'broadcast')) return null;
  rw.note('Gemm broadcast attribute dropped');
  return [rebuilt(node, { drop: ['broadcast'] })];
};

export const castTo: Adapter = (node, rw) => {
  const to = attr(node, 'to');
  if (!to || to.i !== undefined || !to.s) return null;
  const name = attrString(node, 'to') ?? '';
  const type = castTypeFromName(name);
  if (type === undefined) return rw.fail(node, `its target type '${name}' is not an ONNX type name`);
  rw.note('Cast string `to` → type number');
  return [rebuilt(node, { drop: ['to'], add: [{ name: 'to', type: 2, i: type, floats: [], ints: [], strings: [], tensors: [], graphs: [] }] })];
};

export const scatterElements: Adapter = (node, rw) => {
  rw.note('Scatter → ScatterElements');
  return [rebuilt(node, { op: 'ScatterElements' })];
};

export const imageScaler: Adapter = (node, rw) => {
  const x = node.input[0];
  const base = baseName(node);
  const scale = presentFloat(node, 'scale') ?? 1;
  const bias = attr(node, 'bias')?.floats ?? [];
  if (rw.factsOf(x).elemType !== DataType.FLOAT) return rw.fail(node, `its input '${x}' is not known to be float32`);
  const scaleName = rw.floats(`${base}_scale`, [scale], []);
  rw.note('ImageScaler → Mul+Add');
  if (bias.length === 0) return [makeNode('Mul', [x, scaleName], [node.output[0]], node.name ?? '')];
  const scaled = rw.unique(`${base}_scaled`);
  const biasName = rw.floats(`${base}_bias`, bias, [bias.length, 1, 1]);
  return [
    makeNode('Mul', [x, scaleName], [scaled], rw.unique(`${base}_mul`)),
    makeNode('Add', [scaled, biasName], [node.output[0]], node.name ?? ''),
  ];
};
