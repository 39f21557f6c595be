// The sortable per-layer error table. Clicking a row (or Enter on it) reveals the layer in the graph viewer.
import type { LayerError } from '../../src/common/report';
import type { LayerSortColumn, ReportPanelState } from '../../src/protocol/report';
import { formatDb, formatNumber, formatOwnDb, formatPercent } from '../../src/report/format';
import { LOW_SQNR_DB } from './layer-chart';
import { Column, SortableTable } from './sortable-table';

type Sort = ReportPanelState['sort'];

/** A measured value, or -Infinity (sorts lowest) when the report lacks it. */
function measured(v: number | undefined): number {
  return typeof v !== 'number' || Number.isNaN(v) ? -Infinity : v;
}

const COLUMNS: Column<LayerError, LayerSortColumn>[] = [
  { key: 'index', title: '#', numeric: true, tip: 'Order in the report', value: (_l, i) => i, cell: (_l, i) => i + 1 },
  { key: 'node', title: 'Node', numeric: false, className: 'node', value: (l) => l.node, cell: (l) => l.node },
  { key: 'opType', title: 'Op', numeric: false, value: (l) => l.opType, cell: (l) => l.opType },
  { key: 'sqnrDb', title: 'SQNR', numeric: true, tip: 'Accumulated: this output in the INT8 model vs FP32, every layer before it quantized (higher is better)',
    value: (l) => measured(l.sqnrDb), cell: (l) => formatDb(l.sqnrDb) },
  { key: 'ownSqnrDb', title: 'Own SQNR', numeric: true, tip: 'The error this node adds itself: noise at its output minus the worst at its inputs (lower = adds more)',
    value: (l) => measured(l.ownSqnrDb), cell: (l) => formatOwnDb(l.ownSqnrDb) },
  { key: 'weightSqnrDb', title: 'Weight SQNR', numeric: true, tip: 'Int8 weights (dequantized) vs FP32 weights, for Conv/Gemm/MatMul',
    value: (l) => measured(l.weightSqnrDb), cell: (l) => formatDb(l.weightSqnrDb) },
  { key: 'localSqnrDb', title: 'Q/DQ SQNR', numeric: true, tip: 'Local error of this tensor’s own Q/DQ pair on FP32 values (clipping and rounding only)',
    value: (l) => measured(l.localSqnrDb), cell: (l) => formatDb(l.localSqnrDb) },
  { key: 'cosine', title: 'Cosine', numeric: true, tip: 'Cosine similarity of INT8 and FP32 outputs', value: (l) => measured(l.cosine), cell: (l) => formatNumber(l.cosine) },
  { key: 'maxAbsError', title: 'Max |error|', numeric: true, value: (l) => measured(l.maxAbsError), cell: (l) => formatNumber(l.maxAbsError) },
  { key: 'clippedRatio', title: 'Clipped', numeric: true, tip: 'Share of FP32 values outside the quantization range',
    value: (l) => measured(l.clippedRatio), cell: (l) => formatPercent(l.clippedRatio, 3) },
];

export function layerTable(sort: Sort, onSort: (sort: Sort) => void, onLayerClick: (node: string) => void): SortableTable<LayerError, LayerSortColumn> {
  return new SortableTable({
    id: 'layer-table', columns: COLUMNS, node: (l) => l.node, rowClass: (l) => (l.sqnrDb < LOW_SQNR_DB ? 'low' : undefined),
    onSort, onRowClick: onLayerClick,
  }, sort);
}
