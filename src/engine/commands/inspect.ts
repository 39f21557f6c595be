// `octet inspect`: what Octet sees in a model — input spec, preprocessing guess, op histogram, quantizability.
import { OctetError } from '../../common/errors';
import { readModel } from '../../onnx/model-io';
import { Graph } from '../../onnx/graph';
import { runsInt8Kernel } from '../../quant/registry';
import { describeInput, ModelInput } from '../../data/model-input';
import { modelInfo } from '../../onnx/model-info';
import { guessPreset } from '../../data/preprocess';
import type { ModelInfo, PreprocessPreset } from '../../common/report';

export interface Inspection {
  model: ModelInfo;
  input: ModelInput | null;
  inputProblem: string | null;
  preprocessGuess: { preset: PreprocessPreset; reason: string } | null;
  quantizableNodes: number;
  text: string;
}

export function inspectModel(path: string): Inspection {
  const loaded = readModel(path);
  const info = modelInfo(loaded.model, path, loaded.fileBytes);
  let input: ModelInput | null = null;
  let inputProblem: string | null = null;
  try {
    input = describeInput(loaded.model, path);
  } catch (err) {
    if (!(err instanceof OctetError)) throw err;
    inputProblem = err.reason;
  }
  const preprocessGuess = input ? guessPreset(input, { producer: loaded.model.producer_name, inputName: input.name }) : null;
  const graph = new Graph(loaded.model.graph!);
  const quantizableNodes = graph.nodes.filter((n) => runsInt8Kernel(n, graph)).length;
  const ops = Object.entries(info.opHistogram).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`).join(', ');
  const text = [
    `${path}: ${(info.bytes / 2 ** 20).toFixed(2)} MB, IR ${info.irVersion}, opset ${info.opset}, producer ${info.producer || '?'}`,
    `inputs: ${info.inputs.map((i) => `${i.name} ${i.type}[${i.shape.join(',')}]`).join('; ')}`,
    `outputs: ${info.outputs.map((o) => `${o.name} ${o.type}[${o.shape.join(',')}]`).join('; ')}`,
    input ? `image input: ${input.layout} ${input.channels}x${input.height}x${input.width}, batch ${input.dynamicBatch ? 'dynamic' : input.fixedBatch}` : `input: ${inputProblem}`,
    preprocessGuess ? `preprocessing guess: ${preprocessGuess.preset} (${preprocessGuess.reason})` : '',
    `ops: ${ops}`,
    `quantizable compute nodes: ${quantizableNodes}`,
  ].filter(Boolean).join('\n');
  return { model: info, input, inputProblem, preprocessGuess, quantizableNodes, text };
}
