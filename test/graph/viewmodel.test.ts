// The graph view model: Q/DQ folding, subgraph flattening, search, shapes, the error overlay and layouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelView } from '../../src/graphmodel/model-view';
import { findNodeByName, searchGraphs } from '../../src/graphmodel/search';
import { OverlayIndex, overlayFromReport, sqnrColor } from '../../src/graphmodel/error-overlay';
import { layoutGraph } from '../../src/graphmodel/layout';
import { collapseChains } from '../../src/graphmodel/layout/chains';
import { layeredLayout } from '../../src/graphmodel/layout/layered-layout';
import { LayoutInput } from '../../src/graphmodel/layout/types';
import { tensorStats, dequantize } from '../../src/graphmodel/tensor-stats';
import { ViewGraph } from '../../src/graphmodel/types';
import { packGraph, unpackGraph } from '../../src/graphmodel/wire';
import { encodeModel, ModelProto } from '../../src/onnx/proto';
import { writeModel } from '../../src/onnx/model-io';
import { findReportOverlay, reportCandidates } from '../../src/extension/graph/report-locator';
import { skimModel } from '../../src/onnx/skim';
import { estimateText, nodeBox } from '../../media/graph/view/node-boxes';
import { fakeReport, largeModel, smallCnn, subgraphModel, toQdq } from './support/fixtures';
import { realisticReport } from '../report/fixture';

function view(model: ModelProto): ModelView {
  return new ModelView(model, { fileName: 'test.onnx', fileBytes: 0, hadExternalData: false });
}

function byLabel(graph: ViewGraph, label: string) {
  const node = graph.nodes.find((n) => n.label === label);
  assert.ok(node, `node '${label}' in ${graph.nodes.map((n) => n.label).join(', ')}`);
  return node;
}

function layoutInputOf(graph: ViewGraph, direction: 'TB' | 'LR' = 'TB'): LayoutInput {
  const boxes = graph.nodes.map((n) => nodeBox(n, estimateText));
  return {
    sizes: Float64Array.from(boxes.flatMap((b) => [b.width, b.height])),
    edges: Int32Array.from(graph.edges.flatMap((e) => [e.from, e.to])),
    direction,
  };
}

test('FP32 graph: input, ops and output nodes, edges labelled with inferred shapes', () => {
  const g = view(smallCnn()).graphs({ fold: true })[0];
  assert.deepEqual(g.nodes.map((n) => n.label), ['x', 'conv1', 'relu1', 'conv2', 'add1', 'y']);
  const conv1 = byLabel(g, 'conv1');
  assert.equal(conv1.category, 'conv');
  assert.deepEqual(conv1.inputs.map((i) => [i.param, i.constant ?? false]), [['X', false], ['W', true], ['B', true]]);
  const relu = g.edges.find((e) => e.tensor === 'c1');
  assert.deepEqual(relu?.shape, ['N', 8, 16, 16], 'Conv output shape inferred from pads and kernel');
  // The skip connection r1 -> add1 is an edge too.
  assert.ok(g.edges.some((e) => e.tensor === 'r1' && e.to === byLabel(g, 'add1').id));
  assert.equal(g.int8Nodes, 0);
});

test('Q/DQ folding: QuantizeLinear/DequantizeLinear pairs and weight DequantizeLinear fold into their op', () => {
  const qdq = toQdq(smallCnn());
  const mv = view(qdq);
  const raw = mv.graphs({ fold: false })[0];
  const folded = mv.graphs({ fold: true })[0];
  assert.equal(raw.qdqNodes, 6, '2 activation Q/DQ pairs + 2 weight DQ');
  assert.equal(raw.nodes.filter((n) => n.opType === 'DequantizeLinear').length, 4);
  assert.equal(folded.nodes.filter((n) => n.category === 'quantize').length, 0, 'no Q/DQ node left when folded');
  assert.deepEqual(folded.nodes.map((n) => n.label), ['x', 'conv1', 'relu1', 'conv2', 'add1', 'y']);
  const conv2 = byLabel(folded, 'conv2');
  assert.equal(conv2.int8, true);
  assert.equal(folded.int8Nodes, 2);
  const x = conv2.inputs[0];
  assert.equal(x.quant?.storage, 'uint8');
  assert.equal(x.quant?.scale, Math.fround(0.05));
  assert.equal(x.quant?.zeroPoint, 128);
  assert.deepEqual(x.shape, ['N', 8, 16, 16], 'the folded input keeps the float shape');
  const w = conv2.inputs[1];
  assert.equal(w.constant, true);
  assert.equal(w.quant?.storage, 'int8');
  assert.equal(w.quant?.axis, 0);
  assert.equal(w.quant?.storedTensor, 'w2_quantized');
  assert.ok(conv2.folded.some((f) => f.includes('QuantizeLinear')));
  // The edge relu1 -> conv2 bypasses the folded pair, is marked quantized and labelled with the float tensor.
  const edge = folded.edges.find((e) => e.to === conv2.id);
  assert.equal(edge?.from, byLabel(folded, 'relu1').id);
  assert.equal(edge?.tensor, 'r1');
  assert.equal(edge?.quantized, true);
  // The producer's output carries the quantization too.
  assert.equal(byLabel(folded, 'relu1').outputs[0].quant?.scale, Math.fround(0.05));
  // Raw view: relu1 -> QuantizeLinear -> DequantizeLinear -> conv2.
  const rawConv2 = byLabel(raw, 'conv2');
  const rawEdge = raw.edges.find((e) => e.to === rawConv2.id && e.tensor.includes('dequantized'));
  assert.equal(raw.nodes[rawEdge?.from ?? -1].opType, 'DequantizeLinear');
});

