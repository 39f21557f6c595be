// What the opset converter knows about each tensor before it rewrites anything: element type and, where it can be
// told without running the model, the rank and dims. Read from value infos, initializers and Constant nodes, then
// carried through the graph op by op with the pre-13 meaning of each op. Best effort: unknown stays undefined, and
// adapters that need a fact they cannot get take the general (shape-agnostic) rewrite or refuse.
import { attr, attrInt, attrInts, Graph } from '../graph';
import { DataType, GraphProto, NodeProto, TensorProto, ValueInfoProto } from '../proto';
import { tensorToNumbers } from '../tensor';

export interface ValueFacts {
  elemType?: number;
  /** Known rank when defined; entries undefined where the dim is dynamic or unknown. */
  dims?: (number | undefined)[];
}

export type Facts = Map<string, ValueFacts>;

/** Element type of a Constant node's value, whichever value_* attribute holds it. */
export function constantTensor(node: NodeProto): TensorProto | undefined {
  const value = attr(node, 'value')?.t;
  if (value) return value;
  const empty = { float_data: [], int32_data: [], int64_data: [], double_data: [], uint64_data: [], string_data: [], external_data: [] };
  const a = node.attribute.find((x) => x.name === 'value_float' || x.name === 'value_floats' || x.name === 'value_int' || x.name === 'value_ints');
  if (!a) return undefined;
  if (a.name === 'value_float') return { ...empty, dims: [], data_type: DataType.FLOAT, float_data: [a.f ?? 0] };
  if (a.name === 'value_floats') return { ...empty, dims: [a.floats.length], data_type: DataType.FLOAT, float_data: [...a.floats] };
  if (a.name === 'value_int') return { ...empty, dims: [], data_type: DataType.INT64, int64_data: [a.i ?? 0] };
  return { ...empty, dims: [a.ints.length], data_type: DataType.INT64, int64_data: [...a.ints] };
}

function fromValueInfo(info: ValueInfoProto): ValueFacts {
  const tensor = info.type?.tensor_type;
  const facts: ValueFacts = {};
  if (tensor?.elem_type) facts.elemType = tensor.elem_type;
  if (tensor?.shape) facts.dims = tensor.shape.dim.map((d) => (d.dim_value !== undefined && d.dim_value > 0 ? d.dim_value : undefined));
  return facts;
}

const BOOL_OPS = new Set(['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OPS = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression']);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Greater', 'Less',
  'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Xor', 'Where', 'PRelu', 'Mod', 'BitShift']);
/** Output 0 has the shape of input 0. */
const SAME_SHAPE = new Set(['Abs', 'Acos', 'Acosh', 'Asin', 'Asinh', 'Atan', 'Atanh', 'BatchNormalization', 'Cast', 'Ceil',
  'Celu', 'Clip', 'Cos', 'Cosh', 'CumSum', 'DequantizeLinear', 'Dropout', 'Elu', 'Erf', 'Exp', 'Floor', 'Hardmax', 'HardSigmoid',
  'Identity', 'InstanceNormalization', 'IsInf', 'IsNaN', 'LeakyRelu', 'Log', 'LogSoftmax', 'LpNormalization', 'LRN',
  'MeanVarianceNormalization', 'Neg', 'Not', 'QuantizeLinear', 'Reciprocal', 'Relu', 'ReverseSequence', 'Round', 'Selu',
  'Shrink', 'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Softmax', 'Softplus', 'Softsign', 'Sqrt', 'Tan', 'Tanh', 'ThresholdedRelu',
  'ImageScaler', 'Scatter', 'ScatterElements', 'ScatterND']);
/** Output 0 has the rank of input 0, dims unknown. */
const SAME_RANK = new Set(['AveragePool', 'Conv', 'ConvInteger', 'ConvTranspose', 'DepthToSpace', 'GlobalAveragePool',
  'GlobalLpPool', 'GlobalMaxPool', 'LpPool', 'MaxPool', 'MaxUnpool', 'Pad', 'QLinearConv', 'Resize', 'Slice', 'SpaceToDepth',
  'Tile', 'TopK', 'Upsample', 'Split']);
const REDUCE = new Set(['ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin',
  'ReduceProd', 'ReduceSum', 'ReduceSumSquare', 'ArgMax', 'ArgMin']);

function unknownDims(rank: number | undefined): (number | undefined)[] | undefined {
  return rank === undefined || rank < 0 ? undefined : new Array<number | undefined>(rank).fill(undefined);
}

function broadcastDims(all: ((number | undefined)[] | undefined)[]): (number | undefined)[] | undefined {
  if (all.some((d) => d === undefined)) return undefined;
  const rank = Math.max(...all.map((d) => d!.length));
  const out: (number | undefined)[] = [];
  for (let i = 0; i < rank; i++) {
    const sizes = all.map((d) => d![d!.length - rank + i]).filter((_, k) => all[k]!.length - rank + i >= 0);
    // A known size above 1 is the result (any other size must be 1 or the same); otherwise unknown unless all are 1.
    const known = sizes.find((s) => s !== undefined && s !== 1);
    out.push(known ?? (sizes.every((s) => s === 1) ? 1 : undefined));
  }
  return out;
}

