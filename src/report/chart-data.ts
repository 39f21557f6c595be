// What the HTML report's charts draw: computed from the Report by html.ts, embedded in the page as JSON, drawn by
// html-page.ts (Chart.js). Kept small and flat so the page script does no report logic of its own. The time chart's
// configuration is built here too: the report panel (media/report) draws the same chart with its theme's colours.
import type { ChartConfiguration } from 'chart.js';
import { agreementLabel, primaryAgreement } from '../common/accuracy';
import type { LatencyStats, Report, TimeProfile } from '../common/report';
import { formatKernelMs, timeGain, topTimeNodes } from '../graphmodel/time-profile';
import { formatSpeedup, throughputOf } from './format';
import { benchLabel, benchResults, layersWorstFirst, LOW_SQNR_DB } from './tables';

export interface ChartLatency { medianMs: number | null; p90Ms: number | null; meanMs: number | null; minMs: number | null; runs: number | null }

export interface ChartPayload {
  /** Worst SQNR first; at most MAX_CHART_LAYERS of them. */
  layers: { node: string; opType: string; sqnrDb: number | null }[];
  totalLayers: number;
  lowSqnrDb: number;
  /** Throughput in samples per second (null in reports from before it was measured). */
  latency: { label: string; fp32: ChartLatency; int8: ChartLatency; speedup: number | null; throughput: { fp32: number; int8: number } | null }[];
  /** Percentages (0..100). Labelled: Top-1/Top-5 per model; unlabelled: agreement only. */
  accuracy: { labelled: boolean; categories: string[]; fp32: (number | null)[]; int8: (number | null)[] } | null;
  /** The nodes taking the most time, FP32 vs INT8; null without a profile. */
  time: TimeChartRow[] | null;
}

export const MAX_CHART_LAYERS = 150;

/** Element ids of the chart canvases, shared by html.ts (markup) and html-page.ts (drawing); `time` only with a profile. */
export const CHART_IDS = { layers: 'chart-layers', latency: 'chart-latency', accuracy: 'chart-accuracy', time: 'chart-time' } as const;
export const PAYLOAD_ID = 'octet-chart-data';

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function pct(value: unknown): number | null {
  const n = num(value);
  return n === null ? null : Math.round(n * 10000) / 100;
}

function latency(s: LatencyStats): ChartLatency {
  return { medianMs: num(s.medianMs), p90Ms: num(s.p90Ms), meanMs: num(s.meanMs), minMs: num(s.minMs), runs: num(s.runs) };
}

export function chartPayload(report: Report): ChartPayload {
  const layers = layersWorstFirst(report);
  const acc = report.accuracy;
  let accuracy: ChartPayload['accuracy'] = null;
  if (acc && acc.labelled && acc.fp32 && acc.int8) {
    const top5 = num(acc.fp32.top5) !== null && num(acc.int8.top5) !== null;
    accuracy = {
      labelled: true,
      categories: top5 ? ['Top-1', 'Top-5'] : ['Top-1'],
      fp32: top5 ? [pct(acc.fp32.top1), pct(acc.fp32.top5)] : [pct(acc.fp32.top1)],
      int8: top5 ? [pct(acc.int8.top1), pct(acc.int8.top5)] : [pct(acc.int8.top1)],
    };
  } else if (acc) {
    const agreement = primaryAgreement(acc);
    if (agreement) accuracy = { labelled: false, categories: [`${agreementLabel(agreement.measure)} with FP32`], fp32: [100], int8: [pct(agreement.value)] };
  }
  return {
    layers: layers.slice(0, MAX_CHART_LAYERS).map((l) => ({ node: String(l.node), opType: String(l.opType), sqnrDb: num(l.sqnrDb) })),
    totalLayers: layers.length,
    lowSqnrDb: LOW_SQNR_DB,
    latency: benchResults(report).map((b) => ({ label: benchLabel(b), fp32: latency(b.fp32), int8: latency(b.int8), speedup: num(b.speedup),
      throughput: throughputOf(b) })),
    accuracy,
    time: report.profile ? timeChartRows(report.profile) : null,
  };
}

// ---- where the time goes ----

export interface TimeChartRow { node: string; opType: string; fp32Ms: number; int8Ms: number; overheadMs: number }

/** Nodes in the time chart: the ones taking the most time in either model. */
export const MAX_TIME_CHART_NODES = 20;

export function timeChartRows(profile: TimeProfile, limit = MAX_TIME_CHART_NODES): TimeChartRow[] {
  return topTimeNodes(profile, limit).map((n) => ({ node: n.node, opType: n.opType, fp32Ms: n.fp32Ms, int8Ms: n.int8Ms, overheadMs: n.overheadMs }));
}

/** The last parts of a path-like node name ("/layer3/layer3.2/conv1/Conv" → "conv1/Conv"): axis labels stay short. */
export function shortNodeName(node: string, keep = 2): string {
  const parts = node.split('/').filter(Boolean);
  return parts.length > keep ? parts.slice(-keep).join('/') : node;
}

export interface TimeChartColors { fp32: string; int8: string; overhead: string }

/**
 * Horizontal bars per node, most time first: FP32 beside INT8, the INT8 bar continued by its Q/DQ overhead.
 * `onNodeClick` (the panel's) reveals the clicked node in the graph.
 */
export function timeChartConfig(rows: TimeChartRow[], colors: TimeChartColors, onNodeClick?: (node: string) => void): ChartConfiguration<'bar', number[], string> {
  const bar = { borderWidth: 0, barPercentage: 0.9, categoryPercentage: 0.8 };
  return {
    type: 'bar',
    data: {
      labels: rows.map((r) => r.node),
      datasets: [
        { ...bar, label: 'FP32', data: rows.map((r) => r.fp32Ms), backgroundColor: colors.fp32, stack: 'fp32' },
        { ...bar, label: 'INT8', data: rows.map((r) => r.int8Ms), backgroundColor: colors.int8, stack: 'int8' },
        { ...bar, label: 'INT8 Q/DQ overhead', data: rows.map((r) => r.overheadMs), backgroundColor: colors.overhead, stack: 'int8' },
      ],
    },
    options: {
      indexAxis: 'y',
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      onClick: (_event, elements) => {
        const row = rows[elements[0]?.index ?? -1];
        if (row && onNodeClick) onNodeClick(row.node);
      },
      plugins: {
        legend: { position: 'top', labels: { boxWidth: 12 } },
        tooltip: {
          callbacks: {
            title: (items) => items.slice(0, 1).map((i) => `${rows[i.dataIndex]?.node ?? ''} (${rows[i.dataIndex]?.opType ?? ''})`),
            label: (item) => `${item.dataset.label ?? ''}: ${formatKernelMs(item.parsed.x)}`,
            footer: (items) => {
              const row = rows[items[0]?.dataIndex ?? -1];
              return row ? `gain ${formatSpeedup(timeGain(row.fp32Ms, row.int8Ms, row.overheadMs))} (FP32 ÷ INT8 with Q/DQ)` : '';
            },
          },
        },
      },
      scales: {
        x: { stacked: true, beginAtZero: true, title: { display: true, text: 'ms per run (kernel time), lower is better' } },
        y: { stacked: true, grid: { display: false }, ticks: { autoSkip: false, font: { size: 11 }, callback: (_v, index) => shortNodeName(rows[index]?.node ?? '', 3) } },
      },
    },
  };
}
