// Building ONNX models in code: value infos, attributes, a model around nodes and initializers.
import { makeTensor } from './tensor';
import { AttributeProto, AttributeType, ModelProto, NodeProto, TensorProto, ValueInfoProto } from './proto';
import { gaussian } from '../common/random';
import { intAttribute, makeNode } from './graph';

export function valueInfo(name: string, dims: (number | string)[], elemType = 1): ValueInfoProto {
  return {
    name,
    type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}

export function intsAttribute(name: string, values: number[]): AttributeProto {
  return { name, type: AttributeType.INTS, ints: values, floats: [], strings: [], tensors: [], graphs: [] };
}

/**
 * A ReduceMean/ReduceMax/ReduceMin node over `axes`: they take the axes as an attribute before opset 18 and as an int64
 * input from 18 on (ReduceSum already from 13: not for it). `axesInput()` names that input and is called only then,
 * so that callers can share one initializer between nodes.
 */
export function reduceNode(opType: 'ReduceMean' | 'ReduceMax' | 'ReduceMin', input: string, output: string, name: string,
  axes: number[], keepdims: boolean, opset: number, axesInput: () => string): NodeProto {
  const keep = intAttribute('keepdims', keepdims ? 1 : 0);
  return opset < 18 ? makeNode(opType, [input], [output], name, [intsAttribute('axes', axes), keep])
    : makeNode(opType, [input, axesInput()], [output], name, [keep]);
}

export function floatAttribute(name: string, value: number): AttributeProto {
  return { name, type: AttributeType.FLOAT, f: value, ints: [], floats: [], strings: [], tensors: [], graphs: [] };
}

export function stringAttribute(name: string, value: string): AttributeProto {
  return { name, type: AttributeType.STRING, s: Buffer.from(value, 'utf8'), ints: [], floats: [], strings: [], tensors: [], graphs: [] };
}

export function buildModel(nodes: NodeProto[], initializers: TensorProto[], inputs: ValueInfoProto[], outputs: ValueInfoProto[],
  opset = 13, producer = 'octet'): ModelProto {
  return {
    ir_version: 8, opset_import: [{ domain: '', version: opset }], producer_name: producer,
    graph: { node: nodes, name: 'main', initializer: initializers, sparse_initializer: [], input: inputs, output: outputs,
      value_info: [], quantization_annotation: [] },
    metadata_props: [], training_info: [], functions: [],
  };
}

export function randomTensor(name: string, dims: number[], random: () => number, std: number, mean = 0): TensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = mean + gaussian(random) * std;
  return makeTensor(name, dims, values);
}