/** Infers facts for every tensor of `graph` (nodes in topological order), on top of `outer` (enclosing graphs). */
export function inferFacts(graph: GraphProto, opset: number, outer?: Facts): Facts {
  const facts: Facts = new Map(outer ?? []);
  const constants = new Map<string, TensorProto>();
  for (const t of graph.initializer) {
    if (!t.name) continue;
    facts.set(t.name, { elemType: t.data_type, dims: [...t.dims] });
    constants.set(t.name, t);
  }
  for (const info of [...graph.input, ...graph.value_info, ...graph.output]) {
    if (info.name && !constants.has(info.name)) facts.set(info.name, { ...facts.get(info.name), ...fromValueInfo(info) });
  }
  const dimsOf = (name: string | undefined) => (name ? facts.get(name)?.dims : undefined);
  const typeOf = (name: string | undefined) => (name ? facts.get(name)?.elemType : undefined);
  const ints = (name: string | undefined): number[] | undefined => {
    const t = name ? constants.get(name) : undefined;
    return t ? tensorToNumbers(t) : undefined;
  };
  for (const node of new Graph(graph).topologicalOrder()) {
    if (node.domain && node.domain !== 'ai.onnx') continue;
    const op = node.op_type ?? '';
    if (op === 'Constant') {
      const t = constantTensor(node);
      if (t && node.output[0]) {
        facts.set(node.output[0], { elemType: t.data_type, dims: [...t.dims] });
        constants.set(node.output[0], t);
      }
      continue;
    }
    const types = outputTypes(node, opset, typeOf);
    const dims = outputDims(node, opset, dimsOf, ints);
    node.output.forEach((out, i) => {
      if (!out) return;
      const known = facts.get(out) ?? {};
      const elemType = known.elemType ?? types[i];
      const d = known.dims ?? (i === 0 || op === 'Split' ? dims : undefined);
      facts.set(out, { ...(elemType ? { elemType } : {}), ...(d ? { dims: d } : {}) });
    });
  }
  return facts;
}

function outputTypes(node: NodeProto, opset: number, typeOf: (n: string | undefined) => number | undefined): (number | undefined)[] {
  const op = node.op_type ?? '';
  const first = typeOf(node.input[0]);
  const same = node.output.map(() => first);
  if (op === 'Cast') {
    const to = attr(node, 'to');
    return [to?.i ?? (to?.s ? castTypeFromName(Buffer.from(to.s).toString('utf8')) : undefined)];
  }
  if (BOOL_OPS.has(op)) return [DataType.BOOL];
  if (INT64_OPS.has(op)) return [DataType.INT64];
  switch (op) {
    case 'Where': return [typeOf(node.input[1])];
    case 'ConstantOfShape': return [attr(node, 'value')?.t?.data_type ?? DataType.FLOAT];
    case 'DequantizeLinear': return [DataType.FLOAT];
    case 'QuantizeLinear': return [typeOf(node.input[2]) ?? DataType.UINT8];
    case 'DynamicQuantizeLinear': return [DataType.UINT8, DataType.FLOAT, DataType.UINT8];
    case 'ConvInteger': case 'MatMulInteger': return [DataType.INT32];
    case 'QLinearConv': case 'QLinearMatMul': return [typeOf(node.input[7])];
    case 'TopK': return [first, DataType.INT64];
    case 'MaxPool': return [first, DataType.INT64];
    case 'Dropout': return [first, opset >= 10 ? DataType.BOOL : first];
    case 'Unique': return [first, DataType.INT64, DataType.INT64, DataType.INT64];
    case 'OneHot': return [typeOf(node.input[2])];
    case 'EyeLike': case 'RandomNormalLike': case 'RandomUniformLike': return [attr(node, 'dtype')?.i ?? first];
    case 'RandomNormal': case 'RandomUniform': return [attr(node, 'dtype')?.i ?? DataType.FLOAT];
    case 'Multinomial': return [attr(node, 'dtype')?.i ?? DataType.INT32];
    case 'If': case 'Loop': case 'Scan': case 'SequenceConstruct': case 'SplitToSequence': case 'SequenceEmpty': return [];
    default: return same;
  }
}

