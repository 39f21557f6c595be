// Light shape inference for edge labels: most exporters (Keras converters, old PyTorch) write no value_info, so the
// viewer derives shapes for the common CNN/MLP operators. Unknown ops leave their outputs unknown; it never throws.
import { DataType, NodeProto } from '../onnx/proto';
import { Dim } from './types';

export interface TensorType { elemType?: number; shape?: Dim[] }

/** Tensor types of one scope, falling back to the enclosing scopes' (subgraphs read outer values). */
export class TypeTable {
  private readonly own = new Map<string, TensorType>();

  constructor(private readonly outer?: TypeTable) {}

  get(name: string): TensorType | undefined {
    return this.own.get(name) ?? this.outer?.get(name);
  }

  set(name: string, type: TensorType): void {
    this.own.set(name, type);
  }
}

type ConstLookup = (tensor: string) => number[] | undefined;

const utf8 = new TextDecoder();

function attr(node: NodeProto, name: string) {
  return node.attribute.find((a) => a.name === name);
}
function attrInt(node: NodeProto, name: string, fallback: number): number {
  return attr(node, name)?.i ?? fallback;
}
function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a && a.ints.length ? a.ints : undefined;
}
function attrTensorType(node: NodeProto): TensorType | undefined {
  const t = attr(node, 'value')?.t;
  return t ? { elemType: t.data_type, shape: [...t.dims] } : undefined;
}

