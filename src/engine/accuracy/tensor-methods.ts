// Per-tensor calibration method (--method auto): the methods propose different ranges for a tensor, and what matters
// is the error the quantized tensor causes where it is used, not on the tensor itself. For every calibrated tensor
// read by a quantized weighted layer (Conv, Gemm, MatMul), one probe model holds, per distinct candidate range, a
// copy of that layer (and of the Relu/Clip folded into it) reading the tensor through Q/DQ with the candidate's scale;
// the squared difference to the FP32 layer's (activated) output, summed over a few calibration samples, scores the candidate. A tensor takes another method than
// the model-wide one only where that method's range scores lower; tensors read only by other ops keep it.
import type { CalibrationMethod } from '../../common/report';
import { Graph, intAttribute, makeNode } from '../../onnx/graph';
import { makeTensor } from '../../onnx/tensor';
import { ModelProto, NodeProto, TensorProto } from '../../onnx/proto';
import { TensorStats } from '../../quant/histogram';
import { QuantPlan } from '../../quant/plan';
import { ruleFor } from '../../quant/registry';
import { CalibrationOptions, forEachBatch } from '../runtime/calibrate';
import type { SampleSet } from '../runtime/sample-set';
import { activationQParams, ConvertContext } from '../../quant/convert';
import { ModelInput } from '../../data/model-input';

export interface TensorMethodChoice {
  /** Tensors whose range comes from another method than the model-wide one. */
  overrides: Map<string, CalibrationMethod>;
  /** Tensors scored (read by a quantized weighted layer, with at least two distinct candidate ranges). */
  scored: number;
}

interface Candidate { methods: CalibrationMethod[]; scale: number; zeroPoint: number; error: number }

export async function chooseTensorMethods(reference: ModelProto, stats: Map<string, TensorStats>, ctx: ConvertContext, plan: QuantPlan,
  base: CalibrationMethod, methods: readonly CalibrationMethod[], samples: SampleSet, input: ModelInput,
  options: CalibrationOptions): Promise<TensorMethodChoice> {
  const graph = new Graph(reference.graph!);
  const quantized = new Set(plan.quantized);
  const activationOf = new Map([...plan.folded].map(([activation, producer]) => [producer, activation] as const));
  const members = new Map<string, string[]>(plan.calibrationTensors.map((t) => [t, [t]]));
  for (const [tensor, source] of plan.sharedParams) members.get(source)?.push(tensor);

  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const errorOutputs = new Map<string, Candidate>();
  const candidatesOf = new Map<string, Candidate[]>();
  for (const [tensor, group] of members) {
    const s = stats.get(tensor);
    if (!s || s.count === 0) continue;
    const readers = group.flatMap((m) => graph.consumersOf(m)
      .filter((n) => quantized.has(n) && ruleFor(n)?.kind === 'weighted' && n.input[0] === m).map((n) => ({ member: m, node: n })));
    if (readers.length === 0) continue;
    const candidates: Candidate[] = [];
    for (const method of [base, ...methods.filter((m) => m !== base)]) {
      const { params } = activationQParams(s, method, ctx);
      const same = candidates.find((c) => c.scale === params.scale && c.zeroPoint === params.zeroPoint);
      if (same) same.methods.push(method);
      else candidates.push({ methods: [method], scale: params.scale, zeroPoint: params.zeroPoint, error: 0 });
    }
    if (candidates.length < 2) continue;
    candidatesOf.set(tensor, candidates);
    candidates.forEach((candidate, k) => {
      const base = `${tensor}_range_${k}`;
      const scale = graph.uniqueName(`${base}_scale`);
      const zeroPoint = graph.uniqueName(`${base}_zero_point`);
      initializers.push(makeTensor(scale, [], Float32Array.of(candidate.scale)),
        makeTensor(zeroPoint, [], ctx.activations === 'u8' ? Uint8Array.of(candidate.zeroPoint) : Int8Array.of(candidate.zeroPoint)));
      for (const { member, node } of readers) {
        const quantizedName = graph.uniqueName(`${base}_${member}_q`);
        const dequantized = graph.uniqueName(`${base}_${member}_dq`);
        const copy = graph.uniqueName(`${base}_${node.name}_output`);
        const difference = graph.uniqueName(`${base}_${node.name}_difference`);
        const error = graph.uniqueName(`${base}_${node.name}_error`);
        nodes.push(
          makeNode('QuantizeLinear', [member, scale, zeroPoint], [quantizedName], graph.uniqueName(`${quantizedName}_Q`)),
          makeNode('DequantizeLinear', [quantizedName, scale, zeroPoint], [dequantized], graph.uniqueName(`${dequantized}_DQ`)),
          makeNode(node.op_type!, [dequantized, ...node.input.slice(1)], [copy], graph.uniqueName(`${copy}_copy`), node.attribute.map((a) => ({ ...a })), node.domain ?? ''),
        );
        let compared = node.output[0];
        let produced = copy;
        const activation = activationOf.get(node);
        if (activation) {
          produced = graph.uniqueName(`${copy}_activated`);
          compared = activation.output[0];
          nodes.push(makeNode(activation.op_type!, [copy, ...activation.input.slice(1)], [produced], graph.uniqueName(`${produced}_copy`),
            activation.attribute.map((a) => ({ ...a }))));
        }
        nodes.push(
          makeNode('Sub', [produced, compared], [difference], graph.uniqueName(`${difference}_Sub`)),
          makeNode('ReduceSumSquare', [difference], [error], graph.uniqueName(`${error}_ReduceSumSquare`), [intAttribute('keepdims', 0)]),
        );
        errorOutputs.set(error, candidate);
      }
    });
  }
  const overrides = new Map<string, CalibrationMethod>();
  if (errorOutputs.size === 0) return { overrides, scored: 0 };

  const g = reference.graph!;
  const probe: ModelProto = { ...reference, graph: { ...g, node: [...g.node, ...nodes], initializer: [...g.initializer, ...initializers] } };
  await forEachBatch(probe, [...errorOutputs.keys()], samples, input, options, ctx.label, (name, value) => {
    errorOutputs.get(name)!.error += (value.data as Float32Array)[0];
  });
  for (const [tensor, candidates] of candidatesOf) {
    const best = candidates.reduce((a, b) => (b.error < a.error ? b : a));
    if (!best.methods.includes(base)) overrides.set(tensor, best.methods[0]);
  }
  return { overrides, scored: candidatesOf.size };
}
