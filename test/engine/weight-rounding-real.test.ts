// Layer-wise weight rounding on real layers of MobileNet-V1 0.75 (a depthwise and a pointwise convolution): input
// moments gathered by ONNX Runtime on 24 ImageNet images, codes chosen from them, and the layer's output error then
// measured independently — the layer run by ORT on 8 other images with FP32, round-to-nearest and rounded weights.
// Skips when ../shared is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readModel } from '../../src/onnx/model-io';
import { Graph, makeNode, intAttribute } from '../../src/onnx/graph';
import { makeTensor, tensorToFloat32 } from '../../src/onnx/tensor';
import { ModelProto } from '../../src/onnx/proto';
import { describeInput } from '../../src/data/model-input';
import { openDataset } from '../../src/data/dataset';
import { optimizeFp32, probeTensors } from '../../src/engine/runtime/prepare';
import { forEachBatch } from '../../src/engine/runtime/calibrate';
import { openSampleSet } from '../../src/engine/runtime/sample-set';
import { collectInputMoments, DEFAULT_MOMENT_LIMITS, planMoments } from '../../src/engine/accuracy/input-moments';
import { quantizeWeights } from '../../src/quant/qparams';
import { roundLayer } from '../../src/quant/weight-rounding';
import { sqnrDbOf } from '../../src/common/numbers';
import { presetPreprocessing, tempDir } from '../fixtures/models';

const MODEL = resolve('../shared/assets/models/imagenet/mobilenet_v1_0.75_224_keras_fp32.onnx');
const IMAGES = resolve('../shared/assets/images/imagenet-sample');
const LAYERS = ['conv_dw_2_bn', 'conv_pw_6_bn'];

test('weight rounding lowers the output error of real MobileNet layers on images it did not see', { skip: !existsSync(MODEL) && 'needs ../shared (MobileNet-V1 and ImageNet samples)' }, async (t) => {
  const loaded = readModel(MODEL);
  const input = describeInput(loaded.model, MODEL, {});
  const reference = await optimizeFp32(loaded.model, MODEL, tempDir());
  for (const node of reference.graph!.node) if (!node.name) node.name = node.output[0];
  const data = await openDataset(IMAGES, { input, preprocessing: presetPreprocessing('tf', [224, 224]) });
  const calib = await openSampleSet(data, Array.from({ length: 24 }, (_, i) => i), input, 8);
  const held = await openSampleSet(data, Array.from({ length: 8 }, (_, i) => 100 + i), input, 8);
  const facts = await probeTensors(reference, input.name, (await calib.first()).data, [1, 3, 224, 224], MODEL);
  const graph = new Graph(reference.graph!);
  const nodes = LAYERS.map((name) => graph.nodes.find((n) => n.name === name)!);
  const plan = planMoments(graph, nodes, facts, DEFAULT_MOMENT_LIMITS, 24);
  assert.equal(plan.targets.length, 2);
  assert.equal(plan.targets[0].size, 9, 'depthwise: one 3×3 block per channel');
  const moments = await collectInputMoments(reference, plan.targets, calib, input, { threads: 0 }, MODEL);

  // One probe model: each layer's output with FP32, nearest and rounded weights, and the squared errors.
  const extra: ModelProto['graph'] = { ...reference.graph!, node: [...reference.graph!.node], initializer: [...reference.graph!.initializer] };
  const errors: string[] = [];
  for (const [i, node] of nodes.entries()) {
    const target = plan.targets[i];
    const w = graph.initializers.get(node.input[1])!;
    const dims = w.dims.map(Number);
    const values = tensorToFloat32(w);
    const nearest = quantizeWeights(values, dims, 0, { reduceRange: false });
    const rounded = roundLayer(values, dims, 'conv', nearest.scales, nearest.values, moments.get(node.name!)!, { qmax: 127, pairSafe: false });
    t.diagnostic(`${node.name}: ${target.size}-input blocks, output SQNR on calibration moments ${sqnrDbOf(rounded.signal, rounded.nearestError)} → ${sqnrDbOf(rounded.signal, rounded.error)} dB`);
    assert.ok(rounded.error < rounded.nearestError);
    for (const [kind, codes] of [['nearest', nearest.values], ['rounded', rounded.codes]] as const) {
      const dequantized = new Float32Array(values.length).map((_, k) => codes[k] * nearest.scales[Math.floor(k / (values.length / dims[0]))]);
      const name = `${node.name}_${kind}`;
      extra.initializer.push(makeTensor(`${name}_w`, dims, dequantized));
      extra.node.push(
        makeNode('Conv', [node.input[0], `${name}_w`, node.input[2]], [`${name}_out`], `${name}_conv`, node.attribute.map((a) => ({ ...a }))),
        makeNode('Sub', [`${name}_out`, node.output[0]], [`${name}_diff`], `${name}_sub`),
        makeNode('ReduceSumSquare', [`${name}_diff`], [`${name}_err`], `${name}_err_node`, [intAttribute('keepdims', 0)]),
      );
      errors.push(`${name}_err`);
    }
  }
  const measured = new Map<string, number>();
  await forEachBatch({ ...reference, graph: extra }, errors, held, input, { threads: 0 }, MODEL,
    (tensor, value) => measured.set(tensor, (measured.get(tensor) ?? 0) + (value.data as Float32Array)[0]));
  for (const node of nodes) {
    const [nearest, rounded] = [measured.get(`${node.name}_nearest_err`)!, measured.get(`${node.name}_rounded_err`)!];
    t.diagnostic(`${node.name}: output error on held-out images, rounded / nearest = ${(rounded / nearest).toFixed(3)}`);
    assert.ok(rounded < nearest * 0.8, `${node.name}: rounded ${rounded} vs nearest ${nearest}`);
  }
});
