// The Report's tables as plain text cells, shared by the Markdown (markdown.ts) and HTML (html.ts) renderers so both
// show the same numbers in the same words. Cells are unescaped text: each renderer escapes for its own format.
// Defensive about missing fields: a report from an older or newer engine renders what it has.
import { agreementLabel, primaryAgreement } from '../common/accuracy';
import type { BenchResult, LatencyStats, LayerError, OutputScore, Report } from '../common/report';
import { runtimeOpRole } from '../quant/runtime-ops';
import {
  baseName, finite, formatBytes, formatDb, formatMs, formatOwnDb, formatNumber, formatPercent, formatPoints, formatSpeedup, formatThroughput,
  headlineBench, headlineThroughput, isObject, sizeRatio, throughputOf,
} from './format';
import { techniqueRows } from './technique-rows';

export * from './profile-tables'; // where the time goes (profile, speed-aware choice), shared through this module

export interface Table {
  header: string[];
  rows: string[][];
  /** Columns holding numbers (right-aligned). */
  numeric?: number[];
  /** Columns that should not wrap (shapes). */
  nowrap?: number[];
}

/** Below this SQNR a layer is flagged (same threshold as the report panel's chart). */
export const LOW_SQNR_DB = 20;


function yesNo(flag: unknown): string {
  return flag === true ? 'yes' : flag === false ? 'no' : '—';
}

export function formatShape(shape: readonly (number | string)[] | null | undefined): string {
  return Array.isArray(shape) && shape.length > 0 ? shape.join('×') : '—';
}

function histogram(ops: unknown): Record<string, number> {
  if (!isObject(ops)) return {};
  const out: Record<string, number> = {};
  for (const [op, count] of Object.entries(ops)) if (typeof count === 'number') out[op] = count;
  return out;
}

function total(ops: Record<string, number>): number {
  return Object.values(ops).reduce((a, b) => a + b, 0);
}

/** Per-layer results, worst SQNR first (missing SQNR last), whatever order the file holds. */
export function layersWorstFirst(report: Report): LayerError[] {
  const layers = Array.isArray(report.layers) ? report.layers.filter(isObject) as LayerError[] : [];
  const key = (l: LayerError) => (typeof l.sqnrDb === 'number' && !Number.isNaN(l.sqnrDb) ? l.sqnrDb : Number.POSITIVE_INFINITY);
  return layers.map((l, i) => ({ l, i })).sort((a, b) => key(a.l) - key(b.l) || a.i - b.i).map((x) => x.l);
}

export function benchLabel(b: BenchResult): string {
  return `${b.threads} thread${b.threads === 1 ? '' : 's'}${b.batch !== 1 ? `, batch ${b.batch}` : ''}`;
}

export function benchResults(report: Report): BenchResult[] {
  return Array.isArray(report.bench) ? report.bench.filter((b) => isObject(b) && isObject(b.fp32) && isObject(b.int8)) : [];
}

/** One line for the top of the report: accuracy cost, speed gained, size. */
export function headlineFacts(report: Report): { label: string; value: string; detail: string }[] {
  const facts: { label: string; value: string; detail: string }[] = [];
  const acc = report.accuracy;
  if (acc && acc.labelled && acc.fp32 && acc.int8) {
    facts.push({ label: 'Top-1 drop', value: formatPoints(acc.top1DropPoints),
      detail: `FP32 ${formatPercent(acc.fp32.top1)} → INT8 ${formatPercent(acc.int8.top1)} on ${acc.n} images` });
  } else if (acc) {
    const agreement = primaryAgreement(acc);
    if (agreement) {
      facts.push({ label: agreementLabel(agreement.measure), value: formatPercent(agreement.value),
        detail: `${agreement.measure} as FP32${agreement.output ? ` (${agreement.output})` : ''}, ${acc.n} images` });
    } else {
      facts.push({ label: 'Output SQNR', value: formatDb(acc.outputSqnrDb), detail: `INT8 vs FP32 outputs, ${acc.n} images` });
    }
  }
  const { singleThread, allThreads } = headlineBench({ ...report, bench: benchResults(report) });
  for (const b of [singleThread, allThreads]) {
    if (b) facts.push({ label: `Speedup, ${benchLabel(b)}`, value: formatSpeedup(b.speedup),
      detail: `median ${formatMs(b.fp32.medianMs)} → ${formatMs(b.int8.medianMs)}` });
  }
  const batched = headlineThroughput({ ...report, bench: benchResults(report) });
  const rate = batched ? throughputOf(batched) : null;
  if (batched && rate) {
    facts.push({ label: `Throughput, ${benchLabel(batched)}`, value: formatThroughput(rate.int8),
      detail: `FP32 ${formatThroughput(rate.fp32)} → INT8 ${formatThroughput(rate.int8)} (${formatSpeedup(batched.speedup)})` });
  }
  const ratio = sizeRatio(report);
  facts.push({ label: 'Size', value: ratio !== null ? formatPercent(ratio, 1) : '—',
    detail: `of FP32: ${formatBytes(report.fp32Model.bytes)} → ${formatBytes(report.int8Model.bytes)}` });
  const worst = layersWorstFirst(report)[0];
  if (worst) facts.push({ label: 'Worst layer SQNR', value: formatDb(worst.sqnrDb), detail: `${worst.node} (${worst.opType})` });
  return facts;
}