test('Q/DQ folding: node details dequantize folded weights per channel, with scale and zero point', () => {
  const mv = view(toQdq(smallCnn()));
  const g = mv.graphs({ fold: true })[0];
  const conv1 = byLabel(g, 'conv1');
  const details = mv.nodeDetails('main', conv1.id, { fold: true });
  assert.ok(details);
  const w = details.tensors.find((t) => t.param === 'W');
  assert.equal(w?.statsOf, 'dequantized');
  assert.equal(w?.stored?.dtype, 'int8');
  assert.equal(w?.quant?.count, 8);
  assert.ok(w?.stats && w.stats.max <= 0.1 + 1e-6 && w.stats.min >= -0.1 - 1e-6, 'dequantized weights are back in float range');
  assert.equal(w?.stats?.count, 8 * 27);
  assert.equal(details.activations[0]?.quant.scale[0], Math.fround(0.05));
});

test('Constant nodes fold into their readers and show raw when unfolded', () => {
  const m = smallCnn();
  const g = m.graph;
  assert.ok(g);
  g.node.unshift({ input: [], output: ['shape_c'], name: 'shape_const', op_type: 'Constant', attribute: [{ name: 'value', type: 4, t: { name: '', dims: [2], data_type: 7, raw_data: new Uint8Array(new BigInt64Array([0n, -1n]).buffer), float_data: [], int32_data: [], int64_data: [], double_data: [], uint64_data: [], string_data: [], external_data: [] }, floats: [], ints: [], strings: [], tensors: [], graphs: [] }] });
  g.node.push({ input: ['y', 'shape_c'], output: ['flat'], name: 'reshape', op_type: 'Reshape', attribute: [] });
  g.output = [{ name: 'flat' }];
  const mv = view(m);
  const folded = mv.graphs({ fold: true })[0];
  const reshape = byLabel(folded, 'reshape');
  assert.equal(reshape.inputs[1].constant, true);
  assert.deepEqual(reshape.folded, ['shape_const']);
  assert.equal(folded.nodes.some((n) => n.opType === 'Constant'), false);
  assert.equal(mv.graphs({ fold: false })[0].nodes.some((n) => n.opType === 'Constant'), true);
  // Shape inference used the Constant's value: [N, 8*16*16].
  assert.deepEqual(folded.edges.find((e) => e.tensor === 'flat')?.shape, ['N', 2048]);
});

