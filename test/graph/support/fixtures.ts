// Models built in code for the graph viewer tests: a small QDQ network, a QDQ version of any FP32 CNN, a model with
// If/Loop bodies and a function, and the generated 10,000-node model of the benchmark.
import { AttributeProto, AttributeType, DataType, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from '../../../src/onnx/proto';
import { Graph, intAttribute, makeNode } from '../../../src/onnx/graph';
import { makeTensor, tensorToFloat32 } from '../../../src/onnx/tensor';
import type { Report } from '../../../src/common/report';

export function valueInfo(name: string, elemType: number, dims: (number | string)[]): ValueInfoProto {
  return {
    name,
    type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}

export function graphProto(name: string, nodes: NodeProto[], inputs: ValueInfoProto[], outputs: ValueInfoProto[], initializer: TensorProto[] = []): GraphProto {
  return { name, node: nodes, input: inputs, output: outputs, initializer, sparse_initializer: [], value_info: [], quantization_annotation: [] };
}

export function modelProto(graph: GraphProto, extra: Partial<ModelProto> = {}): ModelProto {
  return {
    ir_version: 8, opset_import: [{ domain: '', version: 17 }], producer_name: 'octet-test', graph, metadata_props: [],
    training_info: [], functions: [], ...extra,
  };
}

export function graphAttribute(name: string, g: GraphProto): AttributeProto {
  return { name, type: AttributeType.GRAPH, g, floats: [], ints: [], strings: [], tensors: [], graphs: [] };
}

export function intsAttribute(name: string, values: number[]): AttributeProto {
  return { name, type: AttributeType.INTS, ints: values, floats: [], strings: [], tensors: [], graphs: [] };
}

function randomWeights(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) - 0.5) * 0.2;
  }
  return out;
}

/** input -> Conv(W,B) -> Relu -> Conv -> Add(skip) -> output, FP32, with value_info-free shapes. */
export function smallCnn(): ModelProto {
  const init = [
    makeTensor('w1', [8, 3, 3, 3], randomWeights(8 * 27, 1)), makeTensor('b1', [8], randomWeights(8, 2)),
    makeTensor('w2', [8, 8, 3, 3], randomWeights(8 * 72, 3)), makeTensor('b2', [8], randomWeights(8, 4)),
  ];
  const pads = intsAttribute('pads', [1, 1, 1, 1]);
  const kernel = intsAttribute('kernel_shape', [3, 3]);
  const nodes = [
    makeNode('Conv', ['x', 'w1', 'b1'], ['c1'], 'conv1', [kernel, pads]),
    makeNode('Relu', ['c1'], ['r1'], 'relu1'),
    makeNode('Conv', ['r1', 'w2', 'b2'], ['c2'], 'conv2', [kernel, pads]),
    makeNode('Add', ['c2', 'r1'], ['y'], 'add1'),
  ];
  return modelProto(graphProto('small', nodes, [valueInfo('x', DataType.FLOAT, ['N', 3, 16, 16])], [valueInfo('y', DataType.FLOAT, ['N', 8, 16, 16])], init));
}

/**
 * A QDQ model in ONNX Runtime's layout from an FP32 one: every Conv/Gemm/MatMul gets per-channel int8 weights and
 * an int32 bias behind DequantizeLinear, and its activation input goes through QuantizeLinear -> DequantizeLinear
 * (uint8). Scales are rough (max |w| / 127; activations 0.05): fine for viewing, not for accuracy.
 */
