// The graph viewer's Time overlay without a browser: the report's profile mapped onto view nodes by name, colours and
// labels for INT8 time and for gain, and the report locator handing the profile over (from a file, or in process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OverlayIndex, overlayFromReport } from '../../src/graphmodel/error-overlay';
import { ModelView } from '../../src/graphmodel/model-view';
import { gainColor, gainLegend, int8TimeColor, int8TimeLegend, nodeGain } from '../../src/graphmodel/time-profile';
import { findReportOverlay, overlayFromReportValue } from '../../src/extension/graph/report-locator';
import { fakeProfile, fakeReport, smallCnn, toQdq } from './support/fixtures';
import { realisticReport } from '../report/fixture';

function graph() {
  return new ModelView(toQdq(smallCnn()), { fileName: 'small.int8.onnx', fileBytes: 0, hadExternalData: false }).graphs({ fold: true })[0];
}

const NODES = [{ name: 'conv1', opType: 'Conv' }, { name: 'relu1', opType: 'Relu' }, { name: 'conv2', opType: 'Conv' }, { name: 'add1', opType: 'Add' }];

test('time overlay: INT8 ms and gain per node by name, colours and labels follow the metric', () => {
  const g = graph();
  const node = (label: string) => g.nodes.find((n) => n.label === label)!;
  const timed = fakeProfile(NODES, 'conv2');
  const index = new OverlayIndex(overlayFromReport({ ...fakeReport([]), ...timed }, 'x.report.json'));
  assert.equal(index.hasTime, true);
  assert.equal(index.hasLayers, false);
  const conv1 = index.timeForNode(node('conv1'));
  assert.ok(conv1);
  assert.equal(conv1.int8Share, conv1.int8Ms / timed.profile!.int8TotalMs);
  assert.equal(index.timeForNode(node('conv2'))?.decision?.action, 'keep-float', 'the speed decision reaches its node');

  index.metric = 'int8Ms';
  assert.equal(index.labelFor(node('conv1')), '0.133 ms');
  assert.equal(index.colorFor(node('conv1')), int8TimeColor(conv1.int8Share));
  assert.notEqual(index.colorFor(node('conv1')), index.colorFor(node('add1')), 'less time, another colour');
  assert.equal(index.labelFor(node('relu1')), 'fused', 'a Relu run inside the conv takes no time of its own');

  index.metric = 'gain';
  assert.equal(index.labelFor(node('conv1')), '3.00×');
  assert.equal(index.labelFor(node('conv2')), '0.80×', 'slower in INT8 with its Q/DQ');
  assert.equal(index.colorFor(node('conv2')), gainColor(0.52 / 0.65));
  assert.match(index.colorFor(node('conv2'))!, /^hsl\(15,/, 'red side of the scale');
  assert.equal(index.colorFor(node('relu1')), null, 'no gain without time');
  assert.equal(index.labelFor(node('relu1')), null);
  assert.equal(nodeGain(index.timeForNode(node('relu1'))!), null);

  index.metric = 'accumulated';
  assert.equal(index.colorFor(node('conv1')), null, 'the error view has no layers to show');
  const none = new OverlayIndex(overlayFromReport(fakeReport([{ name: 'conv1', opType: 'Conv', tensor: 'c1' }]), 'y.report.json'));
  assert.equal(none.hasTime, false, 'no profile, no time view');
  assert.equal(none.timeForNode(node('conv1')), undefined);
});

test('time legends: bands in order, edges in ms for this model', () => {
  const bands = int8TimeLegend(20);
  assert.deepEqual(bands.map((b) => b.label), ['< 0.5% (< 0.100 ms)', '0.5–2% (< 0.400 ms)', '2–5% (< 1.00 ms)', '5–10% (< 2.00 ms)', '≥ 10% (≥ 2.00 ms)']);
  assert.equal(new Set(bands.map((b) => b.color)).size, 5);
  assert.match(gainLegend()[0].label, /INT8 slower/);
  assert.match(gainLegend()[4].color, /^hsl\(125,/);
});

test('the report locator hands the profile over, from a file beside the model and in process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'octet-time-'));
  try {
    const model = join(dir, 'small.int8.onnx');
    const timed = fakeProfile(NODES, 'conv2');
    writeFileSync(join(dir, 'small.int8.report.json'), JSON.stringify({ ...realisticReport(), ...timed }));
    const fromFile = findReportOverlay(model);
    assert.equal(fromFile?.time?.nodes.length, NODES.length);
    assert.equal(fromFile?.time?.fasterThanFp32, true);
    const inProcess = overlayFromReportValue({ ...realisticReport(), ...timed }, 'quantize run');
    assert.deepEqual(inProcess.time?.nodes.map((n) => n.node), NODES.map((n) => n.name));
    const older = overlayFromReportValue(realisticReport(), 'quantize run');
    assert.equal(older.time, undefined, 'a report without a profile has no time view');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
