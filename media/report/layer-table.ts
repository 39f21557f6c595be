// The sortable per-layer error table. Clicking a row (or Enter on it) reveals the layer in the graph viewer.
import type { LayerError } from '../../src/common/report';
import type { LayerSortColumn, ReportPanelState } from '../../src/protocol/report';
import { formatDb, formatNumber, formatOwnDb, formatPercent } from '../../src/report/format';
import { el } from './dom';
import { LOW_SQNR_DB } from './layer-chart';

type Sort = ReportPanelState['sort'];

const COLUMNS: { key: LayerSortColumn; title: string; numeric: boolean; tip?: string }[] = [
  { key: 'index', title: '#', numeric: true, tip: 'Order in the report' },
  { key: 'node', title: 'Node', numeric: false },
  { key: 'opType', title: 'Op', numeric: false },
  { key: 'sqnrDb', title: 'SQNR', numeric: true, tip: 'Accumulated: this output in the INT8 model vs FP32, every layer before it quantized (higher is better)' },
  { key: 'ownSqnrDb', title: 'Own SQNR', numeric: true, tip: 'The error this node adds itself: noise at its output minus the worst at its inputs (lower = adds more)' },
  { key: 'weightSqnrDb', title: 'Weight SQNR', numeric: true, tip: 'Int8 weights (dequantized) vs FP32 weights, for Conv/Gemm/MatMul' },
  { key: 'localSqnrDb', title: 'Q/DQ SQNR', numeric: true, tip: 'Local error of this tensor’s own Q/DQ pair on FP32 values (clipping and rounding only)' },
  { key: 'cosine', title: 'Cosine', numeric: true, tip: 'Cosine similarity of INT8 and FP32 outputs' },
  { key: 'maxAbsError', title: 'Max |error|', numeric: true },
  { key: 'clippedRatio', title: 'Clipped', numeric: true, tip: 'Share of FP32 values outside the quantization range' },
];

function sortValue(layer: LayerError, index: number, column: LayerSortColumn): number | string {
  switch (column) {
    case 'index': return index;
    case 'node': return layer.node;
    case 'opType': return layer.opType;
    default: { const v = layer[column]; return typeof v !== 'number' || Number.isNaN(v) ? -Infinity : v; }
  }
}

export class LayerTable {
  readonly element: HTMLTableElement;
  private layers: LayerError[] = [];

  constructor(private sort: Sort, private readonly onSort: (sort: Sort) => void, private readonly onLayerClick: (node: string) => void) {
    this.element = el('table', { id: 'layer-table', class: 'data sortable' });
  }

  show(layers: LayerError[]): void {
    this.layers = layers;
    this.render();
  }

  private render(): void {
    const { column, descending } = this.sort;
    const head = el('tr', {}, ...COLUMNS.map((c) => {
      const active = c.key === column;
      const th = el('th', {
        class: `${c.numeric ? 'num' : ''} ${active ? 'sorted' : ''}`.trim() || undefined,
        title: c.tip, tabindex: 0, 'aria-sort': active ? (descending ? 'descending' : 'ascending') : 'none',
        data: { column: c.key },
      }, c.title, active ? (descending ? ' ▼' : ' ▲') : '');
      const activate = () => {
        this.sort = { column: c.key, descending: active ? !descending : false };
        this.onSort(this.sort);
        this.render();
      };
      th.addEventListener('click', activate);
      th.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); activate(); } });
      return th;
    }));
    const indexed = this.layers.map((layer, index) => ({ layer, index }));
    indexed.sort((a, b) => {
      const x = sortValue(a.layer, a.index, column);
      const y = sortValue(b.layer, b.index, column);
      const order = typeof x === 'string' || typeof y === 'string' ? String(x).localeCompare(String(y)) : x - y;
      return descending ? -order : order;
    });
    const rows = indexed.map(({ layer, index }) => {
      const row = el('tr', { tabindex: 0, class: layer.sqnrDb < LOW_SQNR_DB ? 'low' : undefined, title: `Show ${layer.node} in the graph`, data: { node: layer.node } },
        el('td', { class: 'num' }, index + 1),
        el('td', { class: 'node' }, layer.node),
        el('td', {}, layer.opType),
        el('td', { class: 'num', data: { value: layer.sqnrDb } }, formatDb(layer.sqnrDb)),
        el('td', { class: 'num' }, formatOwnDb(layer.ownSqnrDb)),
        el('td', { class: 'num' }, formatDb(layer.weightSqnrDb)),
        el('td', { class: 'num' }, formatDb(layer.localSqnrDb)),
        el('td', { class: 'num' }, formatNumber(layer.cosine)),
        el('td', { class: 'num' }, formatNumber(layer.maxAbsError)),
        el('td', { class: 'num' }, formatPercent(layer.clippedRatio, 3)));
      row.addEventListener('click', () => this.onLayerClick(layer.node));
      row.addEventListener('keydown', (e) => { if (e.key === 'Enter') this.onLayerClick(layer.node); });
      return row;
    });
    this.element.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
  }
}