export function toQdq(fp32: ModelProto): ModelProto {
  const model = structuredClone(fp32) as ModelProto;
  const graph = new Graph(model.graph as GraphProto);
  const added: { before: NodeProto; nodes: NodeProto[] }[] = [];
  for (const node of [...graph.nodes]) {
    if (!['Conv', 'Gemm', 'MatMul'].includes(node.op_type ?? '')) continue;
    const label = node.name || node.output[0];
    const created: NodeProto[] = [];
    const x = node.input[0];
    if (x && !graph.isConstant(x)) {
      const scale = graph.uniqueName(`${x}_scale`);
      const zp = graph.uniqueName(`${x}_zero_point`);
      graph.addInitializer(makeTensor(scale, [], Float32Array.of(0.05)));
      graph.addInitializer(makeTensor(zp, [], Uint8Array.of(128)));
      const q = graph.uniqueName(`${x}_QuantizeLinear`);
      const dq = graph.uniqueName(`${x}_DequantizeLinear_${label}`);
      const qOut = graph.uniqueName(`${x}_quantized`);
      const dqOut = graph.uniqueName(`${x}_dequantized_${label}`);
      created.push(makeNode('QuantizeLinear', [x, scale, zp], [qOut], q), makeNode('DequantizeLinear', [qOut, scale, zp], [dqOut], dq));
      node.input[0] = dqOut;
    }
    const wName = node.input[1];
    const w = wName ? graph.initializers.get(wName) : undefined;
    if (w && w.dims.length >= 1) {
      const values = tensorToFloat32(w);
      const channels = node.op_type === 'Conv' ? w.dims[0] : 1;
      const inner = values.length / channels;
      const scales = new Float32Array(channels);
      const q = new Int8Array(values.length);
      for (let c = 0; c < channels; c++) {
        let max = 1e-8;
        for (let i = 0; i < inner; i++) max = Math.max(max, Math.abs(values[c * inner + i]));
        scales[c] = max / 127;
        for (let i = 0; i < inner; i++) q[c * inner + i] = Math.round(values[c * inner + i] / scales[c]);
      }
      const qName = graph.uniqueName(`${wName}_quantized`);
      const sName = graph.uniqueName(`${wName}_scale`);
      const zName = graph.uniqueName(`${wName}_zero_point`);
      const perChannel = channels > 1;
      graph.addInitializer(makeTensor(qName, w.dims, q));
      graph.addInitializer(makeTensor(sName, perChannel ? [channels] : [], perChannel ? scales : Float32Array.of(scales[0])));
      graph.addInitializer(makeTensor(zName, perChannel ? [channels] : [], perChannel ? new Int8Array(channels) : Int8Array.of(0)));
      const dqOut = graph.uniqueName(`${wName}_DequantizeLinear_Output`);
      created.push(makeNode('DequantizeLinear', [qName, sName, zName], [dqOut], graph.uniqueName(`${wName}_DequantizeLinear`), perChannel ? [intAttribute('axis', 0)] : []));
      node.input[1] = dqOut;
    }
    added.push({ before: node, nodes: created });
  }
  const order: NodeProto[] = [];
  for (const node of graph.nodes) {
    const extra = added.find((a) => a.before === node);
    if (extra) order.push(...extra.nodes);
    order.push(node);
  }
  graph.proto.node = order;
  graph.removeUnusedInitializers();
  model.producer_name = 'octet-test-qdq';
  return model;
}

/** A Report-shaped object with per-layer SQNR for the named nodes (descending quality along the list). */
export function fakeReport(nodes: { name: string; opType: string; tensor: string }[]): Pick<Report, 'layers' | 'accuracy'> {
  return {
    layers: nodes.map((n, i) => ({
      node: n.name, opType: n.opType, tensor: n.tensor, shape: [], sqnrDb: 45 - (i * 37) / Math.max(1, nodes.length - 1),
      cosine: 0.999, maxAbsError: 0.01 * (i + 1), clippedRatio: 0.0001 * i, scale: 0.05, zeroPoint: 128, method: 'minmax',
    })),
    accuracy: { n: 100, labelled: true, fp32: { top1: 0.9, top5: 0.98 }, int8: { top1: 0.895, top5: 0.98 }, agreement: 0.97, top1DropPoints: 0.5, outputSqnrDb: 24.5, outputCosine: 0.998 },
  };
}

/**
 * A time profile (and speed-aware choice) of the named nodes, as the report of a batch-1 one-thread run would hold it:
 * convs take 0.4–2 ms in FP32 (FusedConv) and a third of that in INT8 (QLinearConv); Relus run inside the conv
 * (no time of their own); other ops take 0.03 ms. `slow` is slower in INT8 with Q/DQ at its borders, and the
 * speed-aware choice kept it in float. A rendering input, not engine output.
 */