test('subgraph flattening: If branches, a nested Loop body and a function become addressable scopes', () => {
  const mv = view(subgraphModel());
  const scopes = mv.scopes;
  assert.deepEqual(scopes.map((s) => s.id), [
    'main', 'main/branch.then_branch', 'main/branch.else_branch', 'main/branch.else_branch/else_loop.body', 'fn:octet.test:Swish',
  ]);
  const loop = scopes[3];
  assert.deepEqual(loop.path, ['main', 'main/branch.else_branch', 'main/branch.else_branch/else_loop.body']);
  assert.equal(loop.parent, 'main/branch.else_branch');
  assert.equal(loop.owner, 'else_loop');
  const graphs = mv.graphs({ fold: true });
  const main = graphs[0];
  const ifNode = byLabel(main, 'branch');
  assert.deepEqual(ifNode.subgraphs, [
    { attribute: 'then_branch', scope: 'main/branch.then_branch' }, { attribute: 'else_branch', scope: 'main/branch.else_branch' },
  ]);
  assert.deepEqual(byLabel(main, 'custom_swish').subgraphs, [{ attribute: 'function', scope: 'fn:octet.test:Swish' }]);
  // Outer-scope values read by a body appear as inputs of that body.
  const thenGraph = graphs[1];
  assert.equal(byLabel(thenGraph, 'x').opType, 'Outer value');
  const loopGraph = graphs[3];
  assert.ok(byLabel(loopGraph, 'loop_add').inputs.some((i) => i.name === 'x'));
  assert.deepEqual(byLabel(loopGraph, 'x').outputs[0].shape, [1, 4], 'outer values keep the type declared outside');
  assert.deepEqual(loopGraph.edges.find((e) => e.tensor === 'v_out')?.shape, [1, 4]);
  const fn = graphs[4];
  assert.deepEqual(fn.nodes.filter((n) => n.kind === 'op').map((n) => n.label), ['fn_sigmoid', 'fn_mul']);
  // Every scope lays out.
  for (const g of graphs) {
    const r = layoutGraph(layoutInputOf(g));
    assert.equal(r.x.length, g.nodes.length);
  }
});

test('search: names, op types and tensor names across scopes, current scope first; reveal by name or output', () => {
  const graphs = view(subgraphModel()).graphs({ fold: true });
  const relu = searchGraphs(graphs, 'RELU');
  assert.deepEqual(relu.map((h) => [h.scope, h.field]), [['main/branch.then_branch', 'name']]);
  const add = searchGraphs(graphs, 'add');
  assert.ok(add.some((h) => h.scope === 'main/branch.else_branch/else_loop.body' && h.text === 'loop_add'));
  const byOp = searchGraphs(graphs, 'sigmoid');
  assert.equal(byOp[0].scope, 'fn:octet.test:Swish');
  const byTensor = searchGraphs(graphs, 'v_out');
  assert.ok(byTensor.some((h) => h.field === 'tensor' || h.field === 'name'));
  const firstHere = searchGraphs(graphs, 'x', 'fn:octet.test:Swish');
  assert.equal(firstHere[0].scope, 'fn:octet.test:Swish');
  assert.deepEqual(searchGraphs(graphs, '   '), []);
  assert.deepEqual(findNodeByName(graphs, 'loop_add'), { scope: 'main/branch.else_branch/else_loop.body', node: byLabel(graphs[3], 'loop_add').id });
  const qdqGraphs = view(toQdq(smallCnn())).graphs({ fold: true });
  assert.equal(findNodeByName(qdqGraphs, 'c2')?.node, byLabel(qdqGraphs[0], 'conv2').id, 'found by output tensor');
  assert.equal(findNodeByName(qdqGraphs, 'nothing-like-this'), undefined);
});

