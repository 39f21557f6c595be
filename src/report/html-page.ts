// The HTML report's inline script (browser side). esbuild.mjs bundles this file with Chart.js into one string at
// build time ('octet:report-page', see src/report/report-page.d.ts); html.ts inlines it, so the page needs no network
// and the engine no node_modules. Draws the charts from the JSON payload html.ts embeds, follows light/dark, and
// makes the per-layer and per-node time tables sortable. Sets <html data-octet-charts="N"> when done (tests wait for it).
import {
  BarController, BarElement, CategoryScale, Chart, ChartDataset, Legend, LinearScale, Plugin, Tooltip,
} from 'chart.js';
import { CHART_IDS, ChartLatency, ChartPayload, PAYLOAD_ID, timeChartConfig } from './chart-data';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

/** Categorical palette (Tableau 10): readable on light and dark backgrounds. */
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const FP32_COLOR = '#4e79a7';
const INT8_COLOR = '#f28e2b';

function withAlpha(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function ms(value: number | null): string {
  if (value === null) return '—';
  return value >= 100 ? `${value.toFixed(0)} ms` : value >= 10 ? `${value.toFixed(1)} ms` : `${value.toFixed(2)} ms`;
}

function rate(perSecond: number): string {
  return `${perSecond >= 100 ? perSecond.toFixed(0) : perSecond >= 10 ? perSecond.toFixed(1) : perSecond.toFixed(2)} img/s`;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max + 1)}`;
}

/** A dashed vertical line at the low-SQNR threshold, labelled. */
function thresholdLine(value: number): Plugin<'bar'> {
  return {
    id: 'octetThreshold',
    afterDatasetsDraw(chart) {
      const x = chart.scales.x;
      if (!x || value < x.min || value > x.max) return;
      const px = x.getPixelForValue(value);
      const { top, bottom } = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = cssVar('--bad', '#d1242f');
      ctx.setLineDash([4, 4]);
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(px, top);
      ctx.lineTo(px, bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = cssVar('--bad', '#d1242f');
      ctx.font = '11px system-ui, sans-serif';
      ctx.textAlign = 'left';
      ctx.textBaseline = 'bottom';
      ctx.fillText(`${value} dB`, px + 3, top - 2); // in the padding above the bars
      ctx.restore();
    },
  };
}

function layerChart(canvas: HTMLCanvasElement, payload: ChartPayload): Chart<'bar', (number | null)[], string> {
  const layers = payload.layers;
  const opTypes = [...new Set(layers.map((l) => l.opType))].sort();
  const finite = layers.map((l) => l.sqnrDb).filter((v): v is number => v !== null);
  const datasets: ChartDataset<'bar', (number | null)[]>[] = opTypes.map((op, i) => ({
    label: op,
    data: layers.map((l) => (l.opType === op ? l.sqnrDb : null)),
    backgroundColor: PALETTE[i % PALETTE.length],
    borderWidth: 0,
    grouped: false,
    barPercentage: 0.85,
    categoryPercentage: 1,
  }));
  return new Chart<'bar', (number | null)[], string>(canvas, {
    type: 'bar',
    data: { labels: layers.map((l) => l.node), datasets },
    options: {
      indexAxis: 'y',
      animation: false,
      layout: { padding: { top: 20 } },
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: { position: 'top', labels: { boxWidth: 12 } },
        tooltip: {
          callbacks: {
            title: (items) => items.map((i) => `${shorten(layers[i.dataIndex]?.node ?? '', 120)} (${layers[i.dataIndex]?.opType ?? ''})`),
            label: (item) => `SQNR ${item.parsed.x === null ? '—' : `${item.parsed.x.toFixed(1)} dB`}`,
          },
        },
      },
      scales: {
        x: { beginAtZero: true, suggestedMax: finite.length > 0 ? Math.max(...finite, payload.lowSqnrDb) + 5 : 40,
          title: { display: true, text: 'SQNR (dB), higher is better' } },
        y: { ticks: { autoSkip: false, font: { size: 11 }, callback: (_v, index) => shorten(layers[index]?.node ?? '', 42) },
          grid: { display: false } },
      },
    },
    plugins: [thresholdLine(payload.lowSqnrDb)],
  });
}

function latencyChart(canvas: HTMLCanvasElement, payload: ChartPayload): Chart<'bar', (number | null)[], string> {
  const rows = payload.latency;
  const series = (name: 'fp32' | 'int8', key: keyof ChartLatency, label: string, color: string): ChartDataset<'bar', (number | null)[]> => ({
    label, data: rows.map((r) => r[name][key]), backgroundColor: color, borderColor: color, borderWidth: 1,
  });
  return new Chart<'bar', (number | null)[], string>(canvas, {
    type: 'bar',
    data: {
      labels: rows.map((r) => r.label),
      datasets: [
        series('fp32', 'medianMs', 'FP32 median', FP32_COLOR),
        series('fp32', 'p90Ms', 'FP32 p90', withAlpha(FP32_COLOR, 0.4)),
        series('int8', 'medianMs', 'INT8 median', INT8_COLOR),
        series('int8', 'p90Ms', 'INT8 p90', withAlpha(INT8_COLOR, 0.4)),
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: { position: 'top', labels: { boxWidth: 12 } },
        tooltip: {
          callbacks: {
            label: (item) => `${item.dataset.label ?? ''}: ${ms(item.parsed.y)}`,
            footer: (items) => {
              const row = rows[items[0]?.dataIndex ?? -1];
              if (!row) return '';
              return [
                `FP32 mean ${ms(row.fp32.meanMs)}, min ${ms(row.fp32.minMs)}`,
                `INT8 mean ${ms(row.int8.meanMs)}, min ${ms(row.int8.minMs)}`,
                `speedup (median) ${row.speedup === null ? '—' : `${row.speedup.toFixed(2)}×`}`,
                ...(row.throughput ? [`throughput FP32 ${rate(row.throughput.fp32)}, INT8 ${rate(row.throughput.int8)}`] : []),
              ];
            },
          },
        },
      },
      scales: { x: { grid: { display: false } }, y: { beginAtZero: true, title: { display: true, text: 'latency (ms), lower is better' } } },
    },
  });
}

function accuracyChart(canvas: HTMLCanvasElement, payload: ChartPayload): Chart<'bar', (number | null)[], string> | null {
  const acc = payload.accuracy;
  if (!acc) return null;
  return new Chart<'bar', (number | null)[], string>(canvas, {
    type: 'bar',
    data: {
      labels: acc.categories,
      datasets: [
        { label: acc.labelled ? 'FP32' : 'FP32 (reference)', data: acc.fp32, backgroundColor: FP32_COLOR, borderWidth: 0 },
        { label: 'INT8', data: acc.int8, backgroundColor: INT8_COLOR, borderWidth: 0 },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: { position: 'top', labels: { boxWidth: 12 } },
        tooltip: { callbacks: { label: (item) => `${item.dataset.label ?? ''}: ${item.parsed.y === null ? '—' : `${item.parsed.y.toFixed(2)}%`}` } },
      },
      scales: { x: { grid: { display: false } }, y: { beginAtZero: true, max: 100, title: { display: true, text: 'accuracy (%)' } } },
    },
  });
}

function applyTheme(): void {
  Chart.defaults.color = cssVar('--muted', '#57606a');
  Chart.defaults.borderColor = cssVar('--grid', 'rgba(127,127,127,0.25)');
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", sans-serif';
}

function readPayload(): ChartPayload | null {
  const text = document.getElementById(PAYLOAD_ID)?.textContent;
  if (!text) return null;
  try {
    return JSON.parse(text) as ChartPayload;
  } catch {
    return null;
  }
}

function drawCharts(payload: ChartPayload): Chart[] {
  const charts: Chart[] = [];
  const draw = (id: string, make: (canvas: HTMLCanvasElement) => Chart | null) => {
    const canvas = document.getElementById(id);
    if (!(canvas instanceof HTMLCanvasElement)) return;
    try {
      const chart = make(canvas);
      if (chart) charts.push(chart);
    } catch (err) {
      console.error(`octet: chart ${id} failed:`, err);
    }
  };
  draw(CHART_IDS.layers, (c) => (payload.layers.length > 0 ? layerChart(c, payload) : null));
  draw(CHART_IDS.latency, (c) => (payload.latency.length > 0 ? latencyChart(c, payload) : null));
  draw(CHART_IDS.accuracy, (c) => accuracyChart(c, payload));
  draw(CHART_IDS.time, (c) => (payload.time && payload.time.length > 0
    ? new Chart(c, timeChartConfig(payload.time, { fp32: FP32_COLOR, int8: INT8_COLOR, overhead: withAlpha(INT8_COLOR, 0.45) })) : null));
  return charts;
}

/** Click a header of a table.sortable to sort by that column (numeric columns, th.num, by each cell's data-v; others by
 * text); click again to reverse. */
function makeSortable(table: HTMLTableElement): void {
  const body = table.tBodies[0];
  if (!body) return;
  table.querySelectorAll('thead th').forEach((th, column) => {
    th.setAttribute('tabindex', '0');
    th.setAttribute('role', 'button');
    const sort = () => {
      const descending = th.getAttribute('aria-sort') === 'ascending';
      table.querySelectorAll('thead th').forEach((other) => other.removeAttribute('aria-sort'));
      th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      const numeric = th.classList.contains('num');
      const key = (row: HTMLTableRowElement): number | string => {
        const cell = row.cells[column];
        if (!numeric) return cell?.textContent ?? '';
        const v = Number(cell?.dataset.v);
        return Number.isNaN(v) ? Number.POSITIVE_INFINITY : v; // no value: last when ascending
      };
      const rows = Array.from(body.rows).map((row, i) => ({ row, i, k: key(row) }));
      rows.sort((a, b) => {
        const order = typeof a.k === 'number' && typeof b.k === 'number' ? a.k - b.k : String(a.k).localeCompare(String(b.k));
        return (descending ? -order : order) || a.i - b.i;
      });
      for (const { row } of rows) body.appendChild(row);
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (event) => {
      if ((event as KeyboardEvent).key === 'Enter' || (event as KeyboardEvent).key === ' ') { event.preventDefault(); sort(); }
    });
  });
}

function main(): void {
  document.querySelectorAll<HTMLTableElement>('table.sortable').forEach(makeSortable);
  const payload = readPayload();
  if (!payload) {
    console.error('octet: the chart data is missing or corrupt');
    return;
  }
  applyTheme();
  let charts = drawCharts(payload);
  document.documentElement.dataset.octetCharts = String(charts.length);
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    for (const chart of charts) chart.destroy();
    applyTheme();
    charts = drawCharts(payload);
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
else main();