/** Dims of output 0 (all outputs for Split), from the op's pre-13 meaning. */
function outputDims(node: NodeProto, opset: number, dimsOf: (n: string | undefined) => (number | undefined)[] | undefined,
  ints: (n: string | undefined) => number[] | undefined): (number | undefined)[] | undefined {
  const op = node.op_type ?? '';
  const input = dimsOf(node.input[0]);
  const rank = input?.length;
  if (SAME_SHAPE.has(op)) return input;
  if (BROADCAST.has(op)) return broadcastDims(node.input.filter((i) => i).map((i) => dimsOf(i)));
  if (SAME_RANK.has(op)) return unknownDims(rank);
  if (REDUCE.has(op)) {
    if (rank === undefined) return undefined;
    const axes = op === 'ArgMax' || op === 'ArgMin' ? [attrInt(node, 'axis', 0)]
      : attrInts(node, 'axes') ?? (opset >= 13 && op === 'ReduceSum' ? ints(node.input[1]) : undefined);
    if (attrInt(node, 'keepdims', 1) === 1) return unknownDims(rank);
    return axes === undefined ? (op === 'ArgMax' || op === 'ArgMin' ? unknownDims(rank - 1) : []) : unknownDims(rank - new Set(axes).size);
  }
  switch (op) {
    case 'Flatten': {
      if (rank === undefined) return [undefined, undefined];
      const axis = attrInt(node, 'axis', 1);
      const cut = axis < 0 ? axis + rank : axis;
      const product = (d: (number | undefined)[]) => d.reduce<number | undefined>((a, b) => (a === undefined || b === undefined ? undefined : a * b), 1);
      return [product(input!.slice(0, cut)), product(input!.slice(cut))];
    }
    case 'Gemm': return [undefined, undefined];
    case 'MatMul': case 'MatMulInteger': case 'QLinearMatMul': {
      const other = dimsOf(node.input[op === 'QLinearMatMul' ? 3 : 1])?.length;
      if (rank === undefined || other === undefined) return undefined;
      if (rank === 1 && other === 1) return [];
      return unknownDims(rank === 1 ? other - 1 : other === 1 ? rank - 1 : Math.max(rank, other));
    }
    case 'Transpose': {
      if (!input) return undefined;
      const perm = attrInts(node, 'perm') ?? input.map((_, i) => input.length - 1 - i);
      return perm.map((p) => input[p]);
    }
    case 'Reshape': {
      const shape = ints(node.input[1]);
      if (!shape) return unknownDims(dimsOf(node.input[1])?.[0]);
      return shape.map((s, i) => (s > 0 ? s : s === 0 ? input?.[i] : undefined));
    }
    case 'Shape': return [rank];
    case 'Size': return [];
    case 'ConstantOfShape': case 'Expand': {
      const k = dimsOf(node.input[op === 'Expand' ? 1 : 0])?.[0];
      if (op === 'ConstantOfShape') return unknownDims(k);
      return rank === undefined || k === undefined ? undefined : unknownDims(Math.max(rank, k));
    }
    case 'Squeeze': case 'Unsqueeze': {
      const axes = attrInts(node, 'axes') ?? ints(node.input[1]);
      if (rank === undefined) return undefined;
      if (op === 'Unsqueeze') return axes ? unknownDims(rank + axes.length) : undefined;
      if (axes) return unknownDims(rank - axes.length);
      return input!.every((d) => d !== undefined) ? input!.filter((d) => d !== 1) : undefined;
    }
    case 'Concat': {
      const all = node.input.filter((i) => i).map((i) => dimsOf(i));
      const known = all.find((d) => d !== undefined);
      if (!known) return undefined;
      const axis = attrInt(node, 'axis', 0);
      const at = axis < 0 ? axis + known.length : axis;
      return known.map((_, i) => (i === at ? all.reduce<number | undefined>((a, d) => (a === undefined || !d || d[i] === undefined ? undefined : a + d[i]!), 0) : undefined));
    }
    case 'Gather': {
      const indices = dimsOf(node.input[1])?.length;
      return rank === undefined || indices === undefined ? undefined : unknownDims(rank + indices - 1);
    }
    case 'GatherElements': return dimsOf(node.input[1]);
    case 'NonZero': return unknownDims(2);
    case 'Range': return [undefined];
    case 'OneHot': {
      const r = dimsOf(node.input[0])?.length;
      return unknownDims(r === undefined ? undefined : r + 1);
    }
    default: return undefined;
  }
}

const CAST_NAMES: Record<string, number> = {
  FLOAT: DataType.FLOAT, UINT8: DataType.UINT8, INT8: DataType.INT8, UINT16: DataType.UINT16, INT16: DataType.INT16,
  INT32: DataType.INT32, INT64: DataType.INT64, STRING: DataType.STRING, BOOL: DataType.BOOL, FLOAT16: DataType.FLOAT16,
  DOUBLE: DataType.DOUBLE, UINT32: DataType.UINT32, UINT64: DataType.UINT64,
};

/** Cast-1's string `to` ("FLOAT", "int64", ...) as a DataType, or undefined. */
export function castTypeFromName(name: string): number | undefined {
  return CAST_NAMES[name.toUpperCase()];
}
