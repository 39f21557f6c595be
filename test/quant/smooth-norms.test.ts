// LayerNorm patterns (decomposed as exporters write them below opset 17, and the LayerNormalization op) and the nodes
// kept in float so that no normalization reads a Q/DQ'd tensor; SmoothQuant's targets and factors on the same graphs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, intAttribute, makeNode } from '../../src/onnx/graph';
import { buildModel, intsAttribute, valueInfo } from '../../src/onnx/build';
import { makeTensor } from '../../src/onnx/tensor';
import { NodeProto, TensorProto } from '../../src/onnx/proto';
import { findLayerNorms, normFloatNodes } from '../../src/quant/smooth-norms';
import { findSmoothTargets, smoothFactors } from '../../src/quant/smooth-quant';

const D = 4;

/** x → residual Add(x, r) → decomposed LayerNorm → Reshape → MatMul, plus a Softmax reading an Add (inside the graph
 *  like attention scores, or `final` like a classifier's). */
function block(final = false): Graph {
  const vector = (name: string, v: number) => makeTensor(name, [D], new Float32Array(D).fill(v));
  const inits: TensorProto[] = [
    makeTensor('two', [], Float32Array.of(2)), makeTensor('eps', [], Float32Array.of(1e-5)), vector('gamma', 1), vector('beta', 0),
    makeTensor('w', [D, D], new Float32Array(D * D).fill(0.1)), makeTensor('w2', [D, D], new Float32Array(D * D).fill(0.2)), makeTensor('shape', [2], BigInt64Array.of(-1n, BigInt(D))),
  ];
  const nodes: NodeProto[] = [
    makeNode('Add', ['x', 'r'], ['s'], 'residual'),
    makeNode('ReduceMean', ['s'], ['mean'], 'ln/mean', [intsAttribute('axes', [-1])]),
    makeNode('Sub', ['s', 'mean'], ['centered'], 'ln/sub'),
    makeNode('Pow', ['centered', 'two'], ['squared'], 'ln/pow'),
    makeNode('ReduceMean', ['squared'], ['variance'], 'ln/variance', [intsAttribute('axes', [2])]),
    makeNode('Add', ['variance', 'eps'], ['variance_eps'], 'ln/eps'),
    makeNode('Sqrt', ['variance_eps'], ['std'], 'ln/sqrt'),
    makeNode('Div', ['centered', 'std'], ['normalized'], 'ln/div'),
    makeNode('Mul', ['normalized', 'gamma'], ['scaled'], 'ln/gamma'),
    makeNode('Add', ['scaled', 'beta'], ['y'], 'ln/beta'),
    makeNode('Reshape', ['y', 'shape'], ['rows'], 'rows'),
    makeNode('MatMul', ['rows', 'w'], ['out'], 'proj'),
    makeNode('Add', ['out', 'r2'], ['logits'], 'logits_add'),
    makeNode('Softmax', ['logits'], ['probabilities'], 'softmax', [intAttribute('axis', -1)]),
    ...(final ? [makeNode('Flatten', ['probabilities'], ['flat'], 'flatten')] : [makeNode('MatMul', ['probabilities', 'w2'], ['attended'], 'attend')]),
  ];
  const model = buildModel(nodes, inits, [valueInfo('x', [2, 3, D]), valueInfo('r', [2, 3, D]), valueInfo('r2', [6, D])],
    [valueInfo(final ? 'flat' : 'attended', [6, D])], 13);
  return new Graph(model.graph!);
}

test('a decomposed LayerNorm is found with its γ and β (axes -1 or the last axis by rank)', () => {
  const graph = block();
  const norms = findLayerNorms(graph, 13, (t) => (t === 'squared' || t === 's' ? 3 : undefined));
  assert.equal(norms.length, 1);
  const [norm] = norms;
  assert.equal(norm.input, 's');
  assert.equal(norm.output, 'y');
  assert.equal(norm.gamma, 'gamma');
  assert.equal(norm.beta, 'beta');
  assert.equal(norm.nodes.length, 9);
  assert.equal(findLayerNorms(graph, 13).length, 0, 'axes [2] is the last axis only when the rank is known');
});

test('float norms: the eps and β Adds, the Add writing the LayerNorm input and the Add feeding an inner Softmax', () => {
  const keep = normFloatNodes(block(), 13, () => 3);
  assert.deepEqual([...keep.keys()].sort(), ['ln/beta', 'ln/eps', 'logits_add', 'residual']);
  assert.match(keep.get('residual')!, /writes the input of LayerNorm/);
  assert.match(keep.get('logits_add')!, /Softmax/);
  assert.ok(!normFloatNodes(block(true), 13, () => 3).has('logits_add'), "a classifier's final Softmax reads logits int8 handles well");
});

test('SmoothQuant targets the MatMul behind the reshape; factors balance activation and weight ranges', () => {
  const graph = block();
  const targets = findSmoothTargets(graph, 13, () => D, () => true, () => 3);
  assert.equal(targets.length, 1);
  assert.deepEqual(targets[0].readers.map((r) => r.node.name), ['proj']);
  assert.deepEqual(targets[0].changed, ['y', 'rows']);
  assert.equal(findSmoothTargets(graph, 13, () => D, (n) => n.name !== 'proj', () => 3).length, 0, 'an unquantized reader is not worth it');
  const s = smoothFactors([16, 1, 0, 4], [1, 1, 1, 0], 0.5);
  assert.deepEqual([...s], [4, 1, 1, 1]);
});
