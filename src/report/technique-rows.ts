// The settings rows that say which accuracy techniques the written model got and why: bias correction, weight
// rounding, LayerNorm/Softmax in float, SmoothQuant, and every combination scored on the check samples. Plain text
// cells for the settings table (tables.ts), so Markdown, HTML and the report panel say the same. Defensive about
// missing fields: reports from before a technique existed have no row for it.
import type { Report } from '../common/report';
import { finite, formatDb, formatPercent, isObject } from './format';

type Row = [string, string];

interface Candidate { weightRounding: boolean; biasCorrection: string; floatNorms: boolean; outputSqnrDb: number; agreement: number | null; kept: boolean }

function candidatesOf(report: Report): Candidate[] {
  const t: unknown = report.calibration?.techniques;
  if (!isObject(t) || !Array.isArray(t.candidates)) return [];
  return t.candidates.filter((c): c is Candidate => isObject(c) && finite(c.outputSqnrDb) !== null);
}

function describe(c: Candidate): string {
  return `${c.weightRounding ? 'rounded' : 'nearest'} weights, bias ${c.biasCorrection}${c.floatNorms ? ', norms in float' : ''}`;
}

function score(c: Candidate): string {
  return `${formatDb(c.outputSqnrDb)}${c.agreement !== null && finite(c.agreement) !== null ? `, ${formatPercent(c.agreement, 1)} agree` : ''}`;
}

/** "(auto: … with, … without)" from the kept candidate and the one that differs from it only in `field`. */
function autoScores(report: Report, field: 'weightRounding' | 'floatNorms'): string {
  const candidates = candidatesOf(report);
  const kept = candidates.find((c) => c.kept);
  const other = kept && candidates.find((c) => c[field] !== kept[field] && c.biasCorrection === kept.biasCorrection
    && (field === 'weightRounding' ? c.floatNorms === kept.floatNorms : c.weightRounding === kept.weightRounding));
  if (!kept || !other) return '';
  const [on, off] = kept[field] ? [kept, other] : [other, kept];
  return ` (auto: ${score(on)} with, ${score(off)} without)`;
}

function requestedText(requested: unknown): string {
  return requested === 'off' ? ' (turned off)' : requested === 'on' ? ' (forced on)' : '';
}

function biasRow(s: Record<string, unknown>, c: Record<string, unknown>): Row | null {
  if (typeof s.biasCorrection !== 'boolean') return null;
  const measured = isObject(c.biasCorrection) ? c.biasCorrection : null;
  const layers = measured ? finite(measured.layers) : null;
  const scores = measured && isObject(measured.outputSqnrDb) ? measured.outputSqnrDb : null;
  const [on, off] = scores ? [finite(scores.on), finite(scores.off)] : [null, null];
  const why = s.biasCorrectionRequested === 'auto' && on !== null && off !== null
    ? ` (auto: output SQNR ${formatDb(on)} with, ${formatDb(off)} without)` : requestedText(s.biasCorrectionRequested);
  const mode = s.biasCorrectionMode === 'sequential' ? ' (sequential)' : '';
  return ['Bias correction', (s.biasCorrection ? `yes${mode}${layers !== null ? `, ${layers} layers` : ''}` : 'no') + why];
}

function roundingRow(report: Report, s: Record<string, unknown>, c: Record<string, unknown>): Row | null {
  if (typeof s.weightRoundingRequested !== 'string') return null;
  const r = isObject(c.weightRounding) ? c.weightRounding : null;
  if (!r) return ['Weight rounding', 'no (turned off)'];
  const layers = Array.isArray(r.layers) ? r.layers.filter(isObject) : [];
  const seconds = isObject(r.seconds) ? (finite(r.seconds.moments) ?? 0) + (finite(r.seconds.solve) ?? 0) : null;
  const scope = r.scope === 'all' ? 'every layer it can' : 'the layers cheapest to round';
  if (layers.length === 0 && !candidatesOf(report).some((x) => x.weightRounding)) return ['Weight rounding', `no (no layer to round among ${scope})`];
  const gain = layers.length > 0
    ? `, layer output SQNR ${formatDb(mean(layers.map((l) => finite(l.nearestSqnrDb) ?? 0)))} → ${formatDb(mean(layers.map((l) => finite(l.sqnrDb) ?? 0)))} on average` : '';
  const applied = s.weightRounding === true ? `yes, ${layers.length} layers (${scope}${gain})` : 'no';
  return ['Weight rounding', `${applied}${autoScores(report, 'weightRounding') || requestedText(s.weightRoundingRequested)}`
    + (seconds !== null ? `; ${seconds.toFixed(1)} s` : '')];
}

function normsRow(report: Report, s: Record<string, unknown>, c: Record<string, unknown>): Row | null {
  const n = isObject(c.floatNorms) ? c.floatNorms : null;
  if (!n) return null;
  const nodes = Array.isArray(n.nodes) ? n.nodes.length : 0;
  return ['LayerNorm/Softmax in float', `${s.floatNorms === true ? `yes, ${nodes} nodes` : 'no'}${autoScores(report, 'floatNorms') || requestedText(s.floatNormsRequested)}`];
}

function smoothRow(s: Record<string, unknown>, c: Record<string, unknown>): Row | null {
  const q = isObject(c.smoothQuant) ? c.smoothQuant : null;
  if (!q) return null;
  const layers = Array.isArray(q.layers) ? q.layers.length : 0;
  const scores = isObject(q.outputSqnrDb) ? q.outputSqnrDb : null;
  const why = scores ? ` (auto: output SQNR ${formatDb(finite(scores.on))} with, ${formatDb(finite(scores.off))} without)` : requestedText(s.smoothQuantRequested);
  return ['SmoothQuant', `${q.applied === true ? 'yes' : 'no'}, ${layers} LayerNorm outputs${why}`];
}

function candidatesRow(report: Report): Row | null {
  const candidates = candidatesOf(report);
  const t: unknown = report.calibration?.techniques;
  if (candidates.length === 0 || !isObject(t)) return null;
  const samples = finite(t.checkSamples);
  return [`Techniques compared${samples !== null ? ` (${samples} check samples)` : ''}`,
    candidates.map((x) => `${describe(x)}: ${score(x)}${x.kept ? ' (kept)' : ''}`).join('; ')];
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

/** The rows, in the order the pipeline decides them (absent ones left out). */
export function techniqueRows(report: Report): Row[] {
  const s = report.settings as unknown as Record<string, unknown>;
  const c: unknown = report.calibration;
  const calibration = isObject(c) ? c : {};
  return [biasRow(s, calibration), roundingRow(report, s, calibration), normsRow(report, s, calibration), smoothRow(s, calibration),
    candidatesRow(report)].filter((r): r is Row => r !== null);
}
