// "Where the time goes": the Report's time profile and speed-aware choice as text cells and sentences, shared by the
// Markdown and HTML reports and the report panel (re-exported through tables.ts) so all three say the same.
import type { NodeTiming, Report, SpeedDecision, SpeedReport, TimeProfile } from '../common/report';
import { formatKernelMs, int8CostMs, nodeGain, slowerInInt8, timeGain, topTimeNodes } from '../graphmodel/time-profile';
import { formatPercent, formatSpeedup } from './format';
import type { Table } from './tables';

/** Rows of the top-layers table in Markdown and HTML (the panel's table has every node). */
export const TOP_TIME_NODES = 20;

/** The report's profile and speed-aware choice; null when it has neither (older reports, or not profiled). */
export function readTimeSection(report: Report): { profile: TimeProfile | null; speed: SpeedReport | null } | null {
  const profile = report.profile && Array.isArray(report.profile.nodes) ? report.profile : null;
  const speed = report.speed && Array.isArray(report.speed.decisions) ? report.speed : null;
  return profile || speed ? { profile, speed } : null;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Whole-model medians differ by fractions of a ms between decisions: two decimals always. */
function modelMs(ms: number): string {
  return Number.isFinite(ms) ? `${ms.toFixed(2)} ms` : '—';
}

/** What was profiled and the totals, in one paragraph. */
export function profileSummary(profile: TimeProfile): string {
  const overhead = profile.nodes.reduce((sum, n) => sum + n.overheadMs, 0);
  const gain = timeGain(profile.fp32TotalMs, profile.int8TotalMs, 0);
  return `ONNX Runtime's profiler, ${plural(profile.runs, 'run')} per model at batch ${profile.batch} with ${plural(profile.threads, 'thread')}: `
    + `kernel time per run FP32 ${formatKernelMs(profile.fp32TotalMs)} → INT8 ${formatKernelMs(profile.int8TotalMs)} (${formatSpeedup(gain)}), `
    + `of which Q/DQ overhead ${formatKernelMs(overhead)}`
    + (profile.unattributedInt8Ms > 0 ? ` and ${formatKernelMs(profile.unattributedInt8Ms)} not attributed to a node (e.g. the input's QuantizeLinear)` : '')
    + '.';
}

/** The plain sentence when no INT8 layout beat FP32 on this machine; null when one did (or the choice did not run). */
export function notFasterSentence(report: Report): string | null {
  const speed = readTimeSection(report)?.speed;
  if (!speed || speed.fasterThanFp32) return null;
  const m = report.machine;
  const cpu = `${m.cpu}${m.vnni ? '' : ', no VNNI'}`;
  const slower = report.profile ? slowerInInt8(report.profile).slice(0, 3)
    .map((t) => `${t.opType} (FP32 ${formatKernelMs(t.fp32Ms)}, INT8 ${formatKernelMs(int8CostMs(t))} with Q/DQ)`) : [];
  return `INT8 is not faster than FP32 on this CPU (${cpu}): FP32 ${modelMs(speed.fp32Ms)}, INT8 ${modelMs(speed.int8Ms)} `
    + 'at batch 1 with one thread.' + (slower.length > 0 ? ` Slower in INT8 here: ${slower.join(', ')}.` : '');
}

/** Which layers the written model pads channels of for ORT's fast int8 kernels; null when none. */
export function paddedInputsSentence(report: Report): string | null {
  const padded = Array.isArray(report.paddedInputs) ? report.paddedInputs : [];
  if (padded.length === 0) return null;
  return `Input channels padded with zeros for ONNX Runtime's fast int8 convolution (the outputs are unchanged): `
    + `${padded.map((p) => `${p.node} ${p.channels} → ${p.paddedTo}`).join(', ')}.`;
}

/** The per-node table's columns, with the keys the panel sorts by. */
export const TIME_NODE_COLUMNS = [
  { key: 'node', title: 'Node', numeric: false },
  { key: 'opType', title: 'Op', numeric: false },
  { key: 'fp32Ms', title: 'FP32', numeric: true, tip: 'Mean ms per run of the kernels that computed this node in the FP32 model' },
  { key: 'int8Ms', title: 'INT8', numeric: true, tip: 'Mean ms per run of the INT8 model’s kernels for this node (its int8 kernel, or float when kept)' },
  { key: 'gain', title: 'Gain', numeric: true, tip: 'FP32 ÷ INT8, the Q/DQ overhead counted on the INT8 side: below 1× INT8 is slower here' },
  { key: 'kernels', title: 'Kernels (FP32 → INT8)', numeric: false, tip: 'ONNX Runtime kernels that ran for this node' },
  { key: 'overheadMs', title: 'Q/DQ overhead', numeric: true, tip: 'QuantizeLinear/DequantizeLinear/Cast kernels at this node’s borders in the INT8 model' },
] as const;
export type TimeColumnKey = (typeof TIME_NODE_COLUMNS)[number]['key'];
/** Sort keys of the panel's per-node table (its saved state). */
export const TIME_SORT_KEYS = TIME_NODE_COLUMNS.map((c) => c.key);

export function kernelsText(n: Pick<NodeTiming, 'fp32Kernels' | 'int8Kernels'>): string {
  const list = (kernels: string[]) => (kernels.length > 0 ? kernels.join(' + ') : '—');
  return `${list(n.fp32Kernels)} → ${list(n.int8Kernels)}`;
}

/** One node's cells, in TIME_NODE_COLUMNS order. */
export function timeNodeCells(n: NodeTiming): Record<TimeColumnKey, string> {
  return {
    node: n.node, opType: n.opType, fp32Ms: formatKernelMs(n.fp32Ms), int8Ms: formatKernelMs(n.int8Ms),
    gain: formatSpeedup(nodeGain(n)), kernels: kernelsText(n), overheadMs: formatKernelMs(n.overheadMs),
  };
}

/** What the Markdown/HTML per-node table holds. */
export function timeNodesCaption(shown: number, profile: TimeProfile): string {
  return `The ${shown} nodes taking the most time in either model (of ${profile.nodes.length} profiled), ms per run. `
    + 'Gain: FP32 ÷ INT8, the Q/DQ overhead counted on the INT8 side.';
}

export const TIME_BY_OP_CAPTION = 'Totals by op type (of the FP32 graph), ms per run.';
export const SPEED_DECISIONS_CAPTION = 'Each region the speed-aware choice tried, with the whole INT8 model measured before and after (batch 1, one thread, median).';
export const NO_SPEED_DECISIONS = 'No region was slower in INT8 than in float: nothing was kept in float for speed.';
export const NO_PROFILE = 'No per-node profile in this report.';

/** The nodes taking the most time in either model. */
export function timeNodesTable(profile: TimeProfile, limit = TOP_TIME_NODES): Table {
  const keys = TIME_NODE_COLUMNS.map((c) => c.key);
  return {
    header: TIME_NODE_COLUMNS.map((c) => c.title),
    rows: topTimeNodes(profile, limit).map((n) => { const cells = timeNodeCells(n); return keys.map((k) => cells[k]); }),
    numeric: TIME_NODE_COLUMNS.flatMap((c, i) => (c.numeric ? [i] : [])),
  };
}

/** Totals per op type (as the report lists them: most FP32 time first). */
export function timeByOpTable(profile: TimeProfile): Table {
  return {
    header: ['Op', 'Nodes', 'FP32', 'INT8', 'Q/DQ overhead', 'Gain', 'Share of INT8 time'],
    rows: profile.byOpType.map((t) => [t.opType, String(t.count), formatKernelMs(t.fp32Ms), formatKernelMs(t.int8Ms), formatKernelMs(t.overheadMs),
      formatSpeedup(timeGain(t.fp32Ms, t.int8Ms, t.overheadMs)), formatPercent(profile.int8TotalMs > 0 ? int8CostMs(t) / profile.int8TotalMs : null, 1)]),
    numeric: [1, 2, 3, 4, 5, 6],
  };
}

/** The speed-aware choice's outcome, as label/text pairs. */
export function speedFacts(speed: SpeedReport): [string, string][] {
  // Nodes a kept decision put in float, less those a later kept decision returned to int8.
  const kept = speed.decisions.filter((d) => d.kept).reduce((n, d) => n + (d.action === 'keep-float' ? d.nodes.length : -d.nodes.length), 0);
  return [
    ['Mode', speed.mode === 'auto' ? 'auto (regions slower in INT8 kept in float)' : 'off'],
    ['FP32, batch 1, one thread', modelMs(speed.fp32Ms)],
    ['INT8 written, batch 1, one thread', `${modelMs(speed.int8Ms)} (${formatSpeedup(timeGain(speed.fp32Ms, speed.int8Ms, 0))})`],
    ['Faster than FP32', speed.fasterThanFp32 ? 'yes' : 'no'],
    ['Kept in float for speed', plural(kept, 'node')],
    ['Time spent', `${speed.seconds.toFixed(1)} s`],
  ];
}

/** A region's nodes, shortened past four. */
export function regionText(d: SpeedDecision): string {
  return d.nodes.length <= 4 ? d.nodes.join(', ') : `${d.nodes.slice(0, 3).join(', ')} … (${d.nodes.length} nodes)`;
}

/** Every decision of the speed-aware choice with its measured effect on the whole model; null when there were none. */
export function speedDecisionsTable(speed: SpeedReport): Table | null {
  if (speed.decisions.length === 0) return null;
  return {
    header: ['#', 'Tried', 'Nodes', 'Why', 'Model before', 'Model after', 'Change', 'Kept'],
    rows: speed.decisions.map((d, i) => {
      const change = d.afterMs - d.beforeMs;
      return [String(i + 1), d.action === 'keep-float' ? 'keep in float' : 'back in int8', regionText(d), d.reason, modelMs(d.beforeMs),
        modelMs(d.afterMs), `${change < 0 ? '−' : change > 0 ? '+' : ''}${modelMs(Math.abs(change))}`, d.kept ? 'yes' : 'no'];
    }),
    numeric: [0, 4, 5, 6],
  };
}
