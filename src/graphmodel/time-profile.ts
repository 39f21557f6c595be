// Reading a Report's time profile the same way everywhere (report panel, Markdown/HTML, graph viewer): what a node
// costs in the INT8 model, its gain over FP32, the nodes where the time goes, and the graph viewer's Time overlay
// (per node, keyed by name like the per-layer error) with its two colour scales and legends.
import type { NodeTiming, SpeedDecision, SpeedReport, TimeProfile } from '../common/report';

/** What a node costs in the INT8 model: its kernels plus the Q/DQ/Cast kernels at its borders. */
export function int8CostMs(n: Pick<NodeTiming, 'int8Ms' | 'overheadMs'>): number {
  return n.int8Ms + n.overheadMs;
}

/**
 * FP32 ms ÷ INT8 ms with the Q/DQ overhead counted on the INT8 side: above 1 INT8 is faster. Null when either side
 * took no measurable time (a node fused into another one runs no kernel of its own).
 */
export function timeGain(fp32Ms: number, int8Ms: number, overheadMs: number): number | null {
  const int8 = int8Ms + overheadMs;
  return fp32Ms > 0 && int8 > 0 && Number.isFinite(fp32Ms) && Number.isFinite(int8) ? fp32Ms / int8 : null;
}

export function nodeGain(n: Pick<NodeTiming, 'fp32Ms' | 'int8Ms' | 'overheadMs'>): number | null {
  return timeGain(n.fp32Ms, n.int8Ms, n.overheadMs);
}

/** The most time this node takes in either model: what "where the time goes" ranks by. */
function heaviestMs(n: NodeTiming): number {
  return Math.max(n.fp32Ms, int8CostMs(n));
}

/** The `limit` nodes taking the most time in either model, most first (graph order among equals). */
export function topTimeNodes(profile: TimeProfile, limit: number): NodeTiming[] {
  return profile.nodes.map((n, i) => ({ n, i }))
    .sort((a, b) => heaviestMs(b.n) - heaviestMs(a.n) || a.i - b.i)
    .slice(0, limit).map((x) => x.n);
}

/** Op types whose INT8 time (with overhead) exceeds their FP32 time, worst first: why INT8 did not pay. */
export function slowerInInt8(profile: TimeProfile): TimeProfile['byOpType'] {
  return profile.byOpType.filter((t) => int8CostMs(t) > t.fp32Ms)
    .sort((a, b) => (int8CostMs(b) - b.fp32Ms) - (int8CostMs(a) - a.fp32Ms));
}

// ---- the graph viewer's Time overlay ----

/** Colour by the INT8 time of each node, or by its gain over FP32. */
export type TimeMetric = 'int8Ms' | 'gain';

export interface NodeTimeOverlay extends NodeTiming {
  /** Share of the INT8 model's kernel time (0..1) this node costs, Q/DQ overhead included. */
  int8Share: number;
  gain: number | null;
  /** The speed-aware decision that covered this node, if any. */
  decision?: Pick<SpeedDecision, 'action' | 'reason' | 'beforeMs' | 'afterMs' | 'kept'>;
}

export interface TimeOverlay {
  runs: number;
  fp32TotalMs: number;
  int8TotalMs: number;
  nodes: NodeTimeOverlay[];
  /** From the speed-aware choice, when it ran. */
  fasterThanFp32?: boolean;
}

export function timeOverlayFromProfile(profile: TimeProfile, speed: SpeedReport | null | undefined): TimeOverlay {
  const decisions = new Map<string, SpeedDecision>();
  for (const d of speed?.decisions ?? []) for (const node of d.nodes) decisions.set(node, d);
  const nodes = profile.nodes.map((n) => {
    const overlay: NodeTimeOverlay = {
      ...n, int8Share: profile.int8TotalMs > 0 ? int8CostMs(n) / profile.int8TotalMs : 0, gain: nodeGain(n),
    };
    const d = decisions.get(n.node);
    if (d) overlay.decision = { action: d.action, reason: d.reason, beforeMs: d.beforeMs, afterMs: d.afterMs, kept: d.kept };
    return overlay;
  });
  const overlay: TimeOverlay = { runs: profile.runs, fp32TotalMs: profile.fp32TotalMs, int8TotalMs: profile.int8TotalMs, nodes };
  if (speed) overlay.fasterThanFp32 = speed.fasterThanFp32;
  return overlay;
}

