// The webview protocols (src/protocol): every message the pages send passes, and every field of every message is
// checked (the graph's `painted` was once accepted after checking 1 of its 5 fields); the saved states are checked
// when they come back; the graph host (GraphSession, the real one) ignores a refused message and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphSession } from '../../src/extension/graph/graph-session';
import { ModelView } from '../../src/graphmodel/model-view';
import { graphProtocol, HostToWebview, PersistedState, WebviewToHost as GraphMessage } from '../../src/protocol/graph';
import { reportProtocol, ReportPanelState, WebviewToHost as ReportMessage } from '../../src/protocol/report';
import { checkFromWebview, checkSavedState, WebviewProtocol } from '../../src/protocol/webview';
import { smallCnn } from '../graph/support/fixtures';
import { realisticReport } from '../report/fixture';

const GRAPH_MESSAGES: GraphMessage[] = [
  { type: 'ready' },
  { type: 'ready', pageAgeMs: 120 },
  { type: 'details', requestId: 3, scope: 'main', node: 7, fold: true },
  { type: 'setFold', fold: false },
  { type: 'export', format: 'png', data: 'data:image/png;base64,AAAA', suggestedName: 'm.graph.png' },
  { type: 'painted', firstPaintMs: 812.5, layoutMs: 300, algorithm: 'layered', nodes: 120, at: 1_760_000_000_000 },
  { type: 'painted', firstPaintMs: -1, layoutMs: 0, algorithm: 'error', nodes: 0, at: 1_760_000_000_000 },
  { type: 'revealed', node: '/conv1/Conv', found: false },
];

const REPORT_MESSAGES: ReportMessage[] = [
  { type: 'ready' }, { type: 'revealNode', node: '/fc/Gemm' }, { type: 'openGraph' }, { type: 'revealInExplorer' }, { type: 'rerun' },
  { type: 'export', format: 'json' }, { type: 'export', format: 'markdown' },
];

function refusal(result: { ok: boolean; error?: string }): string {
  assert.equal(result.ok, false, 'expected a refusal');
  return result.error ?? '';
}

/** Each field of each message (but `type` and optional ones), left out or of another type, is refused by name. */
function assertEveryFieldChecked<M extends { type: string }, W, S>(protocol: WebviewProtocol<M, W, S>, messages: M[]): void {
  for (const message of messages) {
    const fields: Record<string, unknown> = { ...message };
    for (const field of Object.keys(fields)) {
      if (field === 'type' || (message.type === 'ready' && field === 'pageAgeMs')) continue;
      const { [field]: _dropped, ...without } = fields;
      assert.equal(refusal(checkFromWebview(protocol, without)).split(':')[0], field, `${message.type} without ${field}`);
      const wrong = { ...fields, [field]: typeof fields[field] === 'string' ? 1 : 'x' };
      assert.equal(refusal(checkFromWebview(protocol, wrong)).split(':')[0], field, `${message.type} with a wrong ${field}`);
    }
  }
}

test('every message the pages send passes the host checks', () => {
  for (const message of GRAPH_MESSAGES) assert.ok(checkFromWebview(graphProtocol, message).ok, JSON.stringify(message));
  for (const message of REPORT_MESSAGES) assert.ok(checkFromWebview(reportProtocol, message).ok, JSON.stringify(message));
});

test('every field of every message is checked: each one missing, or of another type, is refused by name', () => {
  assertEveryFieldChecked(graphProtocol, GRAPH_MESSAGES);
  assertEveryFieldChecked(reportProtocol, REPORT_MESSAGES);
  assert.equal(refusal(checkFromWebview(graphProtocol, { type: 'ready', pageAgeMs: '5' })), 'pageAgeMs: expected a number, got a string');
  assert.equal(refusal(checkFromWebview(graphProtocol, { type: 'details', requestId: 1, scope: 'main', node: 0.5, fold: true })),
    'node: expected a whole number, got 0.5');
  assert.match(refusal(checkFromWebview(graphProtocol, { type: 'paint' })), /^type: expected one of 'ready', .*got 'paint'$/);
  assert.match(refusal(checkFromWebview(reportProtocol, { type: 'export', format: 'pdf' })), /^format: expected one of 'json', 'markdown', got 'pdf'$/);
  assert.equal(refusal(checkFromWebview(reportProtocol, 'ready')), 'expected an object, got a string');
});

test('the graph host acts on a good message and ignores a refused one, saying why', async () => {
  const view = new ModelView(smallCnn(), { fileName: 'cnn.onnx', fileBytes: 0, hadExternalData: false });
  const posted: HostToWebview[] = [];
  const rejected: string[] = [];
  const painted: unknown[] = [];
  const session = new GraphSession({ model: async () => view, overlay: () => null }, (m) => posted.push(m),
    { rejected: (error) => rejected.push(error), painted: (info) => painted.push(info) });
  await session.receive({ type: 'painted', firstPaintMs: 5 });
  await session.receive({ type: 'details', requestId: '1', scope: 'main', node: 0, fold: true });
  assert.deepEqual(rejected, ['layoutMs: missing (expected a number)', 'requestId: expected a whole number, got a string']);
  assert.equal(painted.length, 0);
  assert.equal(posted.length, 0, 'nothing answered');
  await session.receive({ type: 'ready' });
  await session.receive(GRAPH_MESSAGES[5]);
  assert.equal(posted[0]?.type, 'init');
  assert.equal(painted.length, 1);
  assert.equal(rejected.length, 2);
});

test('saved states are checked when they come back', () => {
  const graphState: PersistedState = { scope: 'main', selected: 'conv1', viewports: { main: { scale: 0.5, x: 10, y: -4 } }, direction: 'LR',
    fold: true, overlayOn: false, overlayMetric: 'own', panel: 'node', query: 'conv' };
  assert.ok(checkSavedState(graphProtocol, graphState).ok);
  assert.equal(refusal(checkSavedState(graphProtocol, { ...graphState, direction: 'RL' })), "direction: expected one of 'TB', 'LR', got 'RL'");
  assert.equal(refusal(checkSavedState(graphProtocol, { ...graphState, viewports: { main: { scale: 1, x: 0 } } })),
    'viewports.main.y: missing (expected a number)');

  const report = realisticReport();
  const reportState: ReportPanelState = { view: { report, reportPath: '/r/m.report.json', fp32ModelPath: '/r/m.onnx', int8ModelPath: '/r/m.int8.onnx' },
    sort: { column: 'sqnrDb', descending: true } };
  assert.ok(checkSavedState(reportProtocol, reportState).ok);
  const damaged = structuredClone(reportState) as unknown as { view: { report: { layers: Record<string, unknown>[] } } };
  damaged.view.report.layers[1].sqnrDb = 'high';
  assert.equal(refusal(checkSavedState(reportProtocol, damaged)), 'view.report.layers[1].sqnrDb: expected a number, got a string');
  assert.equal(refusal(checkSavedState(reportProtocol, { ...reportState, sort: { column: 'bogus', descending: true } })).split(':')[0], 'sort.column');
});
