// "Where the time goes" in the report panel: the plain verdict when INT8 is not faster, the profile's summary, the
// chart of the nodes taking the most time, every profiled node in a sortable table (sort kept in webview state),
// totals by op type, and the speed-aware choice's decisions. Rows and bars reveal their node in the graph viewer.
import type { NodeTiming, Report } from '../../src/common/report';
import { int8CostMs, nodeGain } from '../../src/graphmodel/time-profile';
import type { TimeSortColumn } from '../../src/protocol/report';
import { timeChartRows } from '../../src/report/chart-data';
import {
  kernelsText, NO_SPEED_DECISIONS, notFasterSentence, paddedInputsSentence, profileSummary, readTimeSection, SPEED_DECISIONS_CAPTION, speedDecisionsTable,
  speedFacts, TIME_BY_OP_CAPTION, TIME_NODE_COLUMNS, timeByOpTable, timeNodeCells,
} from '../../src/report/tables';
import { dataTable, definitionTable } from './details';
import { el } from './dom';
import { Column, Sort, SortableTable } from './sortable-table';
import { TimeChart } from './time-chart';

export const DEFAULT_TIME_SORT: Sort<TimeSortColumn> = { column: 'int8Ms', descending: true };

/** Sort values: the raw numbers behind each shown cell (gain without a value sorts lowest). */
function sortValue(n: NodeTiming, key: TimeSortColumn): number | string {
  switch (key) {
    case 'node': return n.node;
    case 'opType': return n.opType;
    case 'gain': return nodeGain(n) ?? -Infinity;
    case 'kernels': return kernelsText(n);
    default: return n[key];
  }
}

const COLUMNS: Column<NodeTiming, TimeSortColumn>[] = TIME_NODE_COLUMNS.map((c) => ({
  key: c.key, title: c.title, numeric: c.numeric, tip: 'tip' in c ? c.tip : undefined, firstDescending: c.numeric,
  className: c.key === 'node' ? 'node' : undefined,
  value: (n) => sortValue(n, c.key),
  cell: (n) => timeNodeCells(n)[c.key],
}));

export interface TimeSectionOptions {
  sort: Sort<TimeSortColumn>;
  onSort(sort: Sort<TimeSortColumn>): void;
  revealNode(node: string): void;
}

export function timeSection(report: Report, options: TimeSectionOptions): HTMLElement | null {
  const time = readTimeSection(report);
  if (!time) return null;
  const section = el('section', { id: 'time' }, el('h2', {}, 'Where the time goes'));
  const notFaster = notFasterSentence(report);
  if (notFaster) section.append(el('p', { class: 'notice warn', id: 'not-faster', role: 'note' }, notFaster));
  const padded = paddedInputsSentence(report);
  if (padded) section.append(el('p', { class: 'notice', id: 'padded-inputs' }, padded));
  const { profile, speed } = time;
  if (profile) {
    const canvas = el('canvas', { id: 'time-chart', 'aria-label': 'Nodes taking the most time, FP32 vs INT8', role: 'img' });
    const rows = timeChartRows(profile);
    const chart = el('div', { class: 'chart' }, canvas);
    chart.style.height = `${Math.max(200, rows.length * 26 + 80)}px`;
    const table = new SortableTable({
      id: 'time-table', columns: COLUMNS, node: (n) => n.node, onSort: options.onSort, onRowClick: options.revealNode,
      rowClass: (n) => (nodeGain(n) !== null && int8CostMs(n) > n.fp32Ms ? 'slower' : undefined),
    }, options.sort);
    table.show(profile.nodes);
    section.append(el('p', { class: 'muted', id: 'profile-summary' }, profileSummary(profile)),
      el('p', { class: 'muted' }, 'Click a bar or a row to show the node in the graph; rows where INT8 (with its Q/DQ) is slower than FP32 are marked.'),
      chart, el('div', { class: 'table-scroll' }, table.element),
      dataTable('time-ops-table', timeByOpTable(profile), TIME_BY_OP_CAPTION));
    // The chart needs its canvas in the document to measure it.
    queueMicrotask(() => new TimeChart(canvas, options.revealNode).show(rows));
  }
  if (speed) {
    section.append(el('h3', {}, 'Speed-aware choice'), definitionTable('speed-facts', speedFacts(speed)));
    const decisions = speedDecisionsTable(speed);
    section.append(decisions ? dataTable('speed-decisions', decisions, SPEED_DECISIONS_CAPTION) : el('p', { class: 'muted' }, NO_SPEED_DECISIONS));
  }
  return section;
}