export function accuracyTable(report: Report): Table | null {
  const acc = report.accuracy;
  if (!acc || !acc.labelled || !acc.fp32 || !acc.int8) return null;
  const rows = [['Top-1', formatPercent(acc.fp32.top1), formatPercent(acc.int8.top1), formatPoints(acc.top1DropPoints)]];
  const top5fp32 = finite(acc.fp32.top5);
  const top5int8 = finite(acc.int8.top5);
  if (top5fp32 !== null && top5int8 !== null) {
    rows.push(['Top-5', formatPercent(top5fp32), formatPercent(top5int8), formatPoints((top5fp32 - top5int8) * 100)]);
  }
  return { header: ['Metric', 'FP32', 'INT8', 'Drop'], rows, numeric: [1, 2, 3] };
}

/** INT8 outputs against FP32 outputs: always there when evaluated, labels or not. */
export function agreementTable(report: Report): Table | null {
  const acc = report.accuracy;
  if (!acc) return null;
  const agreement = primaryAgreement(acc);
  return {
    header: ['INT8 vs FP32', 'Value'],
    rows: [
      ['Images', String(acc.n)],
      ...(agreement ? [[`${agreementLabel(agreement.measure)} (${agreement.measure === 'top-1 class' ? 'same class' : agreement.measure})`, formatPercent(agreement.value)]] : []),
      ['Output SQNR', formatDb(acc.outputSqnrDb)],
      ['Output cosine', formatNumber(acc.outputCosine, 5)],
    ],
    numeric: [1],
  };
}

/** Every model output with the measure that fits its kind; null for reports without per-output scores. */
export function outputsTable(report: Report): Table | null {
  const outputs = Array.isArray(report.accuracy?.outputs) ? report.accuracy!.outputs.filter(isObject) as OutputScore[] : [];
  if (outputs.length === 0) return null;
  return {
    header: ['Output', 'Kind', 'Shape', 'Agreement', 'Measure', 'SQNR', 'Cosine', 'Max error'],
    rows: outputs.map((o) => [
      String(o.name), String(o.kind), formatShape(o.shape), formatPercent(finite(o.agreement)),
      o.agreementMeasure ? `${o.agreementMeasure}${typeof o.threshold === 'number' ? ` (threshold ${o.threshold})` : ''}` : 'none for this kind',
      formatDb(finite(o.sqnrDb)), formatNumber(finite(o.cosine), 5), formatNumber(finite(o.maxAbsError), 4),
    ]),
    numeric: [3, 5, 6, 7],
    nowrap: [2],
  };
}

export function latencyTable(report: Report): Table | null {
  const bench = benchResults(report);
  if (bench.length === 0) return null;
  const stats = (s: LatencyStats) => [formatMs(s.medianMs), formatMs(s.p90Ms), formatMs(s.meanMs), formatMs(s.minMs)];
  const rates = (b: BenchResult) => {
    const rate = throughputOf(b);
    return [formatThroughput(rate?.fp32), formatThroughput(rate?.int8)];
  };
  return {
    header: ['Threads', 'Batch', 'FP32 median', 'FP32 p90', 'FP32 mean', 'FP32 min', 'INT8 median', 'INT8 p90', 'INT8 mean',
      'INT8 min', 'Runs', 'Speedup', 'FP32 throughput', 'INT8 throughput'],
    rows: bench.map((b) => [String(b.threads), String(b.batch), ...stats(b.fp32), ...stats(b.int8),
      b.fp32.runs === b.int8.runs ? String(b.int8.runs) : `${b.fp32.runs}/${b.int8.runs}`, formatSpeedup(b.speedup), ...rates(b)]),
    numeric: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
  };
}