export interface LegendBand { label: string; color: string }

/** Bands of INT8 time as a share of the model's INT8 time; `min` is each band's lower edge. */
const SHARE_BANDS = [
  { min: 0, mid: 0.001, label: '< 0.5%' },
  { min: 0.005, mid: 0.01, label: '0.5–2%' },
  { min: 0.02, mid: 0.035, label: '2–5%' },
  { min: 0.05, mid: 0.075, label: '5–10%' },
  { min: 0.1, mid: 0.2, label: '≥ 10%' },
];

/** Amber (little time) to saturated red (where the time goes), on a log scale of the share (0.2% .. 10%). */
export function int8TimeColor(share: number): string {
  const t = share > 0 ? Math.min(1, Math.max(0, Math.log10(share / 0.002) / Math.log10(0.1 / 0.002))) : 0;
  return `hsl(${Math.round(45 - 45 * t)}, ${Math.round(25 + 55 * t)}%, ${Math.round(44 - 4 * t)}%)`;
}

/** The INT8-time legend, with each band's edge in ms for this model. */
export function int8TimeLegend(int8TotalMs: number): LegendBand[] {
  return SHARE_BANDS.map((b, i) => {
    const next = SHARE_BANDS[i + 1];
    const ms = next ? ` (< ${formatKernelMs(next.min * int8TotalMs)})` : ` (≥ ${formatKernelMs(b.min * int8TotalMs)})`;
    return { label: `${b.label}${ms}`, color: int8TimeColor(b.mid) };
  });
}

/** A kernel time in ms: three decimals below 1 ms (profiled nodes often take a few µs), fewer above. */
export function formatKernelMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms === 0) return '0 ms';
  if (ms < 0.001) return '< 0.001 ms';
  return `${ms.toFixed(ms >= 100 ? 0 : ms >= 10 ? 1 : ms >= 1 ? 2 : 3)} ms`;
}

const GAIN_BANDS = [
  { mid: 0.75, label: '< 1× (INT8 slower)' },
  { mid: 1.25, label: '1–1.5×' },
  { mid: 1.75, label: '1.5–2×' },
  { mid: 2.5, label: '2–3×' },
  { mid: 3.5, label: '≥ 3×' },
];

/** Red (INT8 slower than FP32) through amber (no gain) to green (3× and more). */
export function gainColor(gain: number): string {
  const t = Math.min(1, Math.max(0, (gain - 0.5) / 2.5));
  return `hsl(${Math.round(t * 125)}, 68%, 44%)`;
}

export function gainLegend(): LegendBand[] {
  return GAIN_BANDS.map((b) => ({ label: b.label, color: gainColor(b.mid) }));
}

/** The label drawn beside a node: its INT8 ms ('fused' when it runs inside another node's kernel), or its gain (none
 * when it has no time of its own in one of the models). */
export function timeLabel(t: NodeTimeOverlay, metric: TimeMetric): string | null {
  if (metric === 'gain') return t.gain === null ? null : `${t.gain.toFixed(2)}×`;
  return int8CostMs(t) === 0 && t.int8Kernels.length === 0 ? 'fused' : formatKernelMs(int8CostMs(t));
}

/** The node's colour under `metric`; null when the metric says nothing about it (no gain: fused, no time). */
export function timeColor(t: NodeTimeOverlay, metric: TimeMetric): string | null {
  if (metric === 'gain') return t.gain === null ? null : gainColor(t.gain);
  return int8TimeColor(t.int8Share);
}