function broadcast(shapes: (Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => !s)) return undefined;
  const rank = Math.max(...shapes.map((s) => (s as Dim[]).length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes as Dim[][]) {
      const d = s[s.length - rank + i];
      if (d === undefined || d === 1) continue;
      if (dim === 1) dim = d;
      else if (typeof dim === 'string' && typeof d === 'number') dim = d;
    }
    out.push(dim);
  }
  return out;
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function spatialOut(input: Dim, kernel: number, stride: number, padBegin: number, padEnd: number, dilation: number, ceil: boolean): Dim {
  if (typeof input !== 'number') return '?';
  const span = input + padBegin + padEnd - ((kernel - 1) * dilation + 1);
  return (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
}

/** Output spatial dims of Conv / pooling, honouring auto_pad. */
function windowShape(node: NodeProto, x: Dim[], kernel: number[], outChannels: Dim): Dim[] | undefined {
  const spatial = x.length - 2;
  if (spatial < 1 || kernel.length !== spatial) return undefined;
  const strides = attrInts(node, 'strides') ?? kernel.map(() => 1);
  const dilations = attrInts(node, 'dilations') ?? kernel.map(() => 1);
  const pads = attrInts(node, 'pads') ?? kernel.flatMap(() => [0, 0]);
  const autoPadBytes = attr(node, 'auto_pad')?.s;
  const autoPad = autoPadBytes ? utf8.decode(autoPadBytes) : '';
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  const out: Dim[] = [x[0], outChannels];
  for (let i = 0; i < spatial; i++) {
    const d = x[i + 2];
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') out.push(typeof d === 'number' ? Math.ceil(d / strides[i]) : '?');
    else if (autoPad === 'VALID') out.push(spatialOut(d, kernel[i], strides[i], 0, 0, dilations[i], false));
    else out.push(spatialOut(d, kernel[i], strides[i], pads[i] ?? 0, pads[i + spatial] ?? 0, dilations[i], ceil));
  }
  return out;
}

const SAME_SHAPE = new Set(`Relu LeakyRelu PRelu Sigmoid HardSigmoid Tanh Softmax LogSoftmax Softplus Softsign Elu Selu
  Celu HardSwish Gelu Clip Dropout Identity Erf Sqrt Exp Log Abs Neg Reciprocal Floor Ceil Round Sign Sin Cos
  BatchNormalization InstanceNormalization LayerNormalization GroupNormalization LRN Mish Hardmax Not IsNaN IsInf
  CumSum Shrink ThresholdedRelu MeanVarianceNormalization LpNormalization`.split(/\s+/).filter(Boolean));
const BROADCAST = new Set('Add Sub Mul Div Pow Max Min Mean Sum Mod And Or Xor Equal Greater GreaterOrEqual Less LessOrEqual Where PRelu BitShift'.split(' '));
const BOOL_OUT = new Set('Equal Greater GreaterOrEqual Less LessOrEqual And Or Xor Not IsNaN IsInf'.split(' '));

/** Infers output types of one node from its input types; returns one entry per output (undefined when unknown). */
function inferNode(node: NodeProto, typeOf: (t: string) => TensorType | undefined, constOf: ConstLookup): (TensorType | undefined)[] {
  const op = node.op_type ?? '';
  const ins = node.input.map((i) => (i ? typeOf(i) : undefined));
  const x = ins[0];
  const xs = x?.shape;
  const same = (elemType = x?.elemType): TensorType[] => [{ elemType, shape: xs }];
  if (op === 'Constant') { const t = attrTensorType(node); return t ? [t] : []; }
  if (SAME_SHAPE.has(op) && !BROADCAST.has(op)) return same(BOOL_OUT.has(op) ? DataType.BOOL : x?.elemType);
  if (BROADCAST.has(op)) {
    const operands = op === 'Where' ? ins.slice(0, 3) : ins;
    const elemType = BOOL_OUT.has(op) ? DataType.BOOL : (op === 'Where' ? ins[1]?.elemType : x?.elemType);
    return [{ elemType, shape: broadcast(operands.map((t) => t?.shape)) }];
  }
  if (op === 'QuantizeLinear') {
    const zp = ins[2]?.elemType;
    const outType = attr(node, 'output_dtype')?.i;
    return [{ elemType: outType || zp || DataType.UINT8, shape: xs }];
  }
  if (op === 'DequantizeLinear') return [{ elemType: ins[1]?.elemType ?? DataType.FLOAT, shape: xs }];
  if (op === 'Cast') return [{ elemType: attrInt(node, 'to', 0) || undefined, shape: xs }];
  if (!xs) return [];
  const rank = xs.length;
  switch (op) {
    case 'Conv': case 'ConvInteger': {
      const w = ins[1]?.shape;
      const kernel = attrInts(node, 'kernel_shape') ?? (w ? w.slice(2).map((d) => (typeof d === 'number' ? d : 1)) : undefined);
      if (!kernel) return [];
      return [{ elemType: op === 'ConvInteger' ? DataType.INT32 : x?.elemType, shape: windowShape(node, xs, kernel, w ? w[0] : '?') }];
    }
    case 'MaxPool': case 'AveragePool': case 'LpPool': {
      const kernel = attrInts(node, 'kernel_shape');
      if (!kernel) return [];
      const shape = windowShape(node, xs, kernel, xs[1]);
      return node.output.length > 1 ? [{ elemType: x?.elemType, shape }, { elemType: DataType.INT64, shape }] : [{ elemType: x?.elemType, shape }];
    }
    case 'GlobalAveragePool': case 'GlobalMaxPool': case 'GlobalLpPool':
      return [{ elemType: x?.elemType, shape: xs.map((d, i) => (i < 2 ? d : 1)) }];
    case 'Flatten': {
      const axis = normAxis(attrInt(node, 'axis', 1), rank);
      const prod = (dims: Dim[]): Dim => dims.reduce<Dim>((p, d) => (typeof p === 'number' && typeof d === 'number' ? p * d : '?'), 1);
      return [{ elemType: x?.elemType, shape: [prod(xs.slice(0, axis)), prod(xs.slice(axis))] }];
    }
    case 'Gemm': {
      const b = ins[1]?.shape;
      const m = attrInt(node, 'transA', 0) ? xs[1] : xs[0];
      const n = b ? (attrInt(node, 'transB', 0) ? b[0] : b[1]) : '?';
      return [{ elemType: x?.elemType, shape: [m, n] }];
    }
    case 'MatMul': case 'MatMulInteger': {
      const b = ins[1]?.shape;
      if (!b || rank < 1 || b.length < 1) return [];
      const a2 = rank === 1 ? [1, xs[0]] : xs;
      const b2 = b.length === 1 ? [b[0], 1] : b;
      const batch = broadcast([a2.slice(0, -2), b2.slice(0, -2)]) ?? [];
      const shape: Dim[] = [...batch];
      if (rank > 1) shape.push(a2[a2.length - 2]);
      if (b.length > 1) shape.push(b2[b2.length - 1]);
      return [{ elemType: op === 'MatMulInteger' ? DataType.INT32 : x?.elemType, shape }];
    }
    case 'Transpose': {
      const perm = attrInts(node, 'perm') ?? xs.map((_, i) => rank - 1 - i);
      return [{ elemType: x?.elemType, shape: perm.map((p) => xs[p] ?? '?') }];
    }
    case 'Reshape': {
      const target = constOf(node.input[1]);
      if (!target) return [];
      const allowZero = attrInt(node, 'allowzero', 0) === 1;
      const shape: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? xs[i] ?? '?' : d));
      const minus = shape.indexOf(-1);
      if (minus >= 0) {
        // Dims copied with 0 cancel out, so symbolic batch sizes do not stop the inference.
        const copied = new Set(target.flatMap((d, i) => (d === 0 && !allowZero && i < xs.length ? [i] : [])));
        const product = (dims: Dim[], skip: (i: number) => boolean) => dims.reduce<number | undefined>(
          (p, d, i) => (skip(i) ? p : p !== undefined && typeof d === 'number' ? p * d : undefined), 1);
        const total = product(xs, (i) => copied.has(i));
        const known = product(shape, (i) => i === minus || copied.has(i));
        shape[minus] = total !== undefined && known ? total / known : '?';
      }
      return [{ elemType: x?.elemType, shape }];
    }
    case 'Squeeze': {
      const axes = (attrInts(node, 'axes') ?? constOf(node.input[1]))?.map((a) => normAxis(a, rank));
      return [{ elemType: x?.elemType, shape: axes ? xs.filter((_, i) => !axes.includes(i)) : xs.filter((d) => d !== 1) }];
    }
    case 'Unsqueeze': {
      const axes = attrInts(node, 'axes') ?? constOf(node.input[1]);
      if (!axes) return [];
      const outRank = rank + axes.length;
      const norm = axes.map((a) => normAxis(a, outRank));
      const shape: Dim[] = [];
      let next = 0;
      for (let i = 0; i < outRank; i++) shape.push(norm.includes(i) ? 1 : xs[next++]);
      return [{ elemType: x?.elemType, shape }];
    }
    case 'Concat': {
      const axis = normAxis(attrInt(node, 'axis', 0), rank);
      const shapes = ins.map((t) => t?.shape);
      if (shapes.some((s) => !s)) return [];
      const sum = (shapes as Dim[][]).reduce<Dim>((p, s) => (typeof p === 'number' && typeof s[axis] === 'number' ? p + (s[axis] as number) : '?'), 0);
      return [{ elemType: x?.elemType, shape: xs.map((d, i) => (i === axis ? sum : d)) }];
    }
    case 'Pad': {
      const pads = attrInts(node, 'pads') ?? constOf(node.input[1]);
      if (!pads || pads.length !== 2 * rank) return [];
      return [{ elemType: x?.elemType, shape: xs.map((d, i) => (typeof d === 'number' ? d + pads[i] + pads[i + rank] : d)) }];
    }
    case 'ReduceMean': case 'ReduceSum': case 'ReduceMax': case 'ReduceMin': case 'ReduceProd': case 'ReduceL2':
    case 'ReduceL1': case 'ReduceSumSquare': case 'ReduceLogSumExp': case 'ArgMax': case 'ArgMin': {
      const axes = (attrInts(node, 'axes') ?? (op.startsWith('Arg') ? [attrInt(node, 'axis', 0)] : constOf(node.input[1])))
        ?.map((a) => normAxis(a, rank)) ?? xs.map((_, i) => i);
      const keep = attrInt(node, 'keepdims', 1) === 1;
      const shape = keep ? xs.map((d, i) => (axes.includes(i) ? 1 : d)) : xs.filter((_, i) => !axes.includes(i));
      return [{ elemType: op.startsWith('Arg') ? DataType.INT64 : x?.elemType, shape }];
    }
    case 'Shape': return [{ elemType: DataType.INT64, shape: [rank] }];
    case 'Size': return [{ elemType: DataType.INT64, shape: [] }];
    case 'Resize': case 'Upsample': {
      const sizes = constOf(node.input[3]);
      if (sizes && sizes.length === rank) return [{ elemType: x?.elemType, shape: sizes }];
      const scales = constOf(node.input[op === 'Upsample' ? 1 : 2]);
      if (scales && scales.length === rank) {
        return [{ elemType: x?.elemType, shape: xs.map((d, i) => (typeof d === 'number' ? Math.floor(d * scales[i]) : d)) }];
      }
      return [];
    }
    default: return [];
  }
}

/**
 * Fills `types` (tensor -> type, already holding inputs, initializers and value_info) with inferred types for the
 * outputs of `nodes`, visited in the given order (topological for valid ONNX). Existing entries win.
 */
export function inferShapes(nodes: readonly NodeProto[], types: TypeTable, constOf: ConstLookup): void {
  for (const node of nodes) {
    let outs: (TensorType | undefined)[] = [];
    try {
      outs = inferNode(node, (t) => types.get(t), constOf);
    } catch {
      outs = [];
    }
    node.output.forEach((name, i) => {
      if (!name) return;
      const known = types.get(name);
      const inferred = outs[i];
      if (!inferred) return;
      if (!known) types.set(name, inferred);
      else if (!known.shape && inferred.shape) types.set(name, { elemType: known.elemType ?? inferred.elemType, shape: inferred.shape });
      else if (known.elemType === undefined && inferred.elemType !== undefined) types.set(name, { ...known, elemType: inferred.elemType });
    });
  }
}