export function modelTable(report: Report): Table {
  const io = (list: unknown) => (Array.isArray(list) && list.length > 0
    ? list.filter(isObject).map((v) => `${String(v.name)} (${String(v.type ?? '?')}, ${formatShape(v.shape as (number | string)[])})`).join('; ')
    : '—');
  const f = report.fp32Model;
  const q = report.int8Model;
  const optimized = histogram(report.optimizedFp32Ops);
  return {
    header: ['', 'FP32', 'INT8'],
    rows: [
      ['File', f.path, q.path],
      ['Size', formatBytes(f.bytes), formatBytes(q.bytes)],
      ['Opset', String(f.opset ?? '—'), String(q.opset ?? '—')],
      ['IR version', String(f.irVersion ?? '—'), String(q.irVersion ?? '—')],
      ['Producer', f.producer || '—', q.producer || '—'],
      ['Inputs', io(f.inputs), io(q.inputs)],
      ['Outputs', io(f.outputs), io(q.outputs)],
      ['Nodes in file', String(total(histogram(f.opHistogram))), String(total(histogram(q.opHistogram)))],
      ['Nodes ONNX Runtime runs', `${total(optimized)} (after basic optimization)`, String(total(histogram(report.int8RuntimeOps)))],
    ],
  };
}

export function settingsTable(report: Report): Table {
  const s = report.settings;
  const list = (v: unknown, none: string) => (Array.isArray(v) && v.length > 0 ? v.join(', ') : none);
  const c: unknown = report.calibration;
  const loose = s as unknown as Record<string, unknown>; // older reports lack the newer fields
  const auto = loose.methodRequested === 'auto';
  const rows = [
    ['Method', s.method + (s.method === 'percentile' ? ` (${s.percentile})` : '') + (auto ? ' (auto: least output error)' : '')],
  ];
  const scores = isObject(c) && isObject(c.methodScores) ? Object.entries(c.methodScores).filter(([, v]) => finite(v) !== null) : [];
  if (scores.length > 0) rows.push(['Method scores (output SQNR)', scores.map(([m, v]) => `${m} ${formatDb(v as number)}`).join(', ')]);
  rows.push(
    ['Weights', s.perChannel ? 'per-channel' : 'per-tensor'],
    ['Activations', String(s.activations)],
    ['Weight range', String(s.weightRange ?? '—')],
  );
  if (typeof loose.equalize === 'boolean') rows.push(['Range equalization', yesNo(loose.equalize)]);
  rows.push(...techniqueRows(report));
  if (finite(loose.maxDrop) !== null) rows.push(['Max drop (accuracy-aware)', formatPoints(loose.maxDrop as number)]);
  rows.push(
    ['Calibration images', `${s.calibCount} (batch ${s.calibBatch})`],
    ['Preprocessing', s.preprocess + (s.resize ? `, resize ${s.resize}` : '') + (s.crop ? `, crop ${s.crop}` : '') + (s.layout ? `, ${s.layout}` : '')],
    ['Op types', list(s.opTypes, 'all supported')],
    ['Excluded nodes', list(s.exclude, 'none')],
  );
  if (isObject(c) && isObject(c.dataset)) {
    rows.push(['Calibration data', `${c.dataset.path} (${c.images} images, ${finite(c.seconds)?.toFixed(1) ?? '—'} s, peak RSS ${c.peakRssMb ?? '—'} MB)`]);
  }
  const ev = report.evaluation;
  if (ev && isObject(ev.dataset)) {
    rows.push(['Evaluation data', `${ev.dataset.path} (skip ${ev.skip}, limit ${ev.limit}${ev.dataset.labelled ? `, labels: ${ev.dataset.labelsSource ?? 'yes'}` : ', unlabelled'})`]);
  }
  return { header: ['Setting', 'Value'], rows };
}

