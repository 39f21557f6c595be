// Report panel webview: renders one Octet Report (accuracy, latency, size, where the time goes, per-layer error with
// a chart, ops kept in FP32, settings, machine). Keeps what it shows in webview state so it comes back after hide/show and reloads.
import './report.css';
import { reportProtocol, ReportPanelState, ReportView, WebviewToHost } from '../../src/protocol/report';
import { baseName } from '../../src/report/format';
import { detailsSection, keptFloatSection, outputsSection, sensitivitySection, tuningSection, warningsSection } from './details';
import { el } from './dom';
import { LayerChart } from './layer-chart';
import { layerTable } from './layer-table';
import { latencyTable, summaryCards } from './summary';
import { DEFAULT_TIME_SORT, timeSection } from './time-section';
import { connectHost } from '../common/vscode-api';

const app = document.getElementById('app') as HTMLElement;
const host = connectHost(reportProtocol);
let state: ReportPanelState | null = host.getState() ?? null;

const send = (message: WebviewToHost) => host.post(message);
const revealNode = (node: string) => send({ type: 'revealNode', node });

function button(id: string, text: string, title: string, message: WebviewToHost, secondary = true): HTMLButtonElement {
  const b = el('button', { id, title, class: secondary ? 'secondary' : undefined }, text);
  b.addEventListener('click', () => send(message));
  return b;
}

function render(view: ReportView): void {
  const { report } = view;
  const sort = state?.sort ?? { column: 'index', descending: false };
  const timeSort = state?.timeSort ?? DEFAULT_TIME_SORT;
  state = { view, sort, timeSort };
  host.setState(state);
  const saveState = (change: Partial<ReportPanelState>) => {
    if (state) { state = { ...state, ...change }; host.setState(state); }
  };

  const header = el('header', {},
    el('div', { class: 'title' },
      el('h1', {}, 'INT8 report — ', el('span', { id: 'model-name' }, baseName(view.fp32ModelPath))),
      el('p', { class: 'muted' }, `${baseName(view.fp32ModelPath)} → ${baseName(view.int8ModelPath)} · `,
        el('time', { datetime: report.createdAt }, new Date(report.createdAt).toLocaleString()), ` · Octet ${report.octetVersion}`)),
    el('div', { class: 'toolbar' },
      button('open-graph', 'Open INT8 graph', `Open ${baseName(view.int8ModelPath)} in the graph viewer`, { type: 'openGraph' }, false),
      button('reveal', 'Reveal in Explorer', `Show ${baseName(view.int8ModelPath)} in the Explorer`, { type: 'revealInExplorer' }),
      button('rerun', 'Re-run…', 'Quantize again with other settings', { type: 'rerun' }),
      button('export-json', 'Export JSON', 'Save this report as JSON', { type: 'export', format: 'json' }),
      button('export-md', 'Export Markdown', 'Save this report as Markdown', { type: 'export', format: 'markdown' })));

  const layerSection = el('section', { id: 'layers' }, el('h2', {}, `Per-layer error (${report.layers.length} outputs)`));
  if (report.layers.length === 0) {
    layerSection.append(el('p', { class: 'muted' }, 'The engine measured no per-layer error for this run.'));
  } else {
    const canvas = el('canvas', { id: 'layer-chart', 'aria-label': 'Per-layer SQNR chart', role: 'img' });
    layerSection.append(el('p', { class: 'muted' }, 'INT8 vs FP32 output of each quantized layer. Click a bar or a row to show the layer in the graph; red marks low SQNR.'),
      el('div', { class: 'chart' }, canvas));
    const table = layerTable(sort, (next) => saveState({ sort: next }), revealNode);
    layerSection.append(el('div', { class: 'table-scroll' }, table.element));
    table.show(report.layers);
    // The chart needs its canvas in the document to measure it.
    queueMicrotask(() => new LayerChart(canvas, revealNode).show(report.layers));
  }

  const time = timeSection(report, { sort: timeSort, onSort: (next) => saveState({ timeSort: next }), revealNode });
  app.replaceChildren(header, summaryCards(report), outputsSection(report) ?? '', latencyTable(report) ?? '', warningsSection(report) ?? '', time ?? '', layerSection,
    sensitivitySection(report) ?? '', keptFloatSection(report, revealNode), tuningSection(report) ?? '', detailsSection(report));
  document.body.dataset.rendered = view.reportPath;
}

host.onMessage((message) => {
  if (message.type === 'showReport') render(message.view);
  else if (message.type === 'notice') app.prepend(el('p', { class: 'notice' }, message.text));
});

if (state) render(state.view);
send({ type: 'ready' });
