// `octet inspect`: what Octet sees in a model — its image input (fixed and free dims), outputs and their kinds, the
// preprocessing it would use with the given flags (the guess, without any), op histogram, quantizability.
import { OctetError } from '../../common/errors';
import type { ModelInfo, Preprocessing } from '../../common/report';
import { requestPreprocessing } from '../../data/model-data';
import { DescribedInput, DescribedOutput, describeModel, sizeAdvice } from '../../data/model-description';
import { describePreprocessing } from '../../data/preprocessing';
import { Graph } from '../../onnx/graph';
import { modelInfo } from '../../onnx/model-info';
import { readModel } from '../../onnx/model-io';
import { summarizeModel } from '../../onnx/model-summary';
import { runsInt8Kernel } from '../../quant/registry';
import { OptionValues, readCommandLine } from '../option-kinds';
import { INSPECT_COMMAND } from '../options';

export type InspectRequest = Omit<OptionValues<typeof INSPECT_COMMAND>, 'json'>;

export interface Inspection {
  model: ModelInfo;
  input: DescribedInput | null;
  /** Why Octet cannot feed the model, when it cannot. */
  inputProblem: string | null;
  outputs: DescribedOutput[];
  /** The preprocessing images would get with the request's flags (the model's guess without any), and why. */
  preprocessing: (Preprocessing & { reason: string }) | null;
  /** What is missing or wrong for images: a free size not given (with the flags that give it), a bad flag. */
  preprocessingProblem: string | null;
  quantizableNodes: number;
  text: string;
}

/** Every preprocessing option at its default: the model's own guess. */
const { json: _json, ...NO_FLAGS } = readCommandLine(INSPECT_COMMAND, {});

export function inspectModel(path: string, request: InspectRequest = NO_FLAGS): Inspection {
  const loaded = readModel(path);
  const info = modelInfo(loaded.model, path, loaded.fileBytes);
  const description = describeModel(summarizeModel(loaded.model), { label: path, layout: request.layout });
  const { input } = description;
  let preprocessing: Inspection['preprocessing'] = null;
  let preprocessingProblem: string | null = null;
  if (input) {
    try {
      const resolved = requestPreprocessing(description, request);
      preprocessing = { ...resolved.preprocessing, reason: resolved.reason };
      if (!resolved.preprocessing.size && resolved.preprocessing.sizeMultiple === null) preprocessingProblem = `images: ${sizeAdvice(input)}`;
    } catch (err) {
      if (!(err instanceof OctetError)) throw err;
      preprocessingProblem = err.message;
    }
  }
  const graph = new Graph(loaded.model.graph!);
  const quantizableNodes = graph.nodes.filter((n) => runsInt8Kernel(n, graph)).length;
  const ops = Object.entries(info.opHistogram).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`).join(', ');
  const free = (d: number | null) => d ?? 'free';
  const text = [
    `${path}: ${(info.bytes / 2 ** 20).toFixed(2)} MB, IR ${info.irVersion}, opset ${info.opset}, producer ${info.producer || '?'}`,
    `inputs: ${info.inputs.map((i) => `${i.name} ${i.type}[${i.shape.join(',')}]`).join('; ')}`,
    `outputs: ${description.outputs.map((o) => `${o.name} [${o.shape?.join(',') ?? '?'}] (${o.kind})`).join('; ')}`,
    input ? `image input: ${input.layout} ${input.channels} channel(s), height ${free(input.height)}, width ${free(input.width)}, batch ${input.fixedBatch ?? 'dynamic'}`
      : `input: ${description.problem}`,
    preprocessing ? `preprocessing: ${describePreprocessing(preprocessing)} (${preprocessing.reason})` : '',
    preprocessingProblem ?? '',
    `ops: ${ops}`,
    `quantizable compute nodes: ${quantizableNodes}`,
  ].filter(Boolean).join('\n');
  return { model: info, input, inputProblem: description.problem, outputs: description.outputs, preprocessing, preprocessingProblem, quantizableNodes, text };
}
