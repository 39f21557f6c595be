// Step 3: what will be quantized, decided and checked before any long work: the probe (element type and shape of
// every tensor on one sample), the plan (op registry, --op-types, --exclude), and two fail-fast checks — the model has
// something to run in int8, and the QDQ model built with placeholder ranges loads in ONNX Runtime (so a pattern ORT
// cannot load is found now, not after calibration).
import { OctetError } from '../../common/errors';
import { ruleFor } from '../../quant/registry';
import { tensorToFloat32 } from '../../onnx/tensor';
import { opHistogram } from '../../onnx/model-info';
import { computesInInt8, convert, ConvertContext, planFor } from '../../quant/convert';
import { TensorStats } from '../../quant/histogram';
import type { QuantPlan } from '../../quant/plan';
import type { Graph } from '../../onnx/graph';
import { classifyOutput } from '../runtime/output-scores';
import { probeTensors } from '../runtime/prepare';
import { openSession } from '../runtime/session';
import { OCTET_VERSION } from '../../common/version';
import type { CalibrationData } from './calibration-data';
import type { PreparedModel } from './prepare-model';
import type { Run } from './run';

export interface Planned {
  ctx: ConvertContext;
  /** The reference graph the plan was made on (equalization edits its weights in place). */
  graph: Graph;
  plan: QuantPlan;
  userExclude: ReadonlySet<string>;
  /** Bytes a tensor takes per sample (from the probe): sizes the runs that expose intermediate tensors. */
  tensorBytes: (tensor: string) => number | undefined;
  /** A tensor's dims for one probe sample (from the probe). */
  tensorDims: (tensor: string) => readonly number[] | undefined;
}

export async function planRun(run: Run, model: PreparedModel, data: CalibrationData): Promise<Planned> {
  const { request, paths } = run;
  const { input, reference } = model;
  run.progress('convert', 0, 1, 'planning');
  const probeShape = input.fixedBatch && input.fixedBatch > 1 ? input.shape : [1, ...input.shape.slice(1)];
  const facts = await probeTensors(reference, input.name, data.firstSample, probeShape, paths.model);
  const ctx: ConvertContext = {
    label: paths.out, opset: model.opset.to, perChannel: model.perChannel, weightRange: model.weightRange,
    activations: request.activations, percentile: request.percentile,
    opTypes: request.opTypes ? new Set(request.opTypes) : null, facts, producer: { name: 'octet', version: OCTET_VERSION },
  };
  const userExclude = new Set(request.exclude ?? []);
  const { graph, plan } = planFor(reference, ctx, userExclude);
  if (!computesInInt8(plan)) {
    const types = Object.keys(opHistogram(model.optimized)).join(', ');
    throw new OctetError(paths.model, `no quantizable op found (the model has ${types}; Octet quantizes Conv, Gemm, MatMul, Add, Concat, pooling)`);
  }
  if (request.maxDrop !== null) requireAgreementMeasure(run, reference.graph!.output.map((o) => o.name ?? ''), facts, input.layout);
  requireFiniteWeights(paths.model, graph, plan);
  await checkLoadable(run, model, ctx, plan, userExclude);
  const tensorBytes = (t: string): number | undefined => {
    const dims = facts.get(t)?.dims;
    return dims ? dims.reduce((a, b) => a * b, 4) / probeShape[0] : undefined;
  };
  const tensorDims = (t: string): readonly number[] | undefined => facts.get(t)?.dims;
  return { ctx, graph, plan, userExclude, tensorBytes, tensorDims };
}

/** --max-drop bounds an agreement (or top-1 drop): refuse before calibrating when no output has a measure for it. */
function requireAgreementMeasure(run: Run, outputs: string[], facts: ConvertContext['facts'], layout: PreparedModel['input']['layout']): void {
  const kinds = outputs.map((name) => ({ name, kind: facts.get(name) ? classifyOutput(facts.get(name)!.dims, layout).kind : 'other' }));
  if (kinds.some((k) => k.kind !== 'other')) return;
  throw new OctetError('--max-drop', `needs an output Octet can measure agreement on (a classification [N, C], map [N, C, H, W] `
    + `or sequence [N, T, C]); this model's outputs are ${kinds.map((k) => `${k.name} ${JSON.stringify(facts.get(k.name)?.dims ?? [])}`).join(', ')}. `
    + 'Drop --max-drop and judge the INT8 model by its output SQNR in the report.');
}

/** A weight to quantize holding NaN or ±Infinity: refused before calibration, naming the node and the tensor. */
function requireFiniteWeights(label: string, graph: Graph, plan: QuantPlan): void {
  for (const node of plan.quantized) {
    const spec = ruleFor(node, graph)?.weight;
    const name = spec ? node.input[spec.input] : undefined;
    const weight = name ? graph.initializers.get(name) : undefined;
    if (!weight || weight.data_type !== 1 /* float */) continue;
    const values = tensorToFloat32(weight);
    let at = 0;
    while (at < values.length && Number.isFinite(values[at])) at++;
    if (at === values.length) continue;
    throw new OctetError(label, `node '${node.name || node.output[0]}' (${node.op_type}): its weight '${name}' holds ${values[at]} at `
      + `element ${at}; a model whose weights are not finite computes nothing meaningful. Check the export (or the `
      + `training run that produced it), or keep the node in FP32 with --exclude ${node.name || node.output[0]}.`);
  }
}

/** Builds the QDQ model with placeholder ranges and weights and has ONNX Runtime load it (optimized as it will run). */
async function checkLoadable(run: Run, model: PreparedModel, ctx: ConvertContext, plan: QuantPlan, exclude: ReadonlySet<string>): Promise<void> {
  const placeholder = new Map(plan.calibrationTensors.map((t) => {
    const stats = new TensorStats();
    stats.update(Float32Array.of(-1, 1));
    return [t, stats] as const;
  }));
  const skeleton = convert(model.reference, placeholder, { ...ctx, placeholderWeights: true }, { method: 'minmax', exclude, biasCorrection: false });
  const session = await openSession(skeleton.bytes, { threads: 1, level: 'all' }, `${run.paths.out} (QDQ layout check before calibration)`);
  await session.release();
}
