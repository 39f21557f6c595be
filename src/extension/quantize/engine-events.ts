// The engine's `--progress json` protocol: one JSON object per stderr line. Parses lines into typed events and
// turns stage progress into one overall percentage. Any line that is not such an object is plain log text.
// The events and stages are the engine's (src/engine/events.ts).
import { ENGINE_STAGES, type EngineEvent, type EngineProgressEvent, type Stage } from '../../engine/events';

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The event on this stderr line, or null when the line is plain text (log it as it is). */
export function parseEngineLine(line: string): EngineEvent | null {
  const text = line.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const o = value as Record<string, unknown>;
  switch (o.type) {
    case 'progress': {
      const stage = ENGINE_STAGES.find((s) => s === o.stage);
      if (!stage) return { type: 'log', message: text };
      return { type: 'progress', stage, done: isNumber(o.done) ? o.done : 0, total: isNumber(o.total) ? o.total : 0,
        message: isString(o.message) ? o.message : '' };
    }
    case 'log':
      return { type: 'log', message: isString(o.message) ? o.message : text };
    case 'result':
      if (!isString(o.model) || !isString(o.report)) return null;
      return { type: 'result', model: o.model, report: o.report };
    case 'error':
      return { type: 'error', subject: isString(o.subject) ? o.subject : '', message: isString(o.message) ? o.message : text };
    default:
      return null;
  }
}

/** Share of the whole run each stage usually takes (sums to 100). Stages that are skipped are just jumped over. */
const STAGE_WEIGHT: Record<Stage, number> = { optimize: 5, calibrate: 40, convert: 5, evaluate: 25, benchmark: 20, write: 5 };

/**
 * Turns stage events into one overall percentage that never goes back. The engine may visit stages in any order
 * and more than once (e.g. convert → calibrate → convert → write → evaluate): a stage counts by the furthest point
 * it reached, and a stage counts as finished once a different stage has started after it.
 */
export class OverallProgress {
  private readonly reached = new Map<Stage, number>();
  private current: Stage | null = null;

  /** Records the event; returns the overall percent (0..100). */
  update(event: EngineProgressEvent): number {
    if (this.current && this.current !== event.stage) this.reached.set(this.current, 1);
    this.current = event.stage;
    const fraction = event.total > 0 ? Math.min(1, Math.max(0, event.done / event.total)) : 0;
    this.reached.set(event.stage, Math.max(this.reached.get(event.stage) ?? 0, fraction));
    return this.percent();
  }

  percent(): number {
    let sum = 0;
    for (const [stage, fraction] of this.reached) sum += STAGE_WEIGHT[stage] * fraction;
    return Math.min(100, sum);
  }
}

const STAGE_TITLE: Record<Stage, string> = {
  optimize: 'Optimizing FP32 graph', calibrate: 'Calibrating', convert: 'Converting to INT8', evaluate: 'Evaluating',
  benchmark: 'Benchmarking', write: 'Writing',
};

/** A short line for the progress notification, e.g. "Calibrating 64/256 — batch 4". */
export function describeProgress(event: EngineProgressEvent): string {
  const count = event.total > 0 ? ` ${event.done}/${event.total}` : '';
  const detail = event.message ? ` — ${event.message}` : '';
  return `${STAGE_TITLE[event.stage]}${count}${detail}`;
}

/** Splits a byte stream into lines, keeping the unfinished tail for the next chunk. */
export class LineSplitter {
  private pending = '';
  push(chunk: string): string[] {
    const text = this.pending + chunk;
    const lines = text.split(/\r?\n/);
    this.pending = lines.pop() ?? '';
    return lines.filter((l) => l.length > 0);
  }
  flush(): string[] {
    const rest = this.pending;
    this.pending = '';
    return rest.length > 0 ? [rest] : [];
  }
}
