// What the HTML report's charts draw: computed from the Report by html.ts, embedded in the page as JSON, drawn by
// html-page.ts (Chart.js). Kept small and flat so the page script does no report logic of its own.
import { agreementLabel, primaryAgreement } from '../common/accuracy';
import type { LatencyStats, Report } from '../common/report';
import { throughputOf } from './format';
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
}

export const MAX_CHART_LAYERS = 150;

/** Element ids of the chart canvases, shared by html.ts (markup) and html-page.ts (drawing). */
export const CHART_IDS = { layers: 'chart-layers', latency: 'chart-latency', accuracy: 'chart-accuracy' } as const;
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
  };
}
