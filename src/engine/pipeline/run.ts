// What every step of the quantize pipeline shares: the resolved request, where the run writes, a scratch folder, the
// cancel signal, and the ways it reports (progress, log lines, warnings for the Report).
import type { ResolvedQuantizeRequest } from '../request';
import type { EventSink, Stage } from '../events';

export interface RunPaths {
  /** The FP32 model (absolute). */
  model: string;
  /** The INT8 model to write. */
  out: string;
  /** The Report JSON to write. */
  report: string;
}

export class Run {
  readonly warnings: string[] = [];
  /** performance.now() when the run started. */
  readonly startedAt = performance.now();
  private readonly emit: EventSink;

  constructor(readonly request: ResolvedQuantizeRequest, readonly paths: RunPaths, readonly workDir: string) {
    this.emit = request.onEvent ?? (() => undefined);
  }

  get signal(): AbortSignal | undefined { return this.request.signal; }

  private readonly ended = new AbortController();

  /** Aborted when the run is cancelled or ends, however it ends: stops what it started in the background (decoding). */
  get lifetime(): AbortSignal {
    return this.request.signal ? AbortSignal.any([this.request.signal, this.ended.signal]) : this.ended.signal;
  }

  /** The run is over: background work stops. */
  end(): void {
    this.ended.abort();
  }

  progress(stage: Stage, done: number, total: number, message: string): void {
    this.emit({ type: 'progress', stage, done, total, message });
  }

  /** Reports a progress callback for one stage, with a message made from (done, total). */
  progressOf(stage: Stage, message: (done: number, total: number) => string, scale = 1, offset = 0): (done: number, total: number) => void {
    return (done, total) => this.progress(stage, offset + done, total * scale, message(done, total));
  }

  /** Data sets whose warnings (skipped files, colour images fed to a grey model…) grow while they are read. */
  private readonly datasets: { warnings: string[] }[] = [];

  /** Keeps a data set's warnings for the Report, including those found later while reading it. */
  watchDataset(dataset: { warnings: string[] }): void {
    this.datasets.push(dataset);
  }

  /** The run's warnings and every watched data set's, each once, in the order they were found. */
  allWarnings(): string[] {
    return [...new Set([...this.warnings, ...this.datasets.flatMap((d) => d.warnings)])];
  }

  log(message: string): void {
    this.emit({ type: 'log', message });
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  result(model: string, report: string): void {
    this.emit({ type: 'result', model, report });
  }
}