export function fakeProfile(nodes: { name: string; opType: string }[], slow: string): Pick<Report, 'profile' | 'speed'> {
  const convs = nodes.filter((n) => n.opType === 'Conv');
  const timings = nodes.map((n) => {
    if (n.name === slow) return { node: n.name, opType: n.opType, fp32Ms: 0.52, int8Ms: 0.49, fp32Kernels: ['FusedConv'], int8Kernels: ['FusedConv'], overheadMs: 0.16 };
    if (n.opType === 'Conv') {
      const fp32Ms = 0.4 + (1.6 * convs.indexOf(n)) / Math.max(1, convs.length - 1);
      return { node: n.name, opType: n.opType, fp32Ms, int8Ms: fp32Ms / 3, fp32Kernels: ['FusedConv'], int8Kernels: ['QLinearConv'], overheadMs: 0 };
    }
    if (n.opType === 'Relu') return { node: n.name, opType: n.opType, fp32Ms: 0, int8Ms: 0, fp32Kernels: [], int8Kernels: [], overheadMs: 0 };
    return { node: n.name, opType: n.opType, fp32Ms: 0.03, int8Ms: 0.025, fp32Kernels: [n.opType], int8Kernels: [`QLinear${n.opType}`], overheadMs: 0 };
  });
  const total = (pick: (t: (typeof timings)[number]) => number) => timings.reduce((sum, t) => sum + pick(t), 0);
  const opTypes = [...new Set(timings.map((t) => t.opType))];
  const profile = {
    runs: 10, batch: 1, threads: 1, fp32TotalMs: total((t) => t.fp32Ms), int8TotalMs: total((t) => t.int8Ms + t.overheadMs) + 0.05, nodes: timings,
    byOpType: opTypes.map((opType) => {
      const of = timings.filter((t) => t.opType === opType);
      const sum = (pick: (t: (typeof timings)[number]) => number) => of.reduce((s, t) => s + pick(t), 0);
      return { opType, count: of.length, fp32Ms: sum((t) => t.fp32Ms), int8Ms: sum((t) => t.int8Ms), overheadMs: sum((t) => t.overheadMs) };
    }).sort((a, b) => b.fp32Ms - a.fp32Ms),
    unattributedInt8Ms: 0.05,
  };
  const speed = {
    mode: 'auto' as const, fp32Ms: profile.fp32TotalMs * 1.04, int8Ms: profile.int8TotalMs * 1.04, fasterThanFp32: true, seconds: 3.1,
    decisions: [{ nodes: [slow], action: 'keep-float' as const, reason: 'int8 + Q/DQ 0.65 ms vs float 0.52 ms in the profile', beforeMs: 9.1, afterMs: 8.9, kept: true }],
  };
  return { profile, speed };
}

/** If with two branches (one containing a Loop), plus a call to a model-local function. */
export function subgraphModel(): ModelProto {
  const thenBranch = graphProto('then_body', [makeNode('Relu', ['x'], ['t_out'], 'then_relu')], [], [valueInfo('t_out', DataType.FLOAT, [1, 4])]);
  const loopBody = graphProto('loop_body', [
    makeNode('Identity', ['cond_in'], ['cond_out'], 'loop_cond'),
    makeNode('Add', ['v_in', 'x'], ['v_out'], 'loop_add'),
  ], [valueInfo('iter', DataType.INT64, []), valueInfo('cond_in', DataType.BOOL, []), valueInfo('v_in', DataType.FLOAT, [1, 4])],
  [valueInfo('cond_out', DataType.BOOL, []), valueInfo('v_out', DataType.FLOAT, [1, 4])]);
  const elseBranch = graphProto('else_body', [
    makeNode('Loop', ['trip', '', 'x'], ['e_out'], 'else_loop', [graphAttribute('body', loopBody)]),
  ], [], [valueInfo('e_out', DataType.FLOAT, [1, 4])]);
  const main = graphProto('main', [
    makeNode('ReduceSum', ['x'], ['s'], 'sum', [intAttribute('keepdims', 0)]),
    makeNode('Greater', ['s', 'zero'], ['cond'], 'positive'),
    makeNode('If', ['cond'], ['y'], 'branch', [graphAttribute('then_branch', thenBranch), graphAttribute('else_branch', elseBranch)]),
    makeNode('Swish', ['y'], ['z'], 'custom_swish', [], 'octet.test'),
  ], [valueInfo('x', DataType.FLOAT, [1, 4])], [valueInfo('z', DataType.FLOAT, [1, 4])],
  [makeTensor('zero', [], Float32Array.of(0)), makeTensor('trip', [], BigInt64Array.of(3n))]);
  return modelProto(main, {
    opset_import: [{ domain: '', version: 17 }, { domain: 'octet.test', version: 1 }],
    functions: [{
      name: 'Swish', domain: 'octet.test', input: ['X'], output: ['Y'], opset_import: [{ domain: '', version: 17 }],
      node: [makeNode('Sigmoid', ['X'], ['S'], 'fn_sigmoid'), makeNode('Mul', ['X', 'S'], ['Y'], 'fn_mul')],
    }],
  });
}