export function layersTable(report: Report): Table | null {
  const layers = layersWorstFirst(report);
  if (layers.length === 0) return null;
  return {
    header: ['Node', 'Op', 'Tensor', 'Shape', 'SQNR', 'Own SQNR', 'Q/DQ SQNR', 'Weight SQNR', 'Cosine', 'Max abs error', 'Clipped', 'Scale', 'Zero point', 'Method'],
    rows: layers.map((l) => [String(l.node), String(l.opType), String(l.tensor ?? '—'), formatShape(l.shape), formatDb(l.sqnrDb),
      formatOwnDb(finite(l.ownSqnrDb)), formatDb(finite(l.localSqnrDb)), formatDb(finite(l.weightSqnrDb)), formatNumber(l.cosine, 5), formatNumber(l.maxAbsError),
      formatPercent(l.clippedRatio, 3), formatNumber(l.scale), l.zeroPoint === undefined || l.zeroPoint === null ? '—' : String(l.zeroPoint),
      typeof l.method === 'string' ? l.method : '—']),
    numeric: [4, 5, 6, 7, 8, 9, 10, 11, 12],
    nowrap: [3],
  };
}

export function keptFloatTable(report: Report): Table | null {
  const kept = Array.isArray(report.keptFloat) ? report.keptFloat.filter(isObject) : [];
  if (kept.length === 0) return null;
  return { header: ['Node', 'Op', 'Why'], rows: kept.map((k) => [String(k.node), String(k.opType), String(k.reason)]) };
}

/** What ONNX Runtime executes: the optimized FP32 graph's ops next to the INT8 model's ops after ORT's fusions. */
export function runtimeOpsTable(report: Report): Table | null {
  const int8 = histogram(report.int8RuntimeOps);
  const fp32 = histogram(report.optimizedFp32Ops);
  const ops = [...new Set([...Object.keys(int8), ...Object.keys(fp32)])];
  if (ops.length === 0) return null;
  ops.sort((a, b) => (int8[b] ?? 0) - (int8[a] ?? 0) || (fp32[b] ?? 0) - (fp32[a] ?? 0) || a.localeCompare(b));
  return {
    header: ['Op', 'INT8 (runs)', 'FP32 (optimized)', 'Kind'],
    rows: ops.map((op) => [op, String(int8[op] ?? 0), String(fp32[op] ?? 0), opKind(op)]),
    numeric: [1, 2],
  };
}

/** Whether ORT runs an op on integers, converts, moves data or computes in float (from the op registry). */
export function opKind(op: string): string {
  const role = runtimeOpRole(op);
  return role === 'float compute' ? 'float' : role;
}

export function machineTable(report: Report): Table {
  const m = report.machine;
  return {
    header: ['Machine', 'Value'],
    rows: [
      ['CPU', `${m.cpu} (${m.cores} cores)`],
      ['VNNI', yesNo(m.vnni)],
      ['AVX-512', yesNo(m.avx512)],
      ['AVX2', yesNo(m.avx2)],
      ['ONNX Runtime', String(m.ortVersion)],
      ['Node.js', String(m.nodeVersion)],
      ['Platform', String(m.platform)],
      ['Octet', `${report.octetVersion} (report schema ${report.schemaVersion})`],
      ['Created', String(report.createdAt)],
    ],
  };
}

// ---- tuning (accuracy-aware mode / --method auto). Read as unknown: older reports lack it, newer may extend it. ----

export interface TuningTrialView {
  changed: string;
  method: string | null;
  excluded: string[] | null;
  top1DropPoints: number | null;
  agreement: number | null;
  outputSqnrDb: number | null;
  speedup: number | null;
  meetsBound: boolean | null;
  kept: boolean | null;
}

export interface TuningView {
  trials: TuningTrialView[];
  /** The run's facts (bound, why it stopped, time, note, any other scalar field), as label/text pairs. */
  facts: [string, string][];
}

function factText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (value === null) return null;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value.join(', ');
  try {
    const json = JSON.stringify(value);
    return json && json.length <= 400 ? json : null;
  } catch {
    return null;
  }
}

const BOUND_METRICS: Record<string, string> = { 'top1-drop-points': 'top-1 drop', 'agreement-loss-points': 'agreement loss' };
const STOP_REASONS: Record<string, string> = { 'bound-met': 'bound met', exhausted: 'no more candidates', timeout: 'time limit' };

