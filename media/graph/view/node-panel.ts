// Side panel for the selected node: type, attributes, inputs/outputs, weights with statistics and histogram
// (computed by the host on request), folded Q/DQ parameters, per-layer error, time in each model and links into
// subgraphs.
import type { LayerOverlay } from '../../../src/graphmodel/error-overlay';
import { formatKernelMs, int8CostMs, NodeTimeOverlay } from '../../../src/graphmodel/time-profile';
import type { NodeDetails, QuantParamsDetails, TensorDetails } from '../../../src/protocol/graph';
import type { ScopeInfo, TensorRef, ViewNode } from '../../../src/graphmodel/types';
import { h } from './dom';
import { formatBytes, formatCount, formatList, formatValue } from './format';
import { histogramView } from './histogram';
import { formatShape } from './node-boxes';

export interface NodePanelActions {
  openScope(scope: string): void;
  /** Selects the node that produces / reads a tensor. */
  followTensor(tensor: string, direction: 'input' | 'output'): void;
}

function row(key: string, value: Node | string, mono = false): HTMLTableRowElement {
  return h('tr', {}, h('td', { class: 'key' }, key), h('td', { class: mono ? 'mono' : '' }, value));
}

function typeText(ref: Pick<TensorRef, 'dtype' | 'shape'>): string {
  const shape = ref.shape ? `[${formatShape(ref.shape).replace(/×/g, ', ')}]` : '';
  return `${ref.dtype ?? '?'}${shape}`;
}

function quantText(q: QuantParamsDetails): string {
  const axis = q.axis !== undefined ? `, axis ${q.axis}` : '';
  return `${q.storage}${axis}: scale ${formatList(q.scale, q.count)}; zero point ${formatList(q.zeroPoint, q.count)}`;
}

function statsTable(t: TensorDetails): HTMLElement {
  const table = h('table');
  const s = t.stats;
  if (!s) return table;
  table.append(
    row('min / max', `${formatValue(s.min)} / ${formatValue(s.max)}`, true),
    row('mean / std', `${formatValue(s.mean)} / ${formatValue(s.std)}`, true),
    row('zeros', `${(s.zeros * 100).toFixed(1)}%`),
  );
  if (s.nonFinite) table.append(row('NaN/Inf', String(s.nonFinite)));
  if (s.sampled < s.count) table.append(row('sampled', `${formatCount(s.sampled)} of ${formatCount(s.count)}`));
  return table;
}

function tensorCard(t: TensorDetails): HTMLElement {
  const card = h('div', { class: 'tensor' },
    h('div', { class: 'name mono' }, t.param ? `${t.param}: ` : '', t.name),
    h('div', { class: 'sub mono' }, `${t.dtype}[${t.shape.join(', ')}] · ${formatCount(t.elements)} values · ${formatBytes(t.bytes)}`));
  if (t.error) card.append(h('div', { class: 'note' }, t.error));
  if (t.stored) {
    card.append(h('div', { class: 'note' }, `stored as ${t.stored.dtype} '${t.stored.name}'; statistics of the dequantized values`));
  }
  if (t.quant) card.append(h('div', { class: 'note mono' }, quantText(t.quant)));
  if (t.stats) {
    card.append(statsTable(t));
    if (t.stats.histogram.counts.length) card.append(histogramView(t.stats.histogram, `Histogram of ${t.name}`));
  }
  if (t.preview && t.preview.length) card.append(h('div', { class: 'note mono' }, `first values: ${t.preview.map((v) => formatValue(v)).join(', ')}`));
  return card;
}

function tensorTable(refs: TensorRef[], direction: 'input' | 'output', actions: NodePanelActions): HTMLElement {
  const table = h('table');
  for (const ref of refs) {
    if (!ref.name) { table.append(row(ref.param ?? '·', h('span', { class: 'note' }, '(omitted)'))); continue; }
    const link = h('button', { class: 'link mono', type: 'button', title: direction === 'input' ? 'Go to the producer' : 'Go to a reader' }, ref.name);
    link.addEventListener('click', () => actions.followTensor(ref.name, direction));
    const cell = h('div', {}, ref.constant ? h('span', {}, ref.name) : link, h('div', { class: 'sub mono' }, typeText(ref)));
    if (ref.constant) cell.append(h('span', { class: 'badge' }, 'constant'));
    if (ref.quant) cell.append(h('span', { class: 'badge' }, `${ref.quant.storage} Q/DQ`));
    table.append(row(ref.param ?? (direction === 'input' ? 'in' : 'out'), cell));
  }
  return table;
}