/**
 * A generated CNN of about `targetNodes` nodes: residual blocks (Conv-BN-Relu-Conv-BN-Add-Relu) with an
 * inception-style four-branch block every tenth block, tiny 8-channel weights (the file stays a few MB).
 */
export function largeModel(targetNodes: number): ModelProto {
  const nodes: NodeProto[] = [];
  const init: TensorProto[] = [];
  const c = 8;
  const w = makeTensor('w_shared', [c, c, 3, 3], randomWeights(c * c * 9, 7));
  const w1 = makeTensor('w1_shared', [c, c, 1, 1], randomWeights(c * c, 8));
  const bnScale = makeTensor('bn_scale', [c], new Float32Array(c).fill(1));
  const bnBias = makeTensor('bn_bias', [c], new Float32Array(c));
  const bnMean = makeTensor('bn_mean', [c], new Float32Array(c));
  const bnVar = makeTensor('bn_var', [c], new Float32Array(c).fill(1));
  init.push(w, w1, bnScale, bnBias, bnMean, bnVar);
  const kernel3 = intsAttribute('kernel_shape', [3, 3]);
  const pads1 = intsAttribute('pads', [1, 1, 1, 1]);
  let x = 'input';
  let block = 0;
  const conv = (input: string, name: string, k3 = true): string => {
    nodes.push(makeNode('Conv', [input, k3 ? 'w_shared' : 'w1_shared'], [`${name}_out`], name, k3 ? [kernel3, pads1] : [intsAttribute('kernel_shape', [1, 1])]));
    return `${name}_out`;
  };
  const bn = (input: string, name: string): string => {
    nodes.push(makeNode('BatchNormalization', [input, 'bn_scale', 'bn_bias', 'bn_mean', 'bn_var'], [`${name}_out`], name));
    return `${name}_out`;
  };
  const relu = (input: string, name: string): string => {
    nodes.push(makeNode('Relu', [input], [`${name}_out`], name));
    return `${name}_out`;
  };
  while (nodes.length < targetNodes - 12) {
    const b = `b${block}`;
    if (block % 10 === 9) {
      const branches = [
        conv(x, `${b}_br0_conv`, false),
        relu(conv(relu(conv(x, `${b}_br1_conv0`, false), `${b}_br1_relu`), `${b}_br1_conv1`), `${b}_br1_relu1`),
        conv(relu(conv(x, `${b}_br2_conv0`, false), `${b}_br2_relu`), `${b}_br2_conv1`),
        conv(x, `${b}_br3_conv`),
      ];
      nodes.push(makeNode('Sum', branches, [`${b}_sum_out`], `${b}_sum`));
      x = relu(`${b}_sum_out`, `${b}_relu_out`);
    } else {
      const y = bn(conv(relu(bn(conv(x, `${b}_conv0`), `${b}_bn0`), `${b}_relu0`), `${b}_conv1`), `${b}_bn1`);
      nodes.push(makeNode('Add', [y, x], [`${b}_add_out`], `${b}_add`));
      x = relu(`${b}_add_out`, `${b}_relu1`);
    }
    block++;
  }
  nodes.push(makeNode('GlobalAveragePool', [x], ['pooled'], 'gap'));
  nodes.push(makeNode('Flatten', ['pooled'], ['flat'], 'flatten'));
  return modelProto(graphProto('generated', nodes, [valueInfo('input', DataType.FLOAT, ['N', c, 32, 32])], [valueInfo('flat', DataType.FLOAT, ['N', c])], init),
    { producer_name: 'octet-bench-generator' });
}