/** The report's `tuning` section, if it has a usable one. */
export function readTuning(report: Report): TuningView | null {
  const tuning: unknown = (report as { tuning?: unknown }).tuning;
  if (!isObject(tuning)) return null;
  const bool = (v: unknown) => (typeof v === 'boolean' ? v : null);
  const trials = (Array.isArray(tuning.trials) ? tuning.trials : []).filter(isObject).map((t) => ({
    changed: typeof t.changed === 'string' ? t.changed : factText(t.changed) ?? '—',
    method: typeof t.method === 'string' ? t.method : null,
    excluded: Array.isArray(t.excluded) ? t.excluded.map(String) : null,
    top1DropPoints: finite(t.top1DropPoints),
    agreement: finite(t.agreement),
    outputSqnrDb: finite(t.outputSqnrDb),
    speedup: finite(t.speedup),
    meetsBound: bool(t.meetsBound),
    kept: bool(t.kept),
  }));
  const facts: [string, string][] = [];
  const known = new Set(['trials', 'maxDrop', 'metric', 'stoppedBy', 'boundMet', 'seconds', 'note']);
  const maxDrop = finite(tuning.maxDrop);
  if (maxDrop !== null) {
    const metric = typeof tuning.metric === 'string' ? BOUND_METRICS[tuning.metric] ?? tuning.metric : 'top-1 drop';
    facts.push(['Bound', `${metric} ≤ ${formatPoints(maxDrop)}`]);
  }
  if (typeof tuning.boundMet === 'boolean') facts.push(['Bound met', tuning.boundMet ? 'yes' : 'no']);
  if (typeof tuning.stoppedBy === 'string') facts.push(['Stopped by', STOP_REASONS[tuning.stoppedBy] ?? tuning.stoppedBy]);
  const seconds = finite(tuning.seconds);
  if (seconds !== null) facts.push(['Time', `${seconds.toFixed(1)} s`]);
  if (typeof tuning.note === 'string' && tuning.note) facts.push(['Note', tuning.note]);
  for (const [key, value] of Object.entries(tuning)) {
    if (known.has(key)) continue;
    const text = factText(value);
    if (text !== null) facts.push([key, text]);
  }
  return trials.length > 0 || facts.length > 0 ? { trials, facts } : null;
}

/** Layers by measured effect on the output (output SQNR gained with each alone in FP32), most sensitive first. */
export function sensitivityTable(report: Report, limit = 10): { table: Table; measured: number } | null {
  const raw: unknown = (report as { sensitivity?: unknown }).sensitivity;
  const rows = (Array.isArray(raw) ? raw : []).filter(isObject)
    .map((s) => ({ node: String(s.node ?? '—'), gainDb: finite(s.outputSqnrGainDb) }))
    .filter((s): s is { node: string; gainDb: number } => s.gainDb !== null);
  if (rows.length === 0) return null;
  return {
    table: {
      header: ['Layer', 'Output SQNR gained in FP32'],
      rows: rows.slice(0, limit).map((s) => [s.node, `${s.gainDb >= 0 ? '+' : ''}${formatDb(s.gainDb)}`]),
      numeric: [1],
    },
    measured: rows.length,
  };
}

export function tuningTable(tuning: TuningView): Table | null {
  if (tuning.trials.length === 0) return null;
  const flag = (v: boolean | null) => (v === null ? '—' : v ? 'yes' : 'no');
  return {
    header: ['#', 'Changed', 'Method', 'Kept in FP32', 'Top-1 drop', 'Agreement', 'Output SQNR', 'Speedup', 'Meets bound', 'Chosen'],
    rows: tuning.trials.map((t, i) => [String(i + 1), t.changed, t.method ?? '—',
      t.excluded === null ? '—' : t.excluded.length === 0 ? 'none' : t.excluded.join(', '),
      formatPoints(t.top1DropPoints), formatPercent(t.agreement), formatDb(t.outputSqnrDb), formatSpeedup(t.speedup),
      flag(t.meetsBound), flag(t.kept)]),
    numeric: [0, 4, 5, 6, 7],
  };
}

export function reportTitle(report: Report): string {
  return `Octet INT8 report — ${baseName(report.fp32Model.path)}`;
}
