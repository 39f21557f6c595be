// LayerNorms kept in float, on a transformer-style block (LayerNorm → MatMul → residual Add → LayerNorm) fed tokens of
// very different spread — the first token is 100× smaller, like a class token: quantizing the residual stream with one
// 8-bit scale wipes that token out and the LayerNorm after it blows the noise up, so keeping the LayerNorm inputs and
// pieces in float must raise output SQNR a lot; chooseTechniques ('auto') must find that on its own, report both scores,
// and list the nodes it kept in float with why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeNode } from '../../src/onnx/graph';
import { buildModel, intsAttribute, randomTensor, valueInfo } from '../../src/onnx/build';
import { makeTensor } from '../../src/onnx/tensor';
import { encodeModel, NodeProto } from '../../src/onnx/proto';
import { gaussian, rng } from '../../src/common/random';
import { outputSqnr } from '../../src/engine/accuracy/auto-choice';
import { chooseTechniques, techniqueReport } from '../../src/engine/accuracy/techniques';
import { conversionHarness } from '../fixtures/conversion-harness';
import { tempDir, writeNpy } from '../fixtures/models';

const T = 16;
const D = 24;

function layerNorm(name: string, input: string, output: string): NodeProto[] {
  const t = (s: string) => `${name}_${s}`;
  return [
    makeNode('ReduceMean', [input], [t('mean')], t('ReduceMean'), [intsAttribute('axes', [-1])]),
    makeNode('Sub', [input, t('mean')], [t('centered')], t('Sub')),
    makeNode('Pow', [t('centered'), 'two'], [t('squared')], t('Pow')),
    makeNode('ReduceMean', [t('squared')], [t('variance')], t('ReduceMean_1'), [intsAttribute('axes', [-1])]),
    makeNode('Add', [t('variance'), 'eps'], [t('variance_eps')], t('Add')),
    makeNode('Sqrt', [t('variance_eps')], [t('std')], t('Sqrt')),
    makeNode('Div', [t('centered'), t('std')], [t('normalized')], t('Div')),
    makeNode('Mul', [t('normalized'), `${name}_gamma`], [t('scaled')], t('Mul')),
    makeNode('Add', [t('scaled'), `${name}_beta`], [output], t('Add_1')),
  ];
}

function transformerBlock() {
  const r = rng(8);
  const vector = (name: string, mean: number, std: number) => makeTensor(name, [D], Float32Array.from({ length: D }, () => mean + gaussian(r) * std));
  return buildModel([
    ...layerNorm('norm1', 'x', 'y1'),
    makeNode('MatMul', ['y1', 'w'], ['a'], 'fc'),
    makeNode('Add', ['x', 'a'], ['s'], 'residual'),
    ...layerNorm('norm2', 's', 'out'),
  ], [
    makeTensor('two', [], Float32Array.of(2)), makeTensor('eps', [], Float32Array.of(1e-6)), randomTensor('w', [D, D], r, 0.2),
    vector('norm1_gamma', 1, 0.1), vector('norm1_beta', 0, 0.1), vector('norm2_gamma', 1, 0.1), vector('norm2_beta', 0, 0.1),
  ], [valueInfo('x', ['N', T, D])], [valueInfo('out', ['N', T, D])], 13, 'octet-test-fixture');
}

function tokens(count: number): Float32Array {
  const r = rng(4);
  const x = new Float32Array(count * T * D);
  for (let i = 0; i < x.length; i++) x[i] = (gaussian(r) + 1) * (Math.floor(i / D) % T === 0 ? 0.01 : 1);
  return x;
}

test('keeping LayerNorm inputs and pieces in float rescues a small-spread token; auto keeps it and reports why', async (t) => {
  const dir = tempDir();
  const modelPath = join(dir, 'block.onnx');
  writeFileSync(modelPath, encodeModel(transformerBlock()));
  const data = join(dir, 'tokens.npy');
  writeNpy(data, [96, T, D], tokens(96));
  const harness = await conversionHarness(modelPath, data, { preprocess: 'raw', calibCount: 48, checkCount: 48 });
  const base = { method: 'minmax' as const, exclude: new Set<string>(), biasCorrection: false };
  const int8 = await outputSqnr(harness.check, await harness.builder.build(base));
  const float = await harness.builder.build({ ...base, floatNorms: true });
  const floatSqnr = await outputSqnr(harness.check, float);
  t.diagnostic(`output SQNR with LayerNorm pieces in int8 ${int8} dB, in float ${floatSqnr} dB`);
  assert.ok(floatSqnr > int8 + 10);
  assert.ok(float.quantizedNodes.some((n) => n.node === 'fc'), 'the MatMul stays int8');
  assert.deepEqual(float.kept.filter((k) => k.reason.startsWith('kept in float')).map((k) => k.node).sort(),
    ['norm1_Add', 'norm1_Add_1', 'norm2_Add', 'norm2_Add_1', 'residual']);

  const REQUEST = { weightRounding: 'off', biasCorrection: 'off', floatNorms: 'auto' } as const;
  const outcome = await chooseTechniques(harness.builder, base, async () => harness.check, REQUEST);
  assert.equal(outcome.choice.floatNorms, true);
  assert.deepEqual(outcome.candidates.map((c) => [c.floatNorms, c.outputSqnrDb, c.kept]), [[false, int8, false], [true, floatSqnr, true]]);
  const report = techniqueReport(harness.builder, outcome, outcome.conversion, outcome.choice, REQUEST, 48);
  assert.equal(report.floatNorms?.applied, true);
  assert.equal(report.floatNorms?.nodes.find((n) => n.node === 'residual')?.opType, 'Add');
  assert.equal(report.weightRounding, null, 'weight rounding was off');
  assert.equal(report.biasCorrection, null, 'bias correction was off');
});