test('error overlay: per-layer SQNR matched by node name or compared tensor; colours run red to green', () => {
  const g = view(toQdq(smallCnn())).graphs({ fold: true })[0];
  const report = fakeReport([{ name: 'conv1', opType: 'Conv', tensor: 'c1' }, { name: '', opType: 'Conv', tensor: 'c2' }]);
  const index = new OverlayIndex(overlayFromReport(report, 'x.report.json'));
  assert.equal(index.forNode(byLabel(g, 'conv1'))?.sqnrDb, 45);
  assert.equal(index.forNode(byLabel(g, 'conv2'))?.sqnrDb, 8);
  assert.equal(index.forNode(byLabel(g, 'relu1')), undefined);
  const layers = report.layers.map((l, i) => ({ ...l, ownSqnrDb: 30 + i, localSqnrDb: 50 }));
  const sensitivity = [{ node: 'conv1', outputSqnrGainDb: 4.5 }];
  const detailed = new OverlayIndex(overlayFromReport({ ...report, layers, sensitivity }, 'x.report.json'));
  assert.deepEqual([detailed.forNode(byLabel(g, 'conv1'))?.ownSqnrDb, detailed.forNode(byLabel(g, 'conv1'))?.sensitivityDb], [30, 4.5]);
  assert.equal(detailed.forNode(byLabel(g, 'conv2'))?.sensitivityDb, undefined, 'not measured');
  assert.match(sqnrColor(45), /^hsl\(125,/);
  assert.match(sqnrColor(3), /^hsl\(0,/);
});

test('report files next to the model: NAME.report.json or NAME.int8.report.json, newest wins, bad JSON is reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'octet-graph-'));
  try {
    const model = join(dir, 'resnet.int8.onnx');
    assert.deepEqual(reportCandidates(model), [join(dir, 'resnet.int8.report.json'), join(dir, 'resnet.int8.int8.report.json')]);
    assert.deepEqual(reportCandidates(join(dir, 'resnet.onnx'))[1], join(dir, 'resnet.int8.report.json'));
    assert.equal(findReportOverlay(model), null);
    writeFileSync(join(dir, 'resnet.int8.report.json'), '{ not json');
    const warnings: string[] = [];
    assert.equal(findReportOverlay(model, (w) => warnings.push(w)), null);
    assert.match(warnings[0], /not valid JSON/);
    writeFileSync(join(dir, 'resnet.int8.report.json'), JSON.stringify({ ...realisticReport(), ...fakeReport([{ name: 'conv1', opType: 'Conv', tensor: 'c1' }]), layers: 'none' }));
    assert.equal(findReportOverlay(model, (w) => warnings.push(w)), null, 'a report is checked whole before it is overlaid');
    assert.match(warnings[1], /resnet\.int8\.report\.json: is not a valid Octet report: layers: expected an array of objects, got a string/);
    writeFileSync(join(dir, 'resnet.int8.report.json'), JSON.stringify({ ...realisticReport(), ...fakeReport([{ name: 'conv1', opType: 'Conv', tensor: 'c1' }]) }));
    const overlay = findReportOverlay(model);
    assert.equal(overlay?.layers.length, 1);
    assert.equal(overlay?.outputSqnrDb, 24.5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tensor statistics and per-channel dequantization', () => {
  const s = tensorStats(Float32Array.of(-1, 0, 1, 2, NaN), 4);
  assert.equal(s.min, -1);
  assert.equal(s.max, 2);
  assert.equal(s.mean, 0.5);
  assert.equal(s.nonFinite, 1);
  assert.equal(s.zeros, 0.25);
  assert.deepEqual(s.histogram.counts, [1, 1, 1, 1]);
  const dq = dequantize(Int8Array.of(10, 20, 10, 20), [2, 2], [0.5, 0.1], [0, 10], 0);
  assert.deepEqual(Array.from(dq), [5, 10, 0, 1].map((v) => Math.fround(v)));
});

test('structure-only reading keeps weights on disk and loads one when inspected', () => {
  const dir = mkdtempSync(join(tmpdir(), 'octet-skim-'));
  try {
    const path = join(dir, 'big.onnx');
    const model = largeModel(200);
    const big = model.graph?.initializer[0];
    assert.ok(big);
    big.raw_data = new Uint8Array(1 << 20).fill(7);
    big.dims = [1 << 18];
    writeFileSync(path, encodeModel(model));
    const skimmed = skimModel(path);
    assert.ok(skimmed.bytesRead < 200_000, `read ${skimmed.bytesRead} bytes of a ${skimmed.fileBytes}-byte file`);
    const mv = new ModelView(skimmed.model, { fileName: 'big.onnx', fileBytes: skimmed.fileBytes, hadExternalData: false }, skimmed.data);
    const g = mv.graphs({ fold: true })[0];
    const conv = g.nodes.find((n) => n.opType === 'Conv');
    assert.ok(conv);
    const details = mv.nodeDetails('main', conv.id, { fold: true });
    assert.equal(details?.tensors[0].bytes, 1 << 20);
    assert.equal(details?.tensors[0].error, undefined);
    // External data: weights in big.onnx.data are read on demand too.
    const external = join(dir, 'external.onnx');
    writeModel(external, largeModel(200), { externalDataThreshold: 1024 });
    assert.ok(existsSync(`${external}.data`));
    const ext = skimModel(external);
    const extView = new ModelView(ext.model, { fileName: 'external.onnx', fileBytes: ext.fileBytes, hadExternalData: true }, ext.data);
    const extConv = extView.graphs({ fold: true })[0].nodes.find((n) => n.opType === 'Conv');
    assert.ok(extConv);
    const extDetails = extView.nodeDetails('main', extConv.id, { fold: true });
    assert.equal(extDetails?.tensors[0].error, undefined);
    assert.equal(extDetails?.tensors[0].stats?.count, 8 * 8 * 9);
    // Truncated file: a readable error, not a crash.
    const bytes = encodeModel(model);
    writeFileSync(path, bytes.subarray(0, bytes.length - 1000));
    assert.throws(() => skimModel(path), /truncated or corrupt/);
    writeFileSync(path, new Uint8Array(0));
    assert.throws(() => skimModel(path), /empty/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('wire format: packed graphs are smaller and unpack to the same view model', () => {
  for (const model of [toQdq(smallCnn()), subgraphModel(), largeModel(500)]) {
    for (const g of view(model).graphs({ fold: true })) {
      const packed = packGraph(g);
      assert.deepEqual(unpackGraph(JSON.parse(JSON.stringify(packed))), g);
      if (g.nodes.length > 100) assert.ok(JSON.stringify(packed).length < 0.85 * JSON.stringify(g).length);
    }
  }
});

test('chain collapsing shrinks CNN graphs before dagre', () => {
  const g = view(largeModel(300)).graphs({ fold: true })[0];
  const collapsed = collapseChains(layoutInputOf(g));
  assert.ok(collapsed.chains.length < g.nodes.length / 2.5, `${collapsed.chains.length} chains for ${g.nodes.length} nodes`);
  assert.equal(collapsed.chains.flat().length, g.nodes.length);
});

test('layouts: every node placed, no two boxes overlap, edges start and end on their nodes', () => {
  for (const [name, model] of [['small', toQdq(smallCnn())], ['generated', largeModel(2000)]] as const) {
    const g = view(model).graphs({ fold: true })[0];
    for (const direction of ['TB', 'LR'] as const) {
      const input = layoutInputOf(g, direction);
      for (const result of [layoutGraph(input), layeredLayout(input)]) {
        const n = g.nodes.length;
        const boxes: [number, number, number, number][] = [];
        for (let i = 0; i < n; i++) {
          assert.ok(Number.isFinite(result.x[i]) && Number.isFinite(result.y[i]), `${name}: node ${i} placed`);
          const w = input.sizes[2 * i] / 2;
          const h = input.sizes[2 * i + 1] / 2;
          boxes.push([result.x[i] - w, result.y[i] - h, result.x[i] + w, result.y[i] + h]);
        }
        const sorted = boxes.map((b, i) => [b, i] as const).sort((a, b) => a[0][1] - b[0][1]);
        for (let a = 0; a < sorted.length; a++) {
          for (let b = a + 1; b < sorted.length && sorted[b][0][1] < sorted[a][0][3] - 0.5; b++) {
            const A = sorted[a][0];
            const B = sorted[b][0];
            const overlap = A[0] < B[2] - 0.5 && B[0] < A[2] - 0.5;
            assert.ok(!overlap, `${name} ${direction} ${result.algorithm}: nodes ${sorted[a][1]} and ${sorted[b][1]} overlap`);
          }
        }
        g.edges.forEach((e, k) => {
          const p0 = result.edgeOffsets[k];
          const p1 = result.edgeOffsets[k + 1] - 1;
          assert.ok(p1 > p0, 'edge has at least two points');
          const near = (p: number, v: number) => {
            const [x0, y0, x1, y1] = boxes[v];
            const px = result.edgePoints[2 * p];
            const py = result.edgePoints[2 * p + 1];
            return px >= x0 - 2 && px <= x1 + 2 && py >= y0 - 2 && py <= y1 + 2;
          };
          assert.ok(near(p0, e.from) && near(p1, e.to), `${name} ${direction} ${result.algorithm}: edge ${k} attaches to its nodes`);
        });
      }
    }
  }
});

test('generated 10,000-node model lays out with the layered layout in well under the budget', () => {
  const g = view(largeModel(10_000)).graphs({ fold: true })[0];
  assert.ok(g.nodes.length >= 9_990, `${g.nodes.length} nodes`);
  const started = performance.now();
  const result = layoutGraph(layoutInputOf(g));
  const ms = performance.now() - started;
  assert.equal(result.algorithm, 'layered');
  assert.ok(ms < 6000, `layout took ${ms.toFixed(0)} ms`);
  console.log(`# 10k-node layout in node: ${ms.toFixed(0)} ms (${result.algorithm})`);
});

test('ResNet-50 view model (skipped when .cache/resnet50.onnx is not built)', (t) => {
  const path = join(process.cwd(), '.cache', 'resnet50.onnx');
  if (!existsSync(path)) { t.skip('no .cache/resnet50.onnx: build it with ../shared/scripts/make-resnet50.sh .cache/resnet50.onnx'); return; }
  const skimmed = skimModel(path);
  const g = new ModelView(skimmed.model, { fileName: 'resnet50.onnx', fileBytes: skimmed.fileBytes, hadExternalData: false }, skimmed.data).graphs({ fold: true })[0];
  assert.equal(g.nodes.filter((n) => n.opType === 'Conv').length, 53);
  assert.ok(g.edges.filter((e) => e.shape).length / g.edges.length > 0.95, 'shapes known on nearly every edge');
  const r = layoutGraph(layoutInputOf(g));
  assert.equal(r.algorithm, 'dagre');
});
