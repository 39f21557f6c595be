// Model properties: file, IR version, opsets, producer, metadata, inputs/outputs, op counts, report summary.
import type { ErrorOverlay } from '../../../src/graphmodel/error-overlay';
import type { ModelSummary, ValueSummary } from '../../../src/graphmodel/types';
import { formatKernelMs } from '../../../src/graphmodel/time-profile';
import { h } from './dom';
import { formatBytes, formatCount, formatValue } from './format';

function row(key: string, value: Node | string, mono = false): HTMLTableRowElement {
  return h('tr', {}, h('td', { class: 'key' }, key), h('td', { class: mono ? 'mono' : '' }, value));
}

function values(list: ValueSummary[]): HTMLElement {
  const t = h('table');
  for (const v of list) t.append(row(v.name, `${v.dtype ?? '?'}[${(v.shape ?? []).join(', ')}]`, true));
  return t;
}

export function renderModelPanel(m: ModelSummary, overlay: ErrorOverlay | null): HTMLElement {
  const root = h('div', { class: 'model-panel' });
  root.append(h('h2', {}, m.fileName), h('div', { class: 'sub' }, 'Model properties'));
  const t = h('table');
  t.append(
    row('file size', formatBytes(m.fileBytes)),
    row('IR version', String(m.irVersion)),
    row('opsets', m.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')),
    row('producer', `${m.producer} ${m.producerVersion}`.trim() || '–'),
  );
  if (m.domain) t.append(row('domain', m.domain));
  if (m.modelVersion) t.append(row('model version', String(m.modelVersion)));
  t.append(
    row('nodes', formatCount(m.nodeCount)),
    row('initializers', `${formatCount(m.initializerCount)} (${formatBytes(m.weightBytes)})`),
    row('quantized', m.quantized ? 'yes (Q/DQ or integer ops)' : 'no'),
  );
  if (m.hadExternalData) t.append(row('external data', 'yes'));
  if (m.docString) t.append(row('doc', m.docString));
  root.append(t);
  if (m.metadata.length) {
    root.append(h('h3', {}, 'Metadata'));
    const md = h('table');
    for (const p of m.metadata) md.append(row(p.key, p.value, true));
    root.append(md);
  }
  root.append(h('h3', {}, 'Inputs'), values(m.inputs), h('h3', {}, 'Outputs'), values(m.outputs));
  if (m.functions.length) root.append(h('h3', {}, 'Functions'), h('div', { class: 'mono' }, m.functions.join(', ')));
  if (overlay) {
    root.append(h('h3', {}, 'Report'));
    const r = h('table');
    r.append(row('source', overlay.source, true), row('layers', String(overlay.layers.length)));
    if (overlay.outputSqnrDb !== undefined) r.append(row('output SQNR', `${formatValue(overlay.outputSqnrDb)} dB`));
    if (overlay.top1DropPoints !== undefined && overlay.top1DropPoints !== null) r.append(row('top-1 drop', `${formatValue(overlay.top1DropPoints)} points`));
    const time = overlay.time;
    r.append(row('time profile', time
      ? `${time.nodes.length} nodes, kernel time per run FP32 ${formatKernelMs(time.fp32TotalMs)} → INT8 ${formatKernelMs(time.int8TotalMs)}`
        + (time.fasterThanFp32 === false ? ' (INT8 not faster than FP32 on this CPU)' : '')
      : 'none (the report was not profiled)'));
    root.append(r);
  }
  root.append(h('h3', {}, 'Operators'));
  const ops = h('table');
  for (const [op, n] of Object.entries(m.opHistogram).sort((a, b) => b[1] - a[1])) ops.append(row(op, String(n)));
  root.append(ops);
  return root;
}
