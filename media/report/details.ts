// The lower part of the report: ops kept in FP32 and why, warnings, settings, calibration, machine and runtime ops.
import type { Report } from '../../src/common/report';
import { formatBytes } from '../../src/report/format';
import { outputsTable, readTuning, sensitivityTable, settingsTable, Table, tuningTable } from '../../src/report/tables';
import { el } from './dom';

export function definitionTable(id: string, rows: [string, string][]): HTMLElement {
  return el('table', { class: 'definitions', id }, el('tbody', {}, ...rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v)))));
}

export function keptFloatSection(report: Report, onNodeClick: (node: string) => void): HTMLElement {
  const section = el('section', { id: 'kept' }, el('h2', {}, `Kept in FP32 (${report.keptFloat.length})`));
  if (report.keptFloat.length === 0) {
    section.append(el('p', { class: 'muted' }, 'Every quantizable op was quantized.'));
    return section;
  }
  const rows = report.keptFloat.map((k) => {
    const tr = el('tr', { tabindex: 0, title: `Show ${k.node} in the graph`, data: { node: k.node } },
      el('td', { class: 'node' }, k.node), el('td', {}, k.opType), el('td', {}, k.reason));
    tr.addEventListener('click', () => onNodeClick(k.node));
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') onNodeClick(k.node); });
    return tr;
  });
  section.append(el('table', { class: 'data', id: 'kept-table' },
    el('thead', {}, el('tr', {}, el('th', {}, 'Node'), el('th', {}, 'Op'), el('th', {}, 'Why'))), el('tbody', {}, ...rows)));
  return section;
}

export function dataTable(id: string, t: Table, caption?: string): HTMLElement {
  const numeric = new Set(t.numeric ?? []);
  return el('table', { class: 'data', id },
    ...(caption ? [el('caption', {}, caption)] : []),
    el('thead', {}, el('tr', {}, ...t.header.map((h, i) => el('th', { class: numeric.has(i) ? 'num' : undefined }, h)))),
    el('tbody', {}, ...t.rows.map((row) => el('tr', {}, ...row.map((cell, i) => el('td', { class: numeric.has(i) ? 'num' : undefined }, cell))))));
}

/** Every model output with the agreement measure that fits its kind (segmentation maps, sequences, detection heads). */
export function outputsSection(report: Report): HTMLElement | null {
  const outputs = outputsTable(report);
  if (!outputs) return null;
  return el('section', { id: 'outputs' }, el('h2', {}, 'Outputs'),
    el('p', { class: 'muted' }, 'INT8 against FP32 per output, with the agreement that fits each kind of output.'),
    dataTable('outputs-table', outputs));
}

/** Accuracy-aware mode: the bound and every trial (the chosen one marked). */
export function tuningSection(report: Report): HTMLElement | null {
  const tuning = readTuning(report);
  if (!tuning) return null;
  const trials = tuningTable(tuning);
  return el('section', { id: 'tuning' }, el('h2', {}, 'Tuning (accuracy-aware)'),
    definitionTable('tuning-facts', tuning.facts),
    ...(trials ? [dataTable('tuning-trials', trials, 'One row per trial; the chosen one was written.')] : []));
}

/** Each layer's measured effect on the output, when the run measured it (accuracy-aware search or --sensitivity). */
export function sensitivitySection(report: Report): HTMLElement | null {
  const sensitive = sensitivityTable(report);
  if (!sensitive) return null;
  return el('section', { id: 'sensitivity' }, el('h2', {}, 'Effect on the output (measured)'),
    dataTable('sensitivity-table', sensitive.table,
      `Output SQNR gained when that layer alone returns to FP32; ${sensitive.table.rows.length} most sensitive of ${sensitive.measured} measured.`));
}

export function warningsSection(report: Report): HTMLElement | null {
  if (report.warnings.length === 0) return null;
  return el('section', { id: 'warnings' }, el('h2', {}, 'Warnings'), el('ul', { class: 'warnings' }, ...report.warnings.map((w) => el('li', {}, w))));
}

function histogram(ops: Record<string, number>): string {
  return Object.entries(ops).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`).join(', ') || '—';
}

export function detailsSection(report: Report): HTMLElement {
  const s = report.settings;
  const c = report.calibration;
  const m = report.machine;
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  return el('section', { id: 'details' }, el('h2', {}, 'Settings and machine'), el('div', { class: 'details-grid' },
    // The same rows, in the same words, as the Markdown and HTML reports; data sets are in the Calibration column.
    el('div', {}, el('h3', {}, 'Settings'), definitionTable('settings-table',
      settingsTable(report).rows.filter(([k]) => k !== 'Calibration data' && k !== 'Evaluation data').map(([k, v]) => [k, v] as [string, string]))),
    el('div', {}, el('h3', {}, 'Calibration'), definitionTable('calibration-table', [
      ['Data', c.dataset.path],
      ['Labels', c.dataset.labelled ? (c.dataset.labelsSource ?? 'yes') : 'none'],
      ['Images', `${c.images} (batch ${s.calibBatch})`],
      ['Time', `${c.seconds.toFixed(1)} s`],
      ['Peak memory', `${c.peakRssMb.toFixed(0)} MB`],
      ['Evaluation', report.evaluation ? `${report.evaluation.dataset.path} (${report.evaluation.limit} images, skip ${report.evaluation.skip})` : 'off'],
    ])),
    el('div', {}, el('h3', {}, 'Machine'), definitionTable('machine-table', [
      ['CPU', m.cpu],
      ['Cores', String(m.cores)],
      ['VNNI / AVX-512 / AVX2', `${yes(m.vnni)} / ${yes(m.avx512)} / ${yes(m.avx2)}`],
      ['ONNX Runtime', m.ortVersion],
      ['Node', m.nodeVersion],
      ['Platform', m.platform],
    ])),
    el('div', {}, el('h3', {}, 'Models'), definitionTable('models-table', [
      ['FP32', `${report.fp32Model.path} (${formatBytes(report.fp32Model.bytes)}, opset ${report.fp32Model.opset}, ${report.fp32Model.producer || 'unknown producer'})`],
      ['INT8', `${report.int8Model.path} (${formatBytes(report.int8Model.bytes)})`],
      ['FP32 ops (optimized)', histogram(report.optimizedFp32Ops)],
      ['INT8 ops as run', histogram(report.int8RuntimeOps)],
    ])),
  ));
}