/** The node's times from the report's profile: FP32 and INT8 kernels, Q/DQ overhead, gain, and any speed decision. */
function timeTable(t: NodeTimeOverlay): HTMLElement {
  const table = h('table', { class: 'time' });
  const kernels = (list: string[]) => (list.length > 0 ? list.join(', ') : 'none (fused into another node)');
  table.append(
    row('FP32', `${formatKernelMs(t.fp32Ms)} · ${kernels(t.fp32Kernels)}`),
    row('INT8', `${formatKernelMs(t.int8Ms)} · ${kernels(t.int8Kernels)}`),
    row('Q/DQ overhead', formatKernelMs(t.overheadMs)),
    row('gain', t.gain === null ? '— (no time of its own in one model)' : `${t.gain.toFixed(2)}× (FP32 ÷ INT8 with Q/DQ)${t.gain < 1 ? ' · INT8 slower here' : ''}`),
    row('share', `${(t.int8Share * 100).toFixed(1)}% of INT8 kernel time (${formatKernelMs(int8CostMs(t))})`),
  );
  if (t.decision) {
    const d = t.decision;
    const what = d.action === 'keep-float' ? 'kept in float' : 'back in int8';
    table.append(row('speed choice', `${what} tried: ${d.reason}; model ${formatKernelMs(d.beforeMs)} → ${formatKernelMs(d.afterMs)}, ${d.kept ? 'kept' : 'not kept'}`));
  }
  return table;
}

export function renderNodePanel(node: ViewNode, scope: ScopeInfo, details: NodeDetails | 'loading' | { error: string } | null,
  report: { layer?: LayerOverlay; time?: NodeTimeOverlay }, actions: NodePanelActions): HTMLElement {
  const { layer, time } = report;
  const root = h('div', { class: 'node-panel' });
  const title = h('h2', {}, node.label);
  root.append(title);
  const sub = h('div', { class: 'sub' }, node.kind === 'op' ? `${node.domain ? `${node.domain}.` : ''}${node.opType}` : node.kind === 'input' ? 'graph input' : 'graph output');
  if (node.int8) sub.append(h('span', { class: 'badge' }, 'int8'));
  root.append(sub);

  const info = h('table');
  info.append(row('type', node.opType));
  if (node.kind === 'op') info.append(row('name', node.name || h('span', { class: 'note' }, '(unnamed)'), true));
  if (node.domain) info.append(row('domain', node.domain));
  info.append(row('category', node.category));
  info.append(row('graph', scope.title));
  if (node.folded.length) info.append(row('folded', node.folded.join(', '), true));
  if (node.docString) info.append(row('doc', node.docString));
  root.append(info);

  if (layer) {
    root.append(h('h3', {}, 'Per-layer error (report)'));
    const t = h('table');
    t.append(row('SQNR', `${layer.sqnrDb.toFixed(2)} dB`));
    if (layer.ownSqnrDb !== undefined) t.append(row('own SQNR', layer.ownSqnrDb >= 200 ? 'adds no noise of its own' : `${layer.ownSqnrDb.toFixed(2)} dB (noise this node adds)`));
    if (layer.localSqnrDb !== undefined) t.append(row('Q/DQ SQNR', `${layer.localSqnrDb.toFixed(2)} dB (its own rounding, clipping)`));
    if (layer.weightSqnrDb !== undefined) t.append(row('weight SQNR', `${layer.weightSqnrDb.toFixed(2)} dB (int8 weights vs FP32)`));
    if (layer.sensitivityDb !== undefined) t.append(row('in FP32', `${layer.sensitivityDb >= 0 ? '+' : ''}${layer.sensitivityDb.toFixed(2)} dB output SQNR (measured)`));
    t.append(row('cosine', formatValue(layer.cosine)),
      row('max |error|', formatValue(layer.maxAbsError)), row('clipped', `${(layer.clippedRatio * 100).toFixed(3)}%`),
      row('compared', layer.tensor, true));
    root.append(t);
  }
  if (time) root.append(h('h3', {}, 'Time (profile, ms per run)'), timeTable(time));

  if (node.attributes.length) {
    root.append(h('h3', {}, 'Attributes'));
    const t = h('table');
    for (const a of node.attributes) t.append(row(a.name, a.value, true));
    root.append(t);
  }
  if (node.subgraphs.length) {
    root.append(h('h3', {}, 'Subgraphs'));
    for (const link of node.subgraphs) {
      const b = h('button', { type: 'button', title: 'Open this body (Enter)' }, `Open ${link.attribute}`);
      b.addEventListener('click', () => actions.openScope(link.scope));
      root.append(h('div', {}, b));
    }
  }
  if (node.inputs.length) { root.append(h('h3', {}, 'Inputs')); root.append(tensorTable(node.inputs, 'input', actions)); }
  if (node.outputs.length) { root.append(h('h3', {}, 'Outputs')); root.append(tensorTable(node.outputs, 'output', actions)); }

  if (node.kind === 'op') {
    if (details === 'loading') root.append(h('div', { class: 'note' }, 'Computing weight statistics…'));
    else if (details && 'error' in details) root.append(h('div', { class: 'note' }, `Details unavailable: ${details.error}`));
    else if (details) {
      if (details.activations.length) {
        root.append(h('h3', {}, 'Quantization (folded Q/DQ)'));
        for (const a of details.activations) {
          root.append(h('div', { class: 'tensor' }, h('div', { class: 'name mono' }, `${a.direction}: `, a.tensor), h('div', { class: 'sub mono' }, quantText(a.quant))));
        }
      }
      if (details.tensors.length) {
        root.append(h('h3', {}, 'Weights and constants'));
        for (const t of details.tensors) root.append(tensorCard(t));
      }
    }
  }
  return root;
}
