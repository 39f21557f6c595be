// Robustness on the ONNX backend test suite (Debian package libonnx-testdata): every model.onnx parses, builds a
// view model for every scope (folded and raw), lays out with the algorithm the viewer would pick (and with the
// layered layout), reads the same through the structure-only reader, and round-trips through src/onnx.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelView } from '../../src/graphmodel/model-view';
import { layoutGraph } from '../../src/graphmodel/layout';
import { layeredLayout } from '../../src/graphmodel/layout/layered-layout';
import { ViewGraph } from '../../src/graphmodel/types';
import { packGraph, unpackGraph } from '../../src/graphmodel/wire';
import { readModel, writeModel } from '../../src/onnx/model-io';
import { skimModel } from '../../src/onnx/skim';
import { estimateText, nodeBox } from '../../media/graph/view/node-boxes';

const TESTDATA = process.env.OCTET_ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data';

function findModels(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) findModels(full, out);
    else if (name === 'model.onnx') out.push(full);
  }
  return out;
}

function checkLayout(g: ViewGraph, label: string): string {
  const boxes = g.nodes.map((n) => nodeBox(n, estimateText));
  const input = {
    sizes: Float64Array.from(boxes.flatMap((b) => [b.width, b.height])),
    edges: Int32Array.from(g.edges.flatMap((e) => [e.from, e.to])),
    direction: 'TB' as const,
  };
  const chosen = layoutGraph(input);
  for (const result of [chosen, layeredLayout(input)]) {
    assert.equal(result.x.length, g.nodes.length, label);
    for (let i = 0; i < g.nodes.length; i++) {
      assert.ok(Number.isFinite(result.x[i]) && Number.isFinite(result.y[i]), `${label}: node ${i} placed by ${result.algorithm}`);
    }
    assert.equal(result.edgeOffsets.length, g.edges.length + 1, label);
    for (let p = 0; p < result.edgePoints.length; p++) assert.ok(Number.isFinite(result.edgePoints[p]), `${label}: edge points finite`);
  }
  return chosen.algorithm;
}

test('every model.onnx of the ONNX backend test suite parses, lays out and round-trips', (t) => {
  if (!existsSync(TESTDATA)) {
    t.skip(`no ONNX test data at ${TESTDATA}: apt-get install libonnx-testdata (or set OCTET_ONNX_TESTDATA)`);
    return;
  }
  const models = findModels(TESTDATA);
  assert.ok(models.length > 100, `found ${models.length} models under ${TESTDATA}`);
  const tmp = mkdtempSync(join(tmpdir(), 'octet-roundtrip-'));
  const algorithms: Record<string, number> = {};
  let scopes = 0;
  let subgraphScopes = 0;
  const started = performance.now();
  try {
    for (const path of models) {
      const label = path.slice(TESTDATA.length + 1);
      const loaded = readModel(path);
      const mv = new ModelView(loaded.model, { fileName: 'model.onnx', fileBytes: loaded.fileBytes, hadExternalData: loaded.hadExternalData });
      const folded = mv.graphs({ fold: true });
      const raw = mv.graphs({ fold: false });
      assert.equal(folded.length, mv.scopes.length, label);
      const summary = mv.summary();
      assert.ok(summary.nodeCount > 0, label);
      for (const g of [...folded, ...raw]) {
        assert.deepEqual(unpackGraph(packGraph(g)), g, `${label}: the wire format loses nothing`);
        for (const e of g.edges) assert.ok(e.from >= 0 && e.from < g.nodes.length && e.to >= 0 && e.to < g.nodes.length, `${label}: edge in range`);
        const algorithm = checkLayout(g, `${label} [${g.scope}]`);
        algorithms[algorithm] = (algorithms[algorithm] ?? 0) + 1;
      }
      scopes += folded.length;
      subgraphScopes += folded.length - 1;
      // Structure-only read gives the same view model.
      const skimmed = skimModel(path);
      const skimView = new ModelView(skimmed.model, { fileName: 'model.onnx', fileBytes: skimmed.fileBytes, hadExternalData: false }, skimmed.data);
      assert.deepEqual(skimView.graphs({ fold: true }), folded, `${label}: skimmed view model`);
      // read -> write -> read gives the same graph (and the same view model).
      const copy = join(tmp, 'copy.onnx');
      writeModel(copy, loaded.model);
      const again = readModel(copy);
      assert.deepEqual(again.model.graph?.node, loaded.model.graph?.node, `${label}: nodes survive a round trip`);
      assert.deepEqual(again.model.graph?.initializer.map((i) => i.name), loaded.model.graph?.initializer.map((i) => i.name), `${label}: initializers survive`);
      const againView = new ModelView(again.model, { fileName: 'model.onnx', fileBytes: again.fileBytes, hadExternalData: false });
      assert.deepEqual(againView.graphs({ fold: true }), folded, `${label}: view model survives a round trip`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`# ${models.length} ONNX test models, ${scopes} scopes (${subgraphScopes} subgraphs/functions), layouts ${JSON.stringify(algorithms)}, ${(performance.now() - started).toFixed(0)} ms`);
});
