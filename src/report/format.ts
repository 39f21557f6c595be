// Number formatting shared by the report panel and the Markdown export, so both say the same thing.
import type { BenchResult, Report } from '../common/report';

export function formatPercent(fraction: number | null | undefined, digits = 2): string {
  return fraction === null || fraction === undefined || !Number.isFinite(fraction) ? '—' : `${(fraction * 100).toFixed(digits)}%`;
}

/** A drop in percentage points, e.g. "0.30 pts" (a gain shows as "−0.10 pts"). */
export function formatPoints(points: number | null | undefined): string {
  if (points === null || points === undefined || !Number.isFinite(points)) return '—';
  const text = Math.abs(points).toFixed(2);
  return `${points < 0 ? '−' : ''}${text} pts`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
}

export function formatSpeedup(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined || !Number.isFinite(ratio) ? '—' : `${ratio.toFixed(2)}×`;
}

/** Own SQNR of a layer: 200 dB (the engine's cap) means its output carries no more relative noise than its inputs. */
export function formatOwnDb(db: number | null | undefined): string {
  return typeof db === 'number' && db >= 200 ? 'adds none' : formatDb(db);
}

export function formatDb(db: number | null | undefined): string {
  if (db === null || db === undefined || Number.isNaN(db)) return '—';
  if (!Number.isFinite(db)) return db > 0 ? '∞ dB' : '−∞ dB';
  return `${db.toFixed(1)} dB`;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(2)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}

export function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return Math.abs(value) >= 1e4 || (value !== 0 && Math.abs(value) < 1e-3) ? value.toExponential(2) : value.toFixed(digits);
}

/** Batch-1 results with one thread and with the most threads measured: the two numbers the summary shows. */
export function headlineBench(report: Report): { singleThread: BenchResult | null; allThreads: BenchResult | null } {
  const batch1 = report.bench.filter((b) => b.batch === 1);
  const pool = batch1.length > 0 ? batch1 : report.bench;
  if (pool.length === 0) return { singleThread: null, allThreads: null };
  const sorted = [...pool].sort((a, b) => a.threads - b.threads);
  const singleThread = sorted.find((b) => b.threads === 1) ?? sorted[0];
  const allThreads = sorted[sorted.length - 1];
  return { singleThread, allThreads: allThreads === singleThread ? null : allThreads };
}

/** Samples (images) per second, e.g. "434 img/s". */
export function formatThroughput(perSecond: number | null | undefined): string {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return '—';
  return `${perSecond >= 100 ? perSecond.toFixed(0) : perSecond >= 10 ? perSecond.toFixed(1) : perSecond.toFixed(2)} img/s`;
}

/** A result's throughput when the report has a usable one (reports from before the field have none). */
export function throughputOf(b: BenchResult): { fp32: number; int8: number } | null {
  const t: unknown = (b as { throughput?: unknown }).throughput;
  if (typeof t !== 'object' || t === null) return null;
  const { fp32, int8 } = t as Record<string, unknown>;
  return typeof fp32 === 'number' && Number.isFinite(fp32) && typeof int8 === 'number' && Number.isFinite(int8) ? { fp32, int8 } : null;
}

/** The throughput run shown beside the batch-1 latency: the largest batch above 1 with a throughput, most threads. */
export function headlineThroughput(report: Report): BenchResult | null {
  const runs = report.bench.filter((b) => b.batch > 1 && throughputOf(b) !== null);
  if (runs.length === 0) return null;
  return [...runs].sort((a, b) => b.batch - a.batch || b.threads - a.threads)[0];
}

/** INT8 size as a share of FP32, e.g. 0.26. */
export function sizeRatio(report: Report): number | null {
  return report.fp32Model.bytes > 0 ? report.int8Model.bytes / report.fp32Model.bytes : null;
}

export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

/** A JSON object (reports are read defensively: fields may be missing or of another type). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A finite number, or null. */
export function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
